//! Creating, finding, listing and dropping a server's databases, as the dialect writes
//! the statements.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::result::{Error as DieselError, QueryResult};

use super::files::sqlite_file;
use super::system::refuse_system;
use super::url::database_name;
use super::{Server, PELICAN};
use crate::backend::Storage;
use crate::connection::Bind;
use crate::dialect::CloneStrategy;
use crate::url_secret::redact_url;
use crate::{AnyConnection, Backend, Error, Result};

impl Server {
    /// Whether database `name` exists, a template database included.
    pub fn exists(&mut self, name: &str) -> Result<bool> {
        self.look_for(name, true)
    }

    /// Whether database `name` exists and is no template: diesel CLI's `database drop`
    /// leaves templates alone.
    pub fn exists_unless_template(&mut self, name: &str) -> Result<bool> {
        self.look_for(name, false)
    }

    fn look_for(&mut self, name: &str, templates: bool) -> Result<bool> {
        let sql = self.backend.dialect().database_exists_query(templates);
        let rows: Vec<Name> = self
            .conn
            .load_with(sql, &[Bind::Text(name)])
            .map_err(Error::query(format!("cannot look for database {name}")))?;
        Ok(!rows.is_empty())
    }

    /// Creates database `name`; one of that name already there is an error. The error
    /// is the server's, for the caller to say what the database was for (so with the
    /// statements below).
    pub fn create(&mut self, name: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self.backend.dialect().create_database_sql(name, false);
        self.conn.batch_execute(&sql)
    }

    /// Creates database `name` where the server can take one that exists for no error
    /// (MySQL's `IF NOT EXISTS`: another process may have just created it).
    pub fn create_if_missing(&mut self, name: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self.backend.dialect().create_database_sql(name, true);
        self.conn.batch_execute(&sql)
    }

    /// Creates database `name` as a copy of the template database `template`
    /// (PostgreSQL), the server copying it its default way; an error where the server
    /// has no templates.
    pub fn create_from_template(&mut self, name: &str, template: &str) -> QueryResult<()> {
        self.clone_database(name, template, None)
    }

    /// [`Server::create_from_template`], with the server's copy strategy named (an
    /// error on a server without strategies: PostgreSQL before 15).
    pub(crate) fn clone_database(
        &mut self,
        name: &str,
        template: &str,
        strategy: Option<CloneStrategy>,
    ) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self
            .backend
            .dialect()
            .clone_database_sql(name, template, strategy);
        self.run_template_sql(sql)
    }

    /// Marks database `name` as a template, to clone with
    /// [`Server::create_from_template`].
    pub fn mark_template(&mut self, name: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self.backend.dialect().mark_template_sql(name);
        self.run_template_sql(sql)
    }

    fn run_template_sql(&mut self, sql: Option<String>) -> QueryResult<()> {
        let sql = sql.ok_or_else(|| {
            DieselError::QueryBuilderError(
                format!("{} has no template databases", self.backend).into(),
            )
        })?;
        self.conn.batch_execute(&sql)
    }

    /// Drops database `name` if it exists, ending the connections still open to it
    /// (PostgreSQL's `WITH (FORCE)`; MySQL waits for them).
    pub fn drop(&mut self, name: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self.backend.dialect().drop_database_sql(name, true);
        self.conn.batch_execute(&sql)
    }

    /// Drops database `name` if it exists, as diesel CLI's `database drop` does: a
    /// PostgreSQL database still in use is refused.
    pub fn drop_unforced(&mut self, name: &str) -> QueryResult<()> {
        let sql = self.backend.dialect().drop_database_sql(name, false);
        self.conn.execute_with(&sql, &[]).map(drop)
    }

    /// Drops template database `name`: it stops being a template first.
    pub fn drop_template(&mut self, name: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        if let Some(unmark) = self.backend.dialect().unmark_template_sql(name) {
            let _ = self.conn.batch_execute(&unmark);
        }
        self.drop(name)
    }

    /// The databases whose names start with `prefix`, sorted. Only pelican's are
    /// listed: `prefix` must start with `pelican_`.
    pub fn list(&mut self, prefix: &str) -> Result<Vec<String>> {
        let sql = self.backend.dialect().pelican_databases_query();
        self.names(sql, prefix)
    }

    /// The template databases whose names start with `prefix` (which must start with
    /// `pelican_`), sorted; none where the server has no templates.
    pub fn templates(&mut self, prefix: &str) -> Result<Vec<String>> {
        let sql = self.backend.dialect().pelican_templates_query();
        self.names(sql, prefix)
    }

    fn names(&mut self, sql: Option<&str>, prefix: &str) -> Result<Vec<String>> {
        debug_assert!(prefix.starts_with(PELICAN), "{prefix}");
        let Some(sql) = sql else {
            return Ok(Vec::new());
        };
        let rows: Vec<Name> = self
            .conn
            .load_with(sql, &[])
            .map_err(Error::query("cannot list the databases"))?;
        let mut names: Vec<String> = rows
            .into_iter()
            .map(|row| row.name)
            .filter(|name| name.starts_with(prefix))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Drops the databases whose names start with `pelican_` and that `leftover` picks
    /// ([`owner_gone`], or a test template's age), templates too. Best effort: what
    /// cannot be listed or dropped stays, for the next one to try.
    ///
    /// [`owner_gone`]: super::owner_gone
    pub fn remove_leftovers(&mut self, leftover: impl Fn(&str) -> bool) {
        let Ok(names) = self.list(PELICAN) else {
            return;
        };
        for name in names.iter().filter(|name| leftover(name)) {
            if self.drop_template(name).is_ok() {
                let _ = self.revoke_grants(name);
            }
        }
    }

    /// Ends the server's other sessions that are connected to a database `leftover`
    /// picks or are creating one, and waits up to `wait` for them to be gone: a process
    /// killed in the middle of `CREATE DATABASE` leaves the server finishing it, and a
    /// database that appears after [`Server::remove_leftovers`] has looked would stay.
    /// Only the creator runs `CREATE DATABASE` of its names: another process sweeping
    /// the same leftovers (its `DROP DATABASE` names them too) is left alone. Best
    /// effort, as that sweep: what cannot be listed or ended is left.
    pub fn end_leftover_sessions(&mut self, leftover: impl Fn(&str) -> bool, wait: Duration) {
        let dialect = self.backend.dialect();
        let Some(query) = dialect.pelican_sessions_query() else {
            return;
        };
        let sessions = |conn: &mut AnyConnection| -> Vec<i64> {
            let rows: Vec<Session> = conn.load_with(query, &[]).unwrap_or_default();
            rows.into_iter()
                .filter(|row| {
                    let creating = row
                        .statement
                        .trim_start()
                        .get(..15)
                        .is_some_and(|start| start.eq_ignore_ascii_case("CREATE DATABASE"));
                    leftover(&row.database)
                        || creating
                            && row
                                .statement
                                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                                .any(&leftover)
                })
                .map(|row| row.id)
                .collect()
        };
        let ended = sessions(&mut self.conn);
        if ended.is_empty() {
            return;
        }
        for id in &ended {
            if let Some(sql) = dialect.end_session_sql(*id) {
                let _ = self.conn.batch_execute(&sql);
            }
        }
        let start = std::time::Instant::now();
        while start.elapsed() < wait && sessions(&mut self.conn).iter().any(|id| ended.contains(id))
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Revokes the grants that name database `name` (MySQL/MariaDB keep a table's,
    /// a column's, a routine's and the database's grants after `DROP DATABASE`): run
    /// after one of pelican's own databases is dropped, so that the grants its
    /// migrations made go with it. Only grants whose database is `name` are touched.
    /// Routines' grants are listed only in `mysql.procs_priv`: they are revoked where
    /// the user may read it.
    pub(crate) fn revoke_grants(&mut self, name: &str) -> QueryResult<()> {
        let dialect = self.backend.dialect();
        let Some(query) = dialect.grants_on_database_query() else {
            return Ok(());
        };
        let mut revokes: Vec<Sql> = self.conn.load_with(query, &[Bind::Text(name); 4])?;
        if let Some(query) = dialect.routine_grants_on_database_query() {
            revokes.extend(
                self.conn
                    .load_with::<Sql>(query, &[Bind::Text(name)])
                    .unwrap_or_default(),
            );
        }
        for revoke in revokes {
            self.conn.batch_execute(&revoke.sql)?;
        }
        Ok(())
    }
}

/// Creates the database a URL names if it does not exist, and says whether it did.
///
/// SQLite: the file, by connecting (its folder must exist). PostgreSQL: `CREATE
/// DATABASE` through the `postgres` maintenance database on the same server.
/// MySQL/MariaDB: `CREATE DATABASE` through a connection without a database. Of
/// several processes creating it at once, only the one whose statement made it says
/// `true`; the others find it made. The server connection is retried for up to `wait` (see
/// [`connect_with_retry`]). When the database already answers, no server connection
/// is made, so a user without the right to create databases can still `init` one that
/// exists.
///
/// [`connect_with_retry`]: crate::connect_with_retry
pub(crate) fn create_database(url: &str, wait: Duration) -> Result<bool> {
    if Backend::from_url(url)?.dialect().storage() == Storage::File {
        let created = match sqlite_file(url) {
            // A plain path: made here, empty (an empty file is an empty database), by
            // the one process whose `create_new` wins, so that only it says so.
            Some(path) if !url.contains("file:") => std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .is_ok(),
            // A URI (its options decide how the file opens) or `:memory:`.
            path => !path.is_none_or(Path::exists),
        };
        AnyConnection::establish(url)?;
        return Ok(created);
    }
    if AnyConnection::establish(url).is_ok() {
        return Ok(false);
    }
    let Some(name) = database_name(url) else {
        return Err(Error::Connect {
            url: redact_url(url),
            message: "the URL names no database to create".to_owned(),
        });
    };
    let mut server = Server::maintenance(url, &name, wait)?;
    if server.exists(&name)? {
        return Ok(false);
    }
    // A plain CREATE DATABASE, never `IF NOT EXISTS`: only the process whose statement
    // made the database may say it created it.
    match server.create(&name) {
        Ok(()) => Ok(true),
        // Another process booting at the same time has just created it.
        Err(_) if server.exists(&name)? => Ok(false),
        Err(source) => Err(Error::Query {
            context: format!("cannot create database {name} on {}", server.display_url()),
            source,
        }),
    }
}

/// A session of [`Server::end_leftover_sessions`].
#[derive(diesel::QueryableByName)]
struct Session {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    database: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// A statement a query wrote.
#[derive(diesel::QueryableByName)]
struct Sql {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}
