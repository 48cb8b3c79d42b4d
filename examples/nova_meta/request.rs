//! Reading one request object: typed fields with error kinds from the
//! JSON Lines contract (`missing_field`, `invalid_value`).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

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
}

impl From<nova_sysmeta::Error> for Failure {
    fn from(e: nova_sysmeta::Error) -> Self {
        Failure::new(e.kind(), e.to_string())
    }
}

/// The fields of one request object, each taken (moved out) once.
pub struct Request {
    fields: Map<String, Value>,
}

impl Request {
    pub fn new(fields: Map<String, Value>) -> Self {
        Self { fields }
    }

    /// A required field; `null` counts as missing.
    pub fn field<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Failure> {
        self.optional(name)?
            .ok_or_else(|| Failure::new("missing_field", format!("field `{name}` is required")))
    }

    /// An optional field: absent or `null` is `None`.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, Failure> {
        // Moving the value out lets serde move its strings instead of
        // copying them.
        match self.fields.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| Failure::new("invalid_value", format!("field `{name}`: {e}"))),
        }
    }

    /// An optional field with a default.
    pub fn or_default<T: DeserializeOwned + Default>(&mut self, name: &str) -> Result<T, Failure> {
        Ok(self.optional(name)?.unwrap_or_default())
    }
}
