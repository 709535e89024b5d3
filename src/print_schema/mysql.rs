//! MySQL/MariaDB: `information_schema`, read as diesel CLI reads it.

use std::collections::BTreeMap;

use heck::ToUpperCamelCase;

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{ColumnOf, CustomColumn, Introspection, Load, Session, SqlType};
use crate::connection::Bind;
use crate::{Error, Result};

const DEFAULT_SCHEMA: &str = "SELECT CAST(DATABASE() AS CHAR) AS value";

/// `{order}` is the column sorting. Only PostgreSQL has type schemas and domains.
const COLUMNS: &str = "\
SELECT CAST(column_name AS CHAR) AS name, CAST(column_type AS CHAR) AS type_name,
       CAST(NULL AS CHAR) AS type_schema, CAST(NULL AS CHAR) AS domain_name,
       CAST(NULL AS CHAR) AS domain_schema, CAST(is_nullable AS CHAR) AS nullable,
       CAST(character_maximum_length AS SIGNED) AS max_length,
       CAST(NULLIF(column_comment, '') AS CHAR) AS comment
  FROM information_schema.columns
 WHERE table_name = ? AND table_schema = ?
 ORDER BY {order}";

const TABLE_COMMENT: &str = "\
SELECT CAST(table_comment AS CHAR) AS value FROM information_schema.tables
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

/// The SQL types diesel provides on MySQL beyond the common ones, by their Rust names.
const PROVIDED_TYPES: &[&str] = &["TinyInt", "Tinyint", "Datetime", "Json"];

/// MySQL's and MariaDB's introspection.
pub(crate) struct Mysql;

impl Introspection for Mysql {
    /// The database the connection uses.
    fn default_schema(&self, conn: &mut dyn Load) -> Result<String> {
        let names = conn.texts(DEFAULT_SCHEMA, &[], "the current database")?;
        Ok(names.into_iter().next().unwrap_or_default())
    }

    /// Foreign keys by constraint, each with its columns.
    fn foreign_keys(&self, session: &mut Session<'_>) -> Result<Vec<ForeignKey>> {
        let default_schema = &session.default_schema;
        let schema = session.config.schema.as_deref().unwrap_or(default_schema);
        let rows = session
            .conn
            .foreign_keys(FOREIGN_KEYS, &[Bind::Text(schema)])?;
        let mut by_constraint: BTreeMap<_, (TableName, TableName, Vec<_>, Vec<_>)> =
            BTreeMap::new();
        for row in rows {
            let (_, _, columns, referenced) = by_constraint
                .entry(row.constraint_name.clone())
                .or_insert_with(|| {
                    let (child, parent) = row.tables(default_schema);
                    (child, parent, Vec::new(), Vec::new())
                });
            columns.push(row.child_column);
            referenced.extend(row.parent_column);
        }
        Ok(by_constraint
            .into_values()
            .map(|(child, parent, columns, referenced)| {
                ForeignKey::new(child, parent, columns, referenced)
            })
            .collect())
    }

    fn columns(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<ColumnInfo>> {
        let schema = table.schema.as_deref().unwrap_or(&session.default_schema);
        let order = session.config.column_sorting.order_by();
        let rows = session.conn.columns(
            &COLUMNS.replace("{order}", order),
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut info = row.into_info(&[]);
                // MySQL reports a length for every text column; only one it was declared
                // with (`varchar(255)`) counts.
                if !info.type_name.contains('(') {
                    info.max_length = None;
                }
                info
            })
            .collect())
    }

    fn comment(&self, session: &mut Session<'_>, table: &TableName) -> Result<Option<String>> {
        let schema = table.schema.as_deref().unwrap_or(&session.default_schema);
        let comments = session.conn.texts(
            TABLE_COMMENT,
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
            "the table's comment",
        )?;
        Ok(comments.into_iter().next().filter(|c| !c.is_empty()))
    }

    /// The column type up to its `(`, `tinyint(1)` a `bool`, every `int…` an `integer`,
    /// `unsigned` kept apart.
    fn column_type(&self, _session: &mut Session<'_>, column: &ColumnOf<'_>) -> Result<ColumnType> {
        let info = column.info;
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
                    info.name, column.table.sql_name
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

    fn provided_types(&self) -> &'static [&'static str] {
        PROVIDED_TYPES
    }

    /// A type of the column's own, named after its table and column.
    fn custom_type(&self, table: &TableName, column: &str, ty: &ColumnType) -> ColumnType {
        ColumnType {
            rust_name: format!("{} {column} {}", table.rust_name, ty.rust_name)
                .to_upper_camel_case(),
            ..ty.clone()
        }
    }

    /// One type per column, named in SQL with a capital first letter.
    fn sql_types(&self, columns: &[CustomColumn<'_>]) -> Vec<SqlType> {
        columns
            .iter()
            .map(|c| {
                let table = &c.table.rust_name;
                let column = c.column;
                let mut chars = c.ty.sql_name.chars();
                let mysql_name: String = match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                };
                SqlType {
                    rust_name: c.ty.rust_name.clone(),
                    doc: format!(
                        "/// The `{}` SQL type for the\n\
                         /// [`{table}::{column}`](super::{table}::{column})) column\n",
                        c.ty.sql_name
                    ),
                    attribute: format!("#[diesel(mysql_type(name = \"{mysql_name}\"))]"),
                }
            })
            .collect()
    }
}
