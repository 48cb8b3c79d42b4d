//! [`NovaConfig`]: the Nova options that change these flows.

use serde::{Deserialize, Serialize};

/// The options of `nova.conf` that affect system metadata. `Default` is
/// Nova 34.0.0's default.
///
/// ```
/// use nova_sysmeta::NovaConfig;
/// assert_eq!(NovaConfig::default().non_inheritable_image_properties, ["cache_in_nova", "bittorrent"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NovaConfig {
    /// `[DEFAULT] non_inheritable_image_properties`
    /// (nova/conf/compute.py): image properties a snapshot does not inherit,
    /// on top of the built-in [`crate::NON_INHERITABLE_IMAGE_PROPERTIES`].
    pub non_inheritable_image_properties: Vec<String>,
}

impl Default for NovaConfig {
    fn default() -> Self {
        Self {
            non_inheritable_image_properties: vec!["cache_in_nova".to_owned(), "bittorrent".to_owned()],
        }
    }
}
