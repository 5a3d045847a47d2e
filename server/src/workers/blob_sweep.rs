//! The orphan-blob sweep (SECURITY G2). A sealed file is written before its message commits, so
//! a crash, a `kill -9` or a lost connection in between leaves a file that no attachment row
//! names, or an unfinished upload's staging file. Neither can ever be read: both are removed.
//!
//! Files of this process's uploads still in flight are never touched. Another process's are
//! protected by age: a file goes only once it has not changed for `SEALPOST_ORPHAN_BLOB_MINUTES`
//! (a day by default). At the start of a server that holds the data directory's lock (SQLite,
//! no other server running), every orphan older than the process goes at once.
//!
//! The same hourly pass forgets what only mattered for an hour: failed sign-ins, `/write`
//! visits and their limit entries older than a day; it discards mail from Outlook held for
//! a passphrase past its 24 hours; and it crypto-shreds the messages whose retention is up
//! (issue 19: so a message goes within the hour after its day).

use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::error::AppError;
use crate::state::AppState;

/// Where sealed attachment files live in the blob store.
const PREFIX: &str = "attachments";
/// How often the sweep runs after the first pass.
const EVERY: Duration = Duration::from_secs(3600);

/// Sweeps at start, then hourly, until `stop` turns true. `alone` says no other server can be
/// writing to this blob store (the data directory's lock is held and the database is SQLite).
pub async fn run(state: AppState, started: SystemTime, alone: bool, mut stop: watch::Receiver<bool>) {
    let grace = Duration::from_secs(u64::from(state.settings.orphan_blob_minutes) * 60);
    let mut cutoff = if alone {
        started
    } else {
        started.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH)
    };
    loop {
        match sweep(&state, cutoff).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed sealed files no message refers to"),
            Err(e) => tracing::warn!(error = %e, "orphan sweep failed; trying again later"),
        }
        if let Err(e) = forget_old_attempts(&state).await {
            tracing::warn!(error = %e, "could not forget old sign-in and /write attempts; trying again later");
        }
        match crate::app::intake::discard_held(&state).await {
            Ok(0) => {}
            Ok(discarded) => tracing::info!(discarded, "discarded mail from Outlook held past its time for a passphrase"),
            Err(e) => tracing::warn!(error = %e, "could not discard held mail past its time; trying again later"),
        }
        let forget = |id| state.message_keys.forget(id);
        if let Err(e) = crate::app::retention::run(&state.store, &state.blobs, &state.settings, state.now_ms(), forget).await {
            tracing::warn!(error = %e, "retention run failed; trying again within the hour");
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    }
}

/// Forgets failed sign-ins, `/write` visits and `/write` limit entries older than a day (every
/// limit that counts them looks back an hour), and single sign-ons that never came back from
/// the provider (each waits ten minutes).
pub async fn forget_old_attempts(state: &AppState) -> Result<u64, AppError> {
    let day_ago = state.now_ms() - 86_400_000;
    let logins = state.store.prune_login_failures(day_ago).await?;
    let visits = state.store.forget_old_write_visits(day_ago).await?;
    let sso = state.store.forget_old_sso(state.now_ms() - crate::app::sso::PENDING_MS).await?;
    Ok(logins + visits + sso)
}

/// Removes every sealed file last changed before `cutoff` that no attachment row names and no
/// upload of this process is writing, and every unfinished upload older than that. A file that
/// cannot be judged or removed is left for the next pass. Returns how many files went.
pub async fn sweep(state: &AppState, cutoff: SystemTime) -> Result<usize, AppError> {
    let mut removed = 0;
    for file in state.blobs.files_modified_before(PREFIX, cutoff).await? {
        let in_flight = state.uploads_in_flight.lock().map_or(true, |keys| keys.contains(&file.key));
        if in_flight {
            continue;
        }
        let orphan = file.partial || !state.store.blob_is_referenced(&file.key).await?;
        if orphan {
            match state.blobs.remove_file(&file).await {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!(error = %e, "could not remove an orphan sealed file"),
            }
        }
    }
    Ok(removed)
}
