//! MySQL/MariaDB: `information_schema`, read as diesel CLI reads it.

use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Nullable, Text};
use heck::ToUpperCamelCase;

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{query, ColumnSorting, Comment, Config};
use crate::connection::Bind;
use crate::{Database, Error, Result};

const DEFAULT_SCHEMA: &str = "SELECT CAST(DATABASE() AS CHAR) AS name";

const TABLE_NAMES: &str = "\
SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables
 WHERE table_schema = ? AND table_name NOT LIKE ? AND table_type LIKE 'BASE TABLE'";

const PRIMARY_KEYS: &str = "\
SELECT CAST(column_name AS CHAR) AS name FROM information_schema.key_column_usage
 WHERE constraint_name IN (SELECT constraint_name FROM information_schema.table_constraints
                           WHERE constraint_type = 'PRIMARY KEY')
   AND table_name = ? AND table_schema = ?
 ORDER BY ordinal_position";

/// `{order}` is the column sorting; `column_name` there is the view's own column.
const COLUMNS: &str = "\
SELECT CAST(column_name AS CHAR) AS name, CAST(column_type AS CHAR) AS type_name,
       CAST(is_nullable AS CHAR) AS nullable,
       CAST(character_maximum_length AS SIGNED) AS max_length,
       CAST(NULLIF(column_comment, '') AS CHAR) AS comment
  FROM information_schema.columns
 WHERE table_name = ? AND table_schema = ?
 ORDER BY {order}";

const TABLE_COMMENT: &str = "\
SELECT CAST(table_comment AS CHAR) AS comment FROM information_schema.tables
 WHERE table_name = ? AND table_schema = ?";

const FOREIGN_KEYS: &str = "\
SELECT CAST(kcu.table_name AS CHAR) AS child, CAST(kcu.table_schema AS CHAR) AS child_schema,
       CAST(kcu.referenced_table_name AS CHAR) AS parent,
       CAST(kcu.referenced_table_schema AS CHAR) AS parent_schema,
       CAST(kcu.column_name AS CHAR) AS child_column,
       CAST(kcu.referenced_column_name AS CHAR) AS parent_column,
       CAST(kcu.constraint_name AS CHAR) AS constraint_name
  FROM information_schema.table_constraints tc
  JOIN information_schema.key_column_usage kcu
    ON tc.constraint_schema = kcu.constraint_schema AND tc.constraint_name = kcu.constraint_name
 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = ?
   AND kcu.referenced_column_name IS NOT NULL
 ORDER BY kcu.ordinal_position";

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    max_length: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    child_schema: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    parent_schema: String,
    #[diesel(sql_type = Text)]
    child_column: String,
    #[diesel(sql_type = Text)]
    parent_column: String,
    #[diesel(sql_type = Text)]
    constraint_name: String,
}

/// The database the connection uses: diesel CLI's default schema on MySQL.
pub(super) fn default_schema<C: Database>(conn: &mut C) -> Result<String> {
    let rows: Vec<Name> = conn
        .load_with(DEFAULT_SCHEMA, &[])
        .map_err(query("the current database"))?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.name)
        .unwrap_or_default())
}

pub(super) fn table_names<C: Database>(conn: &mut C, schema: &str) -> Result<Vec<String>> {
    let rows: Vec<Name> = conn
        .load_with(TABLE_NAMES, &[Bind::Text(schema), Bind::Text("\\_\\_%")])
        .map_err(query("the tables"))?;
    Ok(rows.into_iter().filter_map(|r| r.name).collect())
}

pub(super) fn primary_keys<C: Database>(
    conn: &mut C,
    table: &TableName,
    default_schema: &str,
) -> Result<Vec<String>> {
    let schema = table.schema.as_deref().unwrap_or(default_schema);
    let rows: Vec<Name> = conn
        .load_with(
            PRIMARY_KEYS,
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
        )
        .map_err(query("the primary keys"))?;
    Ok(rows.into_iter().filter_map(|r| r.name).collect())
}

pub(super) fn columns<C: Database>(
    conn: &mut C,
    table: &TableName,
    config: &Config,
    default_schema: &str,
) -> Result<Vec<ColumnInfo>> {
    let order = match config.column_sorting {
        ColumnSorting::OrdinalPosition => "ordinal_position",
        ColumnSorting::Name => "column_name",
    };
    let schema = table.schema.as_deref().unwrap_or(default_schema);
    let rows: Vec<ColumnRow> = conn
        .load_with(
            &COLUMNS.replace("{order}", order),
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
        )
        .map_err(query("the columns"))?;
    Ok(rows
        .into_iter()
        .map(|row| ColumnInfo {
            // MySQL reports a length for every text column; only one it was declared
            // with (`varchar(255)`) counts.
            max_length: row
                .max_length
                .filter(|_| row.type_name.contains('('))
                .and_then(|n| u64::try_from(n).ok()),
            name: row.name,
            type_name: row.type_name,
            type_schema: None,
            nullable: row.nullable == "YES",
            comment: row.comment,
        })
        .collect())
}

pub(super) fn table_comment<C: Database>(
    conn: &mut C,
    table: &TableName,
    default_schema: &str,
) -> Result<Option<String>> {
    let schema = table.schema.as_deref().unwrap_or(default_schema);
    let rows: Vec<Comment> = conn
        .load_with(
            TABLE_COMMENT,
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
        )
        .map_err(query("the table's comment"))?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.comment)
        .filter(|c| !c.is_empty()))
}

/// Foreign keys by constraint, each with its columns.
pub(super) fn foreign_keys<C: Database>(
    conn: &mut C,
    schema: &str,
    default_schema: &str,
) -> Result<Vec<ForeignKey>> {
    let rows: Vec<ForeignKeyRow> = conn
        .load_with(FOREIGN_KEYS, &[Bind::Text(schema)])
        .map_err(query("the foreign keys"))?;
    let mut by_constraint: BTreeMap<String, (TableName, TableName, Vec<String>, Vec<String>)> =
        BTreeMap::new();
    for row in rows {
        let entry = by_constraint.entry(row.constraint_name).or_insert_with(|| {
            (
                TableName::in_schema(row.child, row.child_schema, default_schema),
                TableName::in_schema(row.parent, row.parent_schema, default_schema),
                Vec::new(),
                Vec::new(),
            )
        });
        entry.2.push(row.child_column);
        entry.3.push(row.parent_column);
    }
    Ok(by_constraint
        .into_values()
        .map(|(child, parent, columns, referenced)| {
            let columns_rust = columns
                .iter()
                .map(|c| super::model::rust_name_for_sql_name(c, Some(&child)))
                .collect();
            ForeignKey {
                child,
                parent,
                columns,
                columns_rust,
                referenced,
            }
        })
        .collect())
}

/// diesel's type for a MySQL column: the column type up to its `(`, `tinyint(1)` a
/// `bool`, every `int…` an `integer`, `unsigned` kept apart.
pub(super) fn column_type(info: &ColumnInfo, table: &TableName) -> Result<ColumnType> {
    let full = info.type_name.as_str();
    let unsigned = |text: &str| text.to_lowercase().contains("unsigned");
    let base = if full == "tinyint(1)" {
        "bool"
    } else if full.starts_with("int") {
        "integer"
    } else if let Some(at) = full.find('(') {
        &full[..at]
    } else {
        full
    };
    let name = if unsigned(base) {
        base.to_lowercase()
            .replace("unsigned", "")
            .trim()
            .to_owned()
    } else if base.contains(' ') {
        return Err(Error::PrintSchema {
            reason: format!(
                "Unsupported type: `{base}` (column `{}` of table `{}`)",
                info.name, table.sql_name
            ),
        });
    } else {
        base.to_owned()
    };
    let name = name.trim();
    Ok(ColumnType {
        schema: None,
        rust_name: name.to_upper_camel_case(),
        sql_name: name.to_owned(),
        is_array: false,
        is_nullable: info.nullable,
        is_unsigned: unsigned(full),
        max_length: info.max_length,
    })
}

/// The SQL types diesel provides on MySQL beyond the common ones, by their Rust names.
pub(super) const PROVIDED_TYPES: &[&str] = &["TinyInt", "Tinyint", "Datetime", "Json"];
