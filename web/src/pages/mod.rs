//! The app's pages, one module per screen.

mod admin;
mod audit;
mod compose;
mod delivery;
mod drafts;
mod mailbox;
mod message;
mod not_found;
mod portal;
mod portal_message;
mod portal_verify;
mod search;
mod second_factor;
mod setup;
mod shell;
mod sign_in;
mod thread;
mod write;

pub use admin::Admin;
pub use audit::{Audit, AuditMessage};
pub use compose::Compose;
pub use drafts::Drafts;
pub use mailbox::{Archive, Deleted, EmptyState, Inbox, Sent};
pub use message::{Conversation, MessageArticle, MessagePage};
pub use not_found::NotFound;
pub use portal::PortalLink;
pub use portal_verify::PortalPage;
pub use search::Search;
pub use second_factor::SecondStep;
pub use setup::Setup;
pub use shell::Shell;
pub use sign_in::{Home, SignInForm, SignInPage};
pub use thread::Replies;
pub use write::Write;
