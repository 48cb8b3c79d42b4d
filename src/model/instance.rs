//! [`Instance`]: the facts about a server that the flows read.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A Nova instance, reduced to the fields the flows read besides its system
/// metadata (which is passed separately, as a [`crate::SystemMetadata`]).
///
/// Only `uuid` and `project_id` are always needed; each optional field is
/// read by the flows that say so.
///
/// ```
/// use nova_sysmeta::Instance;
/// use uuid::Uuid;
/// let inst = Instance::new(Uuid::nil(), "p-1").with_image_ref("img-1");
/// assert_eq!(inst.image_ref.as_deref(), Some("img-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Instance {
    /// The instance's UUID (snapshots record it as `instance_uuid`).
    pub uuid: Uuid,
    /// The project that owns the instance.
    pub project_id: String,
    /// `instance.image_ref`: the image it was built or last rebuilt from
    /// (empty for boot-from-volume servers). Read by resize and shelve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<String>,
    /// `display_name`: shelve names its snapshot `<display_name>-shelved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `root_device_name`, e.g. `/dev/vda` (volume-backed snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_device_name: Option<String>,
    /// `kernel_id` (the driver's snapshot metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_id: Option<String>,
    /// `ramdisk_id` (the driver's snapshot metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramdisk_id: Option<String>,
    /// `os_type` (the driver's snapshot metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
}

impl Instance {
    /// An instance with the given UUID and owning project.
    #[must_use]
    pub fn new(uuid: Uuid, project_id: impl Into<String>) -> Self {
        Self {
            uuid,
            project_id: project_id.into(),
            ..Self::default()
        }
    }

    /// The same instance with `image_ref` set.
    #[must_use]
    pub fn with_image_ref(mut self, image_ref: impl Into<String>) -> Self {
        self.image_ref = Some(image_ref.into());
        self
    }

    /// The same instance with `display_name` set.
    #[must_use]
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// The same instance with `root_device_name` (a volume-backed snapshot records it).
    #[must_use]
    pub fn with_root_device_name(mut self, root_device_name: impl Into<String>) -> Self {
        self.root_device_name = Some(root_device_name.into());
        self
    }

    /// The same instance with `kernel_id` (the driver's upload sends it).
    #[must_use]
    pub fn with_kernel_id(mut self, kernel_id: impl Into<String>) -> Self {
        self.kernel_id = Some(kernel_id.into());
        self
    }

    /// The same instance with `ramdisk_id` (the driver's upload sends it).
    #[must_use]
    pub fn with_ramdisk_id(mut self, ramdisk_id: impl Into<String>) -> Self {
        self.ramdisk_id = Some(ramdisk_id.into());
        self
    }

    /// The same instance with `os_type` (the driver's upload sends it).
    #[must_use]
    pub fn with_os_type(mut self, os_type: impl Into<String>) -> Self {
        self.os_type = Some(os_type.into());
        self
    }
}
