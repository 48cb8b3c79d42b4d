//! [`Flavor`]: the part of a Nova flavor that system metadata depends on.

use serde::{Deserialize, Serialize};

/// A Nova flavor, reduced to what this crate reads: `root_gb`, which raises
/// an image's `min_disk` when it is stored (`get_system_metadata_from_image`).
///
/// Other fields of a flavor's JSON are ignored on deserialization.
///
/// ```
/// use nova_sysmeta::Flavor;
/// let flavor: Flavor = serde_json::from_str(r#"{"name": "m1.small", "root_gb": 20}"#).unwrap();
/// assert_eq!(flavor, Flavor::new(20));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flavor {
    /// Size of the root disk in GiB.
    pub root_gb: u64,
}

impl Flavor {
    /// A flavor with the given root disk size.
    #[must_use]
    pub fn new(root_gb: u64) -> Self {
        Self { root_gb }
    }
}
