//! `snapshot_volume_backed`: fuzz bytes as the request's fields.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nova_sysmeta_fuzz::check_op("snapshot_volume_backed", data));
