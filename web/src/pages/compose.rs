//! `/compose`: write and send a secure message. Recipients are added one at a time (with
//! autocomplete from past recipients); files by drag-and-drop or the picker, checked against
//! the limits before upload; a progress bar shows the upload. Sending to an address never used
//! before asks for a second look (misdirected email is the most reported breach).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use sealpost_domain::api_messages::SendMessage;
use sealpost_domain::{EmailAddress, Limits, Marking};
use web_sys::File;

use crate::api;
use crate::components::{ErrorSummary, bring_into_view, set_title};
use crate::draft::{self, Draft};

/// The longest subject the form takes: a subject is a line people scan, not a paragraph. The
/// API still accepts up to 998 bytes (SECURITY D6), and long ones are shown smaller, wrapped.
const SUBJECT_MAX_CHARS: u32 = 200;
use crate::file_picker::{FilePicker, UploadProgress};
use crate::upload;

/// The compose page.
#[component]
pub fn Compose() -> impl IntoView {
    set_title("Write a secure message");
    let limits = RwSignal::new(Limits::default());
    let known = RwSignal::new(Vec::<String>::new());
    let recipients = RwSignal::new(Vec::<String>::new());
    let to_input = RwSignal::new(String::new());
    let subject = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let marking = RwSignal::new(Marking::Official);
    let expiry = RwSignal::new("30".to_owned());
    let passphrase = RwSignal::new(String::new());
    let files = RwSignal::new_local(Vec::<File>::new());
    // Back from signing in again after the session ended mid-message: the text as it was.
    let (restored, set_restored) = signal(None::<&'static str>);
    if let Some(kept) = draft::take() {
        recipients.set(kept.to);
        subject.set(kept.subject);
        body.set(kept.body);
        marking.set(kept.marking);
        expiry.set(kept.expiry);
        set_restored.set(Some(
            "You were signed out, so your message was kept in this browser tab. Check it, add the passphrase and any files again, and press Send securely.",
        ));
    }
    let (error, set_error) = signal(None::<String>);
    spawn_local(async move {
        match api::compose_info().await {
            Ok(info) => {
                limits.set(info.limits);
                known.set(info.known_recipients.into_iter().map(String::from).collect());
            }
            // Said, not swallowed: without it the size limits shown are the defaults and every
            // address looks new.
            Err(f) if f.status != 401 => set_error.set(Some(format!(
                "Sealpost could not load your limits and past recipients ({}). You can still write; reload the page to try again.",
                f.message
            ))),
            Err(_) => {}
        }
    });
    // Which field the problem is in: marked aria-invalid, and cleared as soon as it is edited.
    let invalid = RwSignal::new(None::<&'static str>);
    let fail = move |field: Option<&'static str>, message: String| {
        invalid.set(field);
        set_error.set(Some(message));
    };
    let progress = RwSignal::new(None::<f64>);
    let unconfirmed = RwSignal::new(Vec::<String>::new());
    let navigate = use_navigate();

    let add_recipients = move || -> bool {
        let text = to_input.get_untracked();
        for raw in text.split([',', ';', ' ', '\n']).filter(|s| !s.trim().is_empty()) {
            match EmailAddress::parse(raw) {
                Ok(a) => recipients.update(|r| {
                    if !r.contains(&a.to_string()) {
                        r.push(a.to_string());
                    }
                }),
                Err(e) => {
                    fail(Some("to"), format!("“{}”: {e}", raw.trim()));
                    return false;
                }
            }
        }
        to_input.set(String::new());
        true
    };
    let send = move |confirmed: bool| {
        if !add_recipients() {
            return;
        }
        let to = recipients.get_untracked();
        // Everything the page can check is checked before the new-address question, so that
        // question is never answered only to be told the subject is missing.
        if let Some((field, problem)) = first_problem(&to, &subject.get_untracked(), &passphrase.get_untracked()) {
            fail(Some(field), problem.into());
            return;
        }
        let new: Vec<String> = known.with_untracked(|k| to.iter().filter(|a| !k.contains(a)).cloned().collect());
        if !new.is_empty() && !confirmed {
            unconfirmed.set(new);
            return;
        }
        unconfirmed.set(vec![]);
        invalid.set(None);
        set_error.set(None);
        let message = SendMessage {
            recipients: to,
            subject: subject.get_untracked(),
            body: body.get_untracked(),
            marking: marking.get_untracked(),
            expires_in_days: expiry.get_untracked().trim().parse().ok(),
            passphrase: Some(passphrase.get_untracked()).filter(|p| !p.is_empty()),
        };
        let chosen = files.get_untracked();
        progress.set(Some(0.0));
        set_restored.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match upload::send(&message, &chosen, move |p| progress.set(Some(p))).await {
                Ok(sent) => navigate(&format!("/messages/{}?sent=1", sent.id), NavigateOptions::default()),
                Err(f) if f.status == 401 => {
                    // The session ended: keep the words in this tab, then sign in in place.
                    draft::keep(&Draft {
                        to: message.recipients.clone(),
                        subject: message.subject.clone(),
                        body: message.body.clone(),
                        marking: message.marking,
                        expiry: message.expires_in_days.map(|d| d.to_string()).unwrap_or_default(),
                    });
                    api::announce_session_ended();
                }
                Err(f) => {
                    progress.set(None);
                    fail(field_of(&f.code), f.message);
                }
            }
        });
    };
    let send_again = send.clone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send(false);
    };
    let sending = move || progress.get().is_some();
    let marked = move |field: &'static str| move || (invalid.get() == Some(field)).then_some("true");
    let edited = move |field: &'static str| {
        move |_| {
            if invalid.get_untracked() == Some(field) {
                invalid.set(None);
                set_error.set(None);
            }
        }
    };
    let check = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if !unconfirmed.get().is_empty() {
            bring_into_view(move || check.get_untracked());
        }
    });

    view! {
        <h1>"Write a secure message"</h1>
        {move || restored.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <ErrorSummary message=error/>
        {move || (!unconfirmed.get().is_empty()).then(|| {
            let send_again = send_again.clone();
            view! {
                <section class="card warning" role="alert" aria-labelledby="check-title" tabindex="-1" node_ref=check>
                    <h2 id="check-title">"Check the address before you send"</h2>
                    <p>"You have not sent a secure message to these addresses before:"</p>
                    <ul>{unconfirmed.get().into_iter().map(|a| view! { <li><strong>{a}</strong></li> }).collect_view()}</ul>
                    <div class="actions">
                        <button type="button" class="button" on:click=move |_| send_again(true)>"Yes, send it"</button>
                        <button type="button" class="button quiet" on:click=move |_| unconfirmed.set(vec![])>"Go back and check"</button>
                    </div>
                </section>
            }
        })}
        <form class="card form compose" on:submit=on_submit novalidate=true>
            <div class="field">
                <label for="to">"To"</label>
                <p class="field-hint" id="to-hint">"Type an address and press Enter. Colleagues get it in Sealpost; anyone else gets an email with a secure link."</p>
                <ul class="chips" aria-label="Recipients" aria-live="polite">
                    {move || recipients.get().into_iter().map(|a| {
                        let label = format!("Remove {a}");
                        let gone = a.clone();
                        view! { <li class="chip">{a}<button type="button" class="chip-remove" aria-label=label
                            on:click=move |_| recipients.update(|r| r.retain(|x| *x != gone))>"×"</button></li> }
                    }).collect_view()}
                </ul>
                <div class="inline">
                    <input id="to" type="email" list="known-recipients" autocomplete="off" aria-describedby="to-hint" bind:value=to_input
                        aria-invalid=marked("to") on:input=edited("to")
                        on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add_recipients(); }/>
                    <button type="button" class="button quiet" on:click=move |_| { add_recipients(); }>"Add"</button>
                </div>
                <datalist id="known-recipients">{move || known.get().into_iter().map(|a| view! { <option value=a/> }).collect_view()}</datalist>
            </div>
            <div class="field">
                <label for="subject">"Subject"</label>
                <input id="subject" type="text" maxlength=SUBJECT_MAX_CHARS bind:value=subject
                    aria-invalid=marked("subject") on:input=edited("subject")/>
            </div>
            <div class="field">
                <label for="body">"Message"</label>
                <textarea id="body" rows="10" bind:value=body aria-invalid=marked("body") on:input=edited("body")></textarea>
            </div>
            <FilePicker files=files limits=limits error=set_error/>
            <fieldset class="field">
                <legend>"Marking"</legend>
                <label class="radio"><input type="radio" name="marking" checked=move || marking.get() == Marking::Official
                    on:change=move |_| marking.set(Marking::Official)/>"OFFICIAL"</label>
                <label class="radio"><input type="radio" name="marking" checked=move || marking.get() == Marking::OfficialSensitive
                    on:change=move |_| marking.set(Marking::OfficialSensitive)/>"OFFICIAL-SENSITIVE"</label>
            </fieldset>
            <div class="field">
                <label for="passphrase">"Passphrase for people outside the council"</label>
                <p class="field-hint" id="passphrase-hint">"Needed for OFFICIAL-SENSITIVE messages to external recipients: at least 12 characters or 4 words. Give it to them by phone, never by email."</p>
                <input id="passphrase" type="text" autocomplete="off" spellcheck="false" aria-describedby="passphrase-hint" bind:value=passphrase
                    aria-invalid=marked("passphrase") on:input=edited("passphrase")/>
            </div>
            <div class="field narrow-field">
                <label for="expiry">"Links work for (days)"</label>
                <input id="expiry" type="number" min="1" max=move || limits.get().max_expiry_days.to_string() bind:value=expiry/>
            </div>
            <UploadProgress progress=progress/>
            <button type="submit" class="button" disabled=sending>{move || if sending() { "Sending…" } else { "Send securely" }}</button>
        </form>
    }
}

/// The first problem the page can see for itself, and the field it is in.
fn first_problem(to: &[String], subject: &str, passphrase: &str) -> Option<(&'static str, &'static str)> {
    if to.is_empty() {
        return Some(("to", "Add at least one recipient."));
    }
    if subject.trim().is_empty() {
        return Some(("subject", "Enter a subject."));
    }
    let p = passphrase.trim();
    if !p.is_empty() && p.chars().count() < 12 && p.split_whitespace().count() < 4 {
        return Some(("passphrase", "The passphrase must be at least 12 characters, or 4 words."));
    }
    None
}

/// The field a server error code is about.
fn field_of(code: &str) -> Option<&'static str> {
    match code {
        "invalid_recipient" | "no_recipients" | "too_many_recipients" | "disabled_recipient" => Some("to"),
        "no_subject" | "subject_too_long" => Some("subject"),
        "body_too_long" => Some("body"),
        "weak_passphrase" | "passphrase_required" => Some("passphrase"),
        _ => None,
    }
}
