//! The recipient portal: what the secure link page shows, and portal sessions. Reading a link
//! writes nothing, so mail scanners that open every link neither use it up nor count as a read
//! (SECURITY B2). The token is compared in constant time with the stored hash (B1).

use sealpost_crypto::{Token, TokenHash};
use sealpost_domain::EmailAddress;
use sealpost_domain::api_messages::{LinkView, PortalState};
use sealpost_storage::LinkRecord;

use crate::app::audit::{self, Action, Actor, Object, Outcome, RequestMeta};
use crate::app::portal_verify;

use crate::error::AppError;
use crate::state::AppState;

const PORTAL_IDLE_MS: i64 = 15 * 60_000;
const PORTAL_ABSOLUTE_MS: i64 = 60 * 60_000;

/// The link page's content, or why the link no longer works.
pub async fn link(state: &AppState, token: &str) -> Result<LinkView, AppError> {
    let link = live_link(state, token).await?;
    let phone = sender_phone(state, &link.sender_email).await;
    Ok(LinkView {
        sender_phone: phone.map(|p| p.to_string()),
        ..view(state, link)
    })
}

/// The sender's telephone number, if IT has set one: only where a partner is told whom to
/// contact (the link page, dead ends), so the hot portal path never looks it up. Best effort.
async fn sender_phone(state: &AppState, email: &EmailAddress) -> Option<sealpost_domain::PhoneNumber> {
    state.store.user_by_email(email).await.ok().flatten()?.phone
}

/// The link a token names, if it still works; otherwise why not.
pub async fn live_link(state: &AppState, token: &str) -> Result<LinkRecord, AppError> {
    // A malformed token and an unknown one get the same answer.
    let token = Token::parse(token).ok_or(AppError::NotFound)?;
    let hash = token.hash();
    let link = state
        .store
        .link(&hash)
        .await?
        .filter(|l| l.stored_hash.ct_eq(&hash))
        .ok_or(AppError::NotFound)?;
    check_live(state, &link).await?;
    Ok(link)
}

/// A signed-in recipient: their link, session and whether they have proved who they are.
pub struct Portal {
    /// The link the session was opened from.
    pub link: LinkRecord,
    /// The session token's hash.
    pub session: TokenHash,
    /// Code (and passphrase) accepted.
    pub verified: bool,
}

/// Resolves a portal session, ending it after 15 minutes idle or 60 in all (SECURITY A9), and
/// re-checking on every request that the link has not been revoked or expired.
pub async fn resolve(state: &AppState, session: &TokenHash) -> Result<Portal, AppError> {
    let record = state.store.portal_session(session).await?.ok_or(AppError::Unauthenticated)?;
    let now = state.now_ms();
    if now - record.last_seen_at_ms >= PORTAL_IDLE_MS || now - record.created_at_ms >= PORTAL_ABSOLUTE_MS {
        state.store.delete_portal_session(session).await?;
        return Err(AppError::Unauthenticated);
    }
    let link = record.link;
    check_live(state, &link).await?;
    // Like staff sessions: at most one write a minute, not one per request.
    if now - record.last_seen_at_ms >= crate::app::sessions::TOUCH_EVERY_MS {
        state.store.touch_portal_session(session, now, false).await?;
    }
    Ok(Portal {
        link,
        session: *session,
        verified: record.verified_at_ms.is_some(),
    })
}

/// Ends a portal session: the partner's "Sign out", for a shared computer. Audited when the
/// session still existed; signing out twice, or after it ended, just clears the cookie.
pub async fn sign_out(state: &AppState, session: &TokenHash, meta: &RequestMeta) -> Result<(), AppError> {
    let Some(record) = state.store.portal_session(session).await? else {
        return Ok(());
    };
    state.store.delete_portal_session(session).await?;
    let object = Some(Object::Message(record.link.message_id));
    audit::record(
        state,
        meta,
        &portal_verify::actor(&record.link),
        Action::PortalSignOut,
        object,
        Outcome::Success,
    )
    .await
}

/// Where the recipient stands, for the portal page.
pub fn portal_state(state: &AppState, portal: Portal) -> PortalState {
    PortalState {
        verified: portal.verified,
        code_minutes: portal_verify::code_minutes(),
        limits: state.limits,
        link: view(state, portal.link),
    }
}

/// Refuses a revoked or expired link with a page that says whom to contact.
pub async fn check_live(state: &AppState, link: &LinkRecord) -> Result<(), AppError> {
    let (revoked, expired) = (link.revoked, link.expires_at_ms <= state.now_ms());
    if !revoked && !expired {
        return Ok(());
    }
    let contact = match sender_phone(state, &link.sender_email).await {
        Some(phone) => format!("{} or on {phone}", link.sender_email),
        None => link.sender_email.to_string(),
    };
    Err(if revoked {
        AppError::Gone {
            code: "link_revoked",
            message: format!(
                "{} has withdrawn access to this message. If you still need it, contact them at {contact} and quote reference {}.",
                link.sender_name, link.reference
            ),
        }
    } else {
        AppError::Gone {
            code: "link_expired",
            message: format!(
                "This link has expired. If you still need the message, ask {} ({contact}) to send it again and quote reference {}.",
                link.sender_name, link.reference
            ),
        }
    })
}

fn view(state: &AppState, link: LinkRecord) -> LinkView {
    let locked_until = link.locked_until_ms.filter(|_| link.is_locked(state.now_ms()));
    LinkView {
        locked_until,
        sender_name: link.sender_name,
        sender_email: link.sender_email.to_string(),
        sender_phone: None,
        organisation: state.settings.org_name.clone(),
        marking: link.marking,
        reference: link.reference,
        expires_at: link.expires_at_ms,
        passphrase_required: link.passphrase_required,
    }
}

/// The recipient, as the audit log names them.
pub fn recipient(portal: &Portal) -> Actor {
    Actor::Recipient(portal.link.address.clone())
}
