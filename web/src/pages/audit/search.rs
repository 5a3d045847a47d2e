//! The search filters (kept in the URL, so a search can be bookmarked and shared) and the table
//! of events that searches and timelines show.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use sealpost_domain::api_audit::{ACTIONS, AuditEventView, AuditSearch};

use crate::api;
use crate::components::format_time;

/// The search the URL's query names.
pub(super) fn search_in_url(q: &leptos_router::params::ParamsMap) -> AuditSearch {
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

/// The filters; searching navigates, so a search can be bookmarked, shared and gone back to.
#[component]
pub(super) fn SearchForm(search: Memo<AuditSearch>) -> impl IntoView {
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
pub(super) fn EventTable(events: Vec<AuditEventView>, caption: &'static str) -> impl IntoView {
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
