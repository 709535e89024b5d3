//! What has been applied: diesel's `__diesel_schema_migrations`, untouched in shape, and
//! pelican's own side tables, `__pelican_checksums` (one checksum per applied migration)
//! and `__pelican_journal` (an append-only record of every run).
//!
//! Every statement here names its table with the schema (PostgreSQL) or database
//! (MySQL) that was current when the ledger was opened, so a migration that changes
//! `search_path` or runs `USE` cannot send the ledger's writes elsewhere (diesel #4729).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::connection::Bind;
use crate::dialect::DdlTransactions;
use crate::source::{Direction, Migration};
use crate::{Backend, Database, Error, Result};

/// diesel's table, created with diesel's own DDL.
pub(crate) const DIESEL_TABLE: &str = "__diesel_schema_migrations";

/// What the name of every table pelican keeps beside diesel's begins with: the
/// checksums, the journal, the progress and the record of an unfinished fresh build
/// ([`crate::unfinished::BUILD_TABLE`]).
const PELICAN_PREFIX: &str = "__pelican_";

/// Whether a table is the ledger's: diesel's migrations table or one of pelican's
/// (`__pelican_*`). The one definition of the ledger's tables: every classification of
/// a database ([`Standing`]), the catalog and adopt leave out the tables it names.
pub(crate) fn is_ledger(name: &str) -> bool {
    name == DIESEL_TABLE || name.starts_with(PELICAN_PREFIX)
}

/// What a database is before a run, as its tables and diesel's table say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// No tables but the ledger's (or none), and no version recorded. An empty ledger,
    /// as `diesel setup` or `pelican stamp base` leaves one, is no history: diesel CLI's
    /// `migration run` would run every migration on it, and a build at head starts from
    /// nothing.
    Fresh,
    /// diesel's table, recording a version or beside tables of the database's own
    /// (diesel CLI runs the migrations it does not record on such a database).
    Managed,
    /// Tables of the database's own, and no diesel's table.
    Unmanaged {
        /// Those tables (and views), the ledger's left out.
        tables: Vec<String>,
    },
}

impl Standing {
    /// Classifies a database from its `relations` (as [`crate::admin::relations`] lists
    /// them). diesel's table is read only where it is the database's one table beside
    /// pelican's, for whether it records a version.
    pub(crate) fn read<C: Database>(conn: &mut C, relations: &[String]) -> Result<Standing> {
        let own: Vec<String> = relations
            .iter()
            .filter(|r| !is_ledger(r))
            .cloned()
            .collect();
        let managed = relations.iter().any(|r| r == DIESEL_TABLE);
        Ok(match (managed, own.is_empty()) {
            (false, true) => Standing::Fresh,
            (false, false) => Standing::Unmanaged { tables: own },
            (true, false) => Standing::Managed,
            (true, true) => match Ledger::open(conn)?.read_versions(conn)?.is_empty() {
                true => Standing::Fresh,
                false => Standing::Managed,
            },
        })
    }
}

/// pelican's checksum table.
pub(crate) const CHECKSUM_TABLE: &str = "__pelican_checksums";
/// pelican's journal table.
pub(crate) const JOURNAL_TABLE: &str = "__pelican_journal";
/// pelican's record of how far a migration got that runs statement by statement
/// outside a transaction (MySQL/MariaDB): a row while it is half-applied, none after.
pub(crate) const PROGRESS_TABLE: &str = "__pelican_progress";

/// Every table [`Ledger::create`] makes (the progress table only where DDL commits
/// itself), all of them [`is_ledger`]'s.
pub(crate) const TABLES: [&str; 4] = [DIESEL_TABLE, CHECKSUM_TABLE, JOURNAL_TABLE, PROGRESS_TABLE];

/// The journal's columns a run writes (`id` numbers itself).
const JOURNAL_COLUMNS: &str = "version, direction, started_at, finished_at, duration_ms, \
                               statements_run, statements_skipped, outcome, runner, message";

/// The DDL of pelican's side tables, per backend side by side; only the journal's
/// auto-numbered key differs.
fn side_tables_ddl(backend: Backend, checksums: &str, journal: &str, progress: &str) -> String {
    let id = backend.dialect().serial_key();
    format!(
        "CREATE TABLE IF NOT EXISTS {checksums} (\n\
         \x20   version VARCHAR(50) PRIMARY KEY NOT NULL,\n\
         \x20   checksum VARCHAR(64) NOT NULL\n\
         );\n\
         CREATE TABLE IF NOT EXISTS {journal} (\n\
         \x20   {id},\n\
         \x20   version VARCHAR(50) NOT NULL,\n\
         \x20   direction VARCHAR(8) NOT NULL,\n\
         \x20   started_at VARCHAR(32) NOT NULL,\n\
         \x20   finished_at VARCHAR(32) NOT NULL,\n\
         \x20   duration_ms BIGINT NOT NULL,\n\
         \x20   statements_run INTEGER NOT NULL,\n\
         \x20   statements_skipped INTEGER NOT NULL,\n\
         \x20   outcome VARCHAR(16) NOT NULL,\n\
         \x20   runner VARCHAR(255) NOT NULL,\n\
         \x20   message TEXT NULL\n\
         ){}",
        // Only where DDL commits itself can a migration be half-applied.
        if backend.dialect().ddl_transactions() == DdlTransactions::RollBack {
            String::new()
        } else {
            format!(
                ";\n\
                 CREATE TABLE IF NOT EXISTS {progress} (\n\
                 \x20   version VARCHAR(50) NOT NULL,\n\
                 \x20   direction VARCHAR(8) NOT NULL,\n\
                 \x20   checksum VARCHAR(64) NOT NULL,\n\
                 \x20   done INTEGER NOT NULL,\n\
                 \x20   in_flight INTEGER NOT NULL DEFAULT 0,\n\
                 \x20   PRIMARY KEY (version, direction)\n\
                 )"
            )
        }
    )
}

/// Records or replaces the checksum of each `(version, checksum)` row, in one statement.
fn upsert_checksums(backend: Backend, table: &str, rows: &str) -> String {
    crate::dialect::upsert(
        backend.dialect(),
        table,
        "version, checksum",
        "version",
        rows,
    )
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct AppliedRow {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Timestamp)]
    run_on: NaiveDateTime,
}

#[derive(diesel::QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(diesel::QueryableByName)]
struct ProgressRow {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    direction: String,
    #[diesel(sql_type = Text)]
    checksum: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    done: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    in_flight: i64,
}

/// Which file a progress row speaks of: a migration's version, and which way it ran.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ProgressKey {
    /// The migration's version.
    pub(crate) version: String,
    /// Its `up.sql` or its `down.sql`.
    pub(crate) direction: Direction,
}

impl ProgressKey {
    /// The key of `migration` run `direction`.
    pub(crate) fn of(migration: &Migration, direction: Direction) -> ProgressKey {
        ProgressKey {
            version: migration.version().to_owned(),
            direction,
        }
    }
}

/// How far a half-applied migration got, as its progress row records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The digest of the statements the row speaks of: the first `done`, and the one
    /// in flight when there is one (so a later run sees whether they changed).
    pub(crate) checksum: String,
    /// How many statements, from the first, committed.
    pub(crate) done: usize,
    /// Whether statement `done` (one that commits itself and leaves nothing existence
    /// can decide) was sent and its outcome is not known: the connection may have died
    /// under it. A statement the server refused is not in flight: it did not run.
    pub(crate) in_flight: bool,
}

impl Recorded {
    /// A row this run wrote, for the migration's record to delete with it (what it
    /// says is not read again).
    pub(crate) fn to_clear() -> Recorded {
        Recorded {
            checksum: String::new(),
            done: 0,
            in_flight: false,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct ChecksumRow {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    checksum: String,
}

/// An applied migration as diesel's table records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Applied {
    /// The version.
    pub version: String,
    /// When it was recorded (the database's `CURRENT_TIMESTAMP`); `None` where diesel's
    /// table has no `run_on` column (an older or hand-made one: diesel itself needs only
    /// `version`).
    pub run_on: Option<NaiveDateTime>,
}

/// How a journal entry ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    /// The migration ran and was recorded.
    Applied,
    /// The migration was reverted and its record removed.
    Reverted,
    /// A statement failed; nothing was recorded.
    Failed,
    /// Recorded or removed by `stamp`, without running SQL.
    Stamped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Reverted => "reverted",
            Outcome::Failed => "failed",
            Outcome::Stamped => "stamped",
        }
    }
}

/// One row of the journal, as the run that wrote it saw it.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    /// The migration's version.
    pub version: &'a str,
    /// `up`, `down` or `stamp`.
    pub direction: &'a str,
    /// When the run of this migration started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// Statements executed.
    pub statements_run: usize,
    /// Statements skipped by guards.
    pub statements_skipped: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// An error or warning, if any.
    pub message: Option<&'a str>,
    /// Its share of the time, in milliseconds, where it ran in one batch with others
    /// (started and finished are the batch's): `None` for `finished - started`.
    pub share_ms: Option<i64>,
}

/// The ledger of one database: the qualified names of its tables.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    backend: Backend,
    diesel: String,
    checksums: String,
    journal: String,
    progress: String,
    namespace: Option<String>,
    runner: String,
}

impl Ledger {
    /// Finds where the ledger lives on this connection (one query on PostgreSQL and
    /// MySQL, none on SQLite). Creates nothing.
    pub(crate) fn open<C: Database>(conn: &mut C) -> Result<Ledger> {
        let backend = conn.backend();
        let namespace = match backend.dialect().namespace_query() {
            Some(sql) => {
                let rows: Vec<Name> = conn
                    .load_with(sql, &[])
                    .map_err(Error::query("cannot read the current schema"))?;
                rows.into_iter().next().and_then(|row| row.name)
            }
            None => None,
        };
        let qualify = |table: &str| match &namespace {
            Some(ns) => format!("{}.{}", backend.quote(ns), backend.quote(table)),
            None => backend.quote(table),
        };
        Ok(Ledger {
            backend,
            diesel: qualify(DIESEL_TABLE),
            checksums: qualify(CHECKSUM_TABLE),
            journal: qualify(JOURNAL_TABLE),
            progress: qualify(PROGRESS_TABLE),
            namespace,
            runner: runner(),
        })
    }

    /// Whether diesel's table exists: the database is managed.
    pub(crate) fn exists<C: Database>(&self, conn: &mut C) -> Result<bool> {
        self.has_table(conn, DIESEL_TABLE)
    }

    /// Whether a table of this name exists where the ledger lives.
    pub(crate) fn has_table<C: Database>(&self, conn: &mut C, table: &str) -> Result<bool> {
        let sql = self.backend.dialect().table_exists_query();
        let rows: Vec<Name> = match &self.namespace {
            Some(ns) => conn.load_with(sql, &[Bind::Text(ns), Bind::Text(table)]),
            None => conn.load_with(sql, &[Bind::Text(table)]),
        }
        .map_err(Error::query(format!("cannot look for the table {table}")))?;
        Ok(!rows.is_empty())
    }

    /// Whether column `column` of table `table` exists where the ledger lives.
    fn has_column<C: Database>(&self, conn: &mut C, table: &str, column: &str) -> Result<bool> {
        let sql = self.backend.dialect().column_exists_query();
        let rows: Vec<Name> = match &self.namespace {
            Some(ns) => conn.load_with(
                sql,
                &[Bind::Text(ns), Bind::Text(table), Bind::Text(column)],
            ),
            None => conn.load_with(sql, &[Bind::Text(table), Bind::Text(column)]),
        }
        .map_err(Error::query(format!(
            "cannot look for the column {table}.{column}"
        )))?;
        Ok(!rows.is_empty())
    }

    /// Creates diesel's table with diesel's own DDL, and pelican's side tables, if missing.
    /// Brings a progress table an older pelican made up to date (see [`Ledger::upgrade`]).
    pub(crate) fn create<C: Database>(&self, conn: &mut C) -> Result<()> {
        conn.batch_execute(&self.create_sql())
            .map_err(Error::query("cannot create the migrations tables"))?;
        self.upgrade(conn)
    }

    /// Adds the columns a side table gained since an older pelican created it: the
    /// progress table's `in_flight` (without it, every read of the progress fails). One
    /// query where the table is up to date; runs where the ledger is created, under the
    /// migration lock. The added column says what the older pelican's rows meant: no
    /// statement in flight.
    fn upgrade<C: Database>(&self, conn: &mut C) -> Result<()> {
        // Only where DDL commits itself is there a progress table.
        let DdlTransactions::CommitThemselves(sql) = self.backend.dialect().ddl_transactions()
        else {
            return Ok(());
        };
        let Some(namespace) = &self.namespace else {
            return Ok(());
        };
        let rows: Vec<Name> = conn
            .load_with(
                sql.in_flight_column,
                &[Bind::Text(namespace), Bind::Text(PROGRESS_TABLE)],
            )
            .map_err(Error::query(format!(
                "cannot read the columns of {PROGRESS_TABLE}"
            )))?;
        if !rows.is_empty() {
            return Ok(());
        }
        conn.batch_execute(&format!(
            "ALTER TABLE {} ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0",
            self.progress
        ))
        .map_err(Error::query(format!(
            "cannot add column in_flight to {PROGRESS_TABLE}, made by an older pelican"
        )))
    }

    /// The applied migrations, oldest first. An unmanaged database has none (and gets no
    /// table: reading never creates).
    pub(crate) fn applied<C: Database>(&self, conn: &mut C) -> Result<Vec<Applied>> {
        if !self.exists(conn)? {
            return Ok(Vec::new());
        }
        self.read_applied(conn)
    }

    /// The applied migrations, oldest first, from a migrations table known to exist.
    pub(crate) fn read_applied<C: Database>(&self, conn: &mut C) -> Result<Vec<Applied>> {
        if !self.has_column(conn, DIESEL_TABLE, "run_on")? {
            let mut versions: Vec<String> = self.read_versions(conn)?.into_iter().collect();
            versions.sort();
            return Ok(versions
                .into_iter()
                .map(|version| Applied {
                    version,
                    run_on: None,
                })
                .collect());
        }
        let mut rows: Vec<AppliedRow> = conn
            .load_with(&format!("SELECT version, run_on FROM {}", self.diesel), &[])
            .map_err(Error::query("cannot read the applied migrations"))?;
        // Sorted here, as strings, as diesel's `MigrationVersion` sorts: a server's
        // collation may order versions that are not digits differently.
        rows.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(rows
            .into_iter()
            .map(|row| Applied {
                version: row.version,
                run_on: Some(row.run_on),
            })
            .collect())
    }

    /// The versions applied, from a migrations table known to exist: what a run plans
    /// from, without the times [`Ledger::read_applied`] reads and parses too.
    pub(crate) fn read_versions<C: Database>(&self, conn: &mut C) -> Result<BTreeSet<String>> {
        let rows: Vec<VersionRow> = conn
            .load_with(&format!("SELECT version FROM {}", self.diesel), &[])
            .map_err(Error::query("cannot read the applied migrations"))?;
        Ok(rows.into_iter().map(|row| row.version).collect())
    }

    /// The checksums recorded for applied migrations.
    pub(crate) fn checksums<C: Database>(&self, conn: &mut C) -> Result<BTreeMap<String, String>> {
        let rows: Vec<ChecksumRow> = conn
            .load_with(
                &format!("SELECT version, checksum FROM {}", self.checksums),
                &[],
            )
            .map_err(Error::query("cannot read the checksums"))?;
        Ok(rows.into_iter().map(|r| (r.version, r.checksum)).collect())
    }

    /// The statements that record a migration as applied or reverted, with its journal
    /// entry, to send in one round trip (after the migration's last statement, when it
    /// runs in a transaction). The values are written as literals rather than bound: a
    /// hex checksum and times pelican formatted, and the version, which may be any text
    /// diesel reads from a folder name, quoted as the backend reads text.
    pub(crate) fn record_sql(
        &self,
        migration: &Migration,
        direction: Direction,
        entry: &Entry<'_>,
    ) -> String {
        let version = self.text_literal(migration.version());
        let mut sql = match direction {
            Direction::Up => format!(
                "INSERT INTO {diesel} (version) VALUES ({version});\n{upsert};\n",
                diesel = self.diesel,
                upsert = upsert_checksums(
                    self.backend,
                    &self.checksums,
                    &format!("({version}, {})", literal(&migration.checksum())),
                ),
            ),
            Direction::Down => format!(
                "DELETE FROM {diesel} WHERE version = {version};\n\
                 DELETE FROM {checksums} WHERE version = {version};\n",
                diesel = self.diesel,
                checksums = self.checksums,
            ),
        };
        sql.push_str(&self.journal_insert(entry));
        sql
    }

    /// diesel's row for a migration applied, alone: the statement a step sent in a chunk
    /// writes in its savepoint, so that after a failure the ledger says which of the
    /// chunk's files ran (see [`Ledger::recorded_among`]).
    pub(crate) fn applied_row_sql(&self, migration: &Migration) -> String {
        format!(
            "INSERT INTO {} (version) VALUES ({});\n",
            self.diesel,
            self.text_literal(migration.version())
        )
    }

    /// A migration's checksum as a row of [`Ledger::applied_rest_sql`].
    pub(crate) fn checksum_row(&self, migration: &Migration) -> String {
        format!(
            "({}, {})",
            self.text_literal(migration.version()),
            literal(&migration.checksum())
        )
    }

    /// A journal entry as a row of [`Ledger::applied_rest_sql`].
    pub(crate) fn journal_row(&self, entry: &Entry<'_>) -> String {
        self.journal_values(entry)
    }

    /// The rest of the records of migrations applied whose diesel rows are written (see
    /// [`Ledger::applied_row_sql`]): their checksums ([`Ledger::checksum_row`]) in one
    /// statement, their journal entries ([`Ledger::journal_row`]) in another.
    pub(crate) fn applied_rest_sql(&self, checksums: &[String], journal: &[String]) -> String {
        let mut sql = String::new();
        if !checksums.is_empty() {
            sql.push_str(&upsert_checksums(
                self.backend,
                &self.checksums,
                &checksums.join(",\n"),
            ));
            sql.push_str(";\n");
        }
        if !journal.is_empty() {
            sql.push_str(&format!(
                "INSERT INTO {} ({JOURNAL_COLUMNS}) VALUES {};\n",
                self.journal,
                journal.join(",\n")
            ));
        }
        sql
    }

    /// Which of these versions diesel's table holds (in the run's transaction: what the
    /// statements before a failure wrote).
    pub(crate) fn recorded_among<C: Database>(
        &self,
        conn: &mut C,
        versions: &[&str],
    ) -> Result<BTreeSet<String>> {
        if versions.is_empty() {
            return Ok(BTreeSet::new());
        }
        let list = versions
            .iter()
            .map(|v| self.text_literal(v))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<VersionRow> = conn
            .load_with(
                &format!(
                    "SELECT version FROM {} WHERE version IN ({list})",
                    self.diesel
                ),
                &[],
            )
            .map_err(Error::query("cannot read the applied migrations"))?;
        Ok(rows.into_iter().map(|row| row.version).collect())
    }

    /// Records the current checksums of these migrations, replacing what was recorded.
    pub(crate) fn record_checksums<C: Database>(
        &self,
        conn: &mut C,
        migrations: &[&Migration],
    ) -> Result<()> {
        if migrations.is_empty() {
            return Ok(());
        }
        let rows = migrations
            .iter()
            .map(|m| {
                format!(
                    "({}, {})",
                    self.text_literal(m.version()),
                    literal(&m.checksum())
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        conn.batch_execute(&upsert_checksums(self.backend, &self.checksums, &rows))
            .map_err(Error::query("cannot record the checksums"))
    }

    /// Makes the applied set exactly `migrations` without running any SQL: one statement
    /// removes what should not be there, one inserts what is missing.
    pub(crate) fn stamp<C: Database>(
        &self,
        conn: &mut C,
        current: &BTreeSet<String>,
        wanted: &[&Migration],
    ) -> Result<(Vec<String>, Vec<String>)> {
        let wanted_versions: BTreeSet<&str> = wanted.iter().map(|m| m.version()).collect();
        let removed: Vec<String> = current
            .iter()
            .filter(|v| !wanted_versions.contains(v.as_str()))
            .cloned()
            .collect();
        let added: Vec<&Migration> = wanted
            .iter()
            .copied()
            .filter(|m| !current.contains(m.version()))
            .collect();
        let now = Utc::now();
        let mut sql = String::new();
        if !removed.is_empty() {
            let list = removed
                .iter()
                .map(|v| self.text_literal(v))
                .collect::<Vec<_>>()
                .join(", ");
            sql.push_str(&format!(
                "DELETE FROM {} WHERE version IN ({list});\nDELETE FROM {} WHERE version IN ({list});\n",
                self.diesel, self.checksums
            ));
        }
        if !added.is_empty() {
            let versions = added
                .iter()
                .map(|m| format!("({})", self.text_literal(m.version())))
                .collect::<Vec<_>>()
                .join(", ");
            let checksums = added
                .iter()
                .map(|m| {
                    format!(
                        "({}, {})",
                        self.text_literal(m.version()),
                        literal(&m.checksum())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            sql.push_str(&format!(
                "INSERT INTO {} (version) VALUES {versions};\n{};\n",
                self.diesel,
                upsert_checksums(self.backend, &self.checksums, &checksums),
            ));
        }
        // One statement for every journal row: a fresh database stamps them all at once.
        let rows: Vec<String> = removed
            .iter()
            .map(|v| (v.as_str(), "unstamp"))
            .chain(added.iter().map(|m| (m.version(), "stamp")))
            .map(|(version, direction)| {
                self.journal_values(&Entry {
                    version,
                    direction,
                    started: now,
                    finished: now,
                    statements_run: 0,
                    statements_skipped: 0,
                    outcome: Outcome::Stamped,
                    message: None,
                    share_ms: None,
                })
            })
            .collect();
        if !rows.is_empty() {
            sql.push_str(&format!(
                "INSERT INTO {} ({JOURNAL_COLUMNS}) VALUES {};\n",
                self.journal,
                rows.join(",\n")
            ));
        }
        if !sql.is_empty() {
            conn.batch_execute(&sql)
                .map_err(Error::query("cannot stamp the migrations table"))?;
        }
        Ok((
            removed,
            added.iter().map(|m| m.version().to_owned()).collect(),
        ))
    }

    /// Migrations an earlier run left half-applied: `(version, direction)` to what its
    /// progress row records.
    pub(crate) fn progress<C: Database>(
        &self,
        conn: &mut C,
    ) -> Result<BTreeMap<ProgressKey, Recorded>> {
        let integer = self.backend.dialect().integer_type();
        let rows: Vec<ProgressRow> = conn
            .load_with(
                &format!(
                    "SELECT version, direction, checksum, CAST(done AS {integer}) AS done, \
                     CAST(in_flight AS {integer}) AS in_flight FROM {}",
                    self.progress
                ),
                &[],
            )
            .map_err(Error::query(format!(
                "cannot read the progress of half-applied migrations from {PROGRESS_TABLE}"
            )))?;
        rows.into_iter()
            .map(|r| {
                let direction = match r.direction.as_str() {
                    "up" => Direction::Up,
                    "down" => Direction::Down,
                    other => {
                        return Err(Error::Query {
                            context: format!(
                                "cannot read the progress of migration {} from {PROGRESS_TABLE}",
                                r.version
                            ),
                            source: diesel::result::Error::DeserializationError(
                                format!("direction {other:?} is neither up nor down").into(),
                            ),
                        })
                    }
                };
                let recorded = Recorded {
                    checksum: r.checksum,
                    done: usize::try_from(r.done).unwrap_or_default(),
                    in_flight: r.in_flight != 0,
                };
                let key = ProgressKey {
                    version: r.version,
                    direction,
                };
                Ok((key, recorded))
            })
            .collect()
    }

    /// Records that the first `done` statements of a migration's file committed, and
    /// whether the next one is in flight; `digest` identifies those statements.
    pub(crate) fn progress_sql(
        &self,
        migration: &Migration,
        direction: Direction,
        digest: &str,
        done: usize,
        in_flight: bool,
    ) -> String {
        let values = format!(
            "({}, {}, {}, {done}, {})",
            self.text_literal(migration.version()),
            literal(&direction.to_string()),
            literal(digest),
            u8::from(in_flight)
        );
        crate::dialect::upsert(
            self.backend.dialect(),
            &self.progress,
            "version, direction, checksum, done, in_flight",
            "version, direction",
            &values,
        )
    }

    /// Forgets the progress of a migration that is now recorded whole.
    pub(crate) fn clear_progress_sql(&self, migration: &Migration) -> String {
        format!(
            "DELETE FROM {} WHERE version = {};\n",
            self.progress,
            self.text_literal(migration.version())
        )
    }

    /// The statements that create the ledger's tables where they are missing, as the
    /// script `--sql` prints.
    pub(crate) fn create_sql(&self) -> String {
        let diesel_ddl =
            diesel::migration::CREATE_MIGRATIONS_TABLE.replacen(DIESEL_TABLE, &self.diesel, 1);
        format!(
            "{};\n{}",
            diesel_ddl.trim_end().trim_end_matches(';'),
            side_tables_ddl(self.backend, &self.checksums, &self.journal, &self.progress)
        )
    }

    /// The statement that appends a journal entry, to send with others.
    pub(crate) fn journal_insert(&self, entry: &Entry<'_>) -> String {
        format!(
            "INSERT INTO {} ({JOURNAL_COLUMNS}) VALUES {};\n",
            self.journal,
            self.journal_values(entry)
        )
    }

    /// A journal row's values, in [`JOURNAL_COLUMNS`]' order.
    fn journal_values(&self, entry: &Entry<'_>) -> String {
        let duration = entry
            .share_ms
            .unwrap_or_else(|| (entry.finished - entry.started).num_milliseconds());
        let message = match entry.message {
            Some(text) => self.text_literal(text),
            None => "NULL".to_owned(),
        };
        format!(
            "({}, {}, {}, {}, {duration}, {}, {}, {}, {}, {message})",
            self.text_literal(entry.version),
            literal(entry.direction),
            literal(&timestamp(entry.started)),
            literal(&timestamp(entry.finished)),
            entry.statements_run,
            entry.statements_skipped,
            literal(entry.outcome.as_str()),
            self.text_literal(&self.runner),
        )
    }

    /// A string literal for arbitrary text (a version too: diesel takes any text of a
    /// folder name for one): MySQL also treats backslashes as escapes.
    fn text_literal(&self, text: &str) -> String {
        let text = text.replace('\0', "");
        self.backend.dialect().text_literal(&text)
    }
}

pub(crate) use crate::dialect::single_quoted as literal;

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Who is running: `host:pid`, so the journal shows one runner per migration.
pub(crate) fn runner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledgers_tables_are_diesels_and_every_pelican_table() {
        for table in TABLES.into_iter().chain([crate::unfinished::BUILD_TABLE]) {
            assert!(is_ledger(table), "{table}");
        }
        for table in [
            "usuario",
            "__diesel_schema_migrations_old",
            "pelican_journal",
            "_pelican_x",
        ] {
            assert!(!is_ledger(table), "{table}");
        }
    }
}
