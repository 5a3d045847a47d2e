//! `/messages/{id}`: one message. Recipients see the body and files; the sender also sees the
//! secure replies, each recipient's delivery status, and can withdraw access for one or all.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use sealpost_domain::MessageId;
use sealpost_domain::api_audit::RecipientTrail;
use sealpost_domain::api_messages::{DeliveryStatus, Folder, MessageDetail};

use crate::api;
use crate::components::{LinkedText, Loading, MarkingBadge, format_size, format_time, load_failed, set_title, visible_text};
use crate::pages::Replies;

/// The message page: loading, then the message, "not available" (it does not exist or is not
/// addressed to this person, SECURITY C1), or why it could not be loaded. Following a link to
/// another message (a part of the conversation) loads that one: the router keeps this view and
/// changes only the id.
#[component]
pub fn MessagePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|t| t.parse::<MessageId>().ok())));
    move || match id.get() {
        Some(id) => view! { <OneMessage id/> }.into_any(),
        None => view! { <NotAvailable/> }.into_any(),
    }
}

/// Message `id`, loading.
#[component]
fn OneMessage(id: MessageId) -> impl IntoView {
    let just_sent = use_query_map().get_untracked().get("sent").is_some();
    let detail = LocalResource::new(move || api::message(id));
    view! {
        <Suspense fallback=|| view! { <Loading text="Opening the message…"/> }>
            <ErrorBoundary fallback=|errors| view! {
                <h1>"Message not available"</h1>
                {load_failed(errors)}
                <p><a href="/inbox">"Back to your inbox"</a></p>
            }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
                            set_title(&d.summary.subject);
                            Ok(view! { <Message id detail=d just_sent/> }.into_any())
                        }
                        Err(f) if f.status == 404 => Ok(view! { <NotAvailable/> }.into_any()),
                        Err(f) => Err(f),
                    }
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// A message that does not exist, or is not this person's to read: the same words for both.
#[component]
fn NotAvailable() -> impl IntoView {
    set_title("Message not available");
    view! {
        <h1>"Message not available"</h1>
        <p>"This message does not exist, or it is not addressed to you."</p>
        <p><a href="/inbox">"Back to your inbox"</a></p>
    }
}

#[component]
fn Message(id: MessageId, detail: MessageDetail, just_sent: bool) -> impl IntoView {
    let reference = detail.summary.reference.to_string();
    let recipients = RwSignal::new(detail.recipients.clone());
    let is_sender = !detail.recipients.is_empty();
    let replies = detail.replies.clone();
    // The sender's own file names, to say which ones each recipient downloaded.
    let files: Vec<(String, String)> = detail.attachments.iter().map(|a| (a.id.to_string(), a.name.clone())).collect();
    let urls = detail.attachments.iter().map(|a| api::attachment_url(id, a.id)).collect();
    let thread = detail.thread.clone();
    // Reply to all is worth offering when more than one person is on the envelope.
    // Not for a blind copy's reader: answering everyone would tell them.
    let many = !detail.blind_copy && detail.to.len() + detail.cc.len() > 1;
    let deleted = detail.summary.deleted_at.is_some();
    let undone = use_query_map().get_untracked().get("undone").is_some();
    let held = detail.held_until;
    view! {
        {just_sent.then(|| view! { <div class="notice" role="status"><strong>"Sent securely."</strong>" Reference "{reference}"."</div> })}
        {undone.then(|| view! { <div class="notice" role="status"><strong>"Send undone."</strong>" Nobody received it, and it has been deleted."</div> })}
        {held.map(|until| view! { <UndoSend id until/> })}
        <MessageArticle detail=detail attachment_urls=urls expiry_label="Links expire"/>
        <p class="actions">
            // A message deleted under the retention policy (or erased) has nothing left to answer.
            {(!deleted).then(|| view! {
                <a class="button" href=format!("/compose?reply={id}")>"Reply"</a>
                {many.then(|| view! { <a class="button quiet" href=format!("/compose?reply={id}&all=1")>"Reply to all"</a> })}
                <a class="button quiet" href=format!("/compose?forward={id}")>"Forward"</a>
            })}
            <FileButtons id/>
        </p>
        <Conversation id thread base="/messages"/>
        <Replies replies=replies file_url=move |a| api::attachment_url(id, a)/>
        {is_sender.then(|| view! { <crate::pages::delivery::Delivery id recipients=recipients files=files deleted/> })}
    }
}

/// While the send can be undone: when its recipients get it, and the button that stops it. The
/// box goes when the window ends.
#[component]
fn UndoSend(id: MessageId, until: i64) -> impl IntoView {
    let open = RwSignal::new(true);
    let (error, set_error) = signal(None::<String>);
    let left = until - js_sys::Date::now() as i64;
    set_timeout(
        move || open.set(false),
        std::time::Duration::from_millis(u64::try_from(left).unwrap_or(0)),
    );
    let at: String = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(until as f64))
        .to_locale_time_string("en-GB")
        .into();
    let undo = move |_| {
        leptos::task::spawn_local(async move {
            match api::recall(id).await {
                Ok(_) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_href(&format!("/messages/{id}?undone=1"));
                    }
                }
                Err(f) => set_error.set(Some(f.message)),
            }
        });
    };
    move || {
        open.get().then(|| {
            view! {
                <div class="notice warning" role="status">
                    <p><strong>"Not delivered yet."</strong>{format!(" Its recipients get it at {at}. Until then you can undo the send.")}</p>
                    <crate::components::ErrorSummary message=error/>
                    <p><button type="button" class="button" on:click=undo>"Undo send"</button></p>
                </div>
            }
        })
    }
}

/// The parts of the conversation this reader may see, oldest first, each opening on its own page
/// (`{base}/{id}`: the app's or the portal's).
#[component]
pub fn Conversation(id: MessageId, thread: Vec<sealpost_domain::api_messages::ThreadPart>, base: &'static str) -> impl IntoView {
    (!thread.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="conversation-title">
                <h2 id="conversation-title">"This conversation"</h2>
                <ol class="conversation">
                    {thread.into_iter().map(|p| {
                        let words = format!("{} from {}, {}", p.reference, visible_text(&p.sender_name), format_time(p.sent_at));
                        if p.id == id {
                            view! { <li aria-current="page">{words}" (open now)"</li> }.into_any()
                        } else {
                            view! { <li><a href=format!("{base}/{}", p.id)>{words}</a></li> }.into_any()
                        }
                    }).collect_view()}
                </ol>
            </section>
        }
    })
}

/// A message's subject, marking, sender, dates, body and files: the same for staff and for
/// recipients in the portal, who download through their own URLs (`attachment_urls`, in order).
#[component]
pub fn MessageArticle(detail: MessageDetail, attachment_urls: Vec<String>, expiry_label: &'static str) -> impl IntoView {
    let s = detail.summary.clone();
    let files: Vec<_> = detail.attachments.into_iter().zip(attachment_urls).collect();
    let long_subject = s.subject.chars().count() > 120;
    let view_only = detail.view_only;
    view! {
        <article class="card message" aria-labelledby="message-subject">
            <header class="message-head">
                <h1 id="message-subject" class:long-subject=long_subject>{visible_text(&s.subject)}</h1>
                <MarkingBadge marking=s.marking/>
                <dl class="meta">
                    <dt>"From"</dt><dd>{if s.from_outside {
                        view! { {detail.sender_email.to_string()}" "<span class="badge outside">"Outside the council"</span>
                            <span class="field-hint block">"Written at the council's secure form; they proved this address with an emailed code."</span> }.into_any()
                    } else {
                        view! { {format!("{} <{}>", visible_text(&s.sender_name), detail.sender_email)} }.into_any()
                    }}</dd>
                    {envelope_line("To", &detail.to)}
                    {envelope_line("Cc", &detail.cc)}
                    {detail.blind_copy.then(|| view! { <dt>"Bcc"</dt><dd>"You (a blind copy: the others do not see that you have it)"</dd> })}
                    <dt>"Sent"</dt><dd>{format_time(s.sent_at)}</dd>
                    <dt>"Reference"</dt><dd>{s.reference.to_string()}</dd>
                    <dt>{expiry_label}</dt><dd>{format_time(detail.expires_at)}</dd>
                </dl>
            </header>
            <MessageBody text=detail.body.clone() html=detail.html.clone()/>
            {(!files.is_empty()).then(|| view! {
                <section aria-labelledby="files-title" class="attachments">
                    <h2 id="files-title">"Attachments"</h2>
                    {view_only.then(|| view! { <p class="field-hint">"The council lets you view these files in your browser, not download them. Each opens in a new tab."</p> })}
                    <ul>{files.into_iter().map(|(a, url)| view! {
                        <li>{if view_only {
                            view! { <a href=url target="_blank" rel="noopener">{visible_text(&a.name)}" (view)"</a> }.into_any()
                        } else {
                            view! { <a href=url download=a.name.clone()>{visible_text(&a.name)}</a> }.into_any()
                        }}
                            " "<span class="muted">"("{format_size(a.size)}")"</span></li>
                    }).collect_view()}</ul>
                </section>
            })}
        </article>
    }
}

/// The body: the text, or for mail from Outlook with an HTML body, that HTML as its sender
/// formatted it, in a frame that runs no script and loads nothing (SECURITY D2), with the text
/// a click away.
#[component]
fn MessageBody(text: String, html: Option<String>) -> impl IntoView {
    let Some(html) = html else {
        return view! { <LinkedText text=text/> }.into_any();
    };
    let formatted = RwSignal::new(true);
    let document = sealpost_domain::text::html_frame_document(&html);
    view! {
        <div class="html-body">
            <p class="html-body-switch">
                <button type="button" class="button quiet" on:click=move |_| formatted.update(|f| *f = !*f)>
                    {move || if formatted.get() { "Show as plain text" } else { "Show as formatted" }}
                </button>
            </p>
            <Show when=move || formatted.get() fallback={
                let text = text.clone();
                move || view! { <LinkedText text=text.clone()/> }
            }>
                <iframe class="html-frame" title="The message, as its sender formatted it" sandbox="allow-popups allow-popups-to-escape-sandbox"
                    referrerpolicy="no-referrer" srcdoc=document.clone()></iframe>
            </Show>
        </div>
    }
    .into_any()
}

/// One line of the envelope, when it names anyone.
fn envelope_line(label: &'static str, addresses: &[sealpost_domain::EmailAddress]) -> Option<impl IntoView + use<>> {
    (!addresses.is_empty()).then(|| {
        let list = addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        view! { <dt>{label}</dt><dd>{list}</dd> }
    })
}

/// What a recipient did, from the audit log: opened when (and how often), downloads, and
/// failed attempts to prove who they are.
pub(crate) fn activity_view(a: &RecipientTrail, files: &[(String, String)]) -> impl IntoView + use<> {
    let plural = |n: u32, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let opened = match a.first_opened_at_ms {
        Some(at) if a.opens > 1 => format!("Opened {} ({} times)", format_time(at), a.opens),
        Some(at) => format!("Opened {}", format_time(at)),
        None => "Not opened yet".to_owned(),
    };
    let names: Vec<String> = a
        .downloaded
        .iter()
        .filter_map(|id| files.iter().find(|(f, _)| f == id).map(|(_, name)| visible_text(name)))
        .collect();
    let downloads = (a.downloads > 0).then(|| {
        if names.is_empty() {
            plural(a.downloads, "file downloaded", "downloads")
        } else {
            format!("Downloaded {}", names.join(", "))
        }
    });
    let failed = (a.failed_attempts > 0).then(|| plural(a.failed_attempts, "failed attempt", "failed attempts"));
    view! {
        <span>{opened}</span>
        {downloads.map(|d| view! { <br/><span>{d}</span> })}
        {failed.map(|f| view! { <br/><span class="status bad">{f}</span> })}
    }
}

pub(crate) fn status_text(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Read => "Read",
        DeliveryStatus::Queued => "Notification queued",
        DeliveryStatus::Sent => "Notified",
        DeliveryStatus::Failed => "Notification failed",
        DeliveryStatus::Revoked => "Access withdrawn",
    }
}

pub(crate) fn status_class(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Read | DeliveryStatus::Sent | DeliveryStatus::Delivered => "ok",
        DeliveryStatus::Queued => "pending",
        DeliveryStatus::Failed | DeliveryStatus::Revoked => "bad",
    }
}

/// "Archive" and "Delete": file the message in the reader's own box, then back to the Inbox,
/// which says where it went.
#[component]
fn FileButtons(id: MessageId) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let problem = RwSignal::new(None::<String>);
    let file = move |to: Folder| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::move_message(id, to).await {
                Ok(()) => {
                    let word = if to == Folder::Archive { "archived" } else { "deleted" };
                    navigate(&format!("/inbox?moved={word}"), leptos_router::NavigateOptions::default());
                }
                Err(f) => problem.set(Some(format!("Not moved: {}", f.message))),
            }
        });
    };
    let archive = file.clone();
    view! {
        <button type="button" class="button quiet" on:click=move |_| archive(Folder::Archive)>"Archive"</button>
        <button type="button" class="button quiet" on:click=move |_| file(Folder::Deleted)>"Delete"</button>
        <span role="alert">{move || problem.get()}</span>
    }
}
