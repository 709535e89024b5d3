//! pelican's commands: the [`Command`] group, and one module per family of commands,
//! each holding its commands' arguments and their [`Handler`]s.
//!
//! A new command is a variant of [`Command`] (its help text is the variant's doc
//! comment), its arguments' struct, and that struct's [`Handler`], named in
//! [`Command::handler`].

use clap::Subcommand;

use super::context::Context;
use super::{Outcome, Result};

mod build;
mod check;
mod fleet;
mod generate;
mod lint;
mod reset;
mod run;
mod status;

pub(super) use build::{AdoptArgs, BootArgs};
pub(super) use check::{CheckArgs, SnapshotArgs};
pub(super) use fleet::FleetArgs;
pub(super) use generate::GenerateArgs;
pub(super) use lint::LintArgs;
pub(super) use reset::ResetArgs;
pub(super) use run::{DowngradeArgs, MigrateArgs, RedoArgs, RunArgs};
pub(super) use status::{PendingArgs, StampArgs};

/// What runs a command.
pub(super) trait Handler {
    /// Whether the command may change the database by running migrations (or building
    /// it): a signal then stops it between two migrations rather than inside one.
    fn changes_database(&self) -> bool {
        false
    }

    /// Runs the command against the database and prints its result (errors are the
    /// caller's to print); how it ended.
    fn run(&self, ctx: Context<'_>) -> Result<Outcome>;
}

/// pelican's commands, as a clap subcommand group.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    Migrate(MigrateArgs),

    /// Revert applied migrations down to TARGET.
    ///
    /// TARGET is -N (the newest N applied, by version), a version (it stays applied), or
    /// base (revert everything).
    Downgrade(DowngradeArgs),

    /// Revert the newest N applied migrations and apply them again.
    Redo(RedoArgs),

    /// Show the newest applied migration, with "(head)" when nothing is pending.
    Current,

    /// List every migration, oldest first, applied ([X]) or pending ([ ]), with when it ran.
    History,

    /// Show the newest available migration.
    Heads,

    /// List the migrations not applied yet.
    Pending(PendingArgs),

    /// Record TARGET as the applied state without running any SQL.
    ///
    /// The applied set becomes exactly the migrations up to TARGET (head, base, a
    /// version, or +N/-N from the current one). For recording a version you know a
    /// database is at (adopt finds it for you), or repairing the record after a manual
    /// fix.
    Stamp(StampArgs),

    /// Create a new migration folder, YYYY-MM-DD-HHMMSS-XXXX_NAME, with up.sql and down.sql.
    ///
    /// The name is diesel 2.3's: the UTC time and a counter within the second in
    /// lowercase hexadecimal (-0000 … -0009, -000a …), as `diesel migration generate`
    /// writes it.
    Generate(GenerateArgs),

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
    Check(CheckArgs),

    /// Find the statements of migrations that lock or break a busy production
    /// database, without running them. Exit code 1 on an error-level finding.
    ///
    /// Each statement of each up.sql is read (with sqlparser, in the backend's dialect)
    /// and checked against rules with stable names (docs/lint.md), each with a severity
    /// and a one-line fix: an index built without CONCURRENTLY, a constraint validated
    /// under a lock, a column type change that rewrites the table, renames and drops
    /// that break the application version still running, UPDATE or DELETE without
    /// WHERE, a lock waited for without lock_timeout, and more. A table made earlier in
    /// the same run is new, and nothing is reported about locking it. A comment line
    /// `-- pelican: allow RULE` above a statement accepts its finding. Only the URL's
    /// backend is read from it; the database only for the pending migrations.
    Lint(LintArgs),

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
    Snapshot(SnapshotArgs),

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
    Adopt(AdoptArgs),

    /// The boot flow, for container entrypoints: init a fresh database, upgrade a
    /// managed one when AUTO_MIGRATE is on.
    ///
    /// Under the migration lock: a fresh database is built as init builds it; a managed
    /// one with pending migrations is upgraded if AUTO_MIGRATE is 1/true/yes/on, and
    /// otherwise left as it is with a warning listing them (AUTO_MIGRATE unset, empty,
    /// 0/false/no/off); a database newer than these migrations is refused, as is one with
    /// tables but no migrations table (unless --adopt).
    Boot(BootArgs),

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
    Reset(ResetArgs),

    /// Run a command on many databases of the application (or many PostgreSQL schemas of
    /// one), each exactly as the single command would run on it, a few at a time, with
    /// one report.
    ///
    /// The targets: a file of URLs (--targets), --database-url given once or more, or
    /// the schemas of one PostgreSQL database matching a glob (--schemas). Each target
    /// gets its own connection and its own run under its database's migration lock, so
    /// a fleet run and an application booting one tenant never collide. A line on stderr
    /// as each target finishes, then a table on stdout: each target (password hidden),
    /// its result, its version before and after, the migrations run and still pending,
    /// its time and its error. Exit code 1 if any target failed or was not started.
    Fleet(Box<FleetArgs>),
}

impl Command {
    /// Whether it may change the database by running migrations (or building it).
    pub(super) fn changes_database(&self) -> bool {
        self.handler().changes_database()
    }

    /// What runs this command.
    pub(super) fn handler(&self) -> &dyn Handler {
        match self {
            Command::Migrate(args) => args,
            Command::Downgrade(args) => args,
            Command::Redo(args) => args,
            Command::Current => &status::Current,
            Command::History => &status::History,
            Command::Heads => &status::Heads,
            Command::Pending(args) => args,
            Command::Stamp(args) => args,
            Command::Generate(args) => args,
            Command::Check(args) => args,
            Command::Lint(args) => args,
            Command::Snapshot(args) => args,
            Command::Init => &build::Init,
            Command::Adopt(args) => args,
            Command::Boot(args) => args,
            Command::Reset(args) => args,
            Command::Fleet(args) => args.as_ref(),
        }
    }
}
