//! The driver's upload: the metadata the libvirt driver sends with a
//! snapshot's data (`LibvirtDriver._create_snapshot_metadata`,
//! nova/virt/libvirt/driver.py), merged into the image Nova created.

use crate::error::{Error, Result};
use crate::map::system_metadata::SystemMetadata;
use crate::model::image::ImageMeta;
use crate::model::instance::Instance;
use crate::model::release::Release;
use crate::nova::convert::image_from_system_metadata;
use crate::python::value::Value;

/// The snapshot image after the driver's upload: `image` (as
/// [`crate::create_image_metadata`] made it) updated with the driver's
/// metadata, which wins.
///
/// The driver sets `status = active`, keeps the name, sets `disk_format` to
/// the uploaded format and `container_format` to the instance's image's
/// (`image_container_format` in system metadata) or `bare`, and merges the
/// properties `image_location = snapshot`, `image_state = available`,
/// `owner_id` (the instance's project), `os_type` (when the instance has
/// one), `kernel_id` and `ramdisk_id`. As Nova's Glance client does
/// (`_convert_to_v2`), a `kernel_id`/`ramdisk_id` that is empty or `none`
/// (any case, surrounding blanks ignored) is not sent, so the image keeps
/// what it had; an absent one is sent as `null`.
///
/// Releases before 27.5.0, 28.3.0 and 29.2.0 (and every one before the
/// 27 series) send `disk_format: ami` instead when the instance's image is
/// an `ami` ([`Release::upload_forces_ami`]); releases before 18.2.2 also
/// send `is_public: False`, which makes the image `private`.
///
/// # Errors
/// [`Error::InvalidValue`] when the release reads the instance image's
/// disk format ([`Release::upload_forces_ami`]) and `system_metadata` has
/// no `image_disk_format` (or a null one): Nova's driver fails there too.
///
/// ```
/// use nova_sysmeta::{ImageMeta, Instance, Release, SystemMetadata, finalize_snapshot_upload};
/// use uuid::Uuid;
///
/// let created: ImageMeta = serde_json::from_str(r#"{"name": "snap"}"#).unwrap();
/// let mut inst = Instance::new(Uuid::nil(), "p-1");
/// inst.kernel_id = Some("".into());
/// let done = finalize_snapshot_upload(&created, &SystemMetadata::new(), &inst, "qcow2", Release::LATEST)?;
/// assert_eq!(done.properties.get("image_location").unwrap(), "snapshot");
/// assert_eq!(done.properties.get("owner_id").unwrap(), "p-1");
/// assert!(!done.properties.contains_key("kernel_id"));
/// assert_eq!(done.container_format.unwrap(), "bare");
///
/// // Before 27.5.0, an ami source is uploaded as an ami.
/// let ami: SystemMetadata = [("image_disk_format", "ami")].into_iter().collect();
/// let old = finalize_snapshot_upload(&created, &ami, &inst, "qcow2", "27.4.0".parse()?)?;
/// assert_eq!(old.disk_format.unwrap(), "ami");
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
pub fn finalize_snapshot_upload(
    image: &ImageMeta,
    system_metadata: &SystemMetadata,
    instance: &Instance,
    disk_format: &str,
    release: Release,
) -> Result<ImageMeta> {
    let source = image_from_system_metadata(system_metadata);
    let forced = match (&source.disk_format, release.upload_forces_ami()) {
        (_, false) => false,
        (None, true) => {
            return Err(Error::invalid(
                "system_metadata",
                format!(
                    "Nova {release}'s libvirt upload reads the instance image's disk format, but \
                     system_metadata has no image_disk_format, or a null one (Nova raises NotImplementedError)"
                ),
            ));
        }
        (Some(source_format), true) => matches!(source_format, Value::Str(f) if f == "ami"),
    };
    let mut out = image.clone();
    out.other.insert("status".to_owned(), Value::from("active"));
    out.disk_format = Some(Value::from(if forced { "ami" } else { disk_format }));
    out.container_format = Some(source.container_format.unwrap_or_else(|| Value::from("bare")));
    if !release.snapshot_visibility() {
        // `is_public: False`, which Nova's Glance client sends as this.
        out.visibility = Some(Value::from("private"));
    }

    let optional = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
    let driver_properties = [
        ("kernel_id", optional(&instance.kernel_id)),
        ("image_location", Value::from("snapshot")),
        ("image_state", Value::from("available")),
        ("owner_id", Value::from(instance.project_id.as_str())),
        ("ramdisk_id", optional(&instance.ramdisk_id)),
    ];
    let os_type = instance
        .os_type
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| ("os_type", Value::from(t)));
    for (key, value) in driver_properties.into_iter().chain(os_type) {
        if is_unset_kernel_or_ramdisk(key, &value) {
            continue;
        }
        out.properties.put_owned(key, value);
    }
    Ok(out)
}

/// `_convert_to_v2`'s rule: `kernel_id`/`ramdisk_id` strings that say "no
/// image" are not sent to Glance.
pub(crate) fn is_unset_kernel_or_ramdisk(key: &str, value: &Value) -> bool {
    matches!(key, "kernel_id" | "ramdisk_id")
        && matches!(value, Value::Str(s) if {
            let t = s.trim_matches(crate::python::is_python_space);
            t.is_empty() || t.eq_ignore_ascii_case("none")
        })
}
