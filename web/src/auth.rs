//! Who is signed in, shared through context, and the guard that shows the sign-in page to
//! anyone who is not.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api::Me;

use crate::api;
use crate::pages::{SecondStep, Shell, SignInForm};

/// The session as the app knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Session {
    /// Asking the server.
    Checking,
    /// No session.
    SignedOut,
    /// Signed in as this account.
    SignedIn(Me),
}

/// Where a person starts: IG officers at the audit console (they see logs, not mail),
/// administrators at the admin console, staff at their inbox.
pub fn home_for(me: &Me) -> &'static str {
    match me.role {
        sealpost_domain::Role::Ig => "/audit",
        sealpost_domain::Role::Admin => "/admin",
        sealpost_domain::Role::Staff => "/inbox",
    }
}

/// The app-wide session state and the organisation's name.
#[derive(Clone, Copy)]
pub struct Auth {
    /// The session.
    pub session: RwSignal<Session>,
    /// The council's name, shown in the header.
    pub organisation: RwSignal<String>,
    /// Days a deleted message waits in Deleted (`SEALPOST_DELETED_DAYS`).
    pub deleted_days: RwSignal<u32>,
    /// Staff can sign in through the council's identity provider.
    pub sso: RwSignal<bool>,
    /// Staff and IG can sign in with a password (administrators always can).
    pub password_login: RwSignal<bool>,
}

impl Auth {
    /// Creates the state and puts it in context.
    pub fn provide() -> Self {
        let auth = Self {
            session: RwSignal::new(Session::Checking),
            organisation: RwSignal::new(String::new()),
            deleted_days: RwSignal::new(30),
            sso: RwSignal::new(false),
            password_login: RwSignal::new(true),
        };
        provide_context(auth);
        // Any staff call answered 401 means the session ended on the server (idle, disabled,
        // signed out elsewhere): show the sign-in form instead of a page that no longer works.
        let ended = window_event_listener_untyped(api::SESSION_ENDED, move |_| {
            if matches!(auth.session.get_untracked(), Session::SignedIn(_)) {
                auth.session.set(Session::SignedOut);
            }
        });
        std::mem::forget(ended);
        auth
    }

    /// The state from context.
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(Self::provide)
    }

    /// Asks the server who is signed in, and the organisation's name.
    pub fn refresh(self) {
        spawn_local(async move {
            if let Ok(info) = api::info().await {
                self.organisation.set(info.organisation);
                self.deleted_days.set(info.deleted_days);
                self.sso.set(info.sso);
                self.password_login.set(info.password_login);
            }
            match api::me().await {
                Ok(me) => self.signed_in(me),
                Err(_) => self.session.set(Session::SignedOut),
            }
        });
    }

    /// Records a successful sign-in.
    pub fn signed_in(self, me: Me) {
        self.organisation.set(me.organisation.clone());
        self.session.set(Session::SignedIn(me));
    }
}

/// Shows its children inside the signed-in shell, or the sign-in form when nobody is signed in.
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let auth = Auth::get();
    move || match auth.session.get() {
        Session::Checking => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Session::SignedOut => view! { <SignInForm/> }.into_any(),
        // The password was right, but the sign-in needs its second factor first.
        Session::SignedIn(me) if me.next_step.is_some() => view! { <SecondStep me/> }.into_any(),
        Session::SignedIn(me) => {
            let children = children.clone();
            view! { <Shell me=me>{children()}</Shell> }.into_any()
        }
    }
}
