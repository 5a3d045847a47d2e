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
    MessageKey(Kind::X25519(age::x25519::Identity::generate()))
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
    let Kind::Symmetric(secret) = &key.0 else { unreachable!() };
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
