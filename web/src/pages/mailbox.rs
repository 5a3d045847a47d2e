//! The mailbox pages. Until sending arrives they show honest empty states that say what will
//! appear and what to do next.

use leptos::prelude::*;
use sealpost_domain::Role;

use crate::auth::{Auth, Session};
use crate::components::set_title;

/// A friendly "nothing here yet" panel.
#[component]
fn EmptyState(title: &'static str, text: &'static str, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <section class="card empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">{title}</h2>
            <p>{text}</p>
            {children.map(|c| c())}
        </section>
    }
}

/// `/inbox`.
#[component]
pub fn Inbox() -> impl IntoView {
    set_title("Inbox");
    view! {
        <h1>"Inbox"</h1>
        <EmptyState title="No messages yet" text="Secure messages from colleagues, and secure replies from partners, will appear here.">
            <a class="button" href="/compose">"Write a secure message"</a>
        </EmptyState>
    }
}

/// `/compose`.
#[component]
pub fn Compose() -> impl IntoView {
    set_title("Write a secure message");
    view! {
        <h1>"Write a secure message"</h1>
        <EmptyState title="Sending is not available yet"
            text="This version of Sealpost lets you sign in and find your way around. Writing and sending secure messages to colleagues and partners arrives in the next release."/>
    }
}

/// `/sent`.
#[component]
pub fn Sent() -> impl IntoView {
    set_title("Sent");
    view! {
        <h1>"Sent"</h1>
        <EmptyState title="You have not sent any secure messages"
            text="Messages you send will appear here, with who has opened them and when, and a button to withdraw access."/>
    }
}

/// `/audit`: for information governance officers only.
#[component]
pub fn Audit() -> impl IntoView {
    set_title("Audit log");
    let auth = Auth::get();
    let is_ig = move || matches!(auth.session.get(), Session::SignedIn(me) if me.role == Role::Ig);
    view! {
        <h1>"Audit log"</h1>
        {move || if is_ig() {
            view! { <EmptyState title="No audit events to show yet"
                text="Every sign-in, read, download and send will be recorded here, searchable by message, person and date, and verifiable against tampering."/> }.into_any()
        } else {
            view! { <EmptyState title="You do not have access to the audit log"
                text="The audit log is for information governance officers. Ask your IG team if you need an access record."/> }.into_any()
        }}
    }
}
