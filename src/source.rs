//! Where migrations come from: the folder on disk (the command line) or diesel's
//! `EmbeddedMigrations` (applications), both turned into the same [`Migrations`].
//!
//! pelican needs each migration's SQL text (to split, guard, checksum and print it),
//! which `EmbeddedMigration` keeps private. diesel hands that text to
//! `batch_execute` on the connection a migration runs on, so pelican runs each one
//! once against a recording connection that keeps what it is given and executes
//! nothing.
//!
//! A migration that gives the recording connection no SQL (diesel 2.4's
//! `RustMigrationSource`, whose migrations are Rust code typed on a connection) keeps
//! its code instead ([`Migrations::from_source_fn`]): pelican runs it as diesel runs it,
//! records it, and never guards it.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use diesel::backend::Backend as DieselBackend;
use diesel::connection::{BoxableConnection, SimpleConnection};
use diesel::migration::MigrationSource;
use sha2::{Digest, Sha256};

pub use crate::outcome::Direction;
use crate::{Error, Result};

mod code;
mod folder;

use code::FromSource;
pub(crate) use code::{sealed, Code, DieselConnection};
use folder::{entry_kind, read_folder, without_bom, Kind};

/// One migration: diesel's folder with its `up.sql`, `down.sql` and `metadata.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    version: String,
    name: String,
    up: String,
    down: Option<String>,
    run_in_transaction: bool,
    guards: bool,
    folder: Option<PathBuf>,
    /// Its checksum, computed once: every run of the migrator compares the applied
    /// migrations' checksums with the ledger's, and `check` runs it three times per
    /// migration.
    checksum: Checksum,
    /// The code that runs it, for a migration without SQL text pelican can read.
    code: Option<Code>,
}

/// A migration's checksum once computed. It follows from the fields compared, so
/// migrations compare equal whether it was computed or not.
#[derive(Debug, Clone, Default)]
struct Checksum(std::sync::OnceLock<String>);

impl PartialEq for Checksum {
    fn eq(&self, _: &Checksum) -> bool {
        true
    }
}

impl Eq for Checksum {}

impl Migration {
    /// diesel's version: the folder name up to the first `_`, every `-` removed; for a
    /// migration of a diesel `MigrationSource`, the version it gives, which is what
    /// diesel's ledger holds.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The folder name, as diesel's `MigrationName` displays it (`2024-01-15-123456_create_users`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The part of the folder name after the version (`create_users`).
    pub fn description(&self) -> &str {
        self.name.split_once('_').map_or("", |(_, rest)| rest)
    }

    /// Whether it has no SQL text pelican can read, only code (diesel 2.4's Rust
    /// migrations, see [`Migrations::from_source_fn`]): pelican runs it as diesel does,
    /// records it, and never guards it; [`up`](Self::up) is empty.
    pub fn is_code(&self) -> bool {
        self.code.is_some()
    }

    /// Its code, for a migration without SQL text.
    pub(crate) fn code(&self) -> Option<&Code> {
        self.code.as_ref()
    }

    /// The text of `up.sql` (empty for a migration of [code](Self::is_code)).
    pub fn up(&self) -> &str {
        &self.up
    }

    /// The text of `down.sql`, if the migration has a non-empty one.
    pub fn down(&self) -> Option<&str> {
        self.down.as_deref()
    }

    /// Whether diesel would run it inside a transaction (`metadata.toml`).
    pub fn run_in_transaction(&self) -> bool {
        self.run_in_transaction
    }

    /// Whether existence guards apply to it: off with `[pelican] guards = false` in its
    /// `metadata.toml` (diesel ignores the section). Embedded migrations do not keep
    /// `metadata.toml`; a `-- pelican: no-guards` line above a file's first statement
    /// works for both. Never for a migration of [code](Self::is_code).
    pub fn guards(&self) -> bool {
        self.guards && self.code.is_none()
    }

    /// The file a direction's SQL comes from, for messages: the real path for a folder on
    /// disk, `NAME/up.sql` for an embedded migration.
    pub fn file(&self, direction: Direction) -> String {
        let file = match direction {
            Direction::Up => "up.sql",
            Direction::Down => "down.sql",
        };
        match &self.folder {
            _ if self.code.is_some() => format!("{} (code)", self.name),
            Some(folder) => folder.join(file).display().to_string(),
            None => format!("{}/{file}", self.name),
        }
    }

    /// The SQL a direction runs, if there is any.
    pub fn sql(&self, direction: Direction) -> Option<&str> {
        match direction {
            Direction::Up => Some(self.up()),
            Direction::Down => self.down(),
        }
    }

    /// A SHA-256 of `up.sql` and `down.sql`, line endings normalized first, so that a
    /// checkout turning LF into CRLF is not taken for an edit.
    pub fn checksum(&self) -> String {
        self.checksum
            .0
            .get_or_init(|| self.compute_checksum())
            .clone()
    }

    fn compute_checksum(&self) -> String {
        // Line by line, so CRLF and LF hash alike without copying the text.
        fn add(hasher: &mut Sha256, text: &str) {
            for line in text.split_inclusive('\n') {
                match line.strip_suffix("\r\n") {
                    Some(body) => {
                        hasher.update(body);
                        hasher.update("\n");
                    }
                    None => hasher.update(line),
                }
            }
        }
        let mut hasher = Sha256::new();
        add(&mut hasher, &self.up);
        hasher.update([0]);
        if let Some(down) = &self.down {
            add(&mut hasher, down);
        }
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// Every migration of an application, ordered by version.
///
/// ```no_run
/// let migrations = pelican::Migrations::from_dir("migrations")?;
/// println!("head is {:?}", migrations.head().map(|m| m.version()));
/// # Ok::<(), pelican::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    list: Vec<Migration>,
    warnings: Vec<String>,
}

impl Migrations {
    /// Reads and validates a migrations folder in diesel's layout.
    ///
    /// Stricter than diesel, and each problem an error naming the folder or file: a
    /// version (the folder name up to the first `_`, `-` removed, any text as in
    /// diesel: see [`version_of`]) must not be empty; two
    /// folders may not share a version; `up.sql` must exist, be UTF-8 and not be empty
    /// (diesel refuses an empty file when it runs it); `metadata.toml` must parse, and a
    /// key in it that is a near miss of a known one (`run_in_transactions`) is an error
    /// naming the key meant (diesel ignores it, and runs the migration in a transaction
    /// it was not meant to run in); a folder or file that cannot be read, or a symbolic
    /// link to nothing, is an error naming it. An unknown key that is no near miss is a
    /// [warning](Migrations::warnings). A UTF-8 byte order mark opening an `.sql` file is
    /// left out (of what runs and of the checksum), as CRLF line endings are left out of
    /// the checksum. As in diesel, files and folders starting with `.` are ignored, and a
    /// `metadata.toml` that omits `run_in_transaction` means `false`, while no
    /// `metadata.toml` at all means `true`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::MigrationDirectoryMissing {
                path: dir.to_path_buf(),
            });
        }
        let io = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut list = Vec::new();
        let mut warnings = Vec::new();
        let mut buffer = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry_kind(&entry)? == Some(Kind::Folder) {
                list.push(read_folder(&path, &mut warnings, &mut buffer)?);
            }
        }
        let mut migrations = Self::new(list)?;
        migrations.warnings = warnings;
        Ok(migrations)
    }

    /// What reading the migrations found worth saying but not refusing: an unknown key
    /// in a `metadata.toml` (diesel ignores it too), naming the file and the key. The
    /// command line prints each on stderr as `warning: …`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The migrations of any diesel `MigrationSource`, such as the `EmbeddedMigrations`
    /// that `embed_migrations!` builds, for whichever backend type `DB` is named.
    ///
    /// Each migration's `up.sql` and `down.sql` are obtained by running it against a
    /// recording connection that executes nothing.
    ///
    /// A migration that runs no SQL on the recording connection (diesel 2.4's Rust
    /// migrations) is refused: [`Migrations::from_source_fn`] takes those.
    pub fn from_source<DB, S>(source: &S) -> Result<Self>
    where
        DB: DieselBackend + 'static,
        S: MigrationSource<DB>,
    {
        Self::read_source(source, |name, error| {
            Err(invalid(
                PathBuf::from(name),
                format!(
                    "pelican cannot read its SQL ({error}); a migration of Rust code \
                     (diesel's RustMigrationSource) needs Migrations::from_source_fn"
                ),
            ))
        })
    }

    /// The migrations of the diesel `MigrationSource` that `make` returns, those of
    /// Rust code among them (diesel 2.4's `RustMigrationSource`). pelican reads the
    /// SQL of each migration that has some as [`from_source`](Self::from_source) does.
    /// A migration that has none it can read keeps its code, and pelican runs it as
    /// diesel's harness does: its own `run` (or `revert`) on the connection pelican was
    /// given, in a transaction of its own unless it runs outside one, recorded in
    /// diesel's ledger under diesel's version; it is never guarded, not tried by a dry
    /// run, and runs one by one where pelican would join migrations. `make` is called
    /// again each time such a migration runs (diesel's migrations cannot cross threads,
    /// a `Migrations` can); its versions are diesel's (`migration.name().version()`),
    /// which is what diesel's ledger holds.
    ///
    /// ```
    /// # // diesel 2.4, which the `mariadb` feature requires.
    /// # #[cfg(all(feature = "sqlite", feature = "mariadb"))] {
    /// use diesel::{RunQueryDsl, SqliteConnection};
    /// use diesel_migrations::{RustMigration, RustMigrationSource};
    ///
    /// fn rust_migrations() -> RustMigrationSource<SqliteConnection> {
    ///     let mut source = RustMigrationSource::new();
    ///     let lower = RustMigration::new(|conn: &mut SqliteConnection| {
    ///         diesel::sql_query("UPDATE users SET name = lower(name)").execute(conn)?;
    ///         Ok(())
    ///     });
    ///     source
    ///         .add_migration("20240301000000", "lower_names", lower)
    ///         .expect("diesel 2.4 accepts every migration");
    ///     source
    /// }
    ///
    /// let migrations = pelican::Migrations::from_source_fn(rust_migrations)?;
    /// assert!(migrations.get("20240301000000").is_some_and(|m| m.is_code()));
    /// # }
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn from_source_fn<DB, S, F>(make: F) -> Result<Self>
    where
        DB: DieselBackend + sealed::BackendOf + 'static,
        S: MigrationSource<DB> + 'static,
        F: Fn() -> S + Send + Sync + std::panic::RefUnwindSafe + 'static,
    {
        let make = Arc::new(make);
        Self::read_source(&make(), |version, _| {
            Ok(Code(Arc::new(FromSource {
                make: Arc::clone(&make),
                version: version.to_owned(),
                types: PhantomData,
            })))
        })
    }

    /// Reads a source's migrations; `code` says what a migration whose SQL cannot be
    /// read (its version, the error) becomes.
    fn read_source<DB, S>(source: &S, code: impl Fn(&str, String) -> Result<Code>) -> Result<Self>
    where
        DB: DieselBackend + 'static,
        S: MigrationSource<DB>,
    {
        let migrations = source.migrations().map_err(|e| Error::InvalidMigration {
            path: PathBuf::from("(embedded migrations)"),
            reason: e.to_string(),
        })?;
        let mut list = Vec::with_capacity(migrations.len());
        for migration in migrations {
            let name = migration.name().to_string();
            // diesel's version, which its ledger holds: for embedded migrations the
            // folder name's, as `version_of` reads it.
            let version = migration.name().version().to_string();
            if version.is_empty() {
                return Err(invalid(PathBuf::from(&name), "its version is empty"));
            }
            let mut recorder = Recorder::<DB>::default();
            if let Err(error) = migration.run(&mut recorder) {
                // SQL, then a failure: a broken migration, not one of code.
                if !recorder.sql.is_empty() {
                    return Err(invalid(PathBuf::from(&name), error.to_string()));
                }
                let code = code(&version, error.to_string())?;
                list.push(Migration {
                    version,
                    name,
                    up: String::new(),
                    down: None,
                    run_in_transaction: migration.metadata().run_in_transaction(),
                    guards: false,
                    folder: None,
                    checksum: Checksum::default(),
                    code: Some(code),
                });
                continue;
            }
            version_of(&name).map_err(|reason| invalid(PathBuf::from(&name), reason))?;
            let up = without_bom(recorder.take());
            let down = match migration.revert(&mut recorder) {
                Ok(()) => Some(without_bom(recorder.take())).filter(|sql| !sql.is_empty()),
                Err(_) => None,
            };
            list.push(Migration {
                version,
                name,
                up,
                down,
                run_in_transaction: migration.metadata().run_in_transaction(),
                guards: true,
                folder: None,
                checksum: Checksum::default(),
                code: None,
            });
        }
        Self::new(list)
    }

    /// The migrations that `embed_migrations!` put in the binary.
    ///
    /// ```ignore
    /// pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
    /// let migrations = pelican::Migrations::from_embedded(&MIGRATIONS)?;
    /// ```
    pub fn from_embedded(embedded: &diesel_migrations::EmbeddedMigrations) -> Result<Self> {
        Self::from_source::<RecorderBackend, _>(embedded)
    }

    /// Builds the set from migrations already read, checking versions are unique.
    pub fn new(mut list: Vec<Migration>) -> Result<Self> {
        list.sort_by(|a, b| a.version.cmp(&b.version));
        for pair in list.windows(2) {
            if pair[0].version == pair[1].version {
                return Err(Error::DuplicateVersion {
                    version: pair[0].version.clone(),
                    first: pair[0].name.clone(),
                    second: pair[1].name.clone(),
                });
            }
        }
        Ok(Migrations {
            list,
            warnings: Vec::new(),
        })
    }

    /// Every migration, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The newest migration.
    pub fn head(&self) -> Option<&Migration> {
        self.list.last()
    }

    /// The migration with exactly this version.
    pub fn get(&self, version: &str) -> Option<&Migration> {
        self.list
            .binary_search_by(|m| m.version.as_str().cmp(version))
            .ok()
            .map(|index| &self.list[index])
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// diesel's version of a folder name, as diesel's `version_from_string` reads it: the
/// name up to the first `_` (the whole name when it has none), every `-` removed. Any
/// characters are a version, as in diesel (`2024-01-15-123456_x`, diesel 2.3's
/// `2024-01-15-123456-000a_x`, `abc_x`, `7letters`); versions sort as strings, as
/// diesel's `MigrationVersion` does. Only an empty version (`_x`, `-_x`) is refused:
/// diesel would record a migration under the empty string.
pub fn version_of(folder_name: &str) -> Result<String, String> {
    let prefix = folder_name.split('_').next().unwrap_or_default();
    let version = prefix.replace('-', "");
    if version.is_empty() {
        return Err(
            "the folder name must start with a version, the text before its first \
                    `_` with dashes removed (such as 2024-01-15-123456_name), but it has none"
                .to_owned(),
        );
    }
    Ok(version)
}

fn invalid(path: PathBuf, reason: impl Into<String>) -> Error {
    Error::InvalidMigration {
        path,
        reason: reason.into(),
    }
}

#[cfg(feature = "sqlite")]
type RecorderBackend = diesel::sqlite::Sqlite;
#[cfg(all(not(feature = "sqlite"), feature = "postgres_backend"))]
type RecorderBackend = diesel::pg::Pg;
#[cfg(all(
    not(feature = "sqlite"),
    not(feature = "postgres_backend"),
    feature = "mysql_backend"
))]
type RecorderBackend = diesel::mysql::Mysql;

/// A connection that keeps the SQL it is asked to run, and runs nothing.
struct Recorder<DB> {
    sql: String,
    backend: PhantomData<DB>,
}

impl<DB> Default for Recorder<DB> {
    fn default() -> Self {
        Recorder {
            sql: String::new(),
            backend: PhantomData,
        }
    }
}

impl<DB> Recorder<DB> {
    fn take(&mut self) -> String {
        std::mem::take(&mut self.sql)
    }
}

impl<DB: 'static> SimpleConnection for Recorder<DB> {
    fn batch_execute(&mut self, query: &str) -> diesel::QueryResult<()> {
        self.sql.push_str(query);
        Ok(())
    }
}

impl<DB: DieselBackend + 'static> BoxableConnection<DB> for Recorder<DB> {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::folder::{edit_distance, near_miss, METADATA_KEYS, PELICAN_KEYS};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn versions_of_folder_names() {
        assert_eq!(
            version_of("2024-01-15-123456_create_users").unwrap(),
            "20240115123456"
        );
        assert_eq!(
            version_of("2024-01-15-123456-0000_x").unwrap(),
            "202401151234560000"
        );
        assert_eq!(
            version_of("2024-01-15-123456-000a_x").unwrap(),
            "20240115123456000a"
        );
        // diesel's `version_from_string`: anything before the first `_`, dashes removed.
        assert_eq!(version_of("v1_create_users").unwrap(), "v1");
        assert_eq!(version_of("7letters").unwrap(), "7letters");
        assert_eq!(version_of("!wow_migration").unwrap(), "!wow");
        assert_eq!(version_of("2017-12-01-123456_x").unwrap(), "20171201123456");
        assert!(version_of("_x").is_err());
    }

    /// Folder names as people write them, broken ones included, and arbitrary bytes.
    fn folder_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{6}(-[0-9a-f]{4})?_[a-z_]{0,12}",
            "[0-9-]{0,12}-[0-9a-fA-F]{3,5}_[a-z]{0,4}",
            "[0-9_-]{0,20}[a-z_]{0,6}",
            "\\PC{0,30}",
            prop::collection::vec(any::<u8>(), 0..30)
                .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        ]
    }

    #[test]
    fn near_misses_of_metadata_keys() {
        for key in [
            "run_in_transactions",
            "run-in-transaction",
            "runInTransaction",
            "run_in_transation",
            "RUN_IN_TRANSACTION",
        ] {
            assert!(near_miss(key, "run_in_transaction"), "{key}");
        }
        assert!(near_miss("guard", "guards"));
        assert!(near_miss("pelicn", "pelican"));
        for key in ["author", "transaction", "description", "run", "gardens"] {
            assert!(!METADATA_KEYS.iter().any(|k| near_miss(key, k)), "{key}");
            assert!(!PELICAN_KEYS.iter().any(|k| near_miss(key, k)), "{key}");
        }
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn versions_are_diesels() {
        assert_eq!(version_of("2024-01-15-123456_x").unwrap(), "20240115123456");
        assert_eq!(
            version_of("2024-01-15-123456-0001_x").unwrap(),
            "202401151234560001"
        );
        assert_eq!(version_of("20240115123456").unwrap(), "20240115123456");
        assert_eq!(
            version_of("2024-01-15-123456-000a_x").unwrap(),
            "20240115123456000a"
        );
        assert_eq!(
            version_of("2024-01-15-123456-ffff_x").unwrap(),
            "20240115123456ffff"
        );
        for (name, version) in [
            ("2024-01-15-123456-000A_x", "20240115123456000A"),
            ("2024-01-15-123456000a_x", "20240115123456000a"),
            ("-000a_x", "000a"),
            ("abcd_x", "abcd"),
            ("2024-01-15 123456_x", "20240115 123456"),
            ("２０２４_x", "２０２４"),
            ("1.0_x", "1.0"),
        ] {
            assert_eq!(version_of(name).unwrap(), version, "{name:?}");
        }
        for bad in ["", "_x", "-_x", "--"] {
            assert!(version_of(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// A fuzz target: any folder name gives diesel's version (the text before the
        /// first `_`, dashes removed) or, when that is empty, a reason; never a panic.
        #[test]
        fn any_folder_name_gives_diesels_version_or_a_reason(name in folder_name()) {
            let prefix = name.split('_').next().unwrap_or_default();
            match version_of(&name) {
                Ok(version) => prop_assert_eq!(&prefix.replace('-', ""), &version),
                Err(reason) => {
                    prop_assert!(prefix.replace('-', "").is_empty());
                    prop_assert!(reason.contains("has none"), "{}", reason);
                }
            }
        }
    }
}
