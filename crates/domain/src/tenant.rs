//! Councils sharing one deployment (issue 21): each is a tenant, named by a short slug and
//! reached at host names of its own.

use std::fmt;

/// Longest slug, in characters (it names a PostgreSQL schema and role, with a prefix).
pub const MAX_SLUG_CHARS: usize = 30;

/// A tenant's short name: 1 to 30 of `a-z`, `0-9` and `_`, starting with a letter, so it is safe
/// inside an SQL identifier, a directory name and an object-store prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantSlug(String);

/// A host name a tenant answers on: lower case letters, digits, `-` and `.`, 1 to 253
/// characters, no port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostName(String);

/// Why a slug or host name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantNameError {
    /// Not a slug.
    #[error("A tenant's short name is 1 to 30 lower-case letters, digits or underscores, starting with a letter (e.g. north_council).")]
    Slug,
    /// Not a host name.
    #[error("A host name is letters, digits, hyphens and dots, without a port or a path (e.g. sealpost.north.gov.uk).")]
    Host,
}

impl TenantSlug {
    /// Parses a slug, as written (no case folding: the slug names directories).
    pub fn parse(input: &str) -> Result<Self, TenantNameError> {
        let mut chars = input.chars();
        let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if first_is_letter && rest_ok && input.len() <= MAX_SLUG_CHARS {
            Ok(Self(input.to_owned()))
        } else {
            Err(TenantNameError::Slug)
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl HostName {
    /// Parses a host name, in any case (host names are case-insensitive), trimming spaces.
    pub fn parse(input: &str) -> Result<Self, TenantNameError> {
        let host = input.trim().to_ascii_lowercase();
        let labels_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if labels_ok && host.len() <= 253 {
            Ok(Self(host))
        } else {
            Err(TenantNameError::Host)
        }
    }

    /// The host part of an HTTP `Host` header (`name` or `name:port`, a final dot ignored),
    /// if it is a host name.
    pub fn from_header(value: &str) -> Option<Self> {
        let name = match value.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => value,
        };
        Self::parse(name.strip_suffix('.').unwrap_or(name)).ok()
    }

    /// The host name of a URL such as `https://name:port/path`, if it has one.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        Self::from_header(rest.split(['/', '?', '#']).next().unwrap_or_default())
    }

    /// The host name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_identifiers() {
        for good in ["north", "north_council", "a1", "abcdefghijklmnopqrstuvwxyz0123"] {
            assert_eq!(TenantSlug::parse(good).map(|s| s.to_string()), Ok(good.to_owned()));
        }
        for bad in [
            "",
            "North",
            "1north",
            "_north",
            "north-council",
            "north;drop",
            "abcdefghijklmnopqrstuvwxyz01234",
            "nörth",
        ] {
            assert_eq!(TenantSlug::parse(bad), Err(TenantNameError::Slug), "{bad}");
        }
    }

    #[test]
    fn host_names_are_lower_cased_and_a_header_loses_its_port() {
        assert_eq!(
            HostName::parse(" Sealpost.North.GOV.uk ").unwrap().as_str(),
            "sealpost.north.gov.uk"
        );
        for bad in ["", "a..b", "-a.uk", "a-.uk", "a.uk/path", "a.uk:443", "a b.uk", "ä.uk"] {
            assert_eq!(HostName::parse(bad), Err(TenantNameError::Host), "{bad}");
        }
        assert_eq!(HostName::from_header("north.test:8080").unwrap().as_str(), "north.test");
        assert_eq!(HostName::from_header("NORTH.test").unwrap().as_str(), "north.test");
        assert_eq!(HostName::from_header("127.0.0.1:9000").unwrap().as_str(), "127.0.0.1");
        assert!(HostName::from_header("[::1]:8080").is_none());
        assert_eq!(
            HostName::from_header("north.test.").unwrap().as_str(),
            "north.test",
            "a final dot is the same name"
        );
        assert_eq!(
            HostName::from_url("https://Sealpost.North.gov.uk:8443/x").unwrap().as_str(),
            "sealpost.north.gov.uk"
        );
        assert_eq!(HostName::from_url("http://127.0.0.1:8080").unwrap().as_str(), "127.0.0.1");
    }
}
