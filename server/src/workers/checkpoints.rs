//! Signed checkpoints of the audit chain (SECURITY F6). A worker signs the head every
//! `audit_checkpoint_events` events or `audit_checkpoint_minutes` minutes, and once more on
//! shutdown. Before signing, it verifies the events since the last checkpoint, so it never
//! vouches for a chain that is already broken, and it keeps the last head it signed in the key
//! directory, so deleting the stored checkpoints cannot make it start again from a forged
//! genesis.

use std::path::Path;
use std::time::Duration;

use sealpost_audit::chain::{Break, Head, Verifier};
use sealpost_audit::checkpoint::{Checkpoint, Restore, SignedCheckpoint, SignedRestore};
use sealpost_audit::{Action, Actor, AuditEvent, Origin, Outcome};
use sealpost_crypto::AuditSigningKey;
use sealpost_storage::{StorageError, Store};
use tokio::sync::watch;

use crate::app::audit::{signed_by, verify_chain, walk};
use crate::keyfiles;
use crate::state::AppState;

/// How often the worker looks at the head (two indexed lookups).
const TICK: Duration = Duration::from_secs(5);

/// Why no checkpoint was signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The events since the last checkpoint do not verify, or the stored checkpoints no
    /// longer reach the last one this installation signed.
    #[error("the audit log is not intact ({0}); no checkpoint was signed")]
    Broken(Break),
    /// The record of the last checkpoint signed, in the key directory, could not be used.
    #[error("the record of the last signed checkpoint: {0:#}")]
    Record(anyhow::Error),
}

/// Signs the head reached after verifying every event since the newest checkpoint this key
/// signed (all of them, the first time), and stores the checkpoint. Returns the newest
/// checkpoint: the new one, or the old one if nothing happened since.
///
/// `last_signed` is the last checkpoint this installation signed, as kept beside the key,
/// outside the database. If the stored checkpoints no longer reach it, someone has deleted
/// them, most likely to rewrite the log behind them: the signer refuses, rather than vouch for
/// a chain from genesis that may be forged.
pub async fn sign_head(
    store: &Store,
    key: &AuditSigningKey,
    now_ms: i64,
    last_signed: Option<Head>,
) -> Result<Option<SignedCheckpoint>, CheckpointError> {
    let public = key.verify_key();
    let latest = store
        .latest_audit_checkpoint_by(&public.to_bytes())
        .await?
        .filter(|c| signed_by(c, &public));
    if let Some(mine) = last_signed
        && latest.is_none_or(|c| c.checkpoint.head.seq < mine.seq)
    {
        return Err(CheckpointError::Broken(Break::Checkpoint { seq: mine.seq }));
    }
    let from = latest.map_or(Head { seq: 0, hash: [0; 32] }, |c| c.checkpoint.head);
    let head = walk(store, Verifier::resume(from), from.seq)
        .await?
        .map_err(CheckpointError::Broken)?;
    if head.seq == 0 || head == from {
        return Ok(latest);
    }
    let checkpoint = Checkpoint { head, at_ms: now_ms };
    let signed = SignedCheckpoint {
        checkpoint,
        key: public.to_bytes(),
        signature: key.sign(&checkpoint.signed_bytes()),
    };
    store.insert_audit_checkpoint(&signed).await?;
    tracing::info!(seq = head.seq, "audit checkpoint signed");
    Ok(Some(signed))
}

/// [`sign_head`] for this installation: reads and updates its record of the last checkpoint
/// it signed, in the key directory.
pub async fn sign_and_remember(
    store: &Store,
    key: &AuditSigningKey,
    key_dir: &Path,
    now_ms: i64,
) -> Result<Option<SignedCheckpoint>, CheckpointError> {
    let mine = keyfiles::last_signed(key_dir).map_err(CheckpointError::Record)?;
    let signed = sign_head(store, key, now_ms, mine.map(|c| c.checkpoint.head)).await?;
    if let Some(c) = &signed
        && mine.is_none_or(|m| m.checkpoint.head.seq < c.checkpoint.head.seq)
    {
        keyfiles::remember_signed(key_dir, c).map_err(CheckpointError::Record)?;
    }
    Ok(signed)
}

/// Records a restore from a backup (`sealpost restore`, once the backup's database is in
/// place and checked): signs a restore record naming the backup's head, where the log now
/// ends, and the last head this installation signed before it; appends `audit.restored`; then
/// signs a checkpoint of the new head and keeps it as the last one signed. So `audit verify`
/// reports the restore instead of a rollback, while a later rollback by hand, even to this
/// same backup, is still caught.
pub async fn record_restore(store: &Store, key: &AuditSigningKey, key_dir: &Path, now_ms: i64) -> Result<Restore, CheckpointError> {
    let public = key.verify_key();
    let restored = verify_chain(store, &public, &[], &[]).await?.map_err(CheckpointError::Broken)?.head;
    let before = keyfiles::last_signed(key_dir).map_err(CheckpointError::Record)?;
    let last_signed = match before {
        Some(c) if c.checkpoint.head.seq > restored.seq => c.checkpoint.head,
        // Signed no later than the backup's head: it must lie on the restored log.
        Some(c) => {
            verify_chain(store, &public, &[c], &[]).await?.map_err(CheckpointError::Broken)?;
            restored
        }
        None => restored,
    };
    let restore = Restore {
        restored,
        last_signed,
        at_ms: now_ms,
    };
    store
        .insert_audit_restore(&SignedRestore {
            restore,
            key: public.to_bytes(),
            signature: key.sign(&restore.signed_bytes()),
        })
        .await?;
    let origin = Origin {
        user_agent: Some("sealpost restore".into()),
        ..Origin::default()
    };
    store
        .append_audit(&AuditEvent::new(
            now_ms,
            &Actor::System,
            Action::AuditRestored,
            None,
            Outcome::Success,
            origin,
        ))
        .await?;
    // Signed after the record (a later time), so the record never sets this checkpoint aside.
    if let Some(signed) = sign_head(store, key, now_ms + 1, None).await? {
        keyfiles::remember_signed(key_dir, &signed).map_err(CheckpointError::Record)?;
    }
    Ok(restore)
}

/// True when the head has moved far enough, or long enough ago, to sign again.
fn due(state: &AppState, head: Head, latest: Option<&SignedCheckpoint>) -> bool {
    let (seq, at_ms) = latest.map_or((0, i64::MIN), |c| (c.checkpoint.head.seq, c.checkpoint.at_ms));
    let minutes_ms = i64::from(state.settings.audit_checkpoint_minutes) * 60_000;
    head.seq - seq >= i64::from(state.settings.audit_checkpoint_events)
        || (head.seq > seq && state.now_ms().saturating_sub(at_ms) >= minutes_ms)
}

async fn tick(state: &AppState, force: bool) -> Result<(), CheckpointError> {
    let public = state.audit_key.verify_key();
    let latest = state
        .store
        .latest_audit_checkpoint_by(&public.to_bytes())
        .await?
        .filter(|c| signed_by(c, &public));
    let head = state.store.audit_head().await?;
    if head.seq > 0 && (force || due(state, head, latest.as_ref())) {
        sign_and_remember(&state.store, &state.audit_key, &state.settings.key_dir, state.now_ms()).await?;
    }
    Ok(())
}

/// Runs until `stop` turns true, then signs what happened since the last checkpoint.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(TICK) => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = tick(&state, stopping).await {
            tracing::error!(error = %e, "audit checkpoint failed");
        }
        if stopping || *stop.borrow() {
            break;
        }
    }
}
