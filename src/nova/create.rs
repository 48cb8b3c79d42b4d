//! Create: the system-metadata part of `API._populate_instance_for_create`
//! (nova/compute/api.py).
//!
//! ```
//! use nova_sysmeta::{ImageMeta, RequestContext, create};
//!
//! let image: ImageMeta = serde_json::from_str(r#"{
//!     "id": "img-a", "properties": {"os_type": "windows"}
//! }"#)?;
//! let ctx = RequestContext::new("u-1", "p-1").with_names("alice", "demo");
//! let sm = create::populate(&create::Request::new(&image, "img-a", &ctx))?;
//! assert_eq!(sm.get("image_base_image_ref"), Some("img-a"));
//! assert_eq!(sm.get("owner_user_name"), Some("alice"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{Error, Result};
use crate::model::config::NovaConfig;
use crate::model::context::RequestContext;
use crate::model::flavor::Flavor;
use crate::model::image::ImageMeta;
use crate::nova::convert::system_metadata_from_image;
use crate::nova::keys::IMAGE_BASE_IMAGE_REF;
use crate::python::value::Value;
use crate::storage::system_metadata::SystemMetadata;

/// What [`populate`] reads: the boot image, the image ref the user asked
/// for, the caller, and optionally the flavor, the instance's existing
/// system metadata and the Nova configuration.
///
/// Build it with [`Request::new`] and the builder methods; its fields are
/// public to read. No release differs in this flow, so
/// [`config`](Request::config) is accepted for uniformity with the other
/// flows and changes nothing.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The boot image (Nova's image dict).
    pub image: &'a ImageMeta,
    /// The image ref the server is created from (stored as
    /// `image_base_image_ref` unless the image records its own origin).
    pub image_ref: &'a str,
    /// The caller; its names are stored as `owner_user_name` and
    /// `owner_project_name`.
    pub context: &'a RequestContext,
    /// The flavor, whose root disk raises `min_disk`.
    pub flavor: Option<&'a Flavor>,
    /// System metadata the instance already has (default: none).
    pub existing: Option<&'a SystemMetadata>,
    /// The Nova configuration (default: [`NovaConfig::default`]).
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// A create from `image`, asked for as `image_ref`, by `context`; no
    /// flavor, no existing system metadata, Nova 34.0.0.
    #[must_use]
    pub fn new(image: &'a ImageMeta, image_ref: &'a str, context: &'a RequestContext) -> Self {
        Self {
            image,
            image_ref,
            context,
            flavor: None,
            existing: None,
            config: NovaConfig::latest(),
        }
    }

    /// With the instance's flavor.
    #[must_use]
    pub fn flavor(mut self, flavor: &'a Flavor) -> Self {
        self.flavor = Some(flavor);
        self
    }

    /// With the system metadata the instance already has.
    #[must_use]
    pub fn existing(mut self, existing: &'a SystemMetadata) -> Self {
        self.existing = Some(existing);
        self
    }

    /// With this Nova configuration (its release among it).
    #[must_use]
    pub fn config(mut self, config: &'a NovaConfig) -> Self {
        self.config = config;
        self
    }
}

/// The system metadata of an instance being created.
///
/// Nova stores the image's metadata
/// ([`system_metadata_from_image`]),
/// then `image_base_image_ref = image_ref` **unless** the image carries a
/// `base_image_ref` property (a snapshot used as a boot image records its
/// origin, which wins), then `owner_user_name` and `owner_project_name`
/// from the context (null when the context has none, as for many service
/// and admin contexts). The result is the existing map updated with all of
/// that: existing keys are overwritten in place, others kept.
///
/// # Errors
/// Those of
/// [`system_metadata_from_image`];
/// [`Error::InvalidValue`] for an inheritable attribute that is a list or
/// an object (the instance's `DictOfNullableStringsField` refuses it); and
/// any entry of the result that breaks the database columns
/// ([`SystemMetadata::validate`]).
pub fn populate(request: &Request<'_>) -> Result<SystemMetadata> {
    let Request {
        image,
        image_ref,
        context,
        flavor,
        existing,
        ..
    } = *request;
    // Service and admin contexts may have no names: Nova stores them as
    // null values.
    let user_name = context.user_name.as_deref();
    let project_name = context.project_name.as_deref();

    check_coercible(image, flavor.is_some())?;
    let mut system_meta = system_metadata_from_image(image, flavor)?;
    system_meta.put_if_absent(IMAGE_BASE_IMAGE_REF, Some(image_ref));
    system_meta.put("owner_user_name", user_name);
    system_meta.put("owner_project_name", project_name);

    // `existing.update(system_meta)`, slot by slot.
    let out = match existing {
        Some(existing) if !existing.is_empty() => {
            let mut out = existing.clone();
            out.update(&system_meta);
            out
        }
        _ => system_meta,
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
