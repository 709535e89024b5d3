//! Databases as a whole: the one place that creates, finds and drops them.
//!
//! A [`Server`] is a PostgreSQL or MySQL/MariaDB server reached through one of its
//! databases: the maintenance database the backend's dialect names
//! ([`Server::maintenance`]), or the URL's own database when it answers
//! ([`Server::reach`]). It creates, clones, lists and drops databases by name, with the
//! statements the dialect writes. A SQLite database is a file: connecting creates it,
//! and [`remove_sqlite_files`] removes it with the journal files beside it.
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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::result::{Error as DieselError, QueryResult};
use sha2::{Digest, Sha256};

use crate::backend::{percent_decode, redact_url, scrub};
use crate::connection::{connect_with_retry, Bind, Timeouts};
use crate::{AnyConnection, Backend, Database, Error, Result};

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
    /// (PostgreSQL); an error where the server has no templates.
    pub fn create_from_template(&mut self, name: &str, template: &str) -> QueryResult<()> {
        refuse_system(self.backend, name)?;
        let sql = self.backend.dialect().clone_database_sql(name, template);
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

    /// Runs `f` holding the migration lock of the database the server is reached
    /// through (see [`crate::lock::with`]): one process at a time builds what others
    /// then use.
    pub fn locked<T>(
        &mut self,
        timeout: Duration,
        f: impl FnOnce(&mut Server) -> Result<T>,
    ) -> Result<T> {
        crate::lock::with_holder(self, |server| &mut server.conn, timeout, f)
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

/// A database made for a while, dropped when this value is: a SQLite file (with its
/// journal files), or a database on a server (dropped `WITH (FORCE)` on PostgreSQL,
/// which also ends connections still open to it). A run that fails, returns early or
/// panics leaves nothing behind; [`TempDatabase::remove`] drops it now and says
/// whether that worked, [`TempDatabase::keep`] leaves it.
///
/// ```no_run
/// use pelican::server::{unique_name, Server, TempDatabase};
/// let mut server = Server::connect("postgres://postgres@127.0.0.1/postgres")?;
/// let name = unique_name("pelican_scratch_", true);
/// let db = TempDatabase::create_on(&mut server, &name).expect("a new database");
/// let mut conn = db.connect()?;
/// // … use it …
/// # Ok::<(), pelican::Error>(())
/// ```
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
    pub fn create_on(server: &mut Server, name: &str) -> QueryResult<TempDatabase> {
        server.create(name)?;
        Ok(TempDatabase::on_server(server, name))
    }

    /// Creates database `name` on `server` as a copy of the template database
    /// `template` (see [`Server::create_from_template`]), as [`TempDatabase::create_on`].
    pub fn clone_on(server: &mut Server, name: &str, template: &str) -> QueryResult<TempDatabase> {
        server.create_from_template(name, template)?;
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
    pub fn file(path: PathBuf) -> TempDatabase {
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
pub fn create_database(url: &str, wait: Duration) -> Result<bool> {
    if Backend::from_url(url)?.dialect().file_based() {
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

/// The flag that lets `reset`, `init` and `database reset|drop` use the one system
/// database an application may keep its tables in (PostgreSQL's `postgres`).
pub const ALLOW_MAINTENANCE_FLAG: &str = "--allow-maintenance-database";

/// Refuses `command` on the database a URL names when it is one of the server's own
/// databases (PostgreSQL's `postgres`, `template0`, `template1`; MySQL's `mysql`,
/// `information_schema`, `performance_schema`, `sys`): called before connecting for
/// anything destructive, so that nothing in it is touched. `allow_maintenance` lets
/// PostgreSQL's `postgres` through (see [`ALLOW_MAINTENANCE_FLAG`]), the default
/// database of many setups; the others are never the application's. A SQLite file has
/// none.
pub fn refuse_system_database(
    url: &str,
    command: &'static str,
    allow_maintenance: bool,
) -> Result<()> {
    let backend = Backend::from_url(url)?;
    if backend.dialect().file_based() {
        return Ok(());
    }
    match database_name(url) {
        Some(name) => refuse_system_name(backend, &name, command, allow_maintenance),
        None => Ok(()),
    }
}

/// [`refuse_system_database`] for a database named on `backend`'s server.
pub(crate) fn refuse_system_name(
    backend: Backend,
    name: &str,
    command: &'static str,
    allow_maintenance: bool,
) -> Result<()> {
    let dialect = backend.dialect();
    if !dialect.is_system_database(name) {
        return Ok(());
    }
    let shared = dialect.shared_maintenance_database() == Some(name);
    if shared && allow_maintenance {
        return Ok(());
    }
    Err(Error::SystemDatabase {
        command,
        database: name.to_owned(),
        allow: shared.then_some(ALLOW_MAINTENANCE_FLAG),
    })
}

/// The database `conn` is connected to, where it is a server's (`None` on SQLite).
pub(crate) fn current_database<C: Database>(conn: &mut C) -> Result<Option<String>> {
    let Some(sql) = conn.backend().dialect().current_database_query() else {
        return Ok(None);
    };
    #[derive(diesel::QueryableByName)]
    struct Current {
        // MySQL's DATABASE() is NULL on a connection to no database.
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        name: Option<String>,
    }
    let rows: Vec<Current> = conn
        .load_with(sql, &[])
        .map_err(Error::query("cannot name the current database"))?;
    Ok(rows.into_iter().next().and_then(|row| row.name))
}

/// A refusal for the harness's own databases, as diesel's error its callers expect:
/// pelican's temporary databases are never a system database, and a name that is one
/// is a mistake caught before the server is asked.
fn refuse_system(backend: Backend, name: &str) -> QueryResult<()> {
    refuse_system_name(backend, name, "the test harness", false)
        .map_err(|error| DieselError::QueryBuilderError(error.to_string().into()))
}

/// Whether the database a URL names exists, as far as pelican can tell without creating
/// it: a SQLite file is looked for (connecting would create it); a server's database is
/// taken to exist, and connecting to it says if it does not.
pub fn database_exists(url: &str) -> Result<bool> {
    Ok(
        !Backend::from_url(url)?.dialect().file_based()
            || sqlite_file(url).is_none_or(Path::exists),
    )
}

/// Whether a URL names a SQLite file that does not exist in a folder that does: what
/// connecting would create (in a missing folder, connecting fails, and says so).
pub fn missing_sqlite_file(url: &str) -> bool {
    if !Backend::from_url(url).is_ok_and(|b| b.dialect().file_based()) {
        return false;
    }
    sqlite_file(url).is_some_and(|path| {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        !path.exists() && folder.is_none_or(Path::exists)
    })
}

/// Removes a SQLite database file, and says whether there was one: diesel CLI's
/// `database drop`, which leaves any journal files beside it.
pub fn remove_sqlite_file(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes a SQLite database file and the journal files SQLite may leave beside it
/// (`-journal`, `-wal`, `-shm`); a file already gone is no error.
pub fn remove_sqlite_files(path: &Path) -> Result<()> {
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    remove_sqlite_file(path).map(drop)
}

/// [`Server::remove_leftovers`] for SQLite: the files in `folder` that `leftover` picks
/// (a database and the journals beside it are each picked by name).
pub fn remove_leftover_files(folder: &Path, leftover: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        if leftover(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Tells apart the databases (and files) one process makes.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The next number of this process's counter.
pub(crate) fn next() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A name for a database of this process's: [`owner_prefix`], then (when `timed`) the
/// time in microseconds, base 36, so that a process that gets the id of one killed
/// earlier makes other names than it, then a counter:
/// `pelican_scratch_<pid>_<host>_<microseconds>_<n>`, `pelican_test_<pid>_<host>_<n>`.
/// Unique across processes and machines, lower case (PostgreSQL folds unquoted names)
/// and, for pelican's prefixes, under 64 characters.
pub fn unique_name(prefix: &str, timed: bool) -> String {
    let n = next();
    let owner = owner_prefix(prefix);
    if !timed {
        return format!("{owner}{n}");
    }
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{owner}{}_{n}", base36(micros))
}

/// `prefix`, this process's id and this machine's tag, as a temporary database's name
/// starts: `pelican_scratch_<pid>_<host>_`.
pub fn owner_prefix(prefix: &str) -> String {
    format!("{prefix}{}_{}_", std::process::id(), host_tag())
}

/// This machine in a name: 8 hex digits of a SHA-256 of its host name (so the name stays
/// short, lower case, and a valid identifier whatever the host is called).
fn host_tag() -> String {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        Sha256::digest(host.trim().as_bytes())[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    })
    .clone()
}

/// Whether `name` is a temporary database (or file) that `prefix` starts and
/// [`owner_prefix`] named, made on this machine by a process that is gone. `false`
/// whenever that cannot be told: another machine's, a name of another form, or a
/// system without `/proc` to look for the process in.
pub fn owner_gone(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else {
        return false;
    };
    let mut parts = rest.split('_');
    let (Some(pid), Some(host)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let proc = Path::new("/proc");
    host == host_tag()
        && proc.join("self").exists()
        && pid != std::process::id()
        && !proc.join(pid.to_string()).exists()
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// The file a SQLite URL names: a path, `sqlite://` and a path, or a `file:` URI
/// (its query left out); `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&Path> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let path = match path.strip_prefix("file:") {
        Some(uri) => uri.split(['?', '#']).next().unwrap_or_default(),
        None => path,
    };
    (path != ":memory:" && !path.is_empty()).then(|| Path::new(path))
}

/// The database a server URL names: the first path segment, percent-decoded.
pub fn database_name(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let path = &rest[rest.find('/')? + 1..];
    let segment = path.split(['?', '#', '/']).next().unwrap_or_default();
    let name = percent_decode(segment);
    (!name.is_empty()).then_some(name)
}

/// `url` naming database `name` instead of its own (the query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url() {
        assert_eq!(
            database_name("postgres://u:p@h:5432/app?sslmode=disable").as_deref(),
            Some("app")
        );
        assert_eq!(
            database_name("mysql://root@h/my%2Dapp").as_deref(),
            Some("my-app")
        );
        assert_eq!(database_name("mysql://root@h/"), None);
        assert_eq!(database_name("mysql://root@h"), None);
    }

    #[test]
    fn a_url_for_another_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "postgres"),
            "postgres://u:p@h:5432/postgres?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h/app", ""), "mysql://root@h/");
        assert_eq!(with_database("mysql://root@h", ""), "mysql://root@h/");
    }

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
    fn names_are_unique_lower_case_and_short() {
        for timed in [true, false] {
            let a = unique_name("pelican_scratch_", timed);
            let b = unique_name("pelican_scratch_", timed);
            assert_ne!(a, b);
            assert!(a.starts_with(&owner_prefix("pelican_scratch_")));
            assert!(a.len() < 64, "{a}");
            assert_eq!(a, a.to_lowercase());
        }
    }

    #[test]
    fn a_leftover_is_one_of_this_machine_whose_process_is_gone() {
        let prefix = "pelican_scratch_";
        let mine = unique_name(prefix, true);
        assert!(!owner_gone(&mine, prefix), "this process is alive");
        // The highest pid Linux hands out is below 2^22.
        let gone = format!("{prefix}4294967295_{}_x_0", host_tag());
        assert_eq!(owner_gone(&gone, prefix), Path::new("/proc/self").exists());
        let elsewhere = format!("{prefix}4294967295_00000000_x_0");
        assert!(!owner_gone(&elsewhere, prefix), "another machine's");
        assert!(!owner_gone("pelican_scratch_x_y", prefix));
        assert!(!owner_gone(&gone, "pelican_test_"));
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
}
