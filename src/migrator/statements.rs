//! A file statement by statement: each decided (directive, earlier progress, guard),
//! run under a savepoint where one is wanted, a refusal settled; on MySQL, progress
//! recorded so a half-applied migration resumes, and refused when it cannot.

use chrono::Utc;

use super::runner::Run;
use super::step::File;
use super::{first_line, Migrator, Mode, StepReport};
use crate::execute::{self, cannot_run_in_transaction, statement_message};
use crate::guard::classify::{self, Nature};
use crate::guard::{self, Action, Directed, Verdict};
use crate::ledger::Outcome;
use crate::{Database, Error, Result};

impl Migrator<'_> {
    /// Runs (or, in a dry run, tries) each statement of a file in order, deciding each:
    /// skipped by a directive, recorded done by an earlier run, run, or refused by the
    /// server because its work is done (a skip, once [`guard::settle`] agrees).
    /// With `combine` (the step's start), the last statement is sent with the step's
    /// record and a `COMMIT`; true when that recorded the step.
    pub(super) fn statements<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        file: &File<'_, '_>,
        report: &mut StepReport,
        savepoints: bool,
        combine: Option<chrono::DateTime<Utc>>,
    ) -> Result<bool> {
        let backend = conn.backend();
        let tracking = run.grouped && self.mode == Mode::Apply;
        let key = (
            file.migration.version().to_owned(),
            file.direction.to_string(),
        );
        let resume = match run.progress.get(&key) {
            Some((checksum, done)) if tracking => {
                self.resumable(conn, file, checksum, *done)?;
                *done
            }
            _ => 0,
        };
        let mut recorded = run.progress.get(&key).map(|_| resume);
        // Only a run that records progress needs to know each statement's nature.
        let natures: Vec<Nature> = if tracking {
            file.statements
                .iter()
                .map(|s| classify::nature(s.sql, backend))
                .collect()
        } else {
            Vec::new()
        };
        for (index, statement) in file.statements.iter().enumerate() {
            if index < resume {
                self.note(file, statement, Verdict::recorded(), report)?;
                continue;
            }
            let directed = guard::directed(conn, statement, file.enabled)
                .map_err(|e| file.error(statement, e.to_string()))?;
            let (as_written, settle) = match directed {
                Directed::Skip(verdict) => {
                    self.note(file, statement, verdict, report)?;
                    continue;
                }
                Directed::AsWritten(verdict) => (verdict, false),
                Directed::Guarded => (Verdict::ran("ran"), true),
            };
            if self.mode == Mode::DryRun && manages_transaction(statement.sql) {
                // Its COMMIT would commit the dry run's work for real, its BEGIN or
                // ROLLBACK end the transaction the dry run rolls back.
                let verdict = Verdict {
                    action: Action::NotTried,
                    reason: "begins or ends a transaction: not tried, the dry run's \
                             transaction must stay the one it rolls back"
                        .to_owned(),
                    guarded: false,
                    warning: None,
                };
                self.note(file, statement, verdict, report)?;
                continue;
            }
            let nature = natures.get(index).copied().unwrap_or(Nature::Repeatable);
            if nature == Nature::Undecidable && recorded != Some(index) {
                // Recorded before it runs, so a later run knows it may have.
                conn.batch_execute(&format!(
                    "{};\nCOMMIT",
                    run.ledger
                        .progress_sql(file.migration, file.direction, &file.digest(), index)
                ))
                .map_err(Error::query("cannot record the migration's progress"))?;
            }
            let last = index + 1 == file.statements.len();
            let with_record = match combine {
                Some(started) if last && nature != Nature::Undecidable => {
                    let mut assumed = report.clone();
                    self.note(file, statement, as_written.clone(), &mut assumed)?;
                    if recorded.is_some() {
                        run.progress.insert(key.clone(), (file.digest(), 0));
                    }
                    let record = self.record(run, file, &assumed, started, Outcome::Applied);
                    Some((assumed, record))
                }
                _ => None,
            };
            let mut executed = match &with_record {
                Some((_, record)) => {
                    execute::statement_before(conn, statement.sql, &format!("{record}COMMIT"))
                }
                None => execute::statement(conn, statement.sql, savepoints),
            };
            let mut as_written = as_written;
            if self.mode == Mode::DryRun {
                if let Some(stand_in) = executed
                    .as_ref()
                    .err()
                    .filter(|error| cannot_run_in_transaction(error))
                    .and_then(|_| backend.dialect().in_transaction_stand_in(statement.sql))
                {
                    // The same schema change in a form the dry run's transaction holds,
                    // so that what follows is decided against the schema it makes.
                    executed = execute::statement(conn, &stand_in, savepoints);
                    as_written.reason = format!(
                        "tried as `{}`: as written, it cannot run in the dry run's transaction",
                        first_line(&stand_in)
                    );
                }
            }
            if let (Ok(()), Some((assumed, record))) = (&executed, with_record) {
                *report = assumed;
                report.record = record;
                return Ok(true);
            }
            let verdict = match executed {
                Ok(()) => as_written,
                Err(error) if self.mode == Mode::DryRun && cannot_run_in_transaction(&error) => {
                    Verdict {
                        action: Action::NotTried,
                        reason: "cannot run inside the dry run's transaction: not tried".to_owned(),
                        guarded: false,
                        warning: None,
                    }
                }
                Err(error) => {
                    let message = statement_message(&error);
                    if !settle {
                        return Err(file.failed(statement, message, Some(error)));
                    }
                    match guard::settle(conn, statement.sql, &message) {
                        Ok(verdict) => verdict,
                        Err(guard::Unsettled::NotExistence) => {
                            return Err(file.failed(statement, message, Some(error)))
                        }
                        Err(why) => {
                            return Err(file.failed(
                                statement,
                                format!("{message} ({why})"),
                                Some(error),
                            ))
                        }
                    }
                }
            };
            let later_commit = natures
                .get(index + 1..)
                .is_some_and(|later| later.iter().any(|n| *n != Nature::Data));
            match nature {
                Nature::Undecidable => {
                    conn.batch_execute(&format!(
                        "{};\nCOMMIT",
                        run.ledger.progress_sql(
                            file.migration,
                            file.direction,
                            &file.digest(),
                            index + 1
                        )
                    ))
                    .map_err(Error::query("cannot record the migration's progress"))?;
                    recorded = Some(index + 1);
                }
                // Commits with the rows it changed, at the next statement's implicit
                // commit; the last ones commit with the migration's record instead.
                Nature::Data if later_commit => {
                    conn.batch_execute(&run.ledger.progress_sql(
                        file.migration,
                        file.direction,
                        &file.digest(),
                        index + 1,
                    ))
                    .map_err(Error::query("cannot record the migration's progress"))?;
                    recorded = Some(index + 1);
                }
                _ => {}
            }
            self.note(file, statement, verdict, report)?;
        }
        if recorded.is_some() {
            run.progress.insert(key, (file.digest(), 0));
        }
        Ok(false)
    }

    /// Refuses, before anything runs, to resume a half-applied migration whose next
    /// statement existence cannot decide, or whose file changed since.
    fn resumable<C: Database>(
        &self,
        conn: &mut C,
        file: &File<'_, '_>,
        checksum: &str,
        done: usize,
    ) -> Result<()> {
        let Some(next) = file.statements.get(done) else {
            return Ok(());
        };
        let half = |reason: String| Error::HalfApplied {
            migration: file.migration.name().to_owned(),
            file: file.migration.file(file.direction),
            line: next.line,
            statement: first_line(next.sql),
            done,
            reason,
        };
        if checksum != file.digest() {
            return Err(half(
                "its statements changed since (comments aside): restore them, or finish \
                 the migration by hand and stamp it"
                    .to_owned(),
            ));
        }
        if classify::nature(next.sql, conn.backend()) != Nature::Undecidable {
            return Ok(());
        }
        let directed = next
            .leading_comments()
            .iter()
            .any(|c| guard::directive::parse(c).is_some());
        if directed {
            return Ok(());
        }
        Err(half(format!(
            "existence cannot decide it: look, then put `-- pelican: {}` (true once it ran) \
             on the line above it and run again",
            classify::deciding_directive(next.sql, conn.backend())
        )))
    }
}

/// Whether a statement begins or ends a transaction (`BEGIN`, `START TRANSACTION`,
/// `COMMIT`, `END`, `ROLLBACK` but not `ROLLBACK TO` a savepoint, `ABORT`, `PREPARE
/// TRANSACTION`), which a dry run must not send: its transaction is the one it rolls
/// back. MariaDB's `BEGIN NOT ATOMIC` block is not one.
pub(super) fn manages_transaction(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["BEGIN", "NOT", ..] => false,
        ["ROLLBACK", "TO", ..] | ["ROLLBACK", "WORK" | "TRANSACTION", "TO", ..] => false,
        ["BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "ABORT", ..] => true,
        ["START", "TRANSACTION", ..] | ["PREPARE", "TRANSACTION", ..] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::manages_transaction;

    #[test]
    fn statements_that_begin_or_end_a_transaction() {
        for sql in [
            "BEGIN",
            "begin transaction",
            "BEGIN IMMEDIATE",
            "START TRANSACTION READ WRITE",
            "COMMIT",
            "commit work",
            "END",
            "END TRANSACTION",
            "ROLLBACK",
            "ABORT",
            "PREPARE TRANSACTION 'x'",
        ] {
            assert!(manages_transaction(sql), "{sql}");
        }
        for sql in [
            "BEGIN NOT ATOMIC SELECT 1; END",
            "ROLLBACK TO SAVEPOINT a",
            "ROLLBACK TRANSACTION TO a",
            "SAVEPOINT a",
            "RELEASE a",
            "CREATE TABLE begin_log (id INT)",
            "SELECT 1",
        ] {
            assert!(!manages_transaction(sql), "{sql}");
        }
    }
}
