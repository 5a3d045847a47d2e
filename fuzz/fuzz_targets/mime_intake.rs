//! libFuzzer entry for `sealpost_fuzz::mime_intake`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz::mime_intake(data));
