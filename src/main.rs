//! The `pelican` command; see `pelican --help`.
//!
//! SIGPIPE, SIGINT and SIGTERM are set up by the command line for the command it runs
//! (`src/cli/signals.rs`; `docs/failures.md`, "Signals and output failures").

fn main() -> std::process::ExitCode {
    pelican::cli::main()
}
