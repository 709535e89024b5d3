//! The command line: clap definitions, and the rendering of reports as text or JSON.
//!
//! The library knows nothing of this module; it parses, calls [`crate::Migrator`] and
//! [`crate::Boot`], and prints. Results go to stdout, progress and warnings to stderr.
//!
//! Two ways in: the `pelican` binary (`main`, its command tree `binary::Cli`), which
//! reads its migrations from a folder, and [`DatabaseCommand`], the same commands as a
//! group an application mounts in its own clap CLI with its embedded migrations and its
//! seed hook.
//!
//! Where things are: the options every command takes (`args.rs`); pelican's commands,
//! one module per family, each holding its commands' arguments and their handler
//! (`commands/`); what a handler runs with (`context.rs`); the binary's command tree and
//! process (`binary.rs`) and the mounted group (`mounted.rs`), the two ways in; diesel
//! CLI's alias tree (`diesel.rs`); the text and JSON output (`render.rs`,
//! `document.rs`, `out.rs`).

// The doc comments of clap's definitions are the help text: `[print_schema]` there is
// diesel.toml's section, and `[X]` what `list` prints, not links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::process::ExitCode;

mod args;
pub(crate) mod binary;
mod commands;
mod confirm;
mod context;
mod diesel;
mod document;
mod dotenv;
mod fleet;
mod hint;
mod mounted;
mod out;
mod render;
mod schema;
mod shell;
mod signals;
mod traces;

use args::{Format, Options};
pub use binary::main;
use commands::RunArgs;
pub use dotenv::load_dotenv;
pub use hint::hint;
pub use mounted::DatabaseCommand;

use out::errln;
use render::{ERROR, HINT};

use crate::{Error, Result};

/// How a command that ran without an error ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Exit code 0.
    Done,
    /// `pending --exit-code` found migrations pending: exit code 1, the list printed as
    /// without the flag and no error.
    Pending,
    /// `lint` found an error-level finding: exit code 1, what it found printed, and no
    /// error.
    Found,
    /// A `fleet` command's target failed, or was not started after a failure: exit code
    /// 1, the fleet's report printed (the errors in it), and no error of its own.
    TargetsFailed,
}

/// The error, with every secret of the command line's arguments hidden (see
/// [`scrub_args`]); its kind and location kept ([`Error::redacted`]).
fn scrub_error(error: Error) -> Error {
    out::secret_args()
        .iter()
        .fold(error.redacted(""), |error, arg| error.redacted(arg))
}

/// Prints an error (as JSON too when asked) and turns the outcome into an exit code.
fn finish(format: Format, result: Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Pending | Outcome::Found | Outcome::TargetsFailed) => ExitCode::FAILURE,
        Err(error) => {
            let hint = hint(&error);
            // A URL given where another value belongs (`--migration-dir URL`) may be
            // quoted by the error refusing it.
            let error = scrub_error(error);
            let message = error.to_string();
            // In text, the steps done before the failure were printed as each finished.
            // A failed check printed its report, the findings in it, as its document.
            if format == Format::Json && !matches!(error, Error::CheckFailed { .. }) {
                document::print(&document::Failed::new(&error));
            }
            errln!("{ERROR}error:{ERROR:#} {}", out::shown_lines(&message));
            if let Some(hint) = hint {
                errln!("{HINT}hint:{HINT:#} {}", out::shown_lines(hint));
            }
            ExitCode::from(if error.is_usage() { 2 } else { 1 })
        }
    }
}
