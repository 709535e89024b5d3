//! `Check::run_on`: the check of the database an application's connection is on, read
//! through that connection, with scratch databases on the scratch URL's server.

mod common;

use common::TestDb;
use pelican::check::Finding;
use pelican::{Backend, Check, Migrations, Migrator, Target};

const ACCOUNTS: (&str, &str, &str) = (
    "2024-02-01-000001_accounts",
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);",
    "DROP TABLE accounts;",
);
const NOTES: (&str, &str, &str) = (
    "2024-02-01-000002_notes",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(500));\nCREATE INDEX notes_by_body ON notes (body);",
    "DROP TABLE notes;",
);

/// The scratch URL a server backend's check is given: the test server's own.
fn scratch_url(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        _ => pelican::testing::server_url(backend),
    }
}

/// Migrates through the application's connection, checks it (clean), adds a table
/// behind the migrations' back and checks again (drift, naming the table); every
/// scratch database the checks made is gone.
fn drift_through<C: pelican::Database + diesel::Connection>(backend: Backend, test: &str) {
    let db = TestDb::new(backend, test);
    let dir = common::write_migrations(&db.dir().join("m"), &[ACCOUNTS, NOTES]);
    let migrations = Migrations::from_dir(dir).unwrap();
    let mut conn: C = pelican::connection::establish_with_retry(&db.url, Default::default())
        .expect("the application's connection");
    Migrator::new(&migrations)
        .migrate(&mut conn, &Target::Head)
        .unwrap();
    let check = match scratch_url(backend) {
        Some(url) => Check::new(&migrations).scratch_url(url),
        None => Check::new(&migrations),
    };
    let clean = check.run_on(&mut conn).unwrap();
    assert!(clean.ok(), "{clean:?}");
    assert_eq!(clean.applied, 2);
    assert_eq!(clean.round_trip, 2);
    assert!(clean.drift_checked);

    db.execute("CREATE TABLE stray (id INTEGER PRIMARY KEY)");
    let drifted = check.run_on(&mut conn).unwrap();
    assert!(!drifted.ok());
    let drift = drifted
        .findings
        .iter()
        .find_map(|f| match f {
            Finding::Drift { changes, .. } => Some(format!("{changes:?}")),
            _ => None,
        })
        .expect("a drift finding");
    assert!(drift.contains("stray"), "{drift}");
    // The checks read only: the database has what it had, and the scratch databases
    // are gone.
    assert_eq!(db.applied().len(), 2);
    for shown in clean.scratch.iter().chain(&drifted.scratch) {
        let name = shown.rsplit(['/', '\\']).next().unwrap_or(shown);
        let name = name.strip_suffix(".db").unwrap_or(name);
        assert!(name.starts_with("pelican_scratch_"), "{shown}");
        if backend != Backend::Sqlite {
            assert!(!TestDb::server_has(backend, name), "{shown} left behind");
        } else {
            assert!(!std::path::Path::new(shown).exists(), "{shown} left behind");
        }
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_connection() {
    drift_through::<diesel::SqliteConnection>(Backend::Sqlite, "check_on_sqlite");
}

#[cfg(feature = "postgres")]
#[test]
fn pg_connection() {
    drift_through::<diesel::PgConnection>(Backend::Postgres, "check_on_pg");
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_connection() {
    drift_through::<diesel::MysqlConnection>(Backend::Mysql, "check_on_mysql");
}

/// A server's database checked through a connection and no scratch URL: an error that
/// says what is missing, and nothing made.
#[cfg(feature = "postgres")]
#[test]
fn a_server_connection_without_a_scratch_url_is_refused() {
    let db = TestDb::new(Backend::Postgres, "check_on_no_scratch");
    let dir = common::write_migrations(&db.dir().join("m"), &[ACCOUNTS]);
    let migrations = Migrations::from_dir(dir).unwrap();
    let mut conn: diesel::PgConnection =
        pelican::connection::establish_with_retry(&db.url, Default::default()).unwrap();
    let error = Check::new(&migrations).run_on(&mut conn).unwrap_err();
    assert_eq!(error.kind(), "no_scratch_url", "{error}");
    assert!(error.to_string().contains("scratch URL"), "{error}");
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}
