//! A dry run's prediction on MySQL/MariaDB: the schema read once, each statement decided
//! against it, and the effect of each one that would run applied to it.

use super::classify::{classify, if_exists_effect, AlterOp, Effect, ObjectKind};
use super::decide::{decide, Decision};
use super::{directed, Action, Directed, GuardError, Verdict};
use crate::catalog::{Index, Kind, Schema, Table};
use crate::split::Statement;
use crate::{Backend, Database};

/// A dry run's prediction on MySQL/MariaDB, where nothing can run and roll back: the
/// schema read once, then followed through the statements that would run.
#[derive(Debug)]
pub(crate) struct Predictor {
    schema: Option<Schema>,
    stale: bool,
}

impl Predictor {
    /// A predictor that has not read the schema yet.
    pub(crate) fn new() -> Predictor {
        Predictor {
            schema: None,
            stale: false,
        }
    }

    /// What would happen to one statement: skipped by a directive, skipped because its
    /// work is done, or run.
    pub(crate) fn predict<C: Database>(
        &mut self,
        conn: &mut C,
        statement: &Statement<'_>,
        enabled: bool,
    ) -> Result<Verdict, GuardError> {
        let verdict = match directed(conn, statement, enabled)? {
            Directed::Skip(verdict) => return Ok(verdict),
            Directed::AsWritten(verdict) => verdict,
            Directed::Guarded => {
                let effect = classify(statement.sql, conn.backend());
                let schema = self.schema(conn)?;
                let verdict = match decide(schema, &effect) {
                    // The schema followed so far is not the one the statement would
                    // meet: that its work is done cannot be told, and run as written
                    // is what `migrate` would find to do unless it is.
                    Decision::Done { .. } if self.stale => Verdict::new(
                        Action::Run,
                        "predicted: an earlier statement changed the schema in a way \
                         the prediction does not follow, so whether this one's work is \
                         done cannot be told"
                            .to_owned(),
                        true,
                    ),
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
            (Effect::Unguarded { changes_schema, .. }, schema) => {
                // `DROP … IF EXISTS` and `CREATE … IF NOT EXISTS` run as written; what
                // they leave is known.
                let followed = match (if_exists_effect(sql, backend), schema) {
                    (Some(effect), Some(schema)) => {
                        matches!(decide(schema, &effect), Decision::Done { .. })
                            || apply(schema, &effect)
                    }
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                self.stale |= *changes_schema && !followed;
            }
            (effect, Some(schema)) => {
                if !apply(schema, effect) {
                    self.stale = true;
                }
            }
            (_, None) => {}
        }
    }

    fn schema<C: Database>(&mut self, conn: &mut C) -> Result<&Schema, GuardError> {
        let schema = match self.schema.take() {
            Some(schema) => schema,
            None => Schema::introspect(conn).map_err(GuardError::Catalog)?,
        };
        Ok(self.schema.insert(schema))
    }
}

impl Default for Predictor {
    fn default() -> Self {
        Predictor::new()
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
                    AlterOp::AddIndex(index) => {
                        schema.indexes.insert(
                            (table.key.clone(), index.key.clone()),
                            Index {
                                name: index.shown.clone(),
                                table: table.key.clone(),
                                columns: Vec::new(),
                                unique: false,
                                valid: true,
                            },
                        );
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
