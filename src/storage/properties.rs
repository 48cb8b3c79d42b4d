//! [`Properties`]: an image's free-form properties.

use std::fmt;

use std::borrow::Cow;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Result as CrateResult;
use crate::python::value::{Dict, Value};
use crate::storage::keys::{KeyClass, KeyKind, NameFilter, SM_IMAGE_PROP_PREFIX, sketch};
use crate::storage::system_metadata::SystemMetadata;
use crate::storage::textmap::{Derived, Entry, Lookup, Slot, TextMap};

/// Up to this many keys that may meet others are compared one by one;
/// beyond, an index finds them.
const FEW: usize = 8;

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

/// An entry of system metadata as the flows that read properties back see
/// it: what Nova's lists say of its name, whether its value is null, and
/// its name (the key without the `image_` prefix) and value, read only if
/// asked for. (The bookkeeping behind these answers stays in the map.)
#[derive(Clone, Copy)]
pub(crate) struct SmEntry<'a>(Entry<'a, KeyClass>);

impl<'a> SmEntry<'a> {
    fn class(self) -> KeyClass {
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

/// A property's value, borrowed from a [`Properties`] map.
///
/// Strings are [`PropertyValue::Str`]; every other JSON value (numbers,
/// booleans, `null`, arrays, objects) is [`PropertyValue::Json`], which
/// never holds a string. Compares equal to the [`Value`] it stands for.
///
/// ```
/// use nova_sysmeta::{Properties, Value};
/// use nova_sysmeta::map::PropertyValue;
///
/// let props = Properties::try_from_iter([("os_type", Value::from("linux")), ("hw_cpu_cores", Value::from(2))])?;
/// let os_type = props.get("os_type").unwrap();
/// assert_eq!(os_type, PropertyValue::Str("linux"));
/// assert_eq!(os_type.as_str(), Some("linux"));
/// assert_eq!(os_type, Value::from("linux"));
/// let cores = props.get("hw_cpu_cores").unwrap();
/// assert_eq!(cores, 2);
/// assert_eq!(cores.as_str(), None);
/// assert_eq!(cores.to_value(), Value::from(2));
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue<'a> {
    /// A JSON string.
    Str(&'a str),
    /// Any other JSON value.
    Json(&'a Value),
}

impl<'a> PropertyValue<'a> {
    /// The string, when the value is one.
    #[must_use]
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            PropertyValue::Str(s) => Some(s),
            PropertyValue::Json(_) => None,
        }
    }

    /// The value as an owned JSON [`Value`].
    #[must_use]
    pub fn to_value(self) -> Value {
        match self {
            PropertyValue::Str(s) => Value::from(s),
            PropertyValue::Json(v) => v.clone(),
        }
    }

    /// Whether the value is JSON `null`.
    #[must_use]
    pub fn is_null(self) -> bool {
        matches!(self, PropertyValue::Json(Value::Null))
    }

    /// The view of a JSON value.
    #[must_use]
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Str(s) => PropertyValue::Str(s),
            other => PropertyValue::Json(other),
        }
    }
}

impl PropertyValue<'_> {
    /// `safe_truncate(str(value), limit)` appended to `out`, rendering no
    /// more than needed.
    #[inline]
    pub(crate) fn write_python_str_truncated(self, out: &mut String, limit: usize) {
        match self {
            PropertyValue::Str(s) => out.push_str(crate::python::truncate::safe_truncate(s, limit)),
            PropertyValue::Json(v) => crate::python::write_python_str_truncated(out, v, limit),
        }
    }
}

impl PartialEq<Value> for PropertyValue<'_> {
    fn eq(&self, other: &Value) -> bool {
        *self == PropertyValue::of(other)
    }
}

impl PartialEq<PropertyValue<'_>> for Value {
    fn eq(&self, other: &PropertyValue<'_>) -> bool {
        PropertyValue::of(self) == *other
    }
}

/// Equal when the serde_json value converts to this one.
impl PartialEq<serde_json::Value> for PropertyValue<'_> {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_value() == *other
    }
}

impl PartialEq<str> for PropertyValue<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<String> for PropertyValue<'_> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<&str> for PropertyValue<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

/// Compares as [`Value`] compares with these (`value == 2`).
macro_rules! eq_as_json {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for PropertyValue<'_> {
            fn eq(&self, other: &$t) -> bool {
                matches!(self, PropertyValue::Json(v) if *v == other)
            }
        }
    )*};
}

eq_as_json!(i32, i64, u32, u64, usize, f64, bool);

impl From<PropertyValue<'_>> for Value {
    fn from(value: PropertyValue<'_>) -> Value {
        value.to_value()
    }
}

impl Serialize for PropertyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PropertyValue::Str(s) => serializer.serialize_str(s),
            PropertyValue::Json(v) => v.serialize(serializer),
        }
    }
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

    /// The properties Nova reads back from system metadata, then updates
    /// with `extras` (`get_image_from_system_metadata`, then
    /// `properties.update(extras)`): each entry, `image_` prefix stripped,
    /// for which `take(entry)` is true (`take` says no to null values, as
    /// Nova skips `None`). When both `image_x` and `x` are
    /// taken, the later value wins at the earlier place, as in Python.
    ///
    /// The system metadata's text is copied in one piece and shared by the
    /// entries; only keys that may meet another (a key without the prefix,
    /// an extra) are compared, so that no index is built.
    pub(crate) fn from_system_metadata<'e>(
        system_metadata: &SystemMetadata,
        mut take: impl FnMut(SmEntry<'_>) -> bool,
        extras: impl Iterator<Item = (&'e str, PropertyValue<'e>)> + Clone,
    ) -> Properties {
        let extra_count = extras.clone().count();
        let source = system_metadata.text_map();
        // The keys that may meet another: unprefixed keys (when prefixed
        // ones exist) and the extras.
        let mut watch = [""; 2 * FEW];
        let mut watching = 0;
        let mut prefixed = 0;
        for slot in source.slots() {
            if slot.value.is_prefixed() {
                prefixed += 1;
            } else if let Some(watched) = watch.get_mut(watching) {
                *watched = source.key(slot);
                watching += 1;
            }
        }
        let unprefixed = source.slots().len() - prefixed;
        if unprefixed > FEW || extra_count > FEW {
            // Many keys may meet: an index finds them.
            let mut props = Properties::with_capacity(system_metadata.len() + extra_count);
            for slot in source.slots() {
                let entry = SmEntry(Entry::new(source, slot));
                if take(entry) {
                    props.put(entry.name(), PropertyValue::Str(entry.value()), Lookup::Index);
                }
            }
            for (key, value) in extras {
                props.put(key, value, Lookup::Index);
            }
            return props;
        }
        // Without a prefixed key, the unprefixed ones cannot meet.
        if prefixed == 0 {
            watching = 0;
        }
        for ((key, _), watched) in extras.clone().zip(watch.iter_mut().skip(watching)) {
            *watched = key;
            watching += 1;
        }
        let watch = &watch[..watching];
        // One bit per watched name: most entries are ruled out by one test.
        let bloom = watch.iter().fold(0, |mask, name| mask | sketch(name));
        let extra_bytes = extras
            .clone()
            .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
            .sum();
        let (map, mut watched) = TextMap::derive_from(
            source,
            |entry| {
                let entry = SmEntry(entry);
                if !take(entry) {
                    return None;
                }
                let class = entry.class();
                Some(Derived {
                    drop: if class.is_prefixed() {
                        SM_IMAGE_PROP_PREFIX.len()
                    } else {
                        0
                    },
                    value: Stored::Text,
                    watch: bloom & class.sketch() != 0 && watch.contains(&entry.name()),
                })
            },
            (extra_count, extra_bytes),
        );
        let mut props = Properties {
            map,
            json: Vec::new(),
            dead_json: 0,
        };
        props.map.merge_duplicates(&mut watched);
        for (key, value) in extras {
            let found = watched
                .as_slice()
                .iter()
                .copied()
                .find(|&p| props.map.is_at(p, key));
            let slot = props.write(key, value);
            let replaced = props.map.file_at(slot, found);
            if !props.settle(replaced) {
                watched.push(props.map.len() - 1);
            }
        }
        props.compact_if_sparse();
        props
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
            if !kept && matches!(slot.value, Stored::Json(_)) {
                *dead_json += 1;
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

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PropertiesVisitor)
    }
}

struct PropertiesVisitor;

impl<'de> Visitor<'de> for PropertiesVisitor {
    type Value = Properties;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of image properties")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Properties, A::Error> {
        let mut props = Properties::with_capacity(access.size_hint().unwrap_or(0).min(4096));
        // Duplicate keys: the last value wins at the first position.
        while let Some(key) = access.next_key::<crate::python::value::Text<'de>>()? {
            let value = access.next_value::<ValueIn<'de>>()?;
            match value {
                ValueIn::Str(s) => props.put(&key.0, PropertyValue::Str(&s), Lookup::Index),
                ValueIn::Json(v) => props.put_owned(&key.0, v),
            };
        }
        Ok(props)
    }
}

/// A property value read without copying a string the input holds; any
/// other value as [`Value`] reads it (numbers from their text).
enum ValueIn<'de> {
    Str(Cow<'de, str>),
    Json(Value),
}

impl<'de> Deserialize<'de> for ValueIn<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through Value, so that numbers keep their text; a string value
        // then comes back owned, which costs one copy.
        match Value::deserialize(deserializer)? {
            Value::Str(s) => Ok(ValueIn::Str(Cow::Owned(s))),
            other => Ok(ValueIn::Json(other)),
        }
    }
}

/// An image's `properties` attribute as read: a map (or `null`, empty), or
/// any other value, kept for the error that names it.
pub(crate) enum PropertiesIn {
    Properties(Properties),
    Other(Value),
}

impl PropertiesIn {
    /// # Errors
    /// [`Error::TooDeep`](crate::Error::TooDeep) for a value nested too
    /// deeply.
    pub(crate) fn from_value(value: Value) -> CrateResult<Self> {
        Ok(match value {
            Value::Null => PropertiesIn::Properties(Properties::new()),
            Value::Dict(dict) => PropertiesIn::Properties(Properties::try_from(dict)?),
            other => PropertiesIn::Other(other),
        })
    }
}

impl<'de> Deserialize<'de> for PropertiesIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PropertiesIn::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
