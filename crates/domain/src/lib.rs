//! Sealpost's domain: the types that give ids, addresses, roles and API payloads their meaning.
//!
//! Shared by the server and the wasm web app, so it must never do I/O, read the clock or
//! depend on anything that does not build for `wasm32-unknown-unknown`.

pub mod api;
pub mod api_admin;
pub mod api_audit;
pub mod api_drafts;
pub mod api_messages;
pub mod api_search;
pub mod api_write;
mod email;
mod file_name;
pub mod hex;
mod ids;
mod message;
mod names;
mod password_policy;
mod role;
mod tenant;
pub mod text;
pub mod time;
pub mod unicode;

pub use email::{EmailAddress, EmailError, MAX_EMAIL_LEN};
pub use file_name::{sanitise_file_name, viewable_type};
pub use ids::UserId;
pub use message::{AttachmentId, Limits, Marking, MarkingPolicy, MessageId, Policy, REFERENCE_ALPHABET, RecipientId, Reference, ReplyId};
pub use names::{DisplayName, DisplayNameError, PhoneNumber, PhoneNumberError};
pub use password_policy::{PasswordPolicyError, check_password_policy};
pub use role::{Role, RoleError};
pub use tenant::{HostName, TenantNameError, TenantSlug};
