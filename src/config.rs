//! Where the database and the migrations are, found the way diesel CLI finds them.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Loads `.env` from the working directory or above into the environment, without
/// overriding variables already set (dotenvy's rule, as diesel CLI does). A missing
/// file is fine; one that does not parse is an error naming it.
///
/// dotenvy's own message quotes the line that does not parse, which may be the
/// `DATABASE_URL` with its password; pelican names the line by number instead.
pub fn load_dotenv() -> Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(error) if error.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(line, _)) => {
            let path = dotenv_file().unwrap_or_else(|| PathBuf::from(".env"));
            let which = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| line_number(&text, &line))
                .map_or("a line".to_owned(), |n| format!("line {n}"));
            Err(Error::Config {
                path,
                message: format!(
                    "{which} does not parse (its text is not shown: it may hold a password)"
                ),
            })
        }
        Err(error) => Err(Error::Config {
            path: PathBuf::from(".env"),
            message: error.to_string(),
        }),
    }
}

/// The `.env` dotenvy reads: in the working directory or the nearest folder above.
fn dotenv_file() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(".env"))
        .find(|file| file.is_file())
}

/// The 1-based number of the first line of `text` holding `line`'s first line (dotenvy
/// reports a line's text, sometimes only from its value on).
fn line_number(text: &str, line: &str) -> Option<usize> {
    let needle = line.lines().next().filter(|l| !l.trim().is_empty())?;
    text.lines()
        .position(|candidate| candidate.contains(needle))
        .map(|index| index + 1)
}

/// The database URL: the flag, else `DATABASE_URL` (from the environment or `.env`).
pub fn database_url(flag: Option<&str>) -> Result<String> {
    if let Some(url) = flag.filter(|u| !u.is_empty()) {
        return Ok(url.to_owned());
    }
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .ok_or(Error::NoDatabaseUrl)
}

/// The migrations folder, searched as diesel CLI does: the flag, else
/// `MIGRATION_DIRECTORY`, else `[migrations_directory] dir` in `diesel.toml`
/// (relative to that file), else a `migrations/` folder in the working directory or
/// the nearest parent that has one.
pub fn migration_dir(flag: Option<&Path>, config_file: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("MIGRATION_DIRECTORY").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: PathBuf::from("."),
        source,
    })?;
    let config = match config_file {
        Some(file) => Some(file.to_path_buf()),
        None => diesel_toml(&cwd),
    };
    if let Some(file) = config.filter(|f| f.is_file() || config_file.is_some()) {
        if let Some(dir) = migrations_dir_from_toml(&file)? {
            let base = file.parent().unwrap_or(Path::new("."));
            return Ok(base.join(dir));
        }
    }
    cwd.ancestors()
        .map(|dir| dir.join("migrations"))
        .find(|candidate| candidate.is_dir())
        .ok_or(Error::NoMigrationDirectory { searched_from: cwd })
}

/// diesel CLI's `diesel.toml`: `DIESEL_CONFIG_FILE`, else in the project root (the
/// nearest folder with a `Cargo.toml`), else in the working directory.
fn diesel_toml(cwd: &Path) -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("DIESEL_CONFIG_FILE").filter(|f| !f.is_empty()) {
        return Some(PathBuf::from(file));
    }
    let root = cwd
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or(cwd);
    Some(root.join("diesel.toml"))
}

/// The `[migrations_directory] dir` of a `diesel.toml`. pelican reads only this key
/// and leaves every other section to diesel CLI, which denies sections it does not know.
fn migrations_dir_from_toml(file: &Path) -> Result<Option<PathBuf>> {
    let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| Error::Config {
        path: file.to_path_buf(),
        message: e.message().to_owned(),
    })?;
    let Some(section) = table.get("migrations_directory") else {
        return Ok(None);
    };
    match section.get("dir") {
        Some(toml::Value::String(dir)) => Ok(Some(PathBuf::from(dir))),
        Some(_) => Err(Error::Config {
            path: file.to_path_buf(),
            message: "[migrations_directory] dir must be a string".to_owned(),
        }),
        None => Ok(None),
    }
}
