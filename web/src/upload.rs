//! Sending a message or a reply with files, or adding files to a draft: one `multipart/form-data` POST through
//! XMLHttpRequest, which (unlike `fetch`) reports upload progress for the progress bar.

use js_sys::Promise;
use sealpost_domain::api::CSRF_HEADER;
use sealpost_domain::api_drafts::DraftId;
use sealpost_domain::api_messages::{AttachmentInfo, ReplySent, SendMessage, SendReply, Sent};
use sealpost_domain::api_write::{WriteMessage, WriteSent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use crate::api::{Failure, failure_from};

/// Sends `message` with `files` to `path` (a new message, an answer or a forward), calling
/// `progress` with 0.0–1.0 as bytes go up.
pub async fn send(path: &str, message: &SendMessage, files: &[File], progress: impl Fn(f64) + 'static) -> Result<Sent, Failure> {
    post(path, Some(("message", message)), files, progress).await
}

/// Sends a secure reply to message `id` from the portal, with `files`.
pub async fn reply(
    id: sealpost_domain::MessageId,
    reply: &SendReply,
    files: &[File],
    progress: impl Fn(f64) + 'static,
) -> Result<ReplySent, Failure> {
    post(
        &format!("/api/v1/portal/messages/{id}/reply"),
        Some(("reply", reply)),
        files,
        progress,
    )
    .await
}

/// Sends what someone outside the council wrote at `/write`, with `files`.
pub async fn write(message: &WriteMessage, files: &[File], progress: impl Fn(f64) + 'static) -> Result<WriteSent, Failure> {
    post("/api/v1/write/send", Some(("message", message)), files, progress).await
}

/// Uploads `files` to draft `id`; the draft's files afterwards.
pub async fn attach(id: DraftId, files: &[File], progress: impl Fn(f64) + 'static) -> Result<Vec<AttachmentInfo>, Failure> {
    post(&format!("/api/v1/drafts/{id}/attachments"), None::<(&str, &())>, files, progress).await
}

/// POSTs the JSON `first` (a part name and its value), if any, as the form's first part, then
/// each file as an `attachment` part.
async fn post<B: Serialize, T: DeserializeOwned>(
    url: &str,
    first: Option<(&str, &B)>,
    files: &[File],
    progress: impl Fn(f64) + 'static,
) -> Result<T, Failure> {
    let form = FormData::new().map_err(|_| Failure::network())?;
    if let Some((part, json)) = first {
        let json = serde_json::to_string(json).map_err(|_| Failure::network())?;
        form.append_with_str(part, &json).map_err(|_| Failure::network())?;
    }
    for file in files {
        form.append_with_blob_and_filename("attachment", file, &file.name())
            .map_err(|_| Failure::network())?;
    }
    let xhr = XmlHttpRequest::new().map_err(|_| Failure::network())?;
    xhr.open("POST", url).map_err(|_| Failure::network())?;
    xhr.set_request_header(CSRF_HEADER, "1").map_err(|_| Failure::network())?;
    xhr.set_request_header("accept", "application/json")
        .map_err(|_| Failure::network())?;
    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            progress(e.loaded() / e.total());
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let target = xhr.clone();
    let done = Promise::new(&mut |resolve, reject| {
        target.set_onload(Some(&resolve));
        target.set_onerror(Some(&reject));
        target.set_onabort(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(&form)).map_err(|_| Failure::network())?;
    let finished = JsFuture::from(done).await;
    drop(on_progress);
    finished.map_err(|_| Failure::network())?;
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|_| Failure {
            status,
            message: "The server sent an answer this page does not understand.".into(),
            ..Failure::default()
        })
    } else {
        Err(failure_from(status, &text))
    }
}
