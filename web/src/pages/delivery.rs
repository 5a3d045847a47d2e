//! The sender's view of who a message went to: each recipient's status and activity, and
//! withdrawing access (one recipient or everyone) after a confirmation, or giving it back. A
//! partner who is given access back is emailed a new link; a colleague finds it in their inbox.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::MessageId;
use sealpost_domain::api_messages::{Addressed, DeliveryStatus, RecipientStatus};

use crate::api;
use crate::components::{ErrorSummary, bring_into_view};
use crate::pages::message::{activity_view, status_class, status_text};

/// Whose access the sender is about to withdraw: one address, or everyone (`None`).
type Withdrawing = Option<Option<String>>;

/// The delivery card on the sender's message page.
#[component]
pub fn Delivery(
    id: MessageId,
    recipients: RwSignal<Vec<RecipientStatus>>,
    /// The message's files (id, name), to name the ones each recipient downloaded.
    files: Vec<(String, String)>,
    /// Deleted (retention, erasure, or the send undone): nothing left to withdraw or give back.
    deleted: bool,
) -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<String>);
    let confirming = RwSignal::new(None::<Option<String>>);
    let done = move |result: Result<Vec<RecipientStatus>, api::Failure>, said: String| match result {
        Ok(now) => {
            recipients.set(now);
            set_error.set(None);
            set_notice.set(Some(said));
        }
        Err(f) => set_error.set(Some(f.message)),
    };
    let withdraw = move |who: Option<String>| {
        confirming.set(None);
        spawn_local(async move {
            let said = match &who {
                Some(a) => format!("{a} can no longer open this message."),
                None => "Nobody can open this message now.".to_owned(),
            };
            done(api::revoke(id, who).await, said);
        });
    };
    let regrant = move |who: String, internal: bool| {
        spawn_local(async move {
            let said = if internal {
                format!("It is back in {who}'s inbox.")
            } else {
                format!("{who} can open it again: a new link is on its way to them by email. The old link stays withdrawn.")
            };
            done(api::regrant(id, who.clone()).await, said);
        });
    };
    let any_live = move || recipients.get().iter().any(|r| r.status != DeliveryStatus::Revoked);
    view! {
        <section class="card" aria-labelledby="delivery-title">
            <h2 id="delivery-title">"Delivery"</h2>
            <ErrorSummary message=error/>
            <div aria-live="polite">{move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}</div>
            <ConfirmWithdraw confirming=confirming on_yes=withdraw/>
            <table class="table delivery">
                <caption class="visually-hidden">"Who this message went to, and where delivery stands"</caption>
                <thead><tr><th scope="col">"Recipient"</th><th scope="col">"Status"</th><th scope="col">"Activity"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {move || recipients.get().into_iter().map(|r| {
                        let address = r.address.to_string();
                        let (who, internal) = (address.clone(), r.internal);
                        let action = if deleted {
                            ().into_any()
                        } else if r.status == DeliveryStatus::Revoked {
                            // The visible words start the name (WCAG 2.5.3).
                            let label = format!("Give access again to {address}");
                            view! { <button type="button" class="button quiet small" aria-label=label
                                on:click=move |_| regrant(who.clone(), internal)>"Give access again"</button> }.into_any()
                        } else {
                            let label = format!("Withdraw access for {address}");
                            view! { <button type="button" class="button quiet small" aria-label=label
                                on:click=move |_| confirming.set(Some(Some(who.clone())))>"Withdraw"</button> }.into_any()
                        };
                        view! {
                            <tr>
                                <td data-label="Recipient">{address}<span class="muted">{if r.internal { " (colleague)" } else { " (external)" }}{line_text(r.addressed)}</span></td>
                                <td data-label="Status"><span class=format!("status {}", status_class(r.status))>{status_text(r.status)}</span>
                                    {r.detail.map(|d| view! { <span class="muted">" – "{d}</span> })}</td>
                                <td data-label="Activity">{r.activity.map(|a| activity_view(&a, &files))}</td>
                                <td>{action}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || (any_live() && !deleted).then(|| view! {
                <button type="button" class="button danger" on:click=move |_| confirming.set(Some(None))>"Withdraw access for everyone"</button>
            })}
        </section>
    }
}

/// How the sender sees a recipient's line: nothing for To.
fn line_text(line: Addressed) -> &'static str {
    match line {
        Addressed::To => "",
        Addressed::Cc => ", copied",
        Addressed::Bcc => ", blind copy",
    }
}

/// "Withdraw access for X?" with Yes and No, brought into view and focused when it appears.
#[component]
fn ConfirmWithdraw(confirming: RwSignal<Withdrawing>, on_yes: impl Fn(Option<String>) + Clone + Send + Sync + 'static) -> impl IntoView {
    let panel = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if confirming.get().is_some() {
            bring_into_view(move || panel.get_untracked());
        }
    });
    view! {
        {move || confirming.get().map(|who| {
            let question = match &who {
                Some(a) => format!("Withdraw access for {a}?"),
                None => "Withdraw access for everyone?".to_owned(),
            };
            let on_yes = on_yes.clone();
            view! {
                <section class="card warning" role="alertdialog" aria-labelledby="withdraw-title" aria-describedby="withdraw-text" tabindex="-1" node_ref=panel>
                    <h3 id="withdraw-title">{question}</h3>
                    <p id="withdraw-text">"They will no longer be able to open the message or its files. You can give access back afterwards: a partner then gets a new link by email."</p>
                    <div class="actions">
                        <button type="button" class="button danger" on:click=move |_| on_yes(who.clone())>"Yes, withdraw access"</button>
                        <button type="button" class="button quiet" on:click=move |_| confirming.set(None)>"No, keep access"</button>
                    </div>
                </section>
            }
        })}
    }
}
