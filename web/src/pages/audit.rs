//! The IG console: `/audit` searches the audit log (by message reference, person, action,
//! outcome and dates; the per-person view is the same page filtered by person), pages back
//! through older events, exports CSV and verifies the chain. `/audit/messages/{reference}` is
//! a message's history at a glance. Metadata only: IG never sees content here.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use sealpost_domain::Role;
use sealpost_domain::api_audit::{
    ACTIONS, AuditEventView, AuditSearch, AuditVerification, BreakGlassAccess, MessageTimeline, RecipientTrail,
};

use crate::api;
use crate::auth::{Auth, Session};
use crate::components::{ErrorSummary, format_time, set_title};
use crate::pages::{EmptyState, MessageArticle, Replies};

/// Shows `page` to IG officers, and an explanation to everyone else.
fn ig_only(page: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let auth = Auth::get();
    move || match auth.session.get() {
        Session::SignedIn(me) if me.role == Role::Ig => page(),
        _ => view! {
            <h1>"Audit log"</h1>
            <EmptyState title="You do not have access to the audit log"
                text="The audit log is for information governance officers. Ask your IG team if you need an access record."/>
        }
        .into_any(),
    }
}

/// `/audit`.
#[component]
pub fn Audit() -> impl IntoView {
    set_title("Audit log");
    ig_only(|| view! { <Console/> }.into_any())
}

/// `/audit/messages/{reference}`.
#[component]
pub fn AuditMessage() -> impl IntoView {
    let reference = use_params_map().get_untracked().get("reference").unwrap_or_default();
    set_title(&format!("Audit: {reference}"));
    ig_only(move || view! { <Timeline reference=reference.clone()/> }.into_any())
}

/// The search the URL's query names.
fn search_in_url(q: &leptos_router::params::ParamsMap) -> AuditSearch {
    let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
    AuditSearch {
        reference: get("reference"),
        person: get("person"),
        action: get("action"),
        outcome: get("outcome"),
        from: get("from"),
        to: get("to"),
        before: None,
    }
}

#[component]
fn Console() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| search_in_url(&query.get()));
    let events = RwSignal::new(None::<Vec<AuditEventView>>);
    let next = RwSignal::new(None::<i64>);
    let person_label = RwSignal::new(None::<String>);
    let (problem, set_problem) = signal(None::<String>);
    // Only the newest search may fill the page: an older answer arriving late is dropped.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let s = search.get();
        events.set(None);
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let answer = api::audit_search(&s).await;
            if generation.get_value() != mine {
                return;
            }
            match answer {
                Ok(page) => {
                    set_problem.set(None);
                    next.set(page.next_before);
                    person_label.set(page.person_label);
                    events.set(Some(page.events));
                }
                Err(f) => {
                    set_problem.set(Some(f.message));
                    events.set(Some(Vec::new()));
                }
            }
        });
    });
    let loading_more = RwSignal::new(false);
    let load_more = move |_| {
        let s = AuditSearch {
            before: next.get_untracked(),
            ..search.get_untracked()
        };
        loading_more.set(true);
        spawn_local(async move {
            match api::audit_search(&s).await {
                Ok(page) => {
                    next.set(page.next_before);
                    events.update(|e| e.get_or_insert_with(Vec::new).extend(page.events));
                }
                Err(f) => set_problem.set(Some(f.message)),
            }
            loading_more.set(false);
        });
    };
    let filtered = move || search.get() != AuditSearch::default();
    view! {
        <div class="page-head"><h1>"Audit log"</h1></div>
        <p class="lede">"Who opened, downloaded, sent and signed in, when and from where. You see the record, never the content."</p>
        <Verify/>
        <SearchForm search=search/>
        <ErrorSummary message=problem/>
        <section aria-labelledby="results-title" class="results">
            <div class="page-head">
                <h2 id="results-title">{move || match person_label.get() {
                    Some(who) => format!("Activity of {who}"),
                    None if filtered() => "Matching events, newest first".to_owned(),
                    None => "Latest events".to_owned(),
                }}</h2>
                <a class="button quiet" href=move || api::audit_export_url(&search.get()) download="">"Export as CSV"</a>
            </div>
            {move || match events.get() {
                None => view! { <p class="loading" role="status">"Searching…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! {
                    <EmptyState title="No events match" text="Try fewer filters or a wider date range. Every sign-in, read, download and send is recorded here."/>
                }.into_any(),
                Some(list) => view! {
                    <p class="muted" role="status">{format!("Showing {} event{}", list.len(), if list.len() == 1 { "" } else { "s" })}</p>
                    <EventTable events=list caption="Audit events, newest first"/>
                }.into_any(),
            }}
            {move || next.get().map(|_| view! {
                <button type="button" class="button quiet" on:click=load_more disabled=move || loading_more.get()>
                    {move || if loading_more.get() { "Loading…" } else { "Show older events" }}
                </button>
            })}
        </section>
    }
}

/// The filters; searching navigates, so a search can be bookmarked, shared and gone back to.
#[component]
fn SearchForm(search: Memo<AuditSearch>) -> impl IntoView {
    let navigate = use_navigate();
    let s = search.get_untracked();
    let text = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
    let (reference, person, action, outcome, from, to) = (
        text(s.reference),
        text(s.person),
        text(s.action),
        text(s.outcome),
        text(s.from),
        text(s.to),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let some = |v: RwSignal<String>| Some(v.get_untracked()).filter(|t| !t.trim().is_empty());
        let s = AuditSearch {
            reference: some(reference),
            person: some(person),
            action: some(action),
            outcome: some(outcome),
            from: some(from),
            to: some(to),
            before: None,
        };
        navigate(&format!("/audit{}", api::audit_query(&s)), NavigateOptions::default());
    };
    view! {
        <form class="card search-form" on:submit=submit aria-labelledby="search-title" role="search">
            <h2 id="search-title">"Search"</h2>
            <div class="search-grid">
                <div class="field">
                    <label for="f-reference">"Message reference"</label>
                    <input id="f-reference" type="text" autocomplete="off" placeholder="SP-7K3M-Q9XD" bind:value=reference/>
                </div>
                <div class="field">
                    <label for="f-person">"Person"</label>
                    <input id="f-person" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-person-hint" bind:value=person/>
                    <p id="f-person-hint" class="field-hint">"A member of staff or an external recipient: their email address, or part of it such as a domain (nhs.net)."</p>
                </div>
                <div class="field">
                    <label for="f-action">"Action"</label>
                    <select id="f-action" bind:value=action>
                        <option value="">"Any action"</option>
                        {ACTIONS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="f-outcome">"Outcome"</label>
                    <select id="f-outcome" bind:value=outcome>
                        <option value="">"Any outcome"</option>
                        <option value="success">"Succeeded"</option>
                        <option value="failure">"Failed or refused"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="f-from">"From"</label>
                    <input id="f-from" type="date" aria-describedby="f-dates-hint" bind:value=from/>
                </div>
                <div class="field">
                    <label for="f-to">"To"</label>
                    <input id="f-to" type="date" aria-describedby="f-dates-hint" bind:value=to/>
                    <p id="f-dates-hint" class="field-hint">"Whole days, in UTC, both included."</p>
                </div>
            </div>
            <div class="actions">
                <button type="submit" class="button">"Search"</button>
                <a class="button quiet" href="/audit">"Clear filters"</a>
            </div>
        </form>
    }
}

/// Events as a table: when, who (a link to their activity), what, which message, outcome,
/// where from.
#[component]
fn EventTable(events: Vec<AuditEventView>, caption: &'static str) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label=caption tabindex="0">
            <table class="table events">
                <caption class="visually-hidden">{caption}</caption>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th>
                    <th scope="col">"Message"</th><th scope="col">"Outcome"</th><th scope="col">"From"</th>
                </tr></thead>
                <tbody>{events.into_iter().map(|e| {
                    let who = match e.person.clone() {
                        Some(p) => {
                            let href = format!("/audit{}", api::audit_query(&AuditSearch { person: Some(p), ..AuditSearch::default() }));
                            view! { <a href=href>{e.actor_label.clone()}</a> }.into_any()
                        }
                        None => view! { <span>{e.actor_label.clone()}</span> }.into_any(),
                    };
                    let failed = e.outcome != "success";
                    view! {
                        <tr class:failed=failed>
                            <td data-label="When">{format_time(e.at_ms)}</td>
                            <td data-label="Who">{who}</td>
                            <td data-label="What">{e.action_label.clone()}{e.detail.clone().map(|d| view! { <span class="muted">" – "{d}</span> })}</td>
                            <td data-label="Message">{match e.reference.clone() {
                                Some(r) => view! { <a href=format!("/audit/messages/{r}")>{r.clone()}</a> }.into_any(),
                                None => view! { <span class="muted">"–"</span> }.into_any(),
                            }}</td>
                            <td data-label="Outcome"><span class=if failed { "status bad" } else { "status ok" }>{if failed { "Failed" } else { "Succeeded" }}</span></td>
                            <td data-label="From">{e.ip.clone().unwrap_or_else(|| "–".into())}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}

/// "Verify the audit log": walks the chain on the server and says whether it is intact.
#[component]
fn Verify() -> impl IntoView {
    let result = RwSignal::new(None::<Result<AuditVerification, String>>);
    let busy = RwSignal::new(false);
    let run = move |_| {
        busy.set(true);
        spawn_local(async move {
            result.set(Some(api::audit_verify().await.map_err(|f| f.message)));
            busy.set(false);
        });
    };
    view! {
        <section class="card verify" aria-labelledby="verify-title">
            <h2 id="verify-title">"Is the log intact?"</h2>
            <p class="muted">"Checks every event against the hash chain and the signed checkpoints, so any edit, deletion or insertion is found."</p>
            <button type="button" class="button" on:click=run disabled=move || busy.get()>
                {move || if busy.get() { "Verifying…" } else { "Verify the audit log" }}
            </button>
            <div role="status" aria-live="polite">{move || result.get().map(|r| match r {
                Ok(v) if v.intact => view! {
                    <p class="notice verified"><strong>"The audit log is intact."</strong>
                        {format!(" {} events checked against {} signed checkpoint{}.", v.events, v.checkpoints, if v.checkpoints == 1 { "" } else { "s" })}
                        <br/><span class="muted">"Head "<code>{v.head.unwrap_or_default()}</code></span></p>
                    <p><a class="button quiet" href="/api/v1/audit/checkpoint" download="">"Download the signed checkpoint"</a></p>
                    <p class="field-hint">"Keep the file away from this server (an IG share, a printed copy). Later, "
                        <code>"sealpost audit verify --checkpoint-file FILE"</code>" proves that nothing up to it has changed since."</p>
                }.into_any(),
                Ok(v) => view! {
                    <div class="error-summary"><h3 class="error-summary-title">"The audit log is not intact"</h3>
                        <p>{v.problem.unwrap_or_default()}" Tell your data protection officer and keep a copy of this page."</p></div>
                }.into_any(),
                Err(m) => view! { <p class="error-text">{m}</p> }.into_any(),
            })}</div>
        </section>
    }
}

#[component]
fn Timeline(reference: String) -> impl IntoView {
    let timeline = RwSignal::new(None::<Result<MessageTimeline, String>>);
    let wanted = reference.clone();
    spawn_local(async move {
        let result = api::audit_timeline(&wanted).await.map_err(|f| {
            if f.status == 404 {
                format!("No message has the reference {wanted}. Check it against the notification or the sender's records.")
            } else {
                f.message
            }
        });
        timeline.set(Some(result));
    });
    move || match timeline.get() {
        None => view! { <p class="loading" role="status">"Loading the history…"</p> }.into_any(),
        Some(Err(m)) => view! {
            <h1>{format!("Message {reference}")}</h1>
            <p>{m}</p><p><a href="/audit">"Back to the audit log"</a></p>
        }
        .into_any(),
        Some(Ok(t)) => view! { <TimelineView t=t/> }.into_any(),
    }
}

#[component]
fn TimelineView(t: MessageTimeline) -> impl IntoView {
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
        <BreakGlass reference=t.reference.clone()/>
        <section class="timeline" aria-labelledby="events-title">
            <h2 id="events-title">"Everything that happened, oldest first"</h2>
            {t.truncated.then(|| view! { <p class="warning notice">"Only the first 2,000 events are shown. Search by this reference, or export it, for the rest."</p> })}
            <EventTable events=t.events caption="Events about this message, oldest first"/>
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

/// Break-glass: a reason and the password again open the content for a limited time. The
/// DPO is emailed first and the access is recorded (SECURITY C3).
#[component]
fn BreakGlass(reference: String) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let (problem, set_problem) = signal(None::<String>);
    let opened = RwSignal::new(None::<BreakGlassAccess>);
    let ended = RwSignal::new(false);
    // The access ends by itself: the content leaves the page when the grant does.
    Effect::new(move |_| {
        if let Some(until) = opened.with(|o| o.as_ref().map(|a| a.until_ms)) {
            let left = (until as f64 - js_sys::Date::now()).max(0.0) as u64;
            set_timeout(
                move || {
                    opened.set(None);
                    ended.set(true);
                },
                std::time::Duration::from_millis(left),
            );
        }
    });
    // A grant still in force (after a reload, say) shows the content again, recorded as a read.
    let current = reference.clone();
    spawn_local(async move {
        if let Ok(access) = api::break_glass_current(&current).await {
            opened.set(Some(access));
        }
    });
    let wanted = reference.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let reference = wanted.clone();
        busy.set(true);
        spawn_local(async move {
            match api::break_glass(&reference, reason.get_untracked(), password.get_untracked()).await {
                Ok(access) => {
                    set_problem.set(None);
                    password.set(String::new());
                    opened.set(Some(access));
                }
                Err(f) => set_problem.set(Some(f.message)),
            }
            busy.set(false);
        });
    };
    move || {
        match opened.get() {
        Some(access) => {
            let urls = access
                .detail
                .attachments
                .iter()
                .map(|a| api::break_glass_file_url(&reference, &a.id.to_string()))
                .collect();
            view! {
                <div class="notice warning" role="status">
                    <strong>"Break-glass access until "{format_time(access.until_ms)}"."</strong>
                    " This access is recorded and the data protection officer has been told. Reason: "{access.reason.clone()}
                </div>
                <MessageArticle detail=access.detail.clone() attachment_urls=urls expiry_label="Links expire"/>
                <Replies message_id=reference.clone() replies=access.detail.replies.clone() file_url=api::break_glass_file_url/>
            }
            .into_any()
        }
        None => view! {
            <section class="card break-glass" aria-labelledby="bg-title">
                <h2 id="bg-title">"Break glass: open the content"</h2>
                {move || ended.get().then(|| view! { <p class="notice" role="status">"The break-glass access has ended. Open it again below if you still need to."</p> })}
                <p>"Only when you must see what was sent, for example for a subject access request or an investigation. "
                   "Your name and reason are emailed to the data protection officer straight away; the access is recorded and ends by itself."</p>
                <ErrorSummary message=problem/>
                <form class="form" on:submit=submit.clone()>
                    <div class="field">
                        <label for="bg-reason">"Why do you need to see the content?"</label>
                        <p id="bg-reason-hint" class="field-hint">"At least 20 characters. The data protection officer will read this."</p>
                        <textarea id="bg-reason" rows="3" aria-describedby="bg-reason-hint" bind:value=reason></textarea>
                    </div>
                    <div class="field">
                        <label for="bg-password">"Your password"</label>
                        <input id="bg-password" type="password" autocomplete="current-password" bind:value=password/>
                    </div>
                    <div><button type="submit" class="button danger" disabled=move || busy.get()>
                        {move || if busy.get() { "Opening…" } else { "Open the content and tell the DPO" }}
                    </button></div>
                </form>
            </section>
        }
        .into_any(),
    }
    }
}
