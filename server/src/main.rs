//! The `sealpost` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    sealpost_server::cli::main(sealpost_server::cli::Cli::parse())
}
