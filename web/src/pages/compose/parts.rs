//! The parts of the compose form, each given the [`Fields`] it edits.

use leptos::prelude::*;
use sealpost_domain::api_messages::Concern;
use sealpost_domain::{AttachmentId, EmailAddress, Marking, Policy};

use super::Fields;
use crate::components::{bring_into_view, format_size, visible_text};

/// The longest subject the form takes: a subject is a line people scan, not a paragraph. The
/// API still accepts up to 998 bytes (SECURITY D6), and long ones are shown smaller, wrapped.
const SUBJECT_MAX_CHARS: u32 = 200;

/// The envelope: "To", and behind a button "Cc" and "Bcc" (a blind copy is seen by nobody but
/// the sender). Each line shows its addresses as chips (each removable) and a box to add more,
/// with past recipients offered as autocomplete.
#[component]
pub(super) fn Recipients(f: Fields, known: Signal<Vec<EmailAddress>>) -> impl IntoView {
    let shown = f.copies;
    view! {
        <AddressLine f line=f.to hint="Type an address and press Enter. Colleagues get it in Sealpost; anyone else gets an email with a secure link."/>
        <p class="copies-toggle">
            <button type="button" class="button quiet" aria-expanded=move || shown.get().to_string() aria-controls="copies"
                on:click=move |_| shown.update(|s| *s = !*s)>"Cc or Bcc"</button>
        </p>
        <div id="copies" hidden=move || !shown.get()>
            <AddressLine f line=f.cc hint="Copied: every recipient sees who else was copied."/>
            <AddressLine f line=f.bcc hint="Blind copy: they get the message, and nobody else learns that they did."/>
        </div>
        <datalist id="known-recipients">{move || known.get().into_iter().map(|a| view! { <option value=a.to_string()/> }).collect_view()}</datalist>
    }
}

/// One line of the envelope.
#[component]
fn AddressLine(f: Fields, line: super::Line, hint: &'static str) -> impl IntoView {
    let chips = move || {
        line.chips
            .get()
            .into_iter()
            .map(|a| {
                let label = format!("Remove {a}");
                let gone = a.clone();
                view! { <li class="chip">{a}<button type="button" class="chip-remove" aria-label=label
                on:click=move |_| line.chips.update(|r| r.retain(|x| *x != gone))>"×"</button></li> }
            })
            .collect_view()
    };
    let hint_id = format!("{}-hint", line.id);
    view! {
        <div class="field">
            <label for=line.id>{line.label}</label>
            <p class="field-hint" id=hint_id.clone()>{hint}</p>
            <ul class="chips" aria-label=line.list aria-live="polite">{chips}</ul>
            <div class="inline">
                <input id=line.id type="email" list="known-recipients" autocomplete="off" aria-describedby=hint_id bind:value=line.input
                    aria-invalid=f.marked(line.id) on:input=f.edited(line.id)
                    on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); f.add(line); }/>
                <button type="button" class="button quiet" on:click=move |_| { f.add(line); }>"Add"</button>
            </div>
        </div>
    }
}

/// The subject and the message text.
#[component]
pub(super) fn Words(f: Fields) -> impl IntoView {
    view! {
        <div class="field">
            <label for="subject">"Subject"</label>
            <input id="subject" type="text" maxlength=SUBJECT_MAX_CHARS bind:value=f.subject
                aria-invalid=f.marked("subject") on:input=f.edited("subject")/>
        </div>
        <div class="field">
            <label for="body">"Message"</label>
            <textarea id="body" rows="10" bind:value=f.body aria-invalid=f.marked("body") on:input=f.edited("body")></textarea>
        </div>
    }
}

/// The original's files, when answering or forwarding: each ticked one is sent on, sealed
/// again for the new message's recipients.
#[component]
pub(super) fn KeptFiles(f: Fields) -> impl IntoView {
    move || {
        let offered = f.offered.get();
        (!offered.is_empty()).then(|| {
            view! {
                <fieldset class="field">
                    <legend>"Files from the original message"</legend>
                    <p class="field-hint">"Ticked files go with this message. Nobody it goes to sees the rest of the original."</p>
                    {offered.into_iter().map(|a| {
                        let id = a.id;
                        let ticked = move || f.keep.with(|k| k.contains(&id));
                        let toggle = move |_| f.keep.update(|k| if k.contains(&id) { k.retain(|x| *x != id) } else { k.push(id) });
                        view! {
                            <label class="checkbox"><input type="checkbox" prop:checked=ticked on:change=toggle/>
                                {crate::components::visible_text(&a.name)}" "<span class="muted">"("{crate::components::format_size(a.size)}")"</span></label>
                        }
                    }).collect_view()}
                </fieldset>
            }
        })
    }
}

/// How the message is handled: its marking, the passphrase for people outside the council, and
/// how long its links work.
#[component]
pub(super) fn Handling(f: Fields, policy: Signal<Policy>) -> impl IntoView {
    let marking = f.marking;
    let rules = Signal::derive(move || *policy.get().of(marking.get()));
    // The usual 30 days, or fewer where the policy for the marking allows fewer.
    let expiry = f.expiry;
    Effect::new(move |_| {
        let most = rules.get().max_expiry_days;
        if expiry.get_untracked().trim().parse::<u32>().is_ok_and(|days| days > most) {
            expiry.set(most.to_string());
        }
    });
    // The council's policy for the marking chosen, in a sentence.
    let said = move || {
        let r = rules.get();
        let mut s = format!("{}: links work for at most {} days", marking.get().label(), r.max_expiry_days);
        if r.passphrase_required {
            s.push_str("; people outside the council need a passphrase");
        }
        if r.view_only_files {
            s.push_str("; they can view its files but not download them");
        }
        if r.max_opens > 0 {
            s.push_str(&format!("; each of them can open it {} times", r.max_opens));
        }
        s + "."
    };
    view! {
        <fieldset class="field">
            <legend>"Marking"</legend>
            <label class="radio"><input type="radio" name="marking" checked=move || marking.get() == Marking::Official
                on:change=move |_| marking.set(Marking::Official)/>"OFFICIAL"</label>
            <label class="radio"><input type="radio" name="marking" checked=move || marking.get() == Marking::OfficialSensitive
                on:change=move |_| marking.set(Marking::OfficialSensitive)/>"OFFICIAL-SENSITIVE"</label>
            <p class="field-hint" aria-live="polite">{said}</p>
        </fieldset>
        <div class="field">
            <label for="passphrase">"Passphrase for people outside the council"</label>
            <p class="field-hint" id="passphrase-hint">"At least 12 characters or 4 words. Give it to them by phone, never by email."</p>
            <input id="passphrase" type="text" autocomplete="off" spellcheck="false" aria-describedby="passphrase-hint" bind:value=f.passphrase
                aria-invalid=f.marked("passphrase") on:input=f.edited("passphrase")/>
        </div>
        <div class="field narrow-field">
            <label for="expiry">"Links work for (days)"</label>
            <input id="expiry" type="number" min="1" max=move || rules.get().max_expiry_days.to_string() bind:value=f.expiry/>
        </div>
    }
}

/// "Check before you send": shown, and focused, while addresses never sent to before, or
/// the server's concerns (a lookalike domain, personal webmail, several organisations,
/// sensitive content in an OFFICIAL message), wait for a second look.
#[component]
pub(super) fn SendCheck(
    unconfirmed: RwSignal<Vec<String>>,
    concerns: RwSignal<Vec<Concern>>,
    marking: RwSignal<Marking>,
    on_yes: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let check = NodeRef::<leptos::html::Section>::new();
    let waiting = move || !unconfirmed.get().is_empty() || !concerns.get().is_empty();
    Effect::new(move |_| {
        if waiting() {
            bring_into_view(move || check.get_untracked());
        }
    });
    let back = move || {
        unconfirmed.set(vec![]);
        concerns.set(vec![]);
    };
    move || {
        waiting().then(|| {
            let on_yes = on_yes.clone();
            let content = concerns.get().iter().any(|c| c.kind == "sensitive_content");
            let points = unconfirmed
                .get()
                .into_iter()
                .map(|a| format!("You have not sent a secure message to {a} before."))
                .chain(concerns.get().into_iter().map(|c| c.message));
            view! {
                <section class="card warning" role="alert" aria-labelledby="check-title" tabindex="-1" node_ref=check>
                    <h2 id="check-title">"Check before you send"</h2>
                    <ul>{points.map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    <div class="actions">
                        <button type="button" class="button" on:click=move |_| on_yes()>"Yes, send it"</button>
                        {content.then(|| view! {
                            <button type="button" class="button quiet" on:click=move |_| {
                                marking.set(Marking::OfficialSensitive);
                                back();
                            }>"Mark it OFFICIAL-SENSITIVE"</button>
                        })}
                        <button type="button" class="button quiet" on:click=move |_| back()>"Go back and check"</button>
                    </div>
                </section>
            }
        })
    }
}

/// The files uploaded to the draft, each with a remove button.
#[component]
pub(super) fn DraftFiles(f: Fields) -> impl IntoView {
    let remove = move |file: AttachmentId| {
        let Some(draft) = f.draft.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            match crate::api::remove_draft_file(draft, file).await {
                Ok(()) => f.attached.update(|a| a.retain(|x| x.id != file)),
                Err(failure) => f.fail(None, format!("The file was not removed: {}", failure.message)),
            }
        });
    };
    move || {
        let attached = f.attached.get();
        (!attached.is_empty()).then(|| {
            view! {
                <ul class="files" aria-label="Attached files">
                    {attached.into_iter().map(|a| {
                        let label = format!("Remove {}", a.name);
                        let id = a.id;
                        view! { <li>{visible_text(&a.name)}" "<span class="muted">"("{format_size(a.size)}")"</span>
                            <button type="button" class="chip-remove" aria-label=label on:click=move |_| remove(id)>"×"</button></li> }
                    }).collect_view()}
                </ul>
            }
        })
    }
}
