//! Resize's healing of instances that the pre-fix rebuild damaged
//! (`API.resize`, and `API.shelve`, in nova/compute/api.py).

use crate::error::Result;
use crate::keys::IMAGE_BASE_IMAGE_REF;
use crate::system_metadata::{SystemMetadata, validate_entry};

/// `image_base_image_ref = image_ref`, as Nova's resize and shelve assert it
/// before they proceed (instances rebuilt before the fix for bug 1893618
/// lost the key). An existing value is overwritten in place.
///
/// # Errors
/// [`crate::Error::ValueTooLong`] for an `image_ref` over the 255-character
/// column.
///
/// ```
/// use nova_sysmeta::{ensure_base_image_ref, SystemMetadata};
/// let damaged: SystemMetadata = [("image_os_type", "linux")].into_iter().collect();
/// let healed = ensure_base_image_ref(&damaged, "img-b").unwrap();
/// assert_eq!(healed.get("image_base_image_ref"), Some("img-b"));
/// ```
pub fn ensure_base_image_ref(system_metadata: &SystemMetadata, image_ref: &str) -> Result<SystemMetadata> {
    validate_entry(IMAGE_BASE_IMAGE_REF, image_ref)?;
    let mut out = system_metadata.clone();
    out.insert(IMAGE_BASE_IMAGE_REF, image_ref);
    Ok(out)
}
