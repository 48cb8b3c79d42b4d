//! Database rows of `instance_system_metadata`: `metadata_to_dict` and
//! `dict_to_metadata` (nova/utils.py).

use serde::{Deserialize, Deserializer, Serialize};

use crate::map::system_metadata::SystemMetadata;
use crate::python::value::Value;

/// One row of `instance_system_metadata`, as far as the map is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataRow {
    /// The `key` column.
    pub key: String,
    /// The `value` column (nullable in Nova's schema).
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
            crate::python::python_repr(&other)
        ))),
        // Nova tests `item.get('deleted')` for truth.
        scalar => Ok(crate::python::python_truthy(&scalar)),
    }
}

impl MetadataRow {
    /// A live row.
    #[must_use]
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
            deleted: false,
        }
    }
}

/// The map Nova builds from rows (`metadata_to_dict` in nova/utils.py): rows in order, later
/// rows overwriting earlier ones with the same key; soft-deleted rows are
/// skipped unless `include_deleted`. A NULL value is a null entry.
///
/// ```
/// use nova_sysmeta::rows::{system_metadata_from_rows, MetadataRow};
///
/// let mut gone = MetadataRow::new("image_os_type", "windows");
/// gone.deleted = true;
/// let rows = [gone, MetadataRow::new("image_os_type", "linux"), MetadataRow::new("owner_user_name", "alice")];
/// let sm = system_metadata_from_rows(&rows, false);
/// assert_eq!(sm.get("image_os_type"), Some("linux"));
/// ```
#[must_use]
pub fn system_metadata_from_rows(rows: &[MetadataRow], include_deleted: bool) -> SystemMetadata {
    let mut out = SystemMetadata::with_capacity(rows.len());
    for row in rows {
        if row.deleted && !include_deleted {
            continue;
        }
        out.insert(row.key.as_str(), row.value.as_deref());
    }
    out
}

/// Rows for a map (`dict_to_metadata` in nova/utils.py), in order, all
/// live.
///
/// ```
/// use nova_sysmeta::rows::rows_from_system_metadata;
/// use nova_sysmeta::SystemMetadata;
/// let sm: SystemMetadata = [("a", "1")].into_iter().collect();
/// assert_eq!(rows_from_system_metadata(&sm)[0].key, "a");
/// ```
#[must_use]
pub fn rows_from_system_metadata(system_metadata: &SystemMetadata) -> Vec<MetadataRow> {
    system_metadata
        .iter()
        .map(|(k, v)| MetadataRow {
            key: k.to_owned(),
            value: v.map(str::to_owned),
            deleted: false,
        })
        .collect()
}
