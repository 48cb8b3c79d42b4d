//! The storage: ordered maps whose keys and text values lie in one string
//! ([`textmap`]), and the two maps built on it, [`SystemMetadata`] and
//! [`Properties`], with the class of each key
//! ([`class`]) they keep beside it.
//!
//! [`SystemMetadata`]: system_metadata::SystemMetadata
//! [`Properties`]: properties::Properties

pub(crate) mod class;
pub(crate) mod properties;
pub(crate) mod system_metadata;
pub(crate) mod textmap;
