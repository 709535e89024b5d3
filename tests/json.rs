//! The JSON contract: every command's `--format json` document on the example schema,
//! pinned by snapshots (`tests/snapshots/json__*.snap`). Changing a shape is a
//! deliberate act: update `docs/json.md`, then the snapshots with
//! `INSTA_UPDATE=always cargo test --all-features --test json` (or `cargo insta review`).

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use common::{example_migrations, write_migrations, TestDb};
use pelican::Backend;
use serde_json::Value;

/// The document with what changes from run to run replaced: durations, timestamps,
/// and the test's own folder.
fn normalized(mut value: Value, dir: &str) -> String {
    fn walk(value: &mut Value, dir: &str) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    let volatile = matches!(
                        key.as_str(),
                        "duration_ms" | "run_on" | "path" | "up" | "down"
                    );
                    if volatile && !field.is_null() {
                        *field = Value::String(format!("<{key}>"));
                    } else {
                        walk(field, dir);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, dir)),
            Value::String(text) => *text = text.replace(dir, "<dir>"),
            _ => {}
        }
    }
    walk(&mut value, dir);
    serde_json::to_string_pretty(&value).unwrap()
}

fn document(db: &TestDb, migrations: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = db.pelican(migrations, &all);
    let value: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON document ({e}): {out:?}"));
    normalized(value, &db.dir().display().to_string())
}

#[cfg(feature = "sqlite")]
#[test]
fn every_commands_document_keeps_its_shape() {
    let db = TestDb::new(Backend::Sqlite, "json_shapes");
    let migrations = example_migrations();
    let cases: &[(&str, &[&str])] = &[
        ("migrate_dry_run", &["migrate", "+2", "--dry-run"]),
        ("init", &["init"]),
        ("current", &["current"]),
        ("history", &["history"]),
        ("heads", &["heads"]),
        ("pending", &["pending"]),
        ("downgrade", &["downgrade", "-1"]),
        ("migrate", &["migrate"]),
        ("redo", &["redo"]),
        ("stamp", &["stamp", "-1"]),
        ("boot", &["boot"]),
        ("reset_dry_run", &["reset", "--dry-run"]),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(*name, document(&db, &migrations, args));
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn an_errors_document_names_its_kind_and_place_with_the_steps_before_it() {
    let db = TestDb::new(Backend::Sqlite, "json_error");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
            (
                "2024-01-02-000000_b",
                "CREATE TABLE b (id INTEGER);\nINSERT INTO missing_t (id) VALUES (1);",
                "",
            ),
        ],
    );
    insta::assert_snapshot!(
        "error_after_a_step",
        document(&db, &dir, &["migrate", "--no-atomic"])
    );
    insta::assert_snapshot!(
        "error_usage",
        document(&db, &dir, &["migrate", "--no-such-flag"])
    );
    insta::assert_snapshot!(
        "error_target",
        document(&db, &dir, &["downgrade", "nonsense"])
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn a_fleets_document_keeps_its_shape() {
    let db = TestDb::new(Backend::Sqlite, "json_fleet");
    let migrations = example_migrations();
    // The test's database, and a file in a folder that does not exist.
    let missing = db.dir().join("no/such/folder/tenant.db");
    let missing = missing.display().to_string();
    let args = [
        "--database-url",
        &missing,
        "fleet",
        "--keep-going",
        "migrate",
    ];
    insta::assert_snapshot!("fleet_migrate", document(&db, &migrations, &args));
    let args = ["fleet", "-j", "1", "status"];
    insta::assert_snapshot!("fleet_status", document(&db, &migrations, &args));
}

/// A project in the test's folder whose diesel.toml names a schema file, and two
/// migrations; the schema file written by a first run of the first.
fn project_with_schema_file(db: &TestDb) -> std::path::PathBuf {
    std::fs::write(db.dir().join("Cargo.toml"), "").unwrap();
    std::fs::write(
        db.dir().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_a",
                "CREATE TABLE a (id INTEGER PRIMARY KEY);",
                "DROP TABLE a;",
            ),
            (
                "2024-01-02-000000_b",
                "CREATE TABLE b (id INTEGER PRIMARY KEY);",
                "DROP TABLE b;",
            ),
        ],
    );
    db.pelican(&dir, &["migrate", "+1"]).success();
    assert!(db.dir().join("src/schema.rs").is_file());
    dir
}

backend_tests! {
    fn a_locked_schema_that_would_change_prints_the_document_alone(db: TestDb) {
        let dir = project_with_schema_file(&db);
        let out = db.pelican(&dir, &["--format", "json", "--locked-schema", "migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        // The difference goes to stderr; stdout is the error document, with the run.
        let doc = out.json();
        assert_eq!(doc["error"]["kind"], "schema_would_change", "{doc}");
        assert_eq!(doc["steps"][0]["name"], "2024-01-02-000000_b", "{doc}");
        assert_eq!(doc["current"], "20240102000000", "{doc}");
        assert!(out.stderr.contains("+    b (id) {"), "{}", out.stderr);
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }

    fn a_schema_file_that_cannot_be_written_after_the_run_keeps_the_steps(db: TestDb) {
        let dir = project_with_schema_file(&db);
        // The schema file's folder is now a file: writing it fails after the commit.
        std::fs::remove_dir_all(db.dir().join("src")).unwrap();
        std::fs::write(db.dir().join("src"), "not a folder").unwrap();
        let out = db.pelican(&dir, &["--format", "json", "migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        let doc = out.json();
        assert_eq!(doc["steps"].as_array().map(Vec::len), Some(1), "{doc}");
        assert_eq!(doc["current"], "20240102000000", "{doc}");
        assert_eq!(doc["pending"], 0, "{doc}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);

        // reset too: it committed, and the document says where the database is.
        let out = db.pelican(&dir, &["--format", "json", "reset", "--yes"]);
        assert_eq!(out.code, 1, "{out:?}");
        let doc = out.json();
        assert_eq!(doc["current"], "20240102000000", "{doc}");
        assert_eq!(doc["pending"], 0, "{doc}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }
}

/// diesel's commands, print-schema, completions and man print text of their own: under
/// `--format json` they are refused, as a JSON document, before anything runs.
#[cfg(feature = "sqlite")]
#[test]
fn commands_that_print_no_document_refuse_format_json() {
    let db = TestDb::new(Backend::Sqlite, "json_refused");
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    for (args, command) in [
        (&["migration", "run"][..], "migration"),
        (&["setup"][..], "setup"),
        (&["database", "setup"][..], "database"),
        (&["print-schema"][..], "print-schema"),
        (&["completions", "bash"][..], "completions"),
        (&["man"][..], "man"),
    ] {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = db.pelican(&dir, &all);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        let doc = out.json();
        assert_eq!(doc["error"]["kind"], "no_json", "{doc}");
        assert_eq!(
            doc["error"]["message"],
            format!("--format json is not available for `{command}`: it prints {}, not a JSON document; run it without --format json",
                match command {
                    "print-schema" => "Rust",
                    "completions" => "a shell script",
                    "man" => "a man page",
                    _ => "diesel's lines",
                })
        );
    }
    assert!(
        !std::path::Path::new(&db.url).exists(),
        "a database file was made"
    );
}
