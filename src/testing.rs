//! A fresh database at head for every test, in milliseconds, and a one-line
//! round-trip assertion.
//!
//! The schema at head (and the application's seed data, if any) is built **once per
//! migration set**, into a template keyed by the migrations' checksums, and every test
//! gets its own copy:
//!
//! - **SQLite**: the template is a file in the temporary folder, copied per test (or
//!   into a private in-memory database with [`Harness::in_memory`]).
//! - **PostgreSQL**: the template is a database marked `IS_TEMPLATE`, cloned per test
//!   with `CREATE DATABASE … TEMPLATE …`.
//! - **MySQL/MariaDB**, which cannot clone: the template is a [snapshot](crate::snapshot)
//!   of the built schema and rows, loaded into a new database per test.
//!
//! Building a template holds the migration lock (PostgreSQL, MySQL) or is published by
//! an atomic rename (SQLite), so parallel test processes build it once. A changed
//! migration set has another key and gets its own template. Databases left by test
//! processes that died, and templates of other migration sets older than a day, are
//! dropped the first time a process asks for a database.
//!
//! The servers are `PELICAN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `PELICAN_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/mysql`): any database on the server the test
//! user may connect to; test databases are made beside it.
//!
//! ```no_run
//! use diesel_migrations::{embed_migrations, EmbeddedMigrations};
//! use pelican::testing::Harness;
//! use pelican::{Backend, Migrations};
//!
//! pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
//!
//! fn seed(conn: &mut pelican::AnyConnection) -> Result<(), pelican::testing::BoxError> {
//!     use diesel::connection::SimpleConnection;
//!     conn.batch_execute("INSERT INTO usuario (id, email, nombre) VALUES (1, 'a@b.c', 'Ana')")?;
//!     Ok(())
//! }
//!
//! #[test]
//! fn each_test_has_its_own_database() -> pelican::Result<()> {
//!     let migrations = Migrations::from_embedded(&MIGRATIONS)?;
//!     let mut db = Harness::new(&migrations, Backend::Postgres).seed("admin", seed).database()?;
//!     // db.url() for your own diesel::PgConnection, or db.conn() for pelican's.
//!     use diesel::connection::SimpleConnection;
//!     db.conn().batch_execute("INSERT INTO curso (id, titulo, instructor_id) VALUES (1, 'Rust', 1)")?;
//!     Ok(())
//! } // the database is dropped here
//!
//! #[test]
//! fn every_migration_is_reversible() {
//!     let migrations = Migrations::from_embedded(&MIGRATIONS).unwrap();
//!     pelican::testing::assert_round_trip(&migrations, Backend::Postgres);
//! }
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use sha2::{Digest, Sha256};

use crate::admin::{drop_database_sql, with_database};
use crate::connection::Bind;
use crate::snapshot::Snapshot;
use crate::{AnyConnection, Backend, Boot, Database, Error, Migrations, Result};

/// The error a seed hook may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A seed hook: the application's seed data, run once on the template.
pub type Seed = fn(&mut AnyConnection) -> std::result::Result<(), BoxError>;

/// Every test database's name starts with this, then the test process's id.
pub const TEST_PREFIX: &str = "pelican_test_";
/// Every template database's (or file's) name starts with this, then its key.
pub const TEMPLATE_PREFIX: &str = "pelican_tpl_";

/// How long building a template may wait for another process building it.
const TEMPLATE_WAIT: Duration = Duration::from_secs(300);
/// Templates of other migration sets are kept this long, for suites run side by side.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The server a backend's test databases are made on, from the environment.
pub fn server_url(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            std::env::var("PELICAN_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        ),
        Backend::Mysql => Some(
            std::env::var("PELICAN_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned()),
        ),
    }
}

/// Test databases for one migration set on one backend, configured.
#[derive(Clone)]
pub struct Harness<'m> {
    migrations: &'m Migrations,
    backend: Backend,
    seed: Option<(String, Seed)>,
    in_memory: bool,
    ahead: usize,
}

impl std::fmt::Debug for Harness<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("migrations", &self.migrations.len())
            .field("backend", &self.backend)
            .field("seed", &self.seed.as_ref().map(|(name, _)| name))
            .field("in_memory", &self.in_memory)
            .field("ahead", &self.ahead)
            .finish()
    }
}

impl<'m> Harness<'m> {
    /// Test databases at head of `migrations` on `backend`.
    pub fn new(migrations: &'m Migrations, backend: Backend) -> Self {
        Harness {
            migrations,
            backend,
            seed: None,
            in_memory: false,
            ahead: 0,
        }
    }

    /// Runs `seed` once on the template, so every test starts from the application's
    /// seed state. `name` is part of the template's key: change it when the hook's data
    /// changes.
    pub fn seed(self, name: &str, seed: Seed) -> Self {
        Harness {
            seed: Some((name.to_owned(), seed)),
            ..self
        }
    }

    /// PostgreSQL and MySQL: keep `count` databases prepared ahead, in the background,
    /// so that a test takes one that is ready instead of waiting for a clone. What is
    /// still in the pool when the process ends is dropped by the next process's
    /// cleanup.
    pub fn prepare_ahead(self, count: usize) -> Self {
        Harness {
            ahead: count,
            ..self
        }
    }

    /// SQLite only: each database lives in memory instead of a file.
    pub fn in_memory(self) -> Self {
        Harness {
            in_memory: true,
            ..self
        }
    }

    /// The template's key: the backend, every migration's version and checksum, and the
    /// seed's name.
    pub fn key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.backend.to_string());
        for migration in self.migrations {
            hasher.update(migration.version());
            hasher.update(migration.checksum());
        }
        if let Some((name, _)) = &self.seed {
            hasher.update(name);
        }
        hasher.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A new database at head, the test's own: dropped when the value is.
    pub fn database(&self) -> Result<TestDatabase> {
        static CLEANED: Mutex<Vec<Backend>> = Mutex::new(Vec::new());
        let template = self.template()?;
        let first = {
            let mut cleaned = lock(&CLEANED);
            let first = !cleaned.contains(&self.backend);
            if first {
                cleaned.push(self.backend);
            }
            first
        };
        if first {
            cleanup(self.backend, &template.key);
        }
        if self.ahead == 0 || self.backend == Backend::Sqlite {
            return TestDatabase::from_template(template, self.in_memory);
        }
        let ready = lock(&template.pool).pop();
        let database = match ready {
            Some(database) => database,
            None => TestDatabase::from_template(Arc::clone(&template), false)?,
        };
        refill(&template, self.ahead);
        Ok(database)
    }

    /// The template for this harness, built once per process (and once across
    /// processes where the backend allows).
    fn template(&self) -> Result<Arc<Template>> {
        static TEMPLATES: OnceLock<Mutex<HashMap<String, Arc<Template>>>> = OnceLock::new();
        let key = self.key();
        let templates = TEMPLATES.get_or_init(Default::default);
        // One builder at a time in a process; the others wait and reuse.
        let mut templates = templates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(template) = templates.get(&key) {
            return Ok(Arc::clone(template));
        }
        let source = match self.backend {
            Backend::Sqlite => Source::File(self.sqlite_template(&key)?),
            Backend::Postgres => self.postgres_template(&key)?,
            Backend::Mysql => self.mysql_template(&key)?,
        };
        let template = Arc::new(Template {
            backend: self.backend,
            key: key.clone(),
            source,
            pool: Mutex::new(Vec::new()),
            preparing: AtomicUsize::new(0),
        });
        templates.insert(key, Arc::clone(&template));
        Ok(template)
    }

    /// Builds the schema at head and the seed data on a fresh database.
    fn build(&self, conn: &mut AnyConnection) -> Result<()> {
        let boot = Boot::new(self.migrations);
        let boot = match &self.seed {
            Some((_, seed)) => boot.initial_setup(*seed),
            None => boot,
        };
        boot.run(conn).map(drop)
    }

    fn sqlite_template(&self, key: &str) -> Result<PathBuf> {
        let path = std::env::temp_dir().join(format!("{TEMPLATE_PREFIX}{key}.db"));
        if path.is_file() {
            return Ok(path);
        }
        // Built under a private name and published by a rename, which is atomic: a
        // process that finds the file finds it whole.
        let building = path.with_extension(format!("{}.{}.building", std::process::id(), next()));
        let result = (|| {
            let mut conn = AnyConnection::establish(&building.display().to_string())?;
            self.build(&mut conn)
        })();
        if let Err(error) = result {
            let _ = std::fs::remove_file(&building);
            return Err(error);
        }
        std::fs::rename(&building, &path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn postgres_template(&self, key: &str) -> Result<Source> {
        let admin_url = server_url(Backend::Postgres).unwrap_or_default();
        let mut admin = AnyConnection::establish(&admin_url)?;
        let pattern = format!("{TEMPLATE_PREFIX}{key}_%");
        let name = crate::lock::with(&mut admin, TEMPLATE_WAIT, |admin| {
            let ready: Vec<Name> = admin
                .load_with(
                    "SELECT CAST(datname AS TEXT) AS name FROM pg_database \
                     WHERE datname LIKE ? AND datistemplate ORDER BY datname DESC",
                    &[Bind::Text(&pattern)],
                )
                .map_err(Error::query("cannot look for the test template"))?;
            if let Some(ready) = ready.into_iter().next() {
                return Ok(ready.name);
            }
            let name = format!("{TEMPLATE_PREFIX}{key}_{}", now_secs());
            let quoted = Backend::Postgres.quote(&name);
            admin
                .batch_execute(&format!("CREATE DATABASE {quoted}"))
                .map_err(Error::query(format!(
                    "cannot create the test template {name}"
                )))?;
            let built = AnyConnection::establish(&with_database(&admin_url, &name))
                .and_then(|mut conn| self.build(&mut conn));
            if let Err(error) = built {
                let _ = admin.batch_execute(&drop_database_sql(Backend::Postgres, &name));
                return Err(error);
            }
            admin
                .batch_execute(&format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE true"))
                .map_err(Error::query(format!("cannot mark {name} as a template")))?;
            Ok(name)
        })?;
        Ok(Source::Server {
            admin_url,
            template: name,
            snapshot: None,
        })
    }

    fn mysql_template(&self, key: &str) -> Result<Source> {
        let admin_url = server_url(Backend::Mysql).unwrap_or_default();
        let path = std::env::temp_dir().join(format!("{TEMPLATE_PREFIX}{key}.mysql.sql"));
        // A cached snapshot that does not parse (cut short, say) is built again.
        let cached = std::fs::read_to_string(&path)
            .ok()
            .filter(|text| Snapshot::parse(text.as_str()).is_ok());
        let snapshot = match cached {
            Some(text) => text,
            None => {
                let scratch = crate::scratch::Scratch::create(&admin_url, None)?;
                let snapshot = {
                    let mut conn = scratch.connect()?;
                    self.build(&mut conn)?;
                    Snapshot::generate(&mut conn, self.migrations)?
                };
                drop(scratch);
                let text = snapshot.sql().to_owned();
                let building =
                    path.with_extension(format!("{}.{}.building", std::process::id(), next()));
                if std::fs::write(&building, &text).is_ok() {
                    let _ = std::fs::rename(&building, &path);
                }
                text
            }
        };
        Ok(Source::Server {
            admin_url,
            template: String::new(),
            snapshot: Some((snapshot, self.migrations.clone())),
        })
    }
}

/// Where a template lives.
#[derive(Debug)]
enum Source {
    /// A SQLite file.
    File(PathBuf),
    /// A server: a template database to clone (PostgreSQL) or a snapshot to load
    /// (MySQL).
    Server {
        admin_url: String,
        template: String,
        snapshot: Option<(String, Migrations)>,
    },
}

/// A template, built once, and the databases prepared ahead from it.
#[derive(Debug)]
struct Template {
    backend: Backend,
    key: String,
    source: Source,
    pool: Mutex<Vec<TestDatabase>>,
    preparing: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts preparing databases in the background until `ahead` are ready or on the way.
fn refill(template: &Arc<Template>, ahead: usize) {
    loop {
        let ready = lock(&template.pool).len();
        let preparing = template.preparing.load(Ordering::SeqCst);
        if ready + preparing >= ahead {
            return;
        }
        if template
            .preparing
            .compare_exchange(preparing, preparing + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            continue;
        }
        let template = Arc::clone(template);
        std::thread::spawn(move || {
            // A failure here is found again, and reported, by the next test's own clone.
            if let Ok(database) = TestDatabase::from_template(Arc::clone(&template), false) {
                lock(&template.pool).push(database);
            }
            template.preparing.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn next() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A test's own database at head, dropped with the value.
pub struct TestDatabase {
    template: Arc<Template>,
    url: String,
    name: String,
    conn: AnyConnection,
    in_memory: bool,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.template.backend)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A database at head of `migrations` on `backend`, with no seed: shorthand for
    /// `Harness::new(migrations, backend).database()`.
    pub fn new(migrations: &Migrations, backend: Backend) -> Result<TestDatabase> {
        Harness::new(migrations, backend).database()
    }

    /// Makes a new database from the template and connects to it.
    fn from_template(template: Arc<Template>, in_memory: bool) -> Result<TestDatabase> {
        let name = format!("{}{}", crate::scratch::owner_prefix(TEST_PREFIX), next());
        let mut file = None;
        let (url, conn) = match &template.source {
            Source::File(source) if in_memory => {
                let url = format!("file:{name}?mode=memory&cache=shared");
                // This connection keeps the memory database alive; SQLite's own
                // VACUUM INTO copies the template into it.
                let conn = AnyConnection::establish(&url)?;
                AnyConnection::establish(&source.display().to_string())?
                    .batch_execute(&format!("VACUUM INTO '{url}'"))
                    .map_err(Error::query("cannot copy the test template into memory"))?;
                (url, conn)
            }
            Source::File(source) => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                std::fs::copy(source, &path).map_err(|error| Error::Io {
                    path: path.clone(),
                    source: error,
                })?;
                file = Some(path.clone());
                let url = path.display().to_string();
                let conn = AnyConnection::establish(&url)?;
                (url, conn)
            }
            Source::Server {
                admin_url,
                template: template_name,
                snapshot,
            } => {
                let backend = template.backend;
                let quoted = backend.quote(&name);
                let create = match snapshot {
                    None => format!(
                        "CREATE DATABASE {quoted} TEMPLATE {}",
                        backend.quote(template_name)
                    ),
                    Some(_) => format!("CREATE DATABASE {quoted}"),
                };
                AnyConnection::establish(admin_url)?
                    .batch_execute(&create)
                    .map_err(Error::query(format!(
                        "cannot create the test database {name}"
                    )))?;
                let url = with_database(admin_url, &name);
                let mut conn = AnyConnection::establish(&url)?;
                if let Some((snapshot, migrations)) = snapshot {
                    // Boot loads the snapshot and stamps head, as for any fresh database.
                    Boot::new(migrations)
                        .snapshot(snapshot.as_str())
                        .run(&mut conn)?;
                }
                (url, conn)
            }
        };
        Ok(TestDatabase {
            template,
            url,
            name,
            conn,
            in_memory,
            file,
        })
    }

    /// The URL, to connect with the application's own diesel connection.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.template.backend
    }

    /// pelican's connection to it.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Puts the database back to the template's state, for tests that keep one
    /// database: a new copy of the template takes its place (its name and URL change)
    /// and the old one is dropped, which measured faster than truncating and reseeding
    /// on every backend (see the README).
    pub fn reset(&mut self) -> Result<()> {
        let fresh = TestDatabase::from_template(Arc::clone(&self.template), self.in_memory)?;
        drop(std::mem::replace(self, fresh));
        Ok(())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Source::Server { admin_url, .. } = &self.template.source {
            let sql = drop_database_sql(self.template.backend, &self.name);
            if let Ok(mut admin) = AnyConnection::establish(admin_url) {
                let _ = admin.batch_execute(&sql);
            }
        }
    }
}

/// Drops what dead processes left (test and scratch databases whose process is gone,
/// see [`crate::scratch::remove_leftovers`]) and templates of other migration sets older
/// than a day. Best effort: a failure here must not fail a test.
fn cleanup(backend: Backend, current: &str) {
    use crate::scratch::{owner_gone, PREFIX as SCRATCH_PREFIX};
    let dead = |name: &str| owner_gone(name, TEST_PREFIX) || owner_gone(name, SCRATCH_PREFIX);
    let stale_template = |name: &str| {
        let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) else {
            return false;
        };
        let mut parts = rest.split(['_', '.']);
        let key = parts.next().unwrap_or_default();
        let made = parts
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        key != current && now_secs().saturating_sub(made) > STALE_AFTER.as_secs()
    };
    let Some(admin_url) = server_url(backend) else {
        let folder = std::env::temp_dir();
        let old = |name: &str| {
            std::fs::metadata(folder.join(name))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER)
        };
        let other_set = |name: &str| {
            name.strip_prefix(TEMPLATE_PREFIX)
                .is_some_and(|rest| !rest.starts_with(current))
        };
        crate::scratch::remove_leftover_files(&folder, |name| {
            dead(name) || other_set(name) && old(name)
        });
        return;
    };
    if let Ok(mut admin) = AnyConnection::establish(&admin_url) {
        crate::scratch::remove_leftovers(&mut admin, |name| dead(name) || stale_template(name));
    }
}

/// Proves every migration reversible on `backend`, one by one, on a scratch database:
/// up, down (the schema and row counts must be what they were before), up again (what
/// they were after the first up). Panics with the readable diff of every migration that
/// does not come back, for a test:
///
/// ```no_run
/// #[test]
/// fn migrations_are_reversible() {
///     let migrations = pelican::Migrations::from_dir("migrations").unwrap();
///     pelican::testing::assert_round_trip(&migrations, pelican::Backend::Sqlite);
/// }
/// ```
#[track_caller]
pub fn assert_round_trip(migrations: &Migrations, backend: Backend) {
    if let Err(message) = round_trip(migrations, backend) {
        #[allow(clippy::panic)]
        {
            panic!("{message}");
        }
    }
}

/// What [`assert_round_trip`] checks, as a result: `Err` holds the findings, one a line.
pub fn round_trip(migrations: &Migrations, backend: Backend) -> std::result::Result<(), String> {
    // The check's live database is an empty one: only the round trip can find anything.
    let server = server_url(backend).unwrap_or_else(|| "pelican_rt.db".to_owned());
    let empty = crate::scratch::Scratch::create(&server, None)
        .map_err(|e| format!("the round trip could not run: {e}"))?;
    let report = crate::check::Check::new(migrations)
        .run(empty.url())
        .map_err(|e| format!("the round trip could not run: {e}"))?;
    if report.ok() {
        return Ok(());
    }
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    Err(format!(
        "{} migration(s) do not come back on {backend}:\n{}",
        findings.len(),
        findings.join("\n")
    ))
}
