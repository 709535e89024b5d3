//! `pelican lint`: the statements of migrations that lock or break a busy production
//! database, found by reading them (no database is needed), each with a rule name, a
//! severity and a one-line fix.
//!
//! The rules ([`RULES`]) read each statement of each `up.sql` with `sqlparser` in the
//! backend's dialect, as guards do. A table created earlier in the same migration (or,
//! for the migrations of one pending run, [`Lint::as_one_run`], in an earlier one of the
//! run) is new: nothing depends on it yet, so locking it, rewriting it or renaming its
//! columns is harmless, and none of those rules reports it.
//!
//! A finding accepted on purpose is silenced by a comment line directly above the
//! statement, `-- pelican: allow RULE[, RULE…]` (guards ignore it).
//!
//! ```no_run
//! let migrations = pelican::Migrations::from_dir("migrations")?;
//! let report = pelican::lint::Lint::new(&migrations, pelican::Backend::Postgres).run();
//! for finding in &report.findings {
//!     println!("{}:{}: {} [{}] {}", finding.file, finding.line, finding.severity, finding.rule, finding.message);
//! }
//! # Ok::<(), pelican::Error>(())
//! ```

mod rules;

use std::collections::BTreeSet;

pub use rules::{Rule, RULES};

use crate::split::{split, Statement};
use crate::{Backend, Direction, Migration, Migrations};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Likely to block or break production: `pelican lint` exits 1.
    Error,
    /// Worth a look before deploying.
    Warning,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One statement a rule reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The rule's name (stable: what `-- pelican: allow` names).
    pub rule: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The migration's folder name.
    pub migration: String,
    /// The file (`…/up.sql`).
    pub file: String,
    /// The statement's first line in the file.
    pub line: usize,
    /// The statement, as written.
    pub statement: String,
    /// What is wrong, about this statement.
    pub message: String,
    /// How to do it safely.
    pub fix: &'static str,
}

/// What a lint found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct LintReport {
    /// How many migrations were read.
    pub migrations: usize,
    /// How many statements were read.
    pub statements: usize,
    /// What the rules found, in the migrations' order.
    pub findings: Vec<Finding>,
    /// Statements `sqlparser` could not read, which no rule checked: `(migration, line)`.
    pub unread: Vec<(String, usize)>,
}

impl LintReport {
    /// Whether an error-level finding is among the findings.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// A lint of some migrations, configured.
#[derive(Debug, Clone)]
pub struct Lint<'a> {
    migrations: Vec<&'a Migration>,
    backend: Backend,
    start_after: Option<String>,
    one_run: bool,
}

impl<'a> Lint<'a> {
    /// A lint of every migration, as `backend` runs them.
    pub fn new(migrations: &'a Migrations, backend: Backend) -> Self {
        Lint {
            migrations: migrations.iter().collect(),
            backend,
            start_after: None,
            one_run: false,
        }
    }

    /// The migrations are deployed together, in one run (the pending ones): a table one
    /// of them creates is new for the ones after it too, not only for itself.
    pub fn as_one_run(self) -> Self {
        Lint {
            one_run: true,
            ..self
        }
    }

    /// Only these migrations (the pending ones, say), in this order: the tables they
    /// create are new for the ones after them.
    pub fn only(self, migrations: Vec<&'a Migration>) -> Self {
        Lint { migrations, ..self }
    }

    /// Leaves out every migration whose version is not newer than `version`, so that a
    /// history written before the lint was adopted is not reported.
    pub fn start_after(self, version: impl Into<String>) -> Self {
        Lint {
            start_after: Some(version.into()),
            ..self
        }
    }

    /// Reads the migrations and reports what the rules find.
    pub fn run(&self) -> LintReport {
        let mut report = LintReport::default();
        let mut context = Context {
            backend: self.backend,
            new_tables: BTreeSet::new(),
            in_transaction: true,
            lock_timeout_set: false,
        };
        // A version as diesel's folder names write it, dashes and all, or as the ledger does.
        let start_after = self
            .start_after
            .as_deref()
            .map(|v| crate::source::version_of(v).unwrap_or_else(|_| v.replace('-', "")));
        for migration in &self.migrations {
            if start_after
                .as_deref()
                .is_some_and(|after| migration.version() <= after)
            {
                continue;
            }
            report.migrations += 1;
            if !self.one_run {
                context.new_tables.clear();
            }
            context.in_transaction = migration.run_in_transaction();
            context.lock_timeout_set = false;
            let file = migration.file(Direction::Up);
            for statement in split(migration.up(), self.backend) {
                if statement.sql.is_empty() {
                    continue;
                }
                report.statements += 1;
                let allowed = allowed(&statement);
                let Some(found) = rules::check(&mut context, statement.sql) else {
                    report
                        .unread
                        .push((migration.name().to_owned(), statement.line));
                    continue;
                };
                for (rule, message) in found {
                    if allowed.iter().any(|a| a == rule.name) {
                        continue;
                    }
                    report.findings.push(Finding {
                        rule: rule.name,
                        severity: rule.severity,
                        migration: migration.name().to_owned(),
                        file: file.clone(),
                        line: statement.line,
                        statement: statement.sql.to_owned(),
                        message,
                        fix: rule.fix,
                    });
                }
            }
        }
        report
    }
}

/// What the rules know of the run so far.
pub(crate) struct Context {
    backend: Backend,
    /// Tables created by the migrations linted so far (folded as the backend folds
    /// names): nothing depends on them yet.
    new_tables: BTreeSet<String>,
    /// Whether the migration runs in a transaction (its `run_in_transaction`).
    in_transaction: bool,
    /// Whether the migration set a lock timeout before this statement.
    lock_timeout_set: bool,
}

/// The rules a `-- pelican: allow RULE, …` line directly above the statement names.
fn allowed(statement: &Statement<'_>) -> Vec<String> {
    statement
        .leading_comments()
        .iter()
        .filter_map(|comment| allow_directive(comment))
        .flatten()
        .collect()
}

/// The rules of an `allow` directive (`pelican: allow a, b`), if the comment is one.
pub(crate) fn allow_directive(comment: &str) -> Option<Vec<String>> {
    let rest = comment.trim().strip_prefix("pelican:")?.trim();
    let rules = rest.strip_prefix("allow")?;
    if !rules.starts_with(char::is_whitespace) {
        return None;
    }
    Some(
        rules
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn lint(backend: Backend, files: &[(&str, &str)]) -> Vec<(String, &'static str)> {
        let dir = tempfile::tempdir().unwrap();
        for (name, up) in files {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("up.sql"), up).unwrap();
        }
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        Lint::new(&migrations, backend)
            .as_one_run()
            .run()
            .findings
            .into_iter()
            .map(|f| (f.migration, f.rule))
            .collect()
    }

    #[test]
    fn a_table_made_in_the_same_run_is_new() {
        let found = lint(
            Backend::Postgres,
            &[
                (
                    "2024-01-01-000000_users",
                    "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\n\
                     CREATE INDEX users_email ON users (email);",
                ),
                (
                    "2024-01-02-000000_more",
                    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
                     CREATE INDEX orders_user ON orders (user_id);",
                ),
            ],
        );
        let more = "2024-01-02-000000_more".to_owned();
        assert_eq!(
            found,
            [
                (more.clone(), "index-without-concurrently"),
                (more, "missing-lock-timeout")
            ]
        );
    }

    #[test]
    fn an_allow_line_silences_only_its_rules() {
        let found = lint(
            Backend::Postgres,
            &[(
                "2024-01-01-000000_x",
                "-- pelican: allow index-without-concurrently, missing-lock-timeout\n\
                 CREATE INDEX a ON t (a);\n\
                 -- pelican: allow drop-column\n\
                 CREATE INDEX b ON t (b);",
            )],
        );
        assert_eq!(
            found,
            [(
                "2024-01-01-000000_x".to_owned(),
                "index-without-concurrently"
            )]
        );
        assert_eq!(allow_directive("pelican: allowed"), None);
        assert_eq!(
            allow_directive(" pelican: allow a,b  c"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
    }
}
