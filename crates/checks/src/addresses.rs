//! An address one slip away from one the sender has written to: the same domain, and a name
//! part a typing mistake or a wrong pick from a list away (`jane.smith` and `jane.smyth`). The
//! compose page takes addresses, not names, so this is how "an address that differs from the
//! name last used" shows: the person's name is the part before the `@`.

use crate::domains::edit_distance;

/// The address among `known` (the sender's past recipients) that `address`, which the sender
/// has not written to, is close to, if any. Short names (under five letters) are left alone:
/// `bob` and `rob` are as likely two people as one slip.
pub fn near_miss<'a>(address: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.chars().count() < 5 {
        return None;
    }
    known.into_iter().find(|k| {
        let Some((other, other_domain)) = k.rsplit_once('@') else {
            return false;
        };
        let most = if local.len().min(other.len()) >= 10 { 2 } else { 1 };
        other_domain.eq_ignore_ascii_case(domain)
            && !other.eq_ignore_ascii_case(local)
            && local.len().abs_diff(other.len()) <= most
            && edit_distance(&local.to_lowercase(), &other.to_lowercase()) <= most
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 4] = [
        "jane.smith@nhs.net",
        "a.patel@met.police.uk",
        "bob@school.sch.uk",
        "safeguarding@kent.gov.uk",
    ];

    #[test]
    fn one_slip_from_a_past_recipient_at_the_same_domain_is_named() {
        assert_eq!(near_miss("jane.smyth@nhs.net", KNOWN), Some("jane.smith@nhs.net"));
        assert_eq!(near_miss("jnae.smith@nhs.net", KNOWN), Some("jane.smith@nhs.net"), "a swap");
        assert_eq!(near_miss("safeguardng@kent.gov.uk", KNOWN), Some("safeguarding@kent.gov.uk"));
        assert_eq!(
            near_miss("safegaurdin@kent.gov.uk", KNOWN),
            Some("safeguarding@kent.gov.uk"),
            "two in a long name"
        );
    }

    #[test]
    fn other_people_other_domains_and_short_names_are_not() {
        for fresh in [
            "jane.smith@nhs.uk",  // another domain: the lookalike check's business
            "john.jones@nhs.net", // another person
            "rob@school.sch.uk",  // too short to tell
            "a.patel@met.police.uk.example",
        ] {
            assert_eq!(near_miss(fresh, KNOWN), None, "{fresh}");
        }
        assert_eq!(near_miss("not an address", KNOWN), None);
    }
}
