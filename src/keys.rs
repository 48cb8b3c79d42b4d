//! Nova's key vocabulary: prefixes, inheritable and skipped keys, limits.

/// `SM_IMAGE_PROP_PREFIX` (nova/utils.py): every image property is stored in
/// system metadata under this prefix.
pub const SM_IMAGE_PROP_PREFIX: &str = "image_";

/// `SM_INHERITABLE_KEYS` (nova/utils.py): top-level image attributes that are
/// stored in system metadata too and come back as top-level attributes, in
/// the order Nova stores them.
pub const SM_INHERITABLE_KEYS: [&str; 4] = ["min_ram", "min_disk", "disk_format", "container_format"];

/// `SM_SKIP_KEYS` (nova/utils.py): large structured properties that are never
/// stored in system metadata and never read back from it.
pub const SM_SKIP_KEYS: [&str; 4] = [
    "mappings",
    "block_device_mapping",
    "img_mappings",
    "img_block_device_mapping",
];

/// `NON_INHERITABLE_IMAGE_PROPERTIES` (nova/compute/utils.py): properties a
/// snapshot never inherits, whatever the configuration says.
pub const NON_INHERITABLE_IMAGE_PROPERTIES: [&str; 6] = [
    "cinder_encryption_key_id",
    "cinder_encryption_key_deletion_policy",
    "img_signature",
    "img_signature_hash_method",
    "img_signature_key_type",
    "img_signature_certificate_uuid",
];

/// `NON_INHERITABLE_IMAGE_NAMESPACES` (nova/compute/utils.py): properties
/// starting with one of these are reserved for other services and never
/// reach a snapshot.
pub const NON_INHERITABLE_IMAGE_NAMESPACES: [&str; 1] = ["os_glance"];

/// The system-metadata key that records the image an instance was built
/// from (`image_` + the snapshot property `base_image_ref`).
pub const IMAGE_BASE_IMAGE_REF: &str = "image_base_image_ref";

/// Length, in characters, of the `key` and `value` columns of Nova's
/// `instance_system_metadata` table (`String(255)`).
pub const COLUMN_CHARS: usize = 255;

/// Byte limit of `safe_truncate(str(value), 255)` applied to every image
/// property value before Nova stores it.
pub const VALUE_BYTES: usize = 255;

/// Whether `key` is one of [`SM_SKIP_KEYS`].
pub fn is_skip_key(key: &str) -> bool {
    // `SM_SKIP_KEYS`, spelled as a match: one length test rejects most keys.
    matches!(
        key,
        "mappings" | "block_device_mapping" | "img_mappings" | "img_block_device_mapping"
    )
}

/// Whether `key` is one of [`SM_INHERITABLE_KEYS`].
pub fn is_inheritable_key(key: &str) -> bool {
    // `SM_INHERITABLE_KEYS`, spelled as a match.
    matches!(key, "min_ram" | "min_disk" | "disk_format" | "container_format")
}

/// Whether `key` is a system-metadata key of an image property or attribute,
/// i.e. starts with [`SM_IMAGE_PROP_PREFIX`].
pub fn is_image_key(key: &str) -> bool {
    // A fixed-size comparison, inlined (`starts_with` calls memcmp).
    key.as_bytes().first_chunk::<6>() == Some(b"image_")
}

/// `key` without the [`SM_IMAGE_PROP_PREFIX`], if it has it.
pub(crate) fn strip_image_prefix(key: &str) -> Option<&str> {
    if is_image_key(key) {
        key.get(SM_IMAGE_PROP_PREFIX.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_inheritable_names_start_where_the_snapshot_filter_looks() {
        // `snapshot::is_non_inheritable` only compares keys starting so.
        for key in NON_INHERITABLE_IMAGE_PROPERTIES
            .iter()
            .chain(&NON_INHERITABLE_IMAGE_NAMESPACES)
        {
            assert!(
                matches!(key.as_bytes().first(), Some(b'c' | b'i' | b'o')),
                "{key}"
            );
        }
    }

    #[test]
    fn the_image_prefix_is_the_constant() {
        assert_eq!(SM_IMAGE_PROP_PREFIX.as_bytes(), b"image_");
        for key in ["image_", "image_x", "image", "imagex", "", "IMAGE_x", "image_é"] {
            assert_eq!(is_image_key(key), key.starts_with(SM_IMAGE_PROP_PREFIX), "{key}");
            assert_eq!(
                strip_image_prefix(key),
                key.strip_prefix(SM_IMAGE_PROP_PREFIX),
                "{key}"
            );
        }
    }

    #[test]
    fn the_matches_spell_the_lists() {
        for key in SM_SKIP_KEYS {
            assert!(is_skip_key(key) && !is_inheritable_key(key));
        }
        for key in SM_INHERITABLE_KEYS {
            assert!(is_inheritable_key(key) && !is_skip_key(key));
        }
        for key in ["", "mapping", "min_ramx", "image_min_ram", "Mappings"] {
            assert!(!is_skip_key(key) && !is_inheritable_key(key));
        }
    }
}
