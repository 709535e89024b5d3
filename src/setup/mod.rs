//! What `diesel setup` and `diesel database setup|reset|drop` do to files and servers,
//! step by step, for pelican's commands of the same names: the migrations folder, a
//! `diesel.toml`, PostgreSQL's initial setup migration, creating and dropping the
//! database. Each step says what it did; running the migrations is [`crate::Migrator`]'s.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::dialect::Storage;
use crate::server::{self, Server};
use crate::{Backend, Error, Result};

/// The folder name of diesel's PostgreSQL initial setup migration.
pub(crate) const INITIAL_SETUP: &str = "00000000000000_diesel_initial_setup";

/// The `up.sql` diesel CLI 2.3 writes for it: `diesel_manage_updated_at` and
/// `diesel_set_updated_at`.
pub(crate) const INITIAL_SETUP_UP: &str = include_str!("initial_setup_up.sql");

/// Its `down.sql`.
pub(crate) const INITIAL_SETUP_DOWN: &str = include_str!("initial_setup_down.sql");

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the migrations folder with an empty `.keep` (so that git keeps it) if it is
/// missing, and says whether it did. In one that exists, a `.gitkeep` older diesel
/// CLIs left is removed, as diesel CLI removes it.
pub(crate) fn create_migrations_dir(dir: &Path) -> Result<bool> {
    if dir.exists() {
        let gitkeep = dir.join(".gitkeep");
        if gitkeep.is_file() {
            std::fs::remove_file(&gitkeep).map_err(io(&gitkeep))?;
        }
        return Ok(false);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let keep = dir.join(".keep");
    std::fs::write(&keep, "").map_err(io(&keep))?;
    Ok(true)
}

/// Writes diesel's default `diesel.toml` at `path` if there is no file there, with the
/// migrations folder relative to the project root; says whether it did.
pub(crate) fn write_default_config(
    path: &Path,
    migrations_dir: &Path,
    project_root: &Path,
) -> Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    let relative = crate::generate::relative_to(migrations_dir, project_root);
    let text = crate::config::default_diesel_toml(&relative.display().to_string());
    std::fs::write(path, text).map_err(io(path))?;
    Ok(true)
}

/// On PostgreSQL, writes diesel's initial setup migration into the migrations folder
/// (creating the folder if need be) unless it is there; says whether it did. Other
/// backends have none.
pub(crate) fn write_initial_setup(migrations_dir: &Path, backend: Backend) -> Result<bool> {
    let folder = migrations_dir.join(INITIAL_SETUP);
    if !backend.dialect().has_initial_setup() || folder.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    for (file, text) in [
        ("up.sql", INITIAL_SETUP_UP),
        ("down.sql", INITIAL_SETUP_DOWN),
    ] {
        let path = folder.join(file);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(true)
}

/// The name diesel CLI shows for a database: the SQLite URL as given, the database's
/// name on a server.
pub(crate) fn display_name(url: &str) -> String {
    match Backend::from_url(url) {
        Ok(backend) if backend.dialect().storage() == Storage::Server => {
            server::database_name(url).unwrap_or_else(|| url.to_owned())
        }
        _ => url.to_owned(),
    }
}

/// Creates the database if it is missing (see [`server::create_database`]); the name to
/// show if it did.
pub(crate) fn create_database(url: &str, wait: Duration) -> Result<Option<String>> {
    Ok(server::create_database(url, wait)?.then(|| display_name(url)))
}

/// Drops the database if it exists, as `diesel database drop` does: the SQLite file is
/// removed (its journal files left, as diesel leaves them); on a server, `DROP
/// DATABASE` through the maintenance database (`postgres`, or `template1` to drop
/// `postgres` itself; MySQL's none), where a template database counts as missing and
/// one still in use is refused. The name shown if it did. One of the server's own
/// databases is refused (see `server::refuse_system_database`).
pub fn drop_database(url: &str) -> Result<Option<String>> {
    drop_database_allowing(url, false)
}

/// [`drop_database`], where `allow_maintenance` lets PostgreSQL's `postgres` database
/// be dropped (`--allow-maintenance-database`); the server's other databases are
/// refused all the same.
pub(crate) fn drop_database_allowing(url: &str, allow_maintenance: bool) -> Result<Option<String>> {
    server::refuse_system_database(url, "database drop", allow_maintenance)?;
    if Backend::from_url(url)?.dialect().storage() == Storage::File {
        let path = PathBuf::from(url);
        if !path.exists() {
            return Ok(None);
        }
        server::remove_sqlite_file(&path)?;
        return Ok(Some(url.to_owned()));
    }
    let Some(name) = server::database_name(url) else {
        return Err(Error::Connect {
            url: crate::url_secret::redact_url(url),
            message: "the URL names no database to drop".to_owned(),
        });
    };
    let mut server = Server::maintenance(url, &name, Duration::ZERO)?;
    if !server.exists_unless_template(&name)? {
        return Ok(None);
    }
    server
        .drop_unforced(&name)
        .map_err(Error::query(format!("cannot drop database {name}")))?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_folder_gets_a_keep_file_and_loses_a_gitkeep() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("migrations");
        assert!(create_migrations_dir(&dir).unwrap());
        assert_eq!(std::fs::read(dir.join(".keep")).unwrap(), b"");
        std::fs::write(dir.join(".gitkeep"), "").unwrap();
        assert!(!create_migrations_dir(&dir).unwrap());
        assert!(!dir.join(".gitkeep").exists());
    }

    #[test]
    fn the_initial_setup_migration_is_postgres_only_and_written_once() {
        let root = tempfile::tempdir().unwrap();
        assert!(!write_initial_setup(root.path(), Backend::Sqlite).unwrap());
        assert!(write_initial_setup(root.path(), Backend::Postgres).unwrap());
        assert!(!write_initial_setup(root.path(), Backend::Postgres).unwrap());
        let up = std::fs::read_to_string(root.path().join(INITIAL_SETUP).join("up.sql")).unwrap();
        assert!(up.contains("CREATE OR REPLACE FUNCTION diesel_manage_updated_at"));
    }
}
