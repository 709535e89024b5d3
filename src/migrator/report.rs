//! What a run tells its caller: the reports of runs, steps, statements and stamps, the
//! history, and the options that shape a run (mode, guards).

use chrono::NaiveDateTime;

use crate::guard::Action;
use crate::plan::Step;
use crate::source::Direction;

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

/// What one step did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct StepReport {
    /// The migration's version.
    pub version: String,
    /// The migration's folder name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
    /// Applied although a newer migration was already applied.
    pub out_of_order: bool,
    /// Statements executed.
    pub statements_run: usize,
    /// Statements skipped because their work was already done.
    pub statements_skipped: usize,
    /// How long the step took, in milliseconds.
    pub duration_ms: f64,
    /// Drift found where a statement was skipped: what exists differs from what it
    /// would have made.
    pub warnings: Vec<String>,
    /// Every statement, with what guards decided.
    pub statements: Vec<StatementReport>,
    /// Whether it ran in a transaction of its own.
    #[serde(skip)]
    pub transactional: bool,
    /// The ledger statements that recorded it (or, in a dry run, would have).
    #[serde(skip)]
    pub record: String,
}

/// One statement of a step: run or skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StatementReport {
    /// Its line in the file.
    pub line: usize,
    /// The statement, as written.
    pub sql: String,
    /// Run or skip.
    pub action: Action,
    /// Whether a guard decided (false: it runs as written).
    pub guarded: bool,
    /// Why.
    pub reason: String,
}

/// What a `migrate`, `downgrade` or `redo` did, step by step, in order, and where it
/// left the database.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Every step run, in order.
    pub steps: Vec<StepReport>,
    /// The newest applied version afterwards.
    pub current: Option<String>,
    /// The newest available version.
    pub head: Option<String>,
    /// How many migrations are still pending.
    pub pending: usize,
    /// The statements that created pelican's ledger tables, when the run created them
    /// (or, in a dry run, would have).
    #[serde(skip)]
    pub create_ledger: Option<String>,
    /// A dry run on MySQL/MariaDB: the decisions are predicted from the schema, not
    /// what happened in a rolled-back transaction.
    pub predicted: bool,
    /// What a dry run could not leave as it found it (a PostgreSQL sequence another
    /// session moved at the same time, which it does not set back).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Whether the run joined its migrations into as few transactions as joining
    /// allows (see [`Migrator::atomic`](super::Migrator::atomic)), rather than one per
    /// migration.
    pub atomic: bool,
    /// Where an atomic run committed, and why, in order: one entry for a run that was
    /// one transaction. Only what committed is listed (and only its steps are in
    /// [`Report::steps`]). A dry run on SQLite and PostgreSQL lists where the run would
    /// commit.
    pub commits: Vec<Commit>,
}

/// Where a run (or a fresh build) joined into transactions committed one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Commit {
    /// The version of the last migration the transaction held.
    pub after: String,
    /// Why it committed there.
    pub reason: crate::join::Reason,
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
    /// When it was applied.
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
