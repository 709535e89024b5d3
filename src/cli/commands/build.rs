//! `init`, `boot` and `adopt`: the commands that build a database at head, or take one
//! over.

use super::{Context, Handler};
use crate::cli::args::{scratch_url, ScratchUrl};
use crate::cli::Outcome;
use crate::{env_flag, Result};

/// `init`.
pub(super) struct Init;

impl Handler for Init {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, mut ctx: Context<'_>) -> Result<Outcome> {
        let texts = ctx.snapshot_texts()?;
        let options = ctx.options;
        let boot = ctx
            .boot(&texts)
            .statement_timeout(options.statement_timeout)
            .allow_maintenance_database(options.allow_maintenance_database);
        let report = ctx.out.working("Building the database at head", || {
            boot.run_url(ctx.url, options.wait)
        })?;
        ctx.out
            .boot(
                "init",
                report.created.then_some(ctx.url),
                &report,
                ctx.migrations,
            )
            .map(|()| Outcome::Done)
    }
}

/// `boot`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BootArgs {
    /// Adopt a database that has tables but no migrations table, as the adopt
    /// command does (the newest version whose schema it has is stamped, none of the
    /// history runs on it), then upgrade it when AUTO_MIGRATE is on.
    #[arg(long)]
    pub adopt: bool,
    /// Upgrade committing each migration on its own, as diesel does, instead of
    /// joining them into one transaction (see migrate --atomic).
    #[arg(long)]
    pub no_atomic: bool,
}

impl Handler for BootArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, mut ctx: Context<'_>) -> Result<Outcome> {
        let texts = ctx.snapshot_texts()?;
        // Read before connecting: a bad value is refused with the database untouched.
        let auto_migrate = env_flag("AUTO_MIGRATE")?;
        let mut conn = ctx.connect()?;
        let boot = ctx
            .boot(&texts)
            .auto_migrate(auto_migrate)
            .atomic(!self.no_atomic);
        let boot = match self.adopt {
            true => boot.adopt(ctx.url),
            false => boot,
        };
        let report = boot.run(&mut conn)?;
        ctx.out
            .boot("boot", None, &report, ctx.migrations)
            .map(|()| Outcome::Done)
    }
}

/// `adopt`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AdoptArgs {
    /// Make the scratch database on this server (a URL of the same backend; its
    /// database is only connected to) instead of the database's own. For SQLite: a
    /// folder for the temporary file.
    #[arg(long, value_name = "URL", value_parser = scratch_url)]
    pub scratch_url: Option<ScratchUrl>,
}

impl Handler for AdoptArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let texts = ctx.snapshot_texts()?;
        let mut conn = ctx.connect()?;
        let mut adopt =
            crate::Adopt::new(ctx.migrations, ctx.url).lock_timeout(ctx.options.lock_timeout);
        if let Some(ScratchUrl(scratch_url)) = &self.scratch_url {
            adopt = adopt.scratch_url(scratch_url.clone());
        }
        for text in &texts {
            adopt = adopt.snapshot(text.as_str());
        }
        ctx.out
            .adopted(&adopt.run(&mut conn)?, ctx.migrations)
            .map(|()| Outcome::Done)
    }
}
