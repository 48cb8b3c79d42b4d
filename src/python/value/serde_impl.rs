//! [`Value`] through serde: written as JSON with each number's own text,
//! read with Python's rules for duplicate keys and big integers.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Dict, IntRepr, Value};

/// serde_json's name for its raw-text values: a `Deserializer` of
/// serde_json asked for this newtype hands over the value's JSON text, and
/// its `Serializer` writes a struct of this name as the text it holds.
/// Other formats see an ordinary newtype and struct.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => match &i.0 {
                IntRepr::Small(i) => serializer.serialize_i64(*i),
                IntRepr::Big(text) => match text.parse::<i128>() {
                    Ok(i) => serializer.serialize_i128(i),
                    Err(_) => serialize_raw(serializer, text),
                },
            },
            Value::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Value::Float(f) => serialize_raw(
                serializer,
                if f.is_nan() {
                    "NaN"
                } else if *f > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                },
            ),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => serializer.collect_seq(items),
            Value::Dict(dict) => serializer.collect_map(dict),
        }
    }
}

/// Text serde_json writes as it is (what Python's `json.dumps` writes for
/// an integer past 128 bits or an infinity).
fn serialize_raw<S: Serializer>(serializer: S, text: &str) -> std::result::Result<S::Ok, S::Error> {
    let mut raw = serializer.serialize_struct(RAW_TOKEN, 1)?;
    raw.serialize_field(RAW_TOKEN, text)?;
    raw.end()
}

impl<'de> Deserialize<'de> for Value {
    /// From serde_json, the value's text is read as Python reads it (see
    /// [`Value::from_json`]); from other formats, what they give.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TOKEN, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(i))
    }
    fn visit_u64<E>(self, u: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(u))
    }
    fn visit_i128<E>(self, i: i128) -> std::result::Result<Value, E> {
        Ok(Value::from(i))
    }
    fn visit_u128<E>(self, u: u128) -> std::result::Result<Value, E> {
        Ok(Value::from(u))
    }
    fn visit_f64<E>(self, f: f64) -> std::result::Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Value::List(items).checked().map_err(de::Error::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut dict = Dict::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        let Some(Text(first)) = map.next_key()? else {
            return Ok(Value::Dict(dict));
        };
        if first == RAW_TOKEN {
            // serde_json's raw text of the value.
            let Text(text) = map.next_value()?;
            return Value::from_json(&text).map_err(de::Error::custom);
        }
        dict.insert(first.into_owned(), map.next_value()?);
        while let Some(Text(key)) = map.next_key()? {
            let value = map.next_value()?;
            dict.insert(key.into_owned(), value);
        }
        Value::Dict(dict).checked().map_err(de::Error::custom)
    }
}

/// A string deserialized without a copy when the input allows it (keys of
/// the crate's maps, raw JSON text).
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(V)
    }
}
