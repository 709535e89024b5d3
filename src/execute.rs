//! The executor: how a migration's SQL (or a snapshot's) reaches the server, for every
//! path that sends it: the [migrator](crate::migrator) (`migrate`, `downgrade`, `redo`,
//! dry runs), [`boot`](crate::boot)'s fresh build and snapshot load, `check`'s replay,
//! and the [test harness](crate::testing) through them.
//!
//! Why one place: pelican's first rule is never to change what a migration does, and
//! what it does is the text the server receives. So the few shapes that text takes are
//! written here once: a file whole, as diesel sends it ([`file`], [`file_after`]); one
//! statement alone, under a savepoint where asked ([`statement`], [`statement_before`]);
//! files or statements joined into batches of about [`BATCH_BYTES`] ([`file_piece`],
//! [`statement_piece`], [`batches`], [`run_batches`]); and, after a batch failed, its
//! statements again one by one to find the one that fails ([`one_by_one`]). A statement
//! the server refuses becomes [`Error::Statement`] here and nowhere else
//! ([`statement_error`], [`refused`]), with the server's message as
//! [`statement_message`] words it and diesel's error kept as its source.
//!
//! What stays with each path: what it runs, in which transaction, what it does with a
//! failure (retry guarded, undo the build, note it), and its own statements around the
//! author's (the ledger's record, `BEGIN`, `COMMIT`).

use crate::source::{Direction, Migration};
use crate::split::{split, Statement};
use crate::{Backend, Database, Error, Result};

/// What sending SQL gives: the server's error as diesel reports it.
pub(crate) type Sent = std::result::Result<(), diesel::result::Error>;

/// A batch grows to about this size before it is sent, so that one holding large seed
/// data stays under MySQL's `max_allowed_packet`.
pub(crate) const BATCH_BYTES: usize = 4 << 20;

/// The name of the savepoint a statement runs under when one is wanted.
const SAVEPOINT: &str = "pelican_statement";

/// A migration's file, whole, as one batch: as diesel's harness sends it. (A file
/// there is not, a `down.sql` of none, sends nothing.)
pub(crate) fn file<C: Database>(conn: &mut C, migration: &Migration, direction: Direction) -> Sent {
    file_after(conn, "", migration, direction)
}

/// pelican's own statements `before`, then a migration's file whole, in one batch: the
/// file comes last, so that nothing is appended to the author's text.
pub(crate) fn file_after<C: Database>(
    conn: &mut C,
    before: &str,
    migration: &Migration,
    direction: Direction,
) -> Sent {
    let sql = migration.sql(direction).unwrap_or_default();
    if before.is_empty() {
        return conn.batch_execute(sql);
    }
    if sql.len() > BATCH_BYTES {
        // A large file is not copied to put `before` in front of it: a round trip of
        // its own for `before` is nothing beside sending the file.
        conn.batch_execute(before)?;
        return conn.batch_execute(sql);
    }
    conn.batch_execute(&format!("{before}{sql}"))
}

/// Runs one statement alone; under a savepoint when `savepoint`, so that a refused
/// statement leaves the transaction usable (PostgreSQL aborts a transaction at its
/// first error).
pub(crate) fn statement<C: Database>(conn: &mut C, sql: &str, savepoint: bool) -> Sent {
    if !savepoint {
        return conn.batch_execute(sql);
    }
    // One round trip, not three: the server runs the three in order and stops at the
    // statement if it fails, the savepoint taken (a failing migration of 500,000
    // statements is retried in a third of the round trips).
    let piece = statement_piece(sql);
    match conn.batch_execute(&format!(
        "SAVEPOINT {SAVEPOINT};\n{piece}RELEASE SAVEPOINT {SAVEPOINT}"
    )) {
        Ok(()) => Ok(()),
        Err(error) => Err(undo_savepoint(conn, error)),
    }
}

/// Statements sent together under a savepoint taken in a round trip of its own: where
/// one of them may not even parse. PostgreSQL parses a batch whole before it runs any
/// of it, so a syntax error in a batch that began with `SAVEPOINT` leaves the
/// transaction aborted with no savepoint to roll back to; taken first, the savepoint is
/// there to undo the refused batch, and the transaction goes on.
pub(crate) fn statements_apart<C: Database>(conn: &mut C, sql: &str) -> Sent {
    conn.batch_execute(&format!("SAVEPOINT {SAVEPOINT}"))?;
    match conn.batch_execute(&format!(
        "{}RELEASE SAVEPOINT {SAVEPOINT}",
        statement_piece(sql)
    )) {
        Ok(()) => Ok(()),
        Err(error) => Err(undo_savepoint(conn, error)),
    }
}

/// Rolls back to [`SAVEPOINT`] and releases it after `error`, which is returned: the
/// statement's error is the one that matters, and a connection too broken to roll back
/// reports itself on the next statement.
fn undo_savepoint<C: Database>(
    conn: &mut C,
    error: diesel::result::Error,
) -> diesel::result::Error {
    let _ = conn.batch_execute(&format!(
        "ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
    ));
    error
}

/// One statement, then pelican's own statements `after` (a step's record and its
/// `COMMIT`), in one round trip.
pub(crate) fn statement_before<C: Database>(conn: &mut C, sql: &str, after: &str) -> Sent {
    conn.batch_execute(&format!("{}{after}", statement_piece(sql)))
}

/// A file's text as one piece of a batch of files: the author's text as it is, starting
/// on a new line for what follows, and a `;` on a line of its own (a trailing `--`
/// comment cannot swallow it) only when its last statement has none. `None` for a file
/// without a statement: it adds nothing.
pub(crate) fn file_piece(sql: &str, backend: Backend) -> Option<String> {
    let pieces = split(sql, backend);
    let last = pieces.iter().rev().find(|p| !p.sql.is_empty())?;
    let mut piece = format!("{sql}\n");
    if !last.terminated() {
        piece.push_str(";\n");
    }
    Some(piece)
}

/// A statement (without its `;`) as one piece of a batch: a newline first, since it
/// may end in a `--` comment, then its `;` on a line of its own.
pub(crate) fn statement_piece(sql: &str) -> String {
    format!("{sql}\n;\n")
}

/// Joins pieces into batches, in order: a new batch begins once the one being filled
/// is over [`BATCH_BYTES`]. Lazy, so a large text is never held twice.
pub(crate) fn batches<S: AsRef<str>>(
    pieces: impl IntoIterator<Item = S>,
) -> impl Iterator<Item = String> {
    let mut pieces = pieces.into_iter().fuse();
    let mut batch = String::new();
    std::iter::from_fn(move || {
        for piece in pieces.by_ref() {
            if batch.len() > BATCH_BYTES {
                let full = std::mem::replace(&mut batch, piece.as_ref().to_owned());
                return Some(full);
            }
            batch.push_str(piece.as_ref());
        }
        (!batch.is_empty()).then(|| std::mem::take(&mut batch))
    })
}

/// Sends batches one after another, stopping at the first the server refuses.
pub(crate) fn run_batches<C: Database, S: AsRef<str>>(
    conn: &mut C,
    batches: impl IntoIterator<Item = S>,
) -> Sent {
    for batch in batches {
        conn.batch_execute(batch.as_ref())?;
    }
    Ok(())
}

/// Runs every statement of these files alone, in order, as written (no savepoint, in
/// whatever transaction the caller holds): after a batch of them failed, this names
/// the statement that fails, as [`Error::Statement`].
pub(crate) fn one_by_one<'m, C: Database>(
    conn: &mut C,
    files: impl IntoIterator<Item = (&'m Migration, Direction)>,
) -> Result<()> {
    let backend = conn.backend();
    for (migration, direction) in files {
        let Some(sql) = migration.sql(direction) else {
            continue;
        };
        for piece in split(sql, backend) {
            if piece.sql.is_empty() {
                continue;
            }
            statement(conn, piece.sql, false)
                .map_err(|error| refused(backend, migration, direction, &piece, error))?;
        }
    }
    Ok(())
}

/// The error for a statement of a migration's file the server refused: its message as
/// [`statement_message`] words it, diesel's error kept as the source (applications
/// match its `DatabaseErrorKind`).
pub(crate) fn refused(
    backend: Backend,
    migration: &Migration,
    direction: Direction,
    statement: &Statement<'_>,
    error: diesel::result::Error,
) -> Error {
    statement_error(
        migration,
        direction,
        statement,
        statement_message(backend, &error),
        Some(error),
    )
}

/// The one place [`Error::Statement`] is built: the migration, its file, the
/// statement's line and first line, `message`, and the database's error when the
/// statement failed in the database (a directive pelican could not read has none).
pub(crate) fn statement_error(
    migration: &Migration,
    direction: Direction,
    statement: &Statement<'_>,
    message: String,
    source: Option<diesel::result::Error>,
) -> Error {
    Error::Statement {
        migration: migration.name().to_owned(),
        file: migration.file(direction),
        line: statement.line,
        statement: first_line(statement.sql),
        message,
        source: source.map(|error| Box::new(error) as _),
    }
}

/// The first line of a statement, for messages and listings.
pub(crate) fn first_line(sql: &str) -> String {
    sql.lines().next().unwrap_or_default().trim().to_owned()
}

/// Whether the server refused a statement because it cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER TYPE … ADD VALUE` on old servers).
pub(crate) fn cannot_run_in_transaction(backend: Backend, error: &diesel::result::Error) -> bool {
    let message = error.to_string().to_ascii_lowercase();
    backend
        .dialect()
        .messages()
        .not_in_transaction
        .iter()
        .any(|words| message.contains(words))
}

/// Whether the connection died under a statement.
pub(crate) fn connection_lost(backend: Backend, error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    let message = error.to_string();
    matches!(
        error,
        Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Diesel::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
    ) || backend
        .dialect()
        .messages()
        .connection_lost
        .iter()
        .any(|words| message.contains(words))
}

/// The database's message for a failed statement; a lost connection says what to do.
pub(crate) fn statement_message(backend: Backend, error: &diesel::result::Error) -> String {
    let message = error.to_string();
    if let Some(words) = backend.dialect().messages().out_of_locks {
        if message.contains(words) {
            // Its hint, which names the setting, is not in diesel's message.
            return format!(
                "{} (the server's lock table is full: a transaction holds a lock on every \
                 table, index and sequence it creates until it commits; raise the server's \
                 max_locks_per_transaction, or split the migration)",
                message.trim_end()
            );
        }
    }
    if connection_lost(backend, error) {
        format!(
            "{} (the connection to the database was lost; nothing of this migration was \
             recorded: run the command again, and pelican will resume where it stopped)",
            message.trim_end()
        )
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "postgres")]
    fn a_full_lock_table_names_max_locks_per_transaction() {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        let error = Diesel::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("out of shared memory".to_owned()),
        );
        assert_eq!(
            statement_message(Backend::Postgres, &error),
            "out of shared memory (the server's lock table is full: a transaction holds a \
             lock on every table, index and sequence it creates until it commits; raise the \
             server's max_locks_per_transaction, or split the migration)"
        );
    }

    #[test]
    fn a_batch_is_sent_once_it_is_over_the_bound() {
        let big = "x".repeat(BATCH_BYTES);
        let sent: Vec<String> = batches(["a", big.as_str(), "b", "c", big.as_str(), "d"]).collect();
        assert_eq!(
            sent,
            [format!("a{big}"), format!("bc{big}"), "d".to_owned()],
            "a piece joins a batch not yet over the bound, whatever its size"
        );
        assert_eq!(batches(Vec::<String>::new()).count(), 0);
        assert_eq!(batches(["", ""]).count(), 0);
    }

    #[test]
    fn a_file_gets_a_semicolon_only_where_its_last_statement_lacks_one() {
        let backend = Backend::Postgres;
        assert_eq!(
            file_piece("CREATE TABLE t (id INT);", backend).as_deref(),
            Some("CREATE TABLE t (id INT);\n")
        );
        assert_eq!(
            file_piece("CREATE TABLE t (id INT) -- the end", backend).as_deref(),
            Some("CREATE TABLE t (id INT) -- the end\n;\n")
        );
        assert_eq!(file_piece("-- nothing\n", backend), None);
        // crates.io's 2025-02-11-122509: a `;` in the comment after the last statement
        // does not end it.
        assert_eq!(
            file_piece(
                "COMMENT ON TABLE t IS 'x'\n\n-- by hand: UPDATE t SET x = 1;\n",
                backend
            )
            .as_deref(),
            Some("COMMENT ON TABLE t IS 'x'\n\n-- by hand: UPDATE t SET x = 1;\n\n;\n")
        );
        assert_eq!(
            file_piece("SELECT 1 /* ; */ ;  \n-- done;\n", backend).as_deref(),
            Some("SELECT 1 /* ; */ ;  \n-- done;\n\n")
        );
        assert_eq!(statement_piece("SELECT 1 -- one"), "SELECT 1 -- one\n;\n");
    }
}
