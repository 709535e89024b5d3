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
        other => unimplemented!("{other:?}: a backend these tests do not know"),
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
        // Each migration committing on its own (an atomic run would keep nothing).
        let error = Migrator::new(&migrations)
            .atomic(false)
            .migrate(&mut conn, &Target::Head)
            .unwrap_err();
        assert!(matches!(error.cause(), Error::Statement { .. }), "{error}");
        // The report of what ran before the failure comes with the error.
        let report = error.partial_report().expect("the first migration ran");
        assert_eq!(report.steps.len(), 1);
        assert_eq!(report.current.as_deref(), Some("20240101000000"));
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
            // The library names no flag; the command line adds it as a hint.
            assert!(message.contains("let it finish, or allow a longer wait"), "{message}");
            assert!(!message.contains("--lock-timeout"), "{message}");
            let hint = pelican::cli::hint(&error).unwrap_or_default();
            assert!(hint.contains("--lock-timeout"), "{hint}");
            Ok(())
        })
        .unwrap();
        // Released when the holder's scope ended: the waiter takes it at once.
        lock::with(&mut waiter, Duration::ZERO, |_| Ok(())).unwrap();
    }

    fn nothing_to_do_is_read_without_waiting_for_the_lock(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        let mut holder = db.connect();
        lock::with(&mut holder, Duration::ZERO, |_| {
            // At head: `migrate` and `boot` only read, and need no lock.
            for command in ["migrate", "boot"] {
                let out = db.pelican(&dir, &["--lock-timeout", "0.2", command]);
                assert_eq!(out.code, 0, "{command}: {out:?}");
            }
            // Something to run: the lock is taken (and, held, waited for).
            write_migrations(db.dir(), &[
                ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", ""),
            ]);
            let out = db.pelican(&dir, &["--lock-timeout", "0.2", "migrate"]);
            assert_ne!(out.code, 0, "{out:?}");
            assert!(out.stderr.contains("waiting for the migration lock"), "{}", out.stderr);
            Ok(())
        })
        .unwrap();
        assert_eq!(db.applied(), ["20240101000000"]);
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

/// A reader waits for a writer: `--lock-timeout` bounds SQLite's busy wait on every
/// command, reads included, instead of "database is locked" at once.
#[cfg(feature = "sqlite")]
#[test]
fn a_read_waits_for_a_sqlite_writer_up_to_the_lock_timeout() {
    let db = TestDb::new(Backend::Sqlite, "read_waits");
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    db.pelican(&dir, &["migrate"]).success();
    let mut writer = db.connect();
    // An exclusive lock, as a writer committing holds it: readers must wait.
    writer.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let out = db.pelican(&dir, &["--lock-timeout", "0.5", "current"]);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "gave up after {:?}: {out:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("database is locked"), "{}", out.stderr);
    // Held for a second of a ten-second timeout: the read waits, then succeeds.
    let mut reader = db
        .command(&dir, &["--lock-timeout", "10", "current"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        reader.try_wait().unwrap().is_none(),
        "the read did not wait"
    );
    writer.batch_execute("COMMIT").unwrap();
    let out = common::Output::from(reader.wait_with_output().unwrap()).success();
    assert_eq!(out.stdout.trim(), "20240101000000 a (head)");
}

/// A login whose role (PostgreSQL) or user (MariaDB) has a statement timeout of one
/// second by default, made for one test and dropped after it.
#[cfg(any(feature = "postgres", feature = "mysql"))]
struct TimedLogin {
    backend: Backend,
    user: String,
    url: String,
    test_db_url: String,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl TimedLogin {
    fn create(db: &TestDb) -> TimedLogin {
        let user: String = format!("pelican_st_{}", db.name().trim_start_matches("pelican_t_"))
            .chars()
            .take(60)
            .collect();
        let (scheme, rest) = db.url.split_once("://").unwrap();
        let host = rest.split('/').next().unwrap().rsplit('@').next().unwrap();
        let login = TimedLogin {
            backend: db.backend,
            url: format!("{scheme}://{user}:pw_{user}@{host}/{}", db.name()),
            user: user.clone(),
            test_db_url: db.url.clone(),
        };
        let admin_url = match db.backend {
            Backend::Postgres => common::postgres_url(),
            _ => common::mysql_url(),
        };
        let mut admin = AnyConnection::establish(&admin_url).unwrap();
        match db.backend {
            Backend::Postgres => {
                admin
                    .batch_execute(&format!(
                        "CREATE ROLE {user} LOGIN PASSWORD 'pw_{user}'; \
                         ALTER ROLE {user} SET statement_timeout = '1s'; \
                         GRANT ALL ON DATABASE {} TO {user}",
                        db.name()
                    ))
                    .unwrap();
                db.execute(&format!("GRANT ALL ON SCHEMA public TO {user}"));
            }
            _ => admin
                .batch_execute(&format!(
                    "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw_{user}' WITH MAX_STATEMENT_TIME 1; \
                     GRANT ALL ON `{}`.* TO '{user}'@'%'",
                    db.name()
                ))
                .unwrap(),
        }
        login
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl Drop for TimedLogin {
    fn drop(&mut self) {
        let (admin_url, sql) = match self.backend {
            Backend::Postgres => {
                if let Ok(mut conn) = AnyConnection::establish(&self.test_db_url) {
                    let _ = conn.batch_execute(&format!("DROP OWNED BY {}", self.user));
                }
                (
                    common::postgres_url(),
                    format!("DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}", self.user),
                )
            }
            _ => (
                common::mysql_url(),
                format!("DROP USER IF EXISTS '{}'@'%'", self.user),
            ),
        };
        if let Ok(mut admin) = AnyConnection::establish(&admin_url) {
            let _ = admin.batch_execute(&sql);
        }
    }
}

server_tests! {
    // ALTER ROLE … SET statement_timeout = '1s' (MariaDB: MAX_STATEMENT_TIME 1): the wait
    // for the lock is bounded by --lock-timeout alone, and a migration statement longer
    // than the role's timeout runs, unless --statement-timeout says otherwise.
    fn a_roles_statement_timeout_cuts_neither_the_lock_wait_nor_a_migration(db: TestDb) {
        let login = TimedLogin::create(&db);
        let sleep = match db.backend {
            Backend::Postgres => "SELECT pg_sleep(1.5)",
            _ => "SELECT SLEEP(1.5)",
        };
        let dir = write_migrations(db.dir(), &[(
            "2024-01-01-000000_slow",
            &format!("CREATE TABLE slow_t (id INTEGER);\n{sleep};\n"),
            "DROP TABLE slow_t;",
        )]);
        let mut holder = db.connect();
        let started = Instant::now();
        let out = lock::with(&mut holder, Duration::ZERO, |_| {
            let child = db
                .command_with_url(&login.url, &dir, &["--lock-timeout", "10", "migrate"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(2500));
            Ok(child)
        })
        .unwrap()
        .wait_with_output()
        .unwrap();
        let out = common::Output::from(out).success();
        assert!(started.elapsed() >= Duration::from_millis(2500), "{out:?}");
        assert_eq!(db.applied(), ["20240101000000"]);
        // Asked for, a statement timeout cuts the slow statement.
        let out = db.command_with_url(&login.url, &dir, &["--statement-timeout", "0.5", "redo"]).output().unwrap();
        let out = common::Output::from(out);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("2024-01-01-000000_slow/up.sql, line 2"), "{}", out.stderr);
        let cut = match db.backend {
            Backend::Postgres => "canceling statement due to statement timeout",
            _ => "max_statement_time exceeded",
        };
        assert!(out.stderr.contains(cut), "{}", out.stderr);
    }
}
