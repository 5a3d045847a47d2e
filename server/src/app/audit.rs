//! Recording audit events, and verifying the chain they form. Callers `await` the append
//! before revealing anything, so content never leaves the server unless its read is on record
//! (SECURITY F1); if the write fails the caller fails with it (503, no content).

use sealpost_audit::AuditEvent;
use sealpost_audit::chain::{Break, Head, Verifier};
pub use sealpost_audit::{Action, Actor, Object, Origin, Outcome};
use sealpost_domain::Role;
use sealpost_domain::api_audit::AuditVerification;
use sealpost_storage::{StorageError, Store, UserRecord};

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

/// Events read per page while verifying.
const VERIFY_PAGE: i64 = 10_000;

/// Walks the whole chain from its first event, a page at a time, and reports the head it
/// reached or the first event that breaks it (SECURITY F4). With `checkpoint` (exported
/// earlier), a chain cut short or rewritten up to it is caught too (F6).
pub async fn verify_chain(store: &Store, checkpoint: Option<Head>) -> Result<Result<Head, Break>, StorageError> {
    let mut verifier = Verifier::new(checkpoint);
    let mut after = 0;
    loop {
        let page = store.audit_chain_page(after, VERIFY_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if let Err(broken) = verifier.push(e) {
                return Ok(Err(broken));
            }
        }
    }
    Ok(verifier.finish())
}

/// Verifies the chain for an IG officer (anyone else: 403), and records that they did.
pub async fn verify_for(state: &AppState, user: &UserRecord, meta: &Origin) -> Result<AuditVerification, AppError> {
    if user.role != Role::Ig {
        return Err(AppError::Forbidden("The audit log is for information governance officers."));
    }
    let result = verify_chain(&state.store, None).await.map_err(AppError::Unavailable)?;
    let outcome = if result.is_ok() { Outcome::Success } else { Outcome::Failure };
    record(state, meta, &Actor::User(user.id), Action::AuditVerify, None, outcome).await?;
    Ok(match result {
        Ok(head) => AuditVerification {
            intact: true,
            events: head.seq,
            head: Some(head.to_string()),
            problem: None,
        },
        Err(broken) => AuditVerification {
            intact: false,
            events: broken.seq() - 1,
            head: None,
            problem: Some(format!("The audit log is not intact: {broken}.")),
        },
    })
}
