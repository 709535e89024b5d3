//! One migration run per database at a time, across processes and machines.
//!
//! [`with`] takes the lock, runs a closure, and gives the lock back on every path, a
//! failed run included: a scope, never a `lock()` and an `unlock()` a `?` could come
//! between (sqlx's migrator returns early there and leaves its advisory lock held on
//! a pooled connection).
//!
//! Per backend:
//!
//! - **PostgreSQL**: a session advisory lock on [`POSTGRES_KEY`], a key of pelican's own
//!   (advisory locks are scoped to the current database, so one key serves every
//!   database on a server). A timeout names the holder from `pg_locks` and
//!   `pg_stat_activity`: its pid, application, client address and user.
//! - **MySQL/MariaDB**: `GET_LOCK('pelican_migrations_<database>')`; a timeout names
//!   the holder's connection id (`IS_USED_LOCK`), with its user and host when the
//!   process list shows them.
//! - **SQLite**: the database's write lock: `BEGIN IMMEDIATE`, waiting up to the
//!   timeout (`PRAGMA busy_timeout`), held until the run ends. The run's own
//!   transactions become savepoints inside it, and the scope commits on every path, so
//!   what a failed run recorded before it failed stays, as it would without the lock.
//!   A connection already in a transaction is run as it is: that transaction is the
//!   scope, and SQLite takes the write lock at its first write.
//!
//! A run first tries the lock without waiting (one short query, all it takes when
//! nobody else is migrating); if it is taken, the run waits. On PostgreSQL it polls
//! (`pg_try_advisory_lock` after 20 ms, then at doubling pauses up to 250 ms): a
//! statement waiting in `pg_advisory_lock` holds a snapshot, and a holder running
//! `CREATE INDEX CONCURRENTLY` waits for every older snapshot to go, so the two would
//! wait for each other until the server killed one (`deadlock detected`). On MySQL the
//! run waits in the server, which hands the lock over the moment it is released:
//! `GET_LOCK` with the timeout; on SQLite, in SQLite's busy handler. Only the timeout
//! given here bounds the wait: a statement timeout the session has (a MariaDB user's
//! `MAX_STATEMENT_TIME`, MySQL's `max_execution_time`) is lifted for the wait; each of
//! PostgreSQL's polls is too short for a role's `statement_timeout` or `lock_timeout`
//! to cut.
//!
//! Session locks and SQLite's file locks die with their connection, so a crashed
//! holder never leaves a database locked. The PostgreSQL and MySQL locks are
//! re-entrant: a scope inside another on the same connection takes them again at once.
//!
//! Through a transaction-pooling proxy (PgBouncer's `pool_mode = transaction`), where a
//! session lock would land on whichever server connection the proxy picked, PostgreSQL's
//! lock is a lease instead: a row of `__pelican_lock` with an expiry, taken in a
//! transaction of its own and renewed in the run's (see docs/boot.md, "Behind
//! PgBouncer"). [`PoolMode`] says which, from
//! `PELICAN_POOL_MODE` unless the caller names it.

use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use sha2::{Digest, Sha256};

use crate::connection::{set_busy_timeout, Bind};
use crate::dialect::{During, LockStrategy, SessionSql, WaitSetting, WriteLockSql};

mod lease;
use crate::trace;
use crate::{Database, Error, Result};
pub use lease::{lease_length, DEFAULT_LEASE, LEASE_ENV};
pub(crate) use lease::{renew, renewal_statement, LOCK_TABLE};

pub use crate::connection::{PoolMode, DEFAULT_TIMEOUT};

/// pelican's PostgreSQL advisory lock key: the first 63 bits of the SHA-256 of
/// `pelican_migrations`. Positive, so that `pg_locks` shows it as two 32-bit halves
/// that recombine without sign trouble; not any of sqlx's keys.
pub const POSTGRES_KEY: i64 = 0x37d0_b6b3_55ff_464f;

/// The longest user-level lock name MySQL accepts.
const MYSQL_NAME_MAX: usize = 64;

/// Runs `f` holding the migration lock of the database `conn` is connected to, waiting
/// at most `timeout` for it, and releases the lock however `f` ends.
///
/// A wait longer than `timeout` is [`Error::LockTimeout`], naming the holder where the
/// backend can tell. If `f` succeeds but the lock cannot be released (the session was
/// cut), that is [`Error::LockRelease`], or on SQLite, where the lock is the run's
/// transaction and releasing it commits the run, [`Error::Commit`]; if `f` fails, its
/// error is the one returned.
///
/// ```no_run
/// use std::time::Duration;
/// let mut conn = pelican::AnyConnection::establish("app.db")?;
/// let applied = pelican::lock::with(&mut conn, Duration::from_secs(10), |conn| {
///     // Nobody else migrates this database until this returns.
///     pelican::Migrator::new(&pelican::Migrations::from_dir("migrations")?)
///         .status(conn)
/// })?;
/// # Ok::<(), pelican::Error>(())
/// ```
pub fn with<C, T>(conn: &mut C, timeout: Duration, f: impl FnOnce(&mut C) -> Result<T>) -> Result<T>
where
    C: Database,
{
    with_holder(conn, |conn| conn, timeout, None, f)
}

/// [`with`] for connections that reach the database as `mode` says, rather than as
/// [`PoolMode::ENV`] does.
pub fn with_mode<C, T>(
    conn: &mut C,
    timeout: Duration,
    mode: PoolMode,
    f: impl FnOnce(&mut C) -> Result<T>,
) -> Result<T>
where
    C: Database,
{
    with_holder(conn, |conn| conn, timeout, Some(mode), f)
}

/// [`with`] or [`with_mode`], as `mode` says.
pub(crate) fn with_pool_mode<C, T>(
    conn: &mut C,
    timeout: Duration,
    mode: Option<PoolMode>,
    f: impl FnOnce(&mut C) -> Result<T>,
) -> Result<T>
where
    C: Database,
{
    with_holder(conn, |conn| conn, timeout, mode, f)
}

/// [`with`] for a value that holds the connection (a [`crate::server::Server`]): `f` is
/// given the holder, and `conn` finds the connection in it.
pub(crate) fn with_holder<H, C, T>(
    holder: &mut H,
    conn: fn(&mut H) -> &mut C,
    timeout: Duration,
    mode: Option<PoolMode>,
    f: impl FnOnce(&mut H) -> Result<T>,
) -> Result<T>
where
    C: Database,
{
    let held = acquire(conn(holder), timeout, PoolMode::or_env(mode)?)?;
    let result = f(holder);
    let released = release(conn(holder), held);
    match (result, released) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(error),
        // The run's own failure is what the user must act on; a session lock that could
        // not be released goes with its connection anyway.
        (Err(error), _) => Err(error),
    }
}

/// A lock held, and what giving it back takes.
enum Held {
    /// A PostgreSQL or MySQL session lock.
    Session(SessionLock),
    /// SQLite's write transaction, and the busy timeout to restore afterwards.
    WriteTransaction { busy_timeout: Duration },
    /// A transaction the caller opened: it is the scope, there is nothing to release.
    Enclosing,
    /// A lease (through a transaction-pooling proxy).
    Lease(lease::Taken),
}

/// Replaced by the seconds left in a `wait` statement.
const TIMEOUT_SECONDS: &str = "TIMEOUT_SECONDS";
/// Replaced by the milliseconds a `wait` statement may run, the wait and a margin.
const TIMEOUT_MILLIS: &str = "TIMEOUT_MILLIS";

/// A session lock's key, and how it reads in messages.
struct SessionLock {
    sql: SessionSql,
    key: Key,
    description: String,
}

enum Key {
    Int(i64),
    Text(String),
}

impl Key {
    fn bind(&self) -> Bind<'_> {
        match self {
            Key::Int(value) => Bind::Int(*value),
            Key::Text(value) => Bind::Text(value),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Answer {
    #[diesel(sql_type = Nullable<Integer>)]
    answer: Option<i32>,
}

#[derive(diesel::QueryableByName)]
struct Who {
    #[diesel(sql_type = Nullable<Text>)]
    who: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

fn acquire<C: Database>(conn: &mut C, timeout: Duration, mode: PoolMode) -> Result<Held> {
    let dialect = conn.backend().dialect();
    // A scope inside one that holds a lease on this connection takes the lease again,
    // whatever it was told.
    let lease = mode == PoolMode::Transaction || lease::holds(conn);
    if let (true, Some(sql)) = (lease, dialect.lease_sql()) {
        return Ok(match lease::acquire(conn, &sql, timeout)? {
            Some(taken) => Held::Lease(taken),
            None => Held::Enclosing,
        });
    }
    match dialect.lock_strategy() {
        LockStrategy::Session(sql) => {
            let lock = session_lock(conn, sql)?;
            wait_for(conn, &lock, timeout)?;
            Ok(Held::Session(lock))
        }
        LockStrategy::WriteTransaction(sql) => write_transaction(conn, &sql, timeout),
    }
}

fn session_lock<C: Database>(conn: &mut C, sql: SessionSql) -> Result<SessionLock> {
    let Some(database) = sql.database else {
        return Ok(SessionLock {
            sql,
            key: Key::Int(POSTGRES_KEY),
            description: format!("PostgreSQL advisory lock {POSTGRES_KEY}"),
        });
    };
    let rows: Vec<DatabaseName> = conn
        .load_with(database, &[])
        .map_err(Error::query("cannot read the current database"))?;
    let database = rows.into_iter().next().and_then(|r| r.name);
    let name = mysql_lock_name(database.as_deref().unwrap_or_default());
    Ok(SessionLock {
        sql,
        description: format!("GET_LOCK('{name}')"),
        key: Key::Text(name),
    })
}

/// `pelican_migrations_<database>`, shortened with a hash where MySQL's 64-character
/// limit on lock names demands it (two long names then still differ).
fn mysql_lock_name(database: &str) -> String {
    const PREFIX: &str = "pelican_migrations_";
    let name = format!("{PREFIX}{database}");
    if name.chars().count() <= MYSQL_NAME_MAX {
        return name;
    }
    let hash: String = Sha256::digest(database.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let room = MYSQL_NAME_MAX - PREFIX.len() - hash.len() - 1;
    let head: String = database.chars().take(room).collect();
    format!("{PREFIX}{head}_{hash}")
}

/// The lock a run of this process is waiting for (its description), and since when.
static WAITING: std::sync::Mutex<Option<(Instant, String)>> = std::sync::Mutex::new(None);

/// While a run of this process waits for the migration lock (another run holds it): the
/// lock, and how long it has waited, for a command line that says so once the wait
/// lasts (the library prints nothing).
pub(crate) fn waiting() -> Option<(String, Duration)> {
    let waiting = WAITING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    waiting
        .as_ref()
        .map(|(since, lock)| (lock.clone(), since.elapsed()))
}

/// Marks the wait for a lock, for [`waiting`], until dropped.
struct Waiting;

impl Waiting {
    fn start(lock: &str) -> Waiting {
        let mut waiting = WAITING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *waiting = Some((Instant::now(), lock.to_owned()));
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut waiting = WAITING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *waiting = None;
    }
}

/// The first pause of a waiter that polls, doubled after each poll up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(20);
/// The longest pause of a waiter that polls: how late, at most, it sees the lock free.
const POLL_MAX: Duration = Duration::from_millis(250);

/// Takes the lock if it is free (one short query, the usual case), else waits for it
/// for up to `timeout`: polling (PostgreSQL, see [`SessionSql::poll`]), or in the
/// server.
fn wait_for<C: Database>(conn: &mut C, lock: &SessionLock, timeout: Duration) -> Result<()> {
    let started = Instant::now();
    let cannot = || Error::query(format!("cannot take the {}", lock.description));
    let try_take = |conn: &mut C| -> Result<bool> {
        let rows: Vec<Answer> = conn
            .load_with(lock.sql.try_acquire, &[lock.key.bind()])
            .map_err(cannot())?;
        Ok(taken(&rows))
    };
    if try_take(conn)? {
        trace::lock_taken(&lock.description, started.elapsed(), false);
        return Ok(());
    }
    if !timeout.is_zero() && lock.sql.poll {
        trace::lock_waiting(&lock.description, timeout);
        let _waiting = Waiting::start(&lock.description);
        let mut pause = POLL_FIRST;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(POLL_MAX);
            if try_take(conn)? {
                trace::lock_taken(&lock.description, started.elapsed(), true);
                return Ok(());
            }
        }
    } else if !timeout.is_zero() {
        trace::lock_waiting(&lock.description, timeout);
        let _waiting = Waiting::start(&lock.description);
        let wait = lock
            .sql
            .wait
            .replace(TIMEOUT_SECONDS, &format!("{:.3}", timeout.as_secs_f64()))
            .replace(
                TIMEOUT_MILLIS,
                &(timeout + Duration::from_secs(10)).as_millis().to_string(),
            );
        let answer = bounded(conn, lock.sql.settings, timeout, |conn| {
            conn.load_with::<Answer>(&wait, &[lock.key.bind()])
        })?;
        match answer {
            Ok(rows) if taken(&rows) => {
                trace::lock_taken(&lock.description, started.elapsed(), true);
                return Ok(());
            }
            Ok(_) => {}
            Err(error)
                if lock
                    .sql
                    .expired
                    .is_some_and(|expired| error.to_string().contains(expired)) => {}
            Err(error) => return Err(cannot()(error)),
        }
    }
    // Who holds it is a courtesy: failing to find out must not hide the timeout.
    let rows: Vec<Who> = conn
        .load_with(lock.sql.holder, &[lock.key.bind()])
        .unwrap_or_default();
    let holder = rows.into_iter().find_map(|r| r.who);
    let waited_secs = started.elapsed().as_secs_f64();
    trace::lock_timed_out(&lock.description, waited_secs, holder.as_deref());
    Err(Error::LockTimeout {
        lock: lock.description.clone(),
        holder,
        waited_secs,
    })
}

fn taken(rows: &[Answer]) -> bool {
    rows.first().and_then(|r| r.answer) == Some(1)
}

/// Runs `wait` with each of `settings` set for it (the bound to `timeout`, the others
/// to none), and puts them back however the wait ended.
fn bounded<C: Database, T>(
    conn: &mut C,
    settings: &[WaitSetting],
    timeout: Duration,
    wait: impl FnOnce(&mut C) -> T,
) -> Result<T> {
    let context = "cannot set the lock wait's timeout";
    let mut previous = Vec::with_capacity(settings.len());
    for setting in settings {
        let rows: Vec<Value> = conn
            .load_with(setting.read, &[Bind::Text(setting.name)])
            .map_err(Error::query(context))?;
        previous.extend(rows.into_iter().next().map(|v| (setting, v.value)));
        let value = match setting.during {
            // At least a millisecond: 0 would mean no timeout at all.
            During::TimeLeft => format!("{}ms", timeout.as_millis().max(1)),
            During::Unlimited => "0".to_owned(),
        };
        conn.load_with::<Value>(setting.set, &[Bind::Text(setting.name), Bind::Text(&value)])
            .map_err(Error::query(context))?;
    }
    let result = wait(conn);
    for (setting, value) in &previous {
        conn.load_with::<Value>(setting.set, &[Bind::Text(setting.name), Bind::Text(value)])
            .map_err(Error::query(context))?;
    }
    Ok(result)
}

/// How SQLite's lock reads in messages.
const SQLITE_LOCK: &str = "the SQLite write lock";

fn write_transaction<C: Database>(
    conn: &mut C,
    sql: &WriteLockSql,
    timeout: Duration,
) -> Result<Held> {
    if conn.in_transaction()? {
        return Ok(Held::Enclosing);
    }
    let rows: Vec<BusyTimeout> = conn
        .load_with(sql.read_busy_timeout, &[])
        .map_err(Error::query("cannot read SQLite's busy timeout"))?;
    let previous = Duration::from_millis(rows.first().map_or(0, |r| r.timeout).max(0) as u64);
    set_busy_timeout(conn, timeout)?;
    let started = Instant::now();
    // SQLite waits inside BEGIN (its busy timeout): the wait, if any, is this statement.
    let waiting = Waiting::start(SQLITE_LOCK);
    let begun = conn.begin_with(sql.begin);
    drop(waiting);
    match begun {
        Ok(()) => {
            // SQLite waits inside BEGIN: a wait cannot be told from a lock taken at once.
            trace::lock_taken(SQLITE_LOCK, started.elapsed(), false);
            Ok(Held::WriteTransaction {
                busy_timeout: previous,
            })
        }
        Err(error) => {
            let _ = set_busy_timeout(conn, previous);
            let message = error.to_string();
            if sql.busy.iter().any(|busy| message.contains(busy)) {
                let waited_secs = started.elapsed().as_secs_f64();
                trace::lock_timed_out(SQLITE_LOCK, waited_secs, None);
                Err(Error::LockTimeout {
                    lock: SQLITE_LOCK.to_owned(),
                    holder: None,
                    waited_secs,
                })
            } else {
                Err(Error::Query {
                    context: "cannot take the SQLite write lock".to_owned(),
                    source: error,
                })
            }
        }
    }
}

/// Runs `f` outside the run's SQLite write transaction, for a migration SQLite refuses
/// to run inside one (`VACUUM`, `PRAGMA foreign_keys`), keeping every other connection
/// out all the same: the connection switches to `locking_mode = EXCLUSIVE`, so the
/// commit keeps the file locked, and takes the write transaction again afterwards. Where
/// the run's transaction is not the only one open (a caller's, a dry run's), `f` runs
/// inside it as it is.
pub(crate) fn outside_write_transaction<C: Database, T>(
    conn: &mut C,
    f: impl FnOnce(&mut C) -> Result<T>,
) -> Result<T> {
    let depth = conn.transaction_depth().map_err(Error::query(
        "cannot read the connection's transaction state",
    ))?;
    let LockStrategy::WriteTransaction(sql) = conn.backend().dialect().lock_strategy() else {
        return f(conn);
    };
    if depth != 1 {
        return f(conn);
    }
    conn.batch_execute(sql.keep_across_commit)
        .map_err(Error::query("cannot keep the SQLite lock across a commit"))?;
    conn.commit().map_err(|error| Error::Commit {
        message: error.to_string(),
    })?;
    let result = f(conn);
    let again = conn
        .begin_with(sql.begin)
        .and_then(|()| conn.batch_execute(sql.release_with_transaction))
        .map_err(Error::query("cannot take the SQLite write lock again"));
    match result {
        Err(error) => Err(error),
        Ok(value) => again.map(|()| value),
    }
}

fn release<C: Database>(conn: &mut C, held: Held) -> Result<()> {
    match held {
        Held::Session(lock) => {
            let rows: Vec<Answer> = conn
                .load_with(lock.sql.release, &[lock.key.bind()])
                .map_err(|e| Error::LockRelease {
                    lock: lock.description.clone(),
                    message: e.to_string(),
                })?;
            match rows.first().and_then(|r| r.answer) {
                Some(1) => Ok(()),
                answer => Err(Error::LockRelease {
                    lock: lock.description,
                    message: match answer {
                        Some(_) => "another session holds it".to_owned(),
                        None => "this session no longer held it".to_owned(),
                    },
                }),
            }
        }
        Held::WriteTransaction { busy_timeout } => {
            // The lock is the run's transaction: a COMMIT that fails (a full disk) is
            // the run failing, and diesel rolls it back.
            let committed = conn.commit();
            let _ = set_busy_timeout(conn, busy_timeout);
            committed.map_err(|error| Error::Commit {
                message: match error {
                    diesel::result::Error::RollbackErrorOnCommit { commit_error, .. } => {
                        commit_error.to_string()
                    }
                    other => other.to_string(),
                },
            })
        }
        Held::Enclosing => Ok(()),
        Held::Lease(taken) => match conn.backend().dialect().lease_sql() {
            Some(sql) => lease::release(conn, taken, &sql),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_lock_names_fit_in_64_characters() {
        assert_eq!(mysql_lock_name("app"), "pelican_migrations_app");
        let long = "a".repeat(60);
        let name = mysql_lock_name(&long);
        assert_eq!(name.len(), MYSQL_NAME_MAX);
        assert!(name.starts_with("pelican_migrations_aaaa"));
        let other = mysql_lock_name(&format!("{}b", "a".repeat(59)));
        assert_ne!(name, other, "two long names must not share a lock");
    }

    #[test]
    fn postgres_key_is_pelicans_own() {
        let digest = Sha256::digest(b"pelican_migrations");
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        assert_eq!(i64::from_be_bytes(first) & i64::MAX, POSTGRES_KEY);
    }
}
