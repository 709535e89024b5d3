//! `check`'s reads after each step, scoped to what the step can have changed, with
//! every one verified against a whole read (`Check::verify_reads`): what a step changes
//! through a dependency it does not name (a view, a foreign key, a type, a cascade, a
//! trigger, a function) is read, a wrong `down.sql` is caught, and a right one passes.

mod common;

use std::path::{Path, PathBuf};

use common::{write_migrations, TestDb};
use pelican::check::RoundTripStep;
use pelican::{Backend, Check, CheckReport, Finding, Migrations};

/// Checks these migrations (names given in order) with every scoped read verified.
fn check(db: &TestDb, migrations: &[(&str, &str, &str)]) -> CheckReport {
    let dir = write_migrations(db.dir(), migrations);
    check_dir(db, &dir)
}

fn check_dir(db: &TestDb, dir: &Path) -> CheckReport {
    let migrations = Migrations::from_dir(dir).expect("the migrations");
    Check::new(&migrations)
        .verify_reads(true)
        .run(&db.url)
        .unwrap_or_else(|error| panic!("check failed ({} migrations): {error}", migrations.len()))
}

/// The report of a check of `setup` then `step` (up, down): the right `down` passes,
/// the wrong one is a round-trip difference after `down.sql`.
#[track_caller]
fn assert_caught(backend: Backend, setup: &str, up: &str, right: &str, wrong: &str) {
    let name = std::panic::Location::caller().line().to_string();
    for (down, ok) in [(right, true), (wrong, false)] {
        let db = TestDb::new(backend, &format!("scope_{name}"));
        let report = check(
            &db,
            &[
                ("2024-01-01-000000_setup", setup, ""),
                ("2024-01-02-000000_step", up, down),
            ],
        );
        if ok {
            assert!(
                report.ok(),
                "{backend}: the right down.sql: {:?}",
                report.findings
            );
        } else {
            assert!(
                matches!(
                    report.findings.as_slice(),
                    [Finding::RoundTrip {
                        step: RoundTripStep::Down,
                        ..
                    }]
                ),
                "{backend}: the wrong down.sql: {:?}",
                report.findings
            );
        }
    }
}

/// The server backends: SQLite rewrites a view's text when its table is renamed (a
/// difference of its own), and runs a migration with foreign keys off (no cascade).
fn servers() -> Vec<Backend> {
    let mut all = Vec::new();
    if cfg!(feature = "postgres") {
        all.push(Backend::Postgres);
    }
    if cfg!(feature = "mysql") {
        all.push(Backend::Mysql);
    }
    all
}

#[test]
fn a_renamed_table_is_read_again_in_its_views_and_foreign_keys() {
    let setup = "CREATE TABLE a (id INTEGER PRIMARY KEY);
                 CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
                 CREATE VIEW v AS SELECT id FROM a;";
    for backend in servers() {
        let (up, right) = match backend {
            Backend::Mysql => ("RENAME TABLE a TO a2", "RENAME TABLE a2 TO a"),
            _ => ("ALTER TABLE a RENAME TO a2", "ALTER TABLE a2 RENAME TO a"),
        };
        let wrong = match backend {
            Backend::Mysql => {
                "RENAME TABLE a2 TO a; DROP VIEW v; CREATE VIEW v AS SELECT id, 1 AS x FROM a"
            }
            _ => {
                "ALTER TABLE a2 RENAME TO a; DROP VIEW v; CREATE VIEW v AS SELECT id, 1 AS x FROM a"
            }
        };
        assert_caught(backend, setup, up, right, wrong);
    }
}

#[cfg(feature = "postgres")]
#[test]
fn a_drop_cascade_is_read_in_what_it_dropped_elsewhere() {
    let setup = "CREATE TABLE a (id INTEGER PRIMARY KEY);
                 CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER CONSTRAINT b_a REFERENCES a (id));
                 CREATE VIEW v AS SELECT id FROM a;";
    let recreate = "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE VIEW v AS SELECT id FROM a;";
    assert_caught(
        Backend::Postgres,
        setup,
        "DROP TABLE a CASCADE",
        &format!(
            "{recreate} ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id);"
        ),
        recreate,
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_renamed_type_is_read_in_the_columns_of_it() {
    assert_caught(
        Backend::Postgres,
        "CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE TABLE t (id INTEGER, m mood);",
        "ALTER TYPE mood RENAME TO feeling",
        "ALTER TYPE feeling RENAME TO mood",
        "CREATE TYPE mood AS ENUM ('ok', 'sad')",
    );
}

/// A comment on a trigger belongs to no table's group: every read holds it, whichever
/// tables the step is about.
#[cfg(feature = "postgres")]
#[test]
fn a_comment_on_a_trigger_of_a_table_out_of_scope_is_read() {
    assert_caught(
        Backend::Postgres,
        "CREATE TABLE t (id INTEGER);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         COMMENT ON TRIGGER tr ON t IS 'kept';",
        "CREATE TABLE u (id INTEGER)",
        "DROP TABLE u",
        "DROP TABLE u; COMMENT ON TRIGGER tr ON t IS 'changed'",
    );
}

#[test]
fn rows_deleted_by_a_cascade_are_counted() {
    let setup = "CREATE TABLE p (id INTEGER PRIMARY KEY);
                 CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE);
                 CREATE TABLE d (id INTEGER PRIMARY KEY, c_id INTEGER, FOREIGN KEY (c_id) REFERENCES c (id) ON DELETE CASCADE);
                 INSERT INTO p VALUES (1), (2);
                 INSERT INTO c VALUES (10, 1), (20, 2);
                 INSERT INTO d VALUES (100, 10);";
    for backend in servers() {
        assert_caught(
            backend,
            setup,
            "DELETE FROM p WHERE id = 1",
            "INSERT INTO p VALUES (1); INSERT INTO c VALUES (10, 1); INSERT INTO d VALUES (100, 10);",
            "INSERT INTO p VALUES (1); INSERT INTO c VALUES (10, 1);",
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn rows_a_trigger_or_a_function_writes_elsewhere_are_counted() {
    let setup = "CREATE TABLE t (id INTEGER); CREATE TABLE log (id INTEGER);
                 CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;
                 CREATE TRIGGER t_note AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION note();
                 CREATE FUNCTION stamp() RETURNS void LANGUAGE sql AS $$ INSERT INTO log VALUES (0) $$;";
    assert_caught(
        Backend::Postgres,
        setup,
        "INSERT INTO t VALUES (1)",
        "DELETE FROM t; DELETE FROM log;",
        "DELETE FROM t",
    );
    assert_caught(
        Backend::Postgres,
        setup,
        "SELECT stamp()",
        "TRUNCATE log",
        "SELECT 1",
    );
}

#[cfg(feature = "mysql")]
#[test]
fn rows_a_mariadb_trigger_or_procedure_writes_elsewhere_are_counted() {
    let setup = "CREATE TABLE t (id INTEGER); CREATE TABLE log (id INTEGER);
                 CREATE TRIGGER t_note AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.id);
                 CREATE PROCEDURE stamp() INSERT INTO log VALUES (0);";
    assert_caught(
        Backend::Mysql,
        setup,
        "INSERT INTO t VALUES (1)",
        "DELETE FROM t; DELETE FROM log;",
        "DELETE FROM t",
    );
    assert_caught(
        Backend::Mysql,
        setup,
        "CALL stamp()",
        "DELETE FROM log",
        "SELECT 1",
    );
}

#[cfg(feature = "mysql")]
#[test]
fn mariadb_checks_triggers_and_sequences_are_read_in_scope() {
    let setup = "CREATE TABLE a (id INTEGER, x INTEGER CHECK (x > 0));
                 CREATE TABLE b (id INTEGER, CONSTRAINT b_pos CHECK (id > 0));
                 CREATE TABLE c (id INTEGER);
                 CREATE TABLE `my table` (id INTEGER);
                 CREATE SEQUENCE s START WITH 5;";
    // A CHECK's text is a row of no table: read again when a table in scope has one.
    assert_caught(
        Backend::Mysql,
        setup,
        "ALTER TABLE b DROP CONSTRAINT b_pos",
        "ALTER TABLE b ADD CONSTRAINT b_pos CHECK (id > 0)",
        "ALTER TABLE b ADD CONSTRAINT b_pos CHECK (id > 1)",
    );
    // MariaDB's JSON is a CHECK the step does not spell.
    assert_caught(
        Backend::Mysql,
        setup,
        "ALTER TABLE c ADD COLUMN doc JSON",
        "ALTER TABLE c DROP COLUMN doc",
        "SELECT 1",
    );
    assert_caught(
        Backend::Mysql,
        setup,
        "CREATE TRIGGER c_note BEFORE INSERT ON c FOR EACH ROW SET NEW.id = NEW.id + 1",
        "DROP TRIGGER c_note",
        "SELECT 1",
    );
    assert_caught(
        Backend::Mysql,
        setup,
        "DROP SEQUENCE s",
        "CREATE SEQUENCE s START WITH 5",
        "CREATE SEQUENCE s START WITH 6",
    );
    assert_caught(
        Backend::Mysql,
        setup,
        "ALTER TABLE `my table` ADD COLUMN z INTEGER",
        "ALTER TABLE `my table` DROP COLUMN z",
        "SELECT 1",
    );
}

/// PostgreSQL's scoped read is a statement the session prepares once: a migration's
/// `DEALLOCATE ALL` drops it, and the reads after it prepare it again.
#[cfg(feature = "postgres")]
#[test]
fn a_deallocate_in_a_migration_does_not_break_the_reads_after_it() {
    assert_caught(
        Backend::Postgres,
        "CREATE TABLE t (id INTEGER); CREATE TABLE u (id INTEGER);",
        "CREATE TABLE w (id INTEGER); DEALLOCATE ALL; INSERT INTO u VALUES (1);",
        "DEALLOCATE ALL; DROP TABLE w; DELETE FROM u;",
        "DEALLOCATE ALL; DROP TABLE w;",
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_changed_search_path_is_read_whole() {
    // Unqualified names mean another schema's tables after SET: read whole.
    assert_caught(
        Backend::Postgres,
        "CREATE TABLE t (id INTEGER); CREATE TABLE u (id INTEGER);",
        "CREATE TABLE w (id INTEGER); INSERT INTO u VALUES (1);",
        "DROP TABLE w; DELETE FROM u;",
        "DROP TABLE w; SET LOCAL search_path = pg_temp, public; SELECT 1;",
    );
}

/// SQLite: writing to a virtual table writes its module's own tables (FTS5's
/// `docs_content`, `docs_docsize`), which no step names: the step is read whole, and
/// the verified reads agree. (What the round trip then finds is FTS5's: a `DELETE`
/// leaves segment rows in `docs_data` and `docs_idx`, whole reads or scoped.)
#[cfg(feature = "sqlite")]
#[test]
fn rows_a_virtual_table_keeps_in_tables_of_its_own_are_counted() {
    let db = TestDb::new(Backend::Sqlite, "scope_virtual");
    let report = check(
        &db,
        &[
            (
                "2024-01-01-000000_docs",
                "CREATE VIRTUAL TABLE docs USING fts5(body);",
                "DROP TABLE docs;",
            ),
            (
                "2024-01-02-000000_hello",
                "INSERT INTO docs (body) VALUES ('hello world');",
                "DELETE FROM docs;",
            ),
            (
                "2024-01-03-000000_other",
                "CREATE TABLE other (id INTEGER);",
                "DROP TABLE other;",
            ),
        ],
    );
    assert_eq!(report.migrations, 3);
}

/// SQLite lists from `sqlite_master` only the groups in scope: what renaming a table
/// or a column rewrites in others (a foreign key, a view), tables with odd names
/// (spaces, letters beyond ASCII) and `sqlite_sequence` (which the first table with
/// `AUTOINCREMENT` makes, unnamed) are read, and the verified reads agree.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_lists_the_groups_in_scope_and_what_they_rewrite() {
    let db = TestDb::new(Backend::Sqlite, "scope_sqlite_listed");
    let report = check(
        &db,
        &[
            (
                "2024-01-01-000000_setup",
                "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER);
                 CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
                 CREATE VIEW v AS SELECT id, x FROM a;",
                "DROP VIEW v; DROP TABLE b; DROP TABLE a;",
            ),
            (
                "2024-01-02-000000_odd",
                "CREATE TABLE \"my table\" (id INTEGER PRIMARY KEY AUTOINCREMENT);
                 CREATE TABLE Ärger (id INTEGER);
                 CREATE INDEX ix_ärger ON Ärger (id);",
                "DROP TABLE Ärger; DROP TABLE \"my table\";",
            ),
            (
                "2024-01-03-000000_index",
                "CREATE INDEX ix_b ON b (a_id);",
                "DROP INDEX ix_b;",
            ),
            (
                "2024-01-04-000000_rename_column",
                "ALTER TABLE a RENAME COLUMN x TO y;",
                "ALTER TABLE a RENAME COLUMN y TO x;",
            ),
            (
                "2024-01-05-000000_rename_table",
                "ALTER TABLE a RENAME TO a2;",
                "ALTER TABLE a2 RENAME TO a;",
            ),
        ],
    );
    assert_eq!(report.migrations, 5);
    assert!(report.round_trip >= 3, "{report:?}");
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpora")
        .join(name)
}

#[cfg(feature = "postgres")]
#[test]
fn the_crates_io_history_reads_the_same_scoped() {
    let db = TestDb::new(Backend::Postgres, "scope_crates_io");
    let report = check_dir(&db, &corpus("crates.io/migrations"));
    assert!(report.round_trip > 250, "{report:?}");
}

#[cfg(feature = "mysql")]
#[test]
fn the_mysql_histories_read_the_same_scoped() {
    for history in [
        "vaultwarden/migrations",
        "syncstorage-rs/syncstorage-mysql/migrations",
        "syncstorage-rs/tokenserver-mysql/migrations",
    ] {
        let db = TestDb::new(Backend::Mysql, "scope_mysql_corpus");
        let report = check_dir(&db, &corpus(history));
        assert!(report.migrations > 0, "{history}");
    }
}
