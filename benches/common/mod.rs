//! What the benchmarks share: the workload, fresh databases, diesel's harness, and
//! how a run is configured and summarized.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use pelican::scratch::Scratch;
use pelican::{AnyConnection, Backend};

/// What to measure: `PELICAN_BENCH_N`, `PELICAN_BENCH_RUNS` and
/// `PELICAN_BENCH_BACKENDS`, with these defaults.
pub struct Settings {
    /// The numbers of migrations.
    pub sizes: Vec<usize>,
    /// Runs per case.
    pub runs: usize,
    /// The backends compiled in and asked for.
    pub backends: Vec<Backend>,
}

impl Settings {
    /// Reads the environment.
    pub fn from_env(sizes: &str, runs: usize) -> Settings {
        Settings {
            sizes: env_list("PELICAN_BENCH_N", sizes)
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            runs: std::env::var("PELICAN_BENCH_RUNS")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(runs),
            backends: env_list("PELICAN_BENCH_BACKENDS", "sqlite,postgres,mysql")
                .iter()
                .filter_map(|b| match b.as_str() {
                    "sqlite" if cfg!(feature = "sqlite") => Some(Backend::Sqlite),
                    "postgres" if cfg!(feature = "postgres") => Some(Backend::Postgres),
                    "mysql" if cfg!(feature = "mysql") => Some(Backend::Mysql),
                    _ => None,
                })
                .collect(),
        }
    }
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Where `program` is on `PATH`, if it is (diesel CLI, which the benches compare with
/// when it is installed).
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// The median of some timings.
pub fn median(times: impl IntoIterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.into_iter().collect();
    times.sort();
    times[times.len() / 2]
}

/// The shared workload (`benches/workloads/gen_migrations.py`, or
/// `PELICAN_WORKLOAD`) for `n` migrations on `backend`, written under `root`.
pub fn workload(root: &Path, n: usize, backend: Backend) -> PathBuf {
    let dir = root.join(format!("{backend}_{n}"));
    let script = std::env::var("PELICAN_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/workloads/gen_migrations.py")
        });
    let status = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .arg(n.to_string())
        .arg(backend.to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(status.success(), "{} failed", script.display());
    dir
}

/// A new, empty database: a SQLite file, or a database on the test server
/// (`PELICAN_TEST_POSTGRES_URL`, `PELICAN_TEST_MYSQL_URL`), dropped with the value.
pub fn fresh(backend: Backend) -> Scratch {
    let url = pelican::testing::server_url(backend).unwrap_or_else(|| "bench.db".to_owned());
    Scratch::create(&url, None).expect("a fresh database")
}

/// diesel's own harness on a connection of the URL's backend.
fn with_diesel<T>(url: &str, f: impl FnOnce(&mut dyn Harness) -> T) -> T {
    match AnyConnection::establish(url).expect("connect") {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(mut conn) => f(&mut conn),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(mut conn) => f(&mut conn),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(mut conn) => f(&mut conn),
        #[allow(unreachable_patterns)]
        _ => unreachable!("a backend compiled in"),
    }
}

/// The two calls of diesel's harness the benchmarks measure, for any backend.
pub trait Harness {
    /// `run_pending_migrations`.
    fn run(&mut self, source: FileBasedMigrations);
    /// `has_pending_migration`.
    fn pending(&mut self, source: FileBasedMigrations) -> bool;
}

macro_rules! harness {
    ($feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl Harness for $conn {
            fn run(&mut self, source: FileBasedMigrations) {
                self.run_pending_migrations(source)
                    .expect("diesel migrates");
            }

            fn pending(&mut self, source: FileBasedMigrations) -> bool {
                self.has_pending_migration(source).expect("diesel reads")
            }
        }
    };
}

harness!("sqlite", diesel::SqliteConnection);
harness!("postgres", diesel::PgConnection);
harness!("mysql", diesel::MysqlConnection);

/// diesel's `run_pending_migrations` of `dir` on the database at `url`, timed.
pub fn diesel_migrate(url: &str, dir: &Path) -> Duration {
    let source = FileBasedMigrations::from_path(dir).expect("the workload");
    with_diesel(url, |harness| {
        let start = Instant::now();
        harness.run(source);
        start.elapsed()
    })
}

/// diesel's `has_pending_migration`, timed with its answer.
pub fn diesel_pending(url: &str, dir: &Path) -> (Duration, bool) {
    let source = FileBasedMigrations::from_path(dir).expect("the workload");
    with_diesel(url, |harness| {
        let start = Instant::now();
        let pending = harness.pending(source);
        (start.elapsed(), pending)
    })
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many times the server has synced its log to disk since it started (InnoDB's
/// data file syncs, PostgreSQL's WAL syncs): a count, steady where timings are not on
/// a busy machine. `None` on SQLite, which has no server to ask.
pub fn server_syncs(url: &str) -> Option<i64> {
    let sql = match Backend::from_url(url).ok()? {
        Backend::Sqlite => return None,
        // A session's WAL statistics reach pg_stat_wal when it ends, a moment later.
        Backend::Postgres => "SELECT wal_sync AS n FROM pg_stat_wal, pg_sleep(0.5)",
        Backend::Mysql => {
            "SELECT CAST(VARIABLE_VALUE AS SIGNED) AS n FROM information_schema.GLOBAL_STATUS \
             WHERE VARIABLE_NAME = 'INNODB_DATA_FSYNCS'"
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    let mut conn = AnyConnection::establish(url).ok()?;
    let rows: Vec<Count> = conn.load_with(sql, &[]).ok()?;
    rows.first().map(|row| row.n)
}
