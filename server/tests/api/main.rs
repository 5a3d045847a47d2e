//! API integration tests: the real server on port 0, a fresh database per test (SQLite, or
//! PostgreSQL when `SEALPOST_TEST_BACKEND=postgres`), driven over HTTP as a browser would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod admin;
mod assets;
mod audit_chain;
mod auth;
mod break_glass;
mod cli;
mod concerns;
mod conversations;
mod copies;
mod csrf;
mod drafts;
mod faults;
mod folders;
mod governance;
mod headers;
mod intake;
mod limits;
mod memory;
mod messages;
mod notifications;
mod outages;
mod partner;
mod partner_write;
mod policy;
mod portal;
mod portal_races;
mod portal_read;
mod portal_reply;
mod portal_verify;
mod real_server;
mod restore;
mod retention;
mod rotation;
mod search;
mod second_factor;
mod sessions;
mod sso;
mod staff;
mod test_app;
mod timeouts;
mod undo;
mod uploads;
