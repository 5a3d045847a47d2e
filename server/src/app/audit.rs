//! Recording audit events. Callers `await` the append before revealing anything, so content
//! never leaves the server unless its read is on record (SECURITY F1); if the write fails the
//! caller fails with it (503, no content).

use sealpost_audit::AuditEvent;
pub use sealpost_audit::{Action, Actor, Object, Origin, Outcome};

use crate::error::AppError;
use crate::state::AppState;

/// Where a request came from, for the audit log (SECURITY F2).
pub type RequestMeta = Origin;

/// Appends one event and waits for it to be committed.
pub async fn record(
    state: &AppState,
    origin: &Origin,
    actor: &Actor,
    action: Action,
    object: Option<Object>,
    outcome: Outcome,
) -> Result<(), AppError> {
    let event = AuditEvent::new(state.now_ms(), actor, action, object, outcome, origin.clone());
    state.store.append_audit(&event).await.map_err(|e| {
        tracing::error!(error = %e, action = action.as_str(), "audit write failed: refusing the request");
        AppError::Unavailable(e)
    })?;
    Ok(())
}
