//! The `leakscan` binary: parse the command line, run, map the result to the
//! exit-code contract (0 clean, 1 findings, 2 error). Nothing else.

use std::process::ExitCode;

use clap::Parser;
use leakscan::exit::Exit;

/// mimalloc for Rust and (feature `override`) for the C code (libgit2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match leakscan::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return if e.use_stderr() {
                ExitCode::from(Exit::Error.code())
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match leakscan::commands::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("leakscan: {e}");
            ExitCode::from(Exit::Error.code())
        }
    }
}
