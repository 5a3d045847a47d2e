//! Logging: `tracing` to stderr, human-readable or JSON, filtered by `RUST_LOG`
//! (default `info`). Spans and events never carry content, tokens, codes or passwords.

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber. Safe to call once per process.
pub fn init(format: LogFormat) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // The HTML parser under ammonia logs a warning per quirk of the HTML it reads: mail from
    // outside would flood the log (and a full stderr pipe stalls the server), for nothing an
    // operator can act on.
    for quiet in ["html5ever=off", "markup5ever=off"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
