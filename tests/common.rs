//! Helpers shared by the integration tests.
#![allow(dead_code)]

use nova_sysmeta::{ImageMeta, SystemMetadata};
use serde_json::Value;

/// An image from JSON, panicking on bad test data. (`json!` objects sort
/// their keys; where order matters, use [`image_text`].)
pub fn image(v: Value) -> ImageMeta {
    serde_json::from_value(v).expect("test image")
}

/// An image from JSON text, in the text's order.
pub fn image_text(text: &str) -> ImageMeta {
    serde_json::from_str(text).expect("test image")
}

/// A system-metadata map from pairs.
pub fn sm(pairs: &[(&str, &str)]) -> SystemMetadata {
    pairs.iter().copied().collect()
}

/// The entries of a map, in order (a null value fails the test: use
/// `iter` where a map may hold one).
pub fn entries(sm: &SystemMetadata) -> Vec<(&str, &str)> {
    sm.iter()
        .map(|(k, v)| (k, v.unwrap_or_else(|| panic!("null value at {k:?}"))))
        .collect()
}
