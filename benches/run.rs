//! `pelican migrate` against diesel CLI's `migration run`, whole processes on fresh
//! databases, interleaved so that the machine's drift falls on both alike: the shared
//! workload, on PostgreSQL the crates.io history (`tests/corpora/crates.io`), and on
//! MariaDB syncstorage-rs's two short ones (`tests/corpora/syncstorage-rs`, 6 and 9
//! migrations). MariaDB's long real history, vaultwarden's (`tests/corpora/vaultwarden`),
//! is not here: diesel CLI's `migration run` stops at its first migration on MariaDB (a
//! foreign key to a table not yet created), and vaultwarden runs it with foreign key
//! checks off on its connection, which a process run cannot; `benches/corpus_mysql.rs`
//! compares it in process, as vaultwarden runs it.
//!
//! ```sh
//! cargo build --release --all-features --bin pelican
//! cargo bench --all-features --bench run     # needs `diesel` on PATH (scripts/bench installs it)
//! ```
//!
//! `PELICAN_BENCH_N` (default `100,1000`), `PELICAN_BENCH_BACKENDS`, `PELICAN_BENCH_RUNS`
//! (default 5) as in `benches/migrate.rs`.
//!
//! Before and after a change, side by side: `PELICAN_BENCH_BASELINE=/path/to/pelican`,
//! an older `pelican` binary (built with `--all-features` from another commit, in a `git
//! worktree`: see docs/benchmarks.md), runs `-q … migrate` as a third process, interleaved
//! with the other two on identical fresh databases, and the table gains the columns
//! `baseline` and `vs baseline` (this build's median over the baseline's: below 1.00x,
//! this build is faster). Without diesel CLI on PATH the bench then compares this build
//! with the baseline alone.
//!
//! ```sh
//! PELICAN_BENCH_BASELINE=../pelican-baseline/target/release/pelican \
//!   cargo bench --all-features --bench run
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh, median, which, workload, Settings};
use pelican::Backend;

fn main() {
    let settings = Settings::from_env("100,1000", 5);
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release");
    let pelican = release.join("pelican");
    if !pelican.is_file() {
        eprintln!("build the binary first: cargo build --release --all-features --bin pelican");
        std::process::exit(2);
    }
    let baseline = baseline();
    let diesel = which("diesel");
    match (&diesel, &baseline) {
        (None, None) => {
            println!(
                "diesel CLI is not installed: nothing to compare (scripts/bench installs it, \
                 or set PELICAN_BENCH_BASELINE to compare with an older pelican)"
            );
            return;
        }
        (None, Some(_)) => println!(
            "diesel CLI is not installed (scripts/bench installs it): pelican against the \
             baseline only\n"
        ),
        _ => {}
    }
    let contenders = Contenders {
        diesel,
        pelican,
        baseline,
    };
    let work = tempfile::tempdir().expect("a temporary folder");
    contenders.print_header();
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
            let history = format!("workload, N = {n}");
            contenders.compare(backend, &history, &dir, work.path(), settings.runs);
        }
        let corpus =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora/crates.io/migrations");
        if backend == Backend::Postgres && corpus.is_dir() {
            contenders.compare(
                backend,
                "crates.io (285)",
                &corpus,
                work.path(),
                settings.runs,
            );
        }
        if backend == Backend::Mysql {
            for (history, count) in [("syncstorage-mysql", 6), ("tokenserver-mysql", 9)] {
                let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/corpora/syncstorage-rs")
                    .join(history)
                    .join("migrations");
                if corpus.is_dir() {
                    let name = format!("{history} ({count})");
                    contenders.compare(backend, &name, &corpus, work.path(), settings.runs);
                }
            }
        }
    }
}

/// `PELICAN_BENCH_BASELINE`, made absolute (the processes run in a temporary folder),
/// after saying which pelican it is.
fn baseline() -> Option<PathBuf> {
    let path = std::env::var_os("PELICAN_BENCH_BASELINE").filter(|p| !p.is_empty())?;
    let Ok(path) = Path::new(&path).canonicalize() else {
        eprintln!(
            "PELICAN_BENCH_BASELINE={}: no such file",
            Path::new(&path).display()
        );
        std::process::exit(2);
    };
    let version = Command::new(&path)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    let Some(version) = version else {
        eprintln!(
            "PELICAN_BENCH_BASELINE={}: not a pelican binary (--version fails)",
            path.display()
        );
        std::process::exit(2);
    };
    println!("baseline: {} ({version})\n", path.display());
    Some(path)
}

/// The processes compared: diesel CLI and the baseline where there are.
struct Contenders {
    diesel: Option<PathBuf>,
    pelican: PathBuf,
    baseline: Option<PathBuf>,
}

impl Contenders {
    fn print_header(&self) {
        let mut columns = vec!["backend", "history"];
        if self.diesel.is_some() {
            columns.push("diesel migration run");
        }
        columns.push("pelican migrate");
        if self.diesel.is_some() {
            columns.push("vs diesel");
        }
        if self.baseline.is_some() {
            columns.extend(["baseline", "vs baseline"]);
        }
        println!("| {} |", columns.join(" | "));
        println!("|{}", "---|".repeat(columns.len()));
    }

    /// One row: every contender `runs` times, round-robin, each run on a fresh database.
    fn compare(&self, backend: Backend, history: &str, dir: &Path, cwd: &Path, runs: usize) {
        let mut diesel_times = Vec::new();
        let mut pelican_times = Vec::new();
        let mut baseline_times = Vec::new();
        for _ in 0..runs {
            if let Some(diesel) = &self.diesel {
                let db = fresh(backend);
                diesel_times.push(timed(
                    Command::new(diesel)
                        .current_dir(cwd)
                        .args(["migration", "run", "--database-url", db.url()])
                        .arg("--migration-dir")
                        .arg(dir),
                ));
            }
            let db = fresh(backend);
            pelican_times.push(timed(&mut migrate(&self.pelican, db.url(), dir, cwd)));
            drop(db);
            if let Some(baseline) = &self.baseline {
                let db = fresh(backend);
                baseline_times.push(timed(&mut migrate(baseline, db.url(), dir, cwd)));
            }
        }
        let p = median(pelican_times);
        let mut cells = vec![backend.to_string(), history.to_owned()];
        if self.diesel.is_some() {
            let d = median(diesel_times);
            cells.extend([ms(d), ms(p), ratio(p, d)]);
        } else {
            cells.push(ms(p));
        }
        if self.baseline.is_some() {
            let b = median(baseline_times);
            cells.extend([ms(b), ratio(p, b)]);
        }
        println!("| {} |", cells.join(" | "));
    }
}

/// `pelican -q --database-url URL --migration-dir DIR migrate`, by this build or the
/// baseline.
fn migrate(pelican: &Path, url: &str, dir: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(pelican);
    command
        .current_dir(cwd)
        .args(["-q", "--database-url", url, "--migration-dir"])
        .arg(dir)
        .arg("migrate");
    command
}

fn ms(time: Duration) -> String {
    format!("{:.0} ms", time.as_secs_f64() * 1000.0)
}

fn ratio(time: Duration, against: Duration) -> String {
    format!("{:.2}x", time.as_secs_f64() / against.as_secs_f64())
}

fn timed(command: &mut Command) -> Duration {
    let start = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    start.elapsed()
}
