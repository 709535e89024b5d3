//! What "the identical schema, ledger and data" means in these tests, and diesel's own
//! harness to produce the reference.
//!
//! A database's [`State`] is read in four parts:
//! - `schema`: pelican's catalog ([`Schema::introspect`]), compared with
//!   [`pelican::catalog::diff`];
//! - `details`: what the catalog does not hold, one line per object, read from the
//!   backend's own catalog (SQLite: every `sqlite_master` row with its SQL text;
//!   PostgreSQL: column order, constraint and index definitions, triggers by table,
//!   function overloads and bodies, enum labels in order, sequence positions;
//!   MySQL/MariaDB: column definitions in order, routines of both kinds, triggers,
//!   foreign key names and rules, AUTO_INCREMENT counters);
//! - `ledger`: the versions in diesel's `__diesel_schema_migrations`;
//! - `rows`: every row of every table, view and materialized view, as sorted strings.
//!
//! pelican's own tables (and anything else named `__…`) are left out of all four. A
//! timestamp within two days of now reads `<now>`: `DEFAULT NOW()` and
//! `diesel_set_updated_at()` stamp rows with the time they ran, which differs between
//! two databases migrated a second apart.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use pelican::catalog::{diff, Schema};
use pelican::Backend;

use crate::common::TestDb;

/// What diesel's harness can be asked to do, on a folder of migrations.
#[derive(Debug, Clone, Copy)]
pub enum Diesel {
    /// `run_pending_migrations`.
    RunPending,
    /// `run_next_migration`, this many times.
    RunNext(usize),
    /// `revert_all_migrations`.
    RevertAll,
}

/// Runs `f` with diesel's own harness on a connection of the test's backend.
macro_rules! with_diesel {
    ($db:expr, |$conn:ident| $body:expr) => {{
        use diesel::Connection;
        match $db.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                use diesel::connection::SimpleConnection;
                let mut conn = diesel::SqliteConnection::establish(&$db.url).unwrap();
                // diesel CLI as distributed links the system's SQLite, where foreign
                // keys are off unless a connection turns them on; the SQLite bundled
                // into this crate's build turns them on by default
                // (SQLITE_DEFAULT_FOREIGN_KEYS=1). The reference is diesel CLI's.
                conn.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
                let $conn = &mut conn;
                $body
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&$db.url).unwrap();
                let $conn = &mut conn;
                $body
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn = diesel::MysqlConnection::establish(&$db.url).unwrap();
                let $conn = &mut conn;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        }
    }};
}

/// Runs diesel's harness on `db` with the migrations of `dir`: the versions it ran or
/// reverted, or its error as text (what ran before the error stays done, as in diesel).
pub fn diesel(db: &TestDb, dir: &Path, what: Diesel) -> Result<Vec<String>, String> {
    let source = || FileBasedMigrations::from_path(dir).expect("diesel reads the folder");
    let text = |versions: Vec<diesel::migration::MigrationVersion<'_>>| {
        versions.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    with_diesel!(db, |conn| match what {
        Diesel::RunPending => conn
            .run_pending_migrations(source())
            .map(text)
            .map_err(|e| e.to_string()),
        Diesel::RunNext(count) => {
            let mut ran = Vec::new();
            for _ in 0..count {
                let version = conn
                    .run_next_migration(source())
                    .map_err(|e| e.to_string())?;
                ran.push(version.to_string());
            }
            Ok(ran)
        }
        Diesel::RevertAll => conn
            .revert_all_migrations(source())
            .map(text)
            .map_err(|e| e.to_string()),
    })
}

/// Runs diesel's harness and fails the test if diesel fails.
#[track_caller]
pub fn diesel_ok(db: &TestDb, dir: &Path, what: Diesel) -> Vec<String> {
    diesel(db, dir, what).unwrap_or_else(|e| panic!("diesel's harness failed ({what:?}): {e}"))
}

/// A database as these tests compare it.
#[derive(Debug)]
pub struct State {
    pub schema: Schema,
    pub details: BTreeSet<String>,
    pub ledger: Vec<String>,
    pub rows: BTreeMap<String, Vec<String>>,
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(diesel::QueryableByName)]
struct RelationColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tbl: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    col: String,
}

/// pelican's ledger tables and diesel's, and whatever else hides behind `__`.
fn is_bookkeeping(name: &str) -> bool {
    name.starts_with("__")
}

/// Reads the state of `db`.
pub fn state(db: &TestDb) -> State {
    let mut conn = db.connect();
    let schema = Schema::introspect(&mut conn).expect("introspect");
    let details = lines(&mut conn, details_sql(db.backend))
        .into_iter()
        .chain(sqlite_sequences(db.backend, &mut conn))
        .collect();
    let ledger = if has_ledger(db.backend, &mut conn) {
        db.applied()
    } else {
        Vec::new()
    };
    let rows = rows(db.backend, &mut conn);
    State {
        schema,
        details,
        ledger,
        rows,
    }
}

fn lines(conn: &mut pelican::AnyConnection, sql: &str) -> Vec<String> {
    conn.load_with::<Line>(sql, &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .into_iter()
        .map(|l| l.value)
        .collect()
}

fn has_ledger(backend: Backend, conn: &mut pelican::AnyConnection) -> bool {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name AS value FROM sqlite_master WHERE name = '__diesel_schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT relname::text AS value FROM pg_class WHERE relname = '__diesel_schema_migrations' \
             AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        }
        Backend::Mysql => {
            "SELECT CAST(table_name AS CHAR) AS value FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '__diesel_schema_migrations'"
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    !lines(conn, sql).is_empty()
}

/// What the catalog leaves out, per backend, one line per object.
fn details_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ' on ' || tbl_name || ': ' || coalesce(sql, '-') AS value
               FROM sqlite_master
              WHERE name <> 'sqlite_sequence' AND tbl_name NOT LIKE '\\_\\_%' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
             SELECT 'relation ' || c.relname || ' kind ' || c.relkind::text AS value
               FROM pg_class c
              WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relname NOT LIKE '\\_\\_%'
             UNION ALL
             SELECT 'columns of ' || c.relname || ': ' || string_agg(
                        a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                        || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                        || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
                        ', ' ORDER BY a.attnum)
               FROM pg_class c
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
              WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm')
                AND c.relname NOT LIKE '\\_\\_%'
              GROUP BY c.relname
             UNION ALL
             SELECT 'index ' || i.indexname || ': ' || i.indexdef
               FROM pg_indexes i
              WHERE i.schemaname = current_schema() AND i.tablename NOT LIKE '\\_\\_%'
             UNION ALL
             SELECT 'constraint ' || c.relname || '.' || k.conname || ': ' || pg_get_constraintdef(k.oid, true)
               FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
              WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relname NOT LIKE '\\_\\_%'
             UNION ALL
             SELECT 'trigger ' || c.relname || '.' || t.tgname || ': ' || pg_get_triggerdef(t.oid, true)
               FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
              WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
             UNION ALL
             SELECT 'function ' || p.oid::regprocedure::text || ' returns '
                    || pg_get_function_result(p.oid) || ': ' || md5(p.prosrc)
               FROM pg_proc p
              WHERE p.pronamespace = (SELECT oid FROM ns)
             UNION ALL
             SELECT 'type ' || t.typname || ' kind ' || t.typtype::text || coalesce(': ' || (
                        SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                          FROM pg_enum e WHERE e.enumtypid = t.oid), '')
               FROM pg_type t
              WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype IN ('e', 'd', 'r', 'c')
                AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
             UNION ALL
             SELECT 'sequence ' || s.sequencename || ' at ' || coalesce(s.last_value::text, 'start')
               FROM pg_sequences s
              WHERE s.schemaname = current_schema() AND s.sequencename NOT LIKE '\\_\\_%'
             UNION ALL
             SELECT 'extension ' || x.extname || ' ' || x.extversion FROM pg_extension x"
        }
        Backend::Mysql => {
            "SELECT CAST(CONCAT('columns of ', table_name, ': ', GROUP_CONCAT(
                        CONCAT(column_name, ' ', column_type, ' null ', is_nullable,
                               ' default ', COALESCE(column_default, '-'), ' ', extra,
                               ' ', COALESCE(collation_name, '-'))
                        ORDER BY ordinal_position SEPARATOR ', ')) AS CHAR) AS value
               FROM information_schema.columns
              WHERE table_schema = DATABASE() AND table_name NOT LIKE '\\_\\_%'
              GROUP BY table_name
             UNION ALL
             SELECT CONCAT('table ', table_name, ': ', engine, ' auto_increment ',
                           COALESCE(auto_increment, '-'), ' ', table_collation)
               FROM information_schema.tables
              WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
                AND table_name NOT LIKE '\\_\\_%'
             UNION ALL
             SELECT CONCAT('routine ', routine_type, ' ', routine_name, ' returns ',
                           COALESCE(dtd_identifier, '-'), ': ', MD5(COALESCE(routine_definition, '')))
               FROM information_schema.routines WHERE routine_schema = DATABASE()
             UNION ALL
             SELECT CONCAT('parameter ', routine_type, ' ', specific_name, ' #', ordinal_position, ' ',
                           COALESCE(parameter_mode, '-'), ' ', COALESCE(parameter_name, '-'), ' ',
                           dtd_identifier)
               FROM information_schema.parameters WHERE specific_schema = DATABASE()
             UNION ALL
             SELECT CONCAT('trigger ', event_object_table, '.', trigger_name, ': ', action_timing,
                           ' ', event_manipulation, ' #', action_order, ' ', MD5(action_statement))
               FROM information_schema.triggers WHERE trigger_schema = DATABASE()
             UNION ALL
             SELECT CONCAT('foreign key ', table_name, '.', constraint_name, ' -> ',
                           referenced_table_name, ' on update ', update_rule, ' on delete ', delete_rule)
               FROM information_schema.referential_constraints
              WHERE constraint_schema = DATABASE()
             UNION ALL
             SELECT CONCAT('index ', table_name, '.', index_name, ' unique ', 1 - non_unique, ': ',
                           GROUP_CONCAT(COALESCE(column_name, '-') ORDER BY seq_in_index SEPARATOR ', '))
               FROM information_schema.statistics
              WHERE table_schema = DATABASE() AND table_name NOT LIKE '\\_\\_%'
              GROUP BY table_name, index_name, non_unique"
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
}

/// SQLite's AUTOINCREMENT counters (`sqlite_sequence` exists once a table uses one).
fn sqlite_sequences(backend: Backend, conn: &mut pelican::AnyConnection) -> Vec<String> {
    if backend != Backend::Sqlite
        || lines(
            conn,
            "SELECT name AS value FROM sqlite_master WHERE name = 'sqlite_sequence'",
        )
        .is_empty()
    {
        return Vec::new();
    }
    lines(
        conn,
        "SELECT 'autoincrement ' || name || ' at ' || seq AS value FROM sqlite_sequence
          WHERE name NOT LIKE '\\_\\_%' ESCAPE '\\'",
    )
}

fn quote_ident(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// Every row of every table, view and materialized view, each row one string of its
/// values as SQL literals, sorted.
fn rows(backend: Backend, conn: &mut pelican::AnyConnection) -> BTreeMap<String, Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name AS tbl, p.name AS col
               FROM sqlite_master m JOIN pragma_table_info(m.name) p
              WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
              ORDER BY m.name, p.cid"
        }
        Backend::Postgres => {
            "SELECT c.relname::text AS tbl, a.attname::text AS col
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
              WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
                AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY c.relname, a.attnum"
        }
        Backend::Mysql => {
            "SELECT CAST(table_name AS CHAR) AS tbl, CAST(column_name AS CHAR) AS col
               FROM information_schema.columns WHERE table_schema = DATABASE()
              ORDER BY table_name, ordinal_position"
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    let mut relations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rc in conn
        .load_with::<RelationColumn>(sql, &[])
        .expect("list relations")
    {
        if !is_bookkeeping(&rc.tbl) {
            relations.entry(rc.tbl).or_default().push(rc.col);
        }
    }
    let now = chrono::Utc::now().naive_utc();
    relations
        .into_iter()
        .map(|(relation, columns)| {
            let values: Vec<String> = columns
                .iter()
                .map(|c| {
                    let c = quote_ident(backend, c);
                    match backend {
                        Backend::Sqlite => format!("quote({c})"),
                        Backend::Postgres => format!("quote_nullable({c}::text)"),
                        Backend::Mysql => format!("QUOTE(CAST({c} AS CHAR))"),
                        other => unimplemented!("{other:?}: a backend these tests do not know"),
                    }
                })
                .collect();
            let row = match backend {
                Backend::Mysql => format!("CONCAT_WS(', ', {})", values.join(", ")),
                _ => values.join(" || ', ' || "),
            };
            let sql = format!(
                "SELECT {row} AS value FROM {}",
                quote_ident(backend, &relation)
            );
            let mut rows: Vec<String> = lines(conn, &sql)
                .into_iter()
                .map(|r| mask_now(&r, now))
                .collect();
            rows.sort();
            (relation, rows)
        })
        .collect()
}

/// `text` with each timestamp within two days of `now` (either side, whatever the
/// time zone) replaced by `<now>`.
pub fn mask_now(text: &str, now: chrono::NaiveDateTime) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 19 <= bytes.len() {
        let candidate = &text.get(i..i + 19).unwrap_or("");
        let parsed = chrono::NaiveDateTime::parse_from_str(candidate, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(candidate, "%Y-%m-%dT%H:%M:%S"));
        match parsed {
            Ok(t) if (t - now).num_hours().abs() <= 48 => {
                let mut end = i + 19;
                // Fractional seconds and a zone offset belong to the timestamp.
                if bytes.get(end) == Some(&b'.') {
                    end += 1;
                    while end < bytes.len() && bytes[end].is_ascii_digit() {
                        end += 1;
                    }
                }
                if matches!(bytes.get(end), Some(b'+' | b'-')) {
                    end += 1;
                    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b':') {
                        end += 1;
                    }
                } else if bytes.get(end) == Some(&b'Z') {
                    end += 1;
                }
                out.push_str(&text[copied..i]);
                out.push_str("<now>");
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Every way `actual` differs from `expected`, one line each; empty when they are
/// the same.
pub fn differences(expected: &State, actual: &State) -> Vec<String> {
    let mut out = Vec::new();
    for change in diff(&expected.schema, &actual.schema) {
        out.push(format!("catalog: {change}"));
    }
    for line in expected.details.difference(&actual.details) {
        out.push(format!("detail only in expected: {line}"));
    }
    for line in actual.details.difference(&expected.details) {
        out.push(format!("detail only in actual:   {line}"));
    }
    if expected.ledger != actual.ledger {
        let e: BTreeSet<&String> = expected.ledger.iter().collect();
        let a: BTreeSet<&String> = actual.ledger.iter().collect();
        out.push(format!(
            "ledger: {} version(s) expected, {} present; missing {:?}, extra {:?}",
            e.len(),
            a.len(),
            e.difference(&a).collect::<Vec<_>>(),
            a.difference(&e).collect::<Vec<_>>(),
        ));
    }
    let relations: BTreeSet<&String> = expected.rows.keys().chain(actual.rows.keys()).collect();
    for relation in relations {
        let e = expected.rows.get(relation);
        let a = actual.rows.get(relation);
        if e == a {
            continue;
        }
        let (Some(e), Some(a)) = (e, a) else {
            // A missing relation is reported by the catalog already.
            continue;
        };
        let mut text = format!(
            "rows of {relation}: {} expected, {} present",
            e.len(),
            a.len()
        );
        let mut rest_e: Vec<&String> = e.iter().collect();
        let mut rest_a: Vec<&String> = Vec::new();
        for row in a {
            match rest_e.iter().position(|r| *r == row) {
                Some(i) => {
                    rest_e.remove(i);
                }
                None => rest_a.push(row),
            }
        }
        for row in rest_e {
            let _ = write!(text, "\n      only in expected: ({row})");
        }
        for row in rest_a {
            let _ = write!(text, "\n      only in actual:   ({row})");
        }
        out.push(text);
    }
    out
}

/// Fails the test, listing every difference, unless `actual` equals `expected`.
#[track_caller]
pub fn assert_same(expected: &State, actual: &State, what: &str) {
    let found = differences(expected, actual);
    assert!(
        found.is_empty(),
        "{what}: {} difference(s) from diesel's result\n  {}",
        found.len(),
        found.join("\n  ")
    );
}
