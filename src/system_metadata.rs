//! [`SystemMetadata`]: an instance's `system_metadata` map.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, Result};
use crate::keys::{COLUMN_CHARS, KeyClass, is_image_key};
use crate::textmap::{Lookup, Slot, TextMap};

/// An instance's system metadata (`instance.system_metadata` in Nova, rows
/// of the `instance_system_metadata` table): an ordered map of string keys
/// to string values.
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
/// assert_eq!(sm.get("image_os_type"), Some("windows"));
/// assert_eq!(sm.keys().collect::<Vec<_>>(), ["image_os_type", "owner_user_name"]);
/// assert_eq!(serde_json::to_string(&sm).unwrap(),
///            r#"{"image_os_type":"windows","owner_user_name":"alice"}"#);
/// ```
#[derive(Clone, Default)]
pub struct SystemMetadata {
    /// Each entry keeps its key's class, for the flows to sort entries by.
    map: TextMap<KeyClass>,
}

impl SystemMetadata {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries.
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

    /// The value stored under `key`, if any. O(1).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|slot| self.map.value_text(slot))
    }

    /// Whether `key` is present. O(1).
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.position(key).is_some()
    }

    /// Sets `key` to `value`, returning the old value. An existing key keeps
    /// its position, a new one goes last (Python's `dict[key] = value`). O(1).
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        self.insert_looking_up(key.as_ref(), value.as_ref(), Lookup::Index)
    }

    /// [`insert`](Self::insert) for the flows, which know more about the
    /// key: [`Lookup::Scan`] for the few keys set on a map just built (no
    /// index is built for them), [`Lookup::Absent`] when it cannot be there.
    pub(crate) fn put(&mut self, key: &str, value: &str, lookup: Lookup) {
        self.insert_looking_up(key, value, lookup);
    }

    fn insert_looking_up(&mut self, key: &str, value: &str, lookup: Lookup) -> Option<String> {
        let slot = self.map.write_str(key, value, KeyClass::of(key));
        let old = self
            .map
            .file(slot, lookup)
            .map(|old| self.map.value_text(&old).to_owned());
        self.map.compact_if_sparse();
        old
    }

    /// Writes a key (of class `class`) and then its value straight into the
    /// map's text: saves building two strings for each entry on the hot
    /// paths. `lookup` says whether the key may already be present.
    #[inline]
    pub(crate) fn insert_with(
        &mut self,
        key: impl FnOnce(&mut String),
        value: impl FnOnce(&mut String),
        class: KeyClass,
        lookup: Lookup,
    ) {
        let slot = self.map.write(key, value, class);
        self.map.file(slot, lookup);
        self.map.compact_if_sparse();
    }

    /// Sets `key` to `value` only when absent (Python's `dict.setdefault`),
    /// returning the value now stored. O(1).
    ///
    /// ```
    /// use nova_sysmeta::SystemMetadata;
    /// let mut sm: SystemMetadata = [("image_base_image_ref", "origin")].into_iter().collect();
    /// assert_eq!(sm.setdefault("image_base_image_ref", "img-1"), "origin");
    /// ```
    pub fn setdefault(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &str {
        self.setdefault_looking_up(key.as_ref(), value.as_ref(), Lookup::Index)
    }

    /// [`setdefault`](Self::setdefault) with a scan, as [`set`](Self::set).
    pub(crate) fn set_default(&mut self, key: &str, value: &str) {
        self.setdefault_looking_up(key, value, Lookup::Scan);
    }

    fn setdefault_looking_up(&mut self, key: &str, value: &str, lookup: Lookup) -> &str {
        let present = match lookup {
            Lookup::Scan => self.map.scan_position(key),
            _ => self.map.position(key),
        };
        let slot = match present.and_then(|i| self.map.slots().get(i)) {
            Some(slot) => *slot,
            None => {
                let slot = self.map.write_str(key, value, KeyClass::of(key));
                self.map.file(slot, Lookup::Absent);
                slot
            }
        };
        self.map.value_text(&slot)
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
        let position = self.map.position(key)?;
        let slot = self.map.remove_at(position)?;
        let value = self.map.value_text(&slot).to_owned();
        self.map.compact_if_sparse();
        Some(value)
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
        self.map.retain(|key, _, value| keep(key, value));
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
    /// assert_eq!(sm.iter().collect::<Vec<_>>(), [("a", "9"), ("b", "2"), ("c", "3")]);
    /// ```
    pub fn update(&mut self, other: &SystemMetadata) {
        self.update_where(other, |_| true);
    }

    /// [`update`](Self::update) with only the entries of `other` whose key
    /// class passes `keep`, copied slot by slot.
    pub(crate) fn update_where(&mut self, other: &SystemMetadata, keep: impl Fn(KeyClass) -> bool) {
        self.map
            .copy_from(&other.map, |entry| keep(entry.value()), |class| class);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: &self.map,
            slots: self.map.slots().iter(),
        }
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.iter().map(|(k, _)| k)
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
        // Non-empty keys and values of at most 255 bytes always fit.
        let fits = |slot: &Slot<KeyClass>| {
            let (key, value) = slot.lens();
            (1..=COLUMN_CHARS).contains(&key) && value <= COLUMN_CHARS
        };
        if self.map.slots().iter().all(fits) {
            return Ok(());
        }
        self.iter().try_for_each(|(k, v)| validate_entry(k, v))
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
    fn entry(&self, slot: &Slot<KeyClass>) -> (&'a str, &'a str) {
        (self.map.key(slot), self.map.value_text(slot))
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

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
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Owned entries: each key and value is copied out of the map's text.
impl IntoIterator for SystemMetadata {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for SystemMetadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut sm = SystemMetadata::new();
        sm.extend(iter);
        sm
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for SystemMetadata {
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
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
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
        f.write_str("a map of strings to strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<SystemMetadata, A::Error> {
        let mut sm = SystemMetadata::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        // Duplicate keys: the last value wins at the first position.
        while let Some((key, value)) = map.next_entry::<Text<'de>, Text<'de>>()? {
            sm.insert(key.0, value.0);
        }
        Ok(sm)
    }
}

/// A string deserialized without a copy when the input allows it.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
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
        deserializer.deserialize_str(TextVisitor)
    }
}

impl std::ops::Index<&str> for SystemMetadata {
    type Output = str;
    /// # Panics
    /// When `key` is absent, like `HashMap`'s `Index`.
    fn index(&self, key: &str) -> &str {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no entry for key {key:?} in system metadata"),
        }
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
