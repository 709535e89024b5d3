//! SQLite's rule for schema changes: foreign-key enforcement off while migrations run,
//! and the keys checked before each commits.
//!
//! diesel's `SqliteConnection` turns `foreign_keys` on when it connects, and its harness
//! runs each migration in a transaction, where the pragma cannot change: a statement
//! fails there only when it makes a row break a key. A row that broke one before the
//! migration (an orphan left while enforcement was off) does not fail it. So pelican
//! compares `PRAGMA foreign_key_check` with what it said before the run, and refuses only
//! the violations a migration added.

use std::collections::BTreeMap;

use crate::dialect::ForeignKeyEnforcement;
use crate::{Database, Error, Result};

/// The rows breaking a foreign key, counted per (table, rowid, referenced table); the
/// baseline a migration is compared with.
#[derive(Debug, Default)]
pub(crate) struct ForeignKeys {
    known: BTreeMap<(String, Option<String>, String), usize>,
}

impl ForeignKeys {
    /// The violations present now, before anything of the run has been done.
    pub(crate) fn read<C: Database>(conn: &mut C) -> Result<Self> {
        let mut known = BTreeMap::new();
        for row in violations(conn)? {
            *known.entry((row.tbl, row.row_id, row.parent)).or_default() += 1;
        }
        Ok(ForeignKeys { known })
    }

    /// Fails when the database holds a violation that was not there before `what` ran;
    /// on success, what is there now becomes the baseline for the next migration.
    pub(crate) fn check<C: Database>(&mut self, conn: &mut C, what: &str) -> Result<()> {
        let now = ForeignKeys::read(conn)?;
        let mut added = now.known.iter().filter_map(|(key, &count)| {
            let before = self.known.get(key).copied().unwrap_or(0);
            (count > before).then_some((key, count - before))
        });
        let Some(((table, row, parent), first_count)) = added.next() else {
            self.known = now.known;
            return Ok(());
        };
        let count = first_count + added.map(|(_, n)| n).sum::<usize>();
        Err(Error::ForeignKeyViolation {
            migration: what.to_owned(),
            count,
            table: table.clone(),
            row: row.clone().unwrap_or_else(|| "?".to_owned()),
            parent: parent.clone(),
        })
    }
}

/// Fails on any row that breaks a foreign key: for a build that started from an empty
/// database (the fresh build), where every violation is the build's own.
pub(crate) fn foreign_key_check<C: Database>(conn: &mut C, what: &str) -> Result<()> {
    ForeignKeys::default().check(conn, what)
}

/// The rows that break a foreign key now, as the connection's setting lists them; none
/// where the server enforces every key (a run never switches them off there).
fn violations<C: Database>(conn: &mut C) -> Result<Vec<Violation>> {
    let ForeignKeyEnforcement::ConnectionSetting(sql) = conn.backend().dialect().foreign_keys()
    else {
        return Ok(Vec::new());
    };
    conn.load_with(sql.violations, &[])
        .map_err(Error::query("cannot check foreign keys"))
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
