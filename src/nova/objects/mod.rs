//! Nova's typed view of image properties: `ImageMetaProps.from_dict` and
//! `ImageMeta.from_dict(get_image_from_system_metadata(..))` (what
//! `ImageMeta.from_instance` builds), release by release.

mod coerce;
pub(crate) mod cpu;
pub(crate) mod schema;
#[rustfmt::skip]
mod table;
mod version;

use indexmap::IndexMap;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::error::{Error, Result};
use crate::model::config::NovaConfig;
use crate::python::value::{Dict, Int, Value};
use crate::storage::properties::Properties;
use crate::storage::system_metadata::SystemMetadata;

pub use cpu::MAX_CPU_IDS;
use schema::Schema;

/// A field's value as Nova's object holds it, after its field coerced it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypedValue {
    /// A string, enum or UUID field.
    Str(String),
    /// A flexible boolean.
    Bool(bool),
    /// An integer field (any size, as Python's `int`).
    Int(Int),
    /// A list of strings (`traits_required`).
    Strings(Vec<String>),
    /// A list of integers (`hw_numa_mem`).
    Ints(Vec<Int>),
    /// A list of sets of integers, each ascending (`hw_numa_cpus`).
    IntSets(Vec<Vec<Int>>),
    /// A list of dicts of nullable strings (`img_mappings`).
    Dicts(Vec<IndexMap<String, Option<String>>>),
}

impl TypedValue {
    /// The value in its primitive form, as `obj_to_primitive` writes it.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let ints = |v: &[Int]| Value::List(v.iter().cloned().map(Value::Int).collect());
        match self {
            TypedValue::Str(s) => Value::Str(s.clone()),
            TypedValue::Bool(b) => Value::Bool(*b),
            TypedValue::Int(i) => Value::Int(i.clone()),
            TypedValue::Strings(v) => Value::List(v.iter().cloned().map(Value::Str).collect()),
            TypedValue::Ints(v) => ints(v),
            TypedValue::IntSets(v) => Value::List(v.iter().map(|s| ints(s)).collect()),
            TypedValue::Dicts(v) => Value::List(
                v.iter()
                    .map(|d| {
                        let mut dict = Dict::default();
                        for (k, s) in d {
                            dict.insert(k.clone(), s.clone().map_or(Value::Null, Value::Str));
                        }
                        Value::Dict(dict)
                    })
                    .collect(),
            ),
        }
    }

    /// The string of a string, enum or UUID field.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TypedValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for TypedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// What Nova's `ImageMetaProps.from_dict` makes of an image's properties:
/// the fields that are set, in the release's field order.
///
/// Serializes as `obj_to_primitive()["nova_object.data"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMetaProps {
    schema: &'static Schema,
    values: Vec<Option<TypedValue>>,
}

impl ImageMetaProps {
    fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            values: vec![None; schema.fields.len()],
        }
    }

    /// The value of field `name`, when it is set.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&TypedValue> {
        let at = self.schema.fields.iter().position(|f| f.name == name)?;
        self.values.get(at)?.as_ref()
    }

    /// The fields that are set, with their values, in the release's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &TypedValue)> + '_ {
        self.schema
            .fields
            .iter()
            .zip(&self.values)
            .filter_map(|(f, v)| Some((f.name, v.as_ref()?)))
    }

    /// How many fields are set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }

    /// Whether no field is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The release's schema these values follow.
    #[must_use]
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    fn set(&mut self, name: &str, value: &Value) -> Result<()> {
        match self.schema.fields.iter().position(|f| f.name == name) {
            Some(at) => self.set_at(at, value),
            None => Ok(()),
        }
    }

    fn set_at(&mut self, at: usize, value: &Value) -> Result<()> {
        let Some(field) = self.schema.fields.get(at) else {
            return Ok(());
        };
        let typed = coerce::coerce(&field.kind, field.name, value)
            .map_err(|reason| refused(field.name, value, reason))?;
        if let Some(slot) = self.values.get_mut(at) {
            *slot = Some(typed);
        }
        Ok(())
    }

    fn set_typed(&mut self, name: &str, value: TypedValue) {
        if let Some(at) = self.schema.fields.iter().position(|f| f.name == name) {
            self.values[at] = Some(value);
        }
    }
}

impl Serialize for ImageMetaProps {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The error for a value Nova's field refuses.
fn refused(name: &str, value: &Value, reason: String) -> Error {
    Error::InvalidValue {
        key: name.to_owned(),
        reason: format!("{} is refused: {reason}", crate::python::repr(value)),
    }
}

/// The input of [`image_meta_props`]: an image's properties, as Glance
/// stores them (name to value).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PropsRequest<'a> {
    /// The image's properties.
    pub properties: &'a Properties,
    /// The release (and `nova.conf`); only the release is read.
    pub config: NovaConfig,
}

impl<'a> PropsRequest<'a> {
    /// A request for the newest modelled release; see [`PropsRequest::config`].
    #[must_use]
    pub fn new(properties: &'a Properties) -> Self {
        Self {
            properties,
            config: NovaConfig::default(),
        }
    }

    /// The release whose fields and values are used.
    #[must_use]
    pub fn config(mut self, config: &NovaConfig) -> Self {
        self.config = config.clone();
        self
    }
}

/// Nova's `ImageMetaProps.from_dict(properties)`: would the release accept
/// this image, and what does it make of it? Unknown names are dropped,
/// legacy names mapped (`architecture` is read as `hw_architecture`),
/// `hw_numa_cpus.N`/`hw_numa_mem.N` gathered, and `trait:NAME` set to
/// `required` listed in `traits_required`.
///
/// # Errors
///
/// [`Error::InvalidValue`] naming the property, the value and Nova's
/// message, where Nova raises; [`Error::CpuSetTooLarge`] for a
/// `hw_numa_cpus.N` spec of more than [`MAX_CPU_IDS`] ids, which Nova
/// builds one id at a time and the crate refuses.
///
/// ```
/// use nova_sysmeta::{NovaConfig, Properties, Release, objects};
///
/// let props: Properties = serde_json::from_str(
///     r#"{"hw_disk_bus": "virtio", "hw_qemu_guest_agent": "YES", "hw_numa_cpus.0": "0-3,^2", "os_type": "Windows"}"#)?;
/// let typed = objects::image_meta_props(&objects::PropsRequest::new(&props))?;
/// assert_eq!(serde_json::to_string(&typed)?,
///     r#"{"hw_disk_bus":"virtio","hw_numa_cpus":[[0,1,3]],"hw_qemu_guest_agent":true,"os_type":"windows"}"#);
///
/// // A value the release's field refuses: Nova raises, and so does the crate.
/// let bad: Properties = serde_json::from_str(r#"{"hw_video_model": "bochs"}"#)?;
/// let ussuri = NovaConfig::for_release(Release::new(21, 2, 4)?);
/// let err = objects::image_meta_props(&objects::PropsRequest::new(&bad).config(&ussuri)).unwrap_err();
/// assert_eq!(err.kind(), "invalid_value");
/// assert!(objects::image_meta_props(&objects::PropsRequest::new(&bad)).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn image_meta_props(request: &PropsRequest<'_>) -> Result<ImageMetaProps> {
    let props = request.properties;
    let schema = Schema::of(request.config.release);
    // Fewer properties than fields: look each property up, instead of
    // each field and legacy name (Nova's loop, below, which also gives
    // Nova's first error when the fast path meets one).
    if props.len() < schema.fields.len()
        && let Some(out) = by_entries(props, schema)
    {
        return Ok(out);
    }
    by_fields(props, schema)
}

/// Where a property name goes in a schema: the field it names, the legacy
/// name it is (its place in the legacy map).
#[derive(Clone, Copy, Default)]
struct Slot {
    field: Option<usize>,
    legacy: Option<usize>,
}

fn slots(schema: &'static Schema) -> &'static std::collections::HashMap<&'static str, Slot> {
    static ALL: std::sync::OnceLock<Vec<std::collections::HashMap<&'static str, Slot>>> =
        std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        table::SCHEMAS
            .iter()
            .map(|s| {
                let mut map: std::collections::HashMap<&'static str, Slot> = std::collections::HashMap::new();
                for (i, f) in s.fields.iter().enumerate() {
                    map.entry(f.name).or_default().field = Some(i);
                }
                for (i, (old, _)) in s.legacy.iter().enumerate() {
                    map.entry(old).or_default().legacy = Some(i);
                }
                map
            })
            .collect()
    });
    let at = table::SCHEMAS
        .iter()
        .position(|s| std::ptr::eq(s, schema))
        .unwrap_or(0);
    &all[at]
}

/// `from_dict` by one pass over the properties; `None` when Nova would
/// raise (the caller then runs Nova's own order for its first error).
fn by_entries(props: &Properties, schema: &'static Schema) -> Option<ImageMetaProps> {
    let slots = slots(schema);
    let mut out = ImageMetaProps::new(schema);
    let mut legacy: Vec<(usize, Value)> = Vec::new();
    let mut current: Vec<(usize, Value)> = Vec::new();
    let (mut numa, mut adapter, mut traits) = (false, false, Vec::new());
    for (key, value) in props.iter() {
        if let Some(slot) = slots.get(key) {
            if let Some(i) = slot.legacy {
                legacy.push((i, value.to_value()));
            }
            if let Some(i) = slot.field {
                let name = schema.fields[i].name;
                if !matches!(name, "hw_numa_mem" | "hw_numa_cpus" | "traits_required") {
                    current.push((i, value.to_value()));
                }
            }
        }
        numa |= key.starts_with("hw_numa_");
        adapter |= key == "vmware_adaptertype";
        if schema.traits && key.starts_with("trait:") && value.as_str() == Some("required") {
            traits.push(key.get("trait:".len()..).unwrap_or_default().to_owned());
        }
    }
    legacy.sort_by_key(|(i, _)| *i);
    for (i, v) in &legacy {
        out.set(schema.legacy[*i].1, v).ok()?;
    }
    if adapter {
        vmware_adaptertype(&mut out, props).ok()?;
    }
    for (i, v) in &current {
        out.set_at(*i, v).ok()?;
    }
    if numa {
        numa_cells(&mut out, props, schema).ok()?;
    }
    if !traits.is_empty() {
        out.set_typed("traits_required", TypedValue::Strings(traits));
    }
    Some(out)
}

fn vmware_adaptertype(out: &mut ImageMetaProps, props: &Properties) -> Result<()> {
    match props.get("vmware_adaptertype").map(|v| v.to_value()) {
        Some(Value::Str(s)) if s == "ide" => out.set("hw_disk_bus", &Value::Str(s)),
        Some(v) if crate::python::python_truthy(&v) => {
            out.set("hw_disk_bus", &Value::Str("scsi".to_owned()))?;
            out.set("hw_scsi_model", &v)
        }
        _ => Ok(()),
    }
}

/// `_set_numa_mem` and `_set_numa_cpus`: cells 0, 1, ... up to the first missing.
fn numa_cells(out: &mut ImageMetaProps, props: &Properties, schema: &Schema) -> Result<()> {
    numa_mem(out, props, schema)?;
    numa_cpus(out, props, schema)
}

fn numa_mem(out: &mut ImageMetaProps, props: &Properties, schema: &Schema) -> Result<()> {
    let mut mem = Vec::new();
    for cell in 0..schema.numa_nodes_max {
        let key = format!("hw_numa_mem.{cell}");
        let Some(v) = props.get(&key).map(|v| v.to_value()) else {
            break;
        };
        mem.push(coerce::integer(&v).map_err(|reason| refused(&key, &v, reason))?);
    }
    if !mem.is_empty() {
        out.set_typed("hw_numa_mem", TypedValue::Ints(mem));
    }
    Ok(())
}

fn numa_cpus(out: &mut ImageMetaProps, props: &Properties, schema: &Schema) -> Result<()> {
    let mut cpus = Vec::new();
    let mut budget = MAX_CPU_IDS;
    for cell in 0..schema.numa_nodes_max {
        let key = format!("hw_numa_cpus.{cell}");
        let Some(v) = props.get(&key).map(|v| v.to_value()) else {
            break;
        };
        let ids = cpu::parse_cpu_spec(&v, &mut budget).map_err(|e| match e {
            cpu::SpecError::Nova(reason) => refused(&key, &v, reason),
            cpu::SpecError::TooLarge => Error::CpuSetTooLarge {
                key: key.clone(),
                limit: MAX_CPU_IDS,
            },
        })?;
        cpus.push(ids);
    }
    if !cpus.is_empty() {
        out.set_typed("hw_numa_cpus", TypedValue::IntSets(cpus));
    }
    Ok(())
}

/// `from_dict` in Nova's own order: legacy names, `vmware_adaptertype`,
/// every field, traits.
fn by_fields(props: &Properties, schema: &'static Schema) -> Result<ImageMetaProps> {
    let mut out = ImageMetaProps::new(schema);
    // _set_attr_from_legacy_names
    for (legacy, current) in schema.legacy {
        if let Some(v) = props.get(legacy) {
            out.set(current, &v.to_value())?;
        }
    }
    vmware_adaptertype(&mut out, props)?;
    // _set_attr_from_current_names, the NUMA cells at their fields' places
    for (at, field) in schema.fields.iter().enumerate() {
        match field.name {
            "hw_numa_mem" => numa_mem(&mut out, props, schema)?,
            "hw_numa_cpus" => numa_cpus(&mut out, props, schema)?,
            "traits_required" => {}
            name => {
                if let Some(v) = props.get(name) {
                    out.set_at(at, &v.to_value())?;
                }
            }
        }
    }
    // _set_attr_from_trait_names
    if schema.traits {
        let traits: Vec<String> = props
            .iter()
            .filter(|(k, v)| k.starts_with("trait:") && v.as_str() == Some("required"))
            .map(|(k, _)| k.get("trait:".len()..).unwrap_or_default().to_owned())
            .collect();
        if !traits.is_empty() {
            out.set_typed("traits_required", TypedValue::Strings(traits));
        }
    }
    Ok(out)
}

/// What Nova's `ImageMeta.from_instance` builds from system metadata:
/// the image attributes the system metadata keeps, typed, and the typed
/// properties.
///
/// Serializes as `obj_to_primitive()["nova_object.data"]`, with
/// `properties` as its own data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageMeta {
    /// `id`: the instance's `image_ref`, when [`MetaRequest::image_ref`]
    /// gives one (`from_instance` adds it; the system metadata has none).
    pub id: Option<String>,
    /// `min_ram`, when the system metadata has it.
    pub min_ram: Option<Int>,
    /// `min_disk`, when the system metadata has it.
    pub min_disk: Option<Int>,
    /// `disk_format`, when the system metadata has it.
    pub disk_format: Option<String>,
    /// `container_format`, when the system metadata has it.
    pub container_format: Option<String>,
    /// The typed properties.
    pub properties: ImageMetaProps,
}

impl Serialize for ImageMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(v) = &self.id {
            map.serialize_entry("id", v)?;
        }
        if let Some(v) = &self.container_format {
            map.serialize_entry("container_format", v)?;
        }
        if let Some(v) = &self.disk_format {
            map.serialize_entry("disk_format", v)?;
        }
        if let Some(v) = &self.min_ram {
            map.serialize_entry("min_ram", &Value::Int(v.clone()))?;
        }
        if let Some(v) = &self.min_disk {
            map.serialize_entry("min_disk", &Value::Int(v.clone()))?;
        }
        map.serialize_entry("properties", &self.properties)?;
        map.end()
    }
}

impl ImageMeta {
    /// The object as `obj_to_primitive()` gives it, as Nova stores it in a
    /// `request_specs` row's `image`: versioned envelopes, each with the
    /// fields set as its changes (sorted), the properties nested the same.
    ///
    /// ```
    /// use nova_sysmeta::{SystemMetadata, objects};
    /// let sm: SystemMetadata = serde_json::from_str(r#"{"image_hw_disk_bus": "virtio"}"#)?;
    /// let meta = objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&sm).image_ref("i-1"))?;
    /// let p = meta.to_primitive();
    /// assert_eq!(p["nova_object.name"], "ImageMeta");
    /// assert_eq!(p["nova_object.data"]["id"], "i-1");
    /// assert_eq!(p["nova_object.data"]["properties"]["nova_object.version"], "1.44");
    /// assert_eq!(p["nova_object.data"]["properties"]["nova_object.data"]["hw_disk_bus"], "virtio");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_primitive(&self) -> serde_json::Value {
        let envelope = |name: &str, version: &str, data: serde_json::Map<String, serde_json::Value>| {
            let mut changes: Vec<&String> = data.keys().collect();
            changes.sort();
            let changes: Vec<serde_json::Value> = changes
                .into_iter()
                .map(|k| serde_json::Value::from(k.as_str()))
                .collect();
            serde_json::json!({
                "nova_object.name": name,
                "nova_object.namespace": "nova",
                "nova_object.version": version,
                "nova_object.data": data,
                "nova_object.changes": changes,
            })
        };
        let as_map = |v: serde_json::Value| match v {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let props = as_map(serde_json::to_value(&self.properties).unwrap_or_default());
        let mut data = as_map(serde_json::to_value(self).unwrap_or_default());
        data.insert(
            "properties".to_owned(),
            envelope("ImageMetaProps", self.properties.schema.version, props),
        );
        envelope("ImageMeta", self.properties.schema.image_meta_version, data)
    }
}

/// The input of [`image_meta_from_system_metadata`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetaRequest<'a> {
    /// The instance's system metadata.
    pub system_metadata: &'a SystemMetadata,
    /// The instance's `image_ref`, which `from_instance` gives as `id`.
    pub image_ref: Option<&'a str>,
    /// The release (and `nova.conf`); only the release is read.
    pub config: NovaConfig,
}

impl<'a> MetaRequest<'a> {
    /// A request for the newest modelled release; see [`MetaRequest::config`].
    #[must_use]
    pub fn new(system_metadata: &'a SystemMetadata) -> Self {
        Self {
            system_metadata,
            image_ref: None,
            config: NovaConfig::default(),
        }
    }

    /// The instance's `image_ref`: `ImageMeta.from_instance` gives it as
    /// `id` (an empty one, as Nova's `if instance.image_ref`, is not).
    #[must_use]
    pub fn image_ref(mut self, image_ref: &'a str) -> Self {
        self.image_ref = Some(image_ref);
        self
    }

    /// The release whose fields and values are used.
    #[must_use]
    pub fn config(mut self, config: &NovaConfig) -> Self {
        self.config = config.clone();
        self
    }
}

/// Nova's `ImageMeta.from_dict(utils.get_image_from_system_metadata(sm))`:
/// what the virt driver sees of an instance's image. An instance whose
/// image metadata the release cannot type can no longer be hard-rebooted,
/// migrated, resized, rebuilt or unshelved.
///
/// # Errors
///
/// As [`image_meta_props`], and [`Error::InvalidValue`] for a `min_ram` or
/// `min_disk` that is not an integer.
///
/// ```
/// use nova_sysmeta::{SystemMetadata, objects};
///
/// let sm: SystemMetadata = serde_json::from_str(
///     r#"{"image_min_ram": "512", "image_hw_disk_bus": "scsi", "image_hw_scsi_model": "virtio-scsi", "owner_user_name": "alice"}"#)?;
/// let meta = objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&sm))?;
/// assert_eq!(meta.min_ram.as_ref().and_then(|i| i.as_i64()), Some(512));
/// assert_eq!(meta.properties.get("hw_scsi_model").and_then(|v| v.as_str()), Some("virtio-scsi"));
///
/// let broken: SystemMetadata = serde_json::from_str(r#"{"image_hw_disk_bus": "nvme"}"#)?;
/// assert!(objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&broken)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn image_meta_from_system_metadata(request: &MetaRequest<'_>) -> Result<ImageMeta> {
    let image = crate::nova::convert::image_from_system_metadata(request.system_metadata);
    let schema = Schema::of(request.config.release);
    let attribute = |name: &'static str, value: &Option<Value>| -> Result<Option<TypedValue>> {
        let Some(value) = value else { return Ok(None) };
        let Some(field) = schema.image_meta_fields.iter().find(|f| f.name == name) else {
            return Ok(None);
        };
        coerce::coerce(&field.kind, name, value)
            .map(Some)
            .map_err(|reason| refused(name, value, reason))
    };
    let int = |v: Option<TypedValue>| match v {
        Some(TypedValue::Int(i)) => Some(i),
        _ => None,
    };
    let text = |v: Option<TypedValue>| match v {
        Some(TypedValue::Str(s)) => Some(s),
        _ => None,
    };
    // Nova types the properties first, then the attributes.
    let properties = image_meta_props(&PropsRequest::new(&image.properties).config(&request.config))?;
    let container_format = text(attribute("container_format", &image.container_format)?);
    let disk_format = text(attribute("disk_format", &image.disk_format)?);
    let min_ram = int(attribute("min_ram", &image.min_ram)?);
    let min_disk = int(attribute("min_disk", &image.min_disk)?);
    let id = request.image_ref.filter(|r| !r.is_empty()).map(str::to_owned);
    Ok(ImageMeta {
        id,
        min_ram,
        min_disk,
        disk_format,
        container_format,
        properties,
    })
}
