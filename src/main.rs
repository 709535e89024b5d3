//! The `pelican` command; see `pelican --help`.

fn main() -> std::process::ExitCode {
    pelican::cli::main()
}
