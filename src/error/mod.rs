//! The one error type of the library: each variant is a sentence naming what to fix.

use std::path::PathBuf;

mod kind;
mod location;
mod redact;
mod text;

pub use location::Location;
pub(crate) use text::clipped;
use text::list_some;

/// Everything that can go wrong in pelican, with the migration, file and statement it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No URL was given, and `DATABASE_URL` is not set.
    #[error("no database URL: none was given, and DATABASE_URL is not set")]
    NoDatabaseUrl,

    /// A URL whose scheme pelican does not know.
    #[error(
        "unsupported database URL scheme `{scheme}` in {url}: use postgres://, postgresql://, \
         mysql://, or a SQLite file path"
    )]
    UnknownScheme {
        /// The scheme, without `://`.
        scheme: String,
        /// The URL, password hidden.
        url: String,
    },

    /// A server URL pelican will not hand to a driver (see [`crate::Backend::from_url`]).
    #[error("cannot use the database URL {url}: {reason}")]
    BadUrl {
        /// The URL, password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The URL names a backend whose cargo feature this build lacks.
    #[error("{url} needs pelican built with the `{feature}` feature")]
    BackendNotEnabled {
        /// The cargo feature to enable.
        feature: &'static str,
        /// The URL, password hidden.
        url: String,
    },

    /// The database did not answer or refused the connection (diesel CLI's words, which
    /// scripts look for).
    #[error("Could not connect to database via `{url}`: {message}")]
    Connect {
        /// The URL, password hidden.
        url: String,
        /// The driver's message, password hidden.
        message: String,
    },

    /// No migrations folder could be found.
    #[error(
        "no migrations folder: none was given, none is named by MIGRATION_DIRECTORY or \
         diesel.toml, and there is no `migrations/` folder in {searched_from} or above"
    )]
    NoMigrationDirectory {
        /// Where the upward search started.
        searched_from: PathBuf,
    },

    /// The migrations folder given does not exist or is not a folder.
    #[error("migrations folder {path} does not exist or is not a folder")]
    MigrationDirectoryMissing {
        /// The folder named.
        path: PathBuf,
    },

    /// A configuration file (`diesel.toml`) could not be read or parsed.
    #[error("cannot use {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A migration folder that pelican cannot use.
    #[error("invalid migration {path}: {reason}")]
    InvalidMigration {
        /// The migration folder or file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Two migration folders share one version.
    #[error("migrations {first} and {second} have the same version {version}")]
    DuplicateVersion {
        /// The shared version.
        version: String,
        /// The first folder.
        first: String,
        /// The second folder.
        second: String,
    },

    /// A target that is not `head`, `base`, `-N`, `+N` or a version.
    #[error(
        "invalid target `{target}`: expected head, base, -N, +N, or a version (or a unique prefix of one)"
    )]
    BadTarget {
        /// The target as given.
        target: String,
    },

    /// A version target that matches no migration.
    #[error("unknown target `{target}`: no migration has this version")]
    UnknownTarget {
        /// The target as given.
        target: String,
    },

    /// A version prefix that matches more than one migration.
    #[error("ambiguous target `{target}`: it is a prefix of {}", matches.join(", "))]
    AmbiguousTarget {
        /// The target as given.
        target: String,
        /// Every version it matches.
        matches: Vec<String>,
    },

    /// A relative target that reaches past the first or last migration.
    #[error("target `{target}` is out of range: {reason}")]
    TargetOutOfRange {
        /// The target as given.
        target: String,
        /// How far it could go.
        reason: String,
    },

    /// A target that means nothing for this command (`downgrade +1`).
    #[error("target `{target}` cannot be used with {command}")]
    TargetNotForCommand {
        /// The target as given.
        target: String,
        /// The command.
        command: &'static str,
    },

    /// The database holds versions this build's migrations do not have.
    #[error(
        "the database has applied migrations that these migrations do not have: {}; \
         it is newer than this build (deploy the newer migrations, or stamp it if they were removed on purpose)",
        versions.join(", ")
    )]
    DatabaseAhead {
        /// The unknown versions.
        versions: Vec<String>,
    },

    /// A statement of a migration failed.
    #[error("migration {migration} failed: {file}, line {line}: `{statement}`: {message}")]
    Statement {
        /// The migration's folder name.
        migration: String,
        /// The file (`…/up.sql` or `…/down.sql`).
        file: String,
        /// The line of the statement in the file.
        line: usize,
        /// The statement's first line.
        statement: String,
        /// The database's message.
        message: String,
        /// The database's error as diesel reports it, when the statement failed in the
        /// database (a directive pelican could not read has none): applications match
        /// its `DatabaseErrorKind`.
        #[source]
        source: Option<BoxError>,
    },

    /// A migration to run has an empty `up.sql` (zero bytes): diesel's words.
    #[error("Failed to run {migration} with: Attempted to run an empty migration.")]
    EmptyMigration {
        /// The migration's folder name.
        migration: String,
    },

    /// A migration to revert has no `down.sql`.
    #[error(
        "Missing `down.sql` file to revert migration {migration} (it has none, or it is empty): \
         nothing was reverted"
    )]
    NoDown {
        /// The migration's folder name.
        migration: String,
    },

    /// A migration name for `generate` that is not a plain identifier.
    #[error(
        "invalid migration name `{name}`: use letters, digits and underscores (for example add_users_phone)"
    )]
    BadMigrationName {
        /// The name as given.
        name: String,
    },

    /// Another run held the migration lock for longer than the lock timeout.
    #[error(
        "timed out after {waited_secs:.1} s waiting for the migration lock ({lock}), held by {}: \
         another migration run is using this database; let it finish, or allow a longer wait",
        holder.as_deref().unwrap_or("another connection (the database does not say which)")
    )]
    LockTimeout {
        /// Which lock: the advisory key, the `GET_LOCK` name, or SQLite's write lock.
        lock: String,
        /// The session holding it, where the backend can tell (pid or connection id,
        /// application, client, user).
        holder: Option<String>,
        /// How long pelican waited, in seconds.
        waited_secs: f64,
    },

    /// The migration lock could not be given back after a run that succeeded.
    #[error(
        "the migration lock ({lock}) could not be released: {message}; the database \
         releases it when this connection closes (a lease, when it expires)"
    )]
    LockRelease {
        /// Which lock.
        lock: String,
        /// What the database answered.
        message: String,
    },

    /// The run's lease on the migration lock (through a transaction-pooling proxy)
    /// expired while the run held it, and another run may have taken it: the run
    /// stopped at its next migration, or at its end.
    #[error(
        "the migration lock ({lock}) was lost: its lease expired while this run held it \
         (a statement outside any transaction ran longer than the lease), {}; the run \
         stopped there: check what the ledger records, and allow a longer lease \
         (PELICAN_LOCK_LEASE) for such migrations",
        match holder {
            Some(holder) => format!("and it is now held by {holder}"),
            None => "and nobody holds it now".to_owned(),
        }
    )]
    LockLost {
        /// Which lock.
        lock: String,
        /// Who holds it now, as its row says.
        holder: Option<String>,
    },

    /// The transaction a whole run is (SQLite's write lock) could not be committed, so
    /// it was rolled back: nothing the run did was kept.
    #[error(
        "the run could not be committed: {message}; nothing it did was kept (on SQLite a \
         run is one transaction, rolled back whole): run it again once the cause is fixed"
    )]
    Commit {
        /// What the database answered.
        message: String,
    },

    /// Tables, but no migrations table: pelican cannot tell which migrations made them.
    #[error(
        "the database has tables ({}) but no __diesel_schema_migrations table, so it is not \
         managed by diesel or pelican: adopt it (`Adopt`, `Boot::adopt`), which finds the \
         newest migration whose schema the database has and records the history up to it as \
         applied, running none of it on the database",
        list_some(tables)
    )]
    Unmanaged {
        /// Tables and views found.
        tables: Vec<String>,
    },

    /// Adoption found no version whose schema equals the database's.
    #[error(
        "no version of these migrations builds the schema this database has ({compared} \
         compared on a scratch database), so it was not adopted and nothing changed: make the \
         database match one, then adopt again; the closest is {closest}, with {} \
         difference(s) (migrations → database):{}",
        changes.len(),
        crate::outcome::Grouped(changes)
    )]
    NoMatchingVersion {
        /// The closest version, with its migration's description (`base`: before the
        /// first migration).
        closest: String,
        /// The closest version alone (`None`: base).
        version: Option<String>,
        /// What its schema (expected) has that the database's (actual) has not, and the
        /// other way round.
        changes: Vec<crate::outcome::Change>,
        /// How many versions were compared.
        compared: usize,
    },

    /// Adoption could not build the migrations on its scratch database.
    #[error(
        "adoption builds the migrations one by one on a scratch database, to compare each \
         version's schema with the database's, and {migration} failed there: {source}; \
         nothing changed in the database"
    )]
    AdoptionBuild {
        /// The migration's folder name.
        migration: String,
        /// Why it failed.
        source: Box<Error>,
    },

    /// `adopt` on a database that is already managed, or empty.
    #[error("nothing to adopt: {reason}; nothing changed")]
    NothingToAdopt {
        /// What the database is, and what to do instead.
        reason: String,
    },

    /// The application's initial setup (seed) hook failed.
    #[error("the initial setup hook failed: {source}; {outcome}")]
    InitialSetup {
        /// What the database was left as.
        outcome: Left,
        /// The hook's error.
        source: BoxError,
    },

    /// Building a fresh database at head failed, and the failing statement could not be
    /// told apart (replayed one by one, every statement ran).
    #[error("building the schema at head failed: {message}; {outcome}")]
    FreshBuild {
        /// The database's message.
        message: String,
        /// What the database was left as.
        outcome: Left,
    },

    /// A fresh build that could not be one transaction failed, and was undone.
    #[error(
        "{source}; the fresh build was undone: nothing it made was left, and what the \
         database held before it was kept"
    )]
    BuildUndone {
        /// Why the build failed.
        source: Box<Error>,
    },

    /// A failed build of a fresh database could not be undone on a backend whose DDL
    /// commits itself.
    #[error(
        "{source}; and the objects it created could not be dropped again ({message}): \
         empty the database before the next boot"
    )]
    NotUndone {
        /// Why the build failed.
        source: Box<Error>,
        /// Why the cleanup failed.
        message: String,
    },

    /// A boolean environment variable with a value that is not a boolean.
    #[error(
        "{name}={value:?} is not a boolean: use 1, true, yes or on to enable it, and 0, false, \
         no, off or nothing to disable it"
    )]
    BadFlag {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },

    /// An environment variable pelican reads holds what it cannot use.
    #[error("{name}={value:?} is not a valid value: use {expected}")]
    BadSetting {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What it may be.
        expected: &'static str,
    },

    /// A destructive command run without its confirmation flag.
    #[error(
        "{command} drops every table, view and other object in {url}, ledger included, and \
         was not confirmed (stdin is not a terminal, so there is nobody to ask)"
    )]
    NotConfirmed {
        /// The command.
        command: &'static str,
        /// The database, password hidden.
        url: String,
    },

    /// A destructive command declined at its confirmation prompt.
    #[error("{command} cancelled: nothing was dropped")]
    Cancelled {
        /// The command.
        command: &'static str,
    },

    /// An error whose message quoted a secret of the database URL, with the secret
    /// replaced by `***` (the original error cannot be kept: it would print it). It
    /// keeps what the original said about itself: its kind, whether it was a usage
    /// error, and where it happened.
    #[error("{message}")]
    Scrubbed {
        /// The message, secrets hidden.
        message: String,
        /// Whether the original error was a usage error (exit code 2).
        usage: bool,
        /// The original error's [`kind`](Error::kind).
        kind: &'static str,
        /// The original error's [`location`](Error::location), secrets hidden.
        location: Box<Location>,
    },

    /// Applied migrations whose files changed after they ran.
    #[error(
        "applied migrations were edited after they ran: {}; their files differ from the \
         checksums recorded when they ran (restore them, or accept the new checksums)",
        migrations.join(", ")
    )]
    ChangedMigrations {
        /// The migrations' folder names.
        migrations: Vec<String>,
    },

    /// A migration failed as a whole, where no one statement can be named (the
    /// connection died while it ran as one batch).
    #[error("migration {migration} failed: {file}: {message}")]
    Migration {
        /// The migration's folder name.
        migration: String,
        /// The file.
        file: String,
        /// What happened.
        message: String,
    },

    /// A run that failed after some of its steps were done: the error, with the report
    /// of what was done (as refinery returns it). Its message is the error's.
    #[error("{source}")]
    Incomplete {
        /// What the run did before it failed.
        report: Box<crate::outcome::Report>,
        /// Why it stopped.
        #[source]
        source: Box<Error>,
    },

    /// A step of an atomic run failed, and the run's transaction was rolled back: the
    /// migrations it had run in that transaction before the failure were undone with
    /// it, and are named here. Its kind and place are the error's.
    #[error(
        "{source}; the run's transaction was rolled back, undoing the {} migration(s) it had \
         run before this one: {}",
        rolled_back.len(),
        rolled_back.join(", ")
    )]
    RolledBack {
        /// The migrations undone with the rollback, in the order they ran.
        rolled_back: Vec<String>,
        /// Why the run stopped.
        #[source]
        source: Box<Error>,
    },

    /// A statement `--sql` cannot write into a script as it is: the database's client
    /// would send the server something else.
    #[error(
        "cannot write a script of this run: {migration} ({direction}), line {line}: \
         `{statement}` holds `{variable}` outside quotes, which psql replaces with the value \
         of its variable of that name where one is set (`:USER` is the user's name), so the \
         server would not get the statement `migrate` sends; apply it with `pelican migrate`, \
         or put a space after the colon (`x[1: n]` is the same slice)"
    )]
    ScriptVariable {
        /// The migration's folder name.
        migration: String,
        /// `up` or `down`.
        direction: String,
        /// The line of the statement.
        line: usize,
        /// The statement's first line.
        statement: String,
        /// The variable reference, from its `:`.
        variable: String,
    },

    /// A migration an earlier run left half-applied (MySQL/MariaDB commit each DDL
    /// statement) whose next statement existence cannot decide: pelican does not guess.
    #[error(
        "{migration} was left half-applied by an earlier run ({done} statement(s) recorded \
         done); {file}, line {line}: `{statement}` {reason}"
    )]
    HalfApplied {
        /// The migration's folder name.
        migration: String,
        /// The file.
        file: String,
        /// The line of the statement.
        line: usize,
        /// The statement's first line.
        statement: String,
        /// How many statements the earlier run recorded done.
        done: usize,
        /// What is known of the statement, why pelican does not go on, and what would
        /// let it.
        reason: String,
    },

    /// A migration left rows that break a foreign key (SQLite checks them before each
    /// migration commits, with enforcement off while it runs).
    #[error(
        "{migration}: {count} row(s) break foreign keys (first: table {table}, row {row}, \
         referencing {parent}); nothing of this migration was kept"
    )]
    ForeignKeyViolation {
        /// The migration's folder name.
        migration: String,
        /// How many rows `PRAGMA foreign_key_check` reported.
        count: usize,
        /// The first offending row's table.
        table: String,
        /// Its rowid.
        row: String,
        /// The table it references.
        parent: String,
    },

    /// A schema snapshot that cannot be used or written.
    #[error("snapshot {snapshot}: {reason}")]
    Snapshot {
        /// The snapshot: its file, or `snapshot`.
        snapshot: String,
        /// What is wrong.
        reason: String,
    },

    /// `check` found problems (each one is in its report).
    #[error("check found {findings} problem(s)")]
    CheckFailed {
        /// How many.
        findings: usize,
    },

    /// `generate --version` with a version a migration folder already starts with.
    #[error("Specified migration version `{version}` already exists inside `{}`", dir.display())]
    DuplicateMigrationVersion {
        /// The migrations folder.
        dir: PathBuf,
        /// The version given.
        version: String,
    },

    /// More migrations generated in one second than diesel's counter counts.
    #[error(
        "Tried to generate too many migrations with the same version `{version}` - \
         Migrations folder is `{}`",
        dir.display()
    )]
    TooManyMigrations {
        /// The migrations folder.
        dir: PathBuf,
        /// The second, as the version's start.
        version: String,
    },

    /// `setup` found no project: no `diesel.toml` nor `Cargo.toml` here or above.
    #[error(
        "Unable to find diesel.toml or Cargo.toml in {searched_from:?} or any parent \
         directories."
    )]
    ProjectRootNotFound {
        /// Where the upward search started.
        searched_from: PathBuf,
    },

    /// A schema that diesel's `table!` cannot describe, or a configuration
    /// `print-schema` cannot follow.
    #[error("print-schema: {reason}")]
    PrintSchema {
        /// What is wrong, and where.
        reason: String,
    },

    /// A diesel CLI option pelican takes but does not do (`migration generate
    /// --diff-schema`): refused before anything is written, rather than done wrongly.
    #[error("{option} is not supported by pelican: {instead}")]
    NotSupported {
        /// The option, as diesel names it.
        option: String,
        /// What pelican does instead, and what to do.
        instead: String,
    },

    /// `--locked-schema`: the schema file would change.
    #[error(
        "Command would result in changes to `{}`. Rerun the command locally, and commit \
         the changes.",
        path.display()
    )]
    SchemaWouldChange {
        /// The schema file (`[print_schema] file` in `diesel.toml`).
        path: PathBuf,
    },

    /// A scratch database (for `check`, adoption, a snapshot) could not be created.
    #[error(
        "cannot create the scratch database {name} on {server}: {source} (a user that may \
         create databases is needed, or a scratch URL naming another server)"
    )]
    ScratchDatabase {
        /// The scratch database's name.
        name: String,
        /// The server, password hidden.
        server: String,
        /// diesel's error.
        source: diesel::result::Error,
    },

    /// A check (or another command that makes scratch databases) was given a
    /// connection to a server's database and no scratch URL: a connection does not say
    /// which server it is on.
    #[error(
        "scratch databases on {backend} need a scratch URL (Check::scratch_url): a \
         connection does not say which server it is on"
    )]
    NoScratchUrl {
        /// The connection's backend, by name.
        backend: String,
    },

    /// The run was asked to stop ([`crate::interrupt::request`]: SIGINT, SIGTERM) and
    /// stopped between two migrations.
    #[error(
        "interrupted: the run stopped before {next}, which did not run (nor did any after \
         it); every migration reported done before it was committed"
    )]
    Interrupted {
        /// The migration that would have run next (its folder name).
        next: String,
    },

    /// `--format json` with a command whose output is not a report (diesel's commands,
    /// which print diesel's text; `completions`, `man`), where stdout could not be one
    /// JSON document.
    #[error(
        "--format json is not available for `{command}`: it prints {prints}, not a JSON \
         document; run it without --format json"
    )]
    NoJson {
        /// The command.
        command: String,
        /// What it prints instead.
        prints: &'static str,
    },

    /// A destructive command pointed at one of the server's own databases (see
    /// `server::refuse_system_database`); nothing was touched.
    #[error(
        "{command} refuses database {database}: it is one of the server's own databases, \
         and nothing in it is pelican's; nothing was changed{}",
        match allow {
            Some(flag) => format!(
                " (to keep an application's tables in it all the same, pass {flag})"
            ),
            None => " (no flag overrides this)".to_owned(),
        }
    )]
    SystemDatabase {
        /// The command (`reset`, `init`, `database drop`…).
        command: &'static str,
        /// The database's name.
        database: String,
        /// The flag that lets the command go ahead, for the one system database an
        /// application may use as its own (PostgreSQL's `postgres`).
        allow: Option<&'static str>,
    },

    /// `reset` would reach, beyond what it lists, objects elsewhere (another schema or
    /// database) that depend on what it drops; nothing was dropped.
    #[error(
        "reset refused: {} object(s) outside what it drops depend on what it drops \
         ({fate}): {}; nothing was dropped (reset --dry-run lists them; pass --cascade \
         to go ahead all the same)",
        dependents.len(),
        list_some(dependents)
    )]
    Dependents {
        /// The dependent objects, each with what it needs.
        dependents: Vec<String>,
        /// What would happen to them.
        fate: &'static str,
    },

    /// Dropping a database's objects failed part-way, on a server whose drops commit
    /// each (MySQL/MariaDB): what was dropped before the failure is gone.
    #[error(
        "{what} failed part-way: {} object(s) were dropped before the failure and are gone{}; \
         still in the database: {}: {message}",
        dropped.len(),
        if dropped.is_empty() { String::new() } else { format!(" ({})", list_some(dropped)) },
        if left.is_empty() { "nothing".to_owned() } else { list_some(left) }
    )]
    PartlyDropped {
        /// The work: `reset`, or undoing a failed build.
        what: &'static str,
        /// What was dropped before the failure, as `KIND name`.
        dropped: Vec<String>,
        /// What is in the database now, as `KIND name`.
        left: Vec<String>,
        /// The failure.
        message: String,
    },

    /// A record of an unfinished fresh build that does not say what the build made (an
    /// older pelican wrote it): nothing was dropped.
    #[error(
        "the database holds {table}, the record of a fresh build that did not finish, but \
         the record does not say which objects the build made (an older pelican wrote it), \
         so nothing was dropped: drop what that build made by hand, then the table {table}, \
         and run again"
    )]
    UnreadableBuildRecord {
        /// The record's table.
        table: &'static str,
    },

    /// A boot that failed after undoing a fresh build an earlier run left unfinished:
    /// what the undo dropped is gone.
    #[error(
        "{source} (before that, the fresh build an earlier run left unfinished was undone: \
         {} object(s) it made were dropped: {})",
        dropped.len(),
        dropped.join(", ")
    )]
    AfterRecovery {
        /// What the undo dropped, as `KIND name`.
        dropped: Vec<String>,
        /// Why the boot failed.
        source: Box<Error>,
    },

    /// `init` created the database, then failed: the database is left in place, as
    /// diesel CLI's `database setup` leaves it.
    #[error(
        "{source}; database {database} was created by this run and is left in place (run \
         init again once fixed, or drop it)"
    )]
    CreatedAndLeft {
        /// The database's name (the SQLite file's path).
        database: String,
        /// Why the run failed.
        source: Box<Error>,
    },

    /// `check`'s read of a scratch database after a step, scoped to what the step can
    /// have changed, differed from a whole read of it (only with reads verified: see
    /// `Check::verify_reads`). A defect of pelican, not of the migration.
    #[error(
        "check's read after {step} of {migration}, scoped to what it can have changed, differs \
         from a whole read (whole read → scoped read):{changes}"
    )]
    ScopedRead {
        /// The migration's folder name.
        migration: String,
        /// Which run of it (`up.sql`, `down.sql`).
        step: String,
        /// What differed, one per line.
        changes: String,
    },

    /// A query of pelican's own failed.
    #[error("{context}: {source}")]
    Query {
        /// What pelican was doing.
        context: String,
        /// diesel's error.
        source: diesel::result::Error,
    },

    /// A fleet's targets could not be listed: a line of a targets file, a schema
    /// pattern on a database that is not PostgreSQL, a fleet with no target.
    #[error("fleet targets: {reason}")]
    FleetTargets {
        /// What is wrong, and where.
        reason: String,
    },

    /// `--database-url` given more than once to a command that runs on one database.
    #[error(
        "--database-url was given {count} times, but this command runs on one database \
         (`pelican fleet` runs on several)"
    )]
    ManyDatabaseUrls {
        /// How many times it was given.
        count: usize,
    },

    /// A schema tenant's connection whose current schema is not the tenant's: the
    /// server (or a pooler in front of it) did not apply the URL's `search_path`, and
    /// the ledger read and written would be another schema's. Nothing was run.
    #[error(
        "the connection for schema {schema} has current schema {}: the URL's \
         options=-csearch_path was not applied (a pooler that drops startup options, or a \
         schema that does not exist), so nothing was run on it",
        current.as_deref().unwrap_or("none")
    )]
    SchemaNotCurrent {
        /// The tenant's schema.
        schema: String,
        /// The connection's `current_schema()`.
        current: Option<String>,
    },
}

/// What a failed fresh build left the database as, for its error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Left {
    /// Nothing the build made was left, and what the database held before it was kept.
    AsBefore,
    /// A reset's rebuild failed inside its transaction: the database is as it was
    /// before the reset.
    AsBeforeReset,
    /// A reset's rebuild failed after the drops had committed: the database is empty.
    Empty,
}

impl std::fmt::Display for Left {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Left::AsBefore => {
                "nothing the build made was left, and what the database held before it was kept"
            }
            Left::AsBeforeReset => "the database was left as it was before the reset",
            Left::Empty => "the database was left empty",
        })
    }
}

/// pelican's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error, boxed: what an application's hook (a boot's initial setup, a test
/// harness's seed) may return, and what an error of pelican keeps of one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
