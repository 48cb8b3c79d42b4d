//! `initialize_snapshot_metadata`: fuzz bytes as the request's fields.
#![no_main]

#[path = "harness.rs"]
mod harness;
#[path = "../../examples/nova_meta/ops.rs"]
mod ops;
#[path = "../../examples/nova_meta/request.rs"]
mod request;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check_op("initialize_snapshot_metadata", data));
