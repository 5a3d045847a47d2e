//! libFuzzer entry for `sealpost_fuzz::message_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz::message_text(data));
