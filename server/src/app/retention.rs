//! Retention (issue 19, PRODUCT journey 7): every message whose time under the council's
//! schedule is up is crypto-shredded with its replies and files: its key row goes (every wrap
//! of it), then its blobs; its metadata stays, and one `message.shredded` event records it. A
//! message on legal hold is never shredded. Run hourly by the server's housekeeping and by
//! `sealpost retention run`.

use sealpost_audit::AuditEvent;
use sealpost_domain::MessageId;
use sealpost_storage::{BlobStore, ShredReason, Store};

use crate::app::audit::{Action, Actor, Object, Origin, Outcome};
use crate::error::AppError;
use crate::settings::Settings;

const DAY_MS: i64 = 86_400_000;

/// How many due messages are read at a time.
const BATCH: i64 = 100;

/// Shreds every message due at `now_ms` under `settings`' retention days; how many went.
/// `forget` drops a shredded message's key from the server's cache (the CLI has none).
pub async fn run(
    store: &Store,
    blobs: &BlobStore,
    settings: &Settings,
    now_ms: i64,
    forget: impl Fn(MessageId),
) -> Result<usize, AppError> {
    let cutoff = |days: u32| (days > 0).then(|| now_ms - i64::from(days) * DAY_MS);
    let (official, sensitive) = (cutoff(settings.retention_days_official), cutoff(settings.retention_days_sensitive));
    if official.is_none() && sensitive.is_none() {
        return Ok(0);
    }
    let mut shredded = 0;
    loop {
        let due = store.retention_due(official, sensitive, BATCH).await?;
        let mut went = 0;
        for id in &due {
            if shred(
                store,
                blobs,
                *id,
                (ShredReason::Retention, None),
                (&Actor::System, &Origin::default()),
                now_ms,
            )
            .await?
            {
                forget(*id);
                went += 1;
            }
        }
        shredded += went;
        // A message held meanwhile stays due but is not shredded: stop rather than read it again.
        if went == 0 || (due.len() as i64) < BATCH {
            break;
        }
    }
    if shredded > 0 {
        store.checkpoint().await?;
        tracing::info!(shredded, "retention: messages past their time deleted");
    }
    Ok(shredded)
}

/// Crypto-shreds message `id` for `reason` (with IG's note, for an erasure), recorded as done
/// by `actor`: true if it went,
/// false if it is on legal hold, already shredded or unknown. Its files are deleted after the
/// commit; one that cannot be is left to the orphan sweep (a shredded message's files count as
/// unreferenced), and it no longer opens either way.
pub async fn shred(
    store: &Store,
    blobs: &BlobStore,
    id: MessageId,
    reason: (ShredReason, Option<&str>),
    (actor, origin): (&Actor, &Origin),
    now_ms: i64,
) -> Result<bool, AppError> {
    let audit = AuditEvent::new(
        now_ms,
        actor,
        Action::MessageShredded,
        Some(Object::Message(id)),
        Outcome::Success,
        origin.clone(),
    );
    let Some(files) = store.shred_message(id, reason, now_ms, &audit).await? else {
        return Ok(false);
    };
    for key in files {
        if let Err(e) = blobs.delete(&key).await {
            tracing::warn!(error = %e, message = %id, "retention: a shredded message's file is left for the orphan sweep");
        }
    }
    Ok(true)
}
