//! A small application that boots with pelican: a learning platform whose own clap CLI
//! mounts pelican's commands under `database`, with its migrations embedded in the
//! binary and a seed hook that creates its first administrator.
//!
//! ```sh
//! cargo run --example lms -- database init       # create the database, build it at head, seed it
//! cargo run --example lms -- database current
//! cargo run --example lms -- database migrate
//! AUTO_MIGRATE=1 cargo run --example lms -- serve  # boot, and print what boot did
//! ```
//!
//! The database is `DATABASE_URL`, from the environment or `.env` (the repository's
//! names `pelican-example.db`, a SQLite file).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use pelican::{AnyConnection, Boot, Migrations};

/// The application's migrations, in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The schema at head for each backend (`pelican snapshot` writes them beside the
/// migrations, where `embed_migrations!` ignores them): a fresh database is built from
/// the one for its backend instead of replaying every migration.
const SNAPSHOTS: [&str; 3] = [
    include_str!("../migrations/schema.sqlite.sql"),
    include_str!("../migrations/schema.postgres.sql"),
    include_str!("../migrations/schema.mysql.sql"),
];

/// A learning platform (pelican's example application).
#[derive(Parser)]
#[command(name = "lms", max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The database: init, boot, migrate, downgrade, current, history, pending, reset, …
    Database(pelican::cli::DatabaseCommand),

    /// Start the application: boot the database (upgrading it when AUTO_MIGRATE is on),
    /// then print what boot did instead of serving.
    Serve {
        /// Wait up to SECONDS for the database to answer.
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        wait: u64,
    },
}

/// The data every fresh database starts with: the first administrator. Runs once, when
/// the database is built, in the same transaction as the schema where the backend
/// allows.
fn seed(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@lms.example', 'Administrador')",
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let migrations = match Migrations::from_embedded(&MIGRATIONS) {
        Ok(migrations) => migrations,
        Err(error) => return fail(&error),
    };
    match cli.command {
        Command::Database(database) => SNAPSHOTS
            .iter()
            .fold(database, |database, snapshot| {
                database.with_snapshot(*snapshot)
            })
            .run(&migrations, seed),
        Command::Serve { wait } => match serve(&migrations, Duration::from_secs(wait)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        },
    }
}

fn serve(migrations: &Migrations, wait: Duration) -> pelican::Result<()> {
    pelican::cli::load_dotenv()?;
    let url = pelican::config::database_url(None)?;
    let mut conn = pelican::connect_with_retry(&url, wait)?;
    let boot = SNAPSHOTS
        .iter()
        .fold(Boot::new(migrations), |boot, snapshot| {
            boot.snapshot(*snapshot)
        });
    let report = boot
        .auto_migrate(pelican::env_flag("AUTO_MIGRATE")?)
        .initial_setup(seed)
        .run(&mut conn)?;
    if !report.pending.is_empty() {
        eprintln!(
            "warning: {} migration(s) pending; AUTO_MIGRATE is off",
            report.pending.len()
        );
    }
    // A real application would start serving here, with the database as boot left it.
    match serde_json::to_string_pretty(&report) {
        Ok(json) => println!("{json}"),
        Err(error) => eprintln!("error: {error}"),
    }
    Ok(())
}

fn fail(error: &pelican::Error) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
