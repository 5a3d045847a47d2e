//! `/search`: a member of staff searches their own mail (Inbox, Sent and Drafts) by words, by
//! correspondent and by date. The search is kept in the URL, so Back returns to the results and
//! a search can be bookmarked.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use sealpost_domain::api_search::{Found, SearchBox, SearchHit, SearchQuery, SearchResults};

use super::EmptyState;
use crate::api;
use crate::components::{Loading, MarkingBadge, format_time, load_failed, set_title, visible_text};

/// The search the URL's query names, if it names one.
fn search_in_url(q: &leptos_router::params::ParamsMap) -> Option<SearchQuery> {
    let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
    let s = SearchQuery {
        q: get("q"),
        who: get("who"),
        from: get("from"),
        until: get("to"),
        mailbox: match q.get("box").as_deref() {
            Some("inbox") => SearchBox::Inbox,
            Some("sent") => SearchBox::Sent,
            Some("drafts") => SearchBox::Drafts,
            _ => SearchBox::All,
        },
    };
    (s.q.is_some() || s.who.is_some() || s.from.is_some() || s.until.is_some()).then_some(s)
}

/// `/search`.
#[component]
pub fn Search() -> impl IntoView {
    set_title("Search your mail");
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(search_in_url));
    view! {
        <h1>"Search your mail"</h1>
        <SearchForm start=search.get_untracked().unwrap_or_default()/>
        {move || match search.get() {
            None => view! {
                <p class="field-hint">"Search the subjects, messages and correspondents of your Inbox, Sent and Drafts. Only your own mail is searched."</p>
            }.into_any(),
            Some(s) => view! { <Results s/> }.into_any(),
        }}
    }
}

/// The search's fields; searching navigates, so Back returns to the results.
#[component]
fn SearchForm(start: SearchQuery) -> impl IntoView {
    let navigate = use_navigate();
    let text = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
    let (words, who, from, to) = (text(start.q), text(start.who), text(start.from), text(start.until));
    let mailbox = RwSignal::new(
        match start.mailbox {
            SearchBox::All => "all",
            SearchBox::Inbox => "inbox",
            SearchBox::Sent => "sent",
            SearchBox::Drafts => "drafts",
        }
        .to_owned(),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let pairs = [("q", words), ("who", who), ("from", from), ("to", to), ("box", mailbox)];
        let given: Vec<String> = pairs
            .iter()
            .map(|(k, v)| (k, v.get_untracked()))
            .filter(|(k, v)| !(v.trim().is_empty() || **k == "box" && v == "all"))
            .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v.trim())))
            .collect();
        navigate(&format!("/search?{}", given.join("&")), NavigateOptions::default());
    };
    view! {
        <form class="card search-form" on:submit=submit role="search" aria-label="Search your mail">
            <div class="search-grid">
                <div class="field">
                    <label for="s-words">"Words"</label>
                    <input id="s-words" type="search" autocomplete="off" aria-describedby="s-words-hint" bind:value=words/>
                    <p id="s-words-hint" class="field-hint">"Every word must appear in the subject, the message or a name or address."</p>
                </div>
                <div class="field">
                    <label for="s-who">"From or to"</label>
                    <input id="s-who" type="text" autocomplete="off" spellcheck="false" aria-describedby="s-who-hint" bind:value=who/>
                    <p id="s-who-hint" class="field-hint">"A name or an address, or part of one such as police."</p>
                </div>
                <div class="field">
                    <label for="s-box">"Look in"</label>
                    <select id="s-box" bind:value=mailbox>
                        <option value="all">"Inbox, Sent and Drafts"</option>
                        <option value="inbox">"Inbox"</option>
                        <option value="sent">"Sent"</option>
                        <option value="drafts">"Drafts"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="s-from">"From date"</label>
                    <input id="s-from" type="date" aria-describedby="s-dates-hint" bind:value=from/>
                </div>
                <div class="field">
                    <label for="s-to">"To date"</label>
                    <input id="s-to" type="date" aria-describedby="s-dates-hint" bind:value=to/>
                    <p id="s-dates-hint" class="field-hint">"Whole days, both included."</p>
                </div>
            </div>
            <div class="actions">
                <button type="submit" class="button">"Search"</button>
                <a class="button quiet" href="/search">"Clear"</a>
            </div>
        </form>
    }
}

/// The hits of search `s`, or what to try when there are none.
#[component]
fn Results(s: SearchQuery) -> impl IntoView {
    let results = LocalResource::new(move || {
        let s = s.clone();
        async move { api::search(&s).await }
    });
    view! {
        <Suspense fallback=|| view! { <Loading text="Searching…"/> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move { results.await.map(|r| view! { <HitList r/> }) })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn HitList(r: SearchResults) -> impl IntoView {
    let count = match (r.hits.len(), r.more) {
        (0, _) => "Nothing found.".to_owned(),
        (1, _) => "1 found.".to_owned(),
        (n, false) => format!("{n} found."),
        (n, true) => format!("The newest {n} are shown: add words or dates to narrow the search."),
    };
    let empty = r.hits.is_empty();
    view! {
        <p role="status" class="search-count">{count}</p>
        {if empty {
            view! {
                <EmptyState title="No messages match"
                    text="Check the spelling, use fewer words, or search all three boxes. Whole words are matched: “visit” finds “visit”, not “visits”."/>
            }.into_any()
        } else {
            view! {
                <table class="table messages">
                    <caption class="visually-hidden">"Messages and drafts found, newest first"</caption>
                    <thead><tr>
                        <th scope="col">"In"</th><th scope="col">"From or to"</th><th scope="col">"Subject"</th>
                        <th scope="col">"Marking"</th><th scope="col">"Date"</th>
                    </tr></thead>
                    <tbody>{r.hits.into_iter().map(|h| view! { <HitRow h/> }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
fn HitRow(h: SearchHit) -> impl IntoView {
    let (href, place) = match (h.found, h.mailbox) {
        (Found::Draft(id), _) => (format!("/compose?draft={id}"), "Drafts"),
        (Found::Message(id), SearchBox::Sent) => (format!("/messages/{id}"), "Sent"),
        (Found::Message(id), _) => (format!("/messages/{id}"), "Inbox"),
    };
    let subject = if h.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        visible_text(&h.subject)
    };
    view! {
        <tr>
            <td>{place}</td>
            <td>{visible_text(&h.correspondents)}</td>
            <td><a href=href>{subject}</a></td>
            <td><MarkingBadge marking=h.marking/></td>
            <td>{format_time(h.at)}</td>
        </tr>
    }
}
