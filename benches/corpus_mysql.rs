//! MariaDB's real histories from empty: vaultwarden's 55 MySQL migrations
//! (`tests/corpora/vaultwarden`) and syncstorage-rs's two (`tests/corpora/syncstorage-rs`,
//! 6 and 9), diesel's harness against pelican's `Migrator`, each on a connection with
//! foreign key checks off, as vaultwarden runs its history (with them on, MariaDB
//! refuses its first migration, so diesel CLI's `migration run` cannot be the
//! reference: see the corpus's README). `PELICAN_BENCH_HISTORIES` (`vaultwarden`,
//! `syncstorage`, `tokenserver`, comma-separated) chooses; all three by default. Interleaved runs on fresh databases; medians of
//! the time, and counts that a busy machine does not blur: the statements the server
//! received from the session (`Questions`), and the server's log syncs and log writes
//! (`Innodb_data_fsyncs`, `Innodb_log_writes`) over the run; MariaDB 10.11 has no
//! `Innodb_os_log_fsyncs`, and its binary log is off here. Round trips are not a
//! server counter: docs/benchmarks.md counts them in the general log.
//!
//! ```sh
//! cargo bench --all-features --bench corpus_mysql     # PELICAN_BENCH_RUNS, default 11
//! ```
//!
//! The log counters are the server's: another client's work at the same moment counts
//! too, so the table gives each count's minimum over the runs beside its median.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{fresh, median};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use pelican::{AnyConnection, Backend, Database, Migrations, Migrator, Target};

/// What vaultwarden's `run_migrations` does before diesel's harness runs.
const CHECKS_OFF: &str = "SET FOREIGN_KEY_CHECKS = 0";

/// One run's cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    time: Duration,
    questions: i64,
    syncs: i64,
    log_writes: i64,
}

#[derive(diesel::QueryableByName)]
struct Status {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The server's counters, read on a connection of its own.
fn counters(url: &str) -> (i64, i64) {
    let mut conn = AnyConnection::establish(url).expect("a connection");
    let rows: Vec<Status> = conn
        .load_with(
            "SELECT CAST(VARIABLE_NAME AS CHAR) AS name, CAST(VARIABLE_VALUE AS SIGNED) AS n \
             FROM information_schema.GLOBAL_STATUS \
             WHERE VARIABLE_NAME IN ('INNODB_DATA_FSYNCS', 'INNODB_LOG_WRITES')",
            &[],
        )
        .expect("the server's status");
    let get = |name: &str| {
        rows.iter()
            .find(|row| row.name.eq_ignore_ascii_case(name))
            .map_or(0, |row| row.n)
    };
    (get("INNODB_DATA_FSYNCS"), get("INNODB_LOG_WRITES"))
}

/// The statements this session sent, less the one that asks.
fn questions<C: Database>(conn: &mut C) -> i64 {
    let rows: Vec<Status> = conn
        .load_with(
            "SELECT CAST(VARIABLE_NAME AS CHAR) AS name, CAST(VARIABLE_VALUE AS SIGNED) AS n \
             FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'QUESTIONS'",
            &[],
        )
        .expect("the session's status");
    rows.first().map_or(0, |row| row.n - 1)
}

/// Runs `f` on a fresh database and measures it.
fn measured(f: impl FnOnce(&str) -> (Duration, i64)) -> Cost {
    let db = fresh(Backend::Mysql);
    let (syncs, writes) = counters(db.url());
    let (time, questions) = f(db.url());
    let (syncs_after, writes_after) = counters(db.url());
    Cost {
        time,
        questions,
        syncs: syncs_after - syncs,
        log_writes: writes_after - writes,
    }
}

fn diesel_run(url: &str, dir: &Path, count: usize) -> (Duration, i64) {
    let source = FileBasedMigrations::from_path(dir).expect("diesel reads the corpus");
    let start = Instant::now();
    let mut conn = diesel::MysqlConnection::establish(url).expect("diesel connects");
    conn.batch_execute(CHECKS_OFF).expect("checks off");
    let ran = conn
        .run_pending_migrations(source)
        .expect("diesel runs the history")
        .len();
    let time = start.elapsed();
    assert_eq!(ran, count);
    let mut conn = AnyConnection::Mysql(conn);
    (time, questions(&mut conn))
}

fn pelican_run(url: &str, dir: &Path, count: usize) -> (Duration, i64) {
    let start = Instant::now();
    let migrations = Migrations::from_dir(dir).expect("pelican reads the corpus");
    let mut conn = AnyConnection::establish(url).expect("pelican connects");
    conn.batch_execute(CHECKS_OFF).expect("checks off");
    let report = Migrator::new(&migrations)
        .migrate(&mut conn, &Target::Head)
        .expect("pelican runs the history");
    let time = start.elapsed();
    assert_eq!(report.steps.len(), count);
    (time, questions(&mut conn))
}

fn main() {
    let runs: usize = std::env::var("PELICAN_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(11);
    if pelican::testing::server_url(Backend::Mysql).is_none() {
        println!("no MariaDB/MySQL server: nothing to measure");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora");
    let histories = [
        ("vaultwarden", root.join("vaultwarden/migrations"), 55),
        (
            "syncstorage",
            root.join("syncstorage-rs/syncstorage-mysql/migrations"),
            6,
        ),
        (
            "tokenserver",
            root.join("syncstorage-rs/tokenserver-mysql/migrations"),
            9,
        ),
    ];
    let only = std::env::var("PELICAN_BENCH_HISTORIES").unwrap_or_default();
    for (name, dir, count) in &histories {
        if !only.is_empty() && !only.split(',').any(|h| h.trim() == *name) {
            continue;
        }
        compare(name, dir, *count, runs);
    }
}

/// Runs one history `runs` times each way, alternating, and prints its table.
fn compare(name: &str, dir: &Path, migrations: usize, runs: usize) {
    let mut diesel = Vec::new();
    let mut pelican = Vec::new();
    for run in 0..runs {
        // Alternate who goes first, so that the machine's drift falls on both alike.
        if run % 2 == 0 {
            diesel.push(measured(|url| diesel_run(url, dir, migrations)));
            pelican.push(measured(|url| pelican_run(url, dir, migrations)));
        } else {
            pelican.push(measured(|url| pelican_run(url, dir, migrations)));
            diesel.push(measured(|url| diesel_run(url, dir, migrations)));
        }
    }
    println!("{name}, {migrations} MySQL migrations from empty, MariaDB, {runs} runs each");
    println!();
    println!("| | diesel's harness | pelican migrate | vs diesel |");
    println!("|---|---|---|---|");
    let time = |costs: &[Cost]| median(costs.iter().map(|c| c.time));
    let (d, p) = (time(&diesel), time(&pelican));
    println!(
        "| time (median) | {:.1} ms | {:.1} ms | {:.2}x |",
        d.as_secs_f64() * 1e3,
        p.as_secs_f64() * 1e3,
        p.as_secs_f64() / d.as_secs_f64()
    );
    let per = migrations as f64;
    let count = |label: &str, of: fn(&Cost) -> i64| {
        let stats = |costs: &[Cost]| {
            let mut counts: Vec<i64> = costs.iter().map(of).collect();
            counts.sort_unstable();
            (counts[0], counts[counts.len() / 2])
        };
        let ((d_min, d_median), (p_min, p_median)) = (stats(&diesel), stats(&pelican));
        println!(
            "| {label} per migration (min; median) | {:.2}; {:.2} | {:.2}; {:.2} | {:.2}x |",
            d_min as f64 / per,
            d_median as f64 / per,
            p_min as f64 / per,
            p_median as f64 / per,
            p_min as f64 / d_min.max(1) as f64
        );
    };
    count("statements (`Questions`)", |c| c.questions);
    count("log syncs (`Innodb_data_fsyncs`)", |c| c.syncs);
    count("log writes (`Innodb_log_writes`)", |c| c.log_writes);
    println!();
}
