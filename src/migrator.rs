//! The one path every operation takes: read the ledger, plan, run each step, record it.
//!
//! The command line, applications at boot and test harnesses all call [`Migrator`];
//! it returns reports and never prints.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};

use crate::guard::classify::{self, Nature};
use crate::guard::{self, Action, Directed, Verdict};
use crate::ledger::{Entry, Ledger, Outcome};
use crate::lock;
use crate::plan::{self, Step, Target};
use crate::source::{Direction, Migration, Migrations};
use crate::split::{split, Statement};
use crate::{Database, Error, Result};

/// Whether a run changes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Run the statements and record them.
    #[default]
    Apply,
    /// Decide every statement (run or skip, and why) and touch nothing: no statement of
    /// the migrations runs, no ledger or journal row is written. Guards read the schema
    /// once and follow the statements that would run.
    DryRun,
}

/// How existence guards treat a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Guards {
    /// Skip what is done; report drift found on a skip as a warning.
    #[default]
    On,
    /// As `On`, but drift found on a skip is an error.
    Strict,
    /// Run every statement as written (explicit directives still apply).
    Off,
}

/// Runs migrations on a database.
///
/// ```no_run
/// use pelican::{AnyConnection, Migrations, Migrator, Target};
///
/// let migrations = Migrations::from_dir("migrations")?;
/// let mut conn = AnyConnection::establish("app.db")?;
/// let report = Migrator::new(&migrations).migrate(&mut conn, &Target::Head)?;
/// println!("{} migration(s) applied", report.steps.len());
/// # Ok::<(), pelican::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    progress: Option<&'m dyn Fn(Progress<'_>)>,
    mode: Mode,
    guards: Guards,
    lock_timeout: Duration,
    accept_changed: bool,
    check_foreign_keys: bool,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .finish_non_exhaustive()
    }
}

/// Where a run is, for a caller showing it: each step as it starts, and as it ends.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A step is about to run: the `index`th (from 0) of `total`.
    Starting {
        /// The step.
        step: &'a Step<'a>,
        /// Its place in the run, from 0.
        index: usize,
        /// How many steps the run has.
        total: usize,
    },
    /// A step is done (recorded, or in a dry run, tried).
    Done {
        /// What it did.
        step: &'a StepReport,
        /// Its place in the run, from 0.
        index: usize,
        /// How many steps the run has.
        total: usize,
    },
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepReport {
    /// The migration's version.
    pub version: String,
    /// The migration's folder name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
    /// Applied although a newer migration was already applied.
    pub out_of_order: bool,
    /// Statements executed.
    pub statements_run: usize,
    /// Statements skipped because their work was already done.
    pub statements_skipped: usize,
    /// How long the step took, in milliseconds.
    pub duration_ms: f64,
    /// Drift found where a statement was skipped: what exists differs from what it
    /// would have made.
    pub warnings: Vec<String>,
    /// Every statement, with what guards decided.
    pub statements: Vec<StatementReport>,
    /// Whether it ran in a transaction of its own.
    #[serde(skip)]
    pub transactional: bool,
    /// The ledger statements that recorded it (or, in a dry run, would have).
    #[serde(skip)]
    pub record: String,
}

/// One statement of a step: run or skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementReport {
    /// Its line in the file.
    pub line: usize,
    /// The statement, as written.
    pub sql: String,
    /// Run or skip.
    pub action: Action,
    /// Whether a guard decided (false: it runs as written).
    pub guarded: bool,
    /// Why.
    pub reason: String,
}

/// What a `migrate`, `downgrade` or `redo` did, step by step, in order, and where it
/// left the database.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Report {
    /// Every step run, in order.
    pub steps: Vec<StepReport>,
    /// The newest applied version afterwards.
    pub current: Option<String>,
    /// The newest available version.
    pub head: Option<String>,
    /// How many migrations are still pending.
    pub pending: usize,
    /// The statements that created pelican's ledger tables, when the run created them
    /// (or, in a dry run, would have).
    #[serde(skip)]
    pub create_ledger: Option<String>,
    /// A dry run on MySQL/MariaDB: the decisions are predicted from the schema, not
    /// what happened in a rolled-back transaction.
    pub predicted: bool,
}

/// What `stamp` changed in the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StampReport {
    /// Versions now recorded as applied that were not.
    pub added: Vec<String>,
    /// Versions no longer recorded as applied.
    pub removed: Vec<String>,
}

/// One line of the history: a migration, and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    /// The version.
    pub version: String,
    /// The folder name; `None` for a version the database has and these migrations lack.
    pub name: Option<String>,
    /// Whether it is applied.
    pub applied: bool,
    /// When it was applied.
    pub run_on: Option<NaiveDateTime>,
}

/// Where the database stands against the migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Whether diesel's migrations table exists.
    pub managed: bool,
    /// Every migration oldest first, then any applied version these migrations lack.
    pub history: Vec<HistoryEntry>,
    /// Applied versions that these migrations lack (the database is newer).
    pub unknown: Vec<String>,
}

impl Status {
    /// The newest applied version.
    pub fn current(&self) -> Option<&HistoryEntry> {
        self.history
            .iter()
            .filter(|e| e.applied)
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The newest available migration.
    pub fn head(&self) -> Option<&HistoryEntry> {
        self.history.iter().rev().find(|e| e.name.is_some())
    }

    /// The migrations not applied yet, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.history
            .iter()
            .filter(|e| !e.applied && e.name.is_some())
    }
}

impl<'m> Migrator<'m> {
    /// A migrator for these migrations.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            progress: None,
            mode: Mode::Apply,
            guards: Guards::On,
            lock_timeout: lock::DEFAULT_TIMEOUT,
            accept_changed: false,
            check_foreign_keys: false,
        }
    }

    /// How long a run waits for another holding the migration lock (see [`lock`];
    /// [`lock::DEFAULT_TIMEOUT`] unless told).
    pub fn lock_timeout(self, lock_timeout: Duration) -> Self {
        Migrator {
            lock_timeout,
            ..self
        }
    }

    /// Applies, or only shows what would be done ([`Mode::DryRun`]).
    pub fn mode(self, mode: Mode) -> Self {
        Migrator { mode, ..self }
    }

    /// Accepts applied migrations whose files changed since they ran, recording their
    /// new checksums, instead of refusing to run.
    pub fn accept_changed(self) -> Self {
        Migrator {
            accept_changed: true,
            ..self
        }
    }

    /// Checks SQLite's foreign keys before each migration commits although this run did
    /// not turn their enforcement off itself: a caller (the boot flow) did.
    pub(crate) fn checking_foreign_keys(self, check_foreign_keys: bool) -> Self {
        Migrator {
            check_foreign_keys,
            ..self
        }
    }

    /// How existence guards treat the run (on by default).
    pub fn guards(self, guards: Guards) -> Self {
        Migrator { guards, ..self }
    }

    /// Calls `progress` before each step runs and after each one is done, so a caller
    /// can show what is running and each result as it comes.
    pub fn with_progress(self, progress: &'m dyn Fn(Progress<'_>)) -> Self {
        Migrator {
            progress: Some(progress),
            ..self
        }
    }

    /// The migrations it runs.
    pub fn migrations(&self) -> &'m Migrations {
        self.migrations
    }

    /// Where the database stands: applied, pending and unknown versions. Changes nothing.
    pub fn status<C: Database>(&self, conn: &mut C) -> Result<Status> {
        let ledger = Ledger::open(conn)?;
        let managed = ledger.exists(conn)?;
        let applied = if managed {
            ledger.applied(conn)?
        } else {
            Vec::new()
        };
        let mut run_on: std::collections::BTreeMap<&str, NaiveDateTime> = applied
            .iter()
            .map(|a| (a.version.as_str(), a.run_on))
            .collect();
        let mut history: Vec<HistoryEntry> = self
            .migrations
            .iter()
            .map(|m| {
                let when = run_on.remove(m.version());
                HistoryEntry {
                    version: m.version().to_owned(),
                    name: Some(m.name().to_owned()),
                    applied: when.is_some(),
                    run_on: when,
                }
            })
            .collect();
        let unknown: Vec<String> = run_on.keys().map(|v| (*v).to_owned()).collect();
        history.extend(run_on.into_iter().map(|(version, when)| HistoryEntry {
            version: version.to_owned(),
            name: None,
            applied: true,
            run_on: Some(when),
        }));
        Ok(Status {
            managed,
            history,
            unknown,
        })
    }

    /// Applies pending migrations up to `target` (`head` for all of them).
    pub fn migrate<C: Database>(&self, conn: &mut C, target: &Target) -> Result<Report> {
        self.run(conn, |applied, migrations| {
            plan::upgrade(applied, migrations, target)
        })
    }

    /// Reverts applied migrations down to `target` (`-1`, a version, `base`).
    pub fn downgrade<C: Database>(&self, conn: &mut C, target: &Target) -> Result<Report> {
        self.run(conn, |applied, migrations| {
            plan::downgrade(applied, migrations, target)
        })
    }

    /// Reverts the newest `n` applied migrations and applies them again.
    pub fn redo<C: Database>(&self, conn: &mut C, n: usize) -> Result<Report> {
        self.run(conn, |applied, migrations| {
            plan::redo(applied, migrations, n)
        })
    }

    /// The steps `migrate`, `downgrade` or `redo` would take, without taking them.
    pub fn plan<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
    ) -> Result<Vec<Step<'m>>> {
        let ledger = Ledger::open(conn)?;
        let applied = self.known_applied(conn, &ledger)?;
        plan(&applied, self.migrations)
    }

    /// Records the applied set as exactly the migrations up to `target`, running no SQL.
    /// Holds the migration lock while it reads and writes the ledger.
    pub fn stamp<C: Database>(&self, conn: &mut C, target: &Target) -> Result<StampReport> {
        lock::with(conn, self.lock_timeout, |conn| {
            self.stamp_locked(conn, target, false)
        })
    }

    /// [`stamp`](Migrator::stamp) for adoption, which has compared the unmanaged
    /// database's schema with the migrations' and found `target`'s.
    pub(crate) fn stamp_adopted<C: Database>(
        &self,
        conn: &mut C,
        target: &Target,
    ) -> Result<StampReport> {
        lock::with(conn, self.lock_timeout, |conn| {
            self.stamp_locked(conn, target, true)
        })
    }

    fn stamp_locked<C: Database>(
        &self,
        conn: &mut C,
        target: &Target,
        adopted: bool,
    ) -> Result<StampReport> {
        let ledger = Ledger::open(conn)?;
        if !adopted {
            refuse_unmanaged(conn, &ledger)?;
        }
        ledger.create(conn)?;
        let applied: BTreeSet<String> = ledger
            .read_applied(conn)?
            .into_iter()
            .map(|a| a.version)
            .collect();
        let wanted = plan::stamp(&applied, self.migrations, target)?;
        let (removed, added) = conn.transaction(|conn| ledger.stamp(conn, &applied, &wanted))?;
        Ok(StampReport { added, removed })
    }

    /// Refuses to run while an applied migration's files differ from what ran
    /// ([`Error::ChangedMigrations`]), or, with [`Migrator::accept_changed`], records the
    /// new checksums. A migration applied by another tool has no checksum, and is not
    /// refused.
    fn verify_checksums<C: Database>(
        &self,
        conn: &mut C,
        ledger: &Ledger,
        applied: &BTreeSet<String>,
    ) -> Result<()> {
        let recorded = ledger.checksums(conn)?;
        let changed: Vec<&Migration> = applied
            .iter()
            .filter_map(|version| {
                let migration = self.migrations.get(version)?;
                let checksum = recorded.get(version)?;
                (*checksum != migration.checksum()).then_some(migration)
            })
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        if self.accept_changed {
            return ledger.record_checksums(conn, &changed);
        }
        Err(Error::ChangedMigrations {
            migrations: changed.iter().map(|m| m.name().to_owned()).collect(),
        })
    }

    /// The versions applied, refusing a database newer than these migrations, and one
    /// that is not managed (tables, and no diesel migrations table): which migrations
    /// made its tables is for `adopt` to find out, never for a replay to guess.
    fn known_applied<C: Database>(
        &self,
        conn: &mut C,
        ledger: &Ledger,
    ) -> Result<BTreeSet<String>> {
        if !refuse_unmanaged(conn, ledger)? {
            return Ok(BTreeSet::new());
        }
        let applied: BTreeSet<String> = ledger
            .read_applied(conn)?
            .into_iter()
            .map(|a| a.version)
            .collect();
        let unknown = plan::unknown_applied(&applied, self.migrations);
        if !unknown.is_empty() {
            return Err(Error::DatabaseAhead {
                versions: unknown.into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(applied)
    }

    /// The one path every run takes, holding the migration lock: the applied set is
    /// read once the lock is held, so a run that waited sees what the other one did.
    fn run<C: Database>(
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
        let mut applied = self.known_applied(conn, &ledger)?;
        let steps = plan(&applied, self.migrations)?;
        whole_files(
            steps.iter().map(|s| (s.migration, s.direction)),
            conn.backend(),
        )?;
        let mut report = Report::default();
        let backend = conn.backend();
        // A dry run on SQLite and PostgreSQL runs for real in a transaction it rolls
        // back; on MySQL/MariaDB nothing can roll DDL back, so it predicts.
        let rehearsal = self.mode == Mode::DryRun && backend != crate::Backend::Mysql;
        let began = rehearsal && !steps.is_empty();
        report.predicted = self.mode == Mode::DryRun && !rehearsal;
        // PostgreSQL, outside a caller's transaction: a ledger that does not exist yet
        // is created in the first migration's transaction, not in one of its own.
        let mut create_ledger = None;
        if !steps.is_empty() && (self.mode == Mode::Apply || rehearsal) {
            let exists = ledger.exists(conn)?;
            if rehearsal {
                if !exists {
                    report.create_ledger = Some(ledger.create_sql());
                }
                conn.begin()
                    .map_err(Error::query("cannot begin the dry run's transaction"))?;
            }
            if !exists
                && backend == crate::Backend::Postgres
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
                check_foreign_keys,
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
struct Run<'r> {
    ledger: &'r Ledger,
    predictor: guard::Predictor,
    /// MySQL's autocommit is off for the run ([`with_grouped_commits`]): pelican's
    /// progress rows commit with the statements they describe.
    grouped: bool,
    /// Migrations an earlier run left half-applied, and how far it got.
    progress: BTreeMap<(String, String), (String, usize)>,
    /// The connection's foreign keys were on and are off for the run (SQLite): each
    /// migration is checked with `PRAGMA foreign_key_check` before it commits.
    check_foreign_keys: bool,
    /// The ledger's tables, still to be created: in the first migration's transaction.
    create_ledger: Option<String>,
}

impl Run<'_> {
    /// Creates the ledger's tables now, if the first migration has not.
    fn ensure_ledger<C: Database>(&mut self, conn: &mut C) -> Result<()> {
        if self.create_ledger.take().is_some() {
            self.ledger.create(conn)?;
        }
        Ok(())
    }
}

/// The name of the savepoint each statement runs under when a migration is retried
/// statement by statement.
const SAVEPOINT: &str = "pelican_statement";

impl Migrator<'_> {
    /// Runs one migration in one direction with its ledger record. A failure is
    /// journaled after the rollback.
    fn run_step<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        step: &Step<'_>,
    ) -> Result<StepReport> {
        let migration = step.migration;
        let direction = step.direction;
        let sql = migration.sql(direction).ok_or_else(|| Error::NoDown {
            migration: migration.name().to_owned(),
        })?;
        let started = Utc::now();
        let clock = Instant::now();
        let mut report = StepReport {
            version: migration.version().to_owned(),
            name: migration.name().to_owned(),
            direction,
            out_of_order: step.out_of_order,
            statements_run: 0,
            statements_skipped: 0,
            duration_ms: 0.0,
            warnings: Vec::new(),
            statements: Vec::new(),
            transactional: false,
            record: String::new(),
        };
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
        let backend = conn.backend();
        let transactional = migration.run_in_transaction() && backend != crate::Backend::Mysql;
        report.transactional = transactional;
        if self.mode == Mode::DryRun && backend == crate::Backend::Mysql {
            for statement in &statements {
                let verdict = run
                    .predictor
                    .predict(conn, statement, enabled)
                    .map_err(|message| file.error(statement, message))?;
                self.note(&file, statement, verdict, &mut report)?;
            }
            report.record = self.record(run, &file, &report, started, Outcome::Applied);
            return Ok(report);
        }
        let result = if transactional {
            self.transactional(conn, run, &file, &mut report, started)
        } else if self.mode == Mode::Apply {
            // Outside the SQLite run's write transaction too, as diesel runs it.
            run.ensure_ledger(conn).and_then(|()| {
                lock::outside_write_transaction(conn, |conn| {
                    self.one_by_one(conn, run, &file, &mut report, started)
                })
            })
        } else {
            self.one_by_one(conn, run, &file, &mut report, started)
        };
        if let Err(error) = result {
            let message = error.to_string();
            if self.mode == Mode::Apply && run.ensure_ledger(conn).is_ok() {
                // The failure is what the user must see; a journal that cannot be
                // written (the connection died) must not hide it.
                let _ = run.ledger.journal(
                    conn,
                    &entry(&report, started, Outcome::Failed, Some(&message)),
                );
            }
            return Err(error);
        }
        report.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    /// A migration that runs in a transaction (SQLite, PostgreSQL): first as diesel runs
    /// it, the whole file in one batch with its record; only if that fails, rolled back
    /// and run again statement by statement, each under a savepoint, so that a statement
    /// the server refuses because its work is done becomes a skip.
    fn transactional<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        file: &File<'_, '_>,
        report: &mut StepReport,
        started: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let has_directives = file.statements.iter().any(|s| {
            s.leading_comments()
                .iter()
                .any(|c| guard::directive::parse(c).is_some())
        });
        if self.mode == Mode::Apply && !has_directives {
            let mut whole = report.clone();
            for statement in file.statements {
                self.note(file, statement, Verdict::ran("ran"), &mut whole)?;
            }
            let record = self.record(run, file, &whole, started, Outcome::Applied);
            let sql = file.migration.sql(file.direction).unwrap_or_default();
            let check = run.check_foreign_keys;
            let mut lost = None;
            let mut keep = |error: diesel::result::Error| {
                if connection_lost(&error) {
                    lost = Some(statement_message(&error));
                }
                Error::query("the migration as one batch")(error)
            };
            let batch = if conn.backend() == crate::Backend::Postgres
                && !conn.in_transaction().unwrap_or(true)
            {
                // Two round trips, where diesel's transaction takes four: `BEGIN` goes
                // before the file, the record and `COMMIT` after it, each batch on its
                // own so nothing is appended to the author's text.
                let create = run.create_ledger.as_deref().unwrap_or_default();
                conn.batch_execute(&format!("BEGIN;\n{create};\n{sql}"))
                    .map_err(&mut keep)
                    .and_then(|()| {
                        conn.batch_execute(&format!("{record}COMMIT"))
                            .map_err(&mut keep)
                    })
                    .inspect_err(|_| {
                        // Ends the transaction the failed batch left open, if any.
                        let _ = conn.batch_execute("ROLLBACK");
                    })
            } else {
                conn.transaction(|conn| {
                    conn.batch_execute(sql).map_err(&mut keep)?;
                    if check {
                        foreign_key_check(conn, file.migration.name())?;
                    }
                    file.record(conn, &record)
                })
            };
            if batch.is_ok() {
                run.create_ledger = None;
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
        let savepoints = conn.backend() != crate::Backend::Mysql;
        conn.transaction(|conn| {
            self.statements(conn, run, file, report, savepoints, None)?;
            if run.check_foreign_keys {
                foreign_key_check(conn, file.migration.name())?;
            }
            report.record = self.record(run, file, report, started, Outcome::Applied);
            file.record(conn, &report.record)
        })
    }

    /// A migration outside a transaction (`run_in_transaction = false`, and every
    /// migration on MySQL/MariaDB, where each DDL statement commits itself): statement by
    /// statement, each refusal settled. On MySQL the run's progress rows say which
    /// statements of a half-applied migration committed, so a later run resumes after
    /// them.
    fn one_by_one<C: Database>(
        &self,
        conn: &mut C,
        run: &mut Run<'_>,
        file: &File<'_, '_>,
        report: &mut StepReport,
        started: chrono::DateTime<Utc>,
    ) -> Result<()> {
        // A dry run on SQLite and PostgreSQL runs inside the transaction it rolls back;
        // each statement gets a savepoint so one that cannot run there is passed over.
        let savepoints =
            conn.in_transaction().unwrap_or(false) && conn.backend() != crate::Backend::Mysql;
        // On MySQL the last statement travels with the record and the COMMIT in one
        // round trip (the driver switches multi-statements on and off around each).
        let combine = (run.grouped && self.mode == Mode::Apply).then_some(started);
        if self.statements(conn, run, file, report, savepoints, combine)? {
            return Ok(());
        }
        if run.check_foreign_keys {
            foreign_key_check(conn, file.migration.name())?;
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

    /// Runs (or, in a dry run, tries) each statement of a file in order, deciding each:
    /// skipped by a directive, recorded done by an earlier run, run, or refused by the
    /// server because its work is done (a skip, once [`guard::settle`] agrees).
    /// With `combine` (the step's start), the last statement is sent with the step's
    /// record and a `COMMIT`; true when that recorded the step.
    fn statements<C: Database>(
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
                .map_err(|m| file.error(statement, m))?;
            let (as_written, settle) = match directed {
                Directed::Skip(verdict) => {
                    self.note(file, statement, verdict, report)?;
                    continue;
                }
                Directed::AsWritten(verdict) => (verdict, false),
                Directed::Guarded => (Verdict::ran("ran"), true),
            };
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
            let executed = match &with_record {
                // A newline first: the statement may end in a `--` comment.
                Some((_, record)) => {
                    conn.batch_execute(&format!("{}\n;\n{record}COMMIT", statement.sql))
                }
                None => execute(conn, statement.sql, savepoints),
            };
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
                        return Err(file.error(statement, message));
                    }
                    match guard::settle(conn, statement.sql, &message) {
                        Ok(verdict) => verdict,
                        Err(why) if why.is_empty() => return Err(file.error(statement, message)),
                        Err(why) => return Err(file.error(statement, format!("{message} ({why})"))),
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
                 the migration by hand and `pelican stamp` it"
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

    /// Adds one statement's verdict to the report; drift on a skip is a warning, or an
    /// error under `--strict-guards`.
    fn note(
        &self,
        file: &File<'_, '_>,
        statement: &Statement<'_>,
        verdict: Verdict,
        report: &mut StepReport,
    ) -> Result<()> {
        if let Some(warning) = &verdict.warning {
            if self.guards == Guards::Strict {
                return Err(file.error(
                    statement,
                    format!("skipped, but what exists differs (--strict-guards): {warning}"),
                ));
            }
            report.warnings.push(warning.clone());
        }
        match verdict.action {
            Action::Skip => report.statements_skipped += 1,
            Action::Run => report.statements_run += 1,
            Action::NotTried => {}
        }
        report.statements.push(StatementReport {
            line: statement.line,
            sql: statement.sql.to_owned(),
            action: verdict.action,
            guarded: verdict.guarded,
            reason: verdict.reason,
        });
        Ok(())
    }

    /// The ledger statements that record a step: diesel's row, the checksum, the
    /// journal, and the end of any progress an earlier run recorded.
    fn record(
        &self,
        run: &Run<'_>,
        file: &File<'_, '_>,
        report: &StepReport,
        started: chrono::DateTime<Utc>,
        outcome: Outcome,
    ) -> String {
        let outcome = match (outcome, file.direction) {
            (Outcome::Applied, Direction::Down) => Outcome::Reverted,
            (outcome, _) => outcome,
        };
        let note = journal_note(report);
        let mut sql = run.ledger.record_sql(
            file.migration,
            file.direction,
            &entry(report, started, outcome, note.as_deref()),
        );
        let key = (
            file.migration.version().to_owned(),
            file.direction.to_string(),
        );
        let other = (
            file.migration.version().to_owned(),
            match file.direction {
                Direction::Up => Direction::Down,
                Direction::Down => Direction::Up,
            }
            .to_string(),
        );
        if run.progress.contains_key(&key) || run.progress.contains_key(&other) {
            sql.push_str(&run.ledger.clear_progress_sql(file.migration));
        }
        sql
    }
}

/// Whether diesel's migrations table exists; an error when it does not and the database
/// has tables of its own (it is not managed: `adopt` finds which version it is at).
fn refuse_unmanaged<C: Database>(conn: &mut C, ledger: &Ledger) -> Result<bool> {
    if ledger.exists(conn)? {
        return Ok(true);
    }
    let tables: Vec<String> = crate::admin::relations(conn)?
        .into_iter()
        .filter(|t| !crate::ledger::is_ledger(t))
        .collect();
    if tables.is_empty() {
        Ok(false)
    } else {
        Err(Error::Unmanaged { tables })
    }
}

/// Refuses, before anything runs, a file that ends inside a comment, a string, a quoted
/// identifier or a dollar quote: the server would take whatever is sent after it as
/// part of it.
pub(crate) fn whole_files<'a>(
    files: impl IntoIterator<Item = (&'a Migration, Direction)>,
    backend: crate::Backend,
) -> Result<()> {
    for (migration, direction) in files {
        let Some(sql) = migration.sql(direction) else {
            continue;
        };
        if let Some((line, what)) = crate::split::unterminated(sql, backend) {
            return Err(Error::InvalidMigration {
                path: migration.file(direction).into(),
                reason: format!(
                    "line {line}: the file ends inside {what} that never closes ({backend} \
                     would read everything sent after it as part of it)"
                ),
            });
        }
    }
    Ok(())
}

/// One migration file, split, as a step runs it.
struct File<'m, 's> {
    migration: &'m Migration,
    direction: Direction,
    statements: &'s [Statement<'s>],
    enabled: bool,
}

impl File<'_, '_> {
    /// Runs the ledger statements that record this step.
    fn record<C: Database>(&self, conn: &mut C, record: &str) -> Result<()> {
        conn.batch_execute(record).map_err(Error::query(format!(
            "cannot record migration {}",
            self.migration.name()
        )))
    }

    /// What a half-applied migration's progress is measured against: its statements,
    /// without the comments around them, so that adding a directive keeps the count.
    fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for statement in self.statements {
            hasher.update(statement.sql.as_bytes());
            hasher.update([0]);
        }
        format!("{:x}", hasher.finalize())
    }

    fn error(&self, statement: &Statement<'_>, message: String) -> Error {
        Error::Statement {
            migration: self.migration.name().to_owned(),
            file: self.migration.file(self.direction),
            line: statement.line,
            statement: first_line(statement.sql),
            message,
        }
    }
}

fn entry<'a>(
    report: &'a StepReport,
    started: chrono::DateTime<Utc>,
    outcome: Outcome,
    message: Option<&'a str>,
) -> Entry<'a> {
    Entry {
        version: &report.version,
        direction: direction_name(report.direction),
        started,
        finished: Utc::now(),
        statements_run: report.statements_run,
        statements_skipped: report.statements_skipped,
        outcome,
        message,
    }
}

/// Runs one statement; under a savepoint, so that a refused statement leaves the
/// transaction usable (PostgreSQL aborts a transaction at its first error).
fn execute<C: Database>(
    conn: &mut C,
    sql: &str,
    savepoint: bool,
) -> std::result::Result<(), diesel::result::Error> {
    if !savepoint {
        return conn.batch_execute(sql);
    }
    conn.batch_execute(&format!("SAVEPOINT {SAVEPOINT}"))?;
    match conn.batch_execute(sql) {
        Ok(()) => conn.batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}")),
        Err(error) => {
            // The statement's error is the one that matters; a connection too broken
            // to roll back reports itself on the next statement.
            let _ = conn.batch_execute(&format!(
                "ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
            ));
            Err(error)
        }
    }
}

/// Whether the server refused a statement because it cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER TYPE … ADD VALUE` on old servers).
fn cannot_run_in_transaction(error: &diesel::result::Error) -> bool {
    let message = error.to_string().to_ascii_lowercase();
    message.contains("cannot run inside a transaction block")
        || message.contains("cannot vacuum from within a transaction")
        || message.contains("cannot be executed from a function")
}

/// SQLite's own rule for schema changes: with enforcement off while the migration ran,
/// its foreign keys are checked before it commits.
pub(crate) fn foreign_key_check<C: Database>(conn: &mut C, what: &str) -> Result<()> {
    let rows: Vec<Violation> = conn
        .load_with(
            "SELECT \"table\" AS tbl, CAST(rowid AS TEXT) AS row_id, parent \
             FROM pragma_foreign_key_check",
            &[],
        )
        .map_err(Error::query("cannot check foreign keys"))?;
    match rows.first() {
        None => Ok(()),
        Some(first) => Err(Error::ForeignKeyViolation {
            migration: what.to_owned(),
            count: rows.len(),
            table: first.tbl.clone(),
            row: first.row_id.clone().unwrap_or_else(|| "?".to_owned()),
            parent: first.parent.clone(),
        }),
    }
}

#[derive(diesel::QueryableByName)]
struct Violation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tbl: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    row_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    parent: String,
}

/// Runs `f` with SQLite's foreign-key enforcement off, when it is on and the connection
/// is not in a transaction (where the pragma does nothing); tells `f` whether it did,
/// and sets it back however `f` ends. On other backends, just runs `f`.
pub(crate) fn with_foreign_keys_off<C: Database, T>(
    conn: &mut C,
    f: impl FnOnce(&mut C, bool) -> Result<T>,
) -> Result<T> {
    if conn.backend() != crate::Backend::Sqlite || conn.in_transaction().unwrap_or(true) {
        return f(conn, false);
    }
    let rows: Vec<Flag> = conn
        // The pragma itself, not `pragma_foreign_keys`: a SELECT would read the file, and
        // wait on another process's write lock.
        .load_with("PRAGMA foreign_keys", &[])
        .map_err(Error::query("cannot read PRAGMA foreign_keys"))?;
    if rows.first().is_none_or(|r| r.foreign_keys != 1) {
        return f(conn, false);
    }
    conn.batch_execute("PRAGMA foreign_keys = OFF")
        .map_err(Error::query("cannot turn foreign keys off"))?;
    let result = f(conn, true);
    let restored = conn
        .batch_execute("PRAGMA foreign_keys = ON")
        .map_err(Error::query("cannot turn foreign keys back on"));
    match result {
        Err(error) => Err(error),
        Ok(value) => restored.map(|()| value),
    }
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    foreign_keys: i64,
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
    if !wanted || conn.backend() != crate::Backend::Mysql || open {
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
fn commit<C: Database>(conn: &mut C) -> Result<()> {
    conn.batch_execute("COMMIT")
        .map_err(Error::query("cannot commit"))
}

/// What the journal keeps of a step beyond its counts: each skip and each warning.
fn journal_note(report: &StepReport) -> Option<String> {
    let mut lines: Vec<String> = report
        .statements
        .iter()
        .filter(|s| s.action == Action::Skip)
        .map(|s| format!("skipped line {}: {}", s.line, s.reason))
        .collect();
    lines.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Whether the connection died under a statement.
fn connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    let message = error.to_string();
    matches!(
        error,
        Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Diesel::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
    )
        // libmysqlclient reports a lost connection (CR_SERVER_GONE_ERROR,
        // CR_SERVER_LOST) as an error diesel does not classify; so does libpq a
        // terminated backend.
        || message.contains("Server has gone away")
        || message.contains("Lost connection to server")
        || message.contains("terminating connection")
        || message.contains("server closed the connection unexpectedly")
}

/// The database's message for a failed statement; a lost connection says what to do.
fn statement_message(error: &diesel::result::Error) -> String {
    let message = error.to_string();
    if connection_lost(error) {
        format!(
            "{} (the connection to the database was lost; nothing of this migration was \
             recorded: run the command again, and pelican will resume where it stopped)",
            message.trim_end()
        )
    } else {
        message
    }
}

/// The first line of a statement, for messages and listings.
pub(crate) fn first_line(sql: &str) -> String {
    sql.lines().next().unwrap_or_default().trim().to_owned()
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}
