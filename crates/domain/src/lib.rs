//! Sealpost's domain: the types that give ids, addresses, roles and API payloads their meaning.
//!
//! Shared by the server and the wasm web app, so it must never do I/O, read the clock or
//! depend on anything that does not build for `wasm32-unknown-unknown`.

pub mod api;
mod email;
mod ids;
mod names;
mod password_policy;
mod role;

pub use email::{EmailAddress, EmailError};
pub use ids::UserId;
pub use names::{DisplayName, DisplayNameError};
pub use password_policy::{PasswordPolicyError, check_password_policy};
pub use role::{Role, RoleError};
