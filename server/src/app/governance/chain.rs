//! The IG officer's checks on the log itself: verifying the whole chain (and signing a
//! checkpoint of it when intact), and the newest checkpoint as a file to keep elsewhere.

use sealpost_domain::api_audit::AuditVerification;
use sealpost_storage::UserRecord;

use crate::app::audit::{self, Action, Actor, Origin, Outcome};
use crate::app::auth::require_ig;
use crate::error::AppError;
use crate::state::AppState;
use crate::workers::checkpoints::{CheckpointError, sign_and_remember};

/// Verifies the chain for an IG officer (anyone else: 403), and records that they did.
pub async fn verify_for(state: &AppState, user: &UserRecord, meta: &Origin) -> Result<AuditVerification, AppError> {
    require_ig(user)?;
    // The last checkpoint this installation signed, kept outside the database, must be on it.
    let mine = crate::keyfiles::last_signed(&state.settings.key_dir).map_err(AppError::Internal)?;
    let result = audit::verify_chain(&state.store, &state.audit_key.verify_key(), mine.as_slice(), &[])
        .await
        .map_err(AppError::Unavailable)?;
    let outcome = if result.is_ok() { Outcome::Success } else { Outcome::Failure };
    audit::record(state, meta, &Actor::User(user.id), Action::AuditVerify, None, outcome).await?;
    if result.is_ok() {
        // An intact chain is signed as it stands, so the console can offer the checkpoint
        // as a file to keep elsewhere (a POST, like `sealpost audit checkpoint`).
        sign_now(state).await?;
    }
    Ok(match result {
        Ok(v) => AuditVerification {
            intact: true,
            events: v.head.seq,
            head: Some(v.head.to_string()),
            checkpoints: v.checkpoints,
            problem: None,
            restores: v.restores.iter().map(ToString::to_string).collect(),
        },
        Err(broken) => AuditVerification {
            intact: false,
            events: broken.seq() - 1,
            head: None,
            checkpoints: 0,
            problem: Some(format!("The audit log is not intact: {broken}.")),
            restores: vec![],
        },
    })
}

/// Signs a checkpoint of the head now, after verifying the events since the last one.
async fn sign_now(state: &AppState) -> Result<(), AppError> {
    sign_and_remember(&state.store, &state.audit_key, &state.settings.key_dir, state.now_ms())
        .await
        .map(|_| ())
        .map_err(|e| match e {
            CheckpointError::Storage(e) => AppError::from(e),
            CheckpointError::Broken(b) => AppError::bad(
                "log_not_intact",
                format!("The audit log is not intact ({b}), so no checkpoint can be signed. Tell your data protection officer."),
            ),
            CheckpointError::Record(e) => AppError::Internal(e),
        })
}

/// The newest checkpoint this server has signed (verifying signs one), as a file an IG officer
/// keeps away from the server: `sealpost audit verify --checkpoint-file` later proves nothing
/// before it changed. IG only; read-only but for its own audit event, as every read is.
/// `None` before the first checkpoint.
pub async fn checkpoint_for(state: &AppState, user: &UserRecord, meta: &Origin) -> Result<Option<(i64, String)>, AppError> {
    require_ig(user)?;
    audit::record(state, meta, &Actor::User(user.id), Action::AuditExport, None, Outcome::Success).await?;
    let public = state.audit_key.verify_key();
    let latest = state
        .store
        .latest_audit_checkpoint_by(&public.to_bytes())
        .await?
        .filter(|c| audit::signed_by(c, &public));
    Ok(latest.map(|c| (c.checkpoint.head.seq, c.to_string())))
}
