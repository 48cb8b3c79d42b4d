//! Glance v2 interop: Nova's image dict to the flat Glance v2 body and back
//! (`_translate_to_glance`, `_translate_from_glance` in
//! nova/image/glance.py).

use crate::error::{Error, Result};
use crate::model::image::ImageMeta;
use crate::nova::upload::is_unset_kernel_or_ramdisk;
use crate::python::value::{Dict, Value};
use crate::python::{json_dumps, python_int_of_value, python_truthy, repr, to_str};

/// Properties Nova stores in Glance as JSON text (`_CONVERT_PROPS`).
pub const JSON_PROPERTIES: [&str; 2] = ["block_device_mapping", "mappings"];

/// Attributes Glance manages itself, never sent (`_remove_read_only`).
const READ_ONLY: [&str; 4] = ["status", "updated_at", "created_at", "deleted_at"];

/// Base properties of the image schema the Glance server publishes
/// (`get_base_properties` in glance/api/v2/images.py): these stay
/// top-level attributes, every other key of a Glance image is a property in
/// Nova's dict.
pub const GLANCE_BASE_PROPERTIES: [&str; 25] = [
    "checksum",
    "container_format",
    "created_at",
    "direct_url",
    "disk_format",
    "file",
    "id",
    "locations",
    "min_disk",
    "min_ram",
    "name",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
    "owner",
    "protected",
    "schema",
    "self",
    "size",
    "status",
    "stores",
    "tags",
    "updated_at",
    "virtual_size",
    "visibility",
];

/// Attributes `_extract_attributes_v2` leaves out of Nova's dict (the
/// location ones unless locations were asked for, which this crate never
/// does).
const OMITTED: [&str; 8] = [
    "self",
    "schema",
    "protected",
    "virtual_size",
    "file",
    "tags",
    "direct_url",
    "locations",
];

/// The Glance v2 request body for a Nova image dict (`_translate_to_glance`).
///
/// `block_device_mapping` and `mappings` properties that are not strings are
/// JSON-encoded (as Python's `json.dumps` writes them); read-only attributes
/// (`status`, `created_at`, `updated_at`, `deleted_at`) and `size`/`deleted`
/// are dropped; `is_public` becomes `visibility`; `min_ram`/`min_disk`
/// become integers (Python's `int()`); properties are flattened into the
/// body, strings and nulls as they are, other values as Python's `str()`;
/// a `kernel_id`/`ramdisk_id` that is empty or `none` is left out.
///
/// Attributes are taken in [`ImageMeta`]'s order (typed attributes, the
/// others in order, then the properties), so a property named like a
/// top-level attribute wins; images read from Glance never have both.
///
/// # Errors
/// [`Error::NotAnInteger`] for a `min_ram`/`min_disk` string Python's
/// `int()` refuses; [`Error::InvalidValue`] for a non-string `kernel_id` or
/// `ramdisk_id` (Nova fails calling `.strip()` on it).
///
/// ```
/// use nova_sysmeta::ImageMeta;
/// use nova_sysmeta::glance::to_glance;
///
/// let image: ImageMeta = serde_json::from_str(r#"{
///     "name": "snap", "min_ram": "512", "status": "queued", "is_public": false, "size": 0,
///     "properties": {"hw_rng": true, "block_device_mapping": [{"boot_index": 0}], "kernel_id": "None"}
/// }"#)?;
/// assert_eq!(serde_json::to_string(&to_glance(&image)?)?,
///     r#"{"name":"snap","min_ram":512,"visibility":"private","hw_rng":"True","block_device_mapping":"[{\"boot_index\": 0}]"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "the Glance body is the result"]
pub fn to_glance(image: &ImageMeta) -> Result<Dict> {
    let nova = image.to_dict();
    let mut out = Dict::with_capacity(nova.len() + image.properties.len());
    for (name, value) in nova {
        match name.as_str() {
            "properties" => {
                let Value::Dict(properties) = value else {
                    continue;
                };
                for (key, value) in properties {
                    put_property(&mut out, key, value)?;
                }
            }
            "min_ram" | "min_disk" => {
                let n = python_int_of(&name, &value)?;
                out.insert(name, Value::Int(n));
            }
            "is_public" => {
                let public = python_truthy(&value);
                out.insert(
                    "visibility".to_owned(),
                    Value::from(if public { "public" } else { "private" }),
                );
            }
            "size" | "deleted" => {}
            n if READ_ONLY.contains(&n) => {}
            _ => {
                out.insert(name, value);
            }
        }
    }
    Ok(out)
}

fn put_property(out: &mut Dict, key: String, value: Value) -> Result<()> {
    if matches!(key.as_str(), "kernel_id" | "ramdisk_id") && !matches!(value, Value::Str(_) | Value::Null) {
        return Err(Error::invalid(
            key,
            format!("expected a string, found {}", repr(&value)),
        ));
    }
    if is_unset_kernel_or_ramdisk(&key, &value) {
        return Ok(());
    }
    let value = match value {
        // _convert_to_string: mappings that are not text travel as JSON
        // text, null included ("null").
        Value::Str(_) => value,
        other if JSON_PROPERTIES.contains(&key.as_str()) => Value::from(json_dumps(&other)),
        Value::Null => Value::Null,
        other => Value::from(to_str(&other)),
    };
    out.insert(key, value);
    Ok(())
}

/// Python's `int(value)` of a `min_ram`/`min_disk` attribute.
fn python_int_of(key: &str, value: &Value) -> Result<crate::python::value::Int> {
    python_int_of_value(value).ok_or_else(|| Error::NotAnInteger {
        key: key.to_owned(),
        found: repr(value),
    })
}

/// Nova's image dict for a Glance v2 image body (`_translate_from_glance`),
/// with timestamps left as strings.
///
/// Base properties of Glance's schema ([`GLANCE_BASE_PROPERTIES`]) stay
/// top-level, except the ones Nova omits (`self`, `schema`, `file`, `tags`,
/// `protected`, `virtual_size`, `direct_url`, `locations`); `visibility`
/// becomes `is_public`; a null `size` becomes 0; every other key becomes a
/// property, and `block_device_mapping`/`mappings` properties given as
/// JSON text are decoded. Nova's defaults `deleted = false` and
/// `deleted_at`, `checksum` = null are added; `name`, `disk_format` and
/// `container_format` default to `null` (Nova's `None`).
///
/// # Errors
/// [`Error::InvalidValue`] for a `block_device_mapping`/`mappings` string
/// that is not JSON, and for attributes of the wrong type (see
/// [`ImageMeta`]).
///
/// ```
/// use nova_sysmeta::{Value, python::value::Dict};
/// use nova_sysmeta::glance::from_glance;
///
/// let body: Dict = serde_json::from_str(r#"{"id": "i-1", "name": "cirros", "visibility": "public",
///     "min_ram": 64, "tags": [], "os_distro": "cirros", "mappings": "[{\"device\": \"vda\"}]"}"#)?;
/// let image = from_glance(&body)?;
/// assert_eq!(image.other["is_public"], true);
/// assert_eq!(image.min_ram, Some(Value::from(64)));
/// assert_eq!(image.properties.get("os_distro").unwrap(), "cirros");
/// assert_eq!(image.properties.get("mappings").unwrap().to_value(), Value::from_json(r#"[{"device": "vda"}]"#)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "the image is the result"]
pub fn from_glance(body: &Dict) -> Result<ImageMeta> {
    // `_extract_attributes_v2`'s starting dict.
    let mut out = Dict::with_capacity(body.len() + 8);
    out.insert("deleted".to_owned(), Value::Bool(false));
    out.insert("deleted_at".to_owned(), Value::Null);
    out.insert("disk_format".to_owned(), Value::Null);
    out.insert("container_format".to_owned(), Value::Null);
    out.insert("name".to_owned(), Value::Null);
    out.insert("checksum".to_owned(), Value::Null);
    let mut properties = Dict::new();
    for (name, value) in body {
        match name.as_str() {
            n if OMITTED.contains(&n) => {}
            "visibility" => {
                out.insert(
                    "is_public".to_owned(),
                    Value::Bool(value.as_str() == Some("public")),
                );
            }
            "size" if value.is_null() => {
                out.insert(name.clone(), Value::from(0));
            }
            n if GLANCE_BASE_PROPERTIES.contains(&n) => {
                out.insert(name.clone(), value.clone());
            }
            _ => {
                properties.insert(name.clone(), value.clone());
            }
        }
    }
    for key in JSON_PROPERTIES {
        if let Some(Value::Str(text)) = properties.get(key) {
            let decoded =
                Value::from_json(text).map_err(|e| Error::invalid(key, format!("not JSON text: {e}")))?;
            properties.insert(key.to_owned(), decoded);
        }
    }
    out.insert("properties".to_owned(), Value::Dict(properties));
    ImageMeta::try_from(out)
}
