//! The lint's rules: each a stable name, a severity, the backends it applies to and a
//! one-line fix, and the checks that find them in one statement's parse tree.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, CascadeOption, ColumnDef, ColumnOption, Expr,
    GeneratedExpressionMode, ObjectName, ObjectType, RenameTableNameKind, Statement,
    TableConstraint,
};
use sqlparser::parser::Parser;

use super::{Context, Severity};
use crate::Backend;

/// One rule of the lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Rule {
    /// Its name: stable, what `-- pelican: allow NAME` names.
    pub name: &'static str,
    /// How much a finding matters.
    pub severity: Severity,
    /// The backends it applies to.
    #[serde(skip)]
    pub backends: &'static [Backend],
    /// What it finds, in a line.
    pub summary: &'static str,
    /// How to do it safely, in a line.
    pub fix: &'static str,
}

const ALL: &[Backend] = &[Backend::Sqlite, Backend::Postgres, Backend::Mysql];
const SERVERS: &[Backend] = &[Backend::Postgres, Backend::Mysql];
const POSTGRES: &[Backend] = &[Backend::Postgres];
const MYSQL: &[Backend] = &[Backend::Mysql];
const SQLITE: &[Backend] = &[Backend::Sqlite];

/// Every rule, by name.
pub const RULES: &[Rule] = &[
    Rule {
        name: "index-without-concurrently",
        severity: Severity::Error,
        backends: POSTGRES,
        summary: "CREATE INDEX on an existing table blocks its writes until the index is built",
        fix: "CREATE INDEX CONCURRENTLY, in a migration with run_in_transaction = false",
    },
    Rule {
        name: "concurrently-in-transaction",
        severity: Severity::Error,
        backends: POSTGRES,
        summary: "CREATE INDEX CONCURRENTLY cannot run inside a transaction: the migration fails",
        fix: "set run_in_transaction = false in the migration's metadata.toml",
    },
    Rule {
        name: "constraint-without-not-valid",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "adding a foreign key or CHECK constraint scans the table under a lock",
        fix: "ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later migration",
    },
    Rule {
        name: "unique-constraint",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "adding a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
        fix: "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX",
    },
    Rule {
        name: "set-not-null",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock",
        fix: "ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL",
    },
    Rule {
        name: "column-type-change",
        severity: Severity::Warning,
        backends: SERVERS,
        summary: "changing a column's type rewrites the table (and its indexes) under a lock",
        fix: "add a column of the new type, backfill it in batches, switch reads, drop the old one later",
    },
    Rule {
        name: "add-column-volatile-default",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "a column added with a volatile default rewrites the table under a lock",
        fix: "add the column without a default (or a constant one), then backfill in batches",
    },
    Rule {
        name: "add-column-rewrites",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "a serial, identity or stored generated column added to a table rewrites it under a lock",
        fix: "add a plain column, backfill it in batches, then attach the sequence or default",
    },
    Rule {
        name: "add-column-not-null-without-default",
        severity: Severity::Error,
        backends: POSTGRES,
        summary: "a NOT NULL column without a default cannot be added to a table that has rows",
        fix: "give it a default, or add it nullable, backfill, then SET NOT NULL",
    },
    Rule {
        name: "add-foreign-key",
        severity: Severity::Warning,
        backends: MYSQL,
        summary: "adding a foreign key checks every row, and copies the table unless foreign_key_checks = 0",
        fix: "add it with SET foreign_key_checks = 0 once the data is known good (INPLACE), or off-peak",
    },
    Rule {
        name: "rename-column",
        severity: Severity::Warning,
        backends: ALL,
        summary: "renaming a column breaks the application version still running during the deploy",
        fix: "expand and contract: add the new column, write both, switch reads, drop the old one later",
    },
    Rule {
        name: "rename-table",
        severity: Severity::Warning,
        backends: ALL,
        summary: "renaming a table breaks the application version still running during the deploy",
        fix: "expand and contract: a new table (or a view under the old name), switch, drop later",
    },
    Rule {
        name: "drop-column",
        severity: Severity::Warning,
        backends: ALL,
        summary: "dropping a column breaks the application version still running during the deploy",
        fix: "stop using the column in a release first (diesel's schema.rs too), drop it in a later one",
    },
    Rule {
        name: "drop-table",
        severity: Severity::Warning,
        backends: ALL,
        summary: "dropping a table breaks the application version still running during the deploy",
        fix: "stop using the table in a release first, drop it in a later one",
    },
    Rule {
        name: "truncate-cascade",
        severity: Severity::Error,
        backends: POSTGRES,
        summary: "TRUNCATE … CASCADE empties every table that references it, too",
        fix: "truncate the tables by name, or delete the rows you mean",
    },
    Rule {
        name: "update-without-where",
        severity: Severity::Warning,
        backends: ALL,
        summary: "an UPDATE without WHERE rewrites every row in one transaction, locking them all",
        fix: "update in batches (by key ranges), or add the WHERE you mean",
    },
    Rule {
        name: "delete-without-where",
        severity: Severity::Warning,
        backends: ALL,
        summary: "a DELETE without WHERE removes every row in one transaction, locking them all",
        fix: "delete in batches (by key ranges), or add the WHERE you mean",
    },
    Rule {
        name: "missing-lock-timeout",
        severity: Severity::Warning,
        backends: POSTGRES,
        summary: "a statement that waits for an exclusive lock, with no lock_timeout, queues every query on the table behind it",
        fix: "SET LOCAL lock_timeout = '2s' at the top of the migration (and retry on timeout)",
    },
    Rule {
        name: "pragma-foreign-keys-in-transaction",
        severity: Severity::Error,
        backends: SQLITE,
        summary: "PRAGMA foreign_keys does nothing inside a transaction",
        fix: "set run_in_transaction = false in the migration's metadata.toml",
    },
];

fn rule(name: &str) -> &'static Rule {
    RULES.iter().find(|r| r.name == name).unwrap_or(&RULES[0])
}

/// The rules that apply to this statement, with what each says about it; `None` when
/// `sqlparser` cannot read it. Records what the statement makes known to the ones
/// after it (a new table, a lock timeout).
pub(super) fn check(ctx: &mut Context, sql: &str) -> Option<Vec<(&'static Rule, String)>> {
    let mut found = Vec::new();
    // Read as text: `sqlparser` takes `PRAGMA foreign_keys = 0` but not `= OFF`.
    let mut words = sql.split_whitespace().map(str::to_lowercase);
    if words.next().as_deref() == Some("pragma") {
        let pragma = words.next().unwrap_or_default();
        if ctx.in_transaction
            && pragma
                .trim_start_matches("main.")
                .starts_with("foreign_keys")
        {
            found.push((
                rule("pragma-foreign-keys-in-transaction"),
                "PRAGMA foreign_keys in a migration run in a transaction is ignored".to_owned(),
            ));
        }
        found.retain(|(rule, _)| rule.backends.contains(&ctx.backend));
        return Some(found);
    }
    let statements = Parser::parse_sql(ctx.backend.dialect().parser(), sql).ok()?;
    for statement in &statements {
        statement_rules(ctx, statement, &mut found);
    }
    found.retain(|(rule, _)| rule.backends.contains(&ctx.backend));
    Some(found)
}

/// A table's name as the backend compares it (unquoted names folded).
fn key(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => ident.value.to_lowercase(),
        })
        .unwrap_or_default()
}

fn statement_rules(
    ctx: &mut Context,
    statement: &Statement,
    found: &mut Vec<(&'static Rule, String)>,
) {
    let mut report = |name: &str, message: String| found.push((rule(name), message));
    match statement {
        Statement::CreateTable(create) => {
            ctx.new_tables.insert(key(&create.name));
        }
        Statement::CreateIndex(index) => {
            let table = key(&index.table_name);
            if index.concurrently && ctx.in_transaction {
                report(
                    "concurrently-in-transaction",
                    format!("index on {table} is built CONCURRENTLY in a migration run in a transaction"),
                );
            }
            if !index.concurrently && !ctx.new_tables.contains(&table) {
                report(
                    "index-without-concurrently",
                    format!("the index on {table} blocks writes to {table} while it is built"),
                );
                lock_timeout(ctx, &table, &mut report);
            }
        }
        Statement::AlterTable(alter) => {
            let table = key(&alter.name);
            if ctx.new_tables.contains(&table) {
                return;
            }
            for op in &alter.operations {
                alter_rules(ctx, &table, op, &mut report);
            }
            // Every ALTER TABLE waits for the table's ACCESS EXCLUSIVE lock, however
            // briefly it then holds it.
            lock_timeout(ctx, &table, &mut report);
        }
        Statement::RenameTable(renames) => {
            for rename in renames {
                let table = key(&rename.old_name);
                if !ctx.new_tables.contains(&table) {
                    report("rename-table", format!("table {table} is renamed"));
                }
            }
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for name in names {
                let table = key(name);
                if !ctx.new_tables.remove(&table) {
                    report("drop-table", format!("table {table} is dropped"));
                }
            }
        }
        Statement::Truncate(truncate) if truncate.cascade == Some(CascadeOption::Cascade) => {
            report(
                "truncate-cascade",
                "TRUNCATE … CASCADE empties the tables that reference these too".to_owned(),
            );
        }
        Statement::Update(update) if update.selection.is_none() => {
            report(
                "update-without-where",
                format!("every row of {} is updated", update.table),
            );
        }
        Statement::Delete(delete) if delete.selection.is_none() => {
            report(
                "delete-without-where",
                format!("every row of {} is deleted", delete.from),
            );
        }
        // `SET [LOCAL] lock_timeout …`, or `SELECT set_config('lock_timeout', …)`.
        Statement::Set(_) | Statement::Query(_)
            if statement
                .to_string()
                .to_lowercase()
                .contains("lock_timeout") =>
        {
            ctx.lock_timeout_set = true;
        }
        _ => {}
    }
}

/// The rules one operation of an `ALTER TABLE` on an existing table breaks.
fn alter_rules(
    ctx: &Context,
    table: &str,
    op: &AlterTableOperation,
    report: &mut impl FnMut(&str, String),
) {
    match op {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => match constraint {
            TableConstraint::ForeignKey(_) if ctx.backend == Backend::Mysql => {
                report(
                    "add-foreign-key",
                    format!("a foreign key is added to {table}"),
                );
            }
            TableConstraint::ForeignKey(_) | TableConstraint::Check(_) if !not_valid => {
                report(
                    "constraint-without-not-valid",
                    format!("the constraint on {table} is validated while the table is locked"),
                );
            }
            TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_) => {
                report(
                    "unique-constraint",
                    format!("the key's index on {table} is built under a lock"),
                );
            }
            _ => {}
        },
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetNotNull => {
                report(
                    "set-not-null",
                    format!("{table}.{column_name} is scanned under a lock"),
                );
            }
            AlterColumnOperation::SetDataType { .. } => {
                report(
                    "column-type-change",
                    format!("{table} is rewritten for {table}.{column_name}'s new type"),
                );
            }
            _ => {}
        },
        AlterTableOperation::ModifyColumn { col_name, .. } => {
            report(
                "column-type-change",
                format!("{table}.{col_name} is redefined (MODIFY COLUMN)"),
            );
        }
        AlterTableOperation::ChangeColumn {
            old_name, new_name, ..
        } => {
            if old_name.value.to_lowercase() != new_name.value.to_lowercase() {
                report(
                    "rename-column",
                    format!("{table}.{old_name} is renamed to {new_name}"),
                );
            }
            report(
                "column-type-change",
                format!("{table}.{old_name} is redefined (CHANGE COLUMN)"),
            );
        }
        AlterTableOperation::AddColumn { column_def, .. } => add_column(table, column_def, report),
        AlterTableOperation::DropColumn { column_names, .. } => {
            for column in column_names {
                report("drop-column", format!("{table}.{column} is dropped"));
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            report(
                "rename-column",
                format!("{table}.{old_column_name} is renamed to {new_column_name}"),
            );
        }
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) = table_name;
            report(
                "rename-table",
                format!("table {table} is renamed to {name}"),
            );
        }
        _ => {}
    }
}

/// The rules a column added to an existing table may break.
fn add_column(table: &str, column: &ColumnDef, report: &mut impl FnMut(&str, String)) {
    let name = format!("{table}.{}", column.name);
    let data_type = column.data_type.to_string().to_lowercase();
    let mut not_null = false;
    let mut default = None;
    let mut rewrites = matches!(data_type.as_str(), "serial" | "bigserial" | "smallserial");
    for option in &column.options {
        match &option.option {
            ColumnOption::NotNull => not_null = true,
            ColumnOption::Default(expr) => default = Some(expr),
            ColumnOption::Generated {
                generation_expr,
                generation_expr_mode,
                ..
            } => {
                // An identity column, or a stored generated one: both fill every row.
                rewrites |= generation_expr.is_none()
                    || *generation_expr_mode != Some(GeneratedExpressionMode::Virtual);
            }
            _ => {}
        }
    }
    if rewrites {
        report(
            "add-column-rewrites",
            format!("{table} is rewritten to fill {name}"),
        );
    }
    match default {
        Some(expr) if volatile(expr) => {
            report(
                "add-column-volatile-default",
                format!("{table} is rewritten to fill {name} with `{expr}`"),
            );
        }
        None if not_null && !rewrites => {
            report(
                "add-column-not-null-without-default",
                format!(
                    "{name} is NOT NULL without a default: adding it fails if {table} has rows"
                ),
            );
        }
        _ => {}
    }
}

/// Whether a default is evaluated per row (a function call other than the current
/// time's, which PostgreSQL evaluates once).
fn volatile(expr: &Expr) -> bool {
    const ONCE: &[&str] = &[
        "now",
        "current_timestamp",
        "current_date",
        "current_time",
        "localtime",
        "localtimestamp",
        "transaction_timestamp",
        "statement_timestamp",
    ];
    match expr {
        Expr::Function(function) => {
            let name = key(&function.name);
            !ONCE.contains(&name.as_str())
        }
        Expr::Cast { expr, .. } | Expr::Nested(expr) => volatile(expr),
        _ => false,
    }
}

/// `missing-lock-timeout`, once per migration, for the first statement that waits for
/// an existing table's exclusive lock with none set.
fn lock_timeout(ctx: &mut Context, table: &str, report: &mut impl FnMut(&str, String)) {
    if ctx.lock_timeout_set {
        return;
    }
    ctx.lock_timeout_set = true;
    report(
        "missing-lock-timeout",
        format!("the lock on {table} is waited for with no lock_timeout set"),
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::lint;
    use super::*;

    fn rules(backend: Backend, up: &str) -> Vec<&'static str> {
        let mut found: Vec<&str> = lint(backend, &[("2024-01-01-000000_x", up)])
            .into_iter()
            .map(|(_, rule)| rule)
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn postgres_locks() {
        assert_eq!(
            rules(Backend::Postgres, "CREATE INDEX i ON t (a);"),
            ["index-without-concurrently", "missing-lock-timeout"]
        );
        assert_eq!(
            rules(
                Backend::Postgres,
                "SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);"
            ),
            ["index-without-concurrently"]
        );
        assert_eq!(
            rules(Backend::Postgres, "CREATE INDEX CONCURRENTLY i ON t (a);"),
            ["concurrently-in-transaction"]
        );
        assert_eq!(
            rules(Backend::Postgres, "TRUNCATE t CASCADE;"),
            ["truncate-cascade"]
        );
        assert_eq!(
            rules(
                Backend::Postgres,
                "SET LOCAL lock_timeout = '1s';\n\
                 ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id);\n\
                 ALTER TABLE t ADD CONSTRAINT g FOREIGN KEY (v) REFERENCES v (id) NOT VALID;\n\
                 ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n\
                 ALTER TABLE t ALTER COLUMN b TYPE BIGINT;\n\
                 ALTER TABLE t ADD COLUMN c UUID DEFAULT gen_random_uuid();\n\
                 ALTER TABLE t ADD COLUMN d TIMESTAMP NOT NULL DEFAULT now();\n\
                 ALTER TABLE t ADD COLUMN e BIGSERIAL;\n\
                 ALTER TABLE t ADD COLUMN f INT NOT NULL;\n\
                 ALTER TABLE t ADD CONSTRAINT k UNIQUE (a);"
            ),
            [
                "add-column-not-null-without-default",
                "add-column-rewrites",
                "add-column-volatile-default",
                "column-type-change",
                "constraint-without-not-valid",
                "set-not-null",
                "unique-constraint",
            ]
        );
    }

    #[test]
    fn breaking_changes_and_data() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            assert_eq!(
                rules(
                    backend,
                    "-- pelican: allow missing-lock-timeout\n\
                     ALTER TABLE t RENAME COLUMN a TO b;\n\
                     -- pelican: allow missing-lock-timeout\n\
                     ALTER TABLE t DROP COLUMN c;\n\
                     -- pelican: allow missing-lock-timeout\n\
                     ALTER TABLE t RENAME TO t2;\n\
                     DROP TABLE u;\nUPDATE t SET a = 1;\nDELETE FROM t;\n\
                     UPDATE t SET a = 2 WHERE id = 1;"
                ),
                [
                    "delete-without-where",
                    "drop-column",
                    "drop-table",
                    "rename-column",
                    "rename-table",
                    "update-without-where"
                ],
                "{backend}"
            );
        }
    }

    #[test]
    fn mysql_and_sqlite() {
        assert_eq!(
            rules(
                Backend::Mysql,
                "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id);\n\
                 ALTER TABLE t MODIFY COLUMN a BIGINT;\n\
                 CREATE INDEX i ON t (a);"
            ),
            ["add-foreign-key", "column-type-change"]
        );
        assert_eq!(
            rules(
                Backend::Sqlite,
                "PRAGMA foreign_keys = OFF;\nCREATE INDEX i ON t (a);"
            ),
            ["pragma-foreign-keys-in-transaction"]
        );
    }

    #[test]
    fn every_rule_has_a_unique_name_and_a_backend() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        assert!(RULES
            .iter()
            .all(|r| !r.backends.is_empty() && !r.fix.is_empty()));
    }
}
