//! Any address the app does not know.

use leptos::prelude::*;

use crate::components::{Banner, set_title};

/// The not-found page.
#[component]
pub fn NotFound() -> impl IntoView {
    set_title("Page not found");
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            <h1>"Page not found"</h1>
            <p>"If you typed the address, check it is correct. If you followed a link from an email, it may have expired."</p>
            <p><a href="/inbox">"Go to your inbox"</a></p>
        </main>
    }
}
