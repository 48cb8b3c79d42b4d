//! Rebuild: `_reset_image_metadata` inside `API.rebuild`
//! (nova/compute/api.py).

use serde::{Deserialize, Serialize};

use crate::convert::system_metadata_from_image;
use crate::error::Result;
use crate::flavor::Flavor;
use crate::image::ImageMeta;
use crate::keys::{IMAGE_BASE_IMAGE_REF, is_image_key};
use crate::system_metadata::SystemMetadata;

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
/// `image_id`).
///
/// Every `image_` key is deleted, the new image's metadata added
/// ([`system_metadata_from_image`]), and `image_base_image_ref` set to
/// `image_id`: the fix for Nova bug 1893618, without which the key was lost
/// and later snapshots had no `base_image_ref`. Keys without the prefix
/// survive untouched. Unlike create, a `base_image_ref` property of the
/// rebuild image does not win: Nova records the rebuild image's own id.
///
/// # Errors
/// Those of [`system_metadata_from_image`], and any entry of the result that
/// breaks the database columns ([`SystemMetadata::validate`]).
///
/// ```
/// use nova_sysmeta::{reset_image_metadata, ImageMeta, SystemMetadata};
/// use serde_json::json;
///
/// let before: SystemMetadata = [
///     ("image_os_type", "windows"), ("image_base_image_ref", "img-a"), ("owner_user_name", "alice"),
/// ].into_iter().collect();
/// let image_b: ImageMeta = serde_json::from_value(json!({"properties": {"os_distro": "debian"}})).unwrap();
/// let out = reset_image_metadata(&before, &image_b, "img-b", None).unwrap();
/// assert_eq!(out.system_metadata.iter().collect::<Vec<_>>(), [
///     ("owner_user_name", "alice"), ("image_os_distro", "debian"), ("image_base_image_ref", "img-b"),
/// ]);
/// assert_eq!(out.orig_system_metadata, before);
/// ```
pub fn reset_image_metadata(
    current: &SystemMetadata,
    image: &ImageMeta,
    image_id: &str,
    flavor: Option<&Flavor>,
) -> Result<Rebuild> {
    let mut new_sys_metadata = system_metadata_from_image(image, flavor)?;
    new_sys_metadata.insert(IMAGE_BASE_IMAGE_REF, image_id);

    let mut system_metadata: SystemMetadata = current.iter().filter(|(key, _)| !is_image_key(key)).collect();
    system_metadata.update(&new_sys_metadata);
    system_metadata.validate()?;
    Ok(Rebuild {
        system_metadata,
        orig_system_metadata: current.clone(),
    })
}
