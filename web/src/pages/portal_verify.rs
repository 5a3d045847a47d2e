//! `/portal`: the recipient enters the emailed code (and the passphrase, when the message needs
//! one). The address carries no token: redeeming the link set an HttpOnly portal cookie.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api_messages::PortalState;

use crate::api::{self, Failure};
use crate::auth::Auth;
use crate::components::{Banner, ErrorSummary, set_title};
use crate::pages::portal_message::Verified;

/// The portal page.
#[component]
pub fn PortalPage() -> impl IntoView {
    let state = RwSignal::new(None::<Result<PortalState, Failure>>);
    let signed_out = RwSignal::new(false);
    spawn_local(async move { state.set(Some(api::portal_session().await)) });
    view! {
        <Banner>
            <Show when=move || matches!(state.get(), Some(Ok(_)))>
                <PortalSignOut on_done=move || {
                    signed_out.set(true);
                    state.set(None);
                }/>
            </Show>
        </Banner>
        <main id="main" class="page narrow">
            {move || if signed_out.get() {
                set_title("You have signed out");
                view! {
                    <h1>"You have signed out"</h1>
                    <p>"Nobody using this computer after you can open the message. To read it again, open the link in the email and ask for a new code."</p>
                }.into_any()
            } else { match state.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Ok(s)) if s.verified => view! { <Verified state=s/> }.into_any(),
                Some(Ok(s)) => view! { <EnterCode state=s on_verified=move |s| state.set(Some(Ok(s)))/> }.into_any(),
                Some(Err(f)) => view! { <Ended failure=f/> }.into_any(),
            }}}
        </main>
    }
}

/// "Sign out" in the banner: ends the portal session on the server, for a shared computer.
#[component]
fn PortalSignOut(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let (problem, set_problem) = signal(None::<String>);
    let sign_out = move |_| {
        spawn_local(async move {
            match api::portal_sign_out().await {
                Ok(()) => on_done(),
                Err(f) => set_problem.set(Some(format!("You are still signed in: {} Try again.", f.message))),
            }
        });
    };
    view! {
        <div class="account">
            <span role="alert">{move || problem.get()}</span>
            <button type="button" class="button secondary" on:click=sign_out>"Sign out"</button>
        </div>
    }
}

#[component]
fn EnterCode(state: PortalState, on_verified: impl Fn(PortalState) + Copy + 'static) -> impl IntoView {
    set_title("Enter your code");
    Auth::get().organisation.set(state.link.organisation.clone());
    let needs_passphrase = state.link.passphrase_required;
    let code = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<String>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let given = needs_passphrase.then(|| passphrase.get_untracked());
        spawn_local(async move {
            match api::portal_verify(code.get_untracked(), given).await {
                Ok(s) => on_verified(s),
                Err(f) => {
                    set_notice.set(None);
                    set_error.set(Some(f.message));
                }
            }
        });
    };
    let resend = move |_| {
        spawn_local(async move {
            match api::portal_resend().await {
                Ok(()) => {
                    set_error.set(None);
                    set_notice.set(Some("We have sent you a new code. Only the newest code works.".into()));
                }
                Err(f) => set_error.set(Some(f.message)),
            }
        });
    };
    view! {
        <h1>"Enter your code"</h1>
        <p class="lede">{format!("We have emailed a 6-digit code to you. It works for {} minutes.", state.code_minutes)}</p>
        <ErrorSummary message=error/>
        <div role="status">{move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        <form class="card form" on:submit=on_submit novalidate=true>
            <div class="field">
                <label for="code">"Code from the email"</label>
                <input id="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6" spellcheck="false" bind:value=code/>
            </div>
            {needs_passphrase.then(|| view! {
                <div class="field">
                    <label for="passphrase">"Passphrase"</label>
                    <p class="field-hint" id="passphrase-hint">"The sender gives you this by phone. It is never sent by email."</p>
                    <input id="passphrase" type="password" autocomplete="off" aria-describedby="passphrase-hint" bind:value=passphrase/>
                </div>
            })}
            <button type="submit" class="button">"Continue"</button>
        </form>
        <p><button type="button" class="button quiet" on:click=resend>"Send me a new code"</button></p>
        <p class="hint">{format!("Reference {}. If you were not expecting this, contact {}.", state.link.reference, state.link.organisation)}</p>
    }
}

#[component]
fn Ended(failure: Failure) -> impl IntoView {
    let (title, text) = match failure.status {
        401 => (
            "Your session has ended",
            "For your security, secure sessions end after 15 minutes without use. Open the link in the email again to continue.".to_owned(),
        ),
        410 => ("This message is no longer available", failure.message),
        _ => ("Sealpost could not continue", failure.message),
    };
    set_title(title);
    view! { <h1>{title}</h1><p>{text}</p> }
}
