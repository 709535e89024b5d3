//! A scratch database: made for one `check` or `snapshot`, and gone when it ends.
//!
//! SQLite: a file in the temporary folder. PostgreSQL and MySQL/MariaDB: a uniquely
//! named database (`pelican_scratch_<pid>_<host>_<time>_<n>`) on the same server as the
//! database URL, or on the server of a scratch URL given instead. Dropping a [`Scratch`]
//! drops the database, so a check that fails, returns early or panics leaves nothing
//! behind, and [`Scratch::remove`] does the same and says whether it worked.
//!
//! A process killed (SIGKILL, a crash) gets no chance to drop anything: its scratch
//! databases stay. Their names carry the process's id and its machine, so the next
//! scratch database made on the same server (or in the same folder) drops those whose
//! process is gone (`server::owner_gone`): the mechanism
//! [`crate::testing`] uses for its test databases too. A database made by a process on
//! another machine is never taken for a leftover.

// Defined beside `TempDatabase::create`, which names every scratch database: `server`
// sits below this module and must not use it.
pub use crate::server::temp::PREFIX;

/// A scratch database, dropped when this value is.
///
/// ```no_run
/// let scratch = pelican::scratch::Scratch::create("postgres://app@db/app", None)?;
/// let mut conn = scratch.connect()?;
/// // … build something in it …
/// drop(conn);
/// scratch.remove()?; // or just let it go out of scope
/// # Ok::<(), pelican::Error>(())
/// ```
///
/// (It is the server's `TempDatabase`, named here for what applications use it for.)
pub use crate::server::TempDatabase as Scratch;
