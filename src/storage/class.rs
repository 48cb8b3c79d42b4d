//! The class of a system-metadata key, worked out once when its entry is
//! written, and filters of name sets: the storage's summary of Nova's key
//! vocabulary ([`crate::nova::keys`]), so that a flow decides about most
//! entries without reading their text.

use crate::nova::keys::{KeyKind, key_kind, strip_image_prefix};

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

    /// Whether the key starts with [`SM_IMAGE_PROP_PREFIX`](crate::nova::keys::SM_IMAGE_PROP_PREFIX).
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

#[cfg(test)]
mod class_tests {
    use super::*;
    use crate::nova::keys::*;

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
}
