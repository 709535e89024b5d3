//! Statements of a file that a resumed run may simply run again: a column's definition
//! or default set to a fixed value (`MODIFY c …`, `CHANGE c c …`, `ALTER c SET DEFAULT
//! …`, `ALTER c DROP DEFAULT`) on MySQL/MariaDB, where nothing after it in the file
//! touches that table's column; and a column's rename (`CHANGE a b …`, `RENAME COLUMN a
//! TO b`), run again in a resumed run and, refused, settled by the schema (the old name
//! gone and the new one there: [`settle_rename`]).
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

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Ident, RenameTableNameKind, Statement,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::classify::{self, AlterOp, Effect, Name};
use super::{Action, Verdict};
use crate::catalog::{Kind, Schema};
use crate::dialect::DdlTransactions;
use crate::{Backend, Database};

/// How a statement that needs no progress row is run again after a cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rerun {
    /// It runs again: it sets a column's definition or default, and the same twice is
    /// the same once.
    Repeat,
    /// It runs again and, done already, is refused: a rename, whose refusal
    /// [`settle_rename`] takes as done only where the old name is gone and the new one
    /// is there. Only where guards are on for it.
    Settled,
}

/// What a statement changes: columns of a table, or tables as a whole (`None`).
struct Target {
    tables: Vec<Name>,
    columns: Option<Vec<String>>,
    rerun: Rerun,
}

/// How statement `index` of a file's statements (`sql`, in order) can run again after
/// a cut-off without a progress row, if it can: it sets columns of one table to a fixed
/// definition or default, or renames one column or table, and no later statement
/// touches what it changes (see the module).
pub(crate) fn rerunnable(sql: &[&str], index: usize, backend: Backend) -> Option<Rerun> {
    if backend.dialect().ddl_transactions() == DdlTransactions::RollBack {
        return None;
    }
    // A table's rename stays recorded: a later statement often makes a table of its
    // old name, and a cut-off rename is named until a directive decides it.
    let target = target_of(sql.get(index)?, backend).filter(|t| t.columns.is_some())?;
    sql.get(index + 1..)
        .unwrap_or_default()
        .iter()
        .all(|later| !touches(later, backend, &target))
        .then_some(target.rerun)
}

/// What a statement changes, when it only redefines columns or renames one thing.
fn target_of(sql: &str, backend: Backend) -> Option<Target> {
    let statements = Parser::parse_sql(backend.dialect().parser(), sql).ok()?;
    let alter = match statements.as_slice() {
        [Statement::AlterTable(alter)] => alter,
        [Statement::RenameTable(_)] => {
            return match classify::classify(sql, backend) {
                Effect::RenameTables(pairs) if pairs.len() == 1 => {
                    let (from, to) = pairs.into_iter().next()?;
                    Some(Target {
                        tables: vec![from, to],
                        columns: None,
                        rerun: Rerun::Settled,
                    })
                }
                _ => None,
            };
        }
        _ => return None,
    };
    if alter.if_exists || alter.operations.is_empty() {
        return None;
    }
    let Effect::AlterTable { table, .. } = classify::classify(sql, backend) else {
        return None;
    };
    let column = |ident: &Ident| {
        Schema::ident(
            backend,
            Kind::Column,
            &ident.value,
            ident.quote_style.is_some(),
        )
    };
    if let [op] = alter.operations.as_slice() {
        let renamed = match op {
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } if column(old_name) != column(new_name) => Some(Target {
                tables: vec![table.clone()],
                columns: Some(vec![column(old_name), column(new_name)]),
                rerun: Rerun::Settled,
            }),
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => Some(Target {
                tables: vec![table.clone()],
                columns: Some(vec![column(old_column_name), column(new_column_name)]),
                rerun: Rerun::Settled,
            }),
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(_) | RenameTableNameKind::As(_)) = table_name;
                match classify::classify(sql, backend) {
                    Effect::AlterTable { ops, .. } => match ops.as_slice() {
                        [AlterOp::RenameTable(to)] => Some(Target {
                            tables: vec![table.clone(), to.clone()],
                            columns: None,
                            rerun: Rerun::Settled,
                        }),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        };
        if renamed.is_some() {
            return renamed;
        }
    }
    let columns = alter
        .operations
        .iter()
        .map(|op| match op {
            AlterTableOperation::ModifyColumn {
                col_name,
                options,
                column_position: None,
                ..
            } if options.iter().all(repeatable) => Some(column(col_name)),
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                options,
                column_position: None,
                ..
            } if column(old_name) == column(new_name) && options.iter().all(repeatable) => {
                Some(column(old_name))
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault,
            } => Some(column(column_name)),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    Some(Target {
        tables: vec![table],
        columns: Some(columns),
        rerun: Rerun::Repeat,
    })
}

/// Whether a column option gives the same column however often it is set: not a key
/// or a constraint (a second `UNIQUE` is a second index), and not a position (`AFTER b`
/// names another column, which a later statement may drop).
fn repeatable(option: &ColumnOption) -> bool {
    match option {
        ColumnOption::Null
        | ColumnOption::NotNull
        | ColumnOption::Default(_)
        | ColumnOption::CharacterSet(_)
        | ColumnOption::Collation(_)
        | ColumnOption::Comment(_)
        | ColumnOption::OnUpdate(_) => true,
        ColumnOption::DialectSpecific(tokens) => tokens.iter().all(|token| {
            matches!(token, Token::Whitespace(_))
                || matches!(token, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTO_INCREMENT"))
        }),
        _ => false,
    }
}

/// Whether a later statement may change what `target` changes, or its table as a
/// whole; what the parser cannot read may.
fn touches(sql: &str, backend: Backend, target: &Target) -> bool {
    // A foreign key made later can hold a column to its definition, whichever
    // table's statement makes it.
    if sql.to_ascii_uppercase().contains("REFERENCES") {
        return true;
    }
    let on = |t: &Name| target.tables.iter().any(|x| same(x, t));
    // Columns of the target's table: all of them when it is a table's rename.
    let column = |c: &str| {
        target
            .columns
            .as_ref()
            .is_none_or(|cs| cs.iter().any(|x| x == c))
    };
    if let Some(later) = target_of(sql, backend) {
        return later.tables.iter().any(on)
            && match &later.columns {
                Some(columns) => columns.iter().any(|c| column(c)),
                None => true,
            };
    }
    let effect = classify::classify(sql, backend);
    // `IF [NOT] EXISTS` statements by the object they name.
    let effect = match effect {
        Effect::Unguarded { .. } => classify::if_exists_effect(sql, backend).unwrap_or(effect),
        effect => effect,
    };
    match effect {
        Effect::CreateTable { table: t, .. } => on(&t),
        Effect::DropTable(tables) => tables.iter().any(on),
        Effect::RenameTables(pairs) => pairs.iter().any(|(a, b)| on(a) || on(b)),
        Effect::AlterTable { table: t, ops } => {
            on(&t)
                && ops.iter().any(|op| match op {
                    AlterOp::AddColumn(spec) => column(&spec.key),
                    AlterOp::DropColumn(c) => column(&c.key),
                    AlterOp::RenameColumn(a, b) => column(&a.key) || column(&b.key),
                    // Keys and constraints can hold a column to its definition.
                    AlterOp::AddConstraint(_)
                    | AlterOp::DropConstraint(_)
                    | AlterOp::DropIndex(_)
                    | AlterOp::AddIndex(_)
                    | AlterOp::RenameTable(_)
                    | AlterOp::Other => true,
                })
        }
        Effect::CreateIndex { table: t, .. } => on(&t),
        Effect::DropIndex { table: t, .. } => t.is_none_or(|t| on(&t)),
        Effect::CreateObject(..) | Effect::DropObject(..) => false,
        // `EXECUTE`, `CALL`, a compound statement may do anything; only what plainly
        // changes rows or the session leaves the schema alone.
        Effect::Unguarded { changes_schema, .. } => changes_schema || !plain(sql),
    }
}

/// After the server refused, in a run that resumes its migration, a column's rename
/// that [`rerunnable`] says is [`Rerun::Settled`]: a skip where the refusal says the
/// old name is unknown and the schema, read now, has the new name and not the old one
/// (the cut-off run renamed it); `None` otherwise, and the statement fails with the
/// server's message (as it does in a run that does not resume: there, the old name
/// gone and the new one there says nothing of this migration).
pub(crate) fn settle_rename<C: Database>(
    conn: &mut C,
    sql: &str,
    message: &str,
) -> Option<Verdict> {
    let backend = conn.backend();
    let lower = message.to_ascii_lowercase();
    let target = target_of(sql, backend).filter(|t| t.rerun == Rerun::Settled)?;
    if target.columns.is_none() || !lower.starts_with("unknown column") {
        return None;
    }
    let schema = Schema::introspect(conn).ok()?;
    let here = |name: &Name| name.namespace.is_none() || name.namespace == schema.namespace;
    if !target.tables.iter().all(here) {
        return None;
    }
    let reason = match (&target.tables[..], &target.columns) {
        ([table], Some(columns)) => {
            let existing = schema.tables.get(&table.key)?;
            let [from, to] = &columns[..] else {
                return None;
            };
            let has = |c: &str| existing.column(c, backend).is_some();
            (!has(from) && has(to)).then(|| {
                format!(
                    "column {}.{from} does not exist and {to} does: renamed",
                    table.shown
                )
            })?
        }
        _ => return None,
    };
    Some(Verdict::new(Action::Skip, reason, true))
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
        rerunnable(sql, index, Backend::Mysql) == Some(Rerun::Repeat)
    }

    fn renamed(sql: &[&str], index: usize) -> bool {
        rerunnable(sql, index, Backend::Mysql) == Some(Rerun::Settled)
    }

    #[test]
    fn a_redefinition_nothing_later_touches_runs_again() {
        let file = [
            "ALTER TABLE `nodes` ALTER `available` DROP DEFAULT",
            "ALTER TABLE `nodes` ALTER `capacity` DROP DEFAULT",
            "ALTER TABLE nodes ALTER COLUMN downed SET DEFAULT 0",
            "alter table `bso` change column `userid` `userid` bigint(20) not null",
            "ALTER TABLE attachments MODIFY file_size BIGINT NOT NULL AUTO_INCREMENT COMMENT 'x'",
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
            "CREATE TABLE u (id INT, c INT REFERENCES t (c))",
            "ALTER TABLE u ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES t (c)",
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
            "ALTER TABLE t MODIFY c INT UNIQUE",
            "ALTER TABLE t MODIFY c INT PRIMARY KEY",
            "ALTER TABLE t MODIFY c INT REFERENCES u (id)",
            "ALTER TABLE t MODIFY c INT CHECK (c > 0)",
            "ALTER TABLE t MODIFY c INT AFTER b",
            "ALTER TABLE t CHANGE c c INT FIRST",
            "RENAME TABLE a TO b",
            "CALL p()",
        ] {
            assert!(!rerun(&[sql], 0), "{sql}");
        }
        assert_eq!(
            rerunnable(
                &["ALTER TABLE t ALTER COLUMN c DROP DEFAULT"],
                0,
                Backend::Postgres
            ),
            None
        );
    }

    #[test]
    fn a_rename_nothing_later_touches_is_settled() {
        let file = [
            "ALTER TABLE attachments CHANGE COLUMN `key` akey TEXT",
            "ALTER TABLE users_organizations CHANGE COLUMN `key` akey TEXT",
            "ALTER TABLE users_organizations CHANGE COLUMN type atype INTEGER NOT NULL",
            "ALTER TABLE t RENAME COLUMN a TO b",
        ];
        for index in 0..file.len() {
            assert!(renamed(&file, index), "{}", file[index]);
        }
        // A table's rename keeps its rows, and a later one touches every column.
        assert!(!renamed(&["RENAME TABLE x TO y"], 0));
        assert!(!renamed(&["ALTER TABLE p RENAME TO q"], 0));
        assert!(!renamed(
            &["ALTER TABLE t CHANGE a b INT", "RENAME TABLE t TO u"],
            0
        ));
        for later in [
            "ALTER TABLE t ADD COLUMN a INT",
            "ALTER TABLE t MODIFY b BIGINT",
            "ALTER TABLE t CHANGE b c INT",
            "ALTER TABLE t RENAME TO u",
        ] {
            assert!(
                !renamed(&["ALTER TABLE t CHANGE a b INT", later], 0),
                "{later}"
            );
        }
        assert!(renamed(
            &["ALTER TABLE t CHANGE a b INT", "ALTER TABLE t MODIFY d INT"],
            0
        ));
        // Two renames at once are not one the schema can settle.
        assert!(!renamed(&["RENAME TABLE a TO b, c TO d"], 0));
        assert!(!renamed(
            &["ALTER TABLE t CHANGE a b INT, CHANGE c d INT"],
            0
        ));
    }
}
