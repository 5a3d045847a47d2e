//! The `sealpost` binary.

use clap::Parser;

/// Rust's allocations go to jemalloc, whose background thread (see `.cargo/config.toml`) hands
/// pages freed after a load back to the system within about 10 s, where glibc kept them in each
/// thread's arena (issue 22). SQLite's own C allocations still go to glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    sealpost_server::cli::main(sealpost_server::cli::Cli::parse())
}
