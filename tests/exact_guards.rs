//! Guards never change what a migration does: each shape here once made pelican's
//! result differ from diesel's (a stale model of the schema, identity decided by
//! pelican, existence taken as done), and now runs exactly as written.

mod common;

use common::{write_migrations, TestDb};
use pelican::Backend;

/// `(folder, up.sql, down.sql)` migrations in order, with one-second versions.
fn history(db: &TestDb, ups: &[(&str, &str)]) -> std::path::PathBuf {
    let owned: Vec<(String, &str, &str)> = ups
        .iter()
        .enumerate()
        .map(|(i, (name, up))| (format!("2024-01-01-{:06}_{name}", i), *up, ""))
        .collect();
    let borrowed: Vec<(&str, &str, &str)> =
        owned.iter().map(|(n, u, d)| (n.as_str(), *u, *d)).collect();
    write_migrations(db.dir(), &borrowed)
}

fn count(db: &TestDb, sql: &str) -> String {
    db.query_strings(sql).into_iter().next().unwrap_or_default()
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    fn db(test: &str) -> TestDb {
        TestDb::new(Backend::Postgres, test)
    }

    const UPDATED_AT: &str = "CREATE FUNCTION set_updated_at() RETURNS trigger AS $$ \
        BEGIN NEW.updated_at := now(); RETURN NEW; END; $$ LANGUAGE plpgsql";

    #[test]
    fn triggers_of_one_name_on_two_tables_both_exist() {
        let db = db("same_trigger_name");
        let dir = history(&db, &[
            ("fn", UPDATED_AT),
            ("users", "CREATE TABLE users (id INT, updated_at TIMESTAMP);\nCREATE TRIGGER set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();"),
            ("posts", "CREATE TABLE posts (id INT, updated_at TIMESTAMP);\nCREATE TRIGGER set_updated_at BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION set_updated_at();"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        let on = db.query_strings(
            "SELECT c.relname::text AS value FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             WHERE t.tgname = 'set_updated_at' ORDER BY 1",
        );
        assert_eq!(on, ["posts", "users"]);
    }

    #[test]
    fn a_view_dropped_with_cascade_takes_its_materialized_view_which_is_made_again() {
        let db = db("drop_view_cascade");
        let dir = history(&db, &[
            ("views", "CREATE TABLE t (id INT);\nCREATE VIEW v AS SELECT id FROM t;\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM v;"),
            ("redo", "DROP VIEW v CASCADE;\nCREATE VIEW v AS SELECT id, id * 2 AS twice FROM t;\nCREATE MATERIALIZED VIEW mv AS SELECT twice FROM v;"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*)::text AS value FROM pg_matviews WHERE matviewname = 'mv'"
            ),
            "1"
        );
        assert_eq!(db.query_strings("SELECT attname::text AS value FROM pg_attribute WHERE attrelid = 'mv'::regclass AND attnum > 0"), ["twice"]);
    }

    #[test]
    fn a_function_dropped_with_cascade_takes_its_triggers_which_are_made_again() {
        let db = db("drop_function_cascade");
        let dir = history(&db, &[
            ("fn", UPDATED_AT),
            ("users", "CREATE TABLE users (id INT, updated_at TIMESTAMP);\nCREATE TRIGGER set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();"),
            ("again", &format!("DROP FUNCTION set_updated_at() CASCADE;\n{UPDATED_AT};\nCREATE TRIGGER set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();")),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*)::text AS value FROM pg_trigger WHERE tgname = 'set_updated_at'"
            ),
            "1"
        );
    }

    #[test]
    fn an_implicitly_named_foreign_key_is_dropped_by_its_name() {
        let db = db("implicit_fkey");
        let dir = history(&db, &[
            ("p", "CREATE TABLE p (id INT PRIMARY KEY);\nCREATE TABLE t (id INT, u TEXT UNIQUE);"),
            ("fk", "ALTER TABLE t ADD COLUMN c INT REFERENCES p (id);"),
            ("drop", "ALTER TABLE t DROP CONSTRAINT t_c_fkey;\nALTER TABLE t DROP CONSTRAINT t_u_key;"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*)::text AS value FROM pg_constraint WHERE conrelid = 't'::regclass"
            ),
            "0"
        );
    }

    #[test]
    fn a_name_over_63_bytes_is_the_truncated_name_postgres_made() {
        let db = db("long_name");
        let long = "a_table_whose_name_is_much_longer_than_sixty_three_bytes_allowed_by_postgres";
        let dir = history(
            &db,
            &[
                ("t", &format!("CREATE TABLE {long} (id INT);")),
                ("drop", &format!("DROP TABLE {long};")),
                ("again", &format!("CREATE TABLE {long} (id INT, n INT);")),
            ],
        );
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.columns(&long[..63]), ["id", "n"]);
    }

    #[test]
    fn only_ascii_letters_are_folded_so_two_names_that_differ_elsewhere_are_two_tables() {
        let db = db("ascii_folding");
        let dir = history(
            &db,
            &[
                ("upper", "CREATE TABLE Ärger (id INT);"),
                ("lower", "CREATE TABLE ärger (id INT, n INT);"),
            ],
        );
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.columns("Ärger"), ["id"]);
        assert_eq!(db.columns("ärger"), ["id", "n"]);
    }

    #[test]
    fn an_invalid_index_is_not_taken_as_built() {
        let db = db("invalid_index");
        let dir = write_migrations(
            db.dir(),
            &[
                (
                    "2024-01-01-000000_t",
                    "CREATE TABLE t (id INT, n INT);\nINSERT INTO t VALUES (1, 1), (2, 1);",
                    "",
                ),
                (
                    "2024-01-02-000000_unique",
                    "CREATE UNIQUE INDEX CONCURRENTLY ux_t_n ON t (n);",
                    "",
                ),
            ],
        );
        std::fs::write(
            dir.join("2024-01-02-000000_unique/metadata.toml"),
            "run_in_transaction = false\n",
        )
        .unwrap();
        let first = db.pelican(&dir, &["migrate"]);
        assert_eq!(first.code, 1, "{first:?}");
        // The failed build left an INVALID index; the duplicate is fixed, and the index
        // must not be skipped as if it were built.
        db.execute("DELETE FROM t WHERE id = 2");
        let second = db.pelican(&dir, &["migrate"]);
        assert_eq!(second.code, 1, "{second:?}");
        assert!(
            second.stderr.contains("ux_t_n exists but is INVALID"),
            "{}",
            second.stderr
        );
        assert_eq!(db.applied(), ["20240101000000"]);
    }

    #[test]
    fn a_down_sql_dropping_a_constraint_by_an_index_name_fails_as_diesel_does() {
        let db = db("constraint_by_index_name");
        let dir = write_migrations(
            db.dir(),
            &[(
                "2024-01-01-000000_unique",
                "CREATE TABLE t (id INT, n INT);\nCREATE UNIQUE INDEX ux_t_n ON t (n);",
                "ALTER TABLE t DROP CONSTRAINT ux_t_n;\nDROP TABLE t;",
            )],
        );
        db.pelican(&dir, &["migrate"]).success();
        let out = db.pelican(&dir, &["downgrade", "base"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("ux_t_n is an index on t, not a constraint"),
            "{}",
            out.stderr
        );
        assert_eq!(
            db.applied(),
            ["20240101000000"],
            "the broken revert was recorded"
        );
    }

    #[test]
    fn search_path_set_by_a_migration_decides_where_a_table_goes() {
        let db = db("search_path");
        let dir = history(&db, &[
            ("items", "CREATE TABLE items (id INT);"),
            ("archive", "CREATE SCHEMA archive;\nSET search_path TO archive;\nCREATE TABLE items (id INT, archived_at TIMESTAMP);"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(count(&db, "SELECT COUNT(*)::text AS value FROM information_schema.columns WHERE table_schema = 'archive' AND table_name = 'items'"), "2");
        assert_eq!(db.applied().len(), 2);
    }

    #[test]
    fn create_index_concurrently_runs_beside_other_statements_and_a_dry_run_tries_it_without_concurrently(
    ) {
        let db = db("concurrently");
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_t", "CREATE TABLE t (id INT, n INT);", ""),
            ("2024-01-02-000000_ix", "CREATE INDEX CONCURRENTLY ix_t_n ON t (n);\nCREATE INDEX CONCURRENTLY ix_t_id ON t (id);\nVACUUM t;", ""),
        ]);
        std::fs::write(
            dir.join("2024-01-02-000000_ix/metadata.toml"),
            "run_in_transaction = false\n",
        )
        .unwrap();
        let dry = db.pelican(&dir, &["migrate", "--dry-run"]).success();
        assert!(
            dry.stdout
                .contains("RUN  line 1    CREATE INDEX CONCURRENTLY ix_t_n ON t (n)"),
            "{}",
            dry.stdout
        );
        assert!(dry.stdout.contains("tried as `CREATE INDEX ix_t_n ON t (n)`: as written, it cannot run in the dry run's transaction"), "{}", dry.stdout);
        // Nothing stands in for VACUUM: the dry run says it did not try it.
        assert!(dry.stdout.contains("NOT TRIED line 3"), "{}", dry.stdout);
        assert_eq!(
            db.tables(),
            Vec::<String>::new(),
            "the dry run left something"
        );
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*)::text AS value FROM pg_indexes WHERE tablename = 't'"
            ),
            "2"
        );
    }

    #[test]
    fn a_dry_run_shows_a_drop_and_create_as_two_statements_that_run() {
        let db = db("dry_run_drop_create");
        let dir = history(
            &db,
            &[
                ("t", "CREATE TABLE t (id INT);"),
                (
                    "again",
                    "DROP TABLE IF EXISTS t;\nCREATE TABLE t (id INT, n INT);",
                ),
            ],
        );
        db.pelican(&dir, &["migrate", "+1"]).success();
        let dry = db.pelican(&dir, &["migrate", "--dry-run"]).success();
        assert!(!dry.stdout.contains("SKIP"), "{}", dry.stdout);
        assert_eq!(db.columns("t"), ["id"], "the dry run changed the table");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_table_rebuild_keeps_the_child_rows() {
    for command in ["migrate", "init"] {
        let db = TestDb::new(Backend::Sqlite, "sqlite_rebuild");
        let dir = history(&db, &[
            ("tables", "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);"),
            ("rows", "INSERT INTO parent VALUES (1, 'a');\nINSERT INTO child VALUES (1, 1), (2, 1);"),
            ("rebuild", "PRAGMA foreign_keys = OFF;\nCREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\nINSERT INTO parent_new SELECT id, name FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;\nPRAGMA foreign_keys = ON;"),
        ]);
        db.pelican(&dir, &[command]).success();
        assert_eq!(
            count(&db, "SELECT CAST(COUNT(*) AS TEXT) AS value FROM child"),
            "2",
            "{command}"
        );
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_migration_that_orphans_rows_fails_naming_the_table() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_orphans");
    let dir = history(&db, &[
        ("tables", "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\nINSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1, 1);"),
        ("orphan", "DELETE FROM parent;"),
    ]);
    // A commit per migration, so that the first one stays (an atomic run keeps none).
    let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("break foreign keys (first: table child, row 1, referencing parent)"),
        "{}",
        out.stderr
    );
    assert_eq!(db.applied(), ["20240101000000"]);
    assert_eq!(
        count(&db, "SELECT CAST(COUNT(*) AS TEXT) AS value FROM parent"),
        "1"
    );
}

/// Rows that broke a foreign key before the run (left while enforcement was off) are not
/// a later migration's doing: diesel's harness, with enforcement on, applies the
/// migrations after them, and so does pelican; a migration that adds a violation of its
/// own still fails (`a_sqlite_migration_that_orphans_rows_fails_naming_the_table`).
#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_orphan_row_from_before_the_run_does_not_fail_later_migrations() {
    use diesel::{Connection, SqliteConnection};
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    let db = TestDb::new(Backend::Sqlite, "sqlite_orphan_before");
    let dir = history(&db, &[
        ("tables", "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));"),
        ("other", "CREATE TABLE other (id INTEGER PRIMARY KEY);"),
        ("rows", "INSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (2, 1);"),
        ("column", "ALTER TABLE child ADD COLUMN note TEXT;\nUPDATE child SET note = 'n';"),
    ]);
    let orphan = "PRAGMA foreign_keys = OFF;\nINSERT INTO child VALUES (1, 99);";

    // diesel's harness, on a twin database with the same orphan after the first migration.
    let twin = db.dir().join("diesel.db");
    let twin_url = twin.display().to_string();
    let mut diesel = SqliteConnection::establish(&twin_url).unwrap();
    let source = FileBasedMigrations::from_path(&dir).unwrap();
    diesel.run_next_migration(source.clone()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut diesel, orphan).unwrap();
    diesel.run_pending_migrations(source).unwrap();

    db.pelican(&dir, &["migrate", "+1"]).success();
    db.execute(orphan);
    db.pelican(&dir, &["migrate"]).success();
    assert_eq!(db.applied().len(), 4);
    let rows = "SELECT id || ',' || parent_id || ',' || coalesce(note, '-') AS value FROM child ORDER BY id";
    let ours = db.query_strings(rows);
    assert_eq!(ours, ["1,99,n", "2,1,n"]);
    let theirs: Vec<String> =
        diesel::RunQueryDsl::load::<Value>(diesel::sql_query(rows), &mut diesel)
            .unwrap()
            .into_iter()
            .map(|v| v.value)
            .collect();
    assert_eq!(ours, theirs, "pelican and diesel's harness differ");
}

#[cfg(feature = "sqlite")]
#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// A migration that adds a violation fails even with older ones already there, naming
/// the new one and counting only the new ones.
#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_migration_that_adds_an_orphan_beside_old_ones_fails_naming_the_new_one() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_orphan_added");
    let dir = history(&db, &[
        ("tables", "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));"),
        ("orphan", "INSERT INTO child VALUES (7, 42);"),
    ]);
    db.pelican(&dir, &["migrate", "+1"]).success();
    db.execute("PRAGMA foreign_keys = OFF;\nINSERT INTO child VALUES (1, 99), (2, 98);");
    let out = db.pelican(&dir, &["migrate"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "1 row(s) break foreign keys (first: table child, row 7, referencing parent)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(db.applied(), ["20240101000000"]);
    assert_eq!(
        count(&db, "SELECT CAST(COUNT(*) AS TEXT) AS value FROM child"),
        "2"
    );
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;

    #[test]
    fn an_implicitly_named_foreign_key_and_unique_index_are_dropped_by_their_names() {
        let db = TestDb::new(Backend::Mysql, "implicit_names");
        let dir = history(&db, &[
            ("p", "CREATE TABLE p (id INT PRIMARY KEY);\nCREATE TABLE t (id INT, u VARCHAR(10) UNIQUE, c INT, FOREIGN KEY (c) REFERENCES p (id));"),
            ("drop", "ALTER TABLE t DROP FOREIGN KEY t_ibfk_1;\nDROP INDEX u ON t;"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(count(&db, "SELECT CAST(COUNT(*) AS CHAR) AS value FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND table_name = 't'"), "0");
    }

    /// MariaDB's anonymous compound statement runs as one statement, its nested blocks
    /// included, with the same rows as diesel's harness gives (it was cut at its first
    /// inner `;`, and the server refused the piece).
    #[test]
    fn a_begin_not_atomic_block_with_nested_blocks_runs_as_one_statement() {
        use diesel::{Connection, MysqlConnection};
        use diesel_migrations::{FileBasedMigrations, MigrationHarness};

        let block = "CREATE TABLE t (n INT);\n\
            BEGIN NOT ATOMIC\n\
              DECLARE i INT DEFAULT 0;\n\
              IF (SELECT COUNT(*) FROM t) = 0 THEN INSERT INTO t VALUES (IF(i > 0, 1, 100)); END IF;\n\
              l: LOOP SET i = i + 1; INSERT INTO t VALUES (i); IF i >= 2 THEN LEAVE l; END IF; END LOOP l;\n\
              WHILE i > 0 DO SET i = i - 1; END WHILE;\n\
              REPEAT SET i = i + 1; UNTIL i = 3 END REPEAT;\n\
              CASE i WHEN 3 THEN INSERT INTO t VALUES (30); ELSE INSERT INTO t VALUES (-1); END CASE;\n\
              inner_block: BEGIN INSERT INTO t VALUES (CASE WHEN i = 3 THEN 40 END); END inner_block;\n\
            END;\n\
            INSERT INTO t VALUES (50);\n";
        let db = TestDb::new(Backend::Mysql, "begin_not_atomic");
        let dir = history(&db, &[("block", block)]);
        let out = db
            .pelican(&dir, &["--format", "json", "migrate"])
            .success()
            .json();
        assert_eq!(
            out["steps"][0]["statements"].as_array().map(Vec::len),
            Some(3),
            "{out}"
        );
        let rows = "SELECT CAST(n AS CHAR) AS value FROM t ORDER BY n";
        let ours = db.query_strings(rows);
        assert_eq!(ours, ["1", "2", "30", "40", "50", "100"]);

        let twin = TestDb::new(Backend::Mysql, "begin_not_atomic_diesel");
        let mut diesel = MysqlConnection::establish(&twin.url).unwrap();
        diesel
            .run_pending_migrations(FileBasedMigrations::from_path(&dir).unwrap())
            .unwrap();
        assert_eq!(ours, twin.query_strings(rows), "diesel's harness differs");
    }

    #[test]
    fn a_function_and_a_procedure_of_one_name_both_exist() {
        let db = TestDb::new(Backend::Mysql, "routine_namespaces");
        let dir = history(
            &db,
            &[
                (
                    "f",
                    "CREATE FUNCTION area(x INT) RETURNS INT DETERMINISTIC RETURN x * x;",
                ),
                (
                    "p",
                    "CREATE PROCEDURE area(IN x INT) BEGIN SELECT x * x; END;",
                ),
            ],
        );
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.query_strings("SELECT CAST(routine_type AS CHAR) AS value FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 1"), ["FUNCTION", "PROCEDURE"]);
    }

    #[test]
    fn a_half_applied_migration_resumes_after_what_committed_and_a_rename_in_flight_needs_a_directive(
    ) {
        let db = TestDb::new(Backend::Mysql, "half_applied");
        let up = "CREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\nRENAME TABLE a TO b;\nINSERT INTO needed VALUES (1);\n";
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_steps", up, "")]);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        // MariaDB committed the CREATE, the INSERT and the RENAME; pelican recorded it.
        db.execute("CREATE TABLE needed (id INT)");
        let out = db
            .pelican(&dir, &["--format", "json", "migrate"])
            .success()
            .json();
        let step = &out["steps"][0];
        assert_eq!(step["statements_skipped"], 3, "{step}");
        assert_eq!(
            step["statements"][1]["reason"],
            "done in an earlier run (recorded)"
        );
        assert_eq!(
            count(&db, "SELECT CAST(COUNT(*) AS CHAR) AS value FROM b"),
            "1",
            "the insert ran twice"
        );
        assert_eq!(
            db.tables().iter().filter(|t| !t.starts_with("__")).count(),
            2
        );

        // Killed while renaming: the progress says the rename may have run.
        let dir = write_migrations(
            db.dir(),
            &[(
                "2024-01-02-000000_rename",
                "CREATE TABLE c (id INT);\nRENAME TABLE c TO d;\n",
                "",
            )],
        );
        db.execute("CREATE TABLE d (id INT)");
        let digest = {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            for sql in ["CREATE TABLE c (id INT)", "RENAME TABLE c TO d"] {
                hasher.update(sql.as_bytes());
                hasher.update([0]);
            }
            format!("{:x}", hasher.finalize())
        };
        db.execute(&format!("INSERT INTO __pelican_progress (version, direction, checksum, done, in_flight) VALUES ('20240102000000', 'up', '{digest}', 1, 1)"));
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("up.sql, line 2: `RENAME TABLE c TO d` may or may not have run"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("-- pelican: skip-if table d"),
            "{}",
            out.stderr
        );
        // The directive decides; the file's statements are the same, so progress holds.
        std::fs::write(
            dir.join("2024-01-02-000000_rename/up.sql"),
            "CREATE TABLE c (id INT);\n-- pelican: skip-if table d\nRENAME TABLE c TO d;\n",
        )
        .unwrap();
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.applied().len(), 2);
        assert_eq!(
            count(
                &db,
                "SELECT CAST(COUNT(*) AS CHAR) AS value FROM __pelican_progress"
            ),
            "0"
        );
    }
}

/// Applies a script with the database's own command-line client where it is installed
/// (`psql`, `sqlite3`, `mariadb`), else through a connection.
fn apply_with_the_client(db: &TestDb, script: &str) {
    let file = db.dir().join("script.sql");
    std::fs::write(&file, script).unwrap();
    let mut command = db.client(&file, &["-v", "ON_ERROR_STOP=1"]);
    match command.output() {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => db.execute(script),
    }
}

backend_tests! {
    fn a_retried_migration_runs_statements_ending_in_comments_as_written(db: TestDb) {
        // The retry sends each statement with its savepoint in one round trip: a `--`
        // comment closing a statement must not swallow what follows it.
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_t", "CREATE TABLE t (id INT);", ""),
            (
                "2024-01-02-000000_u",
                "CREATE TABLE u (id INT) -- makes u\n;\nCREATE TABLE t (id INT) -- again\n;\nINSERT INTO u VALUES (1) -- one row\n;\nINSERT INTO u VALUES (2) -- and another",
                "",
            ),
        ]);
        db.pelican(&dir, &["migrate", "+1"]).success();
        let out = db.pelican(&dir, &["--format", "json", "migrate"]).success().json();
        let step = &out["steps"][0];
        assert_eq!(step["statements_skipped"], 1, "{step}");
        assert_eq!(step["statements_run"], 3, "{step}");
        assert_eq!(db.query_strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM u"), ["2"]);
        assert_eq!(db.applied().len(), 2);
    }

    fn a_file_ending_inside_a_comment_is_refused_before_anything_runs(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INT);", ""),
            ("2024-01-02-000000_b", "CREATE TABLE b (id INT);\n/* the rest of the note", ""),
        ]);
        let out = db.pelican(&dir, &["migrate"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("2024-01-02-000000_b/up.sql: line 2: the file ends inside a /* comment that never closes"), "{}", out.stderr);
        assert_eq!(db.tables(), Vec::<String>::new(), "something ran");
    }

    fn the_sql_script_applied_by_hand_gives_what_migrate_gives(db: TestDb) {
        if db.backend == Backend::Mysql {
            // A prediction there, which cannot run the seed's `skip-if sql` query on a
            // table nothing has made yet, and says so; tests/scripts.rs applies MySQL
            // scripts with `mariadb`.
            return;
        }
        let migrations = common::example_migrations();
        let script = db.pelican(&migrations, &["migrate", "--sql"]).success().stdout;
        apply_with_the_client(&db, &script);
        let by_hand = pelican::catalog::Schema::introspect(&mut db.connect()).unwrap();
        let applied = db.applied();
        let other = TestDb::new(db.backend, "sql_script_reference");
        other.pelican(&migrations, &["migrate"]).success();
        assert_eq!(by_hand, pelican::catalog::Schema::introspect(&mut other.connect()).unwrap());
        assert_eq!(applied, other.applied());
        // pelican reads what the script recorded as its own.
        let out = db.pelican(&migrations, &["--format", "json", "current"]).success().json();
        assert_eq!(out["pending"], 0);
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_migration_outside_a_transaction_can_vacuum_and_the_file_is_free_afterwards() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_vacuum");
    let dir = history(
        &db,
        &[
            (
                "t",
                "CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1);",
            ),
            ("vacuum", "DELETE FROM t;\nVACUUM;"),
            ("after", "CREATE TABLE u (id INTEGER);"),
        ],
    );
    std::fs::write(
        dir.join("2024-01-01-000001_vacuum/metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    db.pelican(&dir, &["migrate"]).success();
    assert_eq!(db.applied().len(), 3);
    // Another connection writes at once: the run left no lock behind.
    db.execute("INSERT INTO u VALUES (1)");
    assert_eq!(
        count(&db, "SELECT CAST(COUNT(*) AS TEXT) AS value FROM u"),
        "1"
    );
}

backend_tests! {
    fn a_failed_statement_keeps_the_databases_own_error_as_its_source(db: TestDb) {
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        use std::error::Error as _;
        let dir = history(&db, &[
            ("t", "CREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO t (id) VALUES (1);"),
            ("again", "INSERT INTO t (id) VALUES (1);"),
        ]);
        let migrations = pelican::Migrations::from_dir(&dir).unwrap();
        let error = pelican::Migrator::new(&migrations)
            .migrate(&mut db.connect(), &pelican::Target::Head)
            .unwrap_err();
        let statement = error.cause();
        assert!(matches!(statement, pelican::Error::Statement { line: 1, .. }), "{statement}");
        let source = statement
            .source()
            .and_then(|s| s.downcast_ref::<DieselError>())
            .expect("diesel's error as the source");
        match (db.backend, source) {
            // diesel classifies what libmysqlclient reports for a batch as Unknown.
            (Backend::Mysql, DieselError::DatabaseError(_, info)) => {
                assert!(info.message().contains("Duplicate entry"), "{source:?}");
            }
            (_, source) => assert!(
                matches!(source, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)),
                "{source:?}"
            ),
        }
    }
}
