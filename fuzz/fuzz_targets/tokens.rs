//! libFuzzer entry for `sealpost_fuzz::tokens`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz::tokens(data));
