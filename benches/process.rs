//! Whole processes, side by side: `pelican current` and `history` (diesel CLI's
//! `migration list` when it is installed), `pelican init` against the database's own
//! client replaying every `up.sql` in one batch (`sqlite3`, `psql -1 -f`, `mariadb`),
//! and the peak memory of `pelican init` against diesel's harness
//! (`examples/diesel_harness.rs`).
//!
//! ```sh
//! cargo build --release --all-features --bin pelican --example diesel_harness
//! cargo bench --all-features --bench process
//! ```
//!
//! `PELICAN_BENCH_N` (default `100,1000,5000`), `PELICAN_BENCH_BACKENDS`,
//! `PELICAN_BENCH_RUNS` (default 5) as in `benches/migrate.rs`. Peak memory is GNU
//! time's maximum resident set size.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fresh, median, which, workload, Settings};
use pelican::Backend;

fn main() {
    let settings = Settings::from_env("100,1000,5000", 5);
    let (sizes, runs) = (&settings.sizes, settings.runs);
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release");
    let pelican = release.join("pelican");
    let diesel = release.join("examples/diesel_harness");
    if !pelican.is_file() || !diesel.is_file() {
        eprintln!(
            "build the binaries first: cargo build --release --all-features --bin pelican --example diesel_harness"
        );
        std::process::exit(2);
    }
    let diesel_cli = which("diesel");
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | N | what | median | per migration | vs diesel |");
    println!("|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in sizes {
            let dir = workload(work.path(), n, backend);
            let db = fresh(backend);
            let run = |args: &[&str]| {
                let status = Command::new(&pelican)
                    .args(["-q", "--database-url", db.url(), "--migration-dir"])
                    .arg(&dir)
                    .args(args)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("pelican runs");
                assert!(status.success(), "pelican {args:?} failed");
            };
            run(&["migrate"]);
            let diesel_list = || {
                let cli = diesel_cli.as_ref()?;
                let start = Instant::now();
                let status = Command::new(cli)
                    .args([
                        "migration",
                        "list",
                        "--database-url",
                        db.url(),
                        "--migration-dir",
                    ])
                    .arg(&dir)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("diesel runs");
                assert!(status.success(), "diesel migration list failed");
                Some(start.elapsed())
            };
            // Once each unmeasured: right after a large migrate the server is still
            // busy writing it out, and the first command would carry that.
            run(&["current"]);
            diesel_list();
            for command in ["current", "history"] {
                // Interleaved, and three times the runs: a process takes milliseconds, and
                // the machine's noise is of the same size.
                let mut pelican_times = Vec::new();
                let mut diesel_times = Vec::new();
                for _ in 0..runs * 3 {
                    let start = Instant::now();
                    run(&[command]);
                    pelican_times.push(start.elapsed());
                    diesel_times.extend(diesel_list());
                }
                let time = median(pelican_times);
                if diesel_times.is_empty() {
                    row_no_peer(
                        backend,
                        n,
                        &format!("pelican {command} (diesel CLI not installed)"),
                        time,
                        n,
                    );
                } else {
                    let base = median(diesel_times);
                    row(backend, n, "diesel migration list", base, n, base);
                    row(backend, n, &format!("pelican {command}"), time, n, base);
                }
            }
            drop(db);
            // `init` against the database's own client replaying the SQL in one batch.
            let all_up = dir.join("all_up.sql");
            let sql: String = std::fs::read_dir(&dir)
                .map(|entries| {
                    let mut folders: Vec<PathBuf> = entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect();
                    folders.sort();
                    folders
                        .iter()
                        .filter_map(|f| std::fs::read_to_string(f.join("up.sql")).ok())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            std::fs::write(&all_up, sql).expect("write the batch");
            let mut client_times = Vec::new();
            let mut init_times = Vec::new();
            for _ in 0..runs {
                let db = fresh(backend);
                client_times.push(client_batch(backend, db.url(), &all_up));
                drop(db);
                let db = fresh(backend);
                let start = Instant::now();
                let status = Command::new(&pelican)
                    .args(["-q", "--database-url", db.url(), "--migration-dir"])
                    .arg(&dir)
                    .arg("init")
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("pelican runs");
                assert!(status.success(), "pelican init failed");
                init_times.push(start.elapsed());
            }
            let client = median(client_times);
            let client_name = match backend {
                Backend::Sqlite => "sqlite3 < all.sql (the client's one batch)",
                Backend::Postgres => "psql -1 -f all.sql (the client's one batch)",
                Backend::Mysql => "mariadb < all.sql (the client's one batch)",
                other => unimplemented!("{other:?}: a backend these tests do not know"),
            };
            row(backend, n, client_name, client, n, client);
            row(
                backend,
                n,
                "pelican init (whole process)",
                median(init_times),
                n,
                client,
            );
            if n == *sizes.iter().max().unwrap_or(&n) {
                let peak_diesel = peak_kib(backend, &diesel, &[], &dir);
                let peak_pelican = peak_kib(backend, &pelican, &["-q", "init"], &dir);
                println!(
                    "| {backend} | {n} | peak memory: diesel harness {} MiB, pelican init {} MiB | | | {:.2}x |",
                    peak_diesel / 1024,
                    peak_pelican / 1024,
                    peak_pelican as f64 / peak_diesel as f64
                );
            }
        }
    }
}

/// The database's own command-line client running one file of SQL, as a process.
fn client_batch(backend: Backend, url: &str, file: &Path) -> Duration {
    let mut command = match backend {
        Backend::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.arg(url);
            c
        }
        Backend::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, "-f"])
                .arg(file);
            c
        }
        Backend::Mysql => {
            let name = url.rsplit('/').next().unwrap_or_default();
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-uroot", name]);
            c
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    if backend != Backend::Postgres {
        command.stdin(std::fs::File::open(file).expect("the batch file"));
    }
    let start = Instant::now();
    let status = command
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the client runs");
    assert!(status.success(), "the {backend} client failed");
    start.elapsed()
}

fn row(backend: Backend, n: usize, what: &str, median: Duration, per: usize, base: Duration) {
    println!(
        "| {backend} | {n} | {what} | {:.1} ms | {:.4} ms | {:.2}x |",
        median.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0 / per as f64,
        median.as_secs_f64() / base.as_secs_f64()
    );
}

fn row_no_peer(backend: Backend, n: usize, what: &str, median: Duration, per: usize) {
    println!(
        "| {backend} | {n} | {what} | {:.1} ms | {:.4} ms | |",
        median.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0 / per as f64,
    );
}

/// The peak resident memory, in KiB, of a process building a fresh database.
fn peak_kib(backend: Backend, program: &Path, args: &[&str], dir: &Path) -> u64 {
    let db = fresh(backend);
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%M"]).arg(program);
    if args.is_empty() {
        command.arg(db.url()).arg(dir);
    } else {
        command
            .args(["--database-url", db.url(), "--migration-dir"])
            .arg(dir)
            .args(args);
    }
    let output = command.output().expect("GNU time runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("GNU time prints the peak")
}
