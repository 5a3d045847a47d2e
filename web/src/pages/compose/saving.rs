//! Keeping what is written: the draft is saved a few seconds after each change and when the
//! page goes away, files are uploaded to it as soon as they are chosen, and the page says when
//! it was last saved. The first save creates the draft and puts its id in the address, so
//! signing in again after the session ended (or reloading) comes back to it.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use sealpost_domain::api_drafts::{Draft, DraftId};

use super::{Fields, start_from_original};
use crate::{api, draft, upload};

/// How often the fields are compared with the saved draft.
const SAVE_EVERY: Duration = Duration::from_secs(3);

/// Opens draft `id` into the fields (its words, unless words kept in the tab came back), with
/// its files, and offers the original's files again if it answers or forwards a message.
pub(super) fn open(f: Fields, id: DraftId) {
    let loaded = LocalResource::new(move || api::draft(id));
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        match loaded.get() {
            None => false,
            Some(Ok(d)) => {
                take(f, d);
                true
            }
            Some(Err(failure)) => {
                if failure.status != 401 {
                    f.error.set(Some(if failure.status == 404 {
                        "That draft has been sent or discarded. What you write here is saved as a new draft.".into()
                    } else {
                        format!("The draft could not be opened: {}", failure.message)
                    }));
                }
                true
            }
        }
    });
}

fn take(f: Fields, d: Draft) {
    f.draft.set(Some(d.id));
    f.waiting_until.set(d.held_until);
    f.attached.set(d.attachments);
    f.save_status.set(Some(Ok(d.saved_at)));
    let basis = d.content.basis;
    if f.restored.get_untracked().is_none() {
        f.fill(d.content.clone());
    }
    // What the server holds is saved; words from the tab that differ are saved next.
    f.saved.set(d.content);
    if let Some(basis) = basis {
        start_from_original(f, basis, None);
    }
}

/// Saves every few seconds when something changed, uploads files as they are chosen, and
/// saves once more as the page goes away (closed, reloaded, or left for another page).
pub(super) fn autosave(f: Fields) {
    let timer = set_interval_with_handle(move || save(f), SAVE_EVERY).ok();
    let leaving = window_event_listener(leptos::ev::pagehide, move |_| leave(f));
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
        leaving.remove();
        leave(f);
    });
    Effect::new(move |_| {
        if !f.files.with(Vec::is_empty) && !f.uploading.get_untracked() {
            upload_chosen(f);
        }
    });
}

/// Saves the fields if they differ from the saved draft and nothing else is on its way.
fn save(f: Fields) {
    let busy = f.saving.get_untracked() || f.finished.get_untracked() || f.progress.get_untracked().is_some();
    let content = f.content();
    if busy || content == f.saved.get_untracked() {
        return;
    }
    f.saving.set(true);
    spawn_local(async move {
        let id = f.draft.get_untracked();
        match api::save_draft(id, &content).await {
            Ok(saved) => {
                f.saved.set(content);
                f.save_status.set(Some(Ok(saved.saved_at)));
                if id.is_none() {
                    remember(f, saved.id);
                }
            }
            // Sent or discarded elsewhere: the next save starts a new draft.
            Err(failure) if failure.status == 404 => f.draft.set(None),
            // The session ended (the sign-in form is taking the page's place): the tab keeps the
            // words until the person is back.
            Err(failure) if failure.status == 401 => draft::keep(&content),
            Err(failure) => f.save_status.set(Some(Err(failure.message))),
        }
        let _ = f.saving.try_set(false);
    });
}

/// The draft is `id` from now on, and the page's address says so.
fn remember(f: Fields, id: DraftId) {
    f.draft.set(Some(id));
    f.go(
        &format!("/compose?draft={id}"),
        NavigateOptions {
            replace: true,
            scroll: false,
            ..NavigateOptions::default()
        },
    );
}

/// The page is going away: what changed since the last save goes with a request the browser
/// finishes on its own.
fn leave(f: Fields) {
    let Some(finished) = f.finished.try_get_untracked() else { return };
    let (Some(content), Some(saved)) = (f.to.chips.try_get_untracked().map(|_| f.content()), f.saved.try_get_untracked()) else {
        return;
    };
    if finished || content == saved {
        return;
    }
    api::save_draft_on_leaving(f.draft.get_untracked(), &content);
}

/// Uploads the chosen files to the draft (starting one first if there is none yet).
fn upload_chosen(f: Fields) {
    let batch = f.files.get_untracked();
    f.uploading.set(true);
    f.progress.set(Some(0.0));
    spawn_local(async move {
        let result = async {
            let id = match f.draft.get_untracked() {
                Some(id) => id,
                None => {
                    let content = f.content();
                    let saved = api::save_draft(None, &content).await?;
                    f.saved.set(content);
                    f.save_status.set(Some(Ok(saved.saved_at)));
                    remember(f, saved.id);
                    saved.id
                }
            };
            upload::attach(id, &batch, move |p| {
                let _ = f.progress.try_set(Some(p));
            })
            .await
        }
        .await;
        if f.uploading.try_set(false).is_some() {
            return;
        }
        f.progress.set(None);
        f.files.update(|chosen| chosen.retain(|c| !batch.contains(c)));
        match result {
            Ok(files) => f.attached.set(files),
            Err(failure) if failure.status == 401 => {
                draft::keep(&f.content());
                api::announce_session_ended();
            }
            Err(failure) => f.fail(None, format!("{} The files were not attached.", failure.message)),
        }
    });
}

/// "Draft saved at 14:02", or why it was not: said politely, at most once a minute.
#[component]
pub(super) fn SaveStatus(f: Fields) -> impl IntoView {
    let text = move || match f.save_status.get() {
        None => String::new(),
        Some(Ok(at)) => format!("Draft saved at {}", clock(at)),
        Some(Err(why)) => format!("Draft not saved: {why} Sealpost will try again in a few seconds."),
    };
    view! { <p class="field-hint draft-status" role="status">{text}</p> }
}

/// "Discard draft": removes the draft and its files, then shows the Drafts box.
#[component]
pub(super) fn Discard(f: Fields) -> impl IntoView {
    let discard = move |_| {
        let Some(id) = f.draft.get_untracked() else { return };
        f.finished.set(true);
        spawn_local(async move {
            match api::discard_draft(id).await {
                Ok(()) => f.go("/drafts?discarded=1", NavigateOptions::default()),
                Err(failure) => {
                    f.finished.set(false);
                    f.fail(None, format!("The draft was not discarded: {}", failure.message));
                }
            }
        });
    };
    move || {
        f.draft.get().map(|_| {
            view! { <button type="button" class="button quiet" on:click=discard disabled=move || f.progress.get().is_some()>"Discard draft"</button> }
        })
    }
}

/// "14:02": the time of day of `ms`, as people in the UK write it.
fn clock(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_time_string_with_options("en-GB", &options).into()
}
