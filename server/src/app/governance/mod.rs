//! The IG console (PRODUCT journey 6): search the audit log, a message's timeline at a glance,
//! CSV exports, and verifying the chain. For role `ig` only. It shows metadata (who, what,
//! when, from where), never content: subjects, bodies and file names stay sealed.

mod chain;
mod export;
mod search;
mod views;

pub use chain::{checkpoint_for, verify_for};
pub use export::{export_days, start_export, write_csv};
pub use search::{PAGE, search, timeline, trails_for_sender};
