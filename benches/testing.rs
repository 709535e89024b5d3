//! What a test pays for a fresh database at head: `pelican::testing` (a copy of a
//! template built once) against running every migration into a new database, the
//! approach of sqlx's `#[sqlx::test]`, side by side in one run.
//!
//! ```sh
//! cargo bench --all-features --bench testing
//! PELICAN_BENCH_N=200,1000 PELICAN_BENCH_RUNS=10 cargo bench --all-features --bench testing
//! ```

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{diesel_migrate, fresh, median, workload, Settings};
use diesel::connection::SimpleConnection;
use pelican::__test_support::Server;
use pelican::testing::{Harness, TEMPLATE_PREFIX};
use pelican::{AnyConnection, Backend, Migrations, Migrator, Target};

fn main() {
    let settings = Settings::from_env("200,1000", 7);
    let work = tempfile::tempdir().expect("a temporary folder");
    if part("copies") {
        copies(&settings, work.path());
    }
    if part("strategies") {
        clone_strategies(&settings, work.path());
    }
    if part("waits") {
        waits(&settings, work.path());
    }
}

/// Whether `PELICAN_BENCH_PARTS` (a list; every part when unset) asks for `name`.
fn part(name: &str) -> bool {
    std::env::var("PELICAN_BENCH_PARTS")
        .map(|parts| parts.split(',').any(|p| p.trim() == name))
        .unwrap_or(true)
}

/// A fresh database at head, each way, against re-running the migrations.
fn copies(settings: &Settings, work: &Path) {
    println!("| backend | N | a fresh database at head | median | vs re-running migrations |");
    println!("|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work, n, backend);
            let migrations = Migrations::from_dir(&dir).expect("workload");
            let harness = Harness::new(&migrations, backend);
            let start = Instant::now();
            drop(harness.database().expect("the template builds"));
            let first = start.elapsed();
            // A process's first reset of a template's database makes a new copy and
            // reads the template from it (once). The resets measured are a suite's that
            // keeps one database and resets it between tests; the first on a connection
            // also prepares its query, and is measured on its own.
            let mut kept = harness.database().expect("a test database");
            let start = Instant::now();
            kept.reset().expect("the first reset");
            let learn = start.elapsed();
            kept.reset().expect("a reset");
            // Round-robin: a clone, then a full run of the migrations, and so on.
            let mut clone = Vec::new();
            let mut memory = Vec::new();
            let mut reset = Vec::new();
            let mut untouched = Vec::new();
            let mut after_ddl = Vec::new();
            let mut first_on_connection = Vec::new();
            let mut ahead = Vec::new();
            let prepared = Harness::new(&migrations, backend).prepare_ahead(1);
            let mut rerun = Vec::new();
            let mut diesel = Vec::new();
            for _ in 0..settings.runs {
                let start = Instant::now();
                let mut db = harness.database().expect("a test database");
                clone.push(start.elapsed());
                // What a test does: a few rows written to two of the tables.
                kept.conn().batch_execute(WRITES).expect("a test's writes");
                let start = Instant::now();
                kept.reset().expect("reset");
                reset.push(start.elapsed());
                let start = Instant::now();
                kept.reset().expect("reset");
                untouched.push(start.elapsed());
                db.conn()
                    .batch_execute("CREATE TABLE made_by_a_test (id INTEGER PRIMARY KEY)")
                    .expect("a test's DDL");
                let start = Instant::now();
                db.reset().expect("reset");
                after_ddl.push(start.elapsed());
                // The new copy's connection: its first reset prepares the query.
                db.conn().batch_execute(WRITES).expect("a test's writes");
                let start = Instant::now();
                db.reset().expect("reset");
                first_on_connection.push(start.elapsed());
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
                if backend != Backend::Sqlite {
                    // The pool refills while the other cases run, as it would while a
                    // test runs.
                    let start = Instant::now();
                    let db = prepared.database().expect("a prepared database");
                    ahead.push(start.elapsed());
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
            if !ahead.is_empty() {
                line(
                    "pelican::testing, prepared ahead (pool of 1)",
                    median(ahead),
                );
            }
            line(
                "TestDatabase::reset after a test wrote rows to two tables (one database kept)",
                median(reset),
            );
            line(
                "TestDatabase::reset after a test wrote nothing",
                median(untouched),
            );
            line(
                "TestDatabase::reset after a test made a table (a new copy)",
                median(after_ddl),
            );
            line(
                "TestDatabase::reset after a test wrote rows to two tables, the first on its connection",
                median(first_on_connection),
            );
            println!(
                "| {backend} | {n} | (building the template once: {:.1} ms; the first reset in a process, which reads the template from a new copy: {:.1} ms) | | |",
                first.as_secs_f64() * 1000.0,
                learn.as_secs_f64() * 1000.0
            );
        }
    }
}

/// A test's writes: a row inserted into one table, one updated and one deleted in
/// another.
const WRITES: &str = "INSERT INTO tbl_0 (id, name) VALUES (100, 'new');\n\
                      UPDATE tbl_1 SET name = 'changed' WHERE id = 1;\n\
                      DELETE FROM tbl_1 WHERE id = 2";

/// A new database with every migration run into it by pelican.
fn migrate_fresh(migrations: &Migrations, backend: Backend) -> Duration {
    let scratch = fresh(backend);
    let mut conn = AnyConnection::establish(scratch.url()).expect("connect");
    let start = Instant::now();
    Migrator::new(migrations)
        .migrate(&mut conn, &Target::Head)
        .expect("migrate");
    start.elapsed()
}

/// A new database with every migration run into it by diesel's harness.
fn diesel_fresh(dir: &Path, backend: Backend) -> Duration {
    diesel_migrate(fresh(backend).url(), dir)
}

/// PostgreSQL's two `CREATE DATABASE` strategies for the harness's template, at the
/// first size asked for: one clone at a time (the clone timed, its drop not), and 8 at
/// once (the wall time for the 8), round-robin.
fn clone_strategies(settings: &Settings, work: &Path) {
    if !settings.backends.contains(&Backend::Postgres) {
        return;
    }
    let backend = Backend::Postgres;
    let n = settings.sizes[0];
    let migrations = Migrations::from_dir(workload(work, n, backend)).expect("workload");
    let harness = Harness::new(&migrations, backend).prepare_ahead(0);
    drop(harness.database().expect("the template builds"));
    let url = pelican::testing::server_url(backend).expect("a server");
    let mut server = Server::connect(&url).expect("the server answers");
    let template = server
        .templates(&format!("{TEMPLATE_PREFIX}{}_", harness.key()))
        .expect("the templates")
        .pop()
        .expect("the template");
    let strategies = ["WAL_LOG", "FILE_COPY"];
    let mut single = vec![Vec::new(); strategies.len()];
    let mut eight = vec![Vec::new(); strategies.len()];
    let mut dropped = vec![Vec::new(); strategies.len()];
    for run in 0..settings.runs {
        for (i, strategy) in strategies.iter().enumerate() {
            let name = format!("pelican_bench_clone_{run}");
            let sql = format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY {strategy}");
            let mut conn = AnyConnection::establish(&url).expect("connect");
            let start = Instant::now();
            conn.batch_execute(&sql).expect("clone");
            single[i].push(start.elapsed());
            let start = Instant::now();
            server.drop(&name).expect("drop");
            dropped[i].push(start.elapsed());
            let start = Instant::now();
            std::thread::scope(|scope| {
                for k in 0..8 {
                    let url = &url;
                    let template = &template;
                    scope.spawn(move || {
                        let mut conn = AnyConnection::establish(url).expect("connect");
                        conn.batch_execute(&format!(
                            "CREATE DATABASE pelican_bench_clone_{run}_{k} \
                             TEMPLATE {template} STRATEGY {strategy}"
                        ))
                        .expect("clone");
                    });
                }
            });
            eight[i].push(start.elapsed());
            for k in 0..8 {
                server
                    .drop(&format!("pelican_bench_clone_{run}_{k}"))
                    .expect("drop");
            }
        }
    }
    println!();
    println!("| backend | N | CREATE DATABASE … TEMPLATE | one clone, median | its DROP DATABASE, median | 8 at once, wall, median |");
    println!("|---|---|---|---|---|---|");
    for (i, strategy) in strategies.iter().enumerate() {
        println!(
            "| {backend} | {n} | STRATEGY {strategy} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(median(single[i].clone())),
            ms(median(dropped[i].clone())),
            ms(median(eight[i].clone()))
        );
    }
}

/// How long a test waits for its database while 8 test threads run a suite of 200
/// tests (each inserting and reading a few rows), with the pool sized to the 8 threads
/// and without one: the median and 95th percentile of the waits, and the suite's wall
/// time, at the first size asked for. The pool starts empty, as a suite's does.
fn waits(settings: &Settings, work: &Path) {
    const THREADS: usize = 8;
    const TESTS: usize = 200;
    println!();
    println!("| backend | N | 200 tests on 8 threads | wait, median | wait, p95 | wait, max | suite wall time |");
    println!("|---|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        if backend == Backend::Sqlite {
            continue;
        }
        let n = settings.sizes[0];
        let migrations = Migrations::from_dir(workload(work, n, backend)).expect("workload");
        drop(
            Harness::new(&migrations, backend)
                .prepare_ahead(0)
                .database()
                .expect("the template builds"),
        );
        // PostgreSQL: pelican's strategies (WAL_LOG for a clone a test waits for,
        // FILE_COPY for one prepared ahead), and WAL_LOG for both.
        let mut cases = vec![
            ("pool sized to the threads (the default)", THREADS, ""),
            ("no pool (prepare_ahead(0))", 0, ""),
        ];
        if backend == Backend::Postgres {
            cases.push((
                "pool sized to the threads, every clone WAL_LOG",
                THREADS,
                "WAL_LOG",
            ));
        }
        for (what, ahead, strategy) in cases {
            std::env::set_var(pelican::testing::CLONE_STRATEGY_VARIABLE, strategy);
            let harness = Harness::new(&migrations, backend).prepare_ahead(ahead);
            let waits = Mutex::new(Vec::new());
            let next = std::sync::atomic::AtomicUsize::new(0);
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    scope.spawn(|| {
                        while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < TESTS {
                            let asked = Instant::now();
                            let mut db = harness.database().expect("a test database");
                            let waited = asked.elapsed();
                            waits.lock().unwrap().push(waited);
                            a_test(&mut db);
                        }
                    });
                }
            });
            let wall = start.elapsed();
            let mut waits = waits.into_inner().unwrap();
            waits.sort();
            let at = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
            println!(
                "| {backend} | {n} | {what} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} s |",
                ms(at(0.5)),
                ms(at(0.95)),
                ms(waits[waits.len() - 1]),
                wall.as_secs_f64()
            );
        }
    }
}

/// What a test does with its database in [`waits`]: inserts three rows into a table of
/// the workload and reads them back.
fn a_test(db: &mut pelican::testing::TestDatabase) {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    db.conn()
        .batch_execute("INSERT INTO tbl_0 (id, name) VALUES (101, 'x'), (102, 'y'), (103, 'z')")
        .expect("insert");
    let rows: Vec<Count> = db
        .conn()
        .load_with("SELECT COUNT(*) AS n FROM tbl_0", &[])
        .expect("read");
    assert!(rows[0].n >= 3);
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}
