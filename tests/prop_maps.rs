//! `SystemMetadata` and `Properties` against models with Python dict
//! semantics (insert keeps an existing key's place, removal keeps order):
//! an `IndexMap` of strings and a [`Dict`] of values. Both maps store their entries in
//! one string with an index of positions built on demand, compacting
//! replaced text; long random sequences of every mutation must leave them
//! equal to the model, entry by entry and in order.

use indexmap::IndexMap;
use nova_sysmeta::python::value::Dict;
use nova_sysmeta::{Properties, SystemMetadata, Value, map};
use proptest::prelude::*;

/// A value from JSON text.
fn json(text: &str) -> Value {
    Value::from_json(text).unwrap()
}

/// A system-metadata value: a string or null.
type Nullable = Option<String>;

#[derive(Debug, Clone)]
enum Op {
    Insert(String, Nullable),
    SetDefault(String, Nullable),
    Remove(String),
    /// Keep entries whose key's length parity, or value's, differs from the flag.
    Retain(bool),
    Update(Vec<(String, Nullable)>),
    Clone,
    SerdeRoundTrip,
}

fn key() -> impl Strategy<Value = String> {
    // Few keys so that replacements and removals hit; some share prefixes.
    prop_oneof!["(image_)?[a-d]{1,2}", Just(String::new()), "[é€😀]{1,2}",]
}

fn value() -> impl Strategy<Value = Nullable> {
    prop_oneof![
        3 => "[a-z]{0,6}".prop_map(Some),
        // Long values make dead text pile up, so compaction runs.
        1 => (100usize..400).prop_map(|n| Some("v".repeat(n))),
        1 => "[é\"\\\\\n]{0,4}".prop_map(Some),
        // A null value (a NULL row); the empty string is not null.
        1 => Just(None),
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

fn keep(flag: bool, key: &str, value: Option<&str>) -> bool {
    key.len().is_multiple_of(2) != flag || value.is_some_and(|v| v.len().is_multiple_of(3))
}

fn check(sm: &SystemMetadata, model: &IndexMap<String, Nullable>) -> Result<(), TestCaseError> {
    let entries: Vec<(&str, Option<&str>)> = sm.iter().collect();
    let expected: Vec<(&str, Option<&str>)> = model.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
    prop_assert_eq!(&entries, &expected);
    prop_assert_eq!(sm.len(), model.len());
    let reversed: Vec<(&str, Option<&str>)> = sm.iter().rev().collect();
    prop_assert_eq!(reversed, expected.iter().rev().copied().collect::<Vec<_>>());
    for (k, v) in model {
        prop_assert_eq!(sm.get_nullable(k), Some(v.as_deref()));
        // `get` is Python's dict.get: None for a null value too.
        prop_assert_eq!(sm.get(k), v.as_deref());
        prop_assert!(sm.contains_key(k));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn behaves_like_an_ordered_dict(ops in prop::collection::vec(op(), 0..120)) {
        let mut sm = SystemMetadata::new();
        let mut model: IndexMap<String, Nullable> = IndexMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let old = sm.insert(&k, v.as_deref());
                    prop_assert_eq!(old, model.insert(k, v));
                }
                Op::SetDefault(k, v) => {
                    let stored = sm.setdefault(&k, v.as_deref()).map(str::to_owned);
                    prop_assert_eq!(&stored, model.entry(k).or_insert(v));
                }
                Op::Remove(k) => {
                    prop_assert_eq!(sm.remove(&k), model.shift_remove(&k));
                    prop_assert!(!sm.contains_key(&k));
                    prop_assert_eq!(sm.get(&k), None);
                }
                Op::Retain(flag) => {
                    sm.retain(|k, v| keep(flag, k, v));
                    model.retain(|k, v| keep(flag, k, v.as_deref()));
                }
                Op::Update(entries) => {
                    let other: SystemMetadata = entries.iter().map(|(k, v)| (k, v.as_deref())).collect();
                    let mut other_model: IndexMap<String, Nullable> = IndexMap::new();
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
        let owned: Vec<(String, Nullable)> = sm.clone().into_iter().collect();
        prop_assert_eq!(owned, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn equality_ignores_order(entries in prop::collection::vec((key(), value()), 0..12)) {
        let forward: SystemMetadata = entries.iter().map(|(k, v)| (k, v.as_deref())).collect();
        let mut model: IndexMap<String, Nullable> = IndexMap::new();
        model.extend(entries);
        let backward: SystemMetadata = model.iter().rev().map(|(k, v)| (k, v.as_deref())).collect();
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
    assert_eq!(
        sm.iter().collect::<Vec<_>>(),
        [("a", Some("3")), ("b", Some("2"))]
    );
}

/// Values read as Nova's `DictOfNullableStringsField` coerces them: null
/// stays null, a number or boolean becomes its `str()`, a list or object
/// is refused.
#[test]
fn values_are_read_as_novas_field_coerces_them() {
    let sm: SystemMetadata = serde_json::from_str(
        r#"{"n": null, "i": 5, "big": 100000000000000000000, "t": true, "f": 1.0, "inf": 1E400, "s": ""}"#,
    )
    .unwrap();
    assert_eq!(
        sm.iter().collect::<Vec<_>>(),
        [
            ("n", None),
            ("i", Some("5")),
            ("big", Some("100000000000000000000")),
            ("t", Some("True")),
            ("f", Some("1.0")),
            ("inf", Some("inf")),
            ("s", Some("")),
        ]
    );
    assert_eq!(
        serde_json::to_string(&sm).unwrap().get(..10),
        Some(r#"{"n":null,"#)
    );
    for bad in [r#"{"l": [1]}"#, r#"{"d": {}}"#] {
        let err = serde_json::from_str::<SystemMetadata>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("string or null"), "{bad}: {err}");
    }
}

#[derive(Debug, Clone)]
enum PropOp {
    Insert(String, Value),
    Remove(String),
    Retain(bool),
    Update(Vec<(String, Value)>),
    Clone,
    SerdeRoundTrip,
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        value().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json(r#"[1, "two", {"three": 3.5}]"#)),
        Just(json(r#"{"a": [null]}"#)),
        Just(json("123456789012345678901234567890")),
        Just(json("1E400")),
    ]
}

fn prop_op() -> impl Strategy<Value = PropOp> {
    prop_oneof![
        8 => (key(), json_value()).prop_map(|(k, v)| PropOp::Insert(k, v)),
        3 => key().prop_map(PropOp::Remove),
        1 => any::<bool>().prop_map(PropOp::Retain),
        1 => prop::collection::vec((key(), json_value()), 0..6).prop_map(PropOp::Update),
        1 => Just(PropOp::Clone),
        1 => Just(PropOp::SerdeRoundTrip),
    ]
}

fn keep_value(flag: bool, key: &str, value: &Value) -> bool {
    key.len().is_multiple_of(2) != flag || value.as_str().is_some()
}

fn check_props(props: &Properties, model: &Dict) -> Result<(), TestCaseError> {
    let entries: Vec<(&str, Value)> = props.iter().map(|(k, v)| (k, v.to_value())).collect();
    let expected: Vec<(&str, Value)> = model.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    prop_assert_eq!(&entries, &expected);
    prop_assert_eq!(props.len(), model.len());
    for (k, v) in model {
        prop_assert_eq!(props.get(k), Some(map::PropertyValue::of(v)));
        prop_assert!(props.contains_key(k));
    }
    prop_assert_eq!(&props.to_dict(), model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn properties_behave_like_a_python_dict(ops in prop::collection::vec(prop_op(), 0..160)) {
        let mut props = Properties::new();
        let mut model = Dict::new();
        for op in ops {
            match op {
                PropOp::Insert(k, v) => {
                    let old = props.insert(&k, v.clone()).unwrap();
                    prop_assert_eq!(old, model.insert(k, v));
                }
                PropOp::Remove(k) => {
                    prop_assert_eq!(props.remove(&k), model.shift_remove(&k));
                    prop_assert_eq!(props.get(&k), None);
                }
                PropOp::Retain(flag) => {
                    props.retain(|k, v| keep_value(flag, k, &v.to_value()));
                    model.retain(|k, v| keep_value(flag, k, v));
                }
                PropOp::Update(entries) => {
                    let other = Properties::try_from_iter(entries.iter().cloned()).unwrap();
                    let other_model: Dict = entries.into_iter().collect();
                    check_props(&other, &other_model)?;
                    props.update(&other);
                    model.extend(other_model);
                }
                PropOp::Clone => {
                    let copy = props.clone();
                    prop_assert_eq!(&copy, &props);
                    props = copy;
                }
                PropOp::SerdeRoundTrip => {
                    let text = serde_json::to_string(&props).unwrap();
                    prop_assert_eq!(&text, &serde_json::to_string(&model).unwrap());
                    // Read back as Python reads it (`Infinity` included).
                    let Value::Dict(dict) = json(&text) else { unreachable!() };
                    props = Properties::try_from(dict).unwrap();
                }
            }
            check_props(&props, &model)?;
        }
    }
}

/// Values that are not strings are replaced and removed often enough for
/// their side list to be compacted, many times over; every value must stay
/// the latest one written after every step.
#[test]
fn replacing_json_values_many_times_keeps_the_latest() {
    let mut props = Properties::new();
    let mut latest = [None; 7];
    for round in 0..1000i64 {
        let k = (round % 7) as usize;
        props
            .insert(format!("k{k}"), Value::List(vec![Value::from(round)]))
            .unwrap();
        latest[k] = Some(round);
        if round % 11 == 0 {
            props.remove("k3");
            latest[3] = None;
        }
        props.insert("s", round.to_string()).unwrap();
        for (k, want) in latest.iter().enumerate() {
            assert_eq!(
                props.get(&format!("k{k}")).map(|v| v.to_value()),
                want.map(|r| Value::List(vec![Value::from(r)]))
            );
        }
        assert_eq!(props.get("s").unwrap(), round.to_string());
    }
}

/// Properties read any JSON value as Python's `json` reads it: big integers
/// (beyond 64 and 128 bits), floats past the double range, nesting; from
/// text, from bytes and from a reader, in a user's build of serde_json.
/// (Found by the parity suite: integers beyond 64 bits were refused, then
/// rounded in a build without `arbitrary_precision`.)
#[test]
fn properties_read_every_json_value_as_python_does() {
    let text = r#"{"a": 123456789012345678901234567890, "b": -9223372036854775809,
        "c": 18446744073709551616, "d": 1.5e300, "e": [1, {"f": null}], "g": true, "h": "x\"y",
        "i": 340282366920938463463374607431768211456123, "j": 1E400, "k": -1e400, "l": -0}"#;
    let want = match json(text) {
        Value::Dict(dict) => dict,
        _ => unreachable!(),
    };
    assert_eq!(want["a"].python_str(), "123456789012345678901234567890");
    assert_eq!(want["j"].python_str(), "inf");
    assert_eq!(want["l"].python_str(), "0");
    let from_text: Properties = serde_json::from_str(text).unwrap();
    assert_eq!(from_text.to_dict(), want);
    let from_slice: Properties = serde_json::from_slice(text.as_bytes()).unwrap();
    assert_eq!(from_slice.to_dict(), want);
    let from_reader: Properties = serde_json::from_reader(text.as_bytes()).unwrap();
    assert_eq!(from_reader.to_dict(), want);
    assert_eq!(
        serde_json::to_string(&from_text).unwrap(),
        serde_json::to_string(&want).unwrap()
    );
    assert!(
        serde_json::to_string(&from_text)
            .unwrap()
            .contains(r#""i":340282366920938463463374607431768211456123,"j":Infinity,"k":-Infinity"#)
    );
}

fn image_attribute() -> impl Strategy<Value = (String, Value)> {
    let key = prop::sample::select(vec![
        "id",
        "name",
        "min_ram",
        "min_disk",
        "disk_format",
        "container_format",
        "visibility",
        "properties",
        "status",
        "size",
    ]);
    // serde_json writes an infinity as Python's `Infinity`, which it does
    // not read back: only finite values here.
    let finite = json_value().prop_filter("finite", |v| !matches!(v, Value::Float(f) if !f.is_finite()));
    let value = prop_oneof![
        finite,
        Just(json(r#""private""#)),
        Just(json(r#"{"os_type": "linux", "n": 2, "x": [null]}"#)),
        Just(json("{}")),
        Just(json("512")),
    ];
    (key.prop_map(str::to_owned), value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `ImageMeta` read straight from JSON text agrees with reading the text
    /// into a map first (`TryFrom<Dict>`): the same image, or the same error,
    /// duplicate keys included.
    #[test]
    fn image_meta_reads_text_as_it_reads_a_map(attrs in prop::collection::vec(image_attribute(), 0..10)) {
        let text = format!(
            "{{{}}}",
            attrs
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap()))
                .collect::<Vec<_>>()
                .join(",")
        );
        let direct = serde_json::from_str::<nova_sysmeta::ImageMeta>(&text).map_err(|e| e.to_string());
        let map: Dict = serde_json::from_str(&text).unwrap();
        let via_map = nova_sysmeta::ImageMeta::try_from(map).map_err(|e| e.to_string());
        match (&direct, &via_map) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert!(a.starts_with(b.as_str()), "{} vs {}", a, b),
            _ => prop_assert!(false, "{:?} vs {:?} for {}", direct, via_map, text),
        }
    }
}

/// Only `properties` can make an image unreadable (when it is not an
/// object); every other attribute holds any JSON, as in Nova's dict.
#[test]
fn image_meta_refuses_only_properties_that_are_not_an_object() {
    for text in [
        r#"{"properties": [1], "min_ram": 1.5}"#,
        r#"{"min_ram": [5], "properties": "x"}"#,
        r#"{"properties": 7}"#,
    ] {
        let error = serde_json::from_str::<nova_sysmeta::ImageMeta>(text)
            .unwrap_err()
            .to_string();
        assert!(error.contains("properties"), "{text}: {error}");
    }
    for text in [
        r#"{"visibility": "active", "id": 5, "name": [1], "status": {"a": null}, "size": 1E400}"#,
        r#"{"min_ram": [5], "min_disk": {"a": 1}, "disk_format": 1, "container_format": true}"#,
        r#"{"properties": null, "owner": 123456789012345678901234567890}"#,
    ] {
        assert!(
            serde_json::from_str::<nova_sysmeta::ImageMeta>(text).is_ok(),
            "{text}"
        );
    }
}

/// Both maps (and the types holding them) can be shared across threads: the
/// index built on first lookup sits behind a `OnceLock`.
#[test]
fn maps_are_send_and_sync_and_index_once_when_shared() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SystemMetadata>();
    send_sync::<Properties>();
    send_sync::<nova_sysmeta::ImageMeta>();

    // Built by a flow, so without an index until the first lookup: the
    // threads race to build it.
    let image = nova_sysmeta::ImageMeta::new()
        .with_properties((0..100).map(|i| (format!("k{i}"), format!("v{i}"))).collect());
    let sm = nova_sysmeta::convert::system_metadata_from_image(&image, None).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let sm = &sm;
            s.spawn(move || {
                for i in (t..100).step_by(4) {
                    assert_eq!(sm.get(&format!("image_k{i}")), Some(format!("v{i}").as_str()));
                }
                assert_eq!(sm.get("image_k100"), None);
            });
        }
    });
}

fn snapshot_key() -> impl Strategy<Value = String> {
    // Few names, with and without the prefix, so that `image_x` and `x`
    // meet; some skip keys, inheritable and non-inheritable names.
    prop_oneof![
        "(image_)?[a-c]",
        Just("image_mappings".to_owned()),
        Just("image_min_ram".to_owned()),
        Just("cache_in_nova".to_owned()),
        Just("image_os_glance_x".to_owned()),
        Just("instance_uuid".to_owned()),
        Just("image_image_type".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A snapshot's properties (the map derived from system metadata in one
    /// copy, its few colliding keys merged, the extras filed after) equal
    /// Nova's algorithm run on an IndexMap: every non-null entry, prefix
    /// stripped, skip and inheritable names out, the later value at the
    /// earlier place, non-inheritable names dropped, then the flow's own
    /// properties, the caller's and the owner's updated in, in order.
    #[test]
    fn snapshot_properties_match_novas_algorithm_on_an_indexmap(
        entries in prop::collection::vec((snapshot_key(), prop::option::of("[a-z]{0,3}")), 0..40),
        extras in prop::collection::vec((snapshot_key(), "[a-z]{0,3}"), 0..12),
        cross_project in any::<bool>(),
    ) {
        let sm: SystemMetadata = entries.iter().map(|(k, v)| (k, v.as_deref())).collect();
        let extra: Properties = extras.iter().map(|(k, v)| (k, v)).collect();
        let ctx = nova_sysmeta::RequestContext::new("u", if cross_project { "other" } else { "p" });
        let instance = nova_sysmeta::Instance::new(uuid::Uuid::nil(), "p");
        let request = nova_sysmeta::snapshot::Request::new(&ctx, &instance, &sm, "s").extra_properties(&extra);
        let image = nova_sysmeta::snapshot::create_image(&request, nova_sysmeta::ImageType::Snapshot).unwrap();

        let mut model: IndexMap<String, String> = IndexMap::new();
        for (key, value) in sm.iter() {
            let Some(value) = value else { continue };
            let name = key.strip_prefix("image_").unwrap_or(key);
            if nova_sysmeta::keys::SM_SKIP_KEYS.contains(&name) || nova_sysmeta::keys::SM_INHERITABLE_KEYS.contains(&name) {
                continue;
            }
            model.insert(name.to_owned(), value.to_owned());
        }
        model.retain(|k, _| k != "cache_in_nova" && !k.starts_with("os_glance"));
        model.insert("instance_uuid".into(), uuid::Uuid::nil().to_string());
        model.insert("user_id".into(), "u".into());
        model.insert("image_type".into(), "snapshot".into());
        for (k, v) in extra.iter() {
            model.insert(k.to_owned(), v.as_str().unwrap().to_owned());
        }
        if cross_project {
            model.insert("instance_owner".into(), "p".into());
        }
        let got: Vec<(String, String)> =
            image.properties.iter().map(|(k, v)| (k.to_owned(), v.as_str().unwrap().to_owned())).collect();
        let want: Vec<(String, String)> = model.into_iter().collect();
        prop_assert_eq!(got, want);
    }
}
