//! The migration lock as a lease: a row of pelican's own table, `__pelican_lock`, for
//! connections that reach PostgreSQL through a transaction-pooling proxy (PgBouncer's
//! `pool_mode = transaction`), where a session advisory lock would stay on whichever
//! server connection took it, be released on another, or be taken again by the next
//! client the proxy hands that server connection to.
//!
//! Nothing of it outlives a transaction on the server but the row:
//!
//! - **Taking** it is one short transaction, whatever happened before: a
//!   transaction-scoped advisory lock on [`POSTGRES_KEY`] (so two
//!   takes, and the table's creation, never race, and no lease is granted while a run on
//!   a direct connection holds the session lock), then one `INSERT … ON CONFLICT DO
//!   UPDATE … WHERE expires_at < clock_timestamp()`: the row is written with this run's
//!   token only if there is none or the holder's lease has expired. Expiry is measured
//!   by the server's clock alone, so the clocks of the machines taking it never matter.
//! - **Waiting** is polling: a take every 20 ms, doubling up to 500 ms, up to the lock
//!   timeout; no transaction stays open between two, so a waiter never keeps a server
//!   connection of the pool from the holder.
//! - **Holding** it, the run renews the lease before each migration and at the start
//!   of each transaction it opens ([`renew`]): inside a transaction the renewal keeps
//!   the row locked until the commit, and a take that finds it locked is turned away
//!   as from a live holder, however long the transaction runs.
//! - **Releasing** it deletes the row, if it is still this run's.
//!
//! A holder that dies without releasing it keeps the database locked until its lease
//! expires ([`lease_length`], 120 s unless `PELICAN_LOCK_LEASE` says otherwise): then
//! the next take succeeds. A run that finds, renewing, that its lease was taken over
//! (it ran one statement longer than the lease outside any transaction) stops with
//! [`Error::LockLost`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Answer, DatabaseName, Value, Waiting, Who, POSTGRES_KEY};
use crate::connection::Bind;
use crate::dialect::LeaseSql;
use crate::trace;
use crate::{Database, Error, Result};

/// pelican's lease table, one row at most: the ledger's, as every `__pelican_*` table.
pub(crate) const LOCK_TABLE: &str = "__pelican_lock";

/// How long a lease lasts unless renewed, unless [`LEASE_ENV`] says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// The variable that sets the lease's length, in seconds.
pub const LEASE_ENV: &str = "PELICAN_LOCK_LEASE";

/// The longest a take waits for a row a live holder's transaction has locked.
const ROW_WAIT: Duration = Duration::from_secs(1);

/// The longest pause between two takes.
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// How long a lease lasts: [`LEASE_ENV`] in seconds (a decimal number above zero), or
/// [`DEFAULT_LEASE`] when it is unset or empty.
pub fn lease_length() -> Result<Duration> {
    let Ok(value) = std::env::var(LEASE_ENV) else {
        return Ok(DEFAULT_LEASE);
    };
    if value.trim().is_empty() {
        return Ok(DEFAULT_LEASE);
    }
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| Error::BadSetting {
            name: LEASE_ENV.to_owned(),
            value,
            expected: "a number of seconds above zero",
        })
}

/// A lease this thread holds: on which connection (its address, stable while the scope
/// borrows it), in which table, under which token, and how many scopes hold it.
struct Lease {
    conn: usize,
    table: String,
    token: String,
    description: String,
    length: Duration,
    depth: u32,
}

thread_local! {
    /// The leases of the runs on this thread: what [`renew`] renews, and what a scope
    /// inside another on the same connection takes again at once.
    static HELD: RefCell<Vec<Lease>> = const { RefCell::new(Vec::new()) };
}

/// A lease taken by [`acquire`], for [`release`].
pub(super) struct Taken {
    conn: usize,
}

/// The address of a connection, which names its lease on this thread.
fn address<C>(conn: &C) -> usize {
    conn as *const C as usize
}

/// Whether the run on `conn` holds a lease (on this thread).
pub(super) fn holds<C>(conn: &C) -> bool {
    let key = address(conn);
    HELD.with(|held| held.borrow().iter().any(|lease| lease.conn == key))
}

/// Takes the lease on the database `conn` is connected to, waiting up to `timeout`:
/// `None` inside a transaction the caller opened, where the lock is the transaction's.
pub(super) fn acquire<C: Database>(
    conn: &mut C,
    sql: &LeaseSql,
    timeout: Duration,
) -> Result<Option<Taken>> {
    let key = address(conn);
    if holds(conn) {
        // A scope inside another on this connection, if the row says the lease is
        // still this run's; else what is left of a scope a panic ended without
        // releasing (on a connection since dropped, whose address this one has).
        match renew(conn) {
            Ok(()) => {
                HELD.with(|held| {
                    if let Some(lease) = held.borrow_mut().iter_mut().find(|l| l.conn == key) {
                        lease.depth += 1;
                    }
                });
                return Ok(Some(Taken { conn: key }));
            }
            Err(_) => HELD.with(|held| held.borrow_mut().retain(|lease| lease.conn != key)),
        }
    }
    let length = lease_length()?;
    let table = table(conn)?;
    let description = format!("lease in {table}");
    if conn.in_transaction()? {
        // Held until the caller's transaction ends: nothing to release.
        enclosed(conn, sql, &table, &description, timeout)?;
        return Ok(None);
    }
    let token = token();
    let holder = whoami();
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    let mut waiting = None;
    loop {
        let claim = Claim {
            sql,
            table: &table,
            token: &token,
            holder: &holder,
            length,
        };
        match claim.attempt(conn)? {
            Attempt::Taken => {
                trace::lock_taken(&description, started.elapsed(), waiting.is_some());
                HELD.with(|held| {
                    held.borrow_mut().push(Lease {
                        conn: key,
                        table,
                        token,
                        description,
                        length,
                        depth: 1,
                    })
                });
                return Ok(Some(Taken { conn: key }));
            }
            Attempt::Busy => {
                let left = timeout.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(timed_out(conn, sql, &table, &description, started));
                }
                if waiting.is_none() {
                    trace::lock_waiting(&description, timeout);
                    waiting = Some(Waiting::start(&description));
                }
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// What a take found.
enum Attempt {
    Taken,
    /// Another run holds the lease (or the row, in a transaction that renewed it), or a
    /// run on a direct connection holds the session lock.
    Busy,
}

/// What a take writes, and where.
struct Claim<'a> {
    sql: &'a LeaseSql,
    table: &'a str,
    token: &'a str,
    holder: &'a str,
    length: Duration,
}

impl Claim<'_> {
    fn cannot(&self) -> impl FnOnce(diesel::result::Error) -> Error {
        Error::query(format!(
            "cannot take the migration lock (lease in {})",
            self.table
        ))
    }

    /// One take, in one transaction: committed if it took the lease, rolled back
    /// otherwise.
    fn attempt<C: Database>(&self, conn: &mut C) -> Result<Attempt> {
        conn.begin().map_err(self.cannot())?;
        match self.take(conn) {
            Ok(Attempt::Taken) => {
                conn.commit().map_err(self.cannot())?;
                Ok(Attempt::Taken)
            }
            other => {
                // Nothing of a take that failed is worth keeping; a rollback that fails
                // means the connection is gone, which the next statement says.
                let _ = conn.rollback();
                other
            }
        }
    }

    fn take<C: Database>(&self, conn: &mut C) -> Result<Attempt> {
        let (sql, table) = (self.sql, self.table);
        let row_wait = format!("{}ms", ROW_WAIT.as_millis());
        conn.load_with::<Value>(sql.local_lock_timeout, &[Bind::Text(&row_wait)])
            .map_err(self.cannot())?;
        let rows: Vec<Answer> = conn
            .load_with(sql.try_transaction_lock, &[Bind::Int(POSTGRES_KEY)])
            .map_err(self.cannot())?;
        if !super::taken(&rows) {
            return Ok(Attempt::Busy);
        }
        let rows: Vec<Answer> = conn
            .load_with(sql.exists, &[Bind::Text(table)])
            .map_err(self.cannot())?;
        if !super::taken(&rows) {
            conn.batch_execute(&sql.create.replace("{table}", table))
                .map_err(Error::query(format!("cannot create {table}")))?;
        }
        let millis = self.length.as_millis().min(i64::MAX as u128) as i64;
        let taken = conn.load_with::<Answer>(
            &sql.take.replace("{table}", table),
            &[
                Bind::Text(self.token),
                Bind::Text(self.holder),
                Bind::Int(millis),
            ],
        );
        match taken {
            Ok(rows) if super::taken(&rows) => Ok(Attempt::Taken),
            Ok(_) => Ok(Attempt::Busy),
            // The holder renewed the lease in a transaction still open: it is alive.
            Err(error) if error.to_string().contains("lock timeout") => Ok(Attempt::Busy),
            Err(error) => Err(self.cannot()(error)),
        }
    }
}

/// The timeout, naming the holder: the lease's, as its row says, or else the direct
/// connection's session holding the advisory lock.
fn timed_out<C: Database>(
    conn: &mut C,
    sql: &LeaseSql,
    table: &str,
    description: &str,
    started: Instant,
) -> Error {
    // Who holds it is a courtesy: failing to find out must not hide the timeout.
    let holder = holder(conn, sql, table).or_else(|| {
        let crate::dialect::LockStrategy::Session(session) =
            conn.backend().dialect().lock_strategy()
        else {
            return None;
        };
        conn.load_with::<Who>(session.holder, &[Bind::Int(POSTGRES_KEY)])
            .unwrap_or_default()
            .into_iter()
            .find_map(|r| r.who)
            .map(|who| format!("{who} (holding the advisory lock: a run on a direct connection, or in a transaction of its caller)"))
    });
    let waited_secs = started.elapsed().as_secs_f64();
    trace::lock_timed_out(description, waited_secs, holder.as_deref());
    Error::LockTimeout {
        lock: description.to_owned(),
        holder,
        waited_secs,
    }
}

/// Holds the lock for a run inside a transaction the caller opened, which a take's row
/// would not leave before the caller commits: the transaction-scoped advisory lock
/// (so no take succeeds until the transaction ends, and the server releases it then),
/// once no live lease is left. Polled, as a take is.
fn enclosed<C: Database>(
    conn: &mut C,
    sql: &LeaseSql,
    table: &str,
    description: &str,
    timeout: Duration,
) -> Result<()> {
    let cannot = || Error::query(format!("cannot take the migration lock ({description})"));
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    let mut waiting = None;
    let mut locked = false;
    loop {
        if !locked {
            let rows: Vec<Answer> = conn
                .load_with(sql.try_transaction_lock, &[Bind::Int(POSTGRES_KEY)])
                .map_err(cannot())?;
            locked = super::taken(&rows);
        }
        if locked {
            let exists: Vec<Answer> = conn
                .load_with(sql.exists, &[Bind::Text(table)])
                .map_err(cannot())?;
            let live: Vec<Answer> = if super::taken(&exists) {
                conn.load_with(&sql.live.replace("{table}", table), &[])
                    .map_err(cannot())?
            } else {
                Vec::new()
            };
            if !super::taken(&live) {
                trace::lock_taken(description, started.elapsed(), waiting.is_some());
                return Ok(());
            }
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(timed_out(conn, sql, table, description, started));
        }
        if waiting.is_none() {
            trace::lock_waiting(description, timeout);
            waiting = Some(Waiting::start(description));
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Gives the lease back (or leaves it to the outer scope that holds it too).
pub(super) fn release<C: Database>(conn: &mut C, taken: Taken, sql: &LeaseSql) -> Result<()> {
    let lease = HELD.with(|held| {
        let mut held = held.borrow_mut();
        let index = held.iter().rposition(|lease| lease.conn == taken.conn)?;
        let lease = held.get_mut(index)?;
        lease.depth -= 1;
        (lease.depth == 0).then(|| held.remove(index))
    });
    let Some(lease) = lease else {
        return Ok(());
    };
    let rows: Vec<Answer> = conn
        .load_with(
            &sql.release.replace("{table}", &lease.table),
            &[Bind::Text(&lease.token)],
        )
        .map_err(|e| Error::LockRelease {
            lock: lease.description.clone(),
            message: e.to_string(),
        })?;
    if super::taken(&rows) {
        return Ok(());
    }
    Err(Error::LockLost {
        lock: lease.description,
        holder: holder(conn, sql, &lease.table),
    })
}

/// Renews the lease the run on `conn` holds, if it holds one (a run on a direct
/// connection holds none, and this does nothing): before each migration, and at the
/// start of each transaction a run opens, where the renewal keeps the row locked, and
/// so the lease alive, until the transaction ends. A lease another run took over
/// (expired: the run spent longer than the lease outside any transaction) is
/// [`Error::LockLost`], which stops the run.
pub(crate) fn renew<C: Database>(conn: &mut C) -> Result<()> {
    let key = address(conn);
    let lease = HELD.with(|held| {
        held.borrow()
            .iter()
            .rev()
            .find(|lease| lease.conn == key)
            .map(|lease| {
                (
                    lease.table.clone(),
                    lease.token.clone(),
                    lease.description.clone(),
                    lease.length,
                )
            })
    });
    let Some((table, token, description, length)) = lease else {
        return Ok(());
    };
    let Some(sql) = conn.backend().dialect().lease_sql() else {
        return Ok(());
    };
    let millis = length.as_millis().min(i64::MAX as u128) as i64;
    let rows: Vec<Answer> = conn
        .load_with(
            &sql.renew.replace("{table}", &table),
            &[Bind::Int(millis), Bind::Text(&token)],
        )
        .map_err(Error::query(format!(
            "cannot renew the migration lock ({description})"
        )))?;
    if super::taken(&rows) {
        return Ok(());
    }
    Err(Error::LockLost {
        lock: description,
        holder: holder(conn, &sql, &table),
    })
}

/// The statement [`renew`] runs, as text to send at the head of a batch that opens a
/// transaction (`BEGIN; …`, where no result can be read): the lease's row stays locked
/// until that transaction ends. `None` when the run on `conn` holds no lease. Whether
/// the lease is still this run's is what [`renew`] before the batch found out.
pub(crate) fn renewal_statement<C: Database>(conn: &mut C) -> Option<String> {
    let key = address(conn);
    let (table, token, length) = HELD.with(|held| {
        held.borrow()
            .iter()
            .rev()
            .find(|lease| lease.conn == key)
            .map(|lease| (lease.table.clone(), lease.token.clone(), lease.length))
    })?;
    let sql = conn.backend().dialect().lease_sql()?;
    let millis = length.as_millis().min(i64::MAX as u128);
    let token = format!("'{}'", token.replace('\'', "''"));
    Some(format!(
        "{};\n",
        sql.renew
            .replace("{table}", &table)
            .replacen('?', &millis.to_string(), 1)
            .replacen('?', &token, 1)
    ))
}

/// Who holds the lease now, if anyone, as the row says.
fn holder<C: Database>(conn: &mut C, sql: &LeaseSql, table: &str) -> Option<String> {
    conn.load_with::<Who>(&sql.holder.replace("{table}", table), &[])
        .unwrap_or_default()
        .into_iter()
        .find_map(|r| r.who)
}

/// The lease table, in the schema current when the run takes it, quoted.
fn table<C: Database>(conn: &mut C) -> Result<String> {
    let backend = conn.backend();
    let query = backend
        .dialect()
        .namespace_query()
        .unwrap_or("SELECT CAST(NULL AS TEXT) AS name");
    let rows: Vec<DatabaseName> = conn
        .load_with(query, &[])
        .map_err(Error::query("cannot read the current schema"))?;
    Ok(match rows.into_iter().find_map(|r| r.name) {
        Some(schema) => format!("{}.{}", backend.quote(&schema), backend.quote(LOCK_TABLE)),
        None => backend.quote(LOCK_TABLE),
    })
}

/// A token no other take has: the host, the process, when it started and a count.
fn token() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "{}:{}:{since}:{}",
        host(),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// How this run reads in another's timeout: its process and host, as a container's
/// logs name them.
fn whoami() -> String {
    let thread = std::thread::current();
    let thread = thread
        .name()
        .filter(|name| *name != "main")
        .map(|name| format!(", thread {name}"))
        .unwrap_or_default();
    format!(
        "pelican pid {} on host {}{thread}",
        std::process::id(),
        host()
    )
}

/// The machine's name (a container's is its pod's), where the system says it.
fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
