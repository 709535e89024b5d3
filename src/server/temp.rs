//! A database made for a while, dropped when its value is: a scratch database
//! ([`TempDatabase::create`], named with [`PREFIX`]) is one.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::result::QueryResult;

use super::files::{remove_leftover_files, remove_sqlite_files};
use super::names::{owner_gone, unique_name};
use super::Server;
use crate::backend::Storage;
use crate::connection::Timeouts;
use crate::dialect::CloneStrategy;
use crate::url_secret::{redact_url, scrub};
use crate::{AnyConnection, Backend, Database, Error, Result};

/// A database made for a while, dropped when this value is: a SQLite file (with its
/// journal files), or a database on a server (dropped `WITH (FORCE)` on PostgreSQL,
/// which also ends connections still open to it). A run that fails, returns early or
/// panics leaves nothing behind; [`TempDatabase::remove`] drops it now and says
/// whether that worked, [`TempDatabase::keep`] leaves it. Applications see it as
/// [`Scratch`](crate::scratch::Scratch), made by [`TempDatabase::create`].
pub struct TempDatabase {
    backend: Backend,
    /// The URL to connect to it (with the password, if the server's URL had one).
    url: String,
    /// The database's name, or the file's path.
    name: String,
    place: Place,
    /// Dropped already, or kept: nothing left to do.
    done: bool,
}

enum Place {
    /// A SQLite file.
    File(PathBuf),
    /// A database on a server, dropped through a connection to `admin_url`.
    Server { admin_url: String },
}

impl TempDatabase {
    /// Creates database `name` on `server` and drops it when the value is dropped. A
    /// database of that name already there is an error, never taken over: a temporary
    /// database drops only what it made. The error is the server's, for the caller to
    /// say what the database was for.
    pub(crate) fn create_on(server: &mut Server, name: &str) -> QueryResult<TempDatabase> {
        server.create(name)?;
        Ok(TempDatabase::on_server(server, name))
    }

    /// Creates database `name` on `server` as a copy of the template database
    /// `template` (see [`Server::create_from_template`]), with the copy `strategy` if
    /// given, as [`TempDatabase::create_on`].
    pub(crate) fn clone_on(
        server: &mut Server,
        name: &str,
        template: &str,
        strategy: Option<CloneStrategy>,
    ) -> QueryResult<TempDatabase> {
        server.clone_database(name, template, strategy)?;
        Ok(TempDatabase::on_server(server, name))
    }

    fn on_server(server: &Server, name: &str) -> TempDatabase {
        TempDatabase {
            backend: server.backend,
            url: server.database_url(name),
            name: name.to_owned(),
            place: Place::Server {
                admin_url: server.url.clone(),
            },
            done: false,
        }
    }

    /// Takes charge of the SQLite file at `path`, made by the caller (connecting to
    /// [`TempDatabase::url`] creates it): it is removed, with its journal files, when
    /// the value is dropped.
    pub(crate) fn file(path: PathBuf) -> TempDatabase {
        let url = path.display().to_string();
        TempDatabase {
            backend: Backend::Sqlite,
            name: url.clone(),
            url,
            place: Place::File(path),
            done: false,
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Its name: the database's, or the SQLite file's path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to connect to it. It holds the server URL's password, if it had one:
    /// show [`TempDatabase::display_url`] instead.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password hidden, fit to print.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// A connection to it, with no statement timeout (see [`Timeouts`]: a role's default
    /// one is lifted, as for any run of pelican's). On SQLite the file is told not to
    /// wait for the disk (`synchronous = OFF`): it is thrown away at the end, and a check
    /// makes many small transactions.
    pub fn connect(&self) -> Result<AnyConnection> {
        let mut conn = AnyConnection::establish(&self.url)?;
        Timeouts::default().apply(&mut conn)?;
        if let Some(sql) = self.backend.dialect().throwaway_sql() {
            conn.batch_execute(sql)
                .map_err(Error::query("cannot set up the scratch database"))?;
        }
        Ok(conn)
    }

    /// Drops it now, and says whether that worked. Connections to it should be closed
    /// first (on PostgreSQL they are ended; MySQL waits for them).
    pub fn remove(mut self) -> Result<()> {
        self.drop_database()
    }

    /// Leaves it in place (to look into after a failure, say), and gives its URL.
    pub fn keep(mut self) -> String {
        self.done = true;
        std::mem::take(&mut self.url)
    }

    fn drop_database(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        match &self.place {
            Place::File(path) => remove_sqlite_files(path),
            Place::Server { admin_url } => {
                let failed = |what: &str| {
                    let context = scrub(
                        &format!("cannot {what} {} on {}", self.name, redact_url(admin_url)),
                        admin_url,
                    );
                    |source| Error::Query { context, source }
                };
                let mut server = Server::connect(admin_url)?;
                server
                    .drop(&self.name)
                    .map_err(failed("drop the scratch database"))?;
                server.revoke_grants(&self.name).map_err(failed(
                    "revoke the grants naming the dropped scratch database",
                ))
            }
        }
    }
}

/// Written by hand so that a debug print never shows the server's password.
impl std::fmt::Debug for TempDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempDatabase")
            .field("backend", &self.backend)
            .field("url", &self.display_url())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // A drop cannot report; `remove` is the way to hear about a failure. What is
        // left behind carries its owner in its name, for a later sweep.
        let _ = self.drop_database();
    }
}

/// Every scratch database's name starts with this, so a stray one (left by a process
/// that was killed) is easy to recognize.
pub const PREFIX: &str = "pelican_scratch_";

/// What a scratch database is made like: the database checked (or snapshotted, or
/// adopted), read once, by its URL or through the application's connection to it.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    backend: Backend,
    /// The server scratch databases go on when no scratch URL says another: the
    /// database's own URL; none when only a connection was given.
    url: Option<String>,
    /// The statements that give a new database the database's defaults (MySQL: its
    /// character set and collation), so that a table a migration makes without naming
    /// them gets there what it gets on the database, and the two compare equal only
    /// when they are.
    defaults: Vec<String>,
}

impl Origin {
    /// The database `url` names. One that does not exist (a snapshot's URL names only
    /// its server) has no defaults to give: the server's stand.
    pub(crate) fn of_url(url: &str) -> Result<Origin> {
        let backend = Backend::from_url(url)?;
        let defaults = match backend.dialect().database_defaults_sql() {
            Some(query) => match AnyConnection::establish(url) {
                Ok(mut live) => read_defaults(&mut live, query)?,
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        Ok(Origin {
            backend,
            url: Some(url.to_owned()),
            defaults,
        })
    }

    /// The database `conn` is connected to: scratch databases go on the server of a
    /// scratch URL (a connection does not say its server's URL), or, on SQLite, in the
    /// temporary folder.
    pub(crate) fn of_connection<C: Database>(conn: &mut C) -> Result<Origin> {
        let backend = conn.backend();
        let defaults = match backend.dialect().database_defaults_sql() {
            Some(query) => read_defaults(conn, query)?,
            None => Vec::new(),
        };
        Ok(Origin {
            backend,
            url: None,
            defaults,
        })
    }

    /// The backend of the database.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }
}

fn read_defaults<C: Database>(conn: &mut C, query: &str) -> Result<Vec<String>> {
    let statements: Vec<Statement> = conn
        .load_with(query, &[])
        .map_err(Error::query("cannot read the database's defaults"))?;
    Ok(statements.into_iter().map(|s| s.sql).collect())
}

impl TempDatabase {
    /// Creates a scratch database for the backend of `url`.
    ///
    /// On PostgreSQL and MySQL/MariaDB it is made on the server of `scratch_url` if
    /// given, else of `url`, through a connection to the database that URL names
    /// (PostgreSQL: `postgres` when it names none). Nothing else in that database is
    /// touched. On SQLite it is a new file in the temporary folder, or in the folder
    /// `scratch_url` names.
    pub fn create(url: &str, scratch_url: Option<&str>) -> Result<TempDatabase> {
        TempDatabase::create_like(&Origin::of_url(url)?, scratch_url)
    }

    /// Creates a scratch database like the database of `origin` (see
    /// [`TempDatabase::create`]).
    pub(crate) fn create_like(origin: &Origin, scratch_url: Option<&str>) -> Result<TempDatabase> {
        let backend = origin.backend;
        if let Some(other) = scratch_url {
            let scratch_backend = Backend::from_url(other)?;
            if scratch_backend != backend {
                return Err(Error::BadUrl {
                    url: redact_url(other),
                    reason: format!(
                        "it is for scratch databases, so it must be a {backend} URL like the \
                         database's, not {scratch_backend}"
                    ),
                });
            }
        }
        let name = unique_name(PREFIX, true);
        if backend.dialect().storage() == Storage::File {
            let folder = match scratch_url {
                Some(folder) => PathBuf::from(folder),
                None => std::env::temp_dir(),
            };
            remove_leftover_files(&folder, |name| owner_gone(name, PREFIX));
            let scratch = TempDatabase::file(folder.join(format!("{name}.db")));
            // Connecting creates the file.
            AnyConnection::establish(scratch.url())?;
            return Ok(scratch);
        }
        let Some(server_url) = scratch_url.or(origin.url.as_deref()) else {
            return Err(Error::NoScratchUrl {
                backend: backend.to_string(),
            });
        };
        let mut server = Server::reach(server_url, &name)?;
        server.remove_leftovers(|name| owner_gone(name, PREFIX));
        let scratch = TempDatabase::create_on(&mut server, &name).map_err(|source| {
            Error::ScratchDatabase {
                name: name.clone(),
                server: server.display_url(),
                source,
            }
        })?;
        if !origin.defaults.is_empty() {
            let mut conn = scratch.connect()?;
            for statement in &origin.defaults {
                conn.execute_with(statement, &[]).map_err(Error::query(
                    "cannot give the scratch database the database's defaults",
                ))?;
            }
        }
        Ok(scratch)
    }
}

/// A statement the dialect writes from the database's defaults.
#[derive(diesel::QueryableByName)]
struct Statement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::remove_sqlite_file;

    #[test]
    fn a_debug_print_hides_the_password() {
        let db = TempDatabase {
            backend: Backend::Postgres,
            url: "postgres://app:s3cret@db/pelican_scratch_1".to_owned(),
            name: "pelican_scratch_1".to_owned(),
            place: Place::Server {
                admin_url: "postgres://app:s3cret@db/app".to_owned(),
            },
            // Nothing to drop: this one was never made.
            done: true,
        };
        let printed = format!("{db:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(
            printed.contains("postgres://app:***@db/pelican_scratch_1"),
            "{printed}"
        );
    }

    #[test]
    fn a_sqlite_file_goes_with_its_journals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        for suffix in ["", "-journal", "-wal", "-shm"] {
            std::fs::write(format!("{}{suffix}", path.display()), "").unwrap();
        }
        drop(TempDatabase::file(path.clone()));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(!remove_sqlite_file(&path).unwrap(), "already gone");
    }

    #[test]
    #[cfg(feature = "sqlite")]
    fn a_sqlite_scratch_file_is_gone_when_dropped() {
        use crate::scratch::Scratch;
        use diesel::connection::SimpleConnection;
        let scratch = Scratch::create("app.db", None).unwrap();
        let path = PathBuf::from(scratch.name());
        assert!(path.exists());
        {
            let mut conn = scratch.connect().unwrap();
            conn.batch_execute("CREATE TABLE t (id INTEGER)").unwrap();
        }
        drop(scratch);
        assert!(!path.exists());
    }
}
