//! `/audit`: verify the chain, search, and the events found, newest first, a page at a time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use sealpost_domain::api_audit::{AuditPage, AuditSearch, AuditVerification};

use super::search::{EventTable, SearchForm, search_in_url};
use crate::api;
use crate::components::{ErrorSummary, Loading};
use crate::pages::EmptyState;

/// The console: verify, search, results.
#[component]
pub(super) fn Console() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| search_in_url(&query.get()));
    // A new search loads afresh; an older answer arriving late belongs to a resource no longer read.
    let first = LocalResource::new(move || {
        let s = search.get();
        async move { api::audit_search(&s).await }
    });
    view! {
        <div class="page-head"><h1>"Audit log"</h1></div>
        <p class="lede">"Who opened, downloaded, sent and signed in, when and from where. You see the record, never the content."</p>
        <Verify/>
        <SearchForm search=search/>
        <Suspense fallback=|| view! { <Loading text="Searching…"/> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) => view! { <Results search page/> }.into_any(),
                    Err(f) => view! { <Refused message=f.message/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A search the server could not run: why (and how to fix it), and no events.
#[component]
fn Refused(message: String) -> impl IntoView {
    let (problem, _) = signal(Some(message));
    view! {
        <ErrorSummary message=problem/>
        <NoEvents/>
    }
}

#[component]
fn NoEvents() -> impl IntoView {
    view! { <EmptyState title="No events match" text="Try fewer filters or a wider date range. Every sign-in, read, download and send is recorded here."/> }
}

/// The first page of events found, and older pages on request.
#[component]
fn Results(search: Memo<AuditSearch>, page: AuditPage) -> impl IntoView {
    let events = RwSignal::new(page.events);
    let next = RwSignal::new(page.next_before);
    let (problem, set_problem) = signal(None::<String>);
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
                    events.update(|e| e.extend(page.events));
                }
                Err(f) => set_problem.set(Some(f.message)),
            }
            loading_more.set(false);
        });
    };
    let title = match page.person_label {
        Some(who) => format!("Activity of {who}"),
        None if search.get_untracked() != AuditSearch::default() => "Matching events, newest first".to_owned(),
        None => "Latest events".to_owned(),
    };
    view! {
        <ErrorSummary message=problem/>
        <section aria-labelledby="results-title" class="results">
            <div class="page-head">
                <h2 id="results-title">{title}</h2>
                <a class="button quiet" href=move || api::audit_export_url(&search.get()) download="">"Export as CSV"</a>
            </div>
            {move || match events.get() {
                list if list.is_empty() => view! { <NoEvents/> }.into_any(),
                list => view! {
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
                    {v.restores.into_iter().map(|r| view! { <p class="notice">{r}</p> }).collect_view()}
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
