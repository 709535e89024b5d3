//! Faults: a run killed or cut off mid-migration, a read-only or full SQLite file. Each
//! leaves nothing recorded that did not fully apply, says what happened, and the next
//! run converges to head.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{write_migrations, Output, TestDb};
use diesel::connection::SimpleConnection;
use pelican::connection::Bind;
use pelican::{AnyConnection, Backend};

const FIRST: &str = "20240101000000";
const SLOW: &str = "20240102000000";
const LAST: &str = "20240103000000";

/// A pelican running in the background, killed when dropped, so that a failed
/// assertion leaves none behind.
struct Running(Option<Child>);

impl Running {
    fn start(command: &mut std::process::Command) -> Running {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Running(Some(child))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for it to end on its own, and returns what it printed.
    fn output(mut self) -> Output {
        Output::from(self.0.take().unwrap().wait_with_output().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A statement that takes seconds on this backend: a sleep of a second and a half on the
/// servers, a recursive count of about two and a half on SQLite (sized on this machine's
/// speed).
fn slow_statement(db: &TestDb) -> String {
    match db.backend {
        Backend::Postgres => "SELECT pg_sleep(1.5)".to_owned(),
        Backend::Mysql => "SELECT SLEEP(1.5)".to_owned(),
        Backend::Sqlite => {
            let count = |n: u64| {
                format!(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) \
                     SELECT count(*) FROM c"
                )
            };
            // The fastest of three calibrations: one taken while the machine was busy
            // would make the count too short, and the run could end before the kill.
            let mut conn = AnyConnection::establish(":memory:").unwrap();
            let per_row = (0..3)
                .map(|_| {
                    let started = Instant::now();
                    conn.batch_execute(&count(200_000)).unwrap();
                    started.elapsed().as_secs_f64() / 200_000.0
                })
                .fold(f64::INFINITY, f64::min);
            count((2.5 / per_row) as u64)
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
}

/// Three migrations, the second with the slow statement between two DDL statements.
fn three_with_a_slow_one(db: &TestDb) -> std::path::PathBuf {
    let slow = format!(
        "CREATE TABLE half_t (id INTEGER);\n{};\nCREATE TABLE after_t (id INTEGER);\n",
        slow_statement(db)
    );
    write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_first",
                "CREATE TABLE first_t (id INTEGER);",
                "DROP TABLE first_t;",
            ),
            (
                "2024-01-02-000000_slow",
                &slow,
                "DROP TABLE after_t;\nDROP TABLE half_t;",
            ),
            (
                "2024-01-03-000000_last",
                "CREATE TABLE last_t (id INTEGER);",
                "DROP TABLE last_t;",
            ),
        ],
    )
}

/// The server sessions, other than the asking one, running a statement that holds
/// `text` (PostgreSQL pids, MySQL connection ids).
fn sessions_running(db: &TestDb, text: &str) -> Vec<i64> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT CAST(pid AS BIGINT) AS id FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND state = 'active' AND query LIKE ?"
        }
        _ => {
            "SELECT CAST(id AS SIGNED) AS id FROM information_schema.processlist \
             WHERE id <> CONNECTION_ID() AND db = DATABASE() AND info LIKE ?"
        }
    };
    let pattern = format!("%{text}%");
    let rows: Vec<Id> = db
        .connect()
        .load_with(sql, &[Bind::Text(&pattern)])
        .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

/// Waits until the slow statement of `three_with_a_slow_one` is running, and returns
/// the session running it (none on SQLite, where the run is seen holding the lock).
fn wait_for_the_slow_statement(db: &TestDb, child: &mut Running) -> Option<i64> {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        assert!(
            Instant::now() < deadline,
            "the slow statement never started"
        );
        if let Ok(Some(status)) = child.child().try_wait() {
            panic!("pelican ended before the slow statement: {status}");
        }
        let found = match db.backend {
            Backend::Postgres => sessions_running(db, "pg_sleep(1.5)").first().copied(),
            Backend::Mysql => sessions_running(db, "SLEEP(1.5)").first().copied(),
            Backend::Sqlite => {
                let locked =
                    pelican::lock::with(&mut db.connect(), Duration::ZERO, |_| Ok(())).is_err();
                if locked {
                    // Held: the first migration takes milliseconds, the count seconds;
                    // a moment later the run is inside the count.
                    std::thread::sleep(Duration::from_millis(300));
                    return None;
                }
                None
            }
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        if found.is_some() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The journal's rows for a version and outcome.
fn journaled(db: &TestDb, version: &str, outcome: &str) -> usize {
    db.query_strings(&format!(
        "SELECT runner AS value FROM __pelican_journal WHERE version = '{version}' AND outcome = '{outcome}'"
    ))
    .len()
}

/// What the database holds after a run cut short in the slow migration: the first
/// migration at most, nothing of the slow one recorded, and of its statements only
/// what MySQL committed on its own.
#[track_caller]
fn nothing_half_recorded(db: &TestDb) {
    let tables = db.tables();
    // On SQLite the run's write lock is one transaction: killed, it all rolls back, the
    // ledger's creation included.
    let applied = if tables.contains(&"__diesel_schema_migrations".to_owned()) {
        db.applied()
    } else {
        Vec::new()
    };
    assert!(applied.is_empty() || applied == [FIRST], "{applied:?}");
    assert_eq!(
        tables.contains(&"first_t".to_owned()),
        applied == [FIRST],
        "{tables:?}"
    );
    // MySQL commits DDL as it goes: the slow migration's first table stays, unrecorded.
    assert_eq!(
        tables.contains(&"half_t".to_owned()),
        db.backend == Backend::Mysql,
        "{tables:?}"
    );
    assert!(!tables.contains(&"after_t".to_owned()), "{tables:?}");
    if tables.contains(&"__pelican_journal".to_owned()) {
        assert_eq!(journaled(db, SLOW, "applied"), 0);
    }
}

/// The next run takes the lock (the dead run's died with it), applies what is left, and
/// on MySQL its guards skip what the dead run had done.
#[track_caller]
fn next_run_converges(db: &TestDb, dir: &Path) {
    let out = db
        .pelican(dir, &["--format", "json", "--lock-timeout", "8", "migrate"])
        .success()
        .json();
    assert_eq!(db.applied(), [FIRST, SLOW, LAST]);
    for table in ["first_t", "half_t", "after_t", "last_t"] {
        assert!(db.tables().contains(&table.to_owned()), "{table} missing");
    }
    let slow = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["version"] == SLOW)
        .unwrap();
    let skipped = if db.backend == Backend::Mysql { 1 } else { 0 };
    assert_eq!(slow["statements_skipped"], skipped, "{slow}");
    assert_eq!(journaled(db, SLOW, "applied"), 1);
}

backend_tests! {
    fn killed_mid_migration_the_next_run_converges(db: TestDb) {
        let dir = three_with_a_slow_one(&db);
        let mut child = Running::start(&mut db.command(&dir, &["-q", "migrate"]));
        wait_for_the_slow_statement(&db, &mut child);
        // SIGKILL: no unwinding, no cleanup, no unlock.
        child.child().kill().unwrap();
        child.child().wait().unwrap();
        nothing_half_recorded(&db);
        next_run_converges(&db, &dir);
    }
}

server_tests! {
    fn connection_cut_mid_migration_is_an_error_and_the_next_run_converges(db: TestDb) {
        let dir = three_with_a_slow_one(&db);
        // A commit per migration, so that the first one stays (an atomic run loses it
        // with the connection, ledger included).
        let mut child = Running::start(&mut db.command(&dir, &["migrate", "--no-atomic"]));
        let session = wait_for_the_slow_statement(&db, &mut child).unwrap();
        let kill = match db.backend {
            Backend::Postgres => format!("SELECT pg_terminate_backend({session})"),
            _ => format!("KILL CONNECTION {session}"),
        };
        db.execute(&kill);
        let started = Instant::now();
        let out = child.output();
        assert!(started.elapsed() < Duration::from_secs(5), "pelican hung after its connection was cut");
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("error: migration 2024-01-02-000000_slow failed"), "{}", out.stderr);
        if db.backend == Backend::Mysql {
            assert!(out.stderr.contains("2024-01-02-000000_slow/up.sql, line 2: `SELECT"), "{}", out.stderr);
        } else {
            // PostgreSQL ran the file as one batch, as diesel does: the file is named.
            assert!(out.stderr.contains("2024-01-02-000000_slow/up.sql: "), "{}", out.stderr);
        }
        assert!(
            out.stderr.contains("the connection to the database was lost; nothing of this migration was recorded: run the command again"),
            "{}", out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(out.stderr.contains("Applying 2024-01-02-000000_slow"), "{}", out.stderr);
        nothing_half_recorded(&db);
        assert_eq!(db.applied(), [FIRST]);
        next_run_converges(&db, &dir);
    }
}

/// A SQLite file pelican may not write: opened read-only by its URL, and (below) a file
/// whose permissions forbid writing.
#[cfg(feature = "sqlite")]
#[test]
fn a_read_only_sqlite_file_is_a_clear_error_and_stays_intact() {
    let db = TestDb::new(Backend::Sqlite, "read_only");
    let dir = three_with_a_slow_one(&db);
    db.pelican(&dir, &["migrate", "+1"]).success();
    let path = Path::new(&db.url);
    let before = std::fs::read(path).unwrap();
    let url = format!("file:{}?mode=ro", db.url);
    for args in [
        &["migrate"][..],
        &["stamp", "head"],
        &["downgrade", "base"],
        &["reset", "--yes"],
    ] {
        let out = Output::from(db.command_with_url(&url, &dir, args).output().unwrap());
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("attempt to write a readonly database"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{args:?} changed the file"
        );
    }
    // Reading is fine.
    let out = Output::from(
        db.command_with_url(&url, &dir, &["current"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(db.applied(), [FIRST]);
}

/// chmod 444 stops a process that is not root; tests running as root run pelican as
/// `nobody` (with setpriv) so that the permissions really apply.
#[cfg(all(feature = "sqlite", unix))]
#[test]
fn a_sqlite_file_without_write_permission_is_a_clear_error_and_stays_intact() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new(Backend::Sqlite, "no_write_permission");
    let dir = three_with_a_slow_one(&db);
    db.pelican(&dir, &["migrate", "+1"]).success();
    let path = Path::new(&db.url);
    let before = std::fs::read(path).unwrap();
    std::fs::set_permissions(db.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        command.arg(env!("CARGO_BIN_EXE_pelican"));
        db.wrapped(command, &db.url, &dir, &["migrate"])
    } else {
        db.command(&dir, &["migrate"])
    };
    let out = Output::from(command.output().unwrap());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("attempt to write a readonly database"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(path).unwrap(), before);
    assert_eq!(db.applied(), [FIRST]);
}

/// A full disk: a 256 KiB tmpfs filled up (root can mount one); where mounting is not
/// allowed, a file-size limit (`ulimit -f`) stands in for it.
#[cfg(all(feature = "sqlite", unix))]
#[test]
fn a_full_disk_under_a_sqlite_file_is_a_clear_error_and_leaves_it_intact() {
    let db = TestDb::new(Backend::Sqlite, "full_disk");
    let disk = db.dir().join("disk");
    std::fs::create_dir(&disk).unwrap();
    struct Mounted<'a>(&'a Path);
    impl Drop for Mounted<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(self.0)
                .status();
        }
    }
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&disk)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _unmount = mounted.then(|| Mounted(&disk));
    let file = disk.join("app.db");
    let url = file.display().to_string();
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_first", "CREATE TABLE first_t (id INTEGER, note TEXT);\nINSERT INTO first_t VALUES (1, 'kept');", ""),
            (
                "2024-01-02-000000_big",
                "CREATE TABLE big (t TEXT);\n\
                 INSERT INTO big SELECT hex(randomblob(500)) FROM \
                 (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT x FROM c);",
                "DROP TABLE big;",
            ),
        ],
    );
    let pelican = |args: &[&str], limited: bool| {
        let mut command = if limited && !mounted {
            // Room for a few pages more than the file has (in 512-byte blocks; bash
            // counts kilobytes, which only doubles the room). The shell ignores SIGXFSZ
            // so that a write past the limit fails instead of killing pelican.
            let blocks = std::fs::metadata(&file).map_or(0, |m| m.len()) / 512 + 24;
            let mut command = std::process::Command::new("sh");
            command.args([
                "-c",
                &format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""),
            ]);
            command.arg(env!("CARGO_BIN_EXE_pelican"));
            db.wrapped(command, &url, &dir, args)
        } else {
            db.command_with_url(&url, &dir, args)
        };
        Output::from(command.output().unwrap())
    };
    pelican(&["migrate", "+1"], false).success();
    let filler = disk.join("filler");
    if mounted {
        // Every block the tmpfs has left goes to the filler.
        use std::io::Write;
        let mut out = std::fs::File::create(&filler).unwrap();
        while out.write_all(&[0u8; 4096]).is_ok() {}
        let _ = out.sync_all();
    }
    let before = std::fs::read(&file).unwrap();
    let out = pelican(&["migrate"], true);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("database or disk is full") || out.stderr.contains("disk I/O error"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("2024-01-02-000000_big"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let _ = std::fs::remove_file(&filler);
    // The file is as it was: same bytes, sound, the first migration alone recorded.
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let mut conn = AnyConnection::establish(&url).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let check: Vec<Check> = conn.load_with("PRAGMA integrity_check", &[]).unwrap();
    assert_eq!(check[0].integrity_check, "ok");
    drop(conn);
    // With room again, the next run finishes the job.
    pelican(&["migrate"], false).success();
    let out = pelican(&["--format", "json", "current"], false)
        .success()
        .json();
    assert_eq!(out["current"], "20240102000000");
}

backend_tests! {
    // An application hands its own connection to the migrator and goes on using it:
    // whatever a run changes of the session (MySQL's autocommit, turned off so that the
    // ledger's writes commit together) is set back, after a failure too, and what the
    // run wrote, the failed step's journal entry included, is committed.
    fn the_connection_is_handed_back_as_it_was(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_ok", "CREATE TABLE ok_table (id INTEGER);\nINSERT INTO ok_table VALUES (1);", "DROP TABLE ok_table;"),
            ("2024-01-02-000000_broken", "CREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);", "DROP TABLE b;"),
        ]);
        let migrations = pelican::Migrations::from_dir(&dir).unwrap();
        let mut conn = db.connect();
        pelican::Migrator::new(&migrations)
            .migrate(&mut conn, &pelican::Target::Version("20240101000000".into()))
            .unwrap();
        pelican::Migrator::new(&migrations)
            .migrate(&mut conn, &pelican::Target::Head)
            .unwrap_err();
        assert!(!conn.in_transaction().unwrap());
        if db.backend == Backend::Mysql {
            let mut autocommit: Vec<Value> = conn.load_with("SELECT CAST(@@autocommit + 0 AS CHAR) AS value", &[]).unwrap();
            assert_eq!(autocommit.pop().unwrap().value, "1");
        }
        // Seen from another session: committed.
        assert_eq!(db.applied(), [FIRST]);
        assert_eq!(journaled(&db, FIRST, "applied"), 1);
        assert_eq!(journaled(&db, "20240102000000", "failed"), 1);
        // The application's own writes commit as they did before the run.
        conn.batch_execute("INSERT INTO ok_table VALUES (2)").unwrap();
        assert_eq!(db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM ok_table"), ["2"]);
    }
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// A disk that fills up when the run commits, not before: every statement fits in
/// SQLite's page cache, and the pages a new table takes are written at `COMMIT`. A
/// file-size limit (`ulimit -f`) a few pages above the file's size stands for the disk.
/// The commit failing is what is reported (the whole run rolled back), not the lock.
#[cfg(all(feature = "sqlite", unix))]
#[test]
fn a_full_disk_at_commit_is_reported_as_the_commit_failing() {
    let db = TestDb::new(Backend::Sqlite, "full_disk_at_commit");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_first", "CREATE TABLE first_t (id INTEGER);", ""),
            (
                "2024-01-02-000000_big",
                "CREATE TABLE big (t TEXT);\n\
                 INSERT INTO big SELECT hex(randomblob(500)) FROM \
                 (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT x FROM c);",
                "DROP TABLE big;",
            ),
        ],
    );
    let file = Path::new(&db.url);
    db.pelican(&dir, &["migrate", "+1"]).success();
    let before = std::fs::read(file).unwrap();
    let blocks = before.len() / 512 + 24;
    let mut command = std::process::Command::new("sh");
    command.args([
        "-c",
        &format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""),
    ]);
    command.arg(env!("CARGO_BIN_EXE_pelican"));
    let out = Output::from(
        db.wrapped(command, &db.url, &dir, &["migrate"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("error: the run could not be committed: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("database or disk is full") || out.stderr.contains("disk I/O error"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("could not be released"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // Nothing of the run was kept: the file as it was, sound.
    assert_eq!(std::fs::read(file).unwrap(), before);
    let mut conn = AnyConnection::establish(&db.url).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let check: Vec<Check> = conn.load_with("PRAGMA integrity_check", &[]).unwrap();
    assert_eq!(check[0].integrity_check, "ok");
    drop(conn);
    assert_eq!(db.applied(), [FIRST]);
    db.pelican(&dir, &["migrate"]).success();
    assert_eq!(db.applied(), [FIRST, "20240102000000"]);
}

/// A DBA's objects in a database without tables (so a fresh one to pelican): on
/// PostgreSQL a function, an enum type and a sequence; on MariaDB a procedure, a
/// function and an event. Returns how to list them.
fn foreign_objects(db: &TestDb) -> &'static str {
    match db.backend {
        Backend::Postgres => {
            db.execute("CREATE FUNCTION dba_fn() RETURNS integer AS $$ SELECT 1 $$ LANGUAGE sql");
            db.execute("CREATE TYPE dba_mood AS ENUM ('ok')");
            db.execute("CREATE SEQUENCE dba_seq");
            "SELECT name AS value FROM (SELECT proname::text AS name FROM pg_proc WHERE proname = 'dba_fn' \
             UNION ALL SELECT typname::text FROM pg_type WHERE typname = 'dba_mood' \
             UNION ALL SELECT relname::text FROM pg_class WHERE relname = 'dba_seq') o ORDER BY 1"
        }
        _ => {
            db.execute("CREATE PROCEDURE dba_proc() BEGIN SELECT 1; END");
            db.execute("CREATE FUNCTION dba_fn() RETURNS INT DETERMINISTIC RETURN 1");
            db.execute("CREATE EVENT dba_event ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1");
            "SELECT CAST(name AS CHAR) AS value FROM (SELECT routine_name AS name FROM information_schema.routines WHERE routine_schema = DATABASE() \
             UNION ALL SELECT event_name FROM information_schema.events WHERE event_schema = DATABASE()) o ORDER BY 1"
        }
    }
}

/// Three migrations for a fresh build, `extra` in the one at `at` (0, 1 or 2); with
/// `outside`, the last runs outside a transaction, so the build cannot be one batch
/// (and on PostgreSQL, not one transaction).
fn build_with(db: &TestDb, at: usize, extra: &str, outside: bool) -> std::path::PathBuf {
    let part = |index: usize| if index == at { extra } else { "SELECT 1" };
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_first",
                &format!("{};\nCREATE TABLE first_t (id INTEGER);", part(0)),
                "",
            ),
            (
                "2024-01-02-000000_middle",
                &format!(
                    "CREATE TABLE half_t (id INTEGER);\n{};\nCREATE TABLE after_t (id INTEGER);",
                    part(1)
                ),
                "",
            ),
            (
                "2024-01-03-000000_last",
                &format!("{};\nCREATE INDEX ix_first ON first_t (id);", part(2)),
                "",
            ),
        ],
    );
    let metadata = dir.join("2024-01-03-000000_last/metadata.toml");
    if outside {
        std::fs::write(&metadata, "run_in_transaction = false\n").unwrap();
    } else {
        let _ = std::fs::remove_file(&metadata);
    }
    dir
}

/// Only the DBA's objects: nothing of pelican's, nothing the build made.
#[track_caller]
fn only_the_dbas(db: &TestDb, list: &str, before: &[String]) {
    assert_eq!(db.query_strings(list), before, "the DBA's objects changed");
    assert_eq!(db.tables(), Vec::<String>::new(), "the build left tables");
}

server_tests! {
    fn a_failed_first_build_drops_only_what_it_made(db: TestDb) {
        let list = foreign_objects(&db);
        let before = db.query_strings(list);
        assert_eq!(before.len(), 3);
        for outside in [true, false] {
            let dir = build_with(&db, 1, "INSERT INTO missing_t (id) VALUES (1)", outside);
            let out = db.pelican(&dir, &["init"]);
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr.contains("what the database held before it was kept")
                    || (db.backend == Backend::Postgres && !outside),
                "{}",
                out.stderr
            );
            only_the_dbas(&db, list, &before);
        }
    }

    fn a_first_build_killed_at_any_point_is_undone_by_the_next_boot(db: TestDb) {
        let list = foreign_objects(&db);
        let before = db.query_strings(list);
        for outside in [true, false] {
            for at in 0..3 {
                let dir = build_with(&db, at, &slow_statement(&db), outside);
                let mut child = Running::start(&mut db.command(&dir, &["init"]));
                wait_for_the_slow_statement(&db, &mut child).unwrap();
                child.child().kill().unwrap();
                let _ = child.child().wait();
                let atomic = db.backend == Backend::Postgres && !outside;
                // A build that is not one transaction left its record behind.
                assert_eq!(
                    db.tables().contains(&"__pelican_build".to_owned()),
                    !atomic,
                    "at {at}, outside {outside}: {:?}",
                    db.tables()
                );
                // The next boot undoes it, and builds the database.
                let dir = build_with(&db, at, "SELECT 1", outside);
                db.pelican(&dir, &["--lock-timeout", "8", "init"]).success();
                assert_eq!(db.query_strings(list), before, "the DBA's objects changed");
                let tables: Vec<String> = db.tables().into_iter().filter(|t| !t.starts_with("__")).collect();
                assert_eq!(tables, ["after_t", "first_t", "half_t"], "at {at}, outside {outside}");
                assert!(!db.tables().contains(&"__pelican_build".to_owned()));
                assert_eq!(db.applied().len(), 3);
                // Empty again for the next point, the DBA's objects kept.
                db.execute("DROP TABLE IF EXISTS after_t, half_t, first_t, __diesel_schema_migrations, __pelican_checksums, __pelican_journal, __pelican_progress");
                only_the_dbas(&db, list, &before);
            }
        }
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_step_outside_a_transaction_keeps_other_writers_out_while_it_runs() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_gap");
    let dir = three_with_a_slow_one(&db);
    std::fs::write(
        dir.join("2024-01-02-000000_slow/metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    let mut child = Running::start(&mut db.command(&dir, &["migrate"]));
    wait_for_the_slow_statement(&db, &mut child);
    // The run committed what came before the step and runs it in autocommit, yet no
    // one else can take the write lock until it is done.
    let mut other = db.connect();
    let mut refused = 0;
    while child.child().try_wait().unwrap().is_none() {
        if pelican::lock::with(&mut other, Duration::ZERO, |_| Ok(())).is_err() {
            refused += 1;
        } else {
            // Free only once the run is done: it ends moments after it lets go.
            std::thread::sleep(Duration::from_millis(500));
            assert!(
                child.child().try_wait().unwrap().is_some(),
                "another writer got in while the run held the database"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(refused > 0);
    child.output().success();
    assert_eq!(db.applied(), [FIRST, SLOW, LAST]);
}

/// Starts `init` of the three migrations of [`build_with`] (the last outside a
/// transaction, so that the build is not one on either server) and kills it in the slow
/// statement of the middle one; returns the tables it left, its record aside.
fn kill_a_build(db: &TestDb) -> Vec<String> {
    let dir = build_with(db, 1, &slow_statement(db), true);
    if db.backend == Backend::Postgres {
        // An atomic build joins the first two migrations in one transaction, which the
        // kill would roll back whole: a setting of the first's own makes it commit on
        // its own (as diesel commits each), so that the killed build has made a table.
        let first = dir.join("2024-01-01-000000_first/up.sql");
        let sql = std::fs::read_to_string(&first).unwrap();
        std::fs::write(&first, format!("SET LOCAL lock_timeout = '10s';\n{sql}")).unwrap();
    }
    let mut child = Running::start(&mut db.command(&dir, &["init"]));
    wait_for_the_slow_statement(db, &mut child).unwrap();
    child.child().kill().unwrap();
    let _ = child.child().wait();
    let tables = db.tables();
    assert!(tables.contains(&"__pelican_build".to_owned()), "{tables:?}");
    tables
        .into_iter()
        .filter(|t| t != "__pelican_build")
        .collect()
}

server_tests! {
    fn the_recovery_of_a_killed_build_drops_only_what_its_statements_made(db: TestDb) {
        let left = kill_a_build(&db);
        assert!(left.contains(&"first_t".to_owned()), "{left:?}");
        // A DBA then makes a table with rows, and a procedure.
        let (dba, procedures) = match db.backend {
            Backend::Postgres => (
                "CREATE TABLE dba_notes (id INTEGER); INSERT INTO dba_notes VALUES (1), (2); \
                 CREATE PROCEDURE dba_tidy() LANGUAGE sql AS $$ SELECT 1 $$",
                "SELECT CAST(proname AS TEXT) AS value FROM pg_proc WHERE proname LIKE 'dba%' ORDER BY 1",
            ),
            _ => (
                "CREATE TABLE dba_notes (id INTEGER); INSERT INTO dba_notes VALUES (1), (2); \
                 CREATE PROCEDURE dba_tidy() BEGIN SELECT 1; END",
                "SELECT CAST(routine_name AS CHAR) AS value FROM information_schema.routines \
                 WHERE routine_schema = DATABASE() ORDER BY 1",
            ),
        };
        db.execute(dba);
        // And a table of the name a later migration of the build, which had not begun,
        // would have made: no statement of the build made it.
        db.execute("CREATE TABLE last_t (id INTEGER); INSERT INTO last_t VALUES (3)");
        // The next boot undoes the build, and only the build: the DBA's table, its rows
        // and the procedure stay. With a table of the DBA's, the database is no longer
        // fresh: the boot is refused, and says what the undo dropped, exactly.
        let dir = build_with(&db, 1, "SELECT 1", true);
        let out = db.pelican(&dir, &["--lock-timeout", "8", "boot"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("has tables but no migrations table") || out.stderr.contains("dba_notes"), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "(before that, the fresh build an earlier run left unfinished was undone: {} object(s) it made were dropped: ",
                left.len()
            )),
            "{}",
            out.stderr
        );
        let dropped = out.stderr.split("were dropped: ").nth(1).unwrap();
        for table in &left {
            assert!(dropped.contains(table.as_str()), "{table} not listed: {}", out.stderr);
        }
        assert!(!dropped.contains("dba_"), "{}", out.stderr);
        assert!(!dropped.contains("last_t"), "{}", out.stderr);
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR(8)) AS value FROM dba_notes ORDER BY id"), ["1", "2"]);
        assert_eq!(db.query_strings(procedures), ["dba_tidy"]);
        assert_eq!(db.tables(), ["dba_notes", "last_t"]);
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR(8)) AS value FROM last_t"), ["3"]);

        // Where the DBA made only a procedure, the database is still fresh: init undoes
        // the killed build, builds, and its report lists what the undo dropped.
        db.execute("DROP TABLE dba_notes, last_t");
        let left = kill_a_build(&db);
        let other = match db.backend {
            Backend::Postgres => "CREATE PROCEDURE dba_other() LANGUAGE sql AS $$ SELECT 1 $$",
            _ => "CREATE PROCEDURE dba_other() BEGIN SELECT 1; END",
        };
        db.execute(other);
        let json = db.pelican(&dir, &["--format", "json", "--lock-timeout", "8", "init"]).success().json();
        let recovered: Vec<String> = json["recovered"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_owned()).collect();
        assert_eq!(recovered.len(), left.len(), "{recovered:?} for {left:?}");
        for table in &left {
            assert!(recovered.iter().any(|o| o.starts_with("TABLE ") && o.contains(table.as_str())), "{table}: {recovered:?}");
        }
        assert_eq!(db.query_strings(procedures), ["dba_other", "dba_tidy"]);
        assert_eq!(db.applied().len(), 3);
    }
}

/// A fresh SQLite build killed (SIGKILL) in a slow statement of any of its three
/// migrations, the last of them in a transaction or outside one: the next `init`
/// recovers it exactly, to the schema and ledger a build that was never cut short
/// gives, and the file's integrity holds.
#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_first_build_killed_at_any_point_is_recovered_exactly_by_the_next_init() {
    use pelican::catalog::Schema;
    let reference = TestDb::new(Backend::Sqlite, "sqlite_build_reference");
    let dir = build_with(&reference, 0, "SELECT 1", true);
    reference.pelican(&dir, &["init"]).success();
    let expected = Schema::introspect(&mut reference.connect()).unwrap();
    for outside in [true, false] {
        for at in 0..3 {
            let db = TestDb::new(Backend::Sqlite, "sqlite_build_killed");
            let dir = build_with(&db, at, &slow_statement(&db), outside);
            let mut child = Running::start(&mut db.command(&dir, &["init"]));
            wait_for_the_slow_statement(&db, &mut child);
            child.child().kill().unwrap();
            let _ = child.child().wait();
            let left = db.tables();
            // What a killed build leaves: nothing (the build is one transaction), or,
            // killed in the step outside a transaction, what committed before it and
            // the build's record, which the next init undoes.
            let expected_left: &[&str] = if outside && at == 2 {
                &[
                    "__diesel_schema_migrations",
                    "__pelican_build",
                    "__pelican_checksums",
                    "__pelican_journal",
                    "after_t",
                    "first_t",
                    "half_t",
                ]
            } else {
                &[]
            };
            assert_eq!(left, expected_left, "at {at}, outside {outside}");
            let dir = build_with(&db, at, "SELECT 1", outside);
            db.pelican(&dir, &["--lock-timeout", "8", "init"]).success();
            let mut conn = db.connect();
            assert_eq!(
                Schema::introspect(&mut conn).unwrap(),
                expected,
                "at {at}, outside {outside}"
            );
            #[derive(diesel::QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let check: Vec<Check> = conn.load_with("PRAGMA integrity_check", &[]).unwrap();
            assert_eq!(check[0].integrity_check, "ok");
            drop(conn);
            assert!(!db.tables().contains(&"__pelican_build".to_owned()));
            assert_eq!(
                db.applied(),
                [FIRST, SLOW, LAST],
                "at {at}, outside {outside}"
            );
        }
    }
}
