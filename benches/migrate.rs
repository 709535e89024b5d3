//! pelican against diesel's own harness and the raw SQL batch, side by side in one run.
//!
//! ```sh
//! cargo bench --all-features --bench migrate             # N = 100 and 1000, every backend
//! PELICAN_BENCH_N=100,1000,5000 PELICAN_BENCH_BACKENDS=sqlite,postgres cargo bench --all-features --bench migrate
//! ```
//!
//! The workload is `../shared/workloads/gen_migrations.py` (or `PELICAN_WORKLOAD`): N
//! migrations creating tables, adding columns and indexes, inserting rows. Each case
//! runs on a fresh database, in process, `PELICAN_BENCH_RUNS` times (default 5); the
//! table gives medians and each one's ratio to diesel's `run_pending_migrations`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use pelican::{AnyConnection, Backend, Guards, Migrations, Migrator, Target};

fn main() {
    let sizes: Vec<usize> = std::env::var("PELICAN_BENCH_N")
        .unwrap_or_else(|_| "100,1000".to_owned())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("PELICAN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let backends: Vec<Backend> = std::env::var("PELICAN_BENCH_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres,mysql".to_owned())
        .split(',')
        .filter_map(|b| match b.trim() {
            "sqlite" if cfg!(feature = "sqlite") => Some(Backend::Sqlite),
            "postgres" if cfg!(feature = "postgres") => Some(Backend::Postgres),
            "mysql" if cfg!(feature = "mysql") => Some(Backend::Mysql),
            _ => None,
        })
        .collect();
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | N | case | median | per migration | vs diesel |");
    println!("|---|---|---|---|---|---|");
    for backend in backends {
        for &n in &sizes {
            let dir = workload(work.path(), n, backend);
            let migrations = Migrations::from_dir(&dir).expect("the workload reads");
            let all_up: String = migrations
                .iter()
                .map(|m| m.up())
                .collect::<Vec<_>>()
                .join("\n");
            // The schema at head in one go, as `pelican snapshot` writes it.
            let snapshot = {
                let db = Fresh::new(backend, &format!("{n}_snapshot"));
                pelican::snapshot::Snapshot::create(&db.url, &migrations, None)
                    .expect("the snapshot")
                    .sql()
                    .to_owned()
            };
            let cases: Vec<Case<'_>> = vec![
                (
                    "diesel run_pending_migrations",
                    Box::new(|db: &Fresh| diesel_run(db, &dir)),
                ),
                (
                    "one batch_execute (floor)",
                    Box::new(|db: &Fresh| {
                        let mut conn = db.connect();
                        let start = Instant::now();
                        conn.batch_execute(&all_up).expect("the batch runs");
                        start.elapsed()
                    }),
                ),
                (
                    "pelican init (fresh database at head)",
                    Box::new(|db: &Fresh| {
                        let mut conn = db.connect();
                        let start = Instant::now();
                        pelican::Boot::new(&migrations)
                            .run(&mut conn)
                            .expect("init");
                        start.elapsed()
                    }),
                ),
                (
                    "pelican init from the snapshot",
                    Box::new(|db: &Fresh| {
                        let mut conn = db.connect();
                        let start = Instant::now();
                        let report = pelican::Boot::new(&migrations)
                            .snapshot(snapshot.as_str())
                            .run(&mut conn)
                            .expect("init");
                        let elapsed = start.elapsed();
                        assert_eq!(report.build, Some(pelican::boot::Build::Snapshot));
                        elapsed
                    }),
                ),
                (
                    "pelican migrate (guarded)",
                    Box::new(|db: &Fresh| pelican_run(db, &migrations, Guards::On)),
                ),
                (
                    "pelican migrate --no-guards",
                    Box::new(|db: &Fresh| pelican_run(db, &migrations, Guards::Off)),
                ),
            ];
            // Round-robin, so that drift in the server's state over the runs (checkpoints,
            // a growing catalog) falls on every case alike.
            let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
            for run in 0..runs {
                for (index, (_, case)) in cases.iter().enumerate() {
                    let db = Fresh::new(backend, &format!("{n}_{run}_{index}"));
                    times[index].push(case(&db));
                }
            }
            let medians: Vec<Duration> = times.into_iter().map(|t| median(t.into_iter())).collect();
            for ((name, _), median) in cases.iter().zip(&medians) {
                row(backend, n, name, *median, n, medians[0]);
            }
            // Nothing pending: the check an application makes at every boot.
            let db = Fresh::new(backend, &format!("{n}_idle"));
            diesel_run(&db, &dir);
            let diesel_idle = median((0..runs * 4).map(|_| {
                let mut conn = db.connect();
                let source = FileBasedMigrations::from_path(&dir).expect("workload");
                let start = Instant::now();
                let pending = has_pending(&mut conn, source);
                assert!(!pending);
                start.elapsed()
            }));
            row(
                backend,
                n,
                "diesel has_pending_migration, nothing pending",
                diesel_idle,
                n,
                diesel_idle,
            );
            let pelican_idle = median((0..runs * 4).map(|_| {
                let mut conn = db.connect();
                let start = Instant::now();
                let report = Migrator::new(&migrations)
                    .migrate(&mut conn, &Target::Head)
                    .expect("migrate");
                assert!(report.steps.is_empty());
                start.elapsed()
            }));
            row(
                backend,
                n,
                "pelican migrate, nothing pending",
                pelican_idle,
                n,
                diesel_idle,
            );
        }
    }
}

/// A measured case: its name, and what it does on a fresh database.
type Case<'a> = (&'a str, Box<dyn Fn(&Fresh) -> Duration + 'a>);

fn row(backend: Backend, n: usize, case: &str, median: Duration, per: usize, base: Duration) {
    println!(
        "| {backend} | {n} | {case} | {:.1} ms | {:.3} ms | {:.2}x |",
        median.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0 / per as f64,
        median.as_secs_f64() / base.as_secs_f64()
    );
}

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.collect();
    times.sort();
    times[times.len() / 2]
}

/// The shared workload for `n` migrations on `backend`, generated once.
fn workload(root: &Path, n: usize, backend: Backend) -> PathBuf {
    let dir = root.join(format!("{backend}_{n}"));
    let script = std::env::var("PELICAN_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/workloads/gen_migrations.py")
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

fn pelican_run(db: &Fresh, migrations: &Migrations, guards: Guards) -> Duration {
    let mut conn = db.connect();
    let start = Instant::now();
    let report = Migrator::new(migrations)
        .guards(guards)
        .migrate(&mut conn, &Target::Head)
        .expect("pelican migrates");
    assert_eq!(report.steps.len(), migrations.len());
    start.elapsed()
}

fn has_pending(conn: &mut AnyConnection, source: FileBasedMigrations) -> bool {
    match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => c.has_pending_migration(source).expect("diesel"),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => c.has_pending_migration(source).expect("diesel"),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => c.has_pending_migration(source).expect("diesel"),
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    }
}

fn diesel_run(db: &Fresh, dir: &Path) -> Duration {
    let mut conn = db.connect();
    let source = FileBasedMigrations::from_path(dir).expect("workload");
    let start = Instant::now();
    match &mut conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    }
    start.elapsed()
}

/// A fresh, empty database for one measurement, dropped afterwards.
struct Fresh {
    url: String,
    admin: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Fresh {
    fn new(backend: Backend, tag: &str) -> Fresh {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let name = format!("pelican_bench_{}_{tag}", std::process::id());
        let server = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                std::env::var("PELICAN_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            ),
            Backend::Mysql => Some(
                std::env::var("PELICAN_TEST_MYSQL_URL")
                    .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned()),
            ),
        };
        match server {
            None => Fresh {
                url: dir.path().join("bench.db").display().to_string(),
                admin: None,
                _dir: dir,
            },
            Some(admin) => {
                AnyConnection::establish(&admin)
                    .expect("the server answers")
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create the database");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                Fresh {
                    url: format!("{base}/{name}"),
                    admin: Some((admin.clone(), name)),
                    _dir: dir,
                }
            }
        }
    }

    fn connect(&self) -> AnyConnection {
        AnyConnection::establish(&self.url).expect("connect")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut conn) = AnyConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
            }
        }
    }
}
