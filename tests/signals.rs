//! Signals and output failures during a run: SIGINT and SIGTERM stop it between two
//! migrations, a closed stdout (`| head -c1`) or a full disk behind stdout or stderr
//! neither kills it nor stops it half-way, and in every case the ledger holds exactly
//! the migrations reported applied. Exit codes as `docs/failures.md` lists them.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{write_migrations, Output, TestDb};
use pelican::Backend;

/// A statement that keeps the server busy for a while (seconds on the servers; a
/// recursive query of a few million rows on SQLite), long enough for the test to act
/// while it runs: the assertions never depend on how long it took.
fn slow(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "SELECT pg_sleep(3);",
        Backend::Mysql => "DO SLEEP(3);",
        _ => {
            "CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
             WHERE x < 4000000) SELECT x FROM c;"
        }
    }
}

/// Three migrations; the one at `slow_at` (0, 1 or 2) takes a while.
fn migrations(db: &TestDb, slow_at: usize) -> std::path::PathBuf {
    let statement = |i: usize, table: &str| {
        let create = format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);");
        if i == slow_at {
            format!("{create}\n{}\n", slow(db.backend))
        } else {
            create
        }
    };
    let ups: Vec<String> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, t)| statement(i, t))
        .collect();
    write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", &ups[0], "DROP TABLE a;"),
            ("2024-01-02-000000_b", &ups[1], "DROP TABLE b;"),
            ("2024-01-03-000000_c", &ups[2], "DROP TABLE c;"),
        ],
    )
}

/// The versions the text output reported applied, as the ledger writes them.
fn reported(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("Applied "))
        .filter_map(|rest| rest.split('_').next())
        .map(|version| version.replace('-', ""))
        .collect()
}

/// Starts `pelican migrate`, waits until the first migration is under way (its line on
/// stderr), sends `signal`, and returns what it printed.
fn interrupt_first(db: &TestDb, signal: libc::c_int) -> Output {
    interrupt_first_times(db, signal, 1)
}

/// `migrate` committing each migration, as diesel does: the unit a signal lets finish
/// is one migration. (An atomic run's unit is its transaction: see
/// `sigint_rolls_an_atomic_run_back_whole`.)
const MIGRATE_EACH: &[&str] = &["migrate", "--no-atomic"];

/// [`interrupt_first`], the signal sent `times` times, each once pelican said it got the
/// one before.
fn interrupt_first_times(db: &TestDb, signal: libc::c_int, times: usize) -> Output {
    interrupt_first_with(db, signal, times, MIGRATE_EACH)
}

/// [`interrupt_first_times`] with the command's own arguments.
fn interrupt_first_with(db: &TestDb, signal: libc::c_int, times: usize, args: &[&str]) -> Output {
    let dir = migrations(db, 0);
    let mut child = db
        .command(&dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Applying 2024-01-01-000000_a") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    for sent in 0..times {
        if sent > 0 {
            while !seen.contains("pelican: stopping after the migration under way") {
                let mut line = String::new();
                assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
                seen.push_str(&line);
            }
        }
        // SAFETY: a signal to the child this test started, by its id.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
    }
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: seen + &rest,
    }
}

backend_tests! {
    fn sigint_stops_the_run_after_the_migration_under_way(db: TestDb) {
        let out = interrupt_first(&db, libc::SIGINT);
        assert_eq!(out.code, 130, "{out:?}");
        assert!(out.stderr.contains("error: interrupted: the run stopped before 2024-01-02-000000_b"), "{out:?}");
        // The migration under way finished and was recorded; nothing after it ran.
        assert_eq!(reported(&out.stdout), ["20240101000000"], "{out:?}");
        assert_eq!(db.applied(), reported(&out.stdout));
        assert!(!db.tables().contains(&"b".to_owned()));
    }

    fn sigint_rolls_an_atomic_run_back_whole(db: TestDb) {
        let out = interrupt_first_with(&db, libc::SIGINT, 1, &["migrate"]);
        assert_eq!(out.code, 130, "{out:?}");
        assert!(out.stderr.contains("error: interrupted: the run stopped before 2024-01-02-000000_b"), "{out:?}");
        if db.backend == Backend::Mysql {
            // No atomic runs where DDL commits itself: the migration under way finished.
            assert_eq!(reported(&out.stdout), ["20240101000000"], "{out:?}");
        } else {
            // The run's transaction is the unit: rolled back whole, nothing reported
            // applied, and the error says what the rollback undid.
            assert!(out.stderr.contains("rolled back, undoing the 1 migration(s) it had run before this one: 2024-01-01-000000_a"), "{out:?}");
            assert_eq!(reported(&out.stdout), Vec::<String>::new(), "{out:?}");
            assert!(!db.tables().contains(&"a".to_owned()));
            // The ledger the run's first migration created went with it, or is empty.
            if !db.tables().contains(&"__diesel_schema_migrations".to_owned()) {
                return;
            }
        }
        assert_eq!(db.applied(), reported(&out.stdout));
    }

    fn a_second_sigint_does_not_end_the_run_inside_a_migration(db: TestDb) {
        let out = interrupt_first_times(&db, libc::SIGINT, 2);
        assert_eq!(out.code, 130, "{out:?}");
        assert!(out.stderr.contains("pelican: still finishing the migration under way"), "{out:?}");
        assert_eq!(reported(&out.stdout), ["20240101000000"], "{out:?}");
        assert_eq!(db.applied(), reported(&out.stdout));
    }

    fn sigterm_stops_the_run_after_the_migration_under_way(db: TestDb) {
        let out = interrupt_first(&db, libc::SIGTERM);
        assert_eq!(out.code, 143, "{out:?}");
        assert!(out.stderr.contains("interrupted"), "{out:?}");
        assert_eq!(db.applied(), reported(&out.stdout));
        assert_eq!(db.applied(), ["20240101000000"]);
    }

    fn sigint_in_json_gives_the_document_of_what_was_done(db: TestDb) {
        let dir = migrations(&db, 0);
        let mut child = db
            .command(&dir, &["--format", "json", "migrate", "--no-atomic"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("Applying 2024-01-01-000000_a") {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0);
        }
        // SAFETY: a signal to the child this test started, by its id.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(130));
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(doc["error"]["kind"], "interrupted");
        assert_eq!(doc["steps"].as_array().unwrap().len(), 1, "{doc}");
        assert_eq!(doc["current"], "20240101000000");
        assert_eq!(db.applied(), ["20240101000000"]);
    }

    fn a_reader_closing_stdout_early_does_not_stop_the_run(db: TestDb) {
        // The first line comes at once; the second only after a slow migration, when
        // the reader (`| head -c1`) has gone. Each migration committing on its own: an
        // atomic run reports them all at its commit, a few milliseconds apart, and a
        // loaded machine may not let the reader go in between.
        let dir = migrations(&db, 1);
        let mut child = db
            .command(&dir, MIGRATE_EACH)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(141), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("stdout could not be written (its reader closed it): the command went on to its end"), "{stderr}");
        // It went on to its end: everything is applied and recorded.
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
    }

    fn a_full_disk_behind_stderr_or_stdout_does_not_stop_the_run(db: TestDb) {
        let dir = migrations(&db, 3);
        let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Output::from(
            db.command(&dir, &["migrate"]).stderr(full()).output().unwrap(),
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(reported(&out.stdout).len(), 3, "{out:?}");
        assert_eq!(db.applied(), reported(&out.stdout));

        let out = Output::from(
            db.command(&dir, &["downgrade", "base"]).stdout(full()).output().unwrap(),
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        assert!(out.stderr.contains("stdout could not be written (a write failed)"), "{out:?}");
        assert!(db.applied().is_empty());
    }
}

backend_tests! {
    fn a_run_waiting_for_the_lock_says_so(db: TestDb) {
        let dir = migrations(&db, 3);
        let mut holder = db.connect();
        pelican::lock::with(&mut holder, std::time::Duration::ZERO, |_| {
            let mut child = db
                .command(&dir, &["--lock-timeout", "60", "migrate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stderr = BufReader::new(child.stderr.take().unwrap());
            let mut line = String::new();
            // It waits, and says what for, while this connection holds the lock.
            while !line.starts_with("waiting for the migration lock (") {
                line.clear();
                assert!(stderr.read_line(&mut line).unwrap() > 0, "no word of the wait");
            }
            assert!(line.contains("another run is migrating this database"), "{line}");
            Ok(child)
        })
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert_eq!(output.status.code(), Some(0));
            assert_eq!(reported(&String::from_utf8_lossy(&output.stdout)).len(), 3);
        })
        .unwrap();
    }
}

/// pelican run on a terminal (`script` gives it one), with `TERM` set to `term`: all it
/// wrote there, stdout and stderr together.
fn on_a_terminal(db: &TestDb, dir: &std::path::Path, term: &str) -> Option<String> {
    let script = std::path::Path::new("/usr/bin/script");
    if !script.is_file() {
        return None;
    }
    let line = format!(
        "'{}' --database-url '{}' --migration-dir '{}' migrate",
        env!("CARGO_BIN_EXE_pelican"),
        db.url,
        dir.display()
    );
    let output = std::process::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .current_dir(db.dir())
        .env("TERM", term)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        // anstream colours a terminal whatever TERM says when CI is set, as CI's own
        // runner does.
        .env_remove("CI")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

backend_tests! {
    fn term_dumb_gets_plain_lines_not_an_animated_bar(db: TestDb) {
        let dir = migrations(&db, 3);
        let Some(text) = on_a_terminal(&db, &dir, "dumb") else {
            return;
        };
        // The terminal turns each newline into \r\n; any other \r, or an escape
        // sequence, is the bar redrawing its line (or a colour TERM=dumb cannot show).
        let bare = text.replace("\r\n", "\n");
        assert!(!bare.contains(['\r', '\x1b']), "{text:?}");
        assert!(bare.contains("[1/3] Applying 2024-01-01-000000_a\n"), "{text:?}");
        assert!(bare.contains("Applied 2024-01-03-000000_c ("), "{text:?}");
        assert_eq!(db.applied().len(), 3);
    }
}
