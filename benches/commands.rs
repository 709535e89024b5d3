//! Every command at N migrations, as whole processes: each of pelican's commands beside
//! diesel CLI's equivalent where it has one, and beside `pelican migrate` of the same N
//! (from empty) where it has none.
//!
//! ```sh
//! cargo build --release --all-features --bin pelican
//! cargo bench --all-features --bench commands
//! ```
//!
//! `PELICAN_BENCH_N` (default `1000,5000`), `PELICAN_BENCH_BACKENDS` and
//! `PELICAN_BENCH_RUNS` (default 3) as in `benches/migrate.rs`. Each run starts from
//! fresh databases, one for pelican and one for diesel CLI, and takes them through the
//! same commands in the same order, so each command meets the state a user would see:
//! `migrate` from empty, `migrate` again with nothing pending, `history`, `pending`,
//! `redo`, `check`, `snapshot`, `downgrade base`; then `init`, `reset` and `adopt` on a
//! third, and `migrate --sql`, `--dry-run` and `stamp` on a fourth, empty one.
//! Without diesel CLI on `PATH` the diesel column stays empty. `PELICAN_BENCH_SKIP`
//! (e.g. `check,adopt`) leaves out the commands whose names start with those words.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh, median, which, workload, Settings};
use pelican::{AnyConnection, Backend};

/// The commands, in the order of the table: pelican's arguments, then diesel CLI's
/// (empty: no equivalent).
const COMMANDS: &[Command3] = &[
    ("migrate (from empty)", &["migrate"], &["migration", "run"]),
    (
        "migrate (nothing pending)",
        &["migrate"],
        &["migration", "run"],
    ),
    ("history", &["history"], &["migration", "list"]),
    ("pending", &["pending"], &["migration", "pending"]),
    ("redo", &["redo"], &["migration", "redo"]),
    ("check", &["check"], &[]),
    ("snapshot", &["snapshot", "-o", "SNAPSHOT"], &[]),
    (
        "downgrade base",
        &["downgrade", "base"],
        &["migration", "revert", "--all"],
    ),
    ("init (fresh database)", &["init"], &[]),
    ("reset --yes", &["reset", "--yes"], &[]),
    (
        "adopt (a database built without its ledger)",
        &["adopt"],
        &[],
    ),
    ("migrate --sql (empty database)", &["migrate", "--sql"], &[]),
    (
        "migrate --dry-run (empty database)",
        &["migrate", "--dry-run"],
        &[],
    ),
    ("stamp head (empty database)", &["stamp", "head"], &[]),
];

fn main() {
    let settings = Settings::from_env("1000,5000", 3);
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release");
    let pelican = release.join("pelican");
    if !pelican.is_file() {
        eprintln!("build the binary first: cargo build --release --all-features --bin pelican");
        std::process::exit(2);
    }
    let diesel = which("diesel");
    let work = tempfile::tempdir().expect("a temporary folder");
    let snapshot = work.path().join("snapshot.sql");
    let skip: Vec<String> = std::env::var("PELICAN_BENCH_SKIP")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let commands: Vec<_> = COMMANDS
        .iter()
        .filter(|(name, _, _)| !skip.iter().any(|s| name.starts_with(s.as_str())))
        .copied()
        .collect();
    println!("| backend | N | command | pelican | diesel CLI | vs diesel | vs migrate |");
    println!("|---|---|---|---|---|---|---|");
    for &backend in &settings.backends {
        for &n in &settings.sizes {
            let dir = workload(work.path(), n, backend);
            let tools = Tools {
                pelican: &pelican,
                diesel: diesel.as_deref(),
                dir: &dir,
                snapshot: &snapshot,
                commands: &commands,
            };
            let mut times: BTreeMap<&str, (Vec<Duration>, Vec<Duration>)> = BTreeMap::new();
            for _ in 0..settings.runs {
                for (name, pelican_time, diesel_time) in tools.one_run(backend) {
                    let entry = times.entry(name).or_default();
                    entry.0.push(pelican_time);
                    entry.1.extend(diesel_time);
                }
            }
            let migrate = median(times["migrate (from empty)"].0.iter().copied());
            for (name, _, _) in &commands {
                let (ours, theirs) = &times[name];
                let ours = median(ours.iter().copied());
                let (theirs, ratio) = if theirs.is_empty() {
                    (String::new(), String::new())
                } else {
                    let theirs = median(theirs.iter().copied());
                    (
                        ms(theirs),
                        format!("{:.2}x", ours.as_secs_f64() / theirs.as_secs_f64()),
                    )
                };
                println!(
                    "| {backend} | {n} | {name} | {} | {theirs} | {ratio} | {:.2}x |",
                    ms(ours),
                    ours.as_secs_f64() / migrate.as_secs_f64()
                );
            }
        }
    }
}

/// The programs and files a run uses.
struct Tools<'a> {
    pelican: &'a Path,
    diesel: Option<&'a Path>,
    dir: &'a Path,
    snapshot: &'a Path,
    commands: &'a [Command3],
}

/// A command's name, pelican's arguments and diesel CLI's.
type Command3 = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

impl Tools<'_> {
    /// Every command asked for once, in the order of [`COMMANDS`], on fresh databases: its name,
    /// pelican's time and diesel CLI's.
    fn one_run(&self, backend: Backend) -> Vec<(&'static str, Duration, Option<Duration>)> {
        let mut times = Vec::new();
        let ours = fresh(backend);
        let theirs = fresh(backend);
        let built = fresh(backend);
        let empty = fresh(backend);
        for &(name, pelican_args, diesel_args) in self.commands {
            let url = match name {
                "init (fresh database)"
                | "reset --yes"
                | "adopt (a database built without its ledger)" => built.url(),
                name if name.ends_with("(empty database)") => empty.url(),
                _ => ours.url(),
            };
            if name.starts_with("adopt") {
                forget_ledger(url);
            }
            let pelican_time = self.pelican(url, pelican_args);
            let diesel_time = (!diesel_args.is_empty())
                .then(|| self.diesel(theirs.url(), diesel_args))
                .flatten();
            times.push((name, pelican_time, diesel_time));
        }
        times
    }

    fn pelican(&self, url: &str, args: &[&str]) -> Duration {
        let mut command = Command::new(self.pelican);
        command
            .args(["-q", "--database-url", url, "--migration-dir"])
            .arg(self.dir);
        for arg in args {
            match *arg {
                "SNAPSHOT" => command.arg(self.snapshot),
                arg => command.arg(arg),
            };
        }
        timed(command, &format!("pelican {args:?}"))
    }

    fn diesel(&self, url: &str, args: &[&str]) -> Option<Duration> {
        let mut command = Command::new(self.diesel?);
        command
            .args(args)
            .args(["--database-url", url, "--migration-dir"])
            .arg(self.dir);
        Some(timed(command, &format!("diesel {args:?}")))
    }
}

/// Runs a process to its end, its output discarded, and says how long it took.
fn timed(mut command: Command, what: &str) -> Duration {
    let start = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

/// Drops diesel's ledger, so that the database has the schema at head and no record of
/// how it got there: what `adopt` is for.
fn forget_ledger(url: &str) {
    use diesel::connection::SimpleConnection;
    let mut conn = AnyConnection::establish(url).expect("connect");
    conn.batch_execute("DROP TABLE __diesel_schema_migrations")
        .expect("drop the ledger");
}

fn ms(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1000.0)
}
