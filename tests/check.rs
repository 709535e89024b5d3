//! `pelican check`: checksums, the round trip of every migration, drift, snapshots, on
//! scratch databases that are gone afterwards.

mod common;

use common::{
    cascading_migrations, copy_migrations, example_migrations, mysql_url, postgres_url,
    write_migrations,
};
use pelican::scratch::Scratch;
use pelican::Backend;
use serde_json::Value;

/// Whether a scratch database (as the report names it) still exists.
fn scratch_exists(backend: Backend, shown: &str) -> bool {
    match backend {
        Backend::Sqlite => std::path::Path::new(shown).exists(),
        Backend::Postgres | Backend::Mysql => {
            let name = shown.rsplit('/').next().unwrap().split('?').next().unwrap();
            assert!(name.starts_with("pelican_scratch_"), "{shown}");
            let (server, sql) = if backend == Backend::Postgres {
                (
                    postgres_url(),
                    format!(
                        "SELECT datname::text AS value FROM pg_database WHERE datname = '{name}'"
                    ),
                )
            } else {
                (
                    mysql_url(),
                    format!("SELECT CAST(schema_name AS CHAR) AS value FROM information_schema.schemata WHERE schema_name = '{name}'"),
                )
            };
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                #[allow(dead_code)]
                value: String,
            }
            let rows: Vec<Row> = pelican::AnyConnection::establish(&server)
                .unwrap()
                .load_with(&sql, &[])
                .unwrap();
            !rows.is_empty()
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
}

/// Every scratch database a report names is gone.
#[track_caller]
fn assert_scratch_gone(backend: Backend, report: &Value) {
    let scratch = report["scratch"]
        .as_array()
        .expect("the scratch databases used");
    assert!(!scratch.is_empty());
    for shown in scratch {
        let shown = shown.as_str().unwrap();
        assert!(!scratch_exists(backend, shown), "{shown} was left behind");
    }
}

fn findings_of(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

backend_tests! {
    fn check_passes_the_example_schema(db: TestDb) {
        db.pelican(&example_migrations(), &["init"]).success();
        let report = db.pelican(&example_migrations(), &["--format", "json", "check"]).success().json();
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(report["round_trip"], 12);
        assert_eq!(report["checksums"], 12);
        assert_eq!(report["drift_checked"], true);
        let snapshots = report["snapshots"].as_array().unwrap();
        assert_eq!(snapshots.len(), 3, "one committed snapshot per backend");
        for snapshot in snapshots {
            assert_eq!(snapshot["state"], "current", "{snapshot}");
            assert_eq!(snapshot["built"], snapshot["backend"] == db.backend.to_string());
        }
        assert_scratch_gone(db.backend, &report);
    }

    fn a_down_that_forgets_one_of_two_columns_is_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_t", "CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE t;"),
            (
                "2024-01-02-000000_add_two_columns",
                "ALTER TABLE t ADD COLUMN a INTEGER NULL;\nALTER TABLE t ADD COLUMN b VARCHAR(10) NULL;",
                "ALTER TABLE t DROP COLUMN a;",
            ),
            ("2024-01-03-000000_create_u", "CREATE TABLE u (id INTEGER PRIMARY KEY);", "DROP TABLE u;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        let finding = &findings[0];
        assert_eq!(finding["kind"], "round_trip");
        assert_eq!(finding["migration"], "2024-01-02-000000_add_two_columns");
        assert_eq!(finding["step"], "down");
        let changes = finding["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{finding}");
        assert_eq!(changes[0]["name"], "t.b");
        assert_eq!(changes[0]["table"], "t");
        assert_eq!(changes[0]["expected"], Value::Null);
        assert_eq!(changes[0]["actual"], "VARCHAR(10) NULL");
        assert_eq!(report["round_trip"], 2, "the first and the third passed");
        assert_scratch_gone(db.backend, &report);

        let text = db.pelican(&dir, &["check"]);
        assert_eq!(text.code, 1);
        assert!(text.stdout.contains("Round trip: 2 of 3 migration(s)"), "{}", text.stdout);
        assert!(text.stdout.contains("FAILED: 1 problem(s)"), "{}", text.stdout);
        assert!(text.stdout.contains("round trip of 2024-01-02-000000_add_two_columns: after down.sql"), "{}", text.stdout);
        assert!(text.stdout.contains("t.b: missing → VARCHAR(10) NULL"), "{}", text.stdout);
        assert!(text.stderr.contains("check found 1 problem(s)"), "{}", text.stderr);
    }

    fn rows_a_down_forgets_are_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_t", "CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE t;"),
            ("2024-01-02-000000_seed_t", "INSERT INTO t (id) VALUES (1), (2);", "DELETE FROM t WHERE id = 1;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1);
        let report = out.json();
        let finding = &findings_of(&report)[0];
        assert_eq!(finding["migration"], "2024-01-02-000000_seed_t");
        assert_eq!(finding["changes"][0]["name"], "t rows");
        assert_eq!(finding["changes"][0]["expected"], "0 row(s)");
        assert_eq!(finding["changes"][0]["actual"], "1 row(s)");
    }

    fn a_failing_down_is_named_with_its_statement(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_t", "CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE missing_table;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1);
        let report = out.json();
        let finding = &findings_of(&report)[0];
        assert_eq!(finding["kind"], "round_trip_failed");
        assert_eq!(finding["step"], "down");
        let message = finding["message"].as_str().unwrap();
        assert!(message.contains("down.sql, line 1: `DROP TABLE missing_table`"), "{message}");
        assert_scratch_gone(db.backend, &report);
    }

    fn every_migration_is_checked_past_the_ones_that_fail(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);", "DROP TABLE missing_table;"),
            (
                "2024-01-02-000000_add_two_columns",
                "ALTER TABLE a ADD COLUMN x INTEGER NULL;\nALTER TABLE a ADD COLUMN y INTEGER NULL;",
                "ALTER TABLE a DROP COLUMN x;",
            ),
            ("2024-01-03-000000_broken_up", "INSERT INTO missing_table VALUES (1);", "SELECT 1;"),
            ("2024-01-04-000000_create_b", "CREATE TABLE b (id INTEGER PRIMARY KEY);", "DROP TABLE b;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let found: Vec<(&str, &str, &str)> = findings_of(&report)
            .iter()
            .map(|f| (f["kind"].as_str().unwrap(), f["migration"].as_str().unwrap(), f["step"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [
            ("round_trip_failed", "2024-01-01-000000_create_a", "down"),
            ("round_trip", "2024-01-02-000000_add_two_columns", "down"),
            ("round_trip_failed", "2024-01-03-000000_broken_up", "up"),
        ], "{report}");
        assert_eq!(findings_of(&report)[1]["changes"][0]["name"], "a.y");
        // The last one was checked, on a database built without the one that fails.
        assert_eq!(report["round_trip"], 1, "{report}");
        let notes = report["notes"].to_string();
        assert!(notes.contains("the 1 migration(s) after 2024-01-03-000000_broken_up were checked without it"), "{notes}");
        assert_scratch_gone(db.backend, &report);
    }

    fn every_migration_is_checked_past_two_whose_up_fails(db: TestDb) {
        // vaultwarden on MariaDB: one up.sql fails, and a later one too. The database
        // each later trip starts from is built without either: the second's rebuild
        // does not run the first again.
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_broken_up", "INSERT INTO missing_table VALUES (1);", "SELECT 1;"),
            ("2024-01-02-000000_create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);", "DROP TABLE a;"),
            ("2024-01-03-000000_broken_again", "INSERT INTO missing_table VALUES (2);", "SELECT 1;"),
            ("2024-01-04-000000_create_b", "CREATE TABLE b (id INTEGER PRIMARY KEY);", "DROP TABLE b;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let found: Vec<(&str, &str)> = findings_of(&report)
            .iter()
            .map(|f| (f["migration"].as_str().unwrap(), f["step"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [
            ("2024-01-01-000000_broken_up", "up"),
            ("2024-01-03-000000_broken_again", "up"),
        ], "{report}");
        assert_eq!(report["round_trip"], 2, "{report}");
        let notes = report["notes"].to_string();
        assert!(!notes.contains("round trip stopped"), "{notes}");
        assert_scratch_gone(db.backend, &report);
    }

    fn every_round_trip_runs_on_one_scratch_database(db: TestDb) {
        // The trip goes up, down and up again migration after migration on the database
        // the previous one left: one scratch database for the whole history, however
        // long, not one built per migration (a fresh one only after a failure).
        let migrations: Vec<(String, String, String)> = (0..8)
            .map(|i| {
                (
                    format!("2024-01-01-{i:06}_t{i}"),
                    format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY);\nINSERT INTO t{i} VALUES (1);"),
                    format!("DROP TABLE t{i};"),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str, &str)> =
            migrations.iter().map(|(n, u, d)| (n.as_str(), u.as_str(), d.as_str())).collect();
        let dir = write_migrations(db.dir(), &borrowed);
        let report = db.pelican(&dir, &["--format", "json", "check"]).success().json();
        assert_eq!(report["round_trip"], 8, "{report}");
        assert_eq!(report["scratch"].as_array().map(Vec::len), Some(1), "{report}");
        assert_scratch_gone(db.backend, &report);
    }

    fn an_edited_applied_migration_is_named(db: TestDb) {
        // The first six are enough (and keep the test fast): the sixth is edited.
        let dir = copy_migrations(&example_migrations(), db.dir(), 6);
        db.pelican(&dir, &["migrate"]).success();
        let up = dir.join("2024-02-01-090000_add_usuario_telefono/up.sql");
        let original = std::fs::read_to_string(&up).unwrap();
        std::fs::write(&up, format!("{original}-- an edit after it ran\n")).unwrap();

        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        assert_eq!(findings[0]["kind"], "changed_migration");
        assert_eq!(findings[0]["name"], "2024-02-01-090000_add_usuario_telefono");

        // A CRLF checkout of the same files is not an edit.
        std::fs::write(&up, text_crlf(&original)).unwrap();
        db.pelican(&dir, &["check"]).success();

        // An applied migration whose folder is gone is named too.
        std::fs::remove_dir_all(dir.join("2024-02-01-090000_add_usuario_telefono")).unwrap();
        let report = db.pelican(&dir, &["--format", "json", "check"]).json();
        let findings = findings_of(&report);
        assert_eq!(findings[0]["kind"], "missing_migration", "{report}");
        assert_eq!(findings[0]["version"], "20240201090000");
    }

    fn a_column_added_by_hand_is_named(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 6);
        db.pelican(&dir, &["migrate"]).success();
        db.execute("ALTER TABLE usuario ADD COLUMN apodo VARCHAR(50) NULL");
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        assert_eq!(findings[0]["kind"], "drift");
        assert_eq!(findings[0]["version"], "20240201090000");
        let change = &findings[0]["changes"][0];
        assert_eq!(change["name"], "usuario.apodo");
        assert_eq!(change["expected"], Value::Null);
        assert_eq!(change["actual"], "VARCHAR(50) NULL");

        let text = db.pelican(&dir, &["check"]);
        assert_eq!(text.code, 1);
        assert!(text.stdout.contains("drift: the database differs"), "{}", text.stdout);
        assert!(text.stdout.contains("    usuario:\n      usuario.apodo: missing → VARCHAR(50) NULL"), "{}", text.stdout);
    }

    fn drift_is_measured_at_the_applied_version(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 8);
        db.pelican(&dir, &["migrate", "2024-02-05"]).success();
        db.pelican(&dir, &["check"]).success();
        db.execute(match db.backend {
            Backend::Mysql => "DROP INDEX ix_curso_titulo ON curso",
            _ => "DROP INDEX ix_curso_titulo",
        });
        let report = db.pelican(&dir, &["--format", "json", "check"]).json();
        let findings = findings_of(&report);
        assert_eq!(findings[0]["kind"], "drift", "{report}");
        assert_eq!(findings[0]["version"], "20240205120000");
        assert_eq!(findings[0]["changes"][0]["name"], "index ix_curso_titulo");
        assert_eq!(findings[0]["changes"][0]["actual"], Value::Null);
    }

    fn a_stale_snapshot_fails_check(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 3);
        db.pelican(&dir, &["snapshot"]).success();
        copy_migrations(&example_migrations(), db.dir(), 5);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        assert_eq!(findings[0]["kind"], "stale_snapshot");
        assert_eq!(findings[0]["head"], "20240116100000");
        assert_eq!(findings[0]["migrations_head"], "20240118110000");
        // It was still built (init uses it up to its head) and found right that far.
        assert_eq!(report["snapshots"][0]["built"], true);
        assert_scratch_gone(db.backend, &report);
    }

    fn a_wrong_snapshot_fails_check(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 5);
        db.pelican(&dir, &["snapshot"]).success();
        let file = pelican::snapshot::Snapshot::path(&dir, db.backend);
        let text = std::fs::read_to_string(&file).unwrap();
        let without_index: String = text
            .lines()
            .filter(|line| !line.contains("ix_curso_titulo"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(text, without_index);
        std::fs::write(&file, without_index).unwrap();
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        assert_eq!(findings[0]["kind"], "wrong_snapshot");
        let change = &findings[0]["changes"][0];
        assert_eq!(change["name"], "index ix_curso_titulo");
        assert_eq!(change["actual"], Value::Null);
        assert_scratch_gone(db.backend, &report);
    }

    fn the_scratch_database_is_dropped_when_its_guard_unwinds(db: TestDb) {
        let url = db.url.clone();
        let shown = std::sync::Mutex::new(String::new());
        let result = std::panic::catch_unwind(|| {
            let scratch = Scratch::create(&url, None).unwrap();
            *shown.lock().unwrap() = scratch.display_url();
            let mut conn = scratch.connect().unwrap();
            diesel::connection::SimpleConnection::batch_execute(&mut conn, "CREATE TABLE t (id INTEGER)").unwrap();
            assert!(scratch_exists(db.backend, &scratch.display_url()));
            panic!("a check that fails half way");
        });
        assert!(result.is_err());
        let shown = shown.into_inner().unwrap();
        assert!(!shown.is_empty());
        assert!(!scratch_exists(db.backend, &shown), "{shown} was left behind");
    }
}

backend_tests! {
    // A database whose applied versions are not the oldest ones (the middle one is not
    // recorded) is compared with a scratch database emptied and built again from them:
    // emptying it must cope with foreign keys that cascade.
    fn drift_is_checked_past_foreign_keys_that_cascade(db: TestDb) {
        let dir = cascading_migrations(db.dir());
        db.pelican(&dir, &["init"]).success();
        db.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20240102000000'");
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        assert_eq!(report["drift_checked"], true, "{report}");
        let findings = findings_of(&report);
        assert_eq!(findings.len(), 1, "{report}");
        assert_eq!(findings[0]["kind"], "drift");
        let changed: Vec<&str> = findings[0]["changes"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(changed, ["view blog_sizes", "view post_titles"], "{report}");
        assert_scratch_gone(db.backend, &report);
    }
}

/// The one round-trip finding of a check expected to fail: its migration, step and the
/// names of its changes.
fn the_round_trip_finding(
    db: &common::TestDb,
    dir: &std::path::Path,
) -> (String, String, Vec<String>) {
    let out = db.pelican(dir, &["--format", "json", "check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    let findings = findings_of(&report);
    assert_eq!(findings.len(), 1, "{report}");
    let finding = &findings[0];
    assert_eq!(finding["kind"], "round_trip", "{report}");
    let names = finding["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_scratch_gone(db.backend, &report);
    (
        finding["migration"].as_str().unwrap().to_owned(),
        finding["step"].as_str().unwrap().to_owned(),
        names,
    )
}

// The round trip reads again only what changed where the backend can tell (SQLite):
// what a down.sql forgets must be found wherever it is.
backend_tests! {
    fn a_down_that_forgets_an_index_on_a_table_it_does_not_name_is_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            (
                "2024-01-01-000000_create_a_b",
                "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER);\nCREATE TABLE b (id INTEGER PRIMARY KEY);",
                "DROP TABLE b;\nDROP TABLE a;",
            ),
            (
                "2024-01-02-000000_index_a_create_c",
                "CREATE INDEX ix_a_x ON a (x);\nCREATE TABLE c (id INTEGER PRIMARY KEY);",
                "DROP TABLE c;",
            ),
            ("2024-01-03-000000_create_d", "CREATE TABLE d (id INTEGER PRIMARY KEY);", "DROP TABLE d;"),
        ]);
        let (migration, step, changes) = the_round_trip_finding(&db, &dir);
        assert_eq!(migration, "2024-01-02-000000_index_a_create_c");
        assert_eq!(step, "down");
        assert!(changes.iter().any(|c| c.contains("ix_a_x")), "{changes:?}");
    }

    fn rows_a_trigger_inserts_into_another_table_are_named(db: TestDb) {
        let (up, down) = match db.backend {
            Backend::Postgres => (
                "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE log (id INTEGER);\n\
                 CREATE FUNCTION log_a() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;\n\
                 CREATE TRIGGER a_log AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION log_a();",
                "DROP TABLE a;\nDROP TABLE log;\nDROP FUNCTION log_a();",
            ),
            Backend::Mysql => (
                "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE log (id INTEGER);\n\
                 CREATE TRIGGER a_log AFTER INSERT ON a FOR EACH ROW INSERT INTO log VALUES (NEW.id);",
                "DROP TABLE a;\nDROP TABLE log;",
            ),
            Backend::Sqlite => (
                "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE log (id INTEGER);\n\
                 CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES (NEW.id); END;",
                "DROP TABLE a;\nDROP TABLE log;",
            ),
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_a_log", up, down),
            ("2024-01-02-000000_seed_a", "INSERT INTO a (id) VALUES (1);", "DELETE FROM a WHERE id = 1;"),
        ]);
        let (migration, step, changes) = the_round_trip_finding(&db, &dir);
        assert_eq!(migration, "2024-01-02-000000_seed_a");
        assert_eq!(step, "down");
        assert_eq!(changes, ["log rows"]);
    }

    fn a_table_made_again_as_it_was_but_empty_is_named(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            (
                "2024-01-01-000000_create_a",
                "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);",
                "DROP TABLE a;",
            ),
            (
                "2024-01-02-000000_create_b",
                "CREATE TABLE b (id INTEGER PRIMARY KEY);",
                "DROP TABLE b;\nDROP TABLE a;\nCREATE TABLE a (id INTEGER PRIMARY KEY);",
            ),
        ]);
        let (migration, step, changes) = the_round_trip_finding(&db, &dir);
        assert_eq!(migration, "2024-01-02-000000_create_b");
        assert_eq!(step, "down");
        assert_eq!(changes, ["a rows"]);
    }
}

/// The same on PostgreSQL with a migration that creates an extension without `IF NOT
/// EXISTS`: the emptied scratch database must not keep it.
#[cfg(feature = "postgres")]
#[test]
fn drift_is_checked_past_an_extension_the_migrations_create() {
    let db = common::TestDb::new(Backend::Postgres, "check_extension");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_create_things",
                "CREATE EXTENSION \"uuid-ossp\";\n\
                 CREATE TABLE things (id UUID PRIMARY KEY DEFAULT uuid_generate_v4());\n",
                "DROP TABLE things;\nDROP EXTENSION \"uuid-ossp\";\n",
            ),
            (
                "2024-01-02-000000_create_a",
                "CREATE TABLE a (id INTEGER);",
                "DROP TABLE a;",
            ),
            (
                "2024-01-03-000000_create_b",
                "CREATE TABLE b (id INTEGER);",
                "DROP TABLE b;",
            ),
        ],
    );
    db.pelican(&dir, &["init"]).success();
    db.execute("DELETE FROM __diesel_schema_migrations WHERE version = '20240102000000'");
    let out = db.pelican(&dir, &["--format", "json", "check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(report["drift_checked"], true, "{report}");
    assert_eq!(
        findings_of(&report)[0]["changes"][0]["name"],
        "table a",
        "{report}"
    );
}

/// The scratch databases (SQLite: files in `folder`) whose names start with `prefix`.
fn scratch_named(backend: Backend, prefix: &str, folder: &std::path::Path) -> Vec<String> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Backend::Postgres | Backend::Mysql => {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                name: String,
            }
            let (server, sql) = if backend == Backend::Postgres {
                (
                    postgres_url(),
                    "SELECT datname::text AS name FROM pg_database",
                )
            } else {
                (
                    mysql_url(),
                    "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata",
                )
            };
            pelican::AnyConnection::establish(&server)
                .unwrap()
                .load_with::<Row>(sql, &[])
                .unwrap()
                .into_iter()
                .map(|row| row.name)
                .collect()
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    names
        .into_iter()
        .filter(|name| name.starts_with(prefix))
        .collect()
}

backend_tests! {
    // SIGKILL gives a check no chance to drop its scratch database: the next check drops
    // it, seeing from its name that the process that made it is gone.
    fn a_killed_checks_scratch_database_is_dropped_by_the_next_check(db: TestDb) {
        let slow = match db.backend {
            Backend::Postgres => "SELECT pg_sleep(4)",
            Backend::Mysql => "SELECT SLEEP(4)",
            Backend::Sqlite => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c",
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let dir = write_migrations(db.dir(), &[(
            "2024-01-01-000000_slow",
            &format!("CREATE TABLE t (id INTEGER);\n{slow};\n"),
            "DROP TABLE t;",
        )]);
        // SQLite's scratch files in a folder of the test's own.
        let folder = db.dir().join("scratch");
        std::fs::create_dir(&folder).unwrap();
        let folder_arg = folder.display().to_string();
        let args: Vec<&str> = match db.backend {
            Backend::Sqlite => vec!["check", "--scratch-url", &folder_arg],
            _ => vec!["check"],
        };
        let mut child = db
            .command(&dir, &args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let prefix = format!("pelican_scratch_{}_", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while scratch_named(db.backend, &prefix, &folder).is_empty() {
            assert!(std::time::Instant::now() < deadline, "the check made no scratch database");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!scratch_named(db.backend, &prefix, &folder).is_empty(), "nothing was left to drop");
        std::fs::write(dir.join("2024-01-01-000000_slow/up.sql"), "CREATE TABLE t (id INTEGER);").unwrap();
        db.pelican(&dir, &args).success();
        let left = scratch_named(db.backend, &prefix, &folder);
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn text_crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A scratch database a killed `check` left invalid (PostgreSQL marks a database whose
/// `DROP` was cut short so, and answers `ALTER DATABASE` on it with FATAL): the next
/// `check` drops it and goes on, rather than losing its connection to the server.
#[cfg(feature = "postgres")]
#[test]
fn an_invalid_leftover_scratch_database_is_dropped_by_the_next_check() {
    let db = common::TestDb::new(Backend::Postgres, "check_invalid_leftover");
    db.pelican(&example_migrations(), &["init"]).success();
    // A process that is gone, on this machine: its scratch database is a leftover.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let own = pelican::__test_support::owner_prefix("pelican_scratch_");
    let host = own.trim_end_matches('_').rsplit('_').next().unwrap();
    let name = format!("pelican_scratch_{pid}_{host}_invalid_0");
    let mut conn = pelican::AnyConnection::establish(&postgres_url()).unwrap();
    for sql in [
        format!("CREATE DATABASE {name}"),
        format!("UPDATE pg_database SET datconnlimit = -2 WHERE datname = '{name}'"),
    ] {
        diesel::connection::SimpleConnection::batch_execute(&mut conn, &sql).unwrap();
    }
    let mut server = pelican::__test_support::Server::connect(&postgres_url()).unwrap();
    let report = db
        .pelican(&example_migrations(), &["--format", "json", "check"])
        .success()
        .json();
    assert_eq!(report["ok"], true, "{report}");
    assert!(!server.exists(&name).unwrap(), "{name} was left");
}

/// MariaDB keeps a table's and a routine's grants after `DROP DATABASE`: the grants a history's
/// migrations make in `check`'s scratch database are revoked when it is dropped (and
/// only those: the live database's stay).
#[cfg(feature = "mysql")]
#[test]
fn a_table_grant_made_in_the_scratch_database_is_gone_with_it() {
    use diesel::connection::SimpleConnection;
    use pelican::AnyConnection;
    let db = common::TestDb::new(Backend::Mysql, "scratch_grants");
    let user = format!("pelican_grantee_{}", std::process::id());
    /// Drops the test's user, and with it its grants, however the test ends.
    struct User(String);
    impl Drop for User {
        fn drop(&mut self) {
            if let Ok(mut admin) = AnyConnection::establish(&mysql_url()) {
                let _ = admin.batch_execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.0));
            }
        }
    }
    let mut admin = AnyConnection::establish(&mysql_url()).unwrap();
    admin
        .batch_execute(&format!("CREATE USER IF NOT EXISTS '{user}'@'%'"))
        .unwrap();
    let _user = User(user.clone());
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_granted",
            &format!(
                "CREATE TABLE granted (id INT, note TEXT);\n\
                 GRANT SELECT ON granted TO '{user}'@'%' WITH GRANT OPTION;\n\
                 GRANT UPDATE (note) ON granted TO '{user}'@'%';\n\
                 CREATE PROCEDURE granted_count() SELECT COUNT(*) FROM granted;\n\
                 GRANT EXECUTE, ALTER ROUTINE ON PROCEDURE granted_count TO '{user}'@'%' WITH GRANT OPTION;"
            ),
            &format!(
                "REVOKE EXECUTE, ALTER ROUTINE, GRANT OPTION ON PROCEDURE granted_count FROM '{user}'@'%';\n\
                 DROP PROCEDURE granted_count;\n\
                 REVOKE ALL PRIVILEGES ON granted FROM '{user}'@'%';\n\
                 REVOKE GRANT OPTION ON granted FROM '{user}'@'%';\nDROP TABLE granted;"
            ),
        )],
    );
    db.pelican(&dir, &["migrate"]).success();
    let report = db
        .pelican(&dir, &["--format", "json", "check"])
        .success()
        .json();
    assert_scratch_gone(Backend::Mysql, &report);
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        db: String,
    }
    let mut grants = |table: &str| -> Vec<String> {
        let rows: Vec<Row> = admin
            .load_with(
                &format!("SELECT CAST(Db AS CHAR) AS db FROM mysql.{table} WHERE User = '{user}' ORDER BY Db"),
                &[],
            )
            .unwrap();
        rows.into_iter().map(|r| r.db).collect()
    };
    let (tables, columns) = (grants("tables_priv"), grants("columns_priv"));
    assert_eq!(tables, [db.name()], "only the live database's grant stays");
    assert_eq!(columns, [db.name()], "only the live database's grant stays");
    assert_eq!(
        grants("procs_priv"),
        [db.name()],
        "only the live database's grant stays"
    );
}

/// What a report says of the round trip, for comparing one check with another: each
/// finding's kind, migration and step, with its message or changed names, then the
/// notes and how many round trips passed.
fn round_trip_summary(report: &Value) -> Vec<String> {
    let mut lines: Vec<String> = findings_of(report)
        .iter()
        .map(|f| {
            let detail = match f["kind"].as_str() {
                Some("round_trip") => f["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["name"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => f["message"].as_str().unwrap_or_default().to_owned(),
            };
            format!("{} {} {}: {detail}", f["kind"], f["migration"], f["step"])
        })
        .collect();
    lines.extend(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("note: {n}")),
    );
    lines.push(format!("round_trip: {}", report["round_trip"]));
    lines
}

backend_tests! {
    fn every_kind_of_failure_mid_history_leaves_the_later_ones_checked(db: TestDb) {
        // The steps of a scratch database run as one run of the migrator: a step that
        // fails, a state that differs, a migration without down.sql or outside a
        // transaction, or a file the migrator refuses before it runs anything, each
        // ends (or does not end) the round trip of its own migration only.
        let (no_transaction, no_transaction_down) = match db.backend {
            Backend::Postgres => (
                "CREATE TABLE c (id INTEGER PRIMARY KEY);\nCREATE INDEX CONCURRENTLY c_id ON c (id);",
                "DROP INDEX CONCURRENTLY c_id;\nDROP TABLE c;",
            ),
            _ => (
                "CREATE TABLE c (id INTEGER PRIMARY KEY);\nCREATE INDEX c_id ON c (id);",
                "DROP TABLE c;",
            ),
        };
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);", "DROP TABLE a;"),
            ("2024-01-02-000000_no_down", "CREATE TABLE nd (id INTEGER PRIMARY KEY);", ""),
            (
                "2024-01-03-000000_forgets_a_column",
                "ALTER TABLE a ADD COLUMN x INTEGER NULL;\nALTER TABLE a ADD COLUMN y INTEGER NULL;",
                "ALTER TABLE a DROP COLUMN x;",
            ),
            ("2024-01-04-000000_outside_a_transaction", no_transaction, no_transaction_down),
            ("2024-01-05-000000_failing_down", "CREATE TABLE d (id INTEGER PRIMARY KEY);", "DROP TABLE missing_table;"),
            (
                // Several statements, data between DDL: on MySQL the run records its
                // progress, and the same migration runs up twice in one run.
                "2024-01-06-000000_several_statements",
                "CREATE TABLE e (id INTEGER PRIMARY KEY);\nINSERT INTO e (id) VALUES (1);\nALTER TABLE e ADD COLUMN f INTEGER NULL;\nINSERT INTO e (id) VALUES (2);",
                "DROP TABLE e;",
            ),
            ("2024-01-07-000000_unterminated_down", "CREATE TABLE u (id INTEGER PRIMARY KEY);", "DROP TABLE u; /* never closed"),
            ("2024-01-08-000000_rows_forgotten", "INSERT INTO a (id) VALUES (1), (2);", "DELETE FROM a WHERE id = 1;"),
            ("2024-01-09-000000_failing_up", "INSERT INTO missing_table VALUES (1);", "SELECT 1;"),
            ("2024-01-10-000000_create_g", "CREATE TABLE g (id INTEGER PRIMARY KEY);", "DROP TABLE g;"),
        ]);
        std::fs::write(
            dir.join("2024-01-04-000000_outside_a_transaction/metadata.toml"),
            "run_in_transaction = false\n",
        )
        .unwrap();
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let summary = round_trip_summary(&report);
        eprintln!("SUMMARY {}:\n{}", db.backend, summary.join("\n"));
        let found: Vec<(&str, &str, &str)> = findings_of(&report)
            .iter()
            .map(|f| (f["kind"].as_str().unwrap(), f["migration"].as_str().unwrap(), f["step"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [
            ("round_trip", "2024-01-03-000000_forgets_a_column", "down"),
            ("round_trip_failed", "2024-01-05-000000_failing_down", "down"),
            ("round_trip_failed", "2024-01-07-000000_unterminated_down", "down"),
            ("round_trip", "2024-01-08-000000_rows_forgotten", "down"),
            ("round_trip_failed", "2024-01-09-000000_failing_up", "up"),
        ], "{report}");
        let findings = findings_of(&report);
        assert_eq!(findings[0]["changes"][0]["name"], "a.y", "{report}");
        let message = findings[1]["message"].as_str().unwrap();
        assert!(message.contains("down.sql, line 1: `DROP TABLE missing_table`"), "{message}");
        let message = findings[2]["message"].as_str().unwrap();
        assert!(message.contains("never closes"), "{message}");
        assert_eq!(findings[3]["changes"][0]["name"], "a rows", "{report}");
        // create_a, outside_a_transaction, several_statements and create_g passed.
        assert_eq!(report["round_trip"], 4, "{report}");
        let notes = report["notes"].to_string();
        assert!(notes.contains("2024-01-02-000000_no_down has no down.sql"), "{notes}");
        assert!(notes.contains("the 1 migration(s) after 2024-01-09-000000_failing_up were checked without it"), "{notes}");
        assert!(!notes.contains("round trip stopped"), "{notes}");
        assert_scratch_gone(db.backend, &report);
    }
}

backend_tests! {
    fn a_failing_down_after_a_failing_up_is_rebuilt_without_the_up(db: TestDb) {
        // The fresh database after the failing down is built as the one after the
        // failing up was: that migration recorded without running, not run again (which
        // fails, and used to stop the trip there).
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_broken_up", "INSERT INTO missing_table VALUES (1);", "SELECT 1;"),
            ("2024-01-02-000000_failing_down", "CREATE TABLE a (id INTEGER PRIMARY KEY);", "DROP TABLE missing_table;"),
            ("2024-01-03-000000_create_b", "CREATE TABLE b (id INTEGER PRIMARY KEY);", "DROP TABLE b;"),
        ]);
        let out = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        let found: Vec<(&str, &str)> = findings_of(&report)
            .iter()
            .map(|f| (f["migration"].as_str().unwrap(), f["step"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [
            ("2024-01-01-000000_broken_up", "up"),
            ("2024-01-02-000000_failing_down", "down"),
        ], "{report}");
        let notes = report["notes"].to_string();
        assert!(!notes.contains("round trip stopped"), "{notes}");
        assert_eq!(report["round_trip"], 1, "create_b was checked: {report}");
        assert_scratch_gone(db.backend, &report);
    }
}
