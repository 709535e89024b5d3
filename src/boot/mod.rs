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
//!
//! [`Adopt`]: crate::Adopt

use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
use std::time::{Duration, Instant};

use crate::connection::{connect_with_retry, Timeouts};
use crate::fresh::Hook;
use crate::lock;
use crate::migrator::{with_foreign_keys_off, Progress};
use crate::trace;
use crate::{AnyConnection, BoxError, Database, Error, Migrations, Migrator, Result};

mod decide;
mod flag;
mod fresh;
mod report;
mod reset;
mod upgrade;

pub use crate::fresh::Build;
pub use flag::env_flag;
pub use report::{BootAction, BootReport, Found};

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
    /// How the connection reaches the database, for the lock; `None`: as
    /// [`lock::PoolMode::ENV`] says.
    pool_mode: Option<lock::PoolMode>,
    /// For the connection [`Boot::run_url`] opens.
    statement_timeout: Duration,
    initial_setup: Option<Hook<'a, C>>,
    /// The initial setup hook of [`Boot::run_async`], which calls it on another thread.
    #[cfg(feature = "async")]
    blocking_setup: Option<SendHook<C>>,
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
            .field("initial_setup", &self.has_setup())
            .field("snapshots", &self.snapshots.len())
            .finish_non_exhaustive()
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
            pool_mode: None,
            statement_timeout: Duration::ZERO,
            initial_setup: None,
            #[cfg(feature = "async")]
            blocking_setup: None,
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
    /// of the server ([`Error::SystemDatabase`]); the others whatever this says.
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
    ///
    /// [`Snapshot::fit`]: crate::snapshot::Snapshot::fit
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
    /// refused ([`Error::Unmanaged`]). The scratch database needs diesel's blocking
    /// connection of the backend: a build without it (`postgres_backend` without
    /// `postgres`) refuses adoption ([`Error::BackendNotEnabled`]).
    ///
    /// ```no_run
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let url = "postgres://app@localhost/app";
    /// let mut conn = pelican::AnyConnection::establish(url)?;
    /// let report = pelican::Boot::new(&migrations).adopt(url).run(&mut conn)?;
    /// # Ok::<(), pelican::Error>(())
    /// ```
    ///
    /// [`Adopt`]: crate::Adopt
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

    /// How the connection reaches the database, which decides what the migration lock
    /// is on PostgreSQL: through a transaction-pooling proxy (PgBouncer's
    /// `pool_mode = transaction`), a lease rather than a session lock (see
    /// [`lock::PoolMode`]), and [`Boot::run_url`] sets no session timeouts there.
    /// Unless told, [`lock::PoolMode::ENV`] says.
    pub fn pool_mode(self, mode: lock::PoolMode) -> Self {
        Boot {
            pool_mode: Some(mode),
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
        let span = trace::boot(&conn.backend());
        let _in = span.enter();
        let result = self.run_in_span(conn);
        if let Ok(report) = &result {
            span.record_name("found", &report.found);
            span.record_name("action", &report.action);
            span.record("current", &report.current.as_deref().unwrap_or("base"));
        }
        span.end_with(&result);
        result
    }

    /// [`run`](Self::run) inside the boot's span, which the caller opened.
    fn run_in_span(self, conn: &mut C) -> Result<BootReport> {
        let started = Instant::now();
        if let Some(report) = self.settled(conn)? {
            return Ok(BootReport {
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                ..report
            });
        }
        self.locked(conn, Boot::decide)
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
        let mode = self.pool_mode;
        let mut report = with_foreign_keys_off(conn, |conn, check| {
            let boot = Boot {
                check_foreign_keys: check,
                ..self
            };
            lock::with_pool_mode(conn, timeout, mode, |conn| f(boot, conn))
        })?;
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    fn migrator(&self) -> Migrator<'a> {
        let migrator = Migrator::new(self.migrations)
            .checking_foreign_keys(self.check_foreign_keys)
            .atomic(self.atomic);
        let migrator = match self.pool_mode {
            Some(mode) => migrator.pool_mode(mode),
            None => migrator,
        };
        match self.progress {
            Some(progress) => migrator.with_progress(progress),
            None => migrator,
        }
    }
}

impl<C> Boot<'_, C> {
    /// Whether an initial setup hook is set.
    fn has_setup(&self) -> bool {
        #[cfg(feature = "async")]
        if self.blocking_setup.is_some() {
            return true;
        }
        self.initial_setup.is_some()
    }
}

/// An initial setup hook that may be called on another thread.
#[cfg(feature = "async")]
type SendHook<C> = Box<dyn FnOnce(&mut C) -> std::result::Result<(), BoxError> + Send + 'static>;

/// The boot flow of a diesel-async application (the `async` feature).
#[cfg(feature = "async")]
impl<A> Boot<'_, crate::connection::Blocking<A>>
where
    A: diesel_async::AsyncConnection + Send + 'static,
    crate::connection::Blocking<A>: Database,
{
    /// The initial setup hook of [`Boot::run_async`]: as [`Boot::initial_setup`]'s,
    /// called on the blocking thread the run goes on, with the connection as a blocking
    /// diesel connection ([`Blocking`](crate::connection::Blocking)): diesel's query
    /// builder and `batch_execute` work on it as on any diesel connection.
    pub fn initial_setup_blocking<F, E>(self, hook: F) -> Self
    where
        F: FnOnce(&mut crate::connection::Blocking<A>) -> std::result::Result<(), E>
            + Send
            + 'static,
        E: Into<BoxError>,
    {
        Boot {
            blocking_setup: Some(Box::new(
                move |conn: &mut crate::connection::Blocking<A>| hook(conn).map_err(Into::into),
            )),
            ..self
        }
    }

    /// The initial setup hook of [`Boot::run_async`], written with diesel-async's own
    /// query builder: `hook` is given the application's connection and returns a boxed
    /// future ([`SetupFuture`](crate::connection::SetupFuture)), as sqlx's and
    /// diesel-async's transaction closures do. It runs where [`Boot::initial_setup`]'s
    /// would, inside the fresh build (in its transaction where the backend has one),
    /// awaited on the application's runtime.
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")]
    /// # async fn boot() -> Result<(), Box<dyn std::error::Error>> {
    /// use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    /// use pelican::{Boot, Migrations};
    ///
    /// let migrations = Migrations::from_dir("migrations")?;
    /// let conn = AsyncPgConnection::establish("postgres://app@db/app").await?;
    /// let (report, conn) = Boot::new(&migrations)
    ///     .initial_setup_async(|conn: &mut AsyncPgConnection| {
    ///         Box::pin(async move {
    ///             conn.batch_execute("INSERT INTO usuario (id, email) VALUES (1, 'a@b.c')").await?;
    ///             Ok(())
    ///         })
    ///     })
    ///     .run_async(conn)
    ///     .await?;
    /// # let _ = (report, conn);
    /// # Ok(())
    /// # }
    /// ```
    pub fn initial_setup_async<F>(self, hook: F) -> Self
    where
        F: for<'c> FnOnce(&'c mut A) -> crate::connection::SetupFuture<'c> + Send + 'static,
    {
        self.initial_setup_blocking(move |conn: &mut crate::connection::Blocking<A>| {
            crate::connection::await_on_runtime(hook(&mut **conn))
        })
    }

    /// [Runs](Boot::run) the boot flow on a diesel-async connection without blocking the
    /// runtime, on a multi-thread or a `current_thread` tokio runtime: `conn` is
    /// diesel-async's `AsyncPgConnection`, `AsyncMysqlConnection` or
    /// `SyncConnectionWrapper<SqliteConnection>`, or a pooled one of those (a deadpool
    /// `Object`, a bb8 `PooledConnection<'static, _>` from `get_owned`, a mobc
    /// `PooledConnection`, each with pelican's feature of the pool's name). The run goes on a blocking
    /// thread of the runtime (`spawn_blocking`), which the connection moves to and comes
    /// back from with the report; on an error it is dropped (a pooled one goes back to
    /// its pool).
    ///
    /// The run leaves the calling task: it takes a copy of the migrations, and its seed
    /// hook is [`Boot::initial_setup_blocking`]'s (one set with [`Boot::initial_setup`]
    /// is refused with an error, not skipped) or [`Boot::initial_setup_async`]'s. A [`Boot::with_progress`] callback is not
    /// called here. The future is `Send` and `'static`, for `tokio::spawn`.
    ///
    /// Everything runs on `conn`, so a build with diesel-async's connection alone
    /// (the `postgres_backend` or `mysql_backend` feature without `postgres` or `mysql`,
    /// which link libpq and libmysqlclient) boots as any other, but for
    /// [`Boot::adopt`]: adoption builds the history on a scratch database through a
    /// connection of pelican's own, so there it is refused with
    /// [`Error::BackendNotEnabled`], the database left as it was.
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres_backend")]
    /// # async fn boot() -> Result<(), Box<dyn std::error::Error>> {
    /// use diesel_async::{AsyncConnection, AsyncPgConnection};
    /// use pelican::{Boot, Migrations};
    ///
    /// let migrations = Migrations::from_dir("migrations")?;
    /// let conn = AsyncPgConnection::establish("postgres://app@db/app").await?;
    /// let (report, conn) = Boot::new(&migrations).auto_migrate(true).run_async(conn).await?;
    /// # let _ = (report, conn);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_async(
        self,
        conn: A,
    ) -> impl Future<Output = Result<(BootReport, A)>> + Send + 'static {
        // Refused here rather than ignored: the hook was meant to run.
        let refused = self.initial_setup.is_some().then(|| Error::InitialSetup {
            outcome: crate::error::Left::AsBefore,
            source: "Boot::run_async calls the hook of Boot::initial_setup_blocking, not \
                     Boot::initial_setup's (which may not leave the calling thread)"
                .into(),
        });
        // Every part but the hooks and the progress callback, which may not leave the
        // calling thread, moves to the blocking one (the migrations as a copy), taken
        // apart here so that the future borrows nothing and holds nothing that is not
        // `Send` (for `tokio::spawn`); the setup hook that may leave goes too.
        let Boot {
            migrations,
            auto_migrate,
            adopt,
            lock_timeout,
            pool_mode,
            statement_timeout,
            initial_setup: _,
            blocking_setup,
            progress: _,
            snapshots,
            check_foreign_keys,
            allow_maintenance_database,
            cascade,
            atomic,
        } = self;
        let migrations = migrations.clone();
        let work = move |conn: &mut crate::connection::Blocking<A>| {
            Boot {
                migrations: &migrations,
                auto_migrate,
                adopt,
                lock_timeout,
                pool_mode,
                statement_timeout,
                initial_setup: blocking_setup.map(|hook| hook as Hook<'_, _>),
                blocking_setup: None,
                progress: None,
                snapshots,
                check_foreign_keys,
                allow_maintenance_database,
                cascade,
                atomic,
            }
            .run(conn)
        };
        async move {
            match refused {
                Some(error) => Err(error),
                None => crate::connection::run_blocking(conn, work).await,
            }
        }
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
                timeouts.apply_in(&mut conn, lock::PoolMode::or_env(self.pool_mode)?)?;
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
