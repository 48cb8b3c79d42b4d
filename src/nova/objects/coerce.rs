//! oslo.versionedobjects' `coerce` of each field kind, and Nova's enum
//! types' own: what `setattr(props, name, value)` stores, or the message of
//! what it raises.

use indexmap::IndexMap;

use crate::python::value::{Int, Value};
use crate::python::{is_python_space, python_int_of_value, to_str};

use super::TypedValue;
use super::schema::{EnumCoerce, FieldKind, Kind, Values};
use super::version::is_version_predicate;

/// Python's `type(value).__name__`.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "str",
        Value::List(_) => "list",
        Value::Dict(_) => "dict",
    }
}

/// Python's `str.strip()` (every character `str.isspace()` accepts).
pub(super) fn strip(text: &str) -> &str {
    text.trim_matches(is_python_space)
}

/// `Field.coerce`: a `None` is refused (no field of these objects is
/// nullable or has a default), anything else goes to the type.
pub(super) fn coerce(kind: &Kind, attr: &str, value: &Value) -> Result<TypedValue, String> {
    if value.is_null() {
        return Err(format!("Field `{attr}' cannot be None"));
    }
    match kind {
        Kind::Plain(kind) => coerce_plain(*kind, attr, value),
        Kind::Enum { values, coerce, .. } => coerce_enum(*values, *coerce, value).map(TypedValue::Str),
    }
}

fn coerce_plain(kind: FieldKind, attr: &str, value: &Value) -> Result<TypedValue, String> {
    Ok(match kind {
        FieldKind::String => TypedValue::Str(string(attr, value)?),
        // `f"{value}"`: oslo warns on a malformed UUID and keeps it.
        FieldKind::Uuid => TypedValue::Str(to_str(value)),
        FieldKind::VersionPredicate => match value {
            Value::Str(s) if is_version_predicate(s) => TypedValue::Str(s.clone()),
            Value::Str(s) => return Err(format!("Version {s} is not a valid predicate in field {attr}")),
            other => {
                return Err(format!(
                    "Version {} should be a string type, not <class '{}'>",
                    to_str(other),
                    type_name(other)
                ));
            }
        },
        FieldKind::Integer => TypedValue::Int(integer(value)?),
        FieldKind::NonNegativeInteger => {
            let i = integer(value)?;
            if i.is_negative() {
                return Err(format!("Value must be >= 0 for field {attr}"));
            }
            TypedValue::Int(i)
        }
        FieldKind::FlexibleBoolean => TypedValue::Bool(bool_from_string(value)),
        FieldKind::Enum => return Err(format!("field {attr} has no values")),
        FieldKind::ListOfStrings => TypedValue::Strings(
            list(attr, value)?
                .iter()
                .map(|v| element(v, attr, string))
                .collect::<Result<_, _>>()?,
        ),
        FieldKind::ListOfIntegers => TypedValue::Ints(
            list(attr, value)?
                .iter()
                .map(|v| element(v, attr, |_, v| integer(v)))
                .collect::<Result<_, _>>()?,
        ),
        FieldKind::ListOfSetsOfIntegers => {
            let items = list(attr, value)?;
            match items.first() {
                // No JSON value is a Python set.
                Some(Value::Null) => return Err(format!("Field `{attr}' cannot be None")),
                Some(other) => {
                    return Err(format!(
                        "A set is required in field {attr}, not a {}",
                        type_name(other)
                    ));
                }
                None => TypedValue::IntSets(Vec::new()),
            }
        }
        FieldKind::ListOfDictsOfNullableStrings => {
            let mut dicts = Vec::new();
            for item in list(attr, value)? {
                let Value::Dict(dict) = item else {
                    if item.is_null() {
                        return Err(format!("Field `{attr}' cannot be None"));
                    }
                    return Err(format!(
                        "A dict is required in field {attr}, not a {}",
                        type_name(item)
                    ));
                };
                let mut out = IndexMap::with_capacity(dict.len());
                for (key, v) in dict {
                    let s = if v.is_null() { None } else { Some(string(attr, v)?) };
                    out.insert(key.clone(), s);
                }
                dicts.push(out);
            }
            TypedValue::Dicts(dicts)
        }
    })
}

/// A list element: its own non-nullable `Field`.
fn element<T>(value: &Value, attr: &str, f: impl Fn(&str, &Value) -> Result<T, String>) -> Result<T, String> {
    if value.is_null() {
        return Err(format!("Field `{attr}' cannot be None"));
    }
    f(attr, value)
}

/// oslo's `List.coerce` check: any iterable but a string or a mapping.
fn list<'v>(attr: &str, value: &'v Value) -> Result<&'v [Value], String> {
    match value {
        Value::List(items) => Ok(items),
        other => Err(format!(
            "A list is required in field {attr}, not a {}",
            type_name(other)
        )),
    }
}

/// oslo's `String.coerce`: `str()` of an int, float or str (a bool is an int).
pub(super) fn string(attr: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s.clone()),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => Ok(to_str(value)),
        other => Err(format!(
            "A string is required in field {attr}, not a {}",
            type_name(other)
        )),
    }
}

/// Python's `int(value)`, with the message of what it raises.
pub(super) fn integer(value: &Value) -> Result<Int, String> {
    python_int_of_value(value).ok_or_else(|| match value {
        Value::Str(s) => format!(
            "invalid literal for int() with base 10: {}",
            crate::python::repr(&Value::Str(s.clone()))
        ),
        Value::Float(f) if f.is_nan() => "cannot convert float NaN to integer".to_owned(),
        Value::Float(_) => "cannot convert float infinity to integer".to_owned(),
        other => format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            type_name(other)
        ),
    })
}

/// oslo.utils' `strutils.bool_from_string(value)` (not strict, default
/// false): a bool as it is, anything else by its `str()`, stripped and
/// lower-cased, among `1 t true on y yes`.
pub(super) fn bool_from_string(value: &Value) -> bool {
    let text = match value {
        Value::Bool(b) => return *b,
        Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(to_str(other)),
    };
    let lowered = strip(&text).to_lowercase();
    matches!(lowered.as_str(), "1" | "t" | "true" | "on" | "y" | "yes")
}

/// An enum type's `coerce`: its own canonicalisation, then oslo's
/// `Enum.coerce` (the value must be among the values, as it is).
fn coerce_enum(values: Values, coerce: EnumCoerce, value: &Value) -> Result<String, String> {
    let lower = |value: &Value| match value {
        Value::Str(s) => Ok(s.to_lowercase()),
        other => Err(format!("'{}' object has no attribute 'lower'", type_name(other))),
    };
    let canonical = |value: &Value, renames: &[(&str, &str)], what: &str| -> Result<String, String> {
        let name = lower(value)?;
        let name = renames
            .iter()
            .find(|(from, _)| *from == name)
            .map_or(name, |(_, to)| (*to).to_owned());
        if !in_values(values, &name) {
            let shown = if what == "Virtual machine mode" {
                name
            } else {
                to_str(value)
            };
            return Err(format!("{what} '{shown}' is not valid"));
        }
        Ok(name)
    };
    let candidate = match coerce {
        EnumCoerce::Plain => {
            let Value::Str(s) = value else {
                return Err(match values {
                    Values::Text(_) => format!(
                        "'in <string>' requires string as left operand, not {}",
                        type_name(value)
                    ),
                    Values::Tuple(_) => format!("Field value {} is invalid", to_str(value)),
                });
            };
            s.clone()
        }
        EnumCoerce::Lower => lower(value)?,
        EnumCoerce::Scsi => {
            let name = lower(value)?;
            match name.as_str() {
                "lsilogicsas" => "lsisas1068".to_owned(),
                "paravirtual" => "vmpvscsi".to_owned(),
                _ => name,
            }
        }
        EnumCoerce::Vif(renames) => {
            let name = lower(value)?;
            renames
                .iter()
                .find(|(from, _)| *from == name)
                .map_or(name, |(_, to)| (*to).to_owned())
        }
        EnumCoerce::Architecture => canonical(
            value,
            &[
                ("i386", "i686"),
                ("i486", "i686"),
                ("i586", "i686"),
                ("x86_32", "i686"),
                ("x86_32p", "i686"),
                ("amd64", "x86_64"),
            ],
            "Architecture name",
        )?,
        EnumCoerce::HvType => canonical(value, &[("xapi", "xen")], "Hypervisor virt type")?,
        EnumCoerce::VmMode => canonical(
            value,
            &[("pv", "xen"), ("hv", "hvm"), ("baremetal", "hvm")],
            "Virtual machine mode",
        )?,
    };
    if !in_values(values, &candidate) {
        return Err(format!("Field value {candidate} is invalid"));
    }
    Ok(candidate)
}

/// Python's `value in ALL`: equality with a tuple's member, or a substring
/// of a string.
fn in_values(values: Values, value: &str) -> bool {
    match values {
        Values::Tuple(all) => all.contains(&value),
        Values::Text(text) => text.first().is_some_and(|t| t.contains(value)),
    }
}
