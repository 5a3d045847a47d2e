//! The signed-in layout: banner with the person's name and sign-out, navigation, main area.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use sealpost_domain::Role;
use sealpost_domain::api::Me;

use crate::api;
use crate::auth::{Auth, Session};
use crate::components::{Banner, ErrorSummary};

/// Wraps a signed-in page.
#[component]
pub fn Shell(me: Me, children: Children) -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let (problem, set_problem) = signal(None::<String>);
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::logout().await {
                // 401: the session had already ended, which is what was asked for.
                Err(failure) if failure.status != 401 => {
                    set_problem.set(Some(format!("You are still signed in: {} Try signing out again.", failure.message)));
                }
                _ => {
                    auth.session.set(Session::SignedOut);
                    navigate("/signin", NavigateOptions::default());
                }
            }
        });
    };
    let is_ig = me.role == Role::Ig;
    let is_admin = me.role == Role::Admin;
    view! {
        <Banner>
            <div class="account">
                <span class="account-name">{me.display_name.as_str().to_owned()}</span>
                <button type="button" class="button secondary" on:click=sign_out>"Sign out"</button>
            </div>
        </Banner>
        <nav class="nav" aria-label="Main">
            <ul class="nav-inner">
                <li><A href="/inbox">"Inbox"</A></li>
                <li><A href="/compose">"Compose"</A></li>
                <li><A href="/drafts">"Drafts"</A></li>
                <li><A href="/sent">"Sent"</A></li>
                <li><A href="/search">"Search"</A></li>
                {is_ig.then(|| view! { <li><A href="/audit">"Audit"</A></li> })}
                {is_admin.then(|| view! { <li><A href="/admin">"Admin"</A></li> })}
            </ul>
        </nav>
        <main id="main" class="page">
            <ErrorSummary message=problem/>
            {children()}
        </main>
    }
}
