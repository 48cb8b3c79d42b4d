//! Nova's instance system-metadata lifecycle, as pure Rust functions.
//!
//! OpenStack Nova keeps, for every server, a flat string map called *system
//! metadata* (`instance_system_metadata`). At create it copies the boot
//! image's metadata there (`image_` + property name); at rebuild it replaces
//! it; at snapshot it turns the map back into the new image's properties.
//! This crate computes exactly what Nova computes at each step, for any
//! release from Pike (16) to 34.0.0 (the default; see [`Release`] for what
//! changed where), without Python, I/O or global configuration, and proves
//! it against each release's own functions (see the project's parity
//! suite).
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
//! let options = RebuildOptions { flavor: Some(&flavor), ..RebuildOptions::default() };
//! let sm = reset_image_metadata(&sm, &image_b, &options)?;
//! assert_eq!(sm.get("image_base_image_ref"), Some("bbbbbbbb-0000-4000-8000-000000000002"));
//! assert_eq!(sm.get("image_os_type"), None);
//!
//! // Snapshot.
//! let snap = create_image_metadata(&SnapshotRequest::new(&ctx, &instance, &sm, "snap-1"), ImageType::Snapshot);
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
//! | [`SystemMetadata`] | `instance.system_metadata` (`DictOfNullableStringsField`) |
//! | [`ImageMeta`] | Nova's internal image dict |
//! | [`Value`] | a JSON value as Python's `json` reads it |
//! | [`system_metadata_from_image`] | `nova.utils.get_system_metadata_from_image` |
//! | [`image_from_system_metadata`] | `nova.utils.get_image_from_system_metadata` |
//! | [`safe_truncate`] | `nova.utils.safe_truncate` |
//! | [`python::python_str`] | Python's `str()` of a property value |
//! | [`populate_for_create`] | the system-metadata part of `API._populate_instance_for_create` |
//! | [`reset_image_metadata`] | `_reset_image_metadata` inside `API.rebuild` |
//! | [`initialize_snapshot_metadata`] | `nova.compute.utils.initialize_instance_snapshot_metadata` |
//! | [`create_image_metadata`] | `nova.compute.utils.create_image` (the dict passed to Glance) |
//! | [`backup_image_metadata`], [`rotate_backups`] | `API.backup`, `ComputeManager._rotate_backups` |
//! | [`shelve`], [`record_shelved`], [`remove_shelved_keys`] | `API.shelve`, the manager's shelve, `remove_shelved_keys_from_system_metadata` |
//! | [`ensure_base_image_ref`] | the healing line of `API.resize` and `API.shelve` |
//! | [`snapshot_volume_backed`] | `API.snapshot_volume_backed` |
//! | [`finalize_snapshot_upload`] | `LibvirtDriver._create_snapshot_metadata`, merged at upload |
//! | [`glance::to_glance`], [`glance::from_glance`] | `nova.image.glance._translate_to_glance`, `_translate_from_glance` |
//! | [`rows::system_metadata_from_rows`], [`rows::rows_from_system_metadata`] | `metadata_to_dict`, `dict_to_metadata` in `nova.utils` |
//! | [`image_from_volume`] | `nova.block_device.get_image_metadata_from_volume` |
//! | [`keys`] | `SM_IMAGE_PROP_PREFIX`, `SM_INHERITABLE_KEYS`, `SM_SKIP_KEYS` and the non-inheritable lists |
//! | [`Release`], [`NovaConfig::for_release`] | the release installed, with its `nova.conf` defaults |
//!
//! # Beyond Nova
//!
//! Opt-in, with Nova's behaviour as every default: a rebuild policy for
//! the base image ref ([`BaseImageRefPolicy`]), a hardened snapshot profile
//! that keeps server passwords and other unprefixed keys out of shared
//! images ([`SnapshotProfile`]), [`audit`] and repair of damaged maps
//! (bug 1893618 first among them), and image [`lineage`].
//!
//! # Errors and limits
//!
//! Every function that can meet bad input returns [`Result`] with one
//! [`Error`] enum; none panics. System-metadata keys and values must fit
//! Nova's 255-character columns; property values are cut to 255 bytes as
//! Nova cuts them ([`safe_truncate`]); lists and objects nest at most
//! [`value::MAX_DEPTH`] deep.
//!
//! # Layout
//!
//! The modules are layered, each using only those below it: `python`
//! (Python's values and rules), `map` (the sealed storage of the two maps,
//! and the key vocabulary), `model` (the domain types), `nova` (Nova's
//! flows, one file each) and `beyond` (what the crate adds).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The layers, bottom up; a module imports only from its own layer or
// those below it (`error` is shared by all).
mod beyond;
mod error;
mod map;
mod model;
mod nova;
/// Python's semantics: JSON values as Python reads them, `str()`, `repr()`,
/// `int()`, truthiness, `json.dumps`.
pub mod python;

pub use python::value;

// The root: the core types and Nova's flows.
pub use beyond::profile::{ProfiledMetadata, SnapshotProfile};
pub use error::{Error, Result};
pub use map::properties::{Properties, PropertyValue};
pub use map::system_metadata::{NullableStr, SystemMetadata};
pub use model::config::NovaConfig;
pub use model::context::RequestContext;
pub use model::flavor::Flavor;
pub use model::image::ImageMeta;
pub use model::image_type::ImageType;
pub use model::instance::Instance;
pub use model::release::Release;
pub use model::timestamp::Timestamp;
pub use nova::backup::{BackupImage, backup_image_metadata, rotate_backups};
pub use nova::convert::{image_from_system_metadata, system_metadata_from_image};
pub use nova::create::populate_for_create;
pub use nova::rebuild::{BaseImageRefPolicy, RebuildOptions, reset_image_metadata};
pub use nova::resize::{ensure_base_image_ref, ensure_base_image_ref_in};
pub use nova::shelve::{
    Shelve, ShelveOptions, Shelved, record_shelved, remove_shelved_keys, remove_shelved_keys_in, shelve,
    shelved_image_name,
};
pub use nova::snapshot::{SnapshotRequest, create_image_metadata, initialize_snapshot_metadata};
pub use nova::upload::finalize_snapshot_upload;
pub use nova::volume::{Volume, image_from_volume, snapshot_volume_backed};
pub use python::truncate::safe_truncate;
pub use python::value::Value;

/// Audit and repair of damaged system metadata (beyond Nova): findings
/// with a severity and the key involved, and repairs made the way Nova's
/// own healing makes them.
pub mod audit {
    pub use crate::beyond::audit::{
        Change, Finding, FindingKind, InstanceFacts, Repair, Severity, audit, repair,
    };
}

/// Image lineage (beyond Nova): an instance's image back to its origin
/// through `base_image_ref`, with cycles and missing links reported.
pub mod lineage {
    pub use crate::beyond::lineage::{ImageRecord, Lineage, LineageProblem, LineageProblemKind, lineage};
}

/// Glance v2 interop: Nova's image dict to the flat Glance body and back
/// (`_translate_to_glance`, `_translate_from_glance` in nova/image/glance.py).
pub mod glance {
    pub use crate::nova::glance::{GLANCE_BASE_PROPERTIES, JSON_PROPERTIES, from_glance, to_glance};
}

/// Database rows of `instance_system_metadata` (`metadata_to_dict` and
/// `dict_to_metadata` in nova/utils.py).
pub mod rows {
    pub use crate::nova::rows::{MetadataRow, rows_from_system_metadata, system_metadata_from_rows};
}

/// Nova's key vocabulary (nova/utils.py, nova/compute/utils.py) and the
/// database's limits.
pub mod keys {
    pub use crate::map::keys::{
        COLUMN_CHARS, IMAGE_BASE_IMAGE_REF, NON_INHERITABLE_IMAGE_NAMESPACES,
        NON_INHERITABLE_IMAGE_PROPERTIES, SM_IMAGE_PROP_PREFIX, SM_INHERITABLE_KEYS, SM_SKIP_KEYS,
        VALUE_BYTES, is_image_key, is_inheritable_key, is_skip_key,
    };
    pub use crate::nova::shelve::SHELVED_KEYS;
    pub use crate::nova::volume::VIM_IMAGE_ATTRIBUTES;
}

/// [`SystemMetadata`]'s iterator.
pub mod system_metadata {
    pub use crate::map::system_metadata::Iter;
}

/// [`Properties`]' iterator.
pub mod properties {
    pub use crate::map::properties::Iter;
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
