//! Use cases: what the product does, independent of HTTP. Handlers call exactly one of these.

pub mod access;
pub mod audit;
pub mod audit_writer;
pub mod auth;
pub mod blob_sweep;
pub mod break_glass;
pub mod checkpoints;
pub mod governance;
pub mod key_cache;
pub mod mailbox;
pub mod notices;
pub mod outbox;
pub mod portal;
pub mod portal_mail;
pub mod portal_verify;
pub mod rate_limit;
pub mod reply;
pub mod send;
pub mod sessions;
pub mod thread;
pub mod uploads;
