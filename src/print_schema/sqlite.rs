//! SQLite: `sqlite_master` and the table-valued pragmas, read as diesel CLI reads them.

use std::collections::HashMap;

use diesel::sql_types::{Bool, Nullable, Text};

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{query, ColumnSorting, Config};
use crate::connection::Bind;
use crate::{Database, Error, Result};

const TABLE_NAMES: &str = "\
SELECT name FROM sqlite_master
 WHERE name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND type = 'table'
 ORDER BY name";

/// Every column of a table, generated and hidden ones included (`table_xinfo`, from
/// SQLite 3.26 on; `table_info` before it).
const TABLE_XINFO: &str =
    "SELECT name, type, \"notnull\" AS not_null, pk <> 0 AS pk FROM pragma_table_xinfo(?)";
const TABLE_INFO: &str =
    "SELECT name, type, \"notnull\" AS not_null, pk <> 0 AS pk FROM pragma_table_info(?)";

const FOREIGN_KEYS: &str =
    "SELECT \"table\" AS parent, \"from\" AS child_column, \"to\" AS parent_column FROM pragma_foreign_key_list(?)";

const WITHOUT_ROWID: &str = "SELECT name, wr FROM pragma_table_list(?)";

/// The implicit primary key's aliases, in diesel's order of preference.
const ROWID_ALIASES: &[&str] = &["rowid", "oid", "_rowid_"];

/// What diesel CLI calls the type of an implicit `rowid` primary key.
const ROWID_TYPE_NAME: &str = "Integer";

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Bool)]
    pk: bool,
}

#[derive(diesel::QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    child_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent_column: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct TableListRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    wr: bool,
}

/// SQLite's version as (major, minor, patch).
fn version<C: Database>(conn: &mut C) -> Result<(u32, u32, u32)> {
    let rows: Vec<Version> = conn
        .load_with("SELECT sqlite_version() AS version", &[])
        .map_err(query("SQLite's version"))?;
    let text = rows
        .into_iter()
        .next()
        .map(|r| r.version)
        .unwrap_or_default();
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    Ok((
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    ))
}

pub(super) fn table_names<C: Database>(conn: &mut C) -> Result<Vec<String>> {
    let rows: Vec<Name> = conn
        .load_with(TABLE_NAMES, &[])
        .map_err(query("the tables"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn column_rows<C: Database>(conn: &mut C, table: &str) -> Result<Vec<ColumnRow>> {
    let sql = if version(conn)? >= (3, 26, 0) {
        TABLE_XINFO
    } else {
        TABLE_INFO
    };
    conn.load_with(sql, &[Bind::Text(table)])
        .map_err(query("the columns"))
}

/// The primary key's columns in column order, or the first `rowid` alias no column
/// takes when the table declares none.
pub(super) fn primary_keys<C: Database>(conn: &mut C, table: &TableName) -> Result<Vec<String>> {
    let rows = column_rows(conn, &table.sql_name)?;
    let mut keys: Vec<String> = rows
        .iter()
        .filter(|r| r.pk)
        .map(|r| r.name.clone())
        .collect();
    if keys.is_empty() {
        if let Some(alias) = ROWID_ALIASES
            .iter()
            .find(|alias| !rows.iter().any(|r| r.name == **alias))
        {
            keys.push((*alias).to_owned());
        }
    }
    Ok(keys)
}

pub(super) fn columns<C: Database>(
    conn: &mut C,
    table: &TableName,
    config: &Config,
) -> Result<Vec<ColumnInfo>> {
    let mut columns: Vec<ColumnInfo> = column_rows(conn, &table.sql_name)?
        .into_iter()
        .map(|row| ColumnInfo {
            name: row.name,
            type_name: row.r#type,
            type_schema: None,
            nullable: !row.not_null,
            max_length: None,
            comment: None,
        })
        .collect();
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
    if let ColumnSorting::Name = config.column_sorting {
        columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(columns)
}

/// One foreign key per referencing column (a key of two columns is two keys here, as
/// diesel CLI reads them), of every table.
pub(super) fn foreign_keys<C: Database>(conn: &mut C) -> Result<Vec<ForeignKey>> {
    let mut keys = Vec::new();
    for child in table_names(conn)?.into_iter().map(TableName::new) {
        let rows: Vec<ForeignKeyRow> = conn
            .load_with(FOREIGN_KEYS, &[Bind::Text(&child.sql_name)])
            .map_err(query("the foreign keys"))?;
        for row in rows {
            let parent = TableName::new(row.parent);
            let referenced = match row.parent_column {
                Some(column) => vec![column],
                None => primary_keys(conn, &parent)?,
            };
            let rust = super::model::rust_name_for_sql_name(&row.child_column, Some(&child));
            keys.push(ForeignKey {
                child: child.clone(),
                parent,
                columns: vec![row.child_column],
                columns_rust: vec![rust],
                referenced,
            });
        }
    }
    Ok(keys)
}

/// Whether a column is the table's rowid: an `integer` primary key of its own in a
/// table with a rowid (SQLite 3.37 and later can tell).
fn is_row_id<C: Database>(
    conn: &mut C,
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
    let rows: Vec<TableListRow> = conn
        .load_with(WITHOUT_ROWID, &[Bind::Text(&table.sql_name)])
        .map_err(query("the table list"))?;
    Ok(rows
        .iter()
        .find(|row| row.name == table.sql_name)
        .is_some_and(|row| !row.wr))
}

/// diesel's type for a SQLite column, from its declared type by SQLite's affinity
/// rules as diesel CLI applies them; a declared type it cannot map is an error.
pub(super) fn column_type<C: Database>(
    conn: &mut C,
    info: &ColumnInfo,
    table: &TableName,
    primary_keys: &[String],
    foreign_keys: &HashMap<String, ForeignKey>,
    config: &Config,
) -> Result<ColumnType> {
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
        let bigint = config.sqlite_integer_primary_key_is_bigint.unwrap_or(false)
            && (is_row_id(conn, table, primary_keys, &info.name, t)?
                || references_row_id(conn, foreign_keys.get(&info.name))?);
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
                info.name, table.sql_name
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

fn references_row_id<C: Database>(conn: &mut C, key: Option<&ForeignKey>) -> Result<bool> {
    let Some(key) = key else {
        return Ok(false);
    };
    let parent_keys = primary_keys(conn, &key.parent)?;
    match parent_keys.as_slice() {
        [id] => is_row_id(conn, &key.parent, &parent_keys, id, "integer"),
        _ => Ok(false),
    }
}
