//! A fresh build that cannot be one transaction (MySQL/MariaDB, whose DDL commits
//! itself; a migration with `run_in_transaction = false` anywhere) is recorded before
//! its first statement, with what the database held before it, so that one that failed,
//! or whose process died, is cleaned up: every object it made is dropped, and only
//! those. A DBA's procedures, functions, events, types or sequences in a database
//! without tables make it fresh, and stay whatever happens to the build.
//!
//! The record is a row of `__pelican_build`; the table is dropped once the build is
//! stamped. Killed between the two, the next boot undoes the whole build and makes it
//! again: wasteful, never wrong.

use diesel::sql_types::{Nullable, Text};

use crate::admin;
use crate::ledger::literal;
use crate::{Database, Error, Result};

/// pelican's record of a fresh build under way.
pub const BUILD_TABLE: &str = "__pelican_build";

/// What the database held when a build began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Before {
    objects: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    objects: Option<String>,
}

/// Records, durably, that a build begins, and what the database holds now.
pub(crate) fn begin<C: Database>(conn: &mut C) -> Result<Before> {
    let objects = admin::objects_to_drop(conn)?;
    let table = conn.backend().quote(BUILD_TABLE);
    let text = conn.backend().dialect().text_literal(&objects.join("\n"));
    conn.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (started_at VARCHAR(64) NOT NULL, \
         runner VARCHAR(255) NOT NULL, objects TEXT NULL);\n\
         DELETE FROM {table};\n\
         INSERT INTO {table} (started_at, runner, objects) VALUES ({}, {}, {text})",
        literal(&chrono::Utc::now().to_rfc3339()),
        literal(&crate::ledger::runner()),
    ))
    .map_err(Error::query("cannot record that a fresh build begins"))?;
    if !conn.backend().dialect().transactional_ddl() && !conn.in_transaction().unwrap_or(true) {
        // Where DDL commits itself, a run may have turned autocommit off; the record
        // must be there before anything is built.
        conn.batch_execute("COMMIT")
            .map_err(Error::query("cannot record that a fresh build begins"))?;
    }
    Ok(Before { objects })
}

/// Drops the record's table once the build is stamped.
pub(crate) fn forget<C: Database>(conn: &mut C) -> Result<()> {
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS {}",
        conn.backend().quote(BUILD_TABLE)
    ))
    .map_err(Error::query("cannot drop the fresh build's record"))
}

/// Undoes a failed build: drops every object that was not there before it, the
/// record last. Returns what it dropped.
pub(crate) fn undo<C: Database>(conn: &mut C, before: &Before) -> Result<Vec<String>> {
    let table = format!("TABLE {}", quoted_table(conn));
    let mut keep = before.objects.clone();
    keep.push(table);
    let dropped = admin::drop_all_but(conn, &keep)?;
    forget(conn)?;
    Ok(dropped)
}

/// A build an earlier process left unfinished (it failed and could not clean up, or it
/// was killed): cleaned up now, and what was dropped returned; `None` when its record
/// says the build was stamped. Called once the database is seen to hold [`BUILD_TABLE`],
/// so that a boot reads the database's tables once, as it did before.
pub(crate) fn recover<C: Database>(conn: &mut C) -> Result<Option<Vec<String>>> {
    let rows: Vec<Row> = conn
        .load_with(
            &format!("SELECT objects FROM {}", conn.backend().quote(BUILD_TABLE)),
            &[],
        )
        .map_err(Error::query(
            "cannot read the record of an unfinished fresh build",
        ))?;
    let Some(row) = rows.into_iter().next() else {
        // Stamped, and killed before the record's table was dropped.
        forget(conn)?;
        return Ok(None);
    };
    let before = Before {
        objects: row
            .objects
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
    };
    undo(conn, &before).map(Some)
}

/// The record's table as [`admin::objects_to_drop`] names it.
fn quoted_table<C: Database>(conn: &mut C) -> String {
    let dialect = conn.backend().dialect();
    let namespace = match dialect.drop_everything().qualified {
        true => dialect.namespace_query().and_then(|sql| {
            let rows: Vec<Schema> = conn.load_with(sql, &[]).unwrap_or_default();
            rows.into_iter().next().and_then(|s| s.name)
        }),
        false => None,
    };
    dialect.drop_target(namespace.as_deref(), BUILD_TABLE)
}

#[derive(diesel::QueryableByName)]
struct Schema {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}
