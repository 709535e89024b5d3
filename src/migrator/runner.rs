//! The run: under the lock (and on SQLite with foreign keys off), plan, run each step in
//! order with grouped commits on MySQL, and report what was done, even when a step fails.

use std::collections::{BTreeMap, BTreeSet};

use super::foreign_keys::{with_foreign_keys_off, ForeignKeys};
use super::{whole_files, Migrator, Mode, Progress, Report};
use crate::guard;
use crate::ledger::Ledger;
use crate::lock;
use crate::plan::Step;
use crate::source::{Direction, Migrations};
use crate::{Database, Error, Result};

impl<'m> Migrator<'m> {
    /// The one path every run takes, holding the migration lock: the applied set is
    /// read once the lock is held, so a run that waited sees what the other one did.
    pub(super) fn run<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
    ) -> Result<Report> {
        with_foreign_keys_off(conn, |conn, check| {
            lock::with(conn, self.lock_timeout, |conn| {
                self.run_locked(conn, plan, check || self.check_foreign_keys)
            })
        })
    }

    fn run_locked<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
        check_foreign_keys: bool,
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
        let rehearsal = self.mode == Mode::DryRun && backend.dialect().transactional_ddl();
        let began = rehearsal && !steps.is_empty();
        report.predicted = self.mode == Mode::DryRun && !rehearsal;
        // PostgreSQL, outside a caller's transaction: a ledger that does not exist yet
        // is created in the first migration's transaction, not in one of its own.
        let mut create_ledger = None;
        if !steps.is_empty() && (self.mode == Mode::Apply || rehearsal) {
            if rehearsal {
                if !exists {
                    report.create_ledger = Some(ledger.create_sql());
                }
                conn.begin()
                    .map_err(Error::query("cannot begin the dry run's transaction"))?;
            }
            if !exists
                && backend.dialect().begin_in_batch()
                && self.mode == Mode::Apply
                && !conn.in_transaction().unwrap_or(true)
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
                foreign_keys,
                create_ledger,
            };
            let total = steps.len();
            for (index, step) in steps.into_iter().enumerate() {
                if let Some(progress) = self.progress {
                    progress(Progress::Starting {
                        step: &step,
                        index,
                        total,
                    });
                }
                let done = self.run_step(conn, &mut run, &step)?;
                if let Some(progress) = self.progress {
                    progress(Progress::Done {
                        step: &done,
                        index,
                        total,
                    });
                }
                report.steps.push(done);
                let version = step.migration.version().to_owned();
                match step.direction {
                    Direction::Up => applied.insert(version),
                    Direction::Down => applied.remove(&version),
                };
            }
            Ok(())
        });
        if began {
            // Whatever the dry run did, it leaves nothing behind.
            let _ = conn.rollback();
        }
        // Computed here rather than read back: a migration may have moved the
        // connection's search_path, and the ledger opened before it is the right one.
        report.current = applied.iter().next_back().cloned();
        report.head = self.migrations.head().map(|m| m.version().to_owned());
        report.pending = self
            .migrations
            .iter()
            .filter(|m| !applied.contains(m.version()))
            .count();
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

/// What one run carries from step to step.
pub(super) struct Run<'r> {
    pub(super) ledger: &'r Ledger,
    pub(super) predictor: guard::Predictor,
    /// MySQL's autocommit is off for the run ([`with_grouped_commits`]): pelican's
    /// progress rows commit with the statements they describe.
    pub(super) grouped: bool,
    /// Migrations an earlier run left half-applied, and how far it got.
    pub(super) progress: BTreeMap<(String, String), (String, usize)>,
    /// The connection's foreign keys were on and are off for the run (SQLite): each
    /// migration is checked with `PRAGMA foreign_key_check` before it commits, against
    /// the violations already there.
    pub(super) foreign_keys: Option<ForeignKeys>,
    /// The ledger's tables, still to be created: in the first migration's transaction.
    pub(super) create_ledger: Option<String>,
}

impl Run<'_> {
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
    let open = conn.in_transaction().unwrap_or(true);
    if !wanted || conn.backend().dialect().transactional_ddl() || open {
        return f(conn, false);
    }
    conn.batch_execute("SET @pelican_autocommit = @@autocommit, autocommit = 0")
        .map_err(Error::query("cannot turn autocommit off"))?;
    let result = f(conn, true);
    let restored = commit(conn).and_then(|()| {
        conn.batch_execute("SET autocommit = @pelican_autocommit")
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
