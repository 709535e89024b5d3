//! pelican takes every connection diesel's own `MigrationHarness` takes, passed as
//! `&mut conn`: r2d2's pooled connections (the `r2d2` feature), an application's
//! `#[derive(diesel::MultiConnection)]` enum, and that enum pooled. On each backend,
//! each boots a fresh database (its seed hook taking the same connection type), steps
//! down and up with the `Migrator`, and adopts an unmanaged database.

mod common;

use common::{write_migrations, TestDb};
use diesel::connection::SimpleConnection;
use pelican::boot::BootAction;
use pelican::{Adopt, Boot, Database, Migrations, Migrator, Target};

const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "2024-01-01-000000_create_item",
        "CREATE TABLE item (id INTEGER PRIMARY KEY NOT NULL, name VARCHAR(50) NOT NULL);",
        "DROP TABLE item;",
    ),
    (
        "2024-01-02-000000_create_tag",
        "CREATE TABLE tag (name VARCHAR(50) PRIMARY KEY NOT NULL);",
        "DROP TABLE tag;",
    ),
    (
        "2024-01-03-000000_add_item_note",
        "ALTER TABLE item ADD COLUMN note VARCHAR(50) NULL;",
        "ALTER TABLE item DROP COLUMN note;",
    ),
];

const VERSIONS: [&str; 3] = ["20240101000000", "20240102000000", "20240103000000"];

/// The seed hook, on whatever connection type the boot runs on.
fn seed<C: SimpleConnection>(conn: &mut C) -> diesel::QueryResult<()> {
    conn.batch_execute("INSERT INTO item (id, name) VALUES (1, 'seeded')")
}

/// What an application does with its own connection type: `Boot`, the `Migrator` and
/// `Adopt` on `conn` (connected to `db`), and `Adopt` on `unmanaged` (connected to
/// `other`, an empty database given the schema by hand).
fn every_entry_point<C: Database>(db: &TestDb, conn: &mut C, other: &TestDb, unmanaged: &mut C) {
    assert_eq!(conn.backend(), db.backend);
    let dir = write_migrations(db.dir(), MIGRATIONS);
    let migrations = Migrations::from_dir(&dir).unwrap();

    let report = Boot::new(&migrations)
        .initial_setup(seed::<C>)
        .run(conn)
        .unwrap();
    assert_eq!(report.action, BootAction::Initialized);
    assert!(report.initial_setup);
    assert_eq!(db.applied(), VERSIONS);
    assert_eq!(
        db.query_strings("SELECT name AS value FROM item"),
        ["seeded"]
    );

    let migrator = Migrator::new(&migrations);
    migrator.downgrade(conn, &"-2".parse().unwrap()).unwrap();
    assert_eq!(db.applied(), VERSIONS[..1]);
    let report = migrator.migrate(conn, &Target::Head).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(migrator.status(conn).unwrap().pending().count(), 0);
    let report = Boot::new(&migrations).run(conn).unwrap();
    assert_eq!(report.action, BootAction::UpToDate);

    for (_, up, _) in MIGRATIONS {
        unmanaged.batch_execute(up).unwrap();
    }
    let adopted = Adopt::new(&migrations, other.url.as_str())
        .run(unmanaged)
        .unwrap();
    assert_eq!(adopted.version.as_deref(), Some(VERSIONS[2]));
    assert_eq!(other.applied(), VERSIONS);
}

/// An application's enum of diesel's connections, as diesel documents it (SQLite last:
/// its `establish` takes any URL for a file name), made a pelican connection in one line.
#[derive(diesel::MultiConnection)]
pub enum AppConnection {
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
}

pelican::multi_connection!(AppConnection {
    #[cfg(feature = "postgres")]
    Postgres,
    #[cfg(feature = "mysql")]
    Mysql,
    #[cfg(feature = "sqlite")]
    Sqlite,
});

fn establish(url: &str) -> AppConnection {
    diesel::Connection::establish(url).unwrap()
}

backend_tests! {
    fn a_multi_connection_enum_migrates_as_it_is(db: TestDb) {
        use diesel_migrations::MigrationHarness;

        let other = TestDb::new(db.backend, "multi_adopt");
        let mut conn = establish(&db.url);
        every_entry_point(&db, &mut conn, &other, &mut establish(&other.url));
        // The enum is still diesel's: its harness reads what pelican recorded.
        let applied = conn.applied_migrations().unwrap();
        let mut applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
        applied.sort();
        assert_eq!(applied, VERSIONS);
    }
}

#[cfg(feature = "r2d2")]
mod r2d2 {
    use super::*;
    use diesel::r2d2::{ConnectionManager, Pool, PooledConnection, R2D2Connection};
    use pelican::Backend;

    /// A connection from a new pool of one on `url`.
    fn pooled<C: R2D2Connection + Send + 'static>(
        url: &str,
    ) -> PooledConnection<ConnectionManager<C>> {
        let pool = Pool::builder()
            .max_size(1)
            .build(ConnectionManager::new(url))
            .unwrap();
        pool.get().unwrap()
    }

    /// `$body` with `$conn` the type of diesel's connection to the test's backend.
    macro_rules! with_connection_type {
        ($db:expr, $conn:ident => $body:expr) => {
            match $db.backend {
                #[cfg(feature = "sqlite")]
                Backend::Sqlite => {
                    type $conn = diesel::SqliteConnection;
                    $body
                }
                #[cfg(feature = "postgres")]
                Backend::Postgres => {
                    type $conn = diesel::PgConnection;
                    $body
                }
                #[cfg(feature = "mysql")]
                Backend::Mysql => {
                    type $conn = diesel::MysqlConnection;
                    $body
                }
                #[allow(unreachable_patterns)]
                other => unreachable!("{other}"),
            }
        };
    }

    backend_tests! {
        fn an_r2d2_pooled_connection_migrates_as_it_is(db: TestDb) {
            let other = TestDb::new(db.backend, "pooled_adopt");
            with_connection_type!(db, Conn => every_entry_point(
                &db,
                &mut pooled::<Conn>(&db.url),
                &other,
                &mut pooled::<Conn>(&other.url),
            ));
        }

        fn a_pooled_multi_connection_enum_migrates_as_it_is(db: TestDb) {
            let other = TestDb::new(db.backend, "pooled_multi_adopt");
            every_entry_point(
                &db,
                &mut pooled::<AppConnection>(&db.url),
                &other,
                &mut pooled::<AppConnection>(&other.url),
            );
        }

        fn a_pool_serves_a_test_database(db: TestDb) {
            let dir = write_migrations(db.dir(), MIGRATIONS);
            let migrations = Migrations::from_dir(&dir).unwrap();
            let test_db = pelican::testing::Harness::new(&migrations, db.backend)
                .database()
                .unwrap();
            with_connection_type!(db, Conn => {
                let status = Migrator::new(&migrations)
                    .status(&mut pooled::<Conn>(test_db.url()))
                    .unwrap();
                assert_eq!(status.current().map(|e| e.version.as_str()), Some(VERSIONS[2]));
            });
        }
    }

    #[cfg(feature = "mariadb")]
    #[test]
    fn a_pooled_mariadb_connection_migrates_as_it_is() {
        let (db, other) = (
            mariadb_db("pooled_mariadb"),
            mariadb_db("pooled_mariadb_adopt"),
        );
        let pooled = pooled::<diesel::MariadbConnection>;
        every_entry_point(&db, &mut pooled(&db.url), &other, &mut pooled(&other.url));
    }

    /// A migration's `SET search_path` on a pooled PostgreSQL connection lands where it does
    /// under diesel's harness on the same pooled connection type: diesel 2.4's harness sets
    /// the path back after each migration on a `PgConnection`, but asks an r2d2 pooled
    /// connection, which (in diesel 2.4.0, as in 2.3) keeps none, so the next migration's
    /// table follows the SET. pelican asks the same connection the same question.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_pooled_connections_search_path_is_as_under_diesels_harness() {
        use diesel_migrations::{FileBasedMigrations, MigrationHarness};

        let set = "CREATE SCHEMA other;\nSET search_path = other, public;";
        let next = "CREATE TABLE after_it (id int);";
        let migrations = &[
            ("2024-01-01-000000_set", set, ""),
            ("2024-01-02-000000_next", next, ""),
        ];
        let pooled = pooled::<diesel::PgConnection>;
        let probe = "SELECT table_schema || '.' || table_name AS value \
                     FROM information_schema.tables WHERE table_name = 'after_it'";
        let reference = TestDb::new(pelican::Backend::Postgres, "pooled_path_diesel");
        let dir = write_migrations(reference.dir(), migrations);
        pooled(&reference.url)
            .run_pending_migrations(FileBasedMigrations::from_path(&dir).unwrap())
            .unwrap();
        let db = TestDb::new(pelican::Backend::Postgres, "pooled_path");
        let ours = Migrations::from_dir(write_migrations(db.dir(), migrations)).unwrap();
        Migrator::new(&ours)
            .migrate(&mut pooled(&db.url), &Target::Head)
            .unwrap();
        assert_eq!(db.query_strings(probe), reference.query_strings(probe));
    }
}

/// A test database on the MySQL/MariaDB server, its URL in `MariadbConnection`'s
/// scheme, which pelican takes for MySQL/MariaDB as it takes `mysql://`.
#[cfg(feature = "mariadb")]
fn mariadb_db(test: &str) -> TestDb {
    let mut db = TestDb::new(pelican::Backend::Mysql, test);
    db.url = db.url.replacen("mysql://", "mariadb://", 1);
    db
}

/// diesel 2.4's `MariadbConnection` (pelican's `mariadb` feature) goes wherever
/// `MysqlConnection` does, as it is and pooled; diesel's harness on it reads what pelican
/// recorded.
#[cfg(feature = "mariadb")]
#[test]
fn a_mariadb_connection_migrates_as_it_is() {
    use diesel::Connection;
    use diesel_migrations::MigrationHarness;

    let (db, other) = (mariadb_db("mariadb"), mariadb_db("mariadb_adopt"));
    let connect = |url: &str| diesel::MariadbConnection::establish(url).unwrap();
    let mut conn = connect(&db.url);
    every_entry_point(&db, &mut conn, &other, &mut connect(&other.url));
    let applied = conn.applied_migrations().unwrap();
    let mut applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
    applied.sort();
    assert_eq!(applied, VERSIONS);
}
