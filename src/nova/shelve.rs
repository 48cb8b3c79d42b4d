//! Shelve and unshelve: `API.shelve` (nova/compute/api.py), the manager's
//! `_shelve_instance` (nova/compute/manager.py) and
//! `remove_shelved_keys_from_system_metadata` (nova/compute/utils.py).
//!
//! The three steps, in Nova's order: [`start`] (the API), [`record`] (the
//! compute manager, once the snapshot is uploaded), [`remove_keys`]
//! (unshelve).
//!
//! ```
//! use nova_sysmeta::{Instance, RequestContext, SystemMetadata, shelve};
//! use uuid::Uuid;
//!
//! let inst = Instance::new(Uuid::nil(), "p").with_image_ref("img-b").with_display_name("web");
//! let ctx = RequestContext::new("u", "p");
//! let started = shelve::start(&shelve::Request::new(&ctx, &inst, &SystemMetadata::new()))?;
//! let image = started.image.unwrap();
//! assert_eq!(image.name(), Some("web-shelved"));
//! assert_eq!(image.base_image_ref(), Some("img-b"));
//!
//! let shelved = shelve::Record::new("2026-11-25T15:08:12.000001", "img-s", "compute-1");
//! let sm = shelve::record(&started.system_metadata, &shelved)?;
//! assert_eq!(sm.get("shelved_host"), Some("compute-1"));
//! let sm = shelve::remove_keys(&sm)?;
//! assert!(!sm.contains_key("shelved_at"));
//! assert_eq!(sm.get("image_base_image_ref"), Some("img-b"));
//! # Ok::<(), nova_sysmeta::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::config::NovaConfig;
use crate::model::context::RequestContext;
use crate::model::image::ImageMeta;
use crate::model::image_type::ImageType;
use crate::model::instance::Instance;
use crate::nova::resize::heal_base_image_ref;
use crate::nova::snapshot;
use crate::storage::system_metadata::{SystemMetadata, validate_entry};

/// The system-metadata keys the compute manager sets when it shelves an
/// instance, and unshelve removes.
pub const KEYS: [&str; 3] = ["shelved_at", "shelved_image_id", "shelved_host"];

/// What [`start`] reads: the caller, the instance (its `image_ref` and
/// `display_name`), its system metadata, whether it is volume-backed
/// (default: not) and the Nova configuration.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The caller's context (for the snapshot).
    pub context: &'a RequestContext,
    /// The instance shelved; its `image_ref` is required.
    pub instance: &'a Instance,
    /// The instance's system metadata.
    pub system_metadata: &'a SystemMetadata,
    /// A volume-backed instance is shelved with no image.
    pub volume_backed: bool,
    /// The Nova configuration (default: [`NovaConfig::default`]).
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// A shelve of an image-backed `instance` by `context`, Nova 34.0.0.
    #[must_use]
    pub fn new(
        context: &'a RequestContext,
        instance: &'a Instance,
        system_metadata: &'a SystemMetadata,
    ) -> Self {
        Self {
            context,
            instance,
            system_metadata,
            volume_backed: false,
            config: NovaConfig::latest(),
        }
    }

    /// Whether the instance is volume-backed.
    #[must_use]
    pub fn volume_backed(mut self, volume_backed: bool) -> Self {
        self.volume_backed = volume_backed;
        self
    }

    /// With this Nova configuration (its release among it).
    #[must_use]
    pub fn config(mut self, config: &'a NovaConfig) -> Self {
        self.config = config;
        self
    }
}

/// What the API side of shelve produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Started {
    /// The instance's system metadata, with `image_base_image_ref` ensured.
    pub system_metadata: SystemMetadata,
    /// The `<display_name>-shelved` snapshot to create, or `None` for a
    /// volume-backed instance (shelved straight to offload, no image).
    pub image: Option<ImageMeta>,
}

/// The API side of shelve (`API.shelve`): `image_base_image_ref =
/// instance.image_ref` is ensured (healing instances the pre-fix rebuild
/// damaged; from 21.2.1 and 22.0.0), then, unless the instance is
/// volume-backed, a snapshot named [`image_name`] is prepared with
/// [`snapshot::create_image`] from the healed map, so its `base_image_ref`
/// is the instance's `image_ref`. (To withhold keys from the snapshot,
/// apply a [`SnapshotProfile`](crate::profile::SnapshotProfile) to
/// [`Started::system_metadata`] and make the snapshot from its view.)
///
/// # Errors
/// [`Error::Missing`] when the instance has no `image_ref`;
/// [`Error::ValueTooLong`] when it is longer than the column.
pub fn start(request: &Request<'_>) -> Result<Started> {
    let Request {
        context,
        instance,
        system_metadata,
        volume_backed,
        config,
    } = *request;
    let image_ref = instance.image_ref.as_deref().ok_or(Error::Missing {
        field: "instance.image_ref",
        reason: "shelve records it as the base image ref",
    })?;
    let mut system_metadata = system_metadata.clone();
    if config.release.rebuild_keeps_base_image_ref() {
        heal_base_image_ref(&mut system_metadata, image_ref)?;
    }
    if volume_backed {
        return Ok(Started {
            system_metadata,
            image: None,
        });
    }
    let name = image_name(instance);
    let request = snapshot::Request::new(context, instance, &system_metadata, &name).config(config);
    let image = snapshot::create_image(&request, ImageType::Snapshot)?;
    Ok(Started {
        system_metadata,
        image: Some(image),
    })
}

/// The name of the snapshot shelve takes: `'%s-shelved' %
/// instance.display_name` (Python prints a missing name as `None`).
#[must_use]
pub fn image_name(instance: &Instance) -> String {
    format!("{}-shelved", instance.display_name.as_deref().unwrap_or("None"))
}

/// What the compute manager records when it shelves an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record<'a> {
    /// `shelved_at`: the time, stored as given (Nova writes
    /// `utcnow().isoformat()`).
    pub shelved_at: &'a str,
    /// `shelved_image_id`: the snapshot's id.
    pub image_id: &'a str,
    /// `shelved_host`: the compute host.
    pub host: &'a str,
}

impl<'a> Record<'a> {
    /// The record of a shelve at `shelved_at` to the snapshot `image_id`,
    /// from `host`.
    #[must_use]
    pub fn new(shelved_at: &'a str, image_id: &'a str, host: &'a str) -> Self {
        Self {
            shelved_at,
            image_id,
            host,
        }
    }
}

/// The manager side of shelve: records `shelved_at`, `shelved_image_id`
/// and `shelved_host`, in that order.
///
/// # Errors
/// [`Error::ValueTooLong`] for a value over the 255-character column.
pub fn record(system_metadata: &SystemMetadata, record: &Record<'_>) -> Result<SystemMetadata> {
    let entries = KEYS
        .into_iter()
        .zip([record.shelved_at, record.image_id, record.host]);
    for (key, value) in entries.clone() {
        validate_entry(key, value)?;
    }
    let mut out = system_metadata.clone();
    for (key, value) in entries {
        out.put(key, Some(value));
    }
    Ok(out)
}

/// Unshelve: the map without the [`KEYS`]
/// (`remove_shelved_keys_from_system_metadata`).
///
/// # Errors
/// None today; the `Result` is every flow's shape.
pub fn remove_keys(system_metadata: &SystemMetadata) -> Result<SystemMetadata> {
    let mut out = system_metadata.clone();
    out.retain(|k, _| !KEYS.contains(&k));
    Ok(out)
}
