//! The rows of a snapshot: read from the database one table at a time, written back as
//! `INSERT` statements with literals quoted for the backend.
//!
//! Each backend's generator supplies, per table, a query returning one text column,
//! `row_data`: a JSON array with one element per column, `null` or a string tagged by
//! its first character: `n` a number (written bare), `t` text (quoted), `x` bytes in
//! hex. The database does the reading (its own text form of each value, which its own
//! input accepts back); pelican only quotes.

use diesel::sql_types::Text;

use crate::{Backend, Database, Error, Result};

/// Rows per `INSERT`, and about how large one may grow before the next starts.
const ROWS_PER_INSERT: usize = 500;
const BYTES_PER_INSERT: usize = 1 << 20;

/// How to copy one table's rows.
#[derive(Debug, Clone)]
pub(super) struct TableRows {
    /// The start of each `INSERT`, up to and including `VALUES`.
    pub insert: String,
    /// The query returning the rows (`row_data`, see the module documentation).
    pub select: String,
}

impl TableRows {
    /// The rows of `table`'s `columns` (quoted with `quote`), read by `select`.
    pub(super) fn new<'a>(
        quote: impl Fn(&str) -> String,
        table: &str,
        columns: impl IntoIterator<Item = &'a str>,
        select: String,
    ) -> TableRows {
        let columns: Vec<String> = columns.into_iter().map(&quote).collect();
        TableRows {
            insert: format!(
                "INSERT INTO {} ({}) VALUES",
                quote(table),
                columns.join(", ")
            ),
            select,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct RowData {
    #[diesel(sql_type = Text)]
    row_data: String,
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// NULL.
    Null,
    /// A number, written as the database wrote it.
    Number(String),
    /// Text (or anything the database reads back from text: dates, JSON, …).
    Text(String),
    /// Bytes, as hexadecimal digits.
    Bytes(String),
}

impl Value {
    /// Reads one element of a `row_data` array.
    fn from_json(element: &serde_json::Value) -> std::result::Result<Value, String> {
        let text = match element {
            serde_json::Value::Null => return Ok(Value::Null),
            serde_json::Value::String(text) => text,
            other => return Err(format!("unexpected value {other}")),
        };
        let mut chars = text.chars();
        let tag = chars.next();
        let body = chars.as_str().to_owned();
        match tag {
            // A number that is not a plain numeric literal (say `Infinity`) is written
            // as text, which every backend reads back into a numeric column.
            Some('n') if is_number(&body) => Ok(Value::Number(body)),
            Some('n' | 't') => Ok(Value::Text(body)),
            Some('x') if body.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(Value::Bytes(body)),
            _ => Err(format!("unexpected value {text:?}")),
        }
    }
}

/// Whether `text` is a plain numeric literal: an optional sign, digits with an
/// optional fraction, and an optional exponent.
fn is_number(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction) && exponent_ok
}

/// A value as a SQL literal for a backend.
///
/// Text is quoted with `'` doubled. PostgreSQL text holding a backslash is written
/// `E'…'` with the backslash doubled, so it reads the same whatever
/// `standard_conforming_strings` says; MySQL/MariaDB text holding a backslash or NUL is
/// written as its UTF-8 bytes in hex (`_utf8mb4 X'…'`), so it reads the same whatever
/// `sql_mode` says of backslashes. Bytes are `X'…'` (SQLite, MySQL) or
/// PostgreSQL's `'\x…'`.
pub(super) fn literal(backend: Backend, value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Number(number) => number.clone(),
        Value::Text(text) => backend.dialect().text_literal(text),
        Value::Bytes(hex) => backend.dialect().bytes_literal(hex),
    }
}

/// The `INSERT` statements that put back the rows of `tables`, in their order.
pub(super) fn inserts<C: Database>(
    conn: &mut C,
    backend: Backend,
    tables: &[TableRows],
) -> Result<Vec<String>> {
    let mut statements = Vec::new();
    for table in tables {
        let rows: Vec<RowData> =
            conn.load_with(&table.select, &[])
                .map_err(Error::query(format!(
                    "cannot read the rows for `{}`",
                    table.insert
                )))?;
        let mut statement = String::new();
        let mut in_statement = 0;
        for row in rows {
            let values = row_values(&row.row_data).map_err(|reason| Error::Snapshot {
                snapshot: "snapshot".to_owned(),
                reason: format!("cannot read a row for `{}`: {reason}", table.insert),
            })?;
            let tuple = values
                .iter()
                .map(|v| literal(backend, v))
                .collect::<Vec<_>>()
                .join(", ");
            if in_statement == ROWS_PER_INSERT || statement.len() > BYTES_PER_INSERT {
                statements.push(std::mem::take(&mut statement));
                in_statement = 0;
            }
            if in_statement == 0 {
                statement.push_str(&table.insert);
                statement.push_str("\n    (");
            } else {
                statement.push_str(",\n    (");
            }
            statement.push_str(&tuple);
            statement.push(')');
            in_statement += 1;
        }
        if !statement.is_empty() {
            statements.push(statement);
        }
    }
    Ok(statements)
}

fn row_values(json: &str) -> std::result::Result<Vec<Value>, String> {
    let parsed: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let serde_json::Value::Array(elements) = parsed else {
        return Err(format!("not a JSON array: {json}"));
    };
    elements.iter().map(Value::from_json).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn text_with_a_quote_and_a_backslash_on_each_backend() {
        let path = Value::Text(r"it's C:\temp".into());
        assert_eq!(literal(Backend::Sqlite, &path), r"'it''s C:\temp'");
        assert_eq!(literal(Backend::Postgres, &path), r"E'it''s C:\\temp'");
        assert_eq!(
            literal(Backend::Mysql, &path),
            "_utf8mb4 X'6974277320433A5C74656D70'"
        );
        assert_eq!(literal(Backend::Mysql, &Value::Null), "NULL");
    }

    #[test]
    fn nulls_numbers_and_bytes() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            assert_eq!(literal(backend, &Value::Null), "NULL");
            assert_eq!(
                literal(backend, &Value::Number("-1.5e-3".into())),
                "-1.5e-3"
            );
        }
        let bytes = Value::Bytes("00FF".into());
        assert_eq!(literal(Backend::Sqlite, &bytes), "X'00FF'");
        assert_eq!(literal(Backend::Mysql, &bytes), "X'00FF'");
        assert_eq!(literal(Backend::Postgres, &bytes), r"'\x00FF'");
    }

    #[test]
    fn quotes_are_doubled_everywhere() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            assert_eq!(literal(backend, &text("O'Brien")), "'O''Brien'");
            assert_eq!(literal(backend, &text("''")), "''''''");
            assert_eq!(literal(backend, &text("")), "''");
            assert_eq!(literal(backend, &text("a;b -- c")), "'a;b -- c'");
        }
    }

    #[test]
    fn backslashes_by_backend() {
        let value = text(r"C:\new\'x");
        assert_eq!(literal(Backend::Sqlite, &value), r"'C:\new\''x'");
        assert_eq!(literal(Backend::Postgres, &value), r"E'C:\\new\\''x'");
        // MySQL: hex, which reads the same whatever sql_mode says of backslashes.
        assert_eq!(
            literal(Backend::Mysql, &value),
            "_utf8mb4 X'433A5C6E65775C2778'"
        );
        assert_eq!(literal(Backend::Mysql, &text("a\0b")), "_utf8mb4 X'610062'");
    }

    #[test]
    fn newlines_and_unicode_stay_as_they_are() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            assert_eq!(
                literal(backend, &text("línea\nñandú ✓")),
                "'línea\nñandú ✓'"
            );
        }
    }

    #[test]
    fn rows_are_read_from_tagged_json() {
        assert_eq!(
            row_values(r#"["n42", "tit's", null, "x0A", "n1.0e+300", "nInf", "t"]"#).unwrap(),
            vec![
                Value::Number("42".into()),
                text("it's"),
                Value::Null,
                Value::Bytes("0A".into()),
                Value::Number("1.0e+300".into()),
                text("Inf"),
                text(""),
            ]
        );
        assert!(row_values(r#"["?x"]"#).is_err());
        assert!(row_values(r#"["xZZ"]"#).is_err());
        assert!(row_values(r#"[1]"#).is_err());
        assert!(row_values(r#"{}"#).is_err());
    }

    #[test]
    fn numbers_are_plain_literals_only() {
        for yes in ["0", "-1", "+2", "3.25", ".5", "5.", "1e10", "1.0E-7"] {
            assert!(is_number(yes), "{yes}");
        }
        for no in [
            "", "-", ".", "1e", "e5", "Inf", "NaN", "1 OR 1=1", "0x10", "1,5",
        ] {
            assert!(!is_number(no), "{no}");
        }
    }
}
