//! [`Properties`]: an image's free-form properties, kept in a [`TextMap`]
//! of their keys and string values beside a list of their other values.
//!
//! - [`value`]: [`PropertyValue`], the borrowed view of a value;
//! - [`derive`](mod@derive): a map made from a system-metadata map's entries;
//! - [`json`]: reading and writing a map as a JSON object (serde).

mod derive;
mod json;
mod value;

pub(crate) use json::PropertiesIn;
pub use value::PropertyValue;

use std::fmt;

use crate::error::Result as CrateResult;
use crate::python::value::{Dict, Value};
use crate::storage::textmap::{Lookup, Slot, TextMap};

/// Free-form image properties: an ordered map of JSON values (Glance allows
/// any JSON in Nova's internal dict; Nova stores `str()` of each).
///
/// Insertion order is kept as in a Python dict: inserting an existing key
/// replaces its value in place, a new key goes last. Two maps are equal when
/// they hold the same entries in any order. Serializes as a JSON object.
///
/// Keys and string values live back to back in one string owned by the map
/// (other JSON values are kept aside), so building, copying and dropping a
/// map does not allocate per entry; that is why [`get`](Self::get) hands
/// out a [`PropertyValue`] view rather than a `&Value`.
///
/// ```
/// use nova_sysmeta::Properties;
/// use nova_sysmeta::map::PropertyValue;
///
/// let mut props: Properties = serde_json::from_str(r#"{"os_type": "linux", "hw_cpu_cores": 2}"#)?;
/// props.insert("os_type", "windows")?;
/// assert_eq!(props.get("os_type"), Some(PropertyValue::Str("windows")));
/// assert_eq!(props.get("hw_cpu_cores").unwrap(), 2);
/// assert_eq!(props.keys().collect::<Vec<_>>(), ["os_type", "hw_cpu_cores"]);
/// assert_eq!(serde_json::to_string(&props)?, r#"{"os_type":"windows","hw_cpu_cores":2}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Properties {
    map: TextMap<Stored>,
    /// The values that are not strings, by [`Stored::Json`] position; a
    /// replaced or removed one is left as `null` until compaction.
    json: Vec<Value>,
    /// How many of `json` no slot refers to any more.
    dead_json: usize,
}

/// Where a value is: in the map's text, or in its list of other values.
#[derive(Debug, Clone, Copy)]
enum Stored {
    Text,
    Json(usize),
}

impl Properties {
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
            json: Vec::new(),
            dead_json: 0,
        }
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

    #[inline]
    fn view(&self, slot: &Slot<Stored>) -> PropertyValue<'_> {
        match slot.value {
            Stored::Text => PropertyValue::Str(self.map.value_text(slot)),
            Stored::Json(i) => PropertyValue::Json(&self.json[i]),
        }
    }

    /// The value stored under `key`, if any. O(1).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<PropertyValue<'_>> {
        self.map.get(key).map(|slot| self.view(slot))
    }

    /// Whether `key` is present. O(1).
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.position(key).is_some()
    }

    /// The value under `key` when it is a string; `None` when the key is
    /// absent or holds another JSON value. O(1). The same shape as
    /// [`SystemMetadata::get`](crate::SystemMetadata::get), so
    /// `props.get_str(k) == Some("x")` reads as it does there.
    #[must_use]
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(PropertyValue::as_str)
    }

    /// Sets `key` to `value`, as Python's `dict[key] = value`: a key
    /// already there keeps its place, a new key goes last. Returns the old
    /// value, as [`HashMap::insert`](std::collections::HashMap::insert)
    /// does. O(1).
    ///
    /// # Errors
    /// [`Error::TooDeep`](crate::Error::TooDeep) for a value nested deeper
    /// than [`MAX_DEPTH`](crate::python::value::MAX_DEPTH); the map is left
    /// as it was. (Use [`insert_view`](Self::insert_view) or `extend` for
    /// values that cannot nest.)
    ///
    /// ```
    /// use nova_sysmeta::{Properties, Value};
    /// let mut props = Properties::new();
    /// assert_eq!(props.insert("hw_cpu_cores", 2)?, None);
    /// assert_eq!(props.insert("hw_cpu_cores", "4")?, Some(Value::from(2)));
    /// # Ok::<(), nova_sysmeta::Error>(())
    /// ```
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl Into<Value>) -> CrateResult<Option<Value>> {
        let slot = self.write_owned(key.as_ref(), value.into().checked()?);
        let old = self.map.file(slot, Lookup::Index).map(|old| self.take(&old));
        self.compact_if_sparse();
        Ok(old)
    }

    /// Sets `key` to a value known to nest within the limit; `true` when it
    /// replaced one.
    pub(crate) fn put_owned(&mut self, key: &str, value: Value) -> bool {
        let slot = self.write_owned(key, value);
        let old = self.map.file(slot, Lookup::Index);
        self.settle(old)
    }

    /// Writes an entry of an owned value without filing it: a string goes
    /// into the text, another value is moved aside (not copied).
    fn write_owned(&mut self, key: &str, value: Value) -> Slot<Stored> {
        match value {
            Value::Str(s) => self.write(key, PropertyValue::Str(&s)),
            other => {
                self.json.push(other);
                self.map.write_str(key, "", Stored::Json(self.json.len() - 1))
            }
        }
    }

    /// Sets `key` to `value` (a view, copied in), which cannot fail: a
    /// view comes from a map, so it nests within the limit. Returns whether
    /// a value was replaced (its copy is not made).
    pub fn insert_view(&mut self, key: impl AsRef<str>, value: PropertyValue<'_>) -> bool {
        self.put(key.as_ref(), value, Lookup::Index)
    }

    /// The bytes of the keys and string values, and 16 for each other
    /// value: room to reserve for a copy.
    pub(crate) fn text_bytes_estimate(&self) -> usize {
        let others = self.json.len() - self.dead_json;
        self.map.live_text_len() + others.saturating_mul(16)
    }

    /// Writes an entry; `lookup` says how to find a key already there.
    /// `true` when it replaced one.
    pub(in crate::storage) fn put(&mut self, key: &str, value: PropertyValue<'_>, lookup: Lookup) -> bool {
        let slot = self.write(key, value);
        let old = self.map.file(slot, lookup);
        self.settle(old)
    }

    /// The bookkeeping after a write: the replaced slot's JSON value (if
    /// any) is dropped and counted dead, and the storage compacted when
    /// sparse. `true` when a slot was replaced.
    fn settle(&mut self, replaced: Option<Slot<Stored>>) -> bool {
        let was = replaced.is_some();
        if let Some(Slot {
            value: Stored::Json(i),
            ..
        }) = replaced
        {
            self.dead_json += 1;
            self.json[i] = Value::Null;
        }
        self.compact_if_sparse();
        was
    }

    /// Writes an entry's text (and JSON value) without filing it.
    fn write(&mut self, key: &str, value: PropertyValue<'_>) -> Slot<Stored> {
        match value {
            PropertyValue::Str(s) => self.map.write_str(key, s, Stored::Text),
            PropertyValue::Json(v) => {
                self.json.push(v.clone());
                self.map.write_str(key, "", Stored::Json(self.json.len() - 1))
            }
        }
    }

    /// The value of a slot just replaced or removed (its text is still
    /// there); a JSON value is moved out.
    fn take(&mut self, slot: &Slot<Stored>) -> Value {
        match slot.value {
            Stored::Text => Value::from(self.map.value_text(slot)),
            Stored::Json(i) => {
                self.dead_json += 1;
                std::mem::take(&mut self.json[i])
            }
        }
    }

    /// Removes `key`, keeping the order of the others (serde_json's
    /// `shift_remove`). O(n): to remove many keys, use
    /// [`retain`](Self::retain).
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let position = self.map.position(key)?;
        let slot = self.map.remove_at(position)?;
        let value = self.take(&slot);
        self.compact_if_sparse();
        Some(value)
    }

    /// Keeps only the entries for which `keep` returns true, in order. O(n).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, PropertyValue<'_>) -> bool) {
        let Self { map, json, dead_json } = self;
        map.retain(|key, slot, text| {
            let value = match slot.value {
                Stored::Text => PropertyValue::Str(text),
                Stored::Json(i) => PropertyValue::Json(&json[i]),
            };
            let kept = keep(key, value);
            if let (false, Stored::Json(i)) = (kept, slot.value) {
                *dead_json += 1;
                json[i] = Value::Null;
            }
            kept
        });
        self.compact_if_sparse();
    }

    /// Python's `dict.update`: every entry of `other` is inserted in turn.
    pub fn update(&mut self, other: &Properties) {
        for (key, value) in other {
            self.put(key, value, Lookup::Index);
        }
    }

    /// Drops dead text, and dead JSON values once they are the larger part.
    fn compact_if_sparse(&mut self) {
        self.map.compact_if_sparse();
        if self.dead_json > 64 && self.dead_json * 2 > self.json.len() {
            let mut json = Vec::with_capacity(self.json.len() - self.dead_json);
            self.map.remap_values(|stored| match stored {
                Stored::Json(i) => {
                    json.push(std::mem::take(&mut self.json[i]));
                    Stored::Json(json.len() - 1)
                }
                Stored::Text => Stored::Text,
            });
            self.json = json;
            self.dead_json = 0;
        }
    }

    /// Checks the invariants every operation keeps, for the tests: those of
    /// the text map, and that each value kept aside is referred to by
    /// exactly one entry, the others counted dead and left `null`.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        self.map.check_invariants()?;
        let mut used = vec![false; self.json.len()];
        for slot in self.map.slots() {
            if let Stored::Json(i) = slot.value {
                match used.get_mut(i) {
                    Some(u) if !*u => *u = true,
                    _ => return Err(format!("value {i} referred to twice or out of range")),
                }
                if !self.map.value_text(slot).is_empty() {
                    return Err(format!("value {i} has text beside it"));
                }
            }
        }
        let dead = used.iter().filter(|u| !**u).count();
        if dead != self.dead_json {
            return Err(format!("{dead} unused values, {} counted", self.dead_json));
        }
        if let Some(i) = (0..self.json.len()).find(|&i| !used[i] && self.json[i] != Value::Null) {
            return Err(format!("unused value {i} is not null"));
        }
        Ok(())
    }

    /// Entries in order.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            props: self,
            slots: self.map.slots().iter(),
        }
    }

    /// Keys in order.
    #[must_use]
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.iter().map(|(k, _)| k)
    }

    /// The properties as a [`Dict`] (every value copied).
    #[must_use]
    pub fn to_dict(&self) -> Dict {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_value())).collect()
    }
}

/// The entries of a [`Properties`] map, in order (from [`Properties::iter`]).
#[derive(Clone)]
pub struct Iter<'a> {
    props: &'a Properties,
    slots: std::slice::Iter<'a, Slot<Stored>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, PropertyValue<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let slot = self.slots.next()?;
        Some((self.props.map.key(slot), self.props.view(slot)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let slot = self.slots.next_back()?;
        Some((self.props.map.key(slot), self.props.view(slot)))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Properties {
    type Item = (&'a str, PropertyValue<'a>);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The entries, in order, each value copied out (as [`Properties::to_dict`]).
impl IntoIterator for Properties {
    type Item = (String, Value);
    type IntoIter = indexmap::map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.to_dict().into_iter()
    }
}

/// String properties, inserted in turn (for values of any type, see
/// [`Properties::insert`]).
///
/// ```
/// use nova_sysmeta::Properties;
/// let mut props: Properties = [("a", "1")].into_iter().collect();
/// props.extend([("b", "2"), ("a", "3")]);
/// assert_eq!(props.iter().map(|(k, v)| (k, v.as_str())).collect::<Vec<_>>(),
///            [("a", Some("3")), ("b", Some("2"))]);
/// ```
impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for Properties {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.put(k.as_ref(), PropertyValue::Str(v.as_ref()), Lookup::Index);
        }
    }
}

/// String properties, in order (for values of any type, see
/// [`Properties::try_from_iter`]).
impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut props = Properties::new();
        for (k, v) in iter {
            props.put(k.as_ref(), PropertyValue::Str(v.as_ref()), Lookup::Index);
        }
        props
    }
}

impl Properties {
    /// Collects entries as [`insert`](Properties::insert) takes them.
    ///
    /// # Errors
    /// [`Error::TooDeep`](crate::Error::TooDeep) at the first value nested
    /// deeper than [`MAX_DEPTH`](crate::python::value::MAX_DEPTH).
    ///
    /// ```
    /// use nova_sysmeta::{Properties, Value};
    /// let props = Properties::try_from_iter([("a", Value::from(1)), ("b", Value::from("x"))])?;
    /// assert_eq!(props.len(), 2);
    /// # Ok::<(), nova_sysmeta::Error>(())
    /// ```
    pub fn try_from_iter<K: AsRef<str>, V: Into<Value>>(
        iter: impl IntoIterator<Item = (K, V)>,
    ) -> CrateResult<Properties> {
        let mut props = Properties::new();
        for (k, v) in iter {
            props.insert(k, v)?;
        }
        Ok(props)
    }
}

impl TryFrom<Dict> for Properties {
    type Error = crate::Error;

    /// The entries of a [`Dict`], in order.
    ///
    /// # Errors
    /// [`Error::TooDeep`](crate::Error::TooDeep) for a value nested too
    /// deeply.
    fn try_from(dict: Dict) -> CrateResult<Self> {
        Properties::try_from_iter(dict)
    }
}

impl From<&Properties> for Dict {
    fn from(props: &Properties) -> Self {
        props.to_dict()
    }
}

impl From<&Properties> for Value {
    fn from(props: &Properties) -> Self {
        Value::Dict(props.to_dict())
    }
}

/// Map equality, as for Python dicts: the same keys with the same values,
/// in any order. Not `Eq`: a value may be a float, and `NaN` is equal to
/// nothing, so a map holding one is not equal to its own clone.
///
/// ```
/// use nova_sysmeta::Properties;
/// let mut props = Properties::new();
/// props.insert("ratio", f64::NAN)?;
/// assert!(props != props.clone());
/// props.insert("ratio", 0.5)?;
/// assert_eq!(props, props.clone());
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Random sequences of every mutation, with string and other values,
/// checked against a [`Dict`] and [`Properties::check_invariants`] after
/// each step.
#[cfg(test)]
mod model_tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, Value),
        Remove(String),
        Retain(bool),
        Update(Vec<(String, Value)>),
        Clone,
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof!["[a-d]{1,2}", Just(String::new()), "[é😀]{1,2}"]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[a-z]{0,4}".prop_map(Value::from),
            (300usize..600).prop_map(|n| Value::from("v".repeat(n))),
            any::<i64>().prop_map(|i| Value::from_json(&i.to_string()).unwrap_or(Value::Null)),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            Just(Value::from(vec![Value::from("x")])),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => key().prop_map(Op::Remove),
            1 => any::<bool>().prop_map(Op::Retain),
            1 => prop::collection::vec((key(), value()), 0..6).prop_map(Op::Update),
            1 => Just(Op::Clone),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn every_mutation_keeps_the_invariants(ops in prop::collection::vec(op(), 1..150)) {
            let mut props = Properties::new();
            let mut model = Dict::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let old = props.insert(&k, v.clone());
                        prop_assert_eq!(old.ok().flatten(), model.insert(k, v));
                    }
                    Op::Remove(k) => prop_assert_eq!(props.remove(&k), model.shift_remove(&k)),
                    Op::Retain(flag) => {
                        let keep = |k: &str, is_str: bool| k.len().is_multiple_of(2) != flag || is_str;
                        props.retain(|k, v| keep(k, v.as_str().is_some()));
                        model.retain(|k, v| keep(k, v.as_str().is_some()));
                    }
                    Op::Update(entries) => {
                        let other = Properties::try_from_iter(entries.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        props.update(&other);
                        for (k, v) in entries {
                            model.insert(k, v);
                        }
                    }
                    Op::Clone => props = props.clone(),
                }
                props.check_invariants().map_err(TestCaseError::fail)?;
                prop_assert_eq!(props.to_dict(), model.clone());
                prop_assert!(props.keys().eq(model.keys().map(String::as_str)));
            }
        }
    }
}
