//! `migrate`, `downgrade` and `redo`: runs of migrations, with the [`RunArgs`] they
//! share.

use super::{Context, Handler};
use crate::cli::Outcome;
use crate::{AnyConnection, Error, Guards, Migrator, Mode, Report, Result, Target};

/// `migrate`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MigrateArgs {
    /// Where to stop: head, +N, or a version.
    #[arg(allow_hyphen_values = true)]
    pub target: Option<String>,
    /// How the run goes.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Handler for MigrateArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        self.run.go(ctx, "migrate", |migrator, conn| {
            let target = match &self.target {
                Some(text) => text.parse()?,
                None => Target::Head,
            };
            migrator.migrate(conn, &target)
        })
    }
}

/// `downgrade`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DowngradeArgs {
    /// Where to stop: -N, a version, or base.
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// How the run goes.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Handler for DowngradeArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        self.run.go(ctx, "downgrade", |migrator, conn| {
            migrator.downgrade(conn, &self.target.parse()?)
        })
    }
}

/// `redo`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RedoArgs {
    /// How many migrations to redo.
    #[arg(short = 'n', long = "number", default_value_t = 1)]
    pub n: usize,
    /// How the run goes.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Handler for RedoArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        self.run
            .go(ctx, "redo", |migrator, conn| migrator.redo(conn, self.n))
    }
}

/// How `migrate`, `downgrade` and `redo` run.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RunArgs {
    /// Show the plan and touch nothing: each migration, each statement with RUN or SKIP
    /// and why. No statement runs; no ledger or journal row is written.
    #[arg(long)]
    pub dry_run: bool,

    /// Print only the SQL that would run, in order, ready for review; touch nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub sql: bool,

    /// How the run treats its migrations.
    #[command(flatten)]
    pub how: HowArgs,
}

/// How a run treats its migrations (guards, checksums, transactions): `migrate`'s,
/// `downgrade`'s and `redo`'s, and each target's of a fleet.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct HowArgs {
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

impl HowArgs {
    /// The migrator, set up as these arguments say.
    pub(super) fn apply<'m>(&self, migrator: Migrator<'m>) -> Migrator<'m> {
        let guards = if self.no_guards {
            Guards::Off
        } else if self.strict_guards {
            Guards::Strict
        } else {
            Guards::On
        };
        let migrator = migrator.guards(guards).atomic(!self.no_atomic);
        if self.accept_changed {
            migrator.accept_changed()
        } else {
            migrator
        }
    }
}

impl RunArgs {
    /// The migrator, set up as these arguments say.
    fn apply<'m>(&self, migrator: Migrator<'m>) -> Migrator<'m> {
        let mode = if self.dry_run || self.sql {
            Mode::DryRun
        } else {
            Mode::Apply
        };
        self.how.apply(migrator).mode(mode)
    }

    /// Whether the run touches nothing (`--dry-run`, `--sql`): it only reads the
    /// database, prints no progress, and writes no schema file.
    fn rehearsal(&self) -> bool {
        self.dry_run || self.sql
    }

    /// Runs `command` (`run`, given the migrator set up as these arguments say) and
    /// prints its report; after a run that is no rehearsal, diesel.toml's schema files
    /// are written again.
    fn go(
        &self,
        ctx: Context<'_>,
        command: &str,
        run: impl FnOnce(Migrator<'_>, &mut AnyConnection) -> Result<Report>,
    ) -> Result<Outcome> {
        let toml = match self.rehearsal() {
            true => None,
            false => Some(ctx.diesel_toml()?),
        };
        let mut conn = match self.rehearsal() {
            true => ctx.connect_to_read()?,
            false => ctx.connect()?,
        };
        let report = run(self.apply(ctx.migrator(self.rehearsal())), &mut conn)?;
        after_run(ctx.regenerate(toml.as_ref()), &report)?;
        let backend = crate::Database::backend(&conn);
        ctx.out
            .report(command, &report, ctx.migrations, self, backend)
            .map(|()| Outcome::Done)
    }
}

/// What followed a run that committed steps (the schema file written again): its
/// failure keeps the run's report, so that the error (and its JSON document) still says
/// which migrations were applied and where the database is.
fn after_run(result: Result<()>, report: &Report) -> Result<()> {
    result.map_err(|error| match report.steps.is_empty() {
        true => error,
        false => Error::Incomplete {
            report: Box::new(report.clone()),
            source: Box::new(error),
        },
    })
}
