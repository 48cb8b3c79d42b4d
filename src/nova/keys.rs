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

/// The image property naming the image a snapshot descends from; an
/// instance stores it as [`IMAGE_BASE_IMAGE_REF`].
pub const BASE_IMAGE_REF: &str = "base_image_ref";

/// Length, in characters, of the `key` and `value` columns of Nova's
/// `instance_system_metadata` table (`String(255)`).
pub const COLUMN_CHARS: usize = 255;

/// Byte limit of `safe_truncate(str(value), 255)` applied to every image
/// property value before Nova stores it.
pub const VALUE_BYTES: usize = 255;

/// Whether `key` is one of [`SM_SKIP_KEYS`].
#[must_use]
pub fn is_skip_key(key: &str) -> bool {
    key_kind(key) == KeyKind::Skip
}

/// Whether `key` is one of [`SM_INHERITABLE_KEYS`].
#[must_use]
pub fn is_inheritable_key(key: &str) -> bool {
    matches!(key_kind(key), KeyKind::Inheritable(_))
}

/// Whether `key` is a system-metadata key of an image property or attribute,
/// i.e. starts with [`SM_IMAGE_PROP_PREFIX`].
#[must_use]
pub fn is_image_key(key: &str) -> bool {
    // A fixed-size comparison, inlined (`starts_with` calls memcmp).
    key.as_bytes().first_chunk::<6>() == Some(b"image_")
}

/// What Nova's lists say about a property name (a system-metadata key
/// without its prefix), in the order Nova asks: skipped, inherited as an
/// attribute, never inherited by a snapshot, or none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// In no list.
    Plain,
    /// One of [`SM_SKIP_KEYS`].
    Skip,
    /// [`SM_INHERITABLE_KEYS`]`[i]`.
    Inheritable(usize),
    /// One of [`NON_INHERITABLE_IMAGE_PROPERTIES`], or in one of the
    /// [`NON_INHERITABLE_IMAGE_NAMESPACES`].
    NonInheritable,
}

/// The [`KeyKind`] of `key`, in one pass: the listed names have few
/// lengths, so most keys are answered by their length and first byte.
pub(crate) fn key_kind(key: &str) -> KeyKind {
    // One bit per length of a listed name: 7, 8, 11, 12, 13, 16, 20, 22,
    // 24, 25, 30 and 37.
    const LISTED_LENGTHS: u64 = (1 << 7)
        | (1 << 8)
        | (1 << 11)
        | (1 << 12)
        | (1 << 13)
        | (1 << 16)
        | (1 << 20)
        | (1 << 22)
        | (1 << 24)
        | (1 << 25)
        | (1 << 30)
        | (1 << 37);
    if key.len() < 64 && LISTED_LENGTHS >> key.len() & 1 == 1 {
        listed_kind(key)
    } else if in_reserved_namespace(key) {
        KeyKind::NonInheritable
    } else {
        KeyKind::Plain
    }
}

fn listed_kind(key: &str) -> KeyKind {
    match key {
        "mappings" | "block_device_mapping" | "img_mappings" | "img_block_device_mapping" => KeyKind::Skip,
        "min_ram" => KeyKind::Inheritable(0),
        "min_disk" => KeyKind::Inheritable(1),
        "disk_format" => KeyKind::Inheritable(2),
        "container_format" => KeyKind::Inheritable(3),
        "cinder_encryption_key_id"
        | "cinder_encryption_key_deletion_policy"
        | "img_signature"
        | "img_signature_hash_method"
        | "img_signature_key_type"
        | "img_signature_certificate_uuid" => KeyKind::NonInheritable,
        _ if in_reserved_namespace(key) => KeyKind::NonInheritable,
        _ => KeyKind::Plain,
    }
}

pub(crate) fn in_reserved_namespace(key: &str) -> bool {
    key.as_bytes().first() == Some(&b'o')
        && NON_INHERITABLE_IMAGE_NAMESPACES
            .iter()
            .any(|ns| key.starts_with(ns))
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

    /// [`key_kind`] by the lists themselves.
    fn kind_by_the_lists(key: &str) -> KeyKind {
        if SM_SKIP_KEYS.contains(&key) {
            KeyKind::Skip
        } else if let Some(i) = SM_INHERITABLE_KEYS.iter().position(|k| *k == key) {
            KeyKind::Inheritable(i)
        } else if NON_INHERITABLE_IMAGE_PROPERTIES.contains(&key)
            || NON_INHERITABLE_IMAGE_NAMESPACES
                .iter()
                .any(|ns| key.starts_with(ns))
        {
            KeyKind::NonInheritable
        } else {
            KeyKind::Plain
        }
    }

    #[test]
    fn key_kind_agrees_with_the_lists() {
        let listed = SM_SKIP_KEYS
            .iter()
            .chain(&SM_INHERITABLE_KEYS)
            .chain(&NON_INHERITABLE_IMAGE_PROPERTIES)
            .chain(&NON_INHERITABLE_IMAGE_NAMESPACES);
        let mut keys = vec![String::new(), "o".into(), "os_glanc".into(), "prop_00001".into()];
        for name in listed {
            // The name, and near misses of every length around it.
            keys.push(name.to_string());
            for cut in 0..name.len() {
                keys.push(name[..cut].to_string());
                keys.push(format!("{}x", &name[..cut]));
                keys.push(format!("{}{}", &name[..cut], &name[cut + 1..]));
            }
            keys.push(format!("{name}x"));
            keys.push(format!("{name}_with_a_long_tail_{}", "y".repeat(name.len())));
            keys.push(name.to_uppercase());
        }
        for key in &keys {
            assert_eq!(key_kind(key), kind_by_the_lists(key), "{key:?}");
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
