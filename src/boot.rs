//! The boot flow: what an application runs at start-up, and what `init`, `boot` and
//! `reset` run from the command line.
//!
//! ```text
//! lock ─► classify the database
//!         ├─ fresh (no tables, or only an empty ledger) ─► build the schema at head,
//!         │                         run the initial setup hook, stamp every version
//!         ├─ managed (diesel's table) ─► versions unknown to this build? refuse
//!         │                         pending and auto-migrate on? upgrade (guarded)
//!         │                         pending and off? change nothing, report them
//!         └─ unmanaged (tables, no diesel table) ─► refuse with a hint,
//!                                   or adopt if asked: stamp the newest version whose
//!                                   schema it has, then upgrade if auto-migrate is on
//! ```
//!
//! **Adoption** (see [`Adopt`]) never runs the history on the live database: the
//! versions are built on a scratch database, one at a time, and their schemas compared
//! with the live one's; the newest equal one is stamped. None equal: nothing changes, and
//! the error names the closest version with its differences.
//!
//! **The fresh path** is the fastest faithful one: the committed
//! [snapshot](crate::snapshot) of the schema at head where there is one for the backend
//! (see [`Boot::snapshot`]), otherwise every `up.sql` replayed as one batch, then the
//! hook, then the ledger created and every version stamped in one statement, never one
//! transaction per migration. On SQLite and PostgreSQL all of it is one transaction: a
//! failure (the hook's included) leaves the database empty. Where joining could change
//! what a migration does, or the locks would fill the server's lock table, it is several
//! (see "Joining never changes meaning" in docs/boot.md), recorded as an unfinished
//! build (as below) so that a failure still leaves nothing of it. On MySQL/MariaDB, whose DDL commits itself, a failure drops what the build created,
//! which leaves the database empty too (it was empty before). A migration with
//! `run_in_transaction = false` (say `CREATE INDEX CONCURRENTLY`) cannot run inside a
//! transaction nor a multi-statement batch: when there is one, the fresh path runs the
//! migrations one by one as `migrate` does, then the hook, and undoes a failure by
//! dropping what it created.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use crate::admin;
use crate::adopt::{Adopt, AdoptReport};
use crate::connection::{connect_with_retry, Timeouts};
use crate::error::Left;
use crate::execute::{self, BATCH_BYTES};
use crate::join;
use crate::ledger::{Ledger, Standing};
use crate::lock;
use crate::migrator::{
    foreign_key_check, whole_files, with_foreign_keys_off, Commit, Progress, Report, StepReport,
};
use crate::snapshot::{Fit, Snapshot};
use crate::source::{Direction, Migration};
use crate::split::split;
use crate::unfinished;
use crate::{AnyConnection, Database, Error, Migrations, Migrator, Result, Target};

/// The error an initial setup hook may return: anything that is an error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type Hook<'a, C> = Box<dyn FnOnce(&mut C) -> std::result::Result<(), BoxError> + 'a>;

/// The boot flow, configured, for a connection type `C` (diesel's own, or
/// [`AnyConnection`]).
///
/// ```no_run
/// use std::time::Duration;
/// use diesel::connection::SimpleConnection;
///
/// let migrations = pelican::Migrations::from_dir("migrations")?;
/// let mut conn = pelican::AnyConnection::establish("app.db")?;
/// let report = pelican::Boot::new(&migrations)
///     .auto_migrate(pelican::env_flag("AUTO_MIGRATE")?)
///     .initial_setup(|conn: &mut pelican::AnyConnection| {
///         conn.batch_execute("INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@example.com', 'Admin')")
///     })
///     .lock_timeout(Duration::from_secs(60))
///     .run(&mut conn)?;
/// println!("{:?}: {} pending", report.action, report.pending.len());
/// # Ok::<(), pelican::Error>(())
/// ```
pub struct Boot<'a, C> {
    migrations: &'a Migrations,
    auto_migrate: bool,
    /// Where adoption may make its scratch database: the database's URL.
    adopt: Option<String>,
    lock_timeout: Duration,
    /// For the connection [`Boot::run_url`] opens.
    statement_timeout: Duration,
    initial_setup: Option<Hook<'a, C>>,
    progress: Option<&'a dyn Fn(Progress<'_>)>,
    snapshots: Vec<String>,
    /// SQLite's foreign-key enforcement is off for the run and each change is checked
    /// before it commits (see [`crate::migrator`]).
    check_foreign_keys: bool,
    /// Whether `init` and `reset` may build in PostgreSQL's `postgres` database.
    allow_maintenance_database: bool,
    /// Whether `reset` goes ahead when objects elsewhere depend on what it drops.
    cascade: bool,
    /// Whether an upgrade joins its migrations (see [`Migrator::atomic`]).
    atomic: bool,
}

impl<C> fmt::Debug for Boot<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Boot")
            .field("migrations", &self.migrations.len())
            .field("auto_migrate", &self.auto_migrate)
            .field("adopt", &self.adopt.is_some())
            .field("lock_timeout", &self.lock_timeout)
            .field("initial_setup", &self.initial_setup.is_some())
            .field("snapshots", &self.snapshots.len())
            .finish_non_exhaustive()
    }
}

/// What boot found the database to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Found {
    /// No tables at all, or only the ledger's tables with no version recorded.
    Fresh,
    /// diesel's migrations table records a version, or exists beside tables of the
    /// database's own.
    Managed,
    /// Tables, but no migrations table.
    Unmanaged,
}

/// What boot did about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Built the schema at head, ran the initial setup hook, stamped every version.
    Initialized,
    /// Applied the pending migrations.
    Migrated,
    /// Nothing: no migration was pending.
    UpToDate,
    /// Nothing: migrations are pending and auto-migrate is off.
    LeftPending,
    /// Recorded an unmanaged database as being at the newest version whose schema it
    /// has (see [`Adopt`]), running none of the history on it; with auto-migrate on,
    /// then applied what is newer.
    Adopted,
}

/// How a fresh database got its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Build {
    /// Every `up.sql` replayed as one batch, every version stamped in one statement;
    /// in several transactions where joining requires it ([`BootReport::commits`]
    /// says where).
    Batch,
    /// One migration after another, as `migrate` runs them (some migration must run
    /// outside a transaction).
    PerMigration,
    /// The [snapshot](crate::snapshot) of the schema up to its head, then every newer `up.sql` as one
    /// batch, every version stamped in one statement.
    Snapshot,
}

/// What a boot (or `init`, or `reset`) did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BootReport {
    /// What the database was.
    pub found: Found,
    /// What was done.
    pub action: Action,
    /// For a fresh database: how its schema was built.
    pub build: Option<Build>,
    /// For a fresh database built from a snapshot: the version the snapshot stands for
    /// (the migrations after it ran after it).
    pub snapshot: Option<String>,
    /// Versions recorded as applied by the batch build, or by adoption.
    pub stamped: usize,
    /// Whether the initial setup hook ran.
    pub initial_setup: bool,
    /// Migrations run one by one (an upgrade, an adoption, a per-migration build).
    pub steps: Vec<StepReport>,
    /// Where the build or upgrade committed, and why (see [`Report::commits`]): for a
    /// fresh build joined in several transactions, for a build migration by migration
    /// and for an upgrade as its run reports them; empty for a fresh build that was one
    /// transaction.
    pub commits: Vec<Commit>,
    /// What `reset` dropped first, as `KIND name`.
    pub dropped: Vec<String>,
    /// What a fresh build an earlier process left unfinished had made, dropped first,
    /// as `KIND name`: the objects its own statements made, and nothing else (see
    /// [`crate::boot`]'s fresh build).
    pub recovered: Vec<String>,
    /// For an adopted database: the version found and how (see [`Adopt`]).
    pub adoption: Option<AdoptReport>,
    /// The newest applied version afterwards.
    pub current: Option<String>,
    /// The newest available version.
    pub head: Option<String>,
    /// The versions still pending afterwards, oldest first.
    pub pending: Vec<String>,
    /// How long it took, lock wait included, in milliseconds.
    pub duration_ms: f64,
    /// Whether [`Boot::run_url`] created the database first (the SQLite file, or
    /// `CREATE DATABASE` on a server). Not in the JSON document.
    #[serde(skip)]
    pub created: bool,
}

impl BootReport {
    fn new(found: Found, action: Action) -> BootReport {
        BootReport {
            found,
            action,
            build: None,
            snapshot: None,
            stamped: 0,
            initial_setup: false,
            steps: Vec::new(),
            commits: Vec::new(),
            dropped: Vec::new(),
            recovered: Vec::new(),
            adoption: None,
            current: None,
            head: None,
            pending: Vec::new(),
            duration_ms: 0.0,
            created: false,
        }
    }
}

impl<'a, C: Database> Boot<'a, C> {
    /// The boot flow for these migrations: auto-migrate off, no adoption, no initial
    /// setup hook, the default lock timeout ([`lock::DEFAULT_TIMEOUT`]).
    pub fn new(migrations: &'a Migrations) -> Self {
        Boot {
            migrations,
            auto_migrate: false,
            adopt: None,
            lock_timeout: lock::DEFAULT_TIMEOUT,
            statement_timeout: Duration::ZERO,
            initial_setup: None,
            progress: None,
            snapshots: Vec::new(),
            check_foreign_keys: false,
            allow_maintenance_database: false,
            cascade: false,
            atomic: true,
        }
    }

    /// Lets [`Boot::reset`] go ahead when objects outside what it drops (a view in
    /// another schema or database, a foreign key from there) depend on what it drops:
    /// PostgreSQL then drops them too, by `CASCADE` (and the report lists them among
    /// what was dropped); MySQL/MariaDB leaves them broken. Off by default: such a
    /// reset is refused ([`Error::Dependents`]) with nothing dropped.
    pub fn cascade(self, cascade: bool) -> Self {
        Boot { cascade, ..self }
    }

    /// Lets [`Boot::run_url`] and [`Boot::reset`] work in PostgreSQL's `postgres`
    /// database, for an application that keeps its tables there (the default database
    /// of many setups). Off by default: `init` and `reset` refuse every system database
    /// of the server (see [`crate::server::refuse_system_database`]); the others
    /// whatever this says.
    pub fn allow_maintenance_database(self, allow: bool) -> Self {
        Boot {
            allow_maintenance_database: allow,
            ..self
        }
    }

    /// Whether an upgrade (auto-migrate, a per-migration fresh build) runs its pending
    /// migrations joined in one transaction where joining allows (on, the default), or
    /// each in a transaction of its own, as diesel does: see [`Migrator::atomic`].
    pub fn atomic(self, atomic: bool) -> Self {
        Boot { atomic, ..self }
    }

    /// A [snapshot](crate::snapshot) of the schema for a fresh database (the text of a
    /// `schema.<backend>.sql` file that `pelican snapshot` wrote), instead of replaying
    /// every `up.sql`. Several may be given, one per backend: the one for the
    /// connection's backend is used. It is used when it describes these migrations
    /// ([`Snapshot::fit`]): all of them, or the older ones (the newer then run after
    /// it, in the same batch); otherwise the migrations are replayed as without it. A
    /// text that is not a snapshot fails the boot.
    ///
    /// ```ignore
    /// pelican::Boot::new(&migrations)
    ///     .snapshot(include_str!("../migrations/schema.postgres.sql"))
    ///     .snapshot(include_str!("../migrations/schema.sqlite.sql"))
    ///     .run(&mut conn)?;
    /// ```
    pub fn snapshot(mut self, text: impl Into<String>) -> Self {
        self.snapshots.push(text.into());
        self
    }

    /// Whether a managed database with pending migrations is upgraded (on) or used as
    /// it is and its pending migrations reported (off, the default). See [`env_flag`].
    pub fn auto_migrate(self, on: bool) -> Self {
        Boot {
            auto_migrate: on,
            ..self
        }
    }

    /// Adopts an unmanaged database (tables, no migrations table) instead of refusing
    /// it, as [`Adopt`] does: the newest version whose schema equals the database's is
    /// found by building the migrations on a scratch database, and recorded as applied,
    /// none of the history running on the database; then, with auto-migrate on, what is
    /// newer is applied. `url` is the database's own URL: the scratch database is made on
    /// its server (for SQLite, a temporary file). Without this, such a database is
    /// refused ([`Error::Unmanaged`]).
    ///
    /// ```no_run
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let url = "postgres://app@localhost/app";
    /// let mut conn = pelican::AnyConnection::establish(url)?;
    /// let report = pelican::Boot::new(&migrations).adopt(url).run(&mut conn)?;
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn adopt(self, url: impl Into<String>) -> Self {
        Boot {
            adopt: Some(url.into()),
            ..self
        }
    }

    /// How long to wait for another run holding the migration lock (see [`lock`]).
    pub fn lock_timeout(self, timeout: Duration) -> Self {
        Boot {
            lock_timeout: timeout,
            ..self
        }
    }

    /// The statement timeout of the connection [`Boot::run_url`] opens (zero, the
    /// default: none, a default the role or user has lifted). [`Boot::run`] leaves the
    /// connection it is given as it is: set it there with [`Timeouts`].
    ///
    /// [`Timeouts`]: crate::connection::Timeouts
    pub fn statement_timeout(self, timeout: Duration) -> Self {
        Boot {
            statement_timeout: timeout,
            ..self
        }
    }

    /// The application's seed hook: runs once, when a fresh database is built, after
    /// the schema and before the versions are stamped, in the same transaction where
    /// the backend allows. If it fails, the database is left empty.
    pub fn initial_setup<F, E>(self, hook: F) -> Self
    where
        F: FnOnce(&mut C) -> std::result::Result<(), E> + 'a,
        E: Into<BoxError>,
    {
        Boot {
            initial_setup: Some(Box::new(move |conn: &mut C| hook(conn).map_err(Into::into))),
            ..self
        }
    }

    /// Calls `progress` before each migration run one by one, and once it is done
    /// (committed), as [`Migrator::with_progress`] does.
    pub fn with_progress(self, progress: &'a dyn Fn(Progress<'_>)) -> Self {
        Boot {
            progress: Some(progress),
            ..self
        }
    }

    /// Runs the boot flow (see the [module documentation](self)), holding the
    /// migration lock throughout, except for a database with nothing to do (managed,
    /// nothing pending or auto-migrate off), which is only read.
    pub fn run(self, conn: &mut C) -> Result<BootReport> {
        let started = Instant::now();
        if let Some(report) = self.settled(conn)? {
            return Ok(BootReport {
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                ..report
            });
        }
        self.locked(conn, Boot::decide)
    }

    /// The report of a boot with nothing to do, read without the lock, as
    /// [`Migrator::migrate`] reads one: a managed database (diesel's table holds
    /// versions), no fresh build an earlier process left unfinished, no version these
    /// migrations lack, and nothing pending, or pending with auto-migrate off. What the
    /// flow does for such a database is read, so without the lock it answers as it
    /// would have under it, at the moment of its read. `None` for every other case,
    /// which the flow decides under the lock.
    fn settled(&self, conn: &mut C) -> Result<Option<BootReport>> {
        let ledger = Ledger::open(conn)?;
        if !ledger.exists(conn)? || ledger.has_table(conn, unfinished::BUILD_TABLE)? {
            return Ok(None);
        }
        let applied = ledger.read_versions(conn)?;
        if applied.is_empty() || !crate::plan::unknown_applied(&applied, self.migrations).is_empty()
        {
            return Ok(None);
        }
        let pending: Vec<String> = self
            .migrations
            .iter()
            .filter(|m| !applied.contains(m.version()))
            .map(|m| m.version().to_owned())
            .collect();
        let action = match (pending.is_empty(), self.auto_migrate) {
            (true, _) => Action::UpToDate,
            (false, false) => Action::LeftPending,
            (false, true) => return Ok(None),
        };
        Ok(Some(BootReport {
            current: applied.iter().next_back().cloned(),
            head: self.migrations.head().map(|m| m.version().to_owned()),
            pending,
            ..BootReport::new(Found::Managed, action)
        }))
    }

    /// Drops every object pelican sees (tables, views, and on PostgreSQL the schema's
    /// sequences, functions, types and extensions), the ledger included,
    /// then builds the database as a fresh one: what `pelican reset --yes` does. On
    /// SQLite and PostgreSQL all of it is one transaction, so a failure leaves the
    /// database as it was; on MySQL/MariaDB a failure part-way through the drops says
    /// what was dropped and what is left ([`Error::PartlyDropped`]).
    ///
    /// Refused, with nothing dropped, in one of the server's own databases (see
    /// [`Boot::allow_maintenance_database`]), and while objects outside what it drops
    /// depend on what it drops (see [`Boot::cascade`]).
    pub fn reset(self, conn: &mut C) -> Result<BootReport> {
        self.locked(conn, Boot::reset_locked)
    }

    /// Runs `f` as every boot runs: SQLite's foreign keys off (see [`crate::migrator`]),
    /// under the migration lock, timed.
    fn locked(
        self,
        conn: &mut C,
        f: impl FnOnce(Self, &mut C) -> Result<BootReport>,
    ) -> Result<BootReport> {
        let started = Instant::now();
        let timeout = self.lock_timeout;
        let mut report = with_foreign_keys_off(conn, |conn, check| {
            let boot = Boot {
                check_foreign_keys: check,
                ..self
            };
            lock::with(conn, timeout, |conn| f(boot, conn))
        })?;
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    fn reset_locked(self, conn: &mut C) -> Result<BootReport> {
        if let Some(name) = crate::server::current_database(conn)? {
            crate::server::refuse_system_name(
                conn.backend(),
                &name,
                "reset",
                self.allow_maintenance_database,
            )?;
        }
        let (dependents, fate) = admin::dependents(conn)?;
        if !dependents.is_empty() && !self.cascade {
            return Err(Error::Dependents { dependents, fate });
        }
        // Where the drops cascade, what depends on them goes too: say so.
        let cascaded = match conn.backend().dialect().drop_everything().cascade {
            "" => Vec::new(),
            _ => dependents,
        };
        let (standing, recovered) = self.classify(conn)?;
        let found = found(&standing);
        let snapshot = self.usable_snapshot(conn)?;
        let atomic = self
            .fresh_parts(conn, snapshot.as_ref())?
            .is_some_and(|parts| parts.len() <= 1);
        let outcome = if atomic {
            Left::AsBeforeReset
        } else {
            Left::Empty
        };
        let rebuild = |conn: &mut C| {
            let mut dropped = admin::drop_all(conn)?;
            dropped.extend(cascaded);
            let mut report = self.initialize(conn, outcome)?;
            report.dropped = dropped;
            report.found = found;
            report.recovered = recovered.clone();
            Ok(report)
        };
        if atomic {
            conn.transaction(rebuild)
        } else {
            rebuild(conn)
        }
    }

    fn migrator(&self) -> Migrator<'a> {
        let migrator = Migrator::new(self.migrations)
            .checking_foreign_keys(self.check_foreign_keys)
            .atomic(self.atomic);
        match self.progress {
            Some(progress) => migrator.with_progress(progress),
            None => migrator,
        }
    }

    /// How the fresh build joins (see [`crate::join`]): the snapshot's statements, then
    /// the migrations after it, cut where a migration sets session state or needs a
    /// commit, or where the locks taken would pass the server's budget. One part: the
    /// build is one transaction (none: nothing to build). `None` where the build cannot
    /// be in transactions at all (MySQL/MariaDB, or a migration outside a transaction).
    fn fresh_parts(
        &self,
        conn: &mut C,
        snapshot: Option<&(Snapshot, usize)>,
    ) -> Result<Option<Vec<join::Part>>> {
        let covered = snapshot.map_or(0, |(_, covered)| *covered);
        let backend = conn.backend();
        if !backend.dialect().transactional_ddl() || !self.batchable(covered) {
            return Ok(None);
        }
        let units = fresh_units(self.migrations, snapshot, backend);
        let budget = join::lock_budget(conn)?;
        Ok(Some(join::parts(&units, budget)))
    }

    /// Whether every migration after the oldest `covered` may run inside a
    /// transaction, and so in one batch.
    fn batchable(&self, covered: usize) -> bool {
        self.migrations
            .iter()
            .skip(covered)
            .all(Migration::run_in_transaction)
    }

    /// The snapshot for this backend that describes these migrations, and how many of
    /// them it stands for.
    fn usable_snapshot(&self, conn: &C) -> Result<Option<(Snapshot, usize)>> {
        for text in &self.snapshots {
            let snapshot = Snapshot::parse(text.as_str())?;
            if snapshot.backend() != conn.backend() {
                continue;
            }
            match snapshot.fit(self.migrations) {
                Fit::Current => return Ok(Some((snapshot, self.migrations.len()))),
                Fit::Older { covered } => return Ok(Some((snapshot, covered))),
                Fit::Mismatch { .. } => {}
            }
        }
        Ok(None)
    }

    /// What the database is, as the ledger's one classification ([`Standing`]) says,
    /// and what of a fresh build an earlier process left unfinished was dropped first.
    fn classify(&self, conn: &mut C) -> Result<(Standing, Vec<String>)> {
        let mut relations = admin::relations(conn)?;
        let mut recovered = Vec::new();
        if relations.iter().any(|r| r == unfinished::BUILD_TABLE) {
            // A fresh build an earlier process left half-done is undone first.
            recovered = unfinished::recover(conn)?.unwrap_or_default();
            relations = admin::relations(conn)?;
        }
        let standing = Standing::read(conn, &relations)?;
        Ok((standing, recovered))
    }

    fn decide(self, conn: &mut C) -> Result<BootReport> {
        let (standing, recovered) = self.classify(conn)?;
        let report = match standing {
            Standing::Fresh => self.initialize(conn, Left::AsBefore),
            Standing::Managed => self.managed(conn),
            Standing::Unmanaged { tables } => match self.adopt.clone() {
                Some(url) => self.adopted(conn, url),
                None => Err(Error::Unmanaged { tables }),
            },
        };
        match report {
            Ok(report) => Ok(BootReport {
                recovered,
                ..report
            }),
            Err(source) if !recovered.is_empty() => Err(Error::AfterRecovery {
                dropped: recovered,
                source: Box::new(source),
            }),
            Err(error) => Err(error),
        }
    }

    /// The unmanaged path, asked to adopt: the version found and stamped (see
    /// [`Adopt`]), then with auto-migrate on what is newer applied, as for any managed
    /// database.
    fn adopted(self, conn: &mut C, url: String) -> Result<BootReport> {
        let adopt = self.snapshots.iter().fold(
            Adopt::new(self.migrations, url).lock_timeout(self.lock_timeout),
            |adopt, text| adopt.snapshot(text.as_str()),
        );
        let adoption = adopt.run_locked(conn)?;
        let mut report = BootReport {
            stamped: adoption.stamped,
            current: adoption.version.clone(),
            head: adoption.head.clone(),
            pending: adoption.pending.clone(),
            ..BootReport::new(Found::Unmanaged, Action::Adopted)
        };
        if self.auto_migrate && !report.pending.is_empty() {
            let upgrade = self.migrator().migrate(conn, &Target::Head)?;
            report.steps = upgrade.steps;
            report.commits = upgrade.commits;
            report.current = upgrade.current;
            report.head = upgrade.head;
            report.pending.clear();
        }
        report.adoption = Some(adoption);
        Ok(report)
    }

    fn managed(self, conn: &mut C) -> Result<BootReport> {
        let migrator = self.migrator();
        let status = migrator.status(conn)?;
        if !status.unknown.is_empty() {
            return Err(Error::DatabaseAhead {
                versions: status.unknown,
            });
        }
        let action = match (status.pending().next(), self.auto_migrate) {
            (None, _) => Action::UpToDate,
            (Some(_), false) => Action::LeftPending,
            (Some(_), true) => {
                let upgrade = migrator.migrate(conn, &Target::Head)?;
                return Ok(self.upgraded(Found::Managed, Action::Migrated, upgrade));
            }
        };
        Ok(BootReport {
            current: status.current().map(|e| e.version.clone()),
            head: status.head().map(|e| e.version.clone()),
            pending: status.pending().map(|e| e.version.clone()).collect(),
            ..BootReport::new(Found::Managed, action)
        })
    }

    /// The report of an upgrade to head (nothing is left pending).
    fn upgraded(&self, found: Found, action: Action, upgrade: Report) -> BootReport {
        BootReport {
            steps: upgrade.steps,
            commits: upgrade.commits,
            current: upgrade.current,
            head: upgrade.head,
            ..BootReport::new(found, action)
        }
    }

    /// The fresh path. `outcome` says what a failure leaves, for its error message.
    fn initialize(self, conn: &mut C, outcome: Left) -> Result<BootReport> {
        let head = self.migrations.head().map(|m| m.version().to_owned());
        let mut report = BootReport {
            build: Some(Build::Batch),
            initial_setup: self.initial_setup.is_some(),
            current: head.clone(),
            head,
            ..BootReport::new(Found::Fresh, Action::Initialized)
        };
        whole_files(
            self.migrations.iter().map(|m| (m, Direction::Up)),
            conn.backend(),
        )?;
        let snapshot = self.usable_snapshot(conn)?;
        let covered = snapshot.as_ref().map_or(0, |(_, covered)| *covered);
        report.snapshot = snapshot.as_ref().map(|(s, _)| s.head().to_owned());
        let parts = self.fresh_parts(conn, snapshot.as_ref())?;
        let atomic = parts.as_ref().is_some_and(|parts| parts.len() <= 1);
        let parts = parts.unwrap_or_default();
        // What the build's own statements make: all a failed build that is not one
        // transaction may undo (see [`unfinished`]).
        let made = match atomic {
            true => unfinished::Made::default(),
            false => unfinished::Made::of(
                conn.backend(),
                snapshot.as_ref().map(|(s, _)| s.sql()),
                self.migrations.iter().skip(covered),
                !self.batchable(covered),
            )
            .stamped_last(
                (self.migrations.head())
                    .filter(|_| self.batchable(covered))
                    .map(|m| m.version()),
            ),
        };
        if !self.batchable(covered) {
            let migrator = self.migrator();
            let hook = self.initial_setup;
            let migrations = self.migrations;
            report.build = Some(Build::PerMigration);
            report.stamped = covered;
            (report.steps, report.commits) = undoable(conn, false, &made, |conn| {
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
            return Ok(report);
        }
        let migrations = self.migrations;
        let hook = self.initial_setup;
        if snapshot.is_some() {
            report.build = Some(Build::Snapshot);
        }
        let check = self.check_foreign_keys;
        if parts.len() > 1 {
            // Joined in several transactions (see [`crate::join`]): recorded as an
            // unfinished build, so that a failure drops what the earlier ones made.
            report.commits = commits(migrations, snapshot.as_ref(), &parts, conn.backend());
            report.stamped = undoable(conn, false, &made, |conn| {
                // Opened first: a migration's `SET search_path` must not move it.
                let ledger = Ledger::open(conn)?;
                build_in_parts(conn, migrations, snapshot.as_ref(), &parts, outcome)?;
                conn.transaction(|conn| {
                    seed_and_stamp(conn, &ledger, migrations, hook, check, outcome)
                })
            })?;
            return Ok(report);
        }
        let built = undoable(conn, atomic, &made, |conn| {
            let ledger = Ledger::open(conn)?;
            schema_at_head(conn, migrations, snapshot.as_ref(), outcome)?;
            seed_and_stamp(conn, &ledger, migrations, hook, check, outcome)
        });
        report.stamped = match built {
            Err(Error::FreshBuild { message, outcome }) => {
                return Err(locate(conn, migrations, atomic)
                    .unwrap_or(Error::FreshBuild { message, outcome }))
            }
            other => other?,
        };
        Ok(report)
    }
}

impl Boot<'_, AnyConnection> {
    /// `pelican init` from a URL: creates the database when it does not exist (the
    /// SQLite file; `CREATE DATABASE` on a server), connects, retrying for up to `wait`
    /// while the database does not answer, sets the session's timeouts (the lock
    /// timeout, and [`Boot::statement_timeout`]), then [runs](Boot::run) the flow.
    /// [`BootReport::created`] says whether the database was created; a run that
    /// created it and then failed leaves it in place, as diesel CLI's `database setup`
    /// does, and its error says so ([`Error::CreatedAndLeft`]). A system database of the
    /// server is refused before anything is touched (see
    /// [`Boot::allow_maintenance_database`]). No error quotes a secret of the URL (see
    /// [`Error::redacted`]).
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let url = pelican::config::database_url(None)?;
    /// let report = pelican::Boot::new(&migrations)
    ///     .auto_migrate(pelican::env_flag("AUTO_MIGRATE")?)
    ///     .run_url(&url, Duration::from_secs(30))?;
    /// println!("created: {}, {:?}", report.created, report.action);
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn run_url(self, url: &str, wait: Duration) -> Result<BootReport> {
        let timeouts = Timeouts {
            lock: self.lock_timeout,
            statement: self.statement_timeout,
        };
        crate::server::refuse_system_database(url, "init", self.allow_maintenance_database)
            .map_err(|error| error.redacted(url))?;
        let init = || {
            let created = crate::server::create_database(url, wait)?;
            let run = || {
                let mut conn = connect_with_retry(url, wait)?;
                timeouts.apply(&mut conn)?;
                self.run(&mut conn)
            };
            match run() {
                Ok(report) => Ok(BootReport { created, ..report }),
                // As diesel CLI's `database setup` leaves it, and says so: the database
                // may hold what the failure left, which only its owner can judge.
                Err(source) if created => Err(Error::CreatedAndLeft {
                    database: crate::setup::display_name(url),
                    source: Box::new(source),
                }),
                Err(error) => Err(error),
            }
        };
        init().map_err(|error: Error| error.redacted(url))
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
    backend: crate::Backend,
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
    backend: crate::Backend,
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
/// before the next begins. A part that fails is rolled back, and its migrations run
/// again statement by statement (rolled back too) to name the statement that fails.
fn build_in_parts<C: Database>(
    conn: &mut C,
    migrations: &Migrations,
    snapshot: Option<&(Snapshot, usize)>,
    parts: &[join::Part],
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
            if let Some((snapshot, _)) = snapshot.filter(|_| !of_snapshot.is_empty()) {
                let sent = execute::run_batches(conn, execute::batches(of_snapshot));
                sent.map_err(|e| snapshot_error(conn, snapshot, &e, outcome))?;
            }
            let pieces = of_history
                .iter()
                .filter_map(|migration| execute::file_piece(migration.up(), backend));
            execute::run_batches(conn, execute::batches(pieces)).map_err(|e| Error::FreshBuild {
                message: execute::statement_message(&e),
                outcome,
            })
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
            execute::statement_message(error)
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
        return conn.transaction(f);
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

/// Reads a boolean flag from the environment, as the `AUTO_MIGRATE` of `pelican boot`:
/// `1`, `true`, `yes`, `on` are true; `0`, `false`, `no`, `off`, empty or unset are
/// false (any case, spaces trimmed); anything else is an error naming the variable and
/// its value.
///
/// ```
/// std::env::set_var("MYAPP_AUTO_MIGRATE", " Yes ");
/// assert!(pelican::env_flag("MYAPP_AUTO_MIGRATE")?);
/// std::env::set_var("MYAPP_AUTO_MIGRATE", "maybe");
/// assert!(pelican::env_flag("MYAPP_AUTO_MIGRATE").is_err());
/// # Ok::<(), pelican::Error>(())
/// ```
pub fn env_flag(name: &str) -> Result<bool> {
    match std::env::var(name) {
        Ok(value) => parse_flag(name, &value),
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(value)) => Err(Error::BadFlag {
            name: name.to_owned(),
            value: value.to_string_lossy().into_owned(),
        }),
    }
}

/// [`env_flag`]'s reading of a value, for flags that come from elsewhere.
pub fn parse_flag(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::BadFlag {
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// What a report says boot found, for the ledger's classification of the database.
fn found(standing: &Standing) -> Found {
    match standing {
        Standing::Fresh => Found::Fresh,
        Standing::Managed => Found::Managed,
        Standing::Unmanaged { .. } => Found::Unmanaged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_booleans() {
        for yes in ["1", "true", "TRUE", " yes ", "On"] {
            assert!(parse_flag("F", yes).unwrap(), "{yes}");
        }
        for no in ["", " ", "0", "false", "No", "OFF"] {
            assert!(!parse_flag("F", no).unwrap(), "{no}");
        }
        let error = parse_flag("AUTO_MIGRATE", "maybe").unwrap_err().to_string();
        assert!(
            error.starts_with("AUTO_MIGRATE=\"maybe\" is not a boolean"),
            "{error}"
        );
    }

    #[test]
    fn an_unset_flag_is_false() {
        assert!(!env_flag("PELICAN_TEST_FLAG_THAT_IS_NEVER_SET").unwrap());
    }
}
