//! The model types: Nova's image dict, flavor, request context, instance,
//! image type, configuration, Nova release, and backup timestamps.

pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod flavor;
pub(crate) mod image;
pub(crate) mod image_type;
pub(crate) mod instance;
pub(crate) mod release;
pub(crate) mod timestamp;
