//! New migration folders, in diesel 2.3's naming.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::{Error, Result};

/// The text diesel CLI puts in a new `up.sql`.
const UP_TEMPLATE: &str = "-- Your SQL goes here\n";
/// The text diesel CLI puts in a new `down.sql`.
const DOWN_TEMPLATE: &str = "-- This file should undo anything in `up.sql`\n";

/// Creates `DIR/YYYY-MM-DD-HHMMSS-XXXX_NAME/{up.sql,down.sql}` and returns the folder.
///
/// The time is UTC; `XXXX` is a counter within the second, so migrations generated
/// in the same second get distinct, ordered versions. The counter is written in decimal
/// digits: diesel 2.3 writes it in hex, whose `000a` pelican (which wants a version of
/// digits) would refuse; for the first ten in a second the two agree. The files hold only diesel's
/// comment, which runs as nothing.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let folder = pelican::generate::migration(dir.path(), "add_users_phone", chrono::Utc::now())?;
/// assert!(folder.join("up.sql").is_file());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn migration(dir: &Path, name: &str, now: DateTime<Utc>) -> Result<PathBuf> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::BadMigrationName {
            name: name.to_owned(),
        });
    }
    if !dir.is_dir() {
        return Err(Error::MigrationDirectoryMissing {
            path: dir.to_path_buf(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let second = now.format("%Y-%m-%d-%H%M%S").to_string();
    let mut next = 0u32;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let file_name = entry.map_err(io(dir))?.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&second)) else {
            continue;
        };
        let counter = rest.strip_prefix('-').and_then(|r| r.get(..4));
        let digits = counter.filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
        if let Some(n) = digits.and_then(|c| c.parse::<u32>().ok()) {
            next = next.max(n + 1);
        } else if rest.starts_with('_') {
            next = next.max(1);
        }
    }
    let folder = dir.join(format!("{second}-{next:04}_{name}"));
    std::fs::create_dir(&folder).map_err(io(&folder))?;
    for (file, text) in [("up.sql", UP_TEMPLATE), ("down.sql", DOWN_TEMPLATE)] {
        let path = folder.join(file);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found while fuzzing the folder-name parser: the eleventh migration of a second was
    /// `…-000a_…`, a version pelican itself refuses.
    #[test]
    fn twelve_migrations_in_one_second_have_ordered_versions_of_digits() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let mut versions = Vec::new();
        for i in 0..12 {
            let folder = migration(dir.path(), &format!("m{i}"), now).unwrap();
            let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
            versions.push(crate::source::version_of(&name).unwrap());
        }
        let mut sorted = versions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, versions);
        assert!(versions[11].ends_with("0011"), "{versions:?}");
        crate::Migrations::from_dir(dir.path()).unwrap();
    }
}
