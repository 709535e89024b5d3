//! pelican behind PgBouncer: replicas booting or migrating at once through a
//! transaction-pooling and a session-pooling PgBouncer, as `scripts/setup` starts them
//! (`PELICAN_TEST_PGBOUNCER_TX_URL`, default port 6433, and
//! `PELICAN_TEST_PGBOUNCER_SESSION_URL`, 6434, in front of the test server). Each test
//! makes its database on the server itself, then reaches it through the pooler.
//!
//! Through a transaction pooler the migration lock is a lease (`PELICAN_POOL_MODE` or
//! `Boot::pool_mode`, see docs/boot.md); through a session pooler it is the session
//! advisory lock, as on a direct connection.

#![cfg(feature = "postgres")]

mod common;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{all_at_once, with_database, write_migrations, Output, TestDb};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use pelican::lock::PoolMode;
use pelican::{AnyConnection, Backend, Boot, Migrations};

/// How many replicas start at once.
const REPLICAS: usize = 8;

/// A PgBouncer's URL (any database: each test names its own), or `None`, with the reason
/// printed, when it does not answer.
fn pooler(variable: &str, port: u16) -> Option<String> {
    let url = std::env::var(variable)
        .unwrap_or_else(|_| format!("postgres://postgres@127.0.0.1:{port}/postgres"));
    match AnyConnection::establish(&url) {
        Ok(_) => Some(url),
        Err(error) => {
            eprintln!(
                "SKIPPED: no PgBouncer answers at {variable} ({url}): {error}; \
                 scripts/setup starts one"
            );
            None
        }
    }
}

fn transaction_pooler() -> Option<String> {
    pooler("PELICAN_TEST_PGBOUNCER_TX_URL", 6433)
}

fn session_pooler() -> Option<String> {
    pooler("PELICAN_TEST_PGBOUNCER_SESSION_URL", 6434)
}

/// A new database on the test server, and its URL through the transaction pooler;
/// `None` when the pooler does not answer.
fn through_transaction_pooler(test: &str) -> Option<(TestDb, String)> {
    let pooler = transaction_pooler()?;
    let db = TestDb::new(Backend::Postgres, test);
    let url = with_database(&pooler, db.name());
    Some((db, url))
}

/// One migration that makes `runs`, runs `middle`, then inserts the row `runs`.
fn one_migration(db: &TestDb, middle: &str) -> std::path::PathBuf {
    let up = format!(
        "CREATE TABLE runs (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n{middle}\n\
         INSERT INTO runs (name) VALUES ('runs');\n"
    );
    write_migrations(
        db.dir(),
        &[("2024-01-01-000000_runs", &up, "DROP TABLE runs;\n")],
    )
}

/// `pelican migrate` through the transaction pooler, in transaction mode, waiting at
/// most `lock_timeout` seconds.
fn migrate_in_transaction_mode(db: &TestDb, url: &str, dir: &Path, lock_timeout: &str) -> Output {
    Output::from(
        db.command_with_url(url, dir, &["--lock-timeout", lock_timeout, "migrate"])
            .env(PoolMode::ENV, "transaction")
            .output()
            .unwrap(),
    )
}

/// Three migrations, each inserting a row into `runs` that names it (so a migration that
/// ran twice leaves two), the last one `CREATE INDEX CONCURRENTLY`, which runs outside
/// any transaction.
fn migrations(db: &TestDb) -> std::path::PathBuf {
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_runs",
                "CREATE TABLE runs (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n\
                 INSERT INTO runs (name) VALUES ('runs');\n",
                "DROP TABLE runs;\n",
            ),
            (
                "2024-01-02-000000_items",
                "CREATE TABLE items (id SERIAL PRIMARY KEY, x INTEGER);\n\
                 INSERT INTO runs (name) VALUES ('items');\n",
                "DROP TABLE items;\n",
            ),
            (
                "2024-01-03-000000_items_x",
                "CREATE INDEX CONCURRENTLY items_x ON items (x);\n",
                "DROP INDEX CONCURRENTLY items_x;\n",
            ),
        ],
    );
    std::fs::write(
        dir.join("2024-01-03-000000_items_x/metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    dir
}

/// Each migration ran exactly once, diesel's ledger records all three, and the index
/// `CREATE INDEX CONCURRENTLY` built is valid.
#[track_caller]
fn each_migration_ran_once(db: &TestDb) {
    assert_eq!(
        db.query_strings(
            "SELECT name || ' ' || count(*) AS value FROM runs GROUP BY name ORDER BY name"
        ),
        ["items 1", "runs 1"]
    );
    assert_eq!(
        db.query_strings(
            "SELECT version AS value FROM __diesel_schema_migrations ORDER BY version"
        ),
        ["20240101000000", "20240102000000", "20240103000000"]
    );
    assert_eq!(
        db.query_strings(
            "SELECT CAST(i.indisvalid AS TEXT) AS value FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'items_x'"
        ),
        ["true"]
    );
}

/// `REPLICAS` `pelican migrate` processes at once through `url`, in `mode` (unset: the
/// default), with a statement timeout of their own (which must not reach anyone else).
fn migrate_at_once(db: &TestDb, url: &str, mode: Option<&str>) -> Vec<Output> {
    let dir = migrations(db);
    all_at_once((0..REPLICAS).map(|_| {
        let mut command = db.command_with_url(
            url,
            &dir,
            &[
                "--lock-timeout",
                "60",
                "--statement-timeout",
                "7",
                "migrate",
            ],
        );
        match mode {
            Some(mode) => command.env(PoolMode::ENV, mode),
            None => command.env_remove(PoolMode::ENV),
        };
        command
    }))
}

/// `REPLICAS` threads booting at once through `url`, each on a connection of its own.
fn boot_at_once(db: &TestDb, url: &str, mode: PoolMode) {
    let migrations = Migrations::from_dir(migrations(db)).unwrap();
    let start = Arc::new(Barrier::new(REPLICAS));
    let reports: Vec<_> = std::thread::scope(|scope| {
        let replicas: Vec<_> = (0..REPLICAS)
            .map(|_| {
                let (start, migrations) = (Arc::clone(&start), &migrations);
                scope.spawn(move || {
                    let mut conn = AnyConnection::establish(url).expect("through the pooler");
                    start.wait();
                    Boot::new(migrations)
                        .auto_migrate(true)
                        .pool_mode(mode)
                        .lock_timeout(Duration::from_secs(60))
                        .run(&mut conn)
                })
            })
            .collect();
        replicas.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut built = 0;
    for report in reports {
        let report = report.unwrap_or_else(|e| panic!("a replica failed: {e}"));
        assert_eq!(report.pending.len(), 0, "{report:?}");
        built += usize::from(report.stamped > 0 || !report.steps.is_empty());
    }
    assert_eq!(built, 1, "one replica builds, the others find it built");
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Settings {
    #[diesel(sql_type = Text)]
    settings: String,
}

/// The settings a pelican run could leave on a server connection, as one line.
const SETTINGS: &str = "SELECT current_setting('statement_timeout') || ' ' \
    || current_setting('lock_timeout') || ' ' || current_setting('search_path') || ' ' \
    || current_setting('synchronous_commit') || ' ' \
    || current_setting('check_function_bodies') AS settings";

/// What every server connection the pooler holds for the database says of
/// [`SETTINGS`]: as many clients as the server has connections from the pooler, each in
/// a transaction at once, so that each is on a server connection of its own.
fn pooled_settings(db: &TestDb, url: &str) -> Vec<String> {
    let servers = db
        .query_strings(&format!(
            "SELECT CAST(count(*) AS TEXT) AS value FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        ))
        .concat()
        .parse::<usize>()
        .unwrap();
    assert!(servers > 0, "the pooler keeps its server connections");
    let together = Arc::new(Barrier::new(servers));
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..servers)
            .map(|_| {
                let together = Arc::clone(&together);
                scope.spawn(move || {
                    let mut conn = AnyConnection::establish(url).unwrap();
                    conn.batch_execute("BEGIN").unwrap();
                    let settings: Vec<Settings> = conn.load_with(SETTINGS, &[]).unwrap();
                    together.wait();
                    conn.batch_execute("COMMIT").unwrap();
                    settings.into_iter().map(|s| s.settings).collect::<String>()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

/// Every server connection of the pool has the settings a new session on the server
/// has: nothing a run set stayed behind.
#[track_caller]
fn no_settings_left(db: &TestDb, url: &str) {
    let defaults = default_settings(db);
    for settings in pooled_settings(db, url) {
        assert_eq!(settings, defaults);
    }
}

/// What a new session on the server itself says of [`SETTINGS`].
fn default_settings(db: &TestDb) -> String {
    let mut conn = db.connect();
    let settings: Vec<Settings> = conn.load_with(SETTINGS, &[]).unwrap();
    settings.into_iter().map(|s| s.settings).collect()
}

#[test]
fn eight_processes_migrate_through_a_transaction_pooler_each_migration_once() {
    let Some(pooler) = transaction_pooler() else {
        return;
    };
    let db = TestDb::new(Backend::Postgres, "bouncer_tx_migrate");
    let url = with_database(&pooler, db.name());
    for out in migrate_at_once(&db, &url, Some("transaction")) {
        assert_eq!(out.code, 0, "{out:?}");
    }
    each_migration_ran_once(&db);
    assert!(
        db.query_strings("SELECT CAST(count(*) AS TEXT) AS value FROM __pelican_lock") == ["0"],
        "the lease is given back"
    );
    // `--statement-timeout 7` reached no server connection: pelican sets nothing on
    // the session through a transaction pooler.
    no_settings_left(&db, &url);
}

#[test]
fn eight_boots_through_a_transaction_pooler_build_once() {
    let Some(pooler) = transaction_pooler() else {
        return;
    };
    let db = TestDb::new(Backend::Postgres, "bouncer_tx_boot");
    let url = with_database(&pooler, db.name());
    boot_at_once(&db, &url, PoolMode::Transaction);
    each_migration_ran_once(&db);
    no_settings_left(&db, &url);
}

#[test]
fn eight_processes_migrate_through_a_session_pooler_each_migration_once() {
    let Some(pooler) = session_pooler() else {
        return;
    };
    let db = TestDb::new(Backend::Postgres, "bouncer_session_migrate");
    let url = with_database(&pooler, db.name());
    // The default: the session advisory lock, which a session pooler keeps.
    for out in migrate_at_once(&db, &url, None) {
        assert_eq!(out.code, 0, "{out:?}");
    }
    each_migration_ran_once(&db);
}

#[test]
fn eight_boots_through_a_session_pooler_build_once() {
    let Some(pooler) = session_pooler() else {
        return;
    };
    let db = TestDb::new(Backend::Postgres, "bouncer_session_boot");
    let url = with_database(&pooler, db.name());
    boot_at_once(&db, &url, PoolMode::Session);
    each_migration_ran_once(&db);
}

#[test]
fn eight_processes_on_a_direct_connection_wait_out_create_index_concurrently() {
    // A waiter blocked in `pg_advisory_lock` held a snapshot, which the holder's
    // `CREATE INDEX CONCURRENTLY` waited for: the server killed the waiters with
    // `deadlock detected`. Waiters poll now.
    let db = TestDb::new(Backend::Postgres, "direct_concurrently");
    for out in migrate_at_once(&db, &db.url, None) {
        assert_eq!(out.code, 0, "{out:?}");
    }
    each_migration_ran_once(&db);
}

#[test]
fn a_live_lease_is_waited_for_and_named_and_an_expired_one_taken_over() {
    let Some((db, url)) = through_transaction_pooler("bouncer_lease_holder") else {
        return;
    };
    let dir = migrations(&db);
    // A replica that took the lease, then died, as its row says.
    db.execute(
        "CREATE TABLE __pelican_lock (id INTEGER PRIMARY KEY CHECK (id = 1), \
         token TEXT NOT NULL, holder TEXT NOT NULL, taken_at TIMESTAMPTZ NOT NULL, \
         expires_at TIMESTAMPTZ NOT NULL); \
         INSERT INTO __pelican_lock VALUES (1, 'gone', 'pelican pid 4242 on host web-7', \
         now(), now() + interval '1 hour')",
    );
    let out = migrate_in_transaction_mode(&db, &url, &dir, "1");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("waiting for the migration lock (lease in \"")
            && out
                .stderr
                .contains("held by pelican pid 4242 on host web-7, lease taken"),
        "{}",
        out.stderr
    );
    assert!(!db.tables().iter().any(|t| t == "runs"), "nothing ran");
    // Its lease expires: the next run takes it over.
    db.execute("UPDATE __pelican_lock SET expires_at = now() - interval '1 second'");
    let out = migrate_in_transaction_mode(&db, &url, &dir, "5");
    assert_eq!(out.code, 0, "{out:?}");
    each_migration_ran_once(&db);
}

#[test]
fn a_transaction_longer_than_the_lease_keeps_it() {
    let Some((db, url)) = through_transaction_pooler("bouncer_lease_long") else {
        return;
    };
    // A migration of 3 s under a lease of 1 s: renewed inside the run's transaction,
    // the lease's row stays locked until the commit, and nobody takes it over.
    let dir = one_migration(&db, "SELECT pg_sleep(3);");
    let outputs = all_at_once((0..4).map(|_| {
        let mut command = db.command_with_url(&url, &dir, &["--lock-timeout", "30", "migrate"]);
        command
            .env(PoolMode::ENV, "transaction")
            .env(pelican::lock::LEASE_ENV, "1");
        command
    }));
    for out in &outputs {
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert_eq!(db.query_strings("SELECT name AS value FROM runs"), ["runs"]);
}

#[test]
fn a_bad_pool_mode_is_refused_before_anything_runs() {
    let db = TestDb::new(Backend::Postgres, "bouncer_bad_mode");
    let dir = migrations(&db);
    let out = Output::from(
        db.command(&dir, &["migrate"])
            .env(PoolMode::ENV, "statement")
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "PELICAN_POOL_MODE=\"statement\" is not a valid value: use transaction or session"
        ),
        "{}",
        out.stderr
    );
    assert!(!db.tables().iter().any(|t| t == "runs"));
}

#[test]
fn a_run_in_the_callers_transaction_through_a_transaction_pooler_holds_it_for_the_transaction() {
    let Some((db, url)) = through_transaction_pooler("bouncer_enclosed") else {
        return;
    };
    let dir = one_migration(&db, "");
    let migrations = Migrations::from_dir(&dir).unwrap();
    let mut conn = AnyConnection::establish(&url).unwrap();
    // Inside the caller's transaction a lease's row would not be seen before the
    // commit: the lock is the transaction's advisory lock, which a take waits for.
    conn.transaction(|conn| {
        pelican::Migrator::new(&migrations)
            .pool_mode(PoolMode::Transaction)
            .migrate(conn, &pelican::Target::Head)?;
        let out = migrate_in_transaction_mode(&db, &url, &dir, "1");
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("timed out"), "{}", out.stderr);
        Ok(())
    })
    .unwrap();
    assert_eq!(db.query_strings("SELECT name AS value FROM runs"), ["runs"]);
}

#[test]
fn reset_through_a_transaction_pooler_keeps_its_lease() {
    let Some((db, url)) = through_transaction_pooler("bouncer_reset") else {
        return;
    };
    let dir = migrations(&db);
    for args in [&["init"][..], &["reset", "--yes"]] {
        let out = Output::from(
            db.command_with_url(&url, &dir, args)
                .env(PoolMode::ENV, "transaction")
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 0, "{out:?}");
    }
    // Rebuilt once, and the lease given back rather than dropped under the run.
    each_migration_ran_once(&db);
    assert_eq!(
        db.query_strings("SELECT CAST(count(*) AS TEXT) AS value FROM __pelican_lock"),
        ["0"]
    );
}
