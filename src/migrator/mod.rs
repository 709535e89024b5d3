//! The one path every operation takes: read the ledger, plan, run each step, record it.
//!
//! The command line, applications at boot and test harnesses all call [`Migrator`];
//! it returns reports and never prints.

mod chunk;
mod foreign_keys;
mod groups;
mod record;
mod report;
mod runner;
mod sequences;
mod statements;
mod step;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::ledger::{Ledger, Standing};
use crate::lock;
use crate::plan::{self, Target};
use crate::source::{Direction, Migration, Migrations};
use crate::{Database, Error, Result};

pub(crate) use crate::admin::with_foreign_keys_off;
pub(crate) use crate::execute::first_line;
pub use crate::outcome::Reason as CommitReason;
pub use crate::outcome::{Action, Commit, Report, StatementReport, StepReport};
pub(crate) use foreign_keys::foreign_key_check;
pub use report::{Guards, HistoryEntry, Mode, Progress, StampReport, Status};
// What a `Progress` event names: nameable, for an application that keeps it.
pub use crate::plan::Step;
use runner::Observer;

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
    /// How the connection reaches the database, for the lock; `None`: as
    /// [`lock::PoolMode::ENV`] says.
    pool_mode: Option<lock::PoolMode>,
    accept_changed: bool,
    check_foreign_keys: bool,
    atomic: bool,
    /// Whether applied versions these migrations lack are left alone, as diesel's
    /// harness leaves them, rather than refused.
    ignore_unknown: bool,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .finish_non_exhaustive()
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
            pool_mode: None,
            accept_changed: false,
            check_foreign_keys: false,
            atomic: true,
            ignore_unknown: false,
        }
    }

    /// Runs the pending migrations although the database has applied versions these
    /// migrations lack, as diesel's harness does (diesel CLI's `migration run` with a
    /// `--migration-dir` that lacks, say, its `00000000000000_diesel_initial_setup`),
    /// instead of refusing the database as newer than this build
    /// ([`Error::DatabaseAhead`]). The versions it lacks stay applied, untouched.
    pub fn ignore_unknown_applied(self) -> Self {
        Migrator {
            ignore_unknown: true,
            ..self
        }
    }

    /// Whether a run joins its migrations into one transaction (on, the default) or
    /// commits each one as diesel's harness does (off). On SQLite and PostgreSQL, an
    /// atomic run that fails leaves the database as it was before the run, ledger
    /// included, instead of keeping the migrations before the one that failed. Joining
    /// never changes what a migration does: the run commits before and after a
    /// migration that sets session state (`SET`, `SET LOCAL`, `set_config`, …), after
    /// one whose effect must be committed before a later use (`ALTER TYPE … ADD
    /// VALUE`), around one with `run_in_transaction = false`, and, on PostgreSQL,
    /// before its locks would fill a quarter of the server's lock table
    /// (`max_locks_per_transaction`); [`Report::commits`] says where and why. A step is
    /// reported done (to [`Migrator::with_progress`] and in the report) only once its
    /// transaction committed. MySQL/MariaDB, whose DDL commits itself, run as without it.
    pub fn atomic(self, atomic: bool) -> Self {
        Migrator { atomic, ..self }
    }

    /// How long a run waits for another holding the migration lock (see [`lock`];
    /// [`lock::DEFAULT_TIMEOUT`] unless told).
    pub fn lock_timeout(self, lock_timeout: Duration) -> Self {
        Migrator {
            lock_timeout,
            ..self
        }
    }

    /// How the connection reaches the database, which decides what the migration lock
    /// is on PostgreSQL: through a transaction-pooling proxy (PgBouncer's
    /// `pool_mode = transaction`), a lease rather than a session lock (see
    /// [`lock::PoolMode`]). Unless told, [`lock::PoolMode::ENV`] says.
    pub fn pool_mode(self, pool_mode: lock::PoolMode) -> Self {
        Migrator {
            pool_mode: Some(pool_mode),
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
    /// can show what is running and each result as it comes. Done means committed: in
    /// an [atomic](Migrator::atomic) run, the steps of a transaction are reported done
    /// together, once it committed, and never when it was rolled back.
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
        let mut run_on: std::collections::BTreeMap<&str, Option<NaiveDateTime>> = applied
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
                    run_on: when.flatten(),
                }
            })
            .collect();
        let unknown: Vec<String> = run_on.keys().map(|v| (*v).to_owned()).collect();
        history.extend(run_on.into_iter().map(|(version, when)| HistoryEntry {
            version: version.to_owned(),
            name: None,
            applied: true,
            run_on: when,
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

    /// [`migrate`](Migrator::migrate) on a diesel-async connection (the `async` feature)
    /// without blocking the runtime, on a multi-thread or a `current_thread` tokio
    /// runtime: `conn` is one of those [`Boot::run_async`](crate::Boot::run_async)
    /// takes. The run goes on a blocking thread of the runtime with a copy of the
    /// migrations; the connection moves there and comes back with the report (on an
    /// error it is dropped: a pooled one goes back to its pool). A
    /// [`Migrator::with_progress`] callback is not called here.
    ///
    /// ```no_run
    /// # #[cfg(all(feature = "postgres_backend", feature = "deadpool"))]
    /// # async fn migrate() -> Result<(), Box<dyn std::error::Error>> {
    /// use diesel_async::pooled_connection::{deadpool::Pool, AsyncDieselConnectionManager};
    /// use pelican::{Migrations, Migrator, Target};
    ///
    /// let manager = AsyncDieselConnectionManager::<diesel_async::AsyncPgConnection>::new("postgres://app@db/app");
    /// let pool = Pool::builder(manager).build()?;
    /// let migrations = Migrations::from_dir("migrations")?;
    /// let (report, _conn) = Migrator::new(&migrations)
    ///     .migrate_async(pool.get().await?, &Target::Head)
    ///     .await?;
    /// println!("{} migration(s) applied", report.steps.len());
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub fn migrate_async<A>(
        &self,
        conn: A,
        target: &Target,
    ) -> impl std::future::Future<Output = Result<(Report, A)>> + Send + 'static
    where
        A: diesel_async::AsyncConnection + Send + 'static,
        crate::connection::Blocking<A>: Database,
    {
        // The progress callback may not leave the calling thread; the rest is copied to
        // the blocking one, here, so that the future borrows nothing and is `Send` (for
        // `tokio::spawn`).
        let Migrator {
            migrations,
            progress: _,
            mode,
            guards,
            lock_timeout,
            pool_mode,
            accept_changed,
            check_foreign_keys,
            atomic,
            ignore_unknown,
        } = *self;
        let migrations = migrations.clone();
        let target = target.clone();
        let work = move |conn: &mut crate::connection::Blocking<A>| {
            Migrator {
                migrations: &migrations,
                progress: None,
                mode,
                guards,
                lock_timeout,
                pool_mode,
                accept_changed,
                check_foreign_keys,
                atomic,
                ignore_unknown,
            }
            .migrate(conn, &target)
        };
        crate::connection::run_blocking(conn, work)
    }

    /// [`migrate`](Migrator::migrate) one migration per transaction, calling `observe`
    /// on the connection after each has committed (adoption compares the database
    /// with another after each): one run, so the lock, the ledger and the checksums
    /// are read once rather than once per migration.
    pub(crate) fn migrate_observed<C: Database>(
        &self,
        conn: &mut C,
        target: &Target,
        observe: &mut Observer<'_, C>,
    ) -> Result<Report> {
        let one_at_a_time = Migrator {
            atomic: false,
            ..*self
        };
        one_at_a_time.run_observed(
            conn,
            |applied, migrations| plan::upgrade(applied, migrations, target),
            observe,
        )
    }

    /// Runs the steps `plan` gives (computed from the applied set, read under the
    /// lock), in that order, one migration per transaction, calling `observe` on the
    /// connection after each has committed; a
    /// [`Break`](std::ops::ControlFlow::Break) from it ends the run there. Steps may go
    /// either way and take a migration more than once (`check`'s round trip: up, down,
    /// up again, for one migration after another): one run, so the lock, the ledger and
    /// the checksums are read once rather than once per step.
    pub(crate) fn run_steps_observed<C: Database>(
        &self,
        conn: &mut C,
        plan: impl FnOnce(&BTreeSet<String>, &'m Migrations) -> Result<Vec<Step<'m>>>,
        observe: &mut Observer<'_, C>,
    ) -> Result<Report> {
        let one_at_a_time = Migrator {
            atomic: false,
            ..*self
        };
        one_at_a_time.run_observed(conn, plan, observe)
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

    /// Records the applied set as exactly the migrations up to `target`, running no SQL.
    /// Holds the migration lock while it reads and writes the ledger.
    pub fn stamp<C: Database>(&self, conn: &mut C, target: &Target) -> Result<StampReport> {
        lock::with_pool_mode(conn, self.lock_timeout, self.pool_mode, |conn| {
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
        lock::with_pool_mode(conn, self.lock_timeout, self.pool_mode, |conn| {
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
        let applied = ledger.read_versions(conn)?;
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
    /// made its tables is for `adopt` to find out, never for a replay to guess; and
    /// whether the ledger exists.
    pub(super) fn known_applied_and_ledger<C: Database>(
        &self,
        conn: &mut C,
        ledger: &Ledger,
    ) -> Result<(BTreeSet<String>, bool)> {
        if !refuse_unmanaged(conn, ledger)? {
            return Ok((BTreeSet::new(), false));
        }
        let applied = ledger.read_versions(conn)?;
        let unknown = plan::unknown_applied(&applied, self.migrations);
        if !unknown.is_empty() && !self.ignore_unknown {
            return Err(Error::DatabaseAhead {
                versions: unknown.into_iter().map(str::to_owned).collect(),
            });
        }
        Ok((applied, true))
    }
}

/// Whether diesel's migrations table exists; an error when it does not and the database
/// has tables of its own (it is not managed: `adopt` finds which version it is at).
fn refuse_unmanaged<C: Database>(conn: &mut C, ledger: &Ledger) -> Result<bool> {
    if ledger.exists(conn)? {
        return Ok(true);
    }
    let relations = crate::admin::relations(conn)?;
    // As the ledger classifies the database: a run on a fresh one creates the ledger.
    match Standing::read(conn, &relations)? {
        Standing::Unmanaged { tables } => Err(Error::Unmanaged { tables }),
        Standing::Fresh | Standing::Managed => Ok(false),
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
        // diesel's harness refuses a zero-byte file when it comes to it; here, before
        // anything runs. (A migration of code has no SQL, and is no such file.)
        if sql.is_empty() && direction == Direction::Up && migration.code().is_none() {
            return Err(Error::EmptyMigration {
                migration: migration.name().to_owned(),
            });
        }
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
