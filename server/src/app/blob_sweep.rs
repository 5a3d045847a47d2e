//! The orphan-blob sweep (SECURITY G2). A sealed file is written before its message commits, so
//! a crash, a `kill -9` or a lost connection in between leaves a file that no attachment row
//! names, or an unfinished upload's staging file. Neither can ever be read: both are removed.
//!
//! A file is only removed once it has not changed for `SEALPOST_ORPHAN_BLOB_MINUTES`, so an
//! upload still streaming on another instance is never touched. On SQLite only one server opens
//! the database, so at start every orphan older than the process goes at once.

use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::error::AppError;
use crate::state::AppState;

/// Where sealed attachment files live in the blob store.
const PREFIX: &str = "attachments";
/// How often the sweep runs after the first pass.
const EVERY: Duration = Duration::from_secs(3600);

/// Sweeps at start, then hourly, until `stop` turns true.
pub async fn run(state: AppState, started: SystemTime, mut stop: watch::Receiver<bool>) {
    let grace = Duration::from_secs(u64::from(state.settings.orphan_blob_minutes) * 60);
    let mut cutoff = match state.store.backend() {
        "sqlite" => started,
        _ => started.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH),
    };
    loop {
        match sweep(&state, cutoff).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed sealed files no message refers to"),
            Err(e) => tracing::warn!(error = %e, "orphan sweep failed; trying again later"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    }
}

/// Removes every sealed file last changed before `cutoff` that no attachment row names, and
/// every unfinished upload older than that. Returns how many files went.
pub async fn sweep(state: &AppState, cutoff: SystemTime) -> Result<usize, AppError> {
    let mut removed = 0;
    for file in state.blobs.files_modified_before(PREFIX, cutoff).await? {
        if file.partial || !state.store.blob_is_referenced(&file.key).await? {
            state.blobs.remove_file(&file).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
