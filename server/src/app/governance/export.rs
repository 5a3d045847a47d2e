//! CSV exports of the audit log, streamed a page at a time.

use sealpost_audit::{AuditEvent, csv};
use sealpost_domain::api_audit::AuditSearch;
use sealpost_domain::time;
use sealpost_storage::{AuditQuery, Store, UserRecord};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::search::{Resolved, resolve};
use super::views::views;
use crate::app::audit::{self, Action, Actor, Origin, Outcome};
use crate::app::auth::require_ig;
use crate::error::AppError;
use crate::state::AppState;

const EXPORT_PAGE: i64 = 5_000;

/// The CSV columns of an export.
const CSV_HEADER: [&str; 13] = [
    "seq",
    "time_utc",
    "actor",
    "actor_name",
    "action",
    "action_words",
    "reference",
    "detail",
    "outcome",
    "ip",
    "user_agent",
    "request_id",
    "hash",
];

/// Writes every event matching `query` (oldest first) as CSV into `out`, a page at a time,
/// so an export of millions of events never sits in memory. Returns how many it wrote.
pub async fn write_csv(store: &Store, mut query: AuditQuery, out: &mut (impl AsyncWrite + Unpin + Send)) -> Result<u64, AppError> {
    let io = |e: std::io::Error| AppError::Internal(e.into());
    out.write_all(csv::line(CSV_HEADER.map(Some)).as_bytes()).await.map_err(io)?;
    query.oldest_first = true;
    query.before_seq = None;
    query.limit = EXPORT_PAGE;
    let mut written = 0;
    loop {
        let page = store.search_audit(&query).await?;
        let Some(last) = page.last() else { break };
        query.after_seq = Some(last.seq);
        let mut text = String::new();
        for (c, v) in page.iter().zip(views(store, &page).await?) {
            let seq = c.seq.to_string();
            let at = time::rfc3339(c.event.at_ms);
            let hash = sealpost_domain::hex::encode(&c.hash);
            text += &csv::line([
                Some(seq.as_str()),
                Some(at.as_str()),
                Some(v.actor.as_str()),
                Some(v.actor_label.as_str()),
                Some(v.action.as_str()),
                Some(v.action_label.as_str()),
                v.reference.as_deref(),
                v.detail.as_deref(),
                Some(v.outcome.as_str()),
                v.ip.as_deref(),
                v.user_agent.as_deref(),
                v.request_id.as_deref(),
                Some(hash.as_str()),
            ]);
            written += 1;
        }
        out.write_all(text.as_bytes()).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    Ok(written)
}

/// An IG officer's export of the events matching `s`: checked, then recorded (the export
/// reveals who did what), then returned as a query for [`write_csv`] to stream.
pub async fn start_export(state: &AppState, user: &UserRecord, meta: &Origin, s: &AuditSearch) -> Result<AuditQuery, AppError> {
    require_ig(user)?;
    let Resolved { query, about, .. } = resolve(&state.store, s).await?;
    audit::record(state, meta, &Actor::User(user.id), Action::AuditExport, about, Outcome::Success).await?;
    Ok(query)
}

/// `sealpost audit export`: the events between two days (inclusive, UTC), recorded as an
/// export by Sealpost itself before any is written.
pub async fn export_days(
    store: &Store,
    now_ms: i64,
    from: Option<&str>,
    to: Option<&str>,
    out: &mut (impl AsyncWrite + Unpin + Send),
) -> Result<u64, AppError> {
    let s = AuditSearch {
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        ..AuditSearch::default()
    };
    let Resolved { query, .. } = resolve(store, &s).await?;
    let event = AuditEvent::new(
        now_ms,
        &Actor::System,
        Action::AuditExport,
        None,
        Outcome::Success,
        Origin::default(),
    );
    store.append_audit(&event).await.map_err(AppError::Unavailable)?;
    write_csv(store, query, out).await
}
