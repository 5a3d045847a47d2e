//! Small shared pieces of page: the banner, the error summary, page titles.

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

/// A list of problems at the top of a form, announced to screen readers and focusable.
#[component]
pub fn ErrorSummary(message: ReadSignal<Option<String>>) -> impl IntoView {
    view! {
        <div role="alert" aria-live="assertive">
            {move || message.get().map(|m| view! {
                <div class="error-summary" tabindex="-1">
                    <h2 class="error-summary-title">"There is a problem"</h2>
                    <p id="form-error">{m}</p>
                </div>
            })}
        </div>
    }
}
