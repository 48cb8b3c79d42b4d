//! [`Flavor`]: the part of a Nova flavor that system metadata depends on.

use serde::{Deserialize, Deserializer, Serialize};

/// A Nova flavor, reduced to what this crate reads: `root_gb`, which raises
/// an image's `min_disk` when it is stored (`get_system_metadata_from_image`).
///
/// Read with serde, the other fields of Nova's `Flavor` object
/// ([`Flavor::NOVA_FIELDS`]: `name`, `memory_mb`, `extra_specs`, ...) are
/// accepted and not read; any other name is refused, so a typo
/// (`"root_gbs"`) is an error, never a flavor without a root disk.
///
/// ```
/// use nova_sysmeta::Flavor;
/// let flavor: Flavor = serde_json::from_str(r#"{"name": "m1.small", "root_gb": 20}"#)?;
/// assert_eq!(flavor, Flavor::new(20));
/// assert!(serde_json::from_str::<Flavor>(r#"{"root_gbs": 20}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Flavor {
    /// Size of the root disk in GiB.
    pub root_gb: u64,
}

impl Flavor {
    /// The fields of Nova's `Flavor` object (nova/objects/flavor.py, with
    /// the timestamps and `deleted` of its base), which a flavor read with
    /// serde may carry beside `root_gb`.
    pub const NOVA_FIELDS: [&'static str; 19] = [
        "id",
        "name",
        "memory_mb",
        "vcpus",
        "root_gb",
        "ephemeral_gb",
        "flavorid",
        "swap",
        "rxtx_factor",
        "vcpu_weight",
        "disabled",
        "is_public",
        "extra_specs",
        "projects",
        "description",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ];

    /// A flavor with the given root disk size.
    #[must_use]
    pub fn new(root_gb: u64) -> Self {
        Self { root_gb }
    }
}

impl<'de> Deserialize<'de> for Flavor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlavorVisitor;
        impl<'de> serde::de::Visitor<'de> for FlavorVisitor {
            type Value = Flavor;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a flavor object with root_gb")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Flavor, A::Error> {
                let mut root_gb = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "root_gb" {
                        root_gb = Some(map.next_value::<u64>()?);
                    } else if Flavor::NOVA_FIELDS.contains(&key.as_ref()) {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    } else {
                        return Err(serde::de::Error::unknown_field(&key, &Flavor::NOVA_FIELDS));
                    }
                }
                let root_gb = root_gb.ok_or_else(|| serde::de::Error::missing_field("root_gb"))?;
                Ok(Flavor { root_gb })
            }
        }
        deserializer.deserialize_map(FlavorVisitor)
    }
}
