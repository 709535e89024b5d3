//! [`DatabaseCommand`]: pelican's commands as a group an application mounts in its own
//! clap CLI, run with its embedded migrations and its initial setup hook.

use std::process::ExitCode;

use super::commands::Command;
use super::context::{execute, Hook, Snapshots};
use super::{finish, load_dotenv, signals, Options, Outcome};
use crate::BoxError;
use crate::{config, AnyConnection, Migrations, Result};

/// pelican's commands as a group an application mounts in its own clap CLI, run with
/// the application's embedded migrations and its initial setup (seed) hook:
///
/// ```no_run
/// use clap::{Parser, Subcommand};
/// use diesel::connection::SimpleConnection;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: Command,
/// }
///
/// #[derive(Subcommand)]
/// enum Command {
///     /// The database: init, migrate, current, history, …
///     Database(pelican::cli::DatabaseCommand),
///     /// Serve the application.
///     Serve,
/// }
///
/// fn main() -> std::process::ExitCode {
///     let migrations = pelican::Migrations::from_dir("migrations").expect("migrations");
///     match Cli::parse().command {
///         Command::Database(database) => database.run(&migrations, |conn| {
///             conn.batch_execute("INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@example.com', 'Admin')")
///         }),
///         Command::Serve => std::process::ExitCode::SUCCESS,
///     }
/// }
/// ```
///
/// `myapp database init`, `myapp database migrate`, `myapp database --format json
/// current`… then behave as `pelican`'s, the hook running when `init`, `boot` or
/// `reset` builds a fresh database. `generate` writes into the migrations folder found
/// as diesel CLI finds it (`MIGRATION_DIRECTORY`, `diesel.toml`, `migrations/`).
#[derive(Debug, clap::Args)]
pub struct DatabaseCommand {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) options: Options,

    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,

    /// Snapshots the application embeds (see [`DatabaseCommand::with_snapshot`]).
    #[arg(skip)]
    snapshots: Vec<String>,
}

impl DatabaseCommand {
    /// A schema snapshot the application embeds (`include_str!` of a
    /// `schema.<backend>.sql` that `pelican snapshot` wrote), for `init`, `boot` and
    /// `reset` to build a fresh database from, and for `check` to verify. One per
    /// backend may be given; the database's is used. During development, the
    /// snapshots in the migrations folder (found as diesel CLI finds it) count too.
    pub fn with_snapshot(mut self, text: impl Into<String>) -> Self {
        self.snapshots.push(text.into());
        self
    }

    /// Uses `url` unless `--database-url` was given (instead of `DATABASE_URL`), for an
    /// application that knows its database from its own configuration.
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        if self.options.database_url.is_empty() {
            self.options.database_url = vec![url.into()];
        }
        self
    }

    /// Runs the command, prints its result (text or JSON, errors included) and returns
    /// the exit code: 0 done, 1 failed, 2 usage.
    ///
    /// While a command that runs migrations is under way, SIGINT and SIGTERM stop it
    /// between two migrations, as in `pelican` (the application's own handlers, if it
    /// has any, are set aside meanwhile); once it is over, the handlers are put back and
    /// the signal is raised again, so that the application (or the default action, which
    /// ends the process) answers it as it would have.
    pub fn run<F, E>(self, migrations: &Migrations, initial_setup: F) -> ExitCode
    where
        F: FnOnce(&mut AnyConnection) -> std::result::Result<(), E>,
        E: Into<BoxError>,
    {
        let format = self.options.format;
        let handlers = self.command.changes_database().then(signals::install);
        let code = finish(format, self.outcome(migrations, initial_setup));
        if let Some(handlers) = handlers {
            handlers.restore_and_raise_again();
        }
        code
    }

    /// Runs the command and prints its result, but returns an error instead of printing
    /// it, for an application that reports errors its own way. `pending --exit-code`
    /// returns `Ok` here whatever is pending: its exit code is [`run`](Self::run)'s.
    ///
    /// Signals are handled as [`run`](Self::run) handles them.
    pub fn try_run<F, E>(self, migrations: &Migrations, initial_setup: F) -> Result<()>
    where
        F: FnOnce(&mut AnyConnection) -> std::result::Result<(), E>,
        E: Into<BoxError>,
    {
        let handlers = self.command.changes_database().then(signals::install);
        let outcome = self.outcome(migrations, initial_setup).map(|_| ());
        if let Some(handlers) = handlers {
            handlers.restore_and_raise_again();
        }
        outcome
    }

    /// Runs the command and prints its result; how it ended, or its error.
    fn outcome<F, E>(mut self, migrations: &Migrations, initial_setup: F) -> Result<Outcome>
    where
        F: FnOnce(&mut AnyConnection) -> std::result::Result<(), E>,
        E: Into<BoxError>,
    {
        load_dotenv()?;
        // Neither the database nor the migrations are needed: none is read.
        if let Command::Generate(args) = &self.command {
            return args.generate(&self.options, &config::migration_dir(None, None)?);
        }
        let hook: Hook<'_> = Box::new(move |conn| initial_setup(conn).map_err(Into::into));
        let snapshots = Snapshots {
            dir: config::migration_dir(None, None)
                .ok()
                .filter(|dir| dir.is_dir()),
            embedded: std::mem::take(&mut self.snapshots),
            config_file: None,
        };
        execute(
            &self.options,
            &self.command,
            migrations,
            Some(hook),
            &snapshots,
        )
    }
}
