//! diesel CLI and pelican share one state: what either records, the other reads.

mod common;

use common::{example_migrations, TestDb};
use diesel::migration::MigrationVersion;
use diesel_migrations::{
    embed_migrations, EmbeddedMigrations, FileBasedMigrations, MigrationHarness,
};
use pelican::{Backend, Migrations, Migrator, Target};

const EXAMPLE_COUNT: usize = 12;

pub const EMBEDDED: EmbeddedMigrations = embed_migrations!("migrations");

/// Runs `f` with diesel's own harness on a connection of the test's backend.
macro_rules! with_diesel {
    ($db:expr, |$conn:ident| $body:expr) => {{
        use diesel::Connection;
        match $db.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&$db.url).unwrap();
                let $conn = &mut conn;
                $body
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&$db.url).unwrap();
                let $conn = &mut conn;
                $body
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn = diesel::MysqlConnection::establish(&$db.url).unwrap();
                let $conn = &mut conn;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        }
    }};
}

fn versions(list: Vec<MigrationVersion<'_>>) -> Vec<String> {
    let mut list: Vec<String> = list.into_iter().map(|v| v.to_string()).collect();
    list.sort();
    list
}

fn file_source() -> FileBasedMigrations {
    FileBasedMigrations::from_path(example_migrations()).unwrap()
}

backend_tests! {
    fn database_migrated_by_diesel_is_current_under_pelican(db: TestDb) {
        with_diesel!(db, |conn| conn.run_pending_migrations(file_source()).map(|_| ()).unwrap());
        let json = db.pelican(&example_migrations(), &["--format", "json", "current"]).success().json();
        assert_eq!(json["current"], "20240320110000");
        assert_eq!(json["pending"], 0);
        let out = db.pelican(&example_migrations(), &["migrate"]).success();
        assert!(out.stdout.starts_with("Nothing to do"), "{}", out.stdout);
        // pelican can take it from there: its downgrade runs diesel's down.sql.
        db.pelican(&example_migrations(), &["downgrade", "-1"]).success();
        assert!(db.columns("leccion").contains(&"contenido".to_owned()));
    }

    fn database_migrated_by_pelican_is_current_under_diesel(db: TestDb) {
        db.pelican(&example_migrations(), &["migrate"]).success();
        let (pending, applied) = with_diesel!(db, |conn| (
            conn.has_pending_migration(file_source()).unwrap(),
            versions(conn.applied_migrations().unwrap()),
        ));
        assert!(!pending);
        assert_eq!(applied.len(), EXAMPLE_COUNT);
        assert_eq!(applied, db.applied());
        // diesel's own revert works on what pelican applied.
        with_diesel!(db, |conn| conn.revert_last_migration(file_source()).map(|_| ()).unwrap());
        assert!(db.columns("leccion").contains(&"contenido".to_owned()));
    }

    fn stamp_and_downgrade_leave_diesels_table_as_diesel_would(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        db.pelican(&migrations, &["downgrade", "-2"]).success();
        let after_pelican = db.applied();
        // The same two reverts by diesel's harness, on a database diesel migrated.
        let other = TestDb::new(db.backend, "stamp_diesel_twin");
        with_diesel!(other, |conn| {
            conn.run_pending_migrations(file_source()).unwrap();
            conn.revert_last_migration(file_source()).unwrap();
            conn.revert_last_migration(file_source()).unwrap();
        });
        assert_eq!(after_pelican, other.applied());

        // diesel continues from pelican's state: it applies exactly the two reverted.
        let ran = with_diesel!(db, |conn| versions(conn.run_pending_migrations(file_source()).unwrap()));
        assert_eq!(ran, ["20240310093000", "20240320110000"]);

        // A stamp is a state diesel reads as applied.
        db.pelican(&migrations, &["stamp", "2024-02-01-090000"]).success();
        let applied = with_diesel!(db, |conn| versions(conn.applied_migrations().unwrap()));
        assert_eq!(applied.len(), 6);
        assert_eq!(applied.last().map(String::as_str), Some("20240201090000"));
    }

    fn embedded_migrations_run_in_process(db: TestDb) {
        let migrations = Migrations::from_embedded(&EMBEDDED).unwrap();
        let mut conn = db.connect();
        let migrator = Migrator::new(&migrations);
        let report = migrator.migrate(&mut conn, &Target::Head).unwrap();
        assert_eq!(report.steps.len(), EXAMPLE_COUNT);
        let status = migrator.status(&mut conn).unwrap();
        assert_eq!(status.current().map(|e| e.version.as_str()), Some("20240320110000"));
        assert_eq!(status.pending().count(), 0);
        migrator.downgrade(&mut conn, &Target::Base).unwrap();
        assert!(db.applied().is_empty());
    }
}

#[test]
fn embedded_and_folder_migrations_are_the_same() {
    let embedded = Migrations::from_embedded(&EMBEDDED).unwrap();
    let folder = Migrations::from_dir(example_migrations()).unwrap();
    assert_eq!(embedded.len(), folder.len());
    for (e, f) in embedded.iter().zip(folder.iter()) {
        assert_eq!(e.version(), f.version());
        assert_eq!(e.name(), f.name());
        assert_eq!(e.up(), f.up());
        assert_eq!(e.down(), f.down());
        assert_eq!(e.run_in_transaction(), f.run_in_transaction());
        assert_eq!(e.checksum(), f.checksum());
    }
}
