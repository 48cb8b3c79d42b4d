//! Shared by the fuzz targets: the check every target makes on nova_meta's
//! own request handling (the `nova-meta` package's library): exactly one
//! `ok` or `error` answer (with the request's `id`, when it has one), no
//! panic.
#![allow(dead_code)]

use nova_meta::ops;
use serde_json::Value;

pub fn check(line: &[u8]) {
    let answer = ops::answer(line);
    let Value::Object(map) = &answer else { panic!("not an object: {answer}") };
    let with_id = usize::from(map.contains_key("id"));
    assert_eq!(map.len(), 1 + with_id, "{answer}");
    assert!(map.contains_key("ok") || map.contains_key("error"), "{answer}");
    assert_ne!(answer["error"]["kind"], "internal", "{answer}");
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
