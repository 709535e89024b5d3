//! What a run did, as data: its report, each step's and statement's, where it
//! committed, and the words they are written in (a migration's direction, a
//! statement's action, why a transaction committed). The migrator, guards and joining
//! decide them; they are here so that an error can carry a failed run's partial report.

use std::fmt;

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
    /// allows (see [`Migrator::atomic`](crate::Migrator::atomic)), rather than one per
    /// migration.
    pub atomic: bool,
    /// Where an atomic run committed, and why, in order: one entry for a run that was
    /// one transaction. Only what committed is listed (and only its steps are in
    /// [`Report::steps`]). A dry run on SQLite and PostgreSQL lists where the run would
    /// commit.
    pub commits: Vec<Commit>,
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

/// Where a run (or a fresh build) joined into transactions committed one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Commit {
    /// The version of the last migration the transaction held.
    pub after: String,
    /// Why it committed there.
    pub reason: Reason,
}

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `up.sql`.
    Up,
    /// `down.sql`.
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// Whether a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Action {
    /// It runs.
    Run,
    /// It is skipped: its work is already done.
    Skip,
    /// A dry run did not try it: it cannot run inside the transaction a dry run rolls
    /// back (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
    NotTried,
}

/// Why a joined transaction committed where it did, as a report says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The run (or the build) ended.
    End,
    /// A migration that sets session state (`SET`, `SET LOCAL`, `set_config`, …) runs
    /// in a transaction of its own, as diesel runs it.
    SessionState,
    /// A migration's effect must be committed before a later use (`ALTER TYPE … ADD
    /// VALUE`).
    NeedsCommit,
    /// A migration runs outside a transaction (`run_in_transaction = false`).
    OutsideTransaction,
    /// The transaction's locks reached the share of the server's lock table pelican
    /// allows itself (see `max_locks_per_transaction`).
    LockBudget,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::End => "the end of the run",
            Reason::SessionState => {
                "a migration that sets session state runs in a transaction of its own"
            }
            Reason::NeedsCommit => "ALTER TYPE … ADD VALUE must commit before the value is used",
            Reason::OutsideTransaction => "a migration runs outside a transaction",
            Reason::LockBudget => {
                "the transaction reached its share of the server's lock table \
                 (max_locks_per_transaction)"
            }
        })
    }
}
