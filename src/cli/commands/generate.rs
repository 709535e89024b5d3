//! `generate`: a new migration folder. It needs neither the database nor the
//! migrations, so the entry points run it before reading either ([`GenerateArgs::generate`]).

use std::path::Path;

use super::{Context, Handler};
use crate::cli::render::Output;
use crate::cli::{Options, Outcome};
use crate::{generate, Result};

/// `generate`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GenerateArgs {
    /// The migration's name: letters, digits and underscores.
    pub name: String,
}

impl GenerateArgs {
    /// Writes the new migration folder into `dir` and says which it is.
    pub(in crate::cli) fn generate(&self, options: &Options, dir: &Path) -> Result<Outcome> {
        let folder = generate::migration(dir, &self.name, chrono::Utc::now())?;
        Output::new(options)
            .generated(&folder)
            .map(|()| Outcome::Done)
    }
}

impl Handler for GenerateArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        self.generate(ctx.options, &ctx.snapshots.migration_dir()?)
    }
}
