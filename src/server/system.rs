//! The server's own databases, which pelican never builds in, empties or drops.

use diesel::result::{Error as DieselError, QueryResult};

use super::url::database_name;
use crate::backend::Storage;
use crate::{Backend, Database, Error, Result};

/// The flag that lets `reset`, `init` and `database reset|drop` use the one system
/// database an application may keep its tables in (PostgreSQL's `postgres`).
pub(super) const ALLOW_MAINTENANCE_FLAG: &str = "--allow-maintenance-database";

/// Refuses `command` on the database a URL names when it is one of the server's own
/// databases (PostgreSQL's `postgres`, `template0`, `template1`; MySQL's `mysql`,
/// `information_schema`, `performance_schema`, `sys`): called before connecting for
/// anything destructive, so that nothing in it is touched. `allow_maintenance` lets
/// PostgreSQL's `postgres` through (see [`ALLOW_MAINTENANCE_FLAG`]), the default
/// database of many setups; the others are never the application's. A SQLite file has
/// none.
pub(crate) fn refuse_system_database(
    url: &str,
    command: &'static str,
    allow_maintenance: bool,
) -> Result<()> {
    let backend = Backend::from_url(url)?;
    if backend.dialect().storage() == Storage::File {
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
pub(super) fn refuse_system(backend: Backend, name: &str) -> QueryResult<()> {
    refuse_system_name(backend, name, "the test harness", false)
        .map_err(|error| DieselError::QueryBuilderError(error.to_string().into()))
}
