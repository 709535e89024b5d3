//! The template a test's database is made from, built once per migration set: a SQLite
//! file published by a rename, a PostgreSQL template database built under the migration
//! lock, a MySQL/MariaDB snapshot kept in the temporary folder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;

use super::{next, now_secs, server_url, Harness, TestDatabase, TEMPLATE_PREFIX};
use crate::admin::{drop_database_sql, with_database};
use crate::connection::Bind;
use crate::snapshot::Snapshot;
use crate::{AnyConnection, Backend, Boot, Database, Error, Migrations, Result};

/// How long building a template may wait for another process building it.
const TEMPLATE_WAIT: Duration = Duration::from_secs(300);

impl Harness<'_> {
    /// The template for this harness, built once per process (and once across
    /// processes where the backend allows).
    pub(super) fn template(&self) -> Result<Arc<Template>> {
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
        // A file is copied; a database with templates is cloned by the server; else
        // a snapshot of the schema is loaded into each test's database.
        let dialect = self.backend.dialect();
        let source = if dialect.file_based() {
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

    fn template_database(&self, key: &str) -> Result<Source> {
        let admin_url = server_url(self.backend).unwrap_or_default();
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
            let quoted = self.backend.quote(&name);
            admin
                .batch_execute(&format!("CREATE DATABASE {quoted}"))
                .map_err(Error::query(format!(
                    "cannot create the test template {name}"
                )))?;
            let built = AnyConnection::establish(&with_database(&admin_url, &name))
                .and_then(|mut conn| self.build(&mut conn));
            if let Err(error) = built {
                let _ = admin.batch_execute(&drop_database_sql(self.backend, &name));
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

    fn snapshot_template(&self, key: &str) -> Result<Source> {
        let admin_url = server_url(self.backend).unwrap_or_default();
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
    pub(super) preparing: AtomicUsize,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}
