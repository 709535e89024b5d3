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
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use common::{diesel_migrate, fresh, median, workload, Settings};
use pelican::testing::Harness;
use pelican::{AnyConnection, Backend, Migrations, Migrator, Target};

fn main() {
    let settings = Settings::from_env("200,1000", 7);
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | N | a fresh database at head | median | vs re-running migrations |");
    println!("|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
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
