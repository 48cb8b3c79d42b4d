//! [`SystemMetadata`]: an instance's `system_metadata` map.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, Result};
use crate::nova::keys::{COLUMN_CHARS, KeyKind, SM_IMAGE_PROP_PREFIX, is_image_key};
use crate::python::value::Text;
use crate::storage::class::{KeyClass, NameFilter};
use crate::storage::textmap::{Entry, Lookup, Slot, TextMap};

/// An instance's system metadata (`instance.system_metadata` in Nova, rows
/// of the `instance_system_metadata` table): an ordered map of string keys
/// to *nullable* string values, as Nova's `DictOfNullableStringsField` and
/// the nullable `value` column hold them. A null value is what Nova stores
/// for `owner_user_name` when the request context has no user name, and
/// what a NULL row reads back as; [`get`](Self::get) treats it as Python's
/// `dict.get` does (as `None`), [`iter`](Self::iter) shows it.
///
/// Insertion order is kept, as in the Python dict Nova works on: inserting
/// an existing key replaces its value in place; a new key goes last.
/// Lookups and inserts are O(1) on average; [`remove`](Self::remove) keeps
/// order and is O(n), [`retain`](Self::retain) is O(n) for any number of
/// removals. Serializes as a JSON object; two maps are equal when they hold
/// the same entries, in any order (as Python dicts).
///
/// Keys and values live back to back in one string owned by the map, so
/// building, copying and dropping a map costs a few allocations, not two
/// per entry; keys are hashed with foldhash under a random per-process
/// seed.
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
/// sm.insert("owner_project_name", None);
/// assert_eq!(sm.get("image_os_type"), Some("windows"));
/// assert_eq!(sm.get("owner_project_name"), None);
/// assert_eq!(sm.get_nullable("owner_project_name"), Some(None));
/// assert_eq!(sm.keys().collect::<Vec<_>>(), ["image_os_type", "owner_user_name", "owner_project_name"]);
/// assert_eq!(serde_json::to_string(&sm).unwrap(),
///            r#"{"image_os_type":"windows","owner_user_name":"alice","owner_project_name":null}"#);
/// ```
#[derive(Clone, Default)]
pub struct SystemMetadata {
    /// Each entry keeps its key's class, for the flows to sort entries by.
    map: TextMap<KeyClass>,
}

impl SystemMetadata {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            map: TextMap::with_entries(capacity),
        }
    }

    /// Makes room for `entries` more entries holding `text_bytes` more
    /// bytes of keys and values.
    pub(crate) fn reserve(&mut self, entries: usize, text_bytes: usize) {
        self.map.reserve(entries, text_bytes);
    }

    /// The bytes of the keys and values.
    pub(crate) fn text_bytes(&self) -> usize {
        self.map.live_text_len()
    }

    /// The storage, for maps built from this one.
    pub(crate) fn text_map(&self) -> &TextMap<KeyClass> {
        &self.map
    }

    /// The value of a slot: its text, or `None` when it is null.
    fn value_of(&self, slot: &Slot<KeyClass>) -> Option<&str> {
        (!slot.value.is_null()).then(|| self.map.value_text(slot))
    }

    /// The string stored under `key`: `None` when the key is absent or its
    /// value is null, as Python's `dict.get` gives. O(1).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(|slot| self.value_of(slot))
    }

    /// `image_base_image_ref`: the image the instance descends from, which
    /// its snapshots record as `base_image_ref`
    /// ([`keys::IMAGE_BASE_IMAGE_REF`](crate::keys::IMAGE_BASE_IMAGE_REF)).
    #[must_use]
    pub fn base_image_ref(&self) -> Option<&str> {
        self.get(crate::nova::keys::IMAGE_BASE_IMAGE_REF)
    }

    /// The value stored under `key`, if the key is present: `Some(None)`
    /// for a null value. O(1).
    #[must_use]
    pub fn get_nullable(&self, key: &str) -> Option<Option<&str>> {
        self.map.get(key).map(|slot| self.value_of(slot))
    }

    /// Whether `key` is present (with a string or a null value). O(1).
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.position(key).is_some()
    }

    /// Sets `key` to `value` (a string, or `None` for null), as Python's
    /// `dict[key] = value`: a key already there keeps its place and gets
    /// the new value, a new key goes last. Returns the old value, as
    /// [`HashMap::insert`](std::collections::HashMap::insert) does: `None`
    /// when the key is new, `Some(None)` when it held a null. O(1).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm = SystemMetadata::new();
    /// assert_eq!(sm.insert("image_os_type", "linux"), None);
    /// assert_eq!(sm.insert("image_os_type", None), Some(Some("linux".to_owned())));
    /// assert_eq!(sm.get_nullable("image_os_type"), Some(None));
    /// ```
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl NullableStr) -> Option<Option<String>> {
        let slot = self.write_entry(key.as_ref(), value.as_nullable());
        let old = self
            .map
            .file(slot, Lookup::Index)
            .map(|old| self.value_of(&old).map(str::to_owned));
        self.map.compact_if_sparse();
        old
    }

    /// [`insert`](Self::insert) without returning the old value, for the
    /// many keys of a batch (rows, serde).
    pub(crate) fn put_indexed(&mut self, key: &str, value: Option<&str>) {
        self.insert_looking_up(key, value, Lookup::Index);
    }

    /// [`insert`](Self::insert) for the flows' few keys: found by a scan
    /// of the keys when the map has no index yet (no index is built for a
    /// map that may never be looked up), else through the index.
    pub(crate) fn put(&mut self, key: &str, value: Option<&str>) {
        let class = KeyClass::of(key);
        // A scan reads the text only of keys of the same class.
        let found = self
            .map
            .scan_position_where(key, |other| other.with_null(false) == class);
        let slot = self
            .map
            .write_str(key, value.unwrap_or_default(), class.with_null(value.is_none()));
        self.map.file_at(slot, found);
        self.map.compact_if_sparse();
    }

    /// Checks the invariants every operation keeps, for the tests: those of
    /// the text map, and that each entry's class is the one its key makes,
    /// null only for an entry without value text.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> std::result::Result<(), String> {
        self.map.check_invariants()?;
        for slot in self.map.slots() {
            let key = self.map.key(slot);
            if slot.value.with_null(false) != KeyClass::of(key) {
                return Err(format!("{key:?} filed with another key's class"));
            }
            if slot.value.is_null() && !self.map.value_text(slot).is_empty() {
                return Err(format!("{key:?} is null with text"));
            }
        }
        Ok(())
    }

    /// An appender of `image_<name>` entries (see [`ImageEntries`]).
    pub(crate) fn image_entries_appender(&mut self) -> ImageEntries<'_> {
        let lookup = if self.map.slots().iter().any(|slot| slot.value.is_prefixed()) {
            Lookup::Index
        } else {
            Lookup::Absent
        };
        ImageEntries { sm: self, lookup }
    }

    fn write_entry(&mut self, key: &str, value: Option<&str>) -> Slot<KeyClass> {
        let class = KeyClass::of(key).with_null(value.is_none());
        self.map.write_str(key, value.unwrap_or_default(), class)
    }

    fn insert_looking_up(&mut self, key: &str, value: Option<&str>, lookup: Lookup) -> bool {
        let slot = self.write_entry(key, value);
        let replaced = self.map.file(slot, lookup).is_some();
        self.map.compact_if_sparse();
        replaced
    }

    /// Sets `key` to `value` only when absent (Python's `dict.setdefault`),
    /// returning the value now stored. O(1).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("image_base_image_ref", "origin")].into_iter().collect();
    /// assert_eq!(sm.setdefault("image_base_image_ref", "img-1"), Some("origin"));
    /// ```
    pub fn setdefault(&mut self, key: impl AsRef<str>, value: impl NullableStr) -> Option<&str> {
        self.setdefault_looking_up(key.as_ref(), value.as_nullable(), Lookup::Index)
    }

    /// [`setdefault`](Self::setdefault) with a scan, as [`put`](Self::put)
    /// with [`Lookup::Scan`].
    pub(crate) fn put_if_absent(&mut self, key: &str, value: Option<&str>) {
        self.setdefault_looking_up(key, value, Lookup::Scan);
    }

    fn setdefault_looking_up(&mut self, key: &str, value: Option<&str>, lookup: Lookup) -> Option<&str> {
        let present = match lookup {
            Lookup::Scan => self.map.scan_position(key),
            _ => self.map.position(key),
        };
        let slot = match present.and_then(|i| self.map.slots().get(i)) {
            Some(slot) => *slot,
            None => {
                let slot = self.write_entry(key, value);
                self.map.file(slot, Lookup::Absent);
                slot
            }
        };
        self.value_of(&slot)
    }

    /// Removes `key`, keeping the order of the others. O(n): to remove many
    /// keys, use [`retain`](Self::retain).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("a", "1"), ("b", "2"), ("c", "3")].into_iter().collect();
    /// assert_eq!(sm.remove("a"), Some(Some("1".to_owned())));
    /// assert_eq!(sm.keys().collect::<Vec<_>>(), ["b", "c"]);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<Option<String>> {
        let position = self.map.position(key)?;
        let slot = self.map.remove_at(position)?;
        let value = self.value_of(&slot).map(str::to_owned);
        self.map.compact_if_sparse();
        Some(value)
    }

    /// Keeps only the entries for which `keep` returns true, in order. O(n).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// use nova_sysmeta::keys::is_image_key;
    /// let mut sm: SystemMetadata = [("image_os_type", "linux"), ("owner_user_name", "alice")].into_iter().collect();
    /// sm.retain(|k, _| !is_image_key(k));
    /// assert_eq!(sm.keys().collect::<Vec<_>>(), ["owner_user_name"]);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&str, Option<&str>) -> bool) {
        self.map
            .retain(|key, slot, value| keep(key, (!slot.value.is_null()).then_some(value)));
        self.map.compact_if_sparse();
    }

    /// Python's `dict.update`: every entry of `other` is inserted in turn
    /// (existing keys keep their place). To move entries in instead of
    /// copying them, use `extend`.
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("a", "1"), ("b", "2")].into_iter().collect();
    /// sm.update(&[("c", "3"), ("a", "9")].into_iter().collect());
    /// assert_eq!(sm.iter().collect::<Vec<_>>(), [("a", Some("9")), ("b", Some("2")), ("c", Some("3"))]);
    /// ```
    pub fn update(&mut self, other: &SystemMetadata) {
        self.update_where(other, |_| true);
    }

    /// [`update`](Self::update) with only the entries of `other` whose
    /// key has no `image_` prefix (what a rebuild keeps), copied slot by
    /// slot.
    pub(crate) fn update_without_image_keys(&mut self, other: &SystemMetadata) {
        self.update_where(other, |class| !class.is_prefixed());
    }

    /// [`update`](Self::update) with only the entries of `other` whose key
    /// class passes `keep`, copied slot by slot.
    fn update_where(&mut self, other: &SystemMetadata, keep: impl Fn(KeyClass) -> bool) {
        self.map
            .copy_from(&other.map, |entry| keep(entry.value()), |class| class);
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Entries in order, a null value as `None`.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: &self.map,
            slots: self.map.slots().iter(),
        }
    }

    /// Keys in order.
    #[must_use]
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.iter().map(|(k, _)| k)
    }

    /// Entries whose key starts with `image_` ([`crate::keys::SM_IMAGE_PROP_PREFIX`]).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let sm: SystemMetadata = [("image_os_type", "linux"), ("owner_user_name", "alice")].into_iter().collect();
    /// assert_eq!(sm.image_entries().collect::<Vec<_>>(), [("image_os_type", Some("linux"))]);
    /// ```
    pub fn image_entries(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
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
        // Non-empty keys and values of at most 255 bytes always fit.
        let fits = |slot: &Slot<KeyClass>| {
            let (key, value) = slot.lens();
            (1..=COLUMN_CHARS).contains(&key) && value <= COLUMN_CHARS
        };
        if self.map.slots().iter().all(fits) {
            return Ok(());
        }
        self.iter()
            .try_for_each(|(k, v)| validate_entry(k, v.unwrap_or_default()))
    }
}

/// The entries of a [`SystemMetadata`], in order (from
/// [`SystemMetadata::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    map: &'a TextMap<KeyClass>,
    slots: std::slice::Iter<'a, Slot<KeyClass>>,
}

impl<'a> Iter<'a> {
    fn entry(&self, slot: &Slot<KeyClass>) -> (&'a str, Option<&'a str>) {
        let value = (!slot.value.is_null()).then(|| self.map.value_text(slot));
        (self.map.key(slot), value)
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        let slot = self.slots.next()?;
        Some(self.entry(slot))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let slot = self.slots.next_back()?;
        Some(self.entry(slot))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a SystemMetadata {
    type Item = (&'a str, Option<&'a str>);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Owned entries: each key and value is copied out of the map's text.
impl IntoIterator for SystemMetadata {
    type Item = (String, Option<String>);
    type IntoIter = std::vec::IntoIter<(String, Option<String>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl<K: AsRef<str>, V: NullableStr> FromIterator<(K, V)> for SystemMetadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut sm = SystemMetadata::new();
        sm.extend(iter);
        sm
    }
}

impl<K: AsRef<str>, V: NullableStr> Extend<(K, V)> for SystemMetadata {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// Map equality, as for Python dicts: the same keys with the same values,
/// in any order.
impl PartialEq for SystemMetadata {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get_nullable(k) == Some(v))
    }
}

impl Eq for SystemMetadata {}

impl fmt::Debug for SystemMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for SystemMetadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for SystemMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor)
    }
}

struct MapVisitor;

impl<'de> Visitor<'de> for MapVisitor {
    type Value = SystemMetadata;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings to strings or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<SystemMetadata, A::Error> {
        let mut sm = SystemMetadata::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        // Duplicate keys: the last value wins at the first position.
        while let Some((key, value)) = map.next_entry::<Text<'de>, NullableText<'de>>()? {
            sm.insert_looking_up(&key.0, value.0.as_deref(), Lookup::Index);
        }
        Ok(sm)
    }
}

/// A system-metadata value as Nova's `DictOfNullableStringsField` takes
/// it: a string, `null`, or a number or boolean stored as its `str()`
/// (`5` is `"5"`, `true` is `"True"`, `1.0` is `"1.0"`); a list or object
/// is refused, as the field refuses it.
pub(crate) struct NullableText<'de>(pub(crate) Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for NullableText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match crate::python::value::Value::deserialize(deserializer)? {
            crate::python::value::Value::Null => Ok(NullableText(None)),
            crate::python::value::Value::Str(s) => Ok(NullableText(Some(Cow::Owned(s)))),
            scalar @ (crate::python::value::Value::Int(_)
            | crate::python::value::Value::Float(_)
            | crate::python::value::Value::Bool(_)) => {
                Ok(NullableText(Some(Cow::Owned(crate::python::to_str(&scalar)))))
            }
            other => Err(D::Error::custom(format!(
                "a system-metadata value must be a string or null, not {}",
                crate::python::repr(&other)
            ))),
        }
    }
}

/// A system-metadata value: a string, or `None` for null. Implemented for
/// the string types and `Option<&str>` (so that a bare `None` needs no
/// annotation; from an `Option<String>`, pass `.as_deref()`), so that
/// [`SystemMetadata::insert`] and `collect` take either.
pub trait NullableStr {
    /// The value, `None` for null.
    fn as_nullable(&self) -> Option<&str>;
}

impl NullableStr for &str {
    fn as_nullable(&self) -> Option<&str> {
        Some(self)
    }
}

impl NullableStr for String {
    fn as_nullable(&self) -> Option<&str> {
        Some(self)
    }
}

impl NullableStr for &String {
    fn as_nullable(&self) -> Option<&str> {
        Some(self)
    }
}

impl NullableStr for Cow<'_, str> {
    fn as_nullable(&self) -> Option<&str> {
        Some(self)
    }
}

impl NullableStr for Option<&str> {
    fn as_nullable(&self) -> Option<&str> {
        *self
    }
}

/// An entry of system metadata as the flows that read properties back see
/// it: what Nova's lists say of its name, whether its value is null, and
/// its name (the key without the `image_` prefix) and value, read only if
/// asked for. (The bookkeeping behind these answers stays in the map.)
#[derive(Clone, Copy)]
pub(crate) struct SmEntry<'a>(pub(in crate::storage) Entry<'a, KeyClass>);

impl<'a> SmEntry<'a> {
    pub(in crate::storage) fn class(self) -> KeyClass {
        self.0.value()
    }

    /// What Nova's lists say of the entry's name.
    pub(crate) fn kind(self) -> KeyKind {
        self.class().kind()
    }

    /// Whether the value is null (a NULL row).
    pub(crate) fn is_null(self) -> bool {
        self.class().is_null()
    }

    /// Whether the name may be one of `names`: `false` rules it out
    /// without reading the name.
    pub(crate) fn may_be_in(self, names: &NameFilter) -> bool {
        names.may_hold(self.class())
    }

    pub(crate) fn name(self) -> &'a str {
        let key = self.0.key();
        if self.class().is_prefixed() {
            // The class says the key has the prefix.
            &key[SM_IMAGE_PROP_PREFIX.len()..]
        } else {
            key
        }
    }

    pub(crate) fn value(self) -> &'a str {
        self.0.value_text()
    }
}

/// Writes `image_<name>` entries for distinct names, in order (the
/// storage half of `get_system_metadata_from_image`; which names and what
/// text are the flow's). While the map held no `image_` key when the
/// appender was made (checked once), the new keys need no lookup; otherwise
/// each is looked up like any insert. Dropping it compacts the text.
pub(crate) struct ImageEntries<'a> {
    sm: &'a mut SystemMetadata,
    lookup: Lookup,
}

impl ImageEntries<'_> {
    /// Appends `image_<name>`, of [`KeyKind`] `kind`, with the value text
    /// `render` writes. `name` must differ from every name pushed before.
    pub(crate) fn push(&mut self, name: &str, kind: KeyKind, render: impl FnOnce(&mut String)) {
        let slot = self.sm.map.write(
            |text| {
                text.push_str(SM_IMAGE_PROP_PREFIX);
                text.push_str(name);
            },
            render,
            KeyClass::new(name, kind, true),
        );
        self.sm.map.file(slot, self.lookup);
    }
}

impl Drop for ImageEntries<'_> {
    fn drop(&mut self) {
        self.sm.map.compact_if_sparse();
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

/// Random sequences of every mutation, and the flows' fast paths (image
/// entries appended, properties read back), checked against
/// [`SystemMetadata::check_invariants`] and
/// [`Properties::check_invariants`](crate::Properties) after each step.
#[cfg(test)]
mod model_tests {
    use super::*;
    use crate::convert::{image_from_system_metadata, system_metadata_from_image};
    use crate::model::image::ImageMeta;
    use crate::python::value::Value;
    use indexmap::IndexMap;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, Option<String>),
        SetDefault(String, Option<String>),
        Remove(String),
        Retain(bool),
        /// The system metadata of an image with these properties, written
        /// over the map (`sm.update(get_system_metadata_from_image(...))`).
        FromImage(Vec<(String, String)>),
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "(image_)?(min_ram|os_glance_x|mappings|[a-c]{1,2})",
            Just(String::new()),
            "é{1,2}"
        ]
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        prop_oneof![3 => "[a-z]{0,4}".prop_map(Some), 1 => (300usize..600).prop_map(|n| Some("v".repeat(n))), 1 => Just(None)]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (key(), value()).prop_map(|(k, v)| Op::SetDefault(k, v)),
            2 => key().prop_map(Op::Remove),
            1 => any::<bool>().prop_map(Op::Retain),
            2 => prop::collection::vec(("(min_ram|os_glance_x|mappings|[a-c]{1,2})", "[a-z]{0,3}"), 0..6).prop_map(Op::FromImage),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn every_mutation_and_flow_keeps_the_invariants(ops in prop::collection::vec(op(), 1..100)) {
            let mut sm = SystemMetadata::new();
            let mut model: IndexMap<String, Option<String>> = IndexMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(sm.insert(&k, v.as_deref()), model.insert(k, v));
                    }
                    Op::SetDefault(k, v) => {
                        sm.setdefault(&k, v.as_deref());
                        model.entry(k).or_insert(v);
                    }
                    Op::Remove(k) => prop_assert_eq!(sm.remove(&k), model.shift_remove(&k)),
                    Op::Retain(flag) => {
                        let keep = |k: &str| k.len().is_multiple_of(2) != flag;
                        sm.retain(|k, _| keep(k));
                        model.retain(|k, _| keep(k));
                    }
                    Op::FromImage(props) => {
                        let mut image = ImageMeta::default();
                        for (k, v) in &props {
                            image.properties.insert(k, Value::from(v.as_str())).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        }
                        let written = system_metadata_from_image(&image, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        written.check_invariants().map_err(TestCaseError::fail)?;
                        crate::nova::convert::write_system_metadata_from_image(&mut sm, &image, None)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        for (k, v) in &written {
                            model.insert(k.to_owned(), v.map(str::to_owned));
                        }
                    }
                }
                sm.check_invariants().map_err(TestCaseError::fail)?;
                let entries: Vec<(&str, Option<&str>)> = sm.iter().collect();
                let expected: Vec<(&str, Option<&str>)> = model.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                prop_assert_eq!(entries, expected);
                image_from_system_metadata(&sm)
                    .properties
                    .check_invariants()
                    .map_err(TestCaseError::fail)?;
            }
        }
    }
}
