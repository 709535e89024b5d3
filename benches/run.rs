//! `pelican migrate` against diesel CLI's `migration run`, whole processes on fresh
//! databases, interleaved so that the machine's drift falls on both alike: the shared
//! workload, and on PostgreSQL the crates.io history (`../shared/corpora/crates.io`).
//!
//! ```sh
//! cargo build --release --all-features --bin pelican
//! cargo bench --all-features --bench run     # needs `diesel` on PATH (scripts/bench installs it)
//! ```
//!
//! `PELICAN_BENCH_N` (default `100,1000`), `PELICAN_BENCH_BACKENDS`, `PELICAN_BENCH_RUNS`
//! (default 5) as in `benches/migrate.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh, median, workload, Settings};
use pelican::Backend;

fn main() {
    let settings = Settings::from_env("100,1000", 5);
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release");
    let pelican = release.join("pelican");
    if !pelican.is_file() {
        eprintln!("build the binary first: cargo build --release --all-features --bin pelican");
        std::process::exit(2);
    }
    let Some(diesel) = which("diesel") else {
        println!("diesel CLI is not installed: nothing to compare (scripts/bench installs it)");
        return;
    };
    let work = tempfile::tempdir().expect("a temporary folder");
    println!("| backend | history | diesel migration run | pelican migrate | vs diesel |");
    println!("|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
            compare(
                backend,
                &format!("workload, N = {n}"),
                &dir,
                &pelican,
                &diesel,
                work.path(),
                settings.runs,
            );
        }
        let corpus =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/crates.io/migrations");
        if backend == Backend::Postgres && corpus.is_dir() {
            compare(
                backend,
                "crates.io (285)",
                &corpus,
                &pelican,
                &diesel,
                work.path(),
                settings.runs,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare(
    backend: Backend,
    history: &str,
    dir: &Path,
    pelican: &Path,
    diesel: &Path,
    cwd: &Path,
    runs: usize,
) {
    let mut diesel_times = Vec::new();
    let mut pelican_times = Vec::new();
    for _ in 0..runs {
        let db = fresh(backend);
        diesel_times.push(timed(
            Command::new(diesel)
                .current_dir(cwd)
                .args([
                    "migration",
                    "run",
                    "--database-url",
                    db.url(),
                    "--migration-dir",
                ])
                .arg(dir),
        ));
        drop(db);
        let db = fresh(backend);
        pelican_times.push(timed(
            Command::new(pelican)
                .current_dir(cwd)
                .args(["-q", "--database-url", db.url(), "--migration-dir"])
                .arg(dir)
                .arg("migrate"),
        ));
    }
    let (d, p) = (median(diesel_times), median(pelican_times));
    println!(
        "| {backend} | {history} | {:.0} ms | {:.0} ms | {:.2}x |",
        d.as_secs_f64() * 1000.0,
        p.as_secs_f64() * 1000.0,
        p.as_secs_f64() / d.as_secs_f64()
    );
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

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}
