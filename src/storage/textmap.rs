//! The storage under [`SystemMetadata`](crate::SystemMetadata) and
//! [`Properties`](crate::Properties): an ordered map whose keys (and text
//! values) lie back to back in one string, with a hash index of positions.
//!
//! Building, cloning and dropping a map costs a few allocations instead of
//! one or two per entry. The index is built on the first keyed access of a
//! map of more than [`SMALL`] entries, not while a map is being written
//! entry by entry, and keys are hashed only then: a flow that builds a map
//! from keys known to be distinct (the keys of another map, under a prefix)
//! never hashes a key nobody looks up. Keys are hashed with foldhash under
//! a random per-process seed.

use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::OnceLock;

use foldhash::SharedSeed;
use foldhash::fast::SeedableRandomState;
use hashbrown::HashTable;

/// Maps of at most this many entries find keys by a scan of their keys
/// (lengths first) and never build an index.
const SMALL: usize = 8;

/// Dead bytes tolerated before the text is compacted, at least.
const COMPACT_AFTER: usize = 1024;

/// Where one entry's key and text value lie in the map's text, and what
/// else the owner keeps for the value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot<V> {
    start: usize,
    key_len: usize,
    value_len: usize,
    pub(crate) value: V,
}

impl<V> Slot<V> {
    fn key(&self) -> Range<usize> {
        self.start..self.start + self.key_len
    }

    fn value_text(&self) -> Range<usize> {
        self.start + self.key_len..self.end()
    }

    fn end(&self) -> usize {
        self.start + self.key_len + self.value_len
    }

    fn len(&self) -> usize {
        self.key_len + self.value_len
    }

    /// The bytes of the key and of the text value.
    pub(crate) fn lens(&self) -> (usize, usize) {
        (self.key_len, self.value_len)
    }
}

/// The hash of a key: foldhash, seeded once per process at random.
fn hash_key(key: &str) -> u64 {
    SeedableRandomState::with_seed(0, SharedSeed::global_random()).hash_one(key)
}

/// One entry of a map, its text read only if asked for.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a, V> {
    map: &'a TextMap<V>,
    slot: &'a Slot<V>,
}

impl<'a, V: Copy> Entry<'a, V> {
    pub(crate) fn new(map: &'a TextMap<V>, slot: &'a Slot<V>) -> Self {
        Self { map, slot }
    }

    /// What the owner keeps for the entry.
    pub(crate) fn value(self) -> V {
        self.slot.value
    }

    pub(crate) fn key(self) -> &'a str {
        self.map.key(self.slot)
    }

    pub(crate) fn value_text(self) -> &'a str {
        self.map.value_text(self.slot)
    }
}

/// Positions of entries: up to 16 without an allocation (the flows watch a
/// few keys), any number beyond.
#[derive(Debug)]
pub(crate) enum Positions {
    Few([usize; 16], usize),
    Many(Vec<usize>),
}

impl Default for Positions {
    fn default() -> Self {
        Positions::Few([0; 16], 0)
    }
}

impl Positions {
    pub(crate) fn push(&mut self, position: usize) {
        match self {
            Positions::Few(few, len) => match few.get_mut(*len) {
                Some(free) => {
                    *free = position;
                    *len += 1;
                }
                None => {
                    let mut many = few.to_vec();
                    many.push(position);
                    *self = Positions::Many(many);
                }
            },
            Positions::Many(many) => many.push(position),
        }
    }

    pub(crate) fn as_slice(&self) -> &[usize] {
        match self {
            Positions::Few(few, len) => &few[..*len],
            Positions::Many(many) => many,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [usize] {
        match self {
            Positions::Few(few, len) => &mut few[..*len],
            Positions::Many(many) => many,
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        match self {
            Positions::Few(few, len) => {
                let all = *few;
                let mut kept = 0;
                for &p in all.iter().take(*len) {
                    if keep(p) {
                        if let Some(to) = few.get_mut(kept) {
                            *to = p;
                        }
                        kept += 1;
                    }
                }
                *len = kept;
            }
            Positions::Many(many) => many.retain(|&p| keep(p)),
        }
    }
}

/// What [`TextMap::derive_from`] makes of an entry: its key without the
/// first `drop` bytes, with `value`; `watch` to have its position
/// reported.
pub(crate) struct Derived<V> {
    pub(crate) drop: usize,
    pub(crate) value: V,
    pub(crate) watch: bool,
}

/// How [`TextMap::file`] learns whether the key is already present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::storage) enum Lookup {
    /// Through the index (built if missing): for any number of inserts.
    Index,
    /// Through the index if there is one, else a scan of the keys: for a
    /// few inserts into a map that may never be looked up otherwise.
    Scan,
    /// The caller knows the key is absent.
    Absent,
}

#[derive(Debug, Clone)]
pub(crate) struct TextMap<V> {
    /// Every entry's key and text value, back to back, in the order written;
    /// replaced and removed entries leave dead bytes until compaction.
    text: String,
    /// The live entries in order.
    slots: Vec<Slot<V>>,
    /// Positions in `slots`, by key hash; built (and keys hashed) on first
    /// need.
    index: OnceLock<HashTable<usize>>,
    /// Bytes of `text` no slot refers to any more.
    dead: usize,
}

impl<V> Default for TextMap<V> {
    fn default() -> Self {
        Self {
            text: String::new(),
            slots: Vec::new(),
            index: OnceLock::new(),
            dead: 0,
        }
    }
}

/// The hash of `slot`'s key, read from `text`.
fn key_hash<V>(text: &str, slot: &Slot<V>) -> u64 {
    hash_key(&text[slot.key()])
}

/// The hash of the key of slot `i`, for the index to grow by.
fn slot_hash<V>(text: &str, slots: &[Slot<V>], i: usize) -> u64 {
    slots.get(i).map_or(0, |s| key_hash(text, s))
}

/// The index of `slots`, with room for as many entries as the slots have
/// (a map being filled has usually reserved its final size).
fn build_index<V>(text: &str, slots: &Vec<Slot<V>>) -> HashTable<usize> {
    let mut index = HashTable::with_capacity(slots.capacity());
    for (i, slot) in slots.iter().enumerate() {
        index.insert_unique(key_hash(text, slot), i, |&j| slot_hash(text, slots, j));
    }
    index
}

impl<V: Copy> TextMap<V> {
    pub(crate) fn with_capacity(entries: usize, text_bytes: usize) -> Self {
        Self {
            text: String::with_capacity(text_bytes),
            slots: Vec::with_capacity(entries),
            index: OnceLock::new(),
            dead: 0,
        }
    }

    /// Room for `entries` entries of a typical size (a key and a value of
    /// 48 bytes together).
    pub(crate) fn with_entries(entries: usize) -> Self {
        Self::with_capacity(entries, entries.saturating_mul(48))
    }

    /// Makes room for `entries` more entries and `text_bytes` more text.
    pub(crate) fn reserve(&mut self, entries: usize, text_bytes: usize) {
        self.text.reserve(text_bytes);
        self.slots.reserve(entries);
        let Self {
            text, slots, index, ..
        } = self;
        if let Some(index) = index.get_mut() {
            index.reserve(entries, |&j| slot_hash(text, slots, j));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The bytes of the live entries' keys and text values.
    pub(crate) fn live_text_len(&self) -> usize {
        self.text.len() - self.dead
    }

    pub(crate) fn slots(&self) -> &[Slot<V>] {
        &self.slots
    }

    fn str_at(&self, range: Range<usize>) -> &str {
        // Slots only ever point at whole strings written into `text`: a
        // slicing panic here is a bug of this module, never silent data.
        &self.text[range]
    }

    pub(crate) fn key(&self, slot: &Slot<V>) -> &str {
        self.str_at(slot.key())
    }

    pub(crate) fn value_text(&self, slot: &Slot<V>) -> &str {
        self.str_at(slot.value_text())
    }

    /// The position of `key`: a scan of the keys for small maps, else
    /// through the index, which is built here if missing.
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        if self.slots.len() <= SMALL {
            return self.scan(key);
        }
        self.find_in(self.index(), key)
    }

    fn index(&self) -> &HashTable<usize> {
        self.index.get_or_init(|| build_index(&self.text, &self.slots))
    }

    /// Whether the map holds `key`, for debug assertions: through the
    /// index when there is one, by a scan of a map of at most 256 entries,
    /// else `false` (a debug build stays linear).
    fn debug_holds(&self, key: &str) -> bool {
        match self.index.get() {
            Some(index) => self.find_in(index, key).is_some(),
            None if self.slots.len() <= 256 => self.scan(key).is_some(),
            None => false,
        }
    }

    /// The position of `key` through the index if there is one, else by a
    /// scan of the keys (no index is built).
    pub(crate) fn scan_position(&self, key: &str) -> Option<usize> {
        self.scan_position_where(key, |_| true)
    }

    /// [`scan_position`](Self::scan_position), where a scan reads the text
    /// only of the slots whose payload passes `maybe` (a cheap filter that
    /// must pass the slot holding `key`).
    pub(crate) fn scan_position_where(&self, key: &str, maybe: impl Fn(&V) -> bool) -> Option<usize> {
        match self.index.get() {
            Some(index) => self.find_in(index, key),
            None => self
                .slots
                .iter()
                .position(|s| maybe(&s.value) && self.has_key(s, key)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Slot<V>> {
        self.slots.get(self.position(key)?)
    }

    /// Whether the entry at `i` has this key.
    pub(crate) fn is_at(&self, i: usize, key: &str) -> bool {
        self.slots.get(i).is_some_and(|s| self.has_key(s, key))
    }

    /// Whether `slot`'s key is `key` (lengths first: most keys differ there).
    fn has_key(&self, slot: &Slot<V>, key: &str) -> bool {
        slot.key_len == key.len() && self.text.get(slot.key()) == Some(key)
    }

    fn scan(&self, key: &str) -> Option<usize> {
        self.slots.iter().position(|s| self.has_key(s, key))
    }

    fn find_in(&self, index: &HashTable<usize>, key: &str) -> Option<usize> {
        index.find(hash_key(key), |&i| self.is_at(i, key)).copied()
    }

    /// Writes a key, then its text value, at the end of the text; the entry
    /// is not in the map until [`file`](Self::file)d.
    #[inline]
    pub(crate) fn write(
        &mut self,
        key: impl FnOnce(&mut String),
        value_text: impl FnOnce(&mut String),
        value: V,
    ) -> Slot<V> {
        let start = self.text.len();
        key(&mut self.text);
        let key_end = self.text.len();
        value_text(&mut self.text);
        Slot {
            start,
            key_len: key_end - start,
            value_len: self.text.len() - key_end,
            value,
        }
    }

    /// [`write`](Self::write) of two strings.
    #[inline]
    pub(crate) fn write_str(&mut self, key: &str, value_text: &str, value: V) -> Slot<V> {
        self.write(|t| t.push_str(key), |t| t.push_str(value_text), value)
    }

    /// Files a written entry: a new key goes last, an existing one takes
    /// the new text in place. Returns the slot replaced; its text stays
    /// readable until [`compact_if_sparse`](Self::compact_if_sparse).
    #[inline]
    pub(in crate::storage) fn file(&mut self, slot: Slot<V>, lookup: Lookup) -> Option<Slot<V>> {
        debug_assert!(
            lookup != Lookup::Absent || !self.debug_holds(self.str_at(slot.key())),
            "Lookup::Absent for a key the map holds"
        );
        let found = match lookup {
            Lookup::Absent => None,
            _ => self.find_slot_key(&slot, lookup),
        };
        self.file_at(slot, found)
    }

    /// The position of the key of a written `slot`, found as `lookup` says.
    fn find_slot_key(&self, slot: &Slot<V>, lookup: Lookup) -> Option<usize> {
        let key = self.str_at(slot.key());
        match (lookup, self.index.get()) {
            (Lookup::Absent, _) => None,
            (_, Some(index)) => self.find_in(index, key),
            (Lookup::Index, None) if self.slots.len() > SMALL => self.find_in(self.index(), key),
            _ => self.scan(key),
        }
    }

    /// Files a written entry at `found`, the position of its key if the
    /// caller found it there, else last.
    #[inline]
    pub(crate) fn file_at(&mut self, slot: Slot<V>, found: Option<usize>) -> Option<Slot<V>> {
        debug_assert!(
            match found {
                Some(i) => self.is_at(i, self.str_at(slot.key())),
                None => !self.debug_holds(self.str_at(slot.key())),
            },
            "a written key filed at the wrong place"
        );
        match found.and_then(|i| self.slots.get_mut(i)) {
            Some(old) => {
                let old = std::mem::replace(old, slot);
                self.dead += old.len();
                Some(old)
            }
            None => {
                let Self {
                    text, slots, index, ..
                } = self;
                if let Some(index) = index.get_mut() {
                    let hash = key_hash(text, &slot);
                    index.insert_unique(hash, slots.len(), |&j| slot_hash(text, slots, j));
                }
                slots.push(slot);
                None
            }
        }
    }

    /// Removes the entry at `position`, keeping the order of the others.
    /// O(n). Its text stays readable until compaction.
    pub(crate) fn remove_at(&mut self, position: usize) -> Option<Slot<V>> {
        if position >= self.slots.len() {
            return None;
        }
        let slot = self.slots.remove(position);
        if let Some(index) = self.index.get_mut() {
            if let Ok(found) = index.find_entry(key_hash(&self.text, &slot), |&i| i == position) {
                found.remove();
            }
            for i in index.iter_mut() {
                if *i > position {
                    *i -= 1;
                }
            }
        }
        self.dead += slot.len();
        Some(slot)
    }

    /// Keeps the entries for which `keep(key, slot, value_text)` is true.
    /// O(n) for any number of removals.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &Slot<V>, &str) -> bool) {
        let Self {
            text, slots, dead, ..
        } = self;
        let before = slots.len();
        slots.retain(|s| {
            let kept = keep(&text[s.key()], s, &text[s.value_text()]);
            if !kept {
                *dead += s.len();
            }
            kept
        });
        if slots.len() != before {
            self.index = OnceLock::new();
        }
    }

    /// Rewrites the text without its dead bytes once they are the larger
    /// part, so that replacing values in a loop takes amortized O(1) memory.
    #[inline]
    pub(crate) fn compact_if_sparse(&mut self) {
        if self.dead > COMPACT_AFTER && self.dead > self.text.len() / 2 {
            self.compact();
        }
    }

    #[cold]
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.dead);
        for slot in &mut self.slots {
            let start = text.len();
            text.push_str(&self.text[slot.start..slot.end()]);
            slot.start = start;
        }
        self.text = text;
        self.dead = 0;
    }

    /// A map of the entries of `other` that `f` makes something of, in
    /// order (see [`Derived`]); `f` must only drop whole characters. The
    /// text is copied in one piece and shared by the new slots. Keys are
    /// not checked for duplicates; the positions of entries `f` asks to
    /// watch are returned, for the caller to check those.
    pub(crate) fn derive_from<W: Copy>(
        other: &TextMap<W>,
        mut f: impl FnMut(Entry<'_, W>) -> Option<Derived<V>>,
        room: (usize, usize),
    ) -> (Self, Positions) {
        let mut slots = Vec::with_capacity(other.slots.len() + room.0);
        let mut watched = Positions::default();
        let mut live = 0;
        for slot in &other.slots {
            let Some(Derived { drop, value, watch }) = f(Entry::new(other, slot)) else {
                continue;
            };
            let Some(key_len) = slot.key_len.checked_sub(drop) else {
                continue;
            };
            if watch {
                watched.push(slots.len());
            }
            let derived = Slot {
                start: slot.start + drop,
                key_len,
                value_len: slot.value_len,
                value,
            };
            live += derived.len();
            slots.push(derived);
        }
        let mut text = String::with_capacity(other.text.len() + room.1);
        text.push_str(&other.text);
        let dead = text.len() - live;
        let map = Self {
            text,
            slots,
            index: OnceLock::new(),
            dead,
        };
        (map, watched)
    }

    /// Makes entries with the same key among `positions` (ascending) one,
    /// as inserting them in turn would: the later entry's value at the
    /// earlier one's place. `positions` is updated to the entries' new
    /// positions. For the few entries [`derive_from`](Self::derive_from)
    /// reports.
    pub(crate) fn merge_duplicates(&mut self, positions: &mut Positions) {
        let mut merged: Vec<usize> = Vec::new();
        for (a, &i) in positions.as_slice().iter().enumerate() {
            for &j in positions.as_slice().iter().skip(a + 1) {
                let Some(later) = self.slots.get(j).copied() else {
                    continue;
                };
                if merged.contains(&j) || merged.contains(&i) || !self.is_at(i, self.key(&later)) {
                    continue;
                }
                if let Some(earlier) = self.slots.get_mut(i) {
                    let replaced = std::mem::replace(earlier, later);
                    // The later slot's text stays live, at the earlier place.
                    self.dead += replaced.len();
                    merged.push(j);
                }
            }
        }
        if merged.is_empty() {
            return;
        }
        let mut position = 0;
        self.slots.retain(|_| {
            let kept = !merged.contains(&position);
            position += 1;
            kept
        });
        positions.retain(|p| !merged.contains(&p));
        for p in positions.as_mut_slice() {
            *p -= merged.iter().filter(|&&m| m < *p).count();
        }
        self.index = OnceLock::new();
    }

    /// Checks the invariants every operation keeps, for the tests: each
    /// slot's key and value are whole strings of the text, no two slots
    /// overlap or hold the same key, the dead bytes are exactly the text no
    /// slot refers to, and an index, when built, finds every key at its
    /// position and nothing else.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(self.slots.len());
        let mut live = 0;
        for (i, slot) in self.slots.iter().enumerate() {
            for range in [slot.key(), slot.value_text()] {
                if self.text.get(range.clone()).is_none() {
                    return Err(format!("slot {i}: {range:?} is not a string of the text"));
                }
            }
            ranges.push((slot.start, slot.end()));
            live += slot.len();
        }
        ranges.sort_unstable();
        if let Some(w) = ranges.windows(2).find(|w| w[0].1 > w[1].0) {
            return Err(format!("slots overlap: {:?} and {:?}", w[0], w[1]));
        }
        if live + self.dead != self.text.len() {
            return Err(format!(
                "{} live and {} dead bytes in a text of {}",
                live,
                self.dead,
                self.text.len()
            ));
        }
        let mut keys: Vec<&str> = self.slots.iter().map(|s| self.key(s)).collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("key {:?} held twice", w[0]));
        }
        if let Some(index) = self.index.get() {
            if index.len() != self.slots.len() {
                return Err(format!(
                    "an index of {} for {} entries",
                    index.len(),
                    self.slots.len()
                ));
            }
            for (i, slot) in self.slots.iter().enumerate() {
                if self.find_in(index, self.key(slot)) != Some(i) {
                    return Err(format!("the index misses entry {i}"));
                }
            }
        }
        Ok(())
    }

    /// Replaces every slot's payload with `f` of it, in order.
    pub(crate) fn remap_values(&mut self, mut f: impl FnMut(V) -> V) {
        for slot in &mut self.slots {
            slot.value = f(slot.value);
        }
    }

    /// Copies the entries of `other` that pass `keep`, converting each
    /// value with `value`.
    pub(crate) fn copy_from<W: Copy>(
        &mut self,
        other: &TextMap<W>,
        mut keep: impl FnMut(Entry<'_, W>) -> bool,
        mut value: impl FnMut(W) -> V,
    ) {
        // Into an empty map, `other`'s distinct keys need no lookup.
        let lookup = if self.slots.is_empty() {
            Lookup::Absent
        } else {
            Lookup::Index
        };
        for slot in &other.slots {
            if !keep(Entry::new(other, slot)) {
                continue;
            }
            let copy = Slot {
                start: self.text.len(),
                key_len: slot.key_len,
                value_len: slot.value_len,
                value: value(slot.value),
            };
            self.text.push_str(other.str_at(slot.start..slot.end()));
            self.file(copy, lookup);
        }
        self.compact_if_sparse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_keep_order_past_the_inline_room() {
        for count in [0, 1, 15, 16, 17, 40] {
            let mut positions = Positions::default();
            for p in 0..count {
                positions.push(p * 3);
            }
            let all: Vec<usize> = (0..count).map(|p| p * 3).collect();
            assert_eq!(positions.as_slice(), all.as_slice(), "{count}");
            positions.retain(|p| p % 2 == 0);
            for p in positions.as_mut_slice() {
                *p += 1;
            }
            let kept: Vec<usize> = all.iter().filter(|&&p| p % 2 == 0).map(|p| p + 1).collect();
            assert_eq!(positions.as_slice(), kept.as_slice(), "{count}");
            positions.push(1000);
            assert_eq!(positions.as_slice().last(), Some(&1000), "{count}");
            assert_eq!(positions.as_slice().len(), kept.len() + 1, "{count}");
        }
    }
}

/// Long random sequences of every operation, checked against a model
/// (an `IndexMap`, Python's dict semantics) and [`TextMap::check_invariants`]
/// after each step, in release builds too (the `debug_assert!`s inside
/// the map guard the callers' contracts, these the map's own state).
#[cfg(test)]
mod model_tests {
    use super::*;
    use indexmap::IndexMap;
    use proptest::prelude::*;

    type Model = IndexMap<String, (String, u32)>;

    #[derive(Debug, Clone)]
    enum Op {
        /// Insert found through the index, by a scan, or (when the model
        /// says the key is absent) with no lookup.
        Insert(String, String, u32, u8),
        Remove(String),
        Retain(u32),
        /// Rebuild from the map's own entries, `p_` dropped from the keys
        /// that have it, duplicates merged as inserting in turn would.
        Derive,
        /// Copy the entries of a second map into this one.
        CopyFrom(Vec<(String, String)>),
        Reserve(usize),
        Clone,
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "(p_)?[a-e]{1,2}",
            Just(String::new()),
            "[é€😀]{1,2}",
            "k[0-9]{1,2}"
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![3 => "[a-z]{0,5}", 1 => (200usize..700).prop_map(|n| "v".repeat(n))]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (key(), text(), any::<u32>(), 0u8..3).prop_map(|(k, v, p, l)| Op::Insert(k, v, p, l)),
            3 => key().prop_map(Op::Remove),
            1 => any::<u32>().prop_map(Op::Retain),
            1 => Just(Op::Derive),
            1 => prop::collection::vec((key(), text()), 0..12).prop_map(Op::CopyFrom),
            1 => (0usize..40).prop_map(Op::Reserve),
            1 => Just(Op::Clone),
        ]
    }

    fn check(map: &TextMap<u32>, model: &Model) -> Result<(), TestCaseError> {
        map.check_invariants().map_err(TestCaseError::fail)?;
        let entries: Vec<(&str, &str, u32)> = map
            .slots()
            .iter()
            .map(|s| (map.key(s), map.value_text(s), s.value))
            .collect();
        let expected: Vec<(&str, &str, u32)> = model
            .iter()
            .map(|(k, (v, p))| (k.as_str(), v.as_str(), *p))
            .collect();
        prop_assert_eq!(entries, expected);
        for (i, k) in model.keys().enumerate() {
            prop_assert_eq!(map.position(k), Some(i));
        }
        prop_assert_eq!(map.position("absent key"), None);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn every_operation_keeps_the_invariants(ops in prop::collection::vec(op(), 1..120)) {
            let mut map: TextMap<u32> = TextMap::default();
            let mut model = Model::new();
            for op in ops {
                match op {
                    Op::Insert(k, v, p, how) => {
                        let lookup = match how {
                            0 => Lookup::Index,
                            1 => Lookup::Scan,
                            _ if !model.contains_key(&k) => Lookup::Absent,
                            _ => Lookup::Index,
                        };
                        let slot = map.write_str(&k, &v, p);
                        let old = map.file(slot, lookup);
                        prop_assert_eq!(old.map(|s| s.value), model.get(&k).map(|e| e.1));
                        map.compact_if_sparse();
                        model.insert(k, (v, p));
                    }
                    Op::Remove(k) => {
                        let removed = map.position(&k).and_then(|i| map.remove_at(i));
                        prop_assert_eq!(removed.map(|s| s.value), model.shift_remove(&k).map(|e| e.1));
                        map.compact_if_sparse();
                    }
                    Op::Retain(seed) => {
                        let keep = |p: u32| !(p ^ seed).is_multiple_of(3);
                        map.retain(|_, slot, _| keep(slot.value));
                        model.retain(|_, e| keep(e.1));
                    }
                    Op::Derive => {
                        let (mut derived, mut watched) = TextMap::derive_from(
                            &map,
                            |entry| Some(Derived {
                                drop: if entry.key().starts_with("p_") { 2 } else { 0 },
                                value: entry.value(),
                                watch: true,
                            }),
                            (0, 0),
                        );
                        derived.merge_duplicates(&mut watched);
                        let mut next = Model::new();
                        for (k, e) in &model {
                            next.insert(k.strip_prefix("p_").unwrap_or(k).to_owned(), e.clone());
                        }
                        map = derived;
                        model = next;
                    }
                    Op::CopyFrom(entries) => {
                        let mut other: TextMap<u32> = TextMap::default();
                        let mut other_model = Model::new();
                        for (i, (k, v)) in entries.into_iter().enumerate() {
                            let p = u32::try_from(i).unwrap_or(u32::MAX);
                            let slot = other.write_str(&k, &v, p);
                            other.file(slot, Lookup::Index);
                            other_model.insert(k, (v, p));
                        }
                        check(&other, &other_model)?;
                        map.copy_from(&other, |_| true, |p| p);
                        for (k, e) in other_model {
                            model.insert(k, e);
                        }
                    }
                    Op::Reserve(n) => map.reserve(n, n * 8),
                    Op::Clone => map = map.clone(),
                }
                check(&map, &model)?;
            }
        }
    }
}
