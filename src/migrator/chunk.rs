//! An atomic run's steps sent together: in a joined part on PostgreSQL, consecutive
//! migrations travel to the server in one batch (a chunk), where each would otherwise
//! cost two round trips of its own.
//!
//! Nothing a migration does changes: each file is sent whole, as diesel sends it, under
//! the savepoint it has in any joined part, with diesel's row for it; the chunk's
//! checksums and journal entries follow in one statement each, before the part commits
//! (or before a step that is not chunked, so the journal keeps the run's order). When
//! the server refuses a file as it runs, the batch stops there: the run rolls back to
//! that file's savepoint, reads from diesel's table which of the chunk's files ran
//! before it, and runs the refused one again statement by statement, guarded, as any
//! joined step whose file fails. The files before it are not run again (what they took
//! from a sequence stays theirs). PostgreSQL parses a batch whole before it runs any of
//! it, so a syntax error in one file refuses the chunk before anything ran: the run goes
//! back to the savepoint the chunk before left (or begins the part's transaction again,
//! when nothing ran in it yet) and sends the chunk's files one per batch, which names the
//! broken one.
//!
//! A chunk starts at one migration and doubles while chunks take less than
//! [`CHUNK_TIME`], so that a signal (checked between chunks) still stops a run of slow
//! migrations after the one under way, and the report's times stay close to each step's:
//! a chunked step's time is its equal share of its chunk's.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::record::entry;
use super::runner::Run;
use super::step::{
    blank_report, step_counts, step_span, File, STEP_SAVEPOINT_BEGIN, STEP_SAVEPOINT_END,
    STEP_SAVEPOINT_UNDO,
};
use super::{Migrator, Mode, StepReport};
use crate::execute::{self, connection_lost, statement_message};
use crate::guard::Verdict;
use crate::ledger::Outcome;
use crate::plan::Step;
use crate::source::Direction;
use crate::split::split;
use crate::trace;
use crate::{Database, Error, Result};

/// A chunk that took less than this is followed by one twice its size.
const CHUNK_TIME: Duration = Duration::from_millis(50);

/// The most migrations one chunk holds.
const CHUNK_MAX: usize = 256;

/// A step ready to travel in a chunk: its report as if every statement ran, and its
/// file as a piece of the batch.
pub(super) struct Prepared {
    report: StepReport,
    piece: String,
    /// Its span, entered while it is prepared and ended once its chunk ran: a step that
    /// the chunk's batch did not run closes it as `not_run`.
    span: trace::Span,
}

impl Prepared {
    /// The bytes it adds to the batch.
    pub(super) fn len(&self) -> usize {
        self.piece.len()
    }
}

/// What sending a chunk did.
pub(super) struct Chunked {
    /// The steps that ran, from the chunk's first, in order.
    pub(super) done: Vec<StepReport>,
    /// What the steps after them need.
    pub(super) next: Next,
}

/// What the steps of a chunk that did not run need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Nothing: every step ran.
    Nothing,
    /// The first of them is a file the server refused as it ran: rolled back to its
    /// savepoint, to be run again statement by statement, guarded.
    RetryGuarded,
    /// The server refused the batch before running any of it (PostgreSQL parses a
    /// batch whole first, so a syntax error in one file stops them all): the run is
    /// back where it was before the chunk, and these many steps are run one by one.
    OneByOne(usize),
}

/// How many steps the next chunk may hold: one at first, twice as many after a chunk
/// that was quick, half as many after a slow one.
#[derive(Debug)]
pub(super) struct Size(usize);

impl Default for Size {
    fn default() -> Self {
        Size(1)
    }
}

impl Size {
    pub(super) fn get(&self) -> usize {
        self.0
    }

    fn after(&mut self, elapsed: Duration) {
        self.0 = if elapsed < CHUNK_TIME {
            (self.0 * 2).min(CHUNK_MAX)
        } else {
            (self.0 / 2).max(1)
        };
    }
}

impl Migrator<'_> {
    /// The step, ready for a chunk, if it may travel in one: applying, up, in a
    /// transaction, on a server where round trips are worth saving, with no directive
    /// (its statements run one by one) and nothing the run checks between migrations
    /// (SQLite's foreign keys) or an earlier run left half-done.
    pub(super) fn prepare<C: Database>(
        &self,
        conn: &mut C,
        run: &Run<'_>,
        step: &Step<'_>,
    ) -> Result<Option<Prepared>> {
        let backend = conn.backend();
        if self.mode != Mode::Apply
            || step.direction != Direction::Up
            || !step.migration.run_in_transaction()
            || !backend.dialect().begin_in_batch()
            || run.foreign_keys.is_some()
            || !run.progress.is_empty()
        {
            return Ok(None);
        }
        let sql = step.migration.up();
        let pieces = split(sql, backend);
        if pieces.iter().any(super::statements::has_directive) {
            return Ok(None);
        }
        let statements: Vec<_> = pieces.into_iter().filter(|s| !s.sql.is_empty()).collect();
        if statements.is_empty() {
            return Ok(None);
        }
        // The file as it is, then a `;` of pelican's on a line of its own: after a file
        // whose last statement has none (a comment after it may end in one), and an
        // empty statement to PostgreSQL otherwise.
        let piece = execute::statement_piece(sql);
        let file = File {
            migration: step.migration,
            direction: Direction::Up,
            statements: &statements,
            enabled: false,
        };
        let mut report = blank_report(step);
        report.transactional = true;
        let span = step_span(step);
        {
            let _in = span.enter();
            for statement in &statements {
                self.note(&file, statement, Verdict::ran("ran"), &mut report)?;
            }
        }
        Ok(Some(Prepared {
            report,
            piece,
            span,
        }))
    }

    /// Sends `steps` (prepared) in one batch, each file under its savepoint with
    /// diesel's row, and keeps their checksums and journal entries for
    /// [`Run::record_chunked`]. On a file the server refuses, what ran before it is
    /// kept and the refused step is left to be run again guarded; on a batch refused
    /// whole, the run goes back to where it was before it (see the module
    /// documentation).
    ///
    /// `ran_before` says whether the part's transaction holds anything yet: if it
    /// does, the state before the chunk is marked by a savepoint.
    pub(super) fn chunk<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        steps: &[Step<'_>],
        prepared: Vec<Prepared>,
        ran_before: bool,
    ) -> Result<Chunked> {
        if ran_before && !run.chunk_savepoint {
            // Only after a step that was not chunked: a chunk leaves one.
            conn.batch_execute(CHUNK_SAVEPOINT_BEGIN)
                .map_err(Error::query("cannot take a savepoint"))?;
            run.chunk_savepoint = true;
        }
        let started = Utc::now();
        let clock = Instant::now();
        let bytes: usize = prepared.iter().map(Prepared::len).sum();
        let mut sql = String::with_capacity(bytes + prepared.len() * 160);
        if let Some(create) = run.create_ledger.as_deref() {
            // Outside the savepoints: a file refused rolls back to its own, and the
            // ledger stays for the retry.
            sql.push_str(create);
            sql.push_str(";\n");
        }
        for (step, prepared) in steps.iter().zip(&prepared) {
            sql.push_str(STEP_SAVEPOINT_BEGIN);
            sql.push_str(";\n");
            sql.push_str(&prepared.piece);
            sql.push_str(&run.ledger.applied_row_sql(step.migration));
            sql.push_str(STEP_SAVEPOINT_END);
            sql.push_str(";\n");
        }
        // The state after the chunk, for the next one to go back to.
        if run.chunk_savepoint {
            sql.push_str(CHUNK_SAVEPOINT_END);
            sql.push_str(";\n");
        }
        sql.push_str(CHUNK_SAVEPOINT_BEGIN);
        let sent = conn.batch_execute(&sql);
        drop(sql);
        let (ran, next) = match sent {
            Ok(()) => {
                run.chunk_savepoint = true;
                (prepared.len(), Next::Nothing)
            }
            Err(error) => match self.refused_in(conn, run, steps, error)? {
                Some(ran) => (ran, Next::RetryGuarded),
                None => {
                    run.chunk_size = Size::default();
                    return Ok(Chunked {
                        done: Vec::new(),
                        next: Next::OneByOne(steps.len()),
                    });
                }
            },
        };
        run.create_ledger = None;
        let elapsed = clock.elapsed();
        run.chunk_size.after(elapsed);
        // Each step's share of the batch's time: the server ran them one after the other
        // in one round trip, and no step's own time is known.
        let share = elapsed.as_secs_f64() * 1000.0 / prepared.len() as f64;
        let mut done = Vec::with_capacity(ran);
        for (step, prepared) in steps.iter().zip(prepared).take(ran) {
            let mut report = prepared.report;
            report.duration_ms = share;
            step_counts(&prepared.span, &report);
            prepared.span.end(None, Some(share));
            let mut journal = entry(&report, started, Outcome::Applied, None);
            journal.share_ms = Some(share.round() as i64);
            let record = run
                .ledger
                .record_sql(step.migration, Direction::Up, &journal);
            run.unrecorded.push(Unrecorded {
                name: step.migration.name().to_owned(),
                checksum: run.ledger.checksum_row(step.migration),
                journal: run.ledger.journal_row(&journal),
            });
            report.record = record;
            done.push(report);
        }
        Ok(Chunked { done, next })
    }

    /// After a chunk's batch failed: how many of its steps ran before the one the
    /// server refused, once the run is rolled back to that one's savepoint; `None` when
    /// the batch failed outside the steps' savepoints (refused whole as it was parsed,
    /// or the ledger's creation before them), once the run is back where it was
    /// before the chunk. A lost connection ends the run.
    fn refused_in<C: Database>(
        &self,
        conn: &mut C,
        run: &Run<'_>,
        steps: &[Step<'_>],
        error: diesel::result::Error,
    ) -> Result<Option<usize>> {
        let (first, last) = match (steps.first(), steps.last()) {
            (Some(first), Some(last)) => (first.migration, last.migration),
            _ => return Err(Error::query("the migrations as one batch")(error)),
        };
        let backend = conn.backend();
        if connection_lost(backend, &error) {
            // Which file was running is not known.
            let others = match steps.len() {
                1 => String::new(),
                n => format!(
                    " (sent in one batch with the {} migration(s) after it, up to {})",
                    n - 1,
                    last.name()
                ),
            };
            return Err(Error::Migration {
                migration: first.name().to_owned(),
                file: first.file(Direction::Up),
                message: format!("{}{others}", statement_message(backend, &error)),
            });
        }
        if conn.batch_execute(STEP_SAVEPOINT_UNDO).is_ok() {
            let versions: Vec<&str> = steps.iter().map(|s| s.migration.version()).collect();
            let recorded = run.ledger.recorded_among(conn, &versions)?;
            return Ok(Some(
                versions
                    .iter()
                    .take_while(|v| recorded.contains(**v))
                    .count(),
            ));
        }
        // No step's savepoint was open: nothing of the chunk ran.
        let back = if run.chunk_savepoint {
            conn.batch_execute(CHUNK_SAVEPOINT_UNDO)
        } else {
            // Nothing ran in the part's transaction before the chunk: it is begun again.
            conn.rollback().and_then(|()| conn.begin())
        };
        back.map_err(|_| Error::query("the migrations as one batch")(error))?;
        Ok(None)
    }
}

/// The savepoint that marks where a joined part stands between chunks, for a batch the
/// server refuses whole to go back to.
const CHUNK_SAVEPOINT_BEGIN: &str = "SAVEPOINT pelican_chunk";
const CHUNK_SAVEPOINT_END: &str = "RELEASE SAVEPOINT pelican_chunk";
const CHUNK_SAVEPOINT_UNDO: &str = "ROLLBACK TO SAVEPOINT pelican_chunk";

/// The checksum and journal rows of a step sent in a chunk, written later with others.
pub(super) struct Unrecorded {
    name: String,
    checksum: String,
    journal: String,
}

impl Run<'_> {
    /// Writes the checksums and journal entries of the chunked steps not yet written,
    /// one statement for each table, in one round trip.
    pub(super) fn record_chunked<C: Database>(&mut self, conn: &mut C) -> Result<()> {
        let unrecorded = std::mem::take(&mut self.unrecorded);
        let (first, last) = match (unrecorded.first(), unrecorded.last()) {
            (Some(first), Some(last)) => (first.name.clone(), last.name.clone()),
            _ => return Ok(()),
        };
        let (checksums, journal): (Vec<String>, Vec<String>) = unrecorded
            .into_iter()
            .map(|u| (u.checksum, u.journal))
            .unzip();
        conn.batch_execute(&self.ledger.applied_rest_sql(&checksums, &journal))
            .map_err(|source| Error::Query {
                context: format!(
                    "cannot record migrations {first} to {last} in the ledger ({}, {})",
                    crate::ledger::CHECKSUM_TABLE,
                    crate::ledger::JOURNAL_TABLE,
                ),
                source,
            })
    }
}
