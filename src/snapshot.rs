//! Snapshot: `initialize_instance_snapshot_metadata` and `create_image`
//! (nova/compute/utils.py).

use uuid::Uuid;

use crate::config::NovaConfig;
use crate::context::RequestContext;
use crate::convert::image_from_system_metadata_keeping;
use crate::image::ImageMeta;
use crate::image_type::ImageType;
use crate::instance::Instance;
use crate::keys::{KeyKind, NameSet, key_kind, sketch};
use crate::properties::{Properties, PropertyValue};
use crate::system_metadata::SystemMetadata;
use crate::value::Value;

/// The metadata of a new snapshot image of an instance
/// (`initialize_instance_snapshot_metadata`).
///
/// The image is rebuilt from the instance's system metadata
/// ([`image_from_system_metadata`](crate::image_from_system_metadata)) and named `name`. When the caller's
/// project is not the instance's (an admin snapshotting a user's server),
/// visibility is `shared` and `instance_owner` records the owner's project;
/// otherwise it is `private`. The configured non-inheritable properties,
/// Nova's built-in ones ([`NON_INHERITABLE_IMAGE_PROPERTIES`](crate::NON_INHERITABLE_IMAGE_PROPERTIES)) and every
/// `os_glance*` property are removed; then `extra_properties` are added and
/// win over what the instance had.
///
/// ```
/// use nova_sysmeta::{initialize_snapshot_metadata, Instance, NovaConfig, Properties,
///                    RequestContext, SystemMetadata};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_base_image_ref", "img-b"), ("image_cache_in_nova", "True")]
///     .into_iter().collect();
/// let instance = Instance::new(Uuid::nil(), "p-owner");
/// let admin = RequestContext::new("admin", "p-admin");
/// let image = initialize_snapshot_metadata(&admin, &instance, &sm, "snap", &Properties::new(),
///                                          &NovaConfig::default());
/// assert_eq!(image.visibility(), Some("shared"));
/// assert_eq!(image.properties.get("base_image_ref").unwrap(), "img-b");
/// assert_eq!(image.properties.get("instance_owner").unwrap(), "p-owner");
/// assert!(!image.properties.contains_key("cache_in_nova"));
/// ```
pub fn initialize_snapshot_metadata(
    context: &RequestContext,
    instance: &Instance,
    system_metadata: &SystemMetadata,
    name: &str,
    extra_properties: &Properties,
    config: &NovaConfig,
) -> ImageMeta {
    snapshot_with(
        context,
        instance,
        system_metadata,
        name,
        (&[], extra_properties),
        true,
        config,
    )
}

/// [`initialize_snapshot_metadata`] with extra properties in two parts,
/// applied in turn (a key given twice: the later value at the earlier
/// place); without `with_formats`, no `disk_format` or `container_format`.
fn snapshot_with<'a>(
    context: &RequestContext,
    instance: &'a Instance,
    system_metadata: &SystemMetadata,
    name: &str,
    extras: (&[(&'a str, PropertyValue<'a>)], &'a Properties),
    with_formats: bool,
    config: &NovaConfig,
) -> ImageMeta {
    let cross_project = context.project_id.as_deref() != Some(instance.project_id.as_str());
    // Nova adds it to the extra properties, so it wins too.
    let owner = cross_project.then_some(("instance_owner", PropertyValue::Str(&instance.project_id)));
    let extras = extras.0.iter().copied().chain(extras.1.iter()).chain(owner);
    let names = &config.non_inheritable_image_properties;
    let configured = NameSet::new(names);
    // Nova's default configures two names: most keys are ruled out by one
    // bit test instead of a comparison with each.
    let sketches = names.iter().fold(0, |mask, k| mask | sketch(k));
    let mut image = image_from_system_metadata_keeping(
        system_metadata,
        |entry| {
            let class = entry.class();
            class.kind() != KeyKind::NonInheritable
                && (sketches & class.sketch() == 0 || !configured.contains(entry.name()))
        },
        with_formats,
        extras,
    );
    image.name = Some(Value::from(name));
    let visibility = if cross_project { "shared" } else { "private" };
    image.visibility = Some(Value::from(visibility));
    image
}

/// Whether a snapshot drops `key`: configured, built in, or in a reserved
/// namespace.
pub(crate) fn is_non_inheritable(key: &str, configured: &NameSet<'_>) -> bool {
    key_kind(key) == KeyKind::NonInheritable || configured.contains(key)
}

/// The image metadata Nova sends to Glance when it creates an image of an
/// instance (`create_image`), before any upload.
///
/// The properties `instance_uuid`, `user_id` (`str()` of the caller's user
/// id, so `"None"` when absent, as in Nova) and `image_type` are added
/// to `extra_properties` (which win over them), then
/// [`initialize_snapshot_metadata`] runs; for
/// [`ImageType::Snapshot`] the `disk_format` and `container_format` are
/// dropped (the driver sets the real ones at upload).
///
/// ```
/// use nova_sysmeta::{create_image_metadata, ImageType, Instance, NovaConfig, Properties,
///                    RequestContext, SystemMetadata};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_disk_format", "qcow2"), ("image_base_image_ref", "img-b")]
///     .into_iter().collect();
/// let instance = Instance::new(Uuid::nil(), "p-1");
/// let ctx = RequestContext::new("u-1", "p-1");
/// let image = create_image_metadata(&ctx, &instance, &sm, "snap", ImageType::Snapshot,
///                                   &Properties::new(), &NovaConfig::default());
/// assert_eq!(image.properties.get("image_type").unwrap(), "snapshot");
/// assert_eq!(image.properties.get("user_id").unwrap(), "u-1");
/// assert_eq!(image.disk_format, None);
/// ```
pub fn create_image_metadata(
    context: &RequestContext,
    instance: &Instance,
    system_metadata: &SystemMetadata,
    name: &str,
    image_type: ImageType,
    extra_properties: &Properties,
    config: &NovaConfig,
) -> ImageMeta {
    // Nova's `properties` dict: its three keys, then the caller's.
    let mut uuid_text = Uuid::encode_buffer();
    let uuid: &str = instance.uuid.hyphenated().encode_lower(&mut uuid_text);
    let user_id = context.user_id.as_deref().unwrap_or("None");
    let own = [
        ("instance_uuid", PropertyValue::Str(uuid)),
        ("user_id", PropertyValue::Str(user_id)),
        ("image_type", PropertyValue::Str(image_type.as_str())),
    ];
    // A snapshot's formats are dropped (the driver sets the real ones).
    let with_formats = image_type != ImageType::Snapshot;
    snapshot_with(
        context,
        instance,
        system_metadata,
        name,
        (&own, extra_properties),
        with_formats,
        config,
    )
}
