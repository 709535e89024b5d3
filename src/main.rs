//! The `pelican` command; see `pelican --help`.
//!
//! SIGPIPE stays ignored, as Rust sets it: a write to a closed pipe (`pelican migrate |
//! head -1`) fails instead of killing the process between a commit and its record; the
//! command line notes the failure, goes on to its end, and exits with 141 (see
//! `docs/failures.md`).

fn main() -> std::process::ExitCode {
    pelican::cli::main()
}
