//! The `pelican` command; see `pelican --help`.

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    pelican::cli::main()
}

/// Rust ignores SIGPIPE, so writing to a closed pipe (`pelican pending | head -1`) is an
/// error, and `println!` panics on it. A command-line tool ends quietly instead, as
/// `ls` and `grep` do, with the status a shell reports for SIGPIPE.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to its default at the start of `main`,
    // before any thread exists, touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
