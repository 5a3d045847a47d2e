//! The inbox and sent lists, with empty states that say what will appear and what to do.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api_messages::{MailBox, MessageSummary};

use crate::api;
use crate::auth::Auth;
use crate::components::{Loading, MarkingBadge, format_time, load_failed, set_title, visible_text};

/// A friendly "nothing here yet" panel.
#[component]
pub fn EmptyState(title: &'static str, #[prop(into)] text: String, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <section class="card empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">{title}</h2>
            <p>{text}</p>
            {children.map(|c| c())}
        </section>
    }
}

/// Loads `mailbox` and shows it as a table, or `empty` when there is nothing; a loading state
/// until it arrives, and the reason if it cannot be loaded.
#[component]
fn MessageList(mailbox: MailBox, empty: fn() -> AnyView) -> impl IntoView {
    let rows = LocalResource::new(move || api::list(mailbox));
    view! {
        <Suspense fallback=|| view! { <Loading text="Loading your messages…"/> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    rows.await.map(|list| if list.is_empty() { empty() } else { view! { <MessageTable mailbox list/> }.into_any() })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// The messages of `mailbox`, newest first.
#[component]
fn MessageTable(mailbox: MailBox, list: Vec<MessageSummary>) -> impl IntoView {
    let sent = mailbox == MailBox::Sent;
    view! {
        <table class="table messages">
            <caption class="visually-hidden">{if sent { "Messages you have sent, newest first" } else { "Messages to you, newest first" }}</caption>
            <thead><tr>
                <th scope="col">{if sent { "To" } else { "From" }}</th><th scope="col">"Subject"</th>
                <th scope="col">"Marking"</th><th scope="col">{if sent { "Sent" } else { "Received" }}</th>
            </tr></thead>
            <tbody>{list.into_iter().map(|m| view! { <MessageRow m sent/> }).collect_view()}</tbody>
        </table>
    }
}

/// One row of a list: who, what (with its files and replies), the marking and when.
#[component]
fn MessageRow(m: MessageSummary, sent: bool) -> impl IntoView {
    let who = match (&m.last_reply_from, sent) {
        (_, true) => m
            .recipients
            .iter()
            .map(|r| format!("{} ({})", r.address, status_word(r.status)))
            .collect::<Vec<_>>()
            .join(", "),
        // A thread this person sent, listed for its reply.
        (Some(from), false) => format!("{from} (reply)"),
        (None, false) => visible_text(&m.sender_name),
    };
    let outside = m.from_outside.then(|| view! { " "<span class="badge outside">"Outside"</span> });
    let extras: Vec<String> = [(m.attachments, "file", "files"), (m.replies, "reply", "replies")]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
    let files = (!extras.is_empty()).then(|| format!(" ({})", extras.join(", ")));
    view! {
        <tr class:unread=m.unread>
            <td>{who}{outside}</td>
            <td><a href=format!("/messages/{}", m.id)>{visible_text(&m.subject)}{m.unread.then(|| view! { <span class="visually-hidden">" (unread)"</span> })}</a>
                <span class="muted">{files}</span></td>
            <td><MarkingBadge marking=m.marking/></td>
            <td>{format_time(if sent { m.sent_at } else { m.last_activity })}</td>
        </tr>
    }
}

/// `/inbox`.
#[component]
pub fn Inbox() -> impl IntoView {
    set_title("Inbox");
    let moved = leptos_router::hooks::use_query_map().get_untracked().get("moved");
    let days = Auth::get().deleted_days;
    let said = moved.map(|word| match word.as_str() {
        "archived" => "Message archived: it is in your Archive.".to_owned(),
        _ => format!(
            "Message deleted: it is in Deleted, and goes for good after {} days.",
            days.get_untracked()
        ),
    });
    view! {
        <div class="page-head"><h1>"Inbox"</h1><a class="button" href="/compose">"Write a secure message"</a></div>
        <Boxes/>
        {said.map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <MessageList mailbox=MailBox::Inbox empty=|| view! {
            <EmptyState title="No messages yet" text="Secure messages from colleagues, and secure replies from partners, will appear here."/>
        }.into_any()/>
        <EmailNotices/>
    }
}

/// The Inbox's other boxes.
#[component]
fn Boxes() -> impl IntoView {
    view! {
        <nav class="boxes" aria-label="Folders">
            <a href="/inbox">"Inbox"</a>" · "<a href="/archive">"Archive"</a>" · "<a href="/deleted">"Deleted"</a>
        </nav>
    }
}

/// `/archive`.
#[component]
pub fn Archive() -> impl IntoView {
    set_title("Archive");
    view! {
        <h1>"Archive"</h1>
        <Boxes/>
        <MessageList mailbox=MailBox::Archive empty=|| view! {
            <EmptyState title="Nothing archived" text="Messages you archive leave your Inbox and wait here. Archive a message from its page."/>
        }.into_any()/>
    }
}

/// `/deleted`.
#[component]
pub fn Deleted() -> impl IntoView {
    set_title("Deleted");
    let emptied = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let days = Auth::get().deleted_days;
    let empty = move |_| {
        leptos::task::spawn_local(async move {
            match api::empty_deleted().await {
                Ok(()) => emptied.set(true),
                Err(f) => problem.set(Some(format!("Not emptied: {}", f.message))),
            }
        });
    };
    view! {
        <div class="page-head"><h1>"Deleted"</h1>
            <button type="button" class="button quiet" on:click=empty>"Empty Deleted now"</button></div>
        <Boxes/>
        <p class="field-hint">{move || format!("Deleted messages go for good after {} days. Only your own view changes: everyone else keeps theirs.", days.get())}</p>
        <p role="alert">{move || problem.get()}</p>
        {move || if emptied.get() {
            view! { <EmptyState title="Deleted is empty" text="The messages you deleted are gone from your boxes."/> }.into_any()
        } else {
            view! { <MessageList mailbox=MailBox::Deleted empty=|| view! {
                <EmptyState title="Nothing deleted" text=format!("Messages you delete wait here for {} days, in case you need them back.", Auth::get().deleted_days.get_untracked())/>
            }.into_any()/> }.into_any()
        }}
    }
}

/// "Email me when secure mail arrives": the person's own choice, saved as it is ticked.
#[component]
fn EmailNotices() -> impl IntoView {
    let auth = crate::auth::Auth::get();
    let on = match auth.session.get_untracked() {
        crate::auth::Session::SignedIn(me) => me.notify_by_email,
        _ => true,
    };
    let (said, set_said) = signal(None::<String>);
    let toggle = move |ev: leptos::ev::Event| {
        let notify_by_email = event_target_checked(&ev);
        spawn_local(async move {
            match api::set_preferences(notify_by_email).await {
                Ok(me) => {
                    // Updated quietly: re-rendering the whole signed-in shell for one tick box
                    // would lose the confirmation below.
                    auth.session.update_untracked(|s| *s = crate::auth::Session::SignedIn(me));
                    set_said.set(Some(if notify_by_email {
                        "Saved: you will get an email (with no content) when secure mail arrives.".into()
                    } else {
                        "Saved: no more emails; check your Inbox here.".into()
                    }));
                }
                Err(f) => set_said.set(Some(format!("Not saved: {}", f.message))),
            }
        });
    };
    view! {
        <div class="preference">
            <label class="checkbox"><input type="checkbox" prop:checked=on on:change=toggle/>
                "Email me when secure mail arrives (the email says who it is from, never what it says)"</label>
            <p class="field-hint" aria-live="polite">{move || said.get()}</p>
        </div>
    }
}

/// `/sent`.
#[component]
pub fn Sent() -> impl IntoView {
    set_title("Sent");
    view! {
        <h1>"Sent"</h1>
        <MessageList mailbox=MailBox::Sent empty=|| view! {
            <EmptyState title="You have not sent any secure messages"
                text="Messages you send will appear here, with who has opened them and a button to withdraw access.">
                <a class="button" href="/compose">"Write a secure message"</a>
            </EmptyState>
        }.into_any()/>
    }
}

/// A short word for a recipient's status in the sent list.
fn status_word(s: sealpost_domain::api_messages::DeliveryStatus) -> &'static str {
    use sealpost_domain::api_messages::DeliveryStatus as D;
    match s {
        D::Delivered => "delivered",
        D::Read => "read",
        D::Queued => "queued",
        D::Sent => "notified",
        D::Failed => "failed",
        D::Revoked => "withdrawn",
    }
}
