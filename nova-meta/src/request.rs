//! Reading one request object: typed fields with error kinds from the
//! JSON Lines contract (`missing_field`, `invalid_value`, `invalid_request`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// An error line: a stable kind and a message saying what and where.
#[derive(Debug)]
pub struct Failure {
    /// The error kind, snake_case (`invalid_json`, `missing_field`, ...).
    pub kind: &'static str,
    /// What was wrong, and where.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The error answer as JSON, with the request's `id` when it had one.
    pub fn to_json(&self, id: Option<&RawValue>) -> Value {
        let mut answer = json!({"error": {"kind": self.kind, "message": self.message}});
        if let (Some(id), Value::Object(map)) = (id, &mut answer) {
            // The id as serde_json reads it; to_line writes its text as given.
            map.insert(
                "id".to_owned(),
                serde_json::from_str(id.get()).unwrap_or(Value::Null),
            );
        }
        answer
    }

    /// The error line's JSON text, with the request's `id` (its text as
    /// given) first when it had one.
    pub fn to_line(&self, id: Option<&RawValue>) -> String {
        let error = json!({"kind": self.kind, "message": self.message});
        match id {
            Some(id) => format!("{{\"id\":{},\"error\":{error}}}", id.get()),
            None => format!("{{\"error\":{error}}}"),
        }
    }
}

/// The contract's error kinds for the library's errors: the four it names,
/// and `invalid_value` for every other value the library refuses.
impl From<nova_sysmeta::Error> for Failure {
    fn from(e: nova_sysmeta::Error) -> Self {
        let kind = match e.kind() {
            kind @ ("empty_key" | "key_too_long" | "value_too_long" | "not_an_integer") => kind,
            _ => "invalid_value",
        };
        Failure::new(kind, e.to_string())
    }
}

/// The fields of one request object, as the raw JSON text of each value
/// (borrowed from the line): a field is read straight into its type when
/// taken, without a `Value` tree in between.
pub struct Request<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
    /// The op's entry of the table, once known: a field it does not list
    /// is never read.
    op: Option<&'static crate::table::Op>,
}

/// Fields every op takes: the op itself, the echoed `id`, and `release`.
const COMMON_FIELDS: [&str; 3] = ["op", "id", "release"];

impl<'a> Request<'a> {
    /// The fields of the request object on `line`. The whole line is
    /// checked here (each value's text is scanned once, not parsed): any
    /// JSON error is `invalid_json`, whatever the field it is in.
    pub fn parse(line: &'a [u8]) -> Result<Self, Failure> {
        match serde_json::from_slice(line) {
            Ok(Fields(fields)) => Ok(Self { fields, op: None }),
            Err(e) if e.is_data() => Err(Failure::new("invalid_request", "a request must be a JSON object")),
            Err(e) => Err(Failure::new("invalid_json", format!("line is not JSON: {e}"))),
        }
    }

    /// Takes a field out; with duplicate names the last one counts, as in
    /// a JSON object read into a map (the others go too).
    fn take(&mut self, name: &str) -> Option<&'a RawValue> {
        debug_assert!(
            self.op.is_none_or(|op| op.field(name).is_some()) || COMMON_FIELDS.contains(&name),
            "field `{name}` is read but not in the op table"
        );
        let at = self.fields.iter().rposition(|(k, _)| k == name)?;
        let value = self.fields.remove(at).1;
        self.fields.retain(|(k, _)| k != name);
        Some(value)
    }

    /// Sets the op whose table entry lists the fields that may be read.
    pub fn set_op(&mut self, op: &'static crate::table::Op) {
        self.op = Some(op);
    }

    /// The request's `id`, as its JSON text, if it has one.
    pub fn id(&self) -> Option<&'a RawValue> {
        self.fields.iter().rev().find(|(k, _)| k == "id").map(|(_, v)| *v)
    }

    /// Fails on a field no op read: a misspelt name (`"flavour"`) is an
    /// error, never silently ignored.
    pub fn finish(&self) -> Result<(), Failure> {
        match self
            .fields
            .iter()
            .find(|(k, _)| !COMMON_FIELDS.contains(&k.as_ref()))
        {
            Some((name, _)) => Err(Failure::new(
                "invalid_request",
                format!("unknown field `{name}` for this op"),
            )),
            None => Ok(()),
        }
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
                let message = without_position(&e);
                // A misspelt field inside an object the crate defines
                // (`context`, `instance`, `flavor`) is a request mistake,
                // named by its path.
                match message.strip_prefix("unknown field `") {
                    Some(rest) => Failure::new("invalid_request", format!("unknown field `{name}.{rest}")),
                    None => Failure::new("invalid_value", format!("field `{name}`: {message}")),
                }
            }),
        }
    }

    /// A required field that may be `null` (`None`); absent is
    /// `missing_field`.
    pub fn nullable<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, Failure> {
        if !self.fields.iter().any(|(k, _)| k == name) {
            return Err(Failure::new(
                "missing_field",
                format!("field `{name}` is required"),
            ));
        }
        self.optional(name)
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
