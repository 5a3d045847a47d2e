//! Sealpost's mail: the only crate that names lettre (outgoing) and mail-parser (mail taken in
//! from the council's own mail system, [`intake`]).
//!
//! It builds the notification an external recipient receives (SECURITY B5: sender, organisation,
//! marking, reference and link; never the subject, body or file names) and sends it through a
//! pooled SMTP transport, or writes it as an `.eml` file when no relay is configured. Header
//! values pass through lettre's encoder, so no user text can inject a header.

#[cfg(feature = "send")]
mod code;
pub mod html;
pub mod intake;
#[cfg(feature = "send")]
mod invite;
#[cfg(feature = "send")]
mod notice;
#[cfg(feature = "send")]
mod notification;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "send")]
mod transport;

#[cfg(feature = "send")]
pub use code::CodeEmail;
#[cfg(feature = "send")]
pub use invite::InviteEmail;
#[cfg(feature = "send")]
pub use notice::StaffNotice;
#[cfg(feature = "send")]
pub use notification::Notification;
#[cfg(feature = "send")]
pub use transport::{MailError, Mailer, SEND_TIMEOUT, SendError};
