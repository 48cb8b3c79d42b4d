//! The stable, shorter version of the fuzz targets in `fuzz/`: every op of
//! `nova_meta`, fed generated requests whose fields hold arbitrary JSON
//! (deep nesting, huge and odd numbers, odd strings, duplicate keys), and
//! arbitrary bytes as lines. Whatever comes in, the answer is exactly one
//! `ok` or `error` object, and nothing panics.

use nova_meta::ops;

use proptest::prelude::*;
use serde_json::{Map, Value};

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,8}",
        Just(String::new()),
        "\\PC{0,40}",
        (0usize..600).prop_map(|n| "é".repeat(n)),
        prop::sample::select(vec![
            "image_base_image_ref",
            "image_min_disk",
            "min_ram",
            "vhd",
            "hardened",
            "origin",
            "legacy",
            "backup",
            "snapshot",
            "2026-11-25T15:08:12Z",
            "11111111-2222-4333-8444-555555555555",
            " 1_0 ",
            "None",
        ])
        .prop_map(str::to_owned),
    ]
}

fn odd_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        // Beyond 64 bits: serde_json keeps the digits in the example build.
        "-?[1-9][0-9]{19,40}".prop_map(|s| serde_json::from_str(&s).unwrap()),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        odd_number(),
        odd_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((odd_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A `release`: versions at and past every modelled edge, or any JSON.
fn release() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "16.0.0",
            "16.1.8",
            "18.2.1",
            "21.2.0",
            "27.4.0",
            "34.0.0",
            "15.99.99",
            "35.0.0",
            "34.65535.65535",
            "34.0.65536",
            "34.0.0 ",
            "34..0",
        ])
        .prop_map(Value::from),
        any_json(),
    ]
}

fn request() -> impl Strategy<Value = Value> {
    // The ops and their fields from the table the dispatcher reads.
    prop::sample::select(ops::OPS.to_vec()).prop_flat_map(|entry| {
        let op = entry.name;
        let names: Vec<&'static str> = entry.fields.iter().map(|f| f.name).collect();
        (
            prop::collection::vec(prop::option::weighted(0.8, any_json()), names.len()),
            prop::option::weighted(0.5, release()),
        )
            .prop_map(move |(values, release)| {
                let mut map = Map::new();
                map.insert("op".into(), Value::from(op));
                if let Some(release) = release {
                    map.insert("release".into(), release);
                }
                for (name, value) in names.iter().zip(values) {
                    if let Some(value) = value {
                        map.insert((*name).to_owned(), value);
                    }
                }
                Value::Object(map)
            })
    })
}

/// The answer to `line`, read back exactly, and whether it is one `ok` or
/// `error` object (an error with a string kind other than `internal` and a
/// string message).
fn is_one_answer(line: &[u8]) -> Result<(), String> {
    use nova_sysmeta::Value as Exact;
    let answer = ops::answer(line).map_err(|e| format!("not JSON: {e}"))?;
    let text = answer.python_str();
    let Exact::Dict(map) = &answer else {
        return Err(text);
    };
    let ok = match (map.len(), map.get("ok"), map.get("error")) {
        (1, Some(_), None) => true,
        (1, None, Some(Exact::Dict(error))) => {
            error.get("message").and_then(Exact::as_str).is_some()
                && error
                    .get("kind")
                    .and_then(Exact::as_str)
                    .is_some_and(|k| k != "internal")
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(text) }
}

/// The answer to `line` as serde_json's `Value`, for answers known to fit
/// it (no huge integer, no `Infinity`).
fn read_answer(line: &[u8]) -> Value {
    serde_json::from_str(&ops::answer_line(line)).expect("an answer serde_json can hold")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_request_gets_exactly_one_answer(req in request()) {
        let line = serde_json::to_vec(&req).unwrap();
        let verdict = is_one_answer(&line);
        prop_assert!(verdict.is_ok(), "{:?}", verdict);
    }

    #[test]
    fn any_bytes_get_exactly_one_answer(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let verdict = is_one_answer(&bytes);
        prop_assert!(verdict.is_ok(), "{:?}", verdict);
    }
}

#[test]
fn duplicate_keys_and_deep_nesting_are_answered() {
    let dup = br#"{"op": "ensure_base_image_ref", "system_metadata": {"a": "1", "a": "2"}, "image_ref": "x", "image_ref": "y"}"#;
    let answer = read_answer(dup);
    assert_eq!(
        answer["ok"],
        serde_json::json!({"a": "2", "image_base_image_ref": "y"})
    );
    // Deep nesting is valid JSON: as the request, it is not an object; in
    // a field that is read, the crate's depth limit refuses it (at the
    // limit, it is read); an unknown field is refused whatever it holds.
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep = nested(50_000);
    assert_eq!(read_answer(deep.as_bytes())["error"]["kind"], "invalid_request");
    let read = |value: &str| {
        format!(r#"{{"op": "system_metadata_from_image", "image": {{"properties": {{"a": {value}}}}}}}"#)
    };
    let answer = read_answer(read(&deep).as_bytes());
    assert_eq!(answer["error"]["kind"], "invalid_value", "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1000 levels"),
        "{answer}"
    );
    let at_limit = read_answer(read(&nested(nova_sysmeta::python::value::MAX_DEPTH - 2)).as_bytes());
    assert_eq!(
        at_limit["ok"]["image_a"].as_str().map(str::len),
        Some(255),
        "{at_limit}"
    );
    let unread = format!(r#"{{"op": "remove_shelved_keys", "system_metadata": {{}}, "x": {deep}}}"#);
    assert_eq!(read_answer(unread.as_bytes())["error"]["kind"], "invalid_request");
    let unclosed = format!(r#"{{"op": "remove_shelved_keys", "x": {}}}"#, "[".repeat(10_000));
    assert_eq!(read_answer(unclosed.as_bytes())["error"]["kind"], "invalid_json");
}

/// Found by the `jsonl` fuzz target: an answer holding an integer past
/// f64's range was reported as an `internal` error by the test helper
/// (serde_json's own `Value` cannot hold it); nova_meta's answer was right.
#[test]
fn huge_integers_come_back_digit_for_digit() {
    let big = format!("9{}", "0".repeat(4_000));
    let line = format!(r#"{{"op": "to_glance", "image": {{"owner": {big}, "min_disk": -{big}}}}}"#);
    assert_eq!(is_one_answer(line.as_bytes()), Ok(()));
    let text = ops::answer_line(line.as_bytes());
    assert_eq!(text, format!(r#"{{"ok":{{"min_disk":-{big},"owner":{big}}}}}"#));
}
