//! Python's `str()` of a property value, as Nova computes it before storing.
//!
//! Nova stores `safe_truncate(str(value), 255)` for every image property
//! (`get_system_metadata_from_image` in nova/utils.py). Property values are
//! JSON values, so `str()` sees Python's `str`, `bool`, `None`, `int`,
//! `float`, `list` and `dict`; nested values are rendered with `repr()`.

mod printable;
pub(crate) mod truncate;
pub mod value;

use std::fmt::Write as _;

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

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.digits.get(self.start..).unwrap_or_default()).unwrap_or_default()
    }

    /// Appends the text to `out` (ASCII, so without a UTF-8 check).
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

/// Python's truthiness of a JSON value: `None`, `False`, `0`, `0.0`, `""`,
/// `[]` and `{}` are false.
pub(crate) fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => !i.is_zero(),
        // NaN and the infinities are true, as in Python.
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(a) => !a.is_empty(),
        Value::Dict(o) => !o.is_empty(),
    }
}

/// Python's `int(text)` for a string: surrounding whitespace ignored, an
/// optional sign, decimal digits of any script (`"５"`, `"١٠"`) with single
/// underscores between them, at most [`crate::python::value::MAX_INT_DIGITS`] of them.
/// `None` where Python raises `ValueError`.
///
/// The whitespace is what `int()` strips: ASCII's `\t\n\x0b\x0c\r` and
/// space, and every non-ASCII character `str.isspace()` accepts. The ASCII
/// separators `\x1c`..`\x1f` are spaces to `str.strip()` but not to
/// `int()`.
///
/// ```
/// use nova_sysmeta::python::int;
/// assert_eq!(int(" 512\n").and_then(|i| i.as_i64()), Some(512));
/// assert_eq!(int("-1_000").and_then(|i| i.as_i64()), Some(-1000));
/// assert_eq!(int("\u{3000}１٠").and_then(|i| i.as_i64()), Some(10));
/// assert_eq!(int("99999999999999999999").unwrap().to_string(), "99999999999999999999");
/// assert_eq!(int("1__0"), None);
/// assert_eq!(int("\x1c9"), None);
/// assert_eq!(int(""), None);
/// assert_eq!(int("1.5"), None);
/// ```
#[must_use]
pub fn int(text: &str) -> Option<crate::python::value::Int> {
    let is_int_space = |c: char| is_python_space(c) && !('\x1c'..='\x1f').contains(&c);
    let t = text.trim_matches(is_int_space);
    let (negative, body) = match t.as_bytes().first()? {
        b'-' => (true, t.get(1..)?),
        b'+' => (false, t.get(1..)?),
        _ => (false, t),
    };
    let mut digits = String::with_capacity(body.len() + 1);
    if negative {
        digits.push('-');
    }
    let mut after_digit = false;
    for c in body.chars() {
        if c == '_' {
            if !after_digit {
                return None;
            }
            after_digit = false;
            continue;
        }
        digits.push(decimal_digit(c)?);
        after_digit = true;
    }
    // CPython counts every digit, leading zeros too, against its limit.
    if !after_digit || digits.len() - usize::from(negative) > crate::python::value::MAX_INT_DIGITS {
        return None;
    }
    // Leading zeros are allowed here, not in JSON: drop them.
    let sign = usize::from(negative);
    let first_nonzero = digits.get(sign..)?.find(|c| c != '0');
    let canonical = match first_nonzero {
        Some(at) if at > 0 => format!("{}{}", if negative { "-" } else { "" }, digits.get(sign + at..)?),
        Some(_) => digits,
        None => "0".to_owned(),
    };
    canonical.parse().ok()
}

/// Python's `int(value)` of a JSON value: a string as [`int`] reads
/// it, an integer as it is, a float truncated toward zero, `True`/`False`
/// as 1 and 0. `None` where Python raises: `int(None)`, `int([])`, an
/// infinity (`OverflowError`), `NaN`, or a string `int()` refuses.
pub(crate) fn python_int_of_value(value: &Value) -> Option<crate::python::value::Int> {
    match value {
        Value::Str(s) => int(s),
        Value::Int(i) => Some(i.clone()),
        Value::Bool(b) => Some(crate::python::value::Int::from(u8::from(*b))),
        // Every finite double is an integer of at most 309 digits past its
        // point: its exact digits are Python's int().
        Value::Float(f) if f.is_finite() => format!("{:.0}", f.trunc()).parse().ok(),
        _ => None,
    }
}

/// The ASCII digit of a Unicode decimal digit (category Nd, Unicode 14.0.0
/// as in Python 3.11).
fn decimal_digit(c: char) -> Option<char> {
    let cp = c as u32;
    let at = DECIMAL_ZEROS.partition_point(|&zero| zero <= cp).checked_sub(1)?;
    let zero = *DECIMAL_ZEROS.get(at)?;
    let d = cp - zero;
    (d < 10).then(|| char::from(b'0' + d as u8))
}

/// The zero of every run of ten decimal digits in Unicode 14.0.0
/// (`unicodedata.decimal(c) == 0`).
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
    0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
    0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
    0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

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

#[cfg(test)]
mod int_tests {
    use super::*;

    #[test]
    fn int_of_a_value_is_pythons() {
        let int = |json: &str| python_int_of_value(&Value::from_json(json).unwrap()).map(|i| i.to_string());
        assert_eq!(int("1e300").unwrap().len(), 301);
        assert_eq!(int("-2.9").as_deref(), Some("-2"));
        assert_eq!(int("-0.5").as_deref(), Some("0"));
        assert_eq!(int("true").as_deref(), Some("1"));
        assert_eq!(int(r#"" ٣ ""#).as_deref(), Some("3"));
        assert_eq!(
            int("123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
        for refused in ["1E400", "-1e400", "NaN", "null", "[1]", "{}", r#""1.5""#] {
            assert_eq!(int(refused), None, "{refused}");
        }
    }

    #[test]
    fn decimal_digits_of_every_script_read_as_python_reads_them() {
        for (zero, _) in DECIMAL_ZEROS.iter().map(|z| (*z, ())) {
            for d in 0..10u32 {
                let c = char::from_u32(zero + d).unwrap();
                assert_eq!(decimal_digit(c), Some(char::from(b'0' + d as u8)), "{c:?}");
            }
            if let Some(before) = char::from_u32(zero - 1) {
                assert!(
                    decimal_digit(before).is_none() || DECIMAL_ZEROS.contains(&(zero - 10)),
                    "{before:?}"
                );
            }
        }
        assert_eq!(int("007").and_then(|i| i.as_i64()), Some(7));
        assert_eq!(int("-0").and_then(|i| i.as_i64()), Some(0));
        assert_eq!(int("- 5"), None);
        assert_eq!(int("_1"), None);
        assert_eq!(int("1_"), None);
        assert_eq!(int("9\x1f"), None);
        assert_eq!(int("\u{85}9\u{a0}").and_then(|i| i.as_i64()), Some(9));
        assert!(int(&"9".repeat(crate::python::value::MAX_INT_DIGITS)).is_some());
        assert_eq!(int(&"9".repeat(crate::python::value::MAX_INT_DIGITS + 1)), None);
    }
}
