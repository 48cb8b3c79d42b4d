//! [`Instance`]: the facts about a server that the flows read.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A Nova instance, reduced to the fields the flows read besides its system
/// metadata (which is passed separately, as a [`crate::SystemMetadata`]).
///
/// ```
/// use nova_sysmeta::Instance;
/// use uuid::Uuid;
/// let inst = Instance::new(Uuid::nil(), "p-1");
/// assert_eq!(inst.project_id, "p-1");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Instance {
    /// The instance's UUID (snapshots record it as `instance_uuid`).
    pub uuid: Uuid,
    /// The project that owns the instance.
    pub project_id: String,
}

impl Instance {
    /// An instance with the given UUID and owning project.
    pub fn new(uuid: Uuid, project_id: impl Into<String>) -> Self {
        Self {
            uuid,
            project_id: project_id.into(),
        }
    }
}
