//! Existence guards: a migration made idempotent without changing what it does.
//!
//! The database decides, at the moment a statement would run, whether its work is done:
//! the statement runs, and only when the server refuses it because that very object
//! already exists (or is already gone) is it a skip ([`refusal`]). The existing object is
//! then read back from the catalog, fresh, and checked to be the one the statement would
//! have made ([`settle`]): another kind of object, an index left invalid, a constraint
//! that is really an index, fails the migration naming both; another column type is
//! reported as drift (an error under `--strict-guards`). No cached model of the schema
//! decides anything, so a history that runs cleanly from empty runs exactly as written.
//!
//! | statement | a skip when the server refuses it and |
//! |---|---|
//! | `CREATE TABLE t` | table `t` exists (a view of that name is an error) |
//! | `DROP TABLE t` | `t` does not exist (a view of that name is an error) |
//! | `ALTER TABLE t ADD [COLUMN] c` | column `t.c` exists |
//! | `ALTER TABLE t DROP [COLUMN] c` | `t` exists and `t.c` does not |
//! | `CREATE [UNIQUE] INDEX i` | index `i` exists and is valid |
//! | `DROP INDEX i [ON t]`, MySQL's `ALTER TABLE t DROP INDEX i` / `DROP KEY i` | `i` does not exist |
//! | `ADD CONSTRAINT k` / `DROP CONSTRAINT k`, `DROP FOREIGN KEY k` | `k` exists / does not, and is no index |
//! | `CREATE VIEW`, `TRIGGER`, `TYPE`, `FUNCTION`, `PROCEDURE` and their `DROP`s | the object exists / does not |
//!
//! Renames, data statements and what the parser does not know are never skipped: when
//! the server refuses them, the migration fails (except a column's rename in a run that
//! resumes a half-applied MySQL migration: [`rerun`]). Explicit directives ([`directive`]) are
//! evaluated by a query when their statement would run. On MySQL/MariaDB a dry run
//! cannot run for real (each DDL statement commits), so [`Predictor`] predicts it from
//! the schema read once and followed statement by statement.

pub(crate) mod classify;
pub(crate) mod directive;
pub(crate) mod rerun;

mod decide;
mod drift;
mod predict;
mod refusal;

use diesel::sql_types::Nullable;
use diesel::sql_types::Text;

use self::directive::{Directive, Test};
use crate::catalog::{Kind, Schema};
use crate::split::Statement;
use crate::{Backend, Database};

pub(crate) use crate::outcome::Action;
pub(crate) use predict::Predictor;
pub(crate) use refusal::{settle, Unsettled};

/// What guards decided for one statement, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Run or skip.
    pub action: Action,
    /// Why, in words (`table usuario exists`, `ran`).
    pub reason: String,
    /// Whether a guard decided (false: it ran as written).
    pub guarded: bool,
    /// Drift found on a skip: what exists differs from what the statement would make.
    pub warning: Option<String>,
}

impl Verdict {
    fn new(action: Action, reason: impl Into<String>, guarded: bool) -> Verdict {
        Verdict {
            action,
            reason: reason.into(),
            guarded,
            warning: None,
        }
    }

    /// A statement that ran as written.
    pub(crate) fn ran(reason: impl Into<String>) -> Verdict {
        Verdict::new(Action::Run, reason, false)
    }

    /// A statement skipped because an earlier run recorded it done.
    pub(crate) fn recorded() -> Verdict {
        Verdict::new(Action::Skip, "done in an earlier run (recorded)", true)
    }
}

/// What the directives above a statement say, evaluated now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Directed {
    /// A directive skips it.
    Skip(Verdict),
    /// Directives let it run, or guards are off for it: it runs as written and a refusal
    /// fails the migration.
    AsWritten(Verdict),
    /// Nothing decided: it runs, and a refusal is settled by [`settle`].
    Guarded,
}

/// Evaluates the directives above a statement (`skip-if`, `run-if`, `no-guard`) by
/// querying the database now. `enabled` is false when guards are off for the run or
/// the migration: explicit directives still apply.
pub(crate) fn directed<C: Database>(
    conn: &mut C,
    statement: &Statement<'_>,
    enabled: bool,
) -> Result<Directed, GuardError> {
    let directives = directives(statement)?;
    let no_guard = directives
        .iter()
        .any(|d| matches!(d, Directive::NoGuard | Directive::NoGuards));
    let mut explicit = Vec::new();
    for directive in &directives {
        let (skip_when, test) = match directive {
            Directive::SkipIf(test) => (true, test),
            Directive::RunIf(test) => (false, test),
            Directive::NoGuard | Directive::NoGuards => continue,
        };
        let holds = evaluate(conn, test)?;
        let verb = if skip_when { "skip-if" } else { "run-if" };
        let described = format!("{verb} {}: {holds}", describe_test(test));
        if holds == skip_when {
            return Ok(Directed::Skip(Verdict::new(Action::Skip, described, true)));
        }
        explicit.push(described);
    }
    if !explicit.is_empty() {
        return Ok(Directed::AsWritten(Verdict::new(
            Action::Run,
            explicit.join(", "),
            true,
        )));
    }
    if !enabled || no_guard {
        return Ok(Directed::AsWritten(Verdict::ran(
            "guards off: runs as written",
        )));
    }
    Ok(Directed::Guarded)
}

/// Why guards could not decide a statement: the migration fails on that statement,
/// with this as its message.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum GuardError {
    /// A `-- pelican:` line that does not parse, or sits where it cannot apply: what is
    /// wrong with it.
    Directive(String),
    /// A directive's `sql` test failed on the server.
    Query {
        /// The test's query.
        query: String,
        /// The server's error.
        source: diesel::result::Error,
    },
    /// The catalog could not be read to decide.
    Catalog(crate::Error),
}

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardError::Directive(message) => f.write_str(message),
            GuardError::Query { query, source } => {
                write!(f, "the guard query `{query}` failed: {source}")
            }
            GuardError::Catalog(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for GuardError {}

fn evaluate<C: Database>(conn: &mut C, test: &Test) -> Result<bool, GuardError> {
    let backend = conn.backend();
    if let Test::Sql(query) = test {
        return sql_test(conn, query);
    }
    let schema = Schema::introspect(conn).map_err(GuardError::Catalog)?;
    let key = |kind, name: &str| fold(backend, kind, name);
    Ok(match test {
        Test::Table(table) => schema.has_relation(&key(Kind::Table, table)),
        Test::Column(table, column) => schema
            .tables
            .get(&key(Kind::Table, table))
            .is_some_and(|t| t.column(&key(Kind::Column, column), backend).is_some()),
        Test::Index(index) => schema.index(None, &key(Kind::Index, index)).is_some(),
        Test::Sql(_) => false,
    })
}

/// A name in a directive as the backend compares it: as a statement's (see
/// [`Schema::ident`]), in double quotes or not.
fn fold(backend: Backend, kind: Kind, name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => Schema::ident(backend, kind, quoted, true),
        None => Schema::ident(backend, kind, name, false),
    }
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Liquibase's `sqlCheck`: the query's one value, as text, is true or a non-zero number.
fn sql_test<C: Database>(conn: &mut C, query: &str) -> Result<bool, GuardError> {
    let text = conn.backend().dialect().text_type();
    let sql = format!("SELECT CAST(({query}) AS {text}) AS value");
    let rows: Vec<Value> = conn
        .load_with(&sql, &[])
        .map_err(|source| GuardError::Query {
            query: query.to_owned(),
            source,
        })?;
    let value = rows
        .into_iter()
        .next()
        .and_then(|row| row.value)
        .unwrap_or_default();
    let value = value.trim().to_ascii_lowercase();
    Ok(match value.as_str() {
        "t" | "true" | "yes" | "on" => true,
        other => other.parse::<f64>().is_ok_and(|n| n != 0.0),
    })
}

fn describe_test(test: &Test) -> String {
    match test {
        Test::Table(t) => format!("table {t}"),
        Test::Column(t, c) => format!("column {t}.{c}"),
        Test::Index(i) => format!("index {i}"),
        Test::Sql(q) => format!("sql {q}"),
    }
}

fn directives(statement: &Statement<'_>) -> Result<Vec<Directive>, GuardError> {
    let mut found = Vec::new();
    for comment in statement.leading_comments() {
        if let Some(directive) = directive::parse(comment) {
            let directive = directive.map_err(GuardError::Directive)?;
            if directive == Directive::NoGuards && statement.offset > 0 {
                return Err(GuardError::Directive(
                    "`no-guards` applies to a whole file: put it above the first statement"
                        .to_owned(),
                ));
            }
            found.push(directive);
        }
    }
    Ok(found)
}

/// Whether the file turns guards off for all of it (`-- pelican: no-guards` above its
/// first statement).
pub(crate) fn file_disables_guards(statements: &[Statement<'_>]) -> bool {
    statements
        .iter()
        .find(|s| !s.sql.is_empty())
        .is_some_and(|first| {
            first
                .leading_comments()
                .iter()
                .any(|c| directive::parse(c) == Some(Ok(Directive::NoGuards)))
        })
}
