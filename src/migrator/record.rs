//! What a step leaves behind: each statement's verdict in its report, and the ledger
//! statements and journal entry that record it.

use chrono::Utc;

use super::runner::Run;
use super::step::File;
use super::{Guards, Migrator, StatementReport, StepReport};
use crate::guard::{Action, Verdict};
use crate::ledger::{Entry, Outcome, ProgressKey};
use crate::source::Direction;
use crate::split::Statement;
use crate::trace;
use crate::Result;

impl Migrator<'_> {
    /// Adds one statement's verdict to the report; drift on a skip is a warning, or an
    /// error under `--strict-guards`.
    pub(super) fn note(
        &self,
        file: &File<'_, '_>,
        statement: &Statement<'_>,
        verdict: Verdict,
        report: &mut StepReport,
    ) -> Result<()> {
        if let Some(warning) = &verdict.warning {
            if self.guards == Guards::Strict {
                return Err(file.error(
                    statement,
                    format!("skipped, but what exists differs (guards are strict): {warning}"),
                ));
            }
            trace::warning(Some(statement.line), warning);
            report.warnings.push(warning.clone());
        }
        let action = match verdict.action {
            Action::Run => "run",
            Action::Skip => "skip",
            Action::NotTried => "not-tried",
        };
        trace::decision(statement.line, action, verdict.guarded, &verdict.reason);
        match verdict.action {
            Action::Skip => report.statements_skipped += 1,
            Action::Run => report.statements_run += 1,
            Action::NotTried => {}
        }
        report.statements.push(StatementReport {
            line: statement.line,
            sql: statement.sql.to_owned(),
            action: verdict.action,
            guarded: verdict.guarded,
            reason: verdict.reason,
        });
        Ok(())
    }

    /// The ledger statements that record a step: diesel's row, the checksum, the
    /// journal, and the end of any progress an earlier run recorded.
    pub(super) fn record(
        &self,
        run: &Run<'_>,
        file: &File<'_, '_>,
        report: &StepReport,
        started: chrono::DateTime<Utc>,
        outcome: Outcome,
    ) -> String {
        let outcome = match (outcome, file.direction) {
            (Outcome::Applied, Direction::Down) => Outcome::Reverted,
            (outcome, _) => outcome,
        };
        let note = journal_note(report);
        let mut sql = run.ledger.record_sql(
            file.migration,
            file.direction,
            &entry(report, started, outcome, note.as_deref()),
        );
        let key = ProgressKey::of(file.migration, file.direction);
        let other = ProgressKey::of(
            file.migration,
            match file.direction {
                Direction::Up => Direction::Down,
                Direction::Down => Direction::Up,
            },
        );
        if run.progress.contains_key(&key) || run.progress.contains_key(&other) {
            sql.push_str(&run.ledger.clear_progress_sql(file.migration));
        }
        sql
    }
}

pub(super) fn entry<'a>(
    report: &'a StepReport,
    started: chrono::DateTime<Utc>,
    outcome: Outcome,
    message: Option<&'a str>,
) -> Entry<'a> {
    Entry {
        version: &report.version,
        direction: direction_name(report.direction),
        started,
        finished: Utc::now(),
        // A statement a dry run could not try is one `migrate` runs: its record, which
        // a `--sql` script writes, counts it.
        statements_run: report.statements_run
            + report
                .statements
                .iter()
                .filter(|s| s.action == Action::NotTried)
                .count(),
        statements_skipped: report.statements_skipped,
        outcome,
        message,
        share_ms: None,
    }
}

/// What the journal keeps of a step beyond its counts: each skip and each warning.
fn journal_note(report: &StepReport) -> Option<String> {
    let mut lines: Vec<String> = report
        .statements
        .iter()
        .filter(|s| s.action == Action::Skip)
        .map(|s| format!("skipped line {}: {}", s.line, s.reason))
        .collect();
    lines.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}
