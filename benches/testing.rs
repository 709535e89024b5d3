//! What a test pays for a fresh database at head: `pelican::testing` (a copy of a
//! template built once) against running every migration into a new database, the
//! approach of sqlx's `#[sqlx::test]`, side by side in one run.
//!
//! ```sh
//! cargo bench --all-features --bench testing
//! PELICAN_BENCH_N=200,1000 PELICAN_BENCH_RUNS=10 cargo bench --all-features --bench testing
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use pelican::scratch::Scratch;
use pelican::testing::Harness;
use pelican::{AnyConnection, Backend, Migrations, Migrator, Target};

fn main() {
    let sizes: Vec<usize> = env_list("PELICAN_BENCH_N", "200,1000")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let runs: usize = std::env::var("PELICAN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let backends: Vec<Backend> = env_list("PELICAN_BENCH_BACKENDS", "sqlite,postgres,mysql")
        .iter()
        .filter_map(|b| match b.as_str() {
            "sqlite" if cfg!(feature = "sqlite") => Some(Backend::Sqlite),
            "postgres" if cfg!(feature = "postgres") => Some(Backend::Postgres),
            "mysql" if cfg!(feature = "mysql") => Some(Backend::Mysql),
            _ => None,
        })
        .collect();
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | N | a fresh database at head | median | vs re-running migrations |");
    println!("|---|---|---|---|---|");
    for backend in backends {
        for &n in &sizes {
            let dir = workload(work.path(), n, backend);
            let migrations = Migrations::from_dir(&dir).expect("workload");
            let harness = Harness::new(&migrations, backend);
            let start = Instant::now();
            drop(harness.database().expect("the template builds"));
            let first = start.elapsed();
            // Round-robin: a clone, then a full run of the migrations, and so on.
            let mut clone = Vec::new();
            let mut memory = Vec::new();
            let mut reset = Vec::new();
            let mut rerun = Vec::new();
            let mut diesel = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                let mut db = harness.database().expect("a test database");
                clone.push(start.elapsed());
                let start = Instant::now();
                db.reset().expect("reset");
                reset.push(start.elapsed());
                drop(db);
                if backend == Backend::Sqlite {
                    let start = Instant::now();
                    let db = Harness::new(&migrations, backend)
                        .in_memory()
                        .database()
                        .expect("memory");
                    memory.push(start.elapsed());
                    drop(db);
                }
                rerun.push(migrate_fresh(&migrations, backend));
                diesel.push(diesel_fresh(&dir, backend));
            }
            let base = median(diesel);
            let line = |what: &str, time: Duration| {
                println!(
                    "| {backend} | {n} | {what} | {:.1} ms | {:.1}x faster |",
                    time.as_secs_f64() * 1000.0,
                    base.as_secs_f64() / time.as_secs_f64()
                );
            };
            println!(
                "| {backend} | {n} | every migration into a new database, diesel's run_pending_migrations (sqlx's way) | {:.1} ms | 1.0x |",
                base.as_secs_f64() * 1000.0
            );
            line(
                "every migration into a new database, pelican migrate",
                median(rerun),
            );
            line("pelican::testing, template copy", median(clone));
            if !memory.is_empty() {
                line("pelican::testing, in memory", median(memory));
            }
            line(
                "TestDatabase::reset (recreate from the template)",
                median(reset),
            );
            println!(
                "| {backend} | {n} | (building the template once: {:.1} ms) | | |",
                first.as_secs_f64() * 1000.0
            );
        }
    }
}

/// A new, empty database on the test server (or a SQLite file).
fn scratch(backend: Backend) -> Scratch {
    let url = pelican::testing::server_url(backend).unwrap_or_else(|| "bench.db".to_owned());
    Scratch::create(&url, None).expect("a scratch database")
}

/// A new database with every migration run into it by pelican.
fn migrate_fresh(migrations: &Migrations, backend: Backend) -> Duration {
    let scratch = scratch(backend);
    let mut conn = AnyConnection::establish(scratch.url()).expect("connect");
    let start = Instant::now();
    Migrator::new(migrations)
        .migrate(&mut conn, &Target::Head)
        .expect("migrate");
    start.elapsed()
}

/// A new database with every migration run into it by diesel's harness.
fn diesel_fresh(dir: &Path, backend: Backend) -> Duration {
    let scratch = scratch(backend);
    let source = FileBasedMigrations::from_path(dir).expect("workload");
    let start = Instant::now();
    match AnyConnection::establish(scratch.url()).expect("connect") {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(mut c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(mut c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(mut c) => drop(c.run_pending_migrations(source).expect("diesel")),
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    }
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

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
