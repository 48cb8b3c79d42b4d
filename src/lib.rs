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
//! use nova_sysmeta::{Flavor, ImageMeta, ImageType, Instance, RequestContext, create, rebuild, snapshot};
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
//! let request = create::Request::new(&image_a, "aaaaaaaa-0000-4000-8000-000000000001", &ctx).flavor(&flavor);
//! let sm = create::populate(&request)?;
//! assert_eq!(sm.get("image_os_type"), Some("windows"));
//! assert_eq!(sm.get("image_min_disk"), Some("40"));
//!
//! // Rebuild to B: every image_ key of A goes, B's come in, and the base
//! // image ref is put back (the fix for bug 1893618).
//! let request = rebuild::Request::new(&sm, &image_b, image_b.id()).flavor(&flavor);
//! let sm = rebuild::reset_image_metadata(&request)?;
//! assert_eq!(sm.base_image_ref(), Some("bbbbbbbb-0000-4000-8000-000000000002"));
//! assert_eq!(sm.get("image_os_type"), None);
//!
//! // Snapshot.
//! let snap = snapshot::create_image(&snapshot::Request::new(&ctx, &instance, &sm, "snap-1"), ImageType::Snapshot)?;
//! assert_eq!(snap.base_image_ref(), Some("bbbbbbbb-0000-4000-8000-000000000002"));
//! assert_eq!(snap.properties.get_str("image_type"), Some("snapshot"));
//! assert_eq!(snap.properties.get_str("instance_uuid"), Some(instance.uuid.to_string().as_str()));
//! assert!(!snap.properties.contains_key("os_type"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # One shape for every flow
//!
//! Each of Nova's flows is a module named after it. Its function takes a
//! `Request`: `Request::new` takes what Nova cannot do without, builder
//! methods (`.flavor(..)`, `.policy(..)`, ...) the rest, and
//! `.config(&NovaConfig)` the Nova release and `nova.conf` options, the
//! one place a release is given. Every flow returns [`Result`]. The
//! requests, like the model types documented as reduced to what the flows
//! read, are `#[non_exhaustive]`: a field Nova adds later is not a breaking
//! change.
//!
//! The one default that moves: a request without `.config(..)` computes
//! [`Release::LATEST`], which becomes the newest modelled Nova in each
//! release of this crate. To keep answers fixed across upgrades of the
//! crate, pin the release: `.config(&NovaConfig::for_release(Release::new(34, 0, 0)?))`.
//!
//! # Where things are
//!
//! | module | Nova 34.0.0 |
//! |---|---|
//! | [`create::populate`] | the system-metadata part of `API._populate_instance_for_create` |
//! | [`rebuild::reset_image_metadata`] | `_reset_image_metadata` inside `API.rebuild` |
//! | [`snapshot::initialize_metadata`], [`snapshot::create_image`], [`snapshot::volume_backed`] | `initialize_instance_snapshot_metadata`, `create_image` (nova/compute/utils.py), `API.snapshot_volume_backed` |
//! | [`backup::image_metadata`], [`backup::rotate`] | `API.backup`, `ComputeManager._rotate_backups` |
//! | [`shelve::start`], [`shelve::record`], [`shelve::remove_keys`] | `API.shelve`, the manager's shelve, `remove_shelved_keys_from_system_metadata` |
//! | [`resize::ensure_base_image_ref`] | the healing line of `API.resize` (from 23.0.0) |
//! | [`upload::finalize`] | `LibvirtDriver._create_snapshot_metadata`, merged at upload |
//! | [`convert`] | `get_system_metadata_from_image`, `get_image_from_system_metadata`, `safe_truncate` (nova/utils.py) |
//! | [`glance`] | `_translate_to_glance`, `_translate_from_glance` (nova/image/glance.py) |
//! | [`rows`] | `metadata_to_dict`, `dict_to_metadata` (nova/utils.py) |
//! | [`convert::image_from_volume`] | `get_image_metadata_from_volume` (nova/block_device.py) |
//! | [`objects`] | `ImageMetaProps.from_dict`, `ImageMeta.from_instance` (nova/objects/image_meta.py), each release's fields |
//! | [`keys`] | `SM_IMAGE_PROP_PREFIX`, `SM_INHERITABLE_KEYS`, `SM_SKIP_KEYS`, the non-inheritable lists, [`keys::BASE_IMAGE_REF`] |
//! | [`python`] | Python's `str()`, `repr()`, `int()`, `json.dumps`, and [`python::value`] |
//! | [`Release`], [`NovaConfig::for_release`] | the release installed, with its `nova.conf` defaults |
//!
//! The root holds the core types: the two maps ([`SystemMetadata`],
//! [`Properties`]; their companion types are in [`map`]), Nova's image
//! dict ([`ImageMeta`]), the model ([`Instance`], [`RequestContext`],
//! [`Flavor`], [`ImageType`]), the configuration ([`NovaConfig`],
//! [`Release`]), JSON values as Python reads them ([`Value`]) and the error
//! ([`Error`], [`Result`]).
//!
//! # Beyond Nova
//!
//! Opt-in, with Nova's behaviour as every default: a rebuild policy for
//! the base image ref ([`rebuild::BaseImageRefPolicy`]), a hardened
//! snapshot profile that keeps server passwords and other unprefixed keys
//! out of shared images ([`profile`]), [`audit`] and repair of damaged
//! maps (bug 1893618 first among them), image [`lineage`], and the repair
//! plan of the snapshots already in Glance ([`image_repair`]).
//!
//! # Errors and limits
//!
//! Every function that can meet bad input returns [`Result`] with one
//! [`Error`] enum, one variant per kind of mistake; none panics.
//! System-metadata keys and values must fit Nova's 255-character columns;
//! property values are cut to 255 bytes as Nova cuts them
//! ([`convert::safe_truncate`]); lists and objects nest at most
//! [`python::value::MAX_DEPTH`] deep.
//!
//! # Layout
//!
//! The private modules are layered, each using only those below it:
//! `python` (Python's values and rules), `storage` (the sealed storage of
//! the two maps, and the key vocabulary), `model` (the domain types),
//! `nova` (Nova's flows, one file each) and `beyond` (what the crate adds).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The layers, bottom up; a module imports only from its own layer or
// those below it (`error` is shared by all).
mod beyond;
mod error;
mod model;
mod nova;
/// Python's semantics: JSON values as Python reads them ([`python::value`]),
/// and `str()`, `repr()`, `int()` and `json.dumps` of them.
pub mod python;
mod storage;

// The root: the core types.
pub use error::{Error, Result};
pub use model::config::NovaConfig;
pub use model::context::RequestContext;
pub use model::flavor::Flavor;
pub use model::image::ImageMeta;
pub use model::image_type::ImageType;
pub use model::instance::Instance;
pub use model::release::Release;
pub use python::value::Value;
pub use storage::properties::Properties;
pub use storage::system_metadata::SystemMetadata;

// Nova's flows, one module per flow (see the crate docs' convention).
pub use nova::{backup, create, rebuild, resize, shelve, snapshot, upload};

/// Conversions Nova's flows are made of (nova/utils.py): an image's
/// metadata to system metadata and back, the image a Cinder volume gives
/// (`get_image_metadata_from_volume`, nova/block_device.py), and
/// `safe_truncate`.
pub mod convert {
    pub use crate::nova::convert::{image_from_system_metadata, system_metadata_from_image};
    pub use crate::nova::volume::{Volume, image_from_volume};
    pub use crate::python::truncate::safe_truncate;
}

/// Glance v2 interop: Nova's image dict to the flat Glance body and back
/// (`_translate_to_glance`, `_translate_from_glance` in nova/image/glance.py).
pub mod glance {
    pub use crate::nova::glance::{GLANCE_BASE_PROPERTIES, JSON_PROPERTIES, from_glance, to_glance};
}

/// Database rows of `instance_system_metadata` (`metadata_to_dict` and
/// `dict_to_metadata` in nova/utils.py).
pub mod rows {
    pub use crate::nova::rows::{Row, from_system_metadata, to_system_metadata};
}

/// Nova's typed view of image properties, release by release: its
/// `ImageMetaProps` and `ImageMeta` objects (nova/objects/image_meta.py).
///
/// [`image_meta_props`](objects::image_meta_props) is
/// `ImageMetaProps.from_dict` (would a release accept an image, and what
/// does it make of it); [`image_meta_from_system_metadata`](objects::image_meta_from_system_metadata)
/// is what `ImageMeta.from_instance` builds (what the virt driver sees).
/// [`Schema`](objects::Schema) lists each release's fields and values.
pub mod objects {
    pub use crate::nova::objects::schema::{Field, FieldKind, Schema};
    pub use crate::nova::objects::{
        ImageMeta, ImageMetaProps, MAX_CPU_IDS, MetaRequest, PropsRequest, TypedValue,
        image_meta_from_system_metadata, image_meta_props,
    };
}

/// Nova's key vocabulary (nova/utils.py, nova/compute/utils.py), the
/// crate's headline keys, and the database's limits.
pub mod keys {
    pub use crate::nova::keys::{
        BASE_IMAGE_REF, COLUMN_CHARS, IMAGE_BASE_IMAGE_REF, NON_INHERITABLE_IMAGE_NAMESPACES,
        NON_INHERITABLE_IMAGE_PROPERTIES, SM_IMAGE_PROP_PREFIX, SM_INHERITABLE_KEYS, SM_SKIP_KEYS,
        VALUE_BYTES, is_image_key, is_inheritable_key, is_skip_key,
    };
    pub use crate::nova::shelve::KEYS as SHELVED_KEYS;
    pub use crate::nova::volume::VIM_IMAGE_ATTRIBUTES;
}

/// The two maps' companion types: their iterators, the value view of
/// [`Properties`], and the values [`SystemMetadata::insert`] takes.
pub mod map {
    pub use crate::storage::properties::{Iter as PropertiesIter, PropertyValue};
    pub use crate::storage::system_metadata::{Iter as SystemMetadataIter, NullableStr};
}

/// Audit and repair of damaged system metadata (beyond Nova): findings
/// with a severity and the key involved, and repairs made the way Nova's
/// own healing makes them.
pub mod audit {
    pub use crate::beyond::audit::{
        Change, Finding, FindingKind, InstanceFacts, Repair, Severity, findings, repair,
    };
}

/// Repairing the snapshots already in Glance (beyond Nova): which lack the
/// `base_image_ref` Nova's fixed rebuild would have given them, and what
/// it would have been, decided from Glance's and Nova's records.
pub mod image_repair {
    pub use crate::beyond::image_repair::{
        BootedFromDamaged, Decision, Image, InstanceHistory, Plan, Reason, Request, Verdict, plan,
    };
    pub use crate::model::timestamp::Timestamp;
}

/// Image lineage (beyond Nova): an instance's image back to its origin
/// through `base_image_ref`, with cycles and missing links reported.
pub mod lineage {
    pub use crate::beyond::lineage::{ImageRecord, Lineage, LineageProblem, LineageProblemKind, trace};
}

/// The hardened snapshot profile (beyond Nova): a view of an instance's
/// system metadata that keeps server passwords and other unprefixed keys
/// out of shared images.
pub mod profile {
    pub use crate::beyond::profile::{ProfiledMetadata, SnapshotProfile};
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
