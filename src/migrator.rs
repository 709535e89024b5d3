//! The one path every operation takes: read the ledger, plan, run each step, record it.
//!
//! The command line, applications at boot and test harnesses all call [`Migrator`];
//! it returns reports and never prints.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};

use crate::guard::{self, Action, Guard};
use crate::ledger::{Entry, Ledger, Outcome};
use crate::lock;
use crate::plan::{self, Step, Target};
use crate::source::{Direction, Migration, Migrations};
use crate::split::split;
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
    progress: Option<&'m dyn Fn(&Step<'_>)>,
    mode: Mode,
    guards: Guards,
    lock_timeout: Duration,
    accept_changed: bool,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .finish_non_exhaustive()
    }
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

    /// How existence guards treat the run (on by default).
    pub fn guards(self, guards: Guards) -> Self {
        Migrator { guards, ..self }
    }

    /// Calls `progress` before each step runs, so a caller can show what is running.
    pub fn with_progress(self, progress: &'m dyn Fn(&Step<'_>)) -> Self {
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
            self.stamp_locked(conn, target)
        })
    }

    fn stamp_locked<C: Database>(&self, conn: &mut C, target: &Target) -> Result<StampReport> {
        let ledger = Ledger::open(conn)?;
        ledger.create(conn)?;
        let applied: BTreeSet<String> = ledger
            .applied(conn)?
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

    fn known_applied<C: Database>(
        &self,
        conn: &mut C,
        ledger: &Ledger,
    ) -> Result<BTreeSet<String>> {
        let applied: BTreeSet<String> = ledger
            .applied(conn)?
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
        lock::with(conn, self.lock_timeout, |conn| self.run_locked(conn, plan))
    }

    fn run_locked<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
    ) -> Result<Report> {
        let ledger = Ledger::open(conn)?;
        let mut applied = self.known_applied(conn, &ledger)?;
        let steps = plan(&applied, self.migrations)?;
        if !steps.is_empty() && self.mode == Mode::Apply {
            ledger.create(conn)?;
            // Only a run with work to do reads the checksums: a boot with nothing
            // pending stays one query.
            self.verify_checksums(conn, &ledger, &applied)?;
        }
        let mut guard = Guard::new(conn.backend(), self.mode == Mode::Apply);
        let mut report = Report::default();
        let wanted = self.mode == Mode::Apply && !steps.is_empty();
        let ran = with_grouped_commits(conn, wanted, |conn, grouped| {
            for step in steps {
                if let Some(progress) = self.progress {
                    progress(&step);
                }
                report
                    .steps
                    .push(self.run_step(conn, &ledger, &mut guard, &step, grouped)?);
                let version = step.migration.version().to_owned();
                match step.direction {
                    Direction::Up => applied.insert(version),
                    Direction::Down => applied.remove(&version),
                };
            }
            Ok(())
        });
        ran?;
        // Computed here rather than read back: a migration may have moved the
        // connection's search_path, and the ledger opened before it is the right one.
        report.current = applied.iter().next_back().cloned();
        report.head = self.migrations.head().map(|m| m.version().to_owned());
        report.pending = self
            .migrations
            .iter()
            .filter(|m| !applied.contains(m.version()))
            .count();
        Ok(report)
    }
}

impl Migrator<'_> {
    /// Runs one migration in one direction with its ledger record: in one transaction
    /// unless its metadata says otherwise. A failure is journaled after the rollback.
    /// `grouped`: MySQL's autocommit is off for the run ([`with_grouped_commits`]).
    fn run_step<C: Database>(
        &self,
        conn: &mut C,
        ledger: &Ledger,
        guard: &mut Guard,
        step: &Step<'_>,
        grouped: bool,
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
        };
        if self.mode == Mode::DryRun {
            self.statements(conn, guard, migration, direction, sql, &mut report, false)?;
            return Ok(report);
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
        // Inside a transaction, the last statement travels with the record in one
        // round trip (three saved on MySQL, whose driver switches multi-statements on
        // and off around each batch); outside one, each statement must stand alone.
        let together = migration.run_in_transaction();
        let mut apply = |conn: &mut C| -> Result<()> {
            let last = self.statements(
                conn,
                guard,
                migration,
                direction,
                sql,
                &mut report,
                together,
            )?;
            let outcome = match direction {
                Direction::Up => Outcome::Applied,
                Direction::Down => Outcome::Reverted,
            };
            let note = journal_note(&report);
            let record = ledger.record_sql(
                migration,
                direction,
                &entry(&report, started, outcome, note.as_deref()),
            );
            match last {
                // A newline first: the statement may end in a `--` comment.
                Some(last) => conn
                    .batch_execute(&format!("{}\n;\n{record}", last.sql))
                    .map_err(|e| Error::Statement {
                        migration: migration.name().to_owned(),
                        file: migration.file(direction),
                        line: last.line,
                        statement: first_line(&last.sql),
                        message: statement_message(&e),
                    }),
                None => conn.batch_execute(&record).map_err(Error::query(format!(
                    "cannot record migration {}",
                    migration.name()
                ))),
            }
        };
        let result = if migration.run_in_transaction() {
            conn.transaction(apply)
        } else {
            // Each step stands on its own, whatever `with_grouped_commits` turned off.
            apply(conn).and_then(|()| if grouped { commit(conn) } else { Ok(()) })
        };
        if let Err(error) = result {
            // What rolled back is no longer in the guards' picture of the schema.
            guard.forget();
            let message = error.to_string();
            // The failure is what the user must see; a journal that cannot be written
            // (the connection died) must not hide it.
            let _ = ledger.journal(
                conn,
                &entry(&report, started, Outcome::Failed, Some(&message)),
            );
            return Err(error);
        }
        report.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    /// Decides and runs (or, in a dry run, only decides) each statement of one file.
    /// With `defer_last`, the last statement, if it is to run, is not run but returned,
    /// for the caller to send with the migration's record.
    #[allow(clippy::too_many_arguments)]
    fn statements<C: Database>(
        &self,
        conn: &mut C,
        guard: &mut Guard,
        migration: &Migration,
        direction: Direction,
        sql: &str,
        report: &mut StepReport,
        defer_last: bool,
    ) -> Result<Option<StatementReport>> {
        let statements = split(sql, conn.backend());
        let enabled = self.guards != Guards::Off
            && migration.guards()
            && !guard::file_disables_guards(&statements);
        let fail = |statement: &crate::split::Statement<'_>, message: String| Error::Statement {
            migration: migration.name().to_owned(),
            file: migration.file(direction),
            line: statement.line,
            statement: first_line(statement.sql),
            message,
        };
        let count = statements.iter().filter(|s| !s.sql.is_empty()).count();
        let mut deferred = None;
        for (index, statement) in statements.iter().filter(|s| !s.sql.is_empty()).enumerate() {
            let defer = defer_last && index + 1 == count && self.mode == Mode::Apply;
            let verdict = guard
                .check(conn, statement, enabled)
                .map_err(|message| fail(statement, message))?;
            if let Some(warning) = &verdict.warning {
                if self.guards == Guards::Strict {
                    return Err(fail(
                        statement,
                        format!("skipped, but what exists differs (--strict-guards): {warning}"),
                    ));
                }
                report.warnings.push(warning.clone());
            }
            match verdict.action {
                Action::Skip => report.statements_skipped += 1,
                Action::Run => {
                    if self.mode == Mode::Apply && !defer {
                        conn.batch_execute(statement.sql)
                            .map_err(|e| fail(statement, statement_message(&e)))?;
                    }
                    guard.ran(&verdict);
                    report.statements_run += 1;
                }
            }
            let entry = StatementReport {
                line: statement.line,
                sql: statement.sql.to_owned(),
                action: verdict.action,
                guarded: verdict.guarded,
                reason: verdict.reason,
            };
            if defer && entry.action == Action::Run {
                deferred = Some(entry.clone());
            }
            report.statements.push(entry);
        }
        Ok(deferred)
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

/// The database's message for a failed statement; a lost connection says what to do.
fn statement_message(error: &diesel::result::Error) -> String {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    let lost = matches!(
        error,
        Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Diesel::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
    );
    let message = error.to_string();
    // libmysqlclient reports a lost connection (CR_SERVER_GONE_ERROR, CR_SERVER_LOST)
    // as an error diesel does not classify.
    let lost = lost
        || message.contains("Server has gone away")
        || message.contains("Lost connection to server");
    if lost {
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
