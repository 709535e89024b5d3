//! A scratch database: made for one `check` or `snapshot`, and gone when it ends.
//!
//! SQLite: a file in the temporary folder. PostgreSQL and MySQL/MariaDB: a uniquely
//! named database (`pelican_scratch_<pid>_<host>_<time>_<n>`) on the same server as the
//! database URL, or on the server of a scratch URL given instead. [`Scratch`] is a
//! guard: dropping it drops the database (PostgreSQL `DROP DATABASE … WITH (FORCE)`,
//! which also ends connections still open to it), so a check that fails, returns
//! early or panics leaves nothing behind. [`Scratch::remove`] does the same and says
//! whether it worked.
//!
//! A process killed (SIGKILL, a crash) gets no chance to drop anything: its scratch
//! databases stay. Their names carry the process's id and its machine (`<host>`, a hash
//! of the host name), so the next scratch database made on the same server (or in the
//! same folder) drops those whose process is gone, by [`remove_leftovers`]: the mechanism
//! [`crate::testing`] uses for its test databases too. A database made by a process on
//! another machine is never taken for a leftover.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use sha2::{Digest, Sha256};

use crate::admin::{database_name, with_database};
use crate::backend::{redact_url, scrub};
use crate::connection::Timeouts;
use crate::{AnyConnection, Backend, Database, Error, Result};

/// Tells apart the scratch databases one process makes.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

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
pub struct Scratch {
    backend: Backend,
    /// The URL to connect to it (with the password, if the server's URL had one).
    url: String,
    /// The database's name, or the file's path.
    name: String,
    place: Place,
    removed: bool,
}

enum Place {
    /// A SQLite file.
    File(PathBuf),
    /// A database on a server, dropped through a connection to `admin_url`.
    Server { admin_url: String },
}

impl Scratch {
    /// Creates a scratch database for the backend of `url`.
    ///
    /// On PostgreSQL and MySQL/MariaDB it is made on the server of `scratch_url` if
    /// given, else of `url`, through a connection to the database that URL names
    /// (PostgreSQL: `postgres` when it names none). Nothing else in that database is
    /// touched. On SQLite it is a new file in the temporary folder, or in the folder
    /// `scratch_url` names.
    pub fn create(url: &str, scratch_url: Option<&str>) -> Result<Scratch> {
        let backend = Backend::from_url(url)?;
        let server = scratch_url.unwrap_or(url);
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
        let name = unique_name();
        let dialect = backend.dialect();
        if dialect.file_based() {
            let folder = match scratch_url {
                Some(folder) => PathBuf::from(folder),
                None => std::env::temp_dir(),
            };
            remove_leftover_files(&folder, |name| owner_gone(name, PREFIX));
            let path = folder.join(format!("{name}.db"));
            let url = path.display().to_string();
            // Connecting creates the file.
            AnyConnection::establish(&url)?;
            return Ok(Scratch {
                backend,
                url,
                name: path.display().to_string(),
                place: Place::File(path),
                removed: false,
            });
        }
        // The URL's own database if it answers (it may not exist yet: `snapshot`
        // needs only the server), else the server's maintenance database.
        let maintenance = with_database(server, dialect.maintenance_database(&name));
        let (admin_url, mut admin) =
            match database_name(server).and_then(|_| AnyConnection::establish(server).ok()) {
                Some(conn) => (server.to_owned(), conn),
                None => {
                    let conn = AnyConnection::establish(&maintenance)?;
                    (maintenance, conn)
                }
            };
        remove_leftovers(&mut admin, |name| owner_gone(name, PREFIX));
        admin
            .batch_execute(&dialect.create_database_sql(&name))
            .map_err(|source| Error::ScratchDatabase {
                name: name.clone(),
                server: redact_url(&admin_url),
                source,
            })?;
        Ok(Scratch {
            backend,
            url: with_database(server, &name),
            name,
            place: Place::Server { admin_url },
            removed: false,
        })
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
    /// show [`Scratch::display_url`] instead.
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

    fn drop_database(&mut self) -> Result<()> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        match &self.place {
            Place::File(path) => remove_sqlite_files(path),
            Place::Server { admin_url } => {
                let sql = self.backend.dialect().drop_database_sql(&self.name);
                let mut admin = AnyConnection::establish(admin_url)?;
                admin.batch_execute(&sql).map_err(|source| Error::Query {
                    context: scrub(
                        &format!(
                            "cannot drop the scratch database {} on {}",
                            self.name,
                            redact_url(admin_url)
                        ),
                        admin_url,
                    ),
                    source,
                })
            }
        }
    }
}

/// Written by hand so that a debug print never shows the server's password.
impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("backend", &self.backend)
            .field("url", &self.display_url())
            .field("removed", &self.removed)
            .finish_non_exhaustive()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A drop cannot report; `remove` is the way to hear about a failure. What is
        // left behind carries PREFIX in its name.
        let _ = self.drop_database();
    }
}

/// `pelican_scratch_<pid>_<host>_<microseconds, base 36>_<n>`: unique across processes,
/// machines and runs, lower case (PostgreSQL folds unquoted names), under 64 characters.
fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{}{}_{n}", owner_prefix(PREFIX), base36(micros))
}

/// `prefix`, this process's id and this machine's tag, as a throwaway database's name
/// starts: `pelican_scratch_<pid>_<host>_`.
pub(crate) fn owner_prefix(prefix: &str) -> String {
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

/// Whether `name` is a throwaway database (or file) that `prefix` starts and
/// [`owner_prefix`] named, made on this machine by a process that is gone. `false`
/// whenever that cannot be told: another machine's, a name of another form, or a
/// system without `/proc` to look for the process in.
pub(crate) fn owner_gone(name: &str, prefix: &str) -> bool {
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

/// Drops the databases on the server `admin` is connected to whose names start with
/// `pelican_` and that `leftover` picks ([`owner_gone`], or a test template's age).
/// Best effort: what cannot be listed or dropped stays, for the next one to try.
pub(crate) fn remove_leftovers(admin: &mut AnyConnection, leftover: impl Fn(&str) -> bool) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let dialect = admin.backend().dialect();
    let Some(list) = dialect.pelican_databases_query() else {
        return;
    };
    let Ok(names) = admin.load_with::<Name>(list, &[]) else {
        return;
    };
    for Name { name } in names {
        if leftover(&name) {
            if let Some(unmark) = dialect.unmark_template_sql(&name) {
                let _ = admin.batch_execute(&unmark);
            }
            let _ = admin.batch_execute(&dialect.drop_database_sql(&name));
        }
    }
}

/// [`remove_leftovers`] for SQLite: the files in `folder` that `leftover` picks (a
/// database and the journals beside it are each picked by name).
pub(crate) fn remove_leftover_files(folder: &Path, leftover: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        if leftover(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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

/// The database file and the journal files SQLite may leave beside it.
fn remove_sqlite_files(path: &Path) -> Result<()> {
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debug_print_hides_the_password() {
        let scratch = Scratch {
            backend: Backend::Postgres,
            url: "postgres://app:s3cret@db/pelican_scratch_1".to_owned(),
            name: "pelican_scratch_1".to_owned(),
            place: Place::Server {
                admin_url: "postgres://app:s3cret@db/app".to_owned(),
            },
            // Nothing to drop: this one was never made.
            removed: true,
        };
        let printed = format!("{scratch:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(
            printed.contains("postgres://app:***@db/pelican_scratch_1"),
            "{printed}"
        );
    }

    #[test]
    fn names_are_unique_lower_case_and_short() {
        let a = unique_name();
        let b = unique_name();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert!(a.len() < 64, "{a}");
        assert_eq!(a, a.to_lowercase());
    }

    #[test]
    fn a_leftover_is_one_of_this_machine_whose_process_is_gone() {
        let mine = unique_name();
        assert!(!owner_gone(&mine, PREFIX), "this process is alive");
        // The highest pid Linux hands out is below 2^22.
        let gone = format!("{PREFIX}4294967295_{}_x_0", host_tag());
        assert_eq!(owner_gone(&gone, PREFIX), Path::new("/proc/self").exists());
        let elsewhere = format!("{PREFIX}4294967295_00000000_x_0");
        assert!(!owner_gone(&elsewhere, PREFIX), "another machine's");
        assert!(!owner_gone("pelican_scratch_x_y", PREFIX));
        assert!(!owner_gone(&gone, "pelican_test_"));
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_sqlite_scratch_file_is_gone_when_dropped() {
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
