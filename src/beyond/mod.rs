//! What the crate adds to Nova, opt-in: audit and repair of damaged
//! system metadata, the hardened snapshot profile, image lineage, and the
//! repair plan of snapshots already in Glance.

pub(crate) mod audit;
pub(crate) mod image_repair;
pub(crate) mod lineage;
pub(crate) mod profile;
