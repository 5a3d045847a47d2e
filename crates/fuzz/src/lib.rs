//! Sealpost's fuzz targets (SECURITY D7). Each takes arbitrary bytes, feeds them to one parser
//! of outside input, and panics only when an invariant breaks; a crash is a finding.
//!
//! - [`message_text`]: how a message's text is split into text and links for display;
//! - [`multipart`]: an upload form as the server reads it (multer, the parser under axum's
//!   `Multipart`), with the file names made safe as uploads make them;
//! - [`tokens`]: link and session tokens, message references, addresses, names, audit objects,
//!   chain heads and checkpoint files, each read back from what it prints;
//! - [`audit_verifier`]: a chain built from the bytes, then edited, must be refused;
//! - [`mime_intake`]: mail from Outlook/Exchange as the SMTP intake parses it (mail-parser).
//!
//! libFuzzer drives them from `fuzz/` (`cargo xtask fuzz`, nightly); this crate's tests drive
//! them on stable with random and hand-made inputs, in the test command.

// A fuzz target's whole job is to panic when an invariant breaks.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod audit_verifier;
mod mime;
mod multipart;
mod text;
mod tokens;

pub use audit_verifier::audit_verifier;
pub use mime::mime_intake;
pub use multipart::multipart;
pub use text::message_text;
pub use tokens::tokens;

/// A fuzz target: arbitrary bytes in, a panic only on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target by name; each has a libFuzzer entry in `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: &[(&str, Target)] = &[
    ("message_text", message_text),
    ("multipart", multipart),
    ("tokens", tokens),
    ("audit_verifier", audit_verifier),
    ("mime_intake", mime_intake),
];
