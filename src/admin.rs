//! The database as a whole: creating it when it is missing, listing the tables in it,
//! and dropping everything in it (for `reset`).
//!
//! What pelican "sees" is the namespace its ledger lives in: the SQLite file's `main`
//! database, the current schema on PostgreSQL, the current database on MySQL/MariaDB.
//! The per-backend SQL sits side by side in each function.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;

use crate::backend::{percent_decode, redact_url};
use crate::connection::{connect_with_retry, Bind};
use crate::{AnyConnection, Backend, Database, Error, Result};

/// Whether the backend's DDL can be rolled back with the transaction it runs in
/// (SQLite, PostgreSQL), or commits itself (MySQL/MariaDB).
pub fn transactional_ddl(backend: Backend) -> bool {
    backend.dialect().transactional_ddl()
}

/// Creates the database a URL names if it does not exist, and says whether it did.
///
/// SQLite: the file, by connecting (its folder must exist). PostgreSQL: `CREATE
/// DATABASE` through the `postgres` maintenance database on the same server.
/// MySQL/MariaDB: `CREATE DATABASE IF NOT EXISTS` through a connection without a
/// database. The server connection is retried for up to `wait` (see
/// [`connect_with_retry`]). When the database already answers, no server connection
/// is made, so a user without the right to create databases can still `init` one that
/// exists.
pub fn create_database(url: &str, wait: Duration) -> Result<bool> {
    let dialect = Backend::from_url(url)?.dialect();
    if dialect.file_based() {
        let exists = sqlite_file(url).is_none_or(Path::exists);
        AnyConnection::establish(url)?;
        return Ok(!exists);
    }
    if AnyConnection::establish(url).is_ok() {
        return Ok(false);
    }
    let Some(name) = database_name(url) else {
        return Err(Error::Connect {
            url: redact_url(url),
            message: "the URL names no database to create".to_owned(),
        });
    };
    let server_url = with_database(url, dialect.maintenance_database(&name));
    let exists_sql = dialect.database_exists_query(true);
    let create_sql = dialect.create_database_sql(&name);
    let mut server = connect_with_retry(&server_url, wait)?;
    let exists = |server: &mut AnyConnection| -> Result<bool> {
        let rows: Vec<Name> = server
            .load_with(exists_sql, &[Bind::Text(&name)])
            .map_err(Error::query(format!("cannot look for database {name}")))?;
        Ok(!rows.is_empty())
    };
    if exists(&mut server)? {
        return Ok(false);
    }
    match server.batch_execute(&create_sql) {
        Ok(()) => Ok(true),
        // Another process booting at the same time may have just created it.
        Err(_) if exists(&mut server)? => Ok(false),
        Err(source) => Err(Error::Query {
            context: format!(
                "cannot create database {name} on {}",
                redact_url(&server_url)
            ),
            source,
        }),
    }
}

/// Whether the database a URL names exists, as far as pelican can tell without creating
/// it: a SQLite file is looked for (connecting would create it); a server's database is
/// taken to exist, and connecting to it says if it does not.
pub fn exists(url: &str) -> Result<bool> {
    Ok(
        !Backend::from_url(url)?.dialect().file_based()
            || sqlite_file(url).is_none_or(Path::exists),
    )
}

/// Whether a URL names a SQLite file that does not exist in a folder that does: what
/// connecting would create (in a missing folder, connecting fails, and says so).
pub fn missing_sqlite_file(url: &str) -> bool {
    if !Backend::from_url(url).is_ok_and(|b| b.dialect().file_based()) {
        return false;
    }
    sqlite_file(url).is_some_and(|path| {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        !path.exists() && folder.is_none_or(Path::exists)
    })
}

/// The statement that drops a database by name, if it exists. PostgreSQL ends the
/// connections still open to it (`WITH (FORCE)`); MySQL/MariaDB needs nothing more.
pub fn drop_database_sql(backend: Backend, name: &str) -> String {
    backend.dialect().drop_database_sql(name)
}

/// The tables and views pelican sees, by name, sorted.
pub fn relations<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let sql = conn.backend().dialect().relations_query();
    let rows: Vec<Name> = conn
        .load_with(sql, &[])
        .map_err(Error::query("cannot list the tables"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// How one backend drops everything: the listing query (`kind`, and `target` ready to
/// put after `DROP kind IF EXISTS`), and what goes around the drops.
pub(crate) struct DropSql {
    pub(crate) list: &'static str,
    pub(crate) before: &'static str,
    pub(crate) after: &'static str,
    pub(crate) cascade: &'static str,
    /// Whether `target` names an object with its schema (see [`Dialect::drop_target`]).
    ///
    /// [`Dialect::drop_target`]: crate::dialect::Dialect::drop_target
    pub(crate) qualified: bool,
    /// Whether tables must be put after the tables that reference them (SQLite, whose
    /// foreign keys cannot cascade a drop).
    pub(crate) children_first: bool,
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
pub fn drop_all<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    drop_all_but(conn, &[])
}

/// Drops every object [`drop_all`] would, but those in `keep` (as `KIND name`, the way
/// [`objects_to_drop`] lists them): what a failed fresh build made, and only that.
pub(crate) fn drop_all_but<C: Database>(conn: &mut C, keep: &[String]) -> Result<Vec<String>> {
    crate::migrator::with_foreign_keys_off(conn, |conn, _| drop_listed(conn, keep))
}

fn drop_listed<C: Database>(conn: &mut C, keep: &[String]) -> Result<Vec<String>> {
    let backend = conn.backend();
    let sql = backend.dialect().drop_everything();
    let mut objects = objects(conn, &sql)?;
    objects.retain(|o| !keep.contains(&format!("{} {}", o.kind, o.target)));
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
    let dropped = if transactional_ddl(backend) {
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
    dropped?;
    restored?;
    Ok(objects
        .into_iter()
        .map(|o| format!("{} {}", o.kind, o.target))
        .collect())
}

/// What [`drop_all`] would drop, as `KIND name`, in the order it would drop them,
/// dropping nothing: for `reset --dry-run`.
pub fn objects_to_drop<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let sql = conn.backend().dialect().drop_everything();
    Ok(objects(conn, &sql)?
        .into_iter()
        .map(|o| format!("{} {}", o.kind, o.target))
        .collect())
}

fn objects<C: Database>(conn: &mut C, sql: &DropSql) -> Result<Vec<Object>> {
    let objects: Vec<Object> = conn
        .load_with(sql.list, &[])
        .map_err(Error::query("cannot list the objects to drop"))?;
    if !sql.children_first {
        return Ok(objects);
    }
    let links: Vec<Link> = conn
        .load_with(
            "SELECT m.name AS child, f.\"table\" AS parent \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
            &[],
        )
        .map_err(Error::query("cannot list the foreign keys"))?;
    Ok(children_first(objects, &links))
}

/// SQLite's objects with the tables reordered so that each comes before the tables it
/// references: the views first, as listed, then a table that no table still standing
/// references (by name, of those), and so on; in a cycle of references, the first
/// by name of those left.
fn children_first(objects: Vec<Object>, links: &[Link]) -> Vec<Object> {
    // SQLite compares names without case; a REFERENCES clause may spell one otherwise.
    let key = |name: &str| name.to_lowercase();
    let unquoted = |target: &str| {
        let inner = target
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(target);
        key(&inner.replace("\"\"", "\""))
    };
    let (mut ordered, mut tables): (Vec<Object>, Vec<Object>) =
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

#[derive(diesel::QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    target: String,
}

/// The file a SQLite URL names: a path, `sqlite://` and a path, or a `file:` URI
/// (its query left out); `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&Path> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let path = match path.strip_prefix("file:") {
        Some(uri) => uri.split(['?', '#']).next().unwrap_or_default(),
        None => path,
    };
    (path != ":memory:" && !path.is_empty()).then(|| Path::new(path))
}

/// The database a server URL names: the first path segment, percent-decoded.
pub(crate) fn database_name(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let path = &rest[rest.find('/')? + 1..];
    let segment = path.split(['?', '#', '/']).next().unwrap_or_default();
    let name = percent_decode(segment);
    (!name.is_empty()).then_some(name)
}

/// `url` naming database `name` instead of its own (the query string kept).
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url() {
        assert_eq!(
            database_name("postgres://u:p@h:5432/app?sslmode=disable").as_deref(),
            Some("app")
        );
        assert_eq!(
            database_name("mysql://root@h/my%2Dapp").as_deref(),
            Some("my-app")
        );
        assert_eq!(database_name("mysql://root@h/"), None);
        assert_eq!(database_name("mysql://root@h"), None);
    }

    #[test]
    fn sqlite_tables_are_dropped_children_first() {
        let object = |kind: &str, name: &str| Object {
            kind: kind.to_owned(),
            target: format!("\"{}\"", name.replace('"', "\"\"")),
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

    #[test]
    fn a_url_for_another_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "postgres"),
            "postgres://u:p@h:5432/postgres?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h/app", ""), "mysql://root@h/");
        assert_eq!(with_database("mysql://root@h", ""), "mysql://root@h/");
    }
}
