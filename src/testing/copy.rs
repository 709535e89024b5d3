//! A test's own database, made from the template: a copy of the SQLite file (or of it
//! into memory), a PostgreSQL clone, or the MySQL/MariaDB snapshot loaded.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use diesel::connection::SimpleConnection;

use super::template::{Source, Template};
use super::{TestDatabase, TEST_PREFIX};
use crate::dialect::CloneStrategy;
use crate::server::{unique_name, Server, TempDatabase};
use crate::{AnyConnection, Boot, Error, Result};

/// The variable that picks PostgreSQL's copy strategy for every clone: `FILE_COPY`,
/// `WAL_LOG`, or `default` (the server's, `WAL_LOG` since 15). Unset, a clone a test
/// waits for is `WAL_LOG` and one prepared ahead `FILE_COPY`, as measured best (see
/// docs/testing.md).
pub const CLONE_STRATEGY_VARIABLE: &str = "PELICAN_TEST_CLONE_STRATEGY";

impl TestDatabase {
    /// Makes a new database from the template and connects to it.
    pub(super) fn from_template(template: Arc<Template>, in_memory: bool) -> Result<TestDatabase> {
        TestDatabase::copy(template, in_memory, CloneStrategy::WalLog)
    }

    /// Makes a new database from the template for the pool, in the background: see
    /// [`clone`] for the copy strategy.
    pub(super) fn prepared_ahead(template: Arc<Template>) -> Result<TestDatabase> {
        TestDatabase::copy(template, false, CloneStrategy::FileCopy)
    }

    /// Makes a new database from the template, a PostgreSQL clone with `strategy`
    /// unless [`CLONE_STRATEGY_VARIABLE`] says otherwise.
    fn copy(
        template: Arc<Template>,
        in_memory: bool,
        strategy: CloneStrategy,
    ) -> Result<TestDatabase> {
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
                let made = template.with_server(admin_url, |server| {
                    match snapshot {
                        None => clone(&template, server, &name, template_name, strategy),
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

/// Clones the template into database `name`, with `strategy` unless
/// [`CLONE_STRATEGY_VARIABLE`] names another. Measured on PostgreSQL 15 (N = 200,
/// docs/benchmarks.md, "A fresh database never waited for"): `WAL_LOG` (the server's
/// default) makes the quickest single clone, what a waiting test wants, but copies
/// through the shared buffers and leaves every page dirty, so the checkpoint that each
/// `DROP DATABASE` forces writes them all: with a pool of clones waiting, a drop took
/// 8x longer and a suite of 200 tests on 8 threads 2.5x longer than with `FILE_COPY`,
/// which checkpoints around a file copy and leaves nothing dirty; a clone made in the
/// background has time for that. A server that refuses strategies (before 15) is
/// asked without one from then on.
fn clone(
    template: &Template,
    server: &mut Server,
    name: &str,
    template_name: &str,
    strategy: CloneStrategy,
) -> diesel::QueryResult<TempDatabase> {
    let strategy = match std::env::var(CLONE_STRATEGY_VARIABLE) {
        Ok(value) if value.eq_ignore_ascii_case("wal_log") => Some(CloneStrategy::WalLog),
        Ok(value) if value.eq_ignore_ascii_case("file_copy") => Some(CloneStrategy::FileCopy),
        Ok(value) if value.eq_ignore_ascii_case("default") => None,
        _ => Some(strategy),
    }
    .filter(|_| template.strategies.load(Ordering::Relaxed));
    match TempDatabase::clone_on(server, name, template_name, strategy) {
        Err(_) if strategy.is_some() => {
            let made = TempDatabase::clone_on(server, name, template_name, None)?;
            template.strategies.store(false, Ordering::Relaxed);
            Ok(made)
        }
        made => made,
    }
}
