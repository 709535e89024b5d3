//! PostgreSQL: `information_schema` and the catalogs, read as diesel CLI reads them.

use heck::ToUpperCamelCase;

use super::model::{escape_rust_string, ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{ColumnOf, CustomColumn, Introspection, Load, Session, SqlType};
use crate::connection::Bind;
use crate::Result;

/// diesel CLI's default schema on PostgreSQL, whatever the search path says.
const DEFAULT_SCHEMA: &str = "public";

/// The columns of a table; `{regclass}` is the table as a `regclass` expression and
/// `{order}` the column sorting.
const COLUMNS: &str = "\
SELECT CAST(column_name AS TEXT) AS name, CAST(udt_name AS TEXT) AS type_name,
       CAST(udt_schema AS TEXT) AS type_schema, CAST(domain_name AS TEXT) AS domain_name,
       CAST(domain_schema AS TEXT) AS domain_schema, CAST(is_nullable AS TEXT) AS nullable,
       CAST(character_maximum_length AS BIGINT) AS max_length,
       col_description({regclass}, ordinal_position) AS comment
  FROM information_schema.columns
 WHERE table_name = ? AND table_schema = ?
 ORDER BY {order}";

/// Foreign keys between tables of one schema, grouped by the two tables (as diesel CLI
/// groups them: two keys between the same tables become one of several columns).
const FOREIGN_KEYS: &str = "\
SELECT CAST(sch.nspname AS TEXT) AS child_schema, CAST(tbl.relname AS TEXT) AS child,
       CAST(array_to_json(ARRAY_AGG(col.attname ORDER BY u.attposition)) AS TEXT) AS child_column,
       CAST(f_sch.nspname AS TEXT) AS parent_schema, CAST(f_tbl.relname AS TEXT) AS parent,
       CAST(array_to_json(ARRAY_AGG(f_col.attname ORDER BY f_u.attposition)) AS TEXT) AS parent_column,
       CAST(NULL AS TEXT) AS constraint_name
  FROM pg_constraint c
  LEFT JOIN LATERAL UNNEST(c.conkey) WITH ORDINALITY AS u(attnum, attposition) ON TRUE
  LEFT JOIN LATERAL UNNEST(c.confkey) WITH ORDINALITY AS f_u(attnum, attposition)
         ON f_u.attposition = u.attposition
  JOIN pg_class tbl ON tbl.oid = c.conrelid
  JOIN pg_namespace sch ON sch.oid = tbl.relnamespace
  LEFT JOIN pg_attribute col ON (col.attrelid = tbl.oid AND col.attnum = u.attnum)
  LEFT JOIN pg_class f_tbl ON f_tbl.oid = c.confrelid
  LEFT JOIN pg_namespace f_sch ON f_sch.oid = f_tbl.relnamespace
  LEFT JOIN pg_attribute f_col ON (f_col.attrelid = f_tbl.oid AND f_col.attnum = f_u.attnum)
 WHERE sch.nspname = ? AND f_sch.nspname = ? AND c.contype = 'f'
 GROUP BY child_schema, child, parent_schema, parent
 ORDER BY child_schema, child";

/// The `regclass` expression naming a table, and the values it binds.
fn regclass(table: &TableName) -> (&'static str, Vec<Bind<'_>>) {
    match &table.schema {
        Some(schema) => (
            "CAST(quote_ident(?) || '.' || quote_ident(?) AS regclass)",
            vec![Bind::Text(schema), Bind::Text(&table.sql_name)],
        ),
        None => (
            "CAST(quote_ident(?) AS regclass)",
            vec![Bind::Text(&table.sql_name)],
        ),
    }
}

/// The column names of a JSON array as the foreign keys query aggregates them.
fn json_names(json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<Option<String>>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// PostgreSQL's introspection.
pub(crate) struct Postgres;

impl Introspection for Postgres {
    fn default_schema(&self, _conn: &mut dyn Load) -> Result<String> {
        Ok(DEFAULT_SCHEMA.to_owned())
    }

    fn foreign_keys(&self, session: &mut Session<'_>) -> Result<Vec<ForeignKey>> {
        let default_schema = &session.default_schema;
        let schema = session.config.schema.as_deref().unwrap_or(default_schema);
        let schema = Bind::Text(schema);
        let rows = session.conn.foreign_keys(FOREIGN_KEYS, &[schema, schema])?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (child, parent) = row.tables(default_schema);
                ForeignKey::new(
                    child,
                    parent,
                    json_names(&row.child_column),
                    json_names(row.parent_column.as_deref().unwrap_or_default()),
                )
            })
            .collect())
    }

    fn columns(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<ColumnInfo>> {
        let config = session.config;
        let (regclass, mut binds) = regclass(table);
        let sql = COLUMNS
            .replace("{regclass}", regclass)
            .replace("{order}", config.column_sorting.order_by());
        binds.push(Bind::Text(&table.sql_name));
        binds.push(Bind::Text(
            table.schema.as_deref().unwrap_or(&session.default_schema),
        ));
        let rows = session.conn.columns(&sql, &binds)?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_info(&config.pg_domains_as_custom_types))
            .collect())
    }

    fn comment(&self, session: &mut Session<'_>, table: &TableName) -> Result<Option<String>> {
        let (regclass, binds) = regclass(table);
        let sql = format!("SELECT obj_description({regclass}, 'pg_class') AS value");
        let comments = session.conn.texts(&sql, &binds, "the table's comment")?;
        Ok(comments.into_iter().next())
    }

    /// The type's name in upper camel case, an array for a name starting with `_`, its
    /// schema where it is not `public`.
    fn column_type(&self, session: &mut Session<'_>, column: &ColumnOf<'_>) -> Result<ColumnType> {
        let info = column.info;
        let is_array = info.type_name.starts_with('_');
        let name = if is_array {
            &info.type_name[1..]
        } else {
            info.type_name.as_str()
        };
        if is_array && matches!(name.to_lowercase().as_str(), "varchar" | "citext") {
            session.warnings.push(format!(
                "The column `{}` is of type `{name}[]`. This will cause problems when using \
                 Diesel. You should consider changing the column type to `text[]`.",
                info.name
            ));
        }
        Ok(ColumnType {
            schema: info
                .type_schema
                .clone()
                .filter(|schema| schema != DEFAULT_SCHEMA),
            rust_name: name.to_upper_camel_case(),
            sql_name: name.to_owned(),
            is_array,
            is_nullable: info.nullable,
            is_unsigned: false,
            max_length: info.max_length,
        })
    }

    fn provided_types(&self) -> &'static [&'static str] {
        PROVIDED_TYPES
    }

    /// Each type once (the first of a Rust name), named with its schema.
    fn sql_types(&self, columns: &[CustomColumn<'_>]) -> Vec<SqlType> {
        let mut types: Vec<&ColumnType> = columns.iter().map(|c| c.ty).collect();
        types.dedup_by(|a, b| a.rust_name == b.rust_name);
        types
            .into_iter()
            .map(|ty| {
                let sql_name = ty.sql_name.replace('\n', "\\n");
                let name = escape_rust_string(&ty.sql_name);
                let (doc, attribute) = match &ty.schema {
                    Some(schema) => (
                        format!(
                            "/// The `{}.{sql_name}` SQL type\n",
                            schema.replace('\n', "\\n")
                        ),
                        format!(
                            "#[diesel(postgres_type(name = {name}, schema = {}))]",
                            escape_rust_string(schema)
                        ),
                    ),
                    None => (
                        format!("/// The `{sql_name}` SQL type\n"),
                        format!("#[diesel(postgres_type(name = {name}))]"),
                    ),
                };
                SqlType {
                    rust_name: ty.rust_name.clone(),
                    doc,
                    attribute,
                }
            })
            .collect()
    }
}

/// The SQL types diesel provides on PostgreSQL, by their Rust names.
const PROVIDED_TYPES: &[&str] = &[
    "Cidr",
    "Citext",
    "Inet",
    "Jsonb",
    "MacAddr",
    "MacAddr8",
    "Money",
    "Oid",
    "Range",
    "Timestamptz",
    "Uuid",
    "Json",
    "PgLsn",
    "Record",
    "Interval",
    "Int4range",
    "Int8range",
    "Daterange",
    "Numrange",
    "Tsrange",
    "Tstzrange",
    "Int4multirange",
    "Int8multirange",
    "Datemultirange",
    "Nummultirange",
    "Tsmultirange",
    "Tstzmultirange",
    "SmallSerial",
    "BigSerial",
    "Serial",
    "Bytea",
    "Bpchar",
    "Macaddr",
    "Macaddr8",
];
