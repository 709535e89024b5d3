//! diesel CLI's command line, run through pelican: `setup`, `migration …`, `database …`
//! print what diesel prints, exit as it exits and write the files it writes. Where
//! diesel CLI is installed (see `common::diesel_cli`), each test runs it side by side
//! on a database of the same backend and compares; the transcripts diesel CLI 2.3.14
//! gave are written out here too, so the tests mean the same without it.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{diesel_cli, write_migrations, Output, TestDb};
use pelican::Backend;

fn pelican() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pelican"))
}

/// `program args` in `dir`, with `DATABASE_URL` set to `url` and nothing else of the
/// developer's environment.
fn exec(program: &Path, dir: &Path, url: &str, args: &[&str]) -> Output {
    Output::from(
        Command::new(program)
            .current_dir(dir)
            .env_remove("MIGRATION_DIRECTORY")
            .env_remove("DIESEL_CONFIG_FILE")
            .env("DATABASE_URL", url)
            .args(args)
            .output()
            .expect("run the program"),
    )
}

/// A project folder of its own (with a `Cargo.toml`, as diesel CLI wants one), inside
/// the test database's folder.
fn project(db: &TestDb, name: &str) -> PathBuf {
    let dir = db.dir().join(name);
    std::fs::create_dir_all(&dir).expect("a project folder");
    std::fs::write(dir.join("Cargo.toml"), "").expect("Cargo.toml");
    dir
}

/// Every file under `dir`, by relative path, with its text (the database file aside).
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_none_or(|e| e != "db") {
                let relative = path.strip_prefix(root).expect("under root");
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.insert(relative.display().to_string(), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The database of a second test database of the same backend, for diesel's side.
fn twin(db: &TestDb, name: &str) -> TestDb {
    TestDb::new(db.backend, name)
}

/// stdout with the database's URL and name written as `DB`.
fn normalized(out: &Output, db: &TestDb) -> String {
    out.stdout.replace(&db.url, "DB").replace(db.name(), "DB")
}

const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "2024-01-01-000000_a",
        "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        "DROP TABLE a;",
    ),
    (
        "2024-01-02-000000-0009_b",
        "CREATE TABLE b (id INTEGER PRIMARY KEY);",
        "DROP TABLE b;",
    ),
    (
        "2024-01-02-000000-000a_c",
        "CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a (id));",
        "DROP TABLE c;",
    ),
];

/// Each `migration` command and what diesel CLI 2.3.14 prints for it, in order, on the
/// migrations above.
const TRANSCRIPT: &[(&[&str], &str)] = &[
    (&["migration", "pending"], "true\n"),
    (
        &["migration", "run"],
        "Running migration 2024-01-01-000000_a\n\
         Running migration 2024-01-02-000000-0009_b\n\
         Running migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "list"],
        "Migrations:\n  [X] 2024-01-01-000000_a\n  [X] 2024-01-02-000000-0009_b\n  \
         [X] 2024-01-02-000000-000a_c\n",
    ),
    (&["migration", "pending"], "false\n"),
    (&["migration", "run"], ""),
    (
        &["migration", "revert"],
        "Rolling back migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "list"],
        "Migrations:\n  [X] 2024-01-01-000000_a\n  [X] 2024-01-02-000000-0009_b\n  \
         [ ] 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "revert", "-n", "5"],
        "Rolling back migration 2024-01-02-000000-0009_b\n\
         Rolling back migration 2024-01-01-000000_a\n",
    ),
    (&["migration", "revert"], ""),
    (&["migration", "revert", "--all"], ""),
    (&["migration", "redo"], ""),
    (
        &["migration", "run"],
        "Running migration 2024-01-01-000000_a\n\
         Running migration 2024-01-02-000000-0009_b\n\
         Running migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "redo"],
        "Rolling back migration 2024-01-02-000000-000a_c\n\
         Running migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "redo", "-n", "2"],
        "Rolling back migration 2024-01-02-000000-000a_c\n\
         Rolling back migration 2024-01-02-000000-0009_b\n\
         Running migration 2024-01-02-000000-0009_b\n\
         Running migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "redo", "--all"],
        "Rolling back migration 2024-01-02-000000-000a_c\n\
         Rolling back migration 2024-01-02-000000-0009_b\n\
         Rolling back migration 2024-01-01-000000_a\n\
         Running migration 2024-01-01-000000_a\n\
         Running migration 2024-01-02-000000-0009_b\n\
         Running migration 2024-01-02-000000-000a_c\n",
    ),
    (
        &["migration", "revert", "--all"],
        "Rolling back migration 2024-01-02-000000-000a_c\n\
         Rolling back migration 2024-01-02-000000-0009_b\n\
         Rolling back migration 2024-01-01-000000_a\n",
    ),
    (&["migration", "pending"], "true\n"),
];

/// Runs the transcript with `program` on `db`; each step's stdout and exit code.
fn transcript(program: &Path, db: &TestDb) -> Vec<(String, i32, Vec<String>)> {
    let dir = project(db, "app");
    write_migrations(&dir, MIGRATIONS);
    TRANSCRIPT
        .iter()
        .map(|(args, _)| {
            let out = exec(program, &dir, &db.url, args);
            (out.stdout, out.code, db.applied())
        })
        .collect()
}

/// The `[print_schema]` of diesel's default `diesel.toml`, with the file elsewhere.
fn with_schema_file(dir: &Path) {
    std::fs::write(
        dir.join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .expect("diesel.toml");
}

backend_tests! {
    fn migration_commands_print_and_do_what_diesel_does(db: TestDb) {
        let ours = transcript(&pelican(), &db);
        for ((args, expected), (stdout, code, _)) in TRANSCRIPT.iter().zip(&ours) {
            assert_eq!((stdout.as_str(), *code), (*expected, 0), "pelican {}", args.join(" "));
        }
        if let Some(diesel) = diesel_cli() {
            let other = twin(&db, "transcript_diesel");
            let theirs = transcript(&diesel, &other);
            for ((args, _), (ours, theirs)) in TRANSCRIPT.iter().zip(ours.iter().zip(&theirs)) {
                assert_eq!(ours, theirs, "pelican and diesel differ on {}", args.join(" "));
            }
        }
    }

    fn setup_writes_what_diesel_setup_writes_and_runs_the_migrations(db: TestDb) {
        let run_setup = |program: &Path, db: &TestDb| {
            pelican::__test_support::drop_database(&db.url).expect("drop the test database");
            let dir = project(db, "app");
            write_migrations(&dir, &MIGRATIONS[..1]);
            std::fs::remove_dir_all(dir.join("migrations")).expect("no migrations folder yet");
            let first = exec(program, &dir, &db.url, &["setup"]);
            // Idempotent: a second run changes and prints nothing.
            write_migrations(&dir, &MIGRATIONS[..1]);
            let second = exec(program, &dir, &db.url, &["setup"]);
            let third = exec(program, &dir, &db.url, &["setup"]);
            (first, second, third, files(&dir), db.applied())
        };
        let (first, second, third, written, applied) = run_setup(&pelican(), &db);
        assert_eq!(first.code, 0, "{first:?}");
        let dir = db.dir().join("app");
        let mut expected = format!(
            "Creating migrations directory at: {}\nCreating database: DB\n",
            dir.join("migrations").display()
        );
        if db.backend == Backend::Sqlite {
            expected = expected.replace("DB", &db.url);
        }
        assert_eq!(first.stdout.replace(db.name(), "DB"), expected);
        // diesel CLI 2.3's `diesel.toml`, as its `setup` writes it.
        assert_eq!(written["diesel.toml"], include_str!("expected/diesel.toml"));
        assert_eq!(written["migrations/.keep"], "");
        assert!(!written.contains_key("src/schema.rs"), "setup writes no schema.rs");
        let initial = "migrations/00000000000000_diesel_initial_setup/up.sql";
        assert_eq!(written.contains_key(initial), db.backend == Backend::Postgres);
        // The second setup finds a managed database: it runs nothing (diesel's rule).
        assert_eq!((second.code, second.stdout.as_str()), (0, ""), "{second:?}");
        assert_eq!((third.code, third.stdout.as_str()), (0, ""), "{third:?}");
        let expected_applied: Vec<String> = match db.backend {
            Backend::Postgres => vec!["00000000000000".to_owned()],
            _ => Vec::new(),
        };
        assert_eq!(applied, expected_applied);

        if let Some(diesel) = diesel_cli() {
            let other = twin(&db, "setup_diesel");
            let (d_first, d_second, d_third, d_written, d_applied) = run_setup(&diesel, &other);
            assert_eq!(
                normalized(&first, &db).replace(db.dir().to_str().unwrap(), "ROOT"),
                normalized(&d_first, &other).replace(other.dir().to_str().unwrap(), "ROOT")
            );
            assert_eq!((second.code, &second.stdout), (d_second.code, &d_second.stdout));
            assert_eq!((third.code, &third.stdout), (d_third.code, &d_third.stdout));
            assert_eq!(written, d_written);
            assert_eq!(applied, d_applied);
        }
    }

    fn database_setup_reset_and_drop_as_diesel(db: TestDb) {
        let steps: &[&[&str]] = &[
            &["database", "drop"],
            &["database", "drop"],
            &["database", "setup"],
            &["migration", "list"],
            &["database", "reset"],
            &["db", "reset", "--no-default-migration"],
        ];
        let run_steps = |program: &Path, db: &TestDb| {
            let dir = project(db, "app");
            write_migrations(&dir, &MIGRATIONS[..2]);
            with_schema_file(&dir);
            let outs: Vec<(i32, String)> = steps
                .iter()
                .map(|args| {
                    let out = exec(program, &dir, &db.url, args);
                    (out.code, normalized(&out, db))
                })
                .collect();
            (outs, files(&dir), db.applied())
        };
        let (ours, written, applied) = run_steps(&pelican(), &db);
        // A SQLite file is only made when something connects.
        let dropped = match db.backend {
            Backend::Sqlite => "",
            _ => "Dropping database: DB\n",
        };
        assert_eq!(ours[0], (0, dropped.to_owned()));
        assert_eq!(ours[1], (0, String::new()));
        assert!(ours[2].1.starts_with("Creating database: DB\n"), "{:?}", ours[2]);
        assert!(ours[2].1.ends_with("Running migration 2024-01-02-000000-0009_b\n"), "{:?}", ours[2]);
        assert!(ours[4].1.starts_with("Dropping database: DB\nCreating database: DB\n"), "{:?}", ours[4]);
        assert_eq!(applied.len(), 2 + usize::from(db.backend == Backend::Postgres));
        assert!(written["src/schema.rs"].contains("diesel::table! {\n    a (id) {"), "{written:?}");
        if let Some(diesel) = diesel_cli() {
            let other = twin(&db, "database_diesel");
            let (theirs, d_written, d_applied) = run_steps(&diesel, &other);
            assert_eq!(ours, theirs);
            assert_eq!(written, d_written);
            assert_eq!(applied, d_applied);
        }
    }

    fn the_schema_file_follows_every_command_that_changes_the_schema(db: TestDb) {
        let dir = project(&db, "app");
        write_migrations(&dir, MIGRATIONS);
        with_schema_file(&dir);
        let schema = dir.join("src/schema.rs");
        let read = || std::fs::read_to_string(&schema).unwrap_or_default();
        let pel = |args: &[&str]| exec(&pelican(), &dir, &db.url, args);

        pel(&["migration", "run"]).success();
        let at_head = read();
        assert!(at_head.contains("    c (id) {"), "{at_head}");
        assert!(at_head.contains("diesel::joinable!(c -> a (a_id));"), "{at_head}");
        if let Some(diesel) = diesel_cli() {
            let printed = exec(&diesel, &dir, &db.url, &["print-schema"]).success();
            assert_eq!(printed.stdout, at_head, "not what diesel prints");
        }

        pel(&["downgrade", "-1"]).success();
        assert!(!read().contains("    c (id) {"), "downgrade did not write it: {}", read());
        pel(&["migrate"]).success();
        assert_eq!(read(), at_head);
        pel(&["migration", "revert"]).success();
        let without_c = read();
        assert!(!without_c.contains("    c (id) {"));

        // --locked-schema: the migration runs (as diesel's does), the file stays, the
        // difference is shown, and the command fails.
        let locked = pel(&["--locked-schema", "migration", "run"]);
        assert_eq!(locked.code, 1, "{locked:?}");
        assert!(locked.stderr.contains("Command would result in changes to"), "{}", locked.stderr);
        assert!(locked.stdout.contains("+    c (id) {"), "{}", locked.stdout);
        assert_eq!(read(), without_c, "--locked-schema changed the file");
        let locked = pel(&["migrate", "--locked-schema"]);
        assert_eq!(locked.code, 1, "{locked:?}");
        assert_eq!(read(), without_c);

        pel(&["redo"]).success();
        assert_eq!(read(), at_head);
        pel(&["--locked-schema", "migration", "redo"]).success();
        pel(&["reset", "--yes"]).success();
        assert_eq!(read(), at_head);
        // Dry runs and the SQL of a run change nothing, the file included.
        pel(&["downgrade", "base", "--dry-run"]).success();
        pel(&["downgrade", "base", "--sql"]).success();
        assert_eq!(read(), at_head);
    }

    fn generate_writes_what_diesel_generate_writes(db: TestDb) {
        let run_generate = |program: &Path, db: &TestDb| {
            let dir = project(db, "app");
            std::fs::create_dir_all(dir.join("migrations")).unwrap();
            std::fs::create_dir_all(dir.join("src")).unwrap();
            let outs: Vec<Output> = [
                vec!["migration", "generate", "first", "--version", "20240101000000"],
                vec!["migration", "generate", "again", "--version", "20240101000000"],
                vec!["migration", "generate", "no_down", "--no-down", "--version", "2024-02-01-000000-000a"],
                vec!["migration", "generate", "-u", "short", "--version", "3"],
                vec!["migration", "generate", "formatted", "--format", "sql", "--version", "4"],
            ]
            .iter()
            .map(|args| exec(program, &dir, &db.url, args))
            .collect();
            // From a subfolder, the paths shown are relative to it.
            let from_src = exec(program, &dir.join("src"), &db.url, &["migration", "generate", "deep", "--version", "5"]);
            (outs, from_src, files(&dir))
        };
        let (outs, from_src, written) = run_generate(&pelican(), &db);
        assert_eq!(outs[0].stdout, "Creating migrations/20240101000000_first/up.sql\nCreating migrations/20240101000000_first/down.sql\n");
        assert_eq!(outs[1].code, 1, "{:?}", outs[1]);
        assert!(outs[1].stderr.contains("Specified migration version `20240101000000` already exists"), "{}", outs[1].stderr);
        assert_eq!(outs[2].stdout, "Creating migrations/2024-02-01-000000-000a_no_down/up.sql\n");
        assert_eq!(from_src.stdout, "Creating ../migrations/5_deep/up.sql\nCreating ../migrations/5_deep/down.sql\n");
        assert_eq!(written["migrations/20240101000000_first/up.sql"], "-- Your SQL goes here\n");
        assert_eq!(
            written["migrations/20240101000000_first/down.sql"],
            "-- This file should undo anything in `up.sql`\n"
        );
        assert!(written.contains_key("migrations/.diesel_lock"));
        // diesel's --diff-schema (and its options) is taken and refused, saying so,
        // with nothing written: no migration rather than a wrong one.
        let dir = project(&db, "app");
        for args in [
            &["migration", "generate", "diffed", "--diff-schema"][..],
            &["migration", "generate", "diffed", "--diff-schema=src/schema.rs", "--schema-key", "default"],
            &["migration", "generate", "diffed", "--diff-schema", "-o", "users", "posts", "-o"],
        ] {
            let out = exec(&pelican(), &dir, &db.url, args);
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr.contains("`migration generate --diff-schema` is not supported by pelican"),
                "{}",
                out.stderr
            );
        }
        assert_eq!(files(&dir), written);
        if let Some(diesel) = diesel_cli() {
            let other = twin(&db, "generate_diesel");
            let (d_outs, d_from_src, d_written) = run_generate(&diesel, &other);
            for (ours, theirs) in outs.iter().zip(&d_outs) {
                assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
            }
            assert_eq!(from_src.stdout, d_from_src.stdout);
            assert_eq!(written, d_written);
        }
    }
}

/// Eleven migrations generated within one second: the eleventh is `…-000a_…`, as
/// diesel 2.3 names it, and pelican runs it.
#[cfg(feature = "sqlite")]
#[test]
fn generate_counts_in_hex_within_a_second() {
    let db = TestDb::new(Backend::Sqlite, "generate_hex");
    let dir = project(&db, "app");
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    // The counters 0 to 9 of this second and the next are taken.
    let now = chrono::Utc::now();
    for second in [now, now + chrono::Duration::seconds(1)] {
        let stamp = second.format("%Y-%m-%d-%H%M%S");
        for counter in 0..10 {
            let folder = migrations.join(format!("{stamp}-{counter:04x}_taken"));
            std::fs::create_dir(&folder).unwrap();
            std::fs::write(folder.join("up.sql"), "SELECT 1;").unwrap();
        }
    }
    let out = exec(
        &pelican(),
        &dir,
        &db.url,
        &["migration", "generate", "eleventh"],
    )
    .success();
    assert!(
        out.stdout.contains("-000a_eleventh/up.sql"),
        "{}",
        out.stdout
    );
    let plain = exec(&pelican(), &dir, &db.url, &["generate", "twelfth"]).success();
    assert!(
        plain.stdout.contains("-000a_twelfth/up.sql")
            || plain.stdout.contains("-000b_twelfth/up.sql"),
        "{}",
        plain.stdout
    );
    exec(&pelican(), &dir, &db.url, &["migration", "run"]).success();
    assert_eq!(db.applied().len(), 22);
}

/// crates.io's 285 migrations with its own `diesel.toml` and `schema.patch` (the corpus
/// in `tests/corpora/crates.io`, copied): `migration run` writes its committed
/// `schema.rs`, byte for byte.
#[cfg(feature = "postgres")]
#[test]
fn crates_io_schema_rs_is_written_byte_for_byte() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora/crates.io");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is not here", corpus.display());
        return;
    }
    let db = TestDb::new(Backend::Postgres, "crates_io_schema");
    let dir = project(&db, "crates.io");
    common::copy_migrations(&corpus.join("migrations"), &dir, usize::MAX);
    std::fs::copy(corpus.join("diesel.toml"), dir.join("diesel.toml")).unwrap();
    let src = dir.join("crates/crates_io_database/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(corpus.join("schema.patch"), src.join("schema.patch")).unwrap();

    let out = exec(&pelican(), &dir, &db.url, &["migration", "run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = std::fs::read_to_string(src.join("schema.rs")).unwrap();
    let committed = std::fs::read_to_string(corpus.join("schema.rs")).unwrap();
    assert!(
        written == committed,
        "schema.rs differs from crates.io's:\n{}",
        diff(&committed, &written)
    );

    // Up to date: --locked-schema passes, and pelican's own migrate agrees.
    exec(&pelican(), &dir, &db.url, &["--locked-schema", "migrate"]).success();
    let printed = exec(&pelican(), &dir, &db.url, &["print-schema"]).success();
    assert_eq!(printed.stdout, committed);
}

fn diff(a: &str, b: &str) -> String {
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .take(5)
        .map(|(n, (x, y))| format!("line {}: {x:?} vs {y:?}", n + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

backend_tests! {
    fn diesels_redo_and_run_print_the_warnings_pelicans_redo_prints(db: TestDb) {
        // A down.sql that leaves the table behind without a column: the up.sql's
        // CREATE TABLE is skipped on the redo, and what exists differs from it.
        let dir = write_migrations(
            db.dir(),
            &[(
                "2024-01-01-000000_b",
                "CREATE TABLE b (id INTEGER, name VARCHAR(10));",
                "ALTER TABLE b DROP COLUMN name;",
            )],
        );
        db.pelican(&dir, &["migrate"]).success();
        let ours = db.pelican(&dir, &["redo"]).success();
        assert!(ours.stderr.contains("warning: 2024-01-01-000000_b: b.name is missing"), "{ours:?}");
        db.execute("ALTER TABLE b ADD COLUMN name VARCHAR(10)");
        let theirs = db.pelican(&dir, &["migration", "redo"]).success();
        assert!(theirs.stderr.contains("warning: 2024-01-01-000000_b: b.name is missing"), "{theirs:?}");
        assert_eq!(
            theirs.stdout,
            "Rolling back migration 2024-01-01-000000_b\nRunning migration 2024-01-01-000000_b\n"
        );
    }
}

backend_tests! {
    fn a_ledger_without_run_on_is_read_as_diesel_reads_it(db: TestDb) {
        // An older or hand-made diesel table: `version` only, which is all diesel reads
        // and writes. Listing, running, reverting and the history all work on it.
        let dir = write_migrations(
            db.dir(),
            &[
                ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;"),
                ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", "DROP TABLE b;"),
            ],
        );
        db.execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL);\n\
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000');\n\
             CREATE TABLE a (id INTEGER);",
        );
        let listed = db.pelican(&dir, &["migration", "list"]).success();
        assert_eq!(
            listed.stdout,
            "Migrations:\n  [X] 2024-01-01-000000_a\n  [ ] 2024-01-02-000000_b\n"
        );
        let run = db.pelican(&dir, &["migration", "run"]).success();
        assert_eq!(run.stdout, "Running migration 2024-01-02-000000_b\n");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        let history = db.pelican(&dir, &["history"]).success();
        assert!(history.stdout.contains("2024-01-01-000000_a"), "{history:?}");
        db.pelican(&dir, &["migration", "revert"]).success();
        assert_eq!(db.applied(), ["20240101000000"]);
        assert!(!db.tables().contains(&"b".to_owned()), "{:?}", db.tables());
    }

    fn migration_run_leaves_applied_versions_the_folder_lacks_alone(db: TestDb) {
        // The database has diesel's initial setup applied; this folder lacks it (a
        // `--migration-dir` elsewhere). diesel runs the pending ones; so does its
        // command under pelican, while pelican's own `migrate` refuses the database as
        // newer than the folder.
        let first = ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
        let dir = write_migrations(
            db.dir(),
            &[first, ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", "DROP TABLE b;")],
        );
        let setup = write_migrations(
            &db.dir().join("with_setup"),
            &[("00000000000000_diesel_initial_setup", "SELECT 1;", "SELECT 1;"), first],
        );
        db.pelican(&setup, &["migration", "run"]).success();
        let ours = db.pelican(&dir, &["migrate"]);
        assert_eq!(ours.code, 1, "{ours:?}");
        assert!(ours.stderr.contains("00000000000000"), "{}", ours.stderr);
        let run = db.pelican(&dir, &["migration", "run"]).success();
        assert_eq!(run.stdout, "Running migration 2024-01-02-000000_b\n");
        assert_eq!(db.applied(), ["00000000000000", "20240101000000", "20240102000000"]);
        let listed = db.pelican(&dir, &["migration", "list"]).success();
        assert_eq!(
            listed.stdout,
            "Migrations:\n  [X] 2024-01-01-000000_a\n  [X] 2024-01-02-000000_b\n"
        );
    }

    fn a_revert_without_down_sql_says_what_diesel_says(db: TestDb) {
        // diesel's words, which its own tests look for, then nothing reverted.
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        db.pelican(&dir, &["migration", "run"]).success();
        let out = db.pelican(&dir, &["migration", "revert"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(out.stdout, "Rolling back migration 2024-01-01-000000_a\n");
        assert!(
            out.stderr.contains("Missing `down.sql` file to revert migration 2024-01-01-000000_a"),
            "{}",
            out.stderr
        );
        assert_eq!(db.applied(), ["20240101000000"]);
        assert!(db.tables().contains(&"a".to_owned()));
    }

    fn versions_that_are_not_digits_are_diesels(db: TestDb) {
        // diesel's version is the folder name up to its first `_` (the whole name
        // without one), dashes removed, whatever its characters; versions sort as
        // strings. Listed, run, recorded, reverted and redone in that order.
        let table = |name: &str| format!("CREATE TABLE {name} (id INTEGER);");
        let drop = |name: &str| format!("DROP TABLE {name};");
        let (a, b, c, d, e) = (table("a"), table("b"), table("c"), table("d"), table("e"));
        let dir = write_migrations(
            db.dir(),
            &[
                ("abc_create_a", &a, &drop("a")),
                ("2017-12-01-123456_b", &b, &drop("b")),
                ("1_c", &c, &drop("c")),
                ("7letters", &d, &drop("d")),
                ("!wow_e", &e, &drop("e")),
            ],
        );
        let order = ["!wow_e", "1_c", "2017-12-01-123456_b", "7letters", "abc_create_a"];
        let listed = db.pelican(&dir, &["migration", "list"]).success();
        let lines: Vec<String> = order.iter().map(|n| format!("  [ ] {n}\n")).collect();
        assert_eq!(listed.stdout, format!("Migrations:\n{}", lines.concat()));
        let run = db.pelican(&dir, &["migration", "run"]).success();
        let lines: Vec<String> = order.iter().map(|n| format!("Running migration {n}\n")).collect();
        assert_eq!(run.stdout, lines.concat());
        let applied = || {
            let mut versions = db.applied();
            versions.sort();
            versions
        };
        assert_eq!(applied(), ["!wow", "1", "20171201123456", "7letters", "abc"]);
        let reverted = db.pelican(&dir, &["migration", "revert", "-n", "2"]).success();
        assert_eq!(
            reverted.stdout,
            "Rolling back migration abc_create_a\nRolling back migration 7letters\n"
        );
        assert_eq!(applied(), ["!wow", "1", "20171201123456"]);
        let redone = db.pelican(&dir, &["migration", "redo"]).success();
        assert_eq!(
            redone.stdout,
            "Rolling back migration 2017-12-01-123456_b\nRunning migration 2017-12-01-123456_b\n"
        );
        let pending = db.pelican(&dir, &["migration", "pending"]).success();
        assert_eq!(pending.stdout, "true\n");
        // pelican's own commands read the same versions.
        db.pelican(&dir, &["migrate", "7letters"]).success();
        assert_eq!(applied(), ["!wow", "1", "20171201123456", "7letters"]);
        db.pelican(&dir, &["downgrade", "base"]).success();
        assert!(applied().is_empty(), "{:?}", applied());
        assert_eq!(db.tables().iter().filter(|t| t.len() == 1).count(), 0, "{:?}", db.tables());
    }

    fn a_failed_statement_says_diesels_line_first(db: TestDb) {
        // diesel CLI's line (`Failed to run migrations: Failed to run NAME with:
        // MESSAGE`, which scripts and diesel's tests look for), then pelican's error
        // naming the file, line and statement; for run, revert and redo alike.
        let dir = write_migrations(
            db.dir(),
            &[
                ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "NOT SQL AT ALL;"),
                ("run_error_migrations_fails", "CREATE TABLE users (id INTEGER PRIMARY KEY}", "DROP TABLE users;"),
            ],
        );
        let said = |args: &[&str], name: &str, file: &str| {
            let out = db.pelican(&dir, args);
            assert_eq!(out.code, 1, "{out:?}");
            // The server's message may take more than one line (MariaDB's does).
            let prefix = format!("Failed to run migrations: Failed to run {name} with: ");
            let rest = out.stderr.strip_prefix(&prefix).unwrap_or_else(|| panic!("{}", out.stderr));
            let (message, ours) = rest
                .split_once(&format!("\nerror: migration {name} failed: "))
                .unwrap_or_else(|| panic!("{}", out.stderr));
            assert!(!message.trim().is_empty(), "{}", out.stderr);
            assert!(ours.contains(&format!("{name}/{file}, line 1: `")), "{}", out.stderr);
            assert!(ours.trim_end().ends_with(message.trim_end()), "{}", out.stderr);
            out
        };
        let run = said(&["migration", "run"], "run_error_migrations_fails", "up.sql");
        assert_eq!(
            run.stdout,
            "Running migration 2024-01-01-000000_a\nRunning migration run_error_migrations_fails\n"
        );
        // What ran before the failure stays, as with diesel.
        assert_eq!(db.applied(), ["20240101000000"]);
        said(&["migration", "revert"], "2024-01-01-000000_a", "down.sql");
        said(&["migration", "redo"], "2024-01-01-000000_a", "down.sql");
        assert_eq!(db.applied(), ["20240101000000"]);
    }
}
