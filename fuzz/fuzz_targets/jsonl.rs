//! The JSON Lines decoder: any bytes as one request line.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nova_sysmeta_fuzz::check(data));
