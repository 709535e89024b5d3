//! A test's own database, made from the template: a copy of the SQLite file (or of it
//! into memory), a PostgreSQL clone, or the MySQL/MariaDB snapshot loaded.

use std::sync::Arc;

use diesel::connection::SimpleConnection;

use super::template::{Source, Template};
use super::{next, TestDatabase, TEST_PREFIX};
use crate::admin::with_database;
use crate::{AnyConnection, Boot, Error, Result};

impl TestDatabase {
    /// Makes a new database from the template and connects to it.
    pub(super) fn from_template(template: Arc<Template>, in_memory: bool) -> Result<TestDatabase> {
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
}
