//! The statement-by-statement retry without a round trip per statement: runs of
//! statements go to the server together, each run the slice of the file's own text that
//! holds it (nothing is copied but the run being sent), under one savepoint. A run the
//! server refuses is rolled back and halved until the statement it refuses stands
//! alone; that one is then decided as every statement is (run, settled as a skip, or
//! the migration's error), and the runs go on after it. A failing migration of 350,000
//! statements is retried in a few dozen round trips instead of one per statement.
//!
//! Only where a refused run can be undone without undoing what ran before it: inside a
//! transaction, with savepoints (SQLite, PostgreSQL), and where nothing is recorded
//! statement by statement (MySQL's progress rows). A statement with a directive is
//! never in a run: what its test reads must see the statements before it done.

use std::ops::Range;

use crate::execute::{self, connection_lost, BATCH_BYTES};
use crate::split::Statement;
use crate::Database;

/// Where the retry of one file stands.
#[derive(Debug, Default)]
pub(super) struct Runs {
    /// The statements before this one ran in runs.
    ran_until: usize,
    /// The end of the last run the server refused: the statement it refused is before
    /// it, so a run tried later ends there at the latest.
    refused_end: Option<usize>,
}

impl Runs {
    /// Whether statement `index` ran as part of a run.
    pub(super) fn ran(&self, index: usize) -> bool {
        index < self.ran_until
    }

    /// Runs the statements from `index` on as one run, halving it while the server
    /// refuses it: the statements that ran (two or more), or `None` when statement
    /// `index` is to be decided alone (the run of it and the next was refused, or none
    /// starts there). `joinable` says which statements may be in a run. A lost
    /// connection is returned: which statement was running is not known.
    pub(super) fn run<C: Database>(
        &mut self,
        conn: &mut C,
        text: &str,
        statements: &[Statement<'_>],
        index: usize,
        joinable: impl Fn(&Statement<'_>) -> bool,
    ) -> Result<Option<Range<usize>>, diesel::result::Error> {
        let longest = longest(text, statements, index, joinable);
        let mut end = longest;
        // Whether the run to `end` is known to be refused: the run just before it ran,
        // and the refused one it was halved from ends at `end`.
        let mut refused = false;
        match self.refused_end {
            Some(at) if at <= index => self.refused_end = None,
            Some(at) if at <= longest => {
                end = at;
                refused = self.ran_until == index;
            }
            _ => {}
        }
        loop {
            if refused {
                self.refused_end = Some(end);
                end = index + (end - index) / 2;
            }
            if end < index + 2 {
                return Ok(None);
            }
            let Some(run) = span(text, statements, index..end) else {
                return Ok(None);
            };
            match execute::statements_apart(conn, run) {
                Ok(()) => {
                    self.ran_until = end;
                    return Ok(Some(index..end));
                }
                Err(error) if connection_lost(conn.backend(), &error) => return Err(error),
                Err(_) => refused = true,
            }
        }
    }
}

/// The end of the longest run from `index`: joinable statements, the first that passes
/// [`BATCH_BYTES`] of text the last.
fn longest(
    text: &str,
    statements: &[Statement<'_>],
    index: usize,
    joinable: impl Fn(&Statement<'_>) -> bool,
) -> usize {
    let Some(first) = statements.get(index).and_then(|s| start(text, s)) else {
        return index;
    };
    let mut end = index;
    for statement in statements.get(index..).unwrap_or_default() {
        let Some(at) = start(text, statement).filter(|_| joinable(statement)) else {
            break;
        };
        end += 1;
        if at + statement.sql.len() - first >= BATCH_BYTES {
            break;
        }
    }
    end
}

/// Where a statement starts in the file's text (`None` if it is not a slice of it).
fn start(text: &str, statement: &Statement<'_>) -> Option<usize> {
    let at = (statement.sql.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = at.checked_add(statement.sql.len())?;
    let slice = text.get(at..end)?;
    (slice.as_ptr() == statement.sql.as_ptr()).then_some(at)
}

/// The file's text from the first statement of `run` to the end of its last, the
/// comments and `;` between them as written.
fn span<'t>(text: &'t str, statements: &[Statement<'_>], run: Range<usize>) -> Option<&'t str> {
    let first = statements.get(run.start)?;
    let last = statements.get(run.end.checked_sub(1)?)?;
    let from = start(text, first)?;
    let to = start(text, last)? + last.sql.len();
    text.get(from..to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split;
    use crate::Backend;

    #[test]
    fn a_run_is_the_files_own_text_from_its_first_statement_to_its_last() {
        let text = "-- head\nCREATE TABLE a (id INT);\n-- between\nINSERT INTO a VALUES (1); /* x */ SELECT 1 -- end\n";
        let statements: Vec<Statement<'_>> = split(text, Backend::Postgres)
            .into_iter()
            .filter(|s| !s.sql.is_empty())
            .collect();
        assert_eq!(
            span(text, &statements, 0..3),
            Some("CREATE TABLE a (id INT);\n-- between\nINSERT INTO a VALUES (1); /* x */ SELECT 1 -- end")
        );
        assert_eq!(
            span(text, &statements, 1..2),
            Some("INSERT INTO a VALUES (1)")
        );
        assert_eq!(longest(text, &statements, 0, |_| true), 3);
        assert_eq!(
            longest(text, &statements, 0, |s| !s.sql.starts_with("SELECT")),
            2
        );
        // A statement that is not a slice of the text is never in a run.
        let copy = "SELECT 2".to_owned();
        let other = [Statement {
            source: &copy,
            offset: 0,
            sql: &copy,
            line: 1,
        }];
        assert_eq!(longest(text, &other, 0, |_| true), 0);
    }
}
