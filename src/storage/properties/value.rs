//! [`PropertyValue`]: a value borrowed from a [`Properties`](super::Properties) map.

use serde::{Serialize, Serializer};

use crate::python::value::Value;

/// A property's value, borrowed from a [`Properties`](super::Properties) map.
///
/// Strings are [`PropertyValue::Str`]; every other JSON value (numbers,
/// booleans, `null`, arrays, objects) is [`PropertyValue::Json`], which
/// never holds a string. Compares equal to the [`Value`] it stands for.
///
/// ```
/// use nova_sysmeta::{Properties, Value};
/// use nova_sysmeta::map::PropertyValue;
///
/// let props = Properties::try_from_iter([("os_type", Value::from("linux")), ("hw_cpu_cores", Value::from(2))])?;
/// let os_type = props.get("os_type").unwrap();
/// assert_eq!(os_type, PropertyValue::Str("linux"));
/// assert_eq!(os_type.as_str(), Some("linux"));
/// assert_eq!(os_type, Value::from("linux"));
/// let cores = props.get("hw_cpu_cores").unwrap();
/// assert_eq!(cores, 2);
/// assert_eq!(cores.as_str(), None);
/// assert_eq!(cores.to_value(), Value::from(2));
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue<'a> {
    /// A JSON string.
    Str(&'a str),
    /// Any other JSON value.
    Json(&'a Value),
}

impl<'a> PropertyValue<'a> {
    /// The string, when the value is one.
    #[must_use]
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            PropertyValue::Str(s) => Some(s),
            PropertyValue::Json(_) => None,
        }
    }

    /// The value as an owned JSON [`Value`].
    #[must_use]
    pub fn to_value(self) -> Value {
        match self {
            PropertyValue::Str(s) => Value::from(s),
            PropertyValue::Json(v) => v.clone(),
        }
    }

    /// Whether the value is JSON `null`.
    #[must_use]
    pub fn is_null(self) -> bool {
        matches!(self, PropertyValue::Json(Value::Null))
    }

    /// The view of a JSON value.
    #[must_use]
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Str(s) => PropertyValue::Str(s),
            other => PropertyValue::Json(other),
        }
    }
}

impl PropertyValue<'_> {
    /// `safe_truncate(str(value), limit)` appended to `out`, rendering no
    /// more than needed.
    #[inline]
    pub(crate) fn write_python_str_truncated(self, out: &mut String, limit: usize) {
        match self {
            PropertyValue::Str(s) => out.push_str(crate::python::truncate::safe_truncate(s, limit)),
            PropertyValue::Json(v) => crate::python::write_python_str_truncated(out, v, limit),
        }
    }
}

impl PartialEq<Value> for PropertyValue<'_> {
    fn eq(&self, other: &Value) -> bool {
        *self == PropertyValue::of(other)
    }
}

impl PartialEq<PropertyValue<'_>> for Value {
    fn eq(&self, other: &PropertyValue<'_>) -> bool {
        PropertyValue::of(self) == *other
    }
}

/// Equal when the serde_json value converts to this one.
impl PartialEq<serde_json::Value> for PropertyValue<'_> {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_value() == *other
    }
}

impl PartialEq<str> for PropertyValue<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<String> for PropertyValue<'_> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<&str> for PropertyValue<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

/// Compares as [`Value`] compares with these (`value == 2`).
macro_rules! eq_as_json {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for PropertyValue<'_> {
            fn eq(&self, other: &$t) -> bool {
                matches!(self, PropertyValue::Json(v) if *v == other)
            }
        }
    )*};
}

eq_as_json!(i32, i64, u32, u64, usize, f64, bool);

impl From<PropertyValue<'_>> for Value {
    fn from(value: PropertyValue<'_>) -> Value {
        value.to_value()
    }
}

impl Serialize for PropertyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PropertyValue::Str(s) => serializer.serialize_str(s),
            PropertyValue::Json(v) => v.serialize(serializer),
        }
    }
}
