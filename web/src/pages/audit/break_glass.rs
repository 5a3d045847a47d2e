//! Break-glass on the timeline page: the form, and the content once opened, until the grant ends.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api_audit::BreakGlassAccess;

use crate::api;
use crate::components::{ErrorSummary, format_time};
use crate::pages::{MessageArticle, Replies};

/// Break-glass: a reason and the password again open the content for a limited time. The
/// DPO is emailed first and the access is recorded (SECURITY C3).
#[component]
pub(super) fn BreakGlass(reference: String) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let (problem, set_problem) = signal(None::<String>);
    let opened = RwSignal::new(None::<BreakGlassAccess>);
    let ended = RwSignal::new(false);
    // The access ends by itself: the content leaves the page when the grant does.
    Effect::new(move |_| {
        if let Some(until) = opened.with(|o| o.as_ref().map(|a| a.until_ms)) {
            let left = (until as f64 - js_sys::Date::now()).max(0.0) as u64;
            set_timeout(
                move || {
                    opened.set(None);
                    ended.set(true);
                },
                std::time::Duration::from_millis(left),
            );
        }
    });
    // A grant still in force (after a reload, say) shows the content again, recorded as a read.
    let current = reference.clone();
    spawn_local(async move {
        if let Ok(access) = api::break_glass_current(&current).await {
            opened.set(Some(access));
        }
    });
    let wanted = reference.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let reference = wanted.clone();
        busy.set(true);
        spawn_local(async move {
            match api::break_glass(&reference, reason.get_untracked(), password.get_untracked()).await {
                Ok(access) => {
                    set_problem.set(None);
                    password.set(String::new());
                    opened.set(Some(access));
                }
                Err(f) => set_problem.set(Some(f.message)),
            }
            busy.set(false);
        });
    };
    move || match opened.get() {
        Some(access) => view! { <Opened reference=reference.clone() access/> }.into_any(),
        None => view! { <Form ended reason password busy problem submit=submit.clone()/> }.into_any(),
    }
}

/// The content, under a notice of the grant and its reason.
#[component]
fn Opened(reference: String, access: BreakGlassAccess) -> impl IntoView {
    let urls = access
        .detail
        .attachments
        .iter()
        .map(|a| api::break_glass_file_url(&reference, a.id))
        .collect();
    let replies = access.detail.replies.clone();
    view! {
        <div class="notice warning" role="status">
            <strong>"Break-glass access until "{format_time(access.until_ms)}"."</strong>
            " This access is recorded and the data protection officer has been told. Reason: "{access.reason.clone()}
        </div>
        <MessageArticle detail=access.detail attachment_urls=urls expiry_label="Links expire"/>
        <Replies replies file_url=move |a| api::break_glass_file_url(&reference, a)/>
    }
}

/// The reason and password, and why the last try was refused.
#[component]
fn Form(
    ended: RwSignal<bool>,
    reason: RwSignal<String>,
    password: RwSignal<String>,
    busy: RwSignal<bool>,
    problem: ReadSignal<Option<String>>,
    submit: impl Fn(SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <section class="card break-glass" aria-labelledby="bg-title">
            <h2 id="bg-title">"Break glass: open the content"</h2>
            {move || ended.get().then(|| view! { <p class="notice" role="status">"The break-glass access has ended. Open it again below if you still need to."</p> })}
            <p>"Only when you must see what was sent, for example for a subject access request or an investigation. "
               "Your name and reason are emailed to the data protection officer straight away; the access is recorded and ends by itself."</p>
            <ErrorSummary message=problem/>
            <form class="form" on:submit=submit>
                <div class="field">
                    <label for="bg-reason">"Why do you need to see the content?"</label>
                    <p id="bg-reason-hint" class="field-hint">"At least 20 characters. The data protection officer will read this."</p>
                    <textarea id="bg-reason" rows="3" aria-describedby="bg-reason-hint" bind:value=reason></textarea>
                </div>
                <div class="field">
                    <label for="bg-password">"Your password"</label>
                    <input id="bg-password" type="password" autocomplete="current-password" bind:value=password/>
                </div>
                <div><button type="submit" class="button danger" disabled=move || busy.get()>
                    {move || if busy.get() { "Opening…" } else { "Open the content and tell the DPO" }}
                </button></div>
            </form>
        </section>
    }
}
