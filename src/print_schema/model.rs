//! What `print-schema` knows of a schema: tables, columns, their SQL types and foreign
//! keys, named for Rust as diesel CLI names them.

use std::borrow::Cow;
use std::fmt;

/// A table's name in SQL and in the generated Rust, with its schema where it is not
/// the default one. Ordered field by field, as diesel orders its `TableName`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TableName {
    pub sql_name: String,
    pub rust_name: String,
    pub schema: Option<String>,
    pub rust_schema: Option<String>,
}

impl TableName {
    /// A table of the default schema.
    pub(crate) fn new(name: String) -> TableName {
        TableName {
            rust_name: rust_name_for_sql_name(&name, None),
            sql_name: name,
            schema: None,
            rust_schema: None,
        }
    }

    /// A table of `schema`, unless `schema` is the default one.
    pub(crate) fn in_schema(name: String, schema: String, default_schema: &str) -> TableName {
        let mut table = TableName::new(name);
        if schema != default_schema {
            table.rust_schema = Some(rust_name_for_sql_name(&schema, None));
            table.schema = Some(schema);
        }
        table
    }

    /// `schema.name`, or the name alone in the default schema.
    pub(crate) fn full_sql_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.sql_name),
            None => self.sql_name.clone(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rust_schema {
            Some(schema) => write!(f, "{schema}.{}", self.rust_name),
            None => f.write_str(&self.rust_name),
        }
    }
}

/// A column's SQL type as diesel's `table!` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    /// The schema of a PostgreSQL type outside the default schema (`pg_catalog`…).
    pub schema: Option<String>,
    pub rust_name: String,
    pub sql_name: String,
    pub is_array: bool,
    pub is_nullable: bool,
    pub is_unsigned: bool,
    pub max_length: Option<u64>,
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Outermost first: `Nullable<Array<Nullable<Unsigned<T>>>>`.
        let wrappers = [
            (self.is_nullable, "Nullable<", ">"),
            (self.is_array, "Array<Nullable<", ">>"),
            (self.is_unsigned, "Unsigned<", ">"),
        ];
        for (_, open, _) in wrappers.iter().filter(|w| w.0) {
            f.write_str(open)?;
        }
        f.write_str(&self.rust_name)?;
        for (_, _, close) in wrappers.iter().rev().filter(|w| w.0) {
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// A column as the database describes it, before its type is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    pub type_schema: Option<String>,
    pub nullable: bool,
    pub max_length: Option<u64>,
    pub comment: Option<String>,
}

/// A column of the generated `table!`.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub sql_name: String,
    pub rust_name: String,
    pub ty: ColumnType,
    pub comment: Option<String>,
}

/// A table of the generated schema.
#[derive(Debug, Clone)]
pub(crate) struct TableData {
    pub name: TableName,
    /// The primary key's columns, Rust names.
    pub primary_key: Vec<String>,
    pub columns: Vec<Column>,
    pub comment: Option<String>,
}

/// A foreign key, ordered field by field as diesel orders them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ForeignKey {
    pub child: TableName,
    pub parent: TableName,
    pub columns: Vec<String>,
    pub columns_rust: Vec<String>,
    pub referenced: Vec<String>,
}

impl ForeignKey {
    /// A key from `columns` of `child` to `referenced` of `parent`, its columns named
    /// for Rust as the child table's columns are.
    pub(super) fn new(
        child: TableName,
        parent: TableName,
        columns: Vec<String>,
        referenced: Vec<String>,
    ) -> ForeignKey {
        let columns_rust = columns
            .iter()
            .map(|c| rust_name_for_sql_name(c, Some(&child)))
            .collect();
        ForeignKey {
            child,
            parent,
            columns,
            columns_rust,
            referenced,
        }
    }

    /// The two tables, the smaller first: foreign keys between the same two tables,
    /// either way, are ambiguous for `joinable!`.
    pub(super) fn ordered_tables(&self) -> (&TableName, &TableName) {
        (
            (&self.parent).min(&self.child),
            (&self.parent).max(&self.child),
        )
    }
}

/// Names `table!` cannot take as they are.
const RESERVED_NAMES: &[&str] = &["table", "columns", "is_nullable"];

/// What `syn` refuses as an identifier: `_` and Rust's keywords, reserved ones included.
const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "Self", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Whether a name (already made of `[A-Za-z0-9_]`) cannot be a column or table name in
/// `table!` as it is: not an identifier, a keyword, one of `table!`'s own names, or one
/// starting with `__` (a name ending in `_` never is, so `_` can always be added).
pub(crate) fn is_reserved_name(name: &str) -> bool {
    let identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    !identifier
        || KEYWORDS.contains(&name)
        || RESERVED_NAMES.contains(&name)
        || (name.starts_with("__") && !name.ends_with('_'))
}

fn unmappable(c: char) -> bool {
    !(c.is_ascii_alphanumeric() || c == '_')
}

/// The name with every run of characters an identifier cannot hold replaced by one
/// `_`, and a `_` before a leading digit.
fn replace_unmappable_chars(name: &str) -> Cow<'_, str> {
    for (index, c) in name.char_indices() {
        if unmappable(c) {
            let mut out = name[..index].to_owned();
            replace_chars(&mut out, &name[index..], false);
            return Cow::Owned(out);
        } else if index == 0 && c.is_ascii_digit() {
            let mut out = String::from("_");
            replace_chars(&mut out, name, true);
            return Cow::Owned(out);
        }
    }
    Cow::Borrowed(name)
}

fn replace_chars(out: &mut String, tail: &str, mut last_was_underscore: bool) {
    for c in tail.chars() {
        if unmappable(c) {
            if !last_was_underscore {
                out.push('_');
            }
            last_was_underscore = true;
        } else {
            last_was_underscore = false;
            out.push(c);
        }
    }
}

/// The Rust name diesel CLI gives a SQL name: characters an identifier cannot hold
/// replaced, and `_` added to a reserved name or to a column named as its table.
pub(crate) fn rust_name_for_sql_name(sql_name: &str, table: Option<&TableName>) -> String {
    let name = replace_unmappable_chars(sql_name);
    if is_reserved_name(&name) || table.is_some_and(|t| t.rust_name == name) {
        format!("{name}_")
    } else {
        name.into_owned()
    }
}

/// A string as a Rust literal: raw (with one `#` more than the text holds) when it holds
/// a `"`, as diesel CLI writes `sql_name`s.
pub(crate) fn escape_rust_string(input: &str) -> String {
    let quotes = input.chars().filter(|&c| c == '"').count();
    let hashes = input.chars().filter(|&c| c == '#').count();
    if quotes > 0 {
        let hashes = "#".repeat(hashes + 1);
        format!("r{hashes}\"{input}\"{hashes}")
    } else {
        format!("\"{input}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_as_diesel_gives_them() {
        for (sql, rust) in [
            ("users", "users"),
            ("type", "type_"),
            ("table", "table_"),
            ("is_nullable", "is_nullable_"),
            ("_", "__"),
            ("__secret", "__secret_"),
            ("__secret_", "__secret_"),
            ("1st", "_1st"),
            ("1-st", "_1_st"),
            ("user name", "user_name"),
            ("user  -- name", "user_name"),
            ("naïve", "na_ve"),
            ("a-", "a_"),
            ("Self", "Self_"),
            ("", "_"),
        ] {
            assert_eq!(rust_name_for_sql_name(sql, None), rust, "{sql:?}");
        }
        let table = TableName::new("users".to_owned());
        assert_eq!(rust_name_for_sql_name("users", Some(&table)), "users_");
    }

    #[test]
    fn strings_with_quotes_are_raw() {
        assert_eq!(escape_rust_string("users"), "\"users\"");
        assert_eq!(escape_rust_string("a\"b"), "r#\"a\"b\"#");
        assert_eq!(escape_rust_string("a\"#b"), "r##\"a\"#b\"##");
    }
}
