//! `check` and `snapshot`: the commands that build the migrations on a scratch
//! database.

use std::path::PathBuf;

use super::{Context, Handler};
use crate::cli::args::{scratch_url, ScratchUrl};
use crate::cli::Outcome;
use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// `check`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CheckArgs {
    /// Make the scratch databases on this server (a URL of the same backend; its
    /// database is only connected to) instead of the database's own. For SQLite: a
    /// folder for the temporary file.
    #[arg(long, value_name = "URL", value_parser = scratch_url)]
    pub scratch_url: Option<ScratchUrl>,
}

impl Handler for CheckArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let options = ctx.options;
        let mut check = crate::Check::new(ctx.migrations)
            .wait(options.wait)
            .timeouts(options.timeouts());
        if let Some(ScratchUrl(scratch_url)) = &self.scratch_url {
            check = check.scratch_url(scratch_url.clone());
        }
        for snapshot in ctx.snapshots.all()? {
            check = check.snapshot(snapshot);
        }
        let report = ctx
            .out
            .working("Checking the migrations on a scratch database", || {
                check.run(ctx.url)
            })?;
        ctx.out.check(&report)?;
        if !report.ok() {
            return Err(Error::CheckFailed {
                findings: report.findings.len(),
            });
        }
        Ok(Outcome::Done)
    }
}

/// `snapshot`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SnapshotArgs {
    /// Build the scratch database on this server (see check --scratch-url).
    #[arg(long, value_name = "URL", value_parser = scratch_url)]
    pub scratch_url: Option<ScratchUrl>,
    /// Write it here instead (`-`: print it on stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Handler for SnapshotArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let scratch_url = self
            .scratch_url
            .as_ref()
            .map(|ScratchUrl(url)| url.as_str());
        let snapshot = ctx
            .out
            .working("Building the schema at head on a scratch database", || {
                Snapshot::create(ctx.url, ctx.migrations, scratch_url)
            })?;
        let target = ctx
            .snapshots
            .target(self.output.clone(), snapshot.backend())?;
        if target.as_os_str() != "-" {
            snapshot.write(&target)?;
        }
        ctx.out.snapshot(&snapshot, &target).map(|()| Outcome::Done)
    }
}
