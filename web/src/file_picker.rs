//! Choosing files for a message or a reply: drag-and-drop or the picker, each file checked
//! against the server's limits before anything is uploaded, and the upload's progress bar.

use leptos::ev::DragEvent;
use leptos::prelude::*;
use sealpost_domain::Limits;
use wasm_bindgen::JsCast;
use web_sys::{File, FileList, HtmlInputElement};

use crate::components::{format_size, percent};

/// What a message already holds besides the files being chosen (files uploaded to its draft,
/// or kept from the original): how many, and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// How many files.
    pub count: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// The drop zone, the hidden file input behind "choose files", and the list of chosen files,
/// each with a remove button. A file over a limit (counting what is `held` already) is refused
/// with `error`, never added.
#[component]
pub fn FilePicker(
    files: RwSignal<Vec<File>, LocalStorage>,
    #[prop(into)] limits: Signal<Limits>,
    error: WriteSignal<Option<String>>,
    #[prop(optional, into)] held: Signal<Held>,
) -> impl IntoView {
    let add_files = move |list: Option<FileList>| {
        let Some(list) = list else { return };
        let l = limits.get_untracked();
        for i in 0..list.length() {
            let Some(file) = list.get(i) else { continue };
            match refusal(&l, held.get_untracked(), &files.get_untracked(), &file) {
                Some(why) => error.set(Some(why)),
                None => files.update(|f| f.push(file)),
            }
        }
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        add_files(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        add_files(input.as_ref().and_then(HtmlInputElement::files));
        if let Some(i) = input {
            i.set_value("");
        }
    };
    view! {
        <div class="field">
            <span class="label" id="files-label">"Attachments"</span>
            <div class="dropzone" on:dragover=|ev: DragEvent| ev.prevent_default() on:drop=on_drop aria-labelledby="files-label">
                <p>"Drag files here, or "
                    <label for="files" class="link-label">"choose files"</label></p>
                <input id="files" type="file" multiple=true class="visually-hidden" on:change=on_pick/>
                <p class="field-hint">{move || { let l = limits.get(); format!("Up to {} each, {} in all.", format_size(l.max_attachment_bytes), format_size(l.max_message_bytes)) }}</p>
            </div>
            <ul class="files" aria-label="Chosen files">
                {move || files.get().into_iter().enumerate().map(|(i, f)| {
                    let label = format!("Remove {}", f.name());
                    view! { <li>{f.name()}" "<span class="muted">"("{format_size(f.size() as u64)}")"</span>
                        <button type="button" class="chip-remove" aria-label=label on:click=move |_| files.update(|v| { v.remove(i); })>"×"</button></li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Why `file` cannot join `chosen` and what is `held`, if it cannot.
fn refusal(l: &Limits, held: Held, chosen: &[File], file: &File) -> Option<String> {
    let total: f64 = chosen.iter().map(|f| f.size()).sum::<f64>() + held.bytes as f64;
    if file.size() as u64 > l.max_attachment_bytes {
        Some(format!(
            "“{}” is {}: the limit for one file is {}.",
            file.name(),
            format_size(file.size() as u64),
            format_size(l.max_attachment_bytes)
        ))
    } else if (total + file.size()) as u64 > l.max_message_bytes {
        Some(format!(
            "Adding “{}” would go over the {} limit for one message.",
            file.name(),
            format_size(l.max_message_bytes)
        ))
    } else if held.count + chosen.len() >= l.max_attachments as usize {
        Some(format!("A message can have at most {} attachments.", l.max_attachments))
    } else {
        None
    }
}

/// "Sending… 42%" (or another `label`) with a progress bar, while `progress` is set.
#[component]
pub fn UploadProgress(progress: RwSignal<Option<f64>>, #[prop(optional, into)] label: Option<Signal<&'static str>>) -> impl IntoView {
    move || {
        progress.get().map(|p| {
            let label = label.map_or("Sending…", |l| l.get());
            view! {
                <div class="progress-row">
                    <label for="upload-progress">{label}" "{format!("{}%", percent(p))}</label>
                    <progress id="upload-progress" max="100" value=percent(p).to_string()></progress>
                </div>
            }
        })
    }
}
