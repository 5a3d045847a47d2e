//! Use cases: what the product does, independent of HTTP. Handlers call exactly one of these.

pub mod auth;
pub mod rate_limit;
pub mod sessions;
