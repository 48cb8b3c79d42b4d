//! Resize's healing of instances that the pre-fix rebuild damaged
//! (`API.resize`, and `API.shelve`, in nova/compute/api.py).

use crate::error::Result;
use crate::map::keys::IMAGE_BASE_IMAGE_REF;
use crate::map::system_metadata::{SystemMetadata, validate_entry};

/// `image_base_image_ref = image_ref`, as Nova's resize (from 23.0.0,
/// [`Release::resize_keeps_base_image_ref`](crate::Release::resize_keeps_base_image_ref))
/// and shelve (from 21.2.1) assert it before they proceed (instances
/// rebuilt before the fix for bug 1893618 lost the key). An existing value is overwritten in place.
/// [`ensure_base_image_ref_in`] heals a map in place.
///
/// # Errors
/// [`crate::Error::ValueTooLong`] for an `image_ref` over the 255-character
/// column.
///
/// ```
/// use nova_sysmeta::{SystemMetadata, ensure_base_image_ref};
/// let damaged: SystemMetadata = [("image_os_type", "linux")].into_iter().collect();
/// let healed = ensure_base_image_ref(&damaged, "img-b").unwrap();
/// assert_eq!(healed.get("image_base_image_ref"), Some("img-b"));
/// ```
pub fn ensure_base_image_ref(system_metadata: &SystemMetadata, image_ref: &str) -> Result<SystemMetadata> {
    let mut out = system_metadata.clone();
    ensure_base_image_ref_in(&mut out, image_ref)?;
    Ok(out)
}

/// [`ensure_base_image_ref`], in place; on an error the map is left as it
/// was.
///
/// # Errors
/// Those of [`ensure_base_image_ref`].
pub fn ensure_base_image_ref_in(system_metadata: &mut SystemMetadata, image_ref: &str) -> Result<()> {
    validate_entry(IMAGE_BASE_IMAGE_REF, image_ref)?;
    system_metadata.insert(IMAGE_BASE_IMAGE_REF, image_ref);
    Ok(())
}
