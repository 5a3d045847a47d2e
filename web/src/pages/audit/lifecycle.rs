//! Legal hold and erasure on the timeline page (issue 19): what IG can do about a message's
//! life. A hold keeps it from deletion until lifted; an erasure deletes it now, for good, with
//! a reason emailed to the DPO and the administrators. Both are on the audit log.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::api_audit::{AuditEventView, DeletionView, LegalHoldView};

use crate::api;
use crate::components::{ErrorSummary, format_time};

/// The message's hold and deletion, and the forms that change them.
#[component]
pub(super) fn Lifecycle(
    reference: String,
    hold: Option<LegalHoldView>,
    deleted: RwSignal<Option<DeletionView>>,
    events: RwSignal<Vec<AuditEventView>>,
) -> impl IntoView {
    let hold = RwSignal::new(hold);
    let (problem, set_problem) = signal(None::<String>);
    let busy = RwSignal::new(false);
    let hold_reason = RwSignal::new(String::new());
    let erase_reason = RwSignal::new(String::new());
    let sure = RwSignal::new(false);
    let act = move |reference: String, step: &'static str, reason: Option<String>| {
        busy.set(true);
        spawn_local(async move {
            match api::audit_lifecycle(&reference, step, reason).await {
                Ok(t) => {
                    set_problem.set(None);
                    hold.set(t.legal_hold);
                    deleted.set(t.deleted);
                    events.set(t.events);
                    hold_reason.set(String::new());
                }
                Err(f) => set_problem.set(Some(f.message)),
            }
            busy.set(false);
        });
    };
    let (r1, r2, r3) = (reference.clone(), reference.clone(), reference);
    let on_hold = move |ev: SubmitEvent| {
        ev.prevent_default();
        act(r1.clone(), "hold", Some(hold_reason.get_untracked()));
    };
    let on_erase = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !sure.get_untracked() {
            set_problem.set(Some("Tick the box to confirm that the message is to be erased for good.".into()));
            return;
        }
        act(r2.clone(), "erase", Some(erase_reason.get_untracked()));
    };
    let lift = move |_| act(r3.clone(), "lift", None);
    view! {
        <section class="card" aria-labelledby="life-title">
            <h2 id="life-title">"Legal hold and erasure"</h2>
            <ErrorSummary message=problem/>
            {move || match (deleted.get(), hold.get()) {
                (Some(d), _) => view! {
                    <p class="notice" role="status">{if d.erased {
                        format!("Erased on {}. Its content, files and replies can no longer be opened by anyone; this record remains.", format_time(d.at_ms))
                    } else if d.recalled {
                        format!("Cancelled by its sender on {}, before anyone received it. Its content can no longer be opened by anyone; this record remains.", format_time(d.at_ms))
                    } else {
                        format!("Deleted under the council's retention policy on {}. Its content can no longer be opened by anyone; this record remains.", format_time(d.at_ms))
                    }}{d.reason.map(|r| format!(" Reason: {r}"))}</p>
                }.into_any(),
                (None, Some(h)) => view! {
                    <p class="notice warning" role="status">
                        <strong>"On legal hold"</strong>{format!(" since {}, placed by {}. Reason: {}.", format_time(h.placed_at_ms), h.placed_by, h.reason.trim_end_matches('.'))}
                        " Retention will not delete it, and it cannot be erased, until the hold is lifted."
                    </p>
                    <p><button type="button" class="button quiet" disabled=move || busy.get() on:click=lift.clone()>"Lift the legal hold"</button></p>
                }.into_any(),
                (None, None) => view! {
                    <form class="form" on:submit=on_hold.clone()>
                        <div class="field">
                            <label for="hold-reason">"Put on legal hold: why?"</label>
                            <p id="hold-reason-hint" class="field-hint">"For example a tribunal, a claim or an investigation. Kept on the record."</p>
                            <textarea id="hold-reason" rows="2" aria-describedby="hold-reason-hint" bind:value=hold_reason></textarea>
                        </div>
                        <div><button type="submit" class="button" disabled=move || busy.get()>"Put on legal hold"</button></div>
                    </form>
                    <form class="form erase" on:submit=on_erase.clone()>
                        <div class="field">
                            <label for="erase-reason">"Erase now: why?"</label>
                            <p id="erase-reason-hint" class="field-hint">"For example a file sent to the wrong person. The data protection officer and the administrators are emailed this reason."</p>
                            <textarea id="erase-reason" rows="2" aria-describedby="erase-reason-hint" bind:value=erase_reason></textarea>
                        </div>
                        <div class="field checkbox">
                            <input id="erase-sure" type="checkbox" bind:checked=sure/>
                            <label for="erase-sure">"I understand that nobody, including IG, can open it again"</label>
                        </div>
                        <div><button type="submit" class="button danger" disabled=move || busy.get()>"Erase this message for good"</button></div>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}
