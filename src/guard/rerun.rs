//! Statements of a file that a resumed run may simply run again: a column's definition
//! or default set to a fixed value (`MODIFY c …`, `CHANGE c c …`, `ALTER c SET DEFAULT
//! …`, `ALTER c DROP DEFAULT`) on MySQL/MariaDB, where nothing after it in the file
//! touches that table's column.
//!
//! Such a statement leaves the column as it says whatever the column was before (the
//! same definition twice is the definition once), so when a run is cut off around it,
//! running it again from the start of what is not recorded done gives what one run
//! gives: it needs no progress row before or after it (each is a commit, and a log
//! sync, of its own). That holds only while nothing after it in the file changes the
//! same column (or the table as a whole): a later `MODIFY c` undone by running this one
//! again after it, a later rename, drop or re-creation of the table. Anything after it
//! that may change the schema in a way the parser does not show, or that names the
//! table otherwise than by column operations on other columns, keeps its rows.
//! Data statements after it do not matter: their rows commit with them, so a run never
//! resumes before a data statement that committed, and so never runs this one again
//! after one.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Ident, Statement};
use sqlparser::parser::Parser;

use super::classify::{self, AlterOp, Effect, Name};
use crate::catalog::{Kind, Schema};
use crate::Backend;

/// Whether statement `index` of a file's statements (`sql`, in order) can run again
/// after a cut-off without a progress row: it sets columns of one table to a fixed
/// definition or default, and no later statement touches them (see the module).
pub fn rerunnable(sql: &[&str], index: usize, backend: Backend) -> bool {
    if backend.dialect().transactional_ddl() {
        return false;
    }
    let Some((table, columns)) = sql.get(index).and_then(|s| redefined(s, backend)) else {
        return false;
    };
    sql.get(index + 1..)
        .unwrap_or_default()
        .iter()
        .all(|later| !touches(later, backend, &table, &columns))
}

/// The table and the columns a statement redefines, when that is all it does.
fn redefined(sql: &str, backend: Backend) -> Option<(Name, Vec<String>)> {
    let statements = Parser::parse_sql(backend.dialect().parser(), sql).ok()?;
    let [Statement::AlterTable(alter)] = statements.as_slice() else {
        return None;
    };
    if alter.if_exists || alter.operations.is_empty() {
        return None;
    }
    let column = |ident: &Ident| {
        Schema::ident(
            backend,
            Kind::Column,
            &ident.value,
            ident.quote_style.is_some(),
        )
    };
    let columns = alter
        .operations
        .iter()
        .map(|op| match op {
            AlterTableOperation::ModifyColumn { col_name, .. } => Some(column(col_name)),
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } if column(old_name) == column(new_name) => Some(column(old_name)),
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault,
            } => Some(column(column_name)),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    // The table as guards name it.
    match classify::classify(sql, backend) {
        Effect::AlterTable { table, .. } => Some((table, columns)),
        _ => None,
    }
}

/// Whether a later statement may change one of `columns` of `table`, or the table as a
/// whole; what the parser cannot read may.
fn touches(sql: &str, backend: Backend, table: &Name, columns: &[String]) -> bool {
    if let Some((t, c)) = redefined(sql, backend) {
        return same(&t, table) && c.iter().any(|c| columns.contains(c));
    }
    let effect = classify::classify(sql, backend);
    // `IF [NOT] EXISTS` statements by the object they name.
    let effect = match effect {
        Effect::Unguarded { .. } => classify::if_exists_effect(sql, backend).unwrap_or(effect),
        effect => effect,
    };
    match effect {
        Effect::CreateTable { table: t, .. } => same(&t, table),
        Effect::DropTable(tables) => tables.iter().any(|t| same(t, table)),
        Effect::RenameTables(pairs) => pairs.iter().any(|(a, b)| same(a, table) || same(b, table)),
        Effect::AlterTable { table: t, ops } => {
            same(&t, table)
                && ops.iter().any(|op| match op {
                    AlterOp::AddColumn(spec) => columns.contains(&spec.key),
                    AlterOp::DropColumn(c) => columns.contains(&c.key),
                    AlterOp::RenameColumn(a, b) => {
                        columns.contains(&a.key) || columns.contains(&b.key)
                    }
                    // Keys and constraints can hold a column to its definition.
                    AlterOp::AddConstraint(_)
                    | AlterOp::DropConstraint(_)
                    | AlterOp::DropIndex(_)
                    | AlterOp::AddIndex(_)
                    | AlterOp::RenameTable(_)
                    | AlterOp::Other => true,
                })
        }
        Effect::CreateIndex { table: t, .. } => same(&t, table),
        Effect::DropIndex { table: t, .. } => t.is_none_or(|t| same(&t, table)),
        Effect::CreateObject(..) | Effect::DropObject(..) => false,
        // `EXECUTE`, `CALL`, a compound statement may do anything; only what plainly
        // changes rows or the session leaves the schema alone.
        Effect::Unguarded { changes_schema, .. } => changes_schema || !plain(sql),
    }
}

/// Whether a statement only reads or changes rows, or sets the session.
fn plain(sql: &str) -> bool {
    let verb = sql
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        verb.as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "SET" | "SHOW" | "VALUES"
    )
}

/// Whether two names are the same table: one unqualified matches any namespace.
fn same(a: &Name, b: &Name) -> bool {
    a.key == b.key
        && match (&a.namespace, &b.namespace) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rerun(sql: &[&str], index: usize) -> bool {
        rerunnable(sql, index, Backend::Mysql)
    }

    #[test]
    fn a_redefinition_nothing_later_touches_runs_again() {
        let file = [
            "ALTER TABLE `nodes` ALTER `available` DROP DEFAULT",
            "ALTER TABLE `nodes` ALTER `capacity` DROP DEFAULT",
            "ALTER TABLE nodes ALTER COLUMN downed SET DEFAULT 0",
            "alter table `bso` change column `userid` `userid` bigint(20) not null",
            "ALTER TABLE attachments MODIFY file_size BIGINT NOT NULL",
            "UPDATE attachments SET file_size = file_size * 2",
            "CREATE TABLE other (id INT)",
            "ALTER TABLE nodes ADD COLUMN extra INT",
        ];
        for index in 0..5 {
            assert!(rerun(&file, index), "{}", file[index]);
        }
        assert!(!rerun(&file, 5));
        assert!(!rerun(&file, 6));
    }

    #[test]
    fn a_later_statement_on_the_same_column_or_table_keeps_the_rows() {
        for later in [
            "ALTER TABLE t MODIFY c INT",
            "ALTER TABLE t CHANGE c d INT",
            "ALTER TABLE t DROP COLUMN c",
            "ALTER TABLE t ADD INDEX i (c)",
            "ALTER TABLE t RENAME TO u",
            "RENAME TABLE t TO u",
            "DROP TABLE t",
            "CREATE TABLE IF NOT EXISTS t (c INT)",
            "CREATE INDEX i ON t (c)",
            "CALL fix_everything()",
            "PREPARE s FROM @sql",
            "EXECUTE s",
            "BEGIN NOT ATOMIC ALTER TABLE t DROP COLUMN c; END",
        ] {
            assert!(
                !rerun(&["ALTER TABLE t MODIFY c BIGINT", later], 0),
                "{later}"
            );
        }
        assert!(rerun(
            &[
                "ALTER TABLE t MODIFY c BIGINT",
                "ALTER TABLE t MODIFY d INT"
            ],
            0
        ));
        assert!(rerun(&["ALTER TABLE t MODIFY c BIGINT", "DROP TABLE u"], 0));
        assert!(rerun(
            &["ALTER TABLE t MODIFY c BIGINT", "DROP TABLE IF EXISTS u"],
            0
        ));
        assert!(!rerun(
            &["ALTER TABLE t MODIFY c BIGINT", "DROP TABLE IF EXISTS t"],
            0
        ));
    }

    #[test]
    fn only_redefinitions_on_mysql_run_again() {
        for sql in [
            "ALTER TABLE t CHANGE COLUMN `key` akey TEXT",
            "ALTER TABLE t RENAME COLUMN a TO b",
            "ALTER TABLE t MODIFY c INT, ADD COLUMN d INT",
            "ALTER TABLE IF EXISTS t MODIFY c INT",
            "RENAME TABLE a TO b",
            "CALL p()",
        ] {
            assert!(!rerun(&[sql], 0), "{sql}");
        }
        assert!(!rerunnable(
            &["ALTER TABLE t ALTER COLUMN c DROP DEFAULT"],
            0,
            Backend::Postgres
        ));
    }
}
