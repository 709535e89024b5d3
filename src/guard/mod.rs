//! Existence guards: each statement of a migration is skipped when its work is already
//! done, so a half-applied migration (MySQL commits each DDL statement) or an adopted
//! database converges instead of failing.
//!
//! A statement is classified with `sqlparser` ([`classify`]) and checked against the
//! database's [`Schema`], read once per run and then kept up to date as statements run
//! (not a round trip per statement). What guards do not model (a statement the parser
//! does not understand that may change the schema) makes the next check read the
//! schema again. The author's text is what runs; guards only decide whether it does.
//!
//! | statement | skipped when |
//! |---|---|
//! | `CREATE TABLE t` | table `t` exists |
//! | `DROP TABLE t` | `t` does not exist |
//! | `ALTER TABLE t ADD [COLUMN] c` | column `t.c` exists |
//! | `ALTER TABLE t DROP [COLUMN] c` | `t.c` does not exist |
//! | `ALTER TABLE t RENAME [COLUMN] a TO b` | `b` exists and `a` does not |
//! | `ALTER TABLE t RENAME TO u`, `RENAME TABLE t TO u` | `u` exists and `t` does not |
//! | `CREATE [UNIQUE] INDEX i` | index `i` exists |
//! | `DROP INDEX i [ON t]` | `i` does not exist |
//! | `ADD CONSTRAINT k` / `DROP CONSTRAINT k`, `DROP FOREIGN KEY k` | `k` exists / does not |
//! | `CREATE VIEW`, `TRIGGER`, `TYPE`, `FUNCTION`, `PROCEDURE` and their `DROP`s | the object exists / does not |
//!
//! `IF [NOT] EXISTS` and `OR REPLACE` statements, statements that are not DDL, and
//! statements the parser does not understand run as written. A skip whose existing
//! object differs from what the statement would create (another column type, say) is
//! reported as a warning: guards must not hide drift.

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
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It runs.
    Run,
    /// It is skipped: its work is already done.
    Skip,
}

/// What guards decided for one statement, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Run or skip.
    pub action: Action,
    /// Why, in words (`table usuario exists`, `not DDL: runs as written`).
    pub reason: String,
    /// Whether a guard decided (false: runs as written, unguarded).
    pub guarded: bool,
    /// Drift found on a skip: what exists differs from what the statement would make.
    pub warning: Option<String>,
    effect: Effect,
}

/// The guards of one run: the schema as it stands, kept up to date as statements run.
#[derive(Debug)]
pub struct Guard {
    backend: Backend,
    schema: Option<Schema>,
    stale: bool,
    live: bool,
}

impl Guard {
    /// Guards for a run on a backend. `live` is false for a dry run: the schema is read
    /// once and then only changed by the statements that would run.
    pub fn new(backend: Backend, live: bool) -> Guard {
        Guard {
            backend,
            schema: None,
            stale: false,
            live,
        }
    }

    /// Decides whether a statement runs. `enabled` is false when guards are off for its
    /// migration or run; explicit directives apply either way.
    pub fn check<C: Database>(
        &mut self,
        conn: &mut C,
        statement: &Statement<'_>,
        enabled: bool,
    ) -> Result<Verdict, String> {
        let directives = directives(statement)?;
        let no_guard = directives
            .iter()
            .any(|d| matches!(d, Directive::NoGuard | Directive::NoGuards));
        if (!enabled || no_guard) && directives.len() <= usize::from(no_guard) {
            // Nothing to decide: the statement runs as written; only a statement that may
            // change the schema needs reading (so the next guarded check reads it again).
            let effect = if self.schema.is_some() {
                classify(statement.sql, self.backend)
            } else {
                Effect::Unguarded {
                    reason: "guards off: runs as written",
                    changes_schema: false,
                }
            };
            return Ok(unguarded_run(effect, "guards off: runs as written"));
        }
        let effect = classify(statement.sql, self.backend);
        let mut explicit = Vec::new();
        for directive in &directives {
            let (skip_when, test) = match directive {
                Directive::SkipIf(test) => (true, test),
                Directive::RunIf(test) => (false, test),
                Directive::NoGuard | Directive::NoGuards => continue,
            };
            let holds = self.test(conn, test)?;
            let verb = if skip_when { "skip-if" } else { "run-if" };
            let described = format!("{verb} {}: {holds}", describe_test(test));
            if holds == skip_when {
                return Ok(Verdict {
                    action: Action::Skip,
                    reason: described,
                    guarded: true,
                    warning: None,
                    effect,
                });
            }
            explicit.push(described);
        }
        if !explicit.is_empty() {
            return Ok(Verdict {
                action: Action::Run,
                reason: explicit.join(", "),
                guarded: true,
                warning: None,
                effect,
            });
        }
        if !enabled || no_guard {
            return Ok(unguarded_run(effect, "guards off: runs as written"));
        }
        if let Effect::Unguarded { reason, .. } = effect {
            return Ok(unguarded_run(effect, reason));
        }
        let schema = self.schema(conn)?;
        Ok(decide(schema, effect))
    }

    /// Records that a statement ran, so the next checks see its effect.
    pub fn ran(&mut self, verdict: &Verdict) {
        match (&verdict.effect, &mut self.schema) {
            (Effect::Unguarded { changes_schema, .. }, _) => {
                self.stale |= *changes_schema;
            }
            (effect, Some(schema)) => {
                if !apply(schema, effect) {
                    self.stale = true;
                }
            }
            (_, None) => {}
        }
    }

    /// Forgets the schema (after a rollback): the next check reads it again.
    pub fn forget(&mut self) {
        self.schema = None;
        self.stale = false;
    }

    fn schema<C: Database>(&mut self, conn: &mut C) -> Result<&Schema, String> {
        let reread = self.schema.is_none() || (self.stale && self.live);
        if reread {
            let schema = Schema::introspect(conn).map_err(|e| e.to_string())?;
            self.schema = Some(schema);
            self.stale = false;
        }
        self.schema
            .as_ref()
            .ok_or_else(|| "the schema could not be read".to_owned())
    }

    fn test<C: Database>(&mut self, conn: &mut C, test: &Test) -> Result<bool, String> {
        let backend = self.backend;
        let key = |kind, name: &str| Schema::key(backend, kind, &fold(backend, name));
        match test {
            Test::Table(table) => Ok(self.schema(conn)?.has_relation(&key(Kind::Table, table))),
            Test::Column(table, column) => Ok(self
                .schema(conn)?
                .tables
                .get(&key(Kind::Table, table))
                .is_some_and(|t| t.column(&key(Kind::Column, column), backend).is_some())),
            Test::Index(index) => Ok(self
                .schema(conn)?
                .index(None, &key(Kind::Index, index))
                .is_some()),
            Test::Sql(query) => sql_test(conn, query),
        }
    }
}

/// How an unquoted name in a directive is folded: PostgreSQL folds to lower case;
/// a name in double quotes is kept.
fn fold(backend: Backend, name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.to_owned(),
        None if backend == Backend::Postgres => name.to_lowercase(),
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

fn unguarded_run(effect: Effect, reason: &str) -> Verdict {
    Verdict {
        action: Action::Run,
        reason: reason.to_owned(),
        guarded: false,
        warning: None,
        effect,
    }
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
    }
}

/// The decision for a guarded effect, against the schema as it stands.
fn decide(schema: &Schema, effect: Effect) -> Verdict {
    let names_in_scope = match &effect {
        Effect::CreateTable { table, .. } | Effect::AlterTable { table, .. } => vec![table],
        Effect::DropTable(names) | Effect::DropObject(_, names) => names.iter().collect(),
        Effect::CreateIndex { index, table, .. } => vec![index, table],
        Effect::DropIndex { indexes, table } => indexes.iter().chain(table).collect(),
        Effect::CreateObject(_, name) => vec![name],
        Effect::RenameTables(pairs) => pairs.iter().flat_map(|(a, b)| [a, b]).collect(),
        Effect::Unguarded { .. } => Vec::new(),
    };
    if !names_in_scope.iter().all(|n| in_namespace(schema, n)) {
        return unguarded_run(effect, "names another schema: runs as written");
    }
    let (done, reason, warning) = match &effect {
        Effect::CreateTable {
            table: name,
            columns,
            ..
        } => match table(schema, name) {
            Some(existing) => (
                true,
                format!("table {} exists", name.shown),
                table_drift(schema, existing, columns),
            ),
            None if schema.views.contains_key(&name.key) => (
                true,
                format!("a view named {} exists", name.shown),
                Some(format!(
                    "{} exists as a view; the statement creates a table",
                    name.shown
                )),
            ),
            None => (false, format!("table {} does not exist", name.shown), None),
        },
        Effect::DropTable(names) => {
            let gone = names.iter().all(|n| table(schema, n).is_none());
            let list = shown(names);
            if gone {
                (true, format!("table {list} does not exist"), None)
            } else {
                (false, format!("table {list} exists"), None)
            }
        }
        Effect::AlterTable { table: name, ops } => alter_done(schema, name, ops),
        Effect::RenameTables(pairs) => {
            let done = pairs
                .iter()
                .all(|(from, to)| schema.has_relation(&to.key) && !schema.has_relation(&from.key));
            let list: Vec<String> = pairs
                .iter()
                .map(|(a, b)| format!("{} to {}", a.shown, b.shown))
                .collect();
            if done {
                (true, format!("renamed already: {}", list.join(", ")), None)
            } else {
                (false, format!("not renamed yet: {}", list.join(", ")), None)
            }
        }
        Effect::CreateIndex {
            index,
            table: table_name,
            columns,
            unique,
        } => {
            let scope = (schema.backend() == Backend::Mysql).then_some(table_name.key.as_str());
            match schema.index(scope, &index.key) {
                Some(existing) => (
                    true,
                    format!("index {} exists", index.shown),
                    index_drift(existing, &index.shown, &table_name.key, columns, *unique),
                ),
                None => (false, format!("index {} does not exist", index.shown), None),
            }
        }
        Effect::DropIndex { indexes, table } => {
            let scope = table.as_ref().map(|t| t.key.as_str());
            let gone = indexes
                .iter()
                .all(|i| schema.index(scope, &i.key).is_none());
            let list = shown(indexes);
            if gone {
                (true, format!("index {list} does not exist"), None)
            } else {
                (false, format!("index {list} exists"), None)
            }
        }
        Effect::CreateObject(kind, name) => {
            if object_exists(schema, *kind, name) {
                (true, format!("{} {} exists", kind.word(), name.shown), None)
            } else {
                (
                    false,
                    format!("{} {} does not exist", kind.word(), name.shown),
                    None,
                )
            }
        }
        Effect::DropObject(kind, names) => {
            let gone = names.iter().all(|n| !object_exists(schema, *kind, n));
            let list = shown(names);
            if gone {
                (true, format!("{} {list} does not exist", kind.word()), None)
            } else {
                (false, format!("{} {list} exists", kind.word()), None)
            }
        }
        Effect::Unguarded { reason, .. } => {
            let reason = reason.to_string();
            return unguarded_run(effect, &reason);
        }
    };
    Verdict {
        action: if done { Action::Skip } else { Action::Run },
        reason,
        guarded: true,
        warning: if done { warning } else { None },
        effect,
    }
}

fn shown(names: &[Name]) -> String {
    names
        .iter()
        .map(|n| n.shown.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether every operation of an `ALTER TABLE` is done already; one that guards do
/// not model is never done, so the statement runs.
fn alter_done(schema: &Schema, name: &Name, ops: &[AlterOp]) -> (bool, String, Option<String>) {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let mut all_done = true;
    for op in ops {
        let (done, reason) = match op {
            AlterOp::AddColumn(column) => {
                let existing =
                    table(schema, name).and_then(|t| t.column(&column.key, schema.backend()));
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
            AlterOp::RenameColumn(from, to) => {
                let done = has_column(schema, name, to) && !has_column(schema, name, from);
                (
                    done,
                    if done {
                        format!("column {}.{} renamed already", name.shown, to.shown)
                    } else {
                        format!("column {}.{} not renamed yet", name.shown, from.shown)
                    },
                )
            }
            AlterOp::RenameTable(to) => {
                let done = schema.has_relation(&to.key) && !schema.has_relation(&name.key);
                (
                    done,
                    if done {
                        format!("table {} renamed to {} already", name.shown, to.shown)
                    } else {
                        format!("table {} not renamed yet", name.shown)
                    },
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
            AlterOp::Other => (
                false,
                "an ALTER TABLE operation guards do not model".to_owned(),
            ),
        };
        all_done &= done;
        reasons.push(reason);
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
    (all_done, reasons.join(", "), warning)
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
                }
            }
        }
        Effect::Unguarded { changes_schema, .. } => return !changes_schema,
    }
    true
}
