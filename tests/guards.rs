//! Existence guards: what is done is skipped, on every backend, and drift is reported.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use common::{example_migrations, write_migrations, TestDb};
use pelican::catalog::Schema;
use pelican::Backend;

/// Runs one migration holding `statement` after `setup` ran by hand, and returns what
/// guards decided for it (`run` or `skip`).
fn decision(db: &TestDb, index: usize, setup: &str, statement: &str) -> String {
    if !setup.is_empty() {
        db.execute(setup);
    }
    let name = format!("2024-01-01-{:06}_case", index);
    let dir = write_migrations(db.dir(), &[(&name, statement, "")]);
    let out = db.pelican(&dir, &["--format", "json", "migrate"]);
    if out.code == 1 {
        // Left for the next case to build on: nothing of this one was recorded.
        std::fs::remove_dir_all(dir.join(&name)).unwrap();
        return "fail".to_owned();
    }
    assert_eq!(
        out.code, 0,
        "case {index} `{statement}` failed: {}",
        out.stderr
    );
    let json = out.json();
    let step = &json["steps"][0];
    step["statements"][0]["action"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

/// (setup run by hand, the migration's statement, the decision expected).
fn cases(backend: Backend) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut cases = vec![
        // CREATE TABLE t: skipped when t exists.
        (
            "CREATE TABLE g1 (id INTEGER)",
            "CREATE TABLE g1 (id INTEGER)",
            "skip",
        ),
        ("", "CREATE TABLE g2 (id INTEGER)", "run"),
        // DROP TABLE t: skipped when t does not exist.
        ("", "DROP TABLE g_never", "skip"),
        ("CREATE TABLE g3 (id INTEGER)", "DROP TABLE g3", "run"),
        // ADD COLUMN: skipped when the column exists.
        (
            "CREATE TABLE g4 (id INTEGER, c VARCHAR(20))",
            "ALTER TABLE g4 ADD COLUMN c VARCHAR(20)",
            "skip",
        ),
        (
            "CREATE TABLE g5 (id INTEGER)",
            "ALTER TABLE g5 ADD COLUMN c VARCHAR(20)",
            "run",
        ),
        // DROP COLUMN: skipped when the column does not exist.
        (
            "CREATE TABLE g6 (id INTEGER, keep INTEGER)",
            "ALTER TABLE g6 DROP COLUMN gone",
            "skip",
        ),
        (
            "CREATE TABLE g7 (id INTEGER, c INTEGER)",
            "ALTER TABLE g7 DROP COLUMN c",
            "run",
        ),
        // RENAME COLUMN a TO b: existence cannot say whether it ran; the server's
        // refusal fails the migration (a directive decides it).
        (
            "CREATE TABLE g8 (id INTEGER, b INTEGER)",
            "ALTER TABLE g8 RENAME COLUMN a TO b",
            "fail",
        ),
        (
            "CREATE TABLE g9 (id INTEGER, a INTEGER)",
            "ALTER TABLE g9 RENAME COLUMN a TO b",
            "run",
        ),
        // RENAME TO u: likewise.
        (
            "CREATE TABLE g10u (id INTEGER)",
            "ALTER TABLE g10 RENAME TO g10u",
            "fail",
        ),
        (
            "CREATE TABLE g11 (id INTEGER)",
            "ALTER TABLE g11 RENAME TO g11u",
            "run",
        ),
        // CREATE [UNIQUE] INDEX i: skipped when i exists.
        (
            "CREATE TABLE g12 (id INTEGER, n INTEGER); CREATE INDEX ix_g12 ON g12 (n)",
            "CREATE INDEX ix_g12 ON g12 (n)",
            "skip",
        ),
        (
            "CREATE TABLE g13 (id INTEGER, n INTEGER); CREATE UNIQUE INDEX ux_g13 ON g13 (n)",
            "CREATE UNIQUE INDEX ux_g13 ON g13 (n)",
            "skip",
        ),
        (
            "CREATE TABLE g14 (id INTEGER, n INTEGER)",
            "CREATE INDEX ix_g14 ON g14 (n)",
            "run",
        ),
        // CREATE VIEW / DROP VIEW.
        (
            "CREATE VIEW gv1 AS SELECT 1 AS one",
            "CREATE VIEW gv1 AS SELECT 1 AS one",
            "skip",
        ),
        ("", "CREATE VIEW gv2 AS SELECT 1 AS one", "run"),
        ("", "DROP VIEW gv_never", "skip"),
        ("CREATE VIEW gv3 AS SELECT 1 AS one", "DROP VIEW gv3", "run"),
        // IF [NOT] EXISTS statements run as written.
        (
            "CREATE TABLE g15 (id INTEGER)",
            "CREATE TABLE IF NOT EXISTS g15 (id INTEGER)",
            "run",
        ),
        ("", "DROP TABLE IF EXISTS g_never2", "run"),
    ];
    // DROP INDEX: MariaDB names the table.
    match backend {
        Backend::Mysql => cases.extend([
            (
                "CREATE TABLE g16 (id INTEGER)",
                "DROP INDEX ix_never ON g16",
                "skip",
            ),
            (
                "CREATE TABLE g17 (id INTEGER, n INTEGER); CREATE INDEX ix_g17 ON g17 (n)",
                "DROP INDEX ix_g17 ON g17",
                "run",
            ),
        ]),
        _ => cases.extend([
            ("", "DROP INDEX ix_never", "skip"),
            (
                "CREATE TABLE g17 (id INTEGER, n INTEGER); CREATE INDEX ix_g17 ON g17 (n)",
                "DROP INDEX ix_g17",
                "run",
            ),
        ]),
    }
    // Constraints: SQLite has no ADD/DROP CONSTRAINT.
    match backend {
        Backend::Sqlite => {}
        Backend::Postgres => cases.extend([
            ("CREATE TABLE g18 (id INTEGER, n INTEGER, CONSTRAINT uq_g18 UNIQUE (n))", "ALTER TABLE g18 ADD CONSTRAINT uq_g18 UNIQUE (n)", "skip"),
            ("CREATE TABLE g19 (id INTEGER, n INTEGER)", "ALTER TABLE g19 ADD CONSTRAINT uq_g19 UNIQUE (n)", "run"),
            ("CREATE TABLE g20 (id INTEGER)", "ALTER TABLE g20 DROP CONSTRAINT ck_never", "skip"),
            ("CREATE TABLE g21 (id INTEGER, CONSTRAINT ck_g21 CHECK (id > 0))", "ALTER TABLE g21 DROP CONSTRAINT ck_g21", "run"),
        ]),
        Backend::Mysql => cases.extend([
            ("CREATE TABLE g18 (id INTEGER, n INTEGER, CONSTRAINT uq_g18 UNIQUE (n))", "ALTER TABLE g18 ADD CONSTRAINT uq_g18 UNIQUE (n)", "skip"),
            ("CREATE TABLE g19 (id INTEGER, n INTEGER)", "ALTER TABLE g19 ADD CONSTRAINT uq_g19 UNIQUE (n)", "run"),
            ("CREATE TABLE g20 (id INTEGER PRIMARY KEY)", "ALTER TABLE g20 DROP FOREIGN KEY fk_never", "skip"),
            ("CREATE TABLE g21p (id INTEGER PRIMARY KEY); CREATE TABLE g21 (id INTEGER, p INTEGER, CONSTRAINT fk_g21 FOREIGN KEY (p) REFERENCES g21p (id))",
             "ALTER TABLE g21 DROP FOREIGN KEY fk_g21", "run"),
            ("CREATE TABLE g22 (id INTEGER)", "ALTER TABLE g22 DROP CONSTRAINT ck_never", "skip"),
        ]),
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
    // Triggers, types and functions, in each backend's own syntax.
    match backend {
        Backend::Sqlite => cases.extend([
            ("CREATE TABLE g30 (id INTEGER, n INTEGER); CREATE TRIGGER tg30 AFTER INSERT ON g30 BEGIN UPDATE g30 SET n = 1; END;",
             "CREATE TRIGGER tg30 AFTER INSERT ON g30 BEGIN UPDATE g30 SET n = 1; END", "skip"),
            ("CREATE TABLE g31 (id INTEGER, n INTEGER)",
             "CREATE TRIGGER tg31 AFTER INSERT ON g31 BEGIN UPDATE g31 SET n = 1; END", "run"),
            ("", "DROP TRIGGER tg_never", "skip"),
            ("CREATE TABLE g32 (id INTEGER, n INTEGER); CREATE TRIGGER tg32 AFTER INSERT ON g32 BEGIN UPDATE g32 SET n = 1; END;",
             "DROP TRIGGER tg32", "run"),
        ]),
        Backend::Postgres => cases.extend([
            ("CREATE TYPE mood1 AS ENUM ('a', 'b')", "CREATE TYPE mood1 AS ENUM ('a', 'b')", "skip"),
            ("", "CREATE TYPE mood2 AS ENUM ('a', 'b')", "run"),
            ("", "DROP TYPE mood_never", "skip"),
            ("CREATE TYPE mood3 AS ENUM ('a')", "DROP TYPE mood3", "run"),
            ("CREATE FUNCTION fn1() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
             "CREATE FUNCTION fn1() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql", "skip"),
            ("", "CREATE FUNCTION fn2() RETURNS integer AS $$ SELECT 1 $$ LANGUAGE sql", "run"),
            ("", "DROP FUNCTION fn_never()", "skip"),
            ("CREATE TABLE g30 (id INTEGER); CREATE TRIGGER tg30 BEFORE INSERT ON g30 FOR EACH ROW EXECUTE FUNCTION fn1()",
             "CREATE TRIGGER tg30 BEFORE INSERT ON g30 FOR EACH ROW EXECUTE FUNCTION fn1()", "skip"),
            ("CREATE TABLE g31 (id INTEGER)", "CREATE TRIGGER tg31 BEFORE INSERT ON g31 FOR EACH ROW EXECUTE FUNCTION fn1()", "run"),
            ("CREATE TABLE g32 (id INTEGER)", "DROP TRIGGER tg_never ON g32", "skip"),
            ("", "DROP TRIGGER tg31 ON g31", "run"),
        ]),
        Backend::Mysql => cases.extend([
            ("CREATE TABLE g30 (id INTEGER, n INTEGER); CREATE TRIGGER tg30 BEFORE INSERT ON g30 FOR EACH ROW BEGIN IF NEW.n IS NULL THEN SET NEW.n = 0; END IF; END",
             "CREATE TRIGGER tg30 BEFORE INSERT ON g30 FOR EACH ROW BEGIN IF NEW.n IS NULL THEN SET NEW.n = 0; END IF; END", "skip"),
            ("CREATE TABLE g31 (id INTEGER, n INTEGER)",
             "CREATE TRIGGER tg31 BEFORE INSERT ON g31 FOR EACH ROW BEGIN IF NEW.n IS NULL THEN SET NEW.n = 0; END IF; END", "run"),
            ("", "DROP TRIGGER tg_never", "skip"),
            ("", "DROP TRIGGER tg31", "run"),
            ("CREATE FUNCTION fn1() RETURNS INTEGER DETERMINISTIC RETURN 1", "CREATE FUNCTION fn1() RETURNS INTEGER DETERMINISTIC RETURN 1", "skip"),
            ("", "CREATE FUNCTION fn2() RETURNS INTEGER DETERMINISTIC RETURN 1", "run"),
            ("", "DROP FUNCTION fn_never", "skip"),
            ("", "DROP FUNCTION fn2", "run"),
        ]),
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
    cases
}

backend_tests! {
    fn every_row_of_the_guard_table(db: TestDb) {
        // A managed database, empty: what each case sets up by hand is not the
        // unmanaged tables that `migrate` refuses to take over.
        db.pelican(&example_migrations(), &["stamp", "base"]).success();
        for (index, (setup, statement, expected)) in cases(db.backend).into_iter().enumerate() {
            let got = decision(&db, index, setup, statement);
            assert_eq!(got, expected, "case {index}: `{statement}` after `{setup}`");
        }
    }

    fn stamping_back_ten_migrations_and_migrating_again_skips_everything(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        let before = Schema::introspect(&mut db.connect()).unwrap();
        let rows = db.query_strings("SELECT clave AS value FROM configuracion ORDER BY clave");
        db.pelican(&migrations, &["stamp", "-10"]).success();
        assert_eq!(db.applied().len(), 2);

        let out = db.pelican(&migrations, &["--format", "json", "migrate"]).success();
        let json = out.json();
        let steps = json["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 10);
        for step in steps {
            assert_eq!(step["statements_run"], 0, "{step}");
            assert!(step["statements_skipped"].as_u64().unwrap() >= 1, "{step}");
        }
        assert_eq!(db.applied().len(), 12);
        assert_eq!(Schema::introspect(&mut db.connect()).unwrap(), before, "the schema changed");
        assert_eq!(db.query_strings("SELECT clave AS value FROM configuracion ORDER BY clave"), rows);
    }

    fn objects_made_by_hand_are_skipped_and_another_column_type_is_reported(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate", "20240118110000"]).success();
        // By hand, before the migrations that create them: one right, one of another type.
        db.execute("CREATE TABLE anuncio (id INTEGER PRIMARY KEY, curso_id INTEGER NOT NULL, texto VARCHAR(1000) NOT NULL, publicado_en TIMESTAMP NULL)");
        db.execute("ALTER TABLE usuario ADD COLUMN telefono INTEGER NULL");

        let strict = db.pelican(&migrations, &["migrate", "--strict-guards"]);
        assert_eq!(strict.code, 1);
        assert!(
            strict.stderr.contains("usuario.telefono exists as INTEGER NULL; the statement adds VARCHAR(20) NULL"),
            "{}", strict.stderr
        );
        assert_eq!(db.applied().len(), 5, "--strict-guards recorded the migration");

        let out = db.pelican(&migrations, &["migrate"]).success();
        assert!(
            out.stderr.contains("warning: 2024-02-01-090000_add_usuario_telefono: usuario.telefono exists as INTEGER NULL; the statement adds VARCHAR(20) NULL"),
            "{}", out.stderr
        );
        assert!(out.stdout.contains("Applied 2024-02-05-120000_create_anuncio (1 statement(s), 1 skipped"), "{}", out.stdout);
        assert_eq!(db.applied().len(), 12);
        let journal = db.query_strings(
            "SELECT message AS value FROM __pelican_journal WHERE version = '20240201090000' AND outcome = 'applied'",
        );
        assert!(journal[0].contains("skipped line 2: column usuario.telefono exists"), "{journal:?}");
        assert!(journal[0].contains("warning: usuario.telefono exists as INTEGER NULL"), "{journal:?}");
    }

    fn a_failure_part_way_rolls_back_or_resumes(db: TestDb) {
        let dir = write_migrations(db.dir(), &[(
            "2024-01-01-000000_three_steps",
            "CREATE TABLE first_t (id INTEGER);\nALTER TABLE first_t ADD COLUMN second_c INTEGER;\nINSERT INTO needed (id) VALUES (1);\n",
            "DROP TABLE first_t;",
        )]);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1);
        assert!(out.stderr.contains("up.sql, line 3: `INSERT INTO needed (id) VALUES (1)`"), "{}", out.stderr);
        assert!(db.applied().is_empty(), "a failed migration was recorded");
        if db.backend == Backend::Mysql {
            // MariaDB committed the first two DDL statements.
            assert_eq!(db.columns("first_t"), ["id", "second_c"]);
        } else {
            assert!(!db.tables().contains(&"first_t".to_owned()), "not rolled back");
        }
        // The cause is fixed; the migration runs again and, on MariaDB, skips what is done.
        db.execute("CREATE TABLE needed (id INTEGER)");
        let out = db.pelican(&dir, &["--format", "json", "migrate"]).success().json();
        let step = &out["steps"][0];
        if db.backend == Backend::Mysql {
            assert_eq!(step["statements_skipped"], 2, "{step}");
            assert_eq!(step["statements_run"], 1, "{step}");
        } else {
            assert_eq!(step["statements_run"], 3, "{step}");
        }
        assert_eq!(db.applied(), ["20240101000000"]);
        assert_eq!(db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM needed"), ["1"]);
    }

    fn dry_run_follows_a_drop_if_exists(db: TestDb) {
        // vaultwarden's sso_nonce: a table made again by DROP TABLE IF EXISTS and
        // CREATE TABLE. The CREATE runs (on MySQL/MariaDB the prediction follows the
        // drop), and nothing is said to be missing from the old table.
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000001_nonce", "CREATE TABLE nonce (n CHAR(36) NOT NULL PRIMARY KEY);", ""),
            ("2024-01-01-000002_again", "DROP TABLE IF EXISTS nonce;\n\nCREATE TABLE nonce (\n  state VARCHAR(100) NOT NULL PRIMARY KEY\n);", ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--dry-run", "-v"]).success();
        assert!(!out.stderr.contains("warning"), "{}", out.stderr);
        assert!(out.stdout.contains("RUN  line 3    CREATE TABLE nonce ("), "{}", out.stdout);
        assert_eq!(db.tables(), Vec::<String>::new());
    }

    fn dry_run_and_script_follow_a_create_if_not_exists(db: TestDb) {
        // syncstorage-rs: a table made by CREATE TABLE IF NOT EXISTS, dropped by a later
        // migration. The drop runs in the dry run and is in the script (the prediction
        // had lost the table and left the drop out).
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000001_batches", "CREATE TABLE IF NOT EXISTS batches (id INTEGER NOT NULL PRIMARY KEY);", ""),
            ("2024-01-01-000002_drop", "DROP TABLE batches;\nCREATE TABLE uploads (id INTEGER NOT NULL PRIMARY KEY);", ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--dry-run", "-v"]).success();
        assert!(!out.stderr.contains("warning"), "{}", out.stderr);
        assert!(out.stdout.contains("RUN  line 1    DROP TABLE batches"), "{}", out.stdout);
        let script = db.pelican(&dir, &["migrate", "--sql"]).success().stdout;
        assert!(script.contains("DROP TABLE batches;"), "{script}");
        assert_eq!(db.tables(), Vec::<String>::new());
    }

    fn downgrades_are_guarded_too(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        // Someone dropped the view and the column by hand already.
        db.execute("DROP VIEW v_inscripciones");
        db.execute("ALTER TABLE inscripcion DROP COLUMN progreso");
        let out = db.pelican(&migrations, &["downgrade", "20240215100000"]).success();
        assert!(out.stdout.contains("Reverted 2024-03-10-093000_add_inscripcion_progreso (0 statement(s), 1 skipped"), "{}", out.stdout);
        assert!(out.stdout.contains("Reverted 2024-03-01-090000_create_v_inscripciones (0 statement(s), 1 skipped"), "{}", out.stdout);
    }

    fn dry_run_touches_nothing_and_shows_each_decision(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate", "+3"]).success();
        db.execute("CREATE TABLE configuracion (clave VARCHAR(100) NOT NULL PRIMARY KEY, valor VARCHAR(500) NOT NULL)");
        let tables = db.tables();
        let journal = db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM __pelican_journal");

        let out = db.pelican(&migrations, &["migrate", "--dry-run"]).success();
        assert!(!out.stderr.contains("Applying") && !out.stdout.contains("Applied"), "{out:?}");
        assert!(out.stdout.contains("up 2024-01-17-093000_create_configuracion"), "{}", out.stdout);
        assert!(out.stdout.contains("SKIP line 2"), "{}", out.stdout);
        assert!(out.stdout.contains("table configuracion exists"), "{}", out.stdout);
        assert!(out.stdout.contains("RUN  line 3    CREATE TABLE leccion ("), "{}", out.stdout);
        // The seed's explicit guard reads the (real, empty) table.
        assert!(out.stdout.contains("skip-if sql SELECT COUNT(*) > 0 FROM configuracion"), "{}", out.stdout);
        // It ran for real, in a transaction rolled back (MySQL/MariaDB predict).
        assert!(out.stdout.contains("RUN  line 2    ALTER TABLE usuario ADD COLUMN telefono"), "{}", out.stdout);
        if db.backend == Backend::Mysql {
            assert!(out.stdout.contains("this is a prediction"), "{}", out.stdout);
        } else {
            assert!(out.stdout.contains("in a transaction that was rolled back"), "{}", out.stdout);
        }
        assert_eq!(db.tables(), tables);
        assert_eq!(db.applied().len(), 3);
        assert_eq!(db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM __pelican_journal"), journal);

        let sql = db.pelican(&migrations, &["migrate", "--sql"]).success();
        assert!(!sql.stderr.contains("Applying") && !sql.stdout.contains("Applied"), "{sql:?}");
        assert!(!sql.stdout.contains("CREATE TABLE configuracion"), "{}", sql.stdout);
        assert!(sql.stdout.contains("CREATE TABLE leccion ("), "{}", sql.stdout);
        assert!(sql.stdout.contains("ALTER TABLE usuario ADD COLUMN telefono VARCHAR(20) NULL;"), "{}", sql.stdout);
        // The ledger rows are part of the script.
        assert!(sql.stdout.contains("INSERT INTO"), "{}", sql.stdout);
        assert!(sql.stdout.contains("'20240201090000'"), "{}", sql.stdout);
        assert_eq!(db.tables(), tables);
    }

    fn explicit_directives_and_switching_guards_off(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_setup", "CREATE TABLE d (id INTEGER, n INTEGER);\nINSERT INTO d (id, n) VALUES (1, 1);", ""),
            ("2024-01-02-000000_directives", concat!(
                "-- pelican: skip-if table d\nINSERT INTO d (id) VALUES (100);\n",
                "-- pelican: run-if column d.n\nINSERT INTO d (id) VALUES (2);\n",
                "-- pelican: skip-if column d.missing\nINSERT INTO d (id) VALUES (3);\n",
                "-- pelican: run-if index ix_never\nINSERT INTO d (id) VALUES (101);\n",
                "-- pelican: run-if sql SELECT COUNT(*) = 0 FROM d WHERE id = 4\nINSERT INTO d (id) VALUES (4);\n",
                "-- pelican: skip-if sql SELECT COUNT(*) > 0 FROM d WHERE id = 1\nINSERT INTO d (id) VALUES (102);\n",
            ), ""),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        let ids = db.query_strings("SELECT CAST(id AS CHAR(10)) AS value FROM d ORDER BY id");
        assert_eq!(ids, ["1", "2", "3", "4"]);

        // no-guard: this CREATE TABLE runs as written, and fails because d exists.
        let dir = write_migrations(db.dir(), &[(
            "2024-01-03-000000_no_guard", "-- pelican: no-guard\nCREATE TABLE d (id INTEGER);", "",
        )]);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        std::fs::remove_dir_all(dir.join("2024-01-03-000000_no_guard")).unwrap();

        // The whole file, metadata.toml, and the run: each switches inference off.
        for (name, up, metadata, args) in [
            ("2024-01-04-000000_file", "-- pelican: no-guards\nCREATE TABLE d (id INTEGER);", None, &["migrate"][..]),
            ("2024-01-05-000000_meta", "CREATE TABLE d (id INTEGER);", Some("[pelican]\nguards = false\n"), &["migrate"][..]),
            ("2024-01-06-000000_run", "CREATE TABLE d (id INTEGER);", None, &["migrate", "--no-guards"][..]),
        ] {
            let dir = write_migrations(db.dir(), &[(name, up, "")]);
            if let Some(metadata) = metadata {
                std::fs::write(dir.join(name).join("metadata.toml"), format!("run_in_transaction = true\n{metadata}")).unwrap();
            }
            let out = db.pelican(&dir, args);
            assert_eq!(out.code, 1, "{name}: guards were not off: {out:?}");
            std::fs::remove_dir_all(dir.join(name)).unwrap();
            // Guards on: the same statement is skipped.
            let dir = write_migrations(db.dir(), &[(name, "CREATE TABLE d (id INTEGER);", "")]);
            db.pelican(&dir, &["migrate"]).success();
        }

        let dir = write_migrations(db.dir(), &[(
            "2024-01-07-000000_typo", "-- pelican: skip-iff table d\nINSERT INTO d (id) VALUES (9);", "",
        )]);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1);
        assert!(out.stderr.contains("2024-01-07-000000_typo/up.sql, line 2"), "{}", out.stderr);
        assert!(out.stderr.contains("unknown pelican directive `skip-iff table d`"), "{}", out.stderr);
    }
}

/// Where a file runs in a transaction (SQLite, PostgreSQL) and its batch fails, the
/// retry sends runs of statements and halves the one refused down to the statement:
/// the same decisions, the same error, as one by one.
fn a_long_migration_retried_in_runs_decides_each_statement_as_alone(db: TestDb) {
    // 3,000 statements: the table made by hand (its CREATE refused, then settled
    // as a skip) in the middle; later, a statement that fails.
    write_migrations(
        db.dir(),
        &[(
            "2023-01-01-000000_first",
            "CREATE TABLE first_t (id INTEGER);",
            "",
        )],
    );
    db.pelican(&db.dir().join("migrations"), &["migrate"])
        .success();
    db.execute("CREATE TABLE made_by_hand (id INTEGER)");
    let up = |failing: &str| {
        let mut up = String::from("CREATE TABLE rows_t (id INTEGER);\n");
        for i in 0..3000 {
            match i {
                1234 => up
                    .push_str("-- made by hand already\nCREATE TABLE made_by_hand (id INTEGER);\n"),
                2345 => up.push_str(&format!("{failing};\n")),
                _ => up.push_str(&format!(
                    "INSERT INTO rows_t (id) VALUES ({i}); /* {i} */\n"
                )),
            }
        }
        up
    };
    let name = "2024-01-01-000000_long";
    let dir = write_migrations(
        db.dir(),
        &[(name, &up("INSERT INTO missing_t VALUES (1)"), "")],
    );
    let out = db.pelican(&dir, &["migrate"]);
    assert_eq!(out.code, 1, "{out:?}");
    // Line 1 is the CREATE of rows_t; statement i is on line i + 2, the one made
    // by hand a line lower after its comment.
    assert!(
        out.stderr.contains(&format!(
            "{name}/up.sql, line 2348: `INSERT INTO missing_t VALUES (1)`"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(db.applied().len(), 1);
    assert!(
        !db.tables().contains(&"rows_t".to_owned()),
        "{:?}",
        db.tables()
    );

    std::fs::write(dir.join(name).join("up.sql"), up("SELECT 1")).unwrap();
    let json = db
        .pelican(&dir, &["--format", "json", "migrate"])
        .success()
        .json();
    let step = &json["steps"][0];
    assert_eq!(
        step["statements_run"], 3000,
        "{}",
        step["statements_skipped"]
    );
    assert_eq!(step["statements_skipped"], 1);
    let statements = step["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 3001);
    assert_eq!(statements[1235]["action"], "skip", "{}", statements[1235]);
    assert_eq!(statements[1235]["line"], 1237);
    assert!(statements
        .iter()
        .enumerate()
        .all(|(i, s)| i == 1235 || s["action"] == "run"));
    assert_eq!(
        db.query_strings("SELECT CAST(COUNT(*) AS CHAR(8)) AS value FROM rows_t"),
        ["2998"]
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn a_long_migration_retried_in_runs_decides_each_statement_as_alone_sqlite() {
    a_long_migration_retried_in_runs_decides_each_statement_as_alone(TestDb::new(
        Backend::Sqlite,
        "retry_runs",
    ));
}

#[cfg(feature = "postgres")]
#[test]
fn a_long_migration_retried_in_runs_decides_each_statement_as_alone_postgres() {
    a_long_migration_retried_in_runs_decides_each_statement_as_alone(TestDb::new(
        Backend::Postgres,
        "retry_runs",
    ));
}

/// MySQL's `ALTER TABLE … ADD INDEX i`, `ADD UNIQUE KEY k`: existence decides them, as
/// it decides `CREATE INDEX` (tokenserver's `add_indexes`), so a run that meets them
/// done skips them, and a half-applied migration needs no progress row for them.
#[cfg(feature = "mysql")]
#[test]
fn mysql_alter_table_add_index_is_decided_by_existence() {
    let db = TestDb::new(Backend::Mysql, "add_index_guard");
    db.execute(
        "CREATE TABLE nodes (service INT NOT NULL, node VARCHAR(64) NOT NULL); \
         ALTER TABLE nodes ADD UNIQUE KEY unique_idx (service, node); \
         ALTER TABLE nodes ADD INDEX node_idx (node);",
    );
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000001_indexes",
            "CREATE TABLE IF NOT EXISTS nodes (service INT NOT NULL, node VARCHAR(64) NOT NULL);\n\
             ALTER TABLE nodes ADD UNIQUE KEY unique_idx (service, node);\n\
             ALTER TABLE nodes ADD INDEX node_idx (node);\n\
             ALTER TABLE nodes ADD INDEX service_idx (service);",
            "",
        )],
    );
    db.execute("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    let out = db.pelican(&dir, &["migrate", "-v"]).success();
    assert!(out.stdout.contains("SKIP line 2"), "{}", out.stdout);
    assert!(
        out.stdout.contains("index unique_idx exists")
            || out.stdout.contains("constraint unique_idx exists"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("SKIP line 3"), "{}", out.stdout);
    assert!(out.stdout.contains("RUN  line 4"), "{}", out.stdout);
}

/// MySQL's `ALTER TABLE … DROP KEY k`, a synonym of `DROP INDEX k` that the SQL parser
/// does not read: existence decides it as it decides `DROP INDEX` (tokenserver's
/// `remove_nodes_service_key`), so a run that meets it done skips it (it failed with
/// `Can't DROP INDEX`), and a half-applied migration needs no progress row for it.
#[cfg(feature = "mysql")]
#[test]
fn mysql_alter_table_drop_key_is_decided_by_existence() {
    let db = TestDb::new(Backend::Mysql, "drop_key_guard");
    db.execute(
        "CREATE TABLE nodes (service INT NOT NULL, node VARCHAR(64) NOT NULL, KEY node (node))",
    );
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000001_keys",
            "ALTER TABLE `nodes` DROP KEY `service`;\nALTER TABLE `nodes` DROP KEY `node`;",
            "",
        )],
    );
    db.execute("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    let out = db.pelican(&dir, &["migrate", "-v"]).success();
    assert!(out.stdout.contains("SKIP line 1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("index service does not exist"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("RUN  line 2"), "{}", out.stdout);
    assert_eq!(
        db.query_strings(
            "SELECT CAST(COUNT(*) AS CHAR) AS value FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = 'nodes'"
        ),
        ["0"]
    );
}
