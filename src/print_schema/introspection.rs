//! What print-schema asks of each backend ([`Introspection`]) and the queries it runs
//! through a connection ([`Load`]).

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Nullable, Text};

use super::model::{ColumnInfo, ColumnType, ForeignKey, TableName};
use super::{Config, CustomColumn, SqlType};
use crate::connection::Bind;
use crate::{Database, Error, Result};

/// One run's connection and configuration, as the introspection reads through them.
pub(crate) struct Session<'a> {
    pub conn: &'a mut dyn Load,
    pub config: &'a Config,
    /// The schema table names are unqualified in: `public` on PostgreSQL, the current
    /// database on MySQL/MariaDB, none on SQLite.
    pub default_schema: String,
    /// What diesel CLI would say on stderr.
    pub warnings: Vec<String>,
}

/// A column whose type is being mapped, and what SQLite's rowid rule asks of its table.
pub(crate) struct ColumnOf<'a> {
    pub info: &'a ColumnInfo,
    pub table: &'a TableName,
    /// The primary key's columns, SQL names.
    pub primary_key: &'a [String],
    /// The table's single-column foreign keys by their column's Rust name (only where
    /// [`Introspection::types_need_foreign_keys`]).
    pub foreign_keys: &'a HashMap<String, ForeignKey>,
}

/// The common SQL types diesel provides on every backend, by their Rust names.
pub(super) const COMMON_TYPES: &[&str] = &[
    "Bool",
    "Integer",
    "SmallInt",
    "BigInt",
    "Binary",
    "Text",
    "Double",
    "Float",
    "Numeric",
    "Timestamp",
    "Date",
    "Time",
    "Float4",
    "Smallint",
    "Int2",
    "Int4",
    "Int8",
    "Bigint",
    "Float8",
    "Decimal",
    "VarChar",
    "Varchar",
    "Char",
    "Tinytext",
    "Mediumtext",
    "Longtext",
    "Tinyblob",
    "Blob",
    "Mediumblob",
    "Longblob",
    "Varbinary",
    "Bit",
];

/// Everything print-schema does differently per backend: its catalog queries, how a
/// column's declared type becomes diesel's, and the SQL types it defines. The default
/// methods are what PostgreSQL and MySQL share: `information_schema`.
pub(crate) trait Introspection: Sync {
    /// The schema table names are unqualified in.
    fn default_schema(&self, conn: &mut dyn Load) -> Result<String>;

    /// The tables of the configuration's schema (or the default one), in diesel's order.
    fn table_names(&self, session: &mut Session<'_>) -> Result<Vec<String>> {
        let schema = session.config.schema.as_deref();
        let mut names = session.conn.texts(
            &TABLE_NAMES.replace("{text}", session.conn.text_type()),
            &[
                Bind::Text(schema.unwrap_or(&session.default_schema)),
                Bind::Text("\\_\\_%"),
            ],
            "the tables",
        )?;
        names.sort_unstable();
        Ok(names)
    }

    /// The foreign keys between tables of the configuration's schema (or the default
    /// one), in no particular order.
    fn foreign_keys(&self, session: &mut Session<'_>) -> Result<Vec<ForeignKey>>;

    /// The primary key's columns in key order (none where the table has no key).
    fn primary_keys(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<String>> {
        let schema = table.schema.as_deref().unwrap_or(&session.default_schema);
        session.conn.texts(
            &PRIMARY_KEYS.replace("{text}", session.conn.text_type()),
            &[Bind::Text(&table.sql_name), Bind::Text(schema)],
            "the primary keys",
        )
    }

    /// The columns of a table, in the configuration's order, as the catalog has them.
    fn columns(&self, session: &mut Session<'_>, table: &TableName) -> Result<Vec<ColumnInfo>>;

    /// The table's comment, if it has one.
    fn comment(&self, session: &mut Session<'_>, table: &TableName) -> Result<Option<String>>;

    /// diesel's type for a column; warnings diesel prints about it are pushed to the
    /// session's.
    fn column_type(&self, session: &mut Session<'_>, column: &ColumnOf<'_>) -> Result<ColumnType>;

    /// The SQL types diesel provides on this backend beyond [`COMMON_TYPES`], by their
    /// Rust names.
    fn provided_types(&self) -> &'static [&'static str];

    /// Whether mapping a column's type asks for the table's foreign keys (they are
    /// read for nothing otherwise).
    fn types_need_foreign_keys(&self, _config: &Config) -> bool {
        false
    }

    /// The type to define for a column whose type diesel does not provide: the column's
    /// own, unless types are defined per column.
    fn custom_type(&self, _table: &TableName, _column: &str, ty: &ColumnType) -> ColumnType {
        ty.clone()
    }

    /// The definitions of the `sql_types` module, from the columns of a type to define,
    /// sorted by the types' Rust names.
    fn sql_types(&self, columns: &[CustomColumn<'_>]) -> Vec<SqlType>;
}

/// The base tables of a schema in `information_schema`, but diesel's own (`__…`);
/// `{text}` is the backend's text type (`information_schema`'s names have types of
/// their own on each server, which the driver reads as text only once cast).
const TABLE_NAMES: &str = "\
SELECT CAST(table_name AS {text}) AS value FROM information_schema.tables
 WHERE table_schema = ? AND table_name NOT LIKE ? AND table_type LIKE 'BASE TABLE'";

/// A table's primary key columns in `information_schema`, in key order; `{text}` as in
/// [`TABLE_NAMES`].
const PRIMARY_KEYS: &str = "\
SELECT CAST(column_name AS {text}) AS value FROM information_schema.key_column_usage
 WHERE constraint_name IN (SELECT constraint_name FROM information_schema.table_constraints
                           WHERE constraint_type = 'PRIMARY KEY')
   AND table_name = ? AND table_schema = ?
 ORDER BY ordinal_position";

/// The queries introspection runs, callable through `&mut dyn`: [`Database::load_with`]
/// is generic over its row, so print-schema's few row shapes get a method each, and
/// every backend's queries are written to return one of them.
pub(crate) trait Load {
    /// The type `CAST` turns a value into text with, on this connection's backend.
    fn text_type(&self) -> &'static str;

    /// The column `value` of every row, NULLs left out.
    fn texts(&mut self, sql: &str, binds: &[Bind<'_>], what: &str) -> Result<Vec<String>>;

    /// A table's columns.
    fn columns(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<ColumnRow>>;

    /// Foreign keys, or their columns.
    fn foreign_keys(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<ForeignKeyRow>>;
}

impl<C: Database> Load for C {
    fn text_type(&self) -> &'static str {
        self.backend().dialect().text_type()
    }

    fn texts(&mut self, sql: &str, binds: &[Bind<'_>], what: &str) -> Result<Vec<String>> {
        let rows: Vec<Value> = self.load_with(sql, binds).map_err(query(what))?;
        Ok(rows.into_iter().filter_map(|r| r.value).collect())
    }

    fn columns(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<ColumnRow>> {
        self.load_with(sql, binds).map_err(query("the columns"))
    }

    fn foreign_keys(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<ForeignKeyRow>> {
        self.load_with(sql, binds)
            .map_err(query("the foreign keys"))
    }
}

/// A row of one text column: a name, a comment, a version.
#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// A column as the catalog queries return it. Only PostgreSQL has type schemas and
/// domains; SQLite has no lengths or comments: those queries select NULL for them.
#[derive(diesel::QueryableByName)]
pub(crate) struct ColumnRow {
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
    /// `YES` or `NO`, as `information_schema` says it.
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    max_length: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

impl ColumnRow {
    /// The column, a domain matching one of `domains` (`pg_domains_as_custom_types`) as
    /// a type of its own.
    pub(super) fn into_info(self, domains: &[regex::Regex]) -> ColumnInfo {
        let (type_name, type_schema) = match self.domain_name {
            Some(domain) if domains.iter().any(|regex| regex.is_match(&domain)) => {
                (domain, self.domain_schema)
            }
            _ => (self.type_name, self.type_schema),
        };
        ColumnInfo {
            name: self.name,
            type_name,
            type_schema,
            nullable: self.nullable == "YES",
            max_length: self.max_length.and_then(|n| u64::try_from(n).ok()),
            comment: self.comment,
        }
    }
}

/// A foreign key as the catalog queries return it: one row per key on PostgreSQL (its
/// columns as JSON arrays), one per column of a key on MySQL (with the key's name) and
/// on SQLite (read table by table, so without the child table or any schema, and
/// without the parent column where the key names none).
#[derive(diesel::QueryableByName)]
pub(crate) struct ForeignKeyRow {
    #[diesel(sql_type = Nullable<Text>)]
    child_schema: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    child: Option<String>,
    #[diesel(sql_type = Text)]
    pub(super) child_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent_schema: Option<String>,
    #[diesel(sql_type = Text)]
    pub(super) parent: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) parent_column: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) constraint_name: Option<String>,
}

impl ForeignKeyRow {
    /// The child and parent tables, unqualified in the default schema.
    pub(super) fn tables(&self, default_schema: &str) -> (TableName, TableName) {
        let table = |name: &str, schema: &Option<String>| {
            let schema = schema.clone().unwrap_or_default();
            TableName::in_schema(name.to_owned(), schema, default_schema)
        };
        (
            table(
                self.child.as_deref().unwrap_or_default(),
                &self.child_schema,
            ),
            table(&self.parent, &self.parent_schema),
        )
    }
}

/// The error of a catalog query that print-schema could not run.
fn query(what: &str) -> impl FnOnce(diesel::result::Error) -> Error + '_ {
    move |source| Error::Query {
        context: format!("print-schema: cannot read {what}"),
        source,
    }
}
