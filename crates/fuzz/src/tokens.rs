//! Everything read from a cookie, a link, a form field, a query or a file that has a printed
//! form: what parses must print back to something that parses to the same value.

use std::str::FromStr;

use sealpost_audit::Object;
use sealpost_audit::chain::Head;
use sealpost_audit::checkpoint::SignedCheckpoint;
use sealpost_crypto::Token;
use sealpost_domain::{DisplayName, EmailAddress, Reference};

/// Reads `data` (as text) as each kind of token.
pub fn tokens(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(token) = Token::parse(text) {
        let again = Token::parse(&token.expose_hex()).expect("a printed token parses");
        assert_eq!(again.hash().as_bytes(), token.hash().as_bytes());
    }
    if let Some(reference) = Reference::parse_typed(text) {
        assert_eq!(Reference::parse_typed(reference.as_str()).as_ref(), Some(&reference));
        assert!(
            reference.as_str().starts_with("SP-") && reference.as_str().len() == 12,
            "{reference:?}"
        );
    }
    if let Ok(address) = EmailAddress::parse(text) {
        assert_eq!(EmailAddress::parse(address.as_str()).as_ref(), Ok(&address));
    }
    if let Ok(name) = DisplayName::parse(text) {
        assert_eq!(DisplayName::parse(name.as_str()).as_ref(), Ok(&name));
    }
    if let Some(ms) = sealpost_domain::time::parse_date(text) {
        assert!(ms % 86_400_000 == 0, "{text:?} is not midnight UTC");
        let printed = sealpost_domain::time::rfc3339(ms);
        assert_eq!(
            sealpost_domain::time::parse_date(&printed[..10]),
            Some(ms),
            "{text:?} printed as {printed:?}"
        );
    }
    round_trips::<Object>(text);
    round_trips::<Head>(text);
    round_trips::<SignedCheckpoint>(text);
}

fn round_trips<T: FromStr + ToString + PartialEq + std::fmt::Debug>(text: &str) {
    if let Ok(value) = text.parse::<T>() {
        let printed = value.to_string();
        assert!(
            printed.parse::<T>().ok().as_ref() == Some(&value),
            "{value:?} printed as {printed:?}"
        );
    }
}
