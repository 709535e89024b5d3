//! What is in a database: listing the tables in it, and dropping everything in it (for
//! `reset`). Creating and dropping databases is [`crate::server`]'s.
//!
//! What pelican "sees" is the namespace its ledger lives in: the SQLite file's `main`
//! database, the current schema on PostgreSQL, the current database on MySQL/MariaDB.
//! The per-backend SQL is the dialect's (`src/dialect/`).

use std::collections::BTreeSet;

use diesel::sql_types::Text;

use crate::dialect::DdlTransactions;
use crate::dialect::{DropSql, ForeignKeyEnforcement};
use crate::{Database, Error, Result};

/// The tables and views pelican sees, by name, sorted.
pub(crate) fn relations<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let sql = conn.backend().dialect().relations_query();
    let rows: Vec<Name> = conn
        .load_with(sql, &[])
        .map_err(Error::query("cannot list the tables"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Drops every object pelican sees: tables (pelican's and diesel's ledger tables
/// included) with their indexes and triggers, views, and on PostgreSQL also sequences,
/// functions, procedures, types and domains of the current schema, and the extensions
/// installed in it with what belongs to them; on MySQL/MariaDB also routines and
/// events. Returns what it dropped, as `KIND name`.
///
/// Foreign keys never stand in the way, cascading ones included: MySQL/MariaDB's checks
/// are off for the drops (`foreign_key_checks`, set back after), PostgreSQL drops with
/// `CASCADE`, and SQLite drops the tables children first, with enforcement off too
/// where it can be switched (`PRAGMA foreign_keys`, outside a transaction): there a
/// table dropped with enforcement on is emptied first, and a cascade from its rows
/// must not run into a table already gone.
///
/// On SQLite and PostgreSQL the drops are one transaction (a savepoint inside an open
/// one); MySQL commits each.
pub(crate) fn drop_all<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    drop_picked(conn, "reset", |_| true)
}

/// Drops the objects [`drop_all`] would that `pick` picks (given each as listed), in
/// [`drop_all`]'s order and way: what a failed fresh build made, and only that. `what`
/// names the work for the error of a failure part-way.
pub(crate) fn drop_picked<C: Database>(
    conn: &mut C,
    what: &'static str,
    pick: impl Fn(&Listed) -> bool,
) -> Result<Vec<String>> {
    with_foreign_keys_off(conn, |conn, _| drop_listed(conn, what, &pick))
}

fn drop_listed<C: Database>(
    conn: &mut C,
    what: &'static str,
    pick: &dyn Fn(&Listed) -> bool,
) -> Result<Vec<String>> {
    let backend = conn.backend();
    let sql = backend.dialect().drop_everything();
    let mut objects = objects(conn, &sql)?;
    objects.retain(|o| pick(o));
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let mut batch = String::new();
    for statement in [sql.before]
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .chain(
            objects
                .iter()
                .map(|o| format!("DROP {} IF EXISTS {}{}", o.kind, o.target, sql.cascade)),
        )
    {
        batch.push_str(&statement);
        batch.push_str(";\n");
    }
    let drop = |conn: &mut C| {
        conn.batch_execute(&batch)
            .map_err(Error::query("cannot drop the database's objects"))
    };
    let dropped = if backend.dialect().ddl_transactions() == DdlTransactions::RollBack {
        conn.transaction(drop)
    } else {
        drop(conn)
    };
    // Run whether or not the drops worked: the session must get its setting back.
    let restored = match sql.after {
        "" => Ok(()),
        after => conn
            .batch_execute(after)
            .map_err(Error::query("cannot restore foreign key checks")),
    };
    let planned: Vec<String> = objects.iter().map(Listed::shown).collect();
    if let Err(error) = dropped {
        if backend.dialect().ddl_transactions() == DdlTransactions::RollBack {
            // One transaction: nothing was dropped. Say so.
            return Err(match error {
                Error::Query { source, .. } => Error::Query {
                    context: format!(
                        "{what} failed, and nothing was dropped (the drops are one \
                         transaction, rolled back): cannot drop the database's objects"
                    ),
                    source,
                },
                other => other,
            });
        }
        // Each drop committed itself: what went before the failure is gone. Say what.
        let still: Vec<String> = self::objects(conn, &sql)
            .map(|now| now.iter().map(Listed::shown).collect())
            .unwrap_or_default();
        let dropped = planned.into_iter().filter(|o| !still.contains(o)).collect();
        return Err(Error::PartlyDropped {
            what,
            dropped,
            left: still,
            message: error.to_string(),
        });
    }
    restored?;
    Ok(planned)
}

/// The objects outside what [`drop_all`] drops (another schema's view, another
/// database's foreign key…) that depend on something it drops, each with what it
/// needs; and what dropping would do to them (the dialect's words). `reset` refuses
/// while there are any, unless told to go ahead.
pub(crate) fn dependents<C: Database>(conn: &mut C) -> Result<(Vec<String>, &'static str)> {
    let dialect = conn.backend().dialect();
    let Some(sql) = dialect.dependents_query() else {
        return Ok((Vec::new(), dialect.dependents_fate()));
    };
    let rows: Vec<Name> = conn.load_with(sql, &[]).map_err(Error::query(
        "cannot list what depends on the database's objects",
    ))?;
    Ok((
        rows.into_iter().map(|r| r.name).collect(),
        dialect.dependents_fate(),
    ))
}

/// What [`drop_all`] would drop, as `KIND name`, in the order it would drop them,
/// dropping nothing: for `reset --dry-run`.
pub(crate) fn objects_to_drop<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let sql = conn.backend().dialect().drop_everything();
    Ok(objects(conn, &sql)?.iter().map(Listed::shown).collect())
}

fn objects<C: Database>(conn: &mut C, sql: &DropSql) -> Result<Vec<Listed>> {
    let mut objects: Vec<Listed> = conn
        .load_with(sql.list, &[])
        .map_err(Error::query("cannot list the objects to drop"))?;
    // The lease a run through a transaction pooler holds while it resets (see
    // `crate::lock`): dropped, it could be taken by another run meanwhile, and given
    // back by none.
    objects.retain(|o| !(o.kind == "TABLE" && o.name == crate::lock::LOCK_TABLE));
    let Some(links_sql) = sql.children_first else {
        return Ok(objects);
    };
    let links: Vec<Link> = conn
        .load_with(links_sql, &[])
        .map_err(Error::query("cannot list the foreign keys"))?;
    Ok(children_first(objects, &links))
}

/// SQLite's objects with the tables reordered so that each comes before the tables it
/// references: the views first, as listed, then a table that no table still standing
/// references (by name, of those), and so on; in a cycle of references, the first
/// by name of those left.
fn children_first(objects: Vec<Listed>, links: &[Link]) -> Vec<Listed> {
    // SQLite compares names without case; a REFERENCES clause may spell one otherwise.
    let key = |name: &str| name.to_lowercase();
    let unquoted = |target: &str| {
        let inner = target
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(target);
        key(&inner.replace("\"\"", "\""))
    };
    let (mut ordered, mut tables): (Vec<Listed>, Vec<Listed>) =
        objects.into_iter().partition(|o| o.kind != "TABLE");
    let links: Vec<(String, String)> = links
        .iter()
        .map(|l| (key(&l.child), key(&l.parent)))
        .filter(|(child, parent)| child != parent)
        .collect();
    let mut standing: BTreeSet<String> = tables.iter().map(|t| unquoted(&t.target)).collect();
    while !tables.is_empty() {
        let referenced: BTreeSet<&str> = links
            .iter()
            .filter(|(child, _)| standing.contains(child))
            .map(|(_, parent)| parent.as_str())
            .collect();
        let next = tables
            .iter()
            .position(|t| !referenced.contains(unquoted(&t.target).as_str()))
            .unwrap_or(0);
        let table = tables.remove(next);
        standing.remove(&unquoted(&table.target));
        ordered.push(table);
    }
    ordered
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A foreign key of SQLite's: the table that has it, and the table it references.
#[derive(diesel::QueryableByName)]
struct Link {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

/// An object as [`Dialect::drop_everything`] lists it.
///
/// [`Dialect::drop_everything`]: crate::dialect::Dialect::drop_everything
#[derive(Debug, Clone, diesel::QueryableByName)]
pub(crate) struct Listed {
    /// What follows `DROP`: `TABLE`, `VIEW`, `FUNCTION`…
    #[diesel(sql_type = Text)]
    pub(crate) kind: String,
    /// The object, quoted (and qualified, with a function's arguments, on PostgreSQL)
    /// as `DROP kind IF EXISTS` takes it.
    #[diesel(sql_type = Text)]
    pub(crate) target: String,
    /// Its name as the catalog stores it.
    #[diesel(sql_type = Text)]
    pub(crate) name: String,
}

impl Listed {
    /// `KIND target`, as reports show it.
    pub(crate) fn shown(&self) -> String {
        format!("{} {}", self.kind, self.target)
    }
}

/// Runs `f` with SQLite's foreign-key enforcement off, when it is on and the connection
/// is not in a transaction (where the pragma does nothing); tells `f` whether it did,
/// and sets it back however `f` ends. On other backends, just runs `f`.
pub(crate) fn with_foreign_keys_off<C: Database, T>(
    conn: &mut C,
    f: impl FnOnce(&mut C, bool) -> Result<T>,
) -> Result<T> {
    let ForeignKeyEnforcement::ConnectionSetting(sql) = conn.backend().dialect().foreign_keys()
    else {
        return f(conn, false);
    };
    if conn.in_transaction()? {
        return f(conn, false);
    }
    let rows: Vec<Flag> = conn
        .load_with(sql.read, &[])
        .map_err(Error::query(format!("cannot read {}", sql.read)))?;
    if rows.first().is_none_or(|r| r.foreign_keys != 1) {
        return f(conn, false);
    }
    conn.batch_execute(sql.off)
        .map_err(Error::query("cannot turn foreign keys off"))?;
    let result = f(conn, true);
    let restored = conn
        .batch_execute(sql.on)
        .map_err(Error::query("cannot turn foreign keys back on"));
    match result {
        Err(error) => Err(error),
        Ok(value) => restored.map(|()| value),
    }
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    foreign_keys: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_tables_are_dropped_children_first() {
        let object = |kind: &str, name: &str| Listed {
            kind: kind.to_owned(),
            target: format!("\"{}\"", name.replace('"', "\"\"")),
            name: name.to_owned(),
        };
        let link = |child: &str, parent: &str| Link {
            child: child.to_owned(),
            parent: parent.to_owned(),
        };
        let objects = vec![
            object("VIEW", "post_titles"),
            object("TABLE", "authors"),
            object("TABLE", "blogs"),
            object("TABLE", "comments"),
            object("TABLE", "posts"),
            object("TABLE", "a \"quoted\" one"),
            object("TABLE", "x"),
            object("TABLE", "y"),
        ];
        let links = [
            link("posts", "Authors"),
            link("posts", "blogs"),
            link("comments", "posts"),
            link("comments", "comments"),
            link("blogs", "a \"quoted\" one"),
            // A cycle: the first by name goes first.
            link("x", "y"),
            link("y", "x"),
        ];
        let order: Vec<String> = children_first(objects, &links)
            .into_iter()
            .map(|o| o.target)
            .collect();
        assert_eq!(
            order,
            [
                "\"post_titles\"",
                "\"comments\"",
                "\"posts\"",
                "\"authors\"",
                "\"blogs\"",
                "\"a \"\"quoted\"\" one\"",
                "\"x\"",
                "\"y\""
            ]
        );
    }
}
