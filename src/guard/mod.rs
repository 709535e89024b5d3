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
//! | `DROP INDEX i [ON t]` | `i` does not exist |
//! | `ADD CONSTRAINT k` / `DROP CONSTRAINT k`, `DROP FOREIGN KEY k` | `k` exists / does not, and is no index |
//! | `CREATE VIEW`, `TRIGGER`, `TYPE`, `FUNCTION`, `PROCEDURE` and their `DROP`s | the object exists / does not |
//!
//! Renames, data statements and what the parser does not know are never skipped: when
//! the server refuses them, the migration fails. Explicit directives ([`directive`]) are
//! evaluated by a query when their statement would run. On MySQL/MariaDB a dry run
//! cannot run for real (each DDL statement commits), so [`Predictor`] predicts it from
//! the schema read once and followed statement by statement.

pub mod classify;
pub mod directive;

use std::fmt::Write as _;

use diesel::sql_types::Nullable;
use diesel::sql_types::Text;

use self::classify::{classify, AlterOp, ColumnSpec, Effect, Name, ObjectKind};
use self::directive::{Directive, Test};
use crate::catalog::{Index, Kind, Schema, Table};
use crate::split::Statement;
use crate::{Backend, Database};

/// Whether a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// It runs.
    Run,
    /// It is skipped: its work is already done.
    Skip,
    /// A dry run did not try it: it cannot run inside the transaction a dry run rolls
    /// back (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
    NotTried,
}

/// What guards decided for one statement, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
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
    pub fn ran(reason: impl Into<String>) -> Verdict {
        Verdict::new(Action::Run, reason, false)
    }

    /// A statement skipped because an earlier run recorded it done.
    pub fn recorded() -> Verdict {
        Verdict::new(Action::Skip, "done in an earlier run (recorded)", true)
    }
}

/// Why the server refused a statement, when the reason is the existence of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// "already exists", "duplicate column name", …
    Exists,
    /// "does not exist", "no such table", "Can't DROP …", …
    Missing,
}

/// The existence refusal in a server's message, if that is what it says. Only the
/// class is read here: which object, and whether it is the statement's, is [`settle`]'s
/// question, answered from the catalog.
pub fn refusal(backend: Backend, message: &str) -> Option<Refusal> {
    let lower = message.to_ascii_lowercase();
    let exists = match backend {
        Backend::Sqlite => {
            lower.contains("already exists") || lower.starts_with("duplicate column name")
        }
        Backend::Postgres => lower.contains("already exists"),
        Backend::Mysql => {
            lower.contains("already exists")
                || (lower.starts_with("duplicate ") && !lower.starts_with("duplicate entry"))
                || lower.contains("errno: 121")
        }
    };
    if exists {
        return Some(Refusal::Exists);
    }
    let missing = match backend {
        Backend::Sqlite => [
            "no such table",
            "no such index",
            "no such trigger",
            "no such view",
            "no such column",
        ]
        .iter()
        .any(|p| lower.starts_with(p)),
        Backend::Postgres => lower.contains("does not exist"),
        Backend::Mysql => {
            lower.starts_with("unknown table")
                || lower.starts_with("unknown view")
                || lower.contains("doesn't exist")
                || lower.contains("does not exist")
                || lower.starts_with("can't drop")
        }
    };
    missing.then_some(Refusal::Missing)
}

/// What the directives above a statement say, evaluated now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directed {
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
pub fn directed<C: Database>(
    conn: &mut C,
    statement: &Statement<'_>,
    enabled: bool,
) -> Result<Directed, String> {
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

/// After the server refused `sql` with `message`: a skip when the refusal says the
/// statement's work is done and the catalog, read now, shows the object the statement
/// would have made (or shows it gone). Otherwise an error that says why the refusal is
/// not taken as done; the caller adds the server's message.
pub fn settle<C: Database>(conn: &mut C, sql: &str, message: &str) -> Result<Verdict, String> {
    let backend = conn.backend();
    let Some(refused) = refusal(backend, message) else {
        return Err(String::new());
    };
    let effect = classify(sql, backend);
    if matches!(effect, Effect::Unguarded { .. } | Effect::RenameTables(_)) {
        return Err(String::new());
    }
    // The server resolved the signature itself: `function area(integer) does not exist`
    // is about that overload, whatever others of the name exist.
    if backend == Backend::Postgres {
        if let (Effect::DropObject(ObjectKind::Function, _), Refusal::Missing)
        | (Effect::CreateObject(ObjectKind::Function, _), Refusal::Exists) = (&effect, refused)
        {
            return Ok(Verdict::new(
                Action::Skip,
                format!("the server says so: {}", message.trim()),
                true,
            ));
        }
    }
    let schema = Schema::introspect(conn).map_err(|e| e.to_string())?;
    match decide(&schema, &effect) {
        Decision::Done { reason, warning } => Ok(Verdict {
            action: Action::Skip,
            reason,
            guarded: true,
            warning,
        }),
        Decision::NotDone { reason } => Err(format!("not taken as done: {reason}")),
        Decision::Conflict { reason } => Err(reason),
        Decision::Unknown { .. } => Err(String::new()),
    }
}

/// A dry run's prediction on MySQL/MariaDB, where nothing can run and roll back: the
/// schema read once, then followed through the statements that would run.
#[derive(Debug)]
pub struct Predictor {
    schema: Option<Schema>,
    stale: bool,
}

impl Predictor {
    /// A predictor that has not read the schema yet.
    pub fn new() -> Predictor {
        Predictor {
            schema: None,
            stale: false,
        }
    }

    /// What would happen to one statement: skipped by a directive, skipped because its
    /// work is done, or run.
    pub fn predict<C: Database>(
        &mut self,
        conn: &mut C,
        statement: &Statement<'_>,
        enabled: bool,
    ) -> Result<Verdict, String> {
        let verdict = match directed(conn, statement, enabled)? {
            Directed::Skip(verdict) => return Ok(verdict),
            Directed::AsWritten(verdict) => verdict,
            Directed::Guarded => {
                let effect = classify(statement.sql, conn.backend());
                let schema = self.schema(conn)?;
                let verdict = match decide(schema, &effect) {
                    Decision::Done { reason, warning } => Verdict {
                        action: Action::Skip,
                        reason: format!("predicted: {reason}"),
                        guarded: true,
                        warning,
                    },
                    Decision::NotDone { reason } => {
                        Verdict::new(Action::Run, format!("predicted: {reason}"), true)
                    }
                    Decision::Conflict { reason } => {
                        Verdict::new(Action::Run, format!("predicted to fail: {reason}"), true)
                    }
                    Decision::Unknown { reason } => Verdict::ran(reason),
                };
                if verdict.action == Action::Skip {
                    return Ok(verdict);
                }
                verdict
            }
        };
        self.ran(statement.sql, conn.backend());
        Ok(verdict)
    }

    fn ran(&mut self, sql: &str, backend: Backend) {
        let effect = classify(sql, backend);
        match (&effect, &mut self.schema) {
            (Effect::Unguarded { changes_schema, .. }, _) => self.stale |= *changes_schema,
            (effect, Some(schema)) => {
                if !apply(schema, effect) {
                    self.stale = true;
                }
            }
            (_, None) => {}
        }
    }

    fn schema<C: Database>(&mut self, conn: &mut C) -> Result<&Schema, String> {
        if self.schema.is_none() {
            self.schema = Some(Schema::introspect(conn).map_err(|e| e.to_string())?);
        }
        self.schema
            .as_ref()
            .ok_or_else(|| "the schema could not be read".to_owned())
    }
}

impl Default for Predictor {
    fn default() -> Self {
        Predictor::new()
    }
}

/// What the schema says of a statement's work.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// Done already: the object exists (or is gone) as the statement would leave it.
    Done {
        reason: String,
        warning: Option<String>,
    },
    /// Not done.
    NotDone { reason: String },
    /// Something else stands where the statement's object would: another kind of
    /// object, an invalid index, an index where a constraint is named.
    Conflict { reason: String },
    /// Nothing the schema can say.
    Unknown { reason: String },
}

fn evaluate<C: Database>(conn: &mut C, test: &Test) -> Result<bool, String> {
    let backend = conn.backend();
    if let Test::Sql(query) = test {
        return sql_test(conn, query);
    }
    let schema = Schema::introspect(conn).map_err(|e| e.to_string())?;
    let key = |kind, name: &str| Schema::key(backend, kind, &fold(backend, name));
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

/// How an unquoted name in a directive is folded: PostgreSQL folds to lower case;
/// a name in double quotes is kept.
fn fold(backend: Backend, name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.to_owned(),
        None if backend == Backend::Postgres => name.to_ascii_lowercase(),
        None => name.to_owned(),
    }
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Liquibase's `sqlCheck`: the query's one value, as text, is true or a non-zero number.
fn sql_test<C: Database>(conn: &mut C, query: &str) -> Result<bool, String> {
    let text = match conn.backend() {
        Backend::Mysql => "CHAR",
        Backend::Sqlite | Backend::Postgres => "TEXT",
    };
    let sql = format!("SELECT CAST(({query}) AS {text}) AS value");
    let rows: Vec<Value> = conn
        .load_with(&sql, &[])
        .map_err(|e| format!("the guard query `{query}` failed: {e}"))?;
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

fn directives(statement: &Statement<'_>) -> Result<Vec<Directive>, String> {
    let mut found = Vec::new();
    for comment in statement.leading_comments() {
        if let Some(directive) = directive::parse(comment) {
            let directive = directive?;
            if directive == Directive::NoGuards && statement.offset > 0 {
                return Err(
                    "`no-guards` applies to a whole file: put it above the first statement"
                        .to_owned(),
                );
            }
            found.push(directive);
        }
    }
    Ok(found)
}

/// Whether the file turns guards off for all of it (`-- pelican: no-guards` above its
/// first statement).
pub fn file_disables_guards(statements: &[Statement<'_>]) -> bool {
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

fn in_namespace(schema: &Schema, name: &Name) -> bool {
    match (&name.namespace, &schema.namespace) {
        (None, _) => true,
        (Some(ns), Some(current)) => ns == current || ns.eq_ignore_ascii_case(current),
        (Some(_), None) => false,
    }
}

fn table<'s>(schema: &'s Schema, name: &Name) -> Option<&'s Table> {
    schema.tables.get(&name.key)
}

fn has_column(schema: &Schema, table_name: &Name, column: &Name) -> bool {
    table(schema, table_name).is_some_and(|t| t.column(&column.key, schema.backend()).is_some())
}

fn object_exists(schema: &Schema, kind: ObjectKind, name: &Name) -> bool {
    match kind {
        ObjectKind::View => schema.views.contains_key(&name.key),
        ObjectKind::Trigger => schema.triggers.contains_key(&name.key),
        ObjectKind::Type => schema.types.contains(&name.key),
        ObjectKind::Function => schema.functions.contains(&name.key),
        ObjectKind::Procedure => schema
            .functions
            .contains(&format!("procedure:{}", name.key)),
    }
}

fn done(reason: String, warning: Option<String>) -> Decision {
    Decision::Done { reason, warning }
}

fn not_done(reason: String) -> Decision {
    Decision::NotDone { reason }
}

fn conflict(reason: String) -> Decision {
    Decision::Conflict { reason }
}

/// The decision for an effect, against the schema as it stands.
fn decide(schema: &Schema, effect: &Effect) -> Decision {
    let names_in_scope = match effect {
        Effect::CreateTable { table, .. } | Effect::AlterTable { table, .. } => vec![table],
        Effect::DropTable(names) | Effect::DropObject(_, names) => names.iter().collect(),
        Effect::CreateIndex { index, table, .. } => vec![index, table],
        Effect::DropIndex { indexes, table } => indexes.iter().chain(table).collect(),
        Effect::CreateObject(_, name) => vec![name],
        Effect::RenameTables(pairs) => pairs.iter().flat_map(|(a, b)| [a, b]).collect(),
        Effect::Unguarded { .. } => Vec::new(),
    };
    if !names_in_scope.iter().all(|n| in_namespace(schema, n)) {
        return Decision::Unknown {
            reason: "names another schema: runs as written".to_owned(),
        };
    }
    match effect {
        Effect::CreateTable {
            table: name,
            columns,
            ..
        } => match table(schema, name) {
            Some(existing) => done(
                format!("table {} exists", name.shown),
                table_drift(schema, existing, columns),
            ),
            None if schema.views.contains_key(&name.key) => conflict(format!(
                "{} exists as a view; the statement creates a table",
                name.shown
            )),
            None => not_done(format!("table {} does not exist", name.shown)),
        },
        Effect::DropTable(names) => {
            let list = shown(names);
            if let Some(view) = names.iter().find(|n| schema.views.contains_key(&n.key)) {
                conflict(format!(
                    "{} is a view; the statement drops a table",
                    view.shown
                ))
            } else if names.iter().all(|n| table(schema, n).is_none()) {
                done(format!("table {list} does not exist"), None)
            } else {
                not_done(format!("table {list} exists"))
            }
        }
        Effect::AlterTable { table: name, ops } => alter_done(schema, name, ops),
        Effect::RenameTables(_) => Decision::Unknown {
            reason: "a rename: existence cannot say whether it ran".to_owned(),
        },
        Effect::CreateIndex {
            index,
            table: table_name,
            columns,
            unique,
        } => {
            let scope = (schema.backend() == Backend::Mysql).then_some(table_name.key.as_str());
            match schema.index(scope, &index.key) {
                Some(existing) if !existing.valid => conflict(format!(
                    "index {} exists but is INVALID (a failed CREATE INDEX CONCURRENTLY left \
                     it): drop it and run again",
                    index.shown
                )),
                Some(existing) if existing.table != table_name.key => conflict(format!(
                    "index {} exists on table {}; the statement creates it on {}",
                    index.shown, existing.table, table_name.shown
                )),
                Some(existing) => done(
                    format!("index {} exists", index.shown),
                    index_drift(existing, &index.shown, &table_name.key, columns, *unique),
                ),
                None => not_done(format!("index {} does not exist", index.shown)),
            }
        }
        Effect::DropIndex { indexes, table } => {
            let scope = table.as_ref().map(|t| t.key.as_str());
            let list = shown(indexes);
            if table.as_ref().is_some_and(|t| !schema.has_relation(&t.key)) {
                not_done(format!("table {} does not exist", shown(table.as_slice())))
            } else if indexes
                .iter()
                .all(|i| schema.index(scope, &i.key).is_none())
            {
                done(format!("index {list} does not exist"), None)
            } else {
                not_done(format!("index {list} exists"))
            }
        }
        Effect::CreateObject(kind, name) => {
            if object_exists(schema, *kind, name) {
                done(format!("{} {} exists", kind.word(), name.shown), None)
            } else if *kind == ObjectKind::View && schema.tables.contains_key(&name.key) {
                conflict(format!(
                    "{} exists as a table; the statement creates a view",
                    name.shown
                ))
            } else {
                not_done(format!("{} {} does not exist", kind.word(), name.shown))
            }
        }
        Effect::DropObject(kind, names) => {
            let list = shown(names);
            let table_named = (*kind == ObjectKind::View)
                .then(|| names.iter().find(|n| schema.tables.contains_key(&n.key)))
                .flatten();
            if let Some(table) = table_named {
                conflict(format!(
                    "{} is a table; the statement drops a view",
                    table.shown
                ))
            } else if names.iter().all(|n| !object_exists(schema, *kind, n)) {
                done(format!("{} {list} does not exist", kind.word()), None)
            } else {
                not_done(format!("{} {list} exists", kind.word()))
            }
        }
        Effect::Unguarded { reason, .. } => Decision::Unknown {
            reason: (*reason).to_owned(),
        },
    }
}

fn shown(names: &[Name]) -> String {
    names
        .iter()
        .map(|n| n.shown.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether every operation of an `ALTER TABLE` is done already. One that existence
/// cannot decide (a rename, a change of definition) makes the whole statement unknown.
fn alter_done(schema: &Schema, name: &Name, ops: &[AlterOp]) -> Decision {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let mut all_done = true;
    let Some(existing_table) = table(schema, name) else {
        return not_done(format!("table {} does not exist", name.shown));
    };
    for op in ops {
        let (done, reason) = match op {
            AlterOp::AddColumn(column) => {
                let existing = existing_table.column(&column.key, schema.backend());
                if let Some(existing) = existing {
                    if existing.data_type != column.data_type
                        || existing.nullable != column.nullable
                    {
                        warnings.push(format!(
                            "{}.{} exists as {}; the statement adds {}",
                            name.shown,
                            column.name,
                            describe_column(&existing.data_type, existing.nullable),
                            describe_column(&column.data_type, column.nullable),
                        ));
                    }
                }
                (
                    existing.is_some(),
                    format!(
                        "column {}.{} {}",
                        name.shown,
                        column.name,
                        exists_word(existing.is_some())
                    ),
                )
            }
            AlterOp::DropColumn(column) => {
                let exists = has_column(schema, name, column);
                (
                    !exists,
                    format!(
                        "column {}.{} {}",
                        name.shown,
                        column.shown,
                        exists_word(exists)
                    ),
                )
            }
            AlterOp::AddConstraint(constraint) => {
                let exists = schema.has_constraint(Some(&name.key), &constraint.key);
                (
                    exists,
                    format!("constraint {} {}", constraint.shown, exists_word(exists)),
                )
            }
            AlterOp::DropConstraint(constraint) => {
                let exists = schema.has_constraint(Some(&name.key), &constraint.key);
                if !exists
                    && schema.backend() != Backend::Mysql
                    && schema.index(Some(&name.key), &constraint.key).is_some()
                {
                    return conflict(format!(
                        "{} is an index on {}, not a constraint: the statement names the \
                         wrong kind of object",
                        constraint.shown, name.shown
                    ));
                }
                (
                    !exists,
                    format!("constraint {} {}", constraint.shown, exists_word(exists)),
                )
            }
            AlterOp::DropIndex(index) => {
                let exists = schema.index(Some(&name.key), &index.key).is_some();
                (
                    !exists,
                    format!("index {} {}", index.shown, exists_word(exists)),
                )
            }
            AlterOp::RenameColumn(..) | AlterOp::RenameTable(_) | AlterOp::Other => {
                return Decision::Unknown {
                    reason: "an ALTER TABLE operation existence cannot decide".to_owned(),
                };
            }
        };
        all_done &= done;
        reasons.push(reason);
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
    if all_done {
        done(reasons.join(", "), warning)
    } else {
        not_done(reasons.join(", "))
    }
}

fn exists_word(exists: bool) -> &'static str {
    if exists {
        "exists"
    } else {
        "does not exist"
    }
}

fn describe_column(data_type: &str, nullable: bool) -> String {
    format!(
        "{} {}",
        data_type.to_uppercase(),
        if nullable { "NULL" } else { "NOT NULL" }
    )
}

/// What differs between an existing table and the one a skipped `CREATE TABLE` would
/// make: its columns missing from the table, and those of another type. Columns the
/// table has beyond the statement's are not drift: later migrations add them.
fn table_drift(schema: &Schema, existing: &Table, columns: &[ColumnSpec]) -> Option<String> {
    let mut drift = String::new();
    for column in columns {
        match existing.column(&column.key, schema.backend()) {
            None => {
                let _ = write!(
                    drift,
                    "{}{}.{} is missing",
                    sep(&drift),
                    existing.name,
                    column.name
                );
            }
            Some(found) if found.data_type != column.data_type => {
                let _ = write!(
                    drift,
                    "{}{}.{} is {} where the statement creates {}",
                    sep(&drift),
                    existing.name,
                    column.name,
                    found.data_type.to_uppercase(),
                    column.data_type.to_uppercase()
                );
            }
            Some(_) => {}
        }
    }
    (!drift.is_empty()).then_some(drift)
}

fn index_drift(
    existing: &Index,
    shown: &str,
    table: &str,
    columns: &[String],
    unique: bool,
) -> Option<String> {
    let what = |table: &str, columns: &[String], unique: bool| {
        format!(
            "{}on {table} ({})",
            if unique { "UNIQUE " } else { "" },
            columns.join(", ")
        )
    };
    let same = existing.table == table && existing.columns == columns && existing.unique == unique;
    (!same).then(|| {
        format!(
            "index {shown} exists {}; the statement creates it {}",
            what(&existing.table, &existing.columns, existing.unique),
            what(table, columns, unique)
        )
    })
}

fn sep(text: &str) -> &'static str {
    if text.is_empty() {
        ""
    } else {
        "; "
    }
}

/// Applies an effect that ran to the schema; false when the schema can no longer tell.
fn apply(schema: &mut Schema, effect: &Effect) -> bool {
    let backend = schema.backend();
    match effect {
        Effect::CreateTable {
            table,
            columns,
            constraints,
        } => {
            schema.tables.insert(
                table.key.clone(),
                Table {
                    name: table.shown.clone(),
                    columns: columns
                        .iter()
                        .map(|c| crate::catalog::Column {
                            name: c.name.clone(),
                            data_type: c.data_type.clone(),
                            nullable: c.nullable,
                            default: None,
                        })
                        .collect(),
                    primary_key: Vec::new(),
                },
            );
            for constraint in constraints {
                schema
                    .constraints
                    .insert((table.key.clone(), constraint.key.clone()), String::new());
            }
        }
        Effect::DropTable(names) => {
            for name in names {
                schema.tables.remove(&name.key);
                schema.indexes.retain(|(t, _), _| t != &name.key);
                schema.constraints.retain(|(t, _), _| t != &name.key);
            }
        }
        Effect::AlterTable { table, ops } => {
            for op in ops {
                match op {
                    AlterOp::AddColumn(column) => {
                        if let Some(t) = schema.tables.get_mut(&table.key) {
                            t.columns.push(crate::catalog::Column {
                                name: column.name.clone(),
                                data_type: column.data_type.clone(),
                                nullable: column.nullable,
                                default: None,
                            });
                        }
                    }
                    AlterOp::DropColumn(column) => {
                        if let Some(t) = schema.tables.get_mut(&table.key) {
                            t.columns.retain(|c| {
                                Schema::key(backend, Kind::Column, &c.name) != column.key
                            });
                        }
                    }
                    AlterOp::RenameColumn(from, to) => {
                        if let Some(t) = schema.tables.get_mut(&table.key) {
                            for c in &mut t.columns {
                                if Schema::key(backend, Kind::Column, &c.name) == from.key {
                                    c.name = to.shown.clone();
                                }
                            }
                        }
                    }
                    AlterOp::RenameTable(to) => {
                        if let Some(mut t) = schema.tables.remove(&table.key) {
                            t.name = to.shown.clone();
                            schema.tables.insert(to.key.clone(), t);
                        }
                        return false;
                    }
                    AlterOp::AddConstraint(constraint) => {
                        schema
                            .constraints
                            .insert((table.key.clone(), constraint.key.clone()), String::new());
                    }
                    AlterOp::DropConstraint(constraint) => {
                        schema
                            .constraints
                            .remove(&(table.key.clone(), constraint.key.clone()));
                    }
                    AlterOp::DropIndex(index) => {
                        schema
                            .indexes
                            .remove(&(table.key.clone(), index.key.clone()));
                    }
                    AlterOp::Other => return false,
                }
            }
        }
        Effect::RenameTables(_) => return false,
        Effect::CreateIndex {
            index,
            table,
            columns,
            unique,
        } => {
            schema.indexes.insert(
                (table.key.clone(), index.key.clone()),
                Index {
                    name: index.shown.clone(),
                    table: table.key.clone(),
                    columns: columns.clone(),
                    unique: *unique,
                    valid: true,
                },
            );
        }
        Effect::DropIndex { indexes, table } => {
            for index in indexes {
                schema.indexes.retain(|(t, i), _| {
                    !(i == &index.key && table.as_ref().is_none_or(|table| &table.key == t))
                });
            }
        }
        Effect::CreateObject(kind, name) => match kind {
            ObjectKind::View => {
                schema.views.insert(name.key.clone(), String::new());
            }
            ObjectKind::Trigger => {
                schema.triggers.insert(name.key.clone(), String::new());
            }
            ObjectKind::Type => {
                schema.types.insert(name.key.clone());
            }
            ObjectKind::Function => {
                schema.functions.insert(name.key.clone());
            }
            ObjectKind::Procedure => {
                schema.functions.insert(format!("procedure:{}", name.key));
            }
        },
        Effect::DropObject(kind, names) => {
            for name in names {
                match kind {
                    ObjectKind::View => {
                        schema.views.remove(&name.key);
                    }
                    ObjectKind::Trigger => {
                        schema.triggers.remove(&name.key);
                    }
                    ObjectKind::Type => {
                        schema.types.remove(&name.key);
                    }
                    ObjectKind::Function => {
                        schema.functions.remove(&name.key);
                    }
                    ObjectKind::Procedure => {
                        schema.functions.remove(&format!("procedure:{}", name.key));
                    }
                }
            }
        }
        Effect::Unguarded { changes_schema, .. } => return !changes_schema,
    }
    true
}
