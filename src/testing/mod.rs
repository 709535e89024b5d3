//! A fresh database at head for every test, in milliseconds, and a one-line
//! round-trip assertion.
//!
//! The schema at head (and the application's seed data, if any) is built **once per
//! migration set**, into a template keyed by the migrations' checksums, and every test
//! gets its own copy:
//!
//! - **SQLite**: the template is a file in the temporary folder, copied per test (or
//!   into a private in-memory database with [`Harness::in_memory`]).
//! - **PostgreSQL**: the template is a database marked `IS_TEMPLATE`, cloned per test
//!   with `CREATE DATABASE … TEMPLATE …`.
//! - **MySQL/MariaDB**, which cannot clone: the template is a [snapshot](crate::snapshot)
//!   of the built schema and rows, loaded into a new database per test.
//!
//! Building a template holds the migration lock (PostgreSQL, MySQL) or is published by
//! an atomic rename (SQLite), so parallel test processes build it once. A changed
//! migration set has another key and gets its own template. Databases left by test
//! processes that died, and templates of other migration sets older than a day, are
//! dropped the first time a process asks for a database.
//!
//! On the servers, databases are prepared ahead by default, in the background, sized
//! to the test threads: see [`Harness::prepare_ahead`].
//!
//! The servers are `PELICAN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `PELICAN_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/mysql`): any database on the server the test
//! user may connect to; test databases are made beside it.
//!
//! ```no_run
//! use diesel_migrations::{embed_migrations, EmbeddedMigrations};
//! use pelican::testing::Harness;
//! use pelican::{Backend, Migrations};
//!
//! pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! fn seed(conn: &mut pelican::AnyConnection) -> Result<(), pelican::testing::BoxError> {
//!     use diesel::connection::SimpleConnection;
//!     conn.batch_execute("INSERT INTO usuario (id, email, nombre) VALUES (1, 'a@b.c', 'Ana')")?;
//!     Ok(())
//! }
//!
//! #[test]
//! fn each_test_has_its_own_database() -> pelican::Result<()> {
//!     let migrations = Migrations::from_embedded(&MIGRATIONS)?;
//!     let mut db = Harness::new(&migrations, Backend::Postgres).seed("admin", seed).database()?;
//!     // db.url() for your own diesel::PgConnection, or db.conn() for pelican's.
//!     use diesel::connection::SimpleConnection;
//!     db.conn().batch_execute("INSERT INTO curso (id, titulo, instructor_id) VALUES (1, 'Rust', 1)")?;
//!     Ok(())
//! } // the database is dropped here
//!
//! #[test]
//! fn every_migration_is_reversible() {
//!     let migrations = Migrations::from_embedded(&MIGRATIONS).unwrap();
//!     pelican::testing::assert_round_trip(&migrations, Backend::Postgres);
//! }
//! ```

mod cleanup;
mod copy;
mod pool;
mod reset;
mod round_trip;
mod template;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use self::cleanup::cleanup;
use self::template::Template;
use crate::dialect::Storage;
use crate::server::TempDatabase;
use crate::{AnyConnection, Backend, Migrations, Result};

pub use copy::CLONE_STRATEGY_VARIABLE;
pub use round_trip::{assert_round_trip, round_trip};

/// The error a seed hook may return (the crate's [`crate::BoxError`]), here
/// for a test module's one `use`.
pub use crate::BoxError;

/// A seed hook: the application's seed data, run once on the template.
pub type Seed = fn(&mut AnyConnection) -> std::result::Result<(), BoxError>;

/// Every test database's name starts with this, then the test process's id.
pub const TEST_PREFIX: &str = "pelican_test_";
/// Every template database's (or file's) name starts with this, then its key.
pub const TEMPLATE_PREFIX: &str = "pelican_tpl_";

/// The server a backend's test databases are made on, from the environment.
pub fn server_url(backend: Backend) -> Option<String> {
    let (variable, default) = backend.dialect().test_server()?;
    Some(std::env::var(variable).unwrap_or_else(|_| default.to_owned()))
}

/// Test databases for one migration set on one backend, configured.
#[derive(Clone)]
pub struct Harness<'m> {
    migrations: &'m Migrations,
    backend: Backend,
    seed: Option<(String, Seed)>,
    in_memory: bool,
    /// The pool's size: `None` sizes it to the test threads ([`pool::default_size`]).
    ahead: Option<usize>,
}

impl std::fmt::Debug for Harness<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("migrations", &self.migrations.len())
            .field("backend", &self.backend)
            .field("seed", &self.seed.as_ref().map(|(name, _)| name))
            .field("in_memory", &self.in_memory)
            .field("ahead", &self.ahead)
            .finish()
    }
}

impl<'m> Harness<'m> {
    /// Test databases at head of `migrations` on `backend`.
    pub fn new(migrations: &'m Migrations, backend: Backend) -> Self {
        Harness {
            migrations,
            backend,
            seed: None,
            in_memory: false,
            ahead: None,
        }
    }

    /// Runs `seed` once on the template, so every test starts from the application's
    /// seed state. `name` is part of the template's key: change it when the hook's data
    /// changes.
    pub fn seed(self, name: &str, seed: Seed) -> Self {
        Harness {
            seed: Some((name.to_owned(), seed)),
            ..self
        }
    }

    /// PostgreSQL and MySQL: keep up to `count` databases prepared ahead, in the
    /// background, so that a test takes one that is ready instead of waiting for a
    /// clone; `0` turns the pool off. By default the pool is sized to the test threads
    /// (`RUST_TEST_THREADS`, else the machine's parallelism), and off under
    /// cargo-nextest, which runs each test in a process of its own. The pool grows with
    /// the demand (never more spares than databases taken so far); what is still in it
    /// when the process exits is dropped then, and what a killed process left by the
    /// next process's sweep.
    pub fn prepare_ahead(self, count: usize) -> Self {
        Harness {
            ahead: Some(count),
            ..self
        }
    }

    /// SQLite only: each database lives in memory instead of a file.
    pub fn in_memory(self) -> Self {
        Harness {
            in_memory: true,
            ..self
        }
    }

    /// The template's key: the backend, every migration's version and checksum, and the
    /// seed's name.
    pub fn key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.backend.to_string());
        for migration in self.migrations {
            hasher.update(migration.version());
            hasher.update(migration.checksum());
        }
        if let Some((name, _)) = &self.seed {
            hasher.update(name);
        }
        hasher.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A new database at head, the test's own: dropped when the value is.
    pub fn database(&self) -> Result<TestDatabase> {
        static CLEANED: Mutex<Vec<Backend>> = Mutex::new(Vec::new());
        let template = self.template()?;
        let first = {
            let mut cleaned = lock(&CLEANED);
            let first = !cleaned.contains(&self.backend);
            if first {
                cleaned.push(self.backend);
            }
            first
        };
        if first {
            cleanup(self.backend, &template.key);
        }
        let ahead = self.ahead.unwrap_or_else(pool::default_size);
        // A SQLite copy is quicker than a thread's start: no pool.
        if ahead == 0 || self.backend.dialect().storage() == Storage::File {
            return TestDatabase::from_template(template, self.in_memory);
        }
        match pool::take(&template, ahead) {
            Some(database) => Ok(database),
            None => TestDatabase::from_template(template, false),
        }
    }

    /// [`database`](Harness::database) for an async test (the `async` feature), without
    /// blocking the runtime: the template's build (the first time) and the clone run on a
    /// blocking thread of the tokio runtime, with a copy of the migrations, on a
    /// multi-thread or a `current_thread` runtime alike. The test then connects with
    /// [`TestDatabase::connect_async`].
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")]
    /// # async fn test() -> Result<(), Box<dyn std::error::Error>> {
    /// use pelican::testing::Harness;
    ///
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let db = Harness::new(&migrations, pelican::Backend::Postgres).database_async().await?;
    /// let conn: diesel_async::AsyncPgConnection = db.connect_async().await?;
    /// # let _ = conn;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub fn database_async(
        &self,
    ) -> impl std::future::Future<Output = Result<TestDatabase>> + Send + 'static {
        let migrations = self.migrations.clone();
        let Harness {
            backend,
            seed,
            in_memory,
            ahead,
            ..
        } = self.clone();
        async move {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return Err(crate::Error::Query {
                    context: "Harness::database_async runs within a tokio runtime".to_owned(),
                    source: diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UnableToSendCommand,
                        Box::new("no tokio runtime is running here".to_owned()),
                    ),
                });
            };
            let made = runtime.spawn_blocking(move || {
                Harness {
                    migrations: &migrations,
                    backend,
                    seed,
                    in_memory,
                    ahead,
                }
                .database()
            });
            match made.await {
                Ok(result) => result,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(_) => Err(crate::Error::Query {
                    context: "cannot make the test database on the tokio runtime".to_owned(),
                    source: diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UnableToSendCommand,
                        Box::new("the runtime is shutting down".to_owned()),
                    ),
                }),
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A test's own database at head, dropped with the value.
pub struct TestDatabase {
    template: Arc<Template>,
    url: String,
    name: String,
    conn: AnyConnection,
    in_memory: bool,
    /// The file or server database, dropped after `conn` is closed; none in memory.
    _made: Option<TempDatabase>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.template.backend)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A database at head of `migrations` on `backend`, with no seed: shorthand for
    /// `Harness::new(migrations, backend).database()`.
    pub fn new(migrations: &Migrations, backend: Backend) -> Result<TestDatabase> {
        Harness::new(migrations, backend).database()
    }

    /// The URL, to connect with the application's own diesel connection.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.template.backend
    }

    /// pelican's connection to it.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// A new connection to it of the application's own type: diesel's
    /// `PgConnection` (or another of diesel's), a `#[derive(diesel::MultiConnection)]`
    /// enum, [`AnyConnection`]. As `C::establish(db.url())`, with SQLite's busy timeout
    /// set as on pelican's connections (so the test's connection waits for another's
    /// write lock rather than fail at once).
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")] {
    /// # let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let db = pelican::testing::TestDatabase::new(&migrations, pelican::Backend::Postgres)?;
    /// let mut conn: diesel::PgConnection = db.connect()?;
    /// # }
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn connect<C: diesel::Connection>(&self) -> Result<C> {
        crate::connection::establish_with_retry(&self.url, std::time::Duration::ZERO)
    }

    /// A new diesel-async connection to it (the `async` feature): `AsyncPgConnection`,
    /// `AsyncMysqlConnection`, `SyncConnectionWrapper<SqliteConnection>` or an async
    /// MultiConnection enum, as `A::establish(db.url())`, with SQLite's busy timeout set
    /// as [`TestDatabase::connect`] sets it.
    #[cfg(feature = "async")]
    pub async fn connect_async<A: diesel_async::AsyncConnection>(&self) -> Result<A> {
        let mut conn = A::establish(&self.url)
            .await
            .map_err(crate::connection::connect_error(&self.url))?;
        if self.backend().dialect().storage() == Storage::File {
            let sql = crate::connection::busy_timeout_sql(crate::connection::DEFAULT_TIMEOUT);
            diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &sql)
                .await
                .map_err(crate::Error::query("cannot set SQLite's busy timeout"))?;
        }
        Ok(conn)
    }

    /// Puts the database back to the template's state (schema, rows, sequence and
    /// auto-increment values), for tests that keep one database.
    ///
    /// On PostgreSQL and MySQL/MariaDB the database is put back in place when the test
    /// changed only rows: one query finds the tables and sequences that differ from the
    /// template (compared value by value with the template's rows, read once per
    /// process from a fresh copy) and checks that the schema is the template's; one
    /// transaction deletes those tables' rows, inserts the template's again and sets
    /// the sequences (on MySQL, the auto-increments) back. The name and URL stay.
    ///
    /// Otherwise a new copy of the template takes its place (its name and URL change)
    /// and the old one is dropped: on SQLite, where a file copy is faster; the first
    /// time a process resets a database of a template (that copy is the one read);
    /// and whenever the fast path cannot be exact: the test changed the schema, left a
    /// transaction open on [`conn`](TestDatabase::conn), or wrote to a table with a
    /// trigger (or, on PostgreSQL without the right to set
    /// `session_replication_role`, a table with a foreign key) that putting the rows
    /// back would fire.
    pub fn reset(&mut self) -> Result<()> {
        let backend = self.template.backend;
        if backend.dialect().storage() != Storage::File
            && reset::restore(&self.template.key, &mut self.conn) == reset::Restored::Yes
        {
            return Ok(());
        }
        let mut fresh = TestDatabase::from_template(Arc::clone(&self.template), self.in_memory)?;
        reset::learn(&self.template.key, backend, &mut fresh.conn);
        drop(std::mem::replace(self, fresh));
        Ok(())
    }
}
