//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use nova_sysmeta::{ImageMeta, SystemMetadata};
use serde_json::Value;

/// An example binary, as `cargo build --examples` leaves it next to the
/// test binaries (scripts/test builds them first).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --examples` first",
        path.display()
    );
    path
}

/// An image from JSON, panicking on bad test data.
pub fn image(v: Value) -> ImageMeta {
    serde_json::from_value(v).expect("test image")
}

/// A system-metadata map from pairs.
pub fn sm(pairs: &[(&str, &str)]) -> SystemMetadata {
    pairs.iter().copied().collect()
}

/// The entries of a map, in order.
pub fn entries(sm: &SystemMetadata) -> Vec<(&str, &str)> {
    sm.iter().collect()
}
