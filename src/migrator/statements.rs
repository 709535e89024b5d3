//! A file statement by statement: each decided (directive, earlier progress, guard),
//! run under a savepoint where one is wanted, a refusal settled; on MySQL, progress
//! recorded so a half-applied migration resumes, and refused when it cannot.

use chrono::Utc;

use super::groups::Runs;
use super::runner::Run;
use super::step::File;
use super::{first_line, Migrator, Mode, StepReport};
use crate::dialect::{DdlTransactions, ProgressSql};
use crate::execute::{self, cannot_run_in_transaction, connection_lost, statement_message};
use crate::guard::classify::{self, Nature};
use crate::guard::rerun;
use crate::guard::{self, Action, Directed, Verdict};
use crate::ledger::{Outcome, ProgressKey, Recorded};
use crate::split::Statement;
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
        // The session mark that tells a failed record from a failed last statement,
        // where DDL commits itself (the runs that send the two together).
        let marks = match backend.dialect().ddl_transactions() {
            DdlTransactions::CommitThemselves(sql) => Some(sql),
            DdlTransactions::RollBack => None,
        };
        let key = ProgressKey::of(file.migration, file.direction);
        // Only a run that records progress needs each statement's nature and the
        // digests its rows carry.
        let (natures, digests): (Vec<Nature>, Vec<String>) = if tracking {
            (
                file.statements
                    .iter()
                    .map(|s| classify::nature(s.sql, backend))
                    .collect(),
                file.prefix_digests(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        // Statements existence cannot decide that a resumed run may simply run again
        // (see `guard::rerun`): they need no progress row, before or after.
        let texts: Vec<&str> = file.statements.iter().map(|s| s.sql).collect();
        let rerun: Vec<Option<rerun::Rerun>> = natures
            .iter()
            .zip(file.statements)
            .enumerate()
            .map(|(i, (n, statement))| {
                let how = rerun::rerunnable(&texts, i, backend);
                (*n == Nature::Undecidable && rerunnable(file, statement, how))
                    .then_some(how)
                    .flatten()
            })
            .collect();
        // Whether a statement is recorded in flight before it runs, and done after it.
        let in_doubt = |i: usize| {
            natures.get(i) == Some(&Nature::Undecidable)
                && rerun.get(i).copied().flatten().is_none()
        };
        // Only a run that resumes this migration takes a rename's refusal as the
        // earlier run's rename (see `rerun::settle_rename`).
        let resuming = tracking && run.progress.contains_key(&key);
        let resume = match run.progress.get(&key) {
            Some(recorded) if tracking => {
                self.resumable(conn, file, recorded, &digests)?;
                recorded.done
            }
            _ => 0,
        };
        run.committed = None;
        // What this file's progress row says now, committed or waiting for the next
        // commit: `(done, in flight)`.
        let mut recorded = run.progress.get(&key).map(|r| (r.done, r.in_flight));
        let ledger = run.ledger;
        let progress = |done: usize, in_flight: bool| {
            let digest = digests
                .get(done + usize::from(in_flight))
                .map(String::as_str)
                .unwrap_or_default();
            ledger.progress_sql(file.migration, file.direction, digest, done, in_flight)
        };
        let recording_failed = || {
            Error::query(format!(
                "cannot record the progress of migration {} in {}",
                file.migration.name(),
                crate::ledger::PROGRESS_TABLE
            ))
        };
        // Inside a transaction, with nothing recorded per statement (the retry of a
        // file whose batch failed, a dry run), statements go in runs (see `groups`).
        let mut runs = (savepoints && !tracking && combine.is_none()).then(Runs::default);
        let text = file.migration.sql(file.direction).unwrap_or_default();
        // A dry run never sends a statement that begins or ends a transaction.
        let dry_run = self.mode == Mode::DryRun;
        let joinable = |statement: &Statement<'_>| {
            let sent_apart = dry_run && manages_transaction(statement.sql);
            !sent_apart && !has_directive(statement)
        };
        for (index, statement) in file.statements.iter().enumerate() {
            if let Some(runs) = &mut runs {
                if runs.ran(index) {
                    continue;
                }
                let ran = runs
                    .run(conn, text, file.statements, index, joinable)
                    .map_err(|error| Error::Migration {
                        migration: file.migration.name().to_owned(),
                        file: file.migration.file(file.direction),
                        message: statement_message(backend, &error),
                    })?;
                if let Some(ran) = ran {
                    for statement in file.statements.get(ran).unwrap_or_default() {
                        let verdict = match guard::directed(conn, statement, file.enabled)
                            .map_err(|e| file.error(statement, e.to_string()))?
                        {
                            Directed::Skip(verdict) | Directed::AsWritten(verdict) => verdict,
                            Directed::Guarded => Verdict::ran("ran"),
                        };
                        self.note(file, statement, verdict, report)?;
                    }
                    continue;
                }
            }
            if index < resume {
                if !sets_the_session(statement.sql) {
                    self.note(file, statement, Verdict::recorded(), report)?;
                    continue;
                }
                // What it set belonged to the earlier run's session: the statements
                // after it run in this one, as they would have after it.
                execute::statement(conn, statement.sql, savepoints).map_err(|e| {
                    execute::refused(backend, file.migration, file.direction, statement, e)
                })?;
                self.note(
                    file,
                    statement,
                    Verdict::ran("done in an earlier run, whose session it set: run again"),
                    report,
                )?;
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
            // Whether the statement after this one is in flight as soon as this one's
            // row commits: then that row says so, and it needs no row of its own.
            let next_in_flight = in_doubt(index + 1);
            if rerun.get(index).copied().flatten() == Some(rerun::Rerun::Settled)
                && recorded.is_none()
            {
                // A rename runs again without a row of its own only in a run that
                // resumes the migration: a row, committed by its implicit commit as an
                // in-flight row is, says that this one began it.
                conn.batch_execute(&progress(index, false))
                    .map_err(recording_failed())?;
                recorded = Some((index, false));
            }
            if in_doubt(index) && recorded != Some((index, true)) {
                // Recorded before it runs, so a later run knows it may have. Not
                // committed by pelican: the row commits with whatever the server commits
                // first (the statement's own implicit commit, made before it runs), so
                // that a data statement before it is never committed by the row, and
                // rolls back with them when nothing was (a statement refused as it
                // was parsed).
                conn.batch_execute(&progress(index, true))
                    .map_err(recording_failed())?;
                recorded = Some((index, true));
            }
            let last = index + 1 == file.statements.len();
            let with_record = match combine {
                Some(started) if last && !in_doubt(index) => {
                    let mut assumed = report.clone();
                    self.note(file, statement, as_written.clone(), &mut assumed)?;
                    if recorded.is_some() {
                        run.progress.insert(key.clone(), Recorded::to_clear());
                    }
                    let record = self.record(run, file, &assumed, started, Outcome::Applied);
                    Some((assumed, record))
                }
                _ => None,
            };
            let mut executed = match &with_record {
                // Marked between the statement and the record, so that a failure of the
                // batch says which of the two failed.
                Some((_, record)) => {
                    let batch = match marks {
                        Some(sql) => format!("{};\n{record}{};\nCOMMIT", sql.mark, sql.unmark),
                        None => format!("{record}COMMIT"),
                    };
                    execute::statement_before(conn, statement.sql, &batch)
                }
                None => execute::statement(conn, statement.sql, savepoints),
            };
            let mut as_written = as_written;
            if self.mode == Mode::DryRun {
                if let Some(stand_in) = executed
                    .as_ref()
                    .err()
                    .filter(|error| cannot_run_in_transaction(backend, error))
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
            if let (Ok(()), Some((assumed, record))) = (&executed, &with_record) {
                *report = assumed.clone();
                report.record = record.clone();
                return Ok(true);
            }
            let verdict = match executed {
                Ok(()) => as_written,
                Err(error)
                    if self.mode == Mode::DryRun && cannot_run_in_transaction(backend, &error) =>
                {
                    Verdict {
                        action: Action::NotTried,
                        reason: "cannot run inside the dry run's transaction: not tried".to_owned(),
                        guarded: false,
                        warning: None,
                    }
                }
                Err(error)
                    if with_record.is_some()
                        && !connection_lost(backend, &error)
                        && marks.is_some_and(|sql| recording(conn, sql)) =>
                {
                    if commits_itself(nature, statement.sql) {
                        run.committed = Some(index + 1);
                    }
                    return Err(Error::query(file.record_failed())(error));
                }
                Err(error) => {
                    if tracking && !connection_lost(backend, &error) {
                        // The server refused it: it did not run.
                        run.refused = Some(index);
                    }
                    let message = if tracking && in_doubt(index) && connection_lost(backend, &error)
                    {
                        // Its row says it is in flight: the next run refuses it.
                        format!(
                            "{} (the connection to the database was lost while it ran, so \
                             whether it ran is not known; the migration was not recorded: \
                             the next run names this statement and asks for a directive \
                             that decides it)",
                            error.to_string().trim_end()
                        )
                    } else {
                        statement_message(backend, &error)
                    };
                    if !settle {
                        return Err(file.failed(statement, message, Some(error)));
                    }
                    match guard::settle(conn, statement.sql, &message) {
                        Ok(verdict) => verdict,
                        Err(guard::Unsettled::NotExistence) => {
                            // A rename run again after a cut-off, without a row.
                            let settled = rerun.get(index).copied().flatten()
                                == Some(rerun::Rerun::Settled)
                                && resuming;
                            match settled
                                .then(|| rerun::settle_rename(conn, statement.sql, &message))
                                .flatten()
                            {
                                Some(verdict) => verdict,
                                None => return Err(file.failed(statement, message, Some(error))),
                            }
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
            // A statement the server refused, settled as done: it did not run now. A
            // skip refused under strict guards leaves no row that says it is done.
            let ran = verdict.action == Action::Run;
            self.note(file, statement, verdict, report)?;
            run.refused = None;
            if commits_itself(nature, statement.sql) {
                // MySQL commits before DDL, even DDL it then refuses.
                run.committed = Some(if ran { index + 1 } else { index });
            }
            let later_commit = natures
                .get(index + 1..)
                .is_some_and(|later| later.iter().any(|n| *n != Nature::Data));
            match nature {
                // The last statement, with the step's record written and committed
                // next (it clears the row): a row saying it is done would cost a commit,
                // and a log sync, of its own, for a window no shorter than the one the
                // in-flight row already covers (MySQL: issue 22).
                Nature::Undecidable if last && combine.is_some() => {}
                // Run again if a run is cut off after it: no row says it is done.
                Nature::Undecidable if !in_doubt(index) => {}
                // Committed at once after DDL (which committed all before it), so
                // that a run killed now resumes after it; after a statement that may
                // not have committed (`CALL`), left for the server's next commit, so
                // that pelican's row commits none of its rows.
                Nature::Undecidable => {
                    let row = progress(index + 1, next_in_flight);
                    let sql = if commits_itself(nature, statement.sql) {
                        format!("{row};\nCOMMIT")
                    } else {
                        row
                    };
                    conn.batch_execute(&sql).map_err(recording_failed())?;
                    recorded = Some((index + 1, next_in_flight));
                }
                // Commits with the rows it changed, at the next statement's implicit
                // commit (or rolls back with them); the last ones commit with the
                // migration's record instead.
                Nature::Data if later_commit => {
                    conn.batch_execute(&progress(index + 1, next_in_flight))
                        .map_err(recording_failed())?;
                    recorded = Some((index + 1, next_in_flight));
                }
                _ => {}
            }
        }
        if recorded.is_some() {
            run.progress.insert(key, Recorded::to_clear());
        }
        Ok(false)
    }

    /// Refuses, before anything runs, to resume a half-applied migration whose
    /// statements recorded done (or the one in flight) changed since, or whose
    /// statement in flight existence cannot decide and no directive decides.
    fn resumable<C: Database>(
        &self,
        conn: &mut C,
        file: &File<'_, '_>,
        recorded: &Recorded,
        digests: &[String],
    ) -> Result<()> {
        let done = recorded.done;
        let spoken_of = done + usize::from(recorded.in_flight);
        let next = file.statements.get(done).or(file.statements.last());
        let half = |reason: String| Error::HalfApplied {
            migration: file.migration.name().to_owned(),
            file: file.migration.file(file.direction),
            line: next.map_or(0, |s| s.line),
            statement: next.map(|s| first_line(s.sql)).unwrap_or_default(),
            done,
            reason,
        };
        if digests.get(spoken_of) != Some(&recorded.checksum) {
            return Err(half(
                if recorded.in_flight {
                    "may or may not have run, and it or the statements before it, recorded \
                     done, changed since (comments aside)"
                } else {
                    "is where it would resume, but the statements before it, recorded \
                     done, changed since (comments aside)"
                }
                .to_owned()
                    + ": restore them, or finish the migration by hand and stamp it",
            ));
        }
        let Some(next) = file.statements.get(done) else {
            return Ok(());
        };
        if !recorded.in_flight || classify::nature(next.sql, conn.backend()) != Nature::Undecidable
        {
            return Ok(());
        }
        // In flight (recorded so by an older pelican), but running it again gives what
        // one run gives.
        let texts: Vec<&str> = file.statements.iter().map(|s| s.sql).collect();
        if rerunnable(file, next, rerun::rerunnable(&texts, done, conn.backend())) {
            return Ok(());
        }
        if has_directive(next) {
            return Ok(());
        }
        Err(half(format!(
            "may or may not have run, and existence cannot decide it: look, then put `-- pelican: {}` (true once it ran) \
             on the line above it and run again",
            classify::deciding_directive(next.sql, conn.backend())
        )))
    }
}

/// Whether a statement [`rerun::rerunnable`] says can run again does so here: a rename
/// only where guards settle its refusal (on, and no directive above it).
fn rerunnable(file: &File<'_, '_>, statement: &Statement<'_>, how: Option<rerun::Rerun>) -> bool {
    match how {
        Some(rerun::Rerun::Repeat) => true,
        Some(rerun::Rerun::Settled) => file.enabled && !has_directive(statement),
        None => false,
    }
}

/// Whether a directive comment stands above a statement.
pub(super) fn has_directive(statement: &Statement<'_>) -> bool {
    statement
        .leading_comments()
        .iter()
        .any(|c| guard::directive::parse(c).is_some())
}

/// Whether a statement sets the session (`SET sql_mode …`, `SET FOREIGN_KEY_CHECKS …`,
/// `USE`): what it did is gone with the session that ran it.
fn sets_the_session(sql: &str) -> bool {
    let verb = sql.split_whitespace().next().unwrap_or_default();
    ["SET", "USE"].iter().any(|v| verb.eq_ignore_ascii_case(v))
        && !sql.split_whitespace().nth(1).is_some_and(|w| {
            // A transaction's characteristics, or a password: not the session's state
            // for what follows, and not to be done twice.
            ["TRANSACTION", "PASSWORD"]
                .iter()
                .any(|x| w.eq_ignore_ascii_case(x))
        })
}

/// Whether a statement that ran (or that the server refused as it ran, after the
/// implicit commit MySQL makes before DDL) has committed everything before it and
/// itself: DDL does (`CREATE`, `ALTER`, `DROP`, `RENAME`, `TRUNCATE`), except on
/// temporary tables, which a later run's session makes again anyway. What is not
/// known to (`CALL`, a compound statement, `LOAD DATA`) is taken not to: its rows
/// wait for the server's next commit, and roll back with a failure.
fn commits_itself(nature: Nature, sql: &str) -> bool {
    let verb = sql.split_whitespace().next().unwrap_or_default();
    matches!(nature, Nature::Decidable | Nature::Undecidable)
        && ["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"]
            .iter()
            .any(|v| verb.eq_ignore_ascii_case(v))
        && !sql
            .split_whitespace()
            .take(3)
            .any(|word| word.eq_ignore_ascii_case("TEMPORARY"))
}

/// Whether the batch that failed had got to the record: the ledger failed, not the
/// statement. Clears the mark. A connection that cannot answer says no: the
/// statement's own error is then the one shown.
fn recording<C: Database>(conn: &mut C, sql: ProgressSql) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Mark {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        mark: Option<i64>,
    }
    let marks: std::result::Result<Vec<Mark>, _> = conn.load_with(sql.read_mark, &[]);
    let recording = marks.is_ok_and(|m| m.first().and_then(|m| m.mark).is_some());
    // Left set, the mark would blame the ledger for a later statement's failure.
    recording && conn.batch_execute(sql.unmark).is_ok()
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
    use super::*;

    #[test]
    fn session_settings_run_again_and_other_statements_do_not() {
        assert!(sets_the_session("SET FOREIGN_KEY_CHECKS = 0"));
        assert!(sets_the_session("set sql_mode = 'ANSI'"));
        assert!(sets_the_session("USE other"));
        assert!(!sets_the_session(
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
        ));
        assert!(!sets_the_session("SET PASSWORD = PASSWORD('x')"));
        assert!(!sets_the_session("SELECT 1"));
        assert!(!sets_the_session("UPDATE t SET a = 1"));
    }

    #[test]
    fn ddl_commits_itself_except_on_temporary_tables() {
        assert!(commits_itself(Nature::Decidable, "CREATE TABLE t (id INT)"));
        assert!(commits_itself(Nature::Undecidable, "RENAME TABLE a TO b"));
        assert!(!commits_itself(
            Nature::Decidable,
            "CREATE TEMPORARY TABLE t (id INT)"
        ));
        assert!(!commits_itself(Nature::Decidable, "DROP temporary TABLE t"));
        assert!(!commits_itself(Nature::Data, "INSERT INTO t VALUES (1)"));
        // A CALL is a statement existence cannot decide, and it may commit nothing.
        assert_eq!(
            classify::nature("CALL fill()", crate::Backend::Mysql),
            Nature::Undecidable
        );
        assert!(!commits_itself(Nature::Undecidable, "CALL fill()"));
        assert!(!commits_itself(
            Nature::Undecidable,
            "BEGIN NOT ATOMIC INSERT INTO t VALUES (1); END"
        ));
        assert!(!commits_itself(
            Nature::Repeatable,
            "CREATE TABLE IF NOT EXISTS t (id INT)"
        ));
    }

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
