//! `pelican lint`: what its rules find in a real history (crates.io's, pinned), and the
//! command on each backend: the pending migrations as one run, exit codes, JSON, the
//! `allow` comment (which guards ignore).

mod common;

use std::path::Path;

use common::{write_migrations, TestDb};
use pelican::lint::Lint;
use pelican::{Backend, Migrations};

/// Every finding on crates.io's 285 migrations, one line each: a change to a rule
/// shows here as a diff to review.
#[test]
fn crates_io_findings_are_pinned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora/crates.io/migrations");
    let migrations = Migrations::from_dir(dir).unwrap();
    let report = Lint::new(&migrations, Backend::Postgres).run();
    assert_eq!(report.migrations, 285);
    let lines: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}:{} {} {}", f.migration, f.line, f.severity, f.rule))
        .chain(
            report
                .unread
                .iter()
                .map(|(migration, line)| format!("{migration}:{line} unread")),
        )
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

const USERS: (&str, &str, &str) = (
    "2024-03-01-000000_users",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200));\n\
     CREATE INDEX users_email ON users (email);",
    "DROP TABLE users;",
);

fn lint_json(db: &TestDb, dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--format", "json", "lint"];
    all.extend_from_slice(args);
    let out = db.pelican(dir, &all);
    (out.code, out.json())
}

fn rules(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    fn the_pending_migrations_are_one_run(db: TestDb) {
        // Pending, both: the index is on a table the run itself creates. Applied, the
        // first is not linted, and the second's statements are on an existing table.
        let dir = write_migrations(
            db.dir(),
            &[
                USERS,
                (
                    "2024-03-02-000000_more",
                    "ALTER TABLE users DROP COLUMN email;\nDELETE FROM users;",
                    "",
                ),
            ],
        );
        let (code, json) = lint_json(&db, &dir, &[]);
        assert_eq!(code, 0, "{json}");
        assert_eq!(json["migrations"], 2, "{json}");
        assert_eq!(rules(&json), ["delete-without-where"], "{json}");
        // Linting read the database, never wrote it.
        assert!(db.tables().is_empty(), "{:?}", db.tables());

        db.pelican(&dir, &["migrate", "2024-03-01-000000"]).success();
        let (_, json) = lint_json(&db, &dir, &[]);
        assert_eq!(json["migrations"], 1, "{json}");
        let mut found = rules(&json);
        found.sort();
        let mut expected = vec!["delete-without-where", "drop-column"];
        if db.backend == Backend::Postgres {
            expected.push("missing-lock-timeout");
        }
        assert_eq!(found, expected, "{json}");

        // Every migration, each on its own: the index is on a table made before it in
        // the same migration, so new there too.
        let (_, all) = lint_json(&db, &dir, &["--all"]);
        assert_eq!(all["migrations"], 2, "{all}");
        assert_eq!(rules(&all).len(), expected.len(), "{all}");
        let (_, after) = lint_json(&db, &dir, &["--all", "--start-after", "2024-03-01-000000"]);
        assert_eq!(after["migrations"], 1, "{after}");
    }

    fn an_error_exits_1_and_an_allow_line_accepts_it(db: TestDb) {
        let (error_sql, rule) = match db.backend {
            Backend::Postgres => ("CREATE INDEX CONCURRENTLY users_id ON users (id);", "concurrently-in-transaction"),
            Backend::Sqlite => ("PRAGMA foreign_keys = OFF;", "pragma-foreign-keys-in-transaction"),
            // MySQL has no error-level rule yet: a warning exits 0.
            _ => ("UPDATE users SET email = NULL;", "update-without-where"),
        };
        let dir = write_migrations(db.dir(), &[USERS, ("2024-03-02-000000_x", error_sql, "")]);
        let out = db.pelican(&dir, &["lint", "2024-03-02"]);
        let expected = if db.backend == Backend::Mysql { 0 } else { 1 };
        assert_eq!(out.code, expected, "{out:?}");
        assert!(
            out.stdout.contains("2024-03-02-000000_x/up.sql:1: ") && out.stdout.contains(&format!("[{rule}]")),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("fix: "), "{}", out.stdout);

        // Accepted on purpose: no finding, exit 0, and the comment means nothing to a run.
        let allowed = format!("-- pelican: allow {rule}\n{error_sql}");
        std::fs::write(dir.join("2024-03-02-000000_x/up.sql"), &allowed).unwrap();
        let (code, json) = lint_json(&db, &dir, &["2024-03-02-000000_x"]);
        assert_eq!((code, rules(&json).len()), (0, 0), "{json}");
        if db.backend != Backend::Postgres {
            db.pelican(&dir, &["migrate"]).success();
            assert_eq!(db.applied().len(), 2);
        }
    }
}

/// A migration named that is not there is a usage error naming it, as a target is.
#[cfg(feature = "sqlite")]
#[test]
fn an_unknown_migration_is_named() {
    let db = TestDb::new(Backend::Sqlite, "lint_unknown");
    let dir = write_migrations(db.dir(), &[USERS]);
    let out = db.pelican(&dir, &["lint", "2099"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("2099"), "{}", out.stderr);
}

/// docs/lint.md names every rule, so a new rule cannot go undocumented.
#[test]
fn every_rule_is_documented() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lint.md"))
        .unwrap();
    for rule in pelican::lint::RULES {
        assert!(
            docs.contains(&format!("| `{}` |", rule.name)),
            "{} is not in docs/lint.md",
            rule.name
        );
        assert!(
            docs.contains(&format!("-- {}\n", rule.name)),
            "{} has no example",
            rule.name
        );
    }
}
