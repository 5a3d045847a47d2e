//! The recipient portal (issue 4, first slice): what the secure link page shows. Reading a link
//! writes nothing, so mail scanners that open every link neither use it up nor count as a read
//! (SECURITY B2). The token is compared in constant time with the stored hash (B1).

use sealpost_crypto::Token;
use sealpost_domain::api_messages::LinkView;

use crate::error::AppError;
use crate::state::AppState;

/// The link page's content, or why the link no longer works.
pub async fn link(state: &AppState, token: &str) -> Result<LinkView, AppError> {
    // A malformed token and an unknown one get the same answer.
    let token = Token::parse(token).ok_or(AppError::NotFound)?;
    let hash = token.hash();
    let link = state
        .store
        .link(&hash)
        .await?
        .filter(|l| l.stored_hash.ct_eq(&hash))
        .ok_or(AppError::NotFound)?;
    if link.revoked {
        return Err(AppError::Gone {
            code: "link_revoked",
            message: format!(
                "{} has withdrawn access to this message. If you still need it, contact them and quote reference {}.",
                link.sender_name, link.reference
            ),
        });
    }
    if link.expires_at_ms <= state.now_ms() {
        return Err(AppError::Gone {
            code: "link_expired",
            message: format!(
                "This link has expired. If you still need the message, ask {} to send it again and quote reference {}.",
                link.sender_name, link.reference
            ),
        });
    }
    Ok(LinkView {
        sender_name: link.sender_name,
        organisation: state.settings.org_name.clone(),
        marking: link.marking,
        reference: link.reference,
        expires_at: link.expires_at_ms,
        passphrase_required: link.passphrase_required,
    })
}
