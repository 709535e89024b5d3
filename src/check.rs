//! `pelican check`: are the migrations sound, and does the database still match them?
//!
//! Four checks, each finding reported (none stops the others, but a broken round
//! trip leaves nothing to compare a snapshot with):
//!
//! 1. **Checksums.** Every applied migration's files against the checksum recorded
//!    when it ran (line endings normalized, so a CRLF checkout is not an edit); an
//!    edited one is named, and so is an applied version whose folder is gone.
//! 2. **Round trip, per migration**, on a [scratch database](crate::scratch): up →
//!    schema S(i); down → must equal S(i−1); up again → must equal S(i). The schema
//!    is the [catalog] plus the row count of each table, so rows a
//!    migration inserts and its down forgets count too. Statements run as written
//!    (no existence guards: a guard must not hide a down that forgot something). Every
//!    migration that fails is named with the difference; the trip goes on at the next
//!    one on a fresh scratch database built up to it.
//! 3. **Drift.** The live database's schema against the scratch database at the same
//!    applied version, table by table.
//! 4. **Snapshots.** A snapshot that no longer describes the migrations (older than
//!    head, or made from migrations edited since) is named; one for the database's
//!    backend is loaded into a second scratch database the way `init` loads it, and
//!    must give the same catalog and row counts as the migrations.
//!
//! ```no_run
//! let migrations = pelican::Migrations::from_dir("migrations")?;
//! let report = pelican::Check::new(&migrations).run("postgres://app@localhost/app")?;
//! for finding in &report.findings {
//!     eprintln!("{finding}");
//! }
//! assert!(report.ok());
//! # Ok::<(), pelican::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

mod live;
mod state;
mod trip;

use state::State;

use crate::admin;
use crate::boot::Build;
use crate::catalog::{self, Change, Reader, Schema};
use crate::connection::Timeouts;
use crate::execute;
use crate::scratch::Scratch;
use crate::server::temp::Origin;
use crate::snapshot::{Fit, Snapshot};
use crate::{
    connect_with_retry, AnyConnection, Backend, Boot, Database, Error, Guards, Migration,
    Migrations, Migrator, Result, Target,
};

/// The check, configured.
#[derive(Clone)]
pub struct Check<'a> {
    migrations: &'a Migrations,
    snapshots: Vec<Snapshot>,
    scratch_url: Option<String>,
    wait: Duration,
    timeouts: Timeouts,
    verify_reads: bool,
}

/// Written by hand so that a debug print never shows the scratch URL's password.
impl fmt::Debug for Check<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("migrations", &self.migrations.len())
            .field("snapshots", &self.snapshots.len())
            .field(
                "scratch_url",
                &self
                    .scratch_url
                    .as_deref()
                    .map(crate::url_secret::redact_url),
            )
            .field("wait", &self.wait)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// An applied migration whose files changed after it ran.
    ChangedMigration {
        /// Its version.
        version: String,
        /// Its folder name.
        name: String,
        /// Its folder, or `NAME/` for an embedded migration.
        folder: String,
    },
    /// An applied version that no migration has (its folder is gone, or the database
    /// is newer than these migrations).
    MissingMigration {
        /// The version.
        version: String,
    },
    /// A statement of the round trip failed.
    RoundTripFailed {
        /// The migration's folder name.
        migration: String,
        /// Which run failed.
        step: RoundTripStep,
        /// The error, naming file, line and statement.
        message: String,
    },
    /// A round trip that did not come back to where it started.
    RoundTrip {
        /// The migration's folder name.
        migration: String,
        /// After which run the schema differed.
        step: RoundTripStep,
        /// What it should have been (expected) against what it was (actual).
        changes: Vec<Change>,
    },
    /// The live database differs from what its applied migrations build.
    Drift {
        /// The newest applied version (`None`: none applied).
        version: Option<String>,
        /// What the migrations build (expected) against the live database (actual).
        changes: Vec<Change>,
    },
    /// A snapshot made before the newest migrations.
    StaleSnapshot {
        /// The snapshot's file.
        snapshot: String,
        /// The version it stands for.
        head: String,
        /// The newest migration's version.
        migrations_head: String,
    },
    /// A snapshot that does not build what the migrations build.
    WrongSnapshot {
        /// The snapshot's file.
        snapshot: String,
        /// Why, as a sentence.
        reason: String,
        /// What the migrations build (expected) against what the snapshot built
        /// (actual), when it was built.
        changes: Vec<Change>,
    },
}

/// Which run of a migration's round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoundTripStep {
    /// The first `up.sql`.
    Up,
    /// `down.sql`: the schema must be what it was before `up.sql`.
    Down,
    /// `up.sql` once more: the schema must be what the first one made.
    UpAgain,
}

/// Whether a snapshot stands for the migrations (JSON: `current`, `stale`,
/// `mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SnapshotState {
    /// Taken at the head of these migrations, from these migrations.
    Current,
    /// Taken at an older head: migrations were added since.
    Stale,
    /// Its migrations are not these (edited, or another history).
    Mismatch,
}

/// What became of one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SnapshotReport {
    /// Its file.
    pub snapshot: String,
    /// Its backend.
    pub backend: Backend,
    /// The version it stands for.
    pub head: String,
    /// Whether it stands for the migrations' head.
    pub state: SnapshotState,
    /// Whether a database was built from it and compared with the migrations' (only
    /// for the backend of the database checked).
    pub built: bool,
}

/// What `check` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The backend checked.
    pub backend: Backend,
    /// Every problem found; none means the check passed.
    pub findings: Vec<Finding>,
    /// What was not checked, and why (not a problem in itself).
    pub notes: Vec<String>,
    /// Migrations applied to the live database.
    pub applied: usize,
    /// Applied migrations whose checksum was compared.
    pub checksums: usize,
    /// Migrations whose round trip passed.
    pub round_trip: usize,
    /// How many migrations there are.
    pub migrations: usize,
    /// Whether the live database was compared with the migrations.
    pub drift_checked: bool,
    /// The snapshots looked at.
    pub snapshots: Vec<SnapshotReport>,
    /// The scratch databases used (and dropped), passwords hidden.
    pub scratch: Vec<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
}

impl CheckReport {
    /// Whether nothing was found.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// A scratch database and the connection to it (closed first, before the database is
/// dropped: MySQL waits for connections still open).
struct Bench {
    conn: AnyConnection,
    scratch: Scratch,
}

impl Bench {
    fn remove(self) -> Result<()> {
        let Bench { conn, scratch } = self;
        drop(conn);
        scratch.remove()
    }
}

/// What the round trip leaves for the checks after it.
#[derive(Default)]
struct Trip {
    /// The state at the live database's applied version, if the trip passed it.
    at_applied: Option<State>,
    /// The state at head, if the trip got there.
    at_head: Option<State>,
}

impl Trip {
    /// Keeps `after`, the state after the migration at `index` (of `count`) ran, if it
    /// is the state at the live database's applied version (`prefix` of them) or at
    /// head.
    fn reached(
        &mut self,
        index: usize,
        count: usize,
        prefix: Option<usize>,
        after: Option<&State>,
    ) {
        let Some(after) = after else {
            return;
        };
        if prefix == Some(index + 1) {
            self.at_applied = Some(after.clone());
        }
        if index + 1 == count {
            self.at_head = Some(after.clone());
        }
    }
}

impl<'a> Check<'a> {
    /// A check of these migrations: no snapshots, scratch databases on the server of
    /// the URL checked.
    pub fn new(migrations: &'a Migrations) -> Self {
        Check {
            migrations,
            snapshots: Vec::new(),
            scratch_url: None,
            wait: Duration::ZERO,
            timeouts: Timeouts::default(),
            // The environment's word, so that a test suite can verify every check it runs.
            verify_reads: std::env::var_os("PELICAN_CHECK_VERIFY_READS").is_some_and(|v| v == "1"),
        }
    }

    /// Reads every state of the round trip whole as well as scoped to what the step can
    /// have changed, and fails with [`Error::ScopedRead`] where they differ: a test of
    /// pelican's scoping, slower than a check (also on with
    /// `PELICAN_CHECK_VERIFY_READS=1`).
    #[doc(hidden)]
    pub fn verify_reads(self, verify_reads: bool) -> Self {
        Check {
            verify_reads,
            ..self
        }
    }

    /// Makes the scratch databases on this server instead (for SQLite: in this folder).
    pub fn scratch_url(self, url: impl Into<String>) -> Self {
        Check {
            scratch_url: Some(url.into()),
            ..self
        }
    }

    /// Checks this snapshot too (any backend's: those of other backends are checked
    /// against the migrations' checksums only).
    pub fn snapshot(mut self, snapshot: Snapshot) -> Self {
        self.snapshots.push(snapshot);
        self
    }

    /// Retries the first connection for up to `wait` (see [`connect_with_retry`]).
    pub fn wait(self, wait: Duration) -> Self {
        Check { wait, ..self }
    }

    /// The waits and limits of its connections, to the database and to the scratch
    /// databases ([`Timeouts::default`] unless told).
    pub fn timeouts(self, timeouts: Timeouts) -> Self {
        Check { timeouts, ..self }
    }

    /// Runs the check against the database `url` names, which it only reads. Its
    /// findings are in the report; an error means the check itself could not run.
    pub fn run(&self, url: &str) -> Result<CheckReport> {
        let started = Instant::now();
        let backend = Backend::from_url(url)?;
        let mut notes = Vec::new();
        let live = if crate::server::database_exists(url)? {
            let mut live = connect_with_retry(url, self.wait)?;
            self.timeouts.apply(&mut live)?;
            self.read_live(&mut live)?
        } else {
            // Connecting would create the SQLite file: a check only reads.
            notes
                .push("the database does not exist yet: it was checked as an empty one".to_owned());
            (BTreeSet::new(), BTreeMap::new(), Schema::empty(backend))
        };
        self.check(&Origin::of_url(url)?, live, notes, started)
    }

    /// Runs the check against the database `conn` is connected to (any connection
    /// pelican migrates, as `&mut conn`), which it only reads, through that connection;
    /// its session settings are left as they are. The scratch databases go on the server
    /// of [`Check::scratch_url`], which a server backend needs ([`Error::NoScratchUrl`]
    /// otherwise: a connection does not say which server it is on); on SQLite, in the
    /// temporary folder unless it names another.
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")] {
    /// use diesel::Connection;
    ///
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let mut conn = diesel::PgConnection::establish("postgres://app@db/app")?;
    /// let report = pelican::Check::new(&migrations)
    ///     .scratch_url("postgres://app@db/postgres")
    ///     .run_on(&mut conn)?;
    /// assert!(report.ok(), "{report:?}");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_on<C: Database>(&self, conn: &mut C) -> Result<CheckReport> {
        let started = Instant::now();
        let origin = Origin::of_connection(conn)?;
        let live = self.read_live(conn)?;
        self.check(&origin, live, Vec::new(), started)
    }

    /// The check itself, once the live database is read.
    fn check(
        &self,
        origin: &Origin,
        (applied, recorded, live_schema): (BTreeSet<String>, BTreeMap<String, String>, Schema),
        notes: Vec<String>,
        started: Instant,
    ) -> Result<CheckReport> {
        let backend = origin.backend();
        let mut report = CheckReport {
            backend,
            findings: Vec::new(),
            notes,
            applied: 0,
            checksums: 0,
            round_trip: 0,
            migrations: self.migrations.len(),
            drift_checked: false,
            snapshots: Vec::new(),
            scratch: Vec::new(),
            duration_ms: 0.0,
        };
        report.applied = applied.len();
        self.checksums(&applied, &recorded, &mut report);
        let fits: Vec<Fit> = self
            .snapshots
            .iter()
            .map(|s| s.fit(self.migrations))
            .collect();
        self.snapshot_headers(&fits, &mut report);

        // The live database's applied versions are the oldest `prefix` migrations,
        // as they are unless one was merged out of order or is unknown here.
        let known = applied.iter().all(|v| self.migrations.get(v).is_some());
        let prefix = known
            .then(|| {
                let count = applied.len();
                self.migrations
                    .iter()
                    .take(count)
                    .all(|m| applied.contains(m.version()))
                    .then_some(count)
            })
            .flatten();

        let mut bench = self.bench(origin, &mut report)?;
        let trip = self.round_trip(origin, &mut bench, prefix, &mut report)?;
        let reference = match (trip.at_applied, known) {
            (Some(state), _) => Some(state),
            (None, true) => self.replay(&mut bench.conn, &applied, &mut report)?,
            (None, false) => {
                report.notes.push(
                    "drift not checked: the database has applied versions these \
                     migrations do not have"
                        .to_owned(),
                );
                None
            }
        };
        if let Some(reference) = reference {
            report.drift_checked = true;
            let changes = catalog::diff(&reference.schema(), &live_schema);
            if !changes.is_empty() {
                report.findings.push(Finding::Drift {
                    version: applied.iter().next_back().cloned(),
                    changes,
                });
            }
        }
        bench.remove()?;
        self.snapshot_builds(origin, backend, &fits, trip.at_head, &mut report)?;
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    fn snapshot_headers(&self, fits: &[Fit], report: &mut CheckReport) {
        let migrations_head = self
            .migrations
            .head()
            .map(|m| m.version().to_owned())
            .unwrap_or_default();
        for (snapshot, fit) in self.snapshots.iter().zip(fits) {
            let state = match fit {
                Fit::Current => SnapshotState::Current,
                Fit::Older { .. } => {
                    report.findings.push(Finding::StaleSnapshot {
                        snapshot: snapshot.source().to_owned(),
                        head: snapshot.head().to_owned(),
                        migrations_head: migrations_head.clone(),
                    });
                    SnapshotState::Stale
                }
                Fit::Mismatch { reason } => {
                    report.findings.push(Finding::WrongSnapshot {
                        snapshot: snapshot.source().to_owned(),
                        reason: reason.clone(),
                        changes: Vec::new(),
                    });
                    SnapshotState::Mismatch
                }
            };
            report.snapshots.push(SnapshotReport {
                snapshot: snapshot.source().to_owned(),
                backend: snapshot.backend(),
                head: snapshot.head().to_owned(),
                state,
                built: false,
            });
        }
    }

    /// A new scratch database, connected to, listed in the report.
    fn bench(&self, origin: &Origin, report: &mut CheckReport) -> Result<Bench> {
        let scratch = Scratch::create_like(origin, self.scratch_url.as_deref())?;
        report.scratch.push(scratch.display_url());
        let mut conn = scratch.connect()?;
        self.timeouts.apply(&mut conn)?;
        // The round trip commits at least three times per migration: on a database
        // dropped afterwards, a commit need not wait for the disk (docs/check.md
        // gives what it saved).
        for sql in conn.backend().dialect().throwaway_session_sql() {
            diesel::connection::SimpleConnection::batch_execute(&mut conn, sql)
                .map_err(Error::query("cannot set up the scratch database's session"))?;
        }
        Ok(Bench { conn, scratch })
    }

    /// Up, down, up again, one migration at a time, comparing states. A migration whose
    /// round trip fails leaves the scratch database in a state nobody knows: the trip
    /// goes on at the next migration on a fresh one built up to this one (or, when its
    /// up.sql is what failed, up to the one before, with it recorded as applied without
    /// running it, and a note saying the later ones were checked without it). On each
    /// scratch database the steps run as one run of the migrator (see [`trip`]).
    fn round_trip(
        &self,
        origin: &Origin,
        bench: &mut Bench,
        prefix: Option<usize>,
        report: &mut CheckReport,
    ) -> Result<Trip> {
        let migrator = Migrator::new(self.migrations).guards(Guards::Off);
        let all: Vec<&Migration> = self.migrations.iter().collect();
        let count = all.len();
        let mut trip = Trip::default();
        // One reader for the whole trip, fresh scratch databases included.
        let mut reader = Reader::default();
        reader.verify = self.verify_reads;
        let mut before = State::read(&mut bench.conn, &mut reader)?;
        if prefix == Some(0) {
            trip.at_applied = Some(before.clone());
        }
        // Whether the scratch database holds what the migrations so far build: not once
        // one's up.sql failed and it was recorded without running.
        let mut faithful = true;
        // The migrations whose up.sql failed, in order: a fresh scratch database is
        // built past each of them by recording it without running it.
        let mut failed_ups = Vec::new();
        let mut first = 0;
        while first < count {
            let mut walk = trip::Walk::new(&all, first, before);
            let failure = walk.run(
                &migrator,
                &mut bench.conn,
                &mut reader,
                &mut |index, leg| {
                    let (trip::Leg::Passed(after) | trip::Leg::NoDown(after)) = leg;
                    trip.reached(index, count, prefix, faithful.then_some(after));
                    match leg {
                        trip::Leg::Passed(_) => report.round_trip += 1,
                        trip::Leg::NoDown(_) => report.notes.push(format!(
                            "{} has no down.sql: its round trip was not checked",
                            all.get(index).map_or("?", |m| m.name())
                        )),
                    }
                },
            )?;
            let Some(trip::Failure {
                index,
                finding,
                after,
            }) = failure
            else {
                break;
            };
            let Some(&migration) = all.get(index) else {
                break;
            };
            trip.reached(index, count, prefix, after.as_ref().filter(|_| faithful));
            report.findings.push(finding);
            if index + 1 == count {
                break;
            }
            let fresh = self.bench(origin, report)?;
            std::mem::replace(bench, fresh).remove()?;
            let rebuilt = match after {
                // Past the migrations whose up.sql failed as the trip went past them
                // (recorded, not run: running one fails again), then up to this one.
                Some(_) => self
                    .skip_to(&migrator, &mut bench.conn, &failed_ups)
                    .and_then(|()| {
                        migrator.migrate(
                            &mut bench.conn,
                            &Target::Version(migration.version().to_owned()),
                        )
                    })
                    .map(drop),
                None => {
                    faithful = false;
                    report.notes.push(format!(
                        "the {} migration(s) after {} were checked without it (its \
                         up.sql failed): a failure among them may come from it",
                        count - index - 1,
                        migration.name()
                    ));
                    failed_ups.push(index);
                    self.skip_to(&migrator, &mut bench.conn, &failed_ups)
                }
            };
            if let Err(error) = rebuilt {
                report.notes.push(format!(
                    "round trip stopped after {}: a fresh scratch database could not \
                     be built up to it: {error}",
                    migration.name()
                ));
                return Ok(trip);
            }
            before = State::read(&mut bench.conn, &mut reader)?;
            first = index + 1;
        }
        Ok(trip)
    }

    /// Builds a fresh scratch database up to the last of `failed_ups` (indexes of the
    /// migrations whose up.sql failed, in order), each of them recorded as applied
    /// without running it and every other one before it run.
    fn skip_to(
        &self,
        migrator: &Migrator<'_>,
        conn: &mut AnyConnection,
        failed_ups: &[usize],
    ) -> Result<()> {
        let version = |i: usize| {
            self.migrations
                .iter()
                .nth(i)
                .map(|m| Target::Version(m.version().to_owned()))
        };
        for &index in failed_ups {
            if let Some(previous) = index.checked_sub(1).and_then(version) {
                migrator.migrate(conn, &previous)?;
            }
            if let Some(skipped) = version(index) {
                migrator.stamp(conn, &skipped)?;
            }
        }
        Ok(())
    }

    /// The state the live database's applied migrations build, when the round trip
    /// did not pass it: the scratch database emptied, and each one's `up.sql` run.
    fn replay(
        &self,
        conn: &mut AnyConnection,
        applied: &BTreeSet<String>,
        report: &mut CheckReport,
    ) -> Result<Option<State>> {
        admin::drop_all(conn)?;
        // SQLite's rule for schema changes, as a migration run follows it: a table
        // rebuild must not delete child rows through ON DELETE CASCADE.
        crate::migrator::with_foreign_keys_off(conn, |conn, _| {
            for migration in self.migrations.iter() {
                if !applied.contains(migration.version()) {
                    continue;
                }
                if let Err(error) = execute::file(conn, migration, crate::Direction::Up) {
                    report.notes.push(format!(
                        "drift not checked: {} fails on an empty database: {error}",
                        migration.name()
                    ));
                    return Ok(None);
                }
            }
            State::read(conn, &mut Reader::default()).map(Some)
        })
    }

    /// Builds a database from each snapshot of this backend that `init` would use and
    /// compares it with what the migrations build.
    fn snapshot_builds(
        &self,
        origin: &Origin,
        backend: Backend,
        fits: &[Fit],
        at_head: Option<State>,
        report: &mut CheckReport,
    ) -> Result<()> {
        for (index, (snapshot, fit)) in self.snapshots.iter().zip(fits).enumerate() {
            if snapshot.backend() != backend || matches!(fit, Fit::Mismatch { .. }) {
                continue;
            }
            let Some(expected) = &at_head else {
                report.notes.push(format!(
                    "{} not built: the round trip did not reach head",
                    snapshot.source()
                ));
                continue;
            };
            let scratch = Scratch::create_like(origin, self.scratch_url.as_deref())?;
            report.scratch.push(scratch.display_url());
            let outcome = {
                let mut conn = scratch.connect()?;
                self.timeouts.apply(&mut conn)?;
                let built = Boot::<AnyConnection>::new(self.migrations)
                    .snapshot(snapshot.sql())
                    .run(&mut conn);
                match built {
                    Ok(boot) if boot.build == Some(Build::Snapshot) => {
                        Ok(State::read(&mut conn, &mut Reader::default())?.changes_from(expected))
                    }
                    Ok(_) => Err("init did not use it".to_owned()),
                    Err(error) => Err(format!("it does not load: {error}")),
                }
            };
            scratch.remove()?;
            if let Some(entry) = report.snapshots.get_mut(index) {
                entry.built = true;
            }
            let (reason, changes) = match outcome {
                Ok(changes) if changes.is_empty() => continue,
                Ok(changes) => (
                    "a database built from it differs from one the migrations build".to_owned(),
                    changes,
                ),
                Err(reason) => (reason, Vec::new()),
            };
            report.findings.push(Finding::WrongSnapshot {
                snapshot: snapshot.source().to_owned(),
                reason,
                changes,
            });
        }
        Ok(())
    }
}

impl fmt::Display for RoundTripStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RoundTripStep::Up => "up.sql",
            RoundTripStep::Down => "down.sql",
            RoundTripStep::UpAgain => "up.sql (run again after down.sql)",
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::ChangedMigration { name, folder, .. } => write!(
                f,
                "edited migration {name}: its files ({folder}) differ from the checksum \
                 recorded when it ran"
            ),
            Finding::MissingMigration { version } => write!(
                f,
                "missing migration {version}: it is applied, but no migration folder has \
                 this version"
            ),
            Finding::RoundTripFailed {
                migration,
                step,
                message,
            } => write!(
                f,
                "round trip of {migration}: {step} failed on the scratch database: {message}"
            ),
            Finding::RoundTrip {
                migration,
                step,
                changes,
            } => {
                let what = match step {
                    RoundTripStep::Down => {
                        "after down.sql the schema is not what it was before up.sql"
                    }
                    _ => "up.sql run again after down.sql does not build what it built the first time",
                };
                write!(f, "round trip of {migration}: {what} (expected → found):")?;
                write_changes(f, changes)
            }
            Finding::Drift { version, changes } => {
                let at = version.as_deref().unwrap_or("base");
                write!(
                    f,
                    "drift: the database differs from what its migrations build at {at} \
                     (migrations → database):"
                )?;
                write_changes(f, changes)
            }
            Finding::StaleSnapshot {
                snapshot,
                head,
                migrations_head,
            } => write!(
                f,
                "stale snapshot {snapshot}: it stands for {head}, but head is \
                 {migrations_head}; write it again (pelican snapshot)"
            ),
            Finding::WrongSnapshot {
                snapshot,
                reason,
                changes,
            } => {
                write!(f, "wrong snapshot {snapshot}: {reason}")?;
                if changes.is_empty() {
                    write!(f, "; write it again (pelican snapshot)")
                } else {
                    write!(f, " (migrations → snapshot):")?;
                    write_changes(f, changes)
                }
            }
        }
    }
}

/// The changes, grouped by the table they concern, one per line.
fn write_changes(f: &mut fmt::Formatter<'_>, changes: &[Change]) -> fmt::Result {
    write!(f, "{}", catalog::Grouped(changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Subject;

    #[test]
    fn findings_read_as_sentences_naming_what_to_fix() {
        let edited = Finding::ChangedMigration {
            version: "20240201090000".into(),
            name: "2024-02-01-090000_add_usuario_telefono".into(),
            folder: "migrations/2024-02-01-090000_add_usuario_telefono/".into(),
        };
        assert_eq!(
            edited.to_string(),
            "edited migration 2024-02-01-090000_add_usuario_telefono: its files \
             (migrations/2024-02-01-090000_add_usuario_telefono/) differ from the checksum \
             recorded when it ran"
        );
        let stale = Finding::StaleSnapshot {
            snapshot: "migrations/schema.sqlite.sql".into(),
            head: "1".into(),
            migrations_head: "2".into(),
        };
        assert!(stale
            .to_string()
            .starts_with("stale snapshot migrations/schema.sqlite.sql"));
    }

    #[test]
    fn changes_are_grouped_by_table() {
        let change = |table: Option<&str>, name: &str| Change {
            subject: Subject::Column,
            name: name.into(),
            table: table.map(str::to_owned),
            expected: None,
            actual: Some("INTEGER NULL".into()),
        };
        let drift = Finding::Drift {
            version: Some("20240320110000".into()),
            changes: vec![
                change(Some("usuario"), "usuario.apodo"),
                change(None, "trigger t"),
                change(Some("curso"), "curso.nivel"),
                change(Some("usuario"), "usuario.edad"),
            ],
        };
        assert_eq!(
            drift.to_string(),
            "drift: the database differs from what its migrations build at 20240320110000 \
             (migrations → database):\n    curso:\n      curso.nivel: missing → INTEGER NULL\
             \n    usuario:\n      usuario.apodo: missing → INTEGER NULL\n      \
             usuario.edad: missing → INTEGER NULL\n    elsewhere:\n      trigger t: missing → \
             INTEGER NULL"
        );
    }
}
