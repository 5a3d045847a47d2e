//! The portal once the recipient has proved who they are: the message, its files, the thread of
//! their own secure replies, the form to reply with files (the same limits and progress bar as
//! compose), and every other message to their address they can still open.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use sealpost_domain::MessageId;
use sealpost_domain::api_messages::{MessageDetail, PortalItem, PortalState, SendReply};
use web_sys::File;

use crate::api::{self, Failure};
use crate::components::{ErrorSummary, Loading, MarkingBadge, format_time, set_title, visible_text};
use crate::file_picker::{FilePicker, UploadProgress};
use crate::pages::{Conversation, MessageArticle, Replies};
use crate::upload;

/// Loads the recipient's messages and opens one: the address's `id` (`/portal/messages/{id}`),
/// else the message whose link opened the session. A refused list (locked out, session ended)
/// says why, in place of the message.
#[component]
pub fn Verified(state: PortalState) -> impl IntoView {
    let params = use_params_map();
    // One resource, read in one go: the list, then the message it names. (A message resource
    // that awaited a list resource would load, and be recorded as read, twice.)
    let opened = LocalResource::new(move || {
        let wanted = params.with(|p| p.get("id"));
        async move {
            let list = match api::portal_messages().await {
                Ok(list) => list,
                Err(failure) => return (vec![], Err(failure)),
            };
            let id = match wanted {
                Some(text) => text.parse::<MessageId>().ok(),
                None => list.iter().find(|i| i.current).map(|i| i.id),
            };
            let detail = match id {
                Some(id) => api::portal_message(id).await,
                None => Err(gone()),
            };
            (list, detail)
        }
    });
    let reference = state.link.reference.to_string();
    let limits = RwSignal::new(state.limits);
    let (sent, set_sent) = signal(None::<String>);
    let on_sent = move || {
        set_sent.set(Some("Your reply has been sent securely.".into()));
        opened.refetch();
    };
    view! {
        <div role="status">{move || sent.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        // A Transition, not a Suspense: after a reply the message stays on the page while it is
        // read again, instead of giving way to "Opening the message…".
        <Transition fallback=|| view! { <Loading text="Opening the message…"/> }>
            {move || {
                let reference = reference.clone();
                Suspend::new(async move {
                    let (list, detail) = opened.await;
                    let open = detail.as_ref().ok().map(|d| d.summary.id);
                    let message = match detail {
                        Ok(d) => {
                            let id = d.summary.id;
                            // Nothing to reply to once it was deleted under the retention policy.
                            let deleted = d.summary.deleted_at.is_some();
                            view! { <PortalMessage detail=d/>{(!deleted).then(|| view! { <ReplyForm id limits on_sent/> })} }.into_any()
                        }
                        Err(f) => view! {
                            <h1>"The message could not be opened"</h1><p>{f.message}</p><p>{format!("Reference {reference}.")}</p>
                        }
                        .into_any(),
                    };
                    view! { {message}<YourMessages list open/> }
                })
            }}
        </Transition>
        <p class="hint">"Your secure session ends after 15 minutes without use. To read this again later, open the link in the email."</p>
    }
}

/// The message asked for is not (or no longer) one this session can open.
fn gone() -> Failure {
    Failure {
        status: 404,
        message: "This message is no longer available. Open the link in your email again.".into(),
        ..Failure::default()
    }
}

/// The message as its recipient sees it: no delivery details, files through the portal.
#[component]
fn PortalMessage(detail: MessageDetail) -> impl IntoView {
    set_title(&detail.summary.subject);
    let id = detail.summary.id;
    let urls = detail.attachments.iter().map(|a| api::portal_attachment_url(id, a.id)).collect();
    let replies = detail.replies.clone();
    let thread = detail.thread.clone();
    view! {
        <MessageArticle detail=detail attachment_urls=urls expiry_label="Available until"/>
        <Conversation id thread base="/portal/messages"/>
        <Replies replies=replies file_url=move |a| api::portal_attachment_url(id, a)/>
    }
}

/// Every live message to this address, when there is more than the one open: a returning
/// partner finds all their secure mail here.
#[component]
fn YourMessages(list: Vec<PortalItem>, open: Option<MessageId>) -> impl IntoView {
    (list.len() > 1).then(|| view! {
            <section class="card" aria-labelledby="yours-title">
                <h2 id="yours-title">"Your secure messages"</h2>
                <p class="field-hint">"Every message sent to your address through Sealpost that you can still open."</p>
                <table class="table messages">
                    <caption class="visually-hidden">"Secure messages to you, newest first"</caption>
                    <thead><tr><th scope="col">"From"</th><th scope="col">"Subject"</th><th scope="col">"Marking"</th><th scope="col">"Sent"</th></tr></thead>
                    <tbody>{list.into_iter().map(|i| {
                        let id = i.id;
                        let here = Some(id) == open;
                        let subject = match i.subject {
                            Some(s) if here => view! { <span aria-current="page">{visible_text(&s)}<span class="muted">" (open now)"</span></span> }.into_any(),
                            Some(s) => view! { <a href=format!("/portal/messages/{id}")>{visible_text(&s)}</a> }.into_any(),
                            None => view! { <span class="muted">{format!("Reference {}: it needs its passphrase, so open the link in its own email.", i.reference)}</span> }.into_any(),
                        };
                        view! {
                            <tr class:unread=i.unread && !here>
                                <td>{visible_text(&i.sender_name)}</td>
                                <td>{subject}</td>
                                <td><MarkingBadge marking=i.marking/></td>
                                <td>{format_time(i.sent_at)}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            </section>
        })
}

/// Write back to the sender, with files; sealed like the message itself.
#[component]
fn ReplyForm(id: MessageId, limits: RwSignal<sealpost_domain::Limits>, on_sent: impl Fn() + Copy + 'static) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let files = RwSignal::new_local(Vec::<File>::new());
    let (error, set_error) = signal(None::<String>);
    let progress = RwSignal::new(None::<f64>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let reply = SendReply {
            body: text.get_untracked(),
        };
        let chosen = files.get_untracked();
        if reply.body.trim().is_empty() && chosen.is_empty() {
            set_error.set(Some("Write a reply, or attach a file.".into()));
            return;
        }
        set_error.set(None);
        progress.set(Some(0.0));
        spawn_local(async move {
            let result = upload::reply(id, &reply, &chosen, move |p| progress.set(Some(p))).await;
            progress.set(None);
            match result {
                Ok(_) => {
                    text.set(String::new());
                    files.set(vec![]);
                    on_sent();
                }
                Err(f) => set_error.set(Some(f.message)),
            }
        });
    };
    let sending = move || progress.get().is_some();
    view! {
        <section class="card" aria-labelledby="reply-title">
            <h2 id="reply-title">"Reply securely"</h2>
            <p class="field-hint">"Your reply and its files are encrypted and go only to the sender. Nothing is sent by ordinary email."</p>
            <ErrorSummary message=error/>
            <form class="form" on:submit=on_submit novalidate=true>
                <div class="field">
                    <label for="reply-body">"Your reply"</label>
                    <textarea id="reply-body" rows="6" bind:value=text></textarea>
                </div>
                <FilePicker files=files limits=limits error=set_error/>
                <UploadProgress progress=progress/>
                <button type="submit" class="button" disabled=sending>{move || if sending() { "Sending…" } else { "Send reply securely" }}</button>
            </form>
        </section>
    }
}
