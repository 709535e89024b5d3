//! The JSON contract: every command's `--format json` document on the example schema,
//! pinned by snapshots (`tests/snapshots/json__*.snap`). Changing a shape is a
//! deliberate act: update `docs/json.md`, then the snapshots with
//! `INSTA_UPDATE=always cargo test --all-features --test json` (or `cargo insta review`).

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
