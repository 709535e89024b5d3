//! The JSON documents `--format json` prints: one typed struct per command, each a
//! top-level object, so that changing a shape is a change to a type here (and to
//! `docs/json.md` and the snapshots that pin them), never an accident of a `json!`.

use serde::Serialize;

use crate::migrator::{Commit, HistoryEntry, Report, StepReport};
use crate::Error;

/// Prints a document on stdout, pretty, with a newline.
pub(super) fn print<T: Serialize>(document: &T) {
    // Whole, in one write: a document is printed complete or not at all.
    let mut text = serde_json::to_vec_pretty(document).unwrap_or_default();
    text.push(b'\n');
    let _ = super::out::stdout_bytes(&text);
}

/// `migrate`, `downgrade`, `redo` (and their dry runs).
#[derive(Serialize)]
pub(super) struct Run<'a> {
    pub command: &'a str,
    /// Nothing was changed: SQLite and PostgreSQL ran it in a transaction rolled back.
    pub dry_run: bool,
    /// A dry run on MySQL/MariaDB: decisions predicted from the schema.
    pub predicted: bool,
    /// `current` and `pending` are what the run would leave, not what the database has
    /// (a dry run).
    pub projected: bool,
    pub steps: &'a [StepReport],
    /// The run joined its migrations into as few transactions as joining allows.
    pub atomic: bool,
    /// Where an atomic run committed, and why.
    pub commits: &'a [Commit],
    pub current: Option<&'a str>,
    pub head: Option<&'a str>,
    pub pending: usize,
}

impl<'a> Run<'a> {
    pub(super) fn new(command: &'a str, report: &'a Report, dry_run: bool) -> Run<'a> {
        Run {
            command,
            dry_run,
            predicted: report.predicted,
            projected: dry_run,
            steps: &report.steps,
            atomic: report.atomic,
            commits: &report.commits,
            current: report.current.as_deref(),
            head: report.head.as_deref(),
            pending: report.pending,
        }
    }
}

/// `current`.
#[derive(Serialize)]
pub(super) struct Current<'a> {
    pub command: &'static str,
    pub current: Option<&'a str>,
    pub name: Option<&'a str>,
    pub head: Option<&'a str>,
    pub pending: usize,
}

/// `history`: its list under a key, as every other document is an object.
#[derive(Serialize)]
pub(super) struct History<'a> {
    pub command: &'static str,
    pub history: &'a [HistoryEntry],
}

/// One migration named in `heads` and `pending`.
#[derive(Serialize)]
pub(super) struct Named<'a> {
    pub version: &'a str,
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
}

/// `heads`.
#[derive(Serialize)]
pub(super) struct Heads<'a> {
    pub command: &'static str,
    pub heads: Vec<Named<'a>>,
}

/// `pending`.
#[derive(Serialize)]
pub(super) struct Pending<'a> {
    pub command: &'static str,
    pub pending: Vec<Named<'a>>,
}

/// `stamp`.
#[derive(Serialize)]
pub(super) struct Stamp<'a> {
    pub command: &'static str,
    pub added: &'a [String],
    pub removed: &'a [String],
    pub current: Option<&'a str>,
}

/// `generate`.
#[derive(Serialize)]
pub(super) struct Generated {
    pub command: &'static str,
    pub path: String,
    pub up: String,
    pub down: String,
}

/// `reset --dry-run`.
#[derive(Serialize)]
pub(super) struct ResetDryRun<'a> {
    pub command: &'static str,
    pub dry_run: bool,
    pub would_drop: &'a [String],
    /// Objects elsewhere that depend on what would be dropped (reset refuses them
    /// without --cascade).
    pub dependents: &'a [String],
}

/// A library report with the command's name (and what the command adds) beside its
/// fields: `init`, `boot`, `reset`, `adopt`, `check`.
#[derive(Serialize)]
pub(super) struct Reported<'a, T: Serialize, E: Serialize> {
    pub command: &'a str,
    #[serde(flatten)]
    pub extra: E,
    #[serde(flatten)]
    pub report: &'a T,
}

/// What `init`, `boot` and `reset` add to the boot report.
#[derive(Serialize)]
pub(super) struct Created {
    pub created_database: bool,
}

/// What `check` adds to its report.
#[derive(Serialize)]
pub(super) struct Verdict {
    pub ok: bool,
}

/// Nothing added.
#[derive(Serialize)]
pub(super) struct Nothing {}

/// `snapshot`.
#[derive(Serialize)]
pub(super) struct SnapshotWritten<'a> {
    pub command: &'static str,
    pub backend: crate::Backend,
    pub head: &'a str,
    pub migrations: usize,
    pub path: Option<String>,
    pub bytes: usize,
    pub sql: Option<&'a str>,
}

/// Any command that failed: the error, and what ran before it.
#[derive(Serialize)]
pub(super) struct Failed<'a> {
    pub error: ErrorBody,
    /// The steps done before the failure (`migrate`, `downgrade`, `redo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<&'a [StepReport]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    /// Adoption found no matching version: the closest one, and how it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closest: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<&'a [crate::catalog::Change]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared: Option<usize>,
}

/// An error: `kind` (the error's name in snake case: `statement`, `lock_timeout`,
/// `usage`…), its message, and where it happened when it concerns a migration.
#[derive(Serialize)]
pub(super) struct ErrorBody {
    pub kind: String,
    pub message: String,
    pub migration: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub statement: Option<String>,
}

impl ErrorBody {
    pub(super) fn of(error: &Error) -> ErrorBody {
        let at = error.location();
        ErrorBody {
            kind: error.kind().to_owned(),
            message: error.to_string(),
            migration: at.migration,
            file: at.file,
            line: at.line,
            statement: at.statement,
        }
    }

    /// A command line clap refused.
    pub(super) fn usage(message: String) -> ErrorBody {
        ErrorBody {
            kind: "usage".to_owned(),
            message,
            migration: None,
            file: None,
            line: None,
            statement: None,
        }
    }
}

impl<'a> Failed<'a> {
    pub(super) fn new(error: &'a Error) -> Failed<'a> {
        let report = error.partial_report();
        let mut failed = Failed {
            error: ErrorBody::of(error),
            steps: report.map(|r| r.steps.as_slice()),
            current: report.map(|r| r.current.as_deref()),
            head: report.map(|r| r.head.as_deref()),
            pending: report.map(|r| r.pending),
            closest: None,
            changes: None,
            compared: None,
        };
        if let Error::NoMatchingVersion {
            version,
            changes,
            compared,
            ..
        } = error.cause()
        {
            failed.closest = Some(version.as_deref());
            failed.changes = Some(changes);
            failed.compared = Some(*compared);
        }
        failed
    }

    /// A command line clap refused.
    pub(super) fn usage(message: String) -> Failed<'static> {
        Failed {
            error: ErrorBody::usage(message),
            steps: None,
            current: None,
            head: None,
            pending: None,
            closest: None,
            changes: None,
            compared: None,
        }
    }
}

/// `fleet status`, `fleet migrate`, `fleet downgrade`, `fleet init`: every target's
/// part, in the targets' order, and the counts.
#[derive(Serialize)]
pub(super) struct Fleet<'a> {
    pub command: &'a str,
    pub targets: Vec<FleetTarget<'a>>,
    pub done: usize,
    pub failed: usize,
    pub not_started: usize,
    pub duration_ms: f64,
}

/// One target of a fleet document.
#[derive(Serialize)]
pub(super) struct FleetTarget<'a> {
    /// The target, its password hidden.
    pub target: &'a str,
    pub schema: Option<&'a str>,
    /// `done`, `failed` or `not_started`.
    pub outcome: &'static str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub head: Option<&'a str>,
    pub pending: Option<usize>,
    /// Migrations the run applied (or reverted).
    pub steps: usize,
    pub duration_ms: f64,
    pub error: Option<ErrorBody>,
}

impl<'a> Fleet<'a> {
    pub(super) fn new(command: &'a str, report: &'a crate::fleet::FleetReport) -> Fleet<'a> {
        use crate::fleet::TenantOutcome;
        let tally = report.tally();
        let targets = report
            .tenants
            .iter()
            .map(|tenant| FleetTarget {
                target: &tenant.target,
                schema: tenant.schema.as_deref(),
                outcome: match tenant.outcome {
                    TenantOutcome::Done => "done",
                    TenantOutcome::Failed(_) => "failed",
                    TenantOutcome::NotStarted => "not_started",
                },
                from: tenant.from.as_deref(),
                to: tenant.to.as_deref(),
                head: tenant.head.as_deref(),
                pending: tenant.pending,
                steps: tenant.steps,
                duration_ms: millis(tenant.duration),
                error: tenant.error().map(ErrorBody::of),
            })
            .collect();
        Fleet {
            command,
            targets,
            done: tally.done,
            failed: tally.failed,
            not_started: tally.not_started,
            duration_ms: millis(report.duration),
        }
    }
}

/// A duration in milliseconds, to a tenth.
fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}
