//! diesel-async's connections (the `async` feature): pelican's engine is blocking, so
//! an async application's connection runs it from a blocking thread of the tokio
//! runtime, behind diesel-async's `AsyncConnectionWrapper`, which is a blocking diesel
//! connection that waits for each query on the runtime ([`Blocking`]).
//!
//! Why not diesel-async's own `AsyncMigrationHarness`: it blocks the calling task's
//! thread (`block_in_place`), which a `current_thread` runtime cannot give up (diesel_async
//! issue #266). [`run_blocking`] moves the connection to `spawn_blocking` instead, and
//! the caller awaits it: on a `current_thread` runtime the caller's `block_on` keeps
//! driving the runtime (the connection's sockets) while the blocking thread waits on
//! it, so both flavours work and no task of the runtime is held up.

use diesel::connection::{Connection, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::{QueryResult, RunQueryDsl};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncConnection;

use super::{bind_all, placeholders, Bind, Database, Operations, Row};
use crate::{Backend, Error, Result};

/// A diesel-async connection as pelican's engine uses it: diesel-async's
/// `AsyncConnectionWrapper`, a blocking diesel connection over the async one. It is
/// what an initial setup hook of [`Boot::run_async`](crate::Boot::run_async) is given
/// (diesel's blocking query builder works on it, in the hook's thread).
///
/// It is a [`Database`] for `A` any of diesel-async's `AsyncPgConnection` (the
/// `postgres_backend` feature, which `postgres` includes), `AsyncMysqlConnection`
/// (`mysql_backend`) and `SyncConnectionWrapper<SqliteConnection>` (`sqlite`), and for
/// their pooled objects: deadpool's `Object` (the `deadpool` feature), bb8's
/// `PooledConnection<'static, _>` (`bb8`, from `get_owned`) and mobc's
/// `PooledConnection` (`mobc`).
///
/// Its blocking calls wait on the tokio runtime it was made in: use it on a thread of
/// the runtime's blocking pool (`spawn_blocking`), as the async entry points do, never on
/// a task's thread, where waiting panics.
pub type Blocking<A> = AsyncConnectionWrapper<A>;

/// What an async initial setup hook returns ([`Boot::initial_setup_async`]): its work on
/// the connection, boxed, as `Box::pin(async move { … })` makes it.
///
/// [`Boot::initial_setup_async`]: crate::Boot::initial_setup_async
pub type SetupFuture<'c> = std::pin::Pin<
    Box<dyn std::future::Future<Output = std::result::Result<(), crate::BoxError>> + Send + 'c>,
>;

/// Awaits `future` from a blocking thread of the runtime the run goes on (the hook's
/// queries go to the runtime's sockets, which the caller's runtime drives meanwhile).
pub(crate) fn await_on_runtime<T>(
    future: impl std::future::Future<Output = std::result::Result<T, crate::BoxError>>,
) -> std::result::Result<T, crate::BoxError> {
    tokio::runtime::Handle::try_current()
        .map_err(|_| "an async hook runs on a blocking thread of a tokio runtime".into())
        .and_then(|handle| handle.block_on(future))
}

/// Runs `work` on `conn` from a blocking thread of the current tokio runtime, and hands
/// the connection back with its result. A panic in `work` goes on in the caller.
pub(crate) async fn run_blocking<A, T>(
    conn: A,
    work: impl FnOnce(&mut Blocking<A>) -> Result<T> + Send + 'static,
) -> Result<(T, A)>
where
    A: AsyncConnection + Send + 'static,
    Blocking<A>: Database,
    T: Send + 'static,
{
    // Polled outside tokio (another executor): an error, not tokio's panic.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(Error::Query {
            context: "a diesel-async connection runs pelican from within a tokio runtime"
                .to_owned(),
            source: unavailable("no tokio runtime is running here"),
        });
    };
    let task = runtime.spawn_blocking(move || {
        // Made on the blocking thread, inside the runtime: the wrapper waits on this
        // runtime's handle (outside one it would start a runtime of its own, on which
        // a connection made on the application's runtime never answers).
        let mut blocking = Blocking::<A>::from(conn);
        work(&mut blocking).map(|value| (value, blocking.into_inner()))
    });
    match task.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // The runtime is shutting down: the run never started, or stopped with it.
        Err(_) => Err(Error::Query {
            context: "cannot run pelican on the tokio runtime".to_owned(),
            source: unavailable("the runtime is shutting down"),
        }),
    }
}

fn unavailable(why: &str) -> QueryError {
    QueryError::DatabaseError(
        DatabaseErrorKind::UnableToSendCommand,
        Box::new(why.to_owned()),
    )
}

/// Opens the outermost transaction with the caller's statement on one of diesel-async's
/// connections, as its own transaction manager does, so that the wrapper's bookkeeping
/// (which is the connection's) counts it.
trait BeginWith {
    async fn begin_with(&mut self, sql: &str) -> QueryResult<()>;
}

#[cfg(feature = "postgres_backend")]
impl BeginWith for diesel_async::AsyncPgConnection {
    async fn begin_with(&mut self, sql: &str) -> QueryResult<()> {
        diesel_async::AnsiTransactionManager::begin_transaction_sql(self, sql).await
    }
}

#[cfg(feature = "mysql_backend")]
impl BeginWith for diesel_async::AsyncMysqlConnection {
    async fn begin_with(&mut self, sql: &str) -> QueryResult<()> {
        diesel_async::AnsiTransactionManager::begin_transaction_sql(self, sql).await
    }
}

/// SQLite's connection is the blocking one inside: `BEGIN IMMEDIATE` goes through
/// diesel's own transaction manager there, which the wrapper's bookkeeping is.
#[cfg(feature = "sqlite")]
impl BeginWith
    for diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>
{
    async fn begin_with(&mut self, sql: &str) -> QueryResult<()> {
        let sql = sql.to_owned();
        self.spawn_blocking(move |conn| {
            diesel::connection::AnsiTransactionManager::begin_transaction_sql(conn, &sql)
        })
        .await
    }
}

/// Waits for `begin_with` on the runtime the blocking thread belongs to.
fn begin_with_blocking<A: BeginWith>(conn: &mut A, sql: &str) -> QueryResult<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(conn.begin_with(sql)),
        Err(_) => Err(unavailable(
            "a diesel-async connection runs pelican from a blocking thread of a tokio \
             runtime (Boot::run_async, Migrator::migrate_async)",
        )),
    }
}

/// [`Database`] for the wrapper over one connection type, its deadpool object and its
/// bb8 pooled connection.
macro_rules! impl_async_database {
    ($feature:literal, $conn:ty, $db:ty, $backend:expr) => {
        impl_async_database!(@one $feature, $conn, $db, $backend);
        #[cfg(feature = "deadpool")]
        impl_async_database!(
            @pooled $feature,
            diesel_async::pooled_connection::deadpool::Object<$conn>,
            $db,
            $backend
        );
        #[cfg(feature = "bb8")]
        impl_async_database!(
            @pooled $feature,
            diesel_async::pooled_connection::bb8::PooledConnection<'static, $conn>,
            $db,
            $backend
        );
        #[cfg(feature = "mobc")]
        impl_async_database!(
            @pooled $feature,
            diesel_async::pooled_connection::mobc::PooledConnection<$conn>,
            $db,
            $backend
        );
    };
    (@pooled $feature:literal, $conn:ty, $db:ty, $backend:expr) => {
        #[cfg(feature = $feature)]
        impl BeginWith for $conn {
            async fn begin_with(&mut self, sql: &str) -> QueryResult<()> {
                (**self).begin_with(sql).await
            }
        }

        impl_async_database!(@one $feature, $conn, $db, $backend);
    };
    (@one $feature:literal, $conn:ty, $db:ty, $backend:expr) => {
        database_direct!($feature, Blocking<$conn>, $db, $backend, |conn, sql| {
            begin_with_blocking(&mut **conn, sql)
        });
    };
}

impl_async_database!(
    "postgres_backend",
    diesel_async::AsyncPgConnection,
    diesel::pg::Pg,
    Backend::Postgres
);
impl_async_database!(
    "mysql_backend",
    diesel_async::AsyncMysqlConnection,
    diesel::mysql::Mysql,
    Backend::Mysql
);
impl_async_database!(
    "sqlite",
    diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>,
    diesel::sqlite::Sqlite,
    Backend::Sqlite
);
