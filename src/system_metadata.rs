//! [`SystemMetadata`]: an instance's `system_metadata` map.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{COLUMN_CHARS, is_image_key};

/// An instance's system metadata (`instance.system_metadata` in Nova, rows
/// of the `instance_system_metadata` table): an ordered map of string keys
/// to string values.
///
/// Insertion order is kept, as in the Python dict Nova works on: inserting
/// an existing key replaces its value in place; a new key goes last.
/// Lookups and inserts are O(1) on average; [`remove`](Self::remove) keeps
/// order and is O(n), [`retain`](Self::retain) is O(n) for any number of
/// removals. Serializes as a JSON object.
///
/// The map accepts any strings, so that [`audit`-style](crate) callers can
/// inspect damaged data; the lifecycle functions check the limits of
/// Nova's database columns with [`validate`](Self::validate).
///
/// ```
/// use nova_sysmeta::SystemMetadata;
///
/// let mut sm: SystemMetadata = [("image_os_type", "linux"), ("owner_user_name", "alice")]
///     .into_iter()
///     .collect();
/// sm.insert("image_os_type", "windows");
/// assert_eq!(sm.get("image_os_type"), Some("windows"));
/// assert_eq!(sm.keys().collect::<Vec<_>>(), ["image_os_type", "owner_user_name"]);
/// assert_eq!(serde_json::to_string(&sm).unwrap(),
///            r#"{"image_os_type":"windows","owner_user_name":"alice"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SystemMetadata {
    entries: IndexMap<String, String>,
}

impl SystemMetadata {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: IndexMap::with_capacity(capacity),
        }
    }

    /// The value stored under `key`, if any. O(1).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Whether `key` is present. O(1).
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Sets `key` to `value`, returning the old value. An existing key keeps
    /// its position, a new one goes last (Python's `dict[key] = value`). O(1).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.entries.insert(key.into(), value.into())
    }

    /// Sets `key` to `value` only when absent (Python's `dict.setdefault`),
    /// returning the value now stored. O(1).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("image_base_image_ref", "origin")].into_iter().collect();
    /// assert_eq!(sm.setdefault("image_base_image_ref", "img-1"), "origin");
    /// ```
    pub fn setdefault(&mut self, key: impl Into<String>, value: impl Into<String>) -> &str {
        self.entries.entry(key.into()).or_insert_with(|| value.into())
    }

    /// Removes `key`, keeping the order of the others. O(n): to remove many
    /// keys, use [`retain`](Self::retain).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("a", "1"), ("b", "2"), ("c", "3")].into_iter().collect();
    /// assert_eq!(sm.remove("a").as_deref(), Some("1"));
    /// assert_eq!(sm.keys().collect::<Vec<_>>(), ["b", "c"]);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.shift_remove(key)
    }

    /// Keeps only the entries for which `keep` returns true, in order. O(n).
    ///
    /// ```
    /// use nova_sysmeta::{is_image_key, SystemMetadata};
    /// let mut sm: SystemMetadata = [("image_os_type", "linux"), ("owner_user_name", "alice")].into_iter().collect();
    /// sm.retain(|k, _| !is_image_key(k));
    /// assert_eq!(sm.keys().collect::<Vec<_>>(), ["owner_user_name"]);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.entries.retain(|k, v| keep(k, v));
    }

    /// Python's `dict.update`: every entry of `other` is inserted in turn
    /// (existing keys keep their place). To move entries in instead of
    /// copying them, use `extend`.
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("a", "1"), ("b", "2")].into_iter().collect();
    /// sm.update(&[("c", "3"), ("a", "9")].into_iter().collect());
    /// assert_eq!(sm.iter().collect::<Vec<_>>(), [("a", "9"), ("b", "2"), ("c", "3")]);
    /// ```
    pub fn update(&mut self, other: &SystemMetadata) {
        for (k, v) in other.iter() {
            self.insert(k, v);
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.keys().map(String::as_str)
    }

    /// Entries whose key starts with `image_` ([`crate::SM_IMAGE_PROP_PREFIX`]).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let sm: SystemMetadata = [("image_os_type", "linux"), ("owner_user_name", "alice")].into_iter().collect();
    /// assert_eq!(sm.image_entries().collect::<Vec<_>>(), [("image_os_type", "linux")]);
    /// ```
    pub fn image_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter(|(k, _)| is_image_key(k))
    }

    /// Checks every entry against Nova's `instance_system_metadata` columns:
    /// keys non-empty and at most 255 characters, values at most 255
    /// characters. The first offending entry is reported.
    ///
    /// ```
    /// use nova_sysmeta::{Error, SystemMetadata};
    ///
    /// let mut sm = SystemMetadata::new();
    /// sm.insert("k".repeat(256), "v");
    /// assert!(matches!(sm.validate(), Err(Error::KeyTooLong { chars: 256, .. })));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.iter().try_for_each(|(k, v)| validate_entry(k, v))
    }

    /// The underlying ordered map.
    pub fn as_map(&self) -> &IndexMap<String, String> {
        &self.entries
    }

    /// Unwraps into the underlying ordered map.
    pub fn into_map(self) -> IndexMap<String, String> {
        self.entries
    }
}

/// Checks one entry against the database columns (see
/// [`SystemMetadata::validate`]).
pub(crate) fn validate_entry(key: &str, value: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::EmptyKey {
            context: "system metadata",
        });
    }
    if let Some(chars) = chars_over_column(key) {
        return Err(Error::KeyTooLong {
            key: key.to_owned(),
            chars,
        });
    }
    if let Some(chars) = chars_over_column(value) {
        return Err(Error::ValueTooLong {
            key: key.to_owned(),
            chars,
        });
    }
    Ok(())
}

/// The character count of `s` when it exceeds the column's 255 characters.
/// Strings of at most 255 bytes are not counted: they always fit.
pub(crate) fn chars_over_column(s: &str) -> Option<usize> {
    if s.len() <= COLUMN_CHARS {
        return None;
    }
    Some(s.chars().count()).filter(|&n| n > COLUMN_CHARS)
}

impl From<IndexMap<String, String>> for SystemMetadata {
    fn from(entries: IndexMap<String, String>) -> Self {
        Self { entries }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for SystemMetadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for SystemMetadata {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.entries
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

impl IntoIterator for SystemMetadata {
    type Item = (String, String);
    type IntoIter = indexmap::map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a SystemMetadata {
    type Item = (&'a String, &'a String);
    type IntoIter = indexmap::map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl std::ops::Index<&str> for SystemMetadata {
    type Output = str;
    /// # Panics
    /// When `key` is absent, like `IndexMap`'s and `HashMap`'s `Index`.
    fn index(&self, key: &str) -> &str {
        &self.entries[key]
    }
}
