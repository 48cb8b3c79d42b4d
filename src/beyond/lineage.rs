//! Lineage: an instance's image and the chain of `base_image_ref`s behind it.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::storage::properties::{Properties, PropertyValue};

/// An image as lineage sees it: its id and properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image's id.
    pub id: String,
    /// Its properties; `base_image_ref` links to the image it was made from.
    #[serde(default)]
    pub properties: Properties,
}

/// A broken link of a lineage chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineageProblemKind {
    /// The chain comes back to an image already in it.
    Cycle,
    /// The chain names an image that is not in the given set.
    Missing,
}

/// One problem of a chain, with the image id where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineageProblem {
    /// What went wrong.
    pub kind: LineageProblemKind,
    /// The image id that closes the cycle or is missing.
    pub image_id: String,
}

/// An instance's image lineage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// Image ids from the instance's image back to the origin.
    pub chain: Vec<String>,
    /// Cycles and missing links met on the way (the walk stops at the first).
    pub problems: Vec<LineageProblem>,
}

/// Follows `image_ref` → its `base_image_ref` → ... through `images`.
///
/// The walk ends at an image without a (non-empty, string)
/// `base_image_ref` property: the origin. A link to an image not in
/// `images` ends it with a `missing` problem (the id is still in the chain);
/// a link back to an image already in the chain ends it with a `cycle`
/// problem. Each step is O(1), so the walk is linear in the chain's length.
/// When `images` holds an id twice, the first record counts.
///
/// ```
/// use nova_sysmeta::lineage::{ImageRecord, LineageProblemKind, trace};
/// use serde_json::json;
///
/// let images: Vec<ImageRecord> = serde_json::from_value(json!([
///     {"id": "snap-2", "properties": {"base_image_ref": "snap-1"}},
///     {"id": "snap-1", "properties": {"base_image_ref": "debian"}},
///     {"id": "debian", "properties": {}},
/// ])).unwrap();
/// assert_eq!(trace("snap-2", &images).chain, ["snap-2", "snap-1", "debian"]);
/// let gone = trace("snap-3", &images);
/// assert_eq!(gone.problems[0].kind, LineageProblemKind::Missing);
/// ```
#[must_use]
pub fn trace(image_ref: &str, images: &[ImageRecord]) -> Lineage {
    let mut by_id: HashMap<&str, &ImageRecord> = HashMap::with_capacity(images.len());
    for image in images {
        by_id.entry(image.id.as_str()).or_insert(image);
    }
    let mut out = Lineage::default();
    let mut seen = HashSet::new();
    let mut next = Some(image_ref).filter(|r| !r.is_empty());
    while let Some(id) = next {
        if !seen.insert(id) {
            out.problems.push(LineageProblem {
                kind: LineageProblemKind::Cycle,
                image_id: id.to_owned(),
            });
            break;
        }
        out.chain.push(id.to_owned());
        let Some(image) = by_id.get(id) else {
            out.problems.push(LineageProblem {
                kind: LineageProblemKind::Missing,
                image_id: id.to_owned(),
            });
            break;
        };
        next = match image.properties.get("base_image_ref") {
            Some(PropertyValue::Str(base)) if !base.is_empty() => Some(base),
            _ => None,
        };
    }
    out
}
