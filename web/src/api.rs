//! The app's typed API client: every call to `/api/v1` goes through here. State-changing calls
//! carry the CSRF header the server requires; the session cookie travels on its own.

use sealpost_domain::api::{
    ApiError, CSRF_HEADER, CodeRequest, Enrolled, Info, LoginRequest, Me, Preferences, SetupLink, SetupRequest, TotpEnrolment,
};
use sealpost_domain::api_admin::{ImportDone, ImportPreview, ImportRequest, InviteRequest, RoleRequest, SettingView, StaffAccount};
use sealpost_domain::api_audit::{AuditPage, AuditSearch, AuditVerification, BreakGlassAccess, BreakGlassRequest, MessageTimeline};
use sealpost_domain::api_drafts::{Draft, DraftContent, DraftId, DraftSaved, DraftSummary};
use sealpost_domain::api_messages::{
    ComposeInfo, LinkView, MessageDetail, MessageSummary, PortalItem, PortalState, RecipientStatus, RedeemRequest, RegrantRequest,
    RevokeRequest, VerifyRequest,
};
use sealpost_domain::api_messages::{Folder, MailBox, MoveRequest};
use sealpost_domain::api_search::{SearchBox, SearchQuery, SearchResults};
use sealpost_domain::api_write::{WriteStart, WriteState, WriteVerify};
use sealpost_domain::{AttachmentId, MessageId, Role, UserId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Failure {
    /// HTTP status, or 0 when the server could not be reached.
    pub status: u16,
    /// The server's stable error code, when it gave one.
    pub code: String,
    /// The server's explanation, or ours.
    pub message: String,
    /// With `confirm_concerns`: what the sender must look at again before sending.
    pub concerns: Vec<sealpost_domain::api_messages::Concern>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// So a load can fail inside an `ErrorBoundary`, which shows [`Failure::message`].
impl std::error::Error for Failure {}

impl Failure {
    /// The server could not be reached.
    pub fn network() -> Self {
        Self {
            message: "Sealpost could not be reached. Check your connection and try again.".into(),
            ..Self::default()
        }
    }
}

/// `PUT /api/v1/auth/preferences`.
pub async fn set_preferences(notify_by_email: bool) -> Result<Me, Failure> {
    call("PUT", "/api/v1/auth/preferences", Some(&Preferences { notify_by_email })).await
}

/// `GET /api/v1/auth/me`.
pub async fn me() -> Result<Me, Failure> {
    call("GET", "/api/v1/auth/me", None::<&()>).await
}

/// `GET /api/v1/info`.
pub async fn info() -> Result<Info, Failure> {
    call("GET", "/api/v1/info", None::<&()>).await
}

/// `POST /api/v1/auth/login`.
pub async fn login(email: String, password: String) -> Result<Me, Failure> {
    call("POST", "/api/v1/auth/login", Some(&LoginRequest { email, password })).await
}

/// `POST /api/v1/auth/second-factor`.
pub async fn second_factor(code: String) -> Result<Me, Failure> {
    call("POST", "/api/v1/auth/second-factor", Some(&CodeRequest { code })).await
}

/// `POST /api/v1/auth/totp/start`.
pub async fn totp_start() -> Result<TotpEnrolment, Failure> {
    call("POST", "/api/v1/auth/totp/start", None::<&()>).await
}

/// `POST /api/v1/auth/totp/confirm`.
pub async fn totp_confirm(code: String) -> Result<Enrolled, Failure> {
    call("POST", "/api/v1/auth/totp/confirm", Some(&CodeRequest { code })).await
}

/// `POST /api/v1/auth/setup`.
pub async fn setup(token: String, password: String) -> Result<Me, Failure> {
    call("POST", "/api/v1/auth/setup", Some(&SetupRequest { token, password })).await
}

/// `GET /api/v1/auth/setup/{token}`: whose account a set-up link is for.
pub async fn setup_link(token: &str) -> Result<SetupLink, Failure> {
    call("GET", &format!("/api/v1/auth/setup/{token}"), None::<&()>).await
}

/// `POST /api/v1/auth/logout`.
pub async fn logout() -> Result<(), Failure> {
    send("POST", "/api/v1/auth/logout", None::<&()>).await.map(|_| ())
}

/// `GET /api/v1/portal/links/{token}` (read-only).
pub async fn link(token: &str) -> Result<LinkView, Failure> {
    call("GET", &format!("/api/v1/portal/links/{token}"), None::<&()>).await
}

/// `POST /api/v1/portal/redeem`: "Send me a code".
pub async fn portal_redeem(token: String) -> Result<PortalState, Failure> {
    call("POST", "/api/v1/portal/redeem", Some(&RedeemRequest { token })).await
}

/// `GET /api/v1/portal/session`.
pub async fn portal_session() -> Result<PortalState, Failure> {
    call("GET", "/api/v1/portal/session", None::<&()>).await
}

/// `POST /api/v1/portal/verify`.
pub async fn portal_verify(code: String, passphrase: Option<String>) -> Result<PortalState, Failure> {
    call("POST", "/api/v1/portal/verify", Some(&VerifyRequest { code, passphrase })).await
}

/// `GET /api/v1/portal/messages`: every live message to the verified address.
pub async fn portal_messages() -> Result<Vec<PortalItem>, Failure> {
    call("GET", "/api/v1/portal/messages", None::<&()>).await
}

/// `GET /api/v1/portal/messages/{id}`: one message, once verified.
pub async fn portal_message(id: MessageId) -> Result<MessageDetail, Failure> {
    call("GET", &format!("/api/v1/portal/messages/{id}"), None::<&()>).await
}

/// The URL that downloads an attachment of message `id` in the portal.
pub fn portal_attachment_url(id: MessageId, attachment: AttachmentId) -> String {
    format!("/api/v1/portal/messages/{id}/attachments/{attachment}")
}

/// `POST /api/v1/portal/signout`: ends the portal session.
pub async fn portal_sign_out() -> Result<(), Failure> {
    send("POST", "/api/v1/portal/signout", None::<&()>).await.map(|_| ())
}

/// `POST /api/v1/portal/code`: a new code.
pub async fn portal_resend() -> Result<(), Failure> {
    send("POST", "/api/v1/portal/code", None::<&()>).await.map(|_| ())
}

/// `GET /api/v1/compose`.
pub async fn compose_info() -> Result<ComposeInfo, Failure> {
    call("GET", "/api/v1/compose", None::<&()>).await
}

/// `GET /api/v1/messages?box=inbox|sent`.
pub async fn list(mailbox: MailBox) -> Result<Vec<MessageSummary>, Failure> {
    let name = match mailbox {
        MailBox::Inbox => "inbox",
        MailBox::Sent => "sent",
        MailBox::Archive => "archive",
        MailBox::Deleted => "deleted",
    };
    call("GET", &format!("/api/v1/messages?box={name}"), None::<&()>).await
}

/// `GET /api/v1/messages/{id}`.
pub async fn message(id: MessageId) -> Result<MessageDetail, Failure> {
    call("GET", &format!("/api/v1/messages/{id}"), None::<&()>).await
}

/// `GET /api/v1/write/session`: where a `/write` visit stands.
pub async fn write_session() -> Result<WriteState, Failure> {
    call("GET", "/api/v1/write/session", None::<&()>).await
}

/// `POST /api/v1/write/start`: emails a code to `from`.
pub async fn write_start(from: String, to: String) -> Result<WriteState, Failure> {
    call("POST", "/api/v1/write/start", Some(&WriteStart { from, to })).await
}

/// `POST /api/v1/write/code`: a new code.
pub async fn write_resend() -> Result<(), Failure> {
    send("POST", "/api/v1/write/code", None::<&()>).await.map(|_| ())
}

/// `POST /api/v1/write/verify`.
pub async fn write_verify(code: String) -> Result<WriteState, Failure> {
    call("POST", "/api/v1/write/verify", Some(&WriteVerify { code })).await
}

/// `GET /api/v1/search`: the person's own mail matching `s`.
pub async fn search(s: &SearchQuery) -> Result<SearchResults, Failure> {
    let mailbox = match s.mailbox {
        SearchBox::All => None,
        SearchBox::Inbox => Some("inbox"),
        SearchBox::Sent => Some("sent"),
        SearchBox::Drafts => Some("drafts"),
    };
    let pairs = [
        ("q", s.q.as_deref()),
        ("who", s.who.as_deref()),
        ("from", s.from.as_deref()),
        ("to", s.until.as_deref()),
        ("box", mailbox),
    ];
    let given: Vec<String> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", js_sys::encode_uri_component(v))))
        .collect();
    call("GET", &format!("/api/v1/search?{}", given.join("&")), None::<&()>).await
}

/// `GET /api/v1/drafts`: the person's drafts, last saved first.
pub async fn drafts() -> Result<Vec<DraftSummary>, Failure> {
    call("GET", "/api/v1/drafts", None::<&()>).await
}

/// `GET /api/v1/drafts/{id}`.
pub async fn draft(id: DraftId) -> Result<Draft, Failure> {
    call("GET", &format!("/api/v1/drafts/{id}"), None::<&()>).await
}

/// Saves `content`: `POST /api/v1/drafts` for a new draft (`id` is `None`), else
/// `PUT /api/v1/drafts/{id}`.
pub async fn save_draft(id: Option<DraftId>, content: &DraftContent) -> Result<DraftSaved, Failure> {
    match id {
        None => call("POST", "/api/v1/drafts", Some(content)).await,
        Some(id) => call("PUT", &format!("/api/v1/drafts/{id}"), Some(content)).await,
    }
}

/// [`save_draft`] as the page goes away: the browser finishes the request after the page is
/// gone (`keepalive`), and nobody is waiting for the answer.
pub fn save_draft_on_leaving(id: Option<DraftId>, content: &DraftContent) {
    let Ok(json) = serde_json::to_string(content) else { return };
    let (method, path) = match id {
        None => ("POST", "/api/v1/drafts".to_owned()),
        Some(id) => ("PUT", format!("/api/v1/drafts/{id}")),
    };
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_body(&JsValue::from_str(&json));
    let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    let Ok(request) = Request::new_with_str_and_init(&path, &init) else {
        return;
    };
    let _ = request.headers().set("content-type", "application/json");
    let _ = request.headers().set(CSRF_HEADER, "1");
    if let Some(window) = web_sys::window() {
        let _ = window.fetch_with_request(&request);
    }
}

/// `DELETE /api/v1/drafts/{id}`.
pub async fn discard_draft(id: DraftId) -> Result<(), Failure> {
    send("DELETE", &format!("/api/v1/drafts/{id}"), None::<&()>).await.map(|_| ())
}

/// `DELETE /api/v1/drafts/{id}/attachments/{attachment}`.
pub async fn remove_draft_file(id: DraftId, attachment: AttachmentId) -> Result<(), Failure> {
    send("DELETE", &format!("/api/v1/drafts/{id}/attachments/{attachment}"), None::<&()>)
        .await
        .map(|_| ())
}

/// `POST /api/v1/messages/{id}/move`: files the message in the caller's own box.
pub async fn move_message(id: MessageId, to: Folder) -> Result<(), Failure> {
    send("POST", &format!("/api/v1/messages/{id}/move"), Some(&MoveRequest { to }))
        .await
        .map(|_| ())
}

/// `GET /api/v1/admin/users`.
pub async fn admin_users() -> Result<Vec<StaffAccount>, Failure> {
    call("GET", "/api/v1/admin/users", None::<&()>).await
}

/// `POST /api/v1/admin/users`.
pub async fn invite(r: &InviteRequest) -> Result<StaffAccount, Failure> {
    call("POST", "/api/v1/admin/users", Some(r)).await
}

/// `POST /api/v1/admin/users/{id}/{what}` (`disable`, `enable`, `invite`), or with a role,
/// `PUT …/role`.
pub async fn change_account(id: UserId, what: &str, role: Option<Role>) -> Result<StaffAccount, Failure> {
    let path = format!("/api/v1/admin/users/{id}/{what}");
    match role {
        Some(role) => call("PUT", &path, Some(&RoleRequest { role })).await,
        None => call("POST", &path, None::<&()>).await,
    }
}

/// `POST /api/v1/admin/import/preview`.
pub async fn import_preview(csv: String) -> Result<ImportPreview, Failure> {
    call("POST", "/api/v1/admin/import/preview", Some(&ImportRequest { csv })).await
}

/// `POST /api/v1/admin/import`.
pub async fn import(csv: String) -> Result<ImportDone, Failure> {
    call("POST", "/api/v1/admin/import", Some(&ImportRequest { csv })).await
}

/// `GET /api/v1/admin/settings`.
pub async fn admin_settings() -> Result<Vec<SettingView>, Failure> {
    call("GET", "/api/v1/admin/settings", None::<&()>).await
}

/// `POST /api/v1/folders/deleted/empty`.
pub async fn empty_deleted() -> Result<(), Failure> {
    send("POST", "/api/v1/folders/deleted/empty", None::<&()>).await.map(|_| ())
}

/// `POST /api/v1/messages/{id}/revoke`.
pub async fn revoke(id: MessageId, recipient: Option<String>) -> Result<Vec<RecipientStatus>, Failure> {
    call("POST", &format!("/api/v1/messages/{id}/revoke"), Some(&RevokeRequest { recipient })).await
}

/// `POST /api/v1/messages/{id}/recall`: undoes the send in its undo window.
pub async fn recall(id: MessageId) -> Result<MessageDetail, Failure> {
    call::<(), _>("POST", &format!("/api/v1/messages/{id}/recall"), None).await
}

/// `POST /api/v1/messages/{id}/regrant`: gives a withdrawn recipient access again.
pub async fn regrant(id: MessageId, recipient: String) -> Result<Vec<RecipientStatus>, Failure> {
    call(
        "POST",
        &format!("/api/v1/messages/{id}/regrant"),
        Some(&RegrantRequest { recipient }),
    )
    .await
}

/// `?reference=…&person=…`: the filters of `s` given, URL-encoded (empty for none).
pub fn audit_query(s: &AuditSearch) -> String {
    let before = s.before.map(|b| b.to_string());
    let pairs = [
        ("reference", s.reference.as_deref()),
        ("person", s.person.as_deref()),
        ("action", s.action.as_deref()),
        ("outcome", s.outcome.as_deref()),
        ("from", s.from.as_deref()),
        ("to", s.to.as_deref()),
        ("before", before.as_deref()),
    ];
    let given: Vec<String> = pairs
        .into_iter()
        .filter_map(|(k, v)| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", js_sys::encode_uri_component(v)))
        })
        .collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", given.join("&"))
    }
}

/// `GET /api/v1/audit/events`: a page of matching events, newest first.
pub async fn audit_search(s: &AuditSearch) -> Result<AuditPage, Failure> {
    call("GET", &format!("/api/v1/audit/events{}", audit_query(s)), None::<&()>).await
}

/// `GET /api/v1/audit/messages/{reference}`: a message's history.
pub async fn audit_timeline(reference: &str) -> Result<MessageTimeline, Failure> {
    let reference = String::from(js_sys::encode_uri_component(reference));
    call("GET", &format!("/api/v1/audit/messages/{reference}"), None::<&()>).await
}

/// `POST /api/v1/audit/messages/{reference}/hold` (`hold`), `DELETE …/hold` (`lift`) or
/// `POST …/erase` (`erase`): the message's timeline after the step.
pub async fn audit_lifecycle(reference: &str, step: &str, reason: Option<String>) -> Result<MessageTimeline, Failure> {
    let reference = String::from(js_sys::encode_uri_component(reference));
    let (method, path) = match step {
        "lift" => ("DELETE", "hold"),
        "erase" => ("POST", "erase"),
        _ => ("POST", "hold"),
    };
    let body = reason.map(|reason| sealpost_domain::api_audit::LifecycleRequest { reason });
    call(method, &format!("/api/v1/audit/messages/{reference}/{path}"), body.as_ref()).await
}

/// The URL that downloads the events matching `s` as CSV.
pub fn audit_export_url(s: &AuditSearch) -> String {
    let whole = AuditSearch { before: None, ..s.clone() };
    format!("/api/v1/audit/export{}", audit_query(&whole))
}

/// `POST /api/v1/audit/break-glass/{reference}`.
pub async fn break_glass(reference: &str, reason: String, password: String) -> Result<BreakGlassAccess, Failure> {
    let reference = String::from(js_sys::encode_uri_component(reference));
    call(
        "POST",
        &format!("/api/v1/audit/break-glass/{reference}"),
        Some(&BreakGlassRequest { reason, password }),
    )
    .await
}

/// `GET /api/v1/audit/break-glass/{reference}`: the content again, while a grant is in force.
pub async fn break_glass_current(reference: &str) -> Result<BreakGlassAccess, Failure> {
    let reference = String::from(js_sys::encode_uri_component(reference));
    call("GET", &format!("/api/v1/audit/break-glass/{reference}"), None::<&()>).await
}

/// The URL that downloads a file within a break-glass grant (`reference` in place of the id).
pub fn break_glass_file_url(reference: &str, attachment: AttachmentId) -> String {
    format!("/api/v1/audit/break-glass/{reference}/attachments/{attachment}")
}

/// `POST /api/v1/audit/verify`.
pub async fn audit_verify() -> Result<AuditVerification, Failure> {
    call("POST", "/api/v1/audit/verify", None::<&()>).await
}

/// The URL that downloads an attachment.
pub fn attachment_url(id: MessageId, attachment: AttachmentId) -> String {
    format!("/api/v1/messages/{id}/attachments/{attachment}")
}

/// Turns an error body into a [`Failure`].
pub fn failure_from(status: u16, text: &str) -> Failure {
    match serde_json::from_str::<ApiError>(text) {
        Ok(e) => Failure {
            status,
            code: e.code,
            message: e.message,
            concerns: e.concerns,
        },
        Err(_) => Failure {
            status,
            message: format!("The server answered {status}. Try again."),
            ..Failure::default()
        },
    }
}

async fn call<B: Serialize, T: DeserializeOwned>(method: &str, path: &str, body: Option<&B>) -> Result<T, Failure> {
    let text = send(method, path, body).await?;
    serde_json::from_str(&text).map_err(|_| Failure {
        status: 200,
        message: "The server sent an answer this page does not understand. Reload the page.".into(),
        ..Failure::default()
    })
}

async fn send<B: Serialize>(method: &str, path: &str, body: Option<&B>) -> Result<String, Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| Failure::network())?;
    let headers = request.headers();
    let _ = headers.set("accept", "application/json");
    if method != "GET" {
        let _ = headers.set(CSRF_HEADER, "1");
    }
    let request = match body {
        Some(b) => {
            let json = serde_json::to_string(b).map_err(|_| Failure::network())?;
            let _ = headers.set("content-type", "application/json");
            init.set_body(&JsValue::from_str(&json));
            Request::new_with_request_and_init(&request, &init).map_err(|_| Failure::network())?
        }
        None => request,
    };
    let window = web_sys::window().ok_or_else(Failure::network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| Failure::network())?
        .dyn_into()
        .map_err(|_| Failure::network())?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        return Ok(text);
    }
    if response.status() == 401 && is_staff_call(path) {
        announce_session_ended();
    }
    Err(failure_from(response.status(), &text))
}

/// The name of the window event that says the staff session has ended on the server.
pub const SESSION_ENDED: &str = "sealpost-session-ended";

/// A staff API call (not sign-in itself, not the partner portal), where a 401 means the
/// session ended while the page was open.
fn is_staff_call(path: &str) -> bool {
    path.starts_with("/api/v1/")
        && !path.starts_with("/api/v1/auth/")
        && !path.starts_with("/api/v1/portal/")
        && !path.starts_with("/api/v1/write/")
}

/// Tells the app the session has ended, so it shows the sign-in form in place of the page (and
/// the header stops naming someone who is no longer signed in).
pub fn announce_session_ended() {
    if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(SESSION_ENDED)) {
        let _ = window.dispatch_event(&event);
    }
}
