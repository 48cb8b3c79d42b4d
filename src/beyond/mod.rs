//! What the crate adds to Nova, opt-in: audit and repair of damaged
//! system metadata, the hardened snapshot profile, and image lineage.

pub(crate) mod audit;
pub(crate) mod lineage;
pub(crate) mod profile;
