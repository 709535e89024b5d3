//! The words a dialect speaks in: the bundles of SQL text it hands out, the kinds of
//! names it compares, the rules and ways it scopes a catalog read by. They live here,
//! below every module that asks a dialect, so that nothing the dialect needs sits above
//! it.

use std::collections::BTreeSet;

use super::GroupsQuery;

/// The kinds of names a schema holds, for comparing names as the backend does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Tables and views.
    Table,
    /// Columns.
    Column,
    /// Indexes.
    Index,
    /// Constraints.
    Constraint,
    /// Triggers.
    Trigger,
    /// Types and functions.
    Routine,
}

/// What sends a step to a whole read, in a dialect's list of them, each with the reason
/// it guards (see [`Dialect::scope_rules`](super::Dialect::scope_rules)).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    /// These consecutive words, anywhere in the text.
    Words(&'static [&'static str]),
    /// A statement beginning with these words (after its comments).
    Starts(&'static [&'static str]),
    /// A word beginning with this.
    Prefix(&'static str),
    /// This text anywhere, lowercased.
    Text(&'static str),
}

/// How one backend drops everything: the listing query (`kind`, and `target` ready to
/// put after `DROP kind IF EXISTS`), and what goes around the drops.
pub(crate) struct DropSql {
    pub(crate) list: &'static str,
    pub(crate) before: &'static str,
    pub(crate) after: &'static str,
    pub(crate) cascade: &'static str,
    /// Where tables must be put after the tables that reference them (SQLite, whose
    /// foreign keys cannot cascade a drop): the query listing each table's references,
    /// as `child` and `parent`.
    pub(crate) children_first: Option<&'static str>,
}

/// The statements of a session lock, for one backend. Each returns one row: `answer`
/// (1 yes, 0 no, NULL no such lock), `who`, or `value`.
pub(crate) struct SessionSql {
    /// Takes the lock if it is free, without waiting.
    pub(crate) try_acquire: &'static str,
    /// Waits for it in the server, which hands it over the moment it is released, for
    /// up to `TIMEOUT_SECONDS` where the function takes a timeout. A statement
    /// timeout the session has (the role's default, or one pelican was asked for) does
    /// not cut it short: the statement lifts it for itself where the server can say so
    /// in the statement, or [`settings`](SessionSql::settings) lift it around it.
    pub(crate) wait: &'static str,
    /// Session settings set for the wait and put back after: the one that bounds a
    /// wait taking no timeout of its own, and those that would cut the wait short.
    pub(crate) settings: &'static [WaitSetting],
    /// How the database says a wait bounded by a setting timed out.
    pub(crate) expired: Option<&'static str>,
    /// Releases it.
    pub(crate) release: &'static str,
    /// Describes the session holding it.
    pub(crate) holder: &'static str,
    /// Names the current database, which names the lock (MySQL: one lock name per
    /// database on the server); without it, the lock is PostgreSQL's advisory key.
    pub(crate) database: Option<&'static str>,
    /// Whether a waiter polls `try_acquire` rather than waiting in `wait`: on
    /// PostgreSQL a statement waiting for the lock holds a snapshot, which the holder's
    /// `CREATE INDEX CONCURRENTLY` waits for in turn (the server then kills one of them,
    /// `deadlock detected`); polls hold one for a moment only.
    pub(crate) poll: bool,
}

/// A session setting around a lock wait, and how it is read and set.
pub(crate) struct WaitSetting {
    pub(crate) name: &'static str,
    pub(crate) during: During,
    /// Reads the setting as `value`, binding its name.
    pub(crate) read: &'static str,
    /// Sets it for the session, binding its name and value (as text); a row comes back.
    pub(crate) set: &'static str,
}

/// What a [`WaitSetting`] is during the wait.
pub(crate) enum During {
    /// The time the wait may take (`lock_timeout`).
    TimeLeft,
    /// No limit (`statement_timeout`).
    Unlimited,
}

// What a backend can do, as the compiler checks it: a new backend must say each, and a
// caller matches on what it means rather than on which backend it is.

/// A server's (or its client library's) words for failures diesel gives no kind of,
/// which pelican must tell apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerMessages {
    /// A statement refused because it cannot run in a transaction, in lower case.
    pub(crate) not_in_transaction: &'static [&'static str],
    /// The connection died under a statement.
    pub(crate) connection_lost: &'static [&'static str],
    /// The server's lock table is full.
    pub(crate) out_of_locks: Option<&'static str>,
    /// A session setting the server does not know (another server's name for it may
    /// come next: MySQL's and MariaDB's timeouts).
    pub(crate) unknown_setting: Option<&'static str>,
}

/// What a transaction does to DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DdlTransactions {
    /// DDL rolls back with its transaction (SQLite, PostgreSQL): a migration is one
    /// transaction, a statement can have a savepoint, a dry run rehearses in a
    /// transaction it rolls back, and a failed fresh build is undone by the server.
    RollBack,
    /// Each DDL statement commits itself (MySQL, MariaDB): a migration runs statement
    /// by statement with progress rows, a dry run predicts, statements get no
    /// savepoints, and a failed fresh build is undone from pelican's record.
    CommitThemselves(ProgressSql),
}

/// The statements a backend whose DDL commits itself needs to commit a step's writes
/// together and to keep its progress rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProgressSql {
    /// How a run turns autocommit off, so that the ledger's writes after a step's DDL
    /// commit (and sync) together rather than each on its own.
    pub(crate) autocommit: AutocommitSql,
    /// Whether the progress table has its `in_flight` column (an older pelican made it
    /// without), bound to the table's schema and name: a row if it has.
    pub(crate) in_flight_column: &'static str,
    /// Marks, in the batch that sends a migration's last statement with its record,
    /// that the statement ran and the record is being written (in the session, where
    /// no rollback undoes it).
    pub(crate) mark: &'static str,
    /// Clears the mark once the record is written.
    pub(crate) unmark: &'static str,
    /// Reads the mark, as `mark`: not null once set.
    pub(crate) read_mark: &'static str,
}

/// The statements that turn a session's autocommit off, keeping what it was, and put
/// it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AutocommitSql {
    pub(crate) off: &'static str,
    pub(crate) restore: &'static str,
}

/// How the migration lock is taken.
pub(crate) enum LockStrategy {
    /// The database's own write lock, held by a write transaction (SQLite's
    /// `BEGIN IMMEDIATE`) taken by these statements: it lasts as long as that
    /// transaction.
    WriteTransaction(WriteLockSql),
    /// A lock of the server's session, taken and released by these statements
    /// (PostgreSQL's advisory lock, MySQL's `GET_LOCK`): it outlives transactions.
    Session(SessionSql),
}

/// The statements of a lease: the migration lock as a row of pelican's own table, for
/// connections that reach the server through a transaction-pooling proxy, where no
/// session outlives a transaction (see `crate::lock`). Each names the table as `{table}`
/// (schema-qualified and quoted by the caller) and returns one row of `answer`, `who`
/// or `value`, or none.
pub(crate) struct LeaseSql {
    /// The table, created if missing.
    pub(crate) create: &'static str,
    /// Whether the table exists, binding its qualified name: `answer` 1 or 0.
    pub(crate) exists: &'static str,
    /// Bounds the waits of the rest of the transaction, binding a duration as text.
    pub(crate) local_lock_timeout: &'static str,
    /// Takes a transaction-scoped lock on a key without waiting: `answer` 1 if taken.
    /// Serializes the table's creation and the takes, and keeps them out while a run
    /// on a direct connection holds the session lock on the same key.
    pub(crate) try_transaction_lock: &'static str,
    /// Takes the lease if nobody holds it or the holder's lease has expired, binding
    /// the token, the holder's description and the lease in milliseconds: a row if
    /// taken.
    pub(crate) take: &'static str,
    /// Extends the lease, binding the lease in milliseconds and the token: a row if
    /// this token still holds it.
    pub(crate) renew: &'static str,
    /// Gives the lease back, binding the token: a row if this token held it.
    pub(crate) release: &'static str,
    /// Whether a lease is held and not expired: `answer` 1 if so.
    pub(crate) live: &'static str,
    /// Describes the holder and its lease as `who`, the server's clock measuring both.
    pub(crate) holder: &'static str,
}

/// The statements of a write-transaction lock (SQLite's).
pub(crate) struct WriteLockSql {
    /// Begins the write transaction that is the lock, waiting for another connection's
    /// for as long as the connection's busy timeout says.
    pub(crate) begin: &'static str,
    /// Reads the connection's busy timeout as `timeout` (milliseconds), to put it back.
    pub(crate) read_busy_timeout: &'static str,
    /// How the database says `begin` waited its whole busy timeout in vain: its
    /// message holds one of these.
    pub(crate) busy: &'static [&'static str],
    /// Keeps the file locked across a commit (and so against every other connection),
    /// while the run steps out of its transaction.
    pub(crate) keep_across_commit: &'static str,
    /// Lets the lock go with the transaction again.
    pub(crate) release_with_transaction: &'static str,
}

/// How foreign keys are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ForeignKeyEnforcement {
    /// A connection setting (SQLite's `PRAGMA foreign_keys`) that a run switches off
    /// with these statements, checking the keys before each commit.
    ConnectionSetting(ForeignKeySql),
    /// By the server, always; a migration that needs them off says so itself.
    Server,
}

/// The statements of a connection's foreign-key setting (SQLite's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForeignKeySql {
    /// Reads the setting as `foreign_keys` (1 on), without waiting on another
    /// connection's lock.
    pub(crate) read: &'static str,
    /// Switches enforcement off.
    pub(crate) off: &'static str,
    /// Switches it back on.
    pub(crate) on: &'static str,
    /// Lists the rows that break a key, as `tbl`, `row_id` (text, or NULL) and `parent`.
    pub(crate) violations: &'static str,
}

/// How `check`'s round trip reads again only the groups of the catalog a step can have
/// changed (see `catalog::Reader::read_groups`): each backend's catalog answers a
/// narrowed question its own way.
pub(crate) enum ScopedRead {
    /// The query listing the objects of the groups `keys` and of those named by one of
    /// `words` (a part of [`Dialect::catalog_objects_query`]'s list), whose groups are
    /// introspected again where their objects changed (SQLite, whose `sqlite_master` is
    /// the whole schema); `None` where the names are too many to list by, and the
    /// catalog is read whole.
    ///
    /// [`Dialect::catalog_objects_query`]: super::Dialect::catalog_objects_query
    ListedObjects(fn(&BTreeSet<String>, &[&str]) -> Option<String>),
    /// The relations listed, and each in scope read by queries naming it (MySQL and
    /// MariaDB, whose `information_schema` opens only the tables a query names by
    /// equality).
    PerRelation(RelationSql),
    /// One query reading the groups whose key is one of `keys` or whose name's last
    /// part, lowercased or not, is one of `words`, and every row of no group, with what
    /// it needs prepared (PostgreSQL); `None` where it cannot be written for these
    /// names, and the catalog is read whole.
    Query(fn(&[&str], &[&str]) -> Option<GroupsQuery>),
}

/// The queries of a [`ScopedRead::PerRelation`] read.
pub(crate) struct RelationSql {
    /// Lists every relation's name, as `name`, with `n` (opening no table).
    pub(crate) relations: &'static str,
    /// How many relations one query of [`tables`](RelationSql::tables) names.
    pub(crate) per_query: usize,
    /// The introspection query's rows of these tables (their triggers too where the
    /// second argument says so).
    pub(crate) tables: fn(&[&str], bool) -> String,
    /// The introspection query's rows of no table (the CHECK constraints too where the
    /// argument says so).
    pub(crate) global: fn(bool) -> String,
}
