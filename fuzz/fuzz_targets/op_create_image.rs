//! `create_image`: fuzz bytes as the request's fields.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nova_sysmeta_fuzz::check_op("create_image", data));
