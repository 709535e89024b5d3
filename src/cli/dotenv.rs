//! `.env`, read as diesel CLI reads it. The command line reads it; the library does not
//! (an application passes its URL, or sets `DATABASE_URL`, as it likes).

use std::path::PathBuf;

use super::out::errln;
use crate::{Error, Result};

/// Loads `.env` from the working directory or above into the environment, without
/// overriding variables already set (dotenvy's rule, as diesel CLI does). A missing
/// file is fine; one that does not parse is an error naming it.
///
/// dotenvy's own message quotes the line that does not parse, which may be the
/// `DATABASE_URL` with its password; pelican names the line by number instead.
pub fn load_dotenv() -> Result<()> {
    load(false)
}

/// [`load_dotenv`] for diesel's commands: a line that does not parse is first said in
/// diesel CLI's words (`Initializing `.env` file failed: Error parsing line …`, which
/// scripts and diesel's own tests look for), by number rather than text, then
/// pelican's error follows.
pub(super) fn load_dotenv_as_diesel() -> Result<()> {
    load(true)
}

fn load(as_diesel: bool) -> Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(error) if error.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(line, _)) => {
            let path = dotenv_file().unwrap_or_else(|| PathBuf::from(".env"));
            let which = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| line_number(&text, &line))
                .map_or("a line".to_owned(), |n| format!("line {n}"));
            if as_diesel {
                errln!(
                    "Initializing `.env` file failed: Error parsing {which} of {}",
                    path.display()
                );
            }
            Err(Error::Config {
                path,
                message: format!(
                    "{which} does not parse (its text is not shown: it may hold a password)"
                ),
            })
        }
        Err(error) => {
            if as_diesel {
                errln!("Initializing `.env` file failed: {error}");
            }
            Err(Error::Config {
                path: PathBuf::from(".env"),
                message: error.to_string(),
            })
        }
    }
}

/// The `.env` dotenvy reads: in the working directory or the nearest folder above.
fn dotenv_file() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(".env"))
        .find(|file| file.is_file())
}

/// The 1-based number of the first line of `text` holding `line`'s first line (dotenvy
/// reports a line's text, sometimes only from its value on).
fn line_number(text: &str, line: &str) -> Option<usize> {
    let needle = line.lines().next().filter(|l| !l.trim().is_empty())?;
    text.lines()
        .position(|candidate| candidate.contains(needle))
        .map(|index| index + 1)
}
