//! A scratch database: made for one `check` or `snapshot`, and gone when it ends.
//!
//! SQLite: a file in the temporary folder. PostgreSQL and MySQL/MariaDB: a uniquely
//! named database (`pelican_scratch_<pid>_<host>_<time>_<n>`) on the same server as the
//! database URL, or on the server of a scratch URL given instead. A [`Scratch`] is a
//! [`TempDatabase`]: dropping it drops the database, so a check that fails, returns
//! early or panics leaves nothing behind, and [`TempDatabase::remove`] does the same and
//! says whether it worked.
//!
//! A process killed (SIGKILL, a crash) gets no chance to drop anything: its scratch
//! databases stay. Their names carry the process's id and its machine, so the next
//! scratch database made on the same server (or in the same folder) drops those whose
//! process is gone (see [`crate::server::owner_gone`]): the mechanism
//! [`crate::testing`] uses for its test databases too. A database made by a process on
//! another machine is never taken for a leftover.

use std::path::PathBuf;

use crate::backend::redact_url;
use crate::server::{owner_gone, remove_leftover_files, unique_name, Server, TempDatabase};
use crate::{AnyConnection, Backend, Error, Result};

/// Every scratch database's name starts with this, so a stray one (left by a process
/// that was killed) is easy to recognize.
pub const PREFIX: &str = "pelican_scratch_";

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
pub type Scratch = TempDatabase;

impl TempDatabase {
    /// Creates a scratch database for the backend of `url`.
    ///
    /// On PostgreSQL and MySQL/MariaDB it is made on the server of `scratch_url` if
    /// given, else of `url`, through a connection to the database that URL names
    /// (PostgreSQL: `postgres` when it names none; see [`Server::reach`]). Nothing else
    /// in that database is touched. On SQLite it is a new file in the temporary folder,
    /// or in the folder `scratch_url` names.
    pub fn create(url: &str, scratch_url: Option<&str>) -> Result<Scratch> {
        let backend = Backend::from_url(url)?;
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
        if backend.dialect().file_based() {
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
        let mut server = Server::reach(scratch_url.unwrap_or(url), &name)?;
        server.remove_leftovers(|name| owner_gone(name, PREFIX));
        let scratch = TempDatabase::create_on(&mut server, &name).map_err(|source| {
            Error::ScratchDatabase {
                name: name.clone(),
                server: server.display_url(),
                source,
            }
        })?;
        like_database(url, &scratch)?;
        Ok(scratch)
    }
}

/// A statement the dialect writes from the database's defaults.
#[derive(diesel::QueryableByName)]
struct Statement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

/// Gives the scratch database the defaults of the database `url` names (MySQL: its
/// character set and collation), so that a table a migration makes without naming
/// them gets there what it gets on the database, and the two compare equal only when
/// they are. A database that does not exist (a snapshot's URL names only its server)
/// has none to give: the server's stand.
fn like_database(url: &str, scratch: &Scratch) -> Result<()> {
    let Some(query) = Backend::from_url(url)?.dialect().database_defaults_sql() else {
        return Ok(());
    };
    let Ok(mut live) = AnyConnection::establish(url) else {
        return Ok(());
    };
    let statements: Vec<Statement> = live
        .load_with(query, &[])
        .map_err(Error::query("cannot read the database's defaults"))?;
    drop(live);
    if statements.is_empty() {
        return Ok(());
    }
    let mut conn = scratch.connect()?;
    for statement in statements {
        conn.execute_with(&statement.sql, &[])
            .map_err(Error::query(
                "cannot give the scratch database the database's defaults",
            ))?;
    }
    Ok(())
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_scratch_file_is_gone_when_dropped() {
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
