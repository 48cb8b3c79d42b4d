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

/// One bit standing for a name, from its length and last byte: a filter
/// that rules out most names of a set without comparing them.
pub(crate) fn sketch(name: &str) -> u64 {
    1 << sketch_bit(name)
}

fn sketch_bit(name: &str) -> u16 {
    let last = name.as_bytes().last().copied().unwrap_or(0);
    ((name.len().wrapping_mul(31) ^ usize::from(last)) & 63) as u16
}

/// What a system-metadata key is, worked out once when its entry is
/// written: whether it has the `image_` prefix, the [`KeyKind`] of the
/// name under it (the key without the prefix), and that name's
/// [`sketch`]. A snapshot decides what to do with most entries from this
/// alone, without reading their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyClass(u16);

impl KeyClass {
    const SKETCH: u16 = 63;
    const PREFIXED: u16 = 64;
    /// The entry's value is null (a NULL row), not a string.
    const NULL: u16 = 128;
    const KIND_SHIFT: u16 = 8;

    /// The class of `key`.
    pub(crate) fn of(key: &str) -> Self {
        match strip_image_prefix(key) {
            Some(name) => Self::new(name, key_kind(name), true),
            None => Self::new(key, key_kind(key), false),
        }
    }

    /// The class of a key made of `name` (whose kind is `kind`), behind the
    /// prefix if `prefixed`.
    pub(crate) fn new(name: &str, kind: KeyKind, prefixed: bool) -> Self {
        let kind = match kind {
            KeyKind::Plain => 0,
            KeyKind::Skip => 1,
            KeyKind::NonInheritable => 2,
            // `SM_INHERITABLE_KEYS` has four names.
            KeyKind::Inheritable(i) => 3 + (i as u16 & 3),
        };
        let prefixed = if prefixed { Self::PREFIXED } else { 0 };
        Self(sketch_bit(name) | prefixed | kind << Self::KIND_SHIFT)
    }

    /// The same class, for an entry whose value is null when `null`.
    pub(crate) fn with_null(self, null: bool) -> Self {
        if null {
            Self(self.0 | Self::NULL)
        } else {
            Self(self.0 & !Self::NULL)
        }
    }

    /// Whether the entry's value is null.
    pub(crate) fn is_null(self) -> bool {
        self.0 & Self::NULL != 0
    }

    /// Whether the key starts with [`SM_IMAGE_PROP_PREFIX`].
    pub(crate) fn is_prefixed(self) -> bool {
        self.0 & Self::PREFIXED != 0
    }

    /// The kind of the name.
    pub(crate) fn kind(self) -> KeyKind {
        match self.0 >> Self::KIND_SHIFT {
            0 => KeyKind::Plain,
            1 => KeyKind::Skip,
            2 => KeyKind::NonInheritable,
            i => KeyKind::Inheritable(usize::from(i - 3)),
        }
    }

    /// The name's [`sketch`].
    pub(crate) fn sketch(self) -> u64 {
        1 << (self.0 & Self::SKETCH)
    }
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
    fn a_key_class_keeps_what_it_was_made_of() {
        let mut names: Vec<String> = SM_SKIP_KEYS
            .iter()
            .chain(&SM_INHERITABLE_KEYS)
            .chain(&NON_INHERITABLE_IMAGE_PROPERTIES)
            .map(|k| k.to_string())
            .collect();
        names.extend(["", "os_glance_x", "prop_00001", "é", "image_", "image_min_ram"].map(String::from));
        names.extend((0..200).map(|i| "k".repeat(i)));
        for name in &names {
            for prefixed in [false, true] {
                let key = if prefixed {
                    format!("image_{name}")
                } else {
                    name.clone()
                };
                let class = KeyClass::of(&key);
                // An unprefixed key that itself starts with `image_` is a
                // prefixed key: the class follows the key.
                let (prefix, under) = match strip_image_prefix(&key) {
                    Some(under) => (true, under),
                    None => (false, key.as_str()),
                };
                assert_eq!(class.is_prefixed(), prefix, "{key:?}");
                assert_eq!(class.kind(), key_kind(under), "{key:?}");
                assert_eq!(class.sketch(), sketch(under), "{key:?}");
                assert_eq!(class, KeyClass::new(under, key_kind(under), prefix), "{key:?}");
                // The null flag changes nothing else.
                let null = class.with_null(true);
                assert!(null.is_null() && !class.is_null(), "{key:?}");
                assert_eq!(
                    (null.is_prefixed(), null.kind(), null.sketch()),
                    (class.is_prefixed(), class.kind(), class.sketch()),
                    "{key:?}"
                );
                assert_eq!(null.with_null(false), class, "{key:?}");
            }
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

/// A one-word filter of a set of names: it rules out most other names of
/// system-metadata entries from their key class alone, without reading
/// their text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameFilter(u64);

impl NameFilter {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().fold(0, |mask, name| mask | sketch(name)))
    }

    /// Whether an entry of class `class` may have one of the names.
    pub(crate) fn may_hold(self, class: KeyClass) -> bool {
        self.0 & class.sketch() != 0
    }
}

/// A caller-given list of key names (configured non-inheritable
/// properties, a profile's `allow` list), asked about every key of a map:
/// a short list is scanned, a long one hashed once, so each question costs
/// the same however long the list.
pub(crate) enum NameSet<'a> {
    Few(&'a [String]),
    Many(std::collections::HashSet<&'a str>),
}

impl<'a> NameSet<'a> {
    /// Up to this many names are compared one by one.
    const FEW: usize = 8;

    pub(crate) fn new(names: &'a [String]) -> Self {
        if names.len() <= Self::FEW {
            NameSet::Few(names)
        } else {
            NameSet::Many(names.iter().map(String::as_str).collect())
        }
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        match self {
            // Lengths and first bytes first: `==` on equal lengths calls memcmp.
            NameSet::Few(names) => names
                .iter()
                .any(|k| k.len() == key.len() && k.as_bytes().first() == key.as_bytes().first() && k == key),
            NameSet::Many(set) => set.contains(key),
        }
    }
}

#[cfg(test)]
mod name_set_tests {
    use super::NameSet;

    #[test]
    fn short_and_long_lists_answer_alike() {
        for n in [0, 1, NameSet::FEW, NameSet::FEW + 1, 100] {
            let names: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
            let set = NameSet::new(&names);
            for i in 0..n + 3 {
                assert_eq!(set.contains(&format!("k{i}")), i < n, "{n} names, k{i}");
            }
            assert!(!set.contains(""));
        }
    }
}
