//! Bad input: each a clear error naming the culprit, a non-zero exit, nothing changed.

mod common;

use std::path::Path;

use common::{copy_migrations, example_migrations, write_migrations, Output, TestDb};

/// Runs `migrate` and checks it failed with `code`, saying `expected`, touching nothing.
#[track_caller]
fn refused(db: &TestDb, migrations: &Path, args: &[&str], code: i32, expected: &str) {
    let before = db.tables();
    let out = db.pelican(migrations, args);
    assert_eq!(out.code, code, "{out:?}");
    assert!(
        out.stderr.contains(expected),
        "expected `{expected}` in: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(db.tables(), before, "the database changed");
}

backend_tests! {
    fn folder_name_without_a_version(db: TestDb) {
        // diesel takes any text before the first `_` as the version (`v1_create_users`
        // is version v1); a name that starts with `_` has none.
        let dir = write_migrations(db.dir(), &[("_create_users", "CREATE TABLE users (id INTEGER);", "")]);
        refused(&db, &dir, &["migrate"], 1, "_create_users: the folder name must start with a version");
    }

    fn two_folders_with_one_version(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
            ("2024-01-01-000000_b", "CREATE TABLE b (id INTEGER);", ""),
        ]);
        refused(&db, &dir, &["migrate"], 1,
            "migrations 2024-01-01-000000_a and 2024-01-01-000000_b have the same version 20240101000000");
    }

    fn folder_without_up_sql(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        std::fs::create_dir(dir.join("2024-01-02-000000_empty")).unwrap();
        refused(&db, &dir, &["migrate"], 1, "2024-01-02-000000_empty: it has no up.sql");
    }

    fn empty_up_sql(db: TestDb) {
        // Listed, as diesel lists it; refused, with diesel's words, before anything runs
        // (the migration before it too), by every command that would run it.
        let dir = write_migrations(
            db.dir(),
            &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""), ("2024-01-02-000000_b", "", "")],
        );
        let empty = "Failed to run 2024-01-02-000000_b with: Attempted to run an empty migration.";
        for command in [&["migrate"][..], &["init"], &["migrate", "--dry-run"]] {
            refused(&db, &dir, command, 1, empty);
        }
        // diesel's `migration run` makes its migrations table first, as diesel's does;
        // nothing else.
        let out = db.pelican(&dir, &["migration", "run"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(empty), "{}", out.stderr);
        assert!(db.tables().iter().all(|t| t.starts_with("__")), "{:?}", db.tables());
        let listed = db.pelican(&dir, &["migration", "list"]).success();
        assert_eq!(listed.stdout, "Migrations:\n  [ ] 2024-01-01-000000_a\n  [ ] 2024-01-02-000000_b\n");
        // Up to the migration before it, it runs.
        db.pelican(&dir, &["migrate", "2024-01-01-000000"]).success();
        assert_eq!(db.applied(), ["20240101000000"]);
    }

    fn up_sql_that_is_not_utf8(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "", "")]);
        std::fs::write(dir.join("2024-01-01-000000_a/up.sql"), b"CREATE TABLE caf\xe9 (id INTEGER);").unwrap();
        refused(&db, &dir, &["migrate"], 1, "2024-01-01-000000_a/up.sql: the file is not UTF-8");
    }

    fn metadata_toml_that_does_not_parse(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        std::fs::write(dir.join("2024-01-01-000000_a/metadata.toml"), "run_in_transaction = maybe\n").unwrap();
        refused(&db, &dir, &["migrate"], 1, "2024-01-01-000000_a/metadata.toml");
    }

    fn migrations_folder_that_does_not_exist(db: TestDb) {
        let missing = db.dir().join("no_such_folder");
        refused(&db, &missing, &["migrate"], 1, "no_such_folder does not exist");
    }

    fn unknown_ambiguous_past_base_and_garbage_targets(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate", "+2"]).success();
        refused(&db, &migrations, &["migrate", "20991231000000"], 2, "unknown target `20991231000000`");
        refused(&db, &migrations, &["migrate", "2024-02"], 2, "ambiguous target `202402`");
        refused(&db, &migrations, &["downgrade", "-3"], 2, "target `-3` is out of range: only 2 migration(s) are applied");
        refused(&db, &migrations, &["migrate", "+x"], 2, "invalid target `+x`");
        refused(&db, &migrations, &["downgrade", "--1"], 2, "invalid target `--1`");
        refused(&db, &migrations, &["downgrade", "+1"], 2, "target `+1` cannot be used with downgrade");
        refused(&db, &migrations, &["stamp", "20991231"], 2, "unknown target `20991231`");
        assert_eq!(db.applied().len(), 2);
    }

    fn database_newer_than_the_migrations_is_refused(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        let older = copy_migrations(&migrations, db.dir(), 3);
        let applied = db.applied();
        for args in [&["migrate"][..], &["downgrade", "-1"], &["redo"]] {
            refused(&db, &older, args, 1, "the database has applied migrations that these migrations do not have: ");
            let out = db.pelican(&older, args);
            assert!(out.stderr.contains("20240320110000"), "{}", out.stderr);
        }
        assert_eq!(db.applied(), applied);
        let current = db.pelican(&older, &["current"]).success();
        assert!(current.stderr.contains("warning: the database has applied migrations these migrations lack"), "{}", current.stderr);
    }

    fn diesel_quirk_metadata_without_key_means_no_transaction(db: TestDb) {
        // A failing second statement: without a transaction the first stays applied.
        let dir = write_migrations(db.dir(), &[(
            "2024-01-01-000000_a",
            "CREATE TABLE kept (id INTEGER);\nINSERT INTO nowhere VALUES (1);",
            "DROP TABLE kept;",
        )]);
        std::fs::write(dir.join("2024-01-01-000000_a/metadata.toml"), "# no keys\n").unwrap();
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1);
        assert!(db.tables().contains(&"kept".to_owned()), "ran in a transaction");
        assert!(db.applied().is_empty());
    }
}

#[test]
fn unknown_url_scheme_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = write_migrations(dir.path(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
        .current_dir(dir.path())
        .args([
            "--database-url",
            "oracle://scott:tiger-secret-1@db/app",
            "--migration-dir",
        ])
        .arg(&migrations)
        .arg("current")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unsupported database URL scheme `oracle`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tiger-secret-1"),
        "password printed: {stderr}"
    );
}

#[test]
fn diesel_toml_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    write_migrations(dir.path(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    std::fs::write(
        dir.path().join("diesel.toml"),
        "[migrations_directory\ndir = 1\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
        .current_dir(dir.path())
        .env_remove("MIGRATION_DIRECTORY")
        .env_remove("DIESEL_CONFIG_FILE")
        .args(["--database-url", "test.db", "current"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("diesel.toml"), "{stderr}");
    assert!(
        !dir.path().join("test.db").exists(),
        "a database was created"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn run_in_transaction_false_runs_create_index_concurrently() {
    let db = TestDb::new(pelican::Backend::Postgres, "concurrently");
    let dir = write_migrations(db.dir(), &[(
        "2024-01-01-000000_a",
        "CREATE TABLE t (id INTEGER, name VARCHAR(10));\nCREATE INDEX CONCURRENTLY ix_t_name ON t (name);\n",
        "DROP TABLE t;",
    )]);
    std::fs::write(
        dir.join("2024-01-01-000000_a/metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    db.pelican(&dir, &["migrate"]).success();
    assert_eq!(db.applied(), ["20240101000000"]);
}

#[test]
fn a_fresh_clone_migrates_and_shows_head() {
    // What a newcomer runs: `cargo run -- migrate`, then `cargo run -- current`, with the
    // committed .env and diesel.toml.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let clone = tempfile::tempdir().unwrap();
    std::fs::copy(root.join(".env"), clone.path().join(".env")).unwrap();
    std::fs::copy(root.join("diesel.toml"), clone.path().join("diesel.toml")).unwrap();
    copy_migrations(&example_migrations(), clone.path(), usize::MAX);
    let run = |command: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
            .current_dir(clone.path())
            .env_remove("DATABASE_URL")
            .env_remove("MIGRATION_DIRECTORY")
            .env_remove("DIESEL_CONFIG_FILE")
            .arg(command)
            .output()
            .unwrap()
    };
    assert!(run("migrate").status.success());
    let current = run("current");
    assert!(current.status.success());
    assert_eq!(
        String::from_utf8_lossy(&current.stdout).trim(),
        "20240320110000 rename_leccion_contenido (head)"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_migration_that_changes_search_path_does_not_move_the_ledger() {
    // diesel #4729: the ledger write after such a migration must still find its table.
    let db = TestDb::new(pelican::Backend::Postgres, "search_path");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_a",
                "CREATE TABLE a (id INTEGER);",
                "DROP TABLE a;",
            ),
            (
                "2024-01-02-000000_b",
                "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE b (id INTEGER);",
                "DROP SCHEMA other CASCADE;",
            ),
            (
                "2024-01-03-000000_c",
                "CREATE TABLE public.c (id INTEGER);",
                "DROP TABLE public.c;",
            ),
        ],
    );
    let out = db
        .pelican(&dir, &["--format", "json", "migrate"])
        .success()
        .json();
    assert_eq!(out["current"], "20240103000000");
    assert_eq!(
        db.applied(),
        ["20240101000000", "20240102000000", "20240103000000"]
    );
    let other = db.query_strings(
        "SELECT CAST(table_name AS TEXT) AS value FROM information_schema.tables WHERE table_schema = 'other'",
    );
    assert_eq!(
        other,
        ["b"],
        "the ledger was written into the migration's schema"
    );
}

backend_tests! {
    fn an_applied_migration_edited_afterwards_is_refused_until_accepted(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), usize::MAX);
        db.pelican(&dir, &["migrate", "2024-02-01-090000"]).success();
        // A CRLF checkout is not an edit.
        let usuario = dir.join("2024-01-15-090000_create_usuario/up.sql");
        let text = std::fs::read_to_string(&usuario).unwrap();
        std::fs::write(&usuario, text.replace('\n', "\r\n")).unwrap();
        db.pelican(&dir, &["migrate", "+1"]).success();
        // A real edit is.
        let curso = dir.join("2024-01-15-091500_create_curso/up.sql");
        std::fs::write(&curso, std::fs::read_to_string(&curso).unwrap() + "\n-- edited\n").unwrap();
        let applied = db.applied();
        refused(&db, &dir, &["migrate"], 1,
            "applied migrations were edited after they ran: 2024-01-15-091500_create_curso");
        assert_eq!(db.applied(), applied);
        // The flag is the command line's hint, not the library's message.
        let out = db.pelican(&dir, &["migrate"]);
        let error = out.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
        assert!(error.contains("(restore them, or accept the new checksums)"), "{}", out.stderr);
        assert!(!error.contains("--accept-changed"), "{}", out.stderr);
        assert!(out.stderr.contains("\nhint: pass --accept-changed to record the new checksums"), "{}", out.stderr);
        db.pelican(&dir, &["migrate", "--accept-changed"]).success();
        assert_eq!(db.applied().len(), 12);
        // The new checksum is recorded: the next run is not refused.
        db.pelican(&dir, &["redo"]).success();
    }
}

server_tests! {
    fn an_unreachable_host_is_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        let (scheme, _) = db.url.split_once("://").unwrap();
        let url = format!("{scheme}://app@127.0.0.1:1/{}", db.name());
        for args in [&["migrate"][..], &["current"], &["init"]] {
            let out = Output::from(db.command_with_url(&url, &dir, args).output().unwrap());
            assert_eq!(out.code, 1, "{out:?}");
            // `init` names the server connection it makes to create the database.
            assert!(out.stderr.contains(&format!("error: Could not connect to database via `{scheme}://app@127.0.0.1:1/")), "{}", out.stderr);
            assert!(out.stderr.contains("127.0.0.1"), "{}", out.stderr);
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        }
        assert!(db.tables().is_empty());
    }

    fn a_missing_database_is_named_and_not_created(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        let missing = format!("pelican_missing_{}", std::process::id());
        let url = common::with_database(&db.url, &missing);
        for args in [&["migrate"][..], &["current"], &["stamp", "head"], &["reset", "--dry-run"]] {
            let out = Output::from(db.command_with_url(&url, &dir, args).output().unwrap());
            assert_eq!(out.code, 1, "{args:?}: {out:?}");
            let says = match db.backend {
                pelican::Backend::Postgres => format!("database \"{missing}\" does not exist"),
                _ => format!("Unknown database '{missing}'"),
            };
            assert!(out.stderr.contains(&says), "{}", out.stderr);
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        }
        let sql = match db.backend {
            pelican::Backend::Postgres => format!("SELECT CAST(datname AS TEXT) AS value FROM pg_database WHERE datname = '{missing}'"),
            _ => format!("SELECT CAST(schema_name AS CHAR) AS value FROM information_schema.schemata WHERE schema_name = '{missing}'"),
        };
        assert!(db.query_strings(&sql).is_empty(), "the database was created");
    }
}

/// SQLite's missing database: a file in a folder that does not exist. (A missing file
/// in a folder that does is created, as diesel creates it.)
#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_file_in_a_missing_folder_is_named() {
    let db = TestDb::new(pelican::Backend::Sqlite, "missing_folder");
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    let url = db.dir().join("no_such_folder/app.db").display().to_string();
    for args in [&["migrate"][..], &["current"], &["init"]] {
        let out = Output::from(db.command_with_url(&url, &dir, args).output().unwrap());
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(&format!(
                "error: Could not connect to database via `{url}`: unable to open database file"
            )),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    assert!(!db.dir().join("no_such_folder").exists());
}

backend_tests! {
    fn a_migration_failing_at_its_third_statement_is_named_and_not_recorded(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_first", "CREATE TABLE first_t (id INTEGER);", "DROP TABLE first_t;"),
            ("2024-01-02-000000_third_fails",
             "CREATE TABLE one (id INTEGER);\nCREATE TABLE two (id INTEGER);\n-- the culprit:\nINSERT INTO missing_table VALUES (1);\nCREATE TABLE four (id INTEGER);\n",
             "DROP TABLE four;\nDROP TABLE two;\nDROP TABLE one;"),
        ]);
        db.pelican(&dir, &["migrate", "+1"]).success();
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(
            "error: migration 2024-01-02-000000_third_fails failed: "), "{}", out.stderr);
        assert!(out.stderr.contains(
            "2024-01-02-000000_third_fails/up.sql, line 4: `INSERT INTO missing_table VALUES (1)`: "), "{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert_eq!(db.applied(), ["20240101000000"]);
        let outcomes = db.query_strings("SELECT outcome AS value FROM __pelican_journal ORDER BY id");
        assert_eq!(outcomes, ["applied", "failed"]);
        let tables = db.tables();
        // In a transaction (SQLite, PostgreSQL) the first two statements are undone;
        // MySQL committed their DDL, unrecorded, and guards pick up from there.
        let committed = db.backend == pelican::Backend::Mysql;
        assert_eq!(tables.contains(&"one".to_owned()), committed, "{tables:?}");
        assert_eq!(tables.contains(&"two".to_owned()), committed, "{tables:?}");
        assert!(!tables.contains(&"four".to_owned()));
        // Fixed, the next run applies it whole.
        std::fs::write(
            dir.join("2024-01-02-000000_third_fails/up.sql"),
            "CREATE TABLE one (id INTEGER);\nCREATE TABLE two (id INTEGER);\nCREATE TABLE four (id INTEGER);\n",
        ).unwrap();
        let json = db.pelican(&dir, &["--format", "json", "migrate"]).success().json();
        assert_eq!(json["steps"][0]["statements_skipped"], if committed { 2 } else { 0 });
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }
}

/// Runs pelican as `nobody` when the tests run as root (who may read anything), so that
/// file permissions apply; as the test's own user otherwise.
#[cfg(unix)]
fn as_another_user(db: &TestDb, migrations: &Path, args: &[&str]) -> Output {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(db.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        command.arg(env!("CARGO_BIN_EXE_pelican"));
        db.wrapped(command, &db.url, migrations, args)
    } else {
        db.command(migrations, args)
    };
    Output::from(command.output().unwrap())
}

backend_tests! {
    // An editor's UTF-8 byte order mark: left out of what runs (the servers choke on it,
    // and a directive after it read as SQL) and of the checksum.
    fn a_byte_order_mark_is_left_out(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_t", "\u{feff}CREATE TABLE t (id INTEGER);\n", "\u{feff}DROP TABLE t;\n"),
            ("2024-01-02-000000_seed_t", "\u{feff}-- pelican: skip-if table t\nINSERT INTO t VALUES (1);\n", "DELETE FROM t;\n"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        assert!(db.query_strings("SELECT CAST(id AS CHAR(10)) AS value FROM t").is_empty(), "the directive was not read");
        // The checksum is the text's without the mark: taking it out is no edit.
        for file in ["2024-01-01-000000_create_t/up.sql", "2024-01-02-000000_seed_t/up.sql"] {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.trim_start_matches('\u{feff}')).unwrap();
        }
        write_migrations(db.dir(), &[("2024-01-03-000000_create_u", "CREATE TABLE u (id INTEGER);", "DROP TABLE u;")]);
        db.pelican(&dir, &["migrate"]).success();
        db.pelican(&dir, &["redo", "-n", "3"]).success();
    }

    fn a_misspelt_metadata_key_is_refused_naming_the_key_meant(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        let metadata = dir.join("2024-01-01-000000_a/metadata.toml");
        std::fs::write(&metadata, "run_in_transactions = false\n").unwrap();
        refused(&db, &dir, &["migrate"], 1,
            "2024-01-01-000000_a/metadata.toml: unknown key `run_in_transactions`: did you mean `run_in_transaction`?");
        std::fs::write(&metadata, "run_in_transaction = true\n[pelican]\nguard = false\n").unwrap();
        refused(&db, &dir, &["migrate"], 1,
            "2024-01-01-000000_a/metadata.toml: unknown key `pelican.guard`: did you mean `pelican.guards`?");
    }

    fn an_unknown_metadata_key_is_a_warning(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        std::fs::write(dir.join("2024-01-01-000000_a/metadata.toml"), "run_in_transaction = true\nauthor = \"ana\"\n").unwrap();
        let out = db.pelican(&dir, &["migrate"]).success();
        assert!(out.stderr.contains("warning: "), "{}", out.stderr);
        assert!(out.stderr.contains("2024-01-01-000000_a/metadata.toml: unknown key `author` (diesel and pelican ignore it)"), "{}", out.stderr);
        assert_eq!(db.applied(), ["20240101000000"]);
    }
}

#[cfg(unix)]
backend_tests! {
    fn an_unreadable_migration_folder_or_file_is_named(db: TestDb) {
        use std::os::unix::fs::PermissionsExt;
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
            ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", ""),
        ]);
        let folder = dir.join("2024-01-02-000000_b");
        let mode = |path: &Path, mode| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        mode(&folder, 0o000);
        let out = as_another_user(&db, &dir, &["migrate"]);
        mode(&folder, 0o755);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("2024-01-02-000000_b: it cannot be read: Permission denied"), "{}", out.stderr);
        let up = folder.join("up.sql");
        mode(&up, 0o000);
        let out = as_another_user(&db, &dir, &["migrate"]);
        mode(&up, 0o644);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("2024-01-02-000000_b/up.sql: it cannot be read: Permission denied"), "{}", out.stderr);
        assert!(db.tables().is_empty());
    }

    fn a_symbolic_link_to_nothing_in_the_migrations_folder_is_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        std::os::unix::fs::symlink("../elsewhere/2024-01-02-000000_b", dir.join("2024-01-02-000000_b")).unwrap();
        refused(&db, &dir, &["migrate"], 1,
            "2024-01-02-000000_b: it is a symbolic link to ../elsewhere/2024-01-02-000000_b, which does not exist");
        std::fs::remove_file(dir.join("2024-01-02-000000_b")).unwrap();
        std::os::unix::fs::symlink("missing.sql", dir.join("2024-01-01-000000_a/down.sql")).unwrap();
        refused(&db, &dir, &["migrate"], 1,
            "2024-01-01-000000_a/down.sql: it is a symbolic link to missing.sql, which does not exist");
    }
}

/// A command that only reads (a dry run, `current`, `history`, `pending`, `heads`) on a
/// SQLite file that does not exist answers for an empty database and creates no file;
/// diesel CLI's `migration list` creates it, with its migrations table.
#[cfg(feature = "sqlite")]
#[test]
fn reading_a_missing_sqlite_file_creates_none() {
    let db = TestDb::new(pelican::Backend::Sqlite, "missing_sqlite_file");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_a",
            "CREATE TABLE a (id INTEGER);",
            "DROP TABLE a;",
        )],
    );
    let file = Path::new(&db.url);
    for args in [
        &["migrate", "--dry-run"][..],
        &["migrate", "--sql"],
        &["current"],
        &["history"],
        &["pending"],
        &["heads"],
        &["--format", "json", "current"],
    ] {
        let out = db.pelican(&dir, args).success();
        assert!(!file.exists(), "{args:?} created {}", file.display());
        if args.contains(&"json") {
            assert_eq!(out.json()["current"], serde_json::Value::Null);
            assert_eq!(out.json()["pending"], 1);
        }
        if args == ["migrate", "--sql"] {
            assert!(out.stdout.contains("CREATE TABLE a"), "{}", out.stdout);
        }
    }
    for args in [
        &["downgrade", "--dry-run", "base"][..],
        &["redo", "--dry-run"],
    ] {
        let _ = db.pelican(&dir, args);
        assert!(!file.exists(), "{args:?} created {}", file.display());
    }
    // A command that writes creates it, as diesel does.
    db.pelican(&dir, &["migrate"]).success();
    assert!(file.exists());
}
