//! diesel-async applications (the `async` feature): `Boot::run_async` and
//! `Migrator::migrate_async` on diesel-async's connections and their deadpool, bb8 and mobc
//! pooled objects, on both tokio runtime flavours, against the real servers and SQLite.
//! On a `current_thread` runtime the run's blocking thread waits on the runtime that
//! the test's own `block_on` drives: these tests are what shows that it does.
//!
//! They run too in a build without diesel's blocking connections (`--no-default-features
//! --features async,postgres_backend,mysql_backend`, as `scripts/test` runs them), where
//! the test databases are made and read through diesel-async's (`client_free`).
#![cfg(feature = "async")]

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
#[cfg(feature = "bb8")]
use diesel_async::pooled_connection::bb8;
#[cfg(feature = "deadpool")]
use diesel_async::pooled_connection::deadpool;
#[cfg(feature = "mobc")]
use diesel_async::pooled_connection::mobc;
#[cfg(any(feature = "deadpool", feature = "bb8", feature = "mobc"))]
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::AsyncConnection;
use pelican::boot::BootAction;
use pelican::{Boot, Migrations, Migrator, Target};

const USERS: (&str, &str, &str) = (
    "2024-01-01-000001_users",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);",
    "DROP TABLE users;",
);
const POSTS: (&str, &str, &str) = (
    "2024-01-01-000002_posts",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL);",
    "DROP TABLE posts;",
);
const TAGS: (&str, &str, &str) = (
    "2024-01-01-000003_tags",
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL);",
    "DROP TABLE tags;",
);

/// What these tests ask of a test database: common's, or `client_free`'s.
trait Db {
    fn dir(&self) -> &Path;
    fn query_strings(&self, sql: &str) -> Vec<String>;
}

impl Db for common::TestDb {
    fn dir(&self) -> &Path {
        common::TestDb::dir(self)
    }

    fn query_strings(&self, sql: &str) -> Vec<String> {
        common::TestDb::query_strings(self, sql)
    }
}

#[cfg(any(
    all(feature = "postgres_backend", not(feature = "postgres")),
    all(feature = "mysql_backend", not(feature = "mysql"))
))]
impl Db for client_free::TestDb {
    fn dir(&self) -> &Path {
        client_free::TestDb::dir(self)
    }

    fn query_strings(&self, sql: &str) -> Vec<String> {
        client_free::TestDb::query_strings(self, sql)
    }
}

/// The first `count` of the migrations above.
fn migrations(db: &impl Db, count: usize) -> Migrations {
    let root = db.dir().join(format!("history{count}"));
    let dir = common::write_migrations(&root, &[USERS, POSTS, TAGS][..count]);
    Migrations::from_dir(dir).expect("the migrations load")
}

const SEED: &str = "INSERT INTO users (id, email) VALUES (1, 'admin@example.com')";

/// The versions the journal says were applied (up), one entry per run that applied one.
fn journal(db: &impl Db) -> Vec<String> {
    db.query_strings(
        "SELECT version AS value FROM __pelican_journal \
         WHERE outcome = 'applied' AND direction = 'up' ORDER BY version",
    )
}

/// The tests of one backend: `$feature` compiles diesel-async's connection `$conn` in,
/// `$client` diesel's blocking one (the test database is then common's, else
/// `client_free`'s).
macro_rules! async_tests {
    ($module:ident, $feature:literal, $client:literal, $backend:expr, $conn:ty, $setup:expr) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;

            #[cfg(feature = $client)]
            use common::TestDb;
            #[cfg(not(feature = $client))]
            use client_free::TestDb;

            type Conn = $conn;

            async fn connect(db: &TestDb) -> Conn {
                let mut conn = Conn::establish(&db.url).await.expect("connect");
                if let Some(setup) = $setup {
                    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, setup)
                        .await
                        .expect("the session's setup");
                }
                conn
            }

            /// Boots a fresh database with a seed hook (diesel's blocking query builder on
            /// the connection), then migrates the connection it hands back to a newer
            /// history. Meanwhile another task of the runtime keeps running: on a
            /// `current_thread` runtime too, nothing blocks the runtime's thread.
            async fn boot_then_migrate(test: &str) {
                let db = TestDb::new($backend, test);
                let seeded = Arc::new(AtomicUsize::new(0));
                let hook_count = Arc::clone(&seeded);
                let ticks = Arc::new(AtomicUsize::new(0));
                let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let ticker = tokio::spawn({
                    let (ticks, done) = (Arc::clone(&ticks), Arc::clone(&done));
                    async move {
                        while !done.load(Ordering::SeqCst) {
                            ticks.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                        }
                    }
                });
                let hook_ticks = Arc::clone(&ticks);
                let (report, conn) = Boot::new(&migrations(&db, 2))
                    .initial_setup_blocking(
                        move |conn: &mut pelican::connection::Blocking<Conn>| -> Result<(), pelican::BoxError> {
                            use diesel::RunQueryDsl;
                            hook_count.fetch_add(1, Ordering::SeqCst);
                            // Mid-run, the runtime's other task goes on.
                            let start = hook_ticks.load(Ordering::SeqCst);
                            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                            while hook_ticks.load(Ordering::SeqCst) < start + 3 {
                                if std::time::Instant::now() > deadline {
                                    return Err("the runtime's other task stood still".into());
                                }
                                std::thread::sleep(std::time::Duration::from_millis(1));
                            }
                            diesel::sql_query(SEED).execute(conn)?;
                            Ok(())
                        },
                    )
                    .run_async(connect(&db).await)
                    .await
                    .expect("boot");
                done.store(true, Ordering::SeqCst);
                ticker.await.expect("the other task");
                assert_eq!(report.action, BootAction::Initialized);
                assert_eq!(seeded.load(Ordering::SeqCst), 1);
                assert_eq!(
                    db.query_strings("SELECT email AS value FROM users"),
                    ["admin@example.com"]
                );

                let three = migrations(&db, 3);
                let (report, _conn) = Migrator::new(&three)
                    .migrate_async(conn, &Target::Head)
                    .await
                    .expect("migrate");
                assert_eq!(report.steps.len(), 1);
                assert_eq!(db.applied().len(), 3);
                assert!(db.tables().contains(&"tags".to_owned()));
            }

            #[tokio::test]
            async fn boot_then_migrate_current_thread() {
                boot_then_migrate("async_boot_ct").await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn boot_then_migrate_multi_thread() {
                boot_then_migrate("async_boot_mt").await;
            }

            /// A deadpool `Object`, a bb8 owned pooled connection and a mobc one, each as
            /// it comes out of its pool.
            #[cfg(all(feature = "deadpool", feature = "bb8", feature = "mobc"))]
            async fn pools(test: &str) {
                let db = TestDb::new($backend, test);
                let manager = AsyncDieselConnectionManager::<Conn>::new(&db.url);
                let deadpool = deadpool::Pool::builder(manager)
                    .max_size(1)
                    .build()
                    .expect("a pool");
                let (report, _) = Boot::new(&migrations(&db, 2))
                    .run_async(deadpool.get().await.expect("a pooled connection"))
                    .await
                    .expect("boot from deadpool");
                assert_eq!(report.action, BootAction::Initialized);

                let manager = AsyncDieselConnectionManager::<Conn>::new(&db.url);
                let bb8 = bb8::Pool::builder()
                    .max_size(1)
                    .build(manager)
                    .await
                    .expect("a pool");
                let (report, _) = Migrator::new(&migrations(&db, 3))
                    .migrate_async(
                        bb8.get_owned().await.expect("a pooled connection"),
                        &Target::Head,
                    )
                    .await
                    .expect("migrate from bb8");
                assert_eq!(report.steps.len(), 1);
                assert_eq!(db.applied().len(), 3);
                // Both connections went back to their pools, usable.
                let (report, _) = Boot::new(&migrations(&db, 3))
                    .run_async(deadpool.get().await.expect("the connection again"))
                    .await
                    .expect("boot again");
                assert_eq!(report.action, BootAction::UpToDate);
                drop(bb8.get_owned().await.expect("the bb8 connection again"));

                let mobc = mobc::Pool::builder()
                    .max_open(1)
                    .build(AsyncDieselConnectionManager::<Conn>::new(&db.url));
                let (report, _) = Migrator::new(&migrations(&db, 3))
                    .migrate_async(mobc.get().await.expect("a pooled connection"), &Target::Head)
                    .await
                    .expect("migrate from mobc");
                assert!(report.steps.is_empty());
                let (report, _) = Boot::new(&migrations(&db, 3))
                    .run_async(mobc.get().await.expect("the mobc connection again"))
                    .await
                    .expect("boot from mobc");
                assert_eq!(report.action, BootAction::UpToDate);
            }

            #[cfg(all(feature = "deadpool", feature = "bb8", feature = "mobc"))]
            #[tokio::test]
            async fn pools_current_thread() {
                pools("async_pools_ct").await;
            }

            #[cfg(all(feature = "deadpool", feature = "bb8", feature = "mobc"))]
            #[tokio::test(flavor = "multi_thread")]
            async fn pools_multi_thread() {
                pools("async_pools_mt").await;
            }

            /// Eight tasks boot the same database at once: a fresh one (one builds it
            /// and seeds it), then with two more migrations (one applies each).
            async fn eight_at_once(test: &str) {
                let db = TestDb::new($backend, test);
                let seeded = Arc::new(AtomicUsize::new(0));
                let mut runs = Vec::new();
                for history in [1, 3] {
                    let migrations = migrations(&db, history);
                    let mut tasks = Vec::new();
                    for _ in 0..8 {
                        let conn = connect(&db).await;
                        let seeded = Arc::clone(&seeded);
                        tasks.push(tokio::spawn(
                            Boot::new(&migrations)
                                .auto_migrate(true)
                                .initial_setup_blocking(
                                    move |conn: &mut pelican::connection::Blocking<Conn>| {
                                        seeded.fetch_add(1, Ordering::SeqCst);
                                        conn.batch_execute(SEED)
                                    },
                                )
                                .run_async(conn),
                        ));
                    }
                    let mut actions = Vec::new();
                    for task in tasks {
                        let (report, _) = task.await.expect("the task").expect("boot");
                        actions.push(report.action);
                    }
                    runs.push(actions);
                }
                let count = |actions: &[BootAction], action: BootAction| {
                    actions.iter().filter(|a| **a == action).count()
                };
                assert_eq!(count(&runs[0], BootAction::Initialized), 1, "{:?}", runs[0]);
                assert_eq!(count(&runs[0], BootAction::UpToDate), 7, "{:?}", runs[0]);
                assert_eq!(seeded.load(Ordering::SeqCst), 1);
                assert_eq!(count(&runs[1], BootAction::Migrated), 1, "{:?}", runs[1]);
                assert_eq!(count(&runs[1], BootAction::UpToDate), 7, "{:?}", runs[1]);
                let applied = db.applied();
                assert_eq!(applied.len(), 3);
                let journal = journal(&db);
                for version in &applied[1..] {
                    assert_eq!(
                        journal.iter().filter(|v| *v == version).count(),
                        1,
                        "{journal:?}"
                    );
                }
            }

            /// A boot that fails leaves the database empty and its lock free, and the
            /// pooled connection it took goes back to its pool, usable.
            #[cfg(feature = "deadpool")]
            #[tokio::test]
            async fn failure_gives_back_the_pooled_connection() {
                let db = TestDb::new($backend, "async_failure");
                let broken = common::write_migrations(
                    &db.dir().join("broken"),
                    &[USERS, ("2024-01-01-000002_broken", "CREATE TABLE broken (;", "")],
                );
                let broken = Migrations::from_dir(broken).expect("the migrations load");
                let manager = AsyncDieselConnectionManager::<Conn>::new(&db.url);
                let pool = deadpool::Pool::builder(manager)
                    .max_size(1)
                    .build()
                    .expect("a pool");
                let pooled = pool.get().await.expect("a pooled connection");
                assert!(Boot::new(&broken).run_async(pooled).await.is_err());
                assert!(db.tables().is_empty(), "{:?}", db.tables());

                // The lock is free: another connection boots at once.
                let (report, _) = Boot::new(&migrations(&db, 1))
                    .lock_timeout(std::time::Duration::from_secs(5))
                    .run_async(connect(&db).await)
                    .await
                    .expect("boot from another connection");
                assert_eq!(report.action, BootAction::Initialized);
                // The pool's only connection is back.
                let pooled = tokio::time::timeout(std::time::Duration::from_secs(10), pool.get())
                    .await
                    .expect("the connection went back to the pool")
                    .expect("a pooled connection");
                let (report, _) = Migrator::new(&migrations(&db, 2))
                    .migrate_async(pooled, &Target::Head)
                    .await
                    .expect("migrate on the same pooled connection");
                assert_eq!(report.steps.len(), 1);
            }

            /// The seed hook written with diesel-async's own API, awaited inside the
            /// fresh build: one that fails leaves the database empty and says why; one
            /// that succeeds seeds it.
            async fn async_hook(test: &str) {
                let db = TestDb::new($backend, test);
                let failed = Boot::new(&migrations(&db, 2))
                    .initial_setup_async(|conn: &mut Conn| {
                        Box::pin(async move {
                            diesel_async::SimpleAsyncConnection::batch_execute(conn, SEED).await?;
                            Err("the seed data is not ready".into())
                        })
                    })
                    .run_async(connect(&db).await)
                    .await;
                let Err(error) = failed else {
                    panic!("a failing hook fails the boot");
                };
                let chain = std::iter::successors(
                    Some(&error as &dyn std::error::Error),
                    |e| e.source(),
                )
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(": ");
                assert!(chain.contains("the seed data is not ready"), "{chain}");
                assert!(db.tables().is_empty(), "{:?}", db.tables());

                let (report, _conn) = Boot::new(&migrations(&db, 2))
                    .initial_setup_async(|conn: &mut Conn| {
                        Box::pin(async move {
                            diesel_async::SimpleAsyncConnection::batch_execute(conn, SEED).await?;
                            Ok(())
                        })
                    })
                    .run_async(connect(&db).await)
                    .await
                    .expect("boot");
                assert_eq!(report.action, BootAction::Initialized);
                assert_eq!(
                    db.query_strings("SELECT email AS value FROM users"),
                    ["admin@example.com"]
                );
            }

            #[tokio::test]
            async fn async_hook_current_thread() {
                async_hook("async_hook_ct").await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn async_hook_multi_thread() {
                async_hook("async_hook_mt").await;
            }

            /// Without diesel's blocking connection of the backend (`postgres_backend`
            /// without `postgres`), adoption, which builds the history on a scratch
            /// database through a connection of pelican's own, is refused, and the
            /// database is left as it was.
            #[cfg(not(feature = $client))]
            #[tokio::test]
            async fn adoption_is_refused_without_the_client_library() {
                let db = TestDb::new($backend, "async_adopt_refused");
                let mut conn = connect(&db).await;
                diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, USERS.1)
                    .await
                    .expect("the application's table");
                let result = Boot::new(&migrations(&db, 1))
                    .adopt(db.url.clone())
                    .run_async(conn)
                    .await;
                let Err(error) = result else {
                    panic!("adopted without a scratch database");
                };
                // The database's URL and the feature that would let it adopt.
                assert!(
                    matches!(
                        &error,
                        pelican::Error::BackendNotEnabled { feature: $client, url }
                            if *url == db.url
                    ),
                    "{error}"
                );
                assert_eq!(db.tables(), ["users"]);
            }

            #[tokio::test]
            async fn eight_at_once_current_thread() {
                eight_at_once("async_eight_ct").await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn eight_at_once_multi_thread() {
                eight_at_once("async_eight_mt").await;
            }
        }
    };
}

async_tests!(
    postgres,
    "postgres_backend",
    "postgres",
    pelican::Backend::Postgres,
    diesel_async::AsyncPgConnection,
    None::<&str>
);
async_tests!(
    mysql,
    "mysql_backend",
    "mysql",
    pelican::Backend::Mysql,
    diesel_async::AsyncMysqlConnection,
    None::<&str>
);
async_tests!(
    sqlite,
    "sqlite",
    "sqlite",
    pelican::Backend::Sqlite,
    diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>,
    // As a SQLite application with several connections sets it (pelican's own
    // connections do): wait for another connection's write lock, not fail at once.
    Some("PRAGMA busy_timeout = 60000")
);

/// A hook set with `initial_setup` cannot leave the calling thread: `run_async` refuses
/// it, with nothing built, rather than boot without it.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn run_async_refuses_a_hook_that_cannot_leave_the_thread() {
    use common::TestDb;
    use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
    type Conn = SyncConnectionWrapper<diesel::SqliteConnection>;
    let db = TestDb::new(pelican::Backend::Sqlite, "async_refused_hook");
    let conn = Conn::establish(&db.url).await.expect("connect");
    let one = migrations(&db, 1);
    let boot = Boot::new(&one)
        .initial_setup(|conn: &mut pelican::connection::Blocking<Conn>| conn.batch_execute(SEED));
    let Err(error) = boot.run_async(conn).await else {
        panic!("run_async ran with a hook it cannot call");
    };
    assert!(
        error.to_string().contains("initial_setup_blocking"),
        "{error}"
    );
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

/// Polled outside a tokio runtime (by another executor), the run is an error, not a
/// panic, and touches nothing.
#[cfg(feature = "sqlite")]
#[test]
fn run_async_outside_tokio_is_an_error() {
    use common::TestDb;
    use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
    use std::future::Future;
    let db = TestDb::new(pelican::Backend::Sqlite, "async_outside");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let conn = runtime
        .block_on(SyncConnectionWrapper::<diesel::SqliteConnection>::establish(&db.url))
        .expect("connect");
    let one = migrations(&db, 1);
    let run = Boot::new(&one).run_async(conn);
    // A minimal executor: polls the future once on this thread, with no runtime entered.
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut run = std::pin::pin!(run);
    match run.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Err(error)) => {
            assert!(error.to_string().contains("tokio runtime"), "{error}")
        }
        std::task::Poll::Ready(Ok(_)) => panic!("ran outside a runtime"),
        std::task::Poll::Pending => panic!("waited outside a runtime"),
    }
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

/// A test database on a server, made, read and dropped through diesel-async's
/// connections: for a build without diesel's blocking connection of its backend
/// (`postgres_backend` without `postgres`), where common's `TestDb`, which uses them,
/// cannot connect. Each call runs on a thread and a tokio runtime of its own, so that
/// it can be called, as common's blocking one is, from a test's task.
#[cfg(any(
    all(feature = "postgres_backend", not(feature = "postgres")),
    all(feature = "mysql_backend", not(feature = "mysql"))
))]
mod client_free {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
    use pelican::Backend;

    pub struct TestDb {
        pub backend: Backend,
        pub url: String,
        server: String,
        name: String,
        dir: tempfile::TempDir,
    }

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }

    /// A query's first column, or (`rows` false) a batch of statements run, on the
    /// database `url` names.
    fn run(backend: Backend, url: &str, sql: &str, rows: bool) -> Vec<String> {
        let (url, sql) = (url.to_owned(), sql.to_owned());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            macro_rules! on {
                ($conn:ty) => {
                    runtime.block_on(async {
                        let mut conn = <$conn>::establish(&url).await.expect("connect");
                        if rows {
                            let rows: Vec<Row> = diesel::sql_query(&sql)
                                .load(&mut conn)
                                .await
                                .expect("query");
                            rows.into_iter()
                                .map(|r| r.value.trim_end().to_owned())
                                .collect()
                        } else {
                            conn.batch_execute(&sql).await.expect("execute");
                            Vec::new()
                        }
                    })
                };
            }
            match backend {
                #[cfg(feature = "postgres_backend")]
                Backend::Postgres => on!(diesel_async::AsyncPgConnection),
                #[cfg(feature = "mysql_backend")]
                Backend::Mysql => on!(diesel_async::AsyncMysqlConnection),
                other => unimplemented!("{other}: no diesel-async connection here"),
            }
        })
        .join()
        .expect("the query's thread")
    }

    impl TestDb {
        pub fn new(backend: Backend, test: &str) -> TestDb {
            let server = pelican::testing::server_url(backend).expect("a server backend");
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut name = format!("pelican_t_{}_{test}_{n}", std::process::id());
            name.truncate(63);
            run(backend, &server, &format!("CREATE DATABASE {name}"), false);
            TestDb {
                backend,
                url: super::common::with_database(&server, &name),
                server,
                name,
                dir: tempfile::tempdir().expect("a temporary folder"),
            }
        }

        /// The folder this test may write files into.
        pub fn dir(&self) -> &Path {
            self.dir.path()
        }

        /// The first column (aliased `value`, text) of every row of a query.
        pub fn query_strings(&self, sql: &str) -> Vec<String> {
            run(self.backend, &self.url, sql, true)
        }

        /// The names of the tables in the database, sorted.
        pub fn tables(&self) -> Vec<String> {
            let (text, schema) = match self.backend {
                Backend::Mysql => ("CHAR", "DATABASE()"),
                _ => ("TEXT", "current_schema()"),
            };
            let mut names = self.query_strings(&format!(
                "SELECT CAST(table_name AS {text}) AS value FROM information_schema.tables \
                 WHERE table_schema = {schema} AND table_type = 'BASE TABLE'"
            ));
            names.sort();
            names
        }

        /// The versions in diesel's table, oldest first.
        pub fn applied(&self) -> Vec<String> {
            self.query_strings(
                "SELECT version AS value FROM __diesel_schema_migrations ORDER BY version",
            )
        }
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("test database kept for inspection: {}", self.url);
                return;
            }
            let force = match self.backend {
                Backend::Postgres => " WITH (FORCE)",
                _ => "",
            };
            let sql = format!("DROP DATABASE IF EXISTS {}{force}", self.name);
            run(self.backend, &self.server, &sql, false);
        }
    }
}
