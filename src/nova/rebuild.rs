//! Rebuild: `_reset_image_metadata` inside `API.rebuild`
//! (nova/compute/api.py).
//!
//! ```
//! use nova_sysmeta::{ImageMeta, SystemMetadata, rebuild};
//!
//! let before: SystemMetadata = [
//!     ("image_os_type", "windows"), ("image_base_image_ref", "img-a"), ("owner_user_name", "alice"),
//! ].into_iter().collect();
//! let image_b: ImageMeta = serde_json::from_str(r#"{"id": "img-b", "properties": {"os_distro": "debian"}}"#)?;
//! let after = rebuild::reset_image_metadata(&rebuild::Request::new(&before, &image_b, Some("img-b")))?;
//! assert_eq!(after.iter().collect::<Vec<_>>(), [
//!     ("owner_user_name", Some("alice")), ("image_os_distro", Some("debian")),
//!     ("image_base_image_ref", Some("img-b")),
//! ]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::config::NovaConfig;
use crate::model::flavor::Flavor;
use crate::model::image::ImageMeta;
use crate::nova::convert::{room_for_image, write_system_metadata_from_image};
use crate::nova::keys::IMAGE_BASE_IMAGE_REF;
use crate::storage::system_metadata::SystemMetadata;

/// What a rebuild records as `image_base_image_ref`.
///
/// Nova records the rebuild image's id. That is the default here; the other
/// two are this crate's additions.
///
/// ```
/// use nova_sysmeta::rebuild::BaseImageRefPolicy;
/// assert_eq!(BaseImageRefPolicy::default(), BaseImageRefPolicy::Nova);
/// assert_eq!(serde_json::to_string(&BaseImageRefPolicy::Origin).unwrap(), "\"origin\"");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaseImageRefPolicy {
    /// What the configured release does. Since the fix for bug 1893618
    /// (21.2.1 and 22.0.0): the rebuild image's id, even when that image is
    /// a snapshot recording its own `base_image_ref`. Before: as
    /// [`BaseImageRefPolicy::Legacy`].
    #[default]
    Nova,
    /// Like create: when the rebuild image is a snapshot that records a
    /// `base_image_ref`, keep that origin; otherwise the rebuild image's id.
    /// Removes Nova's create/rebuild asymmetry, so lineage survives
    /// rebuilding to a snapshot.
    Origin,
    /// Every release before 21.2.1, whatever the configured release:
    /// nothing puts the key back (it stays only when the rebuild image
    /// itself carries `base_image_ref`). This is bug 1893618.
    Legacy,
}

/// What [`reset_image_metadata`] reads: the instance's current system
/// metadata (Nova's `orig_sys_metadata`, which the caller keeps), the
/// rebuild image and its id, and optionally the flavor, the base image ref
/// policy and the Nova configuration.
///
/// ```
/// use nova_sysmeta::rebuild::{BaseImageRefPolicy, Request, reset_image_metadata};
/// use nova_sysmeta::{ImageMeta, NovaConfig, Release, SystemMetadata};
///
/// // A snapshot used as the rebuild image: Nova records the snapshot; the
/// // Origin policy keeps the origin it records; Legacy is bug 1893618.
/// let snapshot: ImageMeta = serde_json::from_str(r#"{"id": "snap", "properties": {"base_image_ref": "origin"}}"#)?;
/// let empty = SystemMetadata::new();
/// let base = |request: Request<'_>| {
///     reset_image_metadata(&request).unwrap().get("image_base_image_ref").map(str::to_owned)
/// };
/// let request = Request::new(&empty, &snapshot, Some("snap"));
/// assert_eq!(base(request).as_deref(), Some("snap"));
/// assert_eq!(base(request.policy(BaseImageRefPolicy::Origin)).as_deref(), Some("origin"));
/// let plain: ImageMeta = serde_json::from_str(r#"{"id": "img"}"#)?;
/// let request = Request::new(&empty, &plain, Some("img"));
/// assert_eq!(base(request.policy(BaseImageRefPolicy::Legacy)), None);
/// // The same as asking the release before the fix.
/// let ussuri = NovaConfig::for_release("21.2.0".parse()?);
/// assert_eq!(base(request.config(&ussuri)), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The instance's system metadata before the rebuild.
    pub current: &'a SystemMetadata,
    /// The rebuild image (Nova's image dict).
    pub image: &'a ImageMeta,
    /// The id Nova rebuilds to (its `image_id`, from the image href), which
    /// it records as `image_base_image_ref`; `None` is stored as a null
    /// value, as Nova stores it. Nova does not compare it with the image's
    /// own `id`, and neither does this crate.
    pub image_id: Option<&'a str>,
    /// The flavor, whose root disk raises `min_disk`, as at create.
    pub flavor: Option<&'a Flavor>,
    /// What to record as `image_base_image_ref` (default: Nova's).
    pub policy: BaseImageRefPolicy,
    /// The Nova configuration (default: [`NovaConfig::default`]); its
    /// release decides what [`BaseImageRefPolicy::Nova`] records.
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// A rebuild of the instance whose system metadata is `current` to
    /// `image`, whose id is `image_id`; no flavor, Nova's policy, Nova
    /// 34.0.0.
    #[must_use]
    pub fn new(current: &'a SystemMetadata, image: &'a ImageMeta, image_id: Option<&'a str>) -> Self {
        Self {
            current,
            image,
            image_id,
            flavor: None,
            policy: BaseImageRefPolicy::Nova,
            config: NovaConfig::latest(),
        }
    }

    /// With the instance's flavor.
    #[must_use]
    pub fn flavor(mut self, flavor: &'a Flavor) -> Self {
        self.flavor = Some(flavor);
        self
    }

    /// With this base image ref policy.
    #[must_use]
    pub fn policy(mut self, policy: BaseImageRefPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// With this Nova configuration (its release among it).
    #[must_use]
    pub fn config(mut self, config: &'a NovaConfig) -> Self {
        self.config = config;
        self
    }
}

/// The system metadata of an instance after a rebuild.
///
/// Every `image_` key is deleted, the new image's metadata added
/// ([`system_metadata_from_image`](crate::convert::system_metadata_from_image)),
/// and `image_base_image_ref` set to the image id: the fix for Nova bug
/// 1893618 (21.2.1 and 22.0.0), without which the key was lost and later
/// snapshots had no `base_image_ref` (an older release in
/// [`Request::config`] gives that release's rebuild). Keys without the
/// prefix survive untouched. Unlike create, a `base_image_ref` property of
/// the rebuild image does not win: Nova records the rebuild image's own id.
/// [`Request::policy`] changes what is recorded.
///
/// # Errors
/// Those of
/// [`system_metadata_from_image`](crate::convert::system_metadata_from_image),
/// and any entry of the result that breaks the database columns
/// ([`SystemMetadata::validate`]).
#[must_use = "the rebuilt system metadata is the result"]
pub fn reset_image_metadata(request: &Request<'_>) -> Result<SystemMetadata> {
    let Request {
        current,
        image,
        image_id,
        flavor,
        policy,
        config,
    } = *request;
    let (entries, text_bytes) = room_for_image(image);
    let mut system_metadata = SystemMetadata::new();
    system_metadata.reserve(current.len() + entries, current.text_bytes() + text_bytes);
    // `for key in list(instance.system_metadata): if key.startswith('image_'): del ...`
    system_metadata.update_without_image_keys(current);
    write_system_metadata_from_image(&mut system_metadata, image, flavor)?;
    match policy {
        BaseImageRefPolicy::Nova if config.release.rebuild_keeps_base_image_ref() => {
            // `new_sys_metadata.update({'image_base_image_ref': image_id})`
            system_metadata.put(IMAGE_BASE_IMAGE_REF, image_id);
        }
        BaseImageRefPolicy::Nova | BaseImageRefPolicy::Legacy => {}
        BaseImageRefPolicy::Origin => {
            system_metadata.put_if_absent(IMAGE_BASE_IMAGE_REF, image_id);
        }
    }
    system_metadata.validate()?;
    Ok(system_metadata)
}
