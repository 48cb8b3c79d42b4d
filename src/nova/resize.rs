//! Resize's healing of instances that the pre-fix rebuild damaged
//! (`API.resize` in nova/compute/api.py, from 23.0.0).
//!
//! ```
//! use nova_sysmeta::{NovaConfig, Release, SystemMetadata, resize};
//!
//! let damaged: SystemMetadata = [("image_os_distro", "debian")].into_iter().collect();
//! let healed = resize::ensure_base_image_ref(&resize::Request::new(&damaged, "img-b"))?;
//! assert_eq!(healed.get("image_base_image_ref"), Some("img-b"));
//!
//! // Victoria's resize did not heal.
//! let victoria = NovaConfig::for_release(Release::VICTORIA);
//! let same = resize::ensure_base_image_ref(&resize::Request::new(&damaged, "img-b").config(&victoria))?;
//! assert_eq!(same, damaged);
//! # Ok::<(), nova_sysmeta::Error>(())
//! ```

use crate::error::Result;
use crate::model::config::NovaConfig;
use crate::nova::keys::IMAGE_BASE_IMAGE_REF;
use crate::storage::system_metadata::{SystemMetadata, validate_entry};

/// What [`ensure_base_image_ref`] reads: the instance's system metadata,
/// its `image_ref`, and the Nova configuration.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The instance's system metadata.
    pub system_metadata: &'a SystemMetadata,
    /// `instance.image_ref`.
    pub image_ref: &'a str,
    /// The Nova configuration (default: [`NovaConfig::default`]); resize
    /// heals from 23.0.0 ([`Release::resize_keeps_base_image_ref`](crate::Release::resize_keeps_base_image_ref)).
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// A resize of the instance whose map is `system_metadata` and whose
    /// image is `image_ref`, Nova 34.0.0.
    #[must_use]
    pub fn new(system_metadata: &'a SystemMetadata, image_ref: &'a str) -> Self {
        Self {
            system_metadata,
            image_ref,
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

/// The map with `image_base_image_ref = image_ref`, as the configured
/// release's resize leaves it: from 23.0.0 the key is re-asserted
/// (overwriting any value), before that the map is unchanged. (Shelve's
/// own healing, from 21.2.1, is part of [`shelve::start`](crate::shelve::start).)
///
/// # Errors
/// [`Error::ValueTooLong`](crate::Error::ValueTooLong) when the release
/// heals and `image_ref` is longer than the column.
pub fn ensure_base_image_ref(request: &Request<'_>) -> Result<SystemMetadata> {
    let mut out = request.system_metadata.clone();
    if request.config.release.resize_keeps_base_image_ref() {
        heal_base_image_ref(&mut out, request.image_ref)?;
    }
    Ok(out)
}

/// Nova's healing line, shared by resize and shelve:
/// `instance.system_metadata.update({'image_base_image_ref': instance.image_ref})`,
/// overwriting any value in place. On an error the map is unchanged.
pub(crate) fn heal_base_image_ref(system_metadata: &mut SystemMetadata, image_ref: &str) -> Result<()> {
    validate_entry(IMAGE_BASE_IMAGE_REF, image_ref)?;
    system_metadata.put(IMAGE_BASE_IMAGE_REF, Some(image_ref));
    Ok(())
}
