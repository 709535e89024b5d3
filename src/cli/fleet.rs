//! A fleet's report: a line on stderr as each target finishes, then the summary table
//! on stdout (or its JSON document).

use super::document;
use super::out::{errln, outln, shown};
use super::{Format, Options};
use crate::fleet::{FleetReport, Tally, TenantOutcome, TenantReport};

/// The line a finished target gets on stderr (none under `-q` or `--format json`):
/// `[3/200] done …`, with the counts so far.
pub(super) fn progress(options: &Options, report: &TenantReport, tally: Tally) {
    if options.quiet || options.format == Format::Json {
        return;
    }
    let total = tally.done + tally.failed + tally.not_started;
    let finished = tally.done + tally.failed;
    let what = match &report.outcome {
        TenantOutcome::Failed(error) => format!("failed: {}", first_line(&error.to_string())),
        TenantOutcome::Done | TenantOutcome::NotStarted => format!(
            "{} ({} step(s), {})",
            versions(report),
            report.steps,
            seconds(report.duration)
        ),
    };
    errln!(
        "[{finished}/{total}] {}: {what} ({} failed, {} remaining)",
        shown(&report.target),
        tally.failed,
        tally.not_started
    );
}

/// The summary: a table of every target (text), or the fleet document (JSON); under
/// `-q`, only the failed targets' errors, on stderr (but for `status`).
pub(super) fn report(options: &Options, command: &str, report: &FleetReport) {
    if options.format == Format::Json {
        document::print(&document::Fleet::new(command, report));
        return;
    }
    // As a single run's report, a fleet run's table is not printed under `-q` (its
    // errors are, on stderr); `status` is an answer, printed all the same.
    if options.quiet && command != "fleet status" {
        for tenant in &report.tenants {
            if let Some(error) = tenant.error() {
                errln!(
                    "{}: {}",
                    shown(&tenant.target),
                    first_line(&error.to_string())
                );
            }
        }
        return;
    }
    let rows: Vec<[String; 6]> = report
        .tenants
        .iter()
        .map(|tenant| {
            [
                shown(&tenant.target).into_owned(),
                outcome(&tenant.outcome).to_owned(),
                versions(tenant),
                match tenant.pending {
                    Some(pending) => format!("{} / {pending}", tenant.steps),
                    None => format!("{} / ?", tenant.steps),
                },
                seconds(tenant.duration),
                tenant
                    .error()
                    .map(|error| first_line(&error.to_string()))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "TARGET",
        "RESULT",
        "FROM -> TO",
        "RAN / PENDING",
        "TIME",
        "ERROR",
    ]
    .map(str::to_owned);
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        outln!("{}", line.join("  ").trim_end());
    }
    let tally = report.tally();
    outln!(
        "{} target(s): {} done, {} failed, {} not started, in {}",
        report.tenants.len(),
        tally.done,
        tally.failed,
        tally.not_started,
        seconds(report.duration)
    );
}

/// `done`, `FAILED`, `not started`.
fn outcome(outcome: &TenantOutcome) -> &'static str {
    match outcome {
        TenantOutcome::Done => "done",
        TenantOutcome::Failed(_) => "FAILED",
        TenantOutcome::NotStarted => "not started",
    }
}

/// `FROM -> TO`, each a version or `base`, `?` where it was not read.
fn versions(report: &TenantReport) -> String {
    if matches!(report.outcome, TenantOutcome::NotStarted) {
        return String::new();
    }
    let read = report.pending.is_some();
    let version = |v: &Option<String>| match (v, read) {
        (Some(version), _) => version.clone(),
        (None, true) => "base".to_owned(),
        (None, false) => "?".to_owned(),
    };
    format!("{} -> {}", version(&report.from), version(&report.to))
}

fn seconds(duration: std::time::Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
