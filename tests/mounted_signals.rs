//! SIGINT during a command of the group an application mounts (`myapp database
//! migrate`): the run stops between two migrations, as `pelican`'s does, then the
//! application's own handler is back and gets the signal.
//!
//! One test, alone in its process: it sends SIGINT to the process itself.
#![cfg(all(unix, feature = "postgres"))]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use common::{write_migrations, TestDb};
use pelican::cli::DatabaseCommand;
use pelican::{AnyConnection, Backend, Error, Migrations};

#[derive(Parser)]
struct App {
    #[command(subcommand)]
    command: AppCommand,
}

#[derive(Subcommand)]
enum AppCommand {
    Database(DatabaseCommand),
}

/// How many SIGINTs the application's own handler got.
static APP_GOT: AtomicUsize = AtomicUsize::new(0);

extern "C" fn app_handler(_: libc::c_int) {
    APP_GOT.fetch_add(1, Ordering::SeqCst);
}

fn no_seed(_: &mut AnyConnection) -> diesel::QueryResult<()> {
    Ok(())
}

#[test]
fn sigint_stops_a_mounted_migrate_between_migrations_then_reaches_the_application() {
    // SAFETY: a handler that only touches an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            app_handler as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    let db = TestDb::new(Backend::Postgres, "mounted_sigint");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_a",
                "CREATE TABLE a (id INTEGER);\nSELECT pg_sleep(3);",
                "DROP TABLE a;",
            ),
            (
                "2024-01-02-000000_b",
                "CREATE TABLE b (id INTEGER);",
                "DROP TABLE b;",
            ),
        ],
    );
    let migrations = Migrations::from_dir(&dir).unwrap();
    let args = [
        "app",
        "database",
        "--database-url",
        &db.url,
        "-q",
        "migrate",
        "--no-atomic",
    ];
    let AppCommand::Database(command) = App::try_parse_from(args).unwrap().command;
    let run = std::thread::spawn(move || command.try_run(&migrations, no_seed));

    // Once the first migration sleeps on the server, Ctrl-C.
    let started = Instant::now();
    let sleeping = "SELECT CAST(count(*) AS TEXT) AS value FROM pg_stat_activity \
                    WHERE query LIKE '%pg_sleep(3)%' AND state = 'active' AND pid <> pg_backend_pid()";
    while db.query_strings(sleeping) != ["1"] {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the migration never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to this process, whose handlers are set.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGINT);
    }
    let result = run.join().unwrap();

    // The migration under way finished and is recorded; the next did not run.
    match &result {
        Err(error) => assert!(
            matches!(error.cause(), Error::Interrupted { next } if next == "2024-01-02-000000_b"),
            "{error}"
        ),
        Ok(()) => panic!("the run was not interrupted"),
    }
    assert_eq!(db.applied(), ["20240101000000"]);
    // The application's handler is back, and got the signal once the command was over.
    assert_eq!(APP_GOT.load(Ordering::SeqCst), 1);
    // SAFETY: as above.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGINT);
    }
    let waited = Instant::now();
    while APP_GOT.load(Ordering::SeqCst) < 2 && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(APP_GOT.load(Ordering::SeqCst), 2);
    // And the next run goes on: the stop was for that run only.
    let args = [
        "app",
        "database",
        "--database-url",
        &db.url,
        "-q",
        "migrate",
    ];
    let AppCommand::Database(command) = App::try_parse_from(args).unwrap().command;
    command
        .try_run(&Migrations::from_dir(&dir).unwrap(), no_seed)
        .unwrap();
    assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
}
