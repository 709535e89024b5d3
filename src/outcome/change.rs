//! What differs between two schemas, as data (the [`diff`](crate::catalog::diff) finds
//! it): each [`Change`] names its subject and both sides, and reads like a review
//! comment when displayed: `usuario.telefono: VARCHAR(20) NULL → missing`.

use std::collections::BTreeMap;
use std::fmt;

/// What kind of thing differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Subject {
    /// A table.
    Table,
    /// A column.
    Column,
    /// A table's primary key.
    PrimaryKey,
    /// An index.
    Index,
    /// A foreign key.
    ForeignKey,
    /// A named constraint.
    Constraint,
    /// A view.
    View,
    /// A trigger.
    Trigger,
    /// A user-defined type.
    Type,
    /// A function or procedure.
    Function,
    /// The rows of a table.
    Rows,
    /// A sequence.
    Sequence,
    /// A comment on an object.
    Comment,
    /// The grants on an object.
    Grant,
    /// A schema (PostgreSQL) other than the current one.
    Schema,
    /// Another property the catalog holds (a rule, a policy, a collation, a table's
    /// options).
    Definition,
}

/// One difference: what the expected schema has and what the actual one has
/// (`None`: it is missing there).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Change {
    /// What kind of thing.
    pub subject: Subject,
    /// Which one: `usuario`, `usuario.telefono`, `index ix_curso_titulo`.
    pub name: String,
    /// The table (or view) it belongs to, where it belongs to one: for reading a
    /// diff table by table.
    pub table: Option<String>,
    /// What the expected side has.
    pub expected: Option<String>,
    /// What the actual side has.
    pub actual: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "missing".to_owned());
        write!(
            f,
            "{}: {} → {}",
            self.name,
            side(&self.expected),
            side(&self.actual)
        )
    }
}

/// Changes as lines for people, grouped by the table they concern (then what belongs to
/// no table: triggers, types, functions), each line indented under its table and each
/// group starting on a new line:
///
/// ```text
///     usuario:
///       usuario.apodo: missing → VARCHAR(50) NULL
///     elsewhere:
///       trigger t: missing → present
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Grouped<'a>(pub &'a [Change]);

impl fmt::Display for Grouped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut by_table: BTreeMap<Option<&str>, Vec<&Change>> = BTreeMap::new();
        for change in self.0 {
            by_table
                .entry(change.table.as_deref())
                .or_default()
                .push(change);
        }
        let untabled = by_table.remove(&None);
        for (table, changes) in by_table.into_iter().chain(untabled.map(|c| (None, c))) {
            match table {
                Some(table) => write!(f, "\n    {table}:")?,
                None => write!(f, "\n    elsewhere:")?,
            }
            for change in changes {
                write!(f, "\n      {change}")?;
            }
        }
        Ok(())
    }
}
