//! `SystemMetadata` against a model: an `IndexMap` with Python dict
//! semantics (insert keeps an existing key's place, removal keeps order).
//! The map stores its entries in one string with an index of positions,
//! compacting replaced text; long random sequences of every mutation must
//! leave it equal to the model, entry by entry and in order.

use indexmap::IndexMap;
use nova_sysmeta::SystemMetadata;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(String, String),
    SetDefault(String, String),
    Remove(String),
    /// Keep entries whose key's length parity, or value's, differs from the flag.
    Retain(bool),
    Update(Vec<(String, String)>),
    Clone,
    SerdeRoundTrip,
}

fn key() -> impl Strategy<Value = String> {
    // Few keys so that replacements and removals hit; some share prefixes.
    prop_oneof!["(image_)?[a-d]{1,2}", Just(String::new()), "[é€😀]{1,2}",]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,6}",
        // Long values make dead text pile up, so compaction runs.
        (100usize..400).prop_map(|n| "v".repeat(n)),
        "[é\"\\\\\n]{0,4}",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (key(), value()).prop_map(|(k, v)| Op::SetDefault(k, v)),
        3 => key().prop_map(Op::Remove),
        1 => any::<bool>().prop_map(Op::Retain),
        1 => prop::collection::vec((key(), value()), 0..6).prop_map(Op::Update),
        1 => Just(Op::Clone),
        1 => Just(Op::SerdeRoundTrip),
    ]
}

fn keep(flag: bool, key: &str, value: &str) -> bool {
    (key.len() % 2 == 0) != flag || value.len() % 3 == 0
}

fn check(sm: &SystemMetadata, model: &IndexMap<String, String>) -> Result<(), TestCaseError> {
    let entries: Vec<(&str, &str)> = sm.iter().collect();
    let expected: Vec<(&str, &str)> = model.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    prop_assert_eq!(&entries, &expected);
    prop_assert_eq!(sm.len(), model.len());
    let reversed: Vec<(&str, &str)> = sm.iter().rev().collect();
    prop_assert_eq!(reversed, expected.iter().rev().copied().collect::<Vec<_>>());
    for (k, v) in model {
        prop_assert_eq!(sm.get(k), Some(v.as_str()));
        prop_assert!(sm.contains_key(k));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn behaves_like_an_ordered_dict(ops in prop::collection::vec(op(), 0..120)) {
        let mut sm = SystemMetadata::new();
        let mut model: IndexMap<String, String> = IndexMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let old = sm.insert(&k, &v);
                    prop_assert_eq!(old, model.insert(k, v));
                }
                Op::SetDefault(k, v) => {
                    let stored = sm.setdefault(&k, &v).to_owned();
                    prop_assert_eq!(&stored, model.entry(k).or_insert(v));
                }
                Op::Remove(k) => {
                    prop_assert_eq!(sm.remove(&k), model.shift_remove(&k));
                    prop_assert!(!sm.contains_key(&k));
                    prop_assert_eq!(sm.get(&k), None);
                }
                Op::Retain(flag) => {
                    sm.retain(|k, v| keep(flag, k, v));
                    model.retain(|k, v| keep(flag, k, v));
                }
                Op::Update(entries) => {
                    let other: SystemMetadata = entries.iter().cloned().collect();
                    let mut other_model: IndexMap<String, String> = IndexMap::new();
                    other_model.extend(entries);
                    check(&other, &other_model)?;
                    sm.update(&other);
                    model.extend(other_model);
                }
                Op::Clone => {
                    let copy = sm.clone();
                    prop_assert_eq!(&copy, &sm);
                    sm = copy;
                }
                Op::SerdeRoundTrip => {
                    let json = serde_json::to_string(&sm).unwrap();
                    let back: SystemMetadata = serde_json::from_str(&json).unwrap();
                    prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
                    sm = back;
                }
            }
            check(&sm, &model)?;
        }
        let owned: Vec<(String, String)> = sm.clone().into_iter().collect();
        prop_assert_eq!(owned, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn equality_ignores_order(entries in prop::collection::vec((key(), value()), 0..12)) {
        let forward: SystemMetadata = entries.iter().cloned().collect();
        let mut model: IndexMap<String, String> = IndexMap::new();
        model.extend(entries);
        let backward: SystemMetadata = model.iter().rev().collect();
        prop_assert_eq!(&forward, &backward);
        if let Some((k, _)) = model.first() {
            let mut changed = backward.clone();
            changed.insert(k, "something else entirely");
            prop_assert_ne!(&forward, &changed);
        }
    }
}

/// Deserializing keeps Python's answer for duplicate keys: the last value,
/// at the first key's place.
#[test]
fn duplicate_keys_in_json_keep_the_first_place_and_the_last_value() {
    let sm: SystemMetadata = serde_json::from_str(r#"{"a":"1","b":"2","a":"3"}"#).unwrap();
    assert_eq!(sm.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
}
