//! Use cases: what the product does, independent of HTTP. Handlers call exactly one of these.

pub mod access;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod bounces;
pub mod break_glass;
pub mod disclosure;
pub mod drafts;
pub mod governance;
pub mod intake;
pub mod legal_hold;
pub mod mailbox;
pub mod notices;
pub mod partner_write;
pub mod portal;
pub mod portal_mail;
pub mod portal_verify;
pub mod reply;
pub mod retention;
pub mod rotation;
pub mod search;
pub mod second_factor;
pub mod send;
pub mod sessions;
pub mod sso;
pub mod uploads;
