//! The IG console: `/audit` searches the audit log (by message reference, person, action,
//! outcome and dates; the per-person view is the same page filtered by person), pages back
//! through older events, exports CSV and verifies the chain. `/audit/messages/{reference}` is
//! a message's history at a glance. Metadata only: IG never sees content here.

mod break_glass;
mod console;
mod lifecycle;
mod search;
mod timeline;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use sealpost_domain::Role;

use crate::auth::{Auth, Session};
use crate::components::set_title;
use crate::pages::EmptyState;

/// Shows `page` to IG officers, and an explanation to everyone else.
fn ig_only(page: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let auth = Auth::get();
    move || match auth.session.get() {
        Session::SignedIn(me) if me.role == Role::Ig => page(),
        _ => view! {
            <h1>"Audit log"</h1>
            <EmptyState title="You do not have access to the audit log"
                text="The audit log is for information governance officers. Ask your IG team if you need an access record."/>
        }
        .into_any(),
    }
}

/// `/audit`.
#[component]
pub fn Audit() -> impl IntoView {
    set_title("Audit log");
    ig_only(|| view! { <console::Console/> }.into_any())
}

/// `/audit/messages/{reference}`.
#[component]
pub fn AuditMessage() -> impl IntoView {
    let reference = use_params_map().get_untracked().get("reference").unwrap_or_default();
    set_title(&format!("Audit: {reference}"));
    ig_only(move || view! { <timeline::Timeline reference=reference.clone()/> }.into_any())
}
