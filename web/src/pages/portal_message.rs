//! The portal once the recipient has proved who they are: the message, its files, the thread of
//! their own secure replies, and the form to reply with files (the same limits and progress
//! bar as compose).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api_messages::{MessageDetail, PortalState, SendReply};
use web_sys::File;

use crate::api::{self, Failure};
use crate::components::{ErrorSummary, set_title};
use crate::file_picker::{FilePicker, UploadProgress};
use crate::pages::{MessageArticle, Replies};
use crate::upload;

/// Loads the message for a verified session and shows it with the reply form.
#[component]
pub fn Verified(state: PortalState) -> impl IntoView {
    let detail = RwSignal::new(None::<Result<MessageDetail, Failure>>);
    let load = move || spawn_local(async move { detail.set(Some(api::portal_message().await)) });
    load();
    let reference = state.link.reference.to_string();
    let limits = RwSignal::new(state.limits);
    let (sent, set_sent) = signal(None::<String>);
    let on_sent = move || {
        set_sent.set(Some("Your reply has been sent securely.".into()));
        load();
    };
    view! {
        <div role="status">{move || sent.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        {move || match detail.get() {
            None => view! { <p class="loading" role="status">"Opening the message…"</p> }.into_any(),
            Some(Ok(d)) => view! { <PortalMessage detail=d/> }.into_any(),
            Some(Err(f)) => {
                view! { <h1>"The message could not be opened"</h1><p>{f.message}</p><p>{format!("Reference {reference}.")}</p> }.into_any()
            }
        }}
        <ReplyForm limits=limits on_sent=on_sent/>
        <p class="hint">"Your secure session ends after 15 minutes without use. To read this again later, open the link in the email."</p>
    }
}

/// The message as its recipient sees it: no delivery details, files through the portal.
#[component]
fn PortalMessage(detail: MessageDetail) -> impl IntoView {
    set_title(&detail.summary.subject);
    let urls = detail
        .attachments
        .iter()
        .map(|a| api::portal_attachment_url(&a.id.to_string()))
        .collect();
    let (id, replies) = (detail.summary.id.to_string(), detail.replies.clone());
    view! {
        <MessageArticle detail=detail attachment_urls=urls expiry_label="Available until"/>
        <Replies message_id=id replies=replies file_url=|_, aid| api::portal_attachment_url(aid)/>
    }
}

/// Write back to the sender, with files; sealed like the message itself.
#[component]
fn ReplyForm(limits: RwSignal<sealpost_domain::Limits>, on_sent: impl Fn() + Copy + 'static) -> impl IntoView {
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
            let result = upload::reply(&reply, &chosen, move |p| progress.set(Some(p))).await;
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
