//! What boot found, what it did, and its report.

use crate::adopt::AdoptReport;
use crate::fresh::Build;
use crate::ledger::Standing;
use crate::migrator::{Commit, StepReport};

/// What boot found the database to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Found {
    /// No tables at all, or only the ledger's tables with no version recorded.
    Fresh,
    /// diesel's migrations table records a version, or exists beside tables of the
    /// database's own.
    Managed,
    /// Tables, but no migrations table.
    Unmanaged,
}

/// What boot did about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BootAction {
    /// Built the schema at head, ran the initial setup hook, stamped every version.
    Initialized,
    /// Applied the pending migrations.
    Migrated,
    /// Nothing: no migration was pending.
    UpToDate,
    /// Nothing: migrations are pending and auto-migrate is off.
    LeftPending,
    /// Recorded an unmanaged database as being at the newest version whose schema it
    /// has (see [`Adopt`]), running none of the history on it; with auto-migrate on,
    /// then applied what is newer.
    ///
    /// [`Adopt`]: crate::Adopt
    Adopted,
}

/// What a boot (or `init`, or `reset`) did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BootReport {
    /// What the database was.
    pub found: Found,
    /// What was done.
    pub action: BootAction,
    /// For a fresh database: how its schema was built.
    pub build: Option<Build>,
    /// For a fresh database built from a snapshot: the version the snapshot stands for
    /// (the migrations after it ran after it).
    pub snapshot: Option<String>,
    /// Versions recorded as applied by the batch build, or by adoption.
    pub stamped: usize,
    /// Whether the initial setup hook ran.
    pub initial_setup: bool,
    /// Migrations run one by one (an upgrade, an adoption, a per-migration build).
    pub steps: Vec<StepReport>,
    /// Where the build or upgrade committed, and why (see [`Report::commits`]): for a
    /// fresh build joined in several transactions, for a build migration by migration
    /// and for an upgrade as its run reports them; empty for a fresh build that was one
    /// transaction.
    ///
    /// [`Report::commits`]: crate::Report::commits
    pub commits: Vec<Commit>,
    /// What `reset` dropped first, as `KIND name`.
    pub dropped: Vec<String>,
    /// What a fresh build an earlier process left unfinished had made, dropped first,
    /// as `KIND name`: the objects its own statements made, and nothing else (see
    /// [`crate::boot`]'s fresh build).
    pub recovered: Vec<String>,
    /// For an adopted database: the version found and how (see [`Adopt`]).
    ///
    /// [`Adopt`]: crate::Adopt
    pub adoption: Option<AdoptReport>,
    /// The newest applied version afterwards.
    pub current: Option<String>,
    /// The newest available version.
    pub head: Option<String>,
    /// The versions still pending afterwards, oldest first.
    pub pending: Vec<String>,
    /// How long it took, lock wait included, in milliseconds.
    pub duration_ms: f64,
    /// Whether [`Boot::run_url`] created the database first (the SQLite file, or
    /// `CREATE DATABASE` on a server). Not in the JSON document.
    ///
    /// [`Boot::run_url`]: crate::Boot::run_url
    #[serde(skip)]
    pub created: bool,
}

impl BootReport {
    pub(super) fn new(found: Found, action: BootAction) -> BootReport {
        BootReport {
            found,
            action,
            build: None,
            snapshot: None,
            stamped: 0,
            initial_setup: false,
            steps: Vec::new(),
            commits: Vec::new(),
            dropped: Vec::new(),
            recovered: Vec::new(),
            adoption: None,
            current: None,
            head: None,
            pending: Vec::new(),
            duration_ms: 0.0,
            created: false,
        }
    }
}

/// What a report says boot found, for the ledger's classification of the database.
pub(super) fn found(standing: &Standing) -> Found {
    match standing {
        Standing::Fresh => Found::Fresh,
        Standing::Managed => Found::Managed,
        Standing::Unmanaged { .. } => Found::Unmanaged,
    }
}
