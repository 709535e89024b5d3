//! What pelican writes about itself for the shell and for `man`: completion scripts
//! (`clap_complete`) and the man page (`clap_mangen`), both from the clap definitions.

use std::path::PathBuf;

use clap::CommandFactory;

use super::binary::Cli;
use crate::{Error, Result};

/// Writes the completion script for `shell` to stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pelican", &mut script);
    to_stdout(&script)
}

/// Writes the man page, in roff, to stdout.
pub(super) fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(stdout_error)?;
    to_stdout(&page)
}

/// Written whole, so that a failed write is an error rather than a half-written script.
fn to_stdout(bytes: &[u8]) -> Result<()> {
    super::out::stdout_bytes(bytes).map_err(stdout_error)
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        path: PathBuf::from("<stdout>"),
        source,
    }
}
