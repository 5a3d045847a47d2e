//! `/setup/{token}`: a new account holder chooses their password. The token is taken from the
//! address and then removed from it, so it does not linger in history or screenshots. The page
//! first asks whose account the link is for, so a used or expired link says so at once, before
//! anyone types a password twice.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use sealpost_domain::api::SetupLink;
use wasm_bindgen::JsValue;

use crate::api::{self, Failure};
use crate::auth::Auth;
use crate::components::{Banner, ErrorSummary, set_title};

/// The choose-a-password page.
#[component]
pub fn Setup() -> impl IntoView {
    set_title("Choose your password");
    let token = use_params_map().get_untracked().get("token").unwrap_or_default();
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/setup/link"));
    }
    let link = RwSignal::new(None::<Result<SetupLink, Failure>>);
    let lookup = token.clone();
    spawn_local(async move { link.set(Some(api::setup_link(&lookup).await)) });
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            {move || match link.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Ok(found)) => view! { <SetupForm token=token.clone() link=found/> }.into_any(),
                Some(Err(failure)) => {
                    set_title("This set-up link no longer works");
                    view! {
                        <h1>"This set-up link no longer works"</h1>
                        <p>{failure.message}</p>
                        <p>"If you have already chosen a password, " <a href="/signin">"sign in"</a> "."</p>
                    }.into_any()
                }
            }}
        </main>
    }
}

#[component]
fn SetupForm(token: String, link: SetupLink) -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if password.get_untracked() != confirm.get_untracked() {
            set_error.set(Some("The two passwords do not match.".into()));
            return;
        }
        busy.set(true);
        let (token, navigate) = (token.clone(), navigate.clone());
        spawn_local(async move {
            match api::setup(token, password.get_untracked()).await {
                Ok(me) => {
                    let home = crate::auth::home_for(&me);
                    auth.signed_in(me);
                    navigate(home, NavigateOptions::default());
                }
                Err(failure) => set_error.set(Some(failure.message)),
            }
            busy.set(false);
        });
    };
    let invalid = move || error.get().is_some().then_some("true");
    view! {
        <h1>"Choose your password"</h1>
        <p class="lede">{format!("For {} ({}). You will use it with this email address to sign in to Sealpost.", link.display_name.as_str(), link.email)}</p>
        <ErrorSummary message=error/>
        <form class="card form" on:submit=on_submit novalidate=true>
            <div class="field">
                <label for="new-password">"New password"</label>
                <p class="field-hint" id="new-password-hint">"At least 12 characters. Three or four unrelated words make a strong, memorable password."</p>
                <input id="new-password" type="password" autocomplete="new-password" aria-describedby="new-password-hint"
                    aria-invalid=invalid bind:value=password/>
            </div>
            <div class="field">
                <label for="confirm-password">"Type it again"</label>
                <input id="confirm-password" type="password" autocomplete="new-password" aria-invalid=invalid bind:value=confirm/>
            </div>
            <button type="submit" class="button" disabled=move || busy.get()>"Save password and sign in"</button>
        </form>
    }
}
