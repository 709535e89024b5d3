//! MySQL/MariaDB's snapshot: the server's own `SHOW CREATE TABLE/VIEW/FUNCTION/
//! PROCEDURE` and the triggers of `information_schema`, loaded with foreign key
//! checks off (so tables and rows go in any order), the database's name and each
//! definer taken out (so it builds in another database, as another user).

use std::collections::{BTreeSet, HashMap};

use diesel::sql_types::{Nullable, Text};

use super::data::TableRows;
use super::rows;
use super::{dependency_order, Parts};
use crate::{Backend, Database, Error, Result};

/// Tables, views and anything else `information_schema.tables` lists, but the ledger's.
const RELATIONS: &str = "\
SELECT CAST(table_name AS CHAR) AS name, CAST(table_type AS CHAR) AS kind
  FROM information_schema.tables
 WHERE table_schema = DATABASE()
   AND table_name <> '__diesel_schema_migrations' AND table_name NOT LIKE '\\_\\_pelican\\_%'
 ORDER BY table_name";

/// Every column, with what decides how its values are read: its data type, and
/// whether it is generated (no value is given for those). The primary keys come from
/// [`PRIMARY_KEYS`], matched here: a correlated subquery or a join between the two
/// `information_schema` views opens every table once per column, and with thousands
/// of tables the query never ends.
pub(crate) const COLUMNS: &str = "\
SELECT CAST(c.table_name AS CHAR) AS tbl, CAST(c.column_name AS CHAR) AS name,
       CAST(c.data_type AS CHAR) AS data_type,
       CAST(CASE WHEN c.extra LIKE '%VIRTUAL GENERATED%' OR c.extra LIKE '%STORED GENERATED%'
                   OR c.extra LIKE '%PERSISTENT GENERATED%' THEN 'generated' ELSE '' END AS CHAR) AS extra
  FROM information_schema.columns c
 WHERE c.table_schema = DATABASE()
 ORDER BY c.table_name, c.ordinal_position";

/// The primary keys' columns, with their place in the key.
const PRIMARY_KEYS: &str = "\
SELECT CAST(table_name AS CHAR) AS tbl, CAST(column_name AS CHAR) AS name,
       CAST(ordinal_position AS CHAR) AS position
  FROM information_schema.key_column_usage
 WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY'";

/// Triggers, in the order they fire (made in that order, they keep it).
const TRIGGERS: &str = "\
SELECT CAST(trigger_name AS CHAR) AS name,
       CAST(CONCAT('CREATE TRIGGER `', REPLACE(trigger_name, '`', '``'), '` ', action_timing, ' ',
                   event_manipulation, ' ON `', REPLACE(event_object_table, '`', '``'),
                   '` FOR EACH ROW ', action_statement) AS CHAR) AS kind
  FROM information_schema.triggers
 WHERE trigger_schema = DATABASE()
   AND event_object_table <> '__diesel_schema_migrations' AND event_object_table NOT LIKE '\\_\\_pelican\\_%'
 ORDER BY event_object_table, action_timing, event_manipulation, action_order";

/// What `SHOW CREATE` does not write, by name: table and column grants, events.
const UNSUPPORTED: &str = "\
SELECT DISTINCT CAST(CONCAT('grants on table ', table_name) AS CHAR) AS name, CAST('grant' AS CHAR) AS kind
  FROM information_schema.table_privileges WHERE table_schema = DATABASE()
UNION ALL
SELECT DISTINCT CONCAT('grants on column ', table_name, '.', column_name), 'grant'
  FROM information_schema.column_privileges WHERE table_schema = DATABASE()
UNION ALL
SELECT CONCAT('event ', event_name), 'event' FROM information_schema.events WHERE event_schema = DATABASE()
ORDER BY 1";

const ROUTINES: &str = "\
SELECT CAST(routine_name AS CHAR) AS name, CAST(routine_type AS CHAR) AS kind
  FROM information_schema.routines WHERE routine_schema = DATABASE()
 ORDER BY routine_type, routine_name";

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// A row of [`COLUMNS`].
#[derive(diesel::QueryableByName)]
pub(crate) struct ColumnRow {
    #[diesel(sql_type = Text)]
    pub(crate) tbl: String,
    #[diesel(sql_type = Text)]
    pub(crate) name: String,
    #[diesel(sql_type = Text)]
    pub(crate) data_type: String,
    /// `generated`, or empty.
    #[diesel(sql_type = Text)]
    pub(crate) extra: String,
}

#[derive(diesel::QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    position: String,
}

/// A column and its place in the primary key, if it is in it.
struct Column {
    row: ColumnRow,
    pk: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct CreateTable {
    #[diesel(sql_type = Text, column_name = "Create Table")]
    sql: String,
}

#[derive(diesel::QueryableByName)]
struct CreateView {
    #[diesel(sql_type = Text, column_name = "Create View")]
    sql: String,
}

#[derive(diesel::QueryableByName)]
struct CreateFunction {
    #[diesel(sql_type = Nullable<Text>, column_name = "Create Function")]
    sql: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct CreateProcedure {
    #[diesel(sql_type = Nullable<Text>, column_name = "Create Procedure")]
    sql: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

pub(crate) fn parts<C: Database>(conn: &mut C) -> Result<Parts> {
    let database: Vec<DatabaseName> = conn
        .load_with("SELECT DATABASE() AS name", &[])
        .map_err(Error::query("cannot read the current database"))?;
    let database = database
        .into_iter()
        .next()
        .and_then(|d| d.name)
        .unwrap_or_default();
    let qualifier = format!("{}.", Backend::Mysql.quote(&database));
    let local = |sql: &str| strip_definer(sql).replace(&qualifier, "");
    let unsupported: Vec<Named> = rows(conn, UNSUPPORTED, "cannot list the grants and events")?;
    if !unsupported.is_empty() {
        let names: Vec<String> = unsupported.into_iter().map(|n| n.name).collect();
        return Err(Error::Snapshot {
            snapshot: "snapshot".to_owned(),
            reason: format!(
                "pelican cannot take a snapshot of these yet: {}",
                names.join(", ")
            ),
        });
    }
    let relations: Vec<Named> = rows(conn, RELATIONS, "cannot list the tables")?;
    let columns: Vec<ColumnRow> = rows(conn, COLUMNS, "cannot read the columns")?;
    let keys: Vec<KeyColumn> = rows(conn, PRIMARY_KEYS, "cannot read the primary keys")?;
    let mut positions: HashMap<(String, String), String> = keys
        .into_iter()
        .map(|k| ((k.tbl, k.name), k.position))
        .collect();
    let mut by_table: HashMap<String, Vec<Column>> = HashMap::new();
    for row in columns {
        let pk = positions.remove(&(row.tbl.clone(), row.name.clone()));
        by_table
            .entry(row.tbl.clone())
            .or_default()
            .push(Column { row, pk });
    }
    let mut parts = Parts {
        prologue: vec![
            "SET @pelican_foreign_key_checks = @@foreign_key_checks".to_owned(),
            "SET foreign_key_checks = 0".to_owned(),
        ],
        epilogue: vec!["SET foreign_key_checks = @pelican_foreign_key_checks".to_owned()],
        ..Parts::default()
    };
    let mut views = Vec::new();
    for relation in &relations {
        let quoted = Backend::Mysql.quote(&relation.name);
        match relation.kind.as_str() {
            "BASE TABLE" => {
                let create: Vec<CreateTable> = conn
                    .load_with(&format!("SHOW CREATE TABLE {quoted}"), &[])
                    .map_err(Error::query(format!("cannot read table {}", relation.name)))?;
                parts
                    .before
                    .extend(create.into_iter().map(|c| local(&c.sql)));
                let table = by_table.remove(&relation.name).unwrap_or_default();
                if let Some(rows) = table_rows(&relation.name, &table) {
                    parts.tables.push(rows);
                }
            }
            "VIEW" | "SYSTEM VIEW" => {
                let create: Vec<CreateView> = conn
                    .load_with(&format!("SHOW CREATE VIEW {quoted}"), &[])
                    .map_err(Error::query(format!("cannot read view {}", relation.name)))?;
                views.extend(
                    create
                        .into_iter()
                        .map(|c| (relation.name.clone(), local(&c.sql))),
                );
            }
            other => {
                return Err(Error::Snapshot {
                    snapshot: "snapshot".to_owned(),
                    reason: format!(
                        "pelican cannot take a snapshot of a {} yet ({})",
                        other.to_lowercase(),
                        relation.name
                    ),
                })
            }
        }
    }
    let routines: Vec<Named> = rows(conn, ROUTINES, "cannot list the routines")?;
    for routine in routines {
        let quoted = Backend::Mysql.quote(&routine.name);
        let sql = if routine.kind == "PROCEDURE" {
            let rows: Vec<CreateProcedure> = conn
                .load_with(&format!("SHOW CREATE PROCEDURE {quoted}"), &[])
                .map_err(Error::query(format!(
                    "cannot read procedure {}",
                    routine.name
                )))?;
            rows.into_iter().next().and_then(|r| r.sql)
        } else {
            let rows: Vec<CreateFunction> = conn
                .load_with(&format!("SHOW CREATE FUNCTION {quoted}"), &[])
                .map_err(Error::query(format!(
                    "cannot read function {}",
                    routine.name
                )))?;
            rows.into_iter().next().and_then(|r| r.sql)
        };
        let Some(sql) = sql else {
            return Err(Error::Snapshot {
                snapshot: "snapshot".to_owned(),
                reason: format!(
                    "the server does not show the body of {} {} to this user",
                    routine.kind.to_lowercase(),
                    routine.name
                ),
            });
        };
        parts.after.push(local(&sql));
    }
    // A view can only be made once the views it reads exist.
    let names: Vec<String> = views.iter().map(|(name, _)| name.clone()).collect();
    let order = dependency_order(
        views
            .iter()
            .map(|(name, sql)| {
                let uses: BTreeSet<String> = names
                    .iter()
                    .filter(|other| *other != name && sql.contains(&Backend::Mysql.quote(other)))
                    .cloned()
                    .collect();
                (name.clone(), uses)
            })
            .collect(),
    );
    for name in order {
        if let Some((_, sql)) = views.iter().find(|(n, _)| *n == name) {
            parts.after.push(sql.clone());
        }
    }
    let triggers: Vec<Named> = rows(conn, TRIGGERS, "cannot read the triggers")?;
    parts
        .after
        .extend(triggers.into_iter().map(|t| local(&t.kind)));
    Ok(parts)
}

/// How to copy a table's rows: numbers bare, bytes in hex, the rest as the server
/// writes it as text, in primary key order.
fn table_rows(table: &str, columns: &[Column]) -> Option<TableRows> {
    let insertable: Vec<&ColumnRow> = columns
        .iter()
        .map(|c| &c.row)
        .filter(|c| c.extra.is_empty())
        .collect();
    if insertable.is_empty() {
        return None;
    }
    let quote = |name: &str| Backend::Mysql.quote(name);
    let values = insertable
        .iter()
        .map(|c| {
            let q = quote(&c.name);
            match c.data_type.to_lowercase().as_str() {
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
                | "numeric" | "float" | "double" | "real" | "year" => format!("CONCAT('n', {q})"),
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
                | "bit" | "geometry" | "point" | "linestring" | "polygon" | "multipoint"
                | "multilinestring" | "multipolygon" | "geometrycollection" => {
                    format!("CONCAT('x', HEX({q}))")
                }
                _ => format!("CONCAT('t', {q})"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut key: Vec<(usize, &str)> = columns
        .iter()
        .filter_map(|c| Some((c.pk.as_deref()?.parse().ok()?, c.row.name.as_str())))
        .collect();
    key.sort();
    let order = if key.is_empty() {
        String::new()
    } else {
        format!(
            " ORDER BY {}",
            key.iter()
                .map(|(_, c)| quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let select = format!(
        "SELECT CAST(JSON_ARRAY({values}) AS CHAR) AS row_data FROM {}{order}",
        quote(table)
    );
    Some(TableRows::new(
        quote,
        table,
        insertable.iter().map(|c| c.name.as_str()),
        select,
    ))
}

/// A `CREATE` statement without its `DEFINER=user@host` clause, so that it builds as
/// whoever loads it.
fn strip_definer(sql: &str) -> String {
    let Some(start) = sql.find("DEFINER=") else {
        return sql.to_owned();
    };
    let rest = &sql[start + "DEFINER=".len()..];
    let mut chars = rest.char_indices().peekable();
    let mut in_quote = false;
    let mut end = rest.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '`' if in_quote && chars.peek().map(|(_, n)| *n) == Some('`') => {
                chars.next();
            }
            '`' => in_quote = !in_quote,
            ' ' if !in_quote => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let after = rest[end..].trim_start();
    format!("{}{after}", &sql[..start])
}

#[cfg(test)]
mod tests {
    use super::strip_definer;

    #[test]
    fn the_definer_is_taken_out() {
        assert_eq!(
            strip_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` AS select 1"
            ),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"
        );
        assert_eq!(
            strip_definer("CREATE DEFINER=`we ``ird`@`%` FUNCTION `f`() RETURNS int RETURN 1"),
            "CREATE FUNCTION `f`() RETURNS int RETURN 1"
        );
        assert_eq!(
            strip_definer("CREATE TABLE t (id int)"),
            "CREATE TABLE t (id int)"
        );
    }
}
