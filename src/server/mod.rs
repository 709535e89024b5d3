//! Databases as a whole: the one place that creates, finds and drops them.
//!
//! A [`Server`] is a PostgreSQL or MySQL/MariaDB server reached through one of its
//! databases: the maintenance database the backend's dialect names
//! ([`Server::maintenance`]), or the URL's own database when it answers
//! ([`Server::reach`]). It creates, clones, lists and drops databases by name, with the
//! statements the dialect writes. A SQLite database is a file: connecting creates it,
//! and [`remove_sqlite_files`](files::remove_sqlite_files) removes it with the journal files beside it.
//!
//! A [`TempDatabase`] is a database made for a while (a scratch database, a test's
//! database) and dropped when the value is. Its name comes from [`unique_name`]: a
//! prefix, the process's id and its machine (`<host>`, a hash of the host name), so
//! that what a killed process left behind is recognised and dropped later
//! ([`Server::remove_leftovers`], [`remove_leftover_files`], picking by [`owner_gone`]),
//! and never what a process on another machine is still using.
//!
//! [`create_database`] is what `init` and diesel CLI's `setup` do to a database that
//! may be missing.
//!
//! The server's own databases (the dialect's list: PostgreSQL's `postgres`,
//! `template0`, `template1`; MySQL's `mysql`, `information_schema`,
//! `performance_schema`, `sys`) are never created, cloned, marked or dropped here, and
//! the commands that would drop or empty one, or build in one, refuse it first
//! ([`refuse_system_database`]).

use std::time::Duration;

use crate::connection::connect_with_retry;
use crate::url_secret::redact_url;
use crate::{AnyConnection, Backend, Result};

mod files;
mod lifecycle;
mod names;
mod system;
pub(crate) mod temp;
mod url;

pub(crate) use files::{
    database_exists, missing_sqlite_file, remove_leftover_files, remove_sqlite_file,
};
pub(crate) use lifecycle::create_database;
pub(crate) use names::next;
pub use names::owner_prefix;
pub(crate) use names::{owner_gone, unique_name};
pub(crate) use system::refuse_system_database;
pub(crate) use system::{current_database, refuse_system_name};
pub use temp::TempDatabase;
pub(crate) use url::database_name;
pub use url::with_database;

/// What every database (or file) name pelican makes starts with.
const PELICAN: &str = "pelican_";

/// A database server, reached through one of its databases.
pub struct Server {
    backend: Backend,
    /// The URL of the database the connection is to.
    url: String,
    conn: AnyConnection,
}

impl Server {
    /// Reaches the server through the database `url` names.
    pub fn connect(url: &str) -> Result<Server> {
        let backend = Backend::from_url(url)?;
        let conn = AnyConnection::establish(url)?;
        Ok(Server {
            backend,
            url: url.to_owned(),
            conn,
        })
    }

    /// Reaches the server of `url` through its maintenance database for working on
    /// database `name` (PostgreSQL: `postgres`, or `template1` to drop `postgres`
    /// itself; MySQL: no database), retrying for up to `wait` while it does not answer
    /// (see [`connect_with_retry`]; a zero `wait` tries once).
    pub fn maintenance(url: &str, name: &str, wait: Duration) -> Result<Server> {
        let backend = Backend::from_url(url)?;
        let url = with_database(url, backend.dialect().maintenance_database(name));
        let conn = connect_with_retry(&url, wait)?;
        Ok(Server { backend, url, conn })
    }

    /// Reaches the server of `url` through the database it names when that answers,
    /// else through the maintenance database for `name`: the URL's own database may
    /// not exist yet (`snapshot` needs only the server), and a user who may not connect
    /// to the maintenance database can still use its own.
    pub fn reach(url: &str, name: &str) -> Result<Server> {
        match database_name(url).and_then(|_| Server::connect(url).ok()) {
            Some(server) => Ok(server),
            None => Server::maintenance(url, name, Duration::ZERO),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL of the database the server is reached through (with its password, if
    /// it has one: show [`Server::display_url`] instead).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password hidden, fit to print.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        with_database(&self.url, name)
    }

    /// Runs `f` holding the migration lock of the database the server is reached
    /// through (see [`crate::lock::with`]): one process at a time builds what others
    /// then use.
    pub fn locked<T>(
        &mut self,
        timeout: Duration,
        f: impl FnOnce(&mut Server) -> Result<T>,
    ) -> Result<T> {
        crate::lock::with_holder(self, |server| &mut server.conn, timeout, None, f)
    }
}

/// Written by hand so that a debug print never shows the server's password.
impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("backend", &self.backend)
            .field("url", &self.display_url())
            .finish_non_exhaustive()
    }
}
