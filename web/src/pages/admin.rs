//! `/admin`: the admin console. Council IT invites staff (the set-up link is emailed), changes a
//! role, disables and enables accounts, sends an invitation again, imports a CSV after a
//! preview, and reads the effective settings. Every change is on the audit record.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_domain::Role;
use sealpost_domain::api_admin::{AccountStatus, ImportPreview, InviteRequest, StaffAccount};

use crate::api::{self, Failure};
use crate::auth::{Auth, Session};
use crate::components::{ErrorSummary, format_time, set_title};

/// What the page says after an action: done (`Ok`) or why not.
type Said = RwSignal<Option<Result<String, String>>>;

/// `/admin`.
#[component]
pub fn Admin() -> impl IntoView {
    set_title("Admin");
    let accounts = RwSignal::new(None::<Result<Vec<StaffAccount>, Failure>>);
    let reload = move || spawn_local(async move { accounts.set(Some(api::admin_users().await)) });
    reload();
    let said: Said = RwSignal::new(None);
    let (problem, set_problem) = signal(None::<String>);
    let (done, set_done) = signal(None::<String>);
    // After an action the table is drawn again; the focus goes to what was said about it.
    let status = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let now = said.get();
        set_problem.set(now.clone().and_then(Result::err));
        set_done.set(now.clone().and_then(Result::ok));
        if let (Some(Ok(_)), Some(el)) = (now, status.get_untracked()) {
            let _ = el.focus();
        }
    });
    view! {
        <div class="admin">
        <h1>"Admin"</h1>
        <ErrorSummary message=problem/>
        <div role="status" tabindex="-1" node_ref=status>{move || done.get().map(|text| view! { <p class="notice">{text}</p> })}</div>
        <InviteForm said reload/>
        <section aria-labelledby="staff-title">
            <h2 id="staff-title">"Accounts"</h2>
            {move || match accounts.get() {
                None => view! { <p class="loading" role="status">"Loading the accounts…"</p> }.into_any(),
                Some(Err(f)) => view! { <p role="alert">{format!("The accounts could not be loaded: {}", f.message)}</p> }.into_any(),
                Some(Ok(list)) => view! { <AccountTable list said reload/> }.into_any(),
            }}
        </section>
        <Import said reload/>
        <Settings/>
        </div>
    }
}

/// Invite someone: their address, name and role.
#[component]
fn InviteForm(said: Said, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("staff".to_owned());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = InviteRequest {
            email: email.get_untracked(),
            display_name: name.get_untracked(),
            role: role.get_untracked().parse().unwrap_or(Role::Staff),
        };
        spawn_local(async move {
            match api::invite(&request).await {
                Ok(a) => {
                    said.set(Some(Ok(format!(
                        "{} is invited: the set-up link is on its way to {}.",
                        a.display_name.as_str(),
                        a.email
                    ))));
                    email.set(String::new());
                    name.set(String::new());
                    reload();
                }
                Err(f) => said.set(Some(Err(format!("Not invited: {}", f.message)))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite someone"</h2>
            <form class="form" on:submit=submit novalidate=true>
                <div class="field">
                    <label for="invite-email">"Email address"</label>
                    <input id="invite-email" type="email" autocomplete="off" spellcheck="false" bind:value=email/>
                </div>
                <div class="field">
                    <label for="invite-name">"Name"</label>
                    <input id="invite-name" type="text" autocomplete="off" bind:value=name/>
                </div>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <RoleSelect id="invite-role".into() value=role/>
                </div>
                <button type="submit" class="button">"Send the invitation"</button>
            </form>
        </section>
    }
}

/// The three roles; `value` follows the choice. (Each option says whether it is chosen, as the
/// select's own value would be set before its options exist.)
#[component]
fn RoleSelect(id: String, value: RwSignal<String>, #[prop(optional)] label: Option<String>) -> impl IntoView {
    let option = move |role: &'static str, text: &'static str| {
        view! { <option value=role selected=move || value.get() == role>{text}</option> }
    };
    view! {
        <select id=id aria-label=label on:change=move |ev| value.set(event_target_value(&ev))>
            {option("staff", "Staff: send and receive secure mail")}
            {option("ig", "Information governance: the audit log")}
            {option("admin", "Administrator: this console")}
        </select>
    }
}

/// Every account with what can be done to it.
#[component]
fn AccountTable(list: Vec<StaffAccount>, said: Said, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label="Accounts table" tabindex="0">
            <table class="table">
                <caption class="visually-hidden">"Every account, by address"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Address"</th><th scope="col">"Role"</th>
                    <th scope="col">"Status"</th><th scope="col">"Second factor"</th><th scope="col">"Last sign-in"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>{list.into_iter().map(|a| view! { <AccountRow a said reload/> }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn AccountRow(a: StaffAccount, said: Said, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let id = a.id;
    // One's own account is changed by another administrator, or on the server.
    let own = matches!(Auth::get().session.get_untracked(), Session::SignedIn(me) if me.id == id);
    let who = a.email.to_string();
    let role = RwSignal::new(a.role.as_str().to_owned());
    let act = move |what: &'static str, role: Option<Role>, done: String| {
        spawn_local(async move {
            match api::change_account(id, what, role).await {
                Ok(_) => {
                    said.set(Some(Ok(done)));
                    reload();
                }
                Err(f) => said.set(Some(Err(f.message))),
            }
        });
    };
    let status = match (a.status, a.invite_failed) {
        (AccountStatus::Active, _) => "Active",
        (AccountStatus::Invited, false) => "Invited",
        (AccountStatus::Invited, true) => "Invited: the email could not be delivered",
        (AccountStatus::Disabled, _) => "Disabled",
    };
    let (w1, w2, w3, w4) = (who.clone(), who.clone(), who.clone(), who.clone());
    view! {
        <tr>
            <td>{a.display_name.as_str().to_owned()}</td>
            <td>{who.clone()}</td>
            <td>
                {if own {
                    view! { {a.role.as_str()}" (you)" }.into_any()
                } else {
                    view! {
                        <RoleSelect id=format!("role-{id}") value=role label=format!("Role of {who}")/>
                        " "
                        <button type="button" class="button quiet" aria-label=format!("Save role of {who}")
                            on:click=move |_| act("role", role.get_untracked().parse().ok(), format!("{w1} has a new role; it applies when they next sign in."))>"Save role"</button>
                    }.into_any()
                }}
            </td>
            <td>{status}</td>
            <td>{if a.second_factor { "Set up" } else { "None" }}</td>
            <td>{a.last_sign_in.map_or_else(|| "Never".to_owned(), format_time)}</td>
            <td class="row-actions">
                {(!own).then(|| match a.status {
                    AccountStatus::Disabled => view! {
                        <button type="button" class="button quiet" aria-label=format!("Enable {who}")
                            on:click=move |_| act("enable", None, format!("{w2} is enabled."))>"Enable"</button>
                    }.into_any(),
                    _ => view! {
                        <button type="button" class="button quiet" aria-label=format!("Disable {who}")
                            on:click=move |_| act("disable", None, format!("{w3} is disabled and signed out everywhere."))>"Disable"</button>
                    }.into_any(),
                })}
                {(a.status == AccountStatus::Invited).then(|| view! {
                    " "
                    <button type="button" class="button quiet" aria-label=format!("Invite again: {who}")
                        on:click=move |_| act("invite", None, format!("A new invitation is on its way to {w4}."))>"Invite again"</button>
                })}
            </td>
        </tr>
    }
}

/// A CSV of `address,name,role`: checked first, then imported whole or not at all.
#[component]
fn Import(said: Said, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let csv = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<ImportPreview>);
    let check = move |_| {
        spawn_local(async move {
            match api::import_preview(csv.get_untracked()).await {
                Ok(p) => preview.set(Some(p)),
                Err(f) => said.set(Some(Err(f.message))),
            }
        });
    };
    let import = move |_| {
        spawn_local(async move {
            match api::import(csv.get_untracked()).await {
                Ok(done) => {
                    said.set(Some(Ok(format!("{} accounts created and invited.", done.created))));
                    preview.set(None);
                    csv.set(String::new());
                    reload();
                }
                Err(f) => said.set(Some(Err(f.message))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">"Import accounts"</h2>
            <div class="field">
                <label for="import-csv">"Accounts, one a line: address, name, role"</label>
                <p class="field-hint" id="import-hint">"Paste from a spreadsheet saved as CSV. The role is staff, ig or admin (staff if left out). Nothing is created until every line is right."</p>
                <textarea id="import-csv" rows="6" spellcheck="false" aria-describedby="import-hint" bind:value=csv></textarea>
            </div>
            <button type="button" class="button secondary" on:click=check>"Check the accounts"</button>
            <p role="status">{move || preview.with(|p| p.as_ref().map(|p| format!("{} ready, {} with a problem.", p.ready, p.problems)))}</p>
            {move || preview.get().map(|p| {
                let ready = p.ready;
                let clean = p.problems == 0 && ready > 0;
                view! {
                    <div class="table-scroll" role="region" aria-label="The accounts in the file" tabindex="0"><table class="table">
                        <caption class="visually-hidden">"The accounts in the file"</caption>
                        <thead><tr><th scope="col">"Line"</th><th scope="col">"Address"</th><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Check"</th></tr></thead>
                        <tbody>{p.rows.into_iter().map(|r| view! {
                            <tr>
                                <td>{r.line}</td><td>{r.email}</td><td>{r.display_name}</td><td>{r.role}</td>
                                <td>{r.problem.map_or_else(|| view! { "Ready" }.into_any(), |why| view! { <strong class="problem">{why}</strong> }.into_any())}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                    {clean.then(|| view! {
                        <button type="button" class="button" on:click=import>{format!("Create and invite {ready} accounts")}</button>
                    })}
                }
            })}
        </section>
    }
}

/// The effective settings, secrets hidden.
#[component]
fn Settings() -> impl IntoView {
    let rows = LocalResource::new(api::admin_settings);
    view! {
        <section aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <p class="field-hint">"As this server runs them. They are changed in the server's environment; secrets are not shown."</p>
            {move || rows.get().map(|r| match r {
                Ok(list) => view! {
                    <dl class="settings">{list.into_iter().map(|s| view! { <dt>{s.name}</dt><dd>{s.value}</dd> }).collect_view()}</dl>
                }.into_any(),
                Err(f) => view! { <p role="alert">{format!("The settings could not be loaded: {}", f.message)}</p> }.into_any(),
            })}
        </section>
    }
}
