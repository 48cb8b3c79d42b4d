//! A [`Properties`] map as a JSON object, read without copying the strings
//! the input holds where serde lends them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Properties, PropertyValue};
use crate::error::Result as CrateResult;
use crate::python::value::Value;
use crate::storage::textmap::Lookup;

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PropertiesVisitor)
    }
}

struct PropertiesVisitor;

impl<'de> Visitor<'de> for PropertiesVisitor {
    type Value = Properties;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of image properties")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Properties, A::Error> {
        let mut props = Properties::with_capacity(access.size_hint().unwrap_or(0).min(4096));
        // Duplicate keys: the last value wins at the first position.
        while let Some(key) = access.next_key::<crate::python::value::Text<'de>>()? {
            let value = access.next_value::<ValueIn<'de>>()?;
            match value {
                ValueIn::Str(s) => props.put(&key.0, PropertyValue::Str(&s), Lookup::Index),
                ValueIn::Json(v) => props.put_owned(&key.0, v),
            };
        }
        Ok(props)
    }
}

/// A property value read without copying a string the input holds; any
/// other value as [`Value`] reads it (numbers from their text).
enum ValueIn<'de> {
    Str(Cow<'de, str>),
    Json(Value),
}

impl<'de> Deserialize<'de> for ValueIn<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through Value, so that numbers keep their text; a string value
        // then comes back owned, which costs one copy.
        match Value::deserialize(deserializer)? {
            Value::Str(s) => Ok(ValueIn::Str(Cow::Owned(s))),
            other => Ok(ValueIn::Json(other)),
        }
    }
}

/// An image's `properties` attribute as read: a map (or `null`, empty), or
/// any other value, kept for the error that names it.
pub(crate) enum PropertiesIn {
    Properties(Properties),
    Other(Value),
}

impl PropertiesIn {
    /// # Errors
    /// [`Error::TooDeep`](crate::Error::TooDeep) for a value nested too
    /// deeply.
    pub(crate) fn from_value(value: Value) -> CrateResult<Self> {
        Ok(match value {
            Value::Null => PropertiesIn::Properties(Properties::new()),
            Value::Dict(dict) => PropertiesIn::Properties(Properties::try_from(dict)?),
            other => PropertiesIn::Other(other),
        })
    }
}

impl<'de> Deserialize<'de> for PropertiesIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PropertiesIn::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
