//! The `pelican` binary: its command tree ([`Cli`]: pelican's commands, diesel CLI's
//! as an alias tree, completions and the man page), and the process around a command
//! (colours, signals, usage errors, the exit code).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use super::args::GLOBAL;
use super::commands::Command;
use super::context::{execute, Snapshots};
use super::diesel::{self, DatabaseSubcommand, MigrationCommand, SetupArgs};
use super::out::{self, errln};
use super::render::WARNING;
use super::schema::{self, PrintSchemaArgs};
use super::{document, finish, load_dotenv, shell, signals, Format, Options, Outcome};
use crate::{config, lock, Error, Migrations, Result};

/// Schema management for Diesel applications: guarded migrations on SQLite, PostgreSQL
/// and MySQL/MariaDB, compatible with diesel CLI's folders and migrations table.
#[derive(Debug, Parser)]
#[command(name = "pelican", version = VERSION.as_str(), about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) options: Options,

    /// The folder holding the migrations (diesel's layout).
    ///
    /// When absent: MIGRATION_DIRECTORY, then [migrations_directory] dir in diesel.toml,
    /// then a migrations/ folder in the working directory or above.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub(crate) migration_dir: Option<PathBuf>,

    /// diesel CLI's configuration file (default: diesel.toml in the project root, or
    /// DIESEL_CONFIG_FILE).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub(crate) config_file: Option<PathBuf>,

    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set, or when
    /// CLICOLOR_FORCE is), always, or never.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "WHEN", value_enum, default_value_t = clap::ColorChoice::Auto)]
    pub(crate) color: clap::ColorChoice,

    /// The command.
    #[command(subcommand)]
    pub(crate) command: BinaryCommand,
}

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
pub(crate) enum BinaryCommand {
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

    /// The command's name and what it prints, for a command that prints no JSON
    /// document (diesel's, which print diesel's lines, and those that print a file).
    fn prints_no_json(&self) -> Option<(&'static str, &'static str)> {
        match self {
            BinaryCommand::Pelican(_) => None,
            BinaryCommand::Setup(_) => Some(("setup", "diesel's lines")),
            BinaryCommand::Migration { .. } => Some(("migration", "diesel's lines")),
            BinaryCommand::Database { .. } => Some(("database", "diesel's lines")),
            BinaryCommand::PrintSchema(_) => Some(("print-schema", "Rust")),
            BinaryCommand::Completions { .. } => Some(("completions", "a shell script")),
            BinaryCommand::Man => Some(("man", "a man page")),
        }
    }
}

/// Runs the command line and returns the process's exit code: 0 done, 1 failed,
/// 2 usage. The `pelican` binary's entry point (`src/main.rs`, a crate of its own, so
/// it must be public); an application mounts [`DatabaseCommand`](super::DatabaseCommand)
/// instead.
#[doc(hidden)]
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
    super::traces::print_under_verbose(cli.options.verbose);
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
        .fold(crate::url_secret::scrub(text, ""), |text, arg| {
            crate::url_secret::scrub(&text, arg)
        })
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

fn run(cli: Cli) -> Result<Outcome> {
    // stdout under --format json is one document: a command that prints something else
    // is refused before it prints anything.
    if cli.options.format == Format::Json {
        if let Some((command, prints)) = cli.command.prints_no_json() {
            return Err(Error::NoJson {
                command: command.to_owned(),
                prints,
            });
        }
    }
    // About pelican itself: no .env, no database.
    if !matches!(
        cli.command,
        BinaryCommand::Completions { .. } | BinaryCommand::Man
    ) {
        // diesel's words first for a `.env` that does not parse, under its commands.
        if matches!(cli.command, BinaryCommand::Pelican(_)) {
            load_dotenv()?;
        } else {
            super::dotenv::load_dotenv_as_diesel()?;
        }
    }
    let paths = diesel::Paths {
        migration_dir: cli.migration_dir.as_deref(),
        config_file: cli.config_file.as_deref(),
    };
    let done = |()| Outcome::Done;
    match &cli.command {
        BinaryCommand::Pelican(command) => pelican(&cli, command),
        // diesel's line for a migration that failed first, then pelican's error.
        BinaryCommand::Setup(args) => {
            diesel::said_as_diesel(diesel::setup(&cli.options, &paths, args)).map(done)
        }
        BinaryCommand::Migration { command } => {
            diesel::said_as_diesel(diesel::migration(&cli.options, &paths, command)).map(done)
        }
        BinaryCommand::Database { command } => {
            diesel::said_as_diesel(diesel::database(&cli.options, &paths, command)).map(done)
        }
        BinaryCommand::PrintSchema(args) => {
            let toml = config::DieselToml::find(paths.config_file)?;
            schema::print(&cli.options, toml, args).map(done)
        }
        BinaryCommand::Completions { shell } => shell::completions(*shell).map(done),
        BinaryCommand::Man => shell::man().map(done),
    }
}

/// One of pelican's own commands, on the migrations folder of the command line.
fn pelican(cli: &Cli, command: &Command) -> Result<Outcome> {
    let dir = config::migration_dir(cli.migration_dir.as_deref(), cli.config_file.as_deref())?;
    // Neither the database nor the migrations are needed: none is read.
    if let Command::Generate(args) = command {
        return args.generate(&cli.options, &dir);
    }
    let migrations = Migrations::from_dir(&dir)?;
    let snapshots = Snapshots {
        dir: Some(dir),
        embedded: Vec::new(),
        config_file: cli.config_file.clone(),
    };
    execute(&cli.options, command, &migrations, None, &snapshots)
}
