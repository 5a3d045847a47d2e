//! `/drafts`: the messages a person has started and not sent, saved as they wrote, each opened
//! to go on writing or discarded (after a second click, so one slip loses nothing).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use sealpost_domain::api_drafts::{DraftId, DraftSummary};

use super::EmptyState;
use crate::api;
use crate::components::{ErrorSummary, Loading, format_time, load_failed, set_title, visible_text};

/// `/drafts`.
#[component]
pub fn Drafts() -> impl IntoView {
    set_title("Drafts");
    let rows = LocalResource::new(api::drafts);
    let discarded = use_query_map().get_untracked().get("discarded").is_some();
    let said = RwSignal::new(discarded.then(|| "Draft discarded.".to_owned()));
    view! {
        <div class="page-head"><h1>"Drafts"</h1><a class="button" href="/compose">"Write a secure message"</a></div>
        <p class="notice" role="status" hidden=move || said.get().is_none()>{move || said.get()}</p>
        <Suspense fallback=|| view! { <Loading text="Loading your drafts…"/> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move { rows.await.map(|list| view! { <DraftList list said/> }) })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// The drafts, or what this box is for when there are none; a discarded draft leaves the list
/// and `said` says so.
#[component]
fn DraftList(list: Vec<DraftSummary>, said: RwSignal<Option<String>>) -> impl IntoView {
    let list = RwSignal::new(list);
    let problem = RwSignal::new(None::<String>);
    let discard = move |id: DraftId| {
        spawn_local(async move {
            match api::discard_draft(id).await {
                Ok(()) => {
                    list.update(|l| l.retain(|d| d.id != id));
                    problem.set(None);
                    said.set(Some("Draft discarded.".into()));
                }
                Err(failure) => problem.set(Some(format!("The draft was not discarded: {}", failure.message))),
            }
        });
    };
    view! {
        <ErrorSummary message=problem.read_only()/>
        {move || if list.with(Vec::is_empty) {
            view! {
                <EmptyState title="No drafts"
                    text="What you write is saved here every few seconds until you send it, so closing the tab or being signed out loses nothing.">
                    <a class="button" href="/compose">"Write a secure message"</a>
                </EmptyState>
            }.into_any()
        } else {
            view! { <DraftTable list=list.get() discard/> }.into_any()
        }}
    }
}

/// The drafts, last saved first.
#[component]
fn DraftTable(list: Vec<DraftSummary>, discard: impl Fn(DraftId) + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <table class="table messages">
            <caption class="visually-hidden">"Messages you have not sent yet, last saved first"</caption>
            <thead><tr>
                <th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Saved"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>{list.into_iter().map(|d| view! { <DraftRow d discard/> }).collect_view()}</tbody>
        </table>
    }
}

/// One draft: who it is to so far, its subject (which opens it), when it was saved, and
/// "Discard", which asks once more.
#[component]
fn DraftRow(d: DraftSummary, discard: impl Fn(DraftId) + Copy + Send + Sync + 'static) -> impl IntoView {
    let asking = RwSignal::new(false);
    let id = d.id;
    let subject = if d.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        visible_text(&d.subject)
    };
    let to = if d.recipients.is_empty() {
        "(nobody yet)".to_owned()
    } else {
        d.recipients.join(", ")
    };
    let files = (d.attachments > 0).then(|| format!(" ({} {})", d.attachments, if d.attachments == 1 { "file" } else { "files" }));
    let label = format!("Discard the draft “{subject}”");
    let confirm = format!("Yes, discard “{subject}”");
    view! {
        <tr>
            <td>{to}</td>
            <td><a href=format!("/compose?draft={id}")>{subject}</a><span class="muted">{files}</span>
                {d.held_until.map(|until| view! {
                    <span class="field-hint block"><span class="badge outside">"Waiting for a passphrase"</span>" From Outlook: send it by "{format_time(until)}" or it is discarded."</span>
                })}</td>
            <td>{format_time(d.saved_at)}</td>
            <td class="row-actions">
                {move || if asking.get() {
                    // The question takes the focus from the button that asked it.
                    let yes = NodeRef::<leptos::html::Button>::new();
                    Effect::new(move |_| {
                        if let Some(button) = yes.get() {
                            let _ = button.focus();
                        }
                    });
                    view! {
                        <button type="button" class="button danger" node_ref=yes aria-label=confirm.clone() on:click=move |_| discard(id)>"Yes, discard"</button>
                        " "
                        <button type="button" class="button quiet" on:click=move |_| asking.set(false)>"Keep"</button>
                    }.into_any()
                } else {
                    view! { <button type="button" class="button quiet" aria-label=label.clone() on:click=move |_| asking.set(true)>"Discard"</button> }.into_any()
                }}
            </td>
        </tr>
    }
}
