//! What a server's error says: the connection died, the statement cannot run in a
//! transaction, and the message a user reads.

/// Whether the server refused a statement because it cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER TYPE … ADD VALUE` on old servers).
pub(super) fn cannot_run_in_transaction(error: &diesel::result::Error) -> bool {
    let message = error.to_string().to_ascii_lowercase();
    message.contains("cannot run inside a transaction block")
        || message.contains("cannot vacuum from within a transaction")
        || message.contains("cannot be executed from a function")
}

/// Whether the connection died under a statement.
pub(super) fn connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    let message = error.to_string();
    matches!(
        error,
        Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Diesel::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
    )
        // libmysqlclient reports a lost connection (CR_SERVER_GONE_ERROR,
        // CR_SERVER_LOST) as an error diesel does not classify; so does libpq a
        // terminated backend.
        || message.contains("Server has gone away")
        || message.contains("Lost connection to server")
        || message.contains("terminating connection")
        || message.contains("server closed the connection unexpectedly")
}

/// The database's message for a failed statement; a lost connection says what to do.
pub(super) fn statement_message(error: &diesel::result::Error) -> String {
    let message = error.to_string();
    if connection_lost(error) {
        format!(
            "{} (the connection to the database was lost; nothing of this migration was \
             recorded: run the command again, and pelican will resume where it stopped)",
            message.trim_end()
        )
    } else {
        message
    }
}
