//! `/compose`: write and send a secure message. Recipients are added one at a time (with
//! autocomplete from past recipients); files by drag-and-drop or the picker, checked against
//! the limits before upload; a progress bar shows the upload. Sending to an address never used
//! before asks for a second look (misdirected email is the most reported breach).
//!
//! The page is its fields ([`Fields`], signals the parts share) and one component per part:
//! [`Recipients`], [`Words`] (subject and body), the file picker, [`Handling`] (marking,
//! passphrase and expiry) and [`NewAddressCheck`]; sending is [`send`].

mod parts;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use sealpost_domain::api_messages::{ComposeInfo, SendMessage};
use sealpost_domain::{EmailAddress, Limits, Marking};
use web_sys::File;

use crate::api;
use crate::components::{ErrorSummary, set_title};
use crate::draft::{self, Draft};
use crate::file_picker::{FilePicker, UploadProgress};
use crate::upload;
use parts::{Handling, NewAddressCheck, Recipients, Words};

/// Everything the form holds, shared by its parts.
#[derive(Clone, Copy)]
struct Fields {
    recipients: RwSignal<Vec<String>>,
    to_input: RwSignal<String>,
    subject: RwSignal<String>,
    body: RwSignal<String>,
    marking: RwSignal<Marking>,
    expiry: RwSignal<String>,
    passphrase: RwSignal<String>,
    files: RwSignal<Vec<File>, LocalStorage>,
    /// The field the problem shown is in: marked `aria-invalid`, cleared once edited.
    invalid: RwSignal<Option<&'static str>>,
    error: RwSignal<Option<String>>,
    /// Addresses never sent to before, waiting for "Yes, send it".
    unconfirmed: RwSignal<Vec<String>>,
    /// Upload progress, 0 to 1, while sending.
    progress: RwSignal<Option<f64>>,
    /// Said once, after a draft kept in this tab came back.
    restored: RwSignal<Option<&'static str>>,
}

impl Fields {
    fn new() -> Self {
        Self {
            recipients: RwSignal::new(vec![]),
            to_input: RwSignal::new(String::new()),
            subject: RwSignal::new(String::new()),
            body: RwSignal::new(String::new()),
            marking: RwSignal::new(Marking::Official),
            expiry: RwSignal::new("30".to_owned()),
            passphrase: RwSignal::new(String::new()),
            files: RwSignal::new_local(vec![]),
            invalid: RwSignal::new(None),
            error: RwSignal::new(None),
            unconfirmed: RwSignal::new(vec![]),
            progress: RwSignal::new(None),
            restored: RwSignal::new(None),
        }
    }

    /// Back from signing in again after the session ended mid-message: the text as it was.
    fn restore(self) {
        if let Some(kept) = draft::take() {
            self.recipients.set(kept.to);
            self.subject.set(kept.subject);
            self.body.set(kept.body);
            self.marking.set(kept.marking);
            self.expiry.set(kept.expiry);
            self.restored.set(Some(
                "You were signed out, so your message was kept in this browser tab. Check it, add the passphrase and any files again, and press Send securely.",
            ));
        }
    }

    fn fail(self, field: Option<&'static str>, message: String) {
        self.invalid.set(field);
        self.error.set(Some(message));
    }

    /// `"true"` for `aria-invalid` while the problem shown is in `field`.
    fn marked(self, field: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
        move || (self.invalid.get() == Some(field)).then_some("true")
    }

    /// Clears the problem in `field` as soon as it is edited.
    fn edited(self, field: &'static str) -> impl Fn(leptos::ev::Event) + Copy {
        move |_| {
            if self.invalid.get_untracked() == Some(field) {
                self.invalid.set(None);
                self.error.set(None);
            }
        }
    }

    /// Moves what is typed in the To box into the recipients; false (and the problem shown) if
    /// something typed is not an address.
    fn add_recipients(self) -> bool {
        let text = self.to_input.get_untracked();
        for raw in text.split([',', ';', ' ', '\n']).filter(|s| !s.trim().is_empty()) {
            match EmailAddress::parse(raw) {
                Ok(a) => self.recipients.update(|r| {
                    if !r.contains(&a.to_string()) {
                        r.push(a.to_string());
                    }
                }),
                Err(e) => {
                    self.fail(Some("to"), format!("“{}”: {e}", raw.trim()));
                    return false;
                }
            }
        }
        self.to_input.set(String::new());
        true
    }
}

/// The compose page.
#[component]
pub fn Compose() -> impl IntoView {
    set_title("Write a secure message");
    let f = Fields::new();
    f.restore();
    // The limits and past recipients: until they load (or if they cannot), the defaults and no
    // autocomplete, and a failure is said, not swallowed.
    let info = LocalResource::new(api::compose_info);
    let loaded = move || info.get().and_then(Result::ok);
    let limits = Signal::derive(move || loaded().map_or_else(Limits::default, |i: ComposeInfo| i.limits));
    let known = Signal::derive(move || loaded().map(|i| i.known_recipients).unwrap_or_default());
    Effect::new(move |_| {
        if let Some(Err(failure)) = info.get()
            && failure.status != 401
        {
            f.error.set(Some(format!(
                "Sealpost could not load your limits and past recipients ({}). You can still write; reload the page to try again.",
                failure.message
            )));
        }
    });
    let navigate = use_navigate();
    let go = move |confirmed: bool| send(f, known, confirmed, navigate.clone());
    let on_submit = {
        let go = go.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            go(false);
        }
    };
    let sending = move || f.progress.get().is_some();
    view! {
        <h1>"Write a secure message"</h1>
        {move || f.restored.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <ErrorSummary message=f.error.read_only()/>
        <NewAddressCheck unconfirmed=f.unconfirmed on_yes=move || go(true)/>
        <form class="card form compose" on:submit=on_submit novalidate=true>
            <Recipients f known/>
            <Words f/>
            <FilePicker files=f.files limits error=f.error.write_only()/>
            <Handling f limits/>
            <UploadProgress progress=f.progress/>
            <button type="submit" class="button" disabled=sending>{move || if sending() { "Sending…" } else { "Send securely" }}</button>
        </form>
    }
}

/// Checks, asks about new addresses (unless `confirmed`), then uploads and sends; on success
/// goes to the message, and if the session ended keeps the text in this tab for after sign-in.
fn send(f: Fields, known: Signal<Vec<EmailAddress>>, confirmed: bool, navigate: impl Fn(&str, NavigateOptions) + 'static) {
    if !f.add_recipients() {
        return;
    }
    let to = f.recipients.get_untracked();
    // Everything the page can check is checked before the new-address question, so that
    // question is never answered only to be told the subject is missing.
    if let Some((field, problem)) = first_problem(&to, &f.subject.get_untracked(), &f.passphrase.get_untracked()) {
        f.fail(Some(field), problem.into());
        return;
    }
    let new: Vec<String> = known.with_untracked(|k| to.iter().filter(|a| !k.iter().any(|k| k.as_str() == a.as_str())).cloned().collect());
    if !new.is_empty() && !confirmed {
        f.unconfirmed.set(new);
        return;
    }
    f.unconfirmed.set(vec![]);
    f.invalid.set(None);
    f.error.set(None);
    let message = SendMessage {
        recipients: to,
        subject: f.subject.get_untracked(),
        body: f.body.get_untracked(),
        marking: f.marking.get_untracked(),
        expires_in_days: f.expiry.get_untracked().trim().parse().ok(),
        passphrase: Some(f.passphrase.get_untracked()).filter(|p| !p.is_empty()),
    };
    let chosen = f.files.get_untracked();
    f.progress.set(Some(0.0));
    f.restored.set(None);
    spawn_local(async move {
        match upload::send(&message, &chosen, move |p| f.progress.set(Some(p))).await {
            Ok(sent) => navigate(&format!("/messages/{}?sent=1", sent.id), NavigateOptions::default()),
            Err(failure) if failure.status == 401 => {
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
            Err(failure) => {
                f.progress.set(None);
                f.fail(field_of(&failure.code), failure.message);
            }
        }
    });
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
