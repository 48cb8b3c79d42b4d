//! [`Value`]: a JSON value as Python's `json` module reads it.
//!
//! Nova works on JSON that Python decoded: objects are `dict`s (insertion
//! order, the last of duplicate keys wins at the first one's place),
//! integers are `int`s of any size, numbers with a fraction or exponent are
//! `float`s (`1E400` is `inf`). This type keeps exactly that, so that the
//! crate's answers do not depend on how serde_json is configured in the
//! program that uses it.

use std::fmt;

use indexmap::IndexMap;

use crate::error::{Error, Result};

mod parse;
mod serde_impl;

use parse::Parser;
pub(crate) use serde_impl::Text;

/// A JSON object as a Python `dict`: keys in insertion order.
pub type Dict = IndexMap<String, Value>;

/// How deeply lists and objects may nest in a [`Value`].
///
/// Python's `json` and `repr()` recurse, and give up near its default
/// recursion limit of 1,000, so Nova never handles a deeper value; the
/// crate refuses one with [`Error::TooDeep`] wherever a value comes in, and
/// so never recurses deeper itself.
pub const MAX_DEPTH: usize = 1000;

/// The most digits CPython reads into an `int` from text
/// (`sys.get_int_max_str_digits()`, default 4,300): a longer JSON integer
/// makes `json.loads` raise, so Nova never sees one.
pub const MAX_INT_DIGITS: usize = 4300;

/// A JSON value with Python's semantics.
///
/// Built from JSON text ([`Value::from_json`], or serde_json's `from_str`,
/// `from_slice` and `from_reader`, which hand the crate the number's text),
/// an integer keeps all its digits and a number past the double range is
/// an infinity, as Python reads them. A value converted from a
/// `serde_json::Value` keeps what that value kept: without serde_json's
/// `arbitrary_precision`, a big integer there was already rounded.
///
/// Serialized with serde_json, a value writes what Python's `json.dumps`
/// writes: integers with all their digits, infinities as `Infinity` and
/// `-Infinity` (Python's spelling, which is not strict JSON).
///
/// ```
/// use nova_sysmeta::Value;
///
/// let v = Value::from_json(r#"{"big": 100000000000000000000, "huge": 1E400, "b": [true, null]}"#)?;
/// assert_eq!(v.python_str(), "{'big': 100000000000000000000, 'huge': inf, 'b': [True, None]}");
/// assert_eq!(serde_json::to_string(&v)?, r#"{"big":100000000000000000000,"huge":Infinity,"b":[true,null]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (Python's `None`).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer of any size.
    Int(Int),
    /// A number with a fraction or an exponent: a double, possibly infinite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// An object.
    Dict(Dict),
}

/// A Python `int`: any number of decimal digits.
///
/// ```
/// use nova_sysmeta::python::value::Int;
///
/// let small = Int::from(-42);
/// assert_eq!(small.as_i64(), Some(-42));
/// let big: Int = "123456789012345678901234567890".parse()?;
/// assert_eq!(big.as_i64(), None);
/// assert_eq!(big.to_string(), "123456789012345678901234567890");
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Int(IntRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IntRepr {
    Small(i64),
    /// Canonical decimal text (optional `-`, no leading zero) of a value
    /// outside `i64`.
    Big(Box<str>),
}

impl Int {
    /// The value, when it fits an `i64`.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            IntRepr::Small(i) => Some(i),
            IntRepr::Big(_) => None,
        }
    }

    /// Whether the value is below zero.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            IntRepr::Small(i) => *i < 0,
            IntRepr::Big(text) => text.starts_with('-'),
        }
    }

    /// Whether the value is zero (Python's falsy `0`).
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == IntRepr::Small(0)
    }

    /// Reads the decimal digits of a JSON integer (`-?(0|[1-9][0-9]*)`),
    /// at most [`MAX_INT_DIGITS`] of them.
    fn from_json_digits(text: &str) -> Result<Self> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.len() > MAX_INT_DIGITS {
            return Err(Error::IntegerTooLong { digits: digits.len() });
        }
        Ok(match text.parse::<i64>() {
            Ok(i) => Int(IntRepr::Small(i)),
            // `-0` is 0 in Python; other texts outside i64 are big.
            Err(_) => Int(IntRepr::Big(text.into())),
        })
    }

    fn write_to(&self, out: &mut String) {
        match &self.0 {
            IntRepr::Small(i) => crate::python::write_i64(out, *i),
            IntRepr::Big(text) => out.push_str(text),
        }
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IntRepr::Small(i) => write!(f, "{i}"),
            IntRepr::Big(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Int {
    type Err = Error;

    /// A JSON integer's text: an optional `-`, then digits without a
    /// leading zero.
    fn from_str(text: &str) -> Result<Self> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !well_formed {
            return Err(Error::invalid(
                "number",
                format!("{text:?} is not a JSON integer"),
            ));
        }
        Int::from_json_digits(text)
    }
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Int {
            fn from(i: $t) -> Self {
                match i64::try_from(i) {
                    Ok(i) => Int(IntRepr::Small(i)),
                    Err(_) => Int(IntRepr::Big(i.to_string().into())),
                }
            }
        }
        impl From<$t> for Value {
            fn from(i: $t) -> Self {
                Value::Int(Int::from(i))
            }
        }
    )*};
}

int_from!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}

impl From<Dict> for Value {
    fn from(dict: Dict) -> Self {
        Value::Dict(dict)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A serde_json value, as it is: its numbers were already read by
/// serde_json (a big integer is rounded unless the program built serde_json
/// with `arbitrary_precision`).
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                let text = n.to_string();
                Value::from_json(&text).unwrap_or_else(|_| Value::Float(n.as_f64().unwrap_or(f64::NAN)))
            }
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(items) => Value::List(items.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => {
                Value::Dict(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl Value {
    /// Reads JSON text as Python's `json.loads` does: no control
    /// characters in strings, and, as Python allows (and its `json.dumps`
    /// writes), the literals `NaN`, `Infinity` and `-Infinity`. (serde_json
    /// refuses those literals before the crate sees them, so they are read
    /// only here.)
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for text that is not one JSON value, for a
    /// lone surrogate escape (`"\ud800"`: Rust strings cannot hold one),
    /// and for an integer of more than [`MAX_INT_DIGITS`] digits;
    /// [`Error::TooDeep`] past [`MAX_DEPTH`].
    ///
    /// ```
    /// use nova_sysmeta::Value;
    /// let v = Value::from_json(r#"{"a": 1, "a": 2, "b": -0}"#)?;
    /// assert_eq!(v.python_str(), "{'a': 2, 'b': 0}");
    /// assert!(Value::from_json("[1,]").is_err());
    /// # Ok::<(), nova_sysmeta::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Value> {
        Parser { text, at: 0 }.parse_document()
    }

    /// The string, when the value is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Python's `str()` of the value (see [`crate::python::to_str`]).
    #[must_use]
    pub fn python_str(&self) -> String {
        crate::python::to_str(self)
    }

    /// How deeply lists and objects nest in the value (0 for a scalar),
    /// counted without recursion.
    #[must_use]
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 0usize)];
        while let Some((value, depth)) = stack.pop() {
            match value {
                Value::List(items) => {
                    deepest = deepest.max(depth + 1);
                    stack.extend(items.iter().map(|v| (v, depth + 1)));
                }
                Value::Dict(dict) => {
                    deepest = deepest.max(depth + 1);
                    stack.extend(dict.values().map(|v| (v, depth + 1)));
                }
                _ => {}
            }
        }
        deepest
    }

    /// The value itself when it nests at most [`MAX_DEPTH`] deep.
    ///
    /// # Errors
    /// [`Error::TooDeep`] otherwise.
    pub(crate) fn checked(self) -> Result<Value> {
        match &self {
            Value::List(_) | Value::Dict(_) if self.depth() > MAX_DEPTH => {
                Err(Error::TooDeep { limit: MAX_DEPTH })
            }
            _ => Ok(self),
        }
    }

    pub(crate) fn write_int(out: &mut String, i: &Int) {
        i.write_to(out);
    }
}

macro_rules! eq_int {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                matches!(self, Value::Int(i) if *i == Int::from(*other))
            }
        }
    )*};
}

eq_int!(i32, i64, u32, u64, usize);

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        *self == Value::Bool(*other)
    }
}

impl PartialEq<f64> for Value {
    fn eq(&self, other: &f64) -> bool {
        matches!(self, Value::Float(f) if f == other)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

/// Equal when the serde_json value converts to this one.
impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        match (self, other) {
            (Value::Null, serde_json::Value::Null) => true,
            (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Value::Str(a), serde_json::Value::String(b)) => a == b,
            (Value::Int(_) | Value::Float(_), serde_json::Value::Number(n)) => {
                Value::from_json(&n.to_string()).is_ok_and(|v| v == *self)
            }
            (Value::List(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Dict(a), serde_json::Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_python_reads_them() {
        let v =
            Value::from_json("[100000000000000000000, -0, 1E400, -1e400, 1.5, 0.1e1, 9223372036854775808]")
                .unwrap();
        let Value::List(items) = v else {
            panic!("not a list")
        };
        assert_eq!(items[0], Value::Int("100000000000000000000".parse().unwrap()));
        assert_eq!(items[1], Value::from(0));
        assert_eq!(items[2], Value::Float(f64::INFINITY));
        assert_eq!(items[3], Value::Float(f64::NEG_INFINITY));
        assert_eq!(items[4], Value::Float(1.5));
        assert_eq!(items[5], Value::Float(1.0));
        assert_eq!(items[6].python_str(), "9223372036854775808");
    }

    #[test]
    fn integers_past_pythons_digit_limit_are_refused() {
        let ok = "9".repeat(MAX_INT_DIGITS);
        assert!(Value::from_json(&ok).is_ok());
        assert!(Value::from_json(&format!("-{ok}")).is_ok());
        let err = Value::from_json(&format!("{ok}9")).unwrap_err();
        assert_eq!(
            err,
            Error::IntegerTooLong {
                digits: MAX_INT_DIGITS + 1
            }
        );
    }

    #[test]
    fn bad_json_is_refused() {
        for text in [
            "",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "1e",
            "\"\\x\"",
            "\"a",
            "[1 2]",
            "nul",
            "\"\u{1}\"",
            "nan",
            "Inf",
            "-Infinit",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\ud800\\u0041\"",
            "{} x",
        ] {
            assert!(Value::from_json(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn pythons_own_literals_read_back() {
        let v = Value::from_json("[NaN, Infinity, -Infinity]").unwrap();
        assert_eq!(v.python_str(), "[nan, inf, -inf]");
        assert_eq!(serde_json::to_string(&v).unwrap(), "[NaN,Infinity,-Infinity]");
    }

    #[test]
    fn escapes_and_pairs_decode() {
        let v = Value::from_json(r#""\ud83d\ude00\u00e9\n\/""#).unwrap();
        assert_eq!(v, "😀é\n/");
    }

    #[test]
    fn nesting_is_limited_without_recursion() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(Value::from_json(&ok).unwrap().depth(), MAX_DEPTH);
        let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
        assert_eq!(
            Value::from_json(&deep).unwrap_err(),
            Error::TooDeep { limit: MAX_DEPTH }
        );
    }

    #[test]
    fn serde_json_hands_over_the_numbers_text() {
        let v: Value =
            serde_json::from_str(r#"{"n": 123456789012345678901234567890123456789012, "f": 1E400}"#).unwrap();
        assert_eq!(
            v.python_str(),
            "{'n': 123456789012345678901234567890123456789012, 'f': inf}"
        );
        let mut reader = std::io::Cursor::new(b"[100000000000000000000]".to_vec());
        let v: Value = serde_json::from_reader(&mut reader).unwrap();
        assert_eq!(v.python_str(), "[100000000000000000000]");
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            "[100000000000000000000]",
            "written back with its digits"
        );
    }
}
