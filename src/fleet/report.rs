//! What a fleet run tells its caller: one [`TenantReport`] per target, in the targets'
//! order, and the counts a live display shows.

use std::time::Duration;

use crate::Error;

/// How one target's part of a fleet run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum TenantOutcome {
    /// The target's run (or reading, for a status) succeeded.
    Done,
    /// It failed: the error, its password hidden. What it did before failing is in
    /// the report's `from`, `to` and `steps`, read from the ledger afterwards.
    Failed(Error),
    /// It was never started: an earlier target failed (without `keep_going`), or a
    /// stop was requested ([`crate::interrupt::request`]).
    NotStarted,
}

/// One target's part of a fleet run.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantReport {
    /// The target, its password hidden ([`super::Tenant::label`]).
    pub target: String,
    /// The schema of a schema tenant.
    pub schema: Option<String>,
    /// The newest applied version before the run (`None`: none, or it was not read).
    pub from: Option<String>,
    /// The newest applied version after it.
    pub to: Option<String>,
    /// The newest version of the migrations.
    pub head: Option<String>,
    /// How many migrations are pending after the run (`None`: it was not read).
    pub pending: Option<usize>,
    /// How many migrations the run applied (or, for a downgrade, reverted).
    pub steps: usize,
    /// How long the target took, connection included.
    pub duration: Duration,
    /// How it ended.
    pub outcome: TenantOutcome,
}

impl TenantReport {
    /// A target that was never started.
    pub(crate) fn not_started(tenant: &super::Tenant) -> TenantReport {
        TenantReport {
            target: tenant.label().to_owned(),
            schema: tenant.schema_name().map(str::to_owned),
            from: None,
            to: None,
            head: None,
            pending: None,
            steps: 0,
            duration: Duration::ZERO,
            outcome: TenantOutcome::NotStarted,
        }
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, TenantOutcome::Failed(_))
    }

    /// The error, when it failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.outcome {
            TenantOutcome::Failed(error) => Some(error),
            TenantOutcome::Done | TenantOutcome::NotStarted => None,
        }
    }
}

/// A fleet run: each target's report, in the order the targets were given.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport {
    /// Each target's part.
    pub tenants: Vec<TenantReport>,
    /// How long the whole run took.
    pub duration: Duration,
}

impl FleetReport {
    /// How many targets are done, failed and not started.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.tenants)
    }

    /// Whether every target is done (none failed, none left unstarted).
    pub fn is_ok(&self) -> bool {
        let tally = self.tally();
        tally.failed == 0 && tally.not_started == 0
    }
}

/// Counts of a fleet run's targets, for a summary or a live display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tally {
    /// Targets done.
    pub done: usize,
    /// Targets failed.
    pub failed: usize,
    /// Targets not started (or, while the run goes on, not finished yet).
    pub not_started: usize,
}

impl Tally {
    fn of(reports: &[TenantReport]) -> Tally {
        reports.iter().fold(Tally::default(), |mut tally, report| {
            match report.outcome {
                TenantOutcome::Done => tally.done += 1,
                TenantOutcome::Failed(_) => tally.failed += 1,
                TenantOutcome::NotStarted => tally.not_started += 1,
            }
            tally
        })
    }
}
