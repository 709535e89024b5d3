//! Schema snapshots: the SQL that builds the schema at head in one go, per backend.
//!
//! A fresh database built migration by migration replays the whole history, churn
//! included (a column added, renamed, dropped). A snapshot is what that history ends
//! as: the tables with their final columns, keys, indexes, views, triggers (and on
//! PostgreSQL types, functions and sequences), and the rows the migrations themselves
//! insert. [`Snapshot::create`] builds a scratch database from the migrations (so it
//! holds nothing else, and its rows are exactly those) and reads it back as SQL:
//!
//! - SQLite: `sqlite_master`'s own `CREATE` statements (tables, then rows, then
//!   indexes, views and triggers in creation order) and `sqlite_sequence`;
//! - PostgreSQL: statements built from `pg_catalog` (`format_type`, `pg_get_expr`,
//!   `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_triggerdef`,
//!   `pg_get_functiondef`), constraints after every table and its rows, then comments
//!   and grants;
//! - MySQL/MariaDB: `SHOW CREATE TABLE/VIEW/FUNCTION/PROCEDURE` and the triggers of
//!   `information_schema`, with foreign key checks off while it loads, the database's
//!   name and the definer taken out.
//!
//! What a backend's snapshot cannot write (PostgreSQL: another schema, policies,
//! rules…; MySQL: grants, events, sequences), it refuses to write, naming it: a
//! snapshot that left it out would build another schema than the migrations, which
//! the [catalog](crate::catalog) compares property by property.
//!
//! The file starts with a header naming the backend, the head version, how many
//! migrations it stands for and a digest of their checksums, so that pelican can tell
//! whether it still describes the migrations ([`Snapshot::fit`]). It lives beside the
//! migration folders as `schema.<backend>.sql` ([`Snapshot::file_name`]): diesel's
//! discovery and `embed_migrations!` only look at folders, so they ignore it, and an
//! application can `include_str!` it and hand it to
//! [`Boot::snapshot`](crate::Boot::snapshot). `pelican check` proves that a database
//! built from it equals one built by the migrations.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::scratch::Scratch;
use crate::source::Migration;
use crate::{Backend, Database, Error, Migrations, Migrator, Result, Target};

mod data;
pub(crate) mod mysql;
mod postgres;
mod sqlite;

/// The first line of every snapshot.
const MAGIC: &str = "-- pelican schema snapshot";

/// A snapshot of the schema at a head version, for one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    backend: Backend,
    head: String,
    migrations: usize,
    digest: String,
    text: String,
    source: String,
}

/// How a snapshot relates to a set of migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fit {
    /// It stands for every migration: it builds the schema at head.
    Current,
    /// It stands for the oldest `covered` migrations, unchanged since; the newer ones
    /// must run after it.
    Older {
        /// How many migrations it stands for.
        covered: usize,
    },
    /// It does not describe these migrations (its head is not one of them, or the
    /// migrations up to it changed since it was made).
    Mismatch {
        /// Why, as a sentence.
        reason: String,
    },
}

impl Snapshot {
    /// The file name of a backend's snapshot: `schema.sqlite.sql`, `schema.postgres.sql`
    /// or `schema.mysql.sql`.
    pub fn file_name(backend: Backend) -> String {
        format!("schema.{backend}.sql")
    }

    /// Where a backend's snapshot lives: directly in the migrations folder.
    pub fn path(migrations_dir: &Path, backend: Backend) -> PathBuf {
        migrations_dir.join(Self::file_name(backend))
    }

    /// Reads a snapshot from its text (say, `include_str!` of the file).
    ///
    /// ```
    /// let text = "-- pelican schema snapshot\n-- backend: sqlite\n-- head: 20240101000000\n\
    ///             -- migrations: 1\n-- digest: 00\nCREATE TABLE t (id INTEGER);\n";
    /// let snapshot = pelican::snapshot::Snapshot::parse(text)?;
    /// assert_eq!(snapshot.head(), "20240101000000");
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn parse(text: impl Into<String>) -> Result<Snapshot> {
        let mut snapshot = Self::parse_from(text.into(), "snapshot".to_owned())?;
        snapshot.source = format!("{} (embedded)", Self::file_name(snapshot.backend));
        Ok(snapshot)
    }

    /// Reads a snapshot file.
    pub fn read(path: &Path) -> Result<Snapshot> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_from(text, path.display().to_string())
    }

    /// The backend's snapshot in a migrations folder, if it has one.
    pub fn find(migrations_dir: &Path, backend: Backend) -> Result<Option<Snapshot>> {
        let path = Self::path(migrations_dir, backend);
        if !path.is_file() {
            return Ok(None);
        }
        Self::read(&path).map(Some)
    }

    fn parse_from(text: String, source: String) -> Result<Snapshot> {
        let bad = |reason: &str| Error::Snapshot {
            snapshot: source.clone(),
            reason: reason.to_owned(),
        };
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some(MAGIC) {
            return Err(bad(&format!(
                "it does not start with `{MAGIC}` (write it with `pelican snapshot`)"
            )));
        }
        let header: BTreeMap<&str, &str> = lines
            .map_while(|line| line.strip_prefix("-- "))
            .filter_map(|line| line.split_once(": "))
            .map(|(key, value)| (key.trim(), value.trim()))
            .collect();
        let field = |key: &str| {
            header
                .get(key)
                .copied()
                .ok_or_else(|| bad(&format!("its header has no `-- {key}:` line")))
        };
        let named = field("backend")?;
        let Some(backend) = Backend::from_name(named) else {
            return Err(bad(&format!("unknown backend `{named}` in its header")));
        };
        let head = field("head")?
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let migrations = field("migrations")?
            .parse()
            .map_err(|_| bad("`-- migrations:` is not a number"))?;
        let digest = field("digest")?.to_owned();
        Ok(Snapshot {
            backend,
            head,
            migrations,
            digest,
            text,
            source,
        })
    }

    /// The backend it is written for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The version of the newest migration it stands for.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// How many migrations it stands for.
    pub fn migrations(&self) -> usize {
        self.migrations
    }

    /// Its whole text, header included: the SQL to run.
    pub fn sql(&self) -> &str {
        &self.text
    }

    /// Where it came from, for messages: its file, or `schema.BACKEND.sql (embedded)`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether it describes these migrations, all of them or an older part.
    ///
    /// It does when its head is one of them, it was made from as many migrations as
    /// these have up to that head, and the checksums of those migrations (line endings
    /// normalized, see [`Migration::checksum`]) digest to what its header says.
    pub fn fit(&self, migrations: &Migrations) -> Fit {
        if migrations.get(&self.head).is_none() {
            return Fit::Mismatch {
                reason: format!(
                    "its head {} is not one of these migrations (made on another branch?)",
                    self.head
                ),
            };
        }
        let covered: Vec<&Migration> = migrations
            .iter()
            .filter(|m| m.version() <= self.head.as_str())
            .collect();
        if covered.len() != self.migrations {
            return Fit::Mismatch {
                reason: format!(
                    "it was made from {} migration(s) up to {}, but there are {} up to it now \
                     (one was added or removed below its head)",
                    self.migrations,
                    self.head,
                    covered.len()
                ),
            };
        }
        if digest(covered.iter().copied()) != self.digest {
            return Fit::Mismatch {
                reason: format!(
                    "migrations up to {} were edited after it was made",
                    self.head
                ),
            };
        }
        if covered.len() == migrations.len() {
            Fit::Current
        } else {
            Fit::Older {
                covered: covered.len(),
            }
        }
    }

    /// Builds a scratch database from the migrations (see [`Scratch`]: on the server
    /// of `url`, or of `scratch_url`), reads the snapshot from it, and drops it.
    /// `url`'s own database is not touched; only its backend and server count.
    pub fn create(
        url: &str,
        migrations: &Migrations,
        scratch_url: Option<&str>,
    ) -> Result<Snapshot> {
        if migrations.is_empty() {
            return Err(Error::Snapshot {
                snapshot: "snapshot".to_owned(),
                reason: "there are no migrations to take a snapshot of".to_owned(),
            });
        }
        let scratch = Scratch::create(url, scratch_url)?;
        let snapshot = {
            let mut conn = scratch.connect()?;
            // Every migration run by the migrator, as any database gets them (not
            // `Boot`, which builds from a snapshot: this module is below it).
            Migrator::new(migrations).migrate(&mut conn, &Target::Head)?;
            Snapshot::generate(&mut conn, migrations)?
        };
        scratch.remove()?;
        Ok(snapshot)
    }

    /// Reads the snapshot of a database that holds exactly what `migrations` build
    /// (every one of them applied, nothing else added: a scratch database).
    pub fn generate<C: Database>(conn: &mut C, migrations: &Migrations) -> Result<Snapshot> {
        let backend = conn.backend();
        let Some(head) = migrations.head() else {
            return Err(Error::Snapshot {
                snapshot: "snapshot".to_owned(),
                reason: "there are no migrations to take a snapshot of".to_owned(),
            });
        };
        let parts = parts(conn)?;
        let rows = data::inserts(conn, backend, &parts.tables)?;
        let digest = digest(migrations.iter());
        let mut text = format!(
            "{MAGIC}\n\
             -- backend: {backend}\n\
             -- head: {} {}\n\
             -- migrations: {}\n\
             -- digest: {digest}\n\
             --\n\
             -- The schema and rows that the migrations up to head build, in one go: written\n\
             -- by `pelican snapshot`, loaded by `pelican init` (and `Boot`) for a fresh\n\
             -- database, proven equal to the migrations by `pelican check`. Do not edit:\n\
             -- write it again after adding a migration. diesel ignores this file.\n",
            head.version(),
            head.name(),
            migrations.len(),
        );
        let sections = [
            ("Settings for the load", &parts.prologue),
            ("Tables, and what they need first", &parts.before),
            ("Rows the migrations insert", &rows),
            ("What goes in after the rows", &parts.after),
            ("Settings back", &parts.epilogue),
        ];
        for (title, statements) in sections {
            if statements.is_empty() {
                continue;
            }
            text.push_str(&format!("\n-- {title}\n"));
            for statement in statements {
                text.push_str(statement.trim_end());
                text.push_str(";\n");
            }
        }
        Ok(Snapshot {
            backend,
            head: head.version().to_owned(),
            migrations: migrations.len(),
            digest,
            text,
            source: "snapshot".to_owned(),
        })
    }

    /// Writes it to a file.
    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, &self.text).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fit::Current => f.write_str("current"),
            Fit::Older { covered } => write!(f, "older: it stands for {covered} migration(s)"),
            Fit::Mismatch { reason } => f.write_str(reason),
        }
    }
}

/// A SHA-256 over the versions and checksums of migrations, oldest first: what a
/// snapshot's header records of the migrations it was made from.
pub(crate) fn digest<'a>(migrations: impl Iterator<Item = &'a Migration>) -> String {
    let mut hasher = Sha256::new();
    for migration in migrations {
        hasher.update(migration.version());
        hasher.update([0]);
        hasher.update(migration.checksum());
        hasher.update([b'\n']);
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A snapshot's parts, read by the backend's own queries: the one place a snapshot
/// chooses per backend, so that a new backend is a compile error here until it has a
/// generator of its own.
fn parts<C: Database>(conn: &mut C) -> Result<Parts> {
    match conn.backend() {
        Backend::Sqlite => sqlite::parts(conn),
        Backend::Postgres => postgres::parts(conn),
        Backend::Mysql => mysql::parts(conn),
    }
}

/// What a backend's generator reads from the database, in the order it is loaded.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// Session settings the load needs.
    prologue: Vec<String>,
    /// Everything the rows go into: types, functions, sequences, tables.
    before: Vec<String>,
    /// The tables whose rows are copied, in the order they are inserted.
    tables: Vec<data::TableRows>,
    /// What is faster or only possible once the rows are in: keys, indexes,
    /// constraints, views, triggers, sequence values.
    after: Vec<String>,
    /// The session settings put back.
    epilogue: Vec<String>,
}

/// The rows of one of a snapshot's queries; `what` says what they are, if it fails.
fn rows<C: Database, R: crate::connection::Row>(
    conn: &mut C,
    sql: &str,
    what: &'static str,
) -> Result<Vec<R>> {
    conn.load_with(sql, &[]).map_err(Error::query(what))
}

/// Names in an order where each comes after what it depends on; ties (and cycles,
/// which cannot be ordered) keep the given order.
fn dependency_order(items: Vec<(String, BTreeSet<String>)>) -> Vec<String> {
    let names: BTreeSet<String> = items.iter().map(|(name, _)| name.clone()).collect();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::with_capacity(items.len());
    let mut left = items;
    while !left.is_empty() {
        let before = left.len();
        let mut rest = Vec::new();
        for (name, deps) in left {
            let ready = deps
                .iter()
                .all(|d| d == &name || !names.contains(d) || placed.contains(d));
            if ready {
                placed.insert(name.clone());
                order.push(name);
            } else {
                rest.push((name, deps));
            }
        }
        if rest.len() == before {
            // A cycle: what is left goes in the given order.
            order.extend(rest.into_iter().map(|(name, _)| name));
            break;
        }
        left = rest;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn dependencies_come_first() {
        let order = dependency_order(vec![
            ("c".into(), set(&["b"])),
            ("b".into(), set(&["a", "outside"])),
            ("a".into(), set(&["a"])),
            ("d".into(), set(&[])),
        ]);
        assert_eq!(order, ["a", "d", "b", "c"]);
    }

    #[test]
    fn a_cycle_keeps_the_given_order() {
        let order = dependency_order(vec![
            ("x".into(), set(&["y"])),
            ("y".into(), set(&["x"])),
            ("z".into(), set(&[])),
        ]);
        assert_eq!(order, ["z", "x", "y"]);
    }

    #[test]
    fn a_header_is_required() {
        let error = Snapshot::parse("CREATE TABLE t (id INTEGER);").unwrap_err();
        assert!(error.to_string().contains("pelican snapshot"), "{error}");
        let error = Snapshot::parse(format!("{MAGIC}\n-- backend: oracle\n")).unwrap_err();
        assert!(error.to_string().contains("oracle"), "{error}");
        let error = Snapshot::parse(format!("{MAGIC}\n-- backend: sqlite\n")).unwrap_err();
        assert!(error.to_string().contains("-- head:"), "{error}");
    }

    #[test]
    fn the_header_is_read() {
        let snapshot = Snapshot::parse(format!(
            "{MAGIC}\n-- backend: postgres\n-- head: 20240102000000 2024-01-02-000000_b\n\
             -- migrations: 2\n-- digest: abc\n--\n-- prose: with a colon\nCREATE TABLE t ();\n"
        ))
        .unwrap();
        assert_eq!(snapshot.backend(), Backend::Postgres);
        assert_eq!(snapshot.head(), "20240102000000");
        assert_eq!(snapshot.migrations(), 2);
        assert!(snapshot.sql().ends_with("CREATE TABLE t ();\n"));
    }
}
