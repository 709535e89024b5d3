//! pelican against diesel's own harness and the raw SQL batch, side by side in one run.
//!
//! ```sh
//! cargo bench --all-features --bench migrate             # N = 100 and 1000, every backend
//! PELICAN_BENCH_N=100,1000,5000 PELICAN_BENCH_BACKENDS=sqlite,postgres cargo bench --all-features --bench migrate
//! ```
//!
//! The workload is `benches/workloads/gen_migrations.py` (or `PELICAN_WORKLOAD`): N
//! migrations creating tables, adding columns and indexes, inserting rows. Each case
//! runs on a fresh database, in process, `PELICAN_BENCH_RUNS` times (default 5); the
//! table gives medians and each one's ratio to diesel's `run_pending_migrations`.

mod common;

use std::time::{Duration, Instant};

use common::{diesel_migrate, diesel_pending, fresh, median, server_syncs, workload, Settings};
use diesel::connection::SimpleConnection;
use pelican::scratch::Scratch;
use pelican::{AnyConnection, Backend, Guards, Migrations, Migrator, Target};

/// A measured case: its name, and what it does on a fresh database.
type Case<'a> = (&'a str, Box<dyn Fn(&Scratch) -> Duration + 'a>);

fn main() {
    let settings = Settings::from_env("100,1000", 5);
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | N | case | median | per migration | vs diesel |");
    println!("|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
            let migrations = Migrations::from_dir(&dir).expect("the workload reads");
            let all_up: String = migrations
                .iter()
                .map(|m| m.up())
                .collect::<Vec<_>>()
                .join("\n");
            // The schema at head in one go, as `pelican snapshot` writes it.
            let snapshot = {
                let db = fresh(backend);
                pelican::snapshot::Snapshot::create(db.url(), &migrations, None)
                    .expect("the snapshot")
                    .sql()
                    .to_owned()
            };
            let mut cases: Vec<Case<'_>> = vec![
                (
                    "diesel run_pending_migrations",
                    Box::new(|db: &Scratch| diesel_migrate(db.url(), &dir)),
                ),
                (
                    "one batch_execute (floor)",
                    Box::new(|db: &Scratch| {
                        let mut conn = connect(db);
                        let start = Instant::now();
                        conn.batch_execute(&all_up).expect("the batch runs");
                        start.elapsed()
                    }),
                ),
                (
                    "pelican init (fresh database at head)",
                    Box::new(|db: &Scratch| {
                        let mut conn = connect(db);
                        let start = Instant::now();
                        pelican::Boot::new(&migrations)
                            .run(&mut conn)
                            .expect("init");
                        start.elapsed()
                    }),
                ),
                (
                    "pelican init from the snapshot",
                    Box::new(|db: &Scratch| {
                        let mut conn = connect(db);
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
                    Box::new(|db: &Scratch| pelican_run(db, &migrations, Guards::On, true)),
                ),
                (
                    "pelican migrate --no-guards",
                    Box::new(|db: &Scratch| pelican_run(db, &migrations, Guards::Off, true)),
                ),
                (
                    "pelican migrate --no-atomic (a commit per migration)",
                    Box::new(|db: &Scratch| pelican_run(db, &migrations, Guards::On, false)),
                ),
            ];
            if backend == Backend::Sqlite {
                // SQLite commits (and syncs) each statement of a plain batch; this is the
                // floor without that, and the shape of SQLite's own growth with N.
                // PostgreSQL runs a batch in one transaction already, and MySQL commits
                // each DDL statement whatever it is sent in.
                cases.insert(
                    2,
                    (
                        "the batch in one transaction (SQLite's floor)",
                        Box::new(|db: &Scratch| {
                            let mut conn = connect(db);
                            let start = Instant::now();
                            conn.batch_execute(&format!("BEGIN;\n{all_up}\n;COMMIT;"))
                                .expect("the batch runs");
                            start.elapsed()
                        }),
                    ),
                );
            }
            // Round-robin, so that drift in the server's state over the runs (checkpoints,
            // a growing catalog) falls on every case alike.
            let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
            for _ in 0..settings.runs {
                for (index, (_, case)) in cases.iter().enumerate() {
                    times[index].push(case(&fresh(backend)));
                }
            }
            let medians: Vec<Duration> = times.into_iter().map(median).collect();
            for ((name, _), median) in cases.iter().zip(&medians) {
                row(backend, n, name, *median, n, medians[0]);
            }
            // Log syncs per migration: what a busy machine's timings blur, counted.
            let syncs = |name: &str| {
                let (_, case) = cases.iter().find(|(case, _)| *case == name)?;
                let db = fresh(backend);
                let before = server_syncs(db.url())?;
                case(&db);
                Some((server_syncs(db.url())? - before) as f64 / n as f64)
            };
            let diesel_syncs = syncs("diesel run_pending_migrations");
            let pelican_syncs = syncs("pelican migrate (guarded)");
            if let (Some(diesel), Some(pelican)) = (diesel_syncs, pelican_syncs) {
                println!(
                    "| {backend} | {n} | log syncs per migration: diesel {diesel:.2}, \
                     pelican migrate (guarded) {pelican:.2} | | | {:.2}x |",
                    pelican / diesel
                );
            }
            // Nothing pending: the check an application makes at every boot.
            let db = fresh(backend);
            diesel_migrate(db.url(), &dir);
            let diesel_idle = median((0..settings.runs * 4).map(|_| {
                let (time, pending) = diesel_pending(db.url(), &dir);
                assert!(!pending);
                time
            }));
            row(
                backend,
                n,
                "diesel has_pending_migration, nothing pending",
                diesel_idle,
                n,
                diesel_idle,
            );
            let pelican_idle = median((0..settings.runs * 4).map(|_| {
                let mut conn = connect(&db);
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

fn connect(db: &Scratch) -> AnyConnection {
    AnyConnection::establish(db.url()).expect("connect")
}

fn row(backend: Backend, n: usize, case: &str, median: Duration, per: usize, base: Duration) {
    println!(
        "| {backend} | {n} | {case} | {:.1} ms | {:.3} ms | {:.2}x |",
        median.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0 / per as f64,
        median.as_secs_f64() / base.as_secs_f64()
    );
}

fn pelican_run(db: &Scratch, migrations: &Migrations, guards: Guards, atomic: bool) -> Duration {
    let mut conn = connect(db);
    let start = Instant::now();
    let report = Migrator::new(migrations)
        .guards(guards)
        .atomic(atomic)
        .migrate(&mut conn, &Target::Head)
        .expect("pelican migrates");
    assert_eq!(report.steps.len(), migrations.len());
    start.elapsed()
}
