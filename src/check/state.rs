//! A database's state as a round trip compares it, and how it is read after a step.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::scope::{self, Plan};
use crate::catalog::{self, Catalog, Change, Reader, Schema};
use crate::{Database, Error, Migration, Result};

use super::RoundTripStep;

/// A database's state as a round trip compares it: its catalog and its row counts.
#[derive(Clone)]
pub(super) struct State {
    catalog: Catalog,
    rows: BTreeMap<String, i64>,
}

impl State {
    /// Reads the state, the catalog through `reader`, which reads again only what
    /// changed since its last read where the backend can tell (see [`Reader`]); the
    /// rows of every table are counted, in one query.
    pub(super) fn read<C: Database>(conn: &mut C, reader: &mut Reader) -> Result<State> {
        let catalog = reader.read(conn)?;
        let rows = catalog.row_counts(conn)?;
        Ok(State { catalog, rows })
    }

    /// Reads the state after `sql` (the text of the one migration file just run) ran on
    /// a database whose state was `before`: only what `sql` can have changed, where
    /// [`catalog::scope`] can tell, and the rest carried over from `before`; otherwise
    /// as [`read`](State::read) does. With reads verified, it is read whole too, and a
    /// difference is an error ([`Error::ScopedRead`], its migration filled in by the
    /// caller).
    pub(super) fn read_after<C: Database>(
        conn: &mut C,
        reader: &mut Reader,
        before: &State,
        sql: &str,
    ) -> Result<State> {
        let state = match State::read_scoped(conn, reader, before, sql)? {
            Some(state) => state,
            None => State::read(conn, reader)?,
        };
        if reader.verify {
            let whole = State::read(conn, &mut Reader::default())?;
            let changes = state.changes_from(&whole);
            if !changes.is_empty() {
                return Err(Error::ScopedRead {
                    migration: String::new(),
                    step: String::new(),
                    changes: catalog::Grouped(&changes).to_string(),
                });
            }
        }
        Ok(state)
    }

    /// The state after `sql`, reading again only the groups it can have changed (see
    /// [`catalog::scope`]) and counting only their tables' rows; `None` where it must
    /// be read whole.
    pub(super) fn read_scoped<C: Database>(
        conn: &mut C,
        reader: &mut Reader,
        before: &State,
        sql: &str,
    ) -> Result<Option<State>> {
        let step = scope::Step::new(before.catalog.backend(), sql);
        let Plan::Groups(planned) = scope::plan(&step, &reader.scope_view(&before.catalog)) else {
            return Ok(None);
        };
        let spellings = scope::spellings(sql);
        let spellings: Vec<&str> = spellings.iter().map(String::as_str).collect();
        let (catalog, partial) =
            match reader.read_groups(conn, &before.catalog, &planned, &spellings)? {
                Some(catalog) => (catalog, true),
                None => (reader.read(conn)?, false),
            };
        // The scope again, from what the step left: it may name groups it made.
        let Plan::Groups(after) = scope::plan(&step, &reader.scope_view(&catalog)) else {
            return Ok(None);
        };
        let unread = |key: &String| catalog.carried(&before.catalog, key) && !planned.contains(key);
        if partial && after.iter().any(unread) {
            // A group in scope now that was not read again: read it all.
            return Ok(None);
        }
        let scope: BTreeSet<String> = planned.iter().cloned().chain(after).collect();
        let counted = catalog.tables_of(&scope);
        let mut rows = BTreeMap::new();
        let mut to_count = BTreeMap::new();
        for (key, name) in catalog.tables() {
            match before.rows.get(&key) {
                Some(&n) if !counted.contains_key(&key) => {
                    rows.insert(key, n);
                }
                _ => {
                    to_count.insert(key, name);
                }
            }
        }
        rows.extend(catalog::count_rows(conn, &to_count)?);
        Ok(Some(State { catalog, rows }))
    }

    /// Its schema.
    pub(super) fn schema(&self) -> Schema {
        self.catalog.schema()
    }

    /// What differs from `expected`, rows included. Catalogs read as the same rows
    /// are equal; others are compared as schemas.
    pub(super) fn changes_from(&self, expected: &State) -> Vec<Change> {
        let mut changes = if self.catalog.same_as(&expected.catalog) {
            Vec::new()
        } else {
            catalog::diff(&expected.schema(), &self.schema())
        };
        changes.extend(catalog::diff_rows(&expected.rows, &self.rows));
        changes
    }
}

/// A scoped read's error with the migration and the run it followed.
pub(super) fn named(error: Error, migration: &Migration, run: RoundTripStep) -> Error {
    match error {
        Error::ScopedRead { changes, .. } => Error::ScopedRead {
            migration: migration.name().to_owned(),
            step: run.to_string(),
            changes,
        },
        other => other,
    }
}
