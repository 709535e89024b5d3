//! Joining never changes meaning: where migrations (or a snapshot's statements) may share
//! one transaction, and where that transaction must commit.
//!
//! diesel's harness runs every migration in a transaction of its own, on one connection.
//! pelican joins them (the fresh build's batch, the atomic runs of `migrate` and `Boot`)
//! only where the result cannot differ from that:
//!
//! - a migration that sets session state (`SET`, `SET LOCAL`, `RESET`, `set_config`,
//!   `DISCARD`, a `PRAGMA`, a temporary table, transaction control, a `DO` block that
//!   may do any of these) runs in a transaction of its own, as under diesel: its
//!   transaction-scoped state ends at its commit and cannot reach the next migration,
//!   and what it sets for the session persists on the connection as it does under
//!   the diesel pelican is built with (diesel 2.4's harness sets the search_path back
//!   after each migration: see `Operations::harness_search_path`);
//! - a migration whose effect must be committed before a later use (`ALTER TYPE … ADD
//!   VALUE`: PostgreSQL refuses the new value in the transaction that added it) ends its
//!   transaction;
//! - a migration with `run_in_transaction = false` runs outside any transaction;
//! - on PostgreSQL, a transaction also ends before it would take more locks than the
//!   budget (see [`lock_budget`]): every table, index and sequence a transaction creates
//!   holds a lock until it commits, and the server's lock table is shared.
//!
//! [`boundary`] decides for one file and [`parts`] cuts a sequence; every joining path
//! asks them.

pub(crate) use crate::outcome::Reason;
use crate::split::split;
use crate::{Backend, Database, Error, Result};

/// How many locks a statement is counted as taking: a `CREATE TABLE` with a serial key
/// and a text column takes five (the table, its sequence, its key's index, its TOAST
/// table and that table's index); one more for what the budget cannot see.
pub(crate) const LOCKS_PER_STATEMENT: usize = 6;

/// What one migration file (or a snapshot's statement) is to joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// It may share a transaction with its neighbours.
    Joinable,
    /// It sets session state: a transaction of its own.
    SessionState,
    /// Its effect must commit before a later migration uses it: its transaction ends
    /// after it.
    NeedsCommit,
    /// It runs outside any transaction (`run_in_transaction = false`).
    Outside,
}

/// One item of a sequence to join: what it is to joining, and how many locks it is
/// counted as taking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unit {
    pub(crate) boundary: Boundary,
    pub(crate) locks: usize,
}

/// A run of consecutive items that share one transaction (or, for `Outside`, run
/// outside any), and why its transaction ends where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) range: std::ops::Range<usize>,
    /// False for an item that runs outside a transaction.
    pub(crate) transaction: bool,
    pub(crate) ends: Reason,
}

/// What a file is to joining: `sql` is its text, `in_transaction` its metadata's
/// `run_in_transaction`.
pub(crate) fn boundary(sql: &str, in_transaction: bool, backend: Backend) -> Boundary {
    if !in_transaction {
        return Boundary::Outside;
    }
    let mut needs_commit = false;
    for statement in split(sql, backend) {
        match statement_boundary(statement.sql) {
            Boundary::SessionState => return Boundary::SessionState,
            Boundary::NeedsCommit => needs_commit = true,
            Boundary::Joinable | Boundary::Outside => {}
        }
    }
    if needs_commit {
        Boundary::NeedsCommit
    } else {
        Boundary::Joinable
    }
}

/// Whether a file may set session state (the search_path among it), whether it runs in
/// a transaction or not.
pub(crate) fn sets_session_state(sql: &str, backend: Backend) -> bool {
    boundary(sql, true, backend) == Boundary::SessionState
}

/// How many locks a file's statements are counted as taking.
pub(crate) fn locks(sql: &str, backend: Backend) -> usize {
    let statements = split(sql, backend)
        .iter()
        .filter(|s| !s.sql.is_empty())
        .count();
    statements.max(1) * LOCKS_PER_STATEMENT
}

/// One statement: what it is to joining. Conservative: a statement that might set
/// session state is taken to (the cost is a commit).
fn statement_boundary(sql: &str) -> Boundary {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let first = words.first().copied().unwrap_or_default();
    let session = matches!(
        first,
        "set"
            | "reset"
            | "discard"
            | "pragma"
            | "begin"
            | "start"
            | "commit"
            | "end"
            | "rollback"
            | "abort"
            | "savepoint"
            | "release"
            | "prepare"
            | "deallocate"
            | "declare"
            | "listen"
            | "unlisten"
            | "load"
    ) || words.contains(&"set_config")
        // A temporary table lives as long as the session, or its transaction.
        || (first == "create"
            && words
                .iter()
                .skip(1)
                .take(3)
                .any(|w| matches!(*w, "temp" | "temporary")))
        // A DO block may run any of the above.
        || (first == "do" && words.iter().any(|w| matches!(*w, "set" | "reset" | "execute")));
    if session {
        return Boundary::SessionState;
    }
    let adds_value = first == "alter"
        && words.get(1) == Some(&"type")
        && words.windows(2).any(|w| w == ["add", "value"]);
    if adds_value {
        return Boundary::NeedsCommit;
    }
    Boundary::Joinable
}

/// Cuts a sequence into parts, in order: a `SessionState` item alone in its
/// transaction, an `Outside` item alone outside any, a transaction ending after a
/// `NeedsCommit` item, and, given a `budget`, before an item whose locks would take it
/// over (an item over the budget by itself still gets a transaction of its own).
pub(crate) fn parts(units: &[Unit], budget: Option<usize>) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut locks = 0;
    let close = |parts: &mut Vec<Part>, range: std::ops::Range<usize>, ends: Reason| {
        if !range.is_empty() {
            parts.push(Part {
                range,
                transaction: true,
                ends,
            });
        }
    };
    for (index, unit) in units.iter().enumerate() {
        let alone = match unit.boundary {
            Boundary::SessionState => Some((Reason::SessionState, true)),
            Boundary::Outside => Some((Reason::OutsideTransaction, false)),
            Boundary::Joinable | Boundary::NeedsCommit => None,
        };
        if let Some((reason, transaction)) = alone {
            close(&mut parts, start..index, reason);
            parts.push(Part {
                range: index..index + 1,
                transaction,
                ends: reason,
            });
            start = index + 1;
            locks = 0;
            continue;
        }
        if let Some(budget) = budget {
            if index > start && locks + unit.locks > budget {
                close(&mut parts, start..index, Reason::LockBudget);
                start = index;
                locks = 0;
            }
        }
        locks += unit.locks;
        if unit.boundary == Boundary::NeedsCommit {
            close(&mut parts, start..index + 1, Reason::NeedsCommit);
            start = index + 1;
            locks = 0;
        }
    }
    close(&mut parts, start..units.len(), Reason::End);
    if let Some(last) = parts.last_mut() {
        if last.transaction {
            last.ends = Reason::End;
        }
    }
    parts
}

/// How many locks one of pelican's transactions may take on this server: `None` where
/// there is no such limit. On PostgreSQL, a quarter of the server's lock table
/// (`max_locks_per_transaction` × (`max_connections` + `max_prepared_transactions`)),
/// so that a long run leaves the rest to the sessions beside it.
pub(crate) fn lock_budget<C: Database>(conn: &mut C) -> Result<Option<usize>> {
    let Some(sql) = conn.backend().dialect().lock_table_query() else {
        return Ok(None);
    };
    let rows: Vec<Size> = conn.load_with(sql, &[]).map_err(Error::query(
        "cannot read the size of the server's lock table",
    ))?;
    let size = rows.first().map_or(0, |row| row.size);
    Ok(Some(
        usize::try_from(size / 4)
            .unwrap_or(usize::MAX)
            .max(LOCKS_PER_STATEMENT),
    ))
}

#[derive(diesel::QueryableByName)]
struct Size {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    size: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(sql: &str) -> Boundary {
        boundary(sql, true, Backend::Postgres)
    }

    #[test]
    fn session_state_and_commits_are_found() {
        assert_eq!(of("CREATE TABLE t (id int);"), Boundary::Joinable);
        assert_eq!(
            of("SET LOCAL search_path = other;\nCREATE TABLE t (id int);"),
            Boundary::SessionState
        );
        assert_eq!(
            of("select set_config('search_path', 'x', true);"),
            Boundary::SessionState
        );
        assert_eq!(of("-- why\nreset search_path;"), Boundary::SessionState);
        assert_eq!(
            of("CREATE TEMP TABLE scratch (id int) ON COMMIT DROP;"),
            Boundary::SessionState
        );
        assert_eq!(
            of("DO $$ BEGIN EXECUTE 'SET LOCAL x.y = 1'; END $$;"),
            Boundary::SessionState
        );
        assert_eq!(
            of("ALTER TYPE mood ADD VALUE 'meh';"),
            Boundary::NeedsCommit
        );
        assert_eq!(
            of("UPDATE t SET x = 1;"),
            Boundary::Joinable,
            "SET inside an UPDATE is not session state"
        );
        assert_eq!(
            boundary(
                "CREATE INDEX CONCURRENTLY i ON t (x);",
                false,
                Backend::Postgres
            ),
            Boundary::Outside
        );
    }

    fn unit(boundary: Boundary) -> Unit {
        Unit { boundary, locks: 6 }
    }

    #[test]
    fn parts_commit_at_boundaries_and_at_the_budget() {
        use Boundary::*;
        let units = [
            unit(Joinable),
            unit(SessionState),
            unit(Joinable),
            unit(NeedsCommit),
            unit(Joinable),
            unit(Outside),
            unit(Joinable),
        ];
        let cut: Vec<_> = parts(&units, None)
            .into_iter()
            .map(|p| (p.range, p.transaction, p.ends))
            .collect();
        assert_eq!(
            cut,
            [
                (0..1, true, Reason::SessionState),
                (1..2, true, Reason::SessionState),
                (2..4, true, Reason::NeedsCommit),
                (4..5, true, Reason::OutsideTransaction),
                (5..6, false, Reason::OutsideTransaction),
                (6..7, true, Reason::End),
            ]
        );
        let many = vec![unit(Joinable); 10];
        let cut: Vec<_> = parts(&many, Some(18))
            .into_iter()
            .map(|p| p.range)
            .collect();
        assert_eq!(cut, [0..3, 3..6, 6..9, 9..10]);
        assert_eq!(parts(&many, None).len(), 1);
        assert!(parts(&[], None).is_empty());
    }
}
