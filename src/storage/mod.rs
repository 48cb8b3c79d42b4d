//! The storage: ordered maps whose keys and text values lie in one string
//! ([`textmap`]), and the two maps built on it, [`SystemMetadata`] and
//! [`Properties`], with the key vocabulary they classify keys by.
//!
//! [`SystemMetadata`]: system_metadata::SystemMetadata
//! [`Properties`]: properties::Properties

pub(crate) mod keys;
pub(crate) mod properties;
pub(crate) mod system_metadata;
pub(crate) mod textmap;
