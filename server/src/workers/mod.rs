//! The server's background work, each started by `sealpost serve` and stopped with it: the
//! outbox that sends notifications, the audit writer that group-commits events, the checkpoint
//! signer, the orphaned-blob sweep, and the pool that runs password hashing off the async
//! threads. Use cases in `app/` hand work to these; none of them serves a request itself.

pub mod account_mail;
pub mod audit_writer;
pub mod blob_sweep;
pub mod checkpoints;
pub mod hashing;
pub mod outbox;
