//! diesel CLI's command line as an alias tree of pelican's: `setup`, `migration
//! run|revert|redo|list|pending|generate` and `database setup|reset|drop`, with diesel's
//! flags, defaults and output, so that `alias diesel=pelican` changes nothing a
//! developer sees (but pelican's guards, lock and checks run underneath).

use super::out::{errln, outln, shown, shown_lines};
use std::path::{Path, PathBuf};

use crate::config::{self, DieselToml};
use crate::server::refuse_system_database;
use crate::{generate, setup, Direction, Migrations, Migrator, Result, Target};

use super::render::WARNING;
use super::{schema, Options};

/// diesel's `migration` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum MigrationCommand {
    /// Runs all pending migrations.
    Run,
    /// Reverts the specified migrations (the last one by default).
    Revert {
        /// Reverts previously run migration files.
        #[arg(short = 'a', long = "all", conflicts_with = "number")]
        all: bool,
        /// Reverts the last `n` migration files.
        #[arg(
            short = 'n',
            long = "number",
            default_value_t = 1,
            value_name = "REVERT_NUMBER"
        )]
        number: u64,
    },
    /// Reverts and re-runs the latest migration. Useful for testing that a migration can
    /// in fact be reverted.
    Redo {
        /// Reverts and re-runs all migrations.
        #[arg(short = 'a', long = "all", conflicts_with = "number")]
        all: bool,
        /// Redo the last `n` migration files.
        #[arg(
            short = 'n',
            long = "number",
            default_value_t = 1,
            value_name = "REDO_NUMBER"
        )]
        number: u64,
    },
    /// Lists all available migrations, marking those that have been applied.
    List,
    /// Returns true if there are any pending migrations.
    Pending,
    /// Generate a new migration with the given name, and the current timestamp as the
    /// version (diesel 2.3's YYYY-MM-DD-HHMMSS-XXXX, XXXX a hex counter within the second).
    Generate {
        /// The name of the migration to create.
        name: String,
        /// The version number to use when generating the migration. Defaults to the
        /// current timestamp, which should suffice for most use cases.
        #[arg(long = "version", value_name = "VERSION")]
        version: Option<String>,
        /// Don't generate a down.sql file. You won't be able to run migration `revert` or
        /// `redo`.
        #[arg(short = 'u', long = "no-down")]
        no_down: bool,
        /// diesel's: populate the migration from the difference between schema.rs and the
        /// database. Not supported by pelican: refused, nothing written.
        #[arg(
            long = "diff-schema",
            value_name = "SCHEMA_RS",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "NOT_SET"
        )]
        diff_schema: Option<String>,
        /// With --diff-schema (refused): diesel's option.
        #[arg(
            long = "sqlite-integer-primary-key-is-bigint",
            requires = "diff_schema"
        )]
        sqlite_integer_primary_key_is_bigint: bool,
        /// With --diff-schema (refused): table names to filter.
        #[arg(value_name = "TABLE_NAME")]
        table_names: Vec<String>,
        /// With --diff-schema (refused): only the tables matching a TABLE_NAME.
        #[arg(short = 'o', long = "only-tables", num_args = 0, default_missing_value = "true", action = clap::ArgAction::Append)]
        only_tables: Vec<bool>,
        /// With --diff-schema (refused): the tables matching no TABLE_NAME.
        #[arg(short = 'e', long = "except-tables", num_args = 0, default_missing_value = "true", action = clap::ArgAction::Append)]
        except_tables: Vec<bool>,
        /// With --diff-schema (refused): the diesel.toml configuration to compare with.
        #[arg(long = "schema-key", value_name = "KEY")]
        schema_key: Vec<String>,
    },
}

/// diesel's `database` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum DatabaseSubcommand {
    /// Creates the database specified in your DATABASE_URL, and then runs any existing
    /// migrations.
    Setup(SetupArgs),
    /// Resets your database by dropping the database specified in your DATABASE_URL and
    /// then running `database setup`.
    Reset(SetupArgs),
    /// Drops the database specified in your DATABASE_URL.
    #[command(hide = true)]
    Drop,
}

/// The flag `setup` takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SetupArgs {
    /// Don't generate the default migration.
    #[arg(long = "no-default-migration")]
    pub no_default_migration: bool,
}

/// Where the migrations folder and diesel.toml are, as the command line says.
pub(super) struct Paths<'a> {
    pub migration_dir: Option<&'a Path>,
    pub config_file: Option<&'a Path>,
}

impl Paths<'_> {
    fn migration_dir(&self) -> Result<PathBuf> {
        config::migration_dir(self.migration_dir, self.config_file)
    }

    fn toml(&self) -> Result<DieselToml> {
        DieselToml::find(self.config_file)
    }
}

/// diesel's lines as a migration runs: `Running migration NAME`, `Rolling back
/// migration NAME` (none for the initial setup migration), on stdout.
fn progress(event: crate::Progress<'_>) {
    let crate::Progress::Starting { step, .. } = event else {
        return;
    };
    if step.migration.version() == "00000000000000" {
        return;
    }
    match step.direction {
        Direction::Up => outln!("Running migration {}", shown(step.migration.name())),
        Direction::Down => outln!("Rolling back migration {}", shown(step.migration.name())),
    }
}

fn migrator<'m>(options: &Options, migrations: &'m Migrations) -> Migrator<'m> {
    // diesel runs applied migrations whose files changed (the edit-then-redo habit).
    Migrator::new(migrations)
        .with_progress(&progress)
        .lock_timeout(options.lock_timeout)
        .accept_changed()
        // diesel commits each migration: what ran before a failure stays.
        .atomic(false)
}

fn read_migrations(dir: &Path) -> Result<Migrations> {
    let migrations = Migrations::from_dir(dir)?;
    for warning in migrations.warnings() {
        errln!(
            "{WARNING}warning:{WARNING:#} {}",
            shown_lines(&warning.to_string())
        );
    }
    Ok(migrations)
}

/// `setup`: the migrations folder, diesel.toml, the database, then the migrations on a
/// database that has no migrations table yet. No schema file is written (diesel's
/// `setup` writes none; `database setup` does).
pub(super) fn setup(options: &Options, paths: &Paths<'_>, args: &SetupArgs) -> Result<()> {
    let dir = match paths.migration_dir() {
        Ok(dir) => dir,
        Err(_) => config::project_root()?.join("migrations"),
    };
    if !dir.exists() {
        outln!("Creating migrations directory at: {}", dir.display());
    }
    setup::create_migrations_dir(&dir)?;
    let config_file = config::config_file(paths.config_file);
    if !config_file.exists() {
        setup::write_default_config(&config_file, &dir, &config::project_root()?)?;
    }
    let url = options.url()?;
    setup_database(options, &url, &dir, args)
}

/// diesel's `setup_database`: create the database, write PostgreSQL's initial setup
/// migration, and run the migrations if the database has no migrations table.
fn setup_database(options: &Options, url: &str, dir: &Path, args: &SetupArgs) -> Result<()> {
    if let Some(name) = setup::create_database(url, options.wait)? {
        outln!("Creating database: {name}");
    }
    if !args.no_default_migration {
        setup::write_initial_setup(dir, crate::Backend::from_url(url)?)?;
    }
    let mut conn = options.connect(url)?;
    let none = Migrations::default();
    if Migrator::new(&none).status(&mut conn)?.managed {
        return Ok(());
    }
    let migrations = read_migrations(dir)?;
    warn(&migrator(options, &migrations).migrate(&mut conn, &Target::Head)?);
    // With nothing to run, diesel still leaves its migrations table: a second setup
    // finds the database set up.
    create_ledger(options, &mut conn)?;
    Ok(())
}

/// Creates the migrations tables if they are missing, as diesel's harness does before
/// it reads them, under the migration lock: two processes creating them at once would
/// race (PostgreSQL refuses the second `CREATE TABLE IF NOT EXISTS` with a duplicate
/// key in `pg_type`).
fn create_ledger(options: &Options, conn: &mut crate::AnyConnection) -> Result<()> {
    crate::lock::with(conn, options.lock_timeout, |conn| {
        crate::ledger::Ledger::open(conn)?.create(conn)
    })
}

/// `database setup|reset|drop`.
pub(super) fn database(
    options: &Options,
    paths: &Paths<'_>,
    command: &DatabaseSubcommand,
) -> Result<()> {
    match command {
        DatabaseSubcommand::Drop => {
            let url = options.url()?;
            let allow = options.allow_maintenance_database;
            refuse_system_database(&url, "database drop", allow)?;
            drop_database(&url, allow)
        }
        DatabaseSubcommand::Setup(args) | DatabaseSubcommand::Reset(args) => {
            let dir = paths.migration_dir()?;
            let toml = paths.toml()?;
            let url = options.url()?;
            if let DatabaseSubcommand::Reset(_) = command {
                let allow = options.allow_maintenance_database;
                refuse_system_database(&url, "database reset", allow)?;
                drop_database(&url, allow)?;
            }
            setup_database(options, &url, &dir, args)?;
            schema::regenerate(options, &toml, &url)?;
            Ok(())
        }
    }
}

fn drop_database(url: &str, allow_maintenance: bool) -> Result<()> {
    if let Some(name) = setup::drop_database_allowing(url, allow_maintenance)? {
        outln!("Dropping database: {name}");
    }
    Ok(())
}

/// `migration …`.
pub(super) fn migration(
    options: &Options,
    paths: &Paths<'_>,
    command: &MigrationCommand,
) -> Result<()> {
    if let MigrationCommand::Generate {
        name,
        version,
        no_down,
        diff_schema,
        ..
    } = command
    {
        if diff_schema.is_some() {
            return Err(diff_schema_refused());
        }
        return generate_migration(paths, name, version.clone(), *no_down);
    }
    let url = options.url()?;
    let mut conn = options.connect(&url)?;
    // diesel's harness creates its migrations table before it reads it, whatever the
    // command (`migration list` on a new database leaves one).
    create_ledger(options, &mut conn)?;
    let dir = paths.migration_dir()?;
    let toml = paths.toml()?;
    let migrations = read_migrations(&dir)?;
    let migrator = migrator(options, &migrations);
    // diesel's count for revert and redo: every applied migration with --all, else the
    // newest `number` of them (fewer when fewer are applied).
    let how_many = |conn: &mut crate::AnyConnection, all: bool, number: u64| -> Result<usize> {
        let status = migrator.status(conn)?;
        let applied = status.history.iter().filter(|e| e.applied).count();
        Ok(if all {
            applied
        } else {
            applied.min(clamp(number))
        })
    };
    match command {
        MigrationCommand::Run => {
            // As diesel's harness: applied versions the folder lacks are left alone.
            let migrator = migrator.ignore_unknown_applied();
            warn(&migrator.migrate(&mut conn, &Target::Head)?);
        }
        MigrationCommand::Revert { all, number } => {
            let n = how_many(&mut conn, *all, *number)?;
            if n > 0 {
                let target = if *all {
                    Target::Base
                } else {
                    Target::Relative(-(n as i64))
                };
                warn(&migrator.downgrade(&mut conn, &target)?);
            }
        }
        MigrationCommand::Redo { all, number } => {
            let n = how_many(&mut conn, *all, *number)?;
            if n > 0 {
                warn(&migrator.redo(&mut conn, n)?);
            }
        }
        MigrationCommand::List => {
            let status = migrator.status(&mut conn)?;
            outln!("Migrations:");
            for entry in &status.history {
                if let Some(name) = &entry.name {
                    let mark = if entry.applied { 'X' } else { ' ' };
                    outln!("  [{mark}] {}", shown(name));
                }
            }
            return Ok(());
        }
        MigrationCommand::Pending => {
            let status = migrator.status(&mut conn)?;
            outln!("{}", status.pending().next().is_some());
            return Ok(());
        }
        MigrationCommand::Generate { .. } => return Ok(()),
    }
    drop(conn);
    schema::regenerate(options, &toml, &url)?;
    Ok(())
}

/// diesel's first line for a migration that failed, printed on stderr before
/// pelican's error (which names the file, line and statement): `Failed to run
/// migrations: Failed to run NAME with: MESSAGE`, the message being diesel's error as
/// diesel displays it, as diesel CLI prints it (scripts and diesel's own tests look for
/// it). Errors of other kinds pass through as they are.
pub(super) fn said_as_diesel<T>(result: Result<T>) -> Result<T> {
    if let Err(error) = &result {
        if let Some(line) = diesel_failure(error) {
            errln!("{}", shown_lines(&line));
        }
    }
    result
}

/// The line diesel CLI prints for a migration's failure, when `error` is one.
fn diesel_failure(error: &crate::Error) -> Option<String> {
    let (migration, message) = match error.cause() {
        crate::Error::Statement {
            migration,
            message,
            source,
            ..
        } => (
            migration,
            source
                .as_ref()
                .map_or_else(|| message.clone(), ToString::to_string),
        ),
        crate::Error::Migration {
            migration, message, ..
        } => (migration, message.clone()),
        _ => return None,
    };
    Some(format!(
        "Failed to run migrations: Failed to run {migration} with: {message}"
    ))
}

/// The warnings of a run's steps, as `migrate`, `downgrade` and `redo` print them:
/// diesel's commands run the same guards, and say the same.
fn warn(report: &crate::Report) {
    super::render::step_warnings(&report.steps);
}

/// A count from the command line as a number of migrations.
fn clamp(number: u64) -> usize {
    usize::try_from(number).unwrap_or(usize::MAX)
}

/// `--diff-schema`, refused before anything is written: a migration written from a
/// wrong reading of `schema.rs` would be worse than none (docs/diesel-cli.md).
fn diff_schema_refused() -> crate::Error {
    crate::Error::NotSupported {
        option: "`migration generate --diff-schema`".to_owned(),
        instead: "it does not write a migration from the difference between schema.rs and \
                  the database, and wrote nothing; generate the migration without \
                  --diff-schema and write its up.sql and down.sql, then `pelican check` \
                  runs them up, down and up again on a scratch database"
            .to_owned(),
    }
}

/// `migration generate`: diesel's folder, its `.diesel_lock`, and its lines.
fn generate_migration(
    paths: &Paths<'_>,
    name: &str,
    version: Option<String>,
    no_down: bool,
) -> Result<()> {
    let dir = paths.migration_dir()?;
    // diesel locks the folder through this file while it generates, and leaves it.
    let lock = dir.join(".diesel_lock");
    if !lock.exists() {
        std::fs::File::create(&lock).map_err(|source| crate::Error::Io {
            path: lock.clone(),
            source,
        })?;
    }
    let options = generate::Options { version, no_down };
    let made = generate::create(&dir, name, &options, chrono::Utc::now())?;
    let cwd = std::env::current_dir().map_err(|source| crate::Error::Io {
        path: PathBuf::from("."),
        source,
    })?;
    let relative = generate::relative_to(&made.folder, &cwd);
    for file in &made.files {
        if let Some(file_name) = file.file_name() {
            outln!("Creating {}", relative.join(file_name).display());
        }
    }
    Ok(())
}
