//! Rebuild: `_reset_image_metadata` inside `API.rebuild`
//! (nova/compute/api.py).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::map::keys::IMAGE_BASE_IMAGE_REF;
use crate::map::system_metadata::SystemMetadata;
use crate::model::flavor::Flavor;
use crate::model::image::ImageMeta;
use crate::model::release::Release;
use crate::nova::convert::{room_for_image, write_system_metadata_from_image};
use crate::python::python_repr;
use crate::python::value::Value;

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
    /// What the release in [`RebuildOptions::release`] does. Since the fix
    /// for bug 1893618 (21.2.1 and 22.0.0): the rebuild image's id, even
    /// when that image is a snapshot recording its own `base_image_ref`.
    /// Before: as [`BaseImageRefPolicy::Legacy`].
    #[default]
    Nova,
    /// Like create: when the rebuild image is a snapshot that records a
    /// `base_image_ref`, keep that origin; otherwise the rebuild image's id.
    /// Removes Nova's create/rebuild asymmetry, so lineage survives
    /// rebuilding to a snapshot.
    Origin,
    /// Every release before 21.2.1, whatever [`RebuildOptions::release`]
    /// says: nothing puts the key back (it stays only when the rebuild
    /// image itself carries `base_image_ref`). This is bug 1893618.
    Legacy,
}

/// How a rebuild resets system metadata: the flavor (`min_disk` is raised
/// to its root disk, as at create), what to record as the base image ref,
/// and the Nova release. `Default` is Nova 34.0.0's: no flavor,
/// [`BaseImageRefPolicy::Nova`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildOptions<'a> {
    /// The instance's flavor.
    pub flavor: Option<&'a Flavor>,
    /// What to record as `image_base_image_ref`.
    pub policy: BaseImageRefPolicy,
    /// The release whose rebuild [`BaseImageRefPolicy::Nova`] computes.
    pub release: Release,
}

/// The system metadata of an instance rebuilt to `image`, from its
/// `current` map (Nova's `orig_sys_metadata`, which the caller keeps).
///
/// Every `image_` key is deleted, the new image's metadata added
/// ([`system_metadata_from_image`](crate::system_metadata_from_image)), and
/// `image_base_image_ref` set to the image's id: the fix for Nova bug
/// 1893618 (21.2.1 and 22.0.0), without which the key was lost and later
/// snapshots had no `base_image_ref` ([`RebuildOptions::release`] gives an
/// older release's rebuild). Keys without the prefix survive untouched. Unlike
/// create, a `base_image_ref` property of the rebuild image does not win:
/// Nova records the rebuild image's own id (an `id` given as `null` is
/// stored as a null value). [`RebuildOptions::policy`] changes what is
/// recorded.
///
/// # Errors
/// [`Error::InvalidValue`] when `image` has no `id`, or one that is
/// neither a string nor `null` (Nova rebuilds from an image href); those of
/// [`system_metadata_from_image`](crate::system_metadata_from_image); and
/// any entry of the result that breaks the database columns
/// ([`SystemMetadata::validate`]).
///
/// ```
/// use nova_sysmeta::{BaseImageRefPolicy, ImageMeta, RebuildOptions, SystemMetadata, reset_image_metadata};
///
/// let before: SystemMetadata = [
///     ("image_os_type", "windows"), ("image_base_image_ref", "img-a"), ("owner_user_name", "alice"),
/// ].into_iter().collect();
/// let image_b: ImageMeta = serde_json::from_str(r#"{"id": "img-b", "properties": {"os_distro": "debian"}}"#)?;
/// let after = reset_image_metadata(&before, &image_b, &RebuildOptions::default())?;
/// assert_eq!(after.iter().collect::<Vec<_>>(), [
///     ("owner_user_name", Some("alice")), ("image_os_distro", Some("debian")),
///     ("image_base_image_ref", Some("img-b")),
/// ]);
///
/// // A snapshot used as the rebuild image: Nova records the snapshot; the
/// // Origin policy keeps the origin it records; Legacy is bug 1893618.
/// let snapshot: ImageMeta = serde_json::from_str(r#"{"id": "snap", "properties": {"base_image_ref": "origin"}}"#)?;
/// let base = |policy| {
///     let options = RebuildOptions { policy, ..RebuildOptions::default() };
///     let sm = reset_image_metadata(&SystemMetadata::new(), &snapshot, &options).unwrap();
///     sm.get("image_base_image_ref").map(str::to_owned)
/// };
/// assert_eq!(base(BaseImageRefPolicy::Nova).as_deref(), Some("snap"));
/// assert_eq!(base(BaseImageRefPolicy::Origin).as_deref(), Some("origin"));
/// let plain: ImageMeta = serde_json::from_str(r#"{"id": "img"}"#)?;
/// let legacy = RebuildOptions { policy: BaseImageRefPolicy::Legacy, ..RebuildOptions::default() };
/// assert_eq!(reset_image_metadata(&SystemMetadata::new(), &plain, &legacy)?.get("image_base_image_ref"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "the rebuilt system metadata is the result"]
pub fn reset_image_metadata(
    current: &SystemMetadata,
    image: &ImageMeta,
    options: &RebuildOptions<'_>,
) -> Result<SystemMetadata> {
    let image_id = match &image.id {
        Some(Value::Str(id)) => Some(id.as_str()),
        Some(Value::Null) => None,
        None => return Err(Error::invalid("image.id", "required to rebuild: Nova records it")),
        Some(other) => {
            return Err(Error::invalid(
                "image.id",
                format!("expected a string or null, found {}", python_repr(other)),
            ));
        }
    };
    // Keys without the prefix survive in order; the new image's keys (all
    // prefixed, so never colliding with them) follow.
    // Room for both parts at once: the text is allocated once.
    let (entries, text_bytes) = room_for_image(image);
    let mut system_metadata = SystemMetadata::new();
    system_metadata.reserve(current.len() + entries, current.text_bytes() + text_bytes);
    system_metadata.update_without_image_keys(current);
    write_system_metadata_from_image(&mut system_metadata, image, options.flavor)?;
    match options.policy {
        BaseImageRefPolicy::Nova if options.release.rebuild_keeps_base_image_ref() => {
            system_metadata.put(IMAGE_BASE_IMAGE_REF, image_id);
        }
        BaseImageRefPolicy::Nova | BaseImageRefPolicy::Legacy => {}
        BaseImageRefPolicy::Origin => {
            system_metadata.set_default(IMAGE_BASE_IMAGE_REF, image_id);
        }
    }
    system_metadata.validate()?;
    Ok(system_metadata)
}
