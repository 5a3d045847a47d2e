//! The second step of a sign-in: a code from the authenticator app (or a recovery code), or,
//! for an account that must have a second factor and has none, setting one up: scan the QR
//! code (or type the secret), confirm with a code, and keep the ten recovery codes shown once.
//! Usable by keyboard alone: every step is a form; asking for a code puts the focus in its
//! field, while setting up leaves it at the top, so the steps are read first.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api::{Enrolled, Me, NextStep, TotpEnrolment};

use crate::api;
use crate::auth::{Auth, Session};
use crate::components::{Banner, ErrorSummary, set_title};

/// Shown in place of any page until the sign-in is complete.
#[component]
pub fn SecondStep(me: Me) -> impl IntoView {
    let body = match me.next_step {
        Some(NextStep::Enrol) => view! { <Enrol/> }.into_any(),
        _ => view! { <GiveCode/> }.into_any(),
    };
    let auth = Auth::get();
    let cancel = move |_| {
        spawn_local(async move {
            let _ = api::logout().await;
            auth.session.set(Session::SignedOut);
        });
    };
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            {body}
            <p><button type="button" class="button quiet" on:click=cancel>"Cancel and sign out"</button></p>
        </main>
    }
}

/// One code field and a Continue button: `submit` gets the code typed.
#[component]
fn CodeForm(
    label: &'static str,
    hint: &'static str,
    error: ReadSignal<Option<String>>,
    submit: impl Fn(String) + 'static,
    /// Put the focus in the field at once (where nothing above it needs reading first).
    #[prop(optional)]
    focus: bool,
    /// Digits only (no recovery code): a phone shows its number pad.
    #[prop(optional)]
    numeric: bool,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (true, Some(input)) = (focus, field.get()) {
            let _ = input.focus();
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit(code.get_untracked());
        code.set(String::new());
    };
    view! {
        <ErrorSummary message=error/>
        <form class="card form" on:submit=on_submit novalidate=true>
            <div class="field">
                <label for="code">{label}</label>
                <p class="field-hint" id="code-hint">{hint}</p>
                <input id="code" type="text" autocomplete="one-time-code" spellcheck="false"
                    inputmode=numeric.then_some("numeric")
                    aria-describedby=move || if error.get().is_some() { "code-hint form-error" } else { "code-hint" }
                    aria-invalid=move || error.get().is_some().then_some("true") node_ref=field bind:value=code/>
            </div>
            <button type="submit" class="button">"Continue"</button>
        </form>
    }
}

/// The code from the app, or a recovery code.
#[component]
fn GiveCode() -> impl IntoView {
    set_title("Enter your code");
    let auth = Auth::get();
    let (error, set_error) = signal(None::<String>);
    let submit = move |code: String| {
        spawn_local(async move {
            match api::second_factor(code).await {
                Ok(me) => auth.signed_in(me),
                // The wait for the code ran out (or IT reset the account): start again.
                Err(f) if f.status == 401 => auth.session.set(Session::SignedOut),
                Err(f) => set_error.set(Some(f.message)),
            }
        });
    };
    view! {
        <h1>"Enter your code"</h1>
        <p class="lede">"Open the authenticator app on your phone and enter the 6-digit code it shows for Sealpost."</p>
        <CodeForm label="Code" hint="6 digits, or one of your recovery codes if you do not have your phone." error submit focus=true/>
    }
}

/// Setting up the second factor.
#[component]
fn Enrol() -> impl IntoView {
    set_title("Set up your second factor");
    let auth = Auth::get();
    let secret = LocalResource::new(api::totp_start);
    let done = RwSignal::new(None::<Enrolled>);
    let (error, set_error) = signal(None::<String>);
    let submit = move |code: String| {
        spawn_local(async move {
            match api::totp_confirm(code).await {
                Ok(enrolled) => done.set(Some(enrolled)),
                Err(f) if f.status == 401 => auth.session.set(Session::SignedOut),
                Err(f) => set_error.set(Some(f.message)),
            }
        });
    };
    let finish = move |_| {
        if let Some(enrolled) = done.get_untracked() {
            auth.signed_in(enrolled.me);
        }
    };
    // The form that had the focus goes: the focus moves to the new heading (once it is in the
    // page), and the title says where the person now is.
    let kept = NodeRef::<leptos::html::H1>::new();
    Effect::new(move |_| {
        if let Some(heading) = kept.get() {
            set_title("Keep your recovery codes");
            request_animation_frame(move || {
                let _ = heading.focus();
            });
        }
    });
    move || {
        match done.get() {
        Some(enrolled) => view! {
            <h1 tabindex="-1" node_ref=kept>"Keep your recovery codes"</h1>
            <p class="lede">"If you lose your phone, each of these codes signs you in once instead of the app. Print them or keep them somewhere safe: they are not shown again."</p>
            <ul class="card recovery-codes" aria-label="Recovery codes">
                {enrolled.recovery_codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ul>
            <button type="button" class="button" on:click=finish>"I have kept them: continue"</button>
        }.into_any(),
        None => view! {
            <h1>"Set up your second factor"</h1>
            <p class="lede">"Your council asks for a code from your phone each time you sign in, as well as your password."</p>
            <ol class="steps">
                <li>"Install an authenticator app on your phone, if you have none (for example Microsoft Authenticator)."</li>
                <li>"In the app, add an account and scan this QR code, or type in the key below it."</li>
                <li>"Enter the 6-digit code the app then shows."</li>
            </ol>
            {move || secret.get().map(|r| match r {
                Ok(s) => view! { <Secret s/> }.into_any(),
                Err(f) => view! { <p role="alert">{format!("The set-up could not start: {}", f.message)}</p> }.into_any(),
            })}
            <CodeForm label="Code from the app" hint="6 digits." error submit numeric=true/>
        }.into_any(),
    }
    }
}

/// The QR code and the key as text.
#[component]
fn Secret(s: TotpEnrolment) -> impl IntoView {
    let side = s.qr_size + 8;
    view! {
        <div class="card totp-secret">
            <svg class="qr" viewBox=format!("-4 -4 {side} {side}") role="img" aria-label="QR code for your authenticator app">
                <rect x="-4" y="-4" width=side.to_string() height=side.to_string() fill="#fff"></rect>
                <path d=s.qr_path fill="#000"></path>
            </svg>
            <p>"Key: "<code class="totp-key">{s.secret}</code></p>
        </div>
    }
}
