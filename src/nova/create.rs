//! Create: `_populate_instance_for_create` (nova/compute/api.py).

use crate::error::{Error, Result};
use crate::map::keys::IMAGE_BASE_IMAGE_REF;
use crate::map::system_metadata::SystemMetadata;
use crate::model::context::RequestContext;
use crate::model::flavor::Flavor;
use crate::model::image::ImageMeta;
use crate::nova::convert::system_metadata_from_image;
use crate::python::value::Value;

/// The system metadata of an instance being created from `image`.
///
/// Nova stores the image's metadata ([`system_metadata_from_image`]), then
/// `image_base_image_ref = image_ref` **unless** the image carries a
/// `base_image_ref` property (a snapshot used as a boot image records its
/// origin, which wins), then `owner_user_name` and `owner_project_name`
/// from the context (null when the context has none, as for many service
/// and admin contexts). The result is `existing` updated with all of that:
/// existing keys are overwritten in place, others kept.
///
/// # Errors
/// Those of [`system_metadata_from_image`]; [`Error::InvalidValue`] for an
/// inheritable attribute that is a list or an object (the instance's
/// `DictOfNullableStringsField` refuses it); and any entry of the result
/// that breaks the database columns ([`SystemMetadata::validate`]).
///
/// ```
/// use nova_sysmeta::{ImageMeta, RequestContext, SystemMetadata, populate_for_create};
///
/// let image: ImageMeta = serde_json::from_str(r#"{
///     "id": "img-a", "properties": {"os_type": "windows"}
/// }"#).unwrap();
/// let ctx = RequestContext::new("u-1", "p-1").with_names("alice", "demo");
/// let sm = populate_for_create(&image, "img-a", None, &ctx, &SystemMetadata::new()).unwrap();
/// assert_eq!(sm.get("image_base_image_ref"), Some("img-a"));
/// assert_eq!(sm.get("owner_user_name"), Some("alice"));
/// ```
pub fn populate_for_create(
    image: &ImageMeta,
    image_ref: &str,
    flavor: Option<&Flavor>,
    context: &RequestContext,
    existing: &SystemMetadata,
) -> Result<SystemMetadata> {
    // Service and admin contexts may have no names: Nova stores them as
    // null values.
    let user_name = context.user_name.as_deref();
    let project_name = context.project_name.as_deref();

    check_coercible(image, flavor.is_some())?;
    let mut system_meta = system_metadata_from_image(image, flavor)?;
    system_meta.set_default(IMAGE_BASE_IMAGE_REF, Some(image_ref));
    system_meta.put("owner_user_name", user_name);
    system_meta.put("owner_project_name", project_name);

    // `existing.update(system_meta)`, slot by slot.
    let out = if existing.is_empty() {
        system_meta
    } else {
        let mut out = existing.clone();
        out.update(&system_meta);
        out
    };
    out.validate()?;
    Ok(out)
}

/// The instance's `system_metadata` field (`DictOfNullableStringsField`)
/// takes strings, numbers and booleans (stored as their `str()`) and
/// refuses lists and objects; Nova stores the inheritable attributes as the
/// image gives them. (A `min_disk` with a flavor is compared first, and a
/// truthy list or object fails that comparison.)
fn check_coercible(image: &ImageMeta, with_flavor: bool) -> Result<()> {
    let attributes = [
        ("min_ram", image.min_ram.as_ref()),
        ("min_disk", image.min_disk.as_ref().filter(|_| !with_flavor)),
        ("disk_format", image.disk_format.as_ref()),
        ("container_format", image.container_format.as_ref()),
        // (A null is not stored: only lists and objects are refused.)
    ];
    for (name, value) in attributes {
        let kind = match value {
            Some(Value::List(_)) => "list",
            Some(Value::Dict(_)) => "dict",
            _ => continue,
        };
        return Err(Error::invalid(
            format!("image_{name}"),
            format!("the instance's system metadata takes a string, not a {kind}"),
        ));
    }
    Ok(())
}
