//! [`SystemMetadata`]: an instance's `system_metadata` map.

use std::borrow::Cow;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Range;

use foldhash::SharedSeed;
use foldhash::fast::SeedableRandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// Every entry's key and value, back to back, in the order written;
    /// replaced and removed entries leave dead bytes until [`compact`].
    text: String,
    /// The live entries in order.
    slots: Vec<Slot>,
    /// Positions in `slots`, found by the key's hash.
    index: HashTable<usize>,
    /// Bytes of `text` no slot refers to any more.
    dead: usize,
}

/// Where one entry's key and value lie in the map's text, and its key's
/// hash (kept, so that copying entries between maps never hashes again).
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: usize,
    key_len: usize,
    value_len: usize,
    hash: u64,
}

impl Slot {
    fn key(self) -> Range<usize> {
        self.start..self.start + self.key_len
    }

    fn value(self) -> Range<usize> {
        self.start + self.key_len..self.end()
    }

    fn end(self) -> usize {
        self.start + self.key_len + self.value_len
    }

    fn len(self) -> usize {
        self.key_len + self.value_len
    }
}

/// The hash of a key: foldhash, seeded once per process at random (so
/// every map of a process agrees and can reuse another's hashes).
fn hash_key(key: &str) -> u64 {
    SeedableRandomState::with_seed(0, SharedSeed::global_random()).hash_one(key)
}

/// Dead bytes tolerated before [`SystemMetadata::compact`] runs, at least.
const COMPACT_AFTER: usize = 1024;

impl SystemMetadata {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            text: String::with_capacity(capacity.saturating_mul(32)),
            slots: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            dead: 0,
        }
    }

    fn str_at(&self, range: Range<usize>) -> &str {
        // Slots only ever point at whole strings written into `text`.
        self.text.get(range).unwrap_or_default()
    }

    fn position(&self, hash: u64, key: &str) -> Option<usize> {
        let Self { text, slots, .. } = self;
        self.index
            .find(hash, |&i| {
                slots.get(i).and_then(|s| text.get(s.key())) == Some(key)
            })
            .copied()
    }

    /// The value stored under `key`, if any. O(1).
    pub fn get(&self, key: &str) -> Option<&str> {
        let slot = *self.slots.get(self.position(hash_key(key), key)?)?;
        Some(self.str_at(slot.value()))
    }

    /// Whether `key` is present. O(1).
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(hash_key(key), key).is_some()
    }

    /// Sets `key` to `value`, returning the old value. An existing key keeps
    /// its position, a new one goes last (Python's `dict[key] = value`). O(1).
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let start = self.text.len();
        self.text.push_str(key);
        self.text.push_str(value);
        let slot = Slot {
            start,
            key_len: key.len(),
            value_len: value.len(),
            hash: hash_key(key),
        };
        let old = self.file(slot).map(|old| self.str_at(old.value()).to_owned());
        self.compact_if_sparse();
        old
    }

    /// Writes a key and then its value straight into the map's text, then
    /// files the entry as [`insert`](Self::insert) does. Saves building two
    /// strings for each entry on the hot paths.
    pub(crate) fn insert_with(&mut self, key: impl FnOnce(&mut String), value: impl FnOnce(&mut String)) {
        let start = self.text.len();
        key(&mut self.text);
        let key_end = self.text.len();
        value(&mut self.text);
        let slot = Slot {
            start,
            key_len: key_end - start,
            value_len: self.text.len() - key_end,
            hash: hash_key(self.str_at(start..key_end)),
        };
        self.file(slot);
        self.compact_if_sparse();
    }

    /// Files an entry whose text lies in `text`: a new key goes last, an
    /// existing one takes the new text in place. Returns the slot replaced
    /// (its text is still there, dead).
    fn file(&mut self, slot: Slot) -> Option<Slot> {
        let Self {
            text,
            slots,
            index,
            dead,
        } = self;
        let key = text.get(slot.key());
        let entry = index.entry(
            slot.hash,
            |&i| slots.get(i).and_then(|s| text.get(s.key())) == key,
            |&i| slots.get(i).map_or(0, |s| s.hash),
        );
        match entry {
            Entry::Occupied(found) => {
                let old = std::mem::replace(slots.get_mut(*found.get())?, slot);
                *dead += old.len();
                Some(old)
            }
            Entry::Vacant(vacant) => {
                vacant.insert(slots.len());
                slots.push(slot);
                None
            }
        }
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
        let key = key.as_ref();
        let hash = hash_key(key);
        let slot = match self.position(hash, key).and_then(|i| self.slots.get(i)) {
            Some(slot) => *slot,
            None => {
                let value = value.as_ref();
                let slot = Slot {
                    start: self.text.len(),
                    key_len: key.len(),
                    value_len: value.len(),
                    hash,
                };
                self.text.push_str(key);
                self.text.push_str(value);
                self.file(slot);
                slot
            }
        };
        self.str_at(slot.value())
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
        let hash = hash_key(key);
        let Self {
            text, slots, index, ..
        } = self;
        let found = index
            .find_entry(hash, |&i| {
                slots.get(i).and_then(|s| text.get(s.key())) == Some(key)
            })
            .ok()?;
        let (position, _) = found.remove();
        if position >= slots.len() {
            return None;
        }
        let slot = slots.remove(position);
        for i in index.iter_mut() {
            if *i > position {
                *i -= 1;
            }
        }
        let value = self.str_at(slot.value()).to_owned();
        self.dead += slot.len();
        self.compact_if_sparse();
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
        let Self {
            text, slots, dead, ..
        } = self;
        let before = slots.len();
        slots.retain(|s| {
            let kept = keep(
                text.get(s.key()).unwrap_or_default(),
                text.get(s.value()).unwrap_or_default(),
            );
            if !kept {
                *dead += s.len();
            }
            kept
        });
        if slots.len() != before {
            self.reindex();
            self.compact_if_sparse();
        }
    }

    /// Rebuilds the index from the slots (their hashes are kept).
    fn reindex(&mut self) {
        let Self { slots, index, .. } = self;
        index.clear();
        for (i, slot) in slots.iter().enumerate() {
            index.insert_unique(slot.hash, i, |&j| slots.get(j).map_or(0, |s| s.hash));
        }
    }

    /// Rewrites the text without its dead bytes once they are the larger
    /// part, so that replacing values in a loop takes amortized O(1) memory.
    fn compact_if_sparse(&mut self) {
        if self.dead > COMPACT_AFTER && self.dead > self.text.len() / 2 {
            let mut text = String::with_capacity(self.text.len() - self.dead);
            for slot in &mut self.slots {
                let start = text.len();
                text.push_str(self.text.get(slot.start..slot.end()).unwrap_or_default());
                slot.start = start;
            }
            self.text = text;
            self.dead = 0;
        }
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
    /// passes `keep`; the keys' hashes are reused, not computed again.
    pub(crate) fn update_where(&mut self, other: &SystemMetadata, keep: impl Fn(&str) -> bool) {
        // Into an empty map, `other`'s distinct keys need no duplicate check.
        let fresh = self.slots.is_empty();
        for slot in &other.slots {
            let key = other.str_at(slot.key());
            if !keep(key) {
                continue;
            }
            let copy = Slot {
                start: self.text.len(),
                ..*slot
            };
            self.text.push_str(other.str_at(slot.start..slot.end()));
            if fresh {
                let Self { slots, index, .. } = self;
                index.insert_unique(copy.hash, slots.len(), |&j| slots.get(j).map_or(0, |s| s.hash));
                slots.push(copy);
            } else {
                self.file(copy);
            }
        }
        self.compact_if_sparse();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            slots: self.slots.iter(),
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
        self.iter().try_for_each(|(k, v)| validate_entry(k, v))
    }
}

/// The entries of a [`SystemMetadata`], in order (from
/// [`SystemMetadata::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    text: &'a str,
    slots: std::slice::Iter<'a, Slot>,
}

impl<'a> Iter<'a> {
    fn entry(&self, slot: &Slot) -> (&'a str, &'a str) {
        let text = self.text;
        (
            text.get(slot.key()).unwrap_or_default(),
            text.get(slot.value()).unwrap_or_default(),
        )
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
struct Text<'de>(Cow<'de, str>);

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
