//! libFuzzer entry for `sealpost_fuzz::multipart`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz::multipart(data));
