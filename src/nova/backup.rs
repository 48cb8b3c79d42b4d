//! Backup: `API.backup` (nova/compute/api.py) and the pure part of
//! `ComputeManager._rotate_backups` (nova/compute/manager.py).

pub use crate::model::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::image::ImageMeta;
use crate::model::image_type::ImageType;
use crate::nova::snapshot::{Request, create_image_with};
use crate::storage::properties::{Properties, PropertyValue};

/// The image metadata of a backup (`createBackup`):
/// [`snapshot::create_image`](crate::snapshot::create_image) with
/// [`ImageType::Backup`] and `backup_type` added after the request's extra
/// properties (where it wins over one the caller gave). Unlike snapshots,
/// backups keep the disk and container formats.
///
/// ```
/// use nova_sysmeta::{Instance, RequestContext, SystemMetadata, backup, snapshot};
/// use uuid::Uuid;
///
/// let sm: SystemMetadata = [("image_disk_format", "qcow2")].into_iter().collect();
/// let (ctx, instance) = (RequestContext::new("u", "p"), Instance::new(Uuid::nil(), "p"));
/// let img = backup::image_metadata(&snapshot::Request::new(&ctx, &instance, &sm, "nightly"), "daily")?;
/// assert_eq!(img.properties.get_str("image_type"), Some("backup"));
/// assert_eq!(img.properties.get_str("backup_type"), Some("daily"));
/// assert_eq!(img.disk_format.unwrap(), "qcow2");
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
///
/// # Errors
/// None today, as for [`snapshot::create_image`](crate::snapshot::create_image).
pub fn image_metadata(request: &Request<'_>, backup_type: &str) -> Result<ImageMeta> {
    // `dict(extra_properties, backup_type=backup_type)`.
    Ok(create_image_with(
        request,
        ImageType::Backup,
        Some(("backup_type", PropertyValue::Str(backup_type))),
    ))
}

/// An existing image, as backup rotation sees it. Not `Eq`, as
/// [`Properties`] is not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// The image's id.
    pub id: String,
    /// When Glance created it.
    pub created_at: Timestamp,
    /// Its properties (Glance v2 is flat: the non-base attributes).
    #[serde(default)]
    pub properties: Properties,
}

impl Image {
    /// The image `id`, created at `created_at`, with `properties`.
    #[must_use]
    pub fn new(id: impl Into<String>, created_at: Timestamp, properties: Properties) -> Self {
        Self {
            id: id.into(),
            created_at,
            properties,
        }
    }
}

/// Which backups to delete so that at most `rotation` remain, oldest first
/// (`_rotate_backups`).
///
/// Only images whose properties say `image_type = backup`, this
/// `backup_type` and this instance's `instance_uuid` count, as in the
/// Glance query Nova makes. Nova asks Glance for them newest first
/// (`created_at` descending; Glance breaks ties by `id`, descending) and
/// deletes from the end of that list, so the result is ordered by
/// `created_at`, then `id`, ascending.
///
/// ```
/// use nova_sysmeta::backup;
/// use serde_json::json;
/// use uuid::Uuid;
///
/// let uuid = Uuid::nil();
/// let images: Vec<backup::Image> = serde_json::from_value(json!([
///     {"id": "b2", "created_at": "2026-11-02T00:00:00Z",
///      "properties": {"image_type": "backup", "backup_type": "daily", "instance_uuid": uuid.to_string()}},
///     {"id": "b1", "created_at": "2026-11-01T00:00:00Z",
///      "properties": {"image_type": "backup", "backup_type": "daily", "instance_uuid": uuid.to_string()}},
///     {"id": "w1", "created_at": "2026-10-01T00:00:00Z",
///      "properties": {"image_type": "backup", "backup_type": "weekly", "instance_uuid": uuid.to_string()}},
/// ])).unwrap();
/// assert_eq!(backup::rotate(&uuid, "daily", 1, &images), ["b1"]);
/// ```
pub fn rotate<'a>(
    instance_uuid: &uuid::Uuid,
    backup_type: &str,
    rotation: usize,
    images: &'a [Image],
) -> Vec<&'a str> {
    let uuid = instance_uuid.to_string();
    let has = |image: &Image, key: &str, want: &str| {
        image.properties.get(key).and_then(PropertyValue::as_str) == Some(want)
    };
    let mut backups: Vec<&Image> = images
        .iter()
        .filter(|i| {
            has(i, "image_type", "backup")
                && has(i, "backup_type", backup_type)
                && has(i, "instance_uuid", &uuid)
        })
        .collect();
    let excess = backups.len().saturating_sub(rotation);
    backups.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    backups.iter().take(excess).map(|i| i.id.as_str()).collect()
}
