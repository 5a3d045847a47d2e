//! The client's address for rate limiting: the TCP peer, or, when `SEALPOST_TRUST_PROXY` says a
//! reverse proxy sits in front, the last address that proxy appended to `X-Forwarded-For`
//! (earlier entries are whatever the client claimed, so they are ignored).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::middleware::RequestId;
use crate::app::audit::RequestMeta;
use crate::error::AppError;
use crate::state::AppState;

/// The address requests are counted against.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no peer address")))?;
        Ok(ClientIp(client_ip(peer, &parts.headers, state.settings.trust_proxy)))
    }
}

/// Where a request came from, for the audit log.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect());
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        Ok(Meta(RequestMeta {
            ip: Some(ip.to_string()),
            user_agent,
            request_id,
        }))
    }
}

fn client_ip(peer: IpAddr, headers: &HeaderMap, trust_proxy: bool) -> IpAddr {
    if !trust_proxy {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .next_back()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy_and_only_the_last() {
        let peer: IpAddr = [10, 0, 0, 1].into();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 192.0.2.7"));
        assert_eq!(client_ip(peer, &headers, false), peer);
        assert_eq!(client_ip(peer, &headers, true), IpAddr::from([192, 0, 2, 7]));
        assert_eq!(client_ip(peer, &HeaderMap::new(), true), peer);
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_ip(peer, &headers, true), peer);
    }
}
