//! Single sign-on with the council's OpenID provider (issue 17): the authorization code flow
//! with PKCE, state and nonce, through `sealpost-identity`.
//!
//! The first leg stores the nonce and PKCE verifier under the hash of a fresh state, and the
//! browser keeps the state in a short-lived cookie; the provider sends the browser back with a
//! code and the state. The callback needs both the cookie and the stored row (taken as it is
//! read, so a state works once), then the provider's verified ID token. The person is found by
//! the id the provider keeps for them (`oid`), or, the first time, by an address the provider
//! vouches for, and linked. A token that says a second factor was used (`amr: mfa`), or a
//! provider trusted to require one (`SEALPOST_OIDC_PROVIDER_MFA`), makes a full sign-in;
//! otherwise Sealpost's own second factor follows, as for a password.

use std::net::IpAddr;

use sealpost_crypto::{Token, TokenHash};
use sealpost_domain::{DisplayName, EmailAddress, Role};
use sealpost_identity::IdentityError;
use sealpost_storage::{NewUser, PendingSso, SessionStage, UserRecord};

use crate::app::audit::Object;
use crate::app::audit::{self, Action, Actor, Outcome, RequestMeta};
use crate::app::auth::SignedIn;
use crate::app::{second_factor, sessions};
use crate::error::AppError;
use crate::state::AppState;

/// Where the provider sends the browser back (registered with the provider as the redirect URI).
pub const CALLBACK_PATH: &str = "/api/v1/auth/sso/callback";

/// How long a sign-in may spend at the provider.
pub const PENDING_MS: i64 = 10 * 60_000;

/// Why a single sign-on did not sign anyone in. Each has a stable code that the sign-in page
/// turns into a sentence (`/signin?sso=CODE`).
#[derive(Debug)]
pub enum Refusal {
    /// Single sign-on is not set up.
    Off,
    /// Too many starts from this network.
    Busy,
    /// The provider could not be reached.
    Unavailable,
    /// The person cancelled at the provider, or it refused them.
    Cancelled,
    /// No sign-in is waiting for this state: too old, used already, or started in another
    /// browser.
    Expired,
    /// The provider's answer failed a check (signature, issuer, audience, expiry, nonce).
    Refused,
    /// The provider vouched for someone with no account here.
    NoAccount,
    /// The account is disabled.
    Disabled,
    /// The account with the person's address is linked to someone else at the provider.
    LinkedElsewhere,
    /// Something on our side failed; logged.
    Failed(AppError),
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Busy => "busy",
            Self::Unavailable => "unavailable",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Refused => "refused",
            Self::NoAccount => "no_account",
            Self::Disabled => "disabled",
            Self::LinkedElsewhere => "linked_elsewhere",
            Self::Failed(_) => "error",
        }
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

impl From<sealpost_storage::StorageError> for Refusal {
    fn from(e: sealpost_storage::StorageError) -> Self {
        Self::Failed(e.into())
    }
}

fn provider(state: &AppState) -> Result<&sealpost_identity::Provider, Refusal> {
    state.sso.as_ref().ok_or(Refusal::Off)
}

fn unavailable(e: &IdentityError) -> Refusal {
    tracing::warn!(error = %e, "single sign-on: the identity provider is unavailable");
    Refusal::Unavailable
}

/// A sign-in sent to the provider: where to send the browser, and the state it must keep.
pub struct Started {
    /// The provider's authorization URL.
    pub url: String,
    /// Goes into the browser's short-lived cookie.
    pub state: Token,
}

/// The first leg.
pub async fn start(state: &AppState, ip: IpAddr) -> Result<Started, Refusal> {
    let provider = provider(state)?;
    state.sso_limiter.check(ip, state.now_ms()).map_err(|_| Refusal::Busy)?;
    let token = Token::generate().map_err(|e| Refusal::Failed(AppError::Internal(e.into())))?;
    let start = provider.start(token.expose_hex().to_owned()).await.map_err(|e| unavailable(&e))?;
    let pending = PendingSso {
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
    };
    state.store.start_sso(&token.hash(), &pending, state.now_ms()).await?;
    Ok(Started {
        url: start.url,
        state: token,
    })
}

/// What the provider sent the browser back with.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state we sent.
    pub state: Option<String>,
    /// Set instead of a code when the person cancelled or the provider refused.
    pub error: Option<String>,
    /// The issuer (RFC 9207), when the provider names itself.
    pub iss: Option<String>,
}

/// The second leg: signs the person in, ending any session the browser presented (A8).
pub async fn finish(
    state: &AppState,
    ip: IpAddr,
    meta: &RequestMeta,
    back: Callback,
    kept_state: Option<TokenHash>,
    previous: Option<&TokenHash>,
) -> Result<SignedIn, Refusal> {
    let provider = provider(state)?;
    // A failed callback costs the network a place under the sign-in limit, as a wrong
    // password does; a good one gives it back.
    state.login_limiter.check(ip, state.now_ms()).map_err(|_| Refusal::Busy)?;
    // The state in the address must be the one this browser was given (no login CSRF), and
    // still waiting (once, ten minutes).
    let sent = back.state.as_deref().and_then(Token::parse).map(|t| t.hash());
    let pending = match (sent, kept_state) {
        (Some(sent), Some(kept)) if sent == kept => state.store.take_sso(&sent, state.now_ms() - PENDING_MS).await?,
        _ => None,
    };
    if let Some(error) = back.error.as_deref() {
        // The provider's own code (e.g. Entra's access_denied: not assigned to the app), cut
        // to a safe token for IT's logs.
        let code: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
        tracing::info!(provider_error = %code, "single sign-on: the provider sent the person back without signing them in");
        return Err(Refusal::Cancelled);
    }
    let pending = pending.ok_or(Refusal::Expired)?;
    if back.iss.as_deref().is_some_and(|iss| iss != provider.issuer()) {
        tracing::warn!("single sign-on refused: the answer names another issuer");
        return Err(refused(state, meta).await);
    }
    let code = back.code.ok_or(Refusal::Cancelled)?;
    let now_secs = state.now_ms() / 1000;
    let identity = match provider.finish(&code, &pending.nonce, &pending.pkce_verifier, now_secs).await {
        Ok(identity) => identity,
        Err(e @ IdentityError::Unavailable(_)) => return Err(unavailable(&e)),
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on refused");
            return Err(refused(state, meta).await);
        }
    };
    let user = account_for(state, meta, &identity).await?;
    if user.disabled {
        audit::record(state, meta, &Actor::User(user.id), Action::SsoSignIn, None, Outcome::Failure).await?;
        return Err(Refusal::Disabled);
    }
    state.login_limiter.refund(ip);
    let provider_mfa = state.settings.oidc.as_ref().is_some_and(|o| o.provider_mfa);
    let stage = if identity.mfa || provider_mfa {
        SessionStage::Full
    } else {
        // Sealpost's own second factor, as after a password.
        second_factor::stage_after_password(state, &user)
    };
    let token = sessions::start(state, user.id, previous, stage).await?;
    audit::record(state, meta, &Actor::User(user.id), Action::SsoSignIn, None, Outcome::Success).await?;
    tracing::info!(user = %user.id, outcome = "success", "signed in through single sign-on");
    Ok(SignedIn {
        token,
        device: None,
        me: crate::app::auth::me_at(state, user, stage),
    })
}

/// Records a provider answer that failed a check (no person can be named: nothing about it is
/// trusted), and refuses.
async fn refused(state: &AppState, meta: &RequestMeta) -> Refusal {
    match audit::record(state, meta, &Actor::System, Action::SsoRefused, None, Outcome::Failure).await {
        Ok(()) => Refusal::Refused,
        Err(e) => Refusal::Failed(e),
    }
}

/// The account the provider's person holds: the one linked to their id, or else the one with
/// their address (linked now, if it is not linked to someone else), or else a new staff
/// account when the council allows it.
async fn account_for(state: &AppState, meta: &RequestMeta, identity: &sealpost_identity::Identity) -> Result<UserRecord, Refusal> {
    if let Some(user) = state.store.user_by_sso_id(&identity.link_id).await? {
        return Ok(user);
    }
    let email = identity.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()).ok_or_else(|| {
        tracing::warn!("single sign-on refused: the provider gave no usable address for an unlinked person");
        Refusal::NoAccount
    })?;
    let user = match state.store.user_by_email(&email).await? {
        Some(user) => user,
        // Entra guests (`…#EXT#@tenant`) are people from elsewhere, never made staff.
        None if state.settings.oidc.as_ref().is_some_and(|o| o.autocreate) && !email.as_str().contains("#ext#") => {
            let name = identity
                .name
                .as_deref()
                .and_then(|n| DisplayName::parse(n).ok())
                .or_else(|| DisplayName::parse(email.as_str().split('@').next().unwrap_or_default()).ok())
                .ok_or(Refusal::NoAccount)?;
            let new = NewUser {
                email: email.clone(),
                display_name: name,
                role: Role::Staff,
                password_hash: None,
            };
            let id = state.store.create_user(&new, state.now_ms()).await?;
            audit::record(state, meta, &Actor::User(id), Action::SsoCreated, None, Outcome::Success).await?;
            state.store.user_by_id(id).await?.ok_or(Refusal::NoAccount)?
        }
        None => {
            let person = Some(Object::Person(email.clone()));
            audit::record(state, meta, &Actor::SigningIn(email), Action::SsoSignIn, person, Outcome::Failure).await?;
            return Err(Refusal::NoAccount);
        }
    };
    // An account already linked to another person at the provider is not theirs, whatever the
    // address claim says (an address can be given to someone else later).
    let person = Some(Object::Person(user.email.clone()));
    if !state.store.link_sso(user.id, &identity.link_id).await? {
        audit::record(state, meta, &Actor::User(user.id), Action::SsoLinked, person, Outcome::Failure).await?;
        tracing::warn!(user = %user.id, "single sign-on refused: the account is linked to someone else at the provider");
        return Err(Refusal::LinkedElsewhere);
    }
    audit::record(state, meta, &Actor::User(user.id), Action::SsoLinked, person, Outcome::Success).await?;
    Ok(user)
}
