//! The command group an application mounts in its own clap CLI (`myapp database …`),
//! with its embedded migrations and its seed hook.
//!
//! One test, alone in its process: the group loads `.env` into the environment, which
//! must not race other tests' connections reading it.

mod common;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::TestDb;
use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use pelican::cli::DatabaseCommand;
use pelican::{AnyConnection, Backend, Migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An application's own CLI.
#[derive(Parser)]
struct App {
    #[command(subcommand)]
    command: AppCommand,
}

#[derive(Subcommand)]
enum AppCommand {
    /// pelican's commands.
    Database(DatabaseCommand),
    /// The application's own.
    Serve,
}

fn database(args: &[&str]) -> DatabaseCommand {
    let args = ["app", "database"].iter().chain(args);
    match App::try_parse_from(args).unwrap().command {
        AppCommand::Database(command) => command,
        AppCommand::Serve => unreachable!(),
    }
}

fn seed(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@example.com', 'Admin')",
    )
}

fn an_application_mounts_the_command_group(backend: Backend) {
    let db = TestDb::new(backend, "mounted_group");
    let migrations = Migrations::from_embedded(&MIGRATIONS).unwrap();
    database(&["--database-url", &db.url, "-q", "init"])
        .try_run(&migrations, seed)
        .unwrap();
    assert_eq!(db.applied().len(), 12);
    let admins = || db.query_strings("SELECT email AS value FROM usuario");
    assert_eq!(admins(), ["admin@example.com"]);

    // Options after the subcommand too; a managed database is left as it is.
    database(&["init", "--database-url", &db.url])
        .try_run(&migrations, seed)
        .unwrap();
    assert_eq!(admins().len(), 1);

    // The application's own URL, and the usual commands.
    for command in ["current", "history", "pending", "boot"] {
        database(&["--format", "json", command])
            .with_database_url(&db.url)
            .try_run(&migrations, seed)
            .unwrap();
    }

    // Usage errors are exit code 2, failures 1, as for `pelican`.
    let reset = database(&["--database-url", &db.url, "reset"]).run(&migrations, seed);
    assert_eq!(reset, ExitCode::from(2));
    let newer = Migrations::new(migrations.iter().take(3).cloned().collect()).unwrap();
    let refused = database(&["--database-url", &db.url, "migrate"]).run(&newer, seed);
    assert_eq!(refused, ExitCode::from(1));

    database(&["--database-url", &db.url, "reset", "--yes"])
        .try_run(&migrations, seed)
        .unwrap();
    assert_eq!(admins().len(), 1);
}

#[test]
fn an_application_mounts_the_command_group_on_each_backend() {
    #[cfg(feature = "sqlite")]
    an_application_mounts_the_command_group(Backend::Sqlite);
    #[cfg(feature = "postgres")]
    an_application_mounts_the_command_group(Backend::Postgres);
    #[cfg(feature = "mysql")]
    an_application_mounts_the_command_group(Backend::Mysql);
}
