//! The fresh build: an empty database given the schema at head (a snapshot, then every
//! newer `up.sql`), the initial setup hook run, every version stamped; one transaction
//! where it can be, undone on failure where it cannot (see [`crate::boot`]). What
//! [`Boot`](crate::Boot)'s fresh path and `reset` run, and what adoption starts its
//! scratch database with where a snapshot fits (see [`crate::adopt`]): below both.

use std::collections::BTreeSet;

use crate::dialect::DdlTransactions;
use crate::error::Left;
use crate::execute::{self, BATCH_BYTES};
use crate::join;
use crate::ledger::Ledger;
use crate::lock;
use crate::migrator::{foreign_key_check, whole_files, Commit, StepReport};
use crate::snapshot::{Fit, Snapshot};
use crate::source::{Direction, Migration};
use crate::split::split;
use crate::unfinished;
use crate::{Backend, BoxError, Database, Error, Migrations, Migrator, Result, Target};

/// The application's seed hook, as the fresh build runs it.
pub(crate) type Hook<'a, C> = Box<dyn FnOnce(&mut C) -> std::result::Result<(), BoxError> + 'a>;

/// How a fresh database got its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Build {
    /// Every `up.sql` replayed as one batch, every version stamped in one statement;
    /// in several transactions where joining requires it ([`BootReport::commits`]
    /// says where).
    ///
    /// [`BootReport::commits`]: crate::BootReport::commits
    Batch,
    /// One migration after another, as `migrate` runs them (some migration must run
    /// outside a transaction).
    PerMigration,
    /// The [snapshot](crate::snapshot) of the schema up to its head, then every newer `up.sql` as one
    /// batch, every version stamped in one statement.
    Snapshot,
}

/// A fresh build, configured: what to build, and what runs with it.
pub(crate) struct Fresh<'a, C> {
    /// The migrations to build and stamp.
    pub(crate) migrations: &'a Migrations,
    /// The snapshots given (see [`crate::Boot::snapshot`]): the one for the backend that
    /// fits the migrations is loaded.
    pub(crate) snapshots: &'a [String],
    /// The application's seed hook.
    pub(crate) hook: Option<Hook<'a, C>>,
    /// Whether SQLite's foreign-key enforcement is off for the build, so that it is
    /// checked before the build commits.
    pub(crate) check_foreign_keys: bool,
    /// What runs the migrations where the build goes one migration after another.
    pub(crate) migrator: Migrator<'a>,
}

/// What a fresh build did.
pub(crate) struct Built {
    /// How the database got its schema.
    pub(crate) build: Build,
    /// The head of the snapshot loaded, if one was.
    pub(crate) snapshot: Option<String>,
    /// How many versions the build stamped.
    pub(crate) stamped: usize,
    /// The migrations run one by one (a build per migration).
    pub(crate) steps: Vec<StepReport>,
    /// Where the build committed, where it was several transactions.
    pub(crate) commits: Vec<Commit>,
}

/// How the fresh build joins (see [`crate::join`]): the snapshot's statements, then the
/// migrations after it, cut where a migration sets session state or needs a commit, or
/// where the locks taken would pass the server's budget. One part: the build is one
/// transaction (none: nothing to build). `None` where the build cannot be in
/// transactions at all (MySQL/MariaDB, or a migration outside a transaction).
pub(crate) fn parts<C: Database>(
    conn: &mut C,
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
) -> Result<Option<Vec<join::Part>>> {
    let covered = snapshot.map_or(0, |(_, covered)| *covered);
    let backend = conn.backend();
    if matches!(
        backend.dialect().ddl_transactions(),
        DdlTransactions::CommitThemselves(_)
    ) || !batchable(migrations, covered)
    {
        return Ok(None);
    }
    let units = fresh_units(migrations, snapshot, backend);
    let budget = join::lock_budget(conn)?;
    Ok(Some(join::parts(&units, budget)))
}

/// Whether every migration after the oldest `covered` may run inside a transaction, and
/// so in one batch: SQL that runs in a transaction, not code (which only its own `run`
/// can run).
fn batchable(migrations: &Migrations, covered: usize) -> bool {
    migrations
        .iter()
        .skip(covered)
        .all(|m| m.run_in_transaction() && !m.is_code())
}

/// The snapshot of `snapshots` for `backend` that describes these migrations, and how
/// many of them it stands for.
pub(crate) fn usable_snapshot(
    snapshots: &[String],
    migrations: &Migrations,
    backend: Backend,
) -> Result<Option<(Snapshot, usize)>> {
    for text in snapshots {
        let snapshot = Snapshot::parse(text.as_str())?;
        if snapshot.backend() != backend {
            continue;
        }
        match snapshot.fit(migrations) {
            Fit::Current => return Ok(Some((snapshot, migrations.len()))),
            Fit::Older { covered } => return Ok(Some((snapshot, covered))),
            Fit::Mismatch { .. } => {}
        }
    }
    Ok(None)
}

impl<C: Database> Fresh<'_, C> {
    /// Builds the schema on an empty database. `outcome` says what a failure leaves, for
    /// its error message.
    pub(crate) fn build(self, conn: &mut C, outcome: Left) -> Result<Built> {
        let mut built = Built {
            build: Build::Batch,
            snapshot: None,
            stamped: 0,
            steps: Vec::new(),
            commits: Vec::new(),
        };
        whole_files(
            self.migrations.iter().map(|m| (m, Direction::Up)),
            conn.backend(),
        )?;
        let snapshot = usable_snapshot(self.snapshots, self.migrations, conn.backend())?;
        let covered = snapshot.as_ref().map_or(0, |(_, covered)| *covered);
        built.snapshot = snapshot.as_ref().map(|(s, _)| s.head().to_owned());
        let parts = parts(conn, self.migrations, snapshot.as_ref())?;
        let atomic = parts.as_ref().is_some_and(|parts| parts.len() <= 1);
        let parts = parts.unwrap_or_default();
        let batchable = batchable(self.migrations, covered);
        // What the build's own statements make: all a failed build that is not one
        // transaction may undo (see [`unfinished`]).
        let made = match atomic {
            true => unfinished::Made::default(),
            false => unfinished::Made::of(
                conn.backend(),
                snapshot.as_ref().map(|(s, _)| s.sql()),
                self.migrations.iter().skip(covered),
                !batchable,
            )
            .stamped_last(
                (self.migrations.head())
                    .filter(|_| batchable)
                    .map(|m| m.version()),
            ),
        };
        if !batchable {
            let migrator = self.migrator;
            let hook = self.hook;
            let migrations = self.migrations;
            built.build = Build::PerMigration;
            built.stamped = covered;
            (built.steps, built.commits) = undoable(conn, false, &made, |conn| {
                if let Some((snapshot, covered)) = &snapshot {
                    // The snapshot stands for the oldest migrations: load it and record
                    // them, then run the rest one by one.
                    load_snapshot(conn, snapshot, outcome)?;
                    let ledger = Ledger::open(conn)?;
                    ledger.create(conn)?;
                    let older: Vec<&Migration> = migrations.iter().take(*covered).collect();
                    ledger.stamp(conn, &BTreeSet::new(), &older)?;
                }
                let upgrade = migrator.migrate(conn, &Target::Head)?;
                run_hook(conn, hook, outcome)?;
                Ok((upgrade.steps, upgrade.commits))
            })?;
            return Ok(built);
        }
        let migrations = self.migrations;
        let hook = self.hook;
        if snapshot.is_some() {
            built.build = Build::Snapshot;
        }
        let search_path = SearchPath::read(conn, migrations.iter().skip(covered))?;
        let check = self.check_foreign_keys;
        if parts.len() > 1 {
            // Joined in several transactions (see [`crate::join`]): recorded as an
            // unfinished build, so that a failure drops what the earlier ones made.
            built.commits = commits(migrations, snapshot.as_ref(), &parts, conn.backend());
            built.stamped = undoable(conn, false, &made, |conn| {
                // Opened first: a migration's `SET search_path` must not move it.
                let ledger = Ledger::open(conn)?;
                let (snapshot, path) = (snapshot.as_ref(), &search_path);
                build_in_parts(conn, migrations, snapshot, &parts, path, outcome)?;
                conn.transaction(|conn| {
                    seed_and_stamp(conn, &ledger, migrations, hook, check, outcome)
                })
            })?;
            return Ok(built);
        }
        let stamped = undoable(conn, atomic, &made, |conn| {
            let ledger = Ledger::open(conn)?;
            schema_at_head(conn, migrations, snapshot.as_ref(), outcome)?;
            search_path.restore(conn)?;
            seed_and_stamp(conn, &ledger, migrations, hook, check, outcome)
        });
        built.stamped = match stamped {
            Err(Error::FreshBuild { message, outcome }) => {
                return Err(locate(conn, migrations, atomic)
                    .unwrap_or(Error::FreshBuild { message, outcome }))
            }
            other => other?,
        };
        Ok(built)
    }
}

/// The search_path diesel's harness sets back after each migration, where it keeps one
/// (see `Operations::harness_search_path`), and only where a migration of the build may
/// change it. Such a migration is a part of its own (see [`crate::join`]), or the only
/// one of a build in one batch, so the path is set back once the build's migrations
/// ran, before the seed hook: what the migrations after it and the hook see is what
/// they see under diesel's harness.
struct SearchPath(Option<String>);

impl SearchPath {
    fn read<'m, C: Database>(
        conn: &mut C,
        mut migrations: impl Iterator<Item = &'m Migration>,
    ) -> Result<Self> {
        let backend = conn.backend();
        if !migrations.any(|m| join::sets_session_state(m.up(), backend)) {
            return Ok(SearchPath(None));
        }
        conn.harness_search_path()
            .map(SearchPath)
            .map_err(Error::query("cannot read the search_path"))
    }

    fn restore<C: Database>(&self, conn: &mut C) -> Result<()> {
        match &self.0 {
            Some(path) => conn
                .restore_search_path(path)
                .map_err(Error::query("cannot set the search_path back")),
            None => Ok(()),
        }
    }
}

/// Builds the schema at head on an empty database: the snapshot if there is one (it
/// stands for the oldest `covered` migrations), then every other `up.sql`, oldest
/// first, as one batch (split into a few where it is very large).
fn schema_at_head<C: Database>(
    conn: &mut C,
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
    outcome: Left,
) -> Result<()> {
    let covered = match snapshot {
        Some((snapshot, covered)) => {
            load_snapshot(conn, snapshot, outcome)?;
            *covered
        }
        None => 0,
    };
    // Every file as diesel sends it, one after another (see [`execute::file_piece`]):
    // each statement reaches the server as the author wrote it (SQLite keeps a
    // `CREATE`'s text as written).
    let backend = conn.backend();
    let files = migrations.iter().skip(covered);
    let pieces = files.filter_map(|migration| execute::file_piece(migration.up(), backend));
    execute::run_batches(conn, execute::batches(pieces)).map_err(|e| Error::FreshBuild {
        message: e.to_string(),
        outcome,
    })
}

/// Runs a snapshot's SQL: as one batch, or a few where it is very large (its
/// statements then joined again as [`execute::statement_piece`] ends each).
fn load_snapshot<C: Database>(conn: &mut C, snapshot: &Snapshot, outcome: Left) -> Result<()> {
    let sql = snapshot.sql();
    let run = |conn: &mut C, sent: execute::Sent| {
        sent.map_err(|e| {
            // What the snapshot's prologue switched off for the load: back on.
            if let Some(restore) = conn.backend().dialect().after_failed_load() {
                let _ = conn.batch_execute(restore);
            }
            Error::Snapshot {
                snapshot: snapshot.source().to_owned(),
                reason: format!("it does not load: {e}; {outcome}"),
            }
        })
    };
    let sent = if sql.len() <= BATCH_BYTES {
        execute::run_batches(conn, [sql])
    } else {
        let statements = split(sql, conn.backend()).into_iter();
        let pieces = statements
            .filter(|statement| !statement.sql.is_empty())
            .map(|statement| execute::statement_piece(statement.sql));
        execute::run_batches(conn, execute::batches(pieces))
    };
    run(conn, sent)
}

/// What the fresh build joins, in order, for [`join::parts`]: each statement of the
/// snapshot (pelican's own, joinable), then each migration after it.
fn fresh_units(
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
    backend: Backend,
) -> Vec<join::Unit> {
    let covered = snapshot.map_or(0, |(_, covered)| *covered);
    let statements = snapshot
        .map(|(snapshot, _)| snapshot_statements(snapshot, backend))
        .unwrap_or_default();
    let loaded = statements.iter().map(|_| join::Unit {
        boundary: join::Boundary::Joinable,
        locks: join::LOCKS_PER_STATEMENT,
    });
    let replayed = migrations.iter().skip(covered).map(|migration| join::Unit {
        boundary: join::boundary(migration.up(), migration.run_in_transaction(), backend),
        locks: join::locks(migration.up(), backend),
    });
    loaded.chain(replayed).collect()
}

/// A snapshot's statements, each as one piece of a batch.
fn snapshot_statements(snapshot: &Snapshot, backend: crate::Backend) -> Vec<String> {
    split(snapshot.sql(), backend)
        .into_iter()
        .filter(|statement| !statement.sql.is_empty())
        .map(|statement| execute::statement_piece(statement.sql))
        .collect()
}

/// Where a build in `parts` commits: after which migration (the snapshot's head for a
/// part of the snapshot's statements), and why.
fn commits(
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
    parts: &[join::Part],
    backend: Backend,
) -> Vec<Commit> {
    let covered = snapshot.map_or(0, |(_, covered)| *covered);
    let loaded = snapshot.map_or(0, |(snapshot, _)| {
        snapshot_statements(snapshot, backend).len()
    });
    parts
        .iter()
        .map(|part| {
            let last = part.range.end - 1;
            // A part of the snapshot's statements ends at the version it stands for.
            let after = match last.checked_sub(loaded) {
                Some(index) => migrations.iter().nth(covered + index),
                None => covered
                    .checked_sub(1)
                    .and_then(|i| migrations.iter().nth(i)),
            };
            Commit {
                after: after.map(|m| m.version().to_owned()).unwrap_or_default(),
                reason: part.ends,
            }
        })
        .collect()
}

/// The fresh build as several transactions, one per part (see [`crate::join`]): the
/// snapshot's statements and the migrations' files in batches, each part committed
/// before the next begins, and the search_path set back after it where diesel's harness
/// would. A part that fails is rolled back, and its migrations run again statement by
/// statement (rolled back too) to name the statement that fails.
fn build_in_parts<C: Database>(
    conn: &mut C,
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
    parts: &[join::Part],
    search_path: &SearchPath,
    outcome: Left,
) -> Result<()> {
    let backend = conn.backend();
    let covered = snapshot.map_or(0, |(_, covered)| *covered);
    let statements = snapshot
        .map(|(snapshot, _)| snapshot_statements(snapshot, backend))
        .unwrap_or_default();
    let replayed: Vec<&Migration> = migrations.iter().skip(covered).collect();
    let loaded = statements.len();
    for part in parts {
        let (start, end) = (part.range.start, part.range.end);
        let of_snapshot = &statements[start.min(loaded)..end.min(loaded)];
        let of_history = &replayed[start.max(loaded) - loaded..end.max(loaded) - loaded];
        let ran = conn.transaction(|conn| {
            lock::renew(conn)?;
            if let Some((snapshot, _)) = snapshot.filter(|_| !of_snapshot.is_empty()) {
                let sent = execute::run_batches(conn, execute::batches(of_snapshot));
                sent.map_err(|e| snapshot_error(conn, snapshot, &e, outcome))?;
            }
            let pieces = of_history
                .iter()
                .filter_map(|migration| execute::file_piece(migration.up(), backend));
            execute::run_batches(conn, execute::batches(pieces)).map_err(|e| {
                Error::FreshBuild {
                    message: execute::statement_message(backend, &e),
                    outcome,
                }
            })?;
            // Again at the commit: the lease runs from it.
            lock::renew(conn)
        });
        if let Err(error @ Error::FreshBuild { .. }) = ran {
            // The part was rolled back: its migrations again one by one, in a
            // transaction rolled back too, name the statement.
            let located = conn.transaction(|conn| {
                // The part's share of the snapshot first, as the part ran it.
                if execute::run_batches(conn, execute::batches(of_snapshot)).is_err() {
                    return Err(error);
                }
                execute::one_by_one(conn, of_history.iter().map(|m| (*m, Direction::Up)))?;
                Err::<(), _>(error)
            });
            return located;
        }
        ran?;
        // After each part, as diesel's harness after each migration.
        search_path.restore(conn)?;
    }
    Ok(())
}

/// A snapshot that does not load, as its error says it.
fn snapshot_error<C: Database>(
    conn: &mut C,
    snapshot: &Snapshot,
    error: &diesel::result::Error,
    outcome: Left,
) -> Error {
    // What the snapshot's prologue switched off for the load: back on.
    if let Some(restore) = conn.backend().dialect().after_failed_load() {
        let _ = conn.batch_execute(restore);
    }
    Error::Snapshot {
        snapshot: snapshot.source().to_owned(),
        reason: format!(
            "it does not load: {}; {outcome}",
            execute::statement_message(conn.backend(), error)
        ),
    }
}

/// After the batch failed (and was undone): runs the statements one by one to name the
/// migration, file and line that fails, and undoes that too.
fn locate<C: Database>(conn: &mut C, migrations: &Migrations, atomic: bool) -> Option<Error> {
    let made = match atomic {
        true => unfinished::Made::default(),
        false => unfinished::Made::of(conn.backend(), None, migrations, false),
    };
    let replayed = undoable(conn, atomic, &made, |conn| {
        execute::one_by_one(conn, migrations.iter().map(|m| (m, Direction::Up)))?;
        // Every statement ran one by one: the batch failed for another reason. Undo.
        Err::<(), _>(Error::FreshBuild {
            message: String::new(),
            outcome: Left::AsBefore,
        })
    });
    match replayed {
        Err(
            error @ (Error::Statement { .. } | Error::NotUndone { .. } | Error::BuildUndone { .. }),
        ) => Some(error),
        _ => None,
    }
}

/// Runs `f` so that a failure leaves nothing of it: in a transaction where the build is
/// `atomic`; else recorded before it begins ([`unfinished`]) with what its statements
/// `made`, and on failure those of them it made dropped, and nothing else. A build whose process dies is cleaned up by
/// the next boot.
fn undoable<C: Database, T>(
    conn: &mut C,
    atomic: bool,
    made: &unfinished::Made,
    f: impl FnOnce(&mut C) -> Result<T>,
) -> Result<T> {
    if atomic {
        // A lease (through a transaction-pooling proxy) renewed in the build's
        // transaction stays alive until it commits.
        return conn.transaction(|conn| {
            lock::renew(conn)?;
            let value = f(conn)?;
            // Again at the commit: the lease runs from it.
            lock::renew(conn)?;
            Ok(value)
        });
    }
    let before = unfinished::begin(conn, made)?;
    match f(conn) {
        Ok(value) => {
            unfinished::forget(conn)?;
            Ok(value)
        }
        // What ran was undone: the report of it is no longer true.
        Err(error) => match (unfinished::undo(conn, &before), error.into_cause()) {
            (Ok(_), error) => Err(match error {
                // Its message says so already.
                Error::FreshBuild { .. } | Error::InitialSetup { .. } => error,
                other => Error::BuildUndone {
                    source: Box::new(other),
                },
            }),
            (Err(cleanup), error) => Err(Error::NotUndone {
                source: Box::new(error),
                message: cleanup.to_string(),
            }),
        },
    }
}

/// The end of a fresh build, once its schema is there: the application's seed hook, the
/// foreign keys checked where they were off, then the ledger created and every version
/// stamped in one statement. Returns how many versions were stamped.
fn seed_and_stamp<C: Database>(
    conn: &mut C,
    ledger: &Ledger,
    migrations: &Migrations,
    hook: Option<Hook<'_, C>>,
    check: bool,
    outcome: Left,
) -> Result<usize> {
    run_hook(conn, hook, outcome)?;
    if check {
        foreign_key_check(conn, "the fresh build")?;
    }
    ledger.create(conn)?;
    let all: Vec<&Migration> = migrations.iter().collect();
    let (_, added) = ledger.stamp(conn, &BTreeSet::new(), &all)?;
    Ok(added.len())
}

fn run_hook<C>(conn: &mut C, hook: Option<Hook<'_, C>>, outcome: Left) -> Result<()> {
    match hook {
        Some(hook) => hook(conn).map_err(|source| Error::InitialSetup { outcome, source }),
        None => Ok(()),
    }
}
