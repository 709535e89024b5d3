//! What differs between two schemas: [`diff`] and [`diff_rows`] find it, as
//! [`Change`]s. The data itself lives in [`crate::outcome`], below the error that
//! carries a drift's changes.

use std::collections::{BTreeMap, BTreeSet};

use super::{Column, Index, Schema};
use crate::outcome::{Change, Subject};

impl Subject {
    /// What a [`Definition`](super::Definition) named `label` describes, from the
    /// label's first word.
    fn of_definition(label: &str) -> Subject {
        match label.split_whitespace().next().unwrap_or_default() {
            "table" => Subject::Table,
            "column" => Subject::Column,
            "index" => Subject::Index,
            "constraint" | "check" | "foreign" => Subject::Constraint,
            "view" => Subject::View,
            "trigger" => Subject::Trigger,
            "type" => Subject::Type,
            "function" | "procedure" | "aggregate" | "routine" => Subject::Function,
            "sequence" => Subject::Sequence,
            "comment" => Subject::Comment,
            "grants" => Subject::Grant,
            "schema" => Subject::Schema,
            _ => Subject::Definition,
        }
    }
}

fn column_text(column: &Column) -> String {
    let mut text = format!(
        "{} {}",
        column.data_type.to_uppercase(),
        if column.nullable { "NULL" } else { "NOT NULL" }
    );
    if let Some(default) = &column.default {
        text.push_str(" DEFAULT ");
        text.push_str(default);
    }
    text
}

fn index_text(index: &Index) -> String {
    format!(
        "{}INDEX on {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        index.table,
        index.columns.join(", ")
    )
}

/// Every difference between `expected` and `actual`, tables first, in name order.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut push = |subject,
                    table: Option<&str>,
                    name: String,
                    expected: Option<String>,
                    actual: Option<String>| {
        if expected != actual {
            changes.push(Change {
                subject,
                name,
                table: table.map(str::to_owned),
                expected,
                actual,
            });
        }
    };
    let tables: BTreeSet<&String> = expected.tables.keys().chain(actual.tables.keys()).collect();
    for key in tables {
        match (expected.tables.get(key), actual.tables.get(key)) {
            (Some(e), Some(a)) => {
                let backend = expected.backend();
                let columns: Vec<String> = e
                    .columns
                    .iter()
                    .chain(&a.columns)
                    .map(|c| Schema::key(backend, super::Kind::Column, &c.name))
                    .collect();
                let mut seen = BTreeSet::new();
                for column in columns.iter().filter(|c| seen.insert(c.as_str())) {
                    let ec = e.column(column, backend);
                    let ac = a.column(column, backend);
                    let name = ec.or(ac).map_or(column.as_str(), |c| c.name.as_str());
                    push(
                        Subject::Column,
                        Some(&e.name),
                        format!("{}.{name}", e.name),
                        ec.map(column_text),
                        ac.map(column_text),
                    );
                }
                push(
                    Subject::PrimaryKey,
                    Some(&e.name),
                    format!("{} primary key", e.name),
                    Some(format!("({})", e.primary_key.join(", "))),
                    Some(format!("({})", a.primary_key.join(", "))),
                );
            }
            (e, a) => {
                let table = e.or(a).map_or(key.as_str(), |t| t.name.as_str());
                push(
                    Subject::Table,
                    Some(table),
                    format!("table {table}"),
                    e.map(|t| format!("{} column(s)", t.columns.len())),
                    a.map(|t| format!("{} column(s)", t.columns.len())),
                );
            }
        }
    }
    let index_keys: BTreeSet<&(String, String)> = expected
        .indexes
        .keys()
        .chain(actual.indexes.keys())
        .collect();
    for key in index_keys {
        let e = expected.indexes.get(key);
        let a = actual.indexes.get(key);
        let name = e.or(a).map_or(key.1.as_str(), |i| i.name.as_str());
        push(
            Subject::Index,
            Some(&key.0),
            format!("index {name}"),
            e.map(index_text),
            a.map(index_text),
        );
    }
    let fk_text = |fk: &super::ForeignKey| {
        let mut text = format!(
            "{} ({}) REFERENCES {} ({})",
            fk.table,
            fk.columns.join(", "),
            fk.references,
            fk.referenced.join(", ")
        );
        if !fk.actions.is_empty() {
            text.push(' ');
            text.push_str(&fk.actions);
        }
        text
    };
    for fk in expected
        .foreign_keys
        .symmetric_difference(&actual.foreign_keys)
    {
        let present = Some("present".to_owned());
        let (e, a) = if expected.foreign_keys.contains(fk) {
            (present, None)
        } else {
            (None, present)
        };
        push(
            Subject::ForeignKey,
            Some(&fk.table),
            format!("foreign key {}", fk_text(fk)),
            e,
            a,
        );
    }
    let constraints: BTreeSet<&(String, String)> = expected
        .constraints
        .keys()
        .chain(actual.constraints.keys())
        .collect();
    for key in constraints {
        push(
            Subject::Constraint,
            Some(&key.0),
            format!("constraint {}.{}", key.0, key.1),
            expected.constraints.get(key).cloned(),
            actual.constraints.get(key).cloned(),
        );
    }
    named_maps(
        &mut push,
        Subject::View,
        "view",
        &expected.views,
        &actual.views,
    );
    named_maps(
        &mut push,
        Subject::Trigger,
        "trigger",
        &expected.triggers,
        &actual.triggers,
    );
    named_sets(
        &mut push,
        Subject::Type,
        "type",
        &expected.types,
        &actual.types,
    );
    named_sets(
        &mut push,
        Subject::Function,
        "function",
        &expected.functions,
        &actual.functions,
    );
    definitions(&mut changes, expected, actual);
    changes
}

/// The differences in [`Schema::definitions`]: a definition whose text differs, or
/// one on a side only (unless the structured comparison already names that object).
/// A table's whole definition is reported only when nothing else about that table
/// was: the change is one, not two.
fn definitions(changes: &mut Vec<Change>, expected: &Schema, actual: &Schema) {
    let touched: BTreeSet<String> = changes.iter().filter_map(|c| c.table.clone()).collect();
    let labels: BTreeSet<&String> = expected
        .definitions
        .keys()
        .chain(actual.definitions.keys())
        .collect();
    for label in labels {
        let e = expected.definitions.get(label);
        let a = actual.definitions.get(label);
        let Some(definition) = e.or(a) else { continue };
        let differs = match (e, a) {
            (Some(e), Some(a)) => {
                let dialect = expected.backend().dialect();
                dialect.canonical_definition(&one_line(&e.text))
                    != dialect.canonical_definition(&one_line(&a.text))
            }
            _ => !definition.named,
        };
        let reported = definition.whole
            && definition
                .table
                .as_ref()
                .is_some_and(|t| touched.contains(t));
        if differs && !reported {
            changes.push(Change {
                subject: Subject::of_definition(label),
                name: label.clone(),
                table: definition.table.clone(),
                expected: e.map(|d| one_line(&d.text)),
                actual: a.map(|d| one_line(&d.text)),
            });
        }
    }
}

fn named_maps(
    push: &mut impl FnMut(Subject, Option<&str>, String, Option<String>, Option<String>),
    subject: Subject,
    word: &str,
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) {
    let names: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    for name in names {
        push(
            subject,
            (subject == Subject::View).then_some(name.as_str()),
            format!("{word} {name}"),
            expected.get(name).map(|d| one_line(d)),
            actual.get(name).map(|d| one_line(d)),
        );
    }
}

fn named_sets(
    push: &mut impl FnMut(Subject, Option<&str>, String, Option<String>, Option<String>),
    subject: Subject,
    word: &str,
    expected: &BTreeSet<String>,
    actual: &BTreeSet<String>,
) {
    for name in expected.symmetric_difference(actual) {
        let present = Some("present".to_owned());
        let (e, a) = if expected.contains(name) {
            (present, None)
        } else {
            (None, present)
        };
        push(subject, None, format!("{word} {name}"), e, a);
    }
}

/// A definition on one line with its whitespace folded, so that layout is not a change.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tables whose row counts differ.
pub fn diff_rows(expected: &BTreeMap<String, i64>, actual: &BTreeMap<String, i64>) -> Vec<Change> {
    let tables: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    tables
        .into_iter()
        .filter_map(|table| {
            let e = expected.get(table);
            let a = actual.get(table);
            (e != a && e.is_some() && a.is_some()).then(|| Change {
                subject: Subject::Rows,
                name: format!("{table} rows"),
                table: Some(table.clone()),
                expected: e.map(|n| format!("{n} row(s)")),
                actual: a.map(|n| format!("{n} row(s)")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Definition, Schema, Table};
    use super::*;
    use crate::Backend;

    fn with(definitions: &[(&str, &str, bool, bool)]) -> Schema {
        let mut schema = Schema::empty(Backend::Sqlite);
        schema.tables.insert(
            "t".to_owned(),
            Table {
                name: "t".to_owned(),
                ..Table::default()
            },
        );
        for (label, text, named, whole) in definitions {
            schema.definitions.insert(
                (*label).to_owned(),
                Definition {
                    table: Some("t".to_owned()),
                    text: (*text).to_owned(),
                    named: *named,
                    whole: *whole,
                },
            );
        }
        schema
    }

    #[test]
    fn a_definition_that_differs_is_a_change_named_by_what_it_describes() {
        let expected = with(&[("type mood", "ENUM ('a', 'b')", true, false)]);
        let actual = with(&[("type mood", "ENUM ('a',\n 'b', 'meh')", true, false)]);
        let changes = diff(&expected, &actual);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].subject, Subject::Type);
        assert_eq!(
            changes[0].to_string(),
            "type mood: ENUM ('a', 'b') → ENUM ('a', 'b', 'meh')"
        );
        // Layout is not a change.
        let relaid = with(&[("type mood", "ENUM ('a',\n   'b')", true, false)]);
        assert_eq!(diff(&expected, &relaid), vec![]);
    }

    #[test]
    fn presence_is_left_to_the_structured_model_where_it_compares_it() {
        let expected = with(&[("index t.ix", "CREATE INDEX ix ON t (a)", true, false)]);
        assert_eq!(diff(&expected, &with(&[])), vec![]);
        let comment = with(&[("comment on table t", "hello", false, false)]);
        let changes = diff(&comment, &with(&[]));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].subject, Subject::Comment);
    }

    #[test]
    fn a_whole_table_definition_is_reported_only_when_nothing_else_about_it_is() {
        let expected = with(&[("table t", "CREATE TABLE t (x CHECK (x > 0))", false, true)]);
        let actual = with(&[("table t", "CREATE TABLE t (x CHECK (x > 1))", false, true)]);
        assert_eq!(diff(&expected, &actual).len(), 1);
        let mut other = actual.clone();
        other
            .tables
            .get_mut("t")
            .unwrap()
            .primary_key
            .push("x".to_owned());
        let changes = diff(&expected, &other);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].subject, Subject::PrimaryKey);
    }
}
