//! [`ImageMeta`]: Nova's internal image dict.

use serde::de::Error as _;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::{Error, Result};
use crate::python::repr;
use crate::python::value::Text;
use crate::python::value::{Dict, Value};
use crate::storage::properties::{Properties, PropertiesIn};

/// Nova's internal image dict: top-level attributes plus a nested
/// `properties` map (Glance v2 itself is flat; `nova/image/glance.py`
/// converts between the two, see [`crate::glance::from_glance`]).
///
/// The attributes the flows read or write have fields of their own: `id`,
/// `name`, `visibility` and the four inheritable keys
/// ([`crate::keys::SM_INHERITABLE_KEYS`]). Each holds whatever JSON the image
/// gives, as Nova passes it on (a `min_ram` of `512`, `"512"` or `1.5` is
/// stored as its `str()`, a `visibility` of `1024` goes to Glance as it
/// is), so no value there makes a flow fail: `None` is an absent attribute,
/// `Some(Value::Null)` one given as `null` (Nova's `image_meta.get(key)`
/// treats them alike, and `to_glance` sends the null on). Every other
/// top-level attribute (`status`, `size`, `owner`, ...) is kept as it came,
/// in order, in [`other`](Self::other).
///
/// A Glance v2 image body is not this shape (its properties are top-level
/// keys): reading one as an `ImageMeta` is refused; read it with
/// [`crate::glance::from_glance`].
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
/// assert_eq!(image.visibility, Some(Value::from(1024)));
/// assert_eq!(image.other["status"], "active");
/// assert_eq!(image.properties.get("hw_cpu_cores").unwrap(), 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ImageMeta {
    /// The image's id (a UUID in Glance).
    pub id: Option<Value>,
    /// The image's name.
    pub name: Option<Value>,
    /// `min_ram` in MiB (inheritable): an integer from Glance, a string
    /// read back from system metadata.
    pub min_ram: Option<Value>,
    /// `min_disk` in GiB (inheritable).
    pub min_disk: Option<Value>,
    /// `disk_format`, e.g. `qcow2`, `raw`, `vhd` (inheritable).
    pub disk_format: Option<Value>,
    /// `container_format`, e.g. `bare`, `ovf` (inheritable).
    pub container_format: Option<Value>,
    /// Glance visibility (`private` or `shared` on a new snapshot).
    pub visibility: Option<Value>,
    /// The nested free-form properties, in order.
    pub properties: Properties,
    /// Every other top-level attribute (`status`, `size`, `owner`, ...), in
    /// order, as given. An entry named like a field or `properties` is left
    /// out when the image is written (the field is the one that counts).
    pub other: Dict,
}

/// The top-level attributes with a field, in the fields' order.
const FIELDS: [&str; 7] = [
    "id",
    "name",
    "min_ram",
    "min_disk",
    "disk_format",
    "container_format",
    "visibility",
];

/// Attributes only Glance's own image bodies have: Nova's dict never holds
/// them (`_extract_attributes_v2` leaves them out).
const GLANCE_ONLY: [&str; 3] = ["schema", "self", "file"];

impl ImageMeta {
    /// The `id` attribute, when it is a string.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.id.as_ref().and_then(Value::as_str)
    }

    /// The `name` attribute, when it is a string.
    ///
    /// ```
    /// use nova_sysmeta::ImageMeta;
    /// let image: ImageMeta = serde_json::from_str(r#"{"name": "cirros"}"#).unwrap();
    /// assert_eq!(image.name(), Some("cirros"));
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().and_then(Value::as_str)
    }

    /// An image with no attributes and no properties (as `Default`).
    ///
    /// ```
    /// use nova_sysmeta::{ImageMeta, Properties};
    /// let image = ImageMeta::new().with_id("img-a").with_properties([("os_distro", "debian")].into_iter().collect());
    /// assert_eq!(image.id(), Some("img-a"));
    /// assert_eq!(image.properties.get_str("os_distro"), Some("debian"));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The same image with this `id`.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(Value::Str(id.into()));
        self
    }

    /// The same image with these properties.
    #[must_use]
    pub fn with_properties(mut self, properties: Properties) -> Self {
        self.properties = properties;
        self
    }

    /// The `visibility` attribute, when it is a string.
    #[must_use]
    pub fn visibility(&self) -> Option<&str> {
        self.visibility.as_ref().and_then(Value::as_str)
    }

    /// The `base_image_ref` property, when it is a string: the image this
    /// one descends from ([`keys::BASE_IMAGE_REF`](crate::keys::BASE_IMAGE_REF)).
    #[must_use]
    pub fn base_image_ref(&self) -> Option<&str> {
        self.properties.get_str(crate::nova::keys::BASE_IMAGE_REF)
    }

    /// The fields, in order, with their attribute names.
    fn fields(&self) -> [(&'static str, Option<&Value>); 7] {
        [
            ("id", self.id.as_ref()),
            ("name", self.name.as_ref()),
            ("min_ram", self.min_ram.as_ref()),
            ("min_disk", self.min_disk.as_ref()),
            ("disk_format", self.disk_format.as_ref()),
            ("container_format", self.container_format.as_ref()),
            ("visibility", self.visibility.as_ref()),
        ]
    }

    fn field_mut(&mut self, at: usize) -> Option<&mut Option<Value>> {
        match at {
            0 => Some(&mut self.id),
            1 => Some(&mut self.name),
            2 => Some(&mut self.min_ram),
            3 => Some(&mut self.min_disk),
            4 => Some(&mut self.disk_format),
            5 => Some(&mut self.container_format),
            6 => Some(&mut self.visibility),
            _ => None,
        }
    }

    /// Whether an entry of [`other`](Self::other) is written: not when it
    /// is named like a field or `properties`.
    fn writes_other(key: &str) -> bool {
        key != "properties" && !FIELDS.contains(&key)
    }

    /// The image as a JSON object in Nova's layout: the fields that are
    /// present first (`null` ones as `null`), then the other attributes in
    /// order, then `properties`.
    #[must_use]
    pub fn to_dict(&self) -> Dict {
        let mut map = Dict::with_capacity(self.other.len() + 8);
        for (key, value) in self.fields() {
            if let Some(value) = value {
                map.insert(key.to_owned(), value.clone());
            }
        }
        for (key, value) in self.other.iter().filter(|(k, _)| Self::writes_other(k)) {
            map.insert(key.clone(), value.clone());
        }
        map.insert("properties".to_owned(), Value::from(&self.properties));
        map
    }
}

/// An attribute's value when it is given and not `null` (Nova's
/// `image_meta.get(key)` is `None` for both).
pub(crate) fn given(value: &Option<Value>) -> Option<&Value> {
    value.as_ref().filter(|v| !v.is_null())
}

/// An image object's attributes as read; `properties` is checked once all
/// are in (with duplicate keys only the last value counts, as in a map).
#[derive(Default)]
struct ImageParts {
    image: ImageMeta,
    properties: Option<PropertiesIn>,
    /// Whether a key only Glance's bodies have was met.
    glance_key: Option<String>,
}

impl ImageParts {
    fn put(&mut self, key: &str, value: Value) {
        match FIELDS.iter().position(|k| *k == key) {
            Some(at) => {
                if let Some(field) = self.image.field_mut(at) {
                    *field = Some(value);
                }
            }
            None => {
                if GLANCE_ONLY.contains(&key) {
                    self.glance_key.get_or_insert_with(|| key.to_owned());
                }
                self.image.other.insert(key.to_owned(), value);
            }
        }
    }

    fn into_image(self) -> Result<ImageMeta> {
        let mut image = self.image;
        if let Some(key) = self.glance_key {
            return Err(Error::GlanceBody { attribute: key });
        }
        image.properties = match self.properties {
            None => Properties::new(),
            Some(PropertiesIn::Properties(props)) => props,
            Some(PropertiesIn::Other(other)) => {
                return Err(Error::invalid(
                    "properties",
                    format!("expected an object, found {}", repr(&other)),
                ));
            }
        };
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
                parts.properties = Some(PropertiesIn::from_value(value)?);
            } else {
                parts.put(&key, value);
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
                format!("expected an object, found {}", repr(&other)),
            )),
        }
    }
}

impl Serialize for ImageMeta {
    /// The same layout as [`ImageMeta::to_dict`], written without copying
    /// anything.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.fields() {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        for (key, value) in self.other.iter().filter(|(k, _)| Self::writes_other(k)) {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("properties", &self.properties)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ImageMeta {
    /// Reads the object as [`TryFrom<Dict>`](ImageMeta::try_from) does, with
    /// the same errors, but `properties` straight into [`Properties`].
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
                parts.properties = Some(access.next_value()?);
            } else {
                let value = access.next_value()?;
                parts.put(&key, value);
            }
        }
        parts.into_image().map_err(A::Error::custom)
    }
}
