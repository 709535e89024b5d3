//! SQLite's snapshot: the `CREATE` statements `sqlite_master` keeps, as written (an
//! `ALTER TABLE` rewrites its table's), and `sqlite_sequence`.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{BigInt, Nullable, Text};

use super::data::TableRows;
use super::rows;
use super::{dependency_order, Parts};
use crate::ledger::literal;
use crate::{Backend, Database, Error, Result};

/// Every object with SQL of its own, in creation order, but SQLite's and the ledger's.
const OBJECTS: &str = "\
SELECT type AS kind, name, tbl_name AS tbl, sql FROM sqlite_master
 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
   AND tbl_name <> '__diesel_schema_migrations' AND tbl_name NOT LIKE '\\_\\_pelican\\_%' ESCAPE '\\'
 ORDER BY rowid";

/// Every column of every table, with `hidden` (2 and 3: generated) and its place in
/// the primary key.
const COLUMNS: &str = "\
SELECT m.name AS tbl, p.name AS name, p.hidden AS hidden
  FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
 WHERE m.type = 'table' ORDER BY m.rowid, p.cid";

/// What each table references.
const REFERENCES: &str = "\
SELECT m.name AS tbl, f.\"table\" AS name FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
 WHERE m.type = 'table'";

#[derive(diesel::QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    hidden: i64,
}

#[derive(diesel::QueryableByName)]
struct Reference {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Sequence {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

pub(crate) fn parts<C: Database>(conn: &mut C) -> Result<Parts> {
    let objects: Vec<Object> = rows(conn, OBJECTS, "cannot read sqlite_master")?;
    let columns: Vec<ColumnRow> = rows(conn, COLUMNS, "cannot read the columns")?;
    let references: Vec<Reference> = rows(conn, REFERENCES, "cannot read the foreign keys")?;
    let mut parts = Parts {
        // Rows go in parents first; what a cycle leaves is checked at commit.
        prologue: vec!["PRAGMA defer_foreign_keys = ON".to_owned()],
        ..Parts::default()
    };
    let mut tables = Vec::new();
    for object in &objects {
        match object.kind.as_str() {
            "table"
                if object
                    .sql
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|word| word.eq_ignore_ascii_case("VIRTUAL")) =>
            {
                return Err(unsupported(&format!("virtual table {}", object.name)));
            }
            "table" => {
                parts.before.push(object.sql.clone());
                tables.push(object.name.clone());
            }
            _ => parts.after.push(object.sql.clone()),
        }
    }
    let mut depends: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for reference in &references {
        depends
            .entry(reference.tbl.as_str())
            .or_default()
            .insert(reference.name.to_lowercase());
    }
    let order = dependency_order(
        tables
            .iter()
            .map(|t| {
                let lower = t.to_lowercase();
                let deps = depends.get(t.as_str()).cloned().unwrap_or_default();
                (lower, deps)
            })
            .collect(),
    );
    let by_lower: BTreeMap<String, &String> =
        tables.iter().map(|t| (t.to_lowercase(), t)).collect();
    for lower in order {
        let Some(table) = by_lower.get(&lower) else {
            continue;
        };
        let insertable: Vec<&str> = columns
            .iter()
            .filter(|c| &&c.tbl == table && c.hidden == 0)
            .map(|c| c.name.as_str())
            .collect();
        if let Some(rows) = table_rows(table, &insertable) {
            parts.tables.push(rows);
        }
    }
    // AUTOINCREMENT counters, which may be ahead of the rows (rows deleted since).
    if objects.iter().any(|o| o.kind == "table") {
        let sequences: Vec<Sequence> = if has_sequence_table(conn)? {
            conn.load_with(
                "SELECT name, seq FROM sqlite_sequence \
                 WHERE name <> '__diesel_schema_migrations' \
                   AND name NOT LIKE '\\_\\_pelican\\_%' ESCAPE '\\' ORDER BY name",
                &[],
            )
            .map_err(Error::query("cannot read sqlite_sequence"))?
        } else {
            Vec::new()
        };
        let updates: Vec<String> = sequences
            .into_iter()
            .filter_map(|s| {
                let seq = s.seq?;
                let name = literal(&s.name);
                Some(format!(
                    "DELETE FROM sqlite_sequence WHERE name = {name};\n\
                     INSERT INTO sqlite_sequence (name, seq) VALUES ({name}, {seq})"
                ))
            })
            .collect();
        parts.after.splice(0..0, updates);
    }
    Ok(parts)
}

fn has_sequence_table<C: Database>(conn: &mut C) -> Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        name: String,
    }
    let found: Vec<Found> = conn
        .load_with(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
            &[],
        )
        .map_err(Error::query("cannot look for sqlite_sequence"))?;
    Ok(!found.is_empty())
}

/// How to copy a table's rows: each value tagged by its storage class (SQLite's
/// values carry their own type, whatever the column says). Rows come in the table's
/// own order (rowid, or the key of a `WITHOUT ROWID` table).
fn table_rows(table: &str, columns: &[&str]) -> Option<TableRows> {
    if columns.is_empty() {
        return None;
    }
    let quote = |name: &str| Backend::Sqlite.quote(name);
    let values = columns
        .iter()
        .map(|c| {
            let c = quote(c);
            format!(
                "json_quote(CASE typeof({c}) WHEN 'integer' THEN 'n' || {c} \
                 WHEN 'real' THEN 'n' || quote({c}) WHEN 'blob' THEN 'x' || hex({c}) \
                 WHEN 'text' THEN 't' || {c} END)"
            )
        })
        .collect::<Vec<_>>()
        .join(" || ',' || ");
    let select = format!(
        "SELECT '[' || {values} || ']' AS row_data FROM {}",
        quote(table)
    );
    Some(TableRows::new(
        quote,
        table,
        columns.iter().copied(),
        select,
    ))
}

fn unsupported(what: &str) -> Error {
    Error::Snapshot {
        snapshot: "snapshot".to_owned(),
        reason: format!("pelican cannot take a snapshot of a {what} yet"),
    }
}
