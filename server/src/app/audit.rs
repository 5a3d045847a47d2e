//! Recording audit events. Callers `await` the append before revealing anything, so content
//! never leaves the server unless its read is on record (SECURITY F1); if the write fails the
//! caller fails with it.

use sealpost_domain::{MessageId, UserId};
use sealpost_storage::AuditEvent;

use crate::error::AppError;
use crate::state::AppState;

/// Where a request came from, for the audit log (SECURITY F2).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client address.
    pub ip: Option<String>,
    /// User agent, truncated.
    pub user_agent: Option<String>,
    /// The request id also logged by tracing.
    pub request_id: Option<String>,
}

/// `user:<id>`
pub fn actor_user(id: UserId) -> String {
    format!("user:{id}")
}

/// `message:<id>`
pub fn object_message(id: MessageId) -> String {
    format!("message:{id}")
}

/// Appends one event and waits for it to be committed.
pub async fn record(
    state: &AppState,
    meta: &RequestMeta,
    actor: &str,
    action: &str,
    object: Option<&str>,
    outcome: &str,
) -> Result<(), AppError> {
    let event = AuditEvent {
        at_ms: state.now_ms(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        object: object.map(str::to_owned),
        outcome: outcome.to_owned(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        request_id: meta.request_id.clone(),
    };
    state.store.append_audit(&event).await.map_err(|e| {
        tracing::error!(error = %e, action, "audit write failed: refusing the request");
        AppError::Unavailable(e)
    })?;
    Ok(())
}
