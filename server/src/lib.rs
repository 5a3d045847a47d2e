//! The Sealpost server: settings, the HTTP API and web app, use cases, and the command line.
//! `main.rs` only parses the command and hands over to [`cli::run`].

pub mod app;
pub mod cli;
pub mod clock;
pub mod error;
pub mod hashing;
pub mod keyfiles;
pub mod routes;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
