//! SQLite: a file, compared without case, locked by its own write transaction.

use std::time::Duration;

use super::Dialect;
use super::Kind;
use super::{
    DdlTransactions, DropSql, ForeignKeyEnforcement, ForeignKeySql, LockStrategy, Rule, ScopedRead,
    ServerMessages, Storage, WriteLockSql,
};
use crate::split::Lexicon;
use crate::{AnyConnection, Result};

mod catalog;

/// SQLite's dialect.
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    /// SQLite compares every name without case.
    fn key(&self, _kind: Kind, name: &str) -> String {
        name.to_lowercase()
    }

    fn messages(&self) -> ServerMessages {
        ServerMessages {
            // VACUUM, and the journal mode and synchronous setting.
            not_in_transaction: &[
                "cannot vacuum from within a transaction",
                "wal mode from within a transaction",
                "safety level may not be changed inside a transaction",
            ],
            connection_lost: &[],
            out_of_locks: None,
            unknown_setting: None,
        }
    }

    fn ddl_transactions(&self) -> DdlTransactions {
        DdlTransactions::RollBack
    }

    fn storage(&self) -> Storage {
        Storage::File
    }

    fn foreign_keys(&self) -> ForeignKeyEnforcement {
        ForeignKeyEnforcement::ConnectionSetting(ForeignKeySql {
            // The pragma itself, not `pragma_foreign_keys`: a SELECT would read the file,
            // and wait on another process's write lock.
            read: "PRAGMA foreign_keys",
            off: "PRAGMA foreign_keys = OFF",
            on: "PRAGMA foreign_keys = ON",
            violations: "SELECT \"table\" AS tbl, CAST(rowid AS TEXT) AS row_id, parent \
                         FROM pragma_foreign_key_check",
        })
    }

    fn lock_strategy(&self) -> LockStrategy {
        LockStrategy::WriteTransaction(WriteLockSql {
            begin: "BEGIN IMMEDIATE",
            read_busy_timeout: "PRAGMA busy_timeout",
            busy: &["locked", "busy"],
            keep_across_commit: "PRAGMA locking_mode = EXCLUSIVE",
            release_with_transaction: "PRAGMA locking_mode = NORMAL",
        })
    }

    fn introspect_sql(&self) -> &'static str {
        catalog::INTROSPECT
    }

    /// `sqlite_master` is the whole schema: every other part of the catalog follows
    /// from its text, table by table.
    fn catalog_objects_query(&self) -> Option<&'static str> {
        Some(catalog::OBJECTS)
    }

    fn scope_rules(&self) -> &'static [(Rule, &'static str)] {
        // Only the groups in scope are listed from sqlite_master and read again
        // (`catalog::objects_of`): what renaming a table or a column rewrites
        // elsewhere (foreign keys, views, triggers) mentions the name, and is in scope.
        &[
            (
                Rule::Starts(&["attach"]),
                "ATTACH brings another database's tables",
            ),
            (
                Rule::Starts(&["detach"]),
                "DETACH takes another database's tables",
            ),
            (Rule::Starts(&["pragma"]), "a PRAGMA may rewrite the schema"),
            (Rule::Starts(&["vacuum"]), "VACUUM INTO"),
        ]
    }

    fn introspect_tables_sql(&self, tables: &[&str]) -> Option<String> {
        Some(catalog::introspect_tables(tables))
    }

    fn scoped_read(&self) -> ScopedRead {
        ScopedRead::ListedObjects(catalog::objects_of)
    }

    /// SQLite compares names without ASCII case (and only ASCII), as `lower` folds them.
    fn catalog_group(&self, owner: &str) -> String {
        owner.to_ascii_lowercase()
    }

    fn outline_sql(&self) -> &'static str {
        catalog::OUTLINE
    }

    fn canonical_definition(&self, text: &str) -> String {
        super::canonical_sql(text)
    }

    fn max_compound_select(&self) -> usize {
        // SQLITE_MAX_COMPOUND_SELECT's default, which the bundled library keeps.
        500
    }

    fn parser(&self) -> &'static dyn sqlparser::dialect::Dialect {
        &sqlparser::dialect::SQLiteDialect {}
    }

    fn lexicon(&self) -> Lexicon {
        Lexicon {
            bracket_identifiers: true,
            at_words: true,
            ..Lexicon::default()
        }
    }

    fn says_exists(&self, lower: &str) -> bool {
        lower.contains("already exists") || lower.starts_with("duplicate column name")
    }

    fn says_missing(&self, lower: &str) -> bool {
        [
            "no such table",
            "no such index",
            "no such trigger",
            "no such view",
            "no such column",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
    }

    /// A statement runs in process and is never cut short; the lock's wait is SQLite's
    /// busy timeout.
    fn timeout_sql(&self, lock: Duration, _statement: Duration) -> Vec<String> {
        vec![crate::connection::busy_timeout_sql(lock)]
    }

    fn table_exists_query(&self) -> &'static str {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    }

    fn column_exists_query(&self) -> &'static str {
        "SELECT name FROM pragma_table_info(?) WHERE name = ?"
    }

    fn serial_key(&self) -> &'static str {
        "id INTEGER PRIMARY KEY AUTOINCREMENT"
    }

    fn relations_query(&self) -> &'static str {
        "SELECT name FROM sqlite_master \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY name"
    }

    /// Indexes and triggers go with their tables. Tables are put children first (see
    /// `admin::children_first`), and foreign keys are checked at commit, when every
    /// table is gone.
    fn drop_everything(&self) -> DropSql {
        DropSql {
            list: "SELECT CASE type WHEN 'view' THEN 'VIEW' ELSE 'TABLE' END AS kind, \
                     '\"' || replace(name, '\"', '\"\"') || '\"' AS target, name \
                   FROM sqlite_master \
                   WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                   ORDER BY type = 'table', name",
            before: "PRAGMA defer_foreign_keys = ON",
            after: "",
            cascade: "",
            children_first: Some(
                "SELECT m.name AS child, f.\"table\" AS parent \
                 FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table'",
            ),
        }
    }

    /// A scratch file need not wait for the disk: it is thrown away at the end, and a
    /// check makes many small transactions.
    fn throwaway_sql(&self) -> Option<&'static str> {
        Some("PRAGMA synchronous = OFF")
    }

    /// `check`'s round trip commits three times per migration: its rollback journal is
    /// kept in memory rather than in a file made and deleted at every commit (a
    /// rollback still undoes what it should; only a crash could leave the file torn,
    /// and the file is thrown away).
    fn throwaway_session_sql(&self) -> &'static [&'static str] {
        &["PRAGMA journal_mode = MEMORY"]
    }

    fn script_prologue(&self) -> Option<&'static str> {
        Some(".bail on")
    }

    fn establish(&self, url: &str) -> Result<AnyConnection> {
        #[cfg(feature = "sqlite")]
        {
            use diesel::Connection;
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let mut conn = diesel::SqliteConnection::establish(path)
                .map(AnyConnection::Sqlite)
                .map_err(crate::connection::connect_error(url))?;
            crate::connection::set_busy_timeout(&mut conn, crate::connection::DEFAULT_TIMEOUT)?;
            Ok(conn)
        }
        #[cfg(not(feature = "sqlite"))]
        Err(crate::connection::not_enabled(self.name(), url))
    }
}
