//! The text every command prints on the example schema, pinned by snapshots
//! (`tests/snapshots/output__*.snap`): what a person reads is changed on purpose only.
//! Update with `INSTA_UPDATE=always cargo test --all-features --test output` (or
//! `cargo insta review`).

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use common::{example_migrations, TestDb};
use pelican::Backend;

/// Stdout, then stderr, with what changes from run to run replaced: durations,
/// timestamps, and the test's own folder.
fn normalized(stdout: &str, stderr: &str, dir: &str) -> String {
    let text = format!("--- stdout\n{stdout}--- stderr\n{stderr}").replace(dir, "<dir>");
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(&mask(line));
        out.push('\n');
    }
    out
}

/// `3.1 ms` → `<ms>`, `2026-11-27 16:30:12` → `<when>`, `1.2 s` → `<s>`.
fn mask(line: &str) -> String {
    let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let next = words.get(i + 1).map(String::as_str);
        let number = word.trim_start_matches('(').parse::<f64>().is_ok();
        if number
            && matches!(
                next.map(|n| n.trim_end_matches([')', ',', ':'])),
                Some("ms" | "s")
            )
        {
            let tail = next.unwrap_or_default();
            let unit = tail.trim_end_matches([')', ',', ':']);
            let prefix = if word.starts_with('(') { "(" } else { "" };
            out.push(format!("{prefix}<{unit}>{}", &tail[unit.len()..]));
            i += 2;
            continue;
        }
        let date = word.len() == 10
            && word.chars().filter(|c| *c == '-').count() == 2
            && word.chars().all(|c| c.is_ascii_digit() || c == '-');
        if date && next.is_some_and(|n| n.len() == 8 && n.matches(':').count() == 2) {
            out.push("<when>".to_owned());
            i += 2;
            continue;
        }
        out.push(word.clone());
        i += 1;
    }
    out.join(" ")
}

#[cfg(feature = "sqlite")]
#[test]
fn every_commands_text_keeps_its_shape() {
    let db = TestDb::new(Backend::Sqlite, "text_shapes");
    let migrations = example_migrations();
    let cases: &[(&str, &[&str])] = &[
        ("migrate_dry_run", &["migrate", "+2", "--dry-run"]),
        ("init", &["init"]),
        ("current", &["current"]),
        ("history", &["history"]),
        ("heads", &["heads"]),
        ("pending", &["pending"]),
        ("downgrade", &["downgrade", "-2"]),
        ("migrate", &["migrate"]),
        ("migrate_verbose", &["-v", "redo"]),
        ("stamp", &["stamp", "-1"]),
        ("boot", &["boot"]),
        ("reset_dry_run", &["reset", "--dry-run"]),
    ];
    let dir = db.dir().display().to_string();
    for (name, args) in cases {
        let out = db.pelican(&migrations, args);
        insta::assert_snapshot!(*name, normalized(&out.stdout, &out.stderr, &dir));
    }
}

#[test]
fn durations_and_timestamps_are_masked() {
    assert_eq!(
        mask("Applied 2024-01-15-090000_create_usuario (2 statement(s), 3.1 ms)"),
        "Applied 2024-01-15-090000_create_usuario (2 statement(s), <ms>)"
    );
    assert_eq!(
        mask("  [X] 2024-01-15-090000_x  2026-11-27 16:30:12"),
        "  [X] 2024-01-15-090000_x  <when>"
    );
}

backend_tests! {
    fn control_characters_in_names_are_shown_escaped(db: TestDb) {
        // A folder name with a terminal title sequence, a bell, a carriage return and a
        // newline: no text output passes one to the terminal raw.
        let evil = "2024-01-02-000000_b\x1b]0;owned\x07\r\nx";
        let dir = common::write_migrations(
            db.dir(),
            &[
                ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;"),
                (evil, "CREATE TABLE b (id INTEGER);", "DROP TABLE b;"),
            ],
        );
        let escaped = "2024-01-02-000000_b\\x1b]0;owned\\x07\\r\\nx";
        let raw = |out: &common::Output| {
            let text = format!("{}{}", out.stdout, out.stderr);
            assert!(
                !text.contains(['\x1b', '\x07', '\r']),
                "a control character reached the output raw: {text:?}"
            );
        };
        let run = db.pelican(&dir, &["-v", "migrate"]).success();
        raw(&run);
        assert!(run.stdout.contains(&format!("Applied {escaped} (")), "{run:?}");
        assert!(run.stderr.contains(&format!("Applying {escaped}")), "{run:?}");
        for args in [&["current"][..], &["history"], &["heads"], &["migration", "list"]] {
            let out = db.pelican(&dir, args).success();
            raw(&out);
            assert!(out.stdout.contains("\\x1b]0;owned\\x07\\r\\nx"), "{args:?}: {out:?}");
        }
        let down = db.pelican(&dir, &["downgrade", "-1"]).success();
        raw(&down);
        let pending = db.pelican(&dir, &["pending"]).success();
        raw(&pending);
        assert!(pending.stdout.contains("\\x1b]0;owned"), "{pending:?}");
        // The --sql script names the migration in a comment, escaped (in its own way:
        // src/script.rs), never raw.
        let script = db.pelican(&dir, &["migrate", "--sql"]).success();
        raw(&script);
        assert!(script.stdout.contains("owned"), "{script:?}");
        // JSON keeps the exact name (escaped by JSON itself).
        let json = db.pelican(&dir, &["--format", "json", "pending"]).success().json();
        assert_eq!(json["pending"][0]["name"], evil);
    }
}

/// A huge value in `metadata.toml` is named by its length in the error, not printed.
#[cfg(feature = "sqlite")]
#[test]
fn a_huge_metadata_value_is_clipped_in_the_error() {
    let db = TestDb::new(Backend::Sqlite, "huge_metadata");
    let dir = common::write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    let value = "x".repeat(5_000_000);
    std::fs::write(
        dir.join("2024-01-01-000000_a/metadata.toml"),
        format!("run_in_transaction = \"{value}\"\n"),
    )
    .unwrap();
    let out = db.pelican(&dir, &["migrate"]);
    assert_eq!(out.code, 1, "{}", &out.stderr[..out.stderr.len().min(500)]);
    assert!(
        out.stderr.len() < 1000,
        "{} bytes on stderr",
        out.stderr.len()
    );
    assert!(
        out.stderr
            .contains("metadata.toml: invalid type: string \"xxxxxxxx")
            && out.stderr.contains("… (5000003 characters)"),
        "{}",
        out.stderr
    );
}
