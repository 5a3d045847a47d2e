//! `/s/{token}`: the page an external recipient reaches from the notification email. Opening it
//! changes nothing on the server (mail scanners open every link). It says who sent what kind of
//! message; expired, withdrawn and unknown links each get a plain explanation and whom to contact.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use sealpost_domain::api_messages::LinkView;

use crate::api::{self, Failure};
use crate::auth::Auth;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::components::{Banner, ErrorSummary, Loading, MarkingBadge, format_time, set_title, visible_text};

/// The secure link page.
#[component]
pub fn PortalLink() -> impl IntoView {
    let token = use_params_map().get_untracked().get("token").unwrap_or_default();
    let lookup = token.clone();
    let link = LocalResource::new(move || {
        let lookup = lookup.clone();
        async move { api::link(&lookup).await }
    });
    view! {
        <Banner/>
        <main id="main" class="page narrow">
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match link.await {
                            Ok(link) => view! { <Waiting token link/> }.into_any(),
                            Err(f) => view! { <DeadEnd failure=f/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

#[component]
fn Waiting(token: String, link: LinkView) -> impl IntoView {
    set_title("Secure message");
    Auth::get().organisation.set(link.organisation.clone());
    let navigate = use_navigate();
    let (error, set_error) = signal(None::<String>);
    let busy = RwSignal::new(false);
    let steps = if link.passphrase_required {
        "We will email you a one-time code to confirm your address. You will also need the passphrase the sender gives you by phone."
    } else {
        "We will email you a one-time code to confirm your address."
    };
    let request_code = move |_| {
        let (token, navigate) = (token.clone(), navigate.clone());
        busy.set(true);
        spawn_local(async move {
            match api::portal_redeem(token).await {
                // The next page's address carries no token (SECURITY B5).
                Ok(_) => navigate(
                    "/portal",
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                ),
                Err(f) => set_error.set(Some(f.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>"Secure message from "{visible_text(&link.sender_name)}</h1>
        <p class="lede">{format!("{} of {} has sent you a secure message.", visible_text(&link.sender_name), link.organisation)}</p>
        <ErrorSummary message=error/>
        <section class="card" aria-labelledby="details-title">
            <h2 id="details-title" class="visually-hidden">"Message details"</h2>
            <dl class="meta">
                <dt>"From"</dt><dd>{match &link.sender_phone {
                    Some(phone) => format!("{} ({}, {phone})", visible_text(&link.sender_name), link.sender_email),
                    None => format!("{} ({})", visible_text(&link.sender_name), link.sender_email),
                }}</dd>
                <dt>"Marking"</dt><dd><MarkingBadge marking=link.marking/></dd>
                <dt>"Reference"</dt><dd>{link.reference.to_string()}</dd>
                <dt>"Link works until"</dt><dd>{format_time(link.expires_at)}</dd>
            </dl>
            {match link.locked_until {
                // Locked out: no button that can only fail.
                Some(until) => view! {
                    <p class="notice warning">{format!(
                        "Too many attempts were made to open this message, so the link is locked until {}. {} has been told. If that was not you, contact them at {}.",
                        format_time(until), visible_text(&link.sender_name), link.sender_email
                    )}</p>
                }.into_any(),
                None => view! {
                    <p>{steps}</p>
                    <button type="button" class="button" disabled=move || busy.get() on:click=request_code>"Send me a code"</button>
                }.into_any(),
            }}
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
