//! Snapshot: `initialize_instance_snapshot_metadata` and `create_image`
//! (nova/compute/utils.py), and `API.snapshot_volume_backed`
//! (nova/compute/api.py).
//!
//! Every snapshot-making flow takes a [`Request`]: [`initialize_metadata`],
//! [`create_image`], [`volume_backed`], and
//! [`backup::image_metadata`](crate::backup::image_metadata).

use uuid::Uuid;

use crate::error::Result;

use crate::model::config::NovaConfig;
use crate::model::context::RequestContext;
use crate::model::image::ImageMeta;
use crate::model::image_type::ImageType;
use crate::model::instance::Instance;
use crate::model::release::Release;
use crate::nova::convert::image_from_system_metadata_keeping;
use crate::nova::keys::{KeyKind, in_reserved_namespace, key_kind};
use crate::python::value::Value;
use crate::storage::class::{NameFilter, NameSet};
use crate::storage::properties::{Properties, PropertyValue};
use crate::storage::system_metadata::SystemMetadata;

/// What a snapshot of an instance is made from: who asks, the instance,
/// its system metadata (as the snapshot may read it), the new image's name,
/// extra properties (none by default) and Nova's configuration (Nova's
/// defaults unless given).
///
/// ```
/// use nova_sysmeta::{Instance, NovaConfig, Properties, RequestContext, SystemMetadata, snapshot};
/// use uuid::Uuid;
///
/// let (ctx, instance, sm) = (RequestContext::new("u", "p"), Instance::new(Uuid::nil(), "p"), SystemMetadata::new());
/// let extra: Properties = [("note", "nightly")].into_iter().collect();
/// let config = NovaConfig::default().with_non_inheritable_image_properties(["cache_in_nova"]);
/// let request = snapshot::Request::new(&ctx, &instance, &sm, "snap").extra_properties(&extra).config(&config);
/// assert_eq!(request.name, "snap");
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The caller's context (its project decides private or shared).
    pub context: &'a RequestContext,
    /// The instance snapshotted.
    pub instance: &'a Instance,
    /// The instance's system metadata, as the snapshot may read it (see
    /// [`SnapshotProfile`](crate::profile::SnapshotProfile) to withhold keys).
    pub system_metadata: &'a SystemMetadata,
    /// The new image's name.
    pub name: &'a str,
    /// Properties that win over what the instance had; `None`: none.
    pub extra_properties: Option<&'a Properties>,
    /// The Nova configuration (default: [`NovaConfig::default`]).
    pub config: &'a NovaConfig,
}

impl<'a> Request<'a> {
    /// A request without extra properties, with Nova's default
    /// configuration.
    pub fn new(
        context: &'a RequestContext,
        instance: &'a Instance,
        system_metadata: &'a SystemMetadata,
        name: &'a str,
    ) -> Self {
        Self {
            context,
            instance,
            system_metadata,
            name,
            extra_properties: None,
            config: NovaConfig::latest(),
        }
    }

    /// The same request with these extra properties.
    #[must_use]
    pub fn extra_properties(mut self, extra_properties: &'a Properties) -> Self {
        self.extra_properties = Some(extra_properties);
        self
    }

    /// The same request with this configuration.
    #[must_use]
    pub fn config(mut self, config: &'a NovaConfig) -> Self {
        self.config = config;
        self
    }

    /// The same request reading another map (a view of the same
    /// instance's system metadata).
    #[must_use]
    pub fn system_metadata(mut self, system_metadata: &'a SystemMetadata) -> Self {
        self.system_metadata = system_metadata;
        self
    }
}

/// The metadata of a new snapshot image of an instance
/// (`initialize_instance_snapshot_metadata`).
///
/// The image is rebuilt from the instance's system metadata
/// ([`image_from_system_metadata`](crate::convert::image_from_system_metadata)) and
/// named as the request says. When the caller's project is not the
/// instance's (an admin snapshotting a user's server), visibility is
/// `shared` and `instance_owner` records the owner's project; otherwise it
/// is `private`. The configured non-inheritable properties, Nova's built-in
/// ones ([`NON_INHERITABLE_IMAGE_PROPERTIES`](crate::keys::NON_INHERITABLE_IMAGE_PROPERTIES))
/// and every `os_glance*` property are removed; then the extra properties
/// are added and win over what the instance had.
///
/// ```
/// use nova_sysmeta::{Instance, RequestContext, SystemMetadata, snapshot};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_base_image_ref", "img-b"), ("image_cache_in_nova", "True")]
///     .into_iter().collect();
/// let instance = Instance::new(Uuid::nil(), "p-owner");
/// let admin = RequestContext::new("admin", "p-admin");
/// let image = snapshot::initialize_metadata(&snapshot::Request::new(&admin, &instance, &sm, "snap"))?;
/// assert_eq!(image.visibility(), Some("shared"));
/// assert_eq!(image.base_image_ref(), Some("img-b"));
/// assert_eq!(image.properties.get_str("instance_owner"), Some("p-owner"));
/// assert!(!image.properties.contains_key("cache_in_nova"));
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
///
/// # Errors
/// None today: a snapshot is made of what the instance's map holds, which
/// is always valid. The `Result` is every flow's shape, so a check Nova
/// adds later is not a breaking change.
pub fn initialize_metadata(request: &Request<'_>) -> Result<ImageMeta> {
    Ok(snapshot_with(request, &[], true, None))
}

/// [`initialize_metadata`] with the flow's own properties before
/// the caller's and `last` after them, applied in turn (a key given twice:
/// the later value at the earlier place); without `with_formats`, no
/// `disk_format` or `container_format`.
fn snapshot_with<'a>(
    request: &Request<'a>,
    own: &[(&'a str, PropertyValue<'a>)],
    with_formats: bool,
    last: Option<(&'a str, PropertyValue<'a>)>,
) -> ImageMeta {
    let Request {
        context,
        instance,
        system_metadata,
        name,
        ..
    } = *request;
    let config = request.config;
    let release = config.release;
    let cross_project = context.project_id.as_deref() != Some(instance.project_id.as_str());
    // Nova adds it to the extra properties, so it wins too (from 18.2.2).
    let owner = (cross_project && release.snapshot_visibility())
        .then_some(("instance_owner", PropertyValue::Str(&instance.project_id)));
    let caller = request.extra_properties.into_iter().flat_map(Properties::iter);
    let extras = own.iter().copied().chain(caller).chain(last).chain(owner);
    let names = &config.non_inheritable_image_properties;
    let configured = NameSet::new(names);
    // Nova's default configures two names: most keys are ruled out by one
    // bit test instead of a comparison with each.
    let filter = NameFilter::new(names.iter().map(String::as_str));
    // What a snapshot inherits: the entry's name is in no non-inheritable
    // list (built in, reserved namespace, or configured).
    let mut image = image_from_system_metadata_keeping(
        system_metadata,
        |entry| {
            let built_in = entry.kind() == KeyKind::NonInheritable && is_built_in_for(entry.name(), release);
            let configured = entry.may_be_in(&filter) && configured.contains(entry.name());
            !built_in && !configured
        },
        with_formats,
        extras,
    );
    image.name = Some(Value::from(name));
    if release.snapshot_visibility() {
        let visibility = if cross_project { "shared" } else { "private" };
        image.visibility = Some(Value::from(visibility));
    } else {
        image.other.insert("is_public".to_owned(), Value::Bool(false));
    }
    image
}

/// Whether `name`, of [`KeyKind::NonInheritable`], is one that `release`
/// keeps out of snapshots: the built-in names from 21.0.0, the reserved
/// namespaces from 23.0.0.
fn is_built_in_for(name: &str, release: Release) -> bool {
    if in_reserved_namespace(name) {
        release.drops_os_glance()
    } else {
        release.built_in_non_inheritable()
    }
}

/// Whether a snapshot in `release` drops `key`: configured, built in, or
/// in a reserved namespace.
pub(crate) fn is_non_inheritable(key: &str, configured: &NameSet<'_>, release: Release) -> bool {
    (key_kind(key) == KeyKind::NonInheritable && is_built_in_for(key, release)) || configured.contains(key)
}

/// The image metadata Nova sends to Glance when it creates an image of an
/// instance (`create_image`), before any upload.
///
/// The properties `instance_uuid`, `user_id` (`str()` of the caller's user
/// id, so `"None"` when absent, as in Nova) and `image_type` are added
/// to the request's extra properties (which win over them), then
/// [`initialize_metadata`] runs; for
/// [`ImageType::Snapshot`] the `disk_format` and `container_format` are
/// dropped (the driver sets the real ones at upload).
///
/// ```
/// use nova_sysmeta::{ImageType, Instance, RequestContext, SystemMetadata, snapshot};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_disk_format", "qcow2"), ("image_base_image_ref", "img-b")]
///     .into_iter().collect();
/// let instance = Instance::new(Uuid::nil(), "p-1");
/// let ctx = RequestContext::new("u-1", "p-1");
/// let image = snapshot::create_image(&snapshot::Request::new(&ctx, &instance, &sm, "snap"), ImageType::Snapshot)?;
/// assert_eq!(image.properties.get_str("image_type"), Some("snapshot"));
/// assert_eq!(image.properties.get_str("user_id"), Some("u-1"));
/// assert_eq!(image.disk_format, None);
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
///
/// # Errors
/// None today, as for [`initialize_metadata`].
pub fn create_image(request: &Request<'_>, image_type: ImageType) -> Result<ImageMeta> {
    Ok(create_image_with(request, image_type, None))
}

/// [`create_image`] with one more extra property, after the
/// caller's (a backup's `backup_type`).
pub(crate) fn create_image_with<'a>(
    request: &Request<'a>,
    image_type: ImageType,
    last: Option<(&'a str, PropertyValue<'a>)>,
) -> ImageMeta {
    // Nova's `properties` dict: its three keys, then the caller's.
    let mut uuid_text = Uuid::encode_buffer();
    let uuid: &str = request.instance.uuid.hyphenated().encode_lower(&mut uuid_text);
    let user_id = request.context.user_id.as_deref().unwrap_or("None");
    let own = [
        ("instance_uuid", PropertyValue::Str(uuid)),
        ("user_id", PropertyValue::Str(user_id)),
        ("image_type", PropertyValue::Str(image_type.as_str())),
    ];
    // A snapshot's formats are dropped (the driver sets the real ones).
    let with_formats = image_type != ImageType::Snapshot;
    snapshot_with(request, &own, with_formats, last)
}

/// The image metadata of a snapshot of a volume-backed instance: a bucket of
/// properties with no image data.
///
/// [`initialize_metadata`], then `size = 0`, the disk and container
/// formats dropped, the properties `block_device_mapping`, `bdm_v2` and
/// `root_device_name` cleaned, then refilled: `root_device_name` from the
/// instance (when it has one), and, when `image_mappings` (the block-device
/// mappings of the new image, as Nova builds them from the instance's BDMs
/// and volume snapshots) is not empty, `block_device_mapping` and
/// `bdm_v2 = true`.
///
/// ```
/// use nova_sysmeta::{Instance, RequestContext, SystemMetadata, Value, snapshot};
/// use uuid::Uuid;
///
/// let inst = Instance::new(Uuid::nil(), "p").with_root_device_name("/dev/vda");
/// let sm: SystemMetadata = [("image_block_device_mapping", "stale"), ("image_disk_format", "raw")]
///     .into_iter().collect();
/// let mapping = Value::from_json(r#"{"boot_index": 0, "source_type": "snapshot", "snapshot_id": "s-1"}"#)?;
/// let ctx = RequestContext::new("u", "p");
/// let img = snapshot::volume_backed(&snapshot::Request::new(&ctx, &inst, &sm, "snap"), &[mapping.clone()])?;
/// assert_eq!(img.other["size"], 0);
/// assert_eq!(img.disk_format, None);
/// assert_eq!(img.properties.get_str("root_device_name"), Some("/dev/vda"));
/// assert_eq!(img.properties.get("block_device_mapping").unwrap(), Value::List(vec![mapping]));
/// assert_eq!(img.properties.get("bdm_v2").unwrap(), true);
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
///
/// # Errors
/// None today, as for [`initialize_metadata`].
pub fn volume_backed(request: &Request<'_>, image_mappings: &[Value]) -> Result<ImageMeta> {
    let instance = request.instance;
    let mut image = snapshot_with(request, &[], true, None);
    image.other.insert("size".to_owned(), Value::from(0));
    image.container_format = None;
    image.disk_format = None;
    let properties = &mut image.properties;
    for key in ["block_device_mapping", "bdm_v2", "root_device_name"] {
        properties.remove(key);
    }
    if let Some(root) = instance.root_device_name.as_deref().filter(|r| !r.is_empty()) {
        properties.put_owned("root_device_name", Value::from(root));
    }
    if !image_mappings.is_empty() {
        properties.put_owned("block_device_mapping", Value::List(image_mappings.to_vec()));
        properties.put_owned("bdm_v2", Value::Bool(true));
    }
    Ok(image)
}
