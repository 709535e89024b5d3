//! `lint`: the migrations' statements that lock or break production, read without
//! running them (see [`crate::lint`]).

use std::io::Write;

use super::{Context, Handler};
use crate::cli::args::Format;
use crate::cli::out::{shown, shown_lines};
use crate::cli::{document, Outcome};
use crate::lint::{Lint, LintReport};
use crate::{Migration, Result, Target};

/// `lint`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LintArgs {
    /// The migrations to lint, by version (a unique prefix will do) or folder name;
    /// default: the pending ones, as the database says, linted as the one run they are
    /// deployed in (a table one creates is new for the ones after it).
    #[arg(value_name = "MIGRATION")]
    pub migrations: Vec<String>,
    /// Lint every migration, applied or not (no database is read).
    #[arg(long, conflicts_with = "migrations")]
    pub all: bool,
    /// Leave out every migration up to this version: a history written before the lint
    /// was adopted.
    #[arg(long, value_name = "VERSION")]
    pub start_after: Option<String>,
}

impl Handler for LintArgs {
    fn run(&self, ctx: Context<'_>) -> Result<Outcome> {
        let backend = crate::Backend::from_url(ctx.url)?;
        let chosen: Vec<&Migration> = if self.all {
            ctx.migrations.iter().collect()
        } else if self.migrations.is_empty() {
            let status = super::status::status(&ctx)?;
            let pending: Vec<&str> = status.pending().map(|e| e.version.as_str()).collect();
            ctx.migrations
                .iter()
                .filter(|m| pending.contains(&m.version()))
                .collect()
        } else {
            let mut chosen = Vec::new();
            for given in &self.migrations {
                let version = match given.parse::<Target>()? {
                    Target::Version(version) => version,
                    _ => {
                        return Err(crate::Error::BadTarget {
                            target: given.clone(),
                        })
                    }
                };
                let migration = crate::plan::resolve(&version, given, ctx.migrations)?;
                if !chosen.contains(&migration) {
                    chosen.push(migration);
                }
            }
            chosen.sort_by_key(|m| m.version());
            chosen
        };
        let one_run = !self.all && self.migrations.is_empty();
        let mut lint = Lint::new(ctx.migrations, backend).only(chosen);
        if one_run {
            lint = lint.as_one_run();
        }
        if let Some(version) = &self.start_after {
            lint = lint.start_after(version.clone());
        }
        let report = lint.run();
        print(ctx.options.format, &report);
        Ok(if report.has_errors() {
            Outcome::Found
        } else {
            Outcome::Done
        })
    }
}

/// The findings, each with its statement's place and its fix, then a summary line; or
/// the report as a JSON document.
fn print(format: Format, report: &LintReport) {
    if format == Format::Json {
        document::print(&document::Reported {
            command: "lint",
            extra: document::Verdict {
                ok: !report.has_errors(),
            },
            report,
        });
        return;
    }
    let mut stdout = crate::cli::out::Stdout::lock();
    for finding in &report.findings {
        let _ = writeln!(
            stdout,
            "{}:{}: {}[{}]: {}\n  {}\n  fix: {}",
            shown(&finding.file),
            finding.line,
            finding.severity,
            finding.rule,
            shown(&finding.message),
            shown_lines(first_line(&finding.statement)),
            finding.fix,
        );
    }
    for (migration, line) in &report.unread {
        let _ = writeln!(
            stdout,
            "note: {}, line {line}: not read (sqlparser cannot parse it), so not checked",
            shown(migration)
        );
    }
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == crate::lint::Severity::Error)
        .count();
    let _ = writeln!(
        stdout,
        "{} finding(s), {errors} error(s), in {} statement(s) of {} migration(s)",
        report.findings.len(),
        report.statements,
        report.migrations
    );
}

/// A statement's first line: the place is in the file and line given above it.
fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or_default()
}
