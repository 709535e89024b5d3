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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use pelican::{AnyConnection, Backend};

fn main() {
    let sizes: Vec<usize> = env_list("PELICAN_BENCH_N", "100,1000,5000")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let runs: usize = std::env::var("PELICAN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let backends: Vec<Backend> = env_list("PELICAN_BENCH_BACKENDS", "sqlite,postgres,mysql")
        .iter()
        .filter_map(|b| {
            Backend::from_url(&format!("{b}://x"))
                .ok()
                .filter(|_| b != "sqlite")
        })
        .chain(
            env_list("PELICAN_BENCH_BACKENDS", "sqlite,postgres,mysql")
                .iter()
                .filter(|b| *b == "sqlite")
                .map(|_| Backend::Sqlite),
        )
        .collect();
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
    for backend in backends {
        for &n in &sizes {
            let dir = workload(work.path(), n, backend);
            let db = Fresh::new(backend, work.path(), n);
            let run = |args: &[&str]| {
                let status = Command::new(&pelican)
                    .args(["-q", "--database-url", &db.url, "--migration-dir"])
                    .arg(&dir)
                    .args(args)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("pelican runs");
                assert!(status.success(), "pelican {args:?} failed");
            };
            run(&["migrate"]);
            for command in ["current", "history"] {
                let time = median((0..runs).map(|_| {
                    let start = Instant::now();
                    run(&[command]);
                    start.elapsed()
                }));
                match &diesel_cli {
                    Some(cli) => {
                        let base = median((0..runs).map(|_| {
                            let start = Instant::now();
                            Command::new(cli)
                                .args([
                                    "migration",
                                    "list",
                                    "--database-url",
                                    &db.url,
                                    "--migration-dir",
                                ])
                                .arg(&dir)
                                .stdout(std::process::Stdio::null())
                                .status()
                                .expect("diesel runs");
                            start.elapsed()
                        }));
                        row(backend, n, "diesel migration list", base, n, base);
                        row(backend, n, &format!("pelican {command}"), time, n, base);
                    }
                    None => row_no_peer(
                        backend,
                        n,
                        &format!("pelican {command} (diesel CLI not installed)"),
                        time,
                        n,
                    ),
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
            for run in 0..runs {
                let db = Fresh::new(backend, work.path(), n * 10 + run);
                client_times.push(client_batch(backend, &db.url, &all_up));
                drop(db);
                let db = Fresh::new(backend, work.path(), n * 10 + run);
                let start = Instant::now();
                let status = Command::new(&pelican)
                    .args(["-q", "--database-url", &db.url, "--migration-dir"])
                    .arg(&dir)
                    .arg("init")
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("pelican runs");
                assert!(status.success(), "pelican init failed");
                init_times.push(start.elapsed());
            }
            let client = median(client_times.into_iter());
            let client_name = match backend {
                Backend::Sqlite => "sqlite3 < all.sql (the client's one batch)",
                Backend::Postgres => "psql -1 -f all.sql (the client's one batch)",
                Backend::Mysql => "mariadb < all.sql (the client's one batch)",
            };
            row(backend, n, client_name, client, n, client);
            row(
                backend,
                n,
                "pelican init (whole process)",
                median(init_times.into_iter()),
                n,
                client,
            );
            if n == *sizes.iter().max().unwrap_or(&n) {
                let peak_diesel = peak_kib(backend, work.path(), n, &diesel, &[], &dir);
                let peak_pelican =
                    peak_kib(backend, work.path(), n, &pelican, &["-q", "init"], &dir);
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

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
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

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.collect();
    times.sort();
    times[times.len() / 2]
}

/// The peak resident memory, in KiB, of a process building a fresh database.
fn peak_kib(
    backend: Backend,
    root: &Path,
    n: usize,
    program: &Path,
    args: &[&str],
    dir: &Path,
) -> u64 {
    let db = Fresh::new(backend, root, n + 1);
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%M"]).arg(program);
    if args.is_empty() {
        command.arg(&db.url).arg(dir);
    } else {
        command
            .args(["--database-url", &db.url, "--migration-dir"])
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

/// The shared workload for `n` migrations on `backend`.
fn workload(root: &Path, n: usize, backend: Backend) -> PathBuf {
    let dir = root.join(format!("{backend}_{n}"));
    let script = std::env::var("PELICAN_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/workloads/gen_migrations.py")
        });
    let status = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .arg(n.to_string())
        .arg(backend.to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(status.success(), "{} failed", script.display());
    dir
}

/// A fresh, empty database, dropped afterwards.
struct Fresh {
    url: String,
    admin: Option<(String, String)>,
}

impl Fresh {
    fn new(backend: Backend, root: &Path, tag: usize) -> Fresh {
        let name = format!("pelican_bench_p{}_{tag}", std::process::id());
        let admin = match backend {
            Backend::Sqlite => {
                let path = root.join(format!("{name}.db"));
                let _ = std::fs::remove_file(&path);
                return Fresh {
                    url: path.display().to_string(),
                    admin: None,
                };
            }
            Backend::Postgres => std::env::var("PELICAN_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            Backend::Mysql => std::env::var("PELICAN_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned()),
        };
        let mut conn = AnyConnection::establish(&admin).expect("the server answers");
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Fresh {
            url: format!("{base}/{name}"),
            admin: Some((admin.clone(), name)),
        }
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut conn) = AnyConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
            }
        }
    }
}
