//! Atomic runs against a commit per migration and diesel's own harness, in process, on
//! fresh databases, round-robin: the shared workload and the crates.io history
//! (`tests/corpora/crates.io`, PostgreSQL only).
//!
//! ```sh
//! PELICAN_BENCH_N=1000 PELICAN_BENCH_BACKENDS=postgres cargo bench --all-features --bench atomic
//! ```
//!
//! `PELICAN_BENCH_N` (default `1000`), `PELICAN_BENCH_BACKENDS` (default every one) and
//! `PELICAN_BENCH_RUNS` (default 5) as in `benches/migrate.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{diesel_migrate, fresh, median, workload, Settings};
use pelican::scratch::Scratch;
use pelican::{AnyConnection, Backend, Migrations, Migrator, Target};

/// A measured case: its name, and what it does on a fresh database.
type Case<'a> = (&'a str, Box<dyn Fn(&Scratch) -> Duration + 'a>);

fn main() {
    let mut settings = Settings::from_env("1000", 5);
    if std::env::var_os("PELICAN_BENCH_BACKENDS").is_none() {
        settings.backends = vec![Backend::Postgres];
    }
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | history | N | case | median | vs diesel |");
    println!("|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        let mut histories: Vec<(String, PathBuf)> = settings
            .sizes
            .iter()
            .map(|&n| ("workload".to_owned(), workload(work.path(), n, backend)))
            .collect();
        if backend == Backend::Postgres {
            let crates =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora/crates.io/migrations");
            histories.push(("crates.io".to_owned(), crates));
        }
        for (name, dir) in &histories {
            let migrations = Migrations::from_dir(dir).expect("the history reads");
            let cases: [Case<'_>; 3] = [
                (
                    "diesel run_pending_migrations",
                    Box::new(|db| diesel_migrate(db.url(), dir)),
                ),
                (
                    "pelican migrate (atomic)",
                    Box::new(|db| pelican(db, &migrations, true)),
                ),
                (
                    "pelican migrate --no-atomic",
                    Box::new(|db| pelican(db, &migrations, false)),
                ),
            ];
            let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
            for _ in 0..settings.runs {
                for (index, (_, case)) in cases.iter().enumerate() {
                    times[index].push(case(&fresh(backend)));
                }
            }
            let medians: Vec<Duration> = times.into_iter().map(median).collect();
            for ((case, _), time) in cases.iter().zip(&medians) {
                println!(
                    "| {backend} | {name} | {} | {case} | {:.1} ms | {:.2}x |",
                    migrations.len(),
                    time.as_secs_f64() * 1000.0,
                    time.as_secs_f64() / medians[0].as_secs_f64()
                );
            }
        }
    }
}

fn pelican(db: &Scratch, migrations: &Migrations, atomic: bool) -> Duration {
    let mut conn = AnyConnection::establish(db.url()).expect("connect");
    let start = Instant::now();
    let report = Migrator::new(migrations)
        .atomic(atomic)
        .migrate(&mut conn, &Target::Head)
        .expect("pelican migrates");
    let elapsed = start.elapsed();
    assert_eq!(report.steps.len(), migrations.len());
    elapsed
}
