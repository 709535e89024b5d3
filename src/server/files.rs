//! A SQLite database as the file it is: found, and removed with its journal files.

use std::path::{Path, PathBuf};

use crate::backend::Storage;
use crate::{Backend, Error, Result};

/// Whether the database a URL names exists, as far as pelican can tell without creating
/// it: a SQLite file is looked for (connecting would create it); a server's database is
/// taken to exist, and connecting to it says if it does not.
pub(crate) fn database_exists(url: &str) -> Result<bool> {
    Ok(
        (Backend::from_url(url)?.dialect().storage() == Storage::Server)
            || sqlite_file(url).is_none_or(Path::exists),
    )
}

/// Whether a URL names a SQLite file that does not exist in a folder that does: what
/// connecting would create (in a missing folder, connecting fails, and says so).
pub(crate) fn missing_sqlite_file(url: &str) -> bool {
    if !Backend::from_url(url).is_ok_and(|b| b.dialect().storage() == Storage::File) {
        return false;
    }
    sqlite_file(url).is_some_and(|path| {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        !path.exists() && folder.is_none_or(Path::exists)
    })
}

/// Removes a SQLite database file, and says whether there was one: diesel CLI's
/// `database drop`, which leaves any journal files beside it.
pub(crate) fn remove_sqlite_file(path: &Path) -> Result<bool> {
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
pub(super) fn remove_sqlite_files(path: &Path) -> Result<()> {
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    remove_sqlite_file(path).map(drop)
}

/// [`Server::remove_leftovers`] for SQLite: the files in `folder` that `leftover` picks
/// (a database and the journals beside it are each picked by name).
///
/// [`Server::remove_leftovers`]: super::Server::remove_leftovers
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

/// The file a SQLite URL names: a path, `sqlite://` and a path, or a `file:` URI
/// (its query left out); `None` for an in-memory database.
pub(super) fn sqlite_file(url: &str) -> Option<&Path> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let path = match path.strip_prefix("file:") {
        Some(uri) => uri.split(['?', '#']).next().unwrap_or_default(),
        None => path,
    };
    (path != ":memory:" && !path.is_empty()).then(|| Path::new(path))
}
