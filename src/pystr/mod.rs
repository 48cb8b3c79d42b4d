//! Python's `str()` of a property value, as Nova computes it before storing.
//!
//! Nova stores `safe_truncate(str(value), 255)` for every image property
//! (`get_system_metadata_from_image` in nova/utils.py). Property values are
//! JSON values, so `str()` sees Python's `str`, `bool`, `None`, `int`,
//! `float`, `list` and `dict`; nested values are rendered with `repr()`.

mod printable;

use serde_json::{Number, Value};
use std::fmt::Write as _;

use crate::properties::PropertyValue;
use crate::truncate::{floor_char_boundary, safe_truncate};

/// Renders `value` as Python's `str()` would.
///
/// Strings come out as they are, `true` as `True`, `null` as `None`, floats
/// as Python's shortest `repr` (`1.0`, `1e+16`, `1e-05`), lists and dicts as
/// Python prints them, with strings inside quoted and escaped by `repr()`.
///
/// ```
/// use nova_sysmeta::python_str;
/// use serde_json::json;
///
/// assert_eq!(python_str(&json!("plain")), "plain");
/// assert_eq!(python_str(&json!(true)), "True");
/// assert_eq!(python_str(&json!(null)), "None");
/// assert_eq!(python_str(&json!(1e16)), "1e+16");
/// assert_eq!(python_str(&json!({"a": [1, "b", null]})), "{'a': [1, 'b', None]}");
/// ```
pub fn python_str(value: &Value) -> String {
    python_str_truncated(value, usize::MAX)
}

/// Renders `value` as Python's `repr()` would (strings quoted).
///
/// ```
/// use nova_sysmeta::python_repr;
/// use serde_json::json;
///
/// assert_eq!(python_repr(&json!("it's")), "\"it's\"");
/// assert_eq!(python_repr(&json!("tab\there")), "'tab\\there'");
/// ```
pub fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value, usize::MAX);
    out
}

/// `safe_truncate(str(value), limit)` without rendering more than needed:
/// a huge nested value costs only the first `limit` bytes.
pub(crate) fn python_str_truncated(value: &Value, limit: usize) -> String {
    let mut out = String::new();
    write_python_str_truncated(&mut out, PropertyValue::of(value), limit);
    out
}

/// [`python_str_truncated`] of a property, appended to `out`.
#[inline]
pub(crate) fn write_python_str_truncated(out: &mut String, value: PropertyValue<'_>, limit: usize) {
    match value {
        PropertyValue::Str(s) => out.push_str(safe_truncate(s, limit)),
        // The common scalars, inline; at most 20 bytes, so no limit in use
        // cuts them.
        PropertyValue::Json(Value::Bool(b)) if limit >= 20 => out.push_str(if *b { "True" } else { "False" }),
        PropertyValue::Json(Value::Number(n)) if limit >= 20 && n.is_i64() => {
            if let Some(i) = n.as_i64() {
                write_i64(out, i);
            }
        }
        PropertyValue::Json(value) => write_json_python_str_truncated(out, value, limit),
    }
}

/// [`write_python_str_truncated`] of a value that is not a string.
fn write_json_python_str_truncated(out: &mut String, value: &Value, limit: usize) {
    let start = out.len();
    match value {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => write_number(out, n),
        nested => write_nested(out, nested, start.saturating_add(limit), Style::Repr),
    }
    let cut = floor_char_boundary(out.get(start..).unwrap_or_default(), limit);
    out.truncate(start + cut);
}

/// One pending piece of a `repr()` rendering; an explicit stack keeps deep
/// nesting from overflowing the call stack.
enum Task<'a> {
    Value(&'a Value),
    Literal(&'static str),
    Items(std::slice::Iter<'a, Value>, bool),
    Entries(serde_json::map::Iter<'a>, bool),
}

fn write_repr(out: &mut String, value: &Value, limit: usize) {
    write_nested(out, value, limit, Style::Repr);
}

/// The two ways Python prints nested values here: `repr()` and `json.dumps`.
#[derive(Clone, Copy)]
enum Style {
    Repr,
    Json,
}

/// Renders `value` in `style`, stopping once the output exceeds `limit`
/// bytes.
fn write_nested(out: &mut String, value: &Value, limit: usize, style: Style) {
    let json = matches!(style, Style::Json);
    let write_str = if json { write_json_str } else { write_str_repr };
    let mut stack = vec![Task::Value(value)];
    while let Some(task) = stack.pop() {
        if out.len() > limit {
            return;
        }
        match task {
            Task::Value(Value::Null) => out.push_str(if json { "null" } else { "None" }),
            Task::Value(Value::Bool(true)) => out.push_str(if json { "true" } else { "True" }),
            Task::Value(Value::Bool(false)) => out.push_str(if json { "false" } else { "False" }),
            Task::Value(Value::Number(n)) => write_number(out, n),
            Task::Value(Value::String(s)) => write_str(out, s),
            Task::Value(Value::Array(items)) => {
                out.push('[');
                stack.push(Task::Literal("]"));
                stack.push(Task::Items(items.iter(), true));
            }
            Task::Value(Value::Object(map)) => {
                out.push('{');
                stack.push(Task::Literal("}"));
                stack.push(Task::Entries(map.iter(), true));
            }
            Task::Literal(s) => out.push_str(s),
            Task::Items(mut items, first) => {
                if let Some(item) = items.next() {
                    if !first {
                        out.push_str(", ");
                    }
                    stack.push(Task::Items(items, false));
                    stack.push(Task::Value(item));
                }
            }
            Task::Entries(mut entries, first) => {
                if let Some((key, item)) = entries.next() {
                    if !first {
                        out.push_str(", ");
                    }
                    write_str(out, key);
                    out.push_str(": ");
                    stack.push(Task::Entries(entries, false));
                    stack.push(Task::Value(item));
                }
            }
        }
    }
}

/// Python's `str()` of a JSON number: JSON integers are Python `int`s,
/// everything with a fraction or exponent is a `float`.
fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        write_i64(out, i);
    } else if let Some(u) = n.as_u64() {
        write_decimal(out, u);
    } else {
        let text = n.to_string();
        if text.contains(['.', 'e', 'E']) {
            out.push_str(&python_float_repr(n.as_f64().unwrap_or(f64::NAN)));
        } else {
            // An integer beyond 64 bits (serde_json's `arbitrary_precision`
            // keeps its digits): Python's int prints them as they are.
            out.push_str(&text);
        }
    }
}

/// The decimal digits of `n` (what `write!` gives, without the formatting
/// machinery: integers are the commonest non-string property values).
fn write_decimal(out: &mut String, n: u64) {
    IntText::new(n, false).write_to(out);
}

/// The decimal text of `i`, appended to `out`. Numbers below 10,000 are
/// pushed digit by digit: building them in a buffer first, byte by byte,
/// and copying the buffer out stalls the CPU on reading back what it has
/// just written.
pub(crate) fn write_i64(out: &mut String, i: i64) {
    let n = i.unsigned_abs();
    if n >= 10_000 {
        IntText::of_i64(i).write_to(out);
        return;
    }
    if i < 0 {
        out.push('-');
    }
    let digit = |d: u64| char::from(b'0' + (d % 10) as u8);
    if n >= 1000 {
        out.push(digit(n / 1000));
    }
    if n >= 100 {
        out.push(digit(n / 100));
    }
    if n >= 10 {
        out.push(digit(n / 10));
    }
    out.push(digit(n));
}

/// An integer's decimal text on the stack.
pub(crate) struct IntText {
    digits: [u8; 21],
    start: usize,
}

impl IntText {
    /// The text of `n`, with a minus sign when `negative`.
    pub(crate) fn new(mut n: u64, negative: bool) -> Self {
        let mut digits = [b'-'; 21];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self {
            digits,
            start: if negative { at - 1 } else { at },
        }
    }

    /// The text of `i`.
    pub(crate) fn of_i64(i: i64) -> Self {
        Self::new(i.unsigned_abs(), i < 0)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.digits.get(self.start..).unwrap_or_default()).unwrap_or_default()
    }

    /// Appends the text to `out` (ASCII, so without the UTF-8 check of
    /// [`as_str`](Self::as_str)).
    pub(crate) fn write_to(&self, out: &mut String) {
        let digits = self.digits.get(self.start..).unwrap_or_default();
        out.extend(digits.iter().map(|&b| char::from(b)));
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4..16`, else scientific with
/// a signed, at least two-digit exponent (`1e+16`, `1e-05`).
///
/// ```
/// use nova_sysmeta::python_float_repr;
/// assert_eq!(python_float_repr(1.0), "1.0");
/// assert_eq!(python_float_repr(1e16), "1e+16");
/// assert_eq!(python_float_repr(1e15), "1000000000000000.0");
/// assert_eq!(python_float_repr(0.0001), "0.0001");
/// assert_eq!(python_float_repr(1e-5), "1e-05");
/// assert_eq!(python_float_repr(-0.0), "-0.0");
/// ```
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Python's repr
    // does; but where two shortest candidates are equally close (the exact
    // value ends in 5 just past them) Python rounds half to even and Rust's
    // shortest mode rounds up: 679073304849828.25 is `...828.2` in Python.
    // Rust's exact mode rounds half to even, so prefer its answer at the
    // same length whenever it still round-trips.
    let shortest = format!("{:e}", x);
    let digits = shortest
        .split_once('e')
        .map_or(0, |(m, _)| m.bytes().filter(u8::is_ascii_digit).count());
    let even = format!("{:.*e}", digits.saturating_sub(1), x);
    let sci = if even != shortest && even.parse::<f64>() == Ok(x) {
        even
    } else {
        shortest
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Position of the decimal point relative to the digits, as in CPython's
    // `format_float_short`: value = 0.DIGITS * 10^decpt.
    let decpt = exp + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if x == 0.0 || (-4 < decpt && decpt <= 16) {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else {
            let point = decpt as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    out
}

/// Python's `repr(str)`: single quotes unless the text holds a single quote
/// and no double quote; backslash escapes for the quote, `\\`, `\t`, `\n`,
/// `\r`, and `\xNN`/`\uNNNN`/`\UNNNNNNNN` for non-printable characters.
fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.reserve(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c < ' ' || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c => {
                let cp = c as u32;
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's truthiness of a JSON value: `None`, `False`, `0`, `0.0`, `""`,
/// `[]` and `{}` are false.
pub(crate) fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `int(text)` for a string: surrounding whitespace ignored, an
/// optional sign, ASCII digits with single underscores between them.
/// `None` where Python raises `ValueError`, or where the value does not fit
/// 64 bits (Python's integers do not overflow; the crate's do).
///
/// ```
/// use nova_sysmeta::python_int;
/// assert_eq!(python_int(" 512\n"), Some(512));
/// assert_eq!(python_int("-1_000"), Some(-1000));
/// assert_eq!(python_int("1__0"), None);
/// assert_eq!(python_int(""), None);
/// assert_eq!(python_int("1.5"), None);
/// ```
pub fn python_int(text: &str) -> Option<i64> {
    let t = text.trim_matches(is_python_space);
    let (negative, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes[0] == b'_' || bytes[bytes.len() - 1] == b'_' || digits.contains("__") {
        return None;
    }
    let mut value: i64 = 0;
    for &b in bytes {
        if b == b'_' {
            continue;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(d)?
        } else {
            value.checked_add(d)?
        };
    }
    Some(value)
}

/// Python's `str.isspace()`, which `str.strip()` removes.
pub(crate) fn is_python_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
        | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// Python's `json.dumps(value)` with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`), as Nova's `jsonutils.dumps` writes
/// `block_device_mapping` and `mappings` into Glance properties.
///
/// ```
/// use nova_sysmeta::python_json_dumps;
/// use serde_json::json;
/// assert_eq!(python_json_dumps(&json!([{"a": 1.0, "é": null}])), r#"[{"a": 1.0, "\u00e9": null}]"#);
/// ```
pub fn python_json_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_nested(&mut out, value, usize::MAX, Style::Json);
    out
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii`.
fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // ensure_ascii escapes everything outside ' '..='~', DEL too.
            c if !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units).iter() {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `str.isprintable()` for one non-ASCII character.
fn is_printable(c: char) -> bool {
    let cp = c as u32;
    printable::NON_PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_print_as_format_prints_them() {
        for i in [0, 1, -1, 9, 10, -10, 12345, i64::MAX, i64::MIN] {
            assert_eq!(IntText::of_i64(i).as_str(), i.to_string());
            let mut out = String::from("x");
            IntText::of_i64(i).write_to(&mut out);
            assert_eq!(out, format!("x{i}"));
        }
        for i in (-20_000..20_000).chain([i64::MAX, i64::MIN, i64::MIN + 1]) {
            let mut out = String::from("x");
            write_i64(&mut out, i);
            assert_eq!(out, format!("x{i}"));
        }
        // Every length, at and around each power of ten, and every small number.
        let powers = (0..20).map(|d| 10u64.pow(d));
        let near = powers.flat_map(|p| [p - 1, p, p + 1, p.saturating_mul(7) / 3]);
        for u in near.chain(0..1000).chain([u64::MAX, 10_000_000_000_000_000_000]) {
            assert_eq!(IntText::new(u, false).as_str(), u.to_string());
            assert_eq!(IntText::new(u, true).as_str(), format!("-{u}"));
        }
    }

    #[test]
    fn scalars_written_inline_match_the_general_path() {
        let values = [
            json!(true),
            json!(false),
            json!(0),
            json!(-7),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1.5),
        ];
        for value in &values {
            for limit in [0, 1, 4, 5, 19, 20, 255] {
                let mut inline = String::new();
                write_python_str_truncated(&mut inline, PropertyValue::of(value), limit);
                let mut general = String::new();
                write_json_python_str_truncated(&mut general, value, limit);
                assert_eq!(inline, general, "{value} at {limit}");
            }
        }
    }

    #[test]
    // The tie cases are written out exactly: the trailing 5 is the point.
    #[allow(clippy::excessive_precision)]
    fn floats_match_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (1.5, "1.5"),
            (123.0, "123.0"),
            (0.1, "0.1"),
            (1e22, "1e+22"),
            (1.5e300, "1.5e+300"),
            (1e-7, "1e-07"),
            (1.2345e-5, "1.2345e-05"),
            (9999999999999998.0, "9999999999999998.0"),
            (-2.5e-10, "-2.5e-10"),
            (5e-324, "5e-324"),
            // A tie between two shortest candidates: Python rounds half to even.
            (679073304849828.25, "679073304849828.2"),
            (-1474986849702635.25, "-1474986849702635.2"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn non_printable_characters_are_escaped_like_python() {
        assert_eq!(
            python_repr(&json!("\u{a0}\u{ad}é\u{2028}\u{e000}😀")),
            "'\\xa0\\xadé\\u2028\\ue000😀'"
        );
        assert_eq!(python_repr(&json!("\u{7}\u{7f}")), "'\\x07\\x7f'");
        assert_eq!(python_repr(&json!("both ' and \"")), "'both \\' and \"'");
    }

    #[test]
    fn truncated_rendering_stops_early_but_cuts_like_the_full_one() {
        let big = json!({"k": "é".repeat(1000)});
        let full = python_str(&big);
        let cut = floor_char_boundary(&full, 255);
        assert_eq!(python_str_truncated(&big, 255), full[..cut]);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(python_str_truncated(&v, 5), "[[[[[");
        // serde_json drops deep values recursively; forget it to keep the test about rendering.
        std::mem::forget(v);
    }
}
