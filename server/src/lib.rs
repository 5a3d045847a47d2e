//! The Sealpost server: settings, the HTTP API and web app, use cases, background workers,
//! and the command line.
//! `main.rs` only parses the command and hands over to [`cli::run`].

pub mod app;
pub mod cli;
pub mod clock;
pub mod error;
pub mod intake;
pub mod key_cache;
pub mod keyfiles;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod search_index;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workers;
