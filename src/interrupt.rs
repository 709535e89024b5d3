//! Stopping a run between two migrations, as a signal handler asks.
//!
//! A process that is told to stop (Ctrl-C, `kill`) while it migrates must not stop
//! inside a migration: what the database committed and what was reported would part.
//! [`request`] only raises a flag (it is safe to call from a signal handler); the
//! migrator looks at it before each migration of a run and, when it is raised, runs no
//! more: the run ends with [`crate::Error::Interrupted`], carrying the report of the
//! migrations done before it, each committed and recorded. A migration under way when
//! the flag is raised finishes first (or fails and is rolled back, as any failure).
//!
//! The `pelican` binary raises it from its SIGINT and SIGTERM handlers; an application
//! running [`crate::Migrator`] or [`crate::Boot`] may raise it from its own.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks the run under way (and any run that starts afterwards) to stop before its next
/// migration. Async-signal-safe: it stores one atomic flag.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested.
pub fn is_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Lowers the flag again, for a process that goes on to run something else.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}
