//! Reading one request object: typed fields with error kinds from the
//! JSON Lines contract (`missing_field`, `invalid_value`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// An error line: a stable kind and a message saying what and where.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"error": {"kind": self.kind, "message": self.message}})
    }

    /// The error line's JSON text.
    pub fn to_line(&self) -> String {
        self.to_json().to_string()
    }
}

impl From<nova_sysmeta::Error> for Failure {
    fn from(e: nova_sysmeta::Error) -> Self {
        Failure::new(e.kind(), e.to_string())
    }
}

/// The fields of one request object, as the raw JSON text of each value
/// (borrowed from the line): a field is read straight into its type when
/// taken, without a `Value` tree in between.
pub struct Request<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Request<'a> {
    /// The fields of the request object on `line`. The whole line is
    /// checked here (each value's text is scanned once, not parsed): any
    /// JSON error is `invalid_json`, whatever the field it is in.
    pub fn parse(line: &'a [u8]) -> Result<Self, Failure> {
        match serde_json::from_slice(line) {
            Ok(Fields(fields)) => Ok(Self { fields }),
            Err(e) if e.is_data() => Err(Failure::new("invalid_request", "a request must be a JSON object")),
            Err(e) => Err(Failure::new("invalid_json", format!("line is not JSON: {e}"))),
        }
    }

    /// Takes a field out; with duplicate names the last one counts, as in
    /// a JSON object read into a map.
    fn take(&mut self, name: &str) -> Option<&'a RawValue> {
        let at = self.fields.iter().rposition(|(k, _)| k == name)?;
        Some(self.fields.remove(at).1)
    }

    /// A required field; `null` counts as missing.
    pub fn field<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Failure> {
        self.optional(name)?
            .ok_or_else(|| Failure::new("missing_field", format!("field `{name}` is required")))
    }

    /// An optional field: absent or `null` is `None`.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, Failure> {
        match self.take(name) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => serde_json::from_str(raw.get()).map(Some).map_err(|e| {
                Failure::new(
                    "invalid_value",
                    format!("field `{name}`: {}", without_position(&e)),
                )
            }),
        }
    }

    /// An optional field with a default.
    pub fn or_default<T: DeserializeOwned + Default>(&mut self, name: &str) -> Result<T, Failure> {
        Ok(self.optional(name)?.unwrap_or_default())
    }
}

/// A serde_json error's message without " at line L column C": positions
/// inside one field's text would only mislead.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) if e.line() != 0 => message.to_owned(),
        _ => text,
    }
}

/// A JSON object's entries, values left as raw text.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(8);
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    fields.push((key.0, map.next_value()?));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}
