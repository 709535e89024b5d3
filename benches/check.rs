//! `pelican check` against `pelican migrate` of the same migrations, side by side in
//! one run: the check must grow as the migrations do, not faster.
//!
//! ```sh
//! cargo bench --all-features --bench check             # N = 200 and 1000, every backend
//! PELICAN_BENCH_N=1000,5000 PELICAN_BENCH_BACKENDS=sqlite,postgres cargo bench --all-features --bench check
//! ```
//!
//! The workload is `benches/workloads/gen_migrations.py` (or `PELICAN_WORKLOAD`). Each
//! run migrates a fresh database to head (the guarded `migrate`, in process), then checks
//! it (no snapshot); `PELICAN_BENCH_RUNS` runs (default 1: a check of thousands of
//! migrations takes a while), medians. Besides the times, the table counts the queries
//! the check sent per migration and where its time went: reading the scratch database's
//! catalog, counting its rows, and everything else (the migrator's runs, the scratch
//! databases, the live database).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{fresh, median, workload, Settings};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use pelican::{AnyConnection, Check, Migrations, Migrator, Target};

/// Whether queries are being counted (only during a check).
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Queries counted, by kind: how many, and how long they took.
static COUNTED: Mutex<Tally> = Mutex::new(Tally::new());
/// With `PELICAN_BENCH_QUERIES` set: every query's first 70 characters, how many
/// times it ran and how long it took, printed after the table.
static EACH: Mutex<BTreeMap<String, (u64, Duration)>> = Mutex::new(BTreeMap::new());

#[derive(Clone, Copy)]
struct Tally {
    /// Catalog reads, row counts, everything else.
    queries: [u64; 3],
    time: [Duration; 3],
}

impl Tally {
    const fn new() -> Tally {
        Tally {
            queries: [0; 3],
            time: [Duration::ZERO; 3],
        }
    }
}

/// Sorts each query a connection sends into one of the tally's kinds, by its text.
#[derive(Default)]
struct Counter {
    started: Option<(Instant, usize, Option<String>)>,
}

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if !COUNTING.load(Ordering::Relaxed) {
            return;
        }
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let head = text.get(..200).unwrap_or(&text);
                // PostgreSQL's scoped read runs prepared (`EXECUTE`), after a look
                // at whether the session has prepared it; MariaDB's lists the
                // relations first.
                let kind = if head.contains(" AS kind")
                    || head.starts_with("WITH ns AS")
                    || head.starts_with("EXECUTE pelican_scoped_read")
                    || head.contains("pg_prepared_statements")
                    || head.contains("FROM sqlite_master")
                    || head.contains("CAST(table_type = 'SEQUENCE' AS SIGNED) AS n")
                {
                    0
                } else if head.contains("COUNT(*) AS n") {
                    1
                } else {
                    2
                };
                let each = std::env::var_os("PELICAN_BENCH_QUERIES").map(|_| {
                    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    text.chars().take(70).collect()
                });
                self.started = Some((Instant::now(), kind, each));
            }
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((start, kind, each)) = self.started.take() {
                    let took = start.elapsed();
                    if let Ok(mut tally) = COUNTED.lock() {
                        tally.queries[kind] += 1;
                        tally.time[kind] += took;
                    }
                    if let (Some(text), Ok(mut each)) = (each, EACH.lock()) {
                        let entry = each.entry(text).or_default();
                        entry.0 += 1;
                        entry.1 += took;
                    }
                }
            }
            _ => {}
        }
    }
}

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(Counter::default()))
}

fn main() {
    let settings = Settings::from_env("200,1000", 1);
    set_default_instrumentation(counter).expect("instrumentation");
    let work = tempfile::tempdir().expect("a temporary folder");
    println!(
        "| backend | N | migrate | check | check / migrate | queries per migration \
         (catalog + rows + other) | catalog | rows | other queries | the rest |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
            let migrations = Migrations::from_dir(&dir).expect("the workload reads");
            let mut migrates = Vec::new();
            let mut checks = Vec::new();
            let mut tally = Tally::new();
            for _ in 0..settings.runs.max(1) {
                let db = fresh(backend);
                let mut conn = AnyConnection::establish(db.url()).expect("connect");
                let start = Instant::now();
                Migrator::new(&migrations)
                    .migrate(&mut conn, &Target::Head)
                    .expect("pelican migrates");
                migrates.push(start.elapsed());
                drop(conn);
                *COUNTED.lock().expect("the tally") = Tally::new();
                COUNTING.store(true, Ordering::Relaxed);
                let start = Instant::now();
                let report = Check::new(&migrations).run(db.url()).expect("check runs");
                checks.push(start.elapsed());
                COUNTING.store(false, Ordering::Relaxed);
                assert!(report.ok(), "{:?}", report.findings);
                assert_eq!(report.round_trip, n);
                tally = *COUNTED.lock().expect("the tally");
            }
            let (migrate, check) = (median(migrates), median(checks));
            let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
            let per = |q: u64| q as f64 / n as f64;
            println!(
                "| {backend} | {n} | {} | {} | {:.1}x | {:.1} ({:.1} + {:.1} + {:.1}) | {} | {} | {} | {} |",
                secs(migrate),
                secs(check),
                check.as_secs_f64() / migrate.as_secs_f64(),
                per(tally.queries.iter().sum()),
                per(tally.queries[0]),
                per(tally.queries[1]),
                per(tally.queries[2]),
                secs(tally.time[0]),
                secs(tally.time[1]),
                secs(tally.time[2]),
                secs(check.saturating_sub(tally.time.iter().sum())),
            );
            let mut each: Vec<(String, (u64, Duration))> =
                std::mem::take(&mut *EACH.lock().expect("the queries"))
                    .into_iter()
                    .collect();
            each.sort_by_key(|(_, (_, took))| std::cmp::Reverse(*took));
            for (text, (count, took)) in each.iter().take(25) {
                eprintln!("{:>8.3} s {count:>7}  {text}", took.as_secs_f64());
            }
        }
    }
}
