//! Tests of the keyring, escrow and per-message keys (SECURITY E2, E3).

use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::*;

struct Fixture {
    keyring: Keyring,
    escrow: EscrowIdentity,
    escrow_text: SecretString,
}

fn fixture() -> Fixture {
    let master = generate_key_pair();
    let escrow = generate_key_pair();
    let keyring = Keyring::from_identity_file(&master.identity, EscrowRecipient::parse(&escrow.recipient).unwrap()).unwrap();
    Fixture {
        keyring,
        escrow: EscrowIdentity::parse(&escrow.identity).unwrap(),
        escrow_text: escrow.identity,
    }
}

fn body(id: Uuid) -> Binding {
    Binding::new(ObjectKind::Body, id)
}

#[test]
fn content_round_trips_through_a_wrapped_message_key() {
    let f = fixture();
    let msg = Uuid::new_v4();
    let key = MessageKey::generate();
    let sealed = key.seal(body(msg), b"the body").unwrap();
    let wrapped = f.keyring.wrap(&key, msg).unwrap();
    let unwrapped = f.keyring.unwrap(&wrapped, msg).unwrap();
    assert_eq!(unwrapped.open(body(msg), &sealed).unwrap().expose_secret(), b"the body");
}

#[test]
fn the_escrow_identity_alone_decrypts() {
    let f = fixture();
    let msg = Uuid::new_v4();
    let key = MessageKey::generate();
    let sealed = key.seal(body(msg), b"escrowed").unwrap();
    let wrapped = f.keyring.wrap(&key, msg).unwrap();
    drop(f.keyring);
    let by_escrow = f.escrow.unwrap(&wrapped, msg).unwrap();
    assert_eq!(by_escrow.open(body(msg), &sealed).unwrap().expose_secret(), b"escrowed");
}

#[test]
fn a_wrong_master_key_cannot_unwrap_and_a_wrong_message_key_cannot_open() {
    let (a, b) = (fixture(), fixture());
    let msg = Uuid::new_v4();
    let key = MessageKey::generate();
    let wrapped = a.keyring.wrap(&key, msg).unwrap();
    assert!(matches!(b.keyring.unwrap(&wrapped, msg), Err(CryptoError::Decrypt)));
    let sealed = key.seal(body(msg), b"secret").unwrap();
    assert!(matches!(MessageKey::generate().open(body(msg), &sealed), Err(CryptoError::Decrypt)));
}

#[test]
fn swapped_ciphertexts_are_refused() {
    let key = MessageKey::generate();
    let (m1, m2) = (Uuid::new_v4(), Uuid::new_v4());
    let sealed_for_m1 = key.seal(body(m1), b"for m1").unwrap();
    assert!(matches!(key.open(body(m2), &sealed_for_m1), Err(CryptoError::BindingMismatch)));
    let as_subject = Binding::new(ObjectKind::Subject, m1);
    assert!(matches!(key.open(as_subject, &sealed_for_m1), Err(CryptoError::BindingMismatch)));
    let f = fixture();
    let wrapped_for_m1 = f.keyring.wrap(&key, m1).unwrap();
    assert!(matches!(f.keyring.unwrap(&wrapped_for_m1, m2), Err(CryptoError::BindingMismatch)));
}

#[test]
fn old_master_identities_still_unwrap_after_rotation() {
    let old = generate_key_pair();
    let new = generate_key_pair();
    let escrow = EscrowRecipient::parse(&generate_key_pair().recipient).unwrap();
    let before = Keyring::from_identity_file(&old.identity, escrow.clone()).unwrap();
    let msg = Uuid::new_v4();
    let wrapped = before.wrap(&MessageKey::generate(), msg).unwrap();
    let file = format!(
        "# active\n{}\n# retired\n{}\n",
        new.identity.expose_secret(),
        old.identity.expose_secret()
    );
    let after = Keyring::from_identity_file(&SecretString::from(file), escrow).unwrap();
    assert_eq!(after.active_recipient(), new.recipient);
    assert!(after.unwrap(&wrapped, msg).is_ok());
}

#[test]
fn empty_or_malformed_key_files_are_refused() {
    let escrow = EscrowRecipient::parse(&generate_key_pair().recipient).unwrap();
    assert!(Keyring::from_identity_file(&SecretString::from("# nothing\n"), escrow.clone()).is_err());
    assert!(Keyring::from_identity_file(&SecretString::from("AGE-SECRET-KEY-1NOPE"), escrow).is_err());
    assert!(EscrowRecipient::parse("age1nope").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_content_round_trips(content in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let key = MessageKey::generate();
        let id = Uuid::new_v4();
        let sealed = key.seal(body(id), &content).unwrap();
        let opened = key.open(body(id), &sealed).unwrap();
        prop_assert_eq!(opened.expose_secret(), content.as_slice());
    }

    #[test]
    fn any_flipped_byte_is_detected(content in proptest::collection::vec(any::<u8>(), 1..512), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = MessageKey::generate();
        let id = Uuid::new_v4();
        let mut bytes = key.seal(body(id), &content).unwrap().as_bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(key.open(body(id), &bytes).is_err());
    }
}

#[test]
fn a_key_backup_opens_with_the_admins_identity_alone() {
    let admin = generate_key_pair();
    let other = generate_key_pair();
    let sealed = seal_key_backup(&admin.recipient, b"file master.key 3\nabc\n").unwrap();
    assert!(!sealed.windows(3).any(|w| w == b"abc"));
    let file = SecretString::from(format!("# the admin's key\n{}\n", admin.identity.expose_secret()));
    assert_eq!(
        open_key_backup(&file, &sealed).unwrap().expose_secret(),
        b"file master.key 3\nabc\n"
    );
    assert!(open_key_backup(&other.identity, &sealed).is_err());
    assert!(seal_key_backup("not-a-recipient", b"x").is_err());
}

/// A key of the envelope before v2: an X25519 identity per message.
fn legacy_key() -> MessageKey {
    MessageKey::of(Kind::X25519(age::x25519::Identity::generate()))
}

#[test]
fn a_key_from_before_envelope_v2_still_wraps_seals_and_opens() {
    let f = fixture();
    let msg = Uuid::new_v4();
    let key = legacy_key();
    let sealed = key.seal(body(msg), b"sealed in 2025").unwrap();
    let unwrapped = f.escrow.unwrap(f.keyring.wrap(&key, msg).unwrap(), msg).unwrap();
    assert!(unwrapped.is_legacy() && !MessageKey::generate().is_legacy());
    assert_eq!(unwrapped.open(body(msg), &sealed).unwrap().expose_secret(), b"sealed in 2025");
    // Each kind of key opens its own envelope's files alone.
    assert!(matches!(MessageKey::generate().open(body(msg), &sealed), Err(CryptoError::Decrypt)));
    let v2 = MessageKey::generate().seal(body(msg), b"v2").unwrap();
    assert!(matches!(unwrapped.open(body(msg), &v2), Err(CryptoError::Decrypt)));
}

#[test]
fn a_v2_field_is_a_plain_age_file_whose_passphrase_is_the_wrapped_key_text() {
    let f = fixture();
    let msg = Uuid::new_v4();
    let key = MessageKey::generate();
    let sealed = key.seal(body(msg), b"by hand").unwrap();
    // What `age -d -i escrow.txt wrapped.age` prints after the binding line...
    let wrapped = f.keyring.wrap(&key, msg).unwrap();
    let escrow_only = age::x25519::Identity::from_str(f.escrow_text.expose_secret()).unwrap();
    let plain = age::decrypt(&escrow_only, wrapped.as_bytes()).unwrap();
    let text = String::from_utf8(plain).unwrap();
    let passphrase = text.lines().nth(1).unwrap();
    assert!(
        passphrase.starts_with("sealpost-message-key-v2:") && passphrase.len() == 24 + 64,
        "{passphrase}"
    );
    // ...is the passphrase `age -d` asks for to open the field.
    let opened = age::decrypt(
        &age::scrypt::Identity::new(SecretString::from(passphrase.to_owned())),
        sealed.as_bytes(),
    )
    .unwrap();
    assert_eq!(opened, format!("sealpost/v1 body {msg}\nby hand").into_bytes());
}

#[test]
fn a_field_asking_for_more_scrypt_work_or_sealed_another_way_is_refused_unopened() {
    let msg = Uuid::new_v4();
    let key = MessageKey::generate();
    let Kind::Symmetric(secret) = &key.kind else { unreachable!() };
    // The right passphrase, but age's default work factor: refused before the work is done.
    let mut heavy = vec![];
    let mut writer = age::Encryptor::with_user_passphrase(secret.clone())
        .wrap_output(&mut heavy)
        .unwrap();
    std::io::Write::write_all(&mut writer, format!("sealpost/v1 body {msg}\nx").as_bytes()).unwrap();
    writer.finish().unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(key.open(body(msg), &heavy), Err(CryptoError::Decrypt)));
    assert!(started.elapsed() < std::time::Duration::from_millis(200), "no scrypt work was done");
    // A file to an X25519 recipient is not a v2 field.
    let other = legacy_key().seal(body(msg), b"x").unwrap();
    assert!(matches!(key.open(body(msg), &other), Err(CryptoError::Decrypt)));
}

#[test]
fn an_upgraded_key_seals_as_v2_and_still_opens_what_its_identity_sealed() {
    let f = fixture();
    let msg = Uuid::new_v4();
    let old = legacy_key();
    let file_before = old.seal(Binding::new(ObjectKind::Attachment, msg), b"a file from 2025").unwrap();
    assert!(MessageKey::generate().upgraded().is_none(), "a v2 key needs none");
    let new = old.upgraded().unwrap();
    assert!(!new.is_legacy());
    let subject = new.seal(Binding::new(ObjectKind::Subject, msg), b"re-sealed").unwrap();
    assert!(
        matches!(
            old.open(Binding::new(ObjectKind::Subject, msg), &subject),
            Err(CryptoError::Decrypt)
        ),
        "the v2 field needs the new key"
    );
    // Through the master key and back, it opens both.
    let back = f.keyring.unwrap(f.keyring.wrap(&new, msg).unwrap(), msg).unwrap();
    assert_eq!(
        back.open(Binding::new(ObjectKind::Subject, msg), &subject).unwrap().expose_secret(),
        b"re-sealed"
    );
    assert_eq!(
        back.open(Binding::new(ObjectKind::Attachment, msg), &file_before)
            .unwrap()
            .expose_secret(),
        b"a file from 2025"
    );
    assert!(back.upgraded().is_none(), "upgraded once");
}

/// The field opened by age's own reader, for comparison with our path for one chunk.
fn open_with_ages_reader(key: &MessageKey, binding: Binding, sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
    let Kind::Symmetric(secret) = &key.kind else { unreachable!() };
    open_field(&FieldKey(secret, &FileKeys::default()), binding, sealed.as_bytes()).map(|s| s.expose_secret().to_vec())
}

/// The field opened by our path for one chunk: `None` when it leaves the field to age.
fn open_without_ages_reader(key: &MessageKey, binding: Binding, sealed: &[u8]) -> Option<Result<Vec<u8>, CryptoError>> {
    let Kind::Symmetric(secret) = &key.kind else { unreachable!() };
    open_small_field(&FieldKey(secret, &FileKeys::default()), binding, sealed).map(|r| r.map(|s| s.expose_secret().to_vec()))
}

#[test]
fn a_field_of_one_chunk_opens_without_ages_reader_to_the_same_bytes_and_a_longer_one_through_it() {
    let key = MessageKey::generate();
    let id = Uuid::new_v4();
    let line = body(id).header().len();
    // One STREAM chunk holds 64 KiB of plaintext, the binding line included.
    for (len, one_chunk) in [
        (0, true),
        (1, true),
        (10 * 1024, true),
        (65_536 - line - 1, true),
        (65_536 - line, false),
        (65_536 - line + 1, false),
        (200_000, false),
    ] {
        let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let sealed = key.seal(body(id), &content).unwrap();
        let direct = open_without_ages_reader(&key, body(id), sealed.as_bytes());
        assert_eq!(direct.is_some(), one_chunk, "{len} bytes");
        if let Some(direct) = direct {
            assert_eq!(direct.unwrap(), content, "{len} bytes");
        }
        assert_eq!(open_with_ages_reader(&key, body(id), &sealed).unwrap(), content, "{len} bytes");
        assert_eq!(key.open(body(id), &sealed).unwrap().expose_secret(), content.as_slice());
    }
}

#[test]
fn every_altered_byte_of_a_field_of_one_chunk_is_refused_on_both_paths() {
    let key = MessageKey::generate();
    let id = Uuid::new_v4();
    let sealed = key.seal(body(id), b"the case notes").unwrap();
    for at in 0..sealed.as_bytes().len() {
        let mut altered = sealed.as_bytes().to_vec();
        altered[at] ^= 0x01;
        assert!(
            matches!(
                open_without_ages_reader(&key, body(id), &altered),
                None | Some(Err(CryptoError::Decrypt))
            ),
            "byte {at}"
        );
        assert!(key.open(body(id), &altered).is_err(), "byte {at}");
        let Kind::Symmetric(secret) = &key.kind else { unreachable!() };
        let fresh = FileKeys::default();
        assert!(
            age::decrypt(&FieldKey(secret, &fresh), &altered).is_err(),
            "age refuses byte {at} too"
        );
    }
    // Cut short anywhere (down to a chunk shorter than its tag), or with a byte more, it does
    // not open either, and nothing panics.
    let bytes = sealed.as_bytes();
    for cut in 0..bytes.len() {
        assert!(key.open(body(id), &bytes[..cut]).is_err(), "cut at {cut}");
        assert!(
            matches!(open_without_ages_reader(&key, body(id), &bytes[..cut]), None | Some(Err(_))),
            "cut at {cut}"
        );
    }
    assert!(key.open(body(id), [bytes, b"x"].concat()).is_err());
    // The MAC's last character written another way for the same bytes (base64 of 32 bytes
    // leaves two bits of its last character unused): age refuses that, and so do we.
    let last = bytes.windows(4).position(|w| w == b"--- ").unwrap() + 4 + 42;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let index = alphabet.iter().position(|c| *c == bytes[last]).unwrap();
    let mut loose = bytes.to_vec();
    loose[last] = alphabet[index | 1];
    assert_ne!(loose, bytes, "a canonical MAC ends in a character with its unused bits clear");
    assert!(matches!(open_without_ages_reader(&key, body(id), &loose), None | Some(Err(_))));
    assert!(key.open(body(id), &loose).is_err());
    let Kind::Symmetric(secret) = &key.kind else { unreachable!() };
    assert!(age::decrypt(&FieldKey(secret, &FileKeys::default()), &loose).is_err());
    // Another key, or another object's binding, is refused as ever.
    assert!(matches!(MessageKey::generate().open(body(id), &sealed), Err(CryptoError::Decrypt)));
    assert!(matches!(
        key.open(Binding::new(ObjectKind::Subject, id), &sealed),
        Err(CryptoError::BindingMismatch)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn both_paths_open_any_field_of_one_chunk_alike(content in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let key = MessageKey::generate();
        let id = Uuid::new_v4();
        let sealed = key.seal(body(id), &content).unwrap();
        let direct = open_without_ages_reader(&key, body(id), sealed.as_bytes()).unwrap().unwrap();
        prop_assert_eq!(&direct, &content);
        prop_assert_eq!(open_with_ages_reader(&key, body(id), &sealed).unwrap(), content);
    }
}

#[test]
fn a_key_remembers_the_file_keys_it_opened_and_they_open_nothing_altered() {
    let key = MessageKey::generate();
    let id = Uuid::new_v4();
    let subject = key.seal(Binding::new(ObjectKind::Subject, id), b"Case 1").unwrap();
    let sealed = key.seal(body(id), b"the case notes").unwrap();
    assert_eq!(key.opened.len(), 0, "sealing remembers nothing");
    for _ in 0..3 {
        assert_eq!(key.open(body(id), &sealed).unwrap().expose_secret(), b"the case notes");
    }
    assert_eq!(key.opened.len(), 1, "one field, one file key");
    key.open(Binding::new(ObjectKind::Subject, id), &subject).unwrap();
    assert_eq!(key.opened.len(), 2);
    // A remembered stanza in front of an altered payload, nonce or header MAC still fails its
    // checks (the MAC's text starts after "--- ", 105 bytes in).
    let mac_at = sealed.as_bytes().windows(4).position(|w| w == b"--- ").unwrap() + 4;
    for at in [sealed.as_bytes().len() - 1, sealed.as_bytes().len() - 40, mac_at, mac_at + 42] {
        let mut altered = sealed.as_bytes().to_vec();
        altered[at] ^= 0x01;
        assert!(key.open(body(id), &altered).is_err(), "byte {at}");
    }
    // Another key remembers its own.
    let other = MessageKey::generate();
    assert!(matches!(other.open(body(id), &sealed), Err(CryptoError::Decrypt)));
    assert_eq!(other.opened.len(), 0, "a stanza that did not open is not remembered");
    // A key remembers a bounded number.
    for i in 0..40 {
        let b = Binding::new(ObjectKind::AttachmentName, Uuid::from_u128(i));
        key.open(b, key.seal(b, b"name.pdf").unwrap()).unwrap();
    }
    assert_eq!(key.opened.len(), 8);
    assert_eq!(key.open(body(id), &sealed).unwrap().expose_secret(), b"the case notes");
}
