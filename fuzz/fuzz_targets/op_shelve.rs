//! `shelve`: fuzz bytes as the request's fields.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check_op("shelve", data));
