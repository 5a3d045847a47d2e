//! The checks before a send (issue 20): mistakes in the recipients and sensitive content in an
//! OFFICIAL message. Each is a concern the sender confirms or goes back on; a send with
//! concerns not confirmed answers 409 `confirm_concerns` listing them, and the same send with
//! their kinds in `confirmed` goes through, each confirmed kind audited. What policy refuses
//! (OFFICIAL-SENSITIVE to personal webmail, unless allowed) is refused outright.
//!
//! An address the sender has never used is not one of them: the browser asks about it, and
//! integrations are not stopped by every new partner. A concern names addresses the sender
//! typed and counts of what was found, never the values: nothing found is logged or audited.

use std::collections::BTreeSet;
use std::sync::Arc;

use sealpost_checks::{ContentFindings, Domain, lookalike_of, near_miss, organisation, scan};
use sealpost_domain::api_messages::Concern;
use sealpost_domain::{EmailAddress, Marking, UserId};

use crate::app::audit::Action;
use crate::error::AppError;
use crate::state::AppState;

/// A recipient whose domain looks like one the council writes to.
pub const LOOKALIKE: &str = "lookalike_domain";
/// A recipient the sender has not written to, one slip from one they have (`jane.smyth` for
/// `jane.smith`, same domain).
pub const SIMILAR: &str = "similar_address";
/// A recipient at a personal webmail domain.
pub const WEBMAIL: &str = "personal_webmail";
/// External recipients from several organisations on one OFFICIAL-SENSITIVE message.
pub const ORGANISATIONS: &str = "several_organisations";
/// NHS, National Insurance or bank numbers, or the council's keywords, in an OFFICIAL message.
pub const CONTENT: &str = "sensitive_content";
/// Every kind.
pub const ALL: [&str; 5] = [LOOKALIKE, SIMILAR, WEBMAIL, ORGANISATIONS, CONTENT];

/// How long the list of domains the council writes to is kept before it is read again.
const DOMAINS_TTL_MS: i64 = 5 * 60_000;

/// The domains the council writes to, read at most every [`DOMAINS_TTL_MS`].
#[derive(Default)]
pub struct KnownDomains(tokio::sync::Mutex<Option<(i64, Arc<Vec<Domain>>)>>);

impl KnownDomains {
    async fn get(&self, state: &AppState) -> Result<Arc<Vec<Domain>>, AppError> {
        let mut kept = self.0.lock().await;
        let now = state.now_ms();
        if let Some((at, domains)) = kept.as_ref()
            && now - at < DOMAINS_TTL_MS
        {
            return Ok(domains.clone());
        }
        let domains: Arc<Vec<Domain>> = Arc::new(state.store.correspondent_domains().await?.iter().map(|d| Domain::new(d)).collect());
        *kept = Some((now, domains.clone()));
        Ok(domains)
    }

    /// Adds the domains of `addresses`, just written to, to the list kept: the next send
    /// knows them without waiting for the list to be read again.
    pub async fn remember<'a>(&self, addresses: impl IntoIterator<Item = &'a EmailAddress>) {
        let mut kept = self.0.lock().await;
        let Some((_, list)) = kept.as_mut() else { return };
        let mut grown: Option<Vec<Domain>> = None;
        for address in addresses {
            let domain = domain_of(address);
            if !list.contains(&domain) && !grown.as_ref().is_some_and(|g| g.contains(&domain)) {
                grown.get_or_insert_with(|| list.as_ref().clone()).push(domain);
            }
        }
        if let Some(grown) = grown {
            *list = Arc::new(grown);
        }
    }
}

/// The domain of `address`, as a person reads it.
fn domain_of(address: &EmailAddress) -> Domain {
    Domain::new(address.as_str().rsplit_once('@').map_or("", |(_, d)| d))
}

/// What a send is checked on.
pub struct Outgoing<'a> {
    /// Who sends it.
    pub sender: UserId,
    /// Every recipient.
    pub all: Vec<&'a EmailAddress>,
    /// Recipients without a Sealpost account.
    pub external: Vec<&'a EmailAddress>,
    /// The marking chosen.
    pub marking: Marking,
    /// The subject and body.
    pub text: [&'a str; 2],
    /// What the text files already read held (a draft's, or those taken in from Outlook).
    pub files: ContentFindings,
    /// The kinds the sender confirmed.
    pub confirmed: &'a [String],
}

/// Checks `m`: an error if policy refuses it or a concern is not confirmed; else the audit
/// actions of the concerns it had (each confirmed), to record once it is sent.
pub async fn check(state: &AppState, m: &Outgoing<'_>) -> Result<Vec<Action>, AppError> {
    let mut concerns = vec![];
    let known = state.store.known_recipients(m.sender).await?;
    for address in m.all.iter().filter(|a| !known.contains(a)) {
        if let Some(near) = near_miss(address.as_str(), known.iter().map(EmailAddress::as_str)) {
            concerns.push(concern(
                SIMILAR,
                format!("You have not written to {address} before, but you have written to {near}. Check it is the right person."),
            ));
        }
    }
    if !m.external.is_empty() {
        let known = state.known_domains.get(state).await?;
        let mut organisations = BTreeSet::new();
        for address in &m.external {
            let domain = domain_of(address);
            if let Some(real) = lookalike_of(&domain, known.iter()) {
                concerns.push(concern(
                    LOOKALIKE,
                    format!(
                        "{address}: {} looks like {}, which the council writes to. Check it is not a typing mistake.",
                        domain.as_str(),
                        real.as_str()
                    ),
                ));
            }
            if state.settings.webmail_domains.iter().any(|w| w == domain.as_str()) {
                if m.marking == Marking::OfficialSensitive && !state.settings.sensitive_webmail_allowed {
                    return Err(AppError::bad(
                        "personal_webmail_refused",
                        format!(
                            "OFFICIAL-SENSITIVE messages cannot go to personal email addresses such as {address}. Use their work address, or mark the message OFFICIAL if it is not sensitive."
                        ),
                    ));
                }
                concerns.push(concern(
                    WEBMAIL,
                    format!("{address} is a personal email address. Check they should receive council information there."),
                ));
            }
            organisations.insert(organisation(&domain));
        }
        if m.marking == Marking::OfficialSensitive && organisations.len() > 1 {
            let names: Vec<String> = organisations.into_iter().collect();
            concerns.push(concern(
                ORGANISATIONS,
                format!(
                    "This OFFICIAL-SENSITIVE message goes to {} organisations ({}). Check each of them should see all of it.",
                    names.len(),
                    names.join(", ")
                ),
            ));
        }
    }
    if m.marking == Marking::Official {
        let found = m
            .text
            .iter()
            .fold(m.files, |all, t| all.and(scan(t, &state.settings.check_keywords)));
        concerns.extend(content_concern(&found));
    }
    let unconfirmed: Vec<Concern> = concerns.iter().filter(|c| !m.confirmed.contains(&c.kind)).cloned().collect();
    if !unconfirmed.is_empty() {
        return Err(AppError::Concerns(unconfirmed));
    }
    let kinds: BTreeSet<&str> = concerns.iter().map(|c| c.kind.as_str()).collect();
    Ok(kinds.into_iter().filter_map(action_of).collect())
}

/// The content check on the files sent with the form, read as they were taken in: when they
/// hold sensitive content in an OFFICIAL message, the sender confirms it (error if not, and
/// the files go); then the action recording it.
pub fn check_files(marking: Marking, found: &ContentFindings, confirmed: &[String]) -> Result<Option<Action>, AppError> {
    let Some(c) = content_concern(found).filter(|_| marking == Marking::Official) else {
        return Ok(None);
    };
    if !confirmed.contains(&c.kind) {
        return Err(AppError::Concerns(vec![c]));
    }
    Ok(action_of(CONTENT))
}

/// The concern that `found` raises in an OFFICIAL message, if any.
fn content_concern(found: &ContentFindings) -> Option<Concern> {
    (!found.is_empty()).then(|| {
        concern(
            CONTENT,
            format!(
                "The message or its files seem to contain {}. Mark it OFFICIAL-SENSITIVE, or confirm it can go as OFFICIAL.",
                in_words(found)
            ),
        )
    })
}

fn concern(kind: &str, message: String) -> Concern {
    Concern {
        kind: kind.to_owned(),
        message,
    }
}

/// The audit action recording that the sender confirmed a concern of `kind`.
fn action_of(kind: &str) -> Option<Action> {
    Some(match kind {
        LOOKALIKE => Action::ConfirmedLookalike,
        SIMILAR => Action::ConfirmedSimilarAddress,
        WEBMAIL => Action::ConfirmedWebmail,
        ORGANISATIONS => Action::ConfirmedOrganisations,
        CONTENT => Action::ConfirmedContent,
        _ => return None,
    })
}

/// "2 NHS numbers and bank details", from counts alone.
fn in_words(f: &ContentFindings) -> String {
    let count = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let parts: Vec<String> = [
        count(f.nhs_numbers, "NHS number", "NHS numbers"),
        count(f.ni_numbers, "National Insurance number", "National Insurance numbers"),
        (f.bank_details > 0).then(|| "bank details".to_owned()),
        count(
            f.keywords,
            "word on the council's sensitive list",
            "words on the council's sensitive list",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
