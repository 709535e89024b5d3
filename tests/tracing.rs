//! The `tracing` feature: the spans and events a run emits (docs/tracing.md), as an
//! application's subscriber receives them, and `-v` printing them in the command line.
#![cfg(all(feature = "tracing", feature = "sqlite"))]
// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "postgres", feature = "cli")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{write_migrations, TestDb};
use diesel::connection::SimpleConnection;
use pelican::{AnyConnection, Backend, Migrations, Migrator, Target};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the subscriber saw it: its name, its parent (an index in
/// [`Seen::spans`]), its fields as last recorded, and whether it closed.
#[derive(Debug, Clone)]
struct SeenSpan {
    name: &'static str,
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
    closed: bool,
}

/// An event as the subscriber saw it, with the span it happened in.
#[derive(Debug, Clone)]
struct SeenEvent {
    target: String,
    level: tracing::Level,
    span: Option<usize>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Seen {
    spans: Vec<SeenSpan>,
    events: Vec<SeenEvent>,
    /// Live span ids (the registry reuses them once closed), to their index.
    live: HashMap<u64, usize>,
}

impl Seen {
    fn spans_named(&self, name: &str) -> Vec<(usize, &SeenSpan)> {
        self.spans
            .iter()
            .enumerate()
            .filter(|(_, span)| span.name == name)
            .collect()
    }

    fn events_of(&self, target: &str) -> Vec<&SeenEvent> {
        self.events.iter().filter(|e| e.target == target).collect()
    }

    /// The events of `target` in the span of index `span`.
    fn events_in(&self, target: &str, span: usize) -> Vec<&SeenEvent> {
        let mut events = self.events_of(target);
        events.retain(|e| e.span == Some(span));
        events
    }
}

/// A layer that keeps every span and event of pelican's.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .and_then(|parent| seen.live.get(&parent.id().into_u64()).copied());
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let index = seen.spans.len();
        seen.spans.push(SeenSpan {
            name: attrs.metadata().name(),
            parent,
            fields,
            closed: false,
        });
        seen.live.insert(id.into_u64(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(&index) = seen.live.get(&id.into_u64()) {
            values.record(&mut Fields(&mut seen.spans[index].fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let span = ctx
            .event_span(event)
            .and_then(|span| seen.live.get(&span.id().into_u64()).copied());
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        seen.events.push(SeenEvent {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            span,
            fields,
        });
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(index) = seen.live.remove(&id.into_u64()) {
            seen.spans[index].closed = true;
        }
    }
}

/// What `f` emitted, with a subscriber of its own on this thread.
fn captured<T>(f: impl FnOnce() -> T) -> (T, Seen) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let value = tracing::subscriber::with_default(subscriber, f);
    let seen = std::mem::take(&mut *capture.0.lock().unwrap());
    (value, seen)
}

/// The migrations of `(folder name, up.sql)` pairs, written in the test's folder.
fn written(db: &TestDb, folders: &[(&str, &str)]) -> Migrations {
    let folders: Vec<(&str, &str, &str)> = folders.iter().map(|(n, up)| (*n, *up, "")).collect();
    Migrations::from_dir(write_migrations(db.dir(), &folders)).unwrap()
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    fields
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

#[test]
fn a_sqlite_migrate_with_a_guarded_skip_has_its_spans_and_events() {
    let db = TestDb::new(Backend::Sqlite, "tracing_skip");
    let migrations = written(
        &db,
        &[
            (
                "2024-01-01-000001_first",
                "CREATE TABLE first (id INTEGER PRIMARY KEY);"),
            (
                "2024-01-01-000002_second",
                "CREATE TABLE second (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE third (id INTEGER);"),
            (
                "2024-01-01-000003_fourth",
                "CREATE TABLE fourth (id INTEGER PRIMARY KEY);"),
        ],
    );
    let mut conn = db.connect();
    let migrator = Migrator::new(&migrations);
    migrator
        .migrate(&mut conn, &"20240101000001".parse().unwrap())
        .unwrap();
    // `second` exists already, without a column the migration makes: its statement is
    // skipped, with a warning that what exists differs.
    conn.batch_execute("CREATE TABLE second (id INTEGER PRIMARY KEY)")
        .unwrap();
    let (report, seen) = captured(|| migrator.migrate(&mut conn, &Target::Head));
    let report = report.unwrap();
    assert_eq!(report.steps[0].statements_skipped, 1, "{report:?}");
    assert_eq!(report.steps[0].warnings.len(), 1, "{report:?}");

    // One run, closed, with where it left the database.
    let runs = seen.spans_named("run");
    assert_eq!(runs.len(), 1, "{seen:#?}");
    let (run, run_span) = runs[0];
    assert!(run_span.closed);
    assert_eq!(run_span.parent, None);
    let run_fields = &run_span.fields;
    assert_eq!(field(run_fields, "backend"), "sqlite");
    assert_eq!(field(run_fields, "mode"), "apply");
    assert_eq!(field(run_fields, "steps"), "2");
    assert_eq!(field(run_fields, "current"), "20240101000003");
    assert_eq!(field(run_fields, "pending"), "0");
    assert_eq!(field(run_fields, "outcome"), "done");
    assert!(field(run_fields, "duration_ms").parse::<f64>().unwrap() >= 0.0);

    // A migration span per migration, in the run, in order.
    let migrations_seen = seen.spans_named("migration");
    assert_eq!(migrations_seen.len(), 2, "{seen:#?}");
    let expected = [
        ("20240101000002", "2024-01-01-000002_second", "1", "1"),
        ("20240101000003", "2024-01-01-000003_fourth", "1", "0"),
    ];
    for ((_, span), (version, name, ran, skipped)) in migrations_seen.iter().zip(expected) {
        assert!(span.closed);
        assert_eq!(span.parent, Some(run));
        assert_eq!(field(&span.fields, "version"), version);
        assert_eq!(field(&span.fields, "name"), name);
        assert_eq!(field(&span.fields, "direction"), "up");
        assert_eq!(field(&span.fields, "statements_run"), ran, "{span:?}");
        assert_eq!(
            field(&span.fields, "statements_skipped"),
            skipped,
            "{span:?}"
        );
        assert_eq!(field(&span.fields, "outcome"), "done");
        assert!(field(&span.fields, "duration_ms").parse::<f64>().unwrap() >= 0.0);
    }
    let second = migrations_seen[0].0;

    // The second migration's decisions: the skip (at INFO, with why), then the
    // statement that ran as written (SQLite refused the first as it ran: a guard settled
    // it).
    let decisions = seen.events_in("pelican::guard", second);
    assert_eq!(decisions.len(), 2, "{seen:#?}");
    let skip = decisions[0];
    assert_eq!(skip.level, tracing::Level::INFO);
    assert_eq!(field(&skip.fields, "action"), "skip");
    assert_eq!(field(&skip.fields, "guarded"), "true");
    assert_eq!(field(&skip.fields, "line"), "1");
    assert_eq!(field(&skip.fields, "reason"), "table second exists");
    assert_eq!(field(&skip.fields, "message"), "statement skipped");
    let ran = decisions[1];
    assert_eq!(ran.level, tracing::Level::DEBUG);
    assert_eq!(field(&ran.fields, "action"), "run");
    assert_eq!(field(&ran.fields, "guarded"), "false");
    assert_eq!(field(&ran.fields, "line"), "2");
    assert_eq!(field(&ran.fields, "reason"), "ran");
    assert_eq!(field(&ran.fields, "message"), "statement decided");
    // Every statement's decision has its event: the last migration's ran as written.
    let fourth = migrations_seen[1].0;
    let fourth_decisions = seen.events_in("pelican::guard", fourth);
    assert_eq!(fourth_decisions.len(), 1, "{seen:#?}");
    assert_eq!(field(&fourth_decisions[0].fields, "action"), "run");
    assert_eq!(field(&fourth_decisions[0].fields, "guarded"), "false");

    // The drift on the skip is the report's warning, and an event of its own.
    let warnings = seen.events_of("pelican::warning");
    assert_eq!(warnings.len(), 1, "{seen:#?}");
    assert_eq!(warnings[0].level, tracing::Level::WARN);
    assert_eq!(warnings[0].span, Some(second));
    assert_eq!(field(&warnings[0].fields, "line"), "1");
    assert_eq!(
        field(&warnings[0].fields, "warning"),
        report.steps[0].warnings[0]
    );

    // SQLite's lock, taken in the run.
    let locks = seen.events_of("pelican::lock");
    assert_eq!(locks.len(), 1, "{seen:#?}");
    assert_eq!(locks[0].span, Some(run));
    assert_eq!(field(&locks[0].fields, "lock"), "the SQLite write lock");
    assert_eq!(
        field(&locks[0].fields, "message"),
        "took the migration lock"
    );
}

#[test]
fn a_failed_migration_closes_its_span_and_the_runs_as_failed() {
    let db = TestDb::new(Backend::Sqlite, "tracing_failed");
    let migrations = written(
        &db,
        &[(
            "2024-01-01-000001_broken",
            "CREATE TABLE t (id INTEGER);\nSELEC 1;",
        )],
    );
    let mut conn = db.connect();
    let (result, seen) = captured(|| Migrator::new(&migrations).migrate(&mut conn, &Target::Head));
    let error = result.unwrap_err().to_string();
    for name in ["run", "migration"] {
        let spans = seen.spans_named(name);
        assert_eq!(spans.len(), 1, "{seen:#?}");
        assert_eq!(field(&spans[0].1.fields, "outcome"), "failed");
        assert_eq!(field(&spans[0].1.fields, "error"), error);
    }
}

#[test]
fn a_run_with_nothing_to_do_has_its_span_and_no_lock() {
    let db = TestDb::new(Backend::Sqlite, "tracing_nothing");
    let migrations = written(
        &db,
        &[("2024-01-01-000001_a", "CREATE TABLE a (id INTEGER);")],
    );
    let mut conn = db.connect();
    Migrator::new(&migrations)
        .migrate(&mut conn, &Target::Head)
        .unwrap();
    let (_, seen) = captured(|| Migrator::new(&migrations).migrate(&mut conn, &Target::Head));
    let runs = seen.spans_named("run");
    assert_eq!(runs.len(), 1, "{seen:#?}");
    assert_eq!(field(&runs[0].1.fields, "steps"), "0");
    assert_eq!(field(&runs[0].1.fields, "outcome"), "done");
    assert!(seen.spans_named("migration").is_empty());
    assert!(seen.events_of("pelican::lock").is_empty(), "{seen:#?}");
}

#[test]
fn a_fresh_boot_is_one_span_with_its_lock() {
    let db = TestDb::new(Backend::Sqlite, "tracing_boot");
    let migrations = written(
        &db,
        &[("2024-01-01-000001_a", "CREATE TABLE a (id INTEGER);")],
    );
    let mut conn = db.connect();
    let (report, seen) = captured(|| pelican::Boot::new(&migrations).run(&mut conn));
    report.unwrap();
    let boots = seen.spans_named("boot");
    assert_eq!(boots.len(), 1, "{seen:#?}");
    // Built in one batch: no run of migrations.
    assert!(seen.spans_named("run").is_empty(), "{seen:#?}");
    let fields = &boots[0].1.fields;
    assert_eq!(field(fields, "found"), "fresh");
    assert_eq!(field(fields, "action"), "initialized");
    assert_eq!(field(fields, "current"), "20240101000001");
    assert_eq!(field(fields, "outcome"), "done");
    let lock = seen.events_of("pelican::lock");
    assert_eq!(lock.len(), 1, "{seen:#?}");
    assert_eq!(lock[0].span, Some(boots[0].0));
}

/// A run that finds PostgreSQL's lock held says it waits, then that it gave up (naming
/// the holder) or that it took the lock once the holder let it go.
#[cfg(feature = "postgres")]
#[test]
fn a_lock_wait_has_its_events() {
    let db = TestDb::new(Backend::Postgres, "tracing_lock");
    let migrations = written(
        &db,
        &[("2024-01-01-000001_a", "CREATE TABLE a (id INTEGER);")],
    );
    let mut holder: AnyConnection = db.connect();
    let take = format!("SELECT pg_advisory_lock({})", pelican::lock::POSTGRES_KEY);
    let give = format!("SELECT pg_advisory_unlock({})", pelican::lock::POSTGRES_KEY);
    holder.batch_execute(&take).unwrap();
    let mut conn = db.connect();
    let migrator = Migrator::new(&migrations).lock_timeout(Duration::from_millis(300));
    let (result, seen) = captured(|| migrator.migrate(&mut conn, &Target::Head));
    assert!(result.is_err());
    let lock = seen.events_of("pelican::lock");
    assert_eq!(lock.len(), 2, "{seen:#?}");
    assert_eq!(
        field(&lock[0].fields, "message"),
        "waiting for the migration lock"
    );
    assert_eq!(field(&lock[0].fields, "timeout_ms"), "300");
    assert_eq!(lock[1].level, tracing::Level::WARN);
    assert_eq!(
        field(&lock[1].fields, "message"),
        "gave up waiting for the migration lock"
    );
    assert!(field(&lock[1].fields, "holder").contains("pid"), "{lock:?}");

    // Released while the run waits: taken after the wait.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        holder.batch_execute(&give).unwrap();
    });
    let migrator = Migrator::new(&migrations).lock_timeout(Duration::from_secs(30));
    let (result, seen) = captured(|| migrator.migrate(&mut conn, &Target::Head));
    release.join().unwrap();
    result.unwrap();
    let lock = seen.events_of("pelican::lock");
    assert_eq!(lock.len(), 2, "{seen:#?}");
    assert_eq!(lock[1].level, tracing::Level::INFO);
    assert_eq!(field(&lock[1].fields, "message"), "took the migration lock");
    assert!(field(&lock[1].fields, "waited_ms").parse::<f64>().unwrap() >= 200.0);
}

/// `-v` prints the spans and events on stderr, as each span closes; `RUST_LOG` chooses
/// which (`off`: none, as without `-v`).
#[cfg(feature = "cli")]
#[test]
fn verbose_prints_them_on_stderr() {
    let db = TestDb::new(Backend::Sqlite, "tracing_cli");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000001_a",
            "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);",
            "",
        )],
    );
    let run = |args: &[&str], log: Option<&str>| {
        let mut command = db.command(&dir, args);
        match log {
            Some(log) => command.env("RUST_LOG", log),
            None => command.env_remove("RUST_LOG"),
        };
        common::Output::from(command.output().unwrap())
    };
    // Managed, with the first statement's table made by hand.
    run(&["stamp", "base"], None).success();
    db.execute("CREATE TABLE a (id INTEGER)");
    let out = run(&["-v", "migrate", "--dry-run"], None).success();
    assert!(out.stderr.contains("pelican::guard: statement skipped line=1 action=\"skip\" guarded=true reason=\"table a exists\""), "{}", out.stderr);
    assert!(
        out.stderr.contains("pelican::migration: close"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("statements_run=1 statements_skipped=1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("pelican::run: close"), "{}", out.stderr);
    // What -v printed before, on stdout, is as it was.
    assert!(out.stdout.contains("SKIP line 1"), "{}", out.stdout);

    let only_runs = run(&["-v", "migrate", "--dry-run"], Some("pelican::run=info")).success();
    assert!(
        only_runs.stderr.contains("pelican::run: close"),
        "{}",
        only_runs.stderr
    );
    assert!(
        !only_runs.stderr.contains("pelican::guard"),
        "{}",
        only_runs.stderr
    );

    let off = run(&["-v", "migrate", "--dry-run"], Some("off")).success();
    assert!(!off.stderr.contains("pelican::"), "{}", off.stderr);
    // Without -v, nothing of it, whatever RUST_LOG says.
    let quiet = run(&["migrate", "--dry-run"], Some("pelican=trace")).success();
    assert!(!quiet.stderr.contains("pelican::"), "{}", quiet.stderr);
}
