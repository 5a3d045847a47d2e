//! The app's pages, one module per screen.

mod mailbox;
mod not_found;
mod setup;
mod shell;
mod sign_in;

pub use mailbox::{Audit, Compose, Inbox, Sent};
pub use not_found::NotFound;
pub use setup::Setup;
pub use shell::Shell;
pub use sign_in::{Home, SignInForm, SignInPage};
