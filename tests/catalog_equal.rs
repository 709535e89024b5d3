//! Equal means equal: adoption, `check`'s drift and snapshots compare every property the
//! catalog holds. A database that differs from a migration's result in ONE property is
//! not adopted at that version, and `check` reports the drift; a snapshot writes what it
//! cannot leave out, or refuses naming it; SQLite's catalog reads hundreds of tables.

mod common;

use std::path::{Path, PathBuf};

use common::{write_migrations, TestDb};
use pelican::catalog::Schema;
use pelican::Backend;

/// One migration whose result has every property the cases below change.
fn history(db: &TestDb) -> PathBuf {
    let up = match db.backend {
        Backend::Postgres => {
            "CREATE TYPE mood AS ENUM ('a', 'b');\n\
             CREATE TABLE t (id SERIAL PRIMARY KEY, m mood, x INTEGER CONSTRAINT t_x_check CHECK (x > 0), name TEXT);\n\
             CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER CONSTRAINT u_t_fk REFERENCES t (id) ON DELETE CASCADE);\n\
             CREATE INDEX ix_t_name ON t (name) WHERE x > 1;\n\
             CREATE FUNCTION f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1';\n\
             CREATE VIEW v AS SELECT id FROM t;\n\
             CREATE SEQUENCE s INCREMENT BY 1;\n\
             COMMENT ON TABLE t IS 'hello';\n\
             CREATE SCHEMA other;\n\
             CREATE TABLE other.o (a INTEGER NOT NULL);\n"
        }
        Backend::Mysql => {
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTO_INCREMENT, m ENUM('a', 'b'), x INTEGER, name VARCHAR(20),\n\
               CONSTRAINT t_x_check CHECK (x > 0), KEY ix_t_name (name)) COMMENT 'hello';\n\
             CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER,\n\
               CONSTRAINT u_t_fk FOREIGN KEY (t_id) REFERENCES t (id) ON DELETE CASCADE);\n\
             CREATE FUNCTION f() RETURNS INTEGER DETERMINISTIC RETURN 1;\n\
             CREATE VIEW v AS SELECT id FROM t;\n"
        }
        Backend::Sqlite => SQLITE_TABLES,
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    write_migrations(db.dir(), &[("2024-01-01-000000_everything", up, "")])
}

const SQLITE_TABLES: &str = "\
CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER CHECK (x > 0), name TEXT COLLATE NOCASE, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);
CREATE INDEX ix_t_name ON t (name) WHERE x > 1;
";

/// Rebuilds SQLite's `t` with its `CREATE TABLE` as written but for `from` → `to`.
fn sqlite_rebuild(from: &str, to: &str) -> String {
    let create = SQLITE_TABLES
        .lines()
        .find(|l| l.starts_with("CREATE TABLE t "))
        .unwrap_or_default();
    assert!(create.contains(from), "{create} has no {from}");
    format!(
        "DROP TABLE t;\n{}\nCREATE INDEX ix_t_name ON t (name) WHERE x > 1;",
        create.replacen(from, to, 1)
    )
}

/// The cases: what each changes on the live database, and a word the difference names.
fn cases(backend: Backend) -> Vec<(&'static str, String, &'static str)> {
    let c = |name, sql: &str, word| (name, sql.to_owned(), word);
    match backend {
        Backend::Postgres => vec![
            c("enum_label", "ALTER TYPE mood ADD VALUE 'meh'", "type mood"),
            c(
                "fk_action",
                "ALTER TABLE u DROP CONSTRAINT u_t_fk, ADD CONSTRAINT u_t_fk FOREIGN KEY (t_id) REFERENCES t (id) ON DELETE SET NULL",
                "ON DELETE SET NULL",
            ),
            c("fk_deferrable", "ALTER TABLE u ALTER CONSTRAINT u_t_fk DEFERRABLE", "DEFERRABLE"),
            c(
                "check_expression",
                "ALTER TABLE t DROP CONSTRAINT t_x_check, ADD CONSTRAINT t_x_check CHECK (x > 1)",
                "constraint t.t_x_check",
            ),
            c(
                "index_predicate",
                "DROP INDEX ix_t_name; CREATE INDEX ix_t_name ON t (name) WHERE x > 2",
                "index t.ix_t_name",
            ),
            c(
                "index_method",
                "DROP INDEX ix_t_name; CREATE INDEX ix_t_name ON t USING hash (name) WHERE x > 1",
                "USING hash",
            ),
            c(
                "routine_body",
                "CREATE OR REPLACE FUNCTION f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 2'",
                "function f()",
            ),
            c("sequence_options", "ALTER SEQUENCE s INCREMENT BY 5", "sequence s"),
            c("comment", "COMMENT ON TABLE t IS 'changed'", "comment on table t"),
            c("grant", "GRANT SELECT ON t TO PUBLIC", "grants on table t"),
            c(
                "collation",
                "ALTER TABLE t ALTER COLUMN name TYPE TEXT COLLATE \"C\"",
                "COLLATE",
            ),
            c("other_schema", "ALTER TABLE other.o ADD COLUMN b INTEGER", "other.o"),
            c("storage_parameter", "ALTER TABLE t SET (fillfactor = 50)", "fillfactor=50"),
            c("policy", "CREATE POLICY p ON t USING (x > 0)", "policy t.p"),
            c(
                "default_privileges",
                "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC",
                "default privileges",
            ),
        ],
        Backend::Mysql => vec![
            c("enum_label", "ALTER TABLE t MODIFY m ENUM('A', 'b')", "enum('A','b')"),
            c(
                "fk_action",
                "ALTER TABLE u DROP FOREIGN KEY u_t_fk; \
                 ALTER TABLE u ADD CONSTRAINT u_t_fk FOREIGN KEY (t_id) REFERENCES t (id) ON DELETE SET NULL",
                "ON DELETE SET NULL",
            ),
            c(
                "check_expression",
                "ALTER TABLE t DROP CONSTRAINT t_x_check; ALTER TABLE t ADD CONSTRAINT t_x_check CHECK (x > 1)",
                "check t_x_check",
            ),
            c(
                "index_prefix",
                "ALTER TABLE t DROP INDEX ix_t_name, ADD INDEX ix_t_name (name(5))",
                "index t.ix_t_name",
            ),
            c(
                "routine_body",
                "DROP FUNCTION f; CREATE FUNCTION f() RETURNS INTEGER DETERMINISTIC RETURN 2",
                "function f",
            ),
            c("comment", "ALTER TABLE t COMMENT 'changed'", "COMMENT 'changed'"),
            c(
                "column_collation",
                "ALTER TABLE t MODIFY name VARCHAR(20) COLLATE utf8mb4_bin",
                "utf8mb4_bin",
            ),
            c("table_collation", "ALTER TABLE u DEFAULT COLLATE utf8mb4_bin", "table u"),
        ],
        Backend::Sqlite => vec![
            c(
                "check_expression",
                &sqlite_rebuild("CHECK (x > 0)", "CHECK (x > 1)"),
                "table t",
            ),
            c(
                "collation",
                &sqlite_rebuild("COLLATE NOCASE", "COLLATE BINARY"),
                "table t",
            ),
            c(
                "fk_action",
                &sqlite_rebuild("ON DELETE CASCADE", "ON DELETE SET NULL"),
                "ON DELETE SET NULL",
            ),
            c(
                "fk_deferrable",
                &sqlite_rebuild("ON DELETE CASCADE", "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"),
                "table t",
            ),
            c(
                "index_predicate",
                "DROP INDEX ix_t_name; CREATE INDEX ix_t_name ON t (name) WHERE x > 2",
                "index t.ix_t_name",
            ),
            c(
                "index_expression",
                "DROP INDEX ix_t_name; CREATE INDEX ix_t_name ON t (lower(name)) WHERE x > 1",
                "index t.ix_t_name",
            ),
        ],
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
}

fn forget_ledger(db: &TestDb) {
    for table in db.tables() {
        if table.starts_with("__") {
            db.execute(&format!("DROP TABLE {table}"));
        }
    }
}

/// Migrated, changed in one property: `check` reports drift naming it; its ledger
/// forgotten, `adopt` refuses to stamp the version, and nothing changes.
fn one_property_differs(db: &TestDb, dir: &Path, change: &str, word: &str) {
    db.pelican(dir, &["migrate"]).success();
    db.execute(change);
    let out = db.pelican(dir, &["--format", "json", "check"]);
    assert_eq!(
        out.code, 1,
        "check must find the drift of `{change}`: {out:?}"
    );
    let json = out.json();
    let drift = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["kind"] == "drift"))
        .unwrap_or_else(|| panic!("no drift for `{change}`: {json}"));
    assert!(drift.to_string().contains(word), "`{change}`: {drift}");

    forget_ledger(db);
    let out = db.pelican(dir, &["adopt"]);
    assert_eq!(out.code, 1, "adopt must refuse after `{change}`: {out:?}");
    assert!(
        out.stderr
            .contains("no version of these migrations builds the schema this database has"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(word), "`{change}`: {}", out.stderr);
    assert!(
        db.tables().iter().all(|t| !t.starts_with("__")),
        "nothing stamped"
    );
}

backend_tests! {
    fn a_database_equal_to_the_migration_is_adopted_and_checks_clean(db: TestDb) {
        let dir = history(&db);
        db.pelican(&dir, &["migrate"]).success();
        let check = db.pelican(&dir, &["check"]);
        assert_eq!(check.code, 0, "{check:?}");
        forget_ledger(&db);
        let json = db.pelican(&dir, &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["version"], "20240101000000", "{json}");
    }

    fn one_property_changed_is_a_difference_to_adoption_and_to_check(db: TestDb) {
        for (name, change, word) in cases(db.backend) {
            let case = TestDb::new(db.backend, &format!("equal_{name}"));
            let dir = history(&case);
            one_property_differs(&case, &dir, &change, word);
        }
    }
}

/// The case as reported: a database without `ALTER TYPE … ADD VALUE 'meh'` was stamped
/// past it, and `migrate` then had nothing to do.
#[cfg(feature = "postgres")]
#[test]
fn a_database_without_an_added_enum_label_is_adopted_before_it() {
    let db = TestDb::new(Backend::Postgres, "equal_enum_reported");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_mood",
                "CREATE TYPE mood AS ENUM ('ok', 'bad');\nCREATE TABLE entry (id INTEGER PRIMARY KEY, m mood);",
                "",
            ),
            ("2024-01-02-000000_meh", "ALTER TYPE mood ADD VALUE 'meh';", ""),
        ],
    );
    db.pelican(&dir, &["migrate", "2024-01-01-000000"])
        .success();
    forget_ledger(&db);
    let json = db
        .pelican(&dir, &["--format", "json", "adopt"])
        .success()
        .json();
    assert_eq!(json["version"], "20240101000000", "{json}");
    assert_eq!(json["pending"], serde_json::json!(["20240102000000"]));
    let json = db
        .pelican(&dir, &["--format", "json", "migrate"])
        .success()
        .json();
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(1), "{json}");
    let labels = db.query_strings(
        "SELECT e.enumlabel::text AS value FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
         WHERE t.typname = 'mood' ORDER BY e.enumsortorder",
    );
    assert_eq!(labels, ["ok", "bad", "meh"]);
}

/// Comments and grants are written into a PostgreSQL snapshot: `init` from it builds
/// the same catalog as the migrations, and `check` agrees.
#[cfg(feature = "postgres")]
#[test]
fn a_postgres_snapshot_writes_comments_and_grants() {
    let db = TestDb::new(Backend::Postgres, "equal_snapshot_grants");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_commented",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n\
             CREATE FUNCTION f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1';\n\
             COMMENT ON TABLE t IS 'the table';\n\
             COMMENT ON COLUMN t.name IS 'its name';\n\
             COMMENT ON FUNCTION f() IS 'one';\n\
             GRANT SELECT ON t TO PUBLIC;\n\
             GRANT UPDATE (name) ON t TO PUBLIC;\n\
             REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;\n",
            "",
        )],
    );
    db.pelican(&dir, &["snapshot"]).success();
    let text = std::fs::read_to_string(dir.join("schema.postgres.sql")).unwrap();
    for statement in [
        "COMMENT ON TABLE t IS 'the table'",
        "COMMENT ON COLUMN t.name IS 'its name'",
        "GRANT SELECT ON TABLE t TO PUBLIC",
        "GRANT UPDATE (name) ON TABLE t TO PUBLIC",
        "REVOKE ALL ON FUNCTION f() FROM PUBLIC",
    ] {
        assert!(
            text.contains(statement),
            "{statement} missing from:\n{text}"
        );
    }
    let json = db
        .pelican(&dir, &["--format", "json", "init"])
        .success()
        .json();
    assert_eq!(json["build"], "snapshot", "{json}");
    let migrated = TestDb::new(Backend::Postgres, "equal_snapshot_grants_twin");
    migrated.pelican(&dir, &["migrate"]).success();
    let a = Schema::introspect(&mut migrated.connect()).unwrap();
    let b = Schema::introspect(&mut db.connect()).unwrap();
    assert_eq!(pelican::catalog::diff(&a, &b), vec![]);
    assert!(
        b.definitions
            .contains_key("comment on column name of table t"),
        "{:?}",
        b.definitions.keys()
    );
    let check = db.pelican(&dir, &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
}

/// What a snapshot cannot write, it refuses to write, naming it.
#[cfg(feature = "postgres")]
#[test]
fn a_postgres_snapshot_refuses_another_schema_naming_it() {
    let db = TestDb::new(Backend::Postgres, "equal_snapshot_schema");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_audit",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE SCHEMA audit;\nCREATE TABLE audit.log (id INTEGER);\n",
            "",
        )],
    );
    let out = db.pelican(&dir, &["snapshot"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "pelican cannot take a snapshot of these yet: schema audit (table audit.log)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !dir.join("schema.postgres.sql").exists(),
        "no snapshot written"
    );
}

/// MySQL's `SHOW CREATE TABLE` carries comments, charsets and collations; table
/// grants it does not, so the snapshot refuses them.
#[cfg(feature = "mysql")]
#[test]
fn a_mysql_snapshot_keeps_comments_and_collations_and_refuses_grants() {
    let db = TestDb::new(Backend::Mysql, "equal_snapshot_mysql");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_commented",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_bin COMMENT 'its name') COMMENT 'the table';\n",
            "",
        )],
    );
    db.pelican(&dir, &["snapshot"]).success();
    db.pelican(&dir, &["init"]).success();
    let migrated = TestDb::new(Backend::Mysql, "equal_snapshot_mysql_twin");
    migrated.pelican(&dir, &["migrate"]).success();
    let a = Schema::introspect(&mut migrated.connect()).unwrap();
    let b = Schema::introspect(&mut db.connect()).unwrap();
    assert_eq!(pelican::catalog::diff(&a, &b), vec![]);
    assert!(
        b.definitions["column t.name"].text.contains("utf8mb4_bin"),
        "{:?}",
        b.definitions
    );

    let grants = TestDb::new(Backend::Mysql, "equal_snapshot_mysql_grant");
    grants.execute("CREATE USER IF NOT EXISTS 'pelican_catalog_probe'@'localhost'");
    let dir = write_migrations(
        grants.dir(),
        &[(
            "2024-01-01-000000_granted",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);\nGRANT SELECT ON t TO 'pelican_catalog_probe'@'localhost';\n",
            "",
        )],
    );
    let out = grants.pelican(&dir, &["snapshot"]);
    // A user is the server's, not the database's: dropping it takes its grants (MySQL
    // keeps a table's grants when the database goes).
    grants.execute("DROP USER 'pelican_catalog_probe'@'localhost'");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("pelican cannot take a snapshot of these yet: grants on table t"),
        "{}",
        out.stderr
    );
}

/// SQLite joins at most 500 SELECTs in one compound statement: the row counts `check`
/// compares are read in chunks, so 600 tables check clean.
#[test]
fn sqlite_check_reads_six_hundred_tables() {
    let db = TestDb::new(Backend::Sqlite, "equal_many_tables");
    let up: String = (0..600)
        .map(|i| format!("CREATE TABLE t{i:03} (id INTEGER PRIMARY KEY);\n"))
        .collect();
    let down: String = (0..600).map(|i| format!("DROP TABLE t{i:03};\n")).collect();
    let dir = write_migrations(db.dir(), &[("2024-01-01-000000_many", &up, &down)]);
    db.pelican(&dir, &["migrate"]).success();
    db.execute("INSERT INTO t599 (id) VALUES (1)");
    let mut conn = db.connect();
    let schema = Schema::introspect(&mut conn).unwrap();
    assert_eq!(schema.tables.len(), 600);
    let counts = schema.row_counts(&mut conn).unwrap();
    assert_eq!(counts.len(), 600);
    assert_eq!(counts["t599"], 1);
    let check = db.pelican(&dir, &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
}

/// A MySQL table made without a charset takes its database's: the scratch database
/// that adoption and `check` build the migrations on takes the live database's
/// defaults, so a database made `CHARACTER SET latin1` is adopted and checks clean
/// (and compares its collations, which differ from the server's default).
#[cfg(feature = "mysql")]
#[test]
fn a_mysql_database_with_its_own_charset_is_adopted_and_checks_clean() {
    let db = TestDb::new(Backend::Mysql, "equal_latin1");
    db.execute("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci");
    let dir = history(&db);
    db.pelican(&dir, &["migrate"]).success();
    let schema = Schema::introspect(&mut db.connect()).unwrap();
    assert!(
        schema.definitions["table t"]
            .text
            .contains("latin1_swedish_ci"),
        "{:?}",
        schema.definitions
    );
    let check = db.pelican(&dir, &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    forget_ledger(&db);
    let json = db
        .pelican(&dir, &["--format", "json", "adopt"])
        .success()
        .json();
    assert_eq!(json["version"], "20240101000000", "{json}");
}

/// SQLite keeps a table's `CREATE` as written: a `down.sql` that rebuilds the table
/// (SQLite writes the renamed one as `CREATE TABLE "t" (…)`) gives back the same
/// table, and the round trip passes; one that rebuilds it with another CHECK does not.
#[test]
fn a_sqlite_table_rebuilt_as_it_was_compares_equal_and_one_rebuilt_otherwise_does_not() {
    let db = TestDb::new(Backend::Sqlite, "equal_sqlite_rebuild");
    let rebuild = |check: &str| {
        format!(
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY,\n    x INTEGER CHECK ({check}));\n\
             INSERT INTO t_new (id, x) SELECT id, x FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n"
        )
    };
    // A column added, its down.sql rebuilding the table with the CHECK `check`.
    let history = |db: &TestDb, check: &str| {
        write_migrations(
            db.dir(),
            &[
                (
                    "2024-01-01-000000_t",
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER CHECK (x > 0));",
                    "DROP TABLE t;",
                ),
                (
                    "2024-01-02-000000_add_y",
                    "ALTER TABLE t ADD COLUMN y INTEGER;",
                    &rebuild(check),
                ),
            ],
        )
    };
    let dir = history(&db, "x > 0");
    let check = db.pelican(&dir, &["check"]);
    assert_eq!(check.code, 0, "{check:?}");

    let other = TestDb::new(Backend::Sqlite, "equal_sqlite_rebuild_other");
    let dir = history(&other, "x > 1");
    let out = other.pelican(&dir, &["check"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("table t: CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER CHECK (x > 0)) → CREATE TABLE \"t\" (id INTEGER PRIMARY KEY, x INTEGER CHECK (x > 1))"),
        "{}",
        out.stdout
    );
}

/// MariaDB's sequences compare by their options, as PostgreSQL's do: a database whose
/// sequence differs from the migration's in one option (start, increment, bounds,
/// cache, cycling) is not adopted at that version, and `check` reports the drift;
/// where the sequence stands (values taken) is not a difference.
#[cfg(feature = "mysql")]
#[test]
fn a_mariadb_sequence_with_one_option_changed_is_a_difference() {
    let history = |db: &TestDb| {
        write_migrations(
            db.dir(),
            &[(
                "2024-01-01-000000_sequence",
                "CREATE SEQUENCE s START WITH 5 INCREMENT BY 3 MINVALUE 2 MAXVALUE 1000 CACHE 7 CYCLE;\n",
                "",
            )],
        )
    };
    let db = TestDb::new(Backend::Mysql, "equal_seq");
    let dir = history(&db);
    db.pelican(&dir, &["migrate"]).success();
    db.execute("SELECT NEXTVAL(s)");
    let schema = Schema::introspect(&mut db.connect()).unwrap();
    assert_eq!(
        schema.definitions["sequence s"].text,
        "START WITH 5 INCREMENT BY 3 MINVALUE 2 MAXVALUE 1000 CACHE 7 CYCLE"
    );
    let check = db.pelican(&dir, &["check"]);
    assert_eq!(check.code, 0, "values taken are no drift: {check:?}");
    forget_ledger(&db);
    let json = db
        .pelican(&dir, &["--format", "json", "adopt"])
        .success()
        .json();
    assert_eq!(json["version"], "20240101000000", "{json}");

    for (name, change, word) in [
        ("start", "ALTER SEQUENCE s START WITH 6", "START WITH 6"),
        (
            "increment",
            "ALTER SEQUENCE s INCREMENT BY 4",
            "INCREMENT BY 4",
        ),
        ("min", "ALTER SEQUENCE s MINVALUE 1", "MINVALUE 1 "),
        ("max", "ALTER SEQUENCE s MAXVALUE 999", "MAXVALUE 999"),
        ("cache", "ALTER SEQUENCE s CACHE 8", "CACHE 8"),
        ("cycle", "ALTER SEQUENCE s NOCYCLE", "NOCYCLE"),
    ] {
        let case = TestDb::new(Backend::Mysql, &format!("equal_seq_{name}"));
        let dir = history(&case);
        one_property_differs(&case, &dir, change, word);
    }
}
