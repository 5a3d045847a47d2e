//! The Sealpost browser app: a Leptos client-side app compiled to wasm, served by the server,
//! talking only to the documented `/api/v1` (through [`api`]). It holds no secrets: the
//! session is an HttpOnly cookie the app never sees.

mod api;
mod auth;
mod components;
mod draft;
mod file_picker;
mod pages;
mod upload;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::auth::{Auth, RequireSignIn};
use crate::pages::{
    Admin, Archive, Audit, AuditMessage, Compose, Deleted, Drafts, Home, Inbox, MessagePage, NotFound, PortalLink, PortalPage, Search,
    Sent, Setup, SignInPage, Write,
};

/// Entry point called by the generated JavaScript.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The whole app: the session check, then the routes.
#[component]
fn App() -> impl IntoView {
    let auth = Auth::provide();
    auth.refresh();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to main content"</a>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/") view=Home/>
                <Route path=path!("/signin") view=SignInPage/>
                <Route path=path!("/setup/:token") view=Setup/>
                <Route path=path!("/s/:token") view=PortalLink/>
                <Route path=path!("/portal") view=PortalPage/>
                <Route path=path!("/write") view=Write/>
                <Route path=path!("/portal/messages/:id") view=PortalPage/>
                <Route path=path!("/inbox") view=|| view! { <RequireSignIn><Inbox/></RequireSignIn> }/>
                <Route path=path!("/compose") view=|| view! { <RequireSignIn><Compose/></RequireSignIn> }/>
                <Route path=path!("/drafts") view=|| view! { <RequireSignIn><Drafts/></RequireSignIn> }/>
                <Route path=path!("/sent") view=|| view! { <RequireSignIn><Sent/></RequireSignIn> }/>
                <Route path=path!("/archive") view=|| view! { <RequireSignIn><Archive/></RequireSignIn> }/>
                <Route path=path!("/deleted") view=|| view! { <RequireSignIn><Deleted/></RequireSignIn> }/>
                <Route path=path!("/search") view=|| view! { <RequireSignIn><Search/></RequireSignIn> }/>
                <Route path=path!("/messages/:id") view=|| view! { <RequireSignIn><MessagePage/></RequireSignIn> }/>
                <Route path=path!("/admin") view=|| view! { <RequireSignIn><Admin/></RequireSignIn> }/>
                <Route path=path!("/audit") view=|| view! { <RequireSignIn><Audit/></RequireSignIn> }/>
                <Route path=path!("/audit/messages/:reference") view=|| view! { <RequireSignIn><AuditMessage/></RequireSignIn> }/>
            </Routes>
        </Router>
    }
}
