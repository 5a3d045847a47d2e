//! Runs every fuzz target on stable: on the seed inputs kept in `fuzz/seeds/<target>/` and on
//! random inputs (2,000 cases each; `PROPTEST_CASES` changes that). libFuzzer, on nightly, goes
//! further (`cargo xtask fuzz`); both run the same functions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut found: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| std::fs::read(e.path()).unwrap()).collect())
        .unwrap_or_default();
    found.push(vec![]);
    found
}

fn run(name: &str, target: fn(&[u8]), input: impl Strategy<Value = Vec<u8>>) {
    for seed in seeds(name) {
        target(&seed);
    }
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&input, |bytes| {
            target(&bytes);
            Ok(())
        })
        .unwrap();
}

/// Bytes, or text with the characters each parser cares about made likely.
fn bytes_or_text(alphabet: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::string::string_regex(alphabet).unwrap().prop_map(String::into_bytes),
    ]
}

#[test]
fn message_text_never_loses_text_or_makes_a_bad_link() {
    run(
        "message_text",
        sealpost_fuzz::message_text,
        bytes_or_text("([ \n.,;:)x]|https?://[a-z./]{0,6}|\\PC){0,80}"),
    );
}

#[test]
fn multipart_forms_never_panic_and_file_names_come_out_safe() {
    let form = "\x01--sealpost-fuzz-boundary\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"(\\.\\./|[a-z]|\\PC|\r|\n|\u{202E})*\"\r\n\r\n[a-z\r\n-]{0,40}\r\n--sealpost-fuzz-boundary(--)?\r\n";
    run("multipart", sealpost_fuzz::multipart, bytes_or_text(form));
}

#[test]
fn tokens_read_back_what_they_print() {
    let shapes = "[0-9a-fA-F]{64}|(sp-|SP-)?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}|[a-z.]{1,8}@[a-z]{1,8}\\.(uk|gov\\.uk)|[0-9]{1,4}:[0-9a-f]{64}|message:[0-9a-f-]{36}(/to:[a-z]@b\\.uk)?";
    run("tokens", sealpost_fuzz::tokens, bytes_or_text(shapes));
}

#[test]
fn the_audit_verifier_refuses_every_edit_and_never_panics() {
    run(
        "audit_verifier",
        sealpost_fuzz::audit_verifier,
        proptest::collection::vec(any::<u8>(), 0..256),
    );
}

#[test]
fn intake_mail_parses_or_is_refused_and_never_panics() {
    const MAIL: &str = "((From|To|Cc|Subject|Content-Type|Content-Transfer-Encoding|Content-Disposition): ([a-z@.<>,; =\\-/\"]|multipart/(mixed|alternative); boundary=b|base64|quoted-printable|message/rfc822|application/ms-tnef|=\\?ISO-8859-1\\?Q\\?[a-z=0-9A-F]{0,8}\\?=){0,12}\r\n(\r\n)?(--b(--)?\r\n|[A-Za-z0-9+/=]{0,12}\r\n){0,4}){0,8}";
    run("mime_intake", sealpost_fuzz::mime_intake, bytes_or_text(MAIL));
}

#[test]
fn every_target_is_driven_here_and_has_a_libfuzzer_entry() {
    for (name, _) in sealpost_fuzz::TARGETS {
        let entry = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/fuzz_targets/{name}.rs"));
        assert!(entry.is_file(), "fuzz/fuzz_targets/{name}.rs is missing");
    }
}
