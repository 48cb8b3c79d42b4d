//! Nova's flows, one file each, as Nova 34.0.0 computes them.

pub mod backup;
pub(crate) mod convert;
pub mod create;
pub(crate) mod glance;
pub(crate) mod keys;
pub(crate) mod objects;
pub mod rebuild;
pub mod resize;
pub(crate) mod rows;
pub mod shelve;
pub mod snapshot;
pub mod upload;
pub(crate) mod volume;
