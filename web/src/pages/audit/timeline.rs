//! `/audit/messages/{reference}`: a message's history at a glance, each recipient's trail,
//! every event about it, and the break-glass form.

use leptos::prelude::*;
use sealpost_domain::api_audit::{AuditSearch, MessageTimeline, RecipientTrail};

use super::break_glass::BreakGlass;
use super::lifecycle::Lifecycle;
use super::search::EventTable;
use crate::api;
use crate::components::{Loading, format_time, load_failed};

/// Loads the history of message `reference`: a reference no message has says so plainly.
#[component]
pub(super) fn Timeline(reference: String) -> impl IntoView {
    let wanted = reference.clone();
    let heading = format!("Message {reference}");
    let timeline = LocalResource::new(move || {
        let wanted = wanted.clone();
        async move { api::audit_timeline(&wanted).await }
    });
    view! {
        <Suspense fallback=|| view! { <Loading text="Loading the history…"/> }>
            <ErrorBoundary fallback=move |errors| view! {
                <h1>{heading.clone()}</h1>
                {load_failed(errors)}
                <p><a href="/audit">"Back to the audit log"</a></p>
            }>
                {move || {
                    let reference = reference.clone();
                    Suspend::new(async move {
                        match timeline.await {
                            Ok(t) => Ok(view! { <TimelineView t/> }.into_any()),
                            Err(f) if f.status == 404 => Ok(view! {
                                <h1>{format!("Message {reference}")}</h1>
                                <p>{format!("No message has the reference {reference}. Check it against the notification or the sender's records.")}</p>
                                <p><a href="/audit">"Back to the audit log"</a></p>
                            }
                            .into_any()),
                            Err(f) => Err(f),
                        }
                    })
                }}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn TimelineView(t: MessageTimeline) -> impl IntoView {
    let deleted = RwSignal::new(t.deleted.clone());
    // A hold, a lift or an erasure below adds its event here at once.
    let events = RwSignal::new(t.events.clone());
    let reference = t.reference.clone();
    let all = AuditSearch {
        reference: Some(t.reference.clone()),
        ..AuditSearch::default()
    };
    view! {
        <p><a href="/audit">"← Audit log"</a></p>
        <div class="page-head">
            <h1>{format!("Message {}", t.reference)}</h1>
            <a class="button quiet" href=api::audit_export_url(&all) download="">"Export as CSV"</a>
        </div>
        <dl class="meta card">
            <dt>"Marking"</dt><dd>{t.marking.clone()}</dd>
            <dt>"Sent by"</dt><dd>{t.sender.clone()}</dd>
            <dt>"Sent"</dt><dd>{format_time(t.sent_at_ms)}</dd>
            <dt>"Links expire"</dt><dd>{format_time(t.expires_at_ms)}</dd>
        </dl>
        <section class="card" aria-labelledby="trail-title">
            <h2 id="trail-title">"Recipients at a glance"</h2>
            <div class="table-scroll" role="region" aria-label="Each recipient's trail" tabindex="0">
                <table class="table">
                    <caption class="visually-hidden">"For each recipient: notified, opened, downloads, failed attempts, withdrawn"</caption>
                    <thead><tr>
                        <th scope="col">"Recipient"</th><th scope="col">"Notified"</th><th scope="col">"First opened"</th>
                        <th scope="col">"Opens"</th><th scope="col">"Downloads"</th><th scope="col">"Failed attempts"</th><th scope="col">"Withdrawn"</th>
                    </tr></thead>
                    <tbody>{t.recipients.into_iter().map(|r| view! { <TrailRow r=r/> }).collect_view()}</tbody>
                </table>
            </div>
        </section>
        <Lifecycle reference=t.reference.clone() hold=t.legal_hold.clone() deleted events/>
        // Nothing is left to open once it is deleted, here or just now above.
        {move || deleted.with(Option::is_none).then(|| view! { <BreakGlass reference=reference.clone()/> })}
        <section class="timeline" aria-labelledby="events-title">
            <h2 id="events-title">"Everything that happened, oldest first"</h2>
            {t.truncated.then(|| view! { <p class="warning notice">"Only the first 2,000 events are shown. Search by this reference, or export it, for the rest."</p> })}
            {move || view! { <EventTable events=events.get() caption="Events about this message, oldest first"/> }}
        </section>
    }
}

#[component]
fn TrailRow(r: RecipientTrail) -> impl IntoView {
    let when = |t: Option<i64>, none: &'static str| t.map_or_else(|| none.to_owned(), format_time);
    let notified = if r.internal {
        "Sealpost inbox".to_owned()
    } else if r.notification_failed {
        "Failed".to_owned()
    } else {
        when(r.notified_at_ms, "Not yet")
    };
    let attempts_class = if r.failed_attempts > 0 { "status bad" } else { "" };
    view! {
        <tr>
            <td>{r.address.clone()}<span class="muted">{if r.internal { " (colleague)" } else { " (external)" }}</span></td>
            <td>{notified}</td>
            <td>{when(r.first_opened_at_ms, "Not opened")}</td>
            <td>{r.opens}</td>
            <td>{r.downloads}</td>
            <td class=attempts_class>{r.failed_attempts}</td>
            <td>{when(r.revoked_at_ms, "No")}</td>
        </tr>
    }
}
