//! A whole suite, side by side: the same 200 tests (each inserting three rows and
//! reading them back) on 8 threads, four ways: every migration into a new database per
//! test (sqlx's `#[sqlx::test]` way), one shared database with each test in a
//! transaction rolled back (diesel's `begin_test_transaction`), pelican's fresh
//! databases, and pelican's resets of one database per thread.
//!
//! ```sh
//! cargo bench --all-features --bench suite
//! PELICAN_BENCH_N=200 PELICAN_BENCH_BACKENDS=postgres cargo bench --all-features --bench suite
//! ```

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{diesel_migrate, fresh, workload, Settings};
use diesel::connection::SimpleConnection;
use pelican::testing::Harness;
use pelican::{AnyConnection, Backend, Migrations};

const THREADS: usize = 8;
const TESTS: usize = 200;

fn main() {
    let settings = Settings::from_env("200", 1);
    let work = tempfile::tempdir().expect("a temporary folder");
    println!(
        "| backend | N | 200 tests on 8 threads | suite wall time | vs transactions rolled back |"
    );
    println!("|---|---|---|---|---|");
    for &backend in &settings.backends {
        if backend == Backend::Sqlite {
            continue;
        }
        let n = settings.sizes[0];
        let dir = workload(work.path(), n, backend);
        let migrations = Migrations::from_dir(&dir).expect("workload");
        // The template is built before any way is timed: a suite builds it once.
        drop(
            Harness::new(&migrations, backend)
                .prepare_ahead(0)
                .database()
                .expect("template"),
        );
        let rollback = transactions(backend, &dir);
        let ways = [
            (
                "every migration into a new database per test (sqlx's way)",
                remigrating(backend, &dir),
            ),
            (
                "one shared database, each test rolled back (begin_test_transaction)",
                rollback,
            ),
            (
                "pelican::testing, a fresh database per test",
                fresh_databases(&migrations, backend),
            ),
            (
                "pelican::testing, one database per thread, reset between tests",
                resets(&migrations, backend),
            ),
        ];
        for (what, wall) in ways {
            println!(
                "| {backend} | {n} | {what} | {:.2} s | {:.2}x |",
                wall.as_secs_f64(),
                wall.as_secs_f64() / rollback.as_secs_f64()
            );
        }
    }
}

/// Runs `TESTS` tests on `THREADS` threads, each thread setting up with `start` and
/// running each of its tests with `test` (given the test's number), and times it all.
fn suite<S>(start: impl Fn() -> S + Sync, test: impl Fn(&mut S, usize) + Sync) -> Duration {
    let next = AtomicUsize::new(0);
    let begun = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let mut state = start();
                loop {
                    let number = next.fetch_add(1, Ordering::SeqCst);
                    if number >= TESTS {
                        break;
                    }
                    test(&mut state, number);
                }
            });
        }
    });
    begun.elapsed()
}

/// A test's body: three rows of its own into a table of the workload, read back.
fn body(conn: &mut AnyConnection, number: usize) {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let first = 1000 + number * 3;
    conn.batch_execute(&format!(
        "INSERT INTO tbl_0 (id, name) VALUES ({first}, 'x'), ({}, 'y'), ({}, 'z')",
        first + 1,
        first + 2
    ))
    .expect("insert");
    let rows: Vec<Count> = conn
        .load_with(
            &format!(
                "SELECT COUNT(*) AS n FROM tbl_0 WHERE id >= {first} AND id < {}",
                first + 3
            ),
            &[],
        )
        .expect("read");
    assert_eq!(rows[0].n, 3);
}

fn remigrating(backend: Backend, dir: &Path) -> Duration {
    suite(
        || (),
        |(), number| {
            let db = fresh(backend);
            diesel_migrate(db.url(), dir);
            body(
                &mut AnyConnection::establish(db.url()).expect("connect"),
                number,
            );
        },
    )
}

fn transactions(backend: Backend, dir: &Path) -> Duration {
    let db = fresh(backend);
    let begun = Instant::now();
    diesel_migrate(db.url(), dir);
    let migrated = begun.elapsed();
    migrated
        + suite(
            || AnyConnection::establish(db.url()).expect("connect"),
            |conn, number| {
                conn.batch_execute("BEGIN").expect("begin");
                body(conn, number);
                conn.batch_execute("ROLLBACK").expect("rollback");
            },
        )
}

fn fresh_databases(migrations: &Migrations, backend: Backend) -> Duration {
    let harness = Harness::new(migrations, backend).prepare_ahead(THREADS);
    suite(
        || (),
        |(), number| {
            let mut db = harness.database().expect("a test database");
            body(db.conn(), number);
        },
    )
}

fn resets(migrations: &Migrations, backend: Backend) -> Duration {
    let harness = Harness::new(migrations, backend).prepare_ahead(0);
    suite(
        || (harness.database().expect("a test database"), false),
        |(db, used), number| {
            if *used {
                db.reset().expect("reset");
            }
            *used = true;
            body(db.conn(), number);
        },
    )
}
