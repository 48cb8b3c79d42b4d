//! Python's `int()` of a string or a JSON value, and integers' decimal
//! text.

use crate::python::value::Value;

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

#[cfg(test)]
mod int_tests {
    use super::*;

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
