//! Sealpost's outgoing mail: the only crate that names lettre.
//!
//! It builds the notification an external recipient receives (SECURITY B5: sender, organisation,
//! marking, reference and link; never the subject, body or file names) and sends it through a
//! pooled SMTP transport, or writes it as an `.eml` file when no relay is configured. Header
//! values pass through lettre's encoder, so no user text can inject a header.

mod code;
mod invite;
mod notice;
mod notification;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;

pub use code::CodeEmail;
pub use invite::InviteEmail;
pub use notice::StaffNotice;
pub use notification::Notification;
pub use transport::{MailError, Mailer, SendError};
