//! Booting from a volume: `get_image_metadata_from_volume`
//! (nova/block_device.py), the image Nova sees in a Cinder volume.
//! (A volume-backed instance's snapshot is
//! [`snapshot::volume_backed`](crate::snapshot::volume_backed).)

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::image::ImageMeta;
use crate::python::value::Value;
use crate::python::{python_int_of_value, python_truthy, repr};
use crate::storage::properties::Properties;

/// A Cinder volume, reduced to what Nova reads to boot from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Size in GiB (Cinder's unit).
    #[serde(default)]
    pub size: u64,
    /// The metadata Cinder copied from the image the volume was created
    /// from (`volume_image_metadata`; all strings in Cinder).
    #[serde(default)]
    pub volume_image_metadata: Properties,
}

/// `VIM_IMAGE_ATTRIBUTES` (nova/block_device.py): volume-image metadata keys
/// that are image attributes, not properties.
pub const VIM_IMAGE_ATTRIBUTES: [&str; 8] = [
    "image_id",
    "image_name",
    "size",
    "checksum",
    "container_format",
    "disk_format",
    "min_ram",
    "min_disk",
];

const GIB: u64 = 1 << 30;

/// The image metadata of a boot-from-volume instance
/// (`get_image_metadata_from_volume`), ready to feed
/// [`create::populate`](crate::create::populate).
///
/// The volume's image metadata become the properties, minus the
/// [`VIM_IMAGE_ATTRIBUTES`]; of those only `min_ram` and `min_disk` come
/// back, as integers (`int(value or 0)`); the others are dropped, as in
/// Nova. `size` is the volume's size in bytes, `status` is `active`.
///
/// # Errors
/// [`Error::NotAnInteger`] when `min_ram` or `min_disk` is not an integer
/// Python's `int()` accepts; [`Error::InvalidValue`] when the size in bytes
/// does not fit 64 bits.
///
/// ```
/// use nova_sysmeta::Value;
/// use nova_sysmeta::convert::{Volume, image_from_volume};
///
/// let volume: Volume = serde_json::from_str(r#"{
///     "size": 10,
///     "volume_image_metadata": {"image_id": "img-1", "min_ram": "512", "disk_format": "raw",
///                               "os_type": "linux"}
/// }"#).unwrap();
/// let image = image_from_volume(&volume).unwrap();
/// assert_eq!(image.min_ram, Some(Value::from(512)));
/// assert_eq!(image.min_disk, Some(Value::from(0)));
/// assert_eq!(image.disk_format, None);
/// assert_eq!(image.other["size"], 10u64 << 30);
/// assert_eq!(image.properties.keys().collect::<Vec<_>>(), ["os_type"]);
/// ```
pub fn image_from_volume(volume: &Volume) -> Result<ImageMeta> {
    let mut properties = volume.volume_image_metadata.clone();
    let size = volume
        .size
        .checked_mul(GIB)
        .ok_or_else(|| Error::invalid("size", "the size in bytes does not fit 64 bits"))?;
    let mut image = ImageMeta::default();
    image.other.insert("size".to_owned(), Value::from(size));
    for attr in VIM_IMAGE_ATTRIBUTES {
        let value = properties.remove(attr);
        match attr {
            "min_ram" => image.min_ram = Some(Value::Int(int_or_zero(attr, value.as_ref())?)),
            "min_disk" => image.min_disk = Some(Value::Int(int_or_zero(attr, value.as_ref())?)),
            _ => {}
        }
    }
    image.other.insert("status".to_owned(), Value::from("active"));
    image.properties = properties;
    Ok(image)
}

/// Python's `int(value or 0)` on a JSON value.
fn int_or_zero(key: &str, value: Option<&Value>) -> Result<crate::python::value::Int> {
    match value {
        // `value or 0`
        None => Ok(crate::python::value::Int::from(0)),
        Some(v) if !python_truthy(v) => Ok(crate::python::value::Int::from(0)),
        Some(v) => python_int_of_value(v).ok_or_else(|| Error::NotAnInteger {
            key: key.to_owned(),
            found: repr(v),
        }),
    }
}
