//! Shelve and unshelve: `API.shelve` (nova/compute/api.py), the manager's
//! `_shelve_instance` (nova/compute/manager.py) and
//! `remove_shelved_keys_from_system_metadata` (nova/compute/utils.py).

use serde::{Deserialize, Serialize};

use crate::config::NovaConfig;
use crate::context::RequestContext;
use crate::error::{Error, Result};
use crate::image::ImageMeta;
use crate::image_type::ImageType;
use crate::instance::Instance;
use crate::profile::SnapshotProfile;
use crate::properties::Properties;
use crate::resize::ensure_base_image_ref;
use crate::snapshot::create_image_metadata;
use crate::system_metadata::{SystemMetadata, validate_entry};

/// The system-metadata keys the compute manager sets when it shelves an
/// instance, and unshelve removes.
pub const SHELVED_KEYS: [&str; 3] = ["shelved_at", "shelved_image_id", "shelved_host"];

/// What the API side of shelve produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shelve {
    /// The instance's system metadata, with `image_base_image_ref` ensured.
    pub system_metadata: SystemMetadata,
    /// The `<display_name>-shelved` snapshot to create, or `None` for a
    /// volume-backed instance (shelved straight to offload, no image).
    pub image: Option<ImageMeta>,
    /// System-metadata keys the snapshot profile kept out of the image
    /// (always empty with [`SnapshotProfile::Nova`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

/// The API side of shelve: `image_base_image_ref = instance.image_ref` is
/// ensured (healing instances the pre-fix rebuild damaged), then, unless
/// the instance is volume-backed, a snapshot named `<display_name>-shelved`
/// is prepared with [`create_image_metadata`] from the healed map (as
/// `profile` lets the snapshot see it), so its `base_image_ref` is the
/// instance's `image_ref`.
///
/// # Errors
/// [`Error::InvalidValue`] when the instance has no `image_ref`; those of
/// [`ensure_base_image_ref`].
///
/// ```
/// use nova_sysmeta::{shelve, Instance, NovaConfig, RequestContext, SnapshotProfile, SystemMetadata};
/// use uuid::Uuid;
///
/// let inst = Instance::new(Uuid::nil(), "p").with_image_ref("img-b").with_display_name("web");
/// let out = shelve(&RequestContext::new("u", "p"), &inst, &SystemMetadata::new(), false,
///                  &NovaConfig::default(), &SnapshotProfile::Nova).unwrap();
/// let image = out.image.unwrap();
/// assert_eq!(image.name(), Some("web-shelved"));
/// assert_eq!(image.properties.get("base_image_ref").unwrap(), "img-b");
/// ```
pub fn shelve(
    context: &RequestContext,
    instance: &Instance,
    system_metadata: &SystemMetadata,
    volume_backed: bool,
    config: &NovaConfig,
    profile: &SnapshotProfile,
) -> Result<Shelve> {
    let image_ref = instance
        .image_ref
        .as_deref()
        .ok_or_else(|| Error::invalid("instance.image_ref", "required to shelve"))?;
    let system_metadata = ensure_base_image_ref(system_metadata, image_ref)?;
    if volume_backed {
        return Ok(Shelve {
            system_metadata,
            image: None,
            withheld: Vec::new(),
        });
    }
    // `'%s-shelved' % instance.display_name`: Python prints None as "None".
    let name = format!("{}-shelved", instance.display_name.as_deref().unwrap_or("None"));
    let view = profile.apply(&system_metadata);
    let image = create_image_metadata(
        context,
        instance,
        &view.system_metadata,
        &name,
        ImageType::Snapshot,
        &Properties::new(),
        config,
    );
    Ok(Shelve {
        system_metadata,
        image: Some(image),
        withheld: view.withheld,
    })
}

/// The manager side of shelve: records `shelved_at` (stored as given; Nova
/// writes `utcnow().isoformat()`), `shelved_image_id` and `shelved_host`,
/// in that order.
///
/// # Errors
/// [`Error::ValueTooLong`] for a value over the 255-character column.
///
/// ```
/// use nova_sysmeta::{record_shelved, SystemMetadata};
/// let sm = record_shelved(&SystemMetadata::new(), "img-s", "compute-1", "2026-11-25T15:08:12.000001").unwrap();
/// assert_eq!(sm.keys().collect::<Vec<_>>(), ["shelved_at", "shelved_image_id", "shelved_host"]);
/// ```
pub fn record_shelved(
    system_metadata: &SystemMetadata,
    image_id: &str,
    host: &str,
    shelved_at: &str,
) -> Result<SystemMetadata> {
    let mut out = system_metadata.clone();
    for (key, value) in SHELVED_KEYS.into_iter().zip([shelved_at, image_id, host]) {
        validate_entry(key, value)?;
        out.insert(key, value);
    }
    Ok(out)
}

/// Unshelve's cleanup: the [`SHELVED_KEYS`] removed, everything else kept
/// in order.
///
/// ```
/// use nova_sysmeta::{remove_shelved_keys, SystemMetadata};
/// let sm: SystemMetadata = [("shelved_at", "t"), ("keep", "v"), ("shelved_host", "h")].into_iter().collect();
/// assert_eq!(remove_shelved_keys(&sm).keys().collect::<Vec<_>>(), ["keep"]);
/// ```
pub fn remove_shelved_keys(system_metadata: &SystemMetadata) -> SystemMetadata {
    system_metadata
        .iter()
        .filter(|(k, _)| !SHELVED_KEYS.contains(k))
        .collect()
}
