//! The two primitives every flow is built on: image to system metadata and
//! back (`get_system_metadata_from_image`, `get_image_from_system_metadata`
//! in nova/utils.py).

use crate::error::{Error, Result};
use crate::model::flavor::Flavor;
use std::borrow::Cow;

use crate::model::image::{ImageMeta, given};
use crate::nova::keys::{COLUMN_CHARS, KeyKind, SM_IMAGE_PROP_PREFIX, VALUE_BYTES, key_kind};
use crate::python::value::Value;
use crate::python::{python_truthy, repr, to_str};
use crate::storage::properties::{Properties, PropertyValue};
use crate::storage::system_metadata::{SmEntry, SystemMetadata, chars_over_column};

/// What Nova stores in system metadata for `image`
/// (`get_system_metadata_from_image`).
///
/// Every property except the skip keys becomes `image_<key> =
/// safe_truncate(str(value), 255)`, in order. Then the inheritable
/// attributes follow, in the order `min_ram`, `min_disk`, `disk_format`,
/// `container_format`, untruncated; absent ones are not stored. With a
/// flavor, `min_disk` becomes the flavor's `root_gb` for `vhd` images and
/// `max(min_disk or 0, root_gb)` otherwise.
///
/// # Errors
/// - [`Error::NotAnInteger`] when a flavor is given and `min_disk` is a
///   non-empty string (Nova raises `TypeError` comparing it with `root_gb`).
/// - [`Error::EmptyKey`] for an empty property name, [`Error::KeyTooLong`]
///   when `image_<key>` exceeds the 255-character key column,
///   [`Error::ValueTooLong`] for an inheritable attribute over 255
///   characters (Nova does not truncate those, the database would refuse).
///
/// ```
/// use nova_sysmeta::{Flavor, ImageMeta};
/// use nova_sysmeta::convert::system_metadata_from_image;
///
/// let image: ImageMeta = serde_json::from_str(r#"{
///     "min_disk": 10, "disk_format": "qcow2",
///     "properties": {"os_type": "linux", "hw_rng": true, "mappings": [1]}
/// }"#).unwrap();
/// let sm = system_metadata_from_image(&image, Some(&Flavor::new(20))).unwrap();
/// assert_eq!(sm.iter().collect::<Vec<_>>(), [
///     ("image_os_type", Some("linux")),
///     ("image_hw_rng", Some("True")),
///     ("image_min_disk", Some("20")),
///     ("image_disk_format", Some("qcow2")),
/// ]);
/// ```
pub fn system_metadata_from_image(image: &ImageMeta, flavor: Option<&Flavor>) -> Result<SystemMetadata> {
    let mut sm = SystemMetadata::new();
    write_system_metadata_from_image(&mut sm, image, flavor)?;
    Ok(sm)
}

/// [`system_metadata_from_image`], inserted entry by entry into `sm`
/// (Python's `sm.update(get_system_metadata_from_image(...))`, without
/// building and re-hashing a second map).
pub(crate) fn write_system_metadata_from_image(
    sm: &mut SystemMetadata,
    image: &ImageMeta,
    flavor: Option<&Flavor>,
) -> Result<()> {
    // Room for every entry at once (and for the few the flows add after),
    // so that neither the text nor the index grows entry by entry.
    let (entries, text_bytes) = room_for_image(image);
    sm.reserve(entries, text_bytes);
    let mut entries = sm.image_entries_appender();
    // `Properties` names are distinct, as the appender needs.
    for (name, value) in &image.properties {
        let kind = key_kind(name);
        if kind == KeyKind::Skip {
            continue;
        }
        if name.is_empty() {
            return Err(Error::EmptyKey {
                context: "image properties",
            });
        }
        if name.len() + SM_IMAGE_PROP_PREFIX.len() > COLUMN_CHARS {
            let sm_key = prefixed(name);
            if let Some(chars) = chars_over_column(&sm_key) {
                return Err(Error::KeyTooLong { key: sm_key, chars });
            }
        }
        entries.push(name, kind, |text| {
            value.write_python_str_truncated(text, VALUE_BYTES)
        });
    }
    drop(entries);

    let min_disk = match flavor {
        Some(flavor) => Some(min_disk_for_flavor(image, flavor)?),
        None => given(&image.min_disk).map(Cow::Borrowed),
    };
    let inherited = [
        ("image_min_ram", given(&image.min_ram)),
        ("image_min_disk", min_disk.as_deref()),
        ("image_disk_format", given(&image.disk_format)),
        ("image_container_format", given(&image.container_format)),
    ];
    for (key, value) in inherited {
        if let Some(value) = value {
            // Nova stores the value as it is; the database stores its str().
            let value = attribute_text(value);
            let value = value.as_ref();
            if let Some(chars) = chars_over_column(value) {
                return Err(Error::ValueTooLong {
                    key: key.to_owned(),
                    chars,
                });
            }
            sm.put(key, Some(value));
        }
    }
    Ok(())
}

/// Room for the system metadata of `image` and a few more entries: entries
/// and bytes of text (an estimate, exceeded only by long non-string values).
pub(crate) fn room_for_image(image: &ImageMeta) -> (usize, usize) {
    let props = &image.properties;
    let text_bytes = props.text_bytes_estimate() + props.len() * SM_IMAGE_PROP_PREFIX.len() + 512;
    (props.len() + 8, text_bytes)
}

/// The `str()` of an inherited attribute, borrowed when it is a string.
fn attribute_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Str(s) => Cow::Borrowed(s),
        other => Cow::Owned(to_str(other)),
    }
}

/// Nova's `max(min_disk or 0, flavor.root_gb)`, or `root_gb` for vhd
/// images. Python's `max` keeps the first of equal values, so a `min_disk`
/// of `20.0` against a root disk of 20 stays `20.0`.
fn min_disk_for_flavor<'a>(image: &'a ImageMeta, flavor: &Flavor) -> Result<Cow<'a, Value>> {
    let root_gb = flavor.root_gb;
    let root = || Cow::Owned(Value::from(root_gb));
    if given(&image.disk_format).and_then(Value::as_str) == Some("vhd") {
        return Ok(root());
    }
    let Some(value) = given(&image.min_disk).filter(|v| python_truthy(v)) else {
        // max(0, root_gb): both print as root_gb.
        return Ok(root());
    };
    let root_is_greater = match value {
        Value::Int(i) => match i.as_i64() {
            Some(i) => i128::from(root_gb) > i128::from(i),
            None => i.is_negative(),
        },
        Value::Float(f) => int_exceeds_float(root_gb, *f),
        Value::Bool(b) => root_gb > u64::from(*b),
        // Python raises TypeError comparing a str, list or dict with an int.
        other => {
            return Err(Error::NotAnInteger {
                key: "min_disk".to_owned(),
                found: repr(other),
            });
        }
    };
    Ok(if root_is_greater {
        root()
    } else {
        Cow::Borrowed(value)
    })
}

/// Python's exact `n > f` for a non-negative integer and a float.
fn int_exceeds_float(n: u64, f: f64) -> bool {
    if f.is_nan() || f >= 18_446_744_073_709_551_616.0 {
        return false;
    }
    if f < 0.0 {
        return true;
    }
    // 0 <= f < 2^64: n > f exactly when n exceeds f's integer part.
    n > f.trunc() as u64
}

/// `image_<key>`.
fn prefixed(key: &str) -> String {
    let mut s = String::with_capacity(SM_IMAGE_PROP_PREFIX.len() + key.len());
    s.push_str(SM_IMAGE_PROP_PREFIX);
    s.push_str(key);
    s
}

/// The image dict Nova rebuilds from system metadata
/// (`get_image_from_system_metadata`).
///
/// For each entry in order: the `image_` prefix is stripped **if present**
/// (unprefixed keys such as `owner_user_name` or `password_0` are kept as
/// they are, which is how they reach snapshot properties); skip keys are
/// dropped; inheritable keys become top-level attributes (as strings);
/// everything else goes into `properties`. When two keys map to the same
/// name (`image_foo` and `foo`), the later value wins at the earlier
/// position, as in Python.
///
/// ```
/// use nova_sysmeta::{SystemMetadata, Value};
/// use nova_sysmeta::convert::image_from_system_metadata;
///
/// let sm: SystemMetadata = [
///     ("image_min_ram", "512"),
///     ("image_os_type", "linux"),
///     ("image_mappings", "[]"),
///     ("owner_user_name", "alice"),
/// ].into_iter().collect();
/// let image = image_from_system_metadata(&sm);
/// assert_eq!(image.min_ram, Some(Value::from("512")));
/// assert_eq!(image.properties.keys().collect::<Vec<_>>(), ["os_type", "owner_user_name"]);
/// ```
#[must_use]
pub fn image_from_system_metadata(system_metadata: &SystemMetadata) -> ImageMeta {
    image_from_system_metadata_keeping(system_metadata, |_| true, true, std::iter::empty())
}

/// [`image_from_system_metadata`] keeping only the properties whose entry
/// (of kind `Plain` or `NonInheritable`) passes `keep` (as if the others
/// were removed afterwards), then updated with `extras`
/// (`properties.update(extras)`). Without `with_formats`, `disk_format` and
/// `container_format` are left out (as if set to `None` afterwards).
pub(crate) fn image_from_system_metadata_keeping<'e>(
    system_metadata: &SystemMetadata,
    keep: impl Fn(SmEntry<'_>) -> bool,
    with_formats: bool,
    extras: impl Iterator<Item = (&'e str, PropertyValue<'e>)> + Clone,
) -> ImageMeta {
    // `SM_INHERITABLE_KEYS`, in order.
    let mut attributes: [Option<String>; 4] = Default::default();
    // Nova's loop: each entry not null, not skipped and not an inherited
    // attribute, its prefix stripped; then `properties.update(extras)`.
    let properties = Properties::from_entries(
        system_metadata,
        |entry| match entry.kind() {
            // `if value is None: continue`, before anything else.
            _ if entry.is_null() => false,
            KeyKind::Skip => false,
            // `min_ram` and `min_disk` come first in `SM_INHERITABLE_KEYS`.
            KeyKind::Inheritable(i) if i >= 2 && !with_formats => false,
            KeyKind::Inheritable(i) => {
                if let Some(attribute) = attributes.get_mut(i) {
                    // The last one wins, as in Python.
                    *attribute = Some(entry.value().to_owned());
                }
                false
            }
            KeyKind::Plain | KeyKind::NonInheritable => keep(entry),
        },
        extras,
    );
    let [min_ram, min_disk, disk_format, container_format] = attributes;
    ImageMeta {
        min_ram: min_ram.map(Value::Str),
        min_disk: min_disk.map(Value::Str),
        disk_format: disk_format.map(Value::Str),
        container_format: container_format.map(Value::Str),
        properties,
        ..ImageMeta::default()
    }
}
