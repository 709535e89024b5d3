//! The template a test's database is made from, built once per migration set: a SQLite
//! file published by a rename, a PostgreSQL template database built under the migration
//! lock, a MySQL/MariaDB snapshot kept in the temporary folder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::{now_secs, server_url, Harness, TestDatabase, TEMPLATE_PREFIX};
use crate::dialect::Storage;
use crate::server::{next, Server};
use crate::snapshot::Snapshot;
use crate::{AnyConnection, Backend, Boot, Error, Migrations, Result};

/// How long building a template may wait for another process building it.
const TEMPLATE_WAIT: Duration = Duration::from_secs(300);

/// This process's templates, by key: built once, and where the databases prepared
/// ahead wait (drained at exit, see [`super::pool`]).
pub(super) static TEMPLATES: OnceLock<Mutex<HashMap<String, Arc<Template>>>> = OnceLock::new();

impl Harness<'_> {
    /// The template for this harness, built once per process (and once across
    /// processes where the backend allows).
    pub(super) fn template(&self) -> Result<Arc<Template>> {
        let key = self.key();
        let templates = TEMPLATES.get_or_init(Default::default);
        // One builder at a time in a process; the others wait and reuse.
        let mut templates = templates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(template) = templates.get(&key) {
            return Ok(Arc::clone(template));
        }
        // A file is copied; a database with templates is cloned by the server; else
        // a snapshot of the schema is loaded into each test's database.
        let dialect = self.backend.dialect();
        let source = if dialect.storage() == Storage::File {
            Source::File(self.sqlite_template(&key)?)
        } else if dialect.database_templates() {
            self.template_database(&key)?
        } else {
            self.snapshot_template(&key)?
        };
        let template = Arc::new(Template {
            backend: self.backend,
            key: key.clone(),
            source,
            pool: Mutex::new(Vec::new()),
            preparing: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            strategies: AtomicBool::new(true),
            admin: Mutex::new(Vec::new()),
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

    /// The newest template database of this key, built under the migration lock of
    /// the server's database if there is none.
    fn template_database(&self, key: &str) -> Result<Source> {
        let mut server = Server::connect(&server_url(self.backend).unwrap_or_default())?;
        let prefix = format!("{TEMPLATE_PREFIX}{key}_");
        let name = server.locked(TEMPLATE_WAIT, |server| {
            if let Some(ready) = server.templates(&prefix)?.pop() {
                return Ok(ready);
            }
            let name = format!("{prefix}{}", now_secs());
            server.create(&name).map_err(Error::query(format!(
                "cannot create the test template {name}"
            )))?;
            let built = AnyConnection::establish(&server.database_url(&name))
                .and_then(|mut conn| self.build(&mut conn));
            if let Err(error) = built {
                let _ = server.drop(&name);
                return Err(error);
            }
            server
                .mark_template(&name)
                .map_err(Error::query(format!("cannot mark {name} as a template")))?;
            Ok(name)
        })?;
        Ok(Source::Server {
            admin_url: server.url().to_owned(),
            template: name,
            snapshot: None,
        })
    }

    fn snapshot_template(&self, key: &str) -> Result<Source> {
        let admin_url = server_url(self.backend).unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("{TEMPLATE_PREFIX}{key}.{}.sql", self.backend));
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
pub(super) enum Source {
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
pub(super) struct Template {
    pub(super) backend: Backend,
    pub(super) key: String,
    pub(super) source: Source,
    pub(super) pool: Mutex<Vec<TestDatabase>>,
    /// Databases being prepared ahead, in the background.
    pub(super) preparing: AtomicUsize,
    /// Databases handed to tests so far: the pool grows with the demand, up to its size.
    pub(super) taken: AtomicUsize,
    /// Whether the server takes a copy strategy (PostgreSQL 15 and later): until it
    /// refuses one.
    pub(super) strategies: AtomicBool,
    /// Connections to the server, kept between clones: connecting costs a backend
    /// start, as much as a small clone.
    admin: Mutex<Vec<Server>>,
}

impl Template {
    /// Runs `f` on a connection to the server (the template's `admin_url`), kept for
    /// the next call when `f` succeeds. A kept connection that fails (the server
    /// restarted, say) is dropped and `f` runs again on a new one.
    pub(super) fn with_server<T>(
        &self,
        admin_url: &str,
        mut f: impl FnMut(&mut Server) -> Result<T>,
    ) -> Result<T> {
        let kept = super::lock(&self.admin).pop();
        if let Some(mut server) = kept {
            if let Ok(value) = f(&mut server) {
                super::lock(&self.admin).push(server);
                return Ok(value);
            }
        }
        let mut server = Server::connect(admin_url)?;
        let value = f(&mut server)?;
        super::lock(&self.admin).push(server);
        Ok(value)
    }
}
