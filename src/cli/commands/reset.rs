//! `reset`: drop every object in the database, then build it at head; or, with
//! `--dry-run`, list what it would drop.

use super::{Context, Handler};
use crate::cli::{confirm, Outcome};
use crate::server::refuse_system_database;
use crate::url_secret::redact_url;
use crate::{admin, Error, Result};

/// `reset`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ResetArgs {
    /// Confirm: every object and every row in the database goes.
    #[arg(long)]
    pub yes: bool,
    /// List what would be dropped, and drop nothing (no --yes needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Go ahead when objects outside the database's own schema (PostgreSQL) or
    /// database (MySQL) depend on what reset drops: PostgreSQL drops them too, by
    /// CASCADE; MySQL leaves them broken. Without it such a reset is refused, and
    /// --dry-run lists them.
    #[arg(long)]
    pub cascade: bool,
}

impl Handler for ResetArgs {
    fn changes_database(&self) -> bool {
        true
    }

    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        match self.dry_run {
            true => self.dry_run(ctx),
            false => self.reset(ctx),
        }
    }
}

impl ResetArgs {
    /// `reset --dry-run`: what would be dropped, and what depends on it from elsewhere.
    fn dry_run(&self, ctx: Context<'_>) -> Result<Outcome> {
        // Read as the reset itself reads them, so that a bad one is refused alike.
        ctx.snapshot_texts()?;
        let options = ctx.options;
        refuse_system_database(ctx.url, "reset", options.allow_maintenance_database)?;
        let (objects, dependents) = match crate::server::database_exists(ctx.url)? {
            true => {
                let mut conn = ctx.connect()?;
                let objects = admin::objects_to_drop(&mut conn)?;
                (objects, admin::dependents(&mut conn)?)
            }
            false => (Vec::new(), (Vec::new(), "")),
        };
        ctx.out
            .reset_dry_run(ctx.url, &objects, &dependents.0, dependents.1)
            .map(|()| Outcome::Done)
    }

    /// `reset`: drop everything, build at head, write the schema files again.
    fn reset(&self, mut ctx: Context<'_>) -> Result<Outcome> {
        let toml = ctx.diesel_toml()?;
        let texts = ctx.snapshot_texts()?;
        let options = ctx.options;
        refuse_system_database(ctx.url, "reset", options.allow_maintenance_database)?;
        confirm_reset(self.yes, ctx.url)?;
        let created = crate::server::create_database(ctx.url, options.wait)?;
        let mut conn = ctx.connect()?;
        let report = ctx
            .boot(&texts)
            .allow_maintenance_database(options.allow_maintenance_database)
            .cascade(self.cascade)
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
        ctx.regenerate(Some(&toml))
            .map_err(|error| Error::Incomplete {
                report: Box::new(done),
                source: Box::new(error),
            })?;
        ctx.out
            .boot("reset", created.then_some(ctx.url), &report, ctx.migrations)
            .map(|()| Outcome::Done)
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
