//! The `sealpost` binary.

use clap::Parser;

/// jemalloc with its background thread (see `.cargo/config.toml`): pages freed after a load go
/// back to the system within seconds, where glibc kept them in each thread's arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    sealpost_server::cli::main(sealpost_server::cli::Cli::parse())
}
