//! `--sql` scripts and dry runs, held to what `migrate` does: a script applied by the
//! database's own client (`psql`, `sqlite3`, `mariadb`) gives the schema, ledger and
//! rows `migrate` gives, names from files cannot become SQL in it, and a dry run leaves
//! the database as it found it (a SQLite file byte for byte, PostgreSQL's sequences).

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::path::{Path, PathBuf};

use common::{write_migrations, Output, TestDb};
use compare::{assert_same, state};
use pelican::Backend;

/// Applies a script with the database's own command-line client, stopping at its
/// first error, and panics with the client's message if it fails.
fn apply_with_the_client(db: &TestDb, script: &str) {
    let out = client(db, script);
    assert!(
        out.status.success(),
        "the client refused the script: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a script with the database's own client, as a user would, without options
/// (the script itself tells `psql` and `sqlite3` to stop at the first error).
fn client(db: &TestDb, script: &str) -> std::process::Output {
    let file = db.dir().join("script.sql");
    std::fs::write(&file, script).unwrap();
    let mut command = db.client(&file, &[]);
    command.output().expect("the database's client runs")
}

/// A history of `(name, up.sql)`, versions one second apart from 2024-01-01, with
/// `metadata.toml` (`run_in_transaction = false`) in those named in `outside`.
fn history(root: &Path, ups: &[(&str, &str)], outside: &[&str]) -> PathBuf {
    let named: Vec<(String, &str)> = ups
        .iter()
        .enumerate()
        .map(|(i, (name, up))| (format!("2024-01-01-0000{i:02}_{name}"), *up))
        .collect();
    let triples: Vec<(&str, &str, &str)> = named
        .iter()
        .map(|(name, up)| (name.as_str(), *up, ""))
        .collect();
    let dir = write_migrations(root, &triples);
    for (name, _) in &named {
        if outside.iter().any(|o| name.ends_with(&format!("_{o}"))) {
            std::fs::write(
                dir.join(name).join("metadata.toml"),
                "run_in_transaction = false\n",
            )
            .unwrap();
        }
    }
    dir
}

/// The script of `migrate` on `db`, applied by the client, gives what `migrate` gives
/// on a database of its own.
fn assert_script_is_the_run(db: &TestDb, dir: &Path) -> String {
    let script = db.pelican(dir, &["migrate", "--sql"]).success().stdout;
    apply_with_the_client(db, &script);
    let reference = TestDb::new(db.backend, "script_reference");
    reference.pelican(dir, &["migrate"]).success();
    assert_same(
        &state(&reference),
        &state(db),
        "the script applied by the client",
    );
    // pelican reads what the script recorded as its own.
    let out = db
        .pelican(dir, &["--format", "json", "current"])
        .success()
        .json();
    assert_eq!(out["pending"], 0, "{script}");
    script
}

backend_tests! {
    fn a_script_runs_a_migration_outside_a_transaction_as_migrate_does(db: TestDb) {
        // An index made outside a transaction, which the next migration drops and makes
        // again: a script that left it out would keep the wrong one.
        let (outside, again) = match db.backend {
            Backend::Postgres => (
                "CREATE INDEX CONCURRENTLY ix_t_n ON t (n);\nVACUUM t;",
                "DROP INDEX ix_t_n;\nCREATE INDEX ix_t_n ON t (id, n);",
            ),
            Backend::Sqlite => (
                "CREATE INDEX ix_t_n ON t (n);\nVACUUM;",
                "DROP INDEX ix_t_n;\nCREATE INDEX ix_t_n ON t (id, n);",
            ),
            Backend::Mysql => (
                "CREATE INDEX ix_t_n ON t (n);\nINSERT INTO t (id, n) VALUES (2, 2);",
                "DROP INDEX ix_t_n ON t;\nCREATE INDEX ix_t_n ON t (id, n);",
            ),
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let dir = history(db.dir(), &[
            ("t", "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\nINSERT INTO t (id, n) VALUES (1, 1);"),
            ("outside", outside),
            ("again", again),
        ], &["outside"]);
        let script = assert_script_is_the_run(&db, &dir);
        // Its statements each on their own: no BEGIN around them.
        let part = script.split("_outside (up)").nth(1).unwrap();
        let part = part.split("_again (up)").next().unwrap();
        assert!(!part.contains("BEGIN"), "{script}");
        assert!(part.contains("CREATE INDEX"), "{script}");
    }

    fn a_script_runs_routines_in_the_databases_own_client(db: TestDb) {
        let routines = match db.backend {
            Backend::Postgres => "CREATE FUNCTION bump() RETURNS trigger AS $$\nBEGIN\n  NEW.n := NEW.n + 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION bump();",
            Backend::Sqlite => "CREATE TRIGGER t_bump AFTER INSERT ON t BEGIN\n  UPDATE t SET n = n + 1 WHERE id = NEW.id;\n  INSERT INTO log (id) VALUES (NEW.id);\nEND;",
            Backend::Mysql => "CREATE PROCEDURE fill(IN k INT)\nBEGIN\n  INSERT INTO log (id) VALUES (k);\n  SELECT 'a;$$//' AS x;\nEND;\nCREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.n = NEW.n + 1;\n  INSERT INTO log (id) VALUES (NEW.id);\nEND;\nCALL fill(100);",
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let dir = history(db.dir(), &[
            ("t", "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\nCREATE TABLE log (id INTEGER);"),
            ("routines", routines),
            ("rows", "INSERT INTO t (id, n) VALUES (1, 1);"),
        ], &[]);
        let script = assert_script_is_the_run(&db, &dir);
        if db.backend == Backend::Mysql {
            assert!(script.contains("DELIMITER"), "{script}");
        }
        assert_eq!(db.query_strings("SELECT CAST(n AS CHAR(10)) AS value FROM t"), ["2"]);
    }

    fn a_script_runs_the_ledgers_ddl_on_a_new_database(db: TestDb) {
        let dir = history(db.dir(), &[("t", "CREATE TABLE t (id INTEGER);")], &[]);
        let script = assert_script_is_the_run(&db, &dir);
        assert!(script.contains("CREATE TABLE IF NOT EXISTS"), "{script}");
    }

    fn a_folder_name_cannot_become_sql_in_a_script(db: TestDb) {
        let dir = history(db.dir(), &[
            ("users", "CREATE TABLE users (id INTEGER PRIMARY KEY);\nINSERT INTO users (id) VALUES (1);"),
        ], &[]);
        db.pelican(&dir, &["migrate"]).success();
        for (i, tail) in [
            "x\nDELETE FROM users;\n-- ",
            "x\rDELETE FROM users;\r-- ",
            // A `/` cannot be in a folder name: `*/` can only come from a file's text.
            "x'; DELETE FROM users; -- *",
            "x\u{1b}[2K\u{1b}\nDELETE FROM users;",
            "x\u{2028}DELETE FROM users;\u{85}DELETE FROM users;",
        ]
        .into_iter()
        .enumerate()
        {
            let name = format!("2024-01-02-00000{i}_{tail}");
            let folder = dir.join(&name);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("up.sql"), "CREATE TABLE IF NOT EXISTS other (id INTEGER);").unwrap();
            let script = db.pelican(&dir, &["migrate", "--sql"]).success().stdout;
            assert!(!script.contains('\u{1b}'), "{script:?}");
            for line in script.lines() {
                assert!(!line.starts_with("DELETE"), "{script}");
            }
            apply_with_the_client(&db, &script);
            assert_eq!(
                db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM users"),
                ["1"],
                "the folder name {name:?} ran as SQL:\n{script}"
            );
            assert_eq!(db.applied().len(), i + 2, "{script}");
        }
    }

    fn a_script_stops_at_its_first_error_in_the_client(db: TestDb) {
        let dir = history(db.dir(), &[
            ("t", "CREATE TABLE t (id INTEGER);"),
            ("row", "INSERT INTO t (id) VALUES (1);"),
            ("u", "CREATE TABLE u (id INTEGER);"),
        ], &[]);
        let script = db.pelican(&dir, &["migrate", "--sql"]).success().stdout;
        // The first migration now fails where the script is applied.
        db.execute("CREATE TABLE t (id INTEGER, n INTEGER)");
        let out = client(&db, &script);
        assert!(!out.status.success(), "{script}");
        assert!(!db.tables().contains(&"u".to_owned()), "the client went on after the error:\n{script}");
        assert_eq!(db.applied(), Vec::<String>::new());
    }

    fn a_dry_run_does_not_run_a_files_own_begin_and_commit(db: TestDb) {
        let own = match db.backend {
            Backend::Mysql => "START TRANSACTION;\nINSERT INTO t (id) VALUES (2);\nCOMMIT;\nCREATE TABLE c (id INTEGER);",
            _ => "BEGIN;\nINSERT INTO t (id) VALUES (2);\nCOMMIT;\nCREATE TABLE c (id INTEGER);",
        };
        let dir = history(db.dir(), &[
            ("t", "CREATE TABLE t (id INTEGER);\nINSERT INTO t (id) VALUES (1);"),
            ("own", own),
        ], &[]);
        db.pelican(&dir, &["migrate", "+1"]).success();
        let tables = db.tables();
        let out = db.pelican(&dir, &["migrate", "--dry-run"]).success();
        if db.backend != Backend::Mysql {
            assert!(out.stdout.contains("NOT TRIED line 1"), "{}", out.stdout);
            assert!(out.stdout.contains("NOT TRIED line 3"), "{}", out.stdout);
            assert!(out.stdout.contains("begins or ends a transaction: not tried"), "{}", out.stdout);
            assert!(out.stdout.contains("Dry run: every statement above but those NOT TRIED ran in a transaction that was rolled back; nothing was changed"), "{}", out.stdout);
        }
        assert_eq!(db.tables(), tables, "the dry run committed: {}", out.stdout);
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR(10)) AS value FROM t"), ["1"]);
        assert_eq!(db.applied().len(), 1);
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_dry_run_leaves_the_files_bytes_as_they_were() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_dry_run_bytes");
    let dir = history(
        db.dir(),
        &[
            ("t", "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);"),
            (
                "rows",
                "INSERT INTO t (n) VALUES (1), (2);\nCREATE TABLE u (id INTEGER);",
            ),
            ("vacuum", "DELETE FROM t;\nVACUUM;"),
            (
                "fk",
                "PRAGMA foreign_keys = OFF;\nCREATE TABLE v (id INTEGER REFERENCES t (id));",
            ),
            (
                "wal",
                "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = OFF;\nCREATE TABLE w (id INTEGER);",
            ),
        ],
        &["vacuum", "fk", "wal"],
    );
    for name in ["t", "rows", "vacuum", "fk", "wal"] {
        let folder = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(&format!("_{name}")))
            .unwrap();
        std::fs::write(folder.join("down.sql"), "SELECT 1;").unwrap();
    }
    db.pelican(&dir, &["migrate", "+2"]).success();
    let before = std::fs::read(&db.url).unwrap();
    for args in [
        &["migrate", "--dry-run"][..],
        &["migrate", "--sql"],
        &["migrate", "+1", "--dry-run"],
        &["downgrade", "base", "--dry-run"],
        &["redo", "--dry-run"],
    ] {
        let out = db.pelican(&dir, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(
            std::fs::read(&db.url).unwrap() == before,
            "{args:?} changed the file's bytes"
        );
        if args == ["migrate", "--dry-run"] {
            // What cannot run in the dry run's transaction is said, not tried.
            assert!(
                out.stdout
                    .contains("NOT TRIED line 2    PRAGMA synchronous = OFF"),
                "{}",
                out.stdout
            );
        }
    }
    assert!(!db.dir().join("test.db-wal").exists());
    assert_eq!(db.applied().len(), 2);
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_dry_run_leaves_the_sequences_as_they_were() {
    let db = TestDb::new(Backend::Postgres, "dry_run_sequences");
    let dir = history(
        db.dir(),
        &[
            (
                "tables",
                "CREATE TABLE parent (id SERIAL PRIMARY KEY, name TEXT);\n\
                 CREATE TABLE child (id BIGINT GENERATED ALWAYS AS IDENTITY, parent_id INT REFERENCES parent (id));\n\
                 CREATE SEQUENCE counter START 5;",
            ),
            (
                "rows",
                "INSERT INTO parent (name) VALUES ('a'), ('b');\n\
                 INSERT INTO child (parent_id) VALUES (1), (2);\n\
                 SELECT nextval('counter');",
            ),
            // Right only with the ids diesel gives: 1 and 2.
            ("more", "INSERT INTO child (parent_id) SELECT id FROM parent WHERE id = 2;"),
        ],
        &[],
    );
    db.pelican(&dir, &["migrate", "+1"]).success();
    let sequences = || {
        db.query_strings(
            "SELECT sequencename || ' ' || coalesce(last_value::text, '-') AS value \
             FROM pg_sequences ORDER BY sequencename",
        )
    };
    let before = sequences();
    let dry = db.pelican(&dir, &["migrate", "--dry-run"]).success();
    assert!(!dry.stderr.contains("warning"), "{}", dry.stderr);
    assert_eq!(sequences(), before, "the dry run moved a sequence");
    db.pelican(&dir, &["migrate", "--sql"]).success();
    assert_eq!(sequences(), before, "--sql moved a sequence");
    db.pelican(&dir, &["migrate"]).success();
    assert_eq!(
        db.query_strings("SELECT id::text AS value FROM parent ORDER BY id"),
        ["1", "2"]
    );
    assert_eq!(
        db.query_strings(
            "SELECT id::text || ':' || parent_id::text AS value FROM child ORDER BY id"
        ),
        ["1:1", "2:2", "3:2"]
    );
    assert_eq!(
        db.query_strings("SELECT last_value::text AS value FROM counter"),
        ["5"]
    );
}

#[cfg(feature = "postgres")]
#[test]
fn the_crates_io_script_applied_by_psql_gives_what_migrate_gives() {
    let crates_io =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora/crates.io/migrations");
    let db = TestDb::new(Backend::Postgres, "crates_io_script");
    let script = assert_script_is_the_run(&db, &crates_io);
    assert!(
        script.contains("create index concurrently if not exists versions_id_yanked_idx"),
        "the script left out a migration outside a transaction"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_dry_run_says_which_sequences_it_cannot_read() {
    let db = TestDb::new(Backend::Postgres, "dry_run_unreadable_sequence");
    let role = db.name().replace("pelican_t_", "pelican_r_");
    db.execute(&format!(
        "CREATE ROLE \"{role}\" LOGIN; GRANT ALL ON SCHEMA public TO \"{role}\"; \
         CREATE SEQUENCE hidden_seq;"
    ));
    let dir = history(
        db.dir(),
        &[(
            "t",
            "CREATE TABLE t (id SERIAL PRIMARY KEY);\nINSERT INTO t DEFAULT VALUES;",
        )],
        &[],
    );
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let dry = Output::from(
        db.command_with_url(&url, &dir, &["migrate", "--dry-run"])
            .output()
            .unwrap(),
    );
    db.execute(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"));
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stderr.contains(
            "warning: sequence public.hidden_seq cannot be read by this user (no SELECT \
             privilege): values the dry run took from it, if any, stay taken"
        ),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stdout
            .contains("nothing was changed but what the warnings above name"),
        "{}",
        dry.stdout
    );
    assert_eq!(db.tables(), Vec::<String>::new());
}

/// psql replaces `:name` outside quotes with its variable's value: `a[1:PORT]` (a slice
/// up to the column `port`) would reach the server as `a[15432]`, one element. `--sql`
/// refuses such a statement, naming it; colons psql leaves alone (in strings, comments,
/// bodies, casts, numeric slices, `:=`) are written, and psql applies them as `migrate`.
#[cfg(feature = "postgres")]
#[test]
fn a_psql_variable_in_a_statement_is_refused_and_other_colons_are_written() {
    let db = TestDb::new(Backend::Postgres, "script_colons");
    let dir = history(
        db.dir(),
        &[(
            "colons",
            "CREATE TABLE t (a INTEGER[], port INTEGER, note TEXT DEFAULT 'a:b :USER');\n\
             CREATE FUNCTION f(x INTEGER) RETURNS TEXT LANGUAGE sql AS $$ SELECT ':USER' || x::text $$;\n\
             -- :USER in a comment\n\
             CREATE VIEW v AS SELECT a[1:2] AS two, f(x := port) AS named FROM t;\n",
        )],
        &[],
    );
    assert_script_is_the_run(&db, &dir);

    let db = TestDb::new(Backend::Postgres, "script_variable");
    let dir = history(
        db.dir(),
        &[(
            "slice",
            "CREATE TABLE t (a INTEGER[], port INTEGER);\n\
             CREATE VIEW v AS SELECT a[1:PORT] AS s FROM t;\n",
        )],
        &[],
    );
    let out = db.pelican(&dir, &["migrate", "--sql"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "2024-01-01-000000_slice (up), line 2: `CREATE VIEW v AS SELECT a[1:PORT] AS s FROM t` \
             holds `:PORT` outside quotes, which psql replaces"
        ),
        "{}",
        out.stderr
    );
    assert!(db.tables().is_empty(), "nothing ran");
    // `migrate` applies it as written.
    db.pelican(&dir, &["migrate"]).success();
}
