//! Joining never changes meaning, and atomic runs: `migrate` and `Boot` join the pending
//! migrations into one transaction on SQLite and PostgreSQL where that cannot change what
//! they do, so a failed run leaves the database as it was; the fresh build and the
//! atomic run commit where a migration sets session state or needs a commit, and before
//! the server's lock table fills; `migration run` keeps diesel's commit per migration.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use common::{write_migrations, TestDb};
use compare::{assert_same, diesel_ok, state, Diesel};
use pelican::{Backend, Boot, Migrations, Migrator, Progress, Target};

/// What a check query gives on diesel's harness, and on pelican's `init`, atomic
/// `migrate` and `migrate --no-atomic`, each from a new database: all the same.
#[allow(dead_code)]
fn same_as_diesel(backend: Backend, test: &str, migrations: &[(&str, &str, &str)], probe: &str) {
    let reference = TestDb::new(backend, &format!("{test}_diesel"));
    let dir = write_migrations(reference.dir(), migrations);
    diesel_ok(&reference, &dir, Diesel::RunPending);
    let expected = reference.query_strings(probe);
    for args in [&["init"][..], &["migrate"], &["migrate", "--no-atomic"]] {
        let db = TestDb::new(backend, test);
        db.pelican(&dir, args).success();
        assert_eq!(
            db.query_strings(probe),
            expected,
            "pelican {args:?} differs from diesel's harness"
        );
        assert_eq!(
            db.applied(),
            reference.applied(),
            "pelican {args:?}'s ledger"
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn set_local_search_path_stays_in_its_migration() {
    same_as_diesel(
        Backend::Postgres,
        "search_path",
        &[
            (
                "2024-01-01-000000_elsewhere",
                "CREATE SCHEMA other;\nSET LOCAL search_path = other, public;\n\
                 CREATE TABLE inside_other (id int);",
                "",
            ),
            (
                "2024-01-02-000000_next",
                "CREATE TABLE after_it (id int);",
                "",
            ),
        ],
        "SELECT table_schema || '.' || table_name AS value FROM information_schema.tables \
         WHERE table_name IN ('inside_other', 'after_it') ORDER BY 1",
    );
}

#[cfg(feature = "postgres")]
#[test]
fn set_search_path_without_local_is_as_under_diesel() {
    // diesel runs every migration on one connection. Under diesel 2.3 a session-level
    // SET reaches the migrations after it; diesel 2.4's harness sets the search_path
    // back after each migration on a PgConnection, so it does not. pelican does what
    // the diesel it is built with does; the ledger stays where it was either way.
    same_as_diesel(
        Backend::Postgres,
        "session_search_path",
        &[
            (
                "2024-01-01-000000_elsewhere",
                "CREATE SCHEMA other;\nSET search_path = other, public;",
                "",
            ),
            (
                "2024-01-02-000000_next",
                "CREATE TABLE after_it (id int);",
                "",
            ),
            (
                "2024-01-03-000000_last",
                "CREATE TABLE last_one (id int);",
                "",
            ),
        ],
        "SELECT table_schema || '.' || table_name AS value FROM information_schema.tables \
         WHERE table_name IN ('after_it', 'last_one', '__diesel_schema_migrations') ORDER BY 1",
    );
}

#[cfg(feature = "postgres")]
#[test]
fn session_replication_role_silences_only_its_own_migrations_triggers() {
    same_as_diesel(
        Backend::Postgres,
        "replication_role",
        &[
            (
                "2024-01-01-000000_audited",
                "CREATE TABLE audited (id int);\nCREATE TABLE audit_log (id int);\n\
                 CREATE FUNCTION log_it() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                 BEGIN INSERT INTO audit_log VALUES (NEW.id); RETURN NEW; END $$;\n\
                 CREATE TRIGGER log_it AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION log_it();",
                "",
            ),
            (
                "2024-01-02-000000_quietly",
                "SET LOCAL session_replication_role = replica;\nINSERT INTO audited VALUES (1);",
                "",
            ),
            ("2024-01-03-000000_loudly", "INSERT INTO audited VALUES (2);", ""),
        ],
        "SELECT id::text AS value FROM audit_log ORDER BY id",
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_value_added_to_an_enum_can_be_used_by_the_next_migration() {
    same_as_diesel(
        Backend::Postgres,
        "add_value",
        &[
            (
                "2024-01-01-000000_mood",
                "CREATE TYPE mood AS ENUM ('sad');\nCREATE TABLE feelings (m mood);",
                "",
            ),
            (
                "2024-01-02-000000_happy",
                "ALTER TYPE mood ADD VALUE 'happy';",
                "",
            ),
            (
                "2024-01-03-000000_use_it",
                "INSERT INTO feelings VALUES ('happy');",
                "",
            ),
        ],
        "SELECT m::text AS value FROM feelings",
    );
}

#[cfg(feature = "postgres")]
#[test]
fn the_report_says_where_an_atomic_run_committed_and_why() {
    let db = TestDb::new(Backend::Postgres, "commits");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id int);", ""),
            ("2024-01-02-000000_b", "CREATE TABLE b (id int);", ""),
            (
                "2024-01-03-000000_set",
                "SET LOCAL lock_timeout = '5s';\nCREATE TABLE c (id int);",
                "",
            ),
            (
                "2024-01-04-000000_d",
                "CREATE TYPE e AS ENUM ('x');\nALTER TYPE e ADD VALUE 'y';",
                "",
            ),
            ("2024-01-05-000000_f", "CREATE TABLE f (id int);", ""),
        ],
    );
    let out = db.pelican(&dir, &["--format", "json", "migrate"]).success();
    let json = out.json();
    assert_eq!(json["atomic"], true);
    let commits: Vec<(String, String)> = json["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| {
            (
                c["after"].as_str().unwrap().to_owned(),
                c["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("20240102000000", "session_state"),
        ("20240103000000", "session_state"),
        ("20240104000000", "needs_commit"),
        ("20240105000000", "end"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(commits, expected);
    assert_eq!(json["steps"].as_array().unwrap().len(), 5);

    // The text report says so too, one line per commit.
    let db = TestDb::new(Backend::Postgres, "commits_text");
    let out = db.pelican(&dir, &["migrate"]).success();
    assert!(
        out.stdout.contains(
            "Committed after 20240103000000: a migration that sets session state runs in a \
             transaction of its own"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Committed after 20240105000000: the end of the run"),
        "{}",
        out.stdout
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_dry_run_says_where_the_run_would_commit() {
    let db = TestDb::new(Backend::Postgres, "dry_commits");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id int);", ""),
            (
                "2024-01-02-000000_set",
                "SET LOCAL lock_timeout = '5s';",
                "",
            ),
            ("2024-01-03-000000_c", "CREATE TABLE c (id int);", ""),
        ],
    );
    let json = db
        .pelican(&dir, &["--format", "json", "migrate", "--dry-run"])
        .success()
        .json();
    assert_eq!(json["atomic"], true);
    let reasons: Vec<&str> = json["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["session_state", "session_state", "end"]);
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    // Without joining, a dry run has no commits to show.
    let json = db
        .pelican(
            &dir,
            &["--format", "json", "migrate", "--dry-run", "--no-atomic"],
        )
        .success()
        .json();
    assert_eq!(json["atomic"], false);
    assert_eq!(json["commits"], serde_json::json!([]));
}

/// The first migration, applied; then three more, the last of which fails.
fn applied_then_failing(db: &TestDb) -> PathBuf {
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_first",
            "CREATE TABLE first_t (id INTEGER);\nINSERT INTO first_t (id) VALUES (1);",
            "",
        )],
    );
    db.pelican(&dir, &["migrate"]).success();
    write_migrations(
        db.dir(),
        &[
            (
                "2024-01-02-000000_second",
                "CREATE TABLE second_t (id INTEGER);\nINSERT INTO second_t (id) VALUES (2);",
                "",
            ),
            (
                "2024-01-03-000000_third",
                "ALTER TABLE first_t ADD COLUMN note VARCHAR(20);\nUPDATE first_t SET note = 'x';",
                "",
            ),
            (
                "2024-01-04-000000_broken",
                "CREATE TABLE fourth_t (id INTEGER);\nINSERT INTO nowhere (id) VALUES (1);",
                "",
            ),
        ],
    )
}

backend_tests! {
    fn a_failed_atomic_run_leaves_the_database_as_before(db: TestDb) {
        let dir = applied_then_failing(&db);
        let before = state(&db);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("nowhere"), "{}", out.stderr);
        if db.backend == Backend::Mysql {
            // MySQL's DDL commits itself: the migrations before the failure stay.
            assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
            return;
        }
        assert_same(&before, &state(&db), "a failed atomic migrate");
        assert_eq!(db.applied(), ["20240101000000"]);
        // The error says what the rollback undid.
        assert!(
            out.stderr.contains(
                "the run's transaction was rolled back, undoing the 2 migration(s) it had run \
                 before this one: 2024-01-02-000000_second, 2024-01-03-000000_third"
            ),
            "{}",
            out.stderr
        );
        // Nothing of the run was reported applied.
        assert!(!out.stdout.contains("second"), "{}", out.stdout);
    }

    fn a_syntax_error_fails_its_own_migration_among_others_sent_together(db: TestDb) {
        // PostgreSQL parses a batch whole before it runs any of it: a syntax error in
        // one file of a batch of several stops them all, and the run goes on with them
        // one by one, so the error is the broken file's own.
        let dir = write_migrations(
            db.dir(),
            &[
                ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
                ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", ""),
                ("2024-01-03-000000_c", "CREATE TABLE c (id INTEGER);", ""),
                ("2024-01-04-000000_d", "CREATE TABLE d (id INTEGER);", ""),
                (
                    "2024-01-05-000000_broken",
                    "CREATE TABLE e (id INTEGER);\nCREATE TABLE WHERE f;",
                    "",
                ),
            ],
        );
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(
                "migration 2024-01-05-000000_broken failed: "
            ) && out.stderr.contains("line 2: `CREATE TABLE WHERE f`"),
            "{}",
            out.stderr
        );
        if db.backend == Backend::Mysql {
            return;
        }
        assert!(
            out.stderr.contains("undoing the 4 migration(s) it had run before this one"),
            "{}",
            out.stderr
        );
        assert!(!db.tables().contains(&"a".to_owned()), "{:?}", db.tables());
        // Fixed, it runs.
        write_migrations(
            db.dir(),
            &[("2024-01-05-000000_broken", "CREATE TABLE e (id INTEGER);", "")],
        );
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.applied().len(), 5);
    }

    fn migration_run_keeps_the_migrations_before_a_failure(db: TestDb) {
        let dir = applied_then_failing(&db);
        let out = db.pelican(&dir, &["migration", "run"]);
        assert_ne!(out.code, 0, "{out:?}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
        assert!(db.tables().contains(&"second_t".to_owned()));
    }

    fn no_atomic_keeps_the_migrations_before_a_failure(db: TestDb) {
        let dir = applied_then_failing(&db);
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
    }

    fn after_stamp_base_a_failed_migrate_recreates_nothing(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_old", "CREATE TABLE old_t (id INTEGER);", ""),
            ("2024-01-02-000000_rename", "ALTER TABLE old_t RENAME TO new_t;", ""),
            ("2024-01-03-000000_other", "CREATE TABLE other_t (id INTEGER);", ""),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        db.pelican(&dir, &["stamp", "base"]).success();
        let before = state(&db);
        // Without guards, the rename finds new_t there and fails.
        let out = db.pelican(&dir, &["migrate", "--no-guards"]);
        assert_eq!(out.code, 1, "{out:?}");
        if db.backend == Backend::Mysql {
            assert!(db.tables().contains(&"old_t".to_owned()));
            return;
        }
        assert_same(&before, &state(&db), "a failed migrate after stamp base");
        assert!(!db.tables().contains(&"old_t".to_owned()), "old_t was re-created");
        // Committing each migration, the first one's table stays.
        let out = db.pelican(&dir, &["migrate", "--no-guards", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(db.tables().contains(&"old_t".to_owned()));
    }

    fn a_step_is_reported_done_only_once_it_committed(db: TestDb) {
        let dir = applied_then_failing(&db);
        let migrations = Migrations::from_dir(&dir).unwrap();
        let done = RefCell::new(Vec::new());
        let progress = |p: Progress<'_>| {
            if let Progress::Done { step, .. } = p {
                done.borrow_mut().push(step.version.clone());
            }
        };
        let mut conn = db.connect();
        let error = Migrator::new(&migrations)
            .with_progress(&progress)
            .migrate(&mut conn, &Target::Head)
            .unwrap_err();
        let committed: &[&str] = if db.backend == Backend::Mysql {
            &["20240102000000", "20240103000000"]
        } else {
            &[]
        };
        assert_eq!(*done.borrow(), committed, "{error}");
        assert_eq!(
            error.partial_report().map(|r| r.steps.len()).unwrap_or(0),
            committed.len(),
            "{error}"
        );
        // Without the failing migration, the steps are done once the run committed.
        std::fs::remove_dir_all(dir.join("2024-01-04-000000_broken")).unwrap();
        let migrations = Migrations::from_dir(&dir).unwrap();
        done.borrow_mut().clear();
        let report = Migrator::new(&migrations)
            .with_progress(&progress)
            .migrate(&mut conn, &Target::Head)
            .unwrap();
        let rest: &[&str] = if db.backend == Backend::Mysql {
            // Applied by the failed run already.
            &[]
        } else {
            &["20240102000000", "20240103000000"]
        };
        assert_eq!(*done.borrow(), rest);
        assert_eq!(report.atomic, db.backend != Backend::Mysql);
    }

    fn a_refused_file_among_others_sent_together_runs_again_guarded_alone(db: TestDb) {
        // An atomic run sends consecutive migrations in one batch where the server is
        // across a network (PostgreSQL): the file refused there is run again guarded,
        // and the ones before it in the batch are not run again (a row they inserted
        // keeps the value its sequence gave it the first time).
        let key = match db.backend {
            Backend::Postgres => "SERIAL PRIMARY KEY",
            Backend::Mysql => "INTEGER PRIMARY KEY AUTO_INCREMENT",
            _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        let create = format!("CREATE TABLE counted (id {key}, name VARCHAR(20));");
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_counted", &create, "")]);
        db.pelican(&dir, &["migrate"]).success();
        db.execute("CREATE TABLE made_by_hand (id INTEGER)");
        let mut later: Vec<(String, String)> = ["b", "c", "d", "e", "f"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    format!("2024-01-0{}-000000_{name}", i + 2),
                    format!("INSERT INTO counted (name) VALUES ('{name}');"),
                )
            })
            .collect();
        later.push((
            "2024-01-07-000000_by_hand".to_owned(),
            "CREATE TABLE made_by_hand (id INTEGER);".to_owned(),
        ));
        later.push((
            "2024-01-08-000000_h".to_owned(),
            "INSERT INTO counted (name) VALUES ('h');".to_owned(),
        ));
        let later: Vec<(&str, &str, &str)> = later
            .iter()
            .map(|(name, up)| (name.as_str(), up.as_str(), ""))
            .collect();
        let dir = write_migrations(db.dir(), &later);
        let migrations = Migrations::from_dir(&dir).unwrap();
        let announced = RefCell::new(Vec::new());
        let progress = |p: Progress<'_>| {
            if let Progress::Starting { step, .. } = p {
                announced.borrow_mut().push(step.migration.version().to_owned());
            }
        };
        let report = Migrator::new(&migrations)
            .with_progress(&progress)
            .migrate(&mut db.connect(), &Target::Head)
            .unwrap();
        let versions: Vec<String> = report.steps.iter().map(|s| s.version.clone()).collect();
        assert_eq!(*announced.borrow(), versions, "each step announced once");
        assert_eq!(versions.len(), 7);
        let skipped: Vec<usize> = report.steps.iter().map(|s| s.statements_skipped).collect();
        assert_eq!(skipped, [0, 0, 0, 0, 0, 1, 0]);
        // No value taken twice from the sequence: each row's id is the one it got.
        assert_eq!(
            db.query_strings("SELECT CAST(id AS CHAR(10)) AS value FROM counted ORDER BY id"),
            ["1", "2", "3", "4", "5", "6"]
        );
        assert_eq!(
            db.query_strings("SELECT name AS value FROM counted ORDER BY id"),
            ["b", "c", "d", "e", "f", "h"]
        );
        // The journal in the run's order, the skip in its row.
        let mut journal = vec!["20240101000000".to_owned()];
        journal.extend(versions.iter().cloned());
        assert_eq!(
            db.query_strings("SELECT version AS value FROM __pelican_journal ORDER BY id"),
            journal
        );
        assert_eq!(
            db.query_strings(
                "SELECT CAST(statements_skipped AS CHAR(10)) AS value FROM __pelican_journal \
                 ORDER BY id"
            ),
            ["0", "0", "0", "0", "0", "0", "1", "0"]
        );
        assert_eq!(db.applied().len(), 8);
    }

    fn boot_upgrades_atomically_unless_told(db: TestDb) {
        let dir = applied_then_failing(&db);
        let migrations = Migrations::from_dir(&dir).unwrap();
        let mut conn = db.connect();
        Boot::new(&migrations).auto_migrate(true).run(&mut conn).unwrap_err();
        let kept: &[&str] = if db.backend == Backend::Mysql {
            &["20240101000000", "20240102000000", "20240103000000"]
        } else {
            &["20240101000000"]
        };
        assert_eq!(db.applied(), kept);
        Boot::new(&migrations).auto_migrate(true).atomic(false).run(&mut conn).unwrap_err();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
    }

    fn a_failed_atomic_downgrade_reverts_nothing(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;"),
            ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", "DROP TABLE nowhere;"),
            ("2024-01-03-000000_c", "CREATE TABLE c (id INTEGER);", "DROP TABLE c;"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        let before = state(&db);
        let out = db.pelican(&dir, &["downgrade", "base", "--no-guards"]);
        assert_eq!(out.code, 1, "{out:?}");
        if db.backend == Backend::Mysql {
            assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
            return;
        }
        assert_same(&before, &state(&db), "a failed atomic downgrade");
        let out = db.pelican(&dir, &["downgrade", "base", "--no-guards", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }

    fn pelican_boot_upgrades_atomically_unless_told(db: TestDb) {
        let dir = applied_then_failing(&db);
        let boot = |args: &[&str]| {
            let mut command = db.command(&dir, args);
            common::Output::from(command.env("AUTO_MIGRATE", "1").output().unwrap())
        };
        let out = boot(&["boot"]);
        assert_eq!(out.code, 1, "{out:?}");
        let kept: &[&str] = if db.backend == Backend::Mysql {
            &["20240101000000", "20240102000000", "20240103000000"]
        } else {
            &["20240101000000"]
        };
        assert_eq!(db.applied(), kept);
        let out = boot(&["boot", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
    }
}

backend_tests! {
    fn reset_rebuilds_a_history_with_a_migration_outside_a_transaction(db: TestDb) {
        let index = match db.backend {
            Backend::Postgres => "CREATE INDEX CONCURRENTLY a_id ON a (id);",
            _ => "CREATE INDEX a_id ON a (id);",
        };
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
            ("2024-01-02-000000_index", index, ""),
        ]);
        std::fs::write(
            dir.join("2024-01-02-000000_index/metadata.toml"),
            "run_in_transaction = false\n",
        )
        .unwrap();
        db.pelican(&dir, &["init"]).success();
        db.pelican(&dir, &["reset", "--yes"]).success();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }
}

/// `count` migrations, each creating one table.
fn many_tables(root: &Path, count: usize) -> PathBuf {
    let dir = root.join("migrations");
    for n in 0..count {
        let folder = dir.join(format!("2024-01-01-{n:06}_t{n}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("up.sql"),
            format!("CREATE TABLE t{n} (id int);"),
        )
        .unwrap();
    }
    dir
}

#[cfg(feature = "postgres")]
#[test]
fn five_thousand_migrations_build_fresh_and_load_as_a_snapshot() {
    // One transaction of 5,000 tables takes more locks than the server's lock table
    // holds with max_locks_per_transaction = 64: the build commits in parts.
    let db = TestDb::new(Backend::Postgres, "five_thousand");
    let dir = many_tables(db.dir(), 5000);
    let migrations = Migrations::from_dir(&dir).unwrap();
    let mut conn = db.connect();
    let report = Boot::new(&migrations).run(&mut conn).unwrap();
    assert_eq!(report.stamped, 5000);
    assert!(report.commits.len() > 1, "{:?}", report.commits);
    assert!(
        report
            .commits
            .iter()
            .any(|c| c.reason == pelican::migrator::CommitReason::LockBudget),
        "{:?}",
        report.commits
    );
    assert_eq!(db.applied().len(), 5000);
    let count = db.query_strings(
        "SELECT count(*)::text AS value FROM pg_tables WHERE schemaname = 'public' \
         AND tablename ~ '^t[0-9]+$'",
    );
    assert_eq!(count, ["5000"]);
    assert!(!db.tables().contains(&"__pelican_build".to_owned()));

    // Its snapshot loads on a new database the same way.
    let snapshot = pelican::snapshot::Snapshot::generate(&mut conn, &migrations).unwrap();
    let loaded = TestDb::new(Backend::Postgres, "five_thousand_snapshot");
    let report = Boot::new(&migrations)
        .snapshot(snapshot.sql().to_owned())
        .run(&mut loaded.connect());
    let report = match report {
        Ok(report) => report,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(report.build, Some(pelican::boot::Build::Snapshot));
    assert_eq!(loaded.applied().len(), 5000);
    let count = loaded.query_strings(
        "SELECT count(*)::text AS value FROM pg_tables WHERE schemaname = 'public' \
         AND tablename ~ '^t[0-9]+$'",
    );
    assert_eq!(count, ["5000"]);
}

#[cfg(feature = "postgres")]
#[test]
fn a_failed_build_in_parts_leaves_nothing() {
    let db = TestDb::new(Backend::Postgres, "parts_fail");
    db.execute("CREATE FUNCTION dba_owned() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id int);", ""),
            (
                "2024-01-02-000000_set",
                "SET LOCAL lock_timeout = '5s';\nCREATE TABLE b (id int);",
                "",
            ),
            ("2024-01-03-000000_c", "CREATE TABLE c (id int);", ""),
            (
                "2024-01-04-000000_broken",
                "CREATE TABLE d (id int);\nINSERT INTO nowhere VALUES (1);",
                "",
            ),
        ],
    );
    let out = db.pelican(&dir, &["init"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("2024-01-04-000000_broken"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    // What the database held before the build stays.
    assert_eq!(
        db.query_strings("SELECT proname::text AS value FROM pg_proc WHERE proname = 'dba_owned'"),
        ["dba_owned"]
    );
}

#[cfg(feature = "postgres")]
#[test]
fn five_thousand_migrations_migrate_committing_in_chunks() {
    // An atomic run of 5,000 table-creating migrations commits before its locks would
    // fill a quarter of the server's lock table, and says so.
    let db = TestDb::new(Backend::Postgres, "five_thousand_migrate");
    let dir = many_tables(db.dir(), 5000);
    let migrations = Migrations::from_dir(&dir).unwrap();
    let report = Migrator::new(&migrations)
        .migrate(&mut db.connect(), &Target::Head)
        .unwrap();
    assert!(report.atomic);
    assert_eq!(report.steps.len(), 5000);
    let budget = report
        .commits
        .iter()
        .filter(|c| c.reason == pelican::migrator::CommitReason::LockBudget)
        .count();
    assert!(budget > 1, "{:?}", report.commits);
    assert_eq!(
        report.commits.last().map(|c| c.after.as_str()),
        Some("20240101004999")
    );
    assert_eq!(db.applied().len(), 5000);
}

#[cfg(feature = "postgres")]
#[test]
fn a_failed_part_holding_the_snapshot_names_the_statement_that_fails() {
    // The snapshot and the migration after it share the first part (the one after that
    // sets session state): the failing statement is found by replaying the snapshot's
    // share of the part, then the migration statement by statement.
    let db = TestDb::new(Backend::Postgres, "snapshot_part");
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id int);", "")],
    );
    let older = Migrations::from_dir(&dir).unwrap();
    let snapshot = pelican::snapshot::Snapshot::create(&db.url, &older, None).unwrap();
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-02-000000_seed",
                "INSERT INTO a VALUES (1);\nINSERT INTO nowhere VALUES (1);",
                "",
            ),
            (
                "2024-01-03-000000_set",
                "SET LOCAL lock_timeout = '5s';",
                "",
            ),
        ],
    );
    let migrations = Migrations::from_dir(&dir).unwrap();
    let error = Boot::new(&migrations)
        .snapshot(snapshot.sql().to_owned())
        .run(&mut db.connect())
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("2024-01-02-000000_seed"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("nowhere"), "{message}");
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}
