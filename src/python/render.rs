//! Python's `str()`, `repr()` and `json.dumps` of a [`Value`], as Nova
//! computes them before storing.

use std::fmt::Write as _;

use super::integer::write_i64;
use super::printable;
use crate::python::truncate::{floor_char_boundary, safe_truncate};
use crate::python::value::Value;

/// Renders `value` as Python's `str()` would.
///
/// Strings come out as they are, `true` as `True`, `null` as `None`, floats
/// as Python's shortest `repr` (`1.0`, `1e+16`, `1e-05`), lists and dicts as
/// Python prints them, with strings inside quoted and escaped by `repr()`.
///
/// ```
/// use nova_sysmeta::Value;
/// use nova_sysmeta::python::to_str;
///
/// let str_of = |json: &str| to_str(&Value::from_json(json).unwrap());
/// assert_eq!(str_of(r#""plain""#), "plain");
/// assert_eq!(str_of("true"), "True");
/// assert_eq!(str_of("null"), "None");
/// assert_eq!(str_of("1e16"), "1e+16");
/// assert_eq!(str_of("1E400"), "inf");
/// assert_eq!(str_of(r#"{"a": [1, "b", null]}"#), "{'a': [1, 'b', None]}");
/// ```
#[must_use]
pub fn to_str(value: &Value) -> String {
    python_str_truncated(value, usize::MAX)
}

/// Renders `value` as Python's `repr()` would (strings quoted).
///
/// ```
/// use nova_sysmeta::Value;
/// use nova_sysmeta::python::repr;
///
/// assert_eq!(repr(&Value::from("it's")), "\"it's\"");
/// assert_eq!(repr(&Value::from("tab\there")), "'tab\\there'");
/// ```
#[must_use]
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value, usize::MAX);
    out
}

/// `safe_truncate(str(value), limit)` without rendering more than needed:
/// a huge nested value costs only the first `limit` bytes.
pub(crate) fn python_str_truncated(value: &Value, limit: usize) -> String {
    let mut out = String::new();
    write_python_str_truncated(&mut out, value, limit);
    out
}

/// [`python_str_truncated`] of a value, appended to `out`.
#[inline]
pub(crate) fn write_python_str_truncated(out: &mut String, value: &Value, limit: usize) {
    match value {
        Value::Str(s) => out.push_str(safe_truncate(s, limit)),
        // The common scalars, inline; at most 20 bytes, so no limit in use
        // cuts them.
        Value::Bool(b) if limit >= 20 => out.push_str(if *b { "True" } else { "False" }),
        Value::Int(n) if limit >= 20 && n.as_i64().is_some() => {
            if let Some(i) = n.as_i64() {
                write_i64(out, i);
            }
        }
        value => write_json_python_str_truncated(out, value, limit),
    }
}

/// [`write_python_str_truncated`] by the general path.
fn write_json_python_str_truncated(out: &mut String, value: &Value, limit: usize) {
    let start = out.len();
    match value {
        Value::Str(s) => out.push_str(s),
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => Value::write_int(out, i),
        Value::Float(f) => out.push_str(&python_float_repr(*f)),
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
    Entries(indexmap::map::Iter<'a, String, Value>, bool),
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
            Task::Value(Value::Int(i)) => Value::write_int(out, i),
            Task::Value(Value::Float(f)) if json && !f.is_finite() => out.push_str(if f.is_nan() {
                "NaN"
            } else if *f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }),
            Task::Value(Value::Float(f)) => out.push_str(&python_float_repr(*f)),
            Task::Value(Value::Str(s)) => write_str(out, s),
            Task::Value(Value::List(items)) => {
                out.push('[');
                stack.push(Task::Literal("]"));
                stack.push(Task::Items(items.iter(), true));
            }
            Task::Value(Value::Dict(map)) => {
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

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4..16`, else scientific with
/// a signed, at least two-digit exponent (`1e+16`, `1e-05`).
///
/// ```
/// use nova_sysmeta::python::python_float_repr;
/// assert_eq!(python_float_repr(1.0), "1.0");
/// assert_eq!(python_float_repr(1e16), "1e+16");
/// assert_eq!(python_float_repr(1e15), "1000000000000000.0");
/// assert_eq!(python_float_repr(0.0001), "0.0001");
/// assert_eq!(python_float_repr(1e-5), "1e-05");
/// assert_eq!(python_float_repr(-0.0), "-0.0");
/// ```
#[must_use]
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

/// Python's `json.dumps(value)` with its defaults (`ensure_ascii=True`,
/// separators `", "` and `": "`), as Nova's `jsonutils.dumps` writes
/// `block_device_mapping` and `mappings` into Glance properties.
///
/// ```
/// use nova_sysmeta::Value;
/// use nova_sysmeta::python::json_dumps;
/// let v = Value::from_json(r#"[{"a": 1.0, "é": null, "x": -1e400}]"#).unwrap();
/// assert_eq!(json_dumps(&v), r#"[{"a": 1.0, "\u00e9": null, "x": -Infinity}]"#);
/// ```
#[must_use]
pub fn json_dumps(value: &Value) -> String {
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

    fn json(text: &str) -> Value {
        Value::from_json(text).unwrap()
    }

    #[test]
    fn scalars_written_inline_match_the_general_path() {
        let values = [
            Value::from(true),
            Value::from(false),
            Value::from(0),
            Value::from(-7),
            Value::from(i64::MIN),
            Value::from(u64::MAX),
            Value::from(1.5),
            Value::from(f64::INFINITY),
        ];
        for value in &values {
            for limit in [0, 1, 4, 5, 19, 20, 255] {
                let mut inline = String::new();
                write_python_str_truncated(&mut inline, value, limit);
                let mut general = String::new();
                write_json_python_str_truncated(&mut general, value, limit);
                assert_eq!(inline, general, "{value:?} at {limit}");
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
            repr(&Value::from("\u{a0}\u{ad}é\u{2028}\u{e000}😀")),
            "'\\xa0\\xadé\\u2028\\ue000😀'"
        );
        assert_eq!(repr(&Value::from("\u{7}\u{7f}")), "'\\x07\\x7f'");
        assert_eq!(repr(&Value::from("both ' and \"")), "'both \\' and \"'");
    }

    #[test]
    fn truncated_rendering_stops_early_but_cuts_like_the_full_one() {
        let big = json(&format!(r#"{{"k": "{}"}}"#, "é".repeat(1000)));
        let full = to_str(&big);
        let cut = floor_char_boundary(&full, 255);
        assert_eq!(python_str_truncated(&big, 255), full[..cut]);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let mut v = Value::from(1);
        for _ in 0..100_000 {
            v = Value::List(vec![v]);
        }
        assert_eq!(python_str_truncated(&v, 5), "[[[[[");
        // A value drops recursively; forget it to keep the test about rendering.
        std::mem::forget(v);
    }
}
