//! PostgreSQL: `information_schema` and the catalogs, read as diesel CLI reads them.

use diesel::sql_types::{BigInt, Nullable, Text};
use heck::ToUpperCamelCase;

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{query, ColumnSorting, Comment, Config};
use crate::connection::Bind;
use crate::{Database, Result};

/// diesel CLI's default schema on PostgreSQL, whatever the search path says.
pub(super) const DEFAULT_SCHEMA: &str = "public";

const TABLE_NAMES: &str = "\
SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables
 WHERE table_schema = ? AND table_name NOT LIKE ? AND table_type LIKE 'BASE TABLE'";

const PRIMARY_KEYS: &str = "\
SELECT CAST(column_name AS TEXT) AS name FROM information_schema.key_column_usage
 WHERE constraint_name IN (SELECT constraint_name FROM information_schema.table_constraints
                           WHERE constraint_type = 'PRIMARY KEY')
   AND table_name = ? AND table_schema = ?
 ORDER BY ordinal_position";

/// The columns of a table; `{regclass}` is the table as a `regclass` expression and
/// `{order}` the column sorting. `column_name` in `ORDER BY` is the view's column (a
/// `name`, sorted byte by byte), not the text the row carries.
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
SELECT CAST(sch.nspname AS TEXT) AS self_schema, CAST(tbl.relname AS TEXT) AS self_table,
       CAST(array_to_json(ARRAY_AGG(col.attname ORDER BY u.attposition)) AS TEXT) AS self_columns,
       CAST(f_sch.nspname AS TEXT) AS foreign_schema, CAST(f_tbl.relname AS TEXT) AS foreign_table,
       CAST(array_to_json(ARRAY_AGG(f_col.attname ORDER BY f_u.attposition)) AS TEXT) AS foreign_columns
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
 GROUP BY self_schema, self_table, foreign_schema, foreign_table
 ORDER BY self_schema, self_table";

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    type_schema: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    domain_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    domain_schema: Option<String>,
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
    self_schema: String,
    #[diesel(sql_type = Text)]
    self_table: String,
    #[diesel(sql_type = Text)]
    self_columns: String,
    #[diesel(sql_type = Text)]
    foreign_schema: String,
    #[diesel(sql_type = Text)]
    foreign_table: String,
    #[diesel(sql_type = Text)]
    foreign_columns: String,
}

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

pub(super) fn table_names<C: Database>(conn: &mut C, schema: &str) -> Result<Vec<String>> {
    let rows: Vec<Name> = conn
        .load_with(TABLE_NAMES, &[Bind::Text(schema), Bind::Text("\\_\\_%")])
        .map_err(query("the tables"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

pub(super) fn primary_keys<C: Database>(conn: &mut C, table: &TableName) -> Result<Vec<String>> {
    let schema = table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
    let rows: Vec<Name> = conn
        .load_with(
            PRIMARY_KEYS,
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
        )
        .map_err(query("the primary keys"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

pub(super) fn columns<C: Database>(
    conn: &mut C,
    table: &TableName,
    config: &Config,
) -> Result<Vec<ColumnInfo>> {
    let (regclass, mut binds) = regclass(table);
    let order = match config.column_sorting {
        ColumnSorting::OrdinalPosition => "ordinal_position",
        ColumnSorting::Name => "column_name",
    };
    let sql = COLUMNS
        .replace("{regclass}", regclass)
        .replace("{order}", order);
    let schema = table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
    binds.push(Bind::Text(&table.sql_name));
    binds.push(Bind::Text(schema));
    let rows: Vec<ColumnRow> = conn.load_with(&sql, &binds).map_err(query("the columns"))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            // A domain matching pg_domains_as_custom_types is a type of its own.
            let (type_name, type_schema) = match row.domain_name {
                Some(domain)
                    if config
                        .pg_domains_as_custom_types
                        .iter()
                        .any(|regex| regex.is_match(&domain)) =>
                {
                    (domain, row.domain_schema)
                }
                _ => (row.type_name, row.type_schema),
            };
            ColumnInfo {
                name: row.name,
                type_name,
                type_schema,
                nullable: row.nullable == "YES",
                max_length: row.max_length.and_then(|n| u64::try_from(n).ok()),
                comment: row.comment,
            }
        })
        .collect())
}

pub(super) fn table_comment<C: Database>(
    conn: &mut C,
    table: &TableName,
) -> Result<Option<String>> {
    let (regclass, binds) = regclass(table);
    let sql = format!("SELECT obj_description({regclass}, 'pg_class') AS comment");
    let rows: Vec<Comment> = conn
        .load_with(&sql, &binds)
        .map_err(query("the table's comment"))?;
    Ok(rows.into_iter().next().and_then(|r| r.comment))
}

pub(super) fn foreign_keys<C: Database>(conn: &mut C, schema: &str) -> Result<Vec<ForeignKey>> {
    let rows: Vec<ForeignKeyRow> = conn
        .load_with(FOREIGN_KEYS, &[Bind::Text(schema), Bind::Text(schema)])
        .map_err(query("the foreign keys"))?;
    let names = |json: &str| -> Vec<String> {
        serde_json::from_str::<Vec<Option<String>>>(json)
            .unwrap_or_default()
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let child = TableName::in_schema(row.self_table, row.self_schema, DEFAULT_SCHEMA);
            let parent =
                TableName::in_schema(row.foreign_table, row.foreign_schema, DEFAULT_SCHEMA);
            let columns = names(&row.self_columns);
            let columns_rust = columns
                .iter()
                .map(|c| super::model::rust_name_for_sql_name(c, Some(&child)))
                .collect();
            ForeignKey {
                child,
                parent,
                columns,
                columns_rust,
                referenced: names(&row.foreign_columns),
            }
        })
        .collect())
}

/// diesel's type for a PostgreSQL column: the type's name in upper camel case, an array
/// for a name starting with `_`, its schema where it is not `public`.
pub(super) fn column_type(info: &ColumnInfo, warnings: &mut Vec<String>) -> ColumnType {
    let is_array = info.type_name.starts_with('_');
    let name = if is_array {
        &info.type_name[1..]
    } else {
        info.type_name.as_str()
    };
    if is_array && matches!(name.to_lowercase().as_str(), "varchar" | "citext") {
        warnings.push(format!(
            "The column `{}` is of type `{name}[]`. This will cause problems when using \
             Diesel. You should consider changing the column type to `text[]`.",
            info.name
        ));
    }
    ColumnType {
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
    }
}

/// The SQL types diesel provides on PostgreSQL, by their Rust names.
pub(super) const PROVIDED_TYPES: &[&str] = &[
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
