//! What the ledger says: `current`, `history`, `heads`, `pending`; and `stamp`, which
//! records an applied state without running any SQL.

use super::{Context, Handler};
use crate::cli::Outcome;
use crate::{Result, Status};

/// `current`.
pub(super) struct Current;

impl Handler for Current {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        ctx.out.current(&status(&ctx)?).map(|()| Outcome::Done)
    }
}

/// `history`.
pub(super) struct History;

impl Handler for History {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        ctx.out.history(&status(&ctx)?).map(|()| Outcome::Done)
    }
}

/// `heads`.
pub(super) struct Heads;

impl Handler for Heads {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        ctx.out.heads(&status(&ctx)?).map(|()| Outcome::Done)
    }
}

/// `pending`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PendingArgs {
    /// Exit with 1 when a migration is pending, 0 when none is (as dbmate's
    /// `status --exit-code`), for a script or a deploy step that asks "is there
    /// anything to migrate?". What is printed stays the same.
    #[arg(long)]
    pub exit_code: bool,
}

impl Handler for PendingArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let status = status(&ctx)?;
        ctx.out.pending(&status)?;
        if self.exit_code && status.pending().next().is_some() {
            return Ok(Outcome::Pending);
        }
        Ok(Outcome::Done)
    }
}

/// `stamp`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StampArgs {
    /// head, base, a version, +N or -N.
    #[arg(allow_hyphen_values = true)]
    pub target: String,
}

impl Handler for StampArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let mut conn = ctx.connect()?;
        let migrator = ctx.migrator(false);
        let report = migrator.stamp(&mut conn, &self.target.parse()?)?;
        ctx.out
            .stamped(&report, &migrator.status(&mut conn)?)
            .map(|()| Outcome::Done)
    }
}

/// What the ledger says, read without making a SQLite file that does not exist.
pub(super) fn status(ctx: &Context<'_>) -> Result<Status> {
    let mut conn = ctx.connect_to_read()?;
    ctx.migrator(false).status(&mut conn)
}
