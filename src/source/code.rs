//! A migration without SQL text pelican can read, only code (diesel 2.4's
//! `RustMigrationSource`): diesel's migration, got again from its source and run on the
//! application's connection as diesel's harness runs it.

use std::marker::PhantomData;
use std::sync::Arc;

use diesel::backend::Backend as DieselBackend;
use diesel::connection::BoxableConnection;
use diesel::migration::MigrationSource;

use super::Direction;

/// The code of a migration without SQL text pelican can read: diesel's migration, got
/// again from its source each time it runs (diesel's migrations are not `Send`, a
/// `Migrations` is). Migrations compare by their other fields.
#[derive(Clone)]
pub(crate) struct Code(pub(super) Arc<dyn RunCode>);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code")
    }
}

impl PartialEq for Code {
    fn eq(&self, _: &Code) -> bool {
        true
    }
}

impl Eq for Code {}

impl Code {
    /// Runs the migration's own `run` (up) or `revert` (down) on `conn`, as diesel's
    /// harness calls them; the error is diesel's, as text.
    pub(crate) fn run(
        &self,
        conn: DieselConnection<'_>,
        direction: Direction,
    ) -> std::result::Result<(), String> {
        self.0.run(conn, direction)
    }
}

/// What [`Code`] runs. Unwind-safe as the rest of a `Migrations` is: a test may hold
/// one across `catch_unwind`.
pub(super) trait RunCode:
    Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe
{
    fn run(
        &self,
        conn: DieselConnection<'_>,
        direction: Direction,
    ) -> std::result::Result<(), String>;
}

/// The migration of `version` in the source `make` gives.
pub(super) struct FromSource<DB, S, F> {
    pub(super) make: Arc<F>,
    pub(super) version: String,
    pub(super) types: PhantomData<fn() -> (DB, S)>,
}

impl<DB, S, F> RunCode for FromSource<DB, S, F>
where
    DB: DieselBackend + sealed::BackendOf + 'static,
    S: MigrationSource<DB>,
    F: Fn() -> S + Send + Sync + std::panic::RefUnwindSafe,
{
    fn run(
        &self,
        conn: DieselConnection<'_>,
        direction: Direction,
    ) -> std::result::Result<(), String> {
        let migrations = (self.make)().migrations().map_err(|e| e.to_string())?;
        let migration = migrations
            .iter()
            .find(|m| m.name().version().to_string() == self.version)
            .ok_or("its source no longer has it")?;
        let conn = DB::pick(conn).ok_or("it is written for another backend")?;
        match direction {
            Direction::Up => migration.run(conn),
            Direction::Down => migration.revert(conn),
        }
        .map_err(|e| e.to_string())
    }
}

/// One of diesel's connections as a migration's own code takes it
/// (`&mut dyn BoxableConnection<DB>`), for the backend it is of.
#[non_exhaustive]
pub enum DieselConnection<'a> {
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut dyn BoxableConnection<diesel::sqlite::Sqlite>),
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres_backend")]
    Postgres(&'a mut dyn BoxableConnection<diesel::pg::Pg>),
    /// A MySQL connection.
    #[cfg(feature = "mysql_backend")]
    Mysql(&'a mut dyn BoxableConnection<diesel::mysql::Mysql>),
    /// diesel 2.4's MariaDB connection.
    #[cfg(feature = "mariadb")]
    Mariadb(&'a mut dyn BoxableConnection<diesel::mariadb::Mariadb>),
}

pub(crate) mod sealed {
    use super::DieselConnection;
    use diesel::connection::BoxableConnection;

    /// A diesel backend whose connections pelican can hand a migration's code: the
    /// [`DieselConnection`] of each.
    pub trait BackendOf: diesel::backend::Backend + Sized {
        /// `conn` as a [`DieselConnection`].
        fn wrap(conn: &mut dyn BoxableConnection<Self>) -> DieselConnection<'_>;

        /// The connection, if it is of this backend.
        fn pick(conn: DieselConnection<'_>) -> Option<&mut dyn BoxableConnection<Self>>;
    }

    macro_rules! backend_of {
        ($feature:literal, $db:ty, $variant:ident) => {
            #[cfg(feature = $feature)]
            impl BackendOf for $db {
                fn wrap(conn: &mut dyn BoxableConnection<Self>) -> DieselConnection<'_> {
                    DieselConnection::$variant(conn)
                }

                fn pick(conn: DieselConnection<'_>) -> Option<&mut dyn BoxableConnection<Self>> {
                    match conn {
                        DieselConnection::$variant(conn) => Some(conn),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        };
    }

    backend_of!("sqlite", diesel::sqlite::Sqlite, Sqlite);
    backend_of!("postgres_backend", diesel::pg::Pg, Postgres);
    backend_of!("mysql_backend", diesel::mysql::Mysql, Mysql);
    backend_of!("mariadb", diesel::mariadb::Mariadb, Mariadb);
}
