//! [`NovaConfig`]: the Nova options that change these flows.

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::release::Release;

/// The Nova release and the options of its `nova.conf` that affect system
/// metadata. `Default` is Nova 34.0.0 with its defaults;
/// [`NovaConfig::for_release`] gives another release with its own
/// defaults. More options may come: change one with its `with_` method.
///
/// Read with serde, an absent `non_inheritable_image_properties` is the
/// given release's default.
///
/// ```
/// use nova_sysmeta::{NovaConfig, Release};
/// assert_eq!(NovaConfig::default().non_inheritable_image_properties, ["cache_in_nova", "bittorrent"]);
/// let config = NovaConfig::default().with_non_inheritable_image_properties(["cache_in_nova"]);
/// assert_eq!(config.non_inheritable_image_properties, ["cache_in_nova"]);
///
/// let train: NovaConfig = serde_json::from_str(r#"{"release": "20.6.1"}"#).unwrap();
/// assert_eq!(train, NovaConfig::for_release(Release::new(20, 6, 1).unwrap()));
/// assert_eq!(train.non_inheritable_image_properties.len(), 6);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NovaConfig {
    /// The Nova release whose behaviour the flows compute.
    pub release: Release,
    /// `[DEFAULT] non_inheritable_image_properties`
    /// (nova/conf/compute.py): image properties a snapshot does not inherit,
    /// on top of the built-in
    /// [`NON_INHERITABLE_IMAGE_PROPERTIES`](crate::keys::NON_INHERITABLE_IMAGE_PROPERTIES)
    /// of releases from 21.0.0.
    pub non_inheritable_image_properties: Vec<String>,
}

impl Default for NovaConfig {
    fn default() -> Self {
        Self::for_release(Release::LATEST)
    }
}

impl<'de> Deserialize<'de> for NovaConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Given {
            #[serde(default)]
            release: Release,
            non_inheritable_image_properties: Option<Vec<String>>,
        }
        let given = Given::deserialize(deserializer)?;
        let config = Self::for_release(given.release);
        Ok(match given.non_inheritable_image_properties {
            Some(names) => config.with_non_inheritable_image_properties(names),
            None => config,
        })
    }
}

impl NovaConfig {
    /// Nova's default configuration ([`Release::LATEST`]), built once: what
    /// a flow request without [`config`](crate::snapshot::Request::config)
    /// computes.
    pub(crate) fn latest() -> &'static NovaConfig {
        static DEFAULT: std::sync::LazyLock<NovaConfig> = std::sync::LazyLock::new(NovaConfig::default);
        &DEFAULT
    }

    /// `release` with its defaults.
    #[must_use]
    pub fn for_release(release: Release) -> Self {
        Self {
            release,
            non_inheritable_image_properties: release
                .default_non_inheritable()
                .iter()
                .map(|&name| name.to_owned())
                .collect(),
        }
    }

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
