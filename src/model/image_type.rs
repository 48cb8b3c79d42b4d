//! [`ImageType`]: what kind of image `create_image` makes.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, Result};

/// The `image_type` property of an image Nova creates from an instance.
///
/// ```
/// use nova_sysmeta::ImageType;
/// assert_eq!("backup".parse::<ImageType>().unwrap(), ImageType::Backup);
/// assert_eq!(ImageType::Snapshot.to_string(), "snapshot");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    /// `createImage`, shelve: disk and container formats are dropped (the
    /// driver sets the real ones at upload).
    Snapshot,
    /// `createBackup`: formats are kept.
    Backup,
}

impl ImageType {
    /// The property value Nova writes.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Snapshot => "snapshot",
            ImageType::Backup => "backup",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImageType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "snapshot" => Ok(ImageType::Snapshot),
            "backup" => Ok(ImageType::Backup),
            _ => Err(Error::invalid(
                "image_type",
                format!("expected snapshot or backup, found {s:?}"),
            )),
        }
    }
}
