//! [`NovaConfig`]: the Nova options that change these flows.

use serde::{Deserialize, Serialize};

/// The options of `nova.conf` that affect system metadata. `Default` is
/// Nova 34.0.0's default. More options may come: change one with its
/// `with_` method.
///
/// ```
/// use nova_sysmeta::NovaConfig;
/// assert_eq!(NovaConfig::default().non_inheritable_image_properties, ["cache_in_nova", "bittorrent"]);
/// let config = NovaConfig::default().with_non_inheritable_image_properties(["cache_in_nova"]);
/// assert_eq!(config.non_inheritable_image_properties, ["cache_in_nova"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NovaConfig {
    /// `[DEFAULT] non_inheritable_image_properties`
    /// (nova/conf/compute.py): image properties a snapshot does not inherit,
    /// on top of the built-in [`crate::keys::NON_INHERITABLE_IMAGE_PROPERTIES`].
    pub non_inheritable_image_properties: Vec<String>,
}

impl Default for NovaConfig {
    fn default() -> Self {
        Self {
            non_inheritable_image_properties: vec!["cache_in_nova".to_owned(), "bittorrent".to_owned()],
        }
    }
}

impl NovaConfig {
    /// The same configuration with these non-inheritable properties
    /// (replacing Nova's default list, as setting the option does).
    #[must_use]
    pub fn with_non_inheritable_image_properties<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.non_inheritable_image_properties = names.into_iter().map(Into::into).collect();
        self
    }
}
