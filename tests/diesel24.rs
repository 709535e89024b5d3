//! diesel 2.4's migrations of Rust code (diesel_migrations' `RustMigrationSource`): a
//! migration without SQL text pelican can read runs as diesel's harness runs it (its own
//! `run` and `revert`), is recorded in diesel's ledger under diesel's version, and is
//! never guarded; a dry run does not run it. Compiled against diesel 2.4 only: pelican's
//! `mariadb` feature requires it.
#![cfg(all(feature = "mariadb", feature = "postgres"))]

mod common;

use common::{write_migrations, TestDb};
use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::{MigrationHarness, RustMigration, RustMigrationSource};
use pelican::boot::BootAction;
use pelican::{Backend, Boot, Migrations, Migrator, Mode, Target};

const SQL: &[(&str, &str, &str)] = &[
    (
        "2024-01-01-000000_create_item",
        "CREATE TABLE item (id SERIAL PRIMARY KEY, name TEXT NOT NULL);",
        "DROP TABLE item;",
    ),
    (
        "2024-01-03-000000_create_tag",
        "CREATE TABLE tag (name TEXT PRIMARY KEY);",
        "DROP TABLE tag;",
    ),
];

/// The application's Rust migration, between the two SQL ones: a row written through
/// diesel, and deleted on the way down.
fn rust_migrations() -> RustMigrationSource<PgConnection> {
    let mut source = RustMigrationSource::new();
    let fill = RustMigration::new(|conn: &mut PgConnection| {
        diesel::sql_query("INSERT INTO item (name) VALUES ('from rust')").execute(conn)?;
        Ok(())
    })
    .with_down(|conn: &mut PgConnection| {
        diesel::sql_query("DELETE FROM item WHERE name = 'from rust'").execute(conn)?;
        Ok(())
    });
    source
        .add_migration("20240102000000", "fill_item", fill)
        .expect("a migration");
    source
}

/// The SQL migrations of `db`'s folder and the Rust one, as one set.
fn all_migrations(db: &TestDb) -> Migrations {
    let dir = write_migrations(db.dir(), SQL);
    let sql = Migrations::from_dir(&dir).unwrap();
    let rust = Migrations::from_source_fn(rust_migrations).unwrap();
    Migrations::new(sql.iter().chain(rust.iter()).cloned().collect()).unwrap()
}

fn items(db: &TestDb) -> Vec<String> {
    db.query_strings("SELECT name AS value FROM item ORDER BY id")
}

#[test]
fn a_rust_migration_runs_as_diesel_runs_it_and_is_recorded() {
    // diesel's harness: every migration of both sources, in version order.
    let reference = TestDb::new(Backend::Postgres, "rust_diesel");
    let dir = write_migrations(reference.dir(), SQL);
    let mut conn = PgConnection::establish(&reference.url).unwrap();
    let mut all = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(
        &diesel_migrations::FileBasedMigrations::from_path(&dir).unwrap(),
    )
    .unwrap();
    all.extend(
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&rust_migrations())
            .unwrap(),
    );
    all.sort_by(|a, b| a.name().version().cmp(&b.name().version()));
    // Reading the applied set creates diesel's ledger, as `run_pending_migrations` does.
    assert!(conn.applied_migrations().unwrap().is_empty());
    conn.run_migrations(&all).unwrap();

    let db = TestDb::new(Backend::Postgres, "rust");
    let migrations = all_migrations(&db);
    let rust = migrations.get("20240102000000").unwrap();
    assert!(rust.is_code());
    assert!(!rust.guards(), "code is never guarded");
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let report = Migrator::new(&migrations)
        .migrate(&mut conn, &Target::Head)
        .unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(items(&db), items(&reference));
    assert_eq!(items(&db), ["from rust"]);
    assert_eq!(db.applied(), reference.applied());

    // Down, through its own `revert`, and its ledger row with it.
    Migrator::new(&migrations)
        .downgrade(&mut conn, &"-2".parse().unwrap())
        .unwrap();
    assert_eq!(db.applied(), ["20240101000000"]);
    assert_eq!(items(&db), Vec::<String>::new());
}

#[test]
fn a_rust_migration_that_fails_rolls_back_and_is_not_recorded() {
    let db = TestDb::new(Backend::Postgres, "rust_fails");
    let dir = write_migrations(db.dir(), &SQL[..1]);
    let sql = Migrations::from_dir(&dir).unwrap();
    let failing = || {
        let mut source = RustMigrationSource::<PgConnection>::new();
        let fails = |conn: &mut PgConnection| {
            diesel::sql_query("INSERT INTO item (name) VALUES ('half')").execute(conn)?;
            diesel::sql_query("INSERT INTO missing VALUES (1)").execute(conn)?;
            Ok(())
        };
        source
            .add_migration("20240102000000", "fails", fails)
            .expect("a migration");
        source
    };
    let rust = Migrations::from_source_fn(failing).unwrap();
    let migrations = Migrations::new(sql.iter().chain(rust.iter()).cloned().collect()).unwrap();
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let error = Migrator::new(&migrations)
        .atomic(false)
        .migrate(&mut conn, &Target::Head)
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("20240102000000_fails (code)"), "{message}");
    assert!(message.contains("missing"), "{message}");
    assert_eq!(db.applied(), ["20240101000000"]);
    assert_eq!(
        items(&db),
        Vec::<String>::new(),
        "its transaction rolled back"
    );
}

#[test]
fn a_dry_run_does_not_run_a_rust_migration_and_says_so() {
    let db = TestDb::new(Backend::Postgres, "rust_dry");
    let migrations = all_migrations(&db);
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let report = Migrator::new(&migrations)
        .mode(Mode::DryRun)
        .migrate(&mut conn, &Target::Head)
        .unwrap();
    let step = &report.steps[1];
    assert_eq!(step.version, "20240102000000");
    assert!(
        step.warnings.iter().any(|w| w.contains("does not run it")),
        "{:?}",
        step.warnings
    );
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

#[test]
fn a_fresh_boot_runs_a_rust_migration_and_the_seed_hook_after_it() {
    let db = TestDb::new(Backend::Postgres, "rust_boot");
    let migrations = all_migrations(&db);
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let report = Boot::new(&migrations)
        .initial_setup(|conn: &mut PgConnection| {
            diesel::sql_query("INSERT INTO item (name) VALUES ('seeded')")
                .execute(conn)
                .map(drop)
        })
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.action, BootAction::Initialized);
    assert_eq!(items(&db), ["from rust", "seeded"]);
    assert_eq!(
        db.applied(),
        ["20240101000000", "20240102000000", "20240103000000"]
    );
    // diesel's harness finds nothing left to run.
    assert!(!conn.has_pending_migration(rust_migrations()).unwrap());
}

#[test]
fn reading_rust_migrations_by_reference_is_refused_with_the_way_in() {
    let error = Migrations::from_source(&rust_migrations()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("from_source_fn"), "{message}");
}
