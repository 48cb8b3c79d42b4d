//! Nova's instance system-metadata lifecycle, as pure Rust functions.
//!
//! OpenStack Nova keeps, for every server, a flat string map called *system
//! metadata* (`instance_system_metadata`). At create it copies the boot
//! image's metadata there (`image_` + property name); at rebuild it replaces
//! it; at snapshot it turns the map back into the new image's properties.
//! This crate computes exactly what Nova 34.0.0 computes at each step,
//! without Python, I/O or global configuration, and proves it against Nova's
//! own functions (see the project's parity suite).
//!
//! # A tour: the story of bug 1893618
//!
//! A server is created from a Windows image A, rebuilt to a Linux image B,
//! then snapshotted. The snapshot must say it descends from B, and carry
//! nothing of A.
//!
//! ```
//! use nova_sysmeta::*;
//! use uuid::Uuid;
//!
//! let image_a: ImageMeta = serde_json::from_str(r#"{
//!     "id": "aaaaaaaa-0000-4000-8000-000000000001",
//!     "min_disk": 40, "disk_format": "qcow2", "container_format": "bare",
//!     "properties": {"os_type": "windows", "hw_firmware_type": "uefi"}
//! }"#)?;
//! let image_b: ImageMeta = serde_json::from_str(r#"{
//!     "id": "bbbbbbbb-0000-4000-8000-000000000002",
//!     "min_disk": 10, "disk_format": "raw", "container_format": "bare",
//!     "properties": {"os_distro": "debian"}
//! }"#)?;
//! let ctx = RequestContext::new("user-1", "project-1").with_names("alice", "demo");
//! let instance = Instance::new(Uuid::parse_str("11111111-2222-4333-8444-555555555555")?, "project-1");
//! let flavor = Flavor::new(20);
//!
//! // Create from A.
//! let sm = populate_for_create(&image_a, "aaaaaaaa-0000-4000-8000-000000000001",
//!                              Some(&flavor), &ctx, &SystemMetadata::new())?;
//! assert_eq!(sm.get("image_os_type"), Some("windows"));
//! assert_eq!(sm.get("image_min_disk"), Some("40"));
//!
//! // Rebuild to B: every image_ key of A goes, B's come in, and the base
//! // image ref is put back (the fix for bug 1893618).
//! let rebuilt = reset_image_metadata(&sm, &image_b, "bbbbbbbb-0000-4000-8000-000000000002",
//!                                    Some(&flavor))?;
//! let sm = rebuilt.system_metadata;
//! assert_eq!(sm.get("image_base_image_ref"), Some("bbbbbbbb-0000-4000-8000-000000000002"));
//! assert_eq!(sm.get("image_os_type"), None);
//!
//! // Snapshot.
//! let snap = create_image_metadata(&ctx, &instance, &sm, "snap-1", ImageType::Snapshot,
//!                                  &Properties::new(), &NovaConfig::default());
//! assert_eq!(snap.properties.get("base_image_ref").unwrap(), "bbbbbbbb-0000-4000-8000-000000000002");
//! assert_eq!(snap.properties.get("image_type").unwrap(), "snapshot");
//! assert_eq!(snap.properties.get("instance_uuid").unwrap(), instance.uuid.to_string());
//! assert!(!snap.properties.contains_key("os_type"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Map to Nova
//!
//! | this crate | Nova 34.0.0 |
//! |---|---|
//! | [`system_metadata_from_image`] | `nova.utils.get_system_metadata_from_image` |
//! | [`image_from_system_metadata`] | `nova.utils.get_image_from_system_metadata` |
//! | [`safe_truncate`] | `nova.utils.safe_truncate` |
//! | [`python_str`] | Python's `str()` of a property value |
//! | [`populate_for_create`] | the system-metadata part of `API._populate_instance_for_create` |
//! | [`reset_image_metadata`] | `_reset_image_metadata` inside `API.rebuild` |
//! | [`initialize_snapshot_metadata`] | `nova.compute.utils.initialize_instance_snapshot_metadata` |
//! | [`create_image_metadata`] | `nova.compute.utils.create_image` (the dict passed to Glance) |
//! | [`backup_image_metadata`], [`rotate_backups`] | `API.backup`, `ComputeManager._rotate_backups` |
//! | [`shelve`], [`record_shelved`], [`remove_shelved_keys`] | `API.shelve`, the manager's shelve, unshelve's cleanup |
//! | [`ensure_base_image_ref`] | the healing line of `API.resize` and `API.shelve` |
//! | [`snapshot_volume_backed`] | `API.snapshot_volume_backed` |
//! | [`finalize_snapshot_upload`] | `LibvirtDriver._create_snapshot_metadata`, merged at upload |
//! | [`to_glance`], [`from_glance`] | `nova.image.glance._translate_to_glance`, `_translate_from_glance` |
//! | [`metadata_to_dict`], [`dict_to_metadata`] | the same names in `nova.utils` |
//! | [`image_from_volume`] | `nova.block_device.get_image_metadata_from_volume` |
//!
//! # Beyond Nova
//!
//! Opt-in, with Nova's behaviour as every default: a rebuild policy for
//! the base image ref ([`BaseImageRefPolicy`]), a hardened snapshot profile
//! that keeps server passwords and other unprefixed keys out of shared
//! images ([`SnapshotProfile`]), [`audit`] and [`repair`] of damaged maps
//! (bug 1893618 first among them), and image [`lineage`].
//!
//! # Errors and limits
//!
//! Every function that can meet bad input returns [`Result`] with one
//! [`Error`] enum; none panics. System-metadata keys and values must fit
//! Nova's 255-character columns; property values are cut to 255 bytes as
//! Nova cuts them ([`safe_truncate`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod backup;
mod config;
mod context;
mod convert;
mod create;
mod error;
mod flavor;
mod glance;
mod image;
mod image_type;
mod instance;
mod keys;
mod lineage;
mod profile;
mod properties;
mod pystr;
mod rebuild;
mod resize;
mod rows;
mod shelve;
mod snapshot;
mod system_metadata;
mod textmap;
mod timestamp;
mod truncate;
mod upload;
pub mod value;
mod volume;

pub use audit::{
    Change, Finding, FindingKind, InstanceFacts, Repair, Severity, audit, audit_with_config, repair,
    repair_with_config,
};
pub use backup::{BackupImage, backup_image_metadata, rotate_backups};
pub use config::NovaConfig;
pub use context::RequestContext;
pub use convert::{image_from_system_metadata, system_metadata_from_image};
pub use create::populate_for_create;
pub use error::{Error, Result};
pub use flavor::Flavor;
pub use glance::{GLANCE_BASE_PROPERTIES, JSON_PROPERTIES, from_glance, to_glance};
pub use image::ImageMeta;
pub use image_type::ImageType;
pub use instance::Instance;
pub use keys::{
    COLUMN_CHARS, IMAGE_BASE_IMAGE_REF, NON_INHERITABLE_IMAGE_NAMESPACES, NON_INHERITABLE_IMAGE_PROPERTIES,
    SM_IMAGE_PROP_PREFIX, SM_INHERITABLE_KEYS, SM_SKIP_KEYS, VALUE_BYTES, is_image_key, is_inheritable_key,
    is_skip_key,
};
pub use lineage::{ImageRecord, Lineage, LineageProblem, LineageProblemKind, lineage};
pub use profile::{ProfiledMetadata, SnapshotProfile};
pub use properties::{Properties, PropertyValue};
pub use pystr::{python_float_repr, python_int, python_json_dumps, python_repr, python_str};
pub use rebuild::{BaseImageRefPolicy, Rebuild, reset_image_metadata, reset_image_metadata_with_policy};
pub use resize::ensure_base_image_ref;
pub use rows::{MetadataRow, dict_to_metadata, metadata_to_dict};
pub use shelve::{SHELVED_KEYS, Shelve, record_shelved, remove_shelved_keys, shelve};
pub use snapshot::{create_image_metadata, initialize_snapshot_metadata};
pub use system_metadata::{NullableStr, SystemMetadata};
pub use timestamp::Timestamp;
pub use truncate::safe_truncate;
pub use upload::finalize_snapshot_upload;
pub use value::{Int, MAX_DEPTH, MAX_INT_DIGITS, Value};
pub use volume::{VIM_IMAGE_ATTRIBUTES, Volume, image_from_volume, snapshot_volume_backed};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
