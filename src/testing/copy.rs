//! A test's own database, made from the template: a copy of the SQLite file (or of it
//! into memory), a PostgreSQL clone, or the MySQL/MariaDB snapshot loaded.

use std::sync::Arc;

use diesel::connection::SimpleConnection;

use super::template::{Source, Template};
use super::{TestDatabase, TEST_PREFIX};
use crate::server::{unique_name, TempDatabase};
use crate::{AnyConnection, Boot, Error, Result};

impl TestDatabase {
    /// Makes a new database from the template and connects to it.
    pub(super) fn from_template(template: Arc<Template>, in_memory: bool) -> Result<TestDatabase> {
        let name = unique_name(TEST_PREFIX, false);
        let (conn, made) = match &template.source {
            Source::File(source) if in_memory => {
                let url = format!("file:{name}?mode=memory&cache=shared");
                // This connection keeps the memory database alive; SQLite's own
                // VACUUM INTO copies the template into it.
                let conn = AnyConnection::establish(&url)?;
                AnyConnection::establish(&source.display().to_string())?
                    .batch_execute(&format!("VACUUM INTO '{url}'"))
                    .map_err(Error::query("cannot copy the test template into memory"))?;
                return Ok(TestDatabase {
                    template,
                    url,
                    name,
                    conn,
                    in_memory,
                    _made: None,
                });
            }
            Source::File(source) => {
                let copy = TempDatabase::file(std::env::temp_dir().join(format!("{name}.db")));
                std::fs::copy(source, copy.url()).map_err(|error| Error::Io {
                    path: copy.url().into(),
                    source: error,
                })?;
                (AnyConnection::establish(copy.url())?, copy)
            }
            Source::Server {
                admin_url,
                template: template_name,
                snapshot,
            } => {
                // PostgreSQL's default strategy (WAL_LOG) is kept: FILE_COPY makes the
                // server checkpoint twice a clone, which measured 10x slower alone and
                // slower with 8 at once (docs/benchmarks.md, "A fresh database never
                // waited for").
                let made = template.with_server(admin_url, |server| {
                    match snapshot {
                        None => TempDatabase::clone_on(server, &name, template_name),
                        Some(_) => TempDatabase::create_on(server, &name),
                    }
                    .map_err(Error::query(format!(
                        "cannot create the test database {name}"
                    )))
                })?;
                let mut conn = AnyConnection::establish(made.url())?;
                if let Some((snapshot, migrations)) = snapshot {
                    // Boot loads the snapshot and stamps head, as for any fresh database.
                    Boot::new(migrations)
                        .snapshot(snapshot.as_str())
                        .run(&mut conn)?;
                }
                (conn, made)
            }
        };
        Ok(TestDatabase {
            template,
            url: made.url().to_owned(),
            name,
            conn,
            in_memory,
            _made: Some(made),
        })
    }
}
