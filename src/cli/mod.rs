//! The command line: clap definitions, and the rendering of reports as text or JSON.
//!
//! The library knows nothing of this module; it parses, calls [`Migrator`] and
//! [`Boot`], and prints. Results go to stdout, progress and warnings to stderr.
//!
//! Two ways in: the `pelican` binary ([`Cli`], [`main`]), which reads its migrations
//! from a folder, and [`DatabaseCommand`], the same commands as a group an application
//! mounts in its own clap CLI with its embedded migrations and its seed hook.

// The doc comments of clap's definitions are the help text: `[print_schema]` there is
// diesel.toml's section, and `[X]` what `list` prints, not links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod confirm;
mod diesel;
mod document;
mod dotenv;
mod hint;
mod out;
mod render;
mod schema;
mod shell;
mod signals;

pub use diesel::{DatabaseSubcommand, MigrationCommand, SetupArgs};
pub use dotenv::load_dotenv;
pub use hint::hint;
use out::errln;
use render::{Output, ERROR, HINT, WARNING};
pub use schema::PrintSchemaArgs;

use crate::backend::redact_url;
use crate::boot::BoxError;
use crate::connection::Timeouts;
use crate::server::refuse_system_database;
use crate::snapshot::Snapshot;
use crate::{
    admin, config, connect_with_retry, env_flag, generate, lock, AnyConnection, Boot, Error,
    Guards, Migrations, Migrator, Mode, Result, Target,
};

/// Schema management for Diesel applications: guarded migrations on SQLite, PostgreSQL
/// and MySQL/MariaDB, compatible with diesel CLI's folders and migrations table.
#[derive(Debug, Parser)]
#[command(name = "pelican", version = VERSION.as_str(), about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub options: Options,

    /// The folder holding the migrations (diesel's layout).
    ///
    /// When absent: MIGRATION_DIRECTORY, then [migrations_directory] dir in diesel.toml,
    /// then a migrations/ folder in the working directory or above.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub migration_dir: Option<PathBuf>,

    /// diesel CLI's configuration file (default: diesel.toml in the project root, or
    /// DIESEL_CONFIG_FILE).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set, or when
    /// CLICOLOR_FORCE is), always, or never.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "WHEN", value_enum, default_value_t = clap::ColorChoice::Auto)]
    pub color: clap::ColorChoice,

    /// The command.
    #[command(subcommand)]
    pub command: BinaryCommand,
}

/// The heading the options every command takes are listed under in `--help`, apart
/// from the command's own.
const GLOBAL: &str = "Global options";

/// `--version`'s text: the crate's version and the backends compiled in, as
/// `0.1.0 (sqlite, postgres, mysql)`.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let backends: [(&str, bool); 3] = [
        ("sqlite", cfg!(feature = "sqlite")),
        ("postgres", cfg!(feature = "postgres")),
        ("mysql", cfg!(feature = "mysql")),
    ];
    let compiled: Vec<&str> = backends
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
    format!("{} ({})", env!("CARGO_PKG_VERSION"), compiled.join(", "))
});

/// The `pelican` binary's commands: pelican's own, and diesel CLI's command line as an
/// alias tree of them (`setup`, `migration …`, `database …`, `print-schema`), taking
/// diesel's flags and printing what diesel prints.
#[derive(Debug, Subcommand)]
pub enum BinaryCommand {
    /// pelican's commands.
    #[command(flatten)]
    Pelican(Command),

    /// diesel's `setup`: creates the migrations directory (and diesel.toml), creates the
    /// database specified in your DATABASE_URL, and runs existing migrations.
    ///
    /// As `diesel setup`: on PostgreSQL diesel's 00000000000000_diesel_initial_setup
    /// migration is written too (unless --no-default-migration), and the migrations run
    /// only on a database that has no migrations table yet. No schema file is written.
    Setup(SetupArgs),

    /// diesel's `migration` commands: run, revert, redo, list, pending, generate.
    ///
    /// diesel's flags and defaults (revert and redo take one migration unless -n N or
    /// --all), diesel's output (`Running migration …`, `[X]`/`[ ]` lists), pelican's
    /// guards and lock underneath. After run, revert and redo, the schema file of
    /// diesel.toml's [print_schema] is written again.
    Migration {
        /// The command.
        #[command(subcommand)]
        command: MigrationCommand,
    },

    /// diesel's `database` commands: setup, reset (drop the database, then setup), drop.
    #[command(alias = "db")]
    Database {
        /// The command.
        #[command(subcommand)]
        command: DatabaseSubcommand,
    },

    /// Print table definitions for database schema, as diesel CLI 2.3's print-schema
    /// prints them, byte for byte.
    PrintSchema(Box<PrintSchemaArgs>),

    /// Write the completion script for SHELL to stdout.
    ///
    /// For example, bash: `pelican completions bash >
    /// ~/.local/share/bash-completion/completions/pelican`; zsh: `pelican completions zsh >
    /// ~/.zfunc/_pelican` (with ~/.zfunc in fpath); fish: `pelican completions fish >
    /// ~/.config/fish/completions/pelican.fish`; PowerShell: `pelican completions
    /// powershell | Out-String | Invoke-Expression` in your profile.
    Completions {
        /// The shell the script is for.
        shell: clap_complete::Shell,
    },

    /// Write the man page (roff) to stdout: `pelican man > pelican.1`, then `man
    /// ./pelican.1`.
    Man,
}

impl BinaryCommand {
    /// Whether it may change the database by running migrations (or building it): a
    /// signal then stops it between two migrations rather than inside one.
    fn changes_database(&self) -> bool {
        match self {
            BinaryCommand::Pelican(command) => command.changes_database(),
            BinaryCommand::Setup(_) | BinaryCommand::Database { .. } => true,
            BinaryCommand::Migration { command } => matches!(
                command,
                MigrationCommand::Run
                    | MigrationCommand::Revert { .. }
                    | MigrationCommand::Redo { .. }
            ),
            BinaryCommand::PrintSchema(_)
            | BinaryCommand::Completions { .. }
            | BinaryCommand::Man => false,
        }
    }

    /// Whether it is one of diesel's commands, which exit with 1 on every failure.
    fn is_diesels(&self) -> bool {
        matches!(
            self,
            BinaryCommand::Setup(_)
                | BinaryCommand::Migration { .. }
                | BinaryCommand::Database { .. }
                | BinaryCommand::PrintSchema(_)
        )
    }
}

impl Command {
    /// Whether it may change the database by running migrations (or building it).
    fn changes_database(&self) -> bool {
        matches!(
            self,
            Command::Migrate { .. }
                | Command::Downgrade { .. }
                | Command::Redo { .. }
                | Command::Init
                | Command::Boot { .. }
                | Command::Reset { .. }
                | Command::Stamp { .. }
        )
    }
}

/// The options every command takes, in the `pelican` binary and in the mounted
/// [`DatabaseCommand`] alike.
#[derive(Clone, clap::Args)]
pub struct Options {
    /// The database URL: postgres://…, mysql://…, or a SQLite file path.
    ///
    /// When absent, DATABASE_URL is read from the environment, then from a .env file in
    /// the working directory or above. The password is never printed.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    pub database_url: Option<String>,

    /// How results are printed on stdout: text for people, json for programs (one JSON
    /// document per command, errors included).
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Print nothing but errors: no progress on stderr, no report of a run on stdout
    /// (the answers of `current`, `history` and the like are still printed).
    #[arg(short, long, global = true, help_heading = GLOBAL, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print each statement of each migration run, with what guards decided, under its
    /// migration's line.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,

    /// Retry the first connection for up to SECONDS while the database does not answer
    /// (for containers that start before their database).
    ///
    /// The pause between attempts doubles from 50 ms up to 1 s. 0, the default, tries once.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECONDS", value_parser = seconds, default_value = "0")]
    pub wait: Duration,

    /// How long to wait for another run holding the migration lock before giving up.
    ///
    /// One run migrates a database at a time (a PostgreSQL advisory lock, MySQL's
    /// GET_LOCK, SQLite's write lock); a run that waits longer fails, naming the holder
    /// where the database can tell.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECONDS", value_parser = seconds, default_value = "60")]
    pub lock_timeout: Duration,

    /// Cut any one statement that runs longer than SECONDS (PostgreSQL's
    /// statement_timeout, MariaDB's max_statement_time, MySQL's max_execution_time).
    ///
    /// 0, the default, means no limit: a statement timeout the database role or user has by
    /// default is lifted for pelican's session, so that a long migration statement is not
    /// cut half-way. The wait for the migration lock is bounded by --lock-timeout alone.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECONDS", value_parser = seconds, default_value = "0")]
    pub statement_timeout: Duration,

    /// Require that the schema file is up to date.
    ///
    /// When diesel.toml's [print_schema] names a file, the commands that change the
    /// schema (migrate, downgrade, redo, reset, and diesel's migration run|revert|redo,
    /// database setup|reset) write it again afterwards; with this flag they fail instead
    /// when it would change, print the difference, and leave it as it is. For CI and
    /// production.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub locked_schema: bool,

    /// Let init, reset and database reset|drop work in PostgreSQL's `postgres`
    /// database, for an application that keeps its tables there.
    ///
    /// The server's own databases (PostgreSQL's postgres, template0, template1;
    /// MySQL's mysql, information_schema, performance_schema, sys) are refused by
    /// those commands before anything is touched; this lets `postgres` alone through.
    /// Hidden from `--help`, where it would invite the mistake it guards against: the
    /// refusal's message names it, and docs/commands.md describes it.
    #[arg(long, global = true, hide = true)]
    pub allow_maintenance_database: bool,
}

/// Written by hand so that a debug print of the options (or of [`Cli`]) never shows
/// the URL's password.
impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("format", &self.format)
            .field("quiet", &self.quiet)
            .field("verbose", &self.verbose)
            .field("wait", &self.wait)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("locked_schema", &self.locked_schema)
            .field(
                "allow_maintenance_database",
                &self.allow_maintenance_database,
            )
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            database_url: None,
            format: Format::Text,
            quiet: false,
            verbose: false,
            wait: Duration::ZERO,
            lock_timeout: lock::DEFAULT_TIMEOUT,
            statement_timeout: Duration::ZERO,
            locked_schema: false,
            allow_maintenance_database: false,
        }
    }
}

impl Options {
    /// The waits and limits a connection of this command gets.
    fn timeouts(&self) -> Timeouts {
        Timeouts {
            lock: self.lock_timeout,
            statement: self.statement_timeout,
        }
    }

    /// Connects to the database, retrying for up to `--wait`, with this command's
    /// timeouts set on the session.
    fn connect(&self, url: &str) -> Result<AnyConnection> {
        let mut conn = connect_with_retry(url, self.wait)?;
        self.timeouts().apply(&mut conn)?;
        Ok(conn)
    }
}

/// A number of seconds (fractions allowed) as a duration.
fn seconds(text: &str) -> std::result::Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}

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
    pub options: Options,

    /// The command.
    #[command(subcommand)]
    pub command: Command,

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
        if self.options.database_url.is_none() {
            self.options.database_url = Some(url.into());
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
        if let Command::Generate { name } = &self.command {
            let dir = config::migration_dir(None, None)?;
            let folder = generate::migration(&dir, name, chrono::Utc::now())?;
            return Output::new(&self.options)
                .generated(&folder)
                .map(|()| Outcome::Done);
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
            self.command,
            migrations,
            Some(hook),
            &snapshots,
        )
    }
}

/// The initial setup hook, as the command line holds it.
type Hook<'a> = Box<dyn FnOnce(&mut AnyConnection) -> std::result::Result<(), BoxError> + 'a>;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
    /// diesel's `migration generate --format sql`, its only format; text elsewhere.
    #[value(hide = true)]
    Sql,
}

/// pelican's commands, as a clap subcommand group.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations up to TARGET (default: head).
    ///
    /// TARGET is head, +N (the next N pending), or a version (a unique prefix will do,
    /// with or without diesel's dashes). Migrations older than the newest applied one
    /// (merged from another branch) are applied too, and reported as out of order.
    /// On SQLite and PostgreSQL the migrations run in one transaction with their
    /// records (committing where joining could change what they do: see --atomic), so
    /// a failure leaves the database as it was; --no-atomic commits each on its own.
    /// A migration whose metadata.toml says run_in_transaction = false runs outside.
    #[command(visible_alias = "upgrade")]
    Migrate {
        /// Where to stop: head, +N, or a version.
        #[arg(allow_hyphen_values = true)]
        target: Option<String>,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Revert applied migrations down to TARGET.
    ///
    /// TARGET is -N (the newest N applied, by version), a version (it stays applied), or
    /// base (revert everything).
    Downgrade {
        /// Where to stop: -N, a version, or base.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Revert the newest N applied migrations and apply them again.
    Redo {
        /// How many migrations to redo.
        #[arg(short = 'n', long = "number", default_value_t = 1)]
        n: usize,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Show the newest applied migration, with "(head)" when nothing is pending.
    Current,

    /// List every migration, oldest first, applied ([X]) or pending ([ ]), with when it ran.
    History,

    /// Show the newest available migration.
    Heads,

    /// List the migrations not applied yet.
    Pending {
        /// Exit with 1 when a migration is pending, 0 when none is (as dbmate's
        /// `status --exit-code`), for a script or a deploy step that asks "is there
        /// anything to migrate?". What is printed stays the same.
        #[arg(long)]
        exit_code: bool,
    },

    /// Record TARGET as the applied state without running any SQL.
    ///
    /// The applied set becomes exactly the migrations up to TARGET (head, base, a
    /// version, or +N/-N from the current one). For recording a version you know a
    /// database is at (adopt finds it for you), or repairing the record after a manual
    /// fix.
    Stamp {
        /// head, base, a version, +N or -N.
        #[arg(allow_hyphen_values = true)]
        target: String,
    },

    /// Create a new migration folder, YYYY-MM-DD-HHMMSS-XXXX_NAME, with up.sql and down.sql.
    ///
    /// The name is diesel 2.3's: the UTC time and a counter within the second in
    /// lowercase hexadecimal (-0000 … -0009, -000a …), as `diesel migration generate`
    /// writes it.
    Generate {
        /// The migration's name: letters, digits and underscores.
        name: String,
    },

    /// Check the migrations and the database: checksums, a round trip of every
    /// migration, drift, snapshots. Exit code 1 if anything is found.
    ///
    /// Checksums: every applied migration's files against the checksum recorded when it
    /// ran (an edited one, or a deleted one, is named). Round trip: on a scratch
    /// database that pelican creates and drops (a temporary SQLite file, or a new
    /// database on the same server), each migration up, down and up again, its
    /// schema and row counts compared each time; every one that does not come back is
    /// named with the difference (the trip goes on from a fresh scratch database). Drift: the database's schema against the
    /// scratch database's at the same version, table by table. Snapshots: one older
    /// than the migrations, or made from migrations edited since, fails; the one for
    /// this database's backend is loaded into another scratch database and must build
    /// what the migrations build. The database itself is only read.
    Check {
        /// Make the scratch databases on this server (a URL of the same backend; its
        /// database is only connected to) instead of the database's own. For SQLite: a
        /// folder for the temporary file.
        #[arg(long, value_name = "URL", value_parser = scratch_url)]
        scratch_url: Option<ScratchUrl>,
    },

    /// Write the schema snapshot for the database URL's backend: the SQL that builds
    /// the schema at head in one go, for init to use on a fresh database.
    ///
    /// Built from the migrations on a scratch database (the URL only names the backend
    /// and the server; its own database is not touched): tables, columns, keys,
    /// indexes, views, triggers (and PostgreSQL types, functions and sequences), and
    /// the rows the migrations insert. Written to schema.BACKEND.sql in the
    /// migrations folder, where diesel and embed_migrations! ignore it; a header names
    /// the head version. Write it again after adding a migration: check fails on a
    /// stale one.
    Snapshot {
        /// Build the scratch database on this server (see check --scratch-url).
        #[arg(long, value_name = "URL", value_parser = scratch_url)]
        scratch_url: Option<ScratchUrl>,
        /// Write it here instead (`-`: print it on stdout).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },

    /// Create the database if it is missing, and build it at head.
    ///
    /// A missing database is created (the SQLite file; CREATE DATABASE on PostgreSQL,
    /// through the postgres database, and on MySQL/MariaDB). A fresh one (no tables)
    /// gets its schema at head the fast way: every up.sql as one batch, the initial
    /// setup, then every version stamped in one statement, all in one transaction on
    /// SQLite and PostgreSQL. A database that is already managed is left as it is; one
    /// with tables but no migrations table is refused.
    Init,

    /// Adopt a database that has tables but no migrations table: record the newest
    /// migration whose schema it has as applied, running none of the history on it.
    ///
    /// The migrations are built one at a time on a scratch database (a temporary SQLite
    /// file, or a new database on the same server, dropped afterwards; from the
    /// snapshot for the backend where one fits), and after each the scratch database's
    /// schema (tables, columns, keys, indexes, views, triggers, types, functions; not
    /// the rows, nor the ledger) is compared with the database's. The newest version
    /// that equals it is stamped: diesel's table, checksums and journal, as stamp writes
    /// them. What is newer is left pending, as Alembic's stamp leaves it: run migrate
    /// next. When no version matches, nothing changes and the exit code is 1: the
    /// closest version is named with every difference. The database is only read,
    /// until the stamp.
    Adopt {
        /// Make the scratch database on this server (a URL of the same backend; its
        /// database is only connected to) instead of the database's own. For SQLite: a
        /// folder for the temporary file.
        #[arg(long, value_name = "URL", value_parser = scratch_url)]
        scratch_url: Option<ScratchUrl>,
    },

    /// The boot flow, for container entrypoints: init a fresh database, upgrade a
    /// managed one when AUTO_MIGRATE is on.
    ///
    /// Under the migration lock: a fresh database is built as init builds it; a managed
    /// one with pending migrations is upgraded if AUTO_MIGRATE is 1/true/yes/on, and
    /// otherwise left as it is with a warning listing them (AUTO_MIGRATE unset, empty,
    /// 0/false/no/off); a database newer than these migrations is refused, as is one with
    /// tables but no migrations table (unless --adopt).
    Boot {
        /// Adopt a database that has tables but no migrations table, as the adopt
        /// command does (the newest version whose schema it has is stamped, none of the
        /// history runs on it), then upgrade it when AUTO_MIGRATE is on.
        #[arg(long)]
        adopt: bool,
        /// Upgrade committing each migration on its own, as diesel does, instead of
        /// joining them into one transaction (see migrate --atomic).
        #[arg(long)]
        no_atomic: bool,
    },

    /// Drop every object in the database, the ledger included, then init.
    ///
    /// Tables (with their indexes and triggers), views, and on PostgreSQL the sequences,
    /// functions, types and extensions of the current schema, on MySQL/MariaDB the
    /// routines and events; foreign keys, cascading ones included, never stand in the way. On SQLite and PostgreSQL it is one transaction: if the
    /// rebuild fails, nothing is dropped.
    ///
    /// Without --yes it asks first (y/N, on stderr) when stdin is a terminal, and is
    /// refused (exit code 2) when it is not: a script must say --yes.
    ///
    /// It drops exactly what --dry-run lists: when objects elsewhere (another schema's
    /// view, another database's foreign key) depend on what it drops, --dry-run lists
    /// them too and reset refuses unless given --cascade. The server's own databases
    /// (mysql, information_schema, performance_schema, sys; postgres, template0,
    /// template1) are refused before anything is touched.
    Reset {
        /// Confirm: every object and every row in the database goes.
        #[arg(long)]
        yes: bool,
        /// List what would be dropped, and drop nothing (no --yes needed).
        #[arg(long)]
        dry_run: bool,
        /// Go ahead when objects outside the database's own schema (PostgreSQL) or
        /// database (MySQL) depend on what reset drops: PostgreSQL drops them too, by
        /// CASCADE; MySQL leaves them broken. Without it such a reset is refused, and
        /// --dry-run lists them.
        #[arg(long)]
        cascade: bool,
    },
}

/// The server `check` and `snapshot` make their scratch databases on; its password is
/// never shown, a debug print included.
#[derive(Clone)]
pub struct ScratchUrl(pub String);

impl std::fmt::Debug for ScratchUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScratchUrl({:?})", redact_url(&self.0))
    }
}

fn scratch_url(text: &str) -> std::result::Result<ScratchUrl, String> {
    Ok(ScratchUrl(text.to_owned()))
}

/// How `migrate`, `downgrade` and `redo` run.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Show the plan and touch nothing: each migration, each statement with RUN or SKIP
    /// and why. No statement runs; no ledger or journal row is written.
    #[arg(long)]
    pub dry_run: bool,

    /// Print only the SQL that would run, in order, ready for review; touch nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub sql: bool,

    /// Run every statement as written: no existence guards (explicit `-- pelican:`
    /// directives still apply).
    #[arg(long)]
    pub no_guards: bool,

    /// Fail instead of warning when a statement is skipped but what exists differs from
    /// what it would make (another column type, say).
    #[arg(long, conflicts_with = "no_guards")]
    pub strict_guards: bool,

    /// Run although applied migrations were edited since they ran, and record their new
    /// checksums. Without it, pelican refuses and names them.
    #[arg(long)]
    pub accept_changed: bool,

    /// Join the migrations into one transaction where joining cannot change what they
    /// do (the default on SQLite and PostgreSQL): a failure leaves the database as it
    /// was before the run. The run commits around a migration that sets session state,
    /// after ALTER TYPE … ADD VALUE, around one outside a transaction, and before it
    /// would take too many locks (max_locks_per_transaction); the report says where.
    #[arg(long, overrides_with = "no_atomic")]
    pub atomic: bool,

    /// Commit each migration on its own, as diesel does: a failure keeps the
    /// migrations before it.
    #[arg(long, overrides_with = "atomic")]
    pub no_atomic: bool,
}

impl RunArgs {
    fn apply<'m>(&self, migrator: Migrator<'m>) -> Migrator<'m> {
        let guards = if self.no_guards {
            Guards::Off
        } else if self.strict_guards {
            Guards::Strict
        } else {
            Guards::On
        };
        let mode = if self.dry_run || self.sql {
            Mode::DryRun
        } else {
            Mode::Apply
        };
        let migrator = migrator.guards(guards).mode(mode).atomic(!self.no_atomic);
        if self.accept_changed {
            migrator.accept_changed()
        } else {
            migrator
        }
    }
}

/// Runs the command line and returns the process's exit code: 0 done, 1 failed,
/// 2 usage.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // clap prints help, usage and its errors before (or instead of) the parse that
    // gives `cli.color`: it follows the same --color, read from the raw arguments.
    let mut command = <Cli as clap::CommandFactory>::command().color(color_in_args(&args));
    let parsed = command.try_get_matches_from_mut(args).and_then(|matches| {
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
            .map_err(|error| error.format(&mut command))
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    set_color(cli.color);
    let format = cli.options.format;
    let diesels = cli.command.is_diesels();
    let changes = cli.command.changes_database();
    // Kept for the whole process: `pelican` answers the signal itself, below.
    let _handlers = changes.then(signals::install);
    if changes {
        if !cli.options.quiet {
            say_when_waiting_for_the_lock();
        }
    } else {
        signals::default_sigpipe();
    }
    let result = run(cli);
    let interrupted = matches!(&result, Err(e) if matches!(e.cause(), Error::Interrupted { .. }));
    // Refused as clap refuses an option, before diesel's command began.
    let no_json = matches!(&result, Err(Error::NoJson { .. }));
    let mut code = finish(format, result);
    // diesel CLI exits with 1 on every failure that is not clap's.
    if diesels && !no_json && code != ExitCode::SUCCESS {
        code = ExitCode::FAILURE;
    }
    if let Some((signal, status)) = signals::received() {
        if !interrupted {
            errln!(
                "{WARNING}warning:{WARNING:#} {signal} received: the command had no migration \
                 left to stop before, and ended as reported above"
            );
        }
        return ExitCode::from(status);
    }
    match out::stdout_failure() {
        None => code,
        Some(failure) => {
            if changes || failure == out::Failure::Other {
                errln!(
                    "{WARNING}warning:{WARNING:#} stdout could not be written ({}): the \
                     command went on to its end all the same, and the ledger says what was \
                     done (`pelican history`)",
                    match failure {
                        out::Failure::BrokenPipe => "its reader closed it",
                        out::Failure::Other => "a write failed",
                    }
                );
            }
            if code != ExitCode::SUCCESS {
                return code;
            }
            ExitCode::from(match failure {
                out::Failure::BrokenPipe => 141,
                out::Failure::Other => 1,
            })
        }
    }
}

/// Watches, from a thread of its own, for the run waiting for the migration lock, and
/// says so on stderr once the wait has lasted a second (the terminal stayed blank while
/// another run held it): once per wait.
fn say_when_waiting_for_the_lock() {
    const MOMENT: Duration = Duration::from_secs(1);
    let watch = move || {
        let mut said = false;
        loop {
            std::thread::sleep(Duration::from_millis(100));
            match lock::waiting() {
                Some((lock, waited)) if waited >= MOMENT && !said => {
                    errln!(
                        "waiting for the migration lock ({lock}): another run is migrating this \
                         database; this one goes on when it is done (or gives up after \
                         --lock-timeout)"
                    );
                    said = true;
                }
                Some(_) => {}
                None => said = false,
            }
        }
    };
    // Detached: it ends with the process.
    let _ = std::thread::Builder::new()
        .name("lock-watch".to_owned())
        .spawn(watch);
}

/// The `--color` of raw arguments (`auto` when there is none or it is not one of the
/// three; clap refuses a second), for clap's own output. With `auto`, clap decides as pelican's
/// output does (both through anstream): colours on a terminal unless NO_COLOR is set, or
/// when CLICOLOR_FORCE is.
fn color_in_args(args: &[std::ffi::OsString]) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut args = args.iter().skip(1).map(|arg| arg.to_string_lossy());
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--color") {
            _ if arg == "--" => break,
            Some("") => args.next(),
            Some(value) => match value.strip_prefix('=') {
                Some(value) => Some(value.to_owned().into()),
                None => continue,
            },
            None => continue,
        };
        if let Some(value) = value.and_then(|v| clap::ColorChoice::from_str(&v, false).ok()) {
            choice = value;
        }
    }
    choice
}

/// How a command that ran without an error ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Exit code 0.
    Done,
    /// `pending --exit-code` found migrations pending: exit code 1, the list printed as
    /// without the flag and no error.
    Pending,
}

/// A command line clap refused: as clap prints it, and also as a JSON document when the
/// arguments asked for `--format json`. Help and `--version` are printed as they are.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let shown = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let args: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let json = args
        .windows(2)
        .any(|pair| pair[0] == "--format" && pair[1] == "json")
        || args.iter().any(|arg| arg == "--format=json");
    if shown {
        // Help and version echo no argument.
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    // clap quotes the argument it refused, which may be a URL with its password in the
    // wrong place (`pelican generate postgres://app:secret@db/app`): what it says goes
    // through the scrubber first.
    if json {
        let text = scrub_args(&error.to_string());
        let message = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        document::print(&document::Failed::usage(message));
    }
    let styled = scrub_args(&error.render().ansi().to_string());
    // anstream keeps clap's styles as --color says, and strips them off a terminal.
    set_color(color_in_args(&std::env::args_os().collect::<Vec<_>>()));
    let _ = write!(out::Stderr::lock(), "{styled}");
    ExitCode::from(2)
}

/// `text` with every secret the command line's arguments hold hidden: the password of
/// each argument that is a URL (in any form the URL holds it, see
/// [`crate::backend::redact_url`]), and the password of any URL or `password=` parameter
/// in the text.
fn scrub_args(text: &str) -> String {
    out::secret_args()
        .iter()
        .fold(crate::backend::scrub(text, ""), |text, arg| {
            crate::backend::scrub(&text, arg)
        })
}

/// The error, with every secret of the command line's arguments hidden (see
/// [`scrub_args`]); its kind and location kept ([`Error::redacted`]).
fn scrub_error(error: Error) -> Error {
    out::secret_args()
        .iter()
        .fold(error.redacted(""), |error, arg| error.redacted(arg))
}

/// clap's colour choice, set for the process as anstream's.
fn set_color(choice: clap::ColorChoice) {
    match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    }
    .write_global();
}

/// Prints an error (as JSON too when asked) and turns the outcome into an exit code.
fn finish(format: Format, result: Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Pending) => ExitCode::FAILURE,
        Err(error) => {
            let hint = hint(&error);
            // A URL given where another value belongs (`--migration-dir URL`) may be
            // quoted by the error refusing it.
            let error = scrub_error(error);
            let message = error.to_string();
            // In text, the steps done before the failure were printed as each finished.
            // A failed check printed its report, the findings in it, as its document.
            if format == Format::Json && !matches!(error, Error::CheckFailed { .. }) {
                document::print(&document::Failed::new(&error));
            }
            errln!("{ERROR}error:{ERROR:#} {}", out::shown_lines(&message));
            if let Some(hint) = hint {
                errln!("{HINT}hint:{HINT:#} {}", out::shown_lines(hint));
            }
            ExitCode::from(if error.is_usage() { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    // stdout under --format json is one document: a command that prints something else
    // is refused before it prints anything.
    if cli.options.format == Format::Json {
        let (command, prints) = match &cli.command {
            BinaryCommand::Pelican(_) => ("", ""),
            BinaryCommand::Setup(_) => ("setup", "diesel's lines"),
            BinaryCommand::Migration { .. } => ("migration", "diesel's lines"),
            BinaryCommand::Database { .. } => ("database", "diesel's lines"),
            BinaryCommand::PrintSchema(_) => ("print-schema", "Rust"),
            BinaryCommand::Completions { .. } => ("completions", "a shell script"),
            BinaryCommand::Man => ("man", "a man page"),
        };
        if !command.is_empty() {
            return Err(Error::NoJson {
                command: command.to_owned(),
                prints,
            });
        }
    }
    // About pelican itself: no .env, no database.
    match cli.command {
        BinaryCommand::Completions { shell } => {
            return shell::completions(shell).map(|()| Outcome::Done)
        }
        BinaryCommand::Man => return shell::man().map(|()| Outcome::Done),
        _ => {}
    }
    load_dotenv()?;
    let paths = diesel::Paths {
        migration_dir: cli.migration_dir.as_deref(),
        config_file: cli.config_file.as_deref(),
    };
    let command = match cli.command {
        BinaryCommand::Pelican(command) => command,
        BinaryCommand::Setup(args) => {
            return diesel::setup(&cli.options, &paths, &args).map(|()| Outcome::Done)
        }
        BinaryCommand::Migration { command } => {
            return diesel::migration(&cli.options, &paths, &command).map(|()| Outcome::Done)
        }
        BinaryCommand::Database { command } => {
            return diesel::database(&cli.options, &paths, &command).map(|()| Outcome::Done)
        }
        BinaryCommand::PrintSchema(args) => {
            let toml = config::DieselToml::find(paths.config_file)?;
            return schema::print(&cli.options, toml, &args).map(|()| Outcome::Done);
        }
        BinaryCommand::Completions { .. } | BinaryCommand::Man => return Ok(Outcome::Done),
    };
    let dir = config::migration_dir(cli.migration_dir.as_deref(), cli.config_file.as_deref())?;
    if let Command::Generate { name } = &command {
        let folder = generate::migration(&dir, name, chrono::Utc::now())?;
        return Output::new(&cli.options)
            .generated(&folder)
            .map(|()| Outcome::Done);
    }
    let migrations = Migrations::from_dir(&dir)?;
    let snapshots = Snapshots {
        dir: Some(dir),
        embedded: Vec::new(),
        config_file: cli.config_file.clone(),
    };
    execute(&cli.options, command, &migrations, None, &snapshots)
}

/// Where a command finds schema snapshots (the migrations folder, and the texts an
/// application embeds), and the diesel.toml whose schema files it keeps up to date.
struct Snapshots {
    dir: Option<PathBuf>,
    embedded: Vec<String>,
    config_file: Option<PathBuf>,
}

impl Snapshots {
    /// The texts `init`, `boot` and `reset` may build from: the folder's file for this
    /// backend, and every embedded one (`Boot` picks the backend's).
    fn for_boot(&self, url: &str) -> Result<Vec<String>> {
        let backend = crate::Backend::from_url(url)?;
        let mut texts = self.embedded.clone();
        if let Some(dir) = &self.dir {
            if let Some(snapshot) = Snapshot::find(dir, backend)? {
                texts.push(snapshot.sql().to_owned());
            }
        }
        Ok(texts)
    }

    /// Every snapshot there is, of every backend, for `check`.
    fn all(&self) -> Result<Vec<Snapshot>> {
        let mut all = Vec::new();
        if let Some(dir) = &self.dir {
            for backend in crate::Backend::ALL {
                all.extend(Snapshot::find(dir, backend)?);
            }
        }
        for text in &self.embedded {
            // During development the folder holds the same files the binary embeds.
            if !all.iter().any(|s| s.sql() == text) {
                all.push(Snapshot::parse(text.as_str())?);
            }
        }
        Ok(all)
    }

    /// Where `snapshot` writes: `--output`, else the migrations folder.
    fn target(&self, output: Option<PathBuf>, backend: crate::Backend) -> Result<PathBuf> {
        match (output, &self.dir) {
            (Some(path), _) => Ok(path),
            (None, Some(dir)) => Ok(Snapshot::path(dir, backend)),
            (None, None) => {
                config::migration_dir(None, None).map(|dir| Snapshot::path(&dir, backend))
            }
        }
    }
}

/// Runs one command against the database, for the binary and the mounted group alike.
fn execute(
    options: &Options,
    command: Command,
    migrations: &Migrations,
    initial_setup: Option<Hook<'_>>,
    snapshots: &Snapshots,
) -> Result<Outcome> {
    for warning in migrations.warnings() {
        errln!(
            "{WARNING}warning:{WARNING:#} {}",
            out::shown_lines(&warning.to_string())
        );
    }
    let url = config::database_url(options.database_url.as_deref())?;
    execute_on(options, command, migrations, initial_setup, snapshots, &url)
        // Errors from the driver can quote the URL; none leaves with its password.
        .map_err(|e| e.redacted(&url))
}

fn execute_on(
    options: &Options,
    command: Command,
    migrations: &Migrations,
    initial_setup: Option<Hook<'_>>,
    snapshots: &Snapshots,
    url: &str,
) -> Result<Outcome> {
    let out = Output::new(options);
    let progress = |event: crate::Progress<'_>| out.progress(event);
    // diesel.toml's schema files, for the commands that change the schema: read first,
    // so that one that does not parse is refused before anything runs.
    let schema_toml = match &command {
        Command::Migrate { run, .. }
        | Command::Downgrade { run, .. }
        | Command::Redo { run, .. }
            if !(run.dry_run || run.sql) =>
        {
            Some(config::DieselToml::find(snapshots.config_file.as_deref())?)
        }
        Command::Reset { dry_run: false, .. } => {
            Some(config::DieselToml::find(snapshots.config_file.as_deref())?)
        }
        _ => None,
    };
    let regenerate = || -> Result<()> {
        if let Some(toml) = &schema_toml {
            for path in schema::regenerate(options, toml, url)? {
                if !options.quiet {
                    errln!("Wrote {}", path.display());
                }
            }
        }
        Ok(())
    };
    let snapshot_texts = match command {
        Command::Init | Command::Boot { .. } | Command::Reset { .. } | Command::Adopt { .. } => {
            snapshots.for_boot(url)?
        }
        _ => Vec::new(),
    };
    let boot = || {
        let boot = Boot::new(migrations)
            .lock_timeout(options.lock_timeout)
            .with_progress(&progress);
        let boot = snapshot_texts
            .iter()
            .fold(boot, |boot, text| boot.snapshot(text.as_str()));
        match initial_setup {
            Some(hook) => boot.initial_setup(hook),
            None => boot,
        }
    };
    match command {
        Command::Check { scratch_url } => {
            let mut check = crate::Check::new(migrations)
                .wait(options.wait)
                .timeouts(options.timeouts());
            if let Some(ScratchUrl(scratch_url)) = scratch_url {
                check = check.scratch_url(scratch_url);
            }
            for snapshot in snapshots.all()? {
                check = check.snapshot(snapshot);
            }
            let report = out.working("Checking the migrations on a scratch database", || {
                check.run(url)
            })?;
            out.check(&report)?;
            if !report.ok() {
                return Err(Error::CheckFailed {
                    findings: report.findings.len(),
                });
            }
            return Ok(Outcome::Done);
        }
        Command::Snapshot {
            scratch_url,
            output,
        } => {
            let scratch_url = scratch_url.map(|ScratchUrl(url)| url);
            let snapshot = out
                .working("Building the schema at head on a scratch database", || {
                    Snapshot::create(url, migrations, scratch_url.as_deref())
                })?;
            let target = snapshots.target(output, snapshot.backend())?;
            if target.as_os_str() != "-" {
                snapshot.write(&target)?;
            }
            return out.snapshot(&snapshot, &target).map(|()| Outcome::Done);
        }
        Command::Init => {
            let report = out.working("Building the database at head", || {
                boot()
                    .statement_timeout(options.statement_timeout)
                    .allow_maintenance_database(options.allow_maintenance_database)
                    .run_url(url, options.wait)
            })?;
            return out
                .boot("init", report.created.then_some(url), &report, migrations)
                .map(|()| Outcome::Done);
        }
        Command::Boot { adopt, no_atomic } => {
            // Read before connecting: a bad value is refused with the database untouched.
            let auto_migrate = env_flag("AUTO_MIGRATE")?;
            let mut conn = options.connect(url)?;
            let boot = boot().auto_migrate(auto_migrate).atomic(!no_atomic);
            let boot = if adopt { boot.adopt(url) } else { boot };
            let report = boot.run(&mut conn)?;
            return out
                .boot("boot", None, &report, migrations)
                .map(|()| Outcome::Done);
        }
        Command::Adopt { scratch_url } => {
            let mut conn = options.connect(url)?;
            let mut adopt = crate::Adopt::new(migrations, url).lock_timeout(options.lock_timeout);
            if let Some(ScratchUrl(scratch_url)) = scratch_url {
                adopt = adopt.scratch_url(scratch_url);
            }
            for text in &snapshot_texts {
                adopt = adopt.snapshot(text.as_str());
            }
            return out
                .adopted(&adopt.run(&mut conn)?, migrations)
                .map(|()| Outcome::Done);
        }
        Command::Reset { dry_run: true, .. } => {
            refuse_system_database(url, "reset", options.allow_maintenance_database)?;
            let (objects, dependents) = match crate::server::database_exists(url)? {
                true => {
                    let mut conn = options.connect(url)?;
                    let objects = admin::objects_to_drop(&mut conn)?;
                    (objects, admin::dependents(&mut conn)?)
                }
                false => (Vec::new(), (Vec::new(), "")),
            };
            return out
                .reset_dry_run(url, &objects, &dependents.0, dependents.1)
                .map(|()| Outcome::Done);
        }
        Command::Reset { yes, cascade, .. } => {
            refuse_system_database(url, "reset", options.allow_maintenance_database)?;
            confirm_reset(yes, url)?;
            let created = crate::server::create_database(url, options.wait)?;
            let mut conn = options.connect(url)?;
            let report = boot()
                .allow_maintenance_database(options.allow_maintenance_database)
                .cascade(cascade)
                .reset(&mut conn)?;
            drop(conn);
            // The reset committed: a failure after it still says where the database is.
            let done = crate::Report {
                steps: report.steps.clone(),
                current: report.current.clone(),
                head: report.head.clone(),
                pending: report.pending.len(),
                ..crate::Report::default()
            };
            regenerate().map_err(|error| Error::Incomplete {
                report: Box::new(done),
                source: Box::new(error),
            })?;
            return out
                .boot("reset", created.then_some(url), &report, migrations)
                .map(|()| Outcome::Done);
        }
        _ => {}
    }
    let mut conn = if only_reads(&command) && crate::server::missing_sqlite_file(url) {
        // Nothing to read: the answer is an empty database's, and no file is made.
        AnyConnection::establish(":memory:")?
    } else {
        options.connect(url)?
    };
    // A dry run prints its plan at the end, and `--sql` a script: no progress, and no
    // step printed as if it had been applied.
    let rehearsal = matches!(
        &command,
        Command::Migrate { run, .. } | Command::Downgrade { run, .. } | Command::Redo { run, .. }
            if run.dry_run || run.sql
    );
    let migrator = Migrator::new(migrations).lock_timeout(options.lock_timeout);
    let migrator = if rehearsal {
        migrator
    } else {
        migrator.with_progress(&progress)
    };
    let printed = match command {
        Command::Migrate { target, run } => {
            let target = match target {
                Some(text) => text.parse()?,
                None => Target::Head,
            };
            let report = run.apply(migrator).migrate(&mut conn, &target)?;
            after_run(regenerate(), &report)?;
            out.report(
                "migrate",
                &report,
                migrations,
                &run,
                crate::Database::backend(&conn),
            )
        }
        Command::Downgrade { target, run } => {
            let report = run.apply(migrator).downgrade(&mut conn, &target.parse()?)?;
            after_run(regenerate(), &report)?;
            out.report(
                "downgrade",
                &report,
                migrations,
                &run,
                crate::Database::backend(&conn),
            )
        }
        Command::Redo { n, run } => {
            let report = run.apply(migrator).redo(&mut conn, n)?;
            after_run(regenerate(), &report)?;
            out.report(
                "redo",
                &report,
                migrations,
                &run,
                crate::Database::backend(&conn),
            )
        }
        Command::Current => out.current(&migrator.status(&mut conn)?),
        Command::History => out.history(&migrator.status(&mut conn)?),
        Command::Heads => out.heads(&migrator.status(&mut conn)?),
        Command::Pending { exit_code } => {
            let status = migrator.status(&mut conn)?;
            out.pending(&status)?;
            if exit_code && status.pending().next().is_some() {
                return Ok(Outcome::Pending);
            }
            Ok(())
        }
        Command::Stamp { target } => {
            let report = migrator.stamp(&mut conn, &target.parse()?)?;
            out.stamped(&report, &migrator.status(&mut conn)?)
        }
        Command::Generate { .. }
        | Command::Init
        | Command::Boot { .. }
        | Command::Reset { .. }
        | Command::Check { .. }
        | Command::Adopt { .. }
        | Command::Snapshot { .. } => Ok(()),
    };
    printed.map(|()| Outcome::Done)
}

/// What followed a run that committed steps (the schema file written again): its
/// failure keeps the run's report, so that the error (and its JSON document) still says
/// which migrations were applied and where the database is.
fn after_run(result: Result<()>, report: &crate::Report) -> Result<()> {
    result.map_err(|error| match report.steps.is_empty() {
        true => error,
        false => Error::Incomplete {
            report: Box::new(report.clone()),
            source: Box::new(error),
        },
    })
}

/// Whether a command only reads the database (`current`, `history`, `heads`, `pending`,
/// and `migrate`, `downgrade` or `redo` with `--dry-run` or `--sql`): such a command
/// creates no SQLite file that does not exist, where diesel CLI's `migration list`
/// creates the file and its migrations table.
fn only_reads(command: &Command) -> bool {
    match command {
        Command::Current | Command::History | Command::Heads | Command::Pending { .. } => true,
        Command::Migrate { run, .. }
        | Command::Downgrade { run, .. }
        | Command::Redo { run, .. } => run.dry_run || run.sql,
        _ => false,
    }
}

/// `reset` goes ahead with --yes; without it, a person at a terminal is asked, and a
/// script is refused before anything is touched.
fn confirm_reset(yes: bool, url: &str) -> Result<()> {
    use std::io::IsTerminal;
    match confirm::confirmation(yes, std::io::stdin().is_terminal()) {
        confirm::Confirmation::Given => Ok(()),
        confirm::Confirmation::Refuse => Err(Error::NotConfirmed {
            command: "reset",
            url: redact_url(url),
        }),
        confirm::Confirmation::Ask => {
            let question = format!(
                "reset drops every table, view and other object in {}, ledger included, \
                 then builds the database at head (--dry-run lists them). Drop everything?",
                redact_url(url)
            );
            let stdin = std::io::stdin();
            match confirm::ask(&question, &mut stdin.lock(), &mut std::io::stderr()) {
                Ok(true) => Ok(()),
                Ok(false) | Err(_) => Err(Error::Cancelled { command: "reset" }),
            }
        }
    }
}
