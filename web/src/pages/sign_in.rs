//! The staff sign-in page. Errors are announced, linked to the fields, and say nothing about
//! whether an account exists.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::api;
use crate::auth::{Auth, Session, home_for};
use crate::components::{Banner, ErrorSummary, set_title};

/// `/`: sends people to where they start (their inbox, or the audit console for IG), which
/// asks them to sign in first if needed.
#[component]
pub fn Home() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let to = match auth.session.get() {
            Session::Checking => return,
            Session::SignedIn(me) => home_for(&me),
            Session::SignedOut => "/inbox",
        };
        navigate(
            to,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        )
    });
    view! { <p class="loading" role="status">"Loading…"</p> }
}

/// `/signin`: the form on its own page; goes to the inbox once signed in.
#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Session::SignedIn(me) = auth.session.get() {
            navigate(
                home_for(&me),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! { <SignInForm/> }
}

/// The sign-in form, also shown in place of any page that needs a session.
#[component]
pub fn SignInForm() -> impl IntoView {
    set_title("Sign in");
    let auth = Auth::get();
    let location = use_location();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // Back from the identity provider without a session: `?sso=CODE` says why.
    let sso_refusal = use_query_map().get_untracked().get("sso").map(|code| sso_refusal(&code).to_owned());
    let (error, set_error) = signal(sso_refusal);
    let (disabled, set_disabled) = signal(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if email.get_untracked().trim().is_empty() || password.get_untracked().is_empty() {
            set_error.set(Some("Enter your email address and password.".into()));
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        // Signing in on /signin or on the inbox's stand-in form goes to the person's start page.
        let path = location.pathname.get_untracked();
        let go_home = path == "/signin" || path == "/inbox";
        spawn_local(async move {
            match api::login(email.get_untracked(), password.get_untracked()).await {
                Ok(me) => {
                    password.set(String::new());
                    set_error.set(None);
                    let home = home_for(&me);
                    auth.signed_in(me);
                    if go_home {
                        navigate(home, NavigateOptions::default());
                    }
                }
                Err(failure) if failure.code == "account_disabled" => {
                    password.set(String::new());
                    set_disabled.set(Some(failure.message));
                }
                Err(failure) => {
                    password.set(String::new());
                    set_error.set(Some(failure.message));
                }
            }
            busy.set(false);
        });
    };
    let kept = crate::draft::waiting();
    let lede = if kept {
        "Your session ended. Sign in again and the message you were writing will be back as you left it."
    } else {
        "Sign in with your council email address to read and send secure mail."
    };
    move || match disabled.get() {
        Some(why) => view! { <AccountDisabled why/> }.into_any(),
        None => view! { <SignInCard lede error email password busy on_submit=on_submit.clone()/> }.into_any(),
    }
}

/// What the sign-in page says when single sign-on came back without signing anyone in.
fn sso_refusal(code: &str) -> &'static str {
    match code {
        "busy" => "Too many sign-ins from this network. Wait a minute and try again.",
        "unavailable" => "The council's sign-in service could not be reached. Try again in a minute.",
        "cancelled" => {
            "Signing in with your council account was cancelled or not allowed. Try again; if it happens again, contact your IT service desk."
        }
        "expired" => "That sign-in took too long or was already used. Start again.",
        "refused" => {
            "The council's sign-in service sent an answer Sealpost could not trust, so you are not signed in. Try again; if it happens again, contact your IT service desk."
        }
        "no_account" => "Your council account has no Sealpost account. Ask your IT service desk to add you.",
        "disabled" => "Your Sealpost account has been disabled, so you cannot sign in. Contact your IT service desk.",
        "linked_elsewhere" => {
            "The Sealpost account with your address is linked to a different council account. Contact your IT service desk."
        }
        "off" => "Signing in with your council account is not set up. Sign in with your email address and password.",
        _ => "Something went wrong signing you in. Try again.",
    }
}

/// Said in place of the form when the account is disabled: signing in again would not help.
#[component]
fn AccountDisabled(why: String) -> impl IntoView {
    set_title("Your account is disabled");
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            <h1>"Your account is disabled"</h1>
            <p>{why}</p>
        </main>
    }
}

/// The address and password fields, marked invalid while the last try's problem stands.
#[component]
fn SignInCard(
    lede: &'static str,
    error: ReadSignal<Option<String>>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    busy: RwSignal<bool>,
    on_submit: impl Fn(SubmitEvent) + Clone + Send + 'static,
) -> impl IntoView {
    let invalid = move || error.get().is_some().then_some("true");
    let described = move || error.get().is_some().then_some("form-error");
    let auth = Auth::get();
    let form = move || {
        view! {
            <form class="card form" on:submit=on_submit.clone() novalidate=true>
                <div class="field">
                    <label for="email">"Email address"</label>
                    <input id="email" name="email" type="email" autocomplete="username" spellcheck="false"
                        aria-invalid=invalid aria-describedby=described bind:value=email/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        aria-invalid=invalid aria-describedby=described bind:value=password/>
                </div>
                <button type="submit" class="button" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        }
    };
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            <h1>"Sign in"</h1>
            <p class="lede">{lede}</p>
            <ErrorSummary message=error/>
            <Show when=move || auth.sso.get()>
                // A full navigation (rel=external keeps the router out): the server sends the browser on
                // to the provider.
                <p><a class="button sso" href="/api/v1/auth/sso/start" rel="external">"Sign in with your council account"</a></p>
            </Show>
            {move || (auth.sso.get() && auth.password_login.get()).then(|| view! { <p class="hint or">"Or sign in with your Sealpost password:"</p> })}
            {move || if auth.password_login.get() || !auth.sso.get() {
                form().into_any()
            } else {
                view! {
                    <details class="recovery">
                        <summary>"IT administrators: sign in with a password"</summary>
                        {form()}
                    </details>
                }.into_any()
            }}
            <p class="hint">{move || if auth.sso.get() {
                "Cannot sign in? Contact your IT service desk."
            } else {
                "Forgotten your password or locked out? Contact your IT service desk."
            }}</p>
        </main>
    }
}
