//! Small shared pieces of page: the banner, the error summary, loading and load-failed states,
//! page titles.

use leptos::prelude::*;

use crate::auth::Auth;

/// Sets the document title: "<page> – Sealpost".
pub fn set_title(page: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(&format!("{page} – Sealpost"));
    }
}

/// The top banner with the council's name; `actions` go on the right.
#[component]
pub fn Banner(#[prop(optional)] children: Option<Children>) -> impl IntoView {
    let auth = Auth::get();
    view! {
        <header class="banner">
            <div class="banner-inner">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"✉"</span>
                    <span class="brand-name">"Sealpost"</span>
                    // The default name is the product's own; showing it twice reads oddly.
                    {move || {
                        let org = auth.organisation.get();
                        (!org.is_empty() && org != "Sealpost").then(|| view! { <span class="brand-org">{org}</span> })
                    }}
                </a>
                {children.map(|c| c())}
            </div>
        </header>
    }
}

/// A list of problems at the top of a form, announced to screen readers. Each time a problem
/// appears, focus moves to it and it scrolls into view: at the top of a long form it would
/// otherwise be off-screen, and pressing the button would seem to do nothing.
#[component]
pub fn ErrorSummary(message: ReadSignal<Option<String>>) -> impl IntoView {
    let summary = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if message.get().is_some() {
            bring_into_view(move || summary.get_untracked().map(Into::into));
        }
    });
    view! {
        <div role="alert" aria-live="assertive">
            {move || message.get().map(|m| view! {
                <div class="error-summary" tabindex="-1" node_ref=summary>
                    <h2 class="error-summary-title">"There is a problem"</h2>
                    <p id="form-error">{m}</p>
                </div>
            })}
        </div>
    }
}

/// What a part of a page shows while its data loads (a `Suspense` fallback), announced politely.
#[component]
pub fn Loading(#[prop(default = "Loading…")] text: &'static str) -> impl IntoView {
    view! { <p class="loading" role="status">{text}</p> }
}

/// The one way a failed load is shown: what went wrong, in the words the server or the client
/// gave, announced, with a way to try again. The fallback of every `ErrorBoundary` around a load.
pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let said = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| view! { <p>{e.to_string()}</p> })
            .collect_view()
    };
    view! {
        <div class="error-summary load-failed" role="alert">
            <h2 class="error-summary-title">"This could not be loaded"</h2>
            {said}
            <button type="button" class="button quiet" on:click=|_| reload()>"Try again"</button>
        </div>
    }
}

fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// Focuses what `find` returns and scrolls it into view, once it is on the page (after this
/// render).
pub fn bring_into_view(find: impl Fn() -> Option<web_sys::HtmlElement> + 'static) {
    request_animation_frame(move || {
        if let Some(element) = find() {
            let _ = element.focus();
            element.scroll_into_view();
        }
    });
}

/// A date and time as people in the UK read it, e.g. "22/11/2026, 14:05".
pub fn format_time(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string("en-GB", &options).into()
}

/// A size as people read it, in the 1024-based units the limits use: "512 bytes", "25 MB".
/// Whole-number arithmetic only: formatting a float would pull Rust's float printing (about
/// 10 KiB) into the wasm for this alone.
pub fn format_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    match bytes {
        0..KB => format!("{bytes} bytes"),
        KB..MB => format!("{} KB", (bytes + KB / 2) / KB),
        _ if bytes.is_multiple_of(MB) => format!("{} MB", bytes / MB),
        _ => {
            let tenths = (bytes.saturating_mul(10) + MB / 2) / MB;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

/// A fraction from 0 to 1 as a whole percentage.
pub fn percent(fraction: f64) -> u32 {
    // `as` saturates: below 0 is 0, and NaN is 0.
    (fraction * 100.0 + 0.5).clamp(0.0, 100.0) as u32
}

/// The protective marking as a badge.
#[component]
pub fn MarkingBadge(marking: sealpost_domain::Marking) -> impl IntoView {
    let class = match marking {
        sealpost_domain::Marking::Official => "badge",
        sealpost_domain::Marking::OfficialSensitive => "badge sensitive",
    };
    view! { <span class=class>{marking.label()}</span> }
}

/// Text a person wrote, ready to show: direction overrides made visible (SECURITY D9), so
/// `invoice<U+202E>fdp.exe` cannot pass for `invoiceexe.pdf`. Every subject, name and file
/// name goes through this before it is rendered.
pub fn visible_text(text: &str) -> String {
    sealpost_domain::unicode::show_direction_controls(text).into_owned()
}

/// Plain text with http(s) links made clickable (`sealpost_domain::text`). Everything else is a
/// text node, so nothing in the text can become markup.
#[component]
pub fn LinkedText(text: String) -> impl IntoView {
    use sealpost_domain::text::{Piece, pieces};
    let parts: Vec<AnyView> = pieces(&text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => visible_text(t).into_any(),
            Piece::Link(href) => {
                let (href, shown) = (href.to_owned(), href.to_owned());
                view! { <a href=href rel="noopener noreferrer" target="_blank">{shown}</a> }.into_any()
            }
            Piece::LineBreak => view! { <br/> }.into_any(),
        })
        .collect();
    view! { <div class="message-body">{parts}</div> }
}
