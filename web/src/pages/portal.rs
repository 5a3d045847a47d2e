//! `/s/{token}`: the page an external recipient reaches from the notification email. Opening it
//! changes nothing on the server (mail scanners open every link). It says who sent what kind of
//! message; expired, withdrawn and unknown links each get a plain explanation and whom to contact.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use sealpost_domain::api_messages::LinkView;

use crate::api::{self, Failure};
use crate::auth::Auth;
use crate::components::{Banner, MarkingBadge, format_time, set_title};

/// The secure link page.
#[component]
pub fn PortalLink() -> impl IntoView {
    let token = use_params_map().get_untracked().get("token").unwrap_or_default();
    let state = RwSignal::new(None::<Result<LinkView, Failure>>);
    spawn_local(async move { state.set(Some(api::link(&token).await)) });
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            {move || match state.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Ok(link)) => view! { <Waiting link=link/> }.into_any(),
                Some(Err(f)) => view! { <DeadEnd failure=f/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Waiting(link: LinkView) -> impl IntoView {
    set_title("Secure message");
    Auth::get().organisation.set(link.organisation.clone());
    let steps = if link.passphrase_required {
        "To open it you will confirm your email address with a one-time code, and enter the passphrase the sender gives you by phone."
    } else {
        "To open it you will confirm your email address with a one-time code."
    };
    view! {
        <h1>"Secure message from "{link.sender_name.clone()}</h1>
        <p class="lede">{format!("{} of {} has sent you a secure message.", link.sender_name, link.organisation)}</p>
        <section class="card" aria-labelledby="details-title">
            <h2 id="details-title" class="visually-hidden">"Message details"</h2>
            <dl class="meta">
                <dt>"Marking"</dt><dd><MarkingBadge marking=link.marking/></dd>
                <dt>"Reference"</dt><dd>{link.reference.to_string()}</dd>
                <dt>"Link works until"</dt><dd>{format_time(link.expires_at)}</dd>
            </dl>
            <p>{steps}</p>
            <p class="notice" role="note">
                "Opening messages in this portal is being set up and is not available yet. If you need it now, contact "
                {link.sender_name.clone()}" at "{link.organisation.clone()}" and quote reference "<strong>{link.reference.to_string()}</strong>"."
            </p>
        </section>
    }
}

#[component]
fn DeadEnd(failure: Failure) -> impl IntoView {
    let (title, text) = match (failure.status, failure.code.as_str()) {
        (410, "link_revoked") => ("Access to this message has been withdrawn", failure.message),
        (410, _) => ("This link has expired", failure.message),
        (404, _) => (
            "This link is not valid",
            "Check that you used the whole link from the email. If it still does not work, contact the person who sent it.".to_owned(),
        ),
        _ => ("Sealpost could not open this link", failure.message),
    };
    set_title(title);
    view! {
        <h1>{title}</h1>
        <p>{text}</p>
    }
}
