//! [`TestDatabase::reset`](super::TestDatabase::reset) in place: the rows, sequences and
//! auto-increments a test changed are put back to the template's, without a new
//! database, when the schema itself is unchanged.
//!
//! What the template holds is learnt once per template and process, from a copy no
//! test has touched yet (the copy the first reset makes): a fingerprint of the catalog,
//! every table's rows as literals, every sequence's state. A reset then reads, in one
//! query, whether the catalog still has that fingerprint and which tables and sequences
//! differ, and puts back only those, in one transaction. Anything it cannot put back
//! exactly (the schema changed, a trigger would fire, an error) makes it answer
//! [`Restored::No`], and the caller makes a new copy as before. SQLite is always copied:
//! a file copy is already faster than reading the rows.

mod mysql;
mod postgres;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::lock;
use crate::{AnyConnection, Backend, Database};

/// Whether a reset in place put the database back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Restored {
    /// It is at the template's state.
    Yes,
    /// It could not be done in place: make a new copy.
    No,
}

/// What a reset in place needs to know of a template: read once, from a fresh copy.
#[derive(Debug)]
enum Known {
    Postgres(postgres::Template),
    Mysql(mysql::Template),
}

/// The templates learnt, by the template's key (which names its backend).
static KNOWN: Mutex<Option<HashMap<String, Arc<Known>>>> = Mutex::new(None);

/// Puts the database of `conn` back to the state of the template `key` in place, if
/// that template was learnt and nothing but rows and sequence values changed.
pub(super) fn restore(key: &str, conn: &mut AnyConnection) -> Restored {
    let known = lock(&KNOWN)
        .as_ref()
        .and_then(|known| known.get(key).cloned());
    let Some(known) = known else {
        return Restored::No;
    };
    // A transaction the test left open is the test's: not ours to commit.
    if conn.in_transaction().unwrap_or(true) {
        return Restored::No;
    }
    let restored = match &*known {
        Known::Postgres(template) => postgres::restore(template, conn),
        Known::Mysql(template) => mysql::restore(template, conn),
    };
    match restored {
        Ok(restored) => restored,
        // A failure leaves the database as it may be: the caller replaces it.
        Err(_) => Restored::No,
    }
}

/// Learns the template `key` from `conn`, a copy of it no test has touched. Best
/// effort: a template that cannot be learnt is copied on every reset, as before.
pub(super) fn learn(key: &str, backend: Backend, conn: &mut AnyConnection) {
    if lock(&KNOWN)
        .as_ref()
        .is_some_and(|known| known.contains_key(key))
    {
        return;
    }
    let learnt = match backend {
        Backend::Postgres => postgres::learn(conn).map(|t| t.map(Known::Postgres)),
        Backend::Mysql => mysql::learn(conn).map(|t| t.map(Known::Mysql)),
        Backend::Sqlite => return,
    };
    if let Ok(Some(known)) = learnt {
        lock(&KNOWN)
            .get_or_insert_with(HashMap::new)
            .insert(key.to_owned(), Arc::new(known));
    }
}

/// Runs `f` in a transaction on `conn`, rolled back when it fails or answers
/// [`Restored::No`] (nothing of a reset that gave up is kept).
fn in_transaction<C: Database>(
    conn: &mut C,
    f: impl FnOnce(&mut C) -> crate::Result<Restored>,
) -> crate::Result<Restored> {
    conn.begin()
        .map_err(crate::Error::query("cannot begin a transaction"))?;
    match f(conn) {
        Ok(Restored::Yes) => {
            conn.commit()
                .map_err(crate::Error::query("cannot commit"))?;
            Ok(Restored::Yes)
        }
        other => {
            let _ = conn.rollback();
            other
        }
    }
}

/// Runs `sql` (several statements) on `conn`.
fn batch<C: Database>(conn: &mut C, sql: &str) -> crate::Result<()> {
    conn.batch_execute(sql)
        .map_err(crate::Error::query("cannot reset the test database"))
}

/// Loads the rows of one of a reset's queries.
fn load<R: crate::connection::Row>(conn: &mut AnyConnection, sql: &str) -> crate::Result<Vec<R>> {
    crate::connection::Operations::load_with(conn, sql, &[])
        .map_err(crate::Error::query("cannot read the test database"))
}

/// A table's rows as one string, and how many there are.
#[derive(diesel::QueryableByName)]
struct Content {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    content: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    n: String,
}

/// One answer of a reset's query: what differs.
#[derive(diesel::QueryableByName)]
struct What {
    #[diesel(sql_type = diesel::sql_types::Text)]
    what: String,
}
