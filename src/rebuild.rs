//! Rebuild: `_reset_image_metadata` inside `API.rebuild`
//! (nova/compute/api.py).

use serde::{Deserialize, Serialize};

use crate::convert::{room_for_image, write_system_metadata_from_image};
use crate::error::Result;
use crate::flavor::Flavor;
use crate::image::ImageMeta;
use crate::keys::IMAGE_BASE_IMAGE_REF;
use crate::system_metadata::{NullableStr, SystemMetadata};
use crate::textmap::Lookup;

/// What a rebuild records as `image_base_image_ref`.
///
/// Nova records the rebuild image's id. That is the default here; the other
/// two are this crate's additions.
///
/// ```
/// use nova_sysmeta::BaseImageRefPolicy;
/// assert_eq!(BaseImageRefPolicy::default(), BaseImageRefPolicy::Nova);
/// assert_eq!(serde_json::to_string(&BaseImageRefPolicy::Origin).unwrap(), "\"origin\"");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaseImageRefPolicy {
    /// Nova since the fix for bug 1893618: the rebuild image's id, even when
    /// that image is a snapshot recording its own `base_image_ref`.
    #[default]
    Nova,
    /// Like create: when the rebuild image is a snapshot that records a
    /// `base_image_ref`, keep that origin; otherwise the rebuild image's id.
    /// Removes Nova's create/rebuild asymmetry, so lineage survives
    /// rebuilding to a snapshot.
    Origin,
    /// Nova Pike and earlier: nothing puts the key back (it stays only when
    /// the rebuild image itself carries `base_image_ref`). For reproducing
    /// and testing against old deployments; this is bug 1893618.
    Legacy,
}

/// The outcome of a rebuild's metadata reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebuild {
    /// The instance's new system metadata.
    pub system_metadata: SystemMetadata,
    /// The map as it was before (`orig_sys_metadata`: Nova's compute manager
    /// uses it for notifications and to roll back).
    pub orig_system_metadata: SystemMetadata,
}

/// Resets an instance's image metadata for a rebuild to `image` (whose id is
/// `image_id`: a string, or `None`, which Nova stores as a null value).
///
/// Every `image_` key is deleted, the new image's metadata added
/// ([`system_metadata_from_image`](crate::system_metadata_from_image)), and `image_base_image_ref` set to
/// `image_id`: the fix for Nova bug 1893618, without which the key was lost
/// and later snapshots had no `base_image_ref`. Keys without the prefix
/// survive untouched. Unlike create, a `base_image_ref` property of the
/// rebuild image does not win: Nova records the rebuild image's own id.
///
/// # Errors
/// Those of [`system_metadata_from_image`](crate::system_metadata_from_image), and any entry of the result that
/// breaks the database columns ([`SystemMetadata::validate`]).
///
/// ```
/// use nova_sysmeta::{reset_image_metadata, ImageMeta, SystemMetadata};
///
/// let before: SystemMetadata = [
///     ("image_os_type", "windows"), ("image_base_image_ref", "img-a"), ("owner_user_name", "alice"),
/// ].into_iter().collect();
/// let image_b: ImageMeta = serde_json::from_str(r#"{"properties": {"os_distro": "debian"}}"#).unwrap();
/// let out = reset_image_metadata(&before, &image_b, "img-b", None).unwrap();
/// assert_eq!(out.system_metadata.iter().collect::<Vec<_>>(), [
///     ("owner_user_name", Some("alice")), ("image_os_distro", Some("debian")),
///     ("image_base_image_ref", Some("img-b")),
/// ]);
/// assert_eq!(out.orig_system_metadata, before);
/// ```
pub fn reset_image_metadata(
    current: &SystemMetadata,
    image: &ImageMeta,
    image_id: impl NullableStr,
    flavor: Option<&Flavor>,
) -> Result<Rebuild> {
    reset_image_metadata_with_policy(current, image, image_id, flavor, BaseImageRefPolicy::Nova)
}

/// [`reset_image_metadata`] with a choice of what to record as
/// `image_base_image_ref` ([`BaseImageRefPolicy`]).
///
/// ```
/// use nova_sysmeta::{reset_image_metadata_with_policy, BaseImageRefPolicy, ImageMeta, SystemMetadata};
///
/// let snapshot: ImageMeta = serde_json::from_str(r#"{"properties": {"base_image_ref": "origin"}}"#).unwrap();
/// let sm = SystemMetadata::new();
/// let rebuilt = |p| reset_image_metadata_with_policy(&sm, &snapshot, "snap", None, p).unwrap().system_metadata;
/// assert_eq!(rebuilt(BaseImageRefPolicy::Nova).get("image_base_image_ref"), Some("snap"));
/// assert_eq!(rebuilt(BaseImageRefPolicy::Origin).get("image_base_image_ref"), Some("origin"));
/// let plain = ImageMeta::default();
/// let legacy = reset_image_metadata_with_policy(&sm, &plain, "img", None, BaseImageRefPolicy::Legacy).unwrap();
/// assert_eq!(legacy.system_metadata.get("image_base_image_ref"), None);
/// ```
pub fn reset_image_metadata_with_policy(
    current: &SystemMetadata,
    image: &ImageMeta,
    image_id: impl NullableStr,
    flavor: Option<&Flavor>,
    policy: BaseImageRefPolicy,
) -> Result<Rebuild> {
    let image_id = image_id.as_nullable();
    // Keys without the prefix survive in order; the new image's keys (all
    // prefixed, so never colliding with them) follow.
    // Room for both parts at once: the text is allocated once.
    let (entries, text_bytes) = room_for_image(image);
    let mut system_metadata = SystemMetadata::new();
    system_metadata.reserve(current.len() + entries, current.text_bytes() + text_bytes);
    system_metadata.update_where(current, |class| !class.is_prefixed());
    write_system_metadata_from_image(&mut system_metadata, image, flavor)?;
    match policy {
        BaseImageRefPolicy::Nova => {
            system_metadata.put(IMAGE_BASE_IMAGE_REF, image_id, Lookup::Scan);
        }
        BaseImageRefPolicy::Origin => {
            system_metadata.set_default(IMAGE_BASE_IMAGE_REF, image_id);
        }
        BaseImageRefPolicy::Legacy => {}
    }
    system_metadata.validate()?;
    Ok(Rebuild {
        system_metadata,
        orig_system_metadata: current.clone(),
    })
}
