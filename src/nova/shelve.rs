//! Shelve and unshelve: `API.shelve` (nova/compute/api.py), the manager's
//! `_shelve_instance` (nova/compute/manager.py) and
//! `remove_shelved_keys_from_system_metadata` (nova/compute/utils.py).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::map::system_metadata::{SystemMetadata, validate_entry};
use crate::model::config::NovaConfig;
use crate::model::context::RequestContext;
use crate::model::image::ImageMeta;
use crate::model::image_type::ImageType;
use crate::model::instance::Instance;
use crate::model::release::Release;
use crate::nova::resize::ensure_base_image_ref;
use crate::nova::snapshot::{SnapshotRequest, create_image_metadata};

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
}

/// How an instance is shelved: volume-backed or not (Nova's default:
/// not), and Nova's configuration for the snapshot (Nova's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShelveOptions<'a> {
    /// A volume-backed instance is shelved with no image.
    pub volume_backed: bool,
    /// Nova's release and configuration; `None`: Nova 34.0.0's defaults.
    pub config: Option<&'a NovaConfig>,
}

/// The API side of shelve: `image_base_image_ref = instance.image_ref` is
/// ensured (healing instances the pre-fix rebuild damaged; from 21.2.1 and
/// 22.0.0, the release of [`ShelveOptions::config`]), then, unless
/// the instance is volume-backed, a snapshot named `<display_name>-shelved`
/// is prepared with [`create_image_metadata`] from the healed map, so its
/// `base_image_ref` is the instance's `image_ref`. (To withhold keys from
/// the snapshot, heal with [`ensure_base_image_ref`], apply a
/// [`SnapshotProfile`](crate::SnapshotProfile), and make the snapshot from
/// its view.)
///
/// # Errors
/// [`Error::InvalidValue`] when the instance has no `image_ref`; those of
/// [`ensure_base_image_ref`].
///
/// ```
/// use nova_sysmeta::{Instance, RequestContext, ShelveOptions, SystemMetadata, shelve};
/// use uuid::Uuid;
///
/// let inst = Instance::new(Uuid::nil(), "p").with_image_ref("img-b").with_display_name("web");
/// let out = shelve(&RequestContext::new("u", "p"), &inst, &SystemMetadata::new(), &ShelveOptions::default())
///     .unwrap();
/// let image = out.image.unwrap();
/// assert_eq!(image.name(), Some("web-shelved"));
/// assert_eq!(image.properties.get("base_image_ref").unwrap(), "img-b");
/// ```
pub fn shelve(
    context: &RequestContext,
    instance: &Instance,
    system_metadata: &SystemMetadata,
    options: &ShelveOptions<'_>,
) -> Result<Shelve> {
    let image_ref = instance
        .image_ref
        .as_deref()
        .ok_or_else(|| Error::invalid("instance.image_ref", "required to shelve"))?;
    let release = options.config.map_or(Release::LATEST, |config| config.release);
    let system_metadata = if release.rebuild_keeps_base_image_ref() {
        ensure_base_image_ref(system_metadata, image_ref)?
    } else {
        system_metadata.clone()
    };
    if options.volume_backed {
        return Ok(Shelve {
            system_metadata,
            image: None,
        });
    }
    let name = shelved_image_name(instance);
    let mut request = SnapshotRequest::new(context, instance, &system_metadata, &name);
    request.config = options.config;
    let image = create_image_metadata(&request, ImageType::Snapshot);
    Ok(Shelve {
        system_metadata,
        image: Some(image),
    })
}

/// The name of the snapshot shelve takes: `'%s-shelved' %
/// instance.display_name` (Python prints a missing name as `None`).
#[must_use]
pub fn shelved_image_name(instance: &Instance) -> String {
    format!("{}-shelved", instance.display_name.as_deref().unwrap_or("None"))
}

/// What the compute manager records when it shelves an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shelved<'a> {
    /// `shelved_at`: the time, stored as given (Nova writes
    /// `utcnow().isoformat()`).
    pub shelved_at: &'a str,
    /// `shelved_image_id`: the snapshot's id.
    pub image_id: &'a str,
    /// `shelved_host`: the compute host.
    pub host: &'a str,
}

impl Shelved<'_> {
    /// Records the three keys in `system_metadata`, in place (see
    /// [`record_shelved`]). On an error, the map is left as it was.
    ///
    /// # Errors
    /// [`Error::ValueTooLong`] for a value over the 255-character column.
    pub fn record_in(&self, system_metadata: &mut SystemMetadata) -> Result<()> {
        let entries = SHELVED_KEYS
            .into_iter()
            .zip([self.shelved_at, self.image_id, self.host]);
        for (key, value) in entries.clone() {
            validate_entry(key, value)?;
        }
        for (key, value) in entries {
            system_metadata.insert(key, value);
        }
        Ok(())
    }
}

/// The manager side of shelve: records `shelved_at`, `shelved_image_id`
/// and `shelved_host`, in that order.
///
/// # Errors
/// [`Error::ValueTooLong`] for a value over the 255-character column.
///
/// ```
/// use nova_sysmeta::{Shelved, SystemMetadata, record_shelved};
/// let shelved = Shelved { shelved_at: "2026-11-25T15:08:12.000001", image_id: "img-s", host: "compute-1" };
/// let sm = record_shelved(&SystemMetadata::new(), &shelved).unwrap();
/// assert_eq!(sm.keys().collect::<Vec<_>>(), ["shelved_at", "shelved_image_id", "shelved_host"]);
/// ```
pub fn record_shelved(system_metadata: &SystemMetadata, shelved: &Shelved<'_>) -> Result<SystemMetadata> {
    let mut out = system_metadata.clone();
    shelved.record_in(&mut out)?;
    Ok(out)
}

/// Unshelve's cleanup: the [`SHELVED_KEYS`] removed, everything else kept
/// in order. [`remove_shelved_keys_in`] does it in place.
///
/// ```
/// use nova_sysmeta::{SystemMetadata, remove_shelved_keys};
/// let sm: SystemMetadata = [("shelved_at", "t"), ("keep", "v"), ("shelved_host", "h")].into_iter().collect();
/// assert_eq!(remove_shelved_keys(&sm).keys().collect::<Vec<_>>(), ["keep"]);
/// ```
#[must_use]
pub fn remove_shelved_keys(system_metadata: &SystemMetadata) -> SystemMetadata {
    let mut out = system_metadata.clone();
    remove_shelved_keys_in(&mut out);
    out
}

/// [`remove_shelved_keys`], in place (one pass, order kept).
pub fn remove_shelved_keys_in(system_metadata: &mut SystemMetadata) {
    system_metadata.retain(|k, _| !SHELVED_KEYS.contains(&k));
}
