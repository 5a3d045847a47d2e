//! `/compose`: write and send a secure message. Recipients are added one at a time (with
//! autocomplete from past recipients); files by drag-and-drop or the picker, checked against
//! the limits before upload; a progress bar shows the upload. Sending to an address never used
//! before asks for a second look (misdirected email is the most reported breach).
//!
//! The page is its fields ([`Fields`], signals the parts share) and one component per part:
//! [`Recipients`], [`Words`] (subject and body), the file picker and [`DraftFiles`],
//! [`Handling`] (marking, passphrase and expiry) and [`SendCheck`]; sending is [`send`].
//! What is written is saved as a draft every few seconds and on leaving the page, and files are
//! uploaded to the draft as they are chosen ([`saving`]).

mod parts;
mod saving;

use std::rc::Rc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use sealpost_domain::api_drafts::{DraftBasis as Basis, DraftContent, DraftId};
use sealpost_domain::api_messages::{AttachmentInfo, ComposeInfo, Concern, MessageDetail, SendMessage};
use sealpost_domain::{AttachmentId, MessageId};
use sealpost_domain::{EmailAddress, Limits, Marking};
use web_sys::File;

use crate::api;
use crate::components::{ErrorSummary, format_time, set_title};
use crate::draft;
use crate::file_picker::{FilePicker, Held, UploadProgress};
use crate::upload;
use parts::{DraftFiles, Handling, KeptFiles, Recipients, SendCheck, Words};

/// One line of the envelope (To, Cc or Bcc): its addresses as chips, and what is being typed.
#[derive(Clone, Copy)]
struct Line {
    /// The input's id, and the field errors point at.
    id: &'static str,
    /// The label.
    label: &'static str,
    /// The chip list's accessible name.
    list: &'static str,
    chips: RwSignal<Vec<String>>,
    input: RwSignal<String>,
}

impl Line {
    fn new(id: &'static str, label: &'static str, list: &'static str) -> Self {
        Self {
            id,
            label,
            list,
            chips: RwSignal::new(vec![]),
            input: RwSignal::new(String::new()),
        }
    }
}

/// The router's `navigate`, kept for after a request comes back.
type Navigate = Rc<dyn Fn(&str, NavigateOptions)>;

/// Everything the form holds, shared by its parts.
#[derive(Clone, Copy)]
struct Fields {
    to: Line,
    cc: Line,
    bcc: Line,
    /// The Cc and Bcc lines are shown (they start hidden unless something is on them).
    copies: RwSignal<bool>,
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
    /// What the server asked the sender to look at again (409 `confirm_concerns`), waiting for
    /// "Yes, send it".
    concerns: RwSignal<Vec<Concern>>,
    /// Upload progress, 0 to 1, while sending.
    progress: RwSignal<Option<f64>>,
    /// Said once, after a draft kept in this tab came back.
    restored: RwSignal<Option<&'static str>>,
    /// The message this one answers or forwards.
    basis: RwSignal<Option<Basis>>,
    /// The original's files that may be sent on, and those ticked to be.
    offered: RwSignal<Vec<AttachmentInfo>>,
    keep: RwSignal<Vec<AttachmentId>>,
    /// The draft this is saved in, once it is.
    draft: RwSignal<Option<DraftId>>,
    /// A message from Outlook waiting for its passphrase: discarded at this time (Unix ms)
    /// unless sent.
    waiting_until: RwSignal<Option<i64>>,
    /// The files uploaded to the draft.
    attached: RwSignal<Vec<AttachmentInfo>>,
    /// Files are being uploaded to the draft (the progress bar shows how far).
    uploading: RwSignal<bool>,
    /// What the saved draft holds (or what the page started with): a save happens only when the
    /// fields differ from it.
    saved: RwSignal<DraftContent>,
    /// When the draft was last saved, or why it could not be.
    save_status: RwSignal<Option<Result<i64, String>>>,
    /// A save is on its way.
    saving: RwSignal<bool>,
    /// Sent or discarded: nothing more is saved.
    finished: RwSignal<bool>,
    /// The router's navigation, for use after a request comes back.
    navigate: StoredValue<Navigate, LocalStorage>,
}

impl Fields {
    fn new() -> Self {
        Self {
            to: Line::new("to", "To", "Recipients"),
            cc: Line::new("cc", "Cc", "Cc recipients"),
            bcc: Line::new("bcc", "Bcc", "Bcc recipients"),
            copies: RwSignal::new(false),
            subject: RwSignal::new(String::new()),
            body: RwSignal::new(String::new()),
            marking: RwSignal::new(Marking::Official),
            expiry: RwSignal::new("30".to_owned()),
            passphrase: RwSignal::new(String::new()),
            files: RwSignal::new_local(vec![]),
            invalid: RwSignal::new(None),
            error: RwSignal::new(None),
            unconfirmed: RwSignal::new(vec![]),
            concerns: RwSignal::new(vec![]),
            progress: RwSignal::new(None),
            restored: RwSignal::new(None),
            basis: RwSignal::new(None),
            offered: RwSignal::new(vec![]),
            keep: RwSignal::new(vec![]),
            draft: RwSignal::new(None),
            waiting_until: RwSignal::new(None),
            attached: RwSignal::new(vec![]),
            uploading: RwSignal::new(false),
            saved: RwSignal::new(DraftContent {
                expires_in_days: Some(30),
                ..DraftContent::default()
            }),
            save_status: RwSignal::new(None),
            saving: RwSignal::new(false),
            finished: RwSignal::new(false),
            navigate: StoredValue::new_local(Rc::new(use_navigate())),
        }
    }

    /// Goes to `path` in the app.
    fn go(self, path: &str, options: NavigateOptions) {
        if let Some(navigate) = self.navigate.try_get_value() {
            navigate(path, options);
        }
    }

    /// Everything written, as a draft holds it: each line's addresses, and anything still typed
    /// on it (a draft keeps half-typed words).
    fn content(self) -> DraftContent {
        let line = |l: Line| {
            let mut all = l.chips.get_untracked();
            let typed = l.input.get_untracked();
            if !typed.trim().is_empty() {
                all.push(typed.trim().to_owned());
            }
            all
        };
        DraftContent {
            to: line(self.to),
            cc: line(self.cc),
            bcc: line(self.bcc),
            subject: self.subject.get_untracked(),
            body: self.body.get_untracked(),
            marking: self.marking.get_untracked(),
            expires_in_days: self.expiry.get_untracked().trim().parse().ok(),
            basis: self.basis.get_untracked(),
            keep_attachments: self.keep.get_untracked(),
        }
    }

    /// Puts `c` in the fields.
    fn fill(self, c: DraftContent) {
        self.copies.set(!c.cc.is_empty() || !c.bcc.is_empty());
        self.to.chips.set(c.to);
        self.cc.chips.set(c.cc);
        self.bcc.chips.set(c.bcc);
        self.subject.set(c.subject);
        self.body.set(c.body);
        self.marking.set(c.marking);
        self.expiry.set(c.expires_in_days.map(|d| d.to_string()).unwrap_or_default());
        self.basis.set(c.basis);
        self.keep.set(c.keep_attachments);
    }

    /// What is in the fields now counts as saved: opening a draft, or starting an answer that
    /// has not been touched yet, saves nothing.
    fn settle(self) {
        self.saved.set(self.content());
    }

    /// Files already with the message: uploaded to the draft, and kept from the original.
    fn held(self) -> Held {
        let keep = self.keep.get();
        let kept = self
            .offered
            .with(|o| o.iter().filter(|a| keep.contains(&a.id)).map(|a| a.size).collect::<Vec<_>>());
        let attached = self.attached.with(|a| a.iter().map(|a| a.size).collect::<Vec<_>>());
        Held {
            count: kept.len() + attached.len(),
            bytes: kept.iter().chain(&attached).sum(),
        }
    }

    /// Starts an answer to `d`, "Re:" and the original quoted below. A reply goes to the other
    /// side: the newest partner reply's author (or the To line) for the message's sender, the
    /// sender for anyone else. Reply to all adds everyone else on the To and Cc lines but `me`
    /// (blind copies are never on them).
    fn answer(self, d: &MessageDetail, all: bool, me: Option<&EmailAddress>) {
        self.basis.set(Some(Basis::Answer(d.summary.id)));
        self.offer(d);
        let mine = !d.recipients.is_empty();
        let mut to: Vec<&EmailAddress> = match (mine, d.replies.last()) {
            (true, Some(last)) if !all => vec![&last.from],
            (true, _) => d.to.iter().collect(),
            (false, _) => vec![&d.sender_email],
        };
        let mut cc: Vec<&EmailAddress> = vec![];
        if all {
            // The To and Cc lines only: a partner who replied from a blind copy stays blind.
            to.extend(&d.to);
            cc.extend(&d.cc);
        }
        let keep = |list: Vec<&EmailAddress>, also_not: &[String]| -> Vec<String> {
            let mut out: Vec<String> = vec![];
            for a in list {
                let a = a.to_string();
                if Some(a.as_str()) != me.map(EmailAddress::as_str) && !out.contains(&a) && !also_not.contains(&a) {
                    out.push(a);
                }
            }
            out
        };
        let to = keep(to, &[]);
        let cc = keep(cc, &to);
        self.copies.set(!cc.is_empty());
        self.to.chips.set(to);
        self.cc.chips.set(cc);
        self.subject.set(prefixed("Re:", &d.summary.subject));
        self.body.set(quoted(d));
        self.marking.set(d.summary.marking);
    }

    /// Starts a forward of `d`: nobody addressed yet, "Fwd:", the original below its
    /// headers, and its files ticked to be sent on.
    fn forward(self, d: &MessageDetail) {
        self.basis.set(Some(Basis::Forward(d.summary.id)));
        self.offer(d);
        self.keep.set(self.offered.get_untracked().iter().map(|a| a.id).collect());
        self.subject.set(prefixed("Fwd:", &d.summary.subject));
        let to: Vec<String> = d.to.iter().map(ToString::to_string).collect();
        self.body.set(format!(
            "\n\n---------- Forwarded message ----------\nFrom: {} <{}>\nSent: {}\nSubject: {}\nTo: {}\n\n{}",
            d.summary.sender_name,
            d.sender_email,
            crate::components::format_time(d.summary.sent_at),
            d.summary.subject,
            to.join(", "),
            d.body
        ));
        self.marking.set(d.summary.marking);
    }

    /// Offers `d`'s files (its own, and those of the replies shown with it) to send on; which
    /// are ticked is [`Fields::keep`]'s.
    fn offer(self, d: &MessageDetail) {
        let files: Vec<AttachmentInfo> = d
            .attachments
            .iter()
            .chain(d.replies.iter().flat_map(|r| &r.attachments))
            .cloned()
            .collect();
        self.offered.set(files);
    }

    /// Back from signing in again after the session ended mid-message: the text as it was.
    fn restore(self) {
        if let Some(kept) = draft::take() {
            self.fill(kept);
            self.restored.set(Some(
                "You were signed out, and your message is as you left it. Add the passphrase again (it is never saved), check it, and press Send securely.",
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

    /// Moves what is typed on `line` into its chips; false (and the problem shown) if something
    /// typed is not an address.
    fn add(self, line: Line) -> bool {
        let text = line.input.get_untracked();
        for raw in text.split([',', ';', ' ', '\n']).filter(|s| !s.trim().is_empty()) {
            match EmailAddress::parse(raw) {
                Ok(a) => line.chips.update(|r| {
                    if !r.contains(&a.to_string()) {
                        r.push(a.to_string());
                    }
                }),
                Err(e) => {
                    self.fail(Some(line.id), format!("“{}”: {e}", raw.trim()));
                    return false;
                }
            }
        }
        line.input.set(String::new());
        true
    }

    /// Everything typed on every line, added; false if something is not an address.
    fn add_all(self) -> bool {
        self.add(self.to) && self.add(self.cc) && self.add(self.bcc)
    }
}

/// The compose page.
#[component]
pub fn Compose() -> impl IntoView {
    set_title("Write a secure message");
    let f = Fields::new();
    f.restore();
    let query = use_query_map().get_untracked();
    let id = |name| query.get(name).and_then(|t| t.parse::<MessageId>().ok());
    match query.get("draft").and_then(|t| t.parse::<DraftId>().ok()) {
        Some(draft) => saving::open(f, draft),
        None => {
            if let Some(basis) = id("reply").map(Basis::Answer).or_else(|| id("forward").map(Basis::Forward)) {
                start_from_original(f, basis, Some(query.get("all").is_some()));
            }
        }
    }
    saving::autosave(f);
    // The limits and past recipients: until they load (or if they cannot), the defaults and no
    // autocomplete, and a failure is said, not swallowed.
    let info = LocalResource::new(api::compose_info);
    let loaded = move || info.get().and_then(Result::ok);
    let limits = Signal::derive(move || loaded().map_or_else(Limits::default, |i: ComposeInfo| i.limits));
    let known = Signal::derive(move || loaded().map(|i| i.known_recipients).unwrap_or_default());
    let policy = Signal::derive(move || loaded().map(|i| i.policy).unwrap_or_default());
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
    let go = move |confirmed: bool| send(f, known, confirmed);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        go(false);
    };
    let sending = move || f.progress.get().is_some() && !f.uploading.get();
    let busy = move || f.progress.get().is_some();
    let held = Signal::derive(move || f.held());
    let progress_label = Signal::derive(move || if f.uploading.get() { "Uploading files…" } else { "Sending…" });
    view! {
        <h1>"Write a secure message"</h1>
        {move || f.restored.get().map(|text| view! { <p class="notice" role="status">{text}</p> })}
        {move || f.waiting_until.get().map(|until| view! {
            <div class="notice warning" role="status">
                <p><strong>"Not sent yet: this message from Outlook is waiting for a passphrase."</strong></p>
                <p>"It is OFFICIAL-SENSITIVE and goes to people outside the council, so they need a passphrase as well as the link. \
                    Choose one under Passphrase, give it to them by phone, and send the message by "{format_time(until)}
                    ". If it is not sent by then, it is discarded and nobody receives it."</p>
            </div>
        })}
        <ErrorSummary message=f.error.read_only()/>
        <SendCheck unconfirmed=f.unconfirmed concerns=f.concerns marking=f.marking on_yes=move || go(true)/>
        <form class="card form compose" on:submit=on_submit novalidate=true>
            <Recipients f known/>
            <Words f/>
            <KeptFiles f/>
            <FilePicker files=f.files limits error=f.error.write_only() held/>
            <DraftFiles f/>
            <Handling f policy/>
            <UploadProgress progress=f.progress label=progress_label/>
            <div class="actions">
                <button type="submit" class="button" disabled=busy>{move || if sending() { "Sending…" } else { "Send securely" }}</button>
                <saving::Discard f/>
            </div>
            <saving::SaveStatus f/>
        </form>
    }
}

/// Starts from message `basis` names, once it has loaded: `prefill` with `Some(all)` fills an
/// answer (to everyone when `all`) or a forward; with `None` (an opened draft, or words kept in
/// the tab) only the original's files are offered again, the words staying as they are.
fn start_from_original(f: Fields, basis: Basis, prefill: Option<bool>) {
    let original = LocalResource::new(move || {
        api::message(match basis {
            Basis::Answer(id) | Basis::Forward(id) => id,
        })
    });
    let auth = crate::auth::Auth::get();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(Ok(d)) = original.get() else { return false };
        let prefill = prefill.filter(|_| f.restored.get_untracked().is_none());
        f.basis.set(Some(basis));
        match (basis, prefill) {
            (_, None) => f.offer(&d),
            (Basis::Forward(_), Some(_)) => f.forward(&d),
            (Basis::Answer(_), Some(all)) => {
                let me = match auth.session.get_untracked() {
                    crate::auth::Session::SignedIn(me) => Some(me.email),
                    _ => None,
                };
                f.answer(&d, all, me.as_ref());
            }
        }
        if prefill.is_some() {
            f.settle();
        }
        true
    });
}

/// Checks, asks about new addresses (unless `confirmed`), then uploads and sends; on success
/// goes to the message, and if the session ended keeps the text in this tab for after sign-in.
fn send(f: Fields, known: Signal<Vec<EmailAddress>>, confirmed: bool) {
    if f.uploading.get_untracked() {
        f.fail(None, "Wait for the files to finish uploading, then send.".into());
        return;
    }
    if !f.add_all() {
        return;
    }
    let (to, cc, bcc) = (f.to.chips.get_untracked(), f.cc.chips.get_untracked(), f.bcc.chips.get_untracked());
    let everyone: Vec<&String> = to.iter().chain(&cc).chain(&bcc).collect();
    // Everything the page can check is checked before the new-address question, so that
    // question is never answered only to be told the subject is missing.
    if let Some((field, problem)) = first_problem(everyone.is_empty(), &f.subject.get_untracked(), &f.passphrase.get_untracked()) {
        f.fail(Some(field), problem.into());
        return;
    }
    let new: Vec<String> = known.with_untracked(|k| {
        everyone
            .iter()
            .filter(|a| !k.iter().any(|k| k.as_str() == a.as_str()))
            .map(|a| (*a).clone())
            .collect()
    });
    if !new.is_empty() && !confirmed {
        f.unconfirmed.set(new);
        return;
    }
    f.unconfirmed.set(vec![]);
    // "Yes, send it" confirms what the server listed; a fresh Send confirms nothing.
    let concerns = f.concerns.get_untracked();
    let confirmed_kinds: Vec<String> = if confirmed {
        concerns.into_iter().map(|c| c.kind).collect()
    } else {
        vec![]
    };
    f.concerns.set(vec![]);
    f.invalid.set(None);
    f.error.set(None);
    let content = f.content();
    let message = SendMessage {
        recipients: to,
        subject: f.subject.get_untracked(),
        body: f.body.get_untracked(),
        marking: f.marking.get_untracked(),
        expires_in_days: f.expiry.get_untracked().trim().parse().ok(),
        passphrase: Some(f.passphrase.get_untracked()).filter(|p| !p.is_empty()),
        cc,
        bcc,
        keep_attachments: f.keep.get_untracked(),
        draft: f.draft.get_untracked(),
        confirmed: confirmed_kinds,
    };
    let chosen = f.files.get_untracked();
    f.progress.set(Some(0.0));
    f.restored.set(None);
    let path = match f.basis.get_untracked() {
        Some(Basis::Answer(id)) => format!("/api/v1/messages/{id}/reply"),
        Some(Basis::Forward(id)) => format!("/api/v1/messages/{id}/forward"),
        None => "/api/v1/messages".to_owned(),
    };
    spawn_local(async move {
        let result = upload::send(&path, &message, &chosen, move |p| f.progress.set(Some(p))).await;
        match result {
            Ok(sent) => {
                f.finished.set(true);
                f.go(&format!("/messages/{}?sent=1", sent.id), NavigateOptions::default());
            }
            Err(failure) if failure.status == 401 => {
                // The session ended: keep the words in this tab, then sign in in place.
                draft::keep(&content);
                api::announce_session_ended();
            }
            Err(failure) if failure.code == "confirm_concerns" => {
                f.progress.set(None);
                f.concerns.set(failure.concerns);
            }
            Err(failure) => {
                f.progress.set(None);
                f.fail(field_of(&failure.code), failure.message);
            }
        }
    });
}

/// `subject` with `prefix` ("Re:", "Fwd:") once.
fn prefixed(prefix: &str, subject: &str) -> String {
    if subject.starts_with(prefix) {
        subject.to_owned()
    } else {
        format!("{prefix} {subject}")
    }
}

/// The original below a gap for the answer, each line marked "> ".
fn quoted(d: &MessageDetail) -> String {
    let lines: Vec<String> = d.body.lines().map(|l| format!("> {l}")).collect();
    format!(
        "\n\nOn {}, {} wrote:\n{}",
        crate::components::format_time(d.summary.sent_at),
        d.summary.sender_name,
        lines.join("\n")
    )
}

/// The first problem the page can see for itself, and the field it is in.
fn first_problem(nobody: bool, subject: &str, passphrase: &str) -> Option<(&'static str, &'static str)> {
    if nobody {
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
