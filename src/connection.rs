//! The few things pelican asks of a database connection, for each of diesel's connections.
//!
//! Everything above this module is written once against [`Database`]; the per-backend
//! part is diesel's own: each connection type implements the trait with the same body,
//! and [`AnyConnection`] delegates to whichever backend its URL named.

use std::time::{Duration, Instant};

use diesel::connection::{Connection, SimpleConnection, TransactionManager};
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};

use crate::backend::Storage;
use crate::url_secret::{redact_url, scrub};
use crate::{Backend, Error, Result};

/// How long a run waits for a lock (pelican's, or SQLite's write lock) unless told
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A value bound to a `?`/`$n` placeholder of one of pelican's own queries.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Bind<'a> {
    /// A text value.
    Text(&'a str),
    /// A text value or NULL.
    NullableText(Option<&'a str>),
    /// An integer.
    Int(i64),
}

/// A connection pelican can migrate: implemented for diesel's `SqliteConnection`,
/// `PgConnection` and `MysqlConnection` (each behind its cargo feature), diesel 2.4's
/// `MariadbConnection` (the `mariadb` feature), for
/// [`AnyConnection`], for r2d2's pooled connections of those
/// (`diesel::r2d2::PooledConnection<ConnectionManager<C>>`, the `r2d2` feature), and for
/// an application's `#[derive(diesel::MultiConnection)]` enum through
/// [`multi_connection!`](crate::multi_connection) (see [`MultiConnection`]).
///
/// Applications pass their own connection to the library's operations, as `&mut conn`;
/// nothing here needs implementing by hand, nor can be: the trait is sealed (a
/// MultiConnection enum comes in through [`MultiConnection`]), and what pelican does with
/// a connection (its transactions, its queries) is not in scope where the trait is
/// imported, so it never shadows diesel's `Connection::transaction` and the like
/// (importing both `pelican::Database` and `diesel::Connection` is fine):
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use diesel::Connection;
/// use pelican::Database;
///
/// let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
/// conn.transaction::<_, diesel::result::Error, _>(|_| Ok(())).unwrap(); // diesel's
/// assert_eq!(conn.backend(), pelican::Backend::Sqlite);
/// # }
/// ```
pub trait Database: sealed::Operations + SimpleConnection + Send + 'static {
    /// Which backend this connection talks to.
    fn backend(&self) -> Backend;
}

pub(crate) use sealed::Operations;

mod sealed {
    use super::{Bind, Row};
    use crate::{Error, Result};
    use diesel::QueryResult;

    /// What pelican does with a connection. Public in a private module: reachable
    /// through [`Database`](super::Database)'s bound, nameable only inside pelican.
    pub trait Operations {
        /// Starts a transaction (a savepoint when one is already open).
        fn begin(&mut self) -> QueryResult<()>;

        /// Commits the innermost transaction.
        fn commit(&mut self) -> QueryResult<()>;

        /// Rolls the innermost transaction back.
        fn rollback(&mut self) -> QueryResult<()>;

        /// Whether a transaction is open on this connection (diesel's own bookkeeping).
        /// diesel cannot tell once its transaction manager is broken (a rollback that
        /// failed): that is an error here, never a guess either way.
        fn in_transaction(&mut self) -> Result<bool> {
            self.transaction_depth()
                .map(|depth| depth > 0)
                .map_err(Error::query(
                    "cannot read the connection's transaction state",
                ))
        }

        /// How many transactions are open on this connection, savepoints included (0: none).
        fn transaction_depth(&mut self) -> QueryResult<u32>;

        /// Opens the outermost transaction with a statement of the caller's choosing
        /// (`BEGIN IMMEDIATE` on SQLite, which takes the write lock at once), so that
        /// [`begin`](Database::begin) inside it opens savepoints. Fails if one is open.
        fn begin_with(&mut self, sql: &str) -> QueryResult<()>;

        /// Runs one statement with bound values (`?` placeholders on every backend) and returns
        /// the number of rows it touched.
        fn execute_with(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize>;

        /// Runs one query with bound values and loads its rows.
        fn load_with<R: Row>(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<R>>;

        /// The `search_path` diesel's harness saves before each migration on this
        /// connection, to set back after it: diesel 2.4's `PgConnection` (and what
        /// holds one) reads it, while diesel 2.3, and 2.4's other connections, r2d2's
        /// pooled ones and diesel-async's wrapper among them, keep none (`None`), and a
        /// `SET search_path` of a migration reaches the migrations after it.
        fn harness_search_path(&mut self) -> QueryResult<Option<String>>;

        /// Sets the `search_path` back as diesel's harness does after a migration.
        fn restore_search_path(&mut self, path: &str) -> QueryResult<()>;

        /// The diesel connection a migration's own code runs on (see
        /// [`Migration::is_code`](crate::Migration::is_code)): this one, or the one it
        /// holds.
        fn diesel_connection(&mut self) -> crate::source::DieselConnection<'_>;

        /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
        fn transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T>
        where
            Self: Sized,
        {
            self.begin()
                .map_err(Error::query("cannot begin a transaction"))?;
            match f(self) {
                Ok(value) => {
                    self.commit().map_err(Error::query("cannot commit"))?;
                    Ok(value)
                }
                Err(error) => {
                    // The original error is what the user needs; a failed rollback means the
                    // connection is gone, and the database rolls back on its own.
                    let _ = self.rollback();
                    Err(error)
                }
            }
        }
    }
}

macro_rules! row_bound {
    ($feature:literal, $name:ident, $backend:ty) => {
        #[cfg(feature = $feature)]
        #[doc(hidden)]
        pub trait $name: diesel::QueryableByName<$backend> {}
        #[cfg(feature = $feature)]
        impl<T: diesel::QueryableByName<$backend>> $name for T {}
        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        pub trait $name {}
        #[cfg(not(feature = $feature))]
        impl<T> $name for T {}
    };
}

row_bound!("sqlite", SqliteRow, diesel::sqlite::Sqlite);
// The backends' own features: diesel-async's connections load rows with them too.
row_bound!("postgres_backend", PgRow, diesel::pg::Pg);
row_bound!("mysql_backend", MysqlRow, diesel::mysql::Mysql);
row_bound!("mariadb", MariadbRow, diesel::mariadb::Mariadb);

/// A row type loadable on every enabled backend: any `#[derive(QueryableByName)]` struct.
pub trait Row: SqliteRow + PgRow + MysqlRow + MariadbRow + 'static {}
impl<T: SqliteRow + PgRow + MysqlRow + MariadbRow + 'static> Row for T {}

fn bind_all<'f, DB, Q>(
    mut query: BoxedSqlQuery<'f, DB, Q>,
    binds: &[Bind<'_>],
) -> BoxedSqlQuery<'f, DB, Q>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<BigInt>,
    String: diesel::serialize::ToSql<Text, DB>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
{
    for bind in binds {
        query = match *bind {
            Bind::Text(value) => query.bind::<Text, _>(value.to_owned()),
            Bind::NullableText(value) => query.bind::<Nullable<Text>, _>(value.map(str::to_owned)),
            Bind::Int(value) => query.bind::<BigInt, _>(value),
        };
    }
    query
}

/// pelican writes its own queries with `?` placeholders; PostgreSQL numbers them.
fn placeholders(sql: &str, backend: Backend) -> std::borrow::Cow<'_, str> {
    if !backend.dialect().numbered_placeholders() || !sql.contains('?') {
        return sql.into();
    }
    let mut numbered = String::with_capacity(sql.len() + 8);
    for (index, part) in sql.split('?').enumerate() {
        if index > 0 {
            numbered.push('$');
            numbered.push_str(&index.to_string());
        }
        numbered.push_str(part);
    }
    numbered.into()
}

/// diesel 2.3's `MigrationConnection` has no `read_search_path` and `set_search_path`:
/// its harness keeps no `search_path`. Implemented for `&mut C`, so that where diesel's
/// trait has the methods (2.4), method resolution finds them first (on `C`, before it
/// borrows the `&mut C` again), and these only where it has none. [`harness_search_path!`]
/// is how pelican calls them.
#[allow(dead_code)] // Unused where diesel has them.
pub(crate) trait KeepsNoSearchPath {
    fn read_search_path(&mut self) -> QueryResult<Option<String>> {
        Ok(None)
    }

    fn set_search_path(&mut self, _path: &str) -> QueryResult<()> {
        Ok(())
    }
}

impl<C: ?Sized> KeepsNoSearchPath for &mut C {}

/// `read` or `set` the `search_path` as diesel's harness does on `$conn` (a `&mut` of
/// one of diesel's connections): through the diesel version's own
/// `MigrationConnection`, as its harness calls it, or [`KeepsNoSearchPath`] where that
/// version has no such methods.
macro_rules! harness_search_path {
    (read $conn:expr) => {{
        #[allow(unused_imports)]
        use diesel::migration::MigrationConnection as _;
        #[allow(unused_imports)]
        use $crate::connection::KeepsNoSearchPath as _;
        // Borrowed again only under diesel 2.3 (by `KeepsNoSearchPath`).
        #[allow(unused_mut)]
        let mut conn = $conn;
        conn.read_search_path()
    }};
    (set $conn:expr, $path:expr) => {{
        #[allow(unused_imports)]
        use diesel::migration::MigrationConnection as _;
        #[allow(unused_imports)]
        use $crate::connection::KeepsNoSearchPath as _;
        #[allow(unused_mut)]
        let mut conn = $conn;
        conn.set_search_path($path)
    }};
}

/// [`Operations`] on a connection that is a diesel `Connection` of backend `$db`, but for
/// `begin_with`, which needs the connection's own transaction manager: diesel's
/// connections (below) and diesel-async's behind `AsyncConnectionWrapper` (the `async`
/// feature) run the same queries.
macro_rules! operations_direct {
    ($db:ty, $backend:expr) => {
        fn begin(&mut self) -> QueryResult<()> {
            <Self as Connection>::TransactionManager::begin_transaction(self)
        }

        fn commit(&mut self) -> QueryResult<()> {
            <Self as Connection>::TransactionManager::commit_transaction(self)
        }

        fn rollback(&mut self) -> QueryResult<()> {
            <Self as Connection>::TransactionManager::rollback_transaction(self)
        }

        fn transaction_depth(&mut self) -> QueryResult<u32> {
            let status =
                <Self as Connection>::TransactionManager::transaction_manager_status_mut(self);
            Ok(status.transaction_depth()?.map_or(0, |depth| depth.get()))
        }

        fn execute_with(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize> {
            let sql = placeholders(sql, $backend);
            bind_all(diesel::sql_query(sql).into_boxed::<$db>(), binds).execute(self)
        }

        fn load_with<R: Row>(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<R>> {
            let sql = placeholders(sql, $backend);
            bind_all(diesel::sql_query(sql).into_boxed::<$db>(), binds).load(self)
        }

        fn harness_search_path(&mut self) -> QueryResult<Option<String>> {
            harness_search_path!(read self)
        }

        fn restore_search_path(&mut self, path: &str) -> QueryResult<()> {
            harness_search_path!(set self, path)
        }

        fn diesel_connection(&mut self) -> crate::source::DieselConnection<'_> {
            <$db as crate::source::sealed::BackendOf>::wrap(self)
        }
    };
}

/// [`Database`] for a connection that is a diesel `Connection` of backend `$db`, whose
/// `begin_with` is `$begin_with` (on `$conn`, the connection, and `$sql`).
macro_rules! database_direct {
    ($feature:literal, $type:ty, $db:ty, $backend:expr, |$conn:ident, $sql:ident| $begin_with:expr) => {
        #[cfg(feature = $feature)]
        impl Database for $type {
            fn backend(&self) -> Backend {
                $backend
            }
        }

        #[cfg(feature = $feature)]
        impl Operations for $type {
            operations_direct!($db, $backend);

            fn begin_with(&mut self, $sql: &str) -> QueryResult<()> {
                let $conn = self;
                $begin_with
            }
        }
    };
}

macro_rules! impl_database {
    ($feature:literal, $conn:ty, $db:ty, $backend:expr) => {
        database_direct!($feature, $conn, $db, $backend, |conn, sql| {
            diesel::connection::AnsiTransactionManager::begin_transaction_sql(conn, sql)
        });
    };
}

impl_database!(
    "sqlite",
    diesel::SqliteConnection,
    diesel::sqlite::Sqlite,
    Backend::Sqlite
);
impl_database!(
    "postgres",
    diesel::PgConnection,
    diesel::pg::Pg,
    Backend::Postgres
);
impl_database!(
    "mysql",
    diesel::MysqlConnection,
    diesel::mysql::Mysql,
    Backend::Mysql
);
// diesel 2.4's: the same server as `MysqlConnection` (MariaDB, or MySQL), so the same
// dialect.
impl_database!(
    "mariadb",
    diesel::MariadbConnection,
    diesel::mariadb::Mariadb,
    Backend::Mysql
);

/// A connection to whichever backend a URL names, for the command line and for tools
/// that take a URL at run time.
///
/// ```no_run
/// let mut conn = pelican::AnyConnection::establish("app.db")?;
/// # Ok::<(), pelican::Error>(())
/// ```
#[non_exhaustive]
pub enum AnyConnection {
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    /// A MySQL/MariaDB connection.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
impl AnyConnection {
    /// What `each!` makes of an `AnyConnection` in a build that has none.
    fn absurd<T>(&self) -> T {
        match *self {}
    }
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnyConnection({})", self.backend())
    }
}

/// Calls the same code on whichever connection an [`AnyConnection`] holds.
macro_rules! each {
    ($self:expr, $conn:ident => $body:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres($conn) => $body,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql($conn) => $body,
            // No blocking connection in this build (`async` over `postgres_backend`
            // alone): the enum has no variant, and so no value to get here with.
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            none => none.absurd(),
        }
    };
}

/// [`Operations`] for a connection that holds another: each one is the held
/// connection's, reached through `$through!(self, conn => …)`.
macro_rules! operations_through {
    ($through:ident) => {
        fn begin(&mut self) -> QueryResult<()> {
            $through!(self, conn => conn.begin())
        }

        fn commit(&mut self) -> QueryResult<()> {
            $through!(self, conn => conn.commit())
        }

        fn rollback(&mut self) -> QueryResult<()> {
            $through!(self, conn => conn.rollback())
        }

        fn transaction_depth(&mut self) -> QueryResult<u32> {
            $through!(self, conn => conn.transaction_depth())
        }

        fn begin_with(&mut self, sql: &str) -> QueryResult<()> {
            $through!(self, conn => conn.begin_with(sql))
        }

        fn execute_with(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize> {
            $through!(self, conn => conn.execute_with(sql, binds))
        }

        fn load_with<R: Row>(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<R>> {
            $through!(self, conn => conn.load_with(sql, binds))
        }

        fn diesel_connection(&mut self) -> crate::source::DieselConnection<'_> {
            $through!(self, conn => conn.diesel_connection())
        }
    };
}

/// [`Operations`]' `search_path` of a connection that holds another: the held
/// connection's, as a `#[derive(diesel::MultiConnection)]` enum's is in diesel 2.4.
macro_rules! search_path_through {
    ($through:ident) => {
        fn harness_search_path(&mut self) -> QueryResult<Option<String>> {
            $through!(self, conn => conn.harness_search_path())
        }

        fn restore_search_path(&mut self, path: &str) -> QueryResult<()> {
            $through!(self, conn => conn.restore_search_path(path))
        }
    };
}

/// The waits and limits pelican sets on a connection it opens for a command.
///
/// - `lock` bounds SQLite's busy wait: how long any statement, a read included, waits
///   for another connection's write lock before failing with "database is locked"
///   (`PRAGMA busy_timeout`). The migration lock's own wait is bounded by the same value
///   on every backend (see [`crate::lock::with`]).
/// - `statement` is the servers' statement timeout for the session: PostgreSQL's
///   `statement_timeout`, MariaDB's `max_statement_time` (MySQL's `max_execution_time`,
///   which only bounds `SELECT`s). Zero, the default, means none: a timeout the role or
///   user has by default (`ALTER ROLE … SET statement_timeout`, `MAX_STATEMENT_TIME`) is
///   lifted, so that a long migration statement is not cut. SQLite has none.
///
/// A role's `lock_timeout` (PostgreSQL) or `lock_wait_timeout` (MySQL) is left as it is:
/// it bounds a migration statement's wait for a table another session uses, which is a
/// limit worth having during a deploy; it never bounds the wait for pelican's own lock.
///
/// ```no_run
/// use std::time::Duration;
/// use pelican::connection::Timeouts;
/// let mut conn = pelican::AnyConnection::establish("postgres://app@db/app")?;
/// Timeouts { lock: Duration::from_secs(10), statement: Duration::from_secs(300) }
///     .apply(&mut conn)?;
/// # Ok::<(), pelican::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// SQLite's busy wait (and, where pelican takes its lock, the wait for it).
    pub lock: Duration,
    /// The servers' statement timeout; zero for none.
    pub statement: Duration,
}

impl Default for Timeouts {
    /// The lock timeout [`DEFAULT_TIMEOUT`], no statement timeout.
    fn default() -> Self {
        Timeouts {
            lock: DEFAULT_TIMEOUT,
            statement: Duration::ZERO,
        }
    }
}

impl Timeouts {
    /// Sets these on the session: one statement (two on MySQL, which names its setting
    /// differently from MariaDB).
    ///
    /// Through a transaction-pooling proxy ([`PoolMode::Transaction`], from
    /// [`PoolMode::ENV`]) it sets nothing on a server: a session setting would stay on
    /// whichever server connection ran it, for the proxy's other clients, and would not
    /// reach the statements that follow, which run on others. SQLite's busy timeout,
    /// which is the connection's own, is set all the same.
    pub fn apply<C: Database>(&self, conn: &mut C) -> Result<()> {
        self.apply_in(conn, PoolMode::from_env()?)
    }

    /// [`Timeouts::apply`] for a connection that reaches the database as `mode` says.
    pub fn apply_in<C: Database>(&self, conn: &mut C, mode: PoolMode) -> Result<()> {
        if mode == PoolMode::Transaction && conn.backend().dialect().storage() == Storage::Server {
            return Ok(());
        }
        let context = "cannot set the session's timeouts";
        let unknown_setting = conn.backend().dialect().messages().unknown_setting;
        let mut tries = conn
            .backend()
            .dialect()
            .timeout_sql(self.lock, self.statement)
            .into_iter()
            .peekable();
        while let Some(sql) = tries.next() {
            match conn.batch_execute(&sql) {
                Ok(()) => return Ok(()),
                // Another server's name for the setting comes next.
                Err(error)
                    if tries.peek().is_some()
                        && unknown_setting
                            .is_some_and(|words| error.to_string().contains(words)) => {}
                Err(source) => {
                    return Err(Error::Query {
                        context: context.to_owned(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Sets how long SQLite waits for another connection's lock (`PRAGMA busy_timeout`).
pub(crate) fn set_busy_timeout<C: Database>(conn: &mut C, wait: Duration) -> Result<()> {
    conn.batch_execute(&busy_timeout_sql(wait))
        .map_err(Error::query("cannot set SQLite's busy timeout"))
}

/// The pragma that makes SQLite wait up to `wait` for another connection's lock.
pub(crate) fn busy_timeout_sql(wait: Duration) -> String {
    let millis = wait.as_millis().min(i32::MAX as u128);
    format!("PRAGMA busy_timeout = {millis}")
}

/// How a driver's refusal to connect reads: the URL and the driver's message, without
/// the password either may hold.
pub(crate) fn connect_error(url: &str) -> impl Fn(diesel::ConnectionError) -> Error + '_ {
    move |e| Error::Connect {
        url: redact_url(url),
        message: scrub(e.to_string().trim_end(), url),
    }
}

/// The error for a URL of a backend this build leaves out.
pub(crate) fn not_enabled(feature: &'static str, url: &str) -> Error {
    Error::BackendNotEnabled {
        feature,
        url: redact_url(url),
    }
}

impl AnyConnection {
    /// Runs a statement of your own with bound values (`?` placeholders on every
    /// backend) and returns how many rows it touched: for tools that hold an
    /// `AnyConnection` rather than a diesel connection of a known type.
    pub fn execute_with(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize> {
        Operations::execute_with(self, sql, binds)
    }

    /// Runs a query of your own with bound values and loads its rows into any
    /// `#[derive(QueryableByName)]` struct.
    pub fn load_with<R: Row>(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<R>> {
        Operations::load_with(self, sql, binds)
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        Operations::transaction(self, f)
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&mut self) -> Result<bool> {
        Operations::in_transaction(self)
    }

    /// Connects to the database a URL names (see [`Backend::from_url`]). Errors never
    /// show the URL's password, even when the driver quotes it.
    ///
    /// A SQLite connection waits up to [`DEFAULT_TIMEOUT`] for another
    /// connection's write lock instead of failing at once with "database is locked"
    /// (see [`Timeouts`] to set another wait).
    pub fn establish(url: &str) -> Result<Self> {
        Backend::from_url(url)?.dialect().establish(url)
    }
}

/// Connects to the database a URL names, retrying for up to `wait` while it does not
/// answer: for containers that start before their database. The pause between attempts
/// doubles from 50 ms up to 1 s. A zero `wait` tries once, as
/// [`AnyConnection::establish`] does; a URL pelican cannot use fails at once.
///
/// ```no_run
/// use std::time::Duration;
/// let mut conn = pelican::connect_with_retry("postgres://app@db/app", Duration::from_secs(30))?;
/// # Ok::<(), pelican::Error>(())
/// ```
pub fn connect_with_retry(url: &str, wait: Duration) -> Result<AnyConnection> {
    retry(url, wait, || AnyConnection::establish(url))
}

/// [`connect_with_retry`] for one of diesel's own connection types, for applications
/// that use it directly. A SQLite connection waits up to
/// [`DEFAULT_TIMEOUT`] for another connection's write lock, as
/// [`AnyConnection::establish`]'s does.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")] {
/// use std::time::Duration;
/// let conn: diesel::SqliteConnection =
///     pelican::connection::establish_with_retry("app.db", Duration::from_secs(30))?;
/// # }
/// # Ok::<(), pelican::Error>(())
/// ```
pub fn establish_with_retry<C: Connection>(url: &str, wait: Duration) -> Result<C> {
    crate::backend::check_url(url)?;
    let mut conn = retry(url, wait, || {
        C::establish(url).map_err(|e| Error::Connect {
            url: redact_url(url),
            message: scrub(e.to_string().trim_end(), url),
        })
    })?;
    // As AnyConnection's: wait for another connection's write lock, not fail at once.
    if Backend::from_url(url)?.dialect().storage() == Storage::File {
        conn.batch_execute(&busy_timeout_sql(DEFAULT_TIMEOUT))
            .map_err(Error::query("cannot set SQLite's busy timeout"))?;
    }
    Ok(conn)
}

fn retry<T>(url: &str, wait: Duration, mut connect: impl FnMut() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        match connect() {
            Err(Error::Connect { message, .. }) if started.elapsed() < wait => {
                let left = wait.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(gave_up(url, &message, started));
                }
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(Error::Connect { message, .. }) if !wait.is_zero() => {
                return Err(gave_up(url, &message, started));
            }
            other => return other,
        }
    }
}

fn gave_up(url: &str, message: &str, started: Instant) -> Error {
    Error::Connect {
        url: redact_url(url),
        message: format!(
            "{message} (still no answer after {:.1} s of retrying)",
            started.elapsed().as_secs_f64()
        ),
    }
}

impl SimpleConnection for AnyConnection {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        each!(self, conn => conn.batch_execute(query))
    }
}

impl Database for AnyConnection {
    fn backend(&self) -> Backend {
        each!(self, conn => conn.backend())
    }
}

impl Operations for AnyConnection {
    operations_through!(each);
    search_path_through!(each);
}

mod held;
pub use held::{InnerConnection, MultiConnection};

mod pool_mode;
pub use pool_mode::PoolMode;

#[cfg(feature = "async")]
mod asynchronous;
#[cfg(feature = "async")]
pub(crate) use asynchronous::{await_on_runtime, run_blocking};
#[cfg(feature = "async")]
pub use asynchronous::{Blocking, SetupFuture};
