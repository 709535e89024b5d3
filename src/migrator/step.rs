//! One step: a migration run in one direction, in a transaction of its own (as one batch,
//! or again statement by statement) or one statement at a time, with its record.

use std::time::Instant;

use chrono::Utc;

use super::record::entry;
use super::runner::{commit, Run};
use super::statements::has_directive;
use super::{Guards, Migrator, Mode, StepReport};
use crate::dialect::DdlTransactions;
use crate::execute::{self, connection_lost, statement_message};
use crate::guard::{self, Verdict};
use crate::ledger::{Outcome, ProgressKey};
use crate::lock;
use crate::plan::Step;
use crate::source::{Code, Direction, Migration};
use crate::split::{split, Statement};
use crate::trace;
use crate::{Database, Error, Result};

impl Migrator<'_> {
    /// Runs one migration in one direction with its ledger record. A failure is
    /// journaled after the rollback.
    pub(super) fn run_step<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        step: &Step<'_>,
    ) -> Result<StepReport> {
        let span = step_span(step);
        let _in = span.enter();
        let result = self.run_step_in_span(conn, run, step);
        if let Ok(report) = &result {
            step_counts(&span, report);
        }
        span.end_with(&result);
        result
    }

    /// [`run_step`](Self::run_step) inside the step's span, which the caller opened.
    fn run_step_in_span<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        step: &Step<'_>,
    ) -> Result<StepReport> {
        let migration = step.migration;
        let direction = step.direction;
        // Code has no SQL: its own `revert` is what diesel runs down.
        let sql = match migration.code() {
            Some(_) => "",
            None => migration.sql(direction).ok_or_else(|| Error::NoDown {
                migration: migration.name().to_owned(),
            })?,
        };
        let started = Utc::now();
        let clock = Instant::now();
        let mut report = blank_report(step);
        let pieces = split(sql, conn.backend());
        let enabled = self.guards != Guards::Off
            && migration.guards()
            && !guard::file_disables_guards(&pieces);
        let statements: Vec<Statement<'_>> =
            pieces.into_iter().filter(|s| !s.sql.is_empty()).collect();
        let file = File {
            migration,
            direction,
            statements: &statements,
            enabled,
        };
        let transactional_ddl =
            conn.backend().dialect().ddl_transactions() == DdlTransactions::RollBack;
        let transactional = migration.run_in_transaction() && transactional_ddl;
        report.transactional = transactional;
        if self.mode == Mode::DryRun && !transactional_ddl {
            for statement in &statements {
                let verdict = run
                    .predictor
                    .predict(conn, statement, enabled)
                    .map_err(|e| file.error(statement, e.to_string()))?;
                self.note(&file, statement, verdict, &mut report)?;
            }
            report.record = self.record(run, &file, &report, started, Outcome::Applied);
            return Ok(report);
        }
        let underway = Underway {
            run: &mut *run,
            file: &file,
            report: &mut report,
            started,
        };
        let result = if let Some(code) = migration.code() {
            self.code(conn, underway, code)
        } else if transactional {
            self.transactional(conn, underway)
        } else if self.mode == Mode::Apply {
            // Outside the SQLite run's write transaction too, as diesel runs it.
            underway.run.ensure_ledger(conn).and_then(|()| {
                lock::outside_write_transaction(conn, |conn| self.one_by_one(conn, underway))
            })
        } else {
            self.one_by_one(conn, underway)
        };
        if let Err(error) = result {
            if run.joined {
                // The run's transaction is rolled back: the runner journals it after.
                run.failed = Some((report, started, error.to_string()));
                return Err(error);
            }
            if self.mode == Mode::Apply {
                self.failed(conn, run, &file, &report, started, &error);
            }
            return Err(error);
        }
        if self.mode == Mode::Apply && !run.joined {
            // The step's record deleted the migration's progress rows, if it had any:
            // a later step of the same run taking it again (check's round trip runs
            // up, down and up) starts from nothing recorded, as a run of its own would.
            run.progress
                .retain(|key, _| key.version != migration.version());
        }
        report.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    /// What a failed step leaves: on MySQL (autocommit off for the run), whatever of
    /// it the server had not committed by itself rolled back first, so that pelican's
    /// own writes commit none of it; its progress row saying that a statement the
    /// server refused is not in flight (it did not run); and a journal entry.
    ///
    /// The failure is what the user must see: a journal that cannot be written (the
    /// connection died) does not hide it.
    fn failed<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        file: &File<'_, '_>,
        report: &StepReport,
        started: chrono::DateTime<Utc>,
        error: &Error,
    ) {
        if run.ensure_ledger(conn).is_err() {
            return;
        }
        let mut sql = String::new();
        if run.grouped {
            // Progress rows of data statements roll back with their rows: what stays
            // recorded is what the server committed.
            let _ = conn.batch_execute("ROLLBACK");
            let refused = run.refused.take();
            let committed = run.committed.take();
            if refused.is_some() || committed.is_some() {
                if let Some(row) = self.committed_progress(conn, run, file, refused, committed) {
                    sql.push_str(&row);
                    sql.push_str(";\n");
                }
            }
        }
        let message = error.to_string();
        sql.push_str(&run.ledger.journal_insert(&entry(
            report,
            started,
            Outcome::Failed,
            Some(&message),
        )));
        if run.grouped {
            sql.push_str("COMMIT");
        }
        let _ = conn.batch_execute(&sql);
    }

    /// The progress row a failed MySQL step leaves, once what the server had not
    /// committed is rolled back, where it should say more than the row it left: that
    /// the statement the server `refused` is not in flight (it did not run), and that
    /// the statements up to the last DDL statement that ran (`committed` of them)
    /// committed, so that a later run, guards or not, does not run them again.
    fn committed_progress<C: Database>(
        &self,
        conn: &mut C,
        run: &Run<'_>,
        file: &File<'_, '_>,
        refused: Option<usize>,
        committed: Option<usize>,
    ) -> Option<String> {
        let key = ProgressKey::of(file.migration, file.direction);
        // Read back: rows of data statements rolled back with their rows.
        let row = run.ledger.progress(conn).ok()?.remove(&key);
        let (done, in_flight) = row.map_or((0, false), |r| (r.done, r.in_flight));
        let done_now = committed.unwrap_or(0).max(done);
        let settled = in_flight && refused == Some(done);
        if done_now == done && !settled {
            return None;
        }
        let digest = file.prefix_digests().into_iter().nth(done_now)?;
        Some(
            run.ledger
                .progress_sql(file.migration, file.direction, &digest, done_now, false),
        )
    }

    /// A migration that runs in a transaction (SQLite, PostgreSQL): first as diesel runs
    /// it, the whole file in one batch with its record; only if that fails, rolled back
    /// and run again statement by statement, each under a savepoint, so that a statement
    /// the server refuses because its work is done becomes a skip.
    fn transactional<C: Database>(&self, conn: &mut C, step: Underway<'_, '_>) -> Result<()> {
        let (run, file, report, started) = (step.run, step.file, step.report, step.started);
        let has_directives = file.statements.iter().any(has_directive);
        // A file that already failed as part of a chunk's batch is not sent whole again.
        let retried = std::mem::take(&mut run.retry_guarded);
        if self.mode == Mode::Apply && !has_directives && !retried {
            // The record counts every statement run; their reports are written once the
            // batch ran, so that a batch the server refuses (a large file's) is not
            // sent while they take room beside it.
            let counted = StepReport {
                statements_run: report.statements_run + file.statements.len(),
                ..report.clone()
            };
            let record = self.record(run, file, &counted, started, Outcome::Applied);
            let foreign_keys = &mut run.foreign_keys;
            let mut lost = None;
            let backend = conn.backend();
            let mut keep = |error: diesel::result::Error| {
                if connection_lost(backend, &error) {
                    lost = Some(statement_message(backend, &error));
                }
                Error::query("the migration as one batch")(error)
            };
            let joined = run.joined;
            let batch = if conn.backend().dialect().begin_in_batch()
                && (joined || !conn.in_transaction()?)
            {
                // Two round trips, where diesel's transaction takes four: `BEGIN` goes
                // before the file, the record and `COMMIT` after it, each batch on its
                // own so nothing is appended to the author's text. In a joined run, a
                // savepoint instead, so that a failed file can be retried guarded.
                let (begin, end, undo) = if joined {
                    (
                        STEP_SAVEPOINT_BEGIN,
                        STEP_SAVEPOINT_END,
                        STEP_SAVEPOINT_UNDO,
                    )
                } else {
                    ("BEGIN", "COMMIT", "ROLLBACK")
                };
                let create = run.create_ledger.as_deref().unwrap_or_default();
                // A lease renewed in the step's transaction lasts until it commits (a
                // joined run's transaction renewed it already).
                let renewal = match joined {
                    false => lock::renewal_statement(conn).unwrap_or_default(),
                    true => String::new(),
                };
                let begin = format!("{begin};\n{renewal}{create};\n");
                execute::file_after(conn, &begin, file.migration, file.direction)
                    .map_err(&mut keep)
                    .and_then(|()| {
                        // Renewed at the commit too, the lease runs from it.
                        conn.batch_execute(&format!("{record}{renewal}{end}"))
                            .map_err(&mut keep)
                    })
                    .inspect_err(|_| {
                        // Ends the transaction (or savepoint) the failed batch left
                        // open, if any.
                        let _ = conn.batch_execute(undo);
                    })
            } else {
                conn.transaction(|conn| {
                    lock::renew(conn)?;
                    execute::file(conn, file.migration, file.direction).map_err(&mut keep)?;
                    if let Some(foreign_keys) = foreign_keys {
                        foreign_keys.check(conn, file.migration.name())?;
                    }
                    file.record(conn, &record)?;
                    lock::renew(conn)
                })
            };
            if batch.is_ok() {
                run.create_ledger = None;
                let mut whole = report.clone();
                for statement in file.statements {
                    self.note(file, statement, Verdict::ran("ran"), &mut whole)?;
                }
                whole.record = record;
                *report = whole;
                return Ok(());
            }
            if let Some(message) = lost {
                // Nothing to retry on: which statement was running is not known.
                return Err(Error::Migration {
                    migration: file.migration.name().to_owned(),
                    file: file.migration.file(file.direction),
                    message,
                });
            }
        }
        run.ensure_ledger(conn)?;
        let savepoints = conn.backend().dialect().ddl_transactions() == DdlTransactions::RollBack;
        conn.transaction(|conn| {
            lock::renew(conn)?;
            self.statements(conn, run, file, report, savepoints, None)?;
            if let Some(foreign_keys) = &mut run.foreign_keys {
                foreign_keys.check(conn, file.migration.name())?;
            }
            report.record = self.record(run, file, report, started, Outcome::Applied);
            file.record(conn, &report.record)?;
            lock::renew(conn)
        })
    }

    /// A migration without SQL text, only code (see [`Migration::is_code`]): its own
    /// `run` or `revert` on the connection, as diesel's harness calls it, in a
    /// transaction with its record unless it runs outside one; never guarded. A dry run
    /// does not run it, and says so.
    fn code<C: Database>(&self, conn: &mut C, step: Underway<'_, '_>, code: &Code) -> Result<()> {
        let (run, file, report, started) = (step.run, step.file, step.report, step.started);
        if self.mode == Mode::DryRun {
            let warning = "its code is not SQL pelican can read: a dry run does not run it";
            trace::warning(None, warning);
            report.warnings.push(warning.to_owned());
            report.record = self.record(run, file, report, started, Outcome::Applied);
            return Ok(());
        }
        run.ensure_ledger(conn)?;
        let record = self.record(run, file, report, started, Outcome::Applied);
        let migration = file.migration;
        let failed = |message: String| Error::Migration {
            migration: migration.name().to_owned(),
            file: migration.file(file.direction),
            message,
        };
        let execute = |conn: &mut C| -> Result<()> {
            code.run(conn.diesel_connection(), file.direction)
                .map_err(failed)
        };
        let foreign_keys = &mut run.foreign_keys;
        if migration.run_in_transaction() {
            conn.transaction(|conn| {
                lock::renew(conn)?;
                execute(conn)?;
                if let Some(foreign_keys) = foreign_keys {
                    foreign_keys.check(conn, migration.name())?;
                }
                file.record(conn, &record)?;
                lock::renew(conn)
            })?;
        } else {
            // Outside the SQLite run's write transaction too, as diesel runs it.
            lock::outside_write_transaction(conn, |conn| {
                execute(conn)?;
                file.record(conn, &record)
            })?;
        }
        if run.grouped {
            commit(conn)?;
        }
        report.record = record;
        Ok(())
    }

    /// A migration outside a transaction (`run_in_transaction = false`, and every
    /// migration on MySQL/MariaDB, where each DDL statement commits itself): statement by
    /// statement, each refusal settled. On MySQL the run's progress rows say which
    /// statements of a half-applied migration committed, so a later run resumes after
    /// them.
    fn one_by_one<C: Database>(&self, conn: &mut C, step: Underway<'_, '_>) -> Result<()> {
        let (run, file, report, started) = (step.run, step.file, step.report, step.started);
        // A dry run on SQLite and PostgreSQL runs inside the transaction it rolls back;
        // each statement gets a savepoint so one that cannot run there is passed over.
        let savepoints = conn.in_transaction()?
            && conn.backend().dialect().ddl_transactions() == DdlTransactions::RollBack;
        // On MySQL the last statement travels with the record and the COMMIT in one
        // round trip (the driver switches multi-statements on and off around each).
        let combine = (run.grouped && self.mode == Mode::Apply).then_some(started);
        if self.statements(conn, run, file, report, savepoints, combine)? {
            return Ok(());
        }
        if let Some(foreign_keys) = &mut run.foreign_keys {
            foreign_keys.check(conn, file.migration.name())?;
        }
        report.record = self.record(run, file, report, started, Outcome::Applied);
        if self.mode == Mode::Apply || savepoints {
            file.record(conn, &report.record)?;
        }
        if run.grouped {
            commit(conn)?;
        }
        Ok(())
    }
}

/// A step's report before it runs: nothing run, nothing skipped.
pub(super) fn blank_report(step: &Step<'_>) -> StepReport {
    StepReport {
        version: step.migration.version().to_owned(),
        name: step.migration.name().to_owned(),
        direction: step.direction,
        out_of_order: step.out_of_order,
        statements_run: 0,
        statements_skipped: 0,
        duration_ms: 0.0,
        warnings: Vec::new(),
        statements: Vec::new(),
        transactional: false,
        record: String::new(),
    }
}

/// The span of a step (see [`crate::trace`]), not entered yet.
pub(super) fn step_span(step: &Step<'_>) -> trace::Span {
    trace::migration(
        step.migration.version(),
        step.migration.name(),
        &step.direction,
    )
}

/// Records what a step did in its span: how many statements ran, how many were skipped.
pub(super) fn step_counts(span: &trace::Span, report: &StepReport) {
    span.record_count("statements_run", report.statements_run);
    span.record_count("statements_skipped", report.statements_skipped);
}

/// The savepoint a step of a joined run takes, so that its file failing leaves the
/// run's transaction usable for the guarded retry.
pub(super) const STEP_SAVEPOINT_BEGIN: &str = "SAVEPOINT pelican_step";
pub(super) const STEP_SAVEPOINT_END: &str = "RELEASE SAVEPOINT pelican_step";
pub(super) const STEP_SAVEPOINT_UNDO: &str =
    "ROLLBACK TO SAVEPOINT pelican_step; RELEASE SAVEPOINT pelican_step";

/// A step underway: the run it is part of, its file, its report so far, and when it
/// began (what the ways of running a file share).
struct Underway<'a, 'r> {
    run: &'a mut Run<'r>,
    file: &'a File<'a, 'a>,
    report: &'a mut StepReport,
    started: chrono::DateTime<Utc>,
}

/// One migration file, split, as a step runs it.
pub(super) struct File<'m, 's> {
    pub(super) migration: &'m Migration,
    pub(super) direction: Direction,
    pub(super) statements: &'s [Statement<'s>],
    pub(super) enabled: bool,
}

impl File<'_, '_> {
    /// Runs the ledger statements that record this step; a failure is the ledger's,
    /// named as such (the migration's own statements all ran).
    pub(super) fn record<C: Database>(&self, conn: &mut C, record: &str) -> Result<()> {
        conn.batch_execute(record)
            .map_err(Error::query(self.record_failed()))
    }

    /// What a failed write of this step's record says: the ledger failed, not the
    /// author's SQL.
    pub(super) fn record_failed(&self) -> String {
        format!(
            "cannot record migration {} in the ledger ({}, {}, {})",
            self.migration.name(),
            crate::ledger::DIESEL_TABLE,
            crate::ledger::CHECKSUM_TABLE,
            crate::ledger::JOURNAL_TABLE,
        )
    }

    /// The digests of the file's first 0, 1, … n statements, without the comments
    /// around them (adding a directive keeps them): what a half-applied migration's
    /// progress is measured against, so that fixing a statement after those recorded
    /// done keeps the progress, and changing one of them does not.
    pub(super) fn prefix_digests(&self) -> Vec<String> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut digests = Vec::with_capacity(self.statements.len() + 1);
        digests.push(format!("{:x}", hasher.clone().finalize()));
        for statement in self.statements {
            hasher.update(statement.sql.as_bytes());
            hasher.update([0]);
            digests.push(format!("{:x}", hasher.clone().finalize()));
        }
        digests
    }

    pub(super) fn error(&self, statement: &Statement<'_>, message: String) -> Error {
        self.failed(statement, message, None)
    }

    /// A statement the database refused, with the database's own error as the source.
    pub(super) fn failed(
        &self,
        statement: &Statement<'_>,
        message: String,
        source: Option<diesel::result::Error>,
    ) -> Error {
        execute::statement_error(self.migration, self.direction, statement, message, source)
    }
}
