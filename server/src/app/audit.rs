//! Recording audit events, and verifying the chain they form. Callers `await` the append
//! before revealing anything, so content never leaves the server unless its read is on record
//! (SECURITY F1); if the write fails the caller fails with it (503, no content).

use sealpost_audit::AuditEvent;
use sealpost_audit::chain::{Break, Head, Verifier};
use sealpost_audit::checkpoint::{Restore, SignedCheckpoint, SignedRestore};
pub use sealpost_audit::{Action, Actor, Object, Origin, Outcome};
use sealpost_crypto::VerifyKey;
use sealpost_storage::{StorageError, Store};

use crate::error::AppError;
use crate::state::AppState;

/// Where a request came from, for the audit log (SECURITY F2).
pub type RequestMeta = Origin;

/// Appends one event and waits for it to be committed (in a group commit with whatever else
/// is being recorded at that moment).
pub async fn record(
    state: &AppState,
    origin: &Origin,
    actor: &Actor,
    action: Action,
    object: Option<Object>,
    outcome: Outcome,
) -> Result<(), AppError> {
    let event = AuditEvent::new(state.now_ms(), actor, action, object, outcome, origin.clone());
    state.audit.append(event).await.map_err(|e| {
        tracing::error!(error = %e, action = action.as_str(), "audit write failed: refusing the request");
        AppError::AuditUnavailable
    })?;
    Ok(())
}

/// Events read per page while verifying.
const VERIFY_PAGE: i64 = 10_000;

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The head it reached.
    pub head: Head,
    /// How many signed checkpoints it was checked against.
    pub checkpoints: usize,
    /// The restores from a backup on record, oldest first, each signed by the audit key.
    pub restores: Vec<Restore>,
    /// Signed checkpoints given that belong to a history a restore abandoned, so were not
    /// looked for on the log.
    pub set_aside: usize,
}

/// Walks the whole chain from its first event, a page at a time, and reports the head it
/// reached or the first event that breaks it (SECURITY F4). Every stored checkpoint must be
/// signed by `key` and lie on the chain, and so must each of `heads` and `signed` (kept
/// outside the database), so a chain cut short or rewritten up to any of them is caught (F6).
///
/// A restore from a backup rolls the log back, and is a break like any other unless a restore
/// record signed by `key` says so (`sealpost restore`): then the log must pass through the
/// backup's head, and a signed checkpoint from the history abandoned (signed before the
/// restore, past the backup's head) is set aside. A bare head carries no signing time, so
/// it is always looked for.
pub async fn verify_chain(
    store: &Store,
    key: &VerifyKey,
    signed: &[SignedCheckpoint],
    heads: &[Head],
) -> Result<Result<Verified, Break>, StorageError> {
    let stored = store.audit_checkpoints().await?;
    if let Some(forged) = stored.iter().find(|c| !signed_by(c, key)) {
        return Ok(Err(Break::Forged {
            seq: forged.checkpoint.head.seq,
        }));
    }
    let restores = store.audit_restores().await?;
    if let Some(forged) = restores.iter().find(|r| !restore_signed_by(r, key)) {
        return Ok(Err(Break::Forged {
            seq: forged.restore.restored.seq,
        }));
    }
    let restores: Vec<Restore> = restores.into_iter().map(|r| r.restore).collect();
    let (set_aside, kept): (Vec<_>, Vec<_>) = signed.iter().partition(|c| restores.iter().any(|r| r.abandoned(&c.checkpoint)));
    let anchors = stored
        .iter()
        .chain(kept)
        .map(|c| c.checkpoint.head)
        .chain(heads.iter().copied())
        .chain(restores.iter().map(|r| r.restored))
        .collect();
    Ok(walk(store, Verifier::with_anchors(anchors), 0).await?.map(|head| Verified {
        head,
        checkpoints: stored.len(),
        restores,
        set_aside: set_aside.len(),
    }))
}

/// True when restore record `r` carries a valid signature by `key`.
pub fn restore_signed_by(r: &SignedRestore, key: &VerifyKey) -> bool {
    r.key == key.to_bytes() && key.verifies(&r.restore.signed_bytes(), &r.signature)
}

/// True when `c` carries a valid signature by `key`.
pub fn signed_by(c: &SignedCheckpoint, key: &VerifyKey) -> bool {
    c.key == key.to_bytes() && key.verifies(&c.checkpoint.signed_bytes(), &c.signature)
}

/// Feeds `verifier` every event after `after`, to the end of the log. Each page is read from
/// the database while the one before it is hashed.
pub(crate) async fn walk(store: &Store, mut verifier: Verifier, after: i64) -> Result<Result<Head, Break>, StorageError> {
    let mut page = store.audit_chain_page(after, VERIFY_PAGE).await?;
    while let Some(last) = page.last() {
        let next = tokio::spawn({
            let (store, after) = (store.clone(), last.seq);
            async move { store.audit_chain_page(after, VERIFY_PAGE).await }
        });
        for e in &page {
            if let Err(broken) = verifier.push(e) {
                next.abort();
                return Ok(Err(broken));
            }
        }
        page = next.await.map_err(|_| StorageError::Corrupt("the audit page reader stopped"))??;
    }
    Ok(verifier.finish())
}
