//! [`ImageMeta`]: Nova's internal image dict.

use serde::de::Error as _;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::{Error, Result};
use crate::properties::{Properties, PropertiesIn};
use crate::pystr::python_repr;
use crate::system_metadata::Text;
use crate::value::{Dict, Value};

/// Nova's internal image dict: top-level attributes plus a nested
/// `properties` map (Glance v2 itself is flat; `nova/image/glance.py`
/// converts between the two).
///
/// The attributes Nova reads in this crate's flows have fields of their
/// own: the four inheritable keys ([`crate::SM_INHERITABLE_KEYS`]). They
/// hold whatever JSON the image gives, as Nova passes it on (a `min_ram` of
/// `512`, `"512"` or `1.5` is stored as its `str()`); an absent one and a
/// JSON `null` are both `None`, as Nova treats them alike
/// (`image_meta.get(key)` is `None` either way). Every other top-level
/// attribute (`id`, `name`, `visibility`, `status`, `size`, ...) is kept
/// as it came, in order, in [`other`](Self::other): no flow reads it, so
/// no value there makes one fail.
///
/// ```
/// use nova_sysmeta::{ImageMeta, Value};
///
/// let image: ImageMeta = serde_json::from_str(r#"{
///     "id": "7a1c0d3e-0000-4000-8000-000000000001",
///     "min_ram": 512,
///     "disk_format": "qcow2",
///     "status": "active",
///     "visibility": 1024,
///     "properties": {"os_type": "linux", "hw_cpu_cores": 2}
/// }"#)?;
/// assert_eq!(image.min_ram, Some(Value::from(512)));
/// assert_eq!(image.id(), Some("7a1c0d3e-0000-4000-8000-000000000001"));
/// assert_eq!(image.other["status"], "active");
/// assert_eq!(image.other["visibility"], 1024);
/// assert_eq!(image.properties.get("hw_cpu_cores").unwrap(), 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageMeta {
    /// `min_ram` in MiB (inheritable): an integer from Glance, a string
    /// read back from system metadata.
    pub min_ram: Option<Value>,
    /// `min_disk` in GiB (inheritable).
    pub min_disk: Option<Value>,
    /// `disk_format`, e.g. `qcow2`, `raw`, `vhd` (inheritable).
    pub disk_format: Option<Value>,
    /// `container_format`, e.g. `bare`, `ovf` (inheritable).
    pub container_format: Option<Value>,
    /// The nested free-form properties, in order.
    pub properties: Properties,
    /// Every other top-level attribute (`id`, `name`, `visibility`,
    /// `status`, `size`, `owner`, ...), in order, as given.
    pub other: Dict,
}

impl ImageMeta {
    /// The `id` attribute, when it is a string.
    pub fn id(&self) -> Option<&str> {
        self.other.get("id").and_then(Value::as_str)
    }

    /// The `name` attribute, when it is a string.
    ///
    /// ```
    /// use nova_sysmeta::ImageMeta;
    /// let image: ImageMeta = serde_json::from_str(r#"{"name": "cirros"}"#).unwrap();
    /// assert_eq!(image.name(), Some("cirros"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.other.get("name").and_then(Value::as_str)
    }

    /// The `visibility` attribute, when it is a string.
    pub fn visibility(&self) -> Option<&str> {
        self.other.get("visibility").and_then(Value::as_str)
    }
}

/// An image object's attributes as read, checked once all are in (so that
/// with duplicate keys only the last value counts, as in a JSON map).
#[derive(Default)]
struct ImageParts {
    /// `min_ram`, `min_disk`, `disk_format`, `container_format`, in that
    /// order.
    typed: [Option<Value>; 4],
    properties: Option<PropertiesIn>,
    other: Dict,
    /// The typed keys (positions in [`TYPED_KEYS`], 7 for `properties`) in
    /// the order first met: they are checked in that order, so the error
    /// reported is the first in the object, as when reading from a map.
    order: Vec<usize>,
}

/// The top-level attributes [`ImageMeta`] types, in its fields' order.
const TYPED_KEYS: [&str; 4] = ["min_ram", "min_disk", "disk_format", "container_format"];

impl ImageParts {
    /// Where the value of `key` goes, if it is typed (or `properties`).
    fn slot(&mut self, key: &str) -> Option<&mut Option<Value>> {
        let at = TYPED_KEYS.iter().position(|k| *k == key)?;
        self.met(at);
        self.typed.get_mut(at)
    }

    fn set_properties(&mut self, properties: PropertiesIn) {
        self.met(TYPED_KEYS.len());
        self.properties = Some(properties);
    }

    fn met(&mut self, at: usize) {
        if !self.order.contains(&at) {
            self.order.push(at);
        }
    }

    fn into_image(mut self) -> Result<ImageMeta> {
        let mut image = ImageMeta {
            other: std::mem::take(&mut self.other),
            ..ImageMeta::default()
        };
        for at in self.order {
            let value = self
                .typed
                .get_mut(at)
                .and_then(Option::take)
                .unwrap_or(Value::Null);
            let key = TYPED_KEYS.get(at).copied().unwrap_or("properties");
            if at < TYPED_KEYS.len() && value.is_null() {
                // Nova keeps an explicit null (`_translate_to_glance` sends
                // it on); the typed field stays `None`.
                image.other.insert(key.to_owned(), Value::Null);
            }
            let value = Some(value).filter(|v| !v.is_null());
            match at {
                0 => image.min_ram = value,
                1 => image.min_disk = value,
                2 => image.disk_format = value,
                3 => image.container_format = value,
                _ => {
                    image.properties = match self.properties.take() {
                        None => Properties::new(),
                        Some(PropertiesIn::Properties(props)) => props,
                        Some(PropertiesIn::Other(other)) => {
                            return Err(Error::invalid(
                                "properties",
                                format!("expected an object, found {}", python_repr(&other)),
                            ));
                        }
                    }
                }
            }
        }
        Ok(image)
    }
}

impl TryFrom<Dict> for ImageMeta {
    type Error = Error;

    /// Reads a JSON object in Nova's internal image-dict layout.
    fn try_from(map: Dict) -> Result<Self> {
        let mut parts = ImageParts::default();
        for (key, value) in map {
            if key == "properties" {
                parts.set_properties(PropertiesIn::from_value(value)?);
            } else if let Some(slot) = parts.slot(&key) {
                *slot = Some(value);
            } else {
                parts.other.insert(key, value);
            }
        }
        parts.into_image()
    }
}

impl TryFrom<Value> for ImageMeta {
    type Error = Error;

    fn try_from(value: Value) -> Result<Self> {
        match value {
            Value::Dict(map) => ImageMeta::try_from(map),
            other => Err(Error::invalid(
                "image",
                format!("expected an object, found {}", python_repr(&other)),
            )),
        }
    }
}

impl ImageMeta {
    /// Whether an entry of [`other`](Self::other) named `key` stands behind
    /// a typed field that is set (or is `properties`), and so is left out.
    fn shadowed(&self, key: &str) -> bool {
        match key {
            "properties" => true,
            "min_ram" => self.min_ram.is_some(),
            "min_disk" => self.min_disk.is_some(),
            "disk_format" => self.disk_format.is_some(),
            "container_format" => self.container_format.is_some(),
            _ => false,
        }
    }

    /// The image as a JSON object in Nova's layout: typed attributes first,
    /// then the other attributes in order, then `properties`. An entry of
    /// [`other`](Self::other) named `properties`, or like a typed attribute
    /// that is set, is left out (the typed field is the one that counts); a
    /// `null` there stands for an attribute given as `null`.
    pub fn to_dict(&self) -> Dict {
        let mut map = Dict::with_capacity(self.other.len() + 8);
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(key.to_owned(), value);
            }
        };
        put("min_ram", self.min_ram.clone());
        put("min_disk", self.min_disk.clone());
        put("disk_format", self.disk_format.clone());
        put("container_format", self.container_format.clone());
        for (key, value) in self.other.iter().filter(|(k, _)| !self.shadowed(k)) {
            map.insert(key.clone(), value.clone());
        }
        map.insert("properties".to_owned(), Value::from(&self.properties));
        map
    }
}

impl Serialize for ImageMeta {
    /// The same layout as [`ImageMeta::to_dict`], written without
    /// copying the properties.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(m) = &self.min_ram {
            map.serialize_entry("min_ram", m)?;
        }
        if let Some(m) = &self.min_disk {
            map.serialize_entry("min_disk", m)?;
        }
        if let Some(f) = &self.disk_format {
            map.serialize_entry("disk_format", f)?;
        }
        if let Some(f) = &self.container_format {
            map.serialize_entry("container_format", f)?;
        }
        for (key, value) in self.other.iter().filter(|(k, _)| !self.shadowed(k)) {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("properties", &self.properties)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ImageMeta {
    /// Reads the object as [`TryFrom<Dict>`](ImageMeta::try_from) does, with
    /// the same errors, but `properties` straight into [`Properties`]
    /// (strings not copied twice, no `Value` tree).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(ImageVisitor)
    }
}

struct ImageVisitor;

impl<'de> Visitor<'de> for ImageVisitor {
    type Value = ImageMeta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an image object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> std::result::Result<ImageMeta, A::Error> {
        let mut parts = ImageParts::default();
        while let Some(Text(key)) = access.next_key()? {
            if key == "properties" {
                parts.set_properties(access.next_value()?);
            } else if let Some(slot) = parts.slot(&key) {
                *slot = Some(access.next_value()?);
            } else {
                let value = access.next_value()?;
                parts.other.insert(key.into_owned(), value);
            }
        }
        parts.into_image().map_err(A::Error::custom)
    }
}
