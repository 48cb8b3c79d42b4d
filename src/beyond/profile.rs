//! [`SnapshotProfile`]: what a snapshot may inherit from system metadata.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::nova::keys::{is_image_key, is_skip_key};
use crate::storage::class::NameSet;
use crate::storage::system_metadata::SystemMetadata;

/// Which system-metadata keys a snapshot may copy into its properties.
///
/// Nova copies every key *without* the `image_` prefix into the snapshot's
/// properties (`get_image_from_system_metadata` keeps them as they are), so
/// the server password chunks `password_0`..`password_3`
/// (nova/api/metadata/password.py), `shelved_*`, `clean_attempts`,
/// `boot_roles` and the owner's user and project names reach every project
/// the image is shared with. [`SnapshotProfile::Hardened`] keeps only what
/// came from images, plus the keys the caller allows; the create-image and
/// extra properties are added by the flows as usual.
///
/// Use it by filtering the map the snapshot flows read:
///
/// ```
/// use nova_sysmeta::profile::SnapshotProfile;
/// use nova_sysmeta::{ImageType, Instance, RequestContext, SystemMetadata, snapshot};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_os_type", "linux"), ("password_0", "c2VjcmV0"),
///                           ("owner_user_name", "alice")].into_iter().collect();
/// let profile = SnapshotProfile::Hardened { allow: vec!["owner_user_name".into()] };
/// let view = profile.apply(&sm);
/// assert_eq!(view.withheld, ["password_0"]);
/// let (ctx, instance) = (RequestContext::new("u", "p"), Instance::new(Uuid::nil(), "p"));
/// let request = snapshot::Request::new(&ctx, &instance, &view.system_metadata, "s");
/// let image = snapshot::create_image(&request, ImageType::Snapshot)?;
/// assert!(!image.properties.contains_key("password_0"));
/// assert_eq!(image.properties.get_str("owner_user_name"), Some("alice"));
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "profile", rename_all = "lowercase")]
pub enum SnapshotProfile {
    /// Exactly Nova: every unprefixed key is inherited.
    #[default]
    Nova,
    /// Only `image_` keys are inherited, plus the keys in `allow`.
    Hardened {
        /// Unprefixed keys the snapshot may still inherit.
        #[serde(default)]
        allow: Vec<String>,
    },
}

/// The system metadata a snapshot reads under a profile, and what it left
/// out. Under [`SnapshotProfile::Nova`] it borrows the map as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfiledMetadata<'a> {
    /// The map to hand to the snapshot flows.
    pub system_metadata: Cow<'a, SystemMetadata>,
    /// Keys withheld from the snapshot, in order.
    pub withheld: Vec<String>,
}

impl SnapshotProfile {
    /// The view of `system_metadata` a snapshot may read. Skip keys are
    /// never reported: Nova drops them anyway.
    #[must_use]
    pub fn apply<'a>(&self, system_metadata: &'a SystemMetadata) -> ProfiledMetadata<'a> {
        let allow: &[String] = match self {
            SnapshotProfile::Nova => {
                return ProfiledMetadata {
                    system_metadata: Cow::Borrowed(system_metadata),
                    withheld: Vec::new(),
                };
            }
            SnapshotProfile::Hardened { allow } => allow,
        };
        let allow = NameSet::new(allow);
        let mut kept = SystemMetadata::with_capacity(system_metadata.len());
        let mut withheld = Vec::new();
        for (key, value) in system_metadata.iter() {
            if is_image_key(key) || allow.contains(key) {
                kept.insert(key, value);
            } else if !is_skip_key(key) {
                withheld.push(key.to_owned());
            }
        }
        ProfiledMetadata {
            system_metadata: Cow::Owned(kept),
            withheld,
        }
    }
}
