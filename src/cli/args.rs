//! What every command takes: the global options (`--database-url`, `--format`, the
//! waits and limits…), and the values shared by several commands' arguments.

use std::time::Duration;

use clap::ValueEnum;

use crate::connection::Timeouts;
use crate::url_secret::redact_url;
use crate::{connect_with_retry, lock, AnyConnection, Result};

/// The heading the options every command takes are listed under in `--help`, apart
/// from the command's own.
pub(super) const GLOBAL: &str = "Global options";

/// The options every command takes, in the `pelican` binary and in the mounted
/// [`DatabaseCommand`] alike.
#[derive(Clone, clap::Args)]
pub(crate) struct Options {
    /// The database URL: postgres://…, mysql://…, or a SQLite file path.
    ///
    /// When absent, DATABASE_URL is read from the environment, then from a .env file in
    /// the working directory or above. The password is never printed.
    // Given more than once only to `fleet`, where each is a target (its help says so):
    // any other command refuses a second one.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL", action = clap::ArgAction::Append)]
    pub database_url: Vec<String>,

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
                &self
                    .database_url
                    .iter()
                    .map(|url| redact_url(url))
                    .collect::<Vec<_>>(),
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
            database_url: Vec::new(),
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
    /// The database's URL, for a command that runs on one database: `--database-url`,
    /// else `DATABASE_URL` (the environment, then `.env`); given more than once, refused.
    pub(super) fn url(&self) -> Result<String> {
        match self.database_url.as_slice() {
            [] => crate::config::database_url(None),
            [url] => crate::config::database_url(Some(url)),
            many => Err(crate::Error::ManyDatabaseUrls { count: many.len() }),
        }
    }

    /// The waits and limits a connection of this command gets.
    pub(super) fn timeouts(&self) -> Timeouts {
        Timeouts {
            lock: self.lock_timeout,
            statement: self.statement_timeout,
        }
    }

    /// Connects to the database, retrying for up to `--wait`, with this command's
    /// timeouts set on the session.
    pub(super) fn connect(&self, url: &str) -> Result<AnyConnection> {
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

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
    /// diesel's `migration generate --format sql`, its only format; text elsewhere.
    #[value(hide = true)]
    Sql,
}

/// The server `check` and `snapshot` make their scratch databases on; its password is
/// never shown, a debug print included.
#[derive(Clone)]
pub(crate) struct ScratchUrl(pub(crate) String);

impl std::fmt::Debug for ScratchUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScratchUrl({:?})", redact_url(&self.0))
    }
}

/// `--scratch-url`'s value.
pub(super) fn scratch_url(text: &str) -> std::result::Result<ScratchUrl, String> {
    Ok(ScratchUrl(text.to_owned()))
}
