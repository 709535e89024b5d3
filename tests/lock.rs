//! The migration lock: one run per database at a time, released on every path, and
//! never left behind by a session that died.

mod common;

use std::time::{Duration, Instant};

use common::{write_migrations, TestDb};
use diesel::connection::SimpleConnection;
use pelican::{lock, AnyConnection, Backend, Database, Error, Migrations, Migrator, Target};

/// The session id the backend shows for a connection (PostgreSQL pid, MySQL connection
/// id), as the lock's timeout error names it.
fn session_id(conn: &mut AnyConnection) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let (sql, label) = match conn.backend() {
        Backend::Postgres => ("SELECT CAST(pg_backend_pid() AS BIGINT) AS id", "pid"),
        Backend::Mysql => ("SELECT CAST(CONNECTION_ID() AS SIGNED) AS id", "connection"),
        Backend::Sqlite => return None,
    };
    let rows: Vec<Id> = conn.load_with(sql, &[]).unwrap();
    Some(format!("{label} {}", rows[0].id))
}

/// Whether another connection can take the lock right now.
fn free(db: &TestDb) -> bool {
    match lock::with(&mut db.connect(), Duration::ZERO, |_| Ok(())) {
        Ok(()) => true,
        Err(Error::LockTimeout { .. }) => false,
        Err(other) => panic!("unexpected error: {other}"),
    }
}

backend_tests! {
    fn the_lock_is_free_after_a_failed_migration(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_ok", "CREATE TABLE ok_table (id INTEGER);", ""),
            ("2024-01-02-000000_broken", "CREATE TABLE a (id INTEGER);\nINSERT INTO nowhere VALUES (1);", ""),
        ]);
        let migrations = Migrations::from_dir(&dir).unwrap();
        let mut conn = db.connect();
        let error = Migrator::new(&migrations).migrate(&mut conn, &Target::Head).unwrap_err();
        assert!(matches!(error, Error::Statement { .. }), "{error}");
        // The failed run's connection is still open, and the lock is free all the same.
        assert!(free(&db), "the lock was left held after a failed migration");
        assert_eq!(db.applied(), ["20240101000000"], "what ran before the failure stays");
        lock::with(&mut conn, Duration::ZERO, |_| Ok(())).unwrap();
    }

    fn a_second_run_waits_then_times_out_naming_the_holder(db: TestDb) {
        let mut holder = db.connect();
        let id = session_id(&mut holder);
        let mut waiter = db.connect();
        let wait = Duration::from_millis(300);
        lock::with(&mut holder, Duration::ZERO, |_| {
            let started = Instant::now();
            let error = lock::with(&mut waiter, wait, |_| Ok(())).unwrap_err();
            assert!(started.elapsed() >= wait, "gave up after {:?}", started.elapsed());
            let Error::LockTimeout { holder: named, waited_secs, .. } = &error else {
                panic!("not a lock timeout: {error}");
            };
            assert!(*waited_secs >= wait.as_secs_f64(), "{error}");
            match &id {
                Some(id) => assert!(named.as_deref().unwrap_or("").starts_with(id.as_str()), "{error}"),
                None => assert!(named.is_none(), "{error}"),
            }
            let message = error.to_string();
            // The time waited, which a loaded machine stretches past the 0.3 s asked for.
            let waited = format!("timed out after {waited_secs:.1} s waiting for the migration lock");
            assert!(message.contains(&waited), "{message}");
            assert!(message.contains("--lock-timeout"), "{message}");
            Ok(())
        })
        .unwrap();
        // Released when the holder's scope ended: the waiter takes it at once.
        lock::with(&mut waiter, Duration::ZERO, |_| Ok(())).unwrap();
    }

    fn the_lock_is_reentrant_on_one_connection(db: TestDb) {
        let mut conn = db.connect();
        lock::with(&mut conn, Duration::ZERO, |conn| {
            lock::with(conn, Duration::ZERO, |_| Ok(()))?;
            assert!(!free(&db), "the inner scope released the outer one's lock");
            Ok(())
        })
        .unwrap();
        assert!(free(&db));
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn the_lock_dies_with_its_session(backend: Backend) {
    let db = TestDb::new(backend, "lock_dies_with_session");
    let mut holder = db.connect();
    let id = session_id(&mut holder).unwrap();
    let id = id.rsplit(' ').next().unwrap().to_owned();
    let result = lock::with(&mut holder, Duration::ZERO, |_| {
        assert!(!free(&db));
        // The holder's session ends as a crashed client's does: the server drops it.
        let kill = match backend {
            Backend::Postgres => format!("SELECT pg_terminate_backend({id})"),
            _ => format!("KILL CONNECTION {id}"),
        };
        db.connect().batch_execute(&kill).unwrap();
        let started = Instant::now();
        lock::with(&mut db.connect(), Duration::from_secs(5), |_| Ok(()))
            .expect("the lock outlived its session");
        assert!(started.elapsed() < Duration::from_secs(2));
        Ok(())
    });
    // The run itself succeeded, but its unlock could not be checked: that is reported.
    let error = result.unwrap_err();
    assert!(
        matches!(error, Error::LockRelease { .. }),
        "expected a release error, got: {error}"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn the_lock_dies_with_its_session_postgres() {
    the_lock_dies_with_its_session(Backend::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn the_lock_dies_with_its_session_mysql() {
    the_lock_dies_with_its_session(Backend::Mysql);
}

/// SQLite's lock is the file's write lock: a holder killed mid-migration (SIGKILL, no
/// chance to clean up) leaves the database unlocked, and its half-run migration undone.
#[cfg(feature = "sqlite")]
#[test]
fn the_lock_dies_with_its_process_sqlite() {
    let db = TestDb::new(Backend::Sqlite, "lock_dies_with_process");
    let dir = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_slow",
            "CREATE TABLE half (id INTEGER);\n\
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) \
             SELECT count(*) FROM c;",
            "",
        )],
    );
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(db.command(&dir, &["-q", "migrate"]).spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while free(&db) {
        assert!(
            Instant::now() < deadline,
            "the migration never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let started = Instant::now();
    lock::with(&mut db.connect(), Duration::from_secs(5), |_| Ok(()))
        .expect("the lock outlived its process");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        !db.tables().contains(&"half".to_owned()),
        "the killed run's work was kept"
    );
}
