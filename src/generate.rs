//! New migration folders, named as diesel 2.3's `migration generate` names them.

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::{Error, Result};

/// The text diesel CLI puts in a new `up.sql`.
const UP_TEMPLATE: &str = "-- Your SQL goes here\n";
/// The text diesel CLI puts in a new `down.sql`.
const DOWN_TEMPLATE: &str = "-- This file should undo anything in `up.sql`\n";

/// How diesel counts migrations generated within one second: `-0000` to `-ffff`.
const MAX_PER_SECOND: u32 = 0xffff;

/// What to generate, beyond the name: diesel's `--version` and `--no-down`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// The version to use instead of the time and counter (diesel's `--version`),
    /// written as given: no counter is added, and a folder whose name starts with it
    /// already is an error.
    pub version: Option<String>,
    /// Write no `down.sql` (diesel's `--no-down`).
    pub no_down: bool,
}

/// A migration folder [`create`] made, and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generated {
    /// The folder.
    pub folder: PathBuf,
    /// The files written, `up.sql` first.
    pub files: Vec<PathBuf>,
}

/// Creates `DIR/YYYY-MM-DD-HHMMSS-XXXX_NAME/{up.sql,down.sql}` and returns the folder.
///
/// `pelican generate`: the name must be letters, digits and underscores. The time is
/// UTC, and `XXXX` diesel 2.3's counter within the second, in lowercase hexadecimal
/// (`-0000`, `-0001`, … `-0009`, `-000a`): the first whose folder-name prefix no folder
/// in `DIR` has yet. The files hold only diesel's comment, which runs as nothing.
pub(crate) fn migration(dir: &Path, name: &str, now: DateTime<Utc>) -> Result<PathBuf> {
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
    create(dir, name, &Options::default(), now).map(|generated| generated.folder)
}

/// Creates a migration folder exactly as `diesel migration generate` does: any name
/// (diesel checks none), `--version` as given or the UTC time with diesel 2.3's hex
/// counter, `up.sql` and (unless `no_down`) `down.sql` with diesel's comments.
///
/// A `--version` that a folder name in `dir` already starts with is refused
/// ([`Error::DuplicateMigrationVersion`]), as are more than 65,536 migrations in one
/// second.
pub(crate) fn create(
    dir: &Path,
    name: &str,
    options: &Options,
    now: DateTime<Utc>,
) -> Result<Generated> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut taken = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            if let Some(file_name) = path.file_name() {
                taken.push(file_name.to_string_lossy().into_owned());
            }
        }
    }
    let is_taken = |version: &str| taken.iter().any(|folder| folder.starts_with(version));
    let version = match &options.version {
        Some(version) if is_taken(version) => {
            return Err(Error::DuplicateMigrationVersion {
                dir: dir.to_path_buf(),
                version: version.clone(),
            })
        }
        Some(version) => version.clone(),
        None => {
            let second = now.format("%Y-%m-%d-%H%M%S").to_string();
            (0..=MAX_PER_SECOND)
                .map(|counter| format!("{second}-{counter:04x}"))
                .find(|version| !is_taken(version))
                .ok_or_else(|| Error::TooManyMigrations {
                    dir: dir.to_path_buf(),
                    version: second.clone(),
                })?
        }
    };
    let folder = dir.join(format!("{version}_{name}"));
    std::fs::create_dir(&folder).map_err(io(&folder))?;
    let mut files = vec![("up.sql", UP_TEMPLATE)];
    if !options.no_down {
        files.push(("down.sql", DOWN_TEMPLATE));
    }
    let mut written = Vec::new();
    for (file, text) in files {
        let path = folder.join(file);
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
    }
    Ok(Generated {
        folder,
        files: written,
    })
}

/// `target` relative to `base`, as diesel CLI shows the paths it creates: both made
/// absolute where they exist, the common start left out, `..` for each step up
/// (`/p/migrations/x` from `/p` is `migrations/x`; `/p/migrations` from `/p/src` is
/// `../migrations`).
pub(crate) fn relative_to(target: &Path, base: &Path) -> PathBuf {
    let target = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let mut targets = target.components();
    let mut bases = base.components();
    let mut out: Vec<Component<'_>> = Vec::new();
    loop {
        match (targets.next(), bases.next()) {
            (None, None) => break,
            (Some(t), None) => {
                out.push(t);
                out.extend(targets);
                break;
            }
            (None, _) => out.push(Component::ParentDir),
            (Some(t), Some(b)) if out.is_empty() && t == b => {}
            (Some(t), Some(Component::CurDir)) => out.push(t),
            (Some(t), Some(_)) => {
                out.push(Component::ParentDir);
                out.extend(bases.map(|_| Component::ParentDir));
                out.push(t);
                out.extend(targets);
                break;
            }
        }
    }
    out.iter().map(|c| c.as_os_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_is_a_folder_with_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let folder = migration(dir.path(), "add_users_phone", Utc::now()).unwrap();
        assert!(folder.join("up.sql").is_file());
    }

    #[test]
    fn relative_paths_go_down_and_up() {
        let rel = relative_to(Path::new("/p/migrations/x"), Path::new("/p"));
        assert_eq!(rel, Path::new("migrations/x"));
        let up = relative_to(Path::new("/p/migrations"), Path::new("/p/src"));
        assert_eq!(up, Path::new("../migrations"));
    }

    /// The seventeenth migration of a second is `…-0010_…`, after `…-000a_…` to
    /// `…-000f_…`, as diesel 2.3 names them; every one is a version pelican reads.
    #[test]
    fn seventeen_migrations_in_one_second_count_in_hex_as_diesel_does() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let mut versions = Vec::new();
        for i in 0..17 {
            let folder = migration(dir.path(), &format!("m{i}"), now).unwrap();
            let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
            versions.push(crate::source::version_of(&name).unwrap());
        }
        let mut sorted = versions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, versions);
        assert!(versions[9].ends_with("0009"), "{versions:?}");
        assert!(versions[10].ends_with("000a"), "{versions:?}");
        assert!(versions[15].ends_with("000f"), "{versions:?}");
        assert!(versions[16].ends_with("0010"), "{versions:?}");
        assert_eq!(crate::Migrations::from_dir(dir.path()).unwrap().len(), 17);
    }

    #[test]
    fn an_explicit_version_is_used_as_given_and_never_twice() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            version: Some("20240101000000".to_owned()),
            no_down: true,
        };
        let made = create(dir.path(), "first", &options, Utc::now()).unwrap();
        assert!(made.folder.ends_with("20240101000000_first"));
        assert_eq!(made.files, [made.folder.join("up.sql")]);
        let again = create(dir.path(), "second", &options, Utc::now());
        assert!(
            matches!(again, Err(Error::DuplicateMigrationVersion { .. })),
            "{again:?}"
        );
    }

    #[test]
    fn a_folder_of_the_older_naming_does_not_take_counter_zero() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let second = now.format("%Y-%m-%d-%H%M%S").to_string();
        std::fs::create_dir(dir.path().join(format!("{second}_old"))).unwrap();
        let made = create(dir.path(), "new", &Options::default(), now).unwrap();
        let name = made
            .folder
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(name, format!("{second}-0000_new"));
    }
}
