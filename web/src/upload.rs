//! Sending a message with files: one `multipart/form-data` POST through XMLHttpRequest, which
//! (unlike `fetch`) reports upload progress for the progress bar.

use js_sys::Promise;
use sealpost_domain::api::CSRF_HEADER;
use sealpost_domain::api_messages::{SendMessage, Sent};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use crate::api::{Failure, failure_from};

/// Sends `message` with `files`, calling `progress` with 0.0–1.0 as bytes go up.
pub async fn send(message: &SendMessage, files: &[File], progress: impl Fn(f64) + 'static) -> Result<Sent, Failure> {
    let form = FormData::new().map_err(|_| Failure::network())?;
    let json = serde_json::to_string(message).map_err(|_| Failure::network())?;
    form.append_with_str("message", &json).map_err(|_| Failure::network())?;
    for file in files {
        form.append_with_blob_and_filename("attachment", file, &file.name())
            .map_err(|_| Failure::network())?;
    }
    let xhr = XmlHttpRequest::new().map_err(|_| Failure::network())?;
    xhr.open("POST", "/api/v1/messages").map_err(|_| Failure::network())?;
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
            code: String::new(),
            status,
            message: "The server sent an answer this page does not understand.".into(),
        })
    } else {
        Err(failure_from(status, &text))
    }
}
