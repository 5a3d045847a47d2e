//! Single sign-on with the council's OpenID provider (Microsoft Entra ID, or any certified
//! provider): the authorization code flow with PKCE, state and nonce. The ID token's signature is
//! checked against the provider's published keys (JWKS), and so are its issuer, audience, expiry
//! and nonce. This is the only crate that names `openidconnect` and the HTTP client it brings.
//!
//! The caller keeps the state, nonce and PKCE verifier of each [`Start`] between the two legs,
//! and makes each state usable once; this crate holds no per-sign-in state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// How long the provider's discovery document and keys are trusted before they are fetched
/// again. A token signed by a key not yet seen fetches them at once (key rotation).
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// How long a call to the provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What an operator configures.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The issuer, exactly as the provider's discovery document names it; for Entra ID
    /// `https://login.microsoftonline.com/<tenant id>/v2.0`.
    pub issuer: String,
    /// The application (client) id registered with the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
    /// Where the provider sends the browser back: Sealpost's callback URL.
    pub redirect_url: String,
}

/// The first leg: where to send the browser, and what to keep until it comes back.
pub struct Start {
    /// The provider's authorization URL with every parameter set.
    pub url: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier the code exchange must present.
    pub pkce_verifier: String,
}

/// Who the provider says signed in, from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The stable id to link an account by: Entra's object id (`oid`) when present, which is
    /// the same for every application, or else the subject (`sub`).
    pub link_id: String,
    /// An address the provider vouches for: `email` when the provider marks it verified, or
    /// in Entra ID (a token with `tid`) the sign-in name `preferred_username`, which only the
    /// directory's administrators can set. `None` when neither holds.
    pub email: Option<String>,
    /// The provider says the person used more than one factor (`amr` holds `mfa`).
    pub mfa: bool,
    /// The person's name, when the provider gives one.
    pub name: Option<String>,
}

/// Why single sign-on could not go on.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The settings cannot work (e.g. a multi-tenant Entra issuer).
    #[error("{0}")]
    Config(String),
    /// The provider could not be reached, or answered something that is not OpenID Connect.
    #[error("the identity provider could not be reached: {0}")]
    Unavailable(String),
    /// The provider refused the code (used, expired, or not ours).
    #[error("the identity provider refused the sign-in: {0}")]
    CodeRefused(String),
    /// The ID token failed a check: signature, issuer, audience, expiry, nonce or tenant.
    #[error("the ID token was refused: {0}")]
    TokenRefused(String),
}

/// Claims beyond the standard ones that Entra ID issues.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EntraClaims {
    /// The person's object id in the directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oid: Option<String>,
    /// The directory (tenant) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
}

impl AdditionalClaims for EntraClaims {}

type Fields =
    IdTokenFields<EntraClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type IdToken = openidconnect::IdToken<EntraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type OidcClient = Client<
    EntraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The council's identity provider. Cheap to share; discovery happens on first use, so the
/// server starts while the provider is down.
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_url: RedirectUrl,
    http: openidconnect::reqwest::Client,
    metadata: Mutex<Option<(Arc<CoreProviderMetadata>, Instant)>>,
}

impl Provider {
    /// Checks the configuration; contacts nobody.
    pub fn new(config: ProviderConfig) -> Result<Self, IdentityError> {
        let issuer = config.issuer.trim().to_owned();
        // Entra's shared endpoints name a templated issuer (`{tenantid}`) that no token carries.
        let last = |name: &str| {
            issuer
                .trim_end_matches('/')
                .trim_end_matches("/v2.0")
                .ends_with(&format!("/{name}"))
        };
        if ["common", "organizations", "consumers"].into_iter().any(last) {
            return Err(IdentityError::Config(
                "the issuer must be the tenant's own (https://login.microsoftonline.com/<tenant id>/v2.0), not common, organizations or consumers".into(),
            ));
        }
        let issuer = IssuerUrl::new(issuer).map_err(|e| IdentityError::Config(format!("the issuer is not a URL: {e}")))?;
        let redirect_url =
            RedirectUrl::new(config.redirect_url).map_err(|e| IdentityError::Config(format!("the redirect URL is not a URL: {e}")))?;
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider send the client anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| IdentityError::Config(format!("no HTTP client: {e}")))?;
        Ok(Self {
            issuer,
            client_id: ClientId::new(config.client_id),
            client_secret: ClientSecret::new(config.client_secret.expose_secret().to_owned()),
            redirect_url,
            http,
            metadata: Mutex::new(None),
        })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The provider's discovery document and keys: cached for an hour, or fetched now when
    /// `fresh`.
    async fn metadata(&self, fresh: bool) -> Result<Arc<CoreProviderMetadata>, IdentityError> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, at)) = cached.as_ref()
            && !fresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| IdentityError::Unavailable(error_chain(&e)))?;
        let metadata = Arc::new(metadata);
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn client(&self, metadata: &CoreProviderMetadata) -> OidcClient {
        OidcClient::from_provider_metadata(metadata.clone(), self.client_id.clone(), Some(self.client_secret.clone()))
            .set_redirect_uri(self.redirect_url.clone())
    }

    /// The first leg: a fresh nonce and PKCE pair, and the provider URL, carrying `state`
    /// (the caller's random value), to send the browser to.
    pub async fn start(&self, state: String) -> Result<Start, IdentityError> {
        let metadata = self.metadata(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = self
            .client(&metadata)
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Start {
            url: url.into(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The second leg: exchanges `code` (with the PKCE verifier) for tokens and verifies the ID
    /// token against the provider's keys, this client's id, `nonce` and the time `now_secs`.
    pub async fn finish(&self, code: &str, nonce: &str, pkce_verifier: &str, now_secs: i64) -> Result<Identity, IdentityError> {
        let metadata = self.metadata(false).await?;
        let tokens = self
            .client(&metadata)
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| IdentityError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(answer) => IdentityError::CodeRefused(answer.error().to_string()),
                other => IdentityError::Unavailable(error_chain(&other)),
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| IdentityError::TokenRefused("the provider sent no ID token".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        match self.verify(&metadata, id_token, &nonce, now_secs) {
            // A key we have not seen: the provider may have rotated its keys since we fetched them.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let metadata = self.metadata(true).await?;
                self.verify(&metadata, id_token, &nonce, now_secs)
            }
            checked => checked,
        }
        .map_err(|e| IdentityError::TokenRefused(e.to_string()))
    }

    fn verify(
        &self,
        metadata: &CoreProviderMetadata,
        id_token: &IdToken,
        nonce: &Nonce,
        now_secs: i64,
    ) -> Result<Identity, ClaimsVerificationError> {
        let client = self.client(metadata);
        let now = chrono::DateTime::from_timestamp(now_secs, 0).unwrap_or_default();
        let verifier = client.id_token_verifier().set_time_fn(move || now);
        let claims = id_token.claims(&verifier, nonce)?;
        let extra = claims.additional_claims();
        // Entra: a token from another directory is never ours, whatever else it says.
        if let Some(tid) = &extra.tid {
            let ours = self
                .issuer
                .url()
                .path_segments()
                .is_some_and(|mut s| s.any(|segment| segment == tid));
            if !ours {
                return Err(ClaimsVerificationError::InvalidIssuer(format!("tenant {tid} is not the issuer's")));
            }
        }
        // An address someone could set for themselves must not pick the account they get.
        let verified = claims.email().filter(|_| claims.email_verified() == Some(true));
        let email = verified
            .map(|e| e.as_str().to_owned())
            .or_else(|| extra.tid.as_ref().and(claims.preferred_username()).map(|u| u.as_str().to_owned()));
        let mfa = claims
            .auth_method_refs()
            .is_some_and(|methods| methods.iter().any(|m| m.as_str() == "mfa"));
        Ok(Identity {
            link_id: extra.oid.clone().unwrap_or_else(|| claims.subject().as_str().to_owned()),
            email,
            mfa,
            name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
        })
    }
}

/// An error and its causes on one line (reqwest hides the useful part in its sources).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> ProviderConfig {
        ProviderConfig {
            issuer: issuer.into(),
            client_id: "sealpost".into(),
            client_secret: SecretString::from("secret"),
            redirect_url: "https://mail.example.gov.uk/api/v1/auth/sso/callback".into(),
        }
    }

    #[test]
    fn entra_shared_issuers_are_refused() {
        for shared in ["common", "organizations", "consumers"] {
            let issuer = format!("https://login.microsoftonline.com/{shared}/v2.0");
            assert!(matches!(Provider::new(config(&issuer)), Err(IdentityError::Config(_))), "{issuer}");
        }
        let tenant = "https://login.microsoftonline.com/5b4f2c6e-9d3a-4e8b-a1c7-2f6d8e0b9a31/v2.0";
        assert_eq!(Provider::new(config(tenant)).unwrap().issuer(), tenant);
    }

    #[test]
    fn a_bad_issuer_or_redirect_is_a_configuration_error() {
        assert!(matches!(Provider::new(config("not a url")), Err(IdentityError::Config(_))));
        let mut bad = config("https://id.example.org");
        bad.redirect_url = "nowhere".into();
        assert!(matches!(Provider::new(bad), Err(IdentityError::Config(_))));
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_unavailable_not_a_panic() {
        // Port 9 (discard) on loopback: nothing answers.
        let provider = Provider::new(config("http://127.0.0.1:9/tenant/v2.0")).unwrap();
        assert!(matches!(provider.start("s".into()).await, Err(IdentityError::Unavailable(_))));
    }
}
