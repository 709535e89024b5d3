//! What is in a database: one normalized model of its schema for every backend.
//!
//! [`Schema::introspect`] reads tables, columns, indexes, views, triggers, constraints,
//! types and functions in one query (one per backend, the dialect's, in
//! `dialect/{sqlite,postgres,mysql}/catalog.rs`, side by side), and with them every
//! other property the server's catalog holds, as the server's own text
//! ([`Schema::definitions`]: enum labels, constraint, index, routine and trigger
//! definitions, sequences, comments, grants, charsets and collations, other schemas), so
//! that two schemas compare equal only when they are. Names are kept as the backend
//! compares them (see
//! [`Schema::key`]), and column types in one spelling for all backends (see
//! [`normalize_type`]), so that guards can ask "does `usuario.telefono` exist" and
//! compare what exists with what a statement would create.
//!
//! The ledger tables are not part of the schema.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{BigInt, Nullable, Text};

// The ledger's tables are no part of a schema (`reader` uses it too).
use crate::ledger::is_ledger;
use crate::{Backend, Database, Error, Result};

mod diff;
mod reader;
pub(crate) mod scope;

pub use crate::dialect::Kind;
pub use crate::outcome::{Change, Grouped, Subject};
pub use diff::{diff, diff_rows};
pub(crate) use reader::{count_rows, Catalog, Reader};

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Column {
    /// Its name, as the backend stores it.
    pub name: String,
    /// Its type, normalized (see [`normalize_type`]).
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default, as the backend reports the expression.
    pub default: Option<String>,
}

/// A table: its columns in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Table {
    /// Its name, as the backend stores it.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// The columns of its primary key, in key order.
    pub primary_key: Vec<String>,
}

impl Table {
    /// The column with this key (see [`Schema::key`]).
    pub fn column(&self, key: &str, backend: Backend) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| Schema::key(backend, Kind::Column, &c.name) == key)
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Index {
    /// Its name.
    pub name: String,
    /// The key of the table it indexes.
    pub table: String,
    /// Its columns (or expressions), in order.
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// False for a PostgreSQL index left INVALID by a failed `CREATE INDEX
    /// CONCURRENTLY`: it exists, but neither serves queries nor enforces uniqueness.
    pub valid: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub struct ForeignKey {
    /// The key of the table it constrains.
    pub table: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The key of the table it references.
    pub references: String,
    /// The referenced columns, in order.
    pub referenced: Vec<String>,
    /// Its actions and matching (`ON UPDATE …`, `ON DELETE …`, `MATCH …`,
    /// deferrability) where the backend gives them apart from a named definition
    /// (SQLite); empty where a [`Definition`] of the constraint holds them.
    pub actions: String,
}

/// A property of the schema the structured model does not hold, as the server's
/// canonical text: an enum's labels in order, a constraint's or an index's whole
/// definition, a routine's body, a sequence's options, a comment, the grants on an
/// object, a charset or a collation, an object in another schema. Two schemas are
/// equal only when their definitions are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Definition {
    /// The table it belongs to, if it belongs to one (for reading a diff by table).
    pub table: Option<String>,
    /// The definition: the server's text, its parts joined with `, `.
    pub text: String,
    /// Whether the object's presence is compared by the structured model already
    /// (an index, a constraint of the current schema): only its text is compared here.
    pub named: bool,
    /// Whether it is the whole definition of a table whose parts the structured model
    /// compares too (SQLite's `CREATE TABLE`): reported only when nothing else about
    /// the table differs, so that one change is not listed twice.
    pub whole: bool,
}

/// A database's schema, keyed by name as the backend compares names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schema {
    backend: Backend,
    /// The schema (PostgreSQL), database (MySQL) or `main` (SQLite) it describes.
    pub namespace: Option<String>,
    /// Tables by key.
    pub tables: BTreeMap<String, Table>,
    /// Views by key, with their definition as the backend reports it.
    pub views: BTreeMap<String, String>,
    /// Indexes by (table key, index key).
    pub indexes: BTreeMap<(String, String), Index>,
    /// Constraints by (table key, constraint key), with their kind.
    pub constraints: BTreeMap<(String, String), String>,
    /// Triggers by key, with their definition as the backend reports it.
    pub triggers: BTreeMap<String, String>,
    /// Foreign keys, by what they link (table, columns, referenced table and columns):
    /// their names are the backends' inventions as often as the author's.
    pub foreign_keys: BTreeSet<ForeignKey>,
    /// User-defined types by key (PostgreSQL).
    pub types: BTreeSet<String>,
    /// Functions and procedures by key.
    pub functions: BTreeSet<String>,
    /// Every other property, by what it describes (`type mood`, `index t.ix`,
    /// `comment on table t`, `grants on table t`): see [`Definition`].
    pub definitions: BTreeMap<String, Definition>,
}

/// Every row of the whole catalog: the backend's introspection query, and where the
/// database has sequences whose options only they can tell (MariaDB's), those too.
pub(crate) fn introspection_rows<C: Database>(conn: &mut C) -> Result<Vec<CatalogRow>> {
    let dialect = conn.backend().dialect();
    let mut rows: Vec<CatalogRow> = conn
        .load_with(dialect.introspect_sql(), &[])
        .map_err(Error::query("cannot read the database's schema"))?;
    let sequences: Vec<&str> = rows
        .iter()
        .filter(|row| row.kind == "sequence")
        .map(|row| row.name.as_str())
        .collect();
    if let Some(sql) = dialect.sequence_options_sql(&sequences) {
        let options: Vec<CatalogRow> = conn.load_with(&sql, &[]).map_err(Error::query(
            "cannot read the options of the database's sequences",
        ))?;
        rows.extend(options);
    }
    Ok(rows)
}

/// One row of a backend's introspection query: every part of the schema comes back in
/// this one shape, so one round trip reads it all.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub(crate) struct CatalogRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    tbl: Option<String>,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    flag: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
    #[diesel(sql_type = BigInt)]
    pos: i64,
}

/// Puts catalog rows in one order, whatever order the server returned them in: the
/// detail last, so that parts of a definition with the same position (grants) are
/// ordered too.
fn sort_rows(rows: &mut [CatalogRow]) {
    rows.sort_by(|a, b| {
        (&a.kind, &a.tbl, &a.name, a.pos, &a.detail)
            .cmp(&(&b.kind, &b.tbl, &b.name, b.pos, &b.detail))
    });
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Schema {
    /// An empty schema for a backend.
    pub fn empty(backend: Backend) -> Schema {
        Schema {
            backend,
            namespace: None,
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            indexes: BTreeMap::new(),
            constraints: BTreeMap::new(),
            triggers: BTreeMap::new(),
            foreign_keys: BTreeSet::new(),
            types: BTreeSet::new(),
            functions: BTreeSet::new(),
            definitions: BTreeMap::new(),
        }
    }

    /// The backend whose rules the names follow.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Reads the schema of the database (PostgreSQL: its current schema) in one query.
    pub fn introspect<C: Database>(conn: &mut C) -> Result<Schema> {
        let rows = introspection_rows(conn)?;
        Ok(Schema::from_rows(conn.backend(), rows))
    }

    fn from_rows(backend: Backend, mut rows: Vec<CatalogRow>) -> Schema {
        sort_rows(&mut rows);
        let mut schema = Schema::empty(backend);
        let key = |kind, name: &str| Schema::key(backend, kind, name);
        let mut foreign_keys: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
        for row in rows {
            let table = row.tbl.as_deref().unwrap_or_default();
            if is_ledger(&row.name) || is_ledger(table) {
                continue;
            }
            let table_entry = |schema: &mut Schema, name: &str| {
                schema
                    .tables
                    .entry(key(Kind::Table, name))
                    .or_insert_with(|| Table {
                        name: name.to_owned(),
                        ..Table::default()
                    })
                    .columns
                    .len()
            };
            match row.kind.as_str() {
                "namespace" => schema.namespace = Some(row.name),
                "table" => {
                    table_entry(&mut schema, &row.name);
                }
                "column" => {
                    table_entry(&mut schema, table);
                    if let Some(entry) = schema.tables.get_mut(&key(Kind::Table, table)) {
                        entry.columns.push(Column {
                            data_type: normalize_type(row.detail.as_deref().unwrap_or_default()),
                            nullable: row.flag.as_deref() != Some("0"),
                            // MariaDB reports "no default" on a nullable column as `NULL`.
                            default: row.extra.filter(|d| !d.eq_ignore_ascii_case("null")),
                            name: row.name,
                        });
                    }
                }
                "primary_key" => {
                    table_entry(&mut schema, table);
                    if let Some(entry) = schema.tables.get_mut(&key(Kind::Table, table)) {
                        entry.primary_key.push(key(Kind::Column, &row.name));
                    }
                }
                "foreign_key" => {
                    let fk = foreign_keys
                        .entry((table.to_owned(), row.name.clone()))
                        .or_insert_with(|| ForeignKey {
                            table: key(Kind::Table, table),
                            columns: Vec::new(),
                            references: String::new(),
                            referenced: Vec::new(),
                            actions: row.flag.clone().unwrap_or_default(),
                        });
                    fk.columns
                        .push(key(Kind::Column, row.detail.as_deref().unwrap_or_default()));
                    let target = row.extra.unwrap_or_default();
                    let (references, column) = target.rsplit_once('.').unwrap_or((&target, ""));
                    fk.references = key(Kind::Table, references);
                    fk.referenced.push(key(Kind::Column, column));
                }
                "index" => {
                    let index = schema
                        .indexes
                        .entry((key(Kind::Table, table), key(Kind::Index, &row.name)))
                        .or_insert_with(|| Index {
                            name: row.name.clone(),
                            table: key(Kind::Table, table),
                            columns: Vec::new(),
                            unique: row.flag.as_deref() == Some("1"),
                            valid: row.extra.as_deref() != Some("invalid"),
                        });
                    if let Some(column) = row.detail {
                        index.columns.push(key(Kind::Column, &column));
                    }
                }
                "view" => {
                    schema
                        .views
                        .insert(key(Kind::Table, &row.name), row.detail.unwrap_or_default());
                }
                "trigger" => {
                    // PostgreSQL's trigger names belong to their table; the others' to
                    // the schema.
                    let name = if backend.dialect().triggers_per_table() {
                        format!(
                            "{}.{}",
                            key(Kind::Table, table),
                            key(Kind::Trigger, &row.name)
                        )
                    } else {
                        key(Kind::Trigger, &row.name)
                    };
                    schema.triggers.insert(name, row.detail.unwrap_or_default());
                }
                "constraint" => {
                    schema.constraints.insert(
                        (key(Kind::Table, table), key(Kind::Constraint, &row.name)),
                        row.detail.unwrap_or_default(),
                    );
                }
                "type" => {
                    schema.types.insert(key(Kind::Routine, &row.name));
                }
                "function" => {
                    // MySQL keeps procedures apart from functions: both may be named `f`.
                    let name = match row.detail.as_deref() {
                        Some("PROCEDURE") if backend.dialect().procedures_apart() => {
                            format!("procedure:{}", key(Kind::Routine, &row.name))
                        }
                        _ => key(Kind::Routine, &row.name),
                    };
                    schema.functions.insert(name);
                }
                "definition" => {
                    let definition =
                        schema
                            .definitions
                            .entry(row.name)
                            .or_insert_with(|| Definition {
                                table: row.tbl.clone(),
                                text: String::new(),
                                named: row.flag.as_deref() == Some("named"),
                                whole: row.flag.as_deref() == Some("whole"),
                            });
                    if let Some(part) = row.detail {
                        if !definition.text.is_empty() {
                            definition.text.push_str(", ");
                        }
                        definition.text.push_str(&part);
                    }
                }
                _ => {}
            }
        }
        schema.foreign_keys = foreign_keys.into_values().collect();
        if let (true, Some(namespace)) =
            (backend.dialect().qualified_definitions(), &schema.namespace)
        {
            // MySQL writes the database's name into every name a definition uses; the
            // same view in another database is the same view.
            let qualifier = format!("{}.", backend.quote(namespace));
            for definition in schema
                .views
                .values_mut()
                .chain(schema.triggers.values_mut())
                .chain(schema.definitions.values_mut().map(|d| &mut d.text))
            {
                *definition = definition.replace(&qualifier, "");
            }
        }
        schema
    }

    /// A name as the backend compares it: PostgreSQL keeps stored names exactly (a
    /// statement's unquoted names are folded to lower case before they get here);
    /// SQLite compares every name without case; MySQL/MariaDB compares table, view and
    /// trigger names with case (on Linux) and column, index and constraint names without.
    pub fn key(backend: Backend, kind: Kind, name: &str) -> String {
        backend.dialect().key(kind, name)
    }

    /// A name as a statement writes it, as the backend compares it (a key like
    /// [`Schema::key`]'s): PostgreSQL folds the ASCII letters of an unquoted name to
    /// lower case (and no others), keeps a quoted one, and cuts every name to 63 bytes
    /// (never in the middle of a character); SQLite and MySQL compare as
    /// [`Schema::key`] says, quoted or not.
    pub fn ident(backend: Backend, kind: Kind, name: &str, quoted: bool) -> String {
        backend.dialect().ident(kind, name, quoted)
    }

    /// The number of rows in each table, in one query (or one per as many tables as
    /// the backend lets one compound `SELECT` join: 500 on SQLite).
    pub fn row_counts<C: Database>(&self, conn: &mut C) -> Result<BTreeMap<String, i64>> {
        let selects: Vec<String> = self
            .tables
            .iter()
            .map(|(key, table)| {
                format!(
                    "SELECT {} AS name, COUNT(*) AS n FROM {}",
                    crate::ledger::literal(key),
                    self.backend.quote(&table.name)
                )
            })
            .collect();
        let mut counts = BTreeMap::new();
        for chunk in selects.chunks(self.backend.dialect().max_compound_select().max(1)) {
            let rows: Vec<Count> = conn
                .load_with(&chunk.join("\nUNION ALL\n"), &[])
                .map_err(Error::query("cannot count the rows of the tables"))?;
            counts.extend(rows.into_iter().map(|r| (r.name, r.n)));
        }
        Ok(counts)
    }

    /// Whether a table or view with this key exists.
    pub fn has_relation(&self, key: &str) -> bool {
        self.tables.contains_key(key) || self.views.contains_key(key)
    }

    /// The index with this key, on `table` if given, else on any table.
    pub fn index(&self, table: Option<&str>, key: &str) -> Option<&Index> {
        match table {
            // A lookup, not a scan: guards ask this once per `CREATE INDEX`.
            Some(table) => self.indexes.get(&(table.to_owned(), key.to_owned())),
            None => self
                .indexes
                .iter()
                .find(|((_, i), _)| i == key)
                .map(|(_, index)| index),
        }
    }

    /// Whether a constraint with this key exists on `table` (or on any table).
    pub fn has_constraint(&self, table: Option<&str>, key: &str) -> bool {
        match table {
            Some(table) => self
                .constraints
                .contains_key(&(table.to_owned(), key.to_owned())),
            None => self.constraints.keys().any(|(_, c)| c == key),
        }
    }
}

/// The names of a schema's tables, views, indexes, constraints, triggers, types and
/// functions, keyed as [`Schema`] keys them, the ledger tables left out: what one
/// cheap query reads ([`Outline::read`]), where [`Schema::introspect`] reads every
/// column, key and definition.
///
/// Every name here is one [`diff`] compares: two schemas it calls equal have equal
/// outlines, so a database whose outline differs from another's cannot have its schema.
/// `adopt` reads only the outline after each migration it builds, and the whole schema
/// only where the outlines agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    tables: BTreeSet<String>,
    views: BTreeSet<String>,
    indexes: BTreeSet<(String, String)>,
    constraints: BTreeSet<(String, String)>,
    triggers: BTreeSet<String>,
    types: BTreeSet<String>,
    functions: BTreeSet<String>,
}

impl Outline {
    /// Reads the outline of the database (PostgreSQL: of its current schema) in one
    /// query: the introspection's rows of those kinds, put in a [`Schema`] by the same
    /// code, so that names are keyed and ledger tables left out exactly as there.
    pub fn read<C: Database>(conn: &mut C) -> Result<Outline> {
        let backend = conn.backend();
        let rows: Vec<CatalogRow> = conn
            .load_with(backend.dialect().outline_sql(), &[])
            .map_err(Error::query(
                "cannot read the names in the database's schema",
            ))?;
        Ok(Outline::of(&Schema::from_rows(backend, rows)))
    }

    /// The names of the database's relations (tables, views, sequences; the ledger's
    /// left out), as the backend compares them, where the backend can list them without
    /// opening any table (MySQL and MariaDB, whose outline opens every table's
    /// definition, again and again once there are more than `table_definition_cache`);
    /// `None` where the outline itself is as cheap. Every relation the catalog reads
    /// is among them, so two databases whose names differ cannot have equal schemas:
    /// `adopt` reads an outline only where they agree.
    pub(crate) fn relation_names<C: Database>(conn: &mut C) -> Result<Option<BTreeSet<String>>> {
        let backend = conn.backend();
        let crate::dialect::ScopedRead::PerRelation(sql) = backend.dialect().scoped_read() else {
            return Ok(None);
        };
        let rows: Vec<Count> = conn
            .load_with(sql.relations, &[])
            .map_err(Error::query("cannot list the tables in the database"))?;
        Ok(Some(
            rows.into_iter()
                .filter(|row| !is_ledger(&row.name))
                .map(|row| Schema::key(backend, Kind::Table, &row.name))
                .collect(),
        ))
    }

    /// The outline of a schema already read.
    pub fn of(schema: &Schema) -> Outline {
        Outline {
            tables: schema.tables.keys().cloned().collect(),
            views: schema.views.keys().cloned().collect(),
            indexes: schema.indexes.keys().cloned().collect(),
            constraints: schema.constraints.keys().cloned().collect(),
            triggers: schema.triggers.keys().cloned().collect(),
            types: schema.types.clone(),
            functions: schema.functions.clone(),
        }
    }
}

/// A column type in one spelling for every backend, so that `character varying(20)`
/// (PostgreSQL), `varchar(20)` (MySQL) and `VARCHAR(20)` (SQLite, or a statement)
/// compare equal.
///
/// ```
/// use pelican::catalog::normalize_type;
/// assert_eq!(normalize_type("character varying(20)"), "varchar(20)");
/// assert_eq!(normalize_type("INT(11)"), "integer");
/// assert_eq!(normalize_type("tinyint(1)"), "boolean");
/// assert_eq!(normalize_type("NUMERIC(10, 2)"), "decimal(10,2)");
/// assert_eq!(normalize_type("timestamp without time zone"), "timestamp");
/// ```
pub fn normalize_type(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    let compact = lower
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(", ", ",");
    let (base, args) = match compact.find('(') {
        Some(open) => (
            compact[..open].trim().to_owned(),
            compact[open..].replace(' ', ""),
        ),
        None => (compact.clone(), String::new()),
    };
    let (base, unsigned) = match base.strip_suffix(" unsigned") {
        Some(b) => (b.to_owned(), " unsigned"),
        None => (base, ""),
    };
    let args_after = args.find(')').map_or("", |close| args[close + 1..].trim());
    let args = args
        .find(')')
        .map_or(args.as_str(), |close| &args[..=close]);
    let unsigned = if args_after.contains("unsigned") {
        " unsigned"
    } else {
        unsigned
    };
    let name = match base.as_str() {
        "int" | "integer" | "int4" | "mediumint" => return format!("integer{unsigned}"),
        "bigint" | "int8" => return format!("bigint{unsigned}"),
        "smallint" | "int2" => return format!("smallint{unsigned}"),
        "tinyint" if args == "(1)" => return "boolean".to_owned(),
        "bool" | "boolean" => return "boolean".to_owned(),
        "character varying" | "varchar" | "nvarchar" | "varchar2" => "varchar",
        "character" | "char" | "nchar" | "bpchar" => "char",
        "numeric" | "decimal" | "dec" => "decimal",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "time without time zone" | "time" => "time",
        "double precision" | "double" | "float8" => return "double".to_owned(),
        "real" | "float4" => return "real".to_owned(),
        other => other,
    };
    format!("{name}{args}{unsigned}")
}

#[cfg(test)]
mod tests {
    use super::normalize_type;

    #[test]
    fn the_example_schemas_types_agree_across_backends() {
        for (spellings, normal) in [
            (&["INTEGER", "integer", "int(11)", "int"][..], "integer"),
            (&["BIGINT", "bigint(20)", "bigint"], "bigint"),
            (
                &["VARCHAR(255)", "character varying(255)", "varchar(255)"],
                "varchar(255)",
            ),
            (&["TEXT", "text"], "text"),
            (&["BOOLEAN", "boolean", "tinyint(1)"], "boolean"),
            (
                &["TIMESTAMP", "timestamp without time zone", "timestamp"],
                "timestamp",
            ),
            (
                &["DECIMAL(10,2)", "numeric(10,2)", "decimal(10,2)"],
                "decimal(10,2)",
            ),
        ] {
            for spelling in spellings {
                assert_eq!(normalize_type(spelling), normal, "{spelling}");
            }
        }
    }

    #[test]
    fn other_types_keep_their_name_and_arguments() {
        assert_eq!(normalize_type("jsonb"), "jsonb");
        assert_eq!(normalize_type("int(10) unsigned"), "integer unsigned");
        assert_eq!(normalize_type("tinyint(4)"), "tinyint(4)");
        assert_eq!(normalize_type(""), "");
    }
}
