//! `--sql`: the run a dry run decided, as a script for the database's own client
//! (`psql`, `sqlite3`, `mariadb`), which applies it as is and gets what `migrate` gets.
//!
//! A script is the run: the client told to stop at the first error (as `migrate`
//! stops at the first failure), the ledger's tables where they are missing, then each step in
//! order, its statements (those the dry run could not try included, as `migrate` sends
//! them too) and its ledger rows, in a transaction of its own where `migrate` gives it
//! one, each statement on its own where it runs outside one. Names that come from files
//! (a migration's folder name) are written in comments with every control character
//! escaped, so that no byte of them can end the comment and become SQL.

use std::fmt::Write as _;

use crate::guard::Action;
use crate::migrator::{Report, StepReport};
use crate::{Backend, Error, Result};

/// The script of the run `report` describes (a dry run's report), for `backend`'s
/// client. Refused ([`Error::ScriptVariable`]) where the client would change a
/// statement: `psql` replaces `:name` outside quotes with its variable's value. A run
/// with no step is an empty script.
pub(crate) fn render(report: &Report, backend: Backend) -> Result<String> {
    let dialect = backend.dialect();
    let mut out = String::new();
    if report.steps.is_empty() {
        return Ok(out);
    }
    if dialect.script_interpolates() {
        refuse_client_variables(report, backend)?;
    }
    if let Some(prologue) = dialect.script_prologue() {
        let _ = writeln!(out, "{prologue}");
    }
    if let Some(create) = &report.create_ledger {
        let _ = writeln!(out, "-- pelican's ledger");
        for statement in crate::split::split(create, backend) {
            if !statement.sql.is_empty() {
                out.push_str(&dialect.script_statement(statement.sql));
            }
        }
        out.push('\n');
    }
    for step in &report.steps {
        step_script(&mut out, step, backend);
    }
    Ok(out)
}

/// Refuses a statement the script would send that holds a client variable (see
/// [`crate::split::client_variable`]), naming it.
fn refuse_client_variables(report: &Report, backend: Backend) -> Result<()> {
    for step in &report.steps {
        for statement in &step.statements {
            if statement.action == Action::Skip {
                continue;
            }
            if let Some(variable) = crate::split::client_variable(&statement.sql, backend) {
                return Err(Error::ScriptVariable {
                    migration: step.name.clone(),
                    direction: step.direction.to_string(),
                    line: statement.line,
                    statement: crate::execute::first_line(&statement.sql),
                    variable: variable.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// One step: its header, its statements and its record.
fn step_script(out: &mut String, step: &StepReport, backend: Backend) {
    let dialect = backend.dialect();
    let _ = writeln!(out, "-- {} ({})", comment_text(&step.name), step.direction);
    let (begin, commit) = match dialect.script_transaction(step.transactional) {
        Some((begin, commit)) => (Some(begin), Some(commit)),
        None => (None, None),
    };
    if let Some(begin) = begin {
        let _ = writeln!(out, "{begin};");
    }
    for statement in &step.statements {
        match statement.action {
            Action::Run => {}
            Action::Skip => continue,
            Action::NotTried => {
                // `migrate` sends it: the script does too, saying the dry run could not
                // try it.
                let _ = writeln!(
                    out,
                    "-- line {}, not tried by the dry run: {}",
                    statement.line,
                    comment_text(&statement.reason)
                );
            }
        }
        out.push_str(&dialect.script_statement(&statement.sql));
    }
    for statement in crate::split::split(&step.record, backend) {
        if !statement.sql.is_empty() {
            out.push_str(&dialect.script_statement(statement.sql));
        }
    }
    if let Some(commit) = commit {
        let _ = writeln!(out, "{commit};");
    }
    out.push('\n');
}

/// Text for a `--` comment: every control character (line breaks, escape sequences)
/// and Unicode line or paragraph separator written as `\u{…}`, and a backslash as `\\`,
/// so that the comment ends where the script ends it and shows on a terminal as it is.
pub(crate) fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_no_step_is_an_empty_script() {
        assert_eq!(render(&Report::default(), Backend::Sqlite).unwrap(), "");
    }

    #[test]
    fn comments_keep_names_on_their_line() {
        assert_eq!(comment_text("2024_x"), "2024_x");
        assert_eq!(
            comment_text("2024_x\nDELETE FROM users;"),
            "2024_x\\u{a}DELETE FROM users;"
        );
        assert_eq!(comment_text("a\r\u{1b}[2Jb"), "a\\u{d}\\u{1b}[2Jb");
        assert_eq!(comment_text("a\u{2028}b\u{85}c"), "a\\u{2028}b\\u{85}c");
        assert_eq!(comment_text("a\\u{a}"), "a\\\\u{a}");
    }
}
