//! The boot flow, `init`, `boot` and `reset`, on each backend: fresh databases built at
//! head in one go, concurrent boots under the lock, AUTO_MIGRATE, and refusals that
//! leave the database as it was.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_migrations, example_migrations, write_migrations, Output, TestDb};
use diesel::connection::SimpleConnection;
use pelican::boot::{BootAction, Build, Found};
use pelican::catalog::Schema;
use pelican::{AnyConnection, Backend, Boot, Error, Migrations, Migrator};

const HEAD: &str = "20240320110000";
const EXAMPLE_COUNT: usize = 12;

/// The first nine example migrations, then three more (one inserting a row): a database
/// at the ninth has three pending.
fn three_pending(db: &TestDb) -> PathBuf {
    let dir = copy_migrations(&example_migrations(), db.dir(), 9);
    db.pelican(&dir, &["init"]).success();
    write_migrations(
        db.dir(),
        &[
            (
                "2024-04-01-000000_create_etiqueta",
                "CREATE TABLE etiqueta (nombre VARCHAR(50) NOT NULL);",
                "DROP TABLE etiqueta;",
            ),
            (
                "2024-04-02-000000_seed_etiqueta",
                "INSERT INTO etiqueta (nombre) VALUES ('nuevo');",
                "DELETE FROM etiqueta;",
            ),
            (
                "2024-04-03-000000_add_etiqueta_color",
                "ALTER TABLE etiqueta ADD COLUMN color VARCHAR(20) NULL;",
                "ALTER TABLE etiqueta DROP COLUMN color;",
            ),
        ],
    )
}

/// Runs `count` copies of `command` at once and waits for all of them.
fn all_at_once(count: usize, mut command: impl FnMut() -> Command) -> Vec<Output> {
    common::all_at_once((0..count).map(|_| command()))
}

fn count(db: &TestDb, sql: &str) -> usize {
    db.query_strings(sql).len()
}

/// The schema, without the name of the database it was read from.
fn schema(db: &TestDb) -> Schema {
    let mut schema = Schema::introspect(&mut db.connect()).unwrap();
    schema.namespace = None;
    schema
}

fn migrations(dir: &Path) -> Migrations {
    Migrations::from_dir(dir).unwrap()
}

/// The `error:` line of a command's stderr (the library's message), without the
/// command line's `hint:` line under it.
fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default()
}

fn seed_admin(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@example.com', 'Admin')",
    )
}

backend_tests! {
    fn init_builds_a_fresh_database_at_head_and_init_again_changes_nothing(db: TestDb) {
        let dir = example_migrations();
        let out = db.pelican(&dir, &["init"]).success();
        // The example's committed snapshot builds it (see tests/snapshot.rs for the rest).
        assert!(out.stdout.contains(&format!("Built the database at head from the snapshot of {HEAD}, stamped")), "{}", out.stdout);
        assert!(out.stdout.contains(&format!("The database is at {HEAD} rename_leccion_contenido (head)")), "{}", out.stdout);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        // The data migration's rows, once; one stamp per version in the journal.
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 4);
        let journal = db.query_strings("SELECT outcome AS value FROM __pelican_journal");
        assert_eq!(journal.len(), EXAMPLE_COUNT);
        assert_eq!(count(&db, "SELECT version AS value FROM __pelican_checksums"), EXAMPLE_COUNT);

        let again = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(again["found"], "managed");
        assert_eq!(again["action"], "up_to_date");
        assert_eq!(again["current"], HEAD);
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 4);
        assert_eq!(count(&db, "SELECT outcome AS value FROM __pelican_journal"), EXAMPLE_COUNT);
        let text = db.pelican(&dir, &["init"]).success();
        assert!(text.stdout.starts_with("The database is already managed, at 20240320110000"), "{}", text.stdout);
    }

    fn init_builds_the_schema_migrate_builds(db: TestDb) {
        db.pelican(&example_migrations(), &["init"]).success();
        let other = TestDb::new(db.backend, "init_same_schema_b");
        other.pelican(&example_migrations(), &["migrate"]).success();
        assert_eq!(schema(&db), schema(&other));
        assert_eq!(db.applied(), other.applied());
    }

    fn init_creates_a_database_that_does_not_exist(db: TestDb) {
        let name = format!("pelican_new_{}", std::process::id());
        let url = match db.backend {
            Backend::Sqlite => db.dir().join("new.db").display().to_string(),
            _ => common::with_database(&db.url, &name),
        };
        let drop = |name: &str| {
            if db.backend != Backend::Sqlite {
                db.execute(&match db.backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                });
            }
        };
        drop(&name);
        let out = Output::from(
            Command::new(env!("CARGO_BIN_EXE_pelican"))
                .current_dir(db.dir())
                .env_remove("DATABASE_URL")
                .args(["--format", "json", "--database-url", &url, "--migration-dir"])
                .arg(example_migrations())
                .arg("init")
                .output()
                .unwrap(),
        );
        let applied = AnyConnection::establish(&url).map(|mut conn| {
            let status = Migrator::new(&migrations(&example_migrations())).status(&mut conn);
            status.map(|s| s.history.iter().filter(|e| e.applied).count())
        });
        drop(&name);
        let json = out.success().json();
        assert_eq!(json["created_database"], true);
        assert_eq!(json["action"], "initialized");
        assert_eq!(applied.unwrap().unwrap(), EXAMPLE_COUNT);
    }

    fn eight_processes_booting_a_fresh_database_build_it_once(db: TestDb) {
        let dir = example_migrations();
        let outputs = all_at_once(8, || db.command(&dir, &["--format", "json", "boot"]));
        let mut initialized = 0;
        for out in outputs {
            let json = out.success().json();
            if json["action"] == "initialized" {
                initialized += 1;
            } else {
                assert_eq!(json["action"], "up_to_date", "{json}");
            }
        }
        assert_eq!(initialized, 1);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        assert_eq!(count(&db, "SELECT outcome AS value FROM __pelican_journal"), EXAMPLE_COUNT);
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 4);
    }

    fn eight_processes_booting_apply_three_pending_migrations_once(db: TestDb) {
        let dir = three_pending(&db);
        let outputs = all_at_once(8, || {
            let mut command = db.command(&dir, &["--format", "json", "boot"]);
            command.env("AUTO_MIGRATE", "1");
            command
        });
        let mut migrated = 0;
        for out in outputs {
            let json = out.success().json();
            if json["action"] == "migrated" {
                migrated += 1;
                assert_eq!(json["steps"].as_array().map(Vec::len), Some(3), "{json}");
            } else {
                assert_eq!(json["action"], "up_to_date", "{json}");
            }
        }
        assert_eq!(migrated, 1);
        assert_eq!(db.applied().len(), 12);
        let runs = db.query_strings(
            "SELECT version AS value FROM __pelican_journal WHERE outcome = 'applied' ORDER BY version",
        );
        assert_eq!(runs, ["20240401000000", "20240402000000", "20240403000000"]);
        assert_eq!(count(&db, "SELECT nombre AS value FROM etiqueta"), 1);
    }

    fn auto_migrate_off_leaves_pending_migrations_pending(db: TestDb) {
        let dir = three_pending(&db);
        for value in [None, Some(""), Some("0"), Some(" Off ")] {
            let mut command = db.command(&dir, &["boot"]);
            if let Some(value) = value {
                command.env("AUTO_MIGRATE", value);
            }
            let out = Output::from(command.output().unwrap()).success();
            assert!(out.stderr.contains("warning: 3 migration(s) pending and AUTO_MIGRATE is off"), "{}", out.stderr);
            assert!(out.stderr.contains("2024-04-01-000000_create_etiqueta, 2024-04-02-000000_seed_etiqueta, 2024-04-03-000000_add_etiqueta_color"), "{}", out.stderr);
            assert!(out.stdout.contains("(3 pending); AUTO_MIGRATE is off, nothing changed"), "{}", out.stdout);
        }
        assert_eq!(db.applied().len(), 9);
        assert!(!db.tables().contains(&"etiqueta".to_owned()));
    }

    fn an_invalid_auto_migrate_is_refused(db: TestDb) {
        let out = Output::from(db.command(&example_migrations(), &["boot"]).env("AUTO_MIGRATE", "maybe").output().unwrap());
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("AUTO_MIGRATE=\"maybe\" is not a boolean"), "{}", out.stderr);
        assert!(db.tables().is_empty(), "the database was touched");
    }

    fn a_database_newer_than_the_build_is_refused_unchanged(db: TestDb) {
        db.pelican(&example_migrations(), &["init"]).success();
        let older = copy_migrations(&example_migrations(), db.dir(), 3);
        let (tables, applied) = (db.tables(), db.applied());
        for args in [&["boot"][..], &["init"]] {
            let out = Output::from(db.command(&older, args).env("AUTO_MIGRATE", "1").output().unwrap());
            assert_eq!(out.code, 1, "{out:?}");
            assert!(out.stderr.contains("the database has applied migrations that these migrations do not have"), "{}", out.stderr);
            assert!(out.stderr.contains(HEAD), "{}", out.stderr);
        }
        assert_eq!((db.tables(), db.applied()), (tables, applied));
    }

    fn an_unmanaged_database_is_refused_unchanged_unless_adopted(db: TestDb) {
        db.execute("CREATE TABLE legacy (id INTEGER)");
        for args in [&["boot"][..], &["init"]] {
            let out = db.pelican(&example_migrations(), args);
            assert_eq!(out.code, 1, "{out:?}");
            assert!(out.stderr.contains("the database has tables (legacy) but no __diesel_schema_migrations table"), "{}", out.stderr);
            assert!(out.stderr.contains("adopt it (`Adopt`, `Boot::adopt`)"), "{}", out.stderr);
            // The command and flag are the command line's hint, not the library's message.
            assert!(!error_line(&out.stderr).contains("--adopt"), "{}", out.stderr);
            assert!(out.stderr.contains("\nhint: `adopt`, or `boot --adopt`, adopts it"), "{}", out.stderr);
            assert!(out.stderr.contains("running none of it on the database"), "{}", out.stderr);
            assert_eq!(db.tables(), ["legacy"]);
        }
        // Nor does `migrate` or `stamp` take it over: no history replays on live data.
        for args in [&["migrate"][..], &["stamp", "head"], &["downgrade", "base"]] {
            let out = db.pelican(&example_migrations(), args);
            assert_eq!(out.code, 1, "{args:?}: {out:?}");
            assert!(
                out.stderr.contains("the database has tables (legacy) but no __diesel_schema_migrations table"),
                "{}",
                out.stderr
            );
            assert_eq!(db.tables(), ["legacy"]);
        }
        // A table no migration makes: no version matches, so adoption changes nothing.
        let out = db.pelican(&example_migrations(), &["boot", "--adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("the closest is base, with 1 difference(s)"), "{}", out.stderr);
        assert_eq!(db.tables(), ["legacy"]);
        // The first migration's schema: adopted at it, the rest left pending
        // (AUTO_MIGRATE is off), none of them run.
        db.execute("DROP TABLE legacy");
        let usuario = std::fs::read_to_string(example_migrations().join("2024-01-15-090000_create_usuario/up.sql")).unwrap();
        db.execute(&usuario);
        let json = db.pelican(&example_migrations(), &["--format", "json", "boot", "--adopt"]).success().json();
        assert_eq!(json["found"], "unmanaged");
        assert_eq!(json["action"], "adopted");
        assert_eq!(json["current"], "20240115090000", "{json}");
        assert_eq!(json["stamped"], 1);
        assert_eq!(json["steps"].as_array().map(Vec::len), Some(0));
        assert_eq!(json["pending"].as_array().map(Vec::len), Some(EXAMPLE_COUNT - 1));
        assert_eq!(db.applied(), ["20240115090000"]);
    }

    fn reset_without_yes_is_refused_and_with_yes_rebuilds(db: TestDb) {
        let dir = example_migrations();
        db.pelican(&dir, &["init"]).success();
        db.execute("CREATE TABLE scratch (id INTEGER); INSERT INTO configuracion (clave, valor) VALUES ('extra', 'x')");
        let before = db.tables();
        let out = db.pelican(&dir, &["reset"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("was not confirmed"), "{}", out.stderr);
        assert!(!error_line(&out.stderr).contains("--yes"), "{}", out.stderr);
        assert!(out.stderr.contains("\nhint: pass --yes to confirm"), "{}", out.stderr);
        assert_eq!(db.tables(), before);
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 5);

        let json = db.pelican(&dir, &["--format", "json", "reset", "--yes"]).success().json();
        assert_eq!(json["action"], "initialized");
        assert!(json["dropped"].as_array().unwrap().len() >= 11, "{json}");
        assert!(!db.tables().contains(&"scratch".to_owned()));
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 4);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        assert_eq!(count(&db, "SELECT outcome AS value FROM __pelican_journal"), EXAMPLE_COUNT);
    }

    fn a_failing_statement_of_the_fresh_build_is_named_and_nothing_is_kept(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_ok", "CREATE TABLE ok_table (id INTEGER);", ""),
            ("2024-01-02-000000_broken", "CREATE TABLE first_one (id INTEGER);\n\nINSERT INTO missing_table\n  VALUES (1);\n", ""),
        ]);
        let out = db.pelican(&dir, &["init"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("migration 2024-01-02-000000_broken failed"), "{}", out.stderr);
        assert!(out.stderr.contains("2024-01-02-000000_broken/up.sql, line 3: `INSERT INTO missing_table`"), "{}", out.stderr);
        assert!(db.tables().is_empty(), "left behind: {:?}", db.tables());
    }

    fn a_fresh_build_of_several_batches_runs_whole_and_names_a_failure_in_a_later_one(db: TestDb) {
        use std::error::Error as _;
        // Three seed files of about 2.5 MiB: more than one batch (one grows to about 4 MiB).
        let row = format!("('{}')", "x".repeat(1000));
        let insert = format!("INSERT INTO big (v) VALUES {};", vec![row; 100].join(", "));
        let seed = vec![insert; 25].join("\n");
        let mut files = vec![("2024-01-01-000000_big", "CREATE TABLE big (v TEXT);", "")];
        files.extend(["2024-01-02-000000_a", "2024-01-03-000000_b", "2024-01-04-000000_c"]
            .map(|name| (name, seed.as_str(), "")));
        let broken = "INSERT INTO big (v) VALUES ('ok');\nINSERT INTO missing_table (v) VALUES ('no');";
        let mut with_broken = files.clone();
        with_broken.push(("2024-01-05-000000_broken", broken, ""));

        let dir = write_migrations(&db.dir().join("broken"), &with_broken);
        let error = Boot::new(&migrations(&dir)).run(&mut db.connect()).unwrap_err();
        // Where the build is not one transaction (MySQL), what it made was dropped.
        let statement = match &error {
            Error::BuildUndone { source, .. } => source.as_ref(),
            other => other.cause(),
        };
        assert!(
            matches!(statement, Error::Statement { migration, line: 2, .. } if migration == "2024-01-05-000000_broken"),
            "{error}"
        );
        assert!(statement.source().is_some_and(|s| s.is::<diesel::result::Error>()), "{error:?}");
        assert!(db.tables().is_empty(), "left behind: {:?}", db.tables());

        let dir = write_migrations(&db.dir().join("whole"), &files);
        let migrations = migrations(&dir);
        let report = Boot::new(&migrations).run(&mut db.connect()).unwrap();
        assert_eq!(report.build, Some(Build::Batch));
        assert_eq!(count(&db, "SELECT 'r' AS value FROM big"), 7500);
        assert_eq!(db.applied().len(), 4);

        // Its snapshot is larger than a batch too: it loads in several.
        let snapshot = pelican::snapshot::Snapshot::generate(&mut db.connect(), &migrations).unwrap();
        assert!(snapshot.sql().len() > 4 << 20, "{}", snapshot.sql().len());
        let report = Boot::new(&migrations).snapshot(snapshot.sql()).reset(&mut db.connect()).unwrap();
        assert_eq!(report.build, Some(Build::Snapshot));
        assert_eq!(count(&db, "SELECT 'r' AS value FROM big"), 7500);
        assert_eq!(db.applied().len(), 4);
    }

    fn eight_threads_booting_with_a_seed_hook_seed_once(db: TestDb) {
        let migrations = migrations(&example_migrations());
        let reports: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (db, migrations) = (&db, &migrations);
                    scope.spawn(move || {
                        let mut conn = db.connect();
                        Boot::new(migrations).initial_setup(seed_admin).run(&mut conn)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let reports: Vec<_> = reports.into_iter().map(|r| r.unwrap()).collect();
        let built: Vec<_> = reports.iter().filter(|r| r.action == BootAction::Initialized).collect();
        assert_eq!(built.len(), 1);
        assert!(built[0].initial_setup);
        assert_eq!(built[0].build, Some(Build::Batch));
        assert_eq!(count(&db, "SELECT email AS value FROM usuario"), 1);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
    }

    fn a_failing_seed_hook_leaves_a_fresh_database_empty(db: TestDb) {
        let migrations = migrations(&example_migrations());
        let mut conn = db.connect();
        let error = Boot::new(&migrations)
            .initial_setup(|conn: &mut AnyConnection| {
                seed_admin(conn)?;
                Err::<(), pelican::BoxError>("the admin's password is missing".into())
            })
            .run(&mut conn)
            .unwrap_err();
        assert!(matches!(error, Error::InitialSetup { .. }), "{error}");
        assert_eq!(error.to_string(), "the initial setup hook failed: the admin's password is missing; nothing the build made was left, and what the database held before it was kept");
        assert!(db.tables().is_empty(), "left behind: {:?}", db.tables());
        // And the next boot starts from scratch.
        let report = Boot::new(&migrations).initial_setup(seed_admin).run(&mut conn).unwrap();
        assert_eq!((report.found, report.action), (Found::Fresh, BootAction::Initialized));
        assert_eq!(count(&db, "SELECT email AS value FROM usuario"), 1);
    }

    fn a_managed_database_with_nothing_applied_is_fresh(db: TestDb) {
        // What `diesel setup` leaves: the migrations table, empty.
        db.execute(diesel::migration::CREATE_MIGRATIONS_TABLE);
        let migrations = migrations(&example_migrations());
        let report = Boot::new(&migrations).run(&mut db.connect()).unwrap();
        assert_eq!(report.found, Found::Fresh);
        assert_eq!(report.stamped, EXAMPLE_COUNT);
    }
}

/// A migration that must run outside a transaction cannot be in the one-batch build:
/// the fresh database is built migration by migration instead.
#[cfg(feature = "postgres")]
#[test]
fn a_migration_outside_transactions_is_built_migration_by_migration() {
    let db = TestDb::new(Backend::Postgres, "boot_concurrently");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_t",
                "CREATE TABLE t (id INTEGER, name VARCHAR(10));",
                "DROP TABLE t;",
            ),
            (
                "2024-01-02-000000_ix",
                "CREATE INDEX CONCURRENTLY ix_t_name ON t (name);",
                "DROP INDEX ix_t_name;",
            ),
        ],
    );
    std::fs::write(
        dir.join("2024-01-02-000000_ix/metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    let json = db
        .pelican(&dir, &["--format", "json", "init"])
        .success()
        .json();
    assert_eq!(json["build"], "per_migration");
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(2));
    assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
}

/// `--wait` retries a database that does not answer, and gives up saying so, without
/// printing the password.
#[cfg(feature = "postgres")]
#[test]
fn wait_retries_then_gives_up_without_printing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = Output::from(
        Command::new(env!("CARGO_BIN_EXE_pelican"))
            .current_dir(dir.path())
            .args([
                "--database-url",
                "postgres://app:hunter2-secret@127.0.0.1:1/app",
                "--migration-dir",
            ])
            .arg(example_migrations())
            .args(["--wait", "0.4", "boot"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    assert!(
        out.stderr.contains("still no answer after"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2-secret"), "{}", out.stderr);
}

#[test]
fn a_bad_number_of_seconds_is_a_usage_error() {
    let out = Output::from(
        Command::new(env!("CARGO_BIN_EXE_pelican"))
            .args(["--lock-timeout", "soon", "current"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("`soon` is not a number of seconds"),
        "{}",
        out.stderr
    );
}

backend_tests! {
    fn the_fresh_build_never_lets_a_trailing_comment_swallow_a_statement(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER) -- a note before the semicolon\n;\nCREATE TABLE b (id INTEGER) -- and none after the last", ""),
            ("2024-01-02-000000_c", "CREATE TABLE c (id INTEGER);\n-- a file ending in a comment without a newline", ""),
            ("2024-01-03-000000_d", "CREATE TABLE d (id INTEGER)", ""),
            // crates.io's 2025-02-11-122509: the last statement has no `;`, the comment
            // after it ends in one.
            ("2024-01-04-000000_e", "CREATE TABLE e (id INTEGER)\n\n-- by hand afterwards:\n-- UPDATE e SET id = 1;\n", ""),
            ("2024-01-05-000000_f", "CREATE TABLE f (id INTEGER);", ""),
        ]);
        db.pelican(&dir, &["init"]).success();
        let tables: Vec<String> = db.tables().into_iter().filter(|t| !t.starts_with("__")).collect();
        assert_eq!(tables, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(db.applied().len(), 5);
    }
}

backend_tests! {
    fn a_failed_init_says_it_leaves_the_database_it_created(db: TestDb) {
        let dir = write_migrations(
            db.dir(),
            &[(
                "2024-01-01-000000_broken",
                "CREATE TABLE fine (id INTEGER);\nINSERT INTO missing_table (id) VALUES (1);",
                "DROP TABLE fine;",
            )],
        );
        let missing = common::Missing::beside(&db, "made");
        let out = Output::from(db.command_with_url(&missing.url, &dir, &["init"]).output().unwrap());
        assert_eq!(out.code, 1, "{out:?}");
        let name = missing.name();
        assert!(
            out.stderr.contains(&format!(
                "; database {name} was created by this run and is left in place (run init again once fixed, or drop it)"
            )),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("missing_table"), "{}", out.stderr);
        // As diesel CLI's `database setup` leaves it: there, and empty.
        assert!(missing.exists());
        // A database that was there already is not the run's to mention.
        let out = Output::from(db.command_with_url(&missing.url, &dir, &["init"]).output().unwrap());
        assert_eq!(out.code, 1, "{out:?}");
        assert!(!out.stderr.contains("created by this run"), "{}", out.stderr);
    }
}

backend_tests! {
    fn a_build_record_that_does_not_say_what_it_made_is_refused_and_nothing_dropped(db: TestDb) {
        // As an older pelican wrote it: only what the database held before the build.
        db.execute(
            "CREATE TABLE __pelican_build (started_at VARCHAR(64) NOT NULL, \
             runner VARCHAR(255) NOT NULL, objects TEXT NULL); \
             INSERT INTO __pelican_build VALUES ('2024-01-01T00:00:00Z', 'old', 'PROCEDURE x'); \
             CREATE TABLE half_built (id INTEGER)",
        );
        let out = db.pelican(&example_migrations(), &["init"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(
                "error: the database holds __pelican_build, the record of a fresh build that did \
                 not finish, but the record does not say which objects the build made (an older \
                 pelican wrote it), so nothing was dropped: drop what that build made by hand, \
                 then the table __pelican_build, and run again"
            ),
            "{}",
            out.stderr
        );
        assert_eq!(db.tables(), ["__pelican_build", "half_built"]);
    }
}

backend_tests! {
    fn a_build_record_left_after_the_stamp_is_dropped_and_nothing_else(db: TestDb) {
        // A build in one batch, killed after its stamp and before it dropped its
        // record: the record names what the build made, and its head.
        let dir = example_migrations();
        db.pelican(&dir, &["init"]).success();
        let head = db.applied().last().unwrap().clone();
        db.execute("INSERT INTO configuracion (clave, valor) VALUES ('app', 'data since')");
        db.execute(&format!(
            "CREATE TABLE __pelican_build (started_at VARCHAR(64) NOT NULL, \
             runner VARCHAR(255) NOT NULL, objects TEXT NULL); \
             INSERT INTO __pelican_build VALUES ('t', 'r', '^ {head}'), ('t', 'r', '+ * RELATION configuracion')"
        ));
        let json = db.pelican(&dir, &["--format", "json", "boot"]).success().json();
        assert_eq!(json["recovered"], serde_json::json!([]), "{json}");
        assert_eq!(json["action"], "up_to_date", "{json}");
        assert!(!db.tables().contains(&"__pelican_build".to_owned()));
        assert_eq!(
            db.query_strings("SELECT valor AS value FROM configuracion WHERE clave = 'app'"),
            ["data since"]
        );
    }
}

/// Leaves `db` holding the ledger's tables with no row in any: what `stamp base` makes of
/// an empty database (on MySQL/MariaDB the progress table too), its journal emptied.
fn empty_ledger(db: &TestDb, dir: &Path) {
    db.pelican(dir, &["stamp", "base"]).success();
    db.execute("DELETE FROM __pelican_journal");
    let tables = db.tables();
    assert!(
        tables.contains(&"__diesel_schema_migrations".to_owned()),
        "{tables:?}"
    );
    for table in &tables {
        assert!(
            table.starts_with("__diesel_") || table.starts_with("__pelican_"),
            "{tables:?}"
        );
        assert_eq!(
            count(db, &format!("SELECT 'row' AS value FROM {table}")),
            0,
            "{table}"
        );
    }
}

backend_tests! {
    fn stamp_base_then_init_builds_the_database_at_head(db: TestDb) {
        let dir = example_migrations();
        db.pelican(&dir, &["stamp", "base"]).success();
        assert!(db.applied().is_empty());
        let out = db.pelican(&dir, &["init"]).success();
        assert!(out.stdout.contains("Built the database at head"), "{}", out.stdout);
        assert!(out.stdout.contains(&format!("The database is at {HEAD} rename_leccion_contenido (head)")), "{}", out.stdout);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        // The data migration's rows: the schema was built, not only stamped.
        assert_eq!(count(&db, "SELECT clave AS value FROM configuracion"), 4);
        let other = TestDb::new(db.backend, "stamp_base_then_init_b");
        other.pelican(&dir, &["init"]).success();
        assert_eq!(schema(&db), schema(&other));
    }

    fn an_empty_ledger_is_a_fresh_database_to_init_migrate_and_boot(db: TestDb) {
        let dir = example_migrations();
        db.pelican(&dir, &["init"]).success();
        let head = schema(&db);
        for command in ["init", "migrate", "boot"] {
            let target = TestDb::new(db.backend, &format!("empty_ledger_{command}"));
            empty_ledger(&target, &dir);
            let out = target.pelican(&dir, &["--format", "json", command]).success().json();
            if command != "migrate" {
                assert_eq!((&out["found"], &out["action"]), (&"fresh".into(), &"initialized".into()), "{command}: {out}");
            }
            assert_eq!(target.applied(), db.applied(), "{command}");
            assert_eq!(count(&target, "SELECT clave AS value FROM configuracion"), 4, "{command}");
            assert_eq!(schema(&target), head, "{command}");
        }
        // Nor is there anything to adopt.
        let target = TestDb::new(db.backend, "empty_ledger_adopt");
        empty_ledger(&target, &dir);
        let out = target.pelican(&dir, &["adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("nothing to adopt: the database has no tables"), "{}", out.stderr);
    }
}
