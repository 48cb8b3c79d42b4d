//! Nova's flows, one file each, as Nova 34.0.0 computes them.

pub(crate) mod backup;
pub(crate) mod convert;
pub(crate) mod create;
pub(crate) mod glance;
pub(crate) mod rebuild;
pub(crate) mod resize;
pub(crate) mod rows;
pub(crate) mod shelve;
pub(crate) mod snapshot;
pub(crate) mod upload;
pub(crate) mod volume;
