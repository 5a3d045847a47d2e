//! libFuzzer entry for `sealpost_fuzz::audit_verifier`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_fuzz::audit_verifier(data));
