//! A [`Properties`] map made from the entries of a [`SystemMetadata`] map,
//! without building an index where no two keys can meet.

use super::{Properties, PropertyValue, Stored};
use crate::nova::keys::SM_IMAGE_PROP_PREFIX;
use crate::storage::class::sketch;
use crate::storage::system_metadata::{SmEntry, SystemMetadata};
use crate::storage::textmap::{Derived, Entry, Lookup, TextMap};

/// Up to this many keys that may meet others are compared one by one;
/// beyond, an index finds them.
const FEW: usize = 8;

impl Properties {
    /// A map of the entries of `system_metadata` for which `take(entry)`
    /// is true, each key without the `image_` prefix its class records,
    /// then updated with `extras` (Python's `dict.update`). When both
    /// `image_x` and `x` are taken, the later value wins at the earlier
    /// place, as in a dict.
    ///
    /// The system metadata's text is copied in one piece and shared by the
    /// entries; only keys that may meet another (a key without the prefix,
    /// an extra) are compared, so that no index is built.
    pub(crate) fn from_entries<'e>(
        system_metadata: &SystemMetadata,
        mut take: impl FnMut(SmEntry<'_>) -> bool,
        extras: impl Iterator<Item = (&'e str, PropertyValue<'e>)> + Clone,
    ) -> Properties {
        let extra_count = extras.clone().count();
        let source = system_metadata.text_map();
        // The keys that may meet another: unprefixed keys (when prefixed
        // ones exist) and the extras.
        let mut watch = [""; 2 * FEW];
        let mut watching = 0;
        let mut prefixed = 0;
        for slot in source.slots() {
            if slot.value.is_prefixed() {
                prefixed += 1;
            } else if let Some(watched) = watch.get_mut(watching) {
                *watched = source.key(slot);
                watching += 1;
            }
        }
        let unprefixed = source.slots().len() - prefixed;
        if unprefixed > FEW || extra_count > FEW {
            // Many keys may meet: an index finds them.
            let mut props = Properties::with_capacity(system_metadata.len() + extra_count);
            for slot in source.slots() {
                let entry = SmEntry(Entry::new(source, slot));
                if take(entry) {
                    props.put(entry.name(), PropertyValue::Str(entry.value()), Lookup::Index);
                }
            }
            for (key, value) in extras {
                props.put(key, value, Lookup::Index);
            }
            return props;
        }
        // Without a prefixed key, the unprefixed ones cannot meet.
        if prefixed == 0 {
            watching = 0;
        }
        for ((key, _), watched) in extras.clone().zip(watch.iter_mut().skip(watching)) {
            *watched = key;
            watching += 1;
        }
        let watch = &watch[..watching];
        // One bit per watched name: most entries are ruled out by one test.
        let bloom = watch.iter().fold(0, |mask, name| mask | sketch(name));
        let extra_bytes = extras
            .clone()
            .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
            .sum();
        let (map, mut watched) = TextMap::derive_from(
            source,
            |entry| {
                let entry = SmEntry(entry);
                if !take(entry) {
                    return None;
                }
                let class = entry.class();
                Some(Derived {
                    drop: if class.is_prefixed() {
                        SM_IMAGE_PROP_PREFIX.len()
                    } else {
                        0
                    },
                    value: Stored::Text,
                    watch: bloom & class.sketch() != 0 && watch.contains(&entry.name()),
                })
            },
            (extra_count, extra_bytes),
        );
        let mut props = Properties {
            map,
            json: Vec::new(),
            dead_json: 0,
        };
        props.map.merge_duplicates(&mut watched);
        for (key, value) in extras {
            let found = watched
                .as_slice()
                .iter()
                .copied()
                .find(|&p| props.map.is_at(p, key));
            let slot = props.write(key, value);
            let replaced = props.map.file_at(slot, found);
            if !props.settle(replaced) {
                watched.push(props.map.len() - 1);
            }
        }
        props.compact_if_sparse();
        props
    }
}
