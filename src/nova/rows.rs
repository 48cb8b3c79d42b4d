//! Database rows of `instance_system_metadata`: `metadata_to_dict` and
//! `dict_to_metadata` (nova/utils.py).

use serde::{Deserialize, Deserializer, Serialize};

use crate::python::value::Value;
use crate::storage::system_metadata::{NullableText, SystemMetadata};

/// One row of `instance_system_metadata`, as far as the map is concerned.
///
/// Read with serde, a `value` that is a number or a boolean is its
/// `str()`, as the instance's `DictOfNullableStringsField` makes it when
/// `metadata_to_dict`'s result is stored (`5` is `"5"`, `true` is
/// `"True"`); a list or object is refused, as the field refuses it.
///
/// ```
/// use nova_sysmeta::rows::Row;
/// let row: Row = serde_json::from_str(r#"{"key": "image_min_ram", "value": 512}"#)?;
/// assert_eq!(row.value.as_deref(), Some("512"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Row {
    /// The `key` column.
    pub key: String,
    /// The `value` column (nullable in Nova's schema).
    #[serde(default, deserialize_with = "nullable_text")]
    pub value: Option<String>,
    /// Whether the row is soft-deleted (`deleted != 0`). In JSON: a boolean,
    /// an integer (Nova writes the row id) or null.
    #[serde(default, deserialize_with = "deleted_flag")]
    pub deleted: bool,
}

fn deleted_flag<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        other @ (Value::List(_) | Value::Dict(_)) => Err(serde::de::Error::custom(format!(
            "`deleted` must be a boolean or an integer, found {}",
            crate::python::repr(&other)
        ))),
        // Nova tests `item.get('deleted')` for truth.
        scalar => Ok(crate::python::python_truthy(&scalar)),
    }
}

fn nullable_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(NullableText::deserialize(deserializer)?
        .0
        .map(std::borrow::Cow::into_owned))
}

impl Row {
    /// A live row.
    #[must_use]
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
            deleted: false,
        }
    }

    /// The same row, soft-deleted or not.
    #[must_use]
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = deleted;
        self
    }
}

/// The map Nova builds from rows (`metadata_to_dict` in nova/utils.py): rows in order, later
/// rows overwriting earlier ones with the same key; soft-deleted rows are
/// skipped unless `include_deleted`. A NULL value is a null entry.
///
/// ```
/// use nova_sysmeta::rows::{self, Row};
///
/// let gone = Row::new("image_os_type", "windows").deleted(true);
/// let rows = [gone, Row::new("image_os_type", "linux"), Row::new("owner_user_name", "alice")];
/// let sm = rows::to_system_metadata(&rows, false);
/// assert_eq!(sm.get("image_os_type"), Some("linux"));
/// ```
#[must_use]
pub fn to_system_metadata(rows: &[Row], include_deleted: bool) -> SystemMetadata {
    let mut out = SystemMetadata::with_capacity(rows.len());
    for row in rows {
        if row.deleted && !include_deleted {
            continue;
        }
        out.put_indexed(row.key.as_str(), row.value.as_deref());
    }
    out
}

/// Rows for a map (`dict_to_metadata` in nova/utils.py), in order, all
/// live.
///
/// ```
/// use nova_sysmeta::{SystemMetadata, rows};
/// let sm: SystemMetadata = [("a", "1")].into_iter().collect();
/// assert_eq!(rows::from_system_metadata(&sm)[0].key, "a");
/// ```
#[must_use]
pub fn from_system_metadata(system_metadata: &SystemMetadata) -> Vec<Row> {
    system_metadata
        .iter()
        .map(|(k, v)| Row {
            key: k.to_owned(),
            value: v.map(str::to_owned),
            deleted: false,
        })
        .collect()
}
