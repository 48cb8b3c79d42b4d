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

/// The rebuild of `sm` to `image` whose id is `id` (Nova rebuilds from
/// the image the href names), Nova's policy.
pub fn rebuild(
    sm: &SystemMetadata,
    image: &ImageMeta,
    id: &str,
    flavor: Option<&nova_sysmeta::Flavor>,
) -> nova_sysmeta::Result<SystemMetadata> {
    rebuild_with(
        sm,
        image,
        id,
        flavor,
        nova_sysmeta::rebuild::BaseImageRefPolicy::Nova,
    )
}

/// [`rebuild`] with a base-image-ref policy.
pub fn rebuild_with(
    sm: &SystemMetadata,
    image: &ImageMeta,
    id: &str,
    flavor: Option<&nova_sysmeta::Flavor>,
    policy: nova_sysmeta::rebuild::BaseImageRefPolicy,
) -> nova_sysmeta::Result<SystemMetadata> {
    let mut request = nova_sysmeta::rebuild::Request::new(sm, image, Some(id)).policy(policy);
    if let Some(flavor) = flavor {
        request = request.flavor(flavor);
    }
    nova_sysmeta::rebuild::reset_image_metadata(&request)
}
