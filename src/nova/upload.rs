//! The driver's upload: the metadata the libvirt driver sends with a
//! snapshot's data (`LibvirtDriver._create_snapshot_metadata`,
//! nova/virt/libvirt/driver.py), merged into the image Nova created.

use crate::error::{Error, Result};
use crate::model::config::NovaConfig;
use crate::model::image::ImageMeta;
use crate::model::instance::Instance;
use crate::nova::convert::image_from_system_metadata;
use crate::python::value::Value;
use crate::storage::system_metadata::SystemMetadata;

/// What [`finalize`] reads: the image as Nova created it, the instance's
/// system metadata, the instance (its project, `kernel_id`, `ramdisk_id`,
/// `os_type`), the format the driver uploaded, and the Nova configuration.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The image as [`snapshot::create_image`](crate::snapshot::create_image) made it.
    pub image: &'a ImageMeta,
    /// The instance's system metadata (the source image's formats).
    pub system_metadata: &'a SystemMetadata,
    /// The instance snapshotted.
    pub instance: &'a Instance,
    /// The disk format of the uploaded data.
    pub disk_format: &'a str,
    /// The Nova configuration (default: [`NovaConfig::default`]).
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// The upload of `disk_format` data for `image`, a snapshot of
    /// `instance`, Nova 34.0.0.
    #[must_use]
    pub fn new(
        image: &'a ImageMeta,
        system_metadata: &'a SystemMetadata,
        instance: &'a Instance,
        disk_format: &'a str,
    ) -> Self {
        Self {
            image,
            system_metadata,
            instance,
            disk_format,
            config: NovaConfig::latest(),
        }
    }

    /// With this Nova configuration (its release among it).
    #[must_use]
    pub fn config(mut self, config: &'a NovaConfig) -> Self {
        self.config = config;
        self
    }
}

/// The snapshot image after the driver's upload: the request's image
/// updated with the driver's metadata, which wins.
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
/// an `ami` ([`Release::upload_forces_ami`](crate::Release::upload_forces_ami));
/// releases before 18.2.2 also send `is_public: False`, which makes the
/// image `private`.
///
/// # Errors
/// [`Error::Missing`] when the release reads the instance image's disk
/// format and the system metadata has no `image_disk_format` (or a null
/// one): Nova's driver fails there too.
///
/// ```
/// use nova_sysmeta::{ImageMeta, Instance, NovaConfig, SystemMetadata, upload};
/// use uuid::Uuid;
///
/// let created: ImageMeta = serde_json::from_str(r#"{"name": "snap"}"#).unwrap();
/// let inst = Instance::new(Uuid::nil(), "p-1").with_kernel_id("");
/// let sm = SystemMetadata::new();
/// let done = upload::finalize(&upload::Request::new(&created, &sm, &inst, "qcow2"))?;
/// assert_eq!(done.properties.get_str("image_location"), Some("snapshot"));
/// assert_eq!(done.properties.get_str("owner_id"), Some("p-1"));
/// assert!(!done.properties.contains_key("kernel_id"));
/// assert_eq!(done.container_format.unwrap(), "bare");
///
/// // Before 27.5.0, an ami source is uploaded as an ami.
/// let ami: SystemMetadata = [("image_disk_format", "ami")].into_iter().collect();
/// let antelope = NovaConfig::for_release("27.4.0".parse()?);
/// let old = upload::finalize(&upload::Request::new(&created, &ami, &inst, "qcow2").config(&antelope))?;
/// assert_eq!(old.disk_format.unwrap(), "ami");
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
pub fn finalize(request: &Request<'_>) -> Result<ImageMeta> {
    let Request {
        image,
        system_metadata,
        instance,
        disk_format,
        config,
    } = *request;
    let release = config.release;
    let source = image_from_system_metadata(system_metadata);
    let forced = match (&source.disk_format, release.upload_forces_ami()) {
        (_, false) => false,
        (None, true) => {
            return Err(Error::Missing {
                field: "system_metadata.image_disk_format",
                reason: "this release's libvirt upload reads the instance image's disk format \
                         (Nova raises NotImplementedError without it)",
            });
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
