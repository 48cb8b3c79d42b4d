//! Snapshot: `initialize_instance_snapshot_metadata` and `create_image`
//! (nova/compute/utils.py).

use serde_json::Value;

use crate::config::NovaConfig;
use crate::context::RequestContext;
use crate::convert::image_from_system_metadata;
use crate::image::{ImageMeta, Properties, Visibility};
use crate::image_type::ImageType;
use crate::instance::Instance;
use crate::keys::{NON_INHERITABLE_IMAGE_NAMESPACES, NON_INHERITABLE_IMAGE_PROPERTIES};
use crate::system_metadata::SystemMetadata;

/// The metadata of a new snapshot image of an instance
/// (`initialize_instance_snapshot_metadata`).
///
/// The image is rebuilt from the instance's system metadata
/// ([`image_from_system_metadata`]) and named `name`. When the caller's
/// project is not the instance's (an admin snapshotting a user's server),
/// visibility is `shared` and `instance_owner` records the owner's project;
/// otherwise it is `private`. The configured non-inheritable properties,
/// Nova's built-in ones ([`NON_INHERITABLE_IMAGE_PROPERTIES`]) and every
/// `os_glance*` property are removed; then `extra_properties` are added and
/// win over what the instance had.
///
/// ```
/// use nova_sysmeta::{initialize_snapshot_metadata, Instance, NovaConfig, Properties,
///                    RequestContext, SystemMetadata, Visibility};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_base_image_ref", "img-b"), ("image_cache_in_nova", "True")]
///     .into_iter().collect();
/// let instance = Instance::new(Uuid::nil(), "p-owner");
/// let admin = RequestContext::new("admin", "p-admin");
/// let image = initialize_snapshot_metadata(&admin, &instance, &sm, "snap", &Properties::new(),
///                                          &NovaConfig::default());
/// assert_eq!(image.visibility, Some(Visibility::Shared));
/// assert_eq!(image.properties["base_image_ref"], "img-b");
/// assert_eq!(image.properties["instance_owner"], "p-owner");
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
    let mut image = image_from_system_metadata(system_metadata);
    image.name = Some(name.to_owned());

    let cross_project = context.project_id.as_deref() != Some(instance.project_id.as_str());
    image.visibility = Some(if cross_project {
        Visibility::Shared
    } else {
        Visibility::Private
    });

    image
        .properties
        .retain(|key, _| !is_non_inheritable(key, &config.non_inheritable_image_properties));
    for (key, value) in extra_properties {
        image.properties.insert(key.clone(), value.clone());
    }
    if cross_project {
        // Nova adds it to the extra properties, so it wins too.
        image.properties.insert(
            "instance_owner".to_owned(),
            Value::from(instance.project_id.as_str()),
        );
    }
    image
}

/// Whether a snapshot drops `key`: configured, built in, or in a reserved
/// namespace.
pub(crate) fn is_non_inheritable(key: &str, configured: &[String]) -> bool {
    configured.iter().any(|k| k == key)
        || NON_INHERITABLE_IMAGE_PROPERTIES.contains(&key)
        || NON_INHERITABLE_IMAGE_NAMESPACES
            .iter()
            .any(|ns| key.starts_with(ns))
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
/// assert_eq!(image.properties["image_type"], "snapshot");
/// assert_eq!(image.properties["user_id"], "u-1");
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
    let mut properties = Properties::with_capacity(extra_properties.len() + 3);
    properties.insert("instance_uuid".to_owned(), Value::from(instance.uuid.to_string()));
    properties.insert(
        "user_id".to_owned(),
        Value::from(context.user_id.as_deref().unwrap_or("None")),
    );
    properties.insert("image_type".to_owned(), Value::from(image_type.as_str()));
    for (key, value) in extra_properties {
        properties.insert(key.clone(), value.clone());
    }

    let mut image =
        initialize_snapshot_metadata(context, instance, system_metadata, name, &properties, config);
    if image_type == ImageType::Snapshot {
        image.disk_format = None;
        image.container_format = None;
    }
    image
}
