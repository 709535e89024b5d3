//! Everything that differs between the backends, behind one [`Dialect`] per backend.
//!
//! The rest of pelican is written once: it asks the dialect for SQL text, names and
//! facts (does DDL roll back? are triggers named per table?) and runs what it gets. A
//! `match` on [`Backend`] belongs here and nowhere else (but the two below); to add a
//! backend, add a variant, a folder beside `sqlite/` implementing [`Dialect`] (its
//! `mod.rs`, and its catalog queries in `catalog.rs`), and an arm in
//! [`Backend::dialect`].
//!
//! The trait is object safe and holds no connection, and the dialect names no module
//! above it: what must run several queries of its own per backend (a snapshot's parts,
//! print-schema's introspection) chooses its implementation itself, in one exhaustive
//! `match` on [`Backend`] in its own module.

use std::time::Duration;

use crate::split::Lexicon;
use crate::{AnyConnection, Backend, Result};

mod vocabulary;
pub(crate) use crate::backend::Storage;
pub use vocabulary::Kind;
pub(crate) use vocabulary::{
    AutocommitSql, DdlTransactions, DropSql, During, ForeignKeyEnforcement, ForeignKeySql,
    LeaseSql, LockStrategy, ProgressSql, RelationSql, Rule, ScopedRead, ServerMessages, SessionSql,
    WaitSetting, WriteLockSql,
};

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

/// A query reading some groups of the catalog (see [`ScopedRead::Query`]).
pub(crate) struct GroupsQuery {
    /// The query.
    pub(crate) sql: String,
    /// What must be prepared in the session first, if it was not.
    pub(crate) prepare: Option<Prepare>,
}

/// A statement a session prepares once.
pub(crate) struct Prepare {
    /// A query with a row (`name`, `n`) where the session has prepared it.
    pub(crate) present: String,
    /// The statement that prepares it.
    pub(crate) sql: String,
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

    /// What a transaction does to DDL: whether a migration can be one transaction.
    fn ddl_transactions(&self) -> DdlTransactions;

    /// The words by which its server (and client library) says what diesel gives no
    /// kind of: a statement that cannot run in a transaction, a lost connection, a full
    /// lock table, an unknown setting.
    fn messages(&self) -> ServerMessages;

    /// Whether `BEGIN` and the ledger's `COMMIT` travel in the batches of the statements
    /// beside them: worth it where each round trip crosses the network.
    fn begin_in_batch(&self) -> bool {
        false
    }

    /// Where a database lives: a file, or a server.
    fn storage(&self) -> Storage;

    /// How foreign keys are enforced, and so whether a run switches them off.
    fn foreign_keys(&self) -> ForeignKeyEnforcement;

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

    /// What sends a read after a migration step to a whole read: each rule with the
    /// reason it guards, a way a statement may change what it does not name (see
    /// `crate::catalog::scope`). Checked in order; the first that applies is the reason.
    fn scope_rules(&self) -> &'static [(Rule, &'static str)] {
        &[]
    }

    /// The query that lists the whole schema in one pass, for [`crate::catalog`].
    fn introspect_sql(&self) -> &'static str;

    /// A cheap query listing the schema's objects with their whole definitions (`grp`,
    /// `tbl`, `kind`, `name`, `definition`), where the rows of the introspection query
    /// follow from it group by group (`grp`: the table an object is or is on), so that a
    /// catalog read again reads only the groups that changed (`catalog::Reader`);
    /// `None` where no such list holds the whole catalog.
    fn catalog_objects_query(&self) -> Option<&'static str> {
        None
    }

    /// The introspection query, for the objects whose `tbl` in
    /// [`catalog_objects_query`](Dialect::catalog_objects_query) is one of `tables`.
    fn introspect_tables_sql(&self, _tables: &[&str]) -> Option<String> {
        None
    }

    /// How a catalog is read again for the groups a step can have changed only.
    fn scoped_read(&self) -> ScopedRead;

    /// The group (see [`catalog_objects_query`](Dialect::catalog_objects_query)) of an
    /// introspection row about `owner`: the table it is on, or its own name.
    fn catalog_group(&self, owner: &str) -> String {
        owner.to_owned()
    }

    /// The query that lists the names of the objects [`Self::introspect_sql`] reads
    /// (tables, views, indexes, triggers, constraints, types, routines) in its shape,
    /// one row per object and nothing else: the cheap first look of
    /// [`crate::catalog::Outline`].
    fn outline_sql(&self) -> &'static str;

    /// A query giving, as rows of one `sql` column, the statements that give another
    /// database (connected to) the defaults of this one that decide what a migration
    /// builds (MySQL: the character set and collation a table without its own takes);
    /// `None` where a new database has nothing of the kind to copy.
    fn database_defaults_sql(&self) -> Option<&'static str> {
        None
    }

    /// A definition the catalog holds (see [`crate::catalog::Definition`]) in the form
    /// two are compared in: the text as the server keeps it, except on SQLite, which
    /// keeps a table's `CREATE` statement as it was written (see
    /// [`canonical_sql`]).
    fn canonical_definition(&self, text: &str) -> String {
        text.to_owned()
    }

    /// The most `SELECT`s one compound statement (`… UNION ALL …`) may join: SQLite
    /// refuses more than `SQLITE_MAX_COMPOUND_SELECT` (500); the others set no limit,
    /// and this one only keeps a statement's text bounded.
    fn max_compound_select(&self) -> usize {
        2000
    }

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

    /// How the migration lock is taken.
    fn lock_strategy(&self) -> LockStrategy;

    /// The statements of the migration lock as a lease (a row of pelican's own table),
    /// where the backend has them: what the lock is through a transaction-pooling proxy
    /// (PostgreSQL's PgBouncer in `pool_mode = transaction`).
    fn lease_sql(&self) -> Option<LeaseSql> {
        None
    }

    /// The query naming the schema or database the ledger lives in, where there is one.
    fn namespace_query(&self) -> Option<&'static str> {
        None
    }

    /// The query giving, as `size`, how many locks the server's shared lock table holds,
    /// where one transaction's locks are bounded by it (PostgreSQL): a run joined into
    /// one transaction commits before it takes too many (see `crate::join`).
    fn lock_table_query(&self) -> Option<&'static str> {
        None
    }

    /// The query saying whether a table exists, binding the namespace (where there is
    /// one) and the name.
    fn table_exists_query(&self) -> &'static str;

    /// A query giving a row (its `name`) when column `?` of table `?` exists where the
    /// ledger lives: bound as [`Dialect::table_exists_query`] is, then the column.
    fn column_exists_query(&self) -> &'static str;

    /// A query giving, as `sql`, the `REVOKE` statements that remove every grant
    /// naming database `?` (bound four times), where the server keeps them after the
    /// database is dropped (MySQL/MariaDB); `None` where grants go with the database.
    fn grants_on_database_query(&self) -> Option<&'static str> {
        None
    }

    /// Like [`Dialect::grants_on_database_query`], for the grants on routines of
    /// database `?` (bound once), which only the server's own grant tables list (MySQL:
    /// `mysql.procs_priv`, which not every user may read).
    fn routine_grants_on_database_query(&self) -> Option<&'static str> {
        None
    }

    /// A query giving the options of these sequences, in the catalog query's shape,
    /// where the catalog query cannot read them itself (MariaDB: each sequence is read
    /// on its own); `None` where it does, or there are none.
    fn sequence_options_sql(&self, _sequences: &[&str]) -> Option<String> {
        None
    }

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
    /// there are templates, with the server's copy `strategy` if one is given and the
    /// server has strategies (PostgreSQL 15's `WAL_LOG`, `FILE_COPY`).
    fn clone_database_sql(
        &self,
        _name: &str,
        _template: &str,
        _strategy: Option<CloneStrategy>,
    ) -> Option<String> {
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

    /// The query listing the server's other sessions that are connected to a database
    /// whose name starts with `pelican_`, or running a statement that names one: `id`
    /// (BIGINT), `database` and `statement` (TEXT, empty for none). What a killed
    /// process was still creating when it died.
    fn pelican_sessions_query(&self) -> Option<&'static str> {
        None
    }

    /// The statement that ends session `id` of [`Dialect::pelican_sessions_query`].
    fn end_session_sql(&self, _id: i64) -> Option<String> {
        None
    }

    /// The server's own databases, which pelican never drops, empties or builds in:
    /// nothing in them is pelican's (see [`Dialect::is_system_database`]).
    fn system_databases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether database `name` is one of [`Dialect::system_databases`], compared as
    /// the server compares database names.
    fn is_system_database(&self, name: &str) -> bool {
        self.system_databases().contains(&name)
    }

    /// The one system database an application may still keep its tables in when asked
    /// explicitly (PostgreSQL's `postgres`, the default database of many setups).
    fn shared_maintenance_database(&self) -> Option<&'static str> {
        None
    }

    /// The query naming the database the session is connected to (`name`), where the
    /// database is a server's.
    fn current_database_query(&self) -> Option<&'static str> {
        None
    }

    /// The query listing the tables and views pelican sees, sorted by name.
    fn relations_query(&self) -> &'static str;

    /// How everything in the database is listed and dropped, for `reset` and clean-ups.
    fn drop_everything(&self) -> DropSql;

    /// The query listing, as `name`, the objects outside what
    /// [`Dialect::drop_everything`] lists that depend on something it lists (a view in
    /// another schema or database, a foreign key from there…), each with what it needs:
    /// what `reset` would take with it, or leave broken, beyond its list. `None` where
    /// nothing outside can depend on it (SQLite's file).
    fn dependents_query(&self) -> Option<&'static str> {
        None
    }

    /// What happens to [`Dialect::dependents_query`]'s objects when `reset` drops what
    /// they depend on, for its messages.
    fn dependents_fate(&self) -> &'static str {
        "dropped with them"
    }

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

    /// The environment variable naming the server test databases are made on, and the
    /// server to use without it.
    fn test_server(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Connects to the database a URL of this backend names.
    fn establish(&self, url: &str) -> Result<AnyConnection>;

    // Dry runs and `--sql` scripts.

    /// One statement of a `--sql` script, ended so the backend's client runs it alone:
    /// a `;` after it, on a line of its own where the last line ends in a comment that
    /// would swallow it.
    fn script_statement(&self, sql: &str) -> String {
        default_script_statement(sql)
    }

    /// Whether the backend's client replaces `:name` outside quotes in a script with a
    /// variable's value (`psql`), so that `--sql` refuses a statement holding one.
    fn script_interpolates(&self) -> bool {
        false
    }

    /// The first line of a `--sql` script: the backend's client told to stop at the
    /// first error, as `migrate` stops at the first failure (`psql` and `sqlite3` go on
    /// to the next statement otherwise; `mariadb` stops already).
    fn script_prologue(&self) -> Option<&'static str> {
        None
    }

    /// What a `--sql` script writes before and after a step's statements and record
    /// (without their `;`), as `migrate` runs it: `BEGIN` and `COMMIT` around a step
    /// that runs in a transaction, nothing around one that does not.
    fn script_transaction(&self, transactional: bool) -> Option<(&'static str, &'static str)> {
        transactional.then_some(("BEGIN", "COMMIT"))
    }

    /// A statement with the same effect on the schema as `sql`, for a dry run's
    /// transaction to run in its place when the server refuses to run `sql` in a
    /// transaction (PostgreSQL's `CREATE INDEX CONCURRENTLY`); `None` when there is none.
    fn in_transaction_stand_in(&self, _sql: &str) -> Option<String> {
        None
    }

    /// Lists the sequences a dry run may advance and must set back (their values are
    /// not transactional), as rows of `id` (a `BIGINT` that `regclass` takes), `name`
    /// (quoted, schema-qualified, for a `FROM`) and `readable` (1 if the session may
    /// read its value); `None` where there are none to set back.
    fn sequences_query(&self) -> Option<&'static str> {
        None
    }
}

/// A statement of a script ended by `;`, on a line of its own where the statement's last
/// line ends in a comment.
pub(crate) fn default_script_statement(sql: &str) -> String {
    let last = sql.lines().last().unwrap_or_default();
    if last.contains("--") || last.contains('#') || last.contains("/*") {
        format!("{sql}\n;\n")
    } else {
        format!("{sql};\n")
    }
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

/// A statement SQLite kept as written, in a form that leaves out what does not change
/// its meaning: ASCII case and identifier quotes (`"t"`, `` `t` ``, `[t]`) outside
/// string literals, and whitespace (folded to one space, and none next to `(`, `)`
/// and `,`). A table rebuilt by `ALTER TABLE t_new RENAME TO t` (which SQLite writes
/// as `CREATE TABLE "t" (…)`) compares equal to the one first made; a CHECK
/// expression, a collation or a string that differs does not.
pub(crate) fn canonical_sql(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut pending_space = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            in_string = c != '\'';
            continue;
        }
        match c {
            '\'' => {
                if pending_space && !out.is_empty() && !out.ends_with(['(', ',']) {
                    out.push(' ');
                }
                pending_space = false;
                in_string = true;
                out.push(c);
            }
            '"' | '`' | '[' | ']' => {}
            c if c.is_whitespace() => pending_space = true,
            '(' | ')' | ',' => {
                pending_space = false;
                out.push(c);
            }
            c => {
                if pending_space && !out.is_empty() && !out.ends_with(['(', ',']) {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c.to_ascii_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_makes_a_concurrent_index_in_its_transaction_without_concurrently() {
        let pg = Backend::Postgres.dialect();
        assert_eq!(
            pg.in_transaction_stand_in(
                "create unique index concurrently if not exists ix on t (a)"
            )
            .as_deref(),
            Some("create unique index if not exists ix on t (a)")
        );
        assert_eq!(
            pg.in_transaction_stand_in("DROP INDEX\n  CONCURRENTLY ix")
                .as_deref(),
            Some("DROP INDEX\n  ix")
        );
        assert_eq!(
            pg.in_transaction_stand_in("CREATE INDEX concurrently_ix ON t (a)"),
            None
        );
        assert_eq!(pg.in_transaction_stand_in("VACUUM"), None);
        assert_eq!(
            Backend::Sqlite.dialect().in_transaction_stand_in("VACUUM"),
            None
        );
    }

    #[test]
    fn a_mysql_script_puts_a_routine_between_delimiters_its_body_lacks() {
        let mysql = Backend::Mysql.dialect();
        assert_eq!(
            mysql.script_statement("CREATE TABLE t (id INT)"),
            "CREATE TABLE t (id INT);\n"
        );
        assert_eq!(
            mysql.script_statement("CREATE PROCEDURE p() BEGIN SELECT '$$'; SELECT '//'; END"),
            "DELIMITER $$$\nCREATE PROCEDURE p() BEGIN SELECT '$$'; SELECT '//'; END\n$$$\nDELIMITER ;\n"
        );
        assert_eq!(
            Backend::Sqlite
                .dialect()
                .script_statement("SELECT 1 -- one"),
            "SELECT 1 -- one\n;\n"
        );
    }

    #[test]
    fn canonical_sql_leaves_out_case_quotes_and_layout_but_not_meaning() {
        assert_eq!(
            canonical_sql("CREATE TABLE \"t\" (\n  id INTEGER PRIMARY KEY , Name TEXT)"),
            canonical_sql("create table t(id integer primary key, name text)")
        );
        assert_eq!(
            canonical_sql("CREATE TABLE [t] (x CHECK (x IN ('A', 'b')))"),
            "create table t(x check(x in('A','b')))"
        );
        assert_ne!(
            canonical_sql("CREATE TABLE t (x CHECK (x > 0))"),
            canonical_sql("CREATE TABLE t (x CHECK (x > 1))")
        );
        assert_ne!(
            canonical_sql("CREATE TABLE t (x TEXT DEFAULT 'A')"),
            canonical_sql("CREATE TABLE t (x TEXT DEFAULT 'a')")
        );
        assert_ne!(
            canonical_sql("CREATE TABLE t (x TEXT COLLATE NOCASE)"),
            canonical_sql("CREATE TABLE t (x TEXT)")
        );
    }

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

/// How a server copies a template database (PostgreSQL 15 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloneStrategy {
    /// Block by block through the shared buffers, each block logged (15's default):
    /// no checkpoint, but the copy's pages are left dirty for the next one.
    WalLog,
    /// File by file, between two checkpoints: the copy is on disk when it is made.
    FileCopy,
}
