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
    match backend {
        Backend::Sqlite | Backend::Postgres => true,
        Backend::Mysql => false,
    }
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
    let backend = Backend::from_url(url)?;
    if backend == Backend::Sqlite {
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
    let (server_url, exists_sql, create_sql) = match backend {
        Backend::Postgres => (
            with_database(url, "postgres"),
            "SELECT CAST(datname AS TEXT) AS name FROM pg_database WHERE datname = ?",
            format!("CREATE DATABASE {}", backend.quote(&name)),
        ),
        _ => (
            with_database(url, ""),
            "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata \
             WHERE schema_name = ?",
            format!("CREATE DATABASE IF NOT EXISTS {}", backend.quote(&name)),
        ),
    };
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
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => sqlite_file(url).is_none_or(Path::exists),
        Backend::Postgres | Backend::Mysql => true,
    })
}

/// Whether a URL names a SQLite file that does not exist in a folder that does: what
/// connecting would create (in a missing folder, connecting fails, and says so).
pub fn missing_sqlite_file(url: &str) -> bool {
    if !matches!(Backend::from_url(url), Ok(Backend::Sqlite)) {
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
    let quoted = backend.quote(name);
    match backend {
        Backend::Postgres => format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        Backend::Sqlite | Backend::Mysql => format!("DROP DATABASE IF EXISTS {quoted}"),
    }
}

/// The tables and views pelican sees, by name, sorted.
pub fn relations<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(c.relname AS TEXT) AS name FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
             ORDER BY 1"
        }
        Backend::Mysql => {
            "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 1"
        }
    };
    let rows: Vec<Name> = conn
        .load_with(sql, &[])
        .map_err(Error::query("cannot list the tables"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// How one backend drops everything: the listing query (`kind`, and `target` ready to
/// put after `DROP kind IF EXISTS`), and what goes around the drops.
struct DropSql {
    list: &'static str,
    before: &'static str,
    after: &'static str,
    cascade: &'static str,
}

fn drop_sql(backend: Backend) -> DropSql {
    match backend {
        // Indexes and triggers go with their tables. Tables are put children first
        // (see `children_first`), and foreign keys are checked at commit, when every
        // table is gone.
        Backend::Sqlite => DropSql {
            list: "SELECT CASE type WHEN 'view' THEN 'VIEW' ELSE 'TABLE' END AS kind, \
                     '\"' || replace(name, '\"', '\"\"') || '\"' AS target \
                   FROM sqlite_master \
                   WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                   ORDER BY type = 'table', name",
            before: "PRAGMA defer_foreign_keys = ON",
            after: "",
            cascade: "",
        },
        // Everything in the current schema, what belongs to an extension with the
        // extension, last (a migration's plain `CREATE EXTENSION` must be able to run
        // again; extensions elsewhere, such as plpgsql in pg_catalog, stay). Partitions
        // go with their parent, owned sequences with their table, multirange types with
        // their range.
        Backend::Postgres => DropSql {
            list: "SELECT kind, target FROM ( \
                     SELECT 1 AS step, \
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' \
                         WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, \
                       format('%I.%I', n.nspname, c.relname) AS target \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') \
                       AND NOT c.relispartition \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_class' AS regclass) \
                                       AND d.objid = c.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 2, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, \
                       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) \
                     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE n.nspname = current_schema() \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_proc' AS regclass) \
                                       AND d.objid = p.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 3, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, \
                       format('%I.%I', n.nspname, t.typname) \
                     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                     WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'c') \
                       AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c \
                                                        WHERE c.oid = t.typrelid AND c.relkind = 'c')) \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_type' AS regclass) \
                                       AND d.objid = t.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 4, 'EXTENSION', format('%I', e.extname) \
                     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
                     WHERE n.nspname = current_schema() \
                   ) objects ORDER BY step, target",
            before: "",
            after: "",
            cascade: " CASCADE",
        },
        // Triggers go with their tables; foreign keys are switched off for the drop and
        // switched back to what they were.
        Backend::Mysql => DropSql {
            list: "SELECT kind, target FROM ( \
                     SELECT CASE table_type WHEN 'VIEW' THEN 0 ELSE 1 END AS step, \
                       CAST(CASE table_type WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE' \
                         ELSE 'TABLE' END AS CHAR) AS kind, \
                       CAST(CONCAT('`', REPLACE(table_name, '`', '``'), '`') AS CHAR) AS target \
                     FROM information_schema.tables WHERE table_schema = DATABASE() \
                     UNION ALL \
                     SELECT 2, CAST(routine_type AS CHAR), \
                       CAST(CONCAT('`', REPLACE(routine_name, '`', '``'), '`') AS CHAR) \
                     FROM information_schema.routines WHERE routine_schema = DATABASE() \
                     UNION ALL \
                     SELECT 3, CAST('EVENT' AS CHAR), \
                       CAST(CONCAT('`', REPLACE(event_name, '`', '``'), '`') AS CHAR) \
                     FROM information_schema.events WHERE event_schema = DATABASE() \
                   ) objects ORDER BY step, target",
            before: "SET @pelican_foreign_key_checks = @@foreign_key_checks; \
                     SET foreign_key_checks = 0",
            after: "SET foreign_key_checks = @pelican_foreign_key_checks",
            cascade: "",
        },
    }
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
    let sql = drop_sql(backend);
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
    let sql = drop_sql(conn.backend());
    Ok(objects(conn, &sql)?
        .into_iter()
        .map(|o| format!("{} {}", o.kind, o.target))
        .collect())
}

fn objects<C: Database>(conn: &mut C, sql: &DropSql) -> Result<Vec<Object>> {
    let objects: Vec<Object> = conn
        .load_with(sql.list, &[])
        .map_err(Error::query("cannot list the objects to drop"))?;
    if conn.backend() != Backend::Sqlite {
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
