//! Reading JSON text as Python's `json.loads` does, without recursion.

use super::{Dict, Int, MAX_DEPTH, Value};
use crate::error::{Error, Result};

/// A JSON reader that keeps each number's text and nests without recursion.
pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
}

/// A list or object being read.
enum Open {
    List(Vec<Value>),
    /// The object so far and the key whose value is being read.
    Dict(Dict, String),
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::InvalidJson {
            offset: self.at,
            reason: what.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn parse_document(mut self) -> Result<Value> {
        let value = self.parse_value()?;
        self.skip_whitespace();
        if self.at != self.text.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(value)
    }

    fn parse_value(&mut self) -> Result<Value> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // Read one value, or open a container.
            self.skip_whitespace();
            let mut value = match self.peek() {
                Some(b'[') | Some(b'{') if stack.len() >= MAX_DEPTH => {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                Some(b'[') => {
                    self.at += 1;
                    if self.eat(b']') {
                        Value::List(Vec::new())
                    } else {
                        stack.push(Open::List(Vec::new()));
                        continue;
                    }
                }
                Some(b'{') => {
                    self.at += 1;
                    if self.eat(b'}') {
                        Value::Dict(Dict::new())
                    } else {
                        let key = self.parse_key()?;
                        stack.push(Open::Dict(Dict::new(), key));
                        continue;
                    }
                }
                Some(b'"') => Value::Str(self.parse_string()?),
                Some(b't') => self.literal("true", Value::Bool(true))?,
                Some(b'f') => self.literal("false", Value::Bool(false))?,
                Some(b'n') => self.literal("null", Value::Null)?,
                Some(b'N') => self.literal("NaN", Value::Float(f64::NAN))?,
                Some(b'I') => self.literal("Infinity", Value::Float(f64::INFINITY))?,
                Some(b'-') if self.text.as_bytes().get(self.at + 1) == Some(&b'I') => {
                    self.literal("-Infinity", Value::Float(f64::NEG_INFINITY))?
                }
                Some(b'-' | b'0'..=b'9') => self.parse_number()?,
                _ => return Err(self.error("expected a value")),
            };
            // Close every container the value completes.
            loop {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Open::List(items)) => {
                        items.push(value);
                        if self.eat(b',') {
                            break;
                        }
                        if !self.eat(b']') {
                            return Err(self.error("expected `,` or `]`"));
                        }
                    }
                    Some(Open::Dict(dict, key)) => {
                        dict.insert(std::mem::take(key), value);
                        if self.eat(b',') {
                            *key = self.parse_key()?;
                            break;
                        }
                        if !self.eat(b'}') {
                            return Err(self.error("expected `,` or `}`"));
                        }
                    }
                }
                value = match stack.pop() {
                    Some(Open::List(items)) => Value::List(items),
                    Some(Open::Dict(dict, _)) => Value::Dict(dict),
                    None => return Err(self.error("unbalanced")),
                };
            }
        }
    }

    /// An object key and the colon after it.
    fn parse_key(&mut self) -> Result<String> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.parse_string()?;
        if !self.eat(b':') {
            return Err(self.error("expected `:`"));
        }
        Ok(key)
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value> {
        if self.text.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn parse_number(&mut self) -> Result<Value> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let int_start = at;
        let int_digits = digits(&mut at);
        if int_digits == 0 || (int_digits > 1 && bytes.get(int_start) == Some(&b'0')) {
            self.at = at;
            return Err(self.error("invalid number"));
        }
        let mut float = false;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            float = true;
            if digits(&mut at) == 0 {
                self.at = at;
                return Err(self.error("invalid number"));
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            float = true;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                self.at = at;
                return Err(self.error("invalid number"));
            }
        }
        self.at = at;
        let text = self.text.get(start..at).unwrap_or_default();
        if float {
            // Correctly rounded, as Python's float(); past the double
            // range, an infinity.
            text.parse::<f64>()
                .map(Value::Float)
                .map_err(|_| self.error("invalid number"))
        } else {
            Int::from_json_digits(text).map(Value::Int)
        }
    }

    /// A string at the current `"`, escapes decoded.
    fn parse_string(&mut self) -> Result<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.at..).unwrap_or_default();
            let plain = rest.find(|c: char| c == '"' || c == '\\' || c < ' ');
            let Some(stop) = plain else {
                self.at = self.text.len();
                return Err(self.error("unterminated string"));
            };
            out.push_str(rest.get(..stop).unwrap_or_default());
            self.at += stop;
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escape = self.peek();
                    self.at += 1;
                    match escape {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => out.push(self.parse_unicode_escape()?),
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                _ => return Err(self.error("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex = self
            .text
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape"));
        }
        self.at += 4;
        u32::from_str_radix(hex, 16).map_err(|_| self.error("invalid \\u escape"))
    }

    /// The character of a `\u` escape (after the `u`), a surrogate pair
    /// joined.
    fn parse_unicode_escape(&mut self) -> Result<char> {
        let unit = self.hex4()?;
        let code = match unit {
            0xD800..=0xDBFF => {
                if self.text.get(self.at..self.at + 2) != Some("\\u") {
                    return Err(self.lone_surrogate(unit));
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.lone_surrogate(unit));
                }
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.lone_surrogate(unit)),
            other => other,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn lone_surrogate(&self, unit: u32) -> Error {
        self.error(&format!(
            "lone surrogate \\u{unit:04x} (a string here must be valid Unicode)"
        ))
    }
}
