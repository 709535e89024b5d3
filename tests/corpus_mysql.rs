//! Real MySQL/MariaDB histories held to diesel's result: vaultwarden's 55 MySQL
//! migrations (`tests/corpora/vaultwarden`, read-only), which vaultwarden applies from
//! empty with foreign key checks off, and syncstorage-rs's two histories of 6 and 9
//! (`tests/corpora/syncstorage-rs`), which diesel CLI applies as they are. pelican's
//! `migrate`, `init`, a migrate from an applied prefix and the `--sql` script applied
//! by the `mariadb` client each give diesel's schema, ledger and rows.

#![cfg(feature = "mysql")]

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::path::Path;

use common::TestDb;
use compare::{assert_same, diesel, diesel_ok, state, Diesel};
use diesel::connection::SimpleConnection;
use pelican::{AnyConnection, Backend, Boot, Migrations, Migrator, Target};

const VAULTWARDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/corpora/vaultwarden/migrations"
);

fn vaultwarden() -> &'static Path {
    Path::new(VAULTWARDEN)
}

fn migration_count() -> usize {
    std::fs::read_dir(vaultwarden())
        .expect("the vaultwarden corpus")
        .filter(|entry| entry.as_ref().expect("an entry").path().is_dir())
        .count()
}

/// The first migration, whose `ciphers` table references `folders` before it exists:
/// MariaDB (10.5 on) makes a column's `REFERENCES` a foreign key and refuses it while
/// foreign key checks are on.
const FIRST: &str = "2018-01-14-171611_create_tables";

/// What vaultwarden's own `run_migrations` does before diesel's harness runs: the
/// history needs foreign key checks off on MariaDB.
const CHECKS_OFF: &str = "SET FOREIGN_KEY_CHECKS = 0";

/// vaultwarden's history as vaultwarden runs it, from empty: diesel's harness on a
/// connection with foreign key checks off.
fn reference(db: &TestDb) -> compare::State {
    let reference = TestDb::new(db.backend, "vaultwarden_ref");
    assert_eq!(diesel_checks_off(&reference, None), migration_count());
    state(&reference)
}

/// diesel's harness on a connection with foreign key checks off: every pending
/// migration, or the next `count`. The number of migrations it ran.
fn diesel_checks_off(db: &TestDb, count: Option<usize>) -> usize {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};
    let source = || FileBasedMigrations::from_path(vaultwarden()).expect("diesel reads it");
    let mut conn = diesel::MysqlConnection::establish(&db.url).expect("diesel connects");
    conn.batch_execute(CHECKS_OFF).expect("checks off");
    match count {
        None => conn
            .run_pending_migrations(source())
            .expect("diesel's harness runs vaultwarden")
            .len(),
        Some(count) => {
            for _ in 0..count {
                conn.run_next_migration(source())
                    .expect("diesel's harness runs a migration");
            }
            count
        }
    }
}

/// pelican's connection as an application embedding it opens it: foreign key checks
/// off, as vaultwarden does.
fn pelican_checks_off(db: &TestDb) -> AnyConnection {
    let mut conn = db.connect();
    conn.batch_execute(CHECKS_OFF).expect("checks off");
    conn
}

#[test]
fn the_corpus_is_where_the_tests_expect_it() {
    assert_eq!(migration_count(), 55);
    let migrations = pelican::Migrations::from_dir(vaultwarden())
        .unwrap_or_else(|e| panic!("pelican refuses the folder diesel reads: {e}"));
    assert_eq!(migrations.len(), migration_count());
}

/// With foreign key checks on (diesel CLI's `migration run`, `pelican migrate`), the
/// history stops at its first migration under both, each leaving the two tables whose
/// `CREATE TABLE` committed itself before the refused one, and no ledger row.
#[test]
fn with_checks_on_pelican_stops_where_diesel_stops() {
    let db = TestDb::new(Backend::Mysql, "vw_checks_on");
    let reference = TestDb::new(db.backend, "vaultwarden_ref");
    let error = diesel(&reference, vaultwarden(), Diesel::RunPending)
        .expect_err("diesel's harness refuses vaultwarden with foreign key checks on");
    assert!(
        error.contains(FIRST) && error.contains("errno: 150"),
        "{error}"
    );
    let expected = state(&reference);
    let tables = reference.tables();
    assert!(
        tables.contains(&"users".to_owned()) && !tables.contains(&"ciphers".to_owned()),
        "{tables:?}"
    );

    let output = db.pelican(vaultwarden(), &["migrate"]);
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.stderr.contains(FIRST), "{}", output.stderr);
    assert!(output.stderr.contains("errno: 150"), "{}", output.stderr);
    assert_same(&expected, &state(&db), "pelican migrate with checks on");
}

#[test]
fn vaultwarden_migrate_equals_diesel() {
    let db = TestDb::new(Backend::Mysql, "vw_migrate");
    let expected = reference(&db);
    let migrations = Migrations::from_dir(vaultwarden()).unwrap();
    let report = Migrator::new(&migrations)
        .migrate(&mut pelican_checks_off(&db), &Target::Head)
        .expect("pelican runs vaultwarden");
    assert_eq!(report.steps.len(), migration_count());
    assert_same(&expected, &state(&db), "pelican migrate of vaultwarden");
}

#[test]
fn vaultwarden_init_equals_diesel() {
    let db = TestDb::new(Backend::Mysql, "vw_init");
    let expected = reference(&db);
    let migrations = Migrations::from_dir(vaultwarden()).unwrap();
    Boot::new(&migrations)
        .run(&mut pelican_checks_off(&db))
        .expect("pelican builds vaultwarden fresh");
    assert_same(&expected, &state(&db), "pelican init of vaultwarden");
}

/// Half the history applied by diesel, the rest by pelican.
#[test]
fn vaultwarden_migrate_from_half_way_equals_diesel() {
    let db = TestDb::new(Backend::Mysql, "vw_half");
    let expected = reference(&db);
    diesel_checks_off(&db, Some(migration_count() / 2));
    assert_eq!(db.applied().len(), migration_count() / 2);
    let migrations = Migrations::from_dir(vaultwarden()).unwrap();
    Migrator::new(&migrations)
        .migrate(&mut pelican_checks_off(&db), &Target::Head)
        .expect("pelican runs the rest of vaultwarden");
    assert_same(
        &expected,
        &state(&db),
        "pelican migrate of vaultwarden from half way",
    );
}

/// A dry run runs nothing on MariaDB: it passes where the run would stop.
#[test]
fn vaultwarden_dry_run_changes_nothing() {
    let db = TestDb::new(Backend::Mysql, "vw_dry");
    let before = state(&db);
    let dry = db
        .pelican(vaultwarden(), &["migrate", "--dry-run"])
        .success();
    assert!(!dry.stderr.contains("warning"), "{}", dry.stderr);
    assert_same(&before, &state(&db), "a dry run of vaultwarden");
}

/// The `--sql` script, applied by the `mariadb` client in a session with foreign key
/// checks off, gives what diesel gives.
#[test]
fn vaultwarden_script_applied_by_the_client_equals_diesel() {
    let db = TestDb::new(Backend::Mysql, "vw_script");
    let expected = reference(&db);
    let script = db
        .pelican(vaultwarden(), &["migrate", "--sql"])
        .success()
        .stdout;
    let file = db.dir().join("script.sql");
    std::fs::write(&file, format!("{CHECKS_OFF};\n{script}")).unwrap();
    let out = db.client(&file, &[]).output().expect("the client runs");
    assert!(
        out.status.success(),
        "the client refused the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same(&expected, &state(&db), "the script applied by the client");
}

/// `check`'s scratch databases have foreign key checks on, as diesel CLI's session: the
/// first migration's up.sql fails there, and is named with MariaDB's refusal.
#[test]
fn vaultwarden_check_names_the_first_migration_mariadb_refuses() {
    let db = TestDb::new(Backend::Mysql, "vw_check");
    let out = db.pelican(vaultwarden(), &["--format", "json", "check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    let first = &report["findings"][0];
    assert_eq!(first["kind"], "round_trip_failed", "{report}");
    assert_eq!(first["migration"], FIRST, "{report}");
    assert_eq!(first["step"], "up", "{report}");
    let message = first["message"].as_str().unwrap_or_default();
    assert!(message.contains("errno: 150"), "{message}");
}

/// syncstorage-rs's two histories, each its own database.
const SYNCSTORAGE: [(&str, usize); 2] = [("syncstorage-mysql", 6), ("tokenserver-mysql", 9)];

fn syncstorage(history: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpora/syncstorage-rs")
        .join(history)
        .join("migrations")
}

#[test]
fn syncstorage_migrate_and_init_equal_diesel() {
    for (history, count) in SYNCSTORAGE {
        let dir = syncstorage(history);
        let reference = TestDb::new(Backend::Mysql, "syncstorage_ref");
        assert_eq!(diesel_ok(&reference, &dir, Diesel::RunPending).len(), count);
        let expected = state(&reference);
        for command in ["migrate", "init"] {
            let db = TestDb::new(Backend::Mysql, "syncstorage");
            db.pelican(&dir, &[command]).success();
            assert_same(
                &expected,
                &state(&db),
                &format!("pelican {command} of {history}"),
            );
        }
        // Half applied by diesel, the rest by pelican.
        let db = TestDb::new(Backend::Mysql, "syncstorage_half");
        diesel_ok(&db, &dir, Diesel::RunNext(count / 2));
        db.pelican(&dir, &["migrate"]).success();
        assert_same(
            &expected,
            &state(&db),
            &format!("pelican migrate of {history} from half way"),
        );
        // The script, applied by the client.
        let db = TestDb::new(Backend::Mysql, "syncstorage_script");
        let script = db.pelican(&dir, &["migrate", "--sql"]).success().stdout;
        let file = db.dir().join("script.sql");
        std::fs::write(&file, script).unwrap();
        let out = db.client(&file, &[]).output().expect("the client runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same(&expected, &state(&db), &format!("the script of {history}"));
    }
}

/// tokenserver's round trips all pass. syncstorage's `down.sql` files do not undo four
/// of its six migrations (the first's is all comments, the second's drops the tables
/// instead of reverting them, two hold only diesel's placeholder comment): `check`
/// names those four and passes the other two.
#[test]
fn syncstorage_check_names_the_down_files_that_undo_nothing() {
    let db = TestDb::new(Backend::Mysql, "tokenserver_check");
    let report = db
        .pelican(
            &syncstorage("tokenserver-mysql"),
            &["--format", "json", "check"],
        )
        .success()
        .json();
    assert_eq!(report["round_trip"], 9, "{report}");

    let db = TestDb::new(Backend::Mysql, "syncstorage_check");
    let out = db.pelican(
        &syncstorage("syncstorage-mysql"),
        &["--format", "json", "check"],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.json();
    let named: Vec<(&str, &str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default(),
                f["migration"].as_str().unwrap_or_default(),
                f["step"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("round_trip", "2018-08-28-010336_init", "down"),
            ("round_trip", "2019-09-11-164500", "down"),
            ("round_trip", "2020-04-03-102015_change_userid", "down"),
            ("round_trip", "2020-06-12-231034_new_batch", "down"),
        ],
        "{report}"
    );
    assert_eq!(report["round_trip"], 2, "{report}");
}
