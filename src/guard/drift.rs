//! Drift: how an existing table, index or column differs from the one a skipped
//! statement would have made.

use std::fmt::Write as _;

use super::classify::ColumnSpec;
use crate::catalog::{Index, Schema, Table};

pub(super) fn describe_column(data_type: &str, nullable: bool) -> String {
    format!(
        "{} {}",
        data_type.to_uppercase(),
        if nullable { "NULL" } else { "NOT NULL" }
    )
}

/// What differs between an existing table and the one a skipped `CREATE TABLE` would
/// make: its columns missing from the table, and those of another type. Columns the
/// table has beyond the statement's are not drift: later migrations add them.
pub(super) fn table_drift(
    schema: &Schema,
    existing: &Table,
    columns: &[ColumnSpec],
) -> Option<String> {
    let mut drift = String::new();
    for column in columns {
        match existing.column(&column.key, schema.backend()) {
            None => {
                let _ = write!(
                    drift,
                    "{}{}.{} is missing",
                    sep(&drift),
                    existing.name,
                    column.name
                );
            }
            Some(found) if found.data_type != column.data_type => {
                let _ = write!(
                    drift,
                    "{}{}.{} is {} where the statement creates {}",
                    sep(&drift),
                    existing.name,
                    column.name,
                    found.data_type.to_uppercase(),
                    column.data_type.to_uppercase()
                );
            }
            Some(_) => {}
        }
    }
    (!drift.is_empty()).then_some(drift)
}

pub(super) fn index_drift(
    existing: &Index,
    shown: &str,
    table: &str,
    columns: &[String],
    unique: bool,
) -> Option<String> {
    let what = |table: &str, columns: &[String], unique: bool| {
        format!(
            "{}on {table} ({})",
            if unique { "UNIQUE " } else { "" },
            columns.join(", ")
        )
    };
    let same = existing.table == table && existing.columns == columns && existing.unique == unique;
    (!same).then(|| {
        format!(
            "index {shown} exists {}; the statement creates it {}",
            what(&existing.table, &existing.columns, existing.unique),
            what(table, columns, unique)
        )
    })
}

fn sep(text: &str) -> &'static str {
    if text.is_empty() {
        ""
    } else {
        "; "
    }
}
