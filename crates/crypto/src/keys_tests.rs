//! Tests of the keyring, escrow and per-message keys (SECURITY E2, E3).

use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::*;

struct Fixture {
    keyring: Keyring,
    escrow: EscrowIdentity,
}

fn fixture() -> Fixture {
    let master = generate_key_pair();
    let escrow = generate_key_pair();
    let keyring = Keyring::from_identity_file(&master.identity, EscrowRecipient::parse(&escrow.recipient).unwrap()).unwrap();
    Fixture {
        keyring,
        escrow: EscrowIdentity::parse(&escrow.identity).unwrap(),
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
    assert_eq!(open_key_backup(&file, &sealed).unwrap().expose_secret(), b"file master.key 3\nabc\n");
    assert!(open_key_backup(&other.identity, &sealed).is_err());
    assert!(seal_key_backup("not-a-recipient", b"x").is_err());
}
