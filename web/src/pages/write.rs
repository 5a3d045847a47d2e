//! `/write`: someone outside the council starts a secure message to a member of staff. Three
//! steps on one page: their address and the council address; the code emailed to them; then
//! the message and its files. The visit is an HttpOnly cookie the page never sees.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::Limits;
use sealpost_domain::api_write::{WriteMessage, WriteSent, WriteState};
use web_sys::File;

use crate::api::{self, Failure};
use crate::auth::Auth;
use crate::components::{Banner, ErrorSummary, set_title};
use crate::file_picker::{FilePicker, UploadProgress};
use crate::upload;

/// Where the visit is.
#[derive(Clone)]
enum Step {
    Loading,
    /// Writing is turned off here.
    Off,
    /// Addresses, with why the page is back here, if it came back.
    Addresses(Option<&'static str>),
    Code(WriteState),
    Compose(WriteState),
    Sent(WriteState, WriteSent),
}

/// The `/write` page.
#[component]
pub fn Write() -> impl IntoView {
    let step = RwSignal::new(Step::Loading);
    let auth = Auth::get();
    spawn_local(async move {
        let on = match api::info().await {
            Ok(info) => {
                auth.organisation.set(info.organisation);
                info.partner_write
            }
            Err(_) => true,
        };
        step.set(match (on, api::write_session().await) {
            (false, _) => Step::Off,
            (true, Ok(s)) if s.verified => Step::Compose(s),
            (true, Ok(s)) => Step::Code(s),
            (true, Err(_)) => Step::Addresses(None),
        });
    });
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            {move || match step.get() {
                Step::Loading => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Step::Off => {
                    set_title("Not available");
                    view! {
                        <h1>"Writing to the council is not available here"</h1>
                        <p>"Contact the person you want to write to, and ask them to send you a secure message first. You can then reply to it securely."</p>
                    }.into_any()
                }
                Step::Addresses(said) => view! { <Addresses step said/> }.into_any(),
                Step::Code(s) => view! { <Code s step/> }.into_any(),
                Step::Compose(s) => view! { <Compose s step/> }.into_any(),
                Step::Sent(s, sent) => view! { <Done s sent step/> }.into_any(),
            }}
        </main>
    }
}

/// Step 1: who is writing, to whom.
#[component]
fn Addresses(step: RwSignal<Step>, said: Option<&'static str>) -> impl IntoView {
    set_title("Write a secure message to the council");
    let organisation = Auth::get().organisation;
    let (from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match api::write_start(from.get_untracked(), to.get_untracked()).await {
                Ok(s) => step.set(Step::Code(s)),
                Err(f) => {
                    busy.set(false);
                    error.set(Some(f.message));
                }
            }
        });
    };
    view! {
        <h1>"Write a secure message to the council"</h1>
        <p class="lede">{move || format!("Send sensitive information to someone at {} safely: it is encrypted, and only they can read it.", organisation.get())}</p>
        {said.map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <ErrorSummary message=error.read_only()/>
        <form class="card form" on:submit=submit novalidate=true>
            <div class="field">
                <label for="write-from">"Your email address"</label>
                <p class="field-hint" id="write-from-hint">"We will email you a code to prove it is yours. Replies come to this address."</p>
                <input id="write-from" type="email" autocomplete="email" spellcheck="false" aria-describedby="write-from-hint" bind:value=from/>
            </div>
            <div class="field">
                <label for="write-to">"The council email address you are writing to"</label>
                <p class="field-hint" id="write-to-hint">"The address of the person at the council, for example a.smith@council.gov.uk."</p>
                <input id="write-to" type="email" autocomplete="off" spellcheck="false" aria-describedby="write-to-hint" bind:value=to/>
            </div>
            <button type="submit" class="button" disabled=move || busy.get()>"Send me a code"</button>
        </form>
    }
}

/// Step 2: the emailed code.
#[component]
fn Code(s: WriteState, step: RwSignal<Step>) -> impl IntoView {
    set_title("Enter your code");
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            match api::write_verify(code.get_untracked()).await {
                Ok(s) => step.set(Step::Compose(s)),
                Err(f) => ended_or(f, step, error),
            }
        });
    };
    let resend = move |_| {
        spawn_local(async move {
            match api::write_resend().await {
                Ok(()) => {
                    error.set(None);
                    notice.set(Some("We have sent you a new code. Only the newest code works.".into()));
                }
                Err(f) => ended_or(f, step, error),
            }
        });
    };
    view! {
        <h1>"Enter your code"</h1>
        <p class="lede">{format!("We have emailed a 6-digit code to {}. It works for {} minutes.", s.from, s.code_minutes)}</p>
        <ErrorSummary message=error.read_only()/>
        <div role="status">{move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
        <form class="card form" on:submit=submit novalidate=true>
            <div class="field">
                <label for="code">"Code from the email"</label>
                <input id="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6" spellcheck="false" bind:value=code/>
            </div>
            <button type="submit" class="button">"Continue"</button>
        </form>
        <p>
            <button type="button" class="button quiet" on:click=resend>"Send me a new code"</button>" "
            <button type="button" class="button quiet" on:click=move |_| step.set(Step::Addresses(None))>"Change the addresses"</button>
        </p>
    }
}

/// Step 3: the message and its files.
#[component]
fn Compose(s: WriteState, step: RwSignal<Step>) -> impl IntoView {
    set_title("Write your message");
    let subject = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let files = RwSignal::new_local(Vec::<File>::new());
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<f64>);
    let state = s.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if subject.get_untracked().trim().is_empty() {
            error.set(Some("Enter a subject.".into()));
            return;
        }
        let message = WriteMessage {
            subject: subject.get_untracked(),
            body: body.get_untracked(),
        };
        let chosen = files.get_untracked();
        let state = state.clone();
        progress.set(Some(0.0));
        spawn_local(async move {
            match upload::write(&message, &chosen, move |p| progress.set(Some(p))).await {
                Ok(sent) => step.set(Step::Sent(state, sent)),
                Err(f) => {
                    progress.set(None);
                    ended_or(f, step, error);
                }
            }
        });
    };
    view! {
        <h1>"Write your message"</h1>
        <p class="lede">{format!("From {} (proved) to {}.", s.from, s.to)}</p>
        <ErrorSummary message=error.read_only()/>
        <form class="card form" on:submit=submit novalidate=true>
            <div class="field">
                <label for="subject">"Subject"</label>
                <input id="subject" type="text" maxlength="200" bind:value=subject/>
            </div>
            <div class="field">
                <label for="body">"Message"</label>
                <textarea id="body" rows="10" bind:value=body></textarea>
            </div>
            <FilePicker files limits=Signal::derive(Limits::default) error=error.write_only()/>
            <UploadProgress progress/>
            <button type="submit" class="button" disabled=move || progress.get().is_some()>"Send securely"</button>
        </form>
    }
}

/// Sent: the reference, and what happens next.
#[component]
fn Done(s: WriteState, sent: WriteSent, step: RwSignal<Step>) -> impl IntoView {
    set_title("Sent securely");
    let again = s.clone();
    view! {
        <h1>"Sent securely"</h1>
        <div class="card" role="status">
            <p>{format!("Your message went to {} securely. Its reference is {}.", s.to, sent.reference)}</p>
            <p>{format!("They will answer by secure email to {}. If nobody at the council has that address, nobody receives it: check the address with them.", s.from)}</p>
        </div>
        <p><button type="button" class="button quiet" on:click=move |_| step.set(Step::Compose(again.clone()))>"Write another message"</button></p>
    }
}

/// A visit that has ended (401) starts again; any other problem is said.
fn ended_or(f: Failure, step: RwSignal<Step>, error: RwSignal<Option<String>>) {
    if f.status == 401 {
        step.set(Step::Addresses(Some(
            "For your security, a visit ends after 15 minutes without use. Give the addresses again and we will send a new code.",
        )));
    } else {
        error.set(Some(f.message));
    }
}
