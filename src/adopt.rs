//! Adoption: a database that has tables but no migrations table (built by hand, by
//! another tool, or with its ledger lost) becomes managed without its history being
//! replayed on it.
//!
//! [`Adopt`] finds the **newest version whose schema equals the database's**. On a
//! [scratch database](crate::scratch) it builds the migrations one at a time, and after
//! each compares the scratch database's [`catalog`] with the live
//! database's (the ledger tables left out; the schema, not the rows). After each
//! migration it first reads only the scratch database's [`Outline`] (the names of its
//! tables, views, indexes, constraints, triggers, types and routines, in one cheap
//! query), and reads and compares the whole schema only where the outline equals the
//! live database's: two schemas the comparison calls equal have equal outlines, so the
//! versions skipped could not have matched, and the version found is the one a full
//! comparison of every version finds. Where a
//! [snapshot](crate::snapshot) for the backend fits the migrations, the scratch database
//! starts from it, at the snapshot's version, and only the newer migrations are built;
//! the older versions are built and compared only when none from the snapshot's on
//! matches. Every migration up to the version found is then recorded as applied, as
//! [`Migrator::stamp`] records them (diesel's table, checksums, journal rows).
//!
//! **No statement of the migrations runs on the live database**: it is read once, and
//! stamped. A migration that rebuilds a table (`ALTER TABLE t RENAME TO old_t`, `CREATE
//! TABLE t …`, `INSERT INTO t SELECT … FROM old_t`) runs on the scratch database only,
//! and the live rows stay where they are.
//!
//! When no version matches, nothing changes: [`Error::NoMatchingVersion`] names the
//! closest version (the one with the fewest differences, the newest of those) and lists
//! the differences. Finding it takes every version's whole schema, so a failed adoption
//! builds the versions a second time, on a new scratch database, reading each in full:
//! failing takes longer than succeeding (the outline pass, then a full one), where a
//! successful adoption reads few schemas in full. When several consecutive versions
//! have the same schema (a migration that only inserts rows), the newest is taken: the
//! ones between are recorded as applied with it, and listed in the report.
//!
//! What is newer than the version found is left pending, as Alembic's `stamp` leaves
//! it: `pelican adopt` records, `pelican migrate` upgrades. [`Boot::adopt`] goes on to
//! upgrade when auto-migrate is on, as it upgrades any managed database.
//!
//! ```no_run
//! let migrations = pelican::Migrations::from_dir("migrations")?;
//! let url = "postgres://app@localhost/app";
//! let mut conn = pelican::AnyConnection::establish(url)?;
//! let report = pelican::Adopt::new(&migrations, url).run(&mut conn)?;
//! println!("adopted at {:?}, {} pending", report.version, report.pending.len());
//! # Ok::<(), pelican::Error>(())
//! ```
//!
//! [`Boot::adopt`]: crate::Boot::adopt

use std::collections::BTreeSet;
use std::fmt;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::catalog::{self, Change, Outline, Schema};
use crate::error::Left;
use crate::fresh::Fresh;
use crate::ledger::{Ledger, Standing};
use crate::scratch::Scratch;
use crate::snapshot::{Fit, Snapshot};
use crate::url_secret::redact_url;
use crate::{
    admin, lock, AnyConnection, Backend, Database, Error, Guards, Migrations, Migrator, Result,
    Target,
};

/// An adoption, configured.
#[derive(Clone)]
pub struct Adopt<'a> {
    migrations: &'a Migrations,
    url: String,
    scratch_url: Option<String>,
    snapshots: Vec<String>,
    lock_timeout: Duration,
}

/// Written by hand so that a debug print never shows a password.
impl fmt::Debug for Adopt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adopt")
            .field("migrations", &self.migrations.len())
            .field("url", &redact_url(&self.url))
            .field("scratch_url", &self.scratch_url.as_deref().map(redact_url))
            .field("snapshots", &self.snapshots.len())
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

/// What an adoption did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct AdoptReport {
    /// The version recorded: the newest whose schema equals the database's (`None`:
    /// base, before the first migration).
    pub version: Option<String>,
    /// Its migration's folder name.
    pub name: Option<String>,
    /// Older versions with the same schema (after migrations that changed only rows, or
    /// nothing the catalog sees), oldest first: recorded as applied with it.
    pub same_schema: Vec<String>,
    /// How many versions were recorded as applied.
    pub stamped: usize,
    /// How many versions' schemas were compared with the database's (by their
    /// [`Outline`] at least).
    pub compared: usize,
    /// How many of those were read and compared in full: the ones whose outline equals
    /// the database's (see the [module documentation](self)).
    pub read_in_full: usize,
    /// The head of the snapshot the scratch database started from, if one did.
    pub snapshot: Option<String>,
    /// The scratch databases used (and dropped), passwords hidden.
    pub scratch: Vec<String>,
    /// The newest available version.
    pub head: Option<String>,
    /// The versions newer than the one recorded, oldest first: pending now.
    pub pending: Vec<String>,
    /// How long it took, lock wait included, in milliseconds.
    pub duration_ms: f64,
}

/// The comparisons so far. A version is an index: 0 is base, `i` the state after the
/// `i`th migration.
struct Tally {
    live: Schema,
    /// The live schema's outline: a version with another outline is not read in full.
    outline: Outline,
    /// The live database's relation names, where listing them costs less than an
    /// outline: a version with other names has another outline (and is not read).
    relations: Option<BTreeSet<String>>,
    /// Whether every version is read in full (to find the closest, once none matched).
    full: bool,
    /// The versions whose schema equals the live one.
    equal: Vec<usize>,
    /// The version with the fewest differences, the newest of those, and them.
    closest: Option<(usize, Vec<Change>)>,
    compared: usize,
    read_in_full: usize,
    snapshot: Option<String>,
    scratch: Vec<String>,
}

impl Tally {
    /// Compares the scratch database, at version `index`, with the live one: by its
    /// outline first, then, if the outlines are equal (or every version is read in
    /// full), by its whole schema.
    fn look(&mut self, index: usize, bench: &mut AnyConnection) -> Result<()> {
        self.compared += 1;
        if !self.full {
            if let Some(live) = &self.relations {
                if Outline::relation_names(bench)?.as_ref() != Some(live) {
                    return Ok(());
                }
            }
            if Outline::read(bench)? != self.outline {
                return Ok(());
            }
        }
        self.read_in_full += 1;
        let schema = Schema::introspect(bench)?;
        self.offer(index, &schema);
        Ok(())
    }

    /// Starts again, every version to be read in full.
    fn restart_in_full(&mut self) {
        self.full = true;
        self.equal.clear();
        self.closest = None;
        self.compared = 0;
        self.read_in_full = 0;
    }

    fn offer(&mut self, index: usize, schema: &Schema) {
        let changes = catalog::diff(schema, &self.live);
        if changes.is_empty() {
            self.equal.push(index);
        }
        let closer = match &self.closest {
            None => true,
            Some((best, best_changes)) => {
                (changes.len(), std::cmp::Reverse(index))
                    < (best_changes.len(), std::cmp::Reverse(*best))
            }
        };
        if closer {
            self.closest = Some((index, changes));
        }
    }

    fn matched(&self) -> Option<usize> {
        self.equal.iter().copied().max()
    }
}

impl<'a> Adopt<'a> {
    /// An adoption of a database by these migrations. `url` is the database's own URL:
    /// the scratch database is made on its server (for SQLite, a temporary file), as
    /// `check` makes its own.
    pub fn new(migrations: &'a Migrations, url: impl Into<String>) -> Self {
        Adopt {
            migrations,
            url: url.into(),
            scratch_url: None,
            snapshots: Vec::new(),
            lock_timeout: lock::DEFAULT_TIMEOUT,
        }
    }

    /// Makes the scratch database on this server instead (for SQLite: in this folder).
    pub fn scratch_url(self, url: impl Into<String>) -> Self {
        Adopt {
            scratch_url: Some(url.into()),
            ..self
        }
    }

    /// A [snapshot](crate::snapshot)'s text, for the scratch database to start from
    /// where it fits the migrations (see [`Boot::snapshot`]). Several may be given, one
    /// per backend: the database's is used.
    ///
    /// [`Boot::snapshot`]: crate::Boot::snapshot
    pub fn snapshot(mut self, text: impl Into<String>) -> Self {
        self.snapshots.push(text.into());
        self
    }

    /// How long to wait for another run holding the migration lock (see [`lock`]).
    pub fn lock_timeout(self, timeout: Duration) -> Self {
        Adopt {
            lock_timeout: timeout,
            ..self
        }
    }

    /// Adopts the database `conn` is connected to, holding the migration lock: finds
    /// the newest version whose schema equals the database's and records every
    /// migration up to it as applied (see the [module documentation](self)). The
    /// database must have tables and no applied migrations
    /// ([`Error::NothingToAdopt`]); when no version matches, nothing changes
    /// ([`Error::NoMatchingVersion`]).
    pub fn run<C: Database>(&self, conn: &mut C) -> Result<AdoptReport> {
        let started = Instant::now();
        let mut report = lock::with(conn, self.lock_timeout, |conn| self.run_locked(conn))?;
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(report)
    }

    /// [`Adopt::run`], the lock already held.
    pub(crate) fn run_locked<C: Database>(&self, conn: &mut C) -> Result<AdoptReport> {
        let started = Instant::now();
        self.adoptable(conn)?;
        // The scratch database is reached through a connection of pelican's own, which
        // a build with the backend's diesel-async connection only (`postgres_backend`
        // without `postgres`) cannot open: refused now, with the database's URL.
        let backend = Backend::from_url(&self.url)?;
        if !backend.has_client() {
            return Err(crate::connection::not_enabled(backend.feature(), &self.url));
        }
        let tally = self.search(conn)?;
        let version = |index: usize| {
            index
                .checked_sub(1)
                .and_then(|i| self.migrations.iter().nth(i))
        };
        let Some(matched) = tally.matched() else {
            let (index, changes) = tally.closest.unwrap_or_default();
            return Err(Error::NoMatchingVersion {
                closest: version(index).map_or("base".to_owned(), |m| {
                    format!("{} {}", m.version(), m.description())
                }),
                version: version(index).map(|m| m.version().to_owned()),
                changes,
                compared: tally.compared,
            });
        };
        let found = version(matched);
        let target = match found {
            Some(migration) => Target::Version(migration.version().to_owned()),
            None => Target::Base,
        };
        let stamped = Migrator::new(self.migrations)
            .lock_timeout(self.lock_timeout)
            .stamp_adopted(conn, &target)?;
        let mut same_schema: Vec<usize> = tally
            .equal
            .iter()
            .copied()
            .filter(|i| *i != matched)
            .collect();
        same_schema.sort_unstable();
        Ok(AdoptReport {
            version: found.map(|m| m.version().to_owned()),
            name: found.map(|m| m.name().to_owned()),
            same_schema: same_schema
                .into_iter()
                .map(|i| version(i).map_or("base".to_owned(), |m| m.version().to_owned()))
                .collect(),
            stamped: stamped.added.len(),
            compared: tally.compared,
            read_in_full: tally.read_in_full,
            snapshot: tally.snapshot,
            scratch: tally.scratch,
            head: self.migrations.head().map(|m| m.version().to_owned()),
            pending: self
                .migrations
                .iter()
                .skip(matched)
                .map(|m| m.version().to_owned())
                .collect(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Refuses a database that is empty, or that has applied migrations recorded, as
    /// the ledger's one classification ([`Standing`]) says. A migrations table that
    /// records nothing, beside tables of the database's own, is adopted.
    fn adoptable<C: Database>(&self, conn: &mut C) -> Result<()> {
        let relations = admin::relations(conn)?;
        match Standing::read(conn, &relations)? {
            Standing::Fresh => Err(Error::NothingToAdopt {
                reason: "the database has no tables; `init` builds it at head".to_owned(),
            }),
            Standing::Managed => {
                let applied = Ledger::open(conn)?.read_applied(conn)?;
                match applied.iter().map(|a| a.version.as_str()).max() {
                    Some(newest) => Err(Error::NothingToAdopt {
                        reason: format!(
                            "the database is already managed: diesel's migrations table \
                             records {} applied version(s), the newest {newest}",
                            applied.len()
                        ),
                    }),
                    None => Ok(()),
                }
            }
            Standing::Unmanaged { .. } => Ok(()),
        }
    }

    /// Reads the live schema, then builds and compares the versions on a scratch
    /// database, which is dropped however that ends.
    fn search<C: Database>(&self, conn: &mut C) -> Result<Tally> {
        let mut tally = Tally {
            live: Schema::introspect(conn)?,
            outline: Outline::read(conn)?,
            relations: Outline::relation_names(conn)?,
            full: false,
            equal: Vec::new(),
            closest: None,
            compared: 0,
            read_in_full: 0,
            snapshot: None,
            scratch: Vec::new(),
        };
        self.on_scratch(&mut tally)?;
        if tally.matched().is_none() {
            // None matched: every version again, each read in full, for the closest one
            // and its differences. On a new scratch database: a migration may make
            // what dropping the first one's objects would leave (another schema).
            tally.restart_in_full();
            self.on_scratch(&mut tally)?;
        }
        Ok(tally)
    }

    /// Builds and compares the versions on a new scratch database, dropped however
    /// that ends.
    fn on_scratch(&self, tally: &mut Tally) -> Result<()> {
        let scratch = Scratch::create(&self.url, self.scratch_url.as_deref())?;
        tally.scratch.push(scratch.display_url());
        let compared = scratch
            .connect()
            .and_then(|mut bench| self.compare_each(&mut bench, tally));
        let removed = scratch.remove();
        compared?;
        removed
    }

    /// From the snapshot's version (where one fits) to head, then, if none of those
    /// matched, from base up to the snapshot's version.
    fn compare_each(&self, bench: &mut AnyConnection, tally: &mut Tally) -> Result<()> {
        let count = self.migrations.len();
        let start = match self.usable_snapshot(bench.backend())? {
            Some((text, covered)) => {
                let older =
                    Migrations::new(self.migrations.iter().take(covered).cloned().collect())?;
                // Built as a fresh database is, from the snapshot (SQLite's foreign keys
                // off while it loads), without the migration lock: nobody else knows the
                // scratch database.
                admin::with_foreign_keys_off(bench, |bench, check| {
                    Fresh {
                        migrations: &older,
                        snapshots: std::slice::from_ref(text),
                        hook: None,
                        check_foreign_keys: check,
                        migrator: Migrator::new(&older)
                            .checking_foreign_keys(check)
                            .atomic(true),
                    }
                    .build(bench, Left::AsBefore)
                })?;
                tally.snapshot = older.head().map(|m| m.version().to_owned());
                covered
            }
            None => 0,
        };
        self.walk(bench, tally, start, count)?;
        if start > 0 && tally.matched().is_none() {
            admin::drop_all(bench)?;
            self.walk(bench, tally, 0, start - 1)?;
        }
        Ok(())
    }

    /// Compares the scratch database, at version `from`, then builds it one migration at
    /// a time up to version `to`, comparing each: in one run of the migrator, which
    /// reads the ledger and takes the lock once, not once per migration.
    fn walk(
        &self,
        bench: &mut AnyConnection,
        tally: &mut Tally,
        from: usize,
        to: usize,
    ) -> Result<()> {
        tally.look(from, bench)?;
        if to <= from {
            return Ok(());
        }
        let Some(last) = to
            .checked_sub(1)
            .and_then(|i| self.migrations.iter().nth(i))
        else {
            return Ok(());
        };
        // As check builds them: every statement as written, nothing to skip on a
        // database that holds exactly the versions before it.
        let migrator = Migrator::new(self.migrations).guards(Guards::Off);
        let mut built = from;
        let mut looking_failed = false;
        let ran = migrator.migrate_observed(
            bench,
            &Target::Version(last.version().to_owned()),
            &mut |bench, _| {
                built += 1;
                let looked = tally.look(built, bench);
                looking_failed = looked.is_err();
                looked.map(ControlFlow::Continue)
            },
        );
        // The error itself, not the report of the migrations built before it.
        let error = match ran {
            Ok(_) => return Ok(()),
            Err(Error::Incomplete { source, .. }) => *source,
            Err(error) => error,
        };
        if looking_failed {
            return Err(error);
        }
        let migration = self.migrations.iter().nth(built).unwrap_or(last);
        Err(Error::AdoptionBuild {
            migration: migration.name().to_owned(),
            source: Box::new(error),
        })
    }

    /// The snapshot for `backend` that fits these migrations, and how many of them it
    /// stands for.
    fn usable_snapshot(&self, backend: Backend) -> Result<Option<(&String, usize)>> {
        for text in &self.snapshots {
            let snapshot = Snapshot::parse(text.as_str())?;
            if snapshot.backend() != backend {
                continue;
            }
            match snapshot.fit(self.migrations) {
                Fit::Current => return Ok(Some((text, self.migrations.len()))),
                Fit::Older { covered } => return Ok(Some((text, covered))),
                Fit::Mismatch { .. } => {}
            }
        }
        Ok(None)
    }
}
