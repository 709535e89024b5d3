//! What a run tells its caller besides its report: its progress, the report of a stamp,
//! the history, and the options that shape a run (mode, guards). The report of a run
//! and its steps ([`Report`](crate::migrator::Report), [`StepReport`]) are plain data in [`crate::outcome`], below
//! the error that carries a failed run's partial report.

use chrono::NaiveDateTime;

use crate::outcome::StepReport;
use crate::plan::Step;

/// Whether a run changes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Run the statements and record them.
    #[default]
    Apply,
    /// Decide every statement (run, skip or not tried, and why) and change nothing. On
    /// SQLite and PostgreSQL the statements run in a transaction that is rolled back
    /// (PostgreSQL's sequences set back after it, a SQLite file left byte for byte);
    /// one that cannot run there, and a file's own `BEGIN`/`COMMIT`, is not tried. On
    /// MySQL/MariaDB nothing runs: guards read the schema once and follow the
    /// statements that would run.
    DryRun,
}

/// How existence guards treat a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Guards {
    /// Skip what is done; report drift found on a skip as a warning.
    #[default]
    On,
    /// As `On`, but drift found on a skip is an error.
    Strict,
    /// Run every statement as written (explicit directives still apply).
    Off,
}

/// Where a run is, for a caller showing it: each step as it starts, and as it ends.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A step is about to run: the `index`th (from 0) of `total`.
    Starting {
        /// The step.
        step: &'a Step<'a>,
        /// Its place in the run, from 0.
        index: usize,
        /// How many steps the run has.
        total: usize,
    },
    /// A step is done: recorded and committed (in an atomic run, once the transaction
    /// holding it committed), or in a dry run, tried.
    Done {
        /// What it did.
        step: &'a StepReport,
        /// Its place in the run, from 0.
        index: usize,
        /// How many steps the run has.
        total: usize,
    },
}

/// What `stamp` changed in the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StampReport {
    /// Versions now recorded as applied that were not.
    pub added: Vec<String>,
    /// Versions no longer recorded as applied.
    pub removed: Vec<String>,
}

/// One line of the history: a migration, and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The version.
    pub version: String,
    /// The folder name; `None` for a version the database has and these migrations lack.
    pub name: Option<String>,
    /// Whether it is applied.
    pub applied: bool,
    /// When it was applied: `None` when it is not, or when diesel's table has no
    /// `run_on` column (an older or hand-made one; diesel needs only `version`).
    pub run_on: Option<NaiveDateTime>,
}

/// Where the database stands against the migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether diesel's migrations table exists.
    pub managed: bool,
    /// Every migration oldest first, then any applied version these migrations lack.
    pub history: Vec<HistoryEntry>,
    /// Applied versions that these migrations lack (the database is newer).
    pub unknown: Vec<String>,
}

impl Status {
    /// The newest applied version.
    pub fn current(&self) -> Option<&HistoryEntry> {
        self.history
            .iter()
            .filter(|e| e.applied)
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The newest available migration.
    pub fn head(&self) -> Option<&HistoryEntry> {
        self.history.iter().rev().find(|e| e.name.is_some())
    }

    /// The migrations not applied yet, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.history
            .iter()
            .filter(|e| !e.applied && e.name.is_some())
    }
}
