//! `fleet status|migrate|downgrade|init`: the commands of one application's many
//! databases (or PostgreSQL schemas), over [`crate::fleet::Fleet`].

use std::path::PathBuf;

use super::run::HowArgs;
use super::{Context, Handler};
use crate::cli::context::Snapshots;
use crate::cli::{fleet as render, Options, Outcome};
use crate::fleet::{Fleet, FleetReport, TenantReport};
use crate::{Error, Migrations, Migrator, Result, Target};

/// The heading the fleet's own options are listed under in `--help`.
const FLEET: &str = "Fleet options";

/// `fleet`'s arguments: where its targets are, how many run at a time, and its command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FleetArgs {
    /// A file of targets: one database URL a line (a SQLite path, postgres://…,
    /// mysql://…); blank lines and lines starting with # are left out, and ${VAR} is
    /// replaced by the environment's VAR, so that no password need be written in it (a
    /// VAR that is not set is an error naming it and its line). Taken with any
    /// --database-url given: fleet commands take --database-url more than once, each a
    /// target.
    #[arg(long, global = true, help_heading = FLEET, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// The schemas of the one PostgreSQL --database-url whose names match PATTERN, each
    /// a tenant: its ledger in that schema, its migrations run with search_path set to
    /// it.
    ///
    /// PATTERN is a glob: * matches any run of characters, ? one, and everything else
    /// (_ and % included) itself: tenant_* matches tenant_acme. PostgreSQL's own
    /// schemas (pg_*, information_schema) are never taken.
    #[arg(long, global = true, help_heading = FLEET, value_name = "PATTERN", conflicts_with = "targets")]
    pub schemas: Option<String>,

    /// How many targets run at a time (default: the number of cores).
    #[arg(short = 'j', long, global = true, help_heading = FLEET, value_name = "N")]
    pub jobs: Option<usize>,

    /// Go on starting targets after one fails. Without it, no target starts after the
    /// first failure, and those running finish; the report lists those not started.
    #[arg(long, global = true, help_heading = FLEET)]
    pub keep_going: bool,

    /// The command.
    #[command(subcommand)]
    pub command: FleetCommand,
}

/// The fleet's commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum FleetCommand {
    /// Show each target's applied version and pending migrations; change nothing.
    Status,

    /// Migrate each target up to TARGET (default: head), as `pelican migrate` would
    /// migrate it alone: the same run, under the same per-database lock.
    ///
    /// A target already at TARGET is only read. Exit code 1 if any target failed (or was
    /// not started after a failure): run it again once the cause is fixed, and only the
    /// targets not yet at TARGET change.
    Migrate(FleetMigrateArgs),

    /// Revert each target down to TARGET (-N, a version, or base), as `pelican
    /// downgrade` would.
    Downgrade(FleetDowngradeArgs),

    /// Create each target where it is missing and build it at head, as `pelican init`
    /// would: a database that is created, or fresh, gets the snapshot (or every up.sql
    /// in one batch) and is stamped head; a schema tenant's schema is created first; a
    /// managed one is left as it is.
    Init,
}

/// `fleet migrate`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FleetMigrateArgs {
    /// Where to stop: head, +N, or a version.
    #[arg(allow_hyphen_values = true)]
    pub target: Option<String>,
    /// How each run goes.
    #[command(flatten)]
    pub how: HowArgs,
}

/// `fleet downgrade`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FleetDowngradeArgs {
    /// Where to stop: -N, a version, or base.
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// How each run goes.
    #[command(flatten)]
    pub how: HowArgs,
}

impl Handler for FleetArgs {
    fn changes_database(&self) -> bool {
        !matches!(self.command, FleetCommand::Status)
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        self.run_fleet(ctx.options, ctx.migrations, ctx.snapshots)
    }
}

impl FleetArgs {
    /// Runs the command on every target and prints the fleet's report; exit code 1
    /// (and no error) when a target failed or was not started.
    pub(in crate::cli) fn run_fleet<'a>(
        &self,
        options: &Options,
        migrations: &'a Migrations,
        snapshots: &Snapshots,
    ) -> Result<Outcome> {
        let fleet = self.fleet(options)?;
        let name = self.name();
        let progress = |report: &TenantReport, tally| render::progress(options, report, tally);
        let progress: Option<crate::fleet::Progress<'_>> = Some(&progress);
        let report: FleetReport = match &self.command {
            FleetCommand::Status => fleet.status(migrations, None),
            FleetCommand::Migrate(args) => {
                let target = match &args.target {
                    Some(text) => text.parse()?,
                    None => Target::Head,
                };
                let setup = |m: Migrator<'a>| args.how.apply(m.lock_timeout(options.lock_timeout));
                fleet.migrate(migrations, setup, &target, progress)
            }
            FleetCommand::Downgrade(args) => {
                let target = args.target.parse()?;
                let setup = |m: Migrator<'a>| args.how.apply(m.lock_timeout(options.lock_timeout));
                fleet.downgrade(migrations, setup, &target, progress)
            }
            FleetCommand::Init => {
                let texts: Vec<String> = snapshots
                    .all()?
                    .iter()
                    .map(|s| s.sql().to_owned())
                    .collect();
                fleet.init(
                    migrations,
                    |boot| {
                        let boot = boot
                            .statement_timeout(options.statement_timeout)
                            .allow_maintenance_database(options.allow_maintenance_database);
                        texts
                            .iter()
                            .fold(boot, |boot, text| boot.snapshot(text.as_str()))
                    },
                    progress,
                )
            }
        };
        render::report(options, name, &report);
        Ok(match report.is_ok() {
            true => Outcome::Done,
            false => Outcome::TargetsFailed,
        })
    }

    /// The command's name, as the report's document gives it.
    fn name(&self) -> &'static str {
        match self.command {
            FleetCommand::Status => "fleet status",
            FleetCommand::Migrate(_) => "fleet migrate",
            FleetCommand::Downgrade(_) => "fleet downgrade",
            FleetCommand::Init => "fleet init",
        }
    }

    /// The fleet the options name: the targets file's and every --database-url, or the
    /// schemas of the one --database-url; DATABASE_URL when neither is given.
    fn fleet(&self, options: &Options) -> Result<Fleet> {
        every_url_parsed(options)?;
        let fleet = match &self.schemas {
            Some(pattern) => {
                let url = options.url()?;
                Fleet::from_schemas(&url, pattern)?
            }
            None => {
                let mut tenants = match &self.targets {
                    Some(path) => Fleet::from_file(path)?.tenants().to_vec(),
                    None => Vec::new(),
                };
                let urls = match (&self.targets, options.database_url.is_empty()) {
                    (None, true) => vec![options.url()?],
                    _ => options.database_url.clone(),
                };
                tenants.extend(urls.into_iter().map(crate::fleet::Tenant::database));
                Fleet::new(tenants)
            }
        };
        if fleet.tenants().is_empty() {
            return Err(Error::FleetTargets {
                reason: match &self.schemas {
                    Some(pattern) => format!("no schema matches {pattern}"),
                    None => "the targets file lists no target".to_owned(),
                },
            });
        }
        let fleet = match self.jobs {
            Some(jobs) => fleet.jobs(jobs),
            None => fleet,
        };
        Ok(fleet
            .keep_going(self.keep_going)
            .wait(options.wait)
            .timeouts(options.timeouts()))
    }
}

/// Refuses `--database-url` given both before and after `fleet`: clap keeps a global
/// option's values from one level of the command line only, and a target must not be
/// left out without a word.
fn every_url_parsed(options: &Options) -> Result<()> {
    let given = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .filter(|arg| arg == "--database-url" || arg.starts_with("--database-url="))
        .count();
    match given > options.database_url.len() {
        true => Err(Error::FleetTargets {
            reason: format!(
                "--database-url was given {given} times, before and after `fleet`, and only \
                 those on one side would be read: give them all on the same side"
            ),
        }),
        false => Ok(()),
    }
}
