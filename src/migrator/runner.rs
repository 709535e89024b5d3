//! The run: under the lock (and on SQLite with foreign keys off), plan, run each step in
//! order with grouped commits on MySQL, and report what was done, even when a step fails.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use super::chunk;
use super::foreign_keys::ForeignKeys;
use super::record::entry;
use super::sequences::Sequences;
use super::{whole_files, Commit, Migrator, Mode, Progress, Report, StepReport};
use crate::admin::with_foreign_keys_off;
use crate::dialect::DdlTransactions;
use crate::guard;
use crate::join;
use crate::ledger::{Ledger, Outcome, ProgressKey, Recorded};
use crate::lock;
use crate::plan::Step;
use crate::source::{Direction, Migrations};
use crate::trace;
use crate::{Database, Error, Result};

impl<'m> Migrator<'m> {
    /// The one path every run takes, holding the migration lock: the applied set is
    /// read once the lock is held, so a run that waited sees what the other one did.
    ///
    /// A run with nothing to do takes no lock (nor turns SQLite's foreign keys off): it
    /// reads the applied set first, and only one that finds steps to take locks and
    /// reads it again under the lock (another run may have taken them meanwhile). What
    /// a run with no steps does is read, so without the lock it answers as it would
    /// have under it, at the moment of its read.
    pub(super) fn run<C: Database>(
        &self,
        conn: &mut C,
        plan: impl Fn(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
    ) -> Result<Report> {
        let span = self.span(conn);
        let _in = span.enter();
        let report = match self.nothing_to_do(conn, &plan) {
            Ok(Some(report)) => Ok(report),
            Ok(None) => self.run_in_span(conn, plan, &mut |_, _| Ok(ControlFlow::Continue(()))),
            Err(error) => Err(error),
        };
        traced(&span, report)
    }

    /// [`run`](Self::run), calling `observe` on the connection after each step that
    /// ran on its own has committed (never inside an atomic run's joined part): what
    /// the database is after each migration, with the ledger, the lock and the
    /// checksums read once for the whole run. An error from `observe` ends the run, and
    /// so does [`ControlFlow::Break`], which leaves the steps after it untaken and the
    /// run's report saying what was done.
    pub(super) fn run_observed<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
        observe: &mut Observer<'_, C>,
    ) -> Result<Report> {
        let span = self.span(conn);
        let _in = span.enter();
        traced(&span, self.run_in_span(conn, plan, observe))
    }

    /// The run's span (see [`crate::trace`]).
    fn span<C: Database>(&self, conn: &C) -> trace::Span {
        let mode = match self.mode {
            Mode::Apply => "apply",
            Mode::DryRun => "dry_run",
        };
        trace::run(&conn.backend(), mode, self.atomic)
    }

    /// [`run_observed`](Self::run_observed) inside the run's span, which the caller opened.
    fn run_in_span<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
        observe: &mut Observer<'_, C>,
    ) -> Result<Report> {
        // Whether the transaction the lock opens (SQLite's) is the run's own.
        let enclosed = conn.in_transaction()?;
        with_foreign_keys_off(conn, |conn, check| {
            lock::with_pool_mode(conn, self.lock_timeout, self.pool_mode, |conn| {
                self.run_locked(
                    conn,
                    plan,
                    check || self.check_foreign_keys,
                    enclosed,
                    observe,
                )
            })
        })
    }

    /// The report of a run with no step to take, read without the lock; `None` when
    /// there are steps.
    fn nothing_to_do<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
    ) -> Result<Option<Report>> {
        // Read without the lock, the state may be half of another run's: its tables
        // committed between reading the ledger and listing them, say. Whatever this read
        // cannot answer, or would refuse, is read again and decided under the lock.
        let Ok(ledger) = Ledger::open(conn) else {
            return Ok(None);
        };
        let Ok((applied, _)) = self.known_applied_and_ledger(conn, &ledger) else {
            return Ok(None);
        };
        if !plan(&applied, self.migrations).is_ok_and(|steps| steps.is_empty()) {
            return Ok(None);
        }
        let mut report = Report {
            predicted: self.mode == Mode::DryRun
                && matches!(
                    conn.backend().dialect().ddl_transactions(),
                    DdlTransactions::CommitThemselves(_)
                ),
            ..Report::default()
        };
        self.where_it_stands(&mut report, &applied);
        Ok(Some(report))
    }

    /// The report's `current`, `head` and `pending`, from the applied set the run left.
    fn where_it_stands(&self, report: &mut Report, applied: &BTreeSet<String>) {
        report.current = applied.iter().next_back().cloned();
        report.head = self.migrations.head().map(|m| m.version().to_owned());
        report.pending = self
            .migrations
            .iter()
            .filter(|m| !applied.contains(m.version()))
            .count();
    }

    fn run_locked<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
        check_foreign_keys: bool,
        enclosed: bool,
        observe: &mut Observer<'_, C>,
    ) -> Result<Report> {
        let ledger = Ledger::open(conn)?;
        let (mut applied, exists) = self.known_applied_and_ledger(conn, &ledger)?;
        let steps = plan(&applied, self.migrations)?;
        whole_files(
            steps.iter().map(|s| (s.migration, s.direction)),
            conn.backend(),
        )?;
        let mut report = Report::default();
        let backend = conn.backend();
        // A dry run on SQLite and PostgreSQL runs for real in a transaction it rolls
        // back; on MySQL/MariaDB nothing can roll DDL back, so it predicts.
        let rehearsal = self.mode == Mode::DryRun
            && backend.dialect().ddl_transactions() == DdlTransactions::RollBack;
        let began = rehearsal && !steps.is_empty();
        report.predicted = self.mode == Mode::DryRun && !rehearsal;
        if report.predicted && !exists && !steps.is_empty() {
            // The script of a prediction creates the ledger as `migrate` would.
            report.create_ledger = Some(ledger.create_sql());
        }
        // PostgreSQL, outside a caller's transaction: a ledger that does not exist yet
        // is created in the first migration's transaction, not in one of its own.
        let mut create_ledger = None;
        let mut sequences = None;
        if !steps.is_empty() && (self.mode == Mode::Apply || rehearsal) {
            if rehearsal {
                if !exists {
                    report.create_ledger = Some(ledger.create_sql());
                }
                sequences = Some(Sequences::read(conn)?);
                conn.begin()
                    .map_err(Error::query("cannot begin the dry run's transaction"))?;
            }
            if !exists
                && backend.dialect().begin_in_batch()
                && self.mode == Mode::Apply
                && !conn.in_transaction()?
            {
                create_ledger = Some(ledger.create_sql());
            } else {
                ledger.create(conn)?;
            }
            if self.mode == Mode::Apply && exists {
                // Only a run with work to do reads the checksums: a boot with nothing
                // pending stays one query.
                self.verify_checksums(conn, &ledger, &applied)?;
            }
        }
        // Rows that already break a key are not the run's doing (diesel's harness, with
        // enforcement on, does not fail on them either): only new ones are refused.
        let foreign_keys = if check_foreign_keys && !steps.is_empty() {
            Some(ForeignKeys::read(conn)?)
        } else {
            None
        };
        let wanted = self.mode == Mode::Apply && !steps.is_empty();
        // An atomic run joins its steps into as few transactions as joining allows.
        let atomic = wanted
            && self.atomic
            && backend.dialect().ddl_transactions() == DdlTransactions::RollBack;
        report.atomic = atomic;
        if rehearsal && self.atomic && !steps.is_empty() {
            // A dry run says where the run would commit (its own transaction is one).
            report.atomic = true;
            let parts = self.parts(conn, &steps).inspect_err(|_| {
                // Whatever the dry run did, it leaves nothing behind.
                let _ = conn.rollback();
            })?;
            report.commits = parts
                .into_iter()
                .filter_map(|part| {
                    let last = steps.get(part.range.end.checked_sub(1)?)?;
                    Some(Commit {
                        after: last.migration.version().to_owned(),
                        reason: part.ends,
                    })
                })
                .collect();
        }
        // diesel 2.4's harness sets the connection's search_path back after each
        // migration (see `Operations::harness_search_path`): read here, before any step,
        // where a step may change it.
        let search_path = if (self.mode == Mode::Apply || rehearsal)
            && steps.iter().any(|step| sets_session_state(step, backend))
        {
            conn.harness_search_path()
                .map_err(Error::query("cannot read the search_path"))?
        } else {
            None
        };
        let parts = if atomic {
            self.parts(conn, &steps)?
        } else {
            vec![join::Part {
                range: 0..steps.len(),
                transaction: false,
                ends: join::Reason::End,
            }]
        };
        let ran = with_grouped_commits(conn, wanted, |conn, grouped| {
            let progress = if grouped {
                ledger.progress(conn)?
            } else {
                BTreeMap::new()
            };
            let mut run = Run {
                ledger: &ledger,
                predictor: guard::Predictor::new(),
                grouped,
                progress,
                refused: None,
                committed: None,
                foreign_keys,
                create_ledger,
                joined: false,
                failed: None,
                retry_guarded: false,
                unrecorded: Vec::new(),
                chunk_size: chunk::Size::default(),
                chunk_savepoint: false,
                search_path,
            };
            let total = steps.len();
            // The observer asked to end the run after the step it was shown.
            let mut stopped = false;
            for part in &parts {
                let joined = atomic && part.transaction && part.range.len() > 1;
                if joined {
                    let done = self.joined_part(conn, &mut run, &steps, part.range.clone())?;
                    self.finish(&mut report, &mut applied, total, done, part.range.start);
                } else {
                    // One step at a time, each committing itself (a part of one step
                    // in an atomic run, a run of one migration per transaction).
                    for index in part.range.clone() {
                        let step = &steps[index];
                        interrupted(step)?;
                        // A lease (through a transaction-pooling proxy) lasts the step.
                        lock::renew(conn)?;
                        self.starting(step, index, total);
                        let done = self.run_step(conn, &mut run, step)?;
                        run.restore_search_path(conn, step)?;
                        self.finish(&mut report, &mut applied, total, vec![done], index);
                        if let Some(done) = report.steps.last() {
                            if observe(conn, done)?.is_break() {
                                stopped = true;
                                break;
                            }
                        }
                    }
                }
                if atomic {
                    let last = part.range.end.checked_sub(1).and_then(|i| steps.get(i));
                    if let Some(last) = last {
                        report.commits.push(Commit {
                            after: last.migration.version().to_owned(),
                            reason: part.ends,
                        });
                    }
                }
                if stopped {
                    break;
                }
            }
            Ok(())
        });
        let mut ran = ran;
        if began {
            // What the dry run's statements left the sequences at, to tell its own
            // moves from another session's.
            let end = sequences.as_ref().and_then(|_| Sequences::read(conn).ok());
            // Whatever the dry run did, it leaves nothing behind.
            let _ = conn.rollback();
            if let Some(before) = &sequences {
                match before.set_back(conn, end.as_ref()) {
                    Ok(warnings) => {
                        for warning in &warnings {
                            trace::warning(None, warning);
                        }
                        report.warnings.extend(warnings);
                    }
                    Err(error) => ran = ran.and(Err(error)),
                }
            }
            if !enclosed && conn.transaction_depth().unwrap_or(0) == 1 {
                // SQLite's lock is the run's write transaction, and committing it after
                // a rolled-back savepoint still writes the file's header (its change
                // counter): it is rolled back too, and an empty transaction, which
                // writes nothing when committed, left for the lock to end.
                let _ = conn.rollback();
                let _ = conn.begin_with("BEGIN");
            }
        }
        // Computed here rather than read back: a migration may have moved the
        // connection's search_path, and the ledger opened before it is the right one.
        self.where_it_stands(&mut report, &applied);
        match ran {
            Ok(()) => Ok(report),
            Err(error) if report.steps.is_empty() || began => Err(error),
            Err(error) => Err(Error::Incomplete {
                report: Box::new(report),
                source: Box::new(error),
            }),
        }
    }
}

impl<'m> Migrator<'m> {
    /// How an atomic run's steps join: cut where a migration sets session state, needs
    /// a commit or runs outside a transaction, and where the locks would pass the
    /// server's budget (see [`crate::join`]).
    fn parts<C: Database>(&self, conn: &mut C, steps: &[Step<'m>]) -> Result<Vec<join::Part>> {
        let backend = conn.backend();
        let units: Vec<join::Unit> = steps
            .iter()
            .map(|step| {
                let sql = step.migration.sql(step.direction).unwrap_or_default();
                let in_transaction = step.migration.run_in_transaction();
                join::Unit {
                    // Code may do anything: a transaction of its own, as under diesel.
                    boundary: match step.migration.is_code() {
                        true if in_transaction => join::Boundary::SessionState,
                        true => join::Boundary::Outside,
                        false => join::boundary(sql, in_transaction, backend),
                    },
                    locks: join::locks(sql, backend),
                }
            })
            .collect();
        let budget = if steps.len() > 1 {
            join::lock_budget(conn)?
        } else {
            None
        };
        Ok(join::parts(&units, budget))
    }

    /// Runs the steps of `range` in one transaction, and commits it. Their reports come
    /// back only once it committed; a failure rolls every one of them back, and the
    /// failure is journaled after the rollback.
    fn joined_part<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        steps: &[Step<'m>],
        range: std::ops::Range<usize>,
    ) -> Result<Vec<StepReport>> {
        conn.begin()
            .map_err(Error::query("cannot begin the run's transaction"))?;
        // Renewed inside the transaction, a lease's row stays locked, and the lease
        // alive, until it commits, however long it takes.
        if let Err(error) = lock::renew(conn) {
            let _ = conn.rollback();
            return Err(error);
        }
        run.joined = true;
        let mut done = Vec::new();
        // Renewed again at its end, the lease runs from the commit on.
        let ran = self
            .joined_steps(conn, run, steps, range, &mut done)
            .and_then(|()| lock::renew(conn));
        run.joined = false;
        run.retry_guarded = false;
        run.chunk_savepoint = false;
        if let Err(error) = ran {
            // Rows of steps rolled back with the part.
            run.unrecorded.clear();
            // The error is what the user must see; a connection too broken to roll
            // back has lost the transaction anyway.
            let _ = conn.rollback();
            if let Some((report, started, message)) = run.failed.take() {
                // The ledger the part created, if it did, went with the rollback.
                run.create_ledger = None;
                if run.ledger.create(conn).is_ok() {
                    let _ = conn.batch_execute(&run.ledger.journal_insert(&entry(
                        &report,
                        started,
                        Outcome::Failed,
                        Some(&message),
                    )));
                }
            }
            if done.is_empty() {
                return Err(error);
            }
            return Err(Error::RolledBack {
                rolled_back: done.into_iter().map(|step| step.name).collect(),
                source: Box::new(error),
            });
        }
        conn.commit().map_err(|error| Error::Commit {
            message: error.to_string(),
        })?;
        // The ledger a first step created committed with it.
        run.create_ledger = None;
        Ok(done)
    }

    /// The steps of a joined part, in its transaction: consecutive ones that may travel
    /// together in chunks (see [`chunk`]), the others one by one. `done` gets the
    /// report of each that ran, in order; the first failure ends it.
    fn joined_steps<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        steps: &[Step<'m>],
        range: std::ops::Range<usize>,
        done: &mut Vec<StepReport>,
    ) -> Result<()> {
        let total = steps.len();
        let mut index = range.start;
        // Steps announced as starting: a chunk's, before it is sent (once, should a
        // refused file send the steps after it again in the next chunk).
        let mut announced = range.start;
        // After a batch the server refused whole (a syntax error in one of its files),
        // its steps are sent in batches of one, up to this index.
        let mut singly = range.start;
        while index < range.end {
            // Asked to stop, the part is the unit: rolled back whole, none of it
            // reported done.
            interrupted(&steps[index])?;
            let mut prepared = Vec::new();
            let mut bytes = 0;
            let size = if index < singly {
                1
            } else {
                run.chunk_size.get()
            };
            while prepared.len() < size && bytes <= crate::execute::BATCH_BYTES {
                let Some(step) = steps
                    .get(index + prepared.len())
                    .filter(|_| index + prepared.len() < range.end)
                else {
                    break;
                };
                match self.prepare(conn, run, step)? {
                    Some(step) => {
                        bytes += step.len();
                        prepared.push(step);
                    }
                    None => break,
                }
            }
            let end = index + prepared.len().max(1);
            let from = announced.max(index);
            for (offset, step) in steps.get(from..end).unwrap_or_default().iter().enumerate() {
                self.starting(step, from + offset, total);
            }
            announced = announced.max(end);
            if !prepared.is_empty() {
                let chunk = &steps[index..end];
                let ran_before = !done.is_empty();
                let chunked = self.chunk(conn, run, chunk, prepared, ran_before)?;
                index += chunked.done.len();
                done.extend(chunked.done);
                match chunked.next {
                    chunk::Next::Nothing => continue,
                    chunk::Next::OneByOne(steps) if steps > 1 => {
                        singly = index + steps;
                        continue;
                    }
                    // A file the server refused as it ran, or alone in a batch it
                    // refused whole: run statement by statement, so that the statement
                    // is named (or, its work found done, skipped).
                    chunk::Next::RetryGuarded | chunk::Next::OneByOne(_) => {
                        run.retry_guarded = true;
                    }
                }
            }
            // The rows of the chunks before it first, so that the journal keeps the
            // run's order.
            run.record_chunked(conn)?;
            done.push(self.run_step(conn, run, &steps[index])?);
            index += 1;
            // What the part holds moved past the savepoint the last chunk left.
            run.chunk_savepoint = false;
        }
        run.record_chunked(conn)
    }

    fn starting(&self, step: &Step<'_>, index: usize, total: usize) {
        if let Some(progress) = self.progress {
            progress(Progress::Starting { step, index, total });
        }
    }

    /// Steps that committed, from `first` on: each announced as done, added to the
    /// report and to the applied set.
    fn finish(
        &self,
        report: &mut Report,
        applied: &mut BTreeSet<String>,
        total: usize,
        done: Vec<StepReport>,
        first: usize,
    ) {
        for (offset, step_report) in done.into_iter().enumerate() {
            let index = first + offset;
            if let Some(progress) = self.progress {
                progress(Progress::Done {
                    step: &step_report,
                    index,
                    total,
                });
            }
            let version = step_report.version.clone();
            match step_report.direction {
                Direction::Up => applied.insert(version),
                Direction::Down => applied.remove(&version),
            };
            report.steps.push(step_report);
        }
    }
}

/// The run's result, its span's fields recorded: how many steps it took, where it left
/// the database, how long it took and how it ended.
fn traced(span: &trace::Span, result: Result<Report>) -> Result<Report> {
    if let Ok(report) = &result {
        span.record_count("steps", report.steps.len());
        span.record("current", &report.current.as_deref().unwrap_or("base"));
        span.record_count("pending", report.pending);
    }
    span.end_with(&result);
    result
}

/// What a run calls after each step that committed on its own (see
/// [`Migrator::run_observed`]): `Break` ends the run there.
pub(super) type Observer<'o, C> = dyn FnMut(&mut C, &StepReport) -> Result<ControlFlow<()>> + 'o;

/// The one check of a run asked to stop ([`crate::interrupt`]: SIGINT, SIGTERM): before
/// a step starts, so that the step under way finishes (or, in a joined part, the part
/// rolls back) and nothing is reported done that did not commit.
fn interrupted(step: &Step<'_>) -> Result<()> {
    if crate::interrupt::is_requested() {
        return Err(Error::Interrupted {
            next: step.migration.name().to_owned(),
        });
    }
    Ok(())
}

/// Whether a step may set session state, the search_path among it: code may.
fn sets_session_state(step: &Step<'_>, backend: crate::Backend) -> bool {
    step.migration.is_code()
        || join::sets_session_state(
            step.migration.sql(step.direction).unwrap_or_default(),
            backend,
        )
}

/// What one run carries from step to step.
pub(super) struct Run<'r> {
    pub(super) ledger: &'r Ledger,
    pub(super) predictor: guard::Predictor,
    /// MySQL's autocommit is off for the run ([`with_grouped_commits`]): pelican's
    /// progress rows commit with the statements they describe.
    pub(super) grouped: bool,
    /// Migrations an earlier run left half-applied, and how far it got.
    pub(super) progress: BTreeMap<ProgressKey, Recorded>,
    /// The statement of the failing step the server refused (so it did not run), by
    /// its index in the file, while progress is recorded.
    pub(super) refused: Option<usize>,
    /// How many statements of the step underway, from the first, this run saw commit:
    /// those up to the last DDL statement it ran (MySQL commits before and after each).
    pub(super) committed: Option<usize>,
    /// The connection's foreign keys were on and are off for the run (SQLite): each
    /// migration is checked with `PRAGMA foreign_key_check` before it commits, against
    /// the violations already there.
    pub(super) foreign_keys: Option<ForeignKeys>,
    /// The ledger's tables, still to be created: in the first migration's transaction.
    pub(super) create_ledger: Option<String>,
    /// The step runs in a transaction the run holds (an atomic run): it takes a
    /// savepoint rather than a transaction, and leaves its failure's journal entry to
    /// the run, in [`Run::failed`], to write once the transaction is rolled back.
    pub(super) joined: bool,
    /// The failed step of a joined part: its report, when it began, and why it failed.
    pub(super) failed: Option<(StepReport, chrono::DateTime<chrono::Utc>, String)>,
    /// The next step's file already failed in a chunk's batch (see [`chunk`]): it is
    /// run statement by statement at once, not sent whole again.
    pub(super) retry_guarded: bool,
    /// The checksums and journal entries of chunked steps, written together before the
    /// next step that is not chunked and before the part commits.
    pub(super) unrecorded: Vec<chunk::Unrecorded>,
    /// How many steps the next chunk may hold.
    pub(super) chunk_size: chunk::Size,
    /// A savepoint marks where the joined part stands now (the last chunk left it).
    pub(super) chunk_savepoint: bool,
    /// The search_path to set back after each step that may change it, as diesel
    /// 2.4's harness does after every migration; `None` where the harness keeps none.
    pub(super) search_path: Option<String>,
}

impl Run<'_> {
    /// Sets the search_path back after `step`, as diesel's harness does after every
    /// migration where it keeps one. Only a step that may set session state can have
    /// moved it: such a step runs in a transaction of its own (see [`crate::join`]),
    /// so the joined ones need nothing.
    pub(super) fn restore_search_path<C: Database>(
        &self,
        conn: &mut C,
        step: &Step<'_>,
    ) -> Result<()> {
        match &self.search_path {
            Some(path) if sets_session_state(step, conn.backend()) => conn
                .restore_search_path(path)
                .map_err(Error::query("cannot set the search_path back")),
            _ => Ok(()),
        }
    }

    /// Creates the ledger's tables now, if the first migration has not.
    pub(super) fn ensure_ledger<C: Database>(&mut self, conn: &mut C) -> Result<()> {
        if self.create_ledger.take().is_some() {
            self.ledger.create(conn)?;
        }
        Ok(())
    }
}

/// Runs `f` with MySQL's autocommit off, when `wanted` and the connection is not in a
/// transaction already; on other backends, just runs `f`. `f` is told whether autocommit
/// is off, and so whether what it writes outside a transaction waits for a `COMMIT`.
///
/// MySQL commits each DDL statement and ends the open transaction with it, so with
/// autocommit on, each of the ledger's three writes after a migration's DDL would commit
/// and sync the log on its own: two more syncs per migration than diesel's harness,
/// which writes one row. With autocommit off they commit together with the step's
/// `COMMIT`. Whatever `f` left open (the journal entry of a failed step) is committed
/// and autocommit is set back to what it was, however `f` ends.
fn with_grouped_commits<C: Database, T>(
    conn: &mut C,
    wanted: bool,
    f: impl FnOnce(&mut C, bool) -> Result<T>,
) -> Result<T> {
    let open = conn.in_transaction()?;
    let DdlTransactions::CommitThemselves(sql) = conn.backend().dialect().ddl_transactions() else {
        return f(conn, false);
    };
    let sql = sql.autocommit;
    if !wanted || open {
        return f(conn, false);
    }
    conn.batch_execute(sql.off)
        .map_err(Error::query("cannot turn autocommit off"))?;
    let result = f(conn, true);
    let restored = commit(conn).and_then(|()| {
        conn.batch_execute(sql.restore)
            .map_err(Error::query("cannot turn autocommit back on"))
    });
    match result {
        // The run's own error is what the user must see.
        Err(error) => Err(error),
        Ok(value) => restored.map(|()| value),
    }
}

/// Ends the transaction MySQL opened on its own with autocommit off, outside diesel's
/// transaction bookkeeping.
pub(super) fn commit<C: Database>(conn: &mut C) -> Result<()> {
    conn.batch_execute("COMMIT")
        .map_err(Error::query("cannot commit"))
}
