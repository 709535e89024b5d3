//! SQLite's rule for schema changes: foreign-key enforcement off while migrations run,
//! and the keys checked before each commits.

use crate::{Database, Error, Result};

/// SQLite's own rule for schema changes: with enforcement off while the migration ran,
/// its foreign keys are checked before it commits.
pub(crate) fn foreign_key_check<C: Database>(conn: &mut C, what: &str) -> Result<()> {
    let rows: Vec<Violation> = conn
        .load_with(
            "SELECT \"table\" AS tbl, CAST(rowid AS TEXT) AS row_id, parent \
             FROM pragma_foreign_key_check",
            &[],
        )
        .map_err(Error::query("cannot check foreign keys"))?;
    match rows.first() {
        None => Ok(()),
        Some(first) => Err(Error::ForeignKeyViolation {
            migration: what.to_owned(),
            count: rows.len(),
            table: first.tbl.clone(),
            row: first.row_id.clone().unwrap_or_else(|| "?".to_owned()),
            parent: first.parent.clone(),
        }),
    }
}

#[derive(diesel::QueryableByName)]
struct Violation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tbl: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    row_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    parent: String,
}

/// Runs `f` with SQLite's foreign-key enforcement off, when it is on and the connection
/// is not in a transaction (where the pragma does nothing); tells `f` whether it did,
/// and sets it back however `f` ends. On other backends, just runs `f`.
pub(crate) fn with_foreign_keys_off<C: Database, T>(
    conn: &mut C,
    f: impl FnOnce(&mut C, bool) -> Result<T>,
) -> Result<T> {
    if !conn.backend().dialect().foreign_keys_pragma() || conn.in_transaction().unwrap_or(true) {
        return f(conn, false);
    }
    let rows: Vec<Flag> = conn
        // The pragma itself, not `pragma_foreign_keys`: a SELECT would read the file, and
        // wait on another process's write lock.
        .load_with("PRAGMA foreign_keys", &[])
        .map_err(Error::query("cannot read PRAGMA foreign_keys"))?;
    if rows.first().is_none_or(|r| r.foreign_keys != 1) {
        return f(conn, false);
    }
    conn.batch_execute("PRAGMA foreign_keys = OFF")
        .map_err(Error::query("cannot turn foreign keys off"))?;
    let result = f(conn, true);
    let restored = conn
        .batch_execute("PRAGMA foreign_keys = ON")
        .map_err(Error::query("cannot turn foreign keys back on"));
    match result {
        Err(error) => Err(error),
        Ok(value) => restored.map(|()| value),
    }
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    foreign_keys: i64,
}
