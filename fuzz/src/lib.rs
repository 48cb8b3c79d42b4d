//! The fuzz crate's library, shared by every target in `fuzz_targets/`: the check every target makes on nova_meta's
//! own request handling (the `nova-meta` package's library): exactly one
//! `ok` or `error` answer (with the request's `id`, when it has one), no
//! panic.

use nova_meta::ops;
use nova_sysmeta::Value as Exact;
use serde_json::Value;

pub fn check(line: &[u8]) {
    // Read back exactly: a correct answer may hold an integer of thousands
    // of digits or `Infinity`, which serde_json's own Value cannot.
    let answer = ops::answer(line).expect("nova_meta wrote a line that is not JSON");
    let text = answer.python_str();
    let Exact::Dict(map) = &answer else { panic!("not an object: {text}") };
    let with_id = usize::from(map.contains_key("id"));
    assert_eq!(map.len(), 1 + with_id, "{text}");
    let error = map.get("error");
    assert!(map.contains_key("ok") || error.is_some(), "{text}");
    if let Some(error) = error {
        let Exact::Dict(error) = error else { panic!("error is not an object: {text}") };
        assert!(error.get("message").and_then(Exact::as_str).is_some(), "{text}");
        let kind = error.get("kind").and_then(Exact::as_str);
        assert!(kind.is_some_and(|kind| kind != "internal"), "{text}");
    }
}

/// Fuzz bytes as the fields of a request for `op`: JSON object text, with
/// the op added (bytes that are not an object are sent as they are).
pub fn check_op(op: &str, data: &[u8]) {
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(mut fields)) => {
            fields.insert("op".to_owned(), Value::from(op));
            check(&serde_json::to_vec(&Value::Object(fields)).unwrap());
        }
        _ => check(data),
    }
}
