//! Hooks into pelican's internals for its own integration tests and benchmarks, which
//! are crates of their own and so reach only what is public. Not part of the API:
//! hidden from the documentation, free to change in any release, and never to be used
//! by an application (everything an application needs is in the crate root and the
//! public modules; see docs/architecture.md, "The public API").
//!
//! The internals stay `pub(crate)` where they are defined but for what is listed here,
//! so that what a test reaches into is one list, not a module left public for it.

use diesel::QueryResult;

/// The test servers' databases as a whole: connecting to a server, creating, listing
/// and dropping databases (a test's own database, a system database it must refuse).
pub use crate::server::{owner_prefix, with_database, Server, TempDatabase};

/// The URL with its password hidden, as pelican prints it.
pub use crate::url_secret::redact_url;

/// The version a migration folder's name gives (`2024-01-01-000000_x` → `20240101000000`).
pub use crate::source::version_of;

/// Drops the database a URL names, as `pelican database drop` does (before a test runs
/// `setup` on it).
pub use crate::setup::drop_database;

/// The `pelican` binary's command tree, for the tests that walk it (every command's
/// help, completions) and parse arguments as it does.
#[cfg(feature = "cli")]
pub use crate::cli::binary::Cli;

/// Creates database `name` on `server`, dropped when the value is (a test's own
/// database); a database of that name already there is an error, never taken over.
pub fn temp_database_on(server: &mut Server, name: &str) -> QueryResult<TempDatabase> {
    TempDatabase::create_on(server, name)
}

/// The names of a database's relations where the backend lists them apart from the
/// outline (MySQL/MariaDB), which adoption compares first: every relation the catalog
/// reads must be among them.
pub fn relation_names<C: crate::Database>(
    conn: &mut C,
) -> crate::Result<Option<std::collections::BTreeSet<String>>> {
    crate::catalog::Outline::relation_names(conn)
}
