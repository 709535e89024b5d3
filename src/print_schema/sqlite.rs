//! SQLite: `sqlite_master` and the table-valued pragmas, read as diesel CLI reads them.

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{ColumnOf, ColumnSorting, Config, CustomColumn, Introspection, Load, Session, SqlType};
use crate::connection::Bind;
use crate::{Error, Result};

const TABLE_NAMES: &str = "\
SELECT name AS value FROM sqlite_master
 WHERE name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND type = 'table'
 ORDER BY name";

/// Every column of a table; `{pragma}` is `table_xinfo` (generated and hidden columns
/// included, from SQLite 3.26 on) or `table_info` before it. SQLite has no type schemas,
/// domains, lengths or comments.
const COLUMNS: &str = "\
SELECT name, type AS type_name, NULL AS type_schema, NULL AS domain_name,
       NULL AS domain_schema, CASE WHEN \"notnull\" THEN 'NO' ELSE 'YES' END AS nullable,
       NULL AS max_length, NULL AS comment
  FROM pragma_{pragma}(?)";

/// The primary key's columns in column order; `{pragma}` as in [`COLUMNS`].
const PRIMARY_KEY: &str = "SELECT name AS value FROM pragma_{pragma}(?) WHERE pk <> 0";

/// A table's foreign keys, one row per column.
const FOREIGN_KEYS: &str = "\
SELECT NULL AS child_schema, NULL AS child, \"from\" AS child_column,
       NULL AS parent_schema, \"table\" AS parent, \"to\" AS parent_column,
       NULL AS constraint_name
  FROM pragma_foreign_key_list(?)";

/// Whether the first table of the name has a rowid (`pragma_table_list`, SQLite 3.37).
const HAS_ROWID: &str = "\
SELECT CASE WHEN wr THEN 'without rowid' ELSE 'rowid' END AS value
  FROM pragma_table_list(?) WHERE name = ? LIMIT 1";

/// The implicit primary key's aliases, in diesel's order of preference.
const ROWID_ALIASES: &[&str] = &["rowid", "oid", "_rowid_"];

/// What diesel CLI calls the type of an implicit `rowid` primary key.
const ROWID_TYPE_NAME: &str = "Integer";

/// SQLite's version as (major, minor, patch).
fn version(conn: &mut dyn Load) -> Result<(u32, u32, u32)> {
    let texts = conn.texts("SELECT sqlite_version() AS value", &[], "SQLite's version")?;
    let text = texts.into_iter().next().unwrap_or_default();
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    Ok((
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    ))
}

/// The table-valued pragma listing a table's columns: every one where SQLite can.
fn columns_pragma(conn: &mut dyn Load) -> Result<&'static str> {
    Ok(if version(conn)? >= (3, 26, 0) {
        "table_xinfo"
    } else {
        "table_info"
    })
}

fn column_rows(conn: &mut dyn Load, table: &TableName) -> Result<Vec<ColumnInfo>> {
    let sql = COLUMNS.replace("{pragma}", columns_pragma(conn)?);
    let rows = conn.columns(&sql, &[Bind::Text(&table.sql_name)])?;
    Ok(rows.into_iter().map(|row| row.into_info(&[])).collect())
}

/// The primary key's columns in column order, or the first `rowid` alias no column
/// takes when the table declares none.
fn primary_keys(conn: &mut dyn Load, table: &TableName) -> Result<Vec<String>> {
    let sql = PRIMARY_KEY.replace("{pragma}", columns_pragma(conn)?);
    let mut keys = conn.texts(&sql, &[Bind::Text(&table.sql_name)], "the columns")?;
    if keys.is_empty() {
        let columns = column_rows(conn, table)?;
        if let Some(alias) = ROWID_ALIASES
            .iter()
            .find(|alias| !columns.iter().any(|c| c.name == **alias))
        {
            keys.push((*alias).to_owned());
        }
    }
    Ok(keys)
}

/// Whether a column is the table's rowid: an `integer` primary key of its own in a
/// table with a rowid (SQLite 3.37 and later can tell).
fn is_row_id(
    conn: &mut dyn Load,
    table: &TableName,
    primary_keys: &[String],
    column: &str,
    type_name: &str,
) -> Result<bool> {
    let version = version(conn)?;
    if version < (3, 37, 0) {
        return Err(Error::PrintSchema {
            reason: format!(
                "Parameter `sqlite_integer_primary_key_is_bigint` needs SQLite 3.37 or above. \
                 Your current SQLite version is {}.{}.{}.",
                version.0, version.1, version.2
            ),
        });
    }
    if type_name != "integer" || !matches!(primary_keys, [key] if key == column) {
        return Ok(false);
    }
    let name = Bind::Text(&table.sql_name);
    let kinds = conn.texts(HAS_ROWID, &[name, name], "the table list")?;
    Ok(kinds.first().is_some_and(|kind| kind == "rowid"))
}

/// Whether a foreign key references its parent's rowid.
fn references_row_id(conn: &mut dyn Load, key: Option<&ForeignKey>) -> Result<bool> {
    let Some(key) = key else {
        return Ok(false);
    };
    let parent_keys = primary_keys(conn, &key.parent)?;
    match parent_keys.as_slice() {
        [id] => is_row_id(conn, &key.parent, &parent_keys, id, "integer"),
        _ => Ok(false),
    }
}

/// SQLite's introspection: one database (`main`), no comments, no custom types.
pub(crate) struct Sqlite;

impl Introspection for Sqlite {
    fn default_schema(&self, _conn: &mut dyn Load) -> Result<String> {
        Ok(String::new())
    }

    fn table_names(&self, session: &mut Session<'_>) -> Result<Vec<String>> {
        if session.config.schema.is_some() {
            return Err(Error::PrintSchema {
                reason: "sqlite cannot infer schema for databases other than the main \
                         database (remove `schema`)"
                    .to_owned(),
            });
        }
        session.conn.texts(TABLE_NAMES, &[], "the tables")
    }

    /// One foreign key per referencing column (a key of two columns is two keys here,
    /// as diesel CLI reads them), of every table.
    fn foreign_keys(&self, session: &mut Session<'_>) -> Result<Vec<ForeignKey>> {
        let conn = &mut *session.conn;
        let mut keys = Vec::new();
        for child in conn.texts(TABLE_NAMES, &[], "the tables")? {
            let child = TableName::new(child);
            for row in conn.foreign_keys(FOREIGN_KEYS, &[Bind::Text(&child.sql_name)])? {
                let parent = TableName::new(row.parent);
                let referenced = match row.parent_column {
                    Some(column) => vec![column],
                    None => primary_keys(conn, &parent)?,
                };
                keys.push(ForeignKey::new(
                    child.clone(),
                    parent,
                    vec![row.child_column],
                    referenced,
                ));
            }
        }
        Ok(keys)
    }

    fn primary_keys(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<String>> {
        primary_keys(session.conn, table)
    }

    fn columns(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<ColumnInfo>> {
        let conn = &mut *session.conn;
        let mut columns = column_rows(conn, table)?;
        // An implicit rowid primary key is a column of the `table!` for diesel.
        if let [key] = primary_keys(conn, table)?.as_slice() {
            if !columns.iter().any(|c| &c.name == key) {
                columns.insert(
                    0,
                    ColumnInfo {
                        name: key.clone(),
                        type_name: ROWID_TYPE_NAME.to_owned(),
                        type_schema: None,
                        nullable: false,
                        max_length: None,
                        comment: None,
                    },
                );
            }
        }
        if let ColumnSorting::Name = session.config.column_sorting {
            columns.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(columns)
    }

    fn comment(&self, _session: &mut Session<'_>, _table: &TableName) -> Result<Option<String>> {
        Ok(None)
    }

    /// From the declared type by SQLite's affinity rules as diesel CLI applies them; a
    /// declared type it cannot map is an error.
    fn column_type(&self, session: &mut Session<'_>, column: &ColumnOf<'_>) -> Result<ColumnType> {
        let info = column.info;
        let conn = &mut *session.conn;
        let mut type_name = info.type_name.to_lowercase();
        if type_name == "generated always" {
            type_name.clear();
        }
        let t = type_name.as_str();
        let name = if t == "boolean" || t == "bool" || (t.contains("tiny") && t.contains("int")) {
            "Bool"
        } else if t == "int2" || (t.contains("small") && t.contains("int")) {
            "SmallInt"
        } else if t == "int8" || (t.contains("big") && t.contains("int")) {
            "BigInt"
        } else if t.contains("int") {
            let bigint = session
                .config
                .sqlite_integer_primary_key_is_bigint
                .unwrap_or(false)
                && (is_row_id(conn, column.table, column.primary_key, &info.name, t)?
                    || references_row_id(conn, column.foreign_keys.get(&info.name))?);
            if bigint {
                "BigInt"
            } else {
                "Integer"
            }
        } else if t.contains("char") || t.contains("clob") || t.contains("text") {
            "Text"
        } else if t.contains("blob") || t.contains("binary") || t.is_empty() {
            "Binary"
        } else if t.contains("float") || t.contains("real") {
            "Float"
        } else if t.contains("double") || t.contains("num") || t.contains("dec") {
            "Double"
        } else if t == "datetime" || t == "timestamp" {
            "Timestamp"
        } else if t == "date" {
            "Date"
        } else if t == "time" {
            "Time"
        } else {
            return Err(Error::PrintSchema {
                reason: format!(
                    "Unsupported type: `{type_name}` (column `{}` of table `{}`)",
                    info.name, column.table.sql_name
                ),
            });
        };
        Ok(ColumnType {
            schema: None,
            rust_name: name.to_owned(),
            sql_name: name.to_owned(),
            is_array: false,
            is_nullable: info.nullable,
            is_unsigned: false,
            max_length: info.max_length,
        })
    }

    fn provided_types(&self) -> &'static [&'static str] {
        &[]
    }

    fn types_need_foreign_keys(&self, config: &Config) -> bool {
        config.sqlite_integer_primary_key_is_bigint == Some(true)
    }

    /// None: every SQLite type maps to one diesel provides.
    fn sql_types(&self, _columns: &[CustomColumn<'_>]) -> Vec<SqlType> {
        Vec::new()
    }
}
