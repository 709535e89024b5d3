//! The decision against the catalog: whether a statement's work is done, not done, or
//! blocked by something else of that name, or whether existence cannot say.

use super::classify::{AlterOp, Effect, Name, ObjectKind};
use super::drift::{describe_column, index_drift, table_drift};
use crate::catalog::{Schema, Table};

/// What the schema says of a statement's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
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
pub(super) fn decide(schema: &Schema, effect: &Effect) -> Decision {
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
            let scope = schema
                .backend()
                .dialect()
                .indexes_per_table()
                .then_some(table_name.key.as_str());
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
            reason: reason.to_string(),
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
                    && schema.backend().dialect().constraints_apart_from_indexes()
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
            AlterOp::AddIndex(index) => {
                let exists = schema.index(Some(&name.key), &index.key).is_some();
                (
                    exists,
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
