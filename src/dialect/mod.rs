//! Everything that differs between the backends, behind one [`Dialect`] per backend.
//!
//! The rest of pelican is written once: it asks the dialect for SQL text, names and
//! facts (does DDL roll back? are triggers named per table?) and runs what it gets. A
//! `match` on [`Backend`] belongs here and nowhere else; to add a backend, add a variant,
//! a file beside `sqlite.rs` implementing [`Dialect`], and an arm in [`Backend::dialect`].
//!
//! The trait is object safe and holds no connection: what must run queries of its own
//! per backend (a snapshot's parts, print-schema's introspection) is dispatched by the
//! generic functions at the bottom of this file.

use std::time::Duration;

use crate::admin::DropSql;
use crate::catalog::Kind;
use crate::lock::SessionSql;
use crate::split::Lexicon;
use crate::{AnyConnection, Backend, Database, Result};

mod mysql;
mod postgres;
mod sqlite;

impl Backend {
    /// The backend's dialect.
    pub(crate) fn dialect(self) -> &'static dyn Dialect {
        match self {
            Backend::Sqlite => &sqlite::Sqlite,
            Backend::Postgres => &postgres::Postgres,
            Backend::Mysql => &mysql::Mysql,
        }
    }
}

/// What one backend does its own way. Methods with a body are what two or more
/// backends share.
pub(crate) trait Dialect: Sync {
    // Names.

    /// The backend's name, as URLs, snapshots and cargo features spell it.
    fn name(&self) -> &'static str;

    /// Quotes an identifier.
    fn quote(&self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    /// A stored name as the backend compares it (see [`crate::catalog::Schema::key`]).
    fn key(&self, kind: Kind, name: &str) -> String;

    /// A name as a statement writes it, as the backend compares it (see
    /// [`crate::catalog::Schema::ident`]).
    fn ident(&self, kind: Kind, name: &str, _quoted: bool) -> String {
        self.key(kind, name)
    }

    /// A string literal holding `text` exactly.
    fn text_literal(&self, text: &str) -> String {
        single_quoted(text)
    }

    /// A binary literal from upper-case hex digits.
    fn bytes_literal(&self, hex: &str) -> String {
        format!("X'{hex}'")
    }

    /// The type `CAST(… AS …)` turns a value into text with.
    fn text_type(&self) -> &'static str {
        "TEXT"
    }

    /// The type `CAST(… AS …)` turns a value into a 64-bit integer with.
    fn integer_type(&self) -> &'static str {
        "BIGINT"
    }

    // Facts that decide how a migration runs.

    /// Whether DDL rolls back with its transaction (SQLite, PostgreSQL), or commits
    /// itself (MySQL/MariaDB): then a migration runs statement by statement with
    /// progress rows, a dry run predicts, and statements get no savepoints.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Whether `BEGIN` and the ledger's `COMMIT` travel in the batches of the statements
    /// beside them: worth it where each round trip crosses the network.
    fn begin_in_batch(&self) -> bool {
        false
    }

    /// Whether the database is a file that connecting creates, rather than a database
    /// on a server that is created by name.
    fn file_based(&self) -> bool {
        false
    }

    /// Whether foreign keys are a connection setting that a run switches off, checking
    /// them with `PRAGMA foreign_key_check` before each commit (SQLite).
    fn foreign_keys_pragma(&self) -> bool {
        false
    }

    /// Session settings for a connection to a throwaway database (`check`'s scratch
    /// database): a commit there need not wait for the disk, since nothing in it
    /// outlives the check. What runs and what it gives are unchanged.
    fn throwaway_session_sql(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether pelican's own queries number their placeholders (`$1`) rather than
    /// writing `?`.
    fn numbered_placeholders(&self) -> bool {
        false
    }

    // How the catalog names things.

    /// Whether a trigger's name belongs to its table (PostgreSQL) rather than to the
    /// schema.
    fn triggers_per_table(&self) -> bool {
        false
    }

    /// Whether procedures have names of their own, apart from functions (MySQL).
    fn procedures_apart(&self) -> bool {
        false
    }

    /// Whether an index's name belongs to its table (MySQL) rather than to the schema.
    fn indexes_per_table(&self) -> bool {
        false
    }

    /// Whether a constraint and an index are told apart (a `DROP CONSTRAINT` naming an
    /// index is then a mistake); MySQL's unique constraints are indexes.
    fn constraints_apart_from_indexes(&self) -> bool {
        true
    }

    /// Whether the server resolves a function's overloads itself, so that its refusal
    /// settles which one a statement meant (PostgreSQL).
    fn overloaded_functions(&self) -> bool {
        false
    }

    /// Whether view and trigger definitions come back with the database's name in every
    /// name they use (MySQL), which comparing them must strip.
    fn qualified_definitions(&self) -> bool {
        false
    }

    /// The query that lists the whole schema in one pass, for [`crate::catalog`].
    fn introspect_sql(&self) -> &'static str;

    /// How `print-schema` reads the schema and names its types.
    fn print_schema(&self) -> &'static dyn crate::print_schema::Introspection;

    /// The parser `sqlparser` reads statements with.
    fn parser(&self) -> &'static dyn sqlparser::dialect::Dialect;

    /// How the splitter reads the text between statements.
    fn lexicon(&self) -> Lexicon;

    /// Whether the server's message refuses a statement because its object exists.
    fn says_exists(&self, lower: &str) -> bool {
        lower.contains("already exists")
    }

    /// Whether the server's message refuses a statement because its object is missing.
    fn says_missing(&self, lower: &str) -> bool {
        lower.contains("does not exist")
    }

    /// What puts the session back when a snapshot's load fails before its epilogue
    /// ran, where its prologue changed a session setting.
    fn after_failed_load(&self) -> Option<&'static str> {
        None
    }

    // Sessions, locks and the ledger.

    /// The statements that set a session's timeouts, in the order to try them: the
    /// first the server knows is enough (MySQL and MariaDB name theirs differently).
    fn timeout_sql(&self, lock: Duration, statement: Duration) -> Vec<String>;

    /// How the migration lock is taken on a server: `None` where the lock is the
    /// database's own write lock (SQLite).
    fn session_lock(&self) -> Option<SessionSql> {
        None
    }

    /// The query naming the schema or database the ledger lives in, where there is one.
    fn namespace_query(&self) -> Option<&'static str> {
        None
    }

    /// The query saying whether a table exists, binding the namespace (where there is
    /// one) and the name.
    fn table_exists_query(&self) -> &'static str;

    /// The auto-numbered key column of the journal.
    fn serial_key(&self) -> &'static str;

    /// What follows an `INSERT`'s rows so that a row of the same `key` columns is
    /// updated instead (see [`upsert`]).
    fn on_conflict(&self, key: &str) -> String {
        format!("ON CONFLICT ({key}) DO UPDATE SET")
    }

    /// The value an `INSERT` brings for `column`, in its [`Dialect::on_conflict`] clause.
    fn incoming(&self, column: &str) -> String {
        format!("excluded.{column}")
    }

    // Databases as a whole.

    /// The database to connect to for creating or dropping `name` on the same server
    /// (PostgreSQL cannot drop the database it is connected to).
    fn maintenance_database(&self, _name: &str) -> &'static str {
        ""
    }

    /// The query saying whether a database exists, binding its name; `templates`
    /// says whether a template database counts.
    fn database_exists_query(&self, _templates: bool) -> &'static str {
        ""
    }

    /// The statement that creates a database; with `if_missing`, one that exists is no
    /// error where the server can say so.
    fn create_database_sql(&self, name: &str, _if_missing: bool) -> String {
        format!("CREATE DATABASE {}", self.quote(name))
    }

    /// The statement that creates a database as a copy of a template database, where
    /// there are templates.
    fn clone_database_sql(&self, _name: &str, _template: &str) -> Option<String> {
        None
    }

    /// The statement that drops a database by name, if it exists; with `force`, the
    /// connections still open to it are ended where the server can do that.
    fn drop_database_sql(&self, name: &str, _force: bool) -> String {
        format!("DROP DATABASE IF EXISTS {}", self.quote(name))
    }

    /// The statement that marks a database as a template, where there are templates.
    fn mark_template_sql(&self, _name: &str) -> Option<String> {
        None
    }

    /// The statement that makes a template database an ordinary one, before it is
    /// dropped, where there are templates.
    fn unmark_template_sql(&self, _name: &str) -> Option<String> {
        None
    }

    /// The query listing the server's databases whose names start with `pelican_`.
    fn pelican_databases_query(&self) -> Option<&'static str> {
        None
    }

    /// The query listing the server's template databases whose names start with
    /// `pelican_`, where there are templates.
    fn pelican_templates_query(&self) -> Option<&'static str> {
        None
    }

    /// The query listing the tables and views pelican sees, sorted by name.
    fn relations_query(&self) -> &'static str;

    /// How everything in the database is listed and dropped, for `reset` and clean-ups.
    fn drop_everything(&self) -> DropSql;

    /// Whether `setup` writes diesel's initial migration (PostgreSQL's
    /// `diesel_manage_updated_at`).
    fn has_initial_setup(&self) -> bool {
        false
    }

    /// Whether the server copies a database marked as a template (`CREATE DATABASE …
    /// TEMPLATE …`), which the test harness clones for each test.
    fn database_templates(&self) -> bool {
        false
    }

    /// Settings for a database thrown away at the end (a scratch database).
    fn throwaway_sql(&self) -> Option<&'static str> {
        None
    }

    /// An object's name as [`Dialect::drop_everything`] lists it, given the schema it
    /// is in where the list names one.
    fn drop_target(&self, _namespace: Option<&str>, name: &str) -> String {
        self.quote(name)
    }

    /// The environment variable naming the server test databases are made on, and the
    /// server to use without it.
    fn test_server(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Connects to the database a URL of this backend names.
    fn establish(&self, url: &str) -> Result<AnyConnection>;
}

/// `'text'`, with its quotes doubled: a string literal on every backend for text
/// without backslashes (see [`Dialect::text_literal`] for any text).
pub(crate) fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// An `INSERT` of `rows` (`(…), (…)`) into `table`'s `columns` that replaces the row of
/// the same `key` columns.
pub(crate) fn upsert(
    dialect: &dyn Dialect,
    table: &str,
    columns: &str,
    key: &str,
    rows: &str,
) -> String {
    let keys: Vec<&str> = key.split(',').map(str::trim).collect();
    let updates: Vec<String> = columns
        .split(',')
        .map(str::trim)
        .filter(|column| !keys.contains(column))
        .map(|column| format!("{column} = {}", dialect.incoming(column)))
        .collect();
    format!(
        "INSERT INTO {table} ({columns}) VALUES {rows} {} {}",
        dialect.on_conflict(key),
        updates.join(", ")
    )
}

/// A snapshot's parts, read by the backend's own queries.
pub(crate) fn snapshot_parts<C: Database>(conn: &mut C) -> Result<crate::snapshot::Parts> {
    match conn.backend() {
        Backend::Sqlite => crate::snapshot::sqlite::parts(conn),
        Backend::Postgres => crate::snapshot::postgres::parts(conn),
        Backend::Mysql => crate::snapshot::mysql::parts(conn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upsert_replaces_the_columns_outside_the_key() {
        let sql = |backend: Backend| {
            upsert(
                backend.dialect(),
                "p",
                "version, direction, checksum, done",
                "version, direction",
                "('1', 'up', 'c', 2)",
            )
        };
        let standard = "INSERT INTO p (version, direction, checksum, done) VALUES \
                        ('1', 'up', 'c', 2) ON CONFLICT (version, direction) DO UPDATE SET \
                        checksum = excluded.checksum, done = excluded.done";
        assert_eq!(sql(Backend::Sqlite), standard);
        assert_eq!(sql(Backend::Postgres), standard);
        assert_eq!(
            sql(Backend::Mysql),
            "INSERT INTO p (version, direction, checksum, done) VALUES ('1', 'up', 'c', 2) \
             ON DUPLICATE KEY UPDATE checksum = VALUES(checksum), done = VALUES(done)"
        );
    }
}
