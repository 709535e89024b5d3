//! Fleets: many databases (or PostgreSQL schemas) of one application migrated as one,
//! each exactly as a single run would migrate it.
//!
//! A [`Fleet`] is a list of [`Tenant`]s: database URLs given one by one, read from a
//! targets file (`targets.rs`), or the schemas of one PostgreSQL database that match a
//! glob (`schemas.rs`). Its runs take a bounded number of targets at a time
//! (`pool.rs`); each target gets its own connection and the same [`Migrator`] run, under
//! the same per-database lock, as `pelican migrate` on that URL, and the fleet returns
//! one [`FleetReport`] (`report.rs`). Nothing here is a second path through the
//! migrations: a fleet of one is a single run.
//!
//! ```no_run
//! use pelican::fleet::Fleet;
//! use pelican::{Migrations, Target};
//!
//! let migrations = Migrations::from_dir("migrations")?;
//! let fleet = Fleet::from_file("tenants.txt")?.jobs(8);
//! let report = fleet.migrate(&migrations, |migrator| migrator, &Target::Head, None);
//! for tenant in &report.tenants {
//!     println!("{}: {:?} -> {:?}", tenant.target, tenant.from, tenant.to);
//! }
//! # Ok::<(), pelican::Error>(())
//! ```

mod pool;
mod report;
mod schemas;
mod targets;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::sql_types::{Nullable, Text};

use crate::connection::Timeouts;
use crate::{connect_with_retry, AnyConnection, Boot, Migrations, Migrator, Report, Result};
use crate::{Error, Target};

pub use pool::Progress;
pub use report::{FleetReport, Tally, TenantOutcome, TenantReport};
pub use targets::Tenant;

/// Many targets migrated as one: see the [module](self).
#[derive(Debug, Clone)]
pub struct Fleet {
    tenants: Vec<Tenant>,
    jobs: usize,
    keep_going: bool,
    wait: Duration,
    timeouts: Timeouts,
}

impl Fleet {
    /// A fleet of these tenants, as many at a time as there are cores.
    pub fn new(tenants: Vec<Tenant>) -> Fleet {
        Fleet {
            tenants,
            jobs: pool::default_jobs(),
            keep_going: false,
            wait: Duration::ZERO,
            timeouts: Timeouts::default(),
        }
    }

    /// A fleet of the databases these URLs name.
    pub fn from_urls<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Fleet {
        Fleet::new(urls.into_iter().map(Tenant::database).collect())
    }

    /// A fleet of the databases a targets file lists: one URL a line, blank lines and
    /// lines starting with `#` left out, each `${VAR}` replaced by the environment's
    /// value ([`Error::FleetTargets`] names the line of a variable that is not set).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Fleet> {
        targets::read_file(path.as_ref()).map(Fleet::new)
    }

    /// A fleet of the schemas of the PostgreSQL database `url` names whose names match
    /// `pattern`, a glob (`*` any run of characters, `?` one; `_` and `%` are
    /// themselves), leaving out PostgreSQL's own: each schema a tenant with its own
    /// ledger, its migrations run with `search_path` set to it. Connects once to list
    /// them.
    pub fn from_schemas(url: &str, pattern: &str) -> Result<Fleet> {
        let mut conn = connect_with_retry(url, Duration::ZERO)?;
        schemas::tenants(&mut conn, url, pattern)
            .map(Fleet::new)
            .map_err(|error| error.redacted(url))
    }

    /// How many targets run at a time (at least one; the number of cores unless told).
    pub fn jobs(self, jobs: usize) -> Fleet {
        Fleet {
            jobs: jobs.max(1),
            ..self
        }
    }

    /// Whether the targets not started yet still start after one fails (off: after the
    /// first failure no new target starts, and those running finish).
    pub fn keep_going(self, keep_going: bool) -> Fleet {
        Fleet { keep_going, ..self }
    }

    /// How long each target's first connection is retried while its database does not
    /// answer (none unless told).
    pub fn wait(self, wait: Duration) -> Fleet {
        Fleet { wait, ..self }
    }

    /// The timeouts each target's session gets, as a single command's.
    pub fn timeouts(self, timeouts: Timeouts) -> Fleet {
        Fleet { timeouts, ..self }
    }

    /// The targets, in the order they run.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// Each target's applied and pending versions; changes nothing.
    pub fn status(&self, migrations: &Migrations, progress: Option<Progress<'_>>) -> FleetReport {
        self.each(migrations, progress, true, |_, _| Ok(None))
    }

    /// Migrates each target to `target`, with a [`Migrator`] for `migrations` that
    /// `setup` configures (guards, atomic, lock timeout…; `|m| m` for the defaults),
    /// calling `progress` as each target finishes.
    pub fn migrate<'m, F>(
        &self,
        migrations: &'m Migrations,
        setup: F,
        target: &Target,
        progress: Option<Progress<'_>>,
    ) -> FleetReport
    where
        F: Fn(Migrator<'m>) -> Migrator<'m> + Sync,
    {
        self.run(migrations, setup, progress, |migrator, conn| {
            migrator.migrate(conn, target)
        })
    }

    /// Reverts each target down to `target`, as [`migrate`](Fleet::migrate) migrates.
    pub fn downgrade<'m, F>(
        &self,
        migrations: &'m Migrations,
        setup: F,
        target: &Target,
        progress: Option<Progress<'_>>,
    ) -> FleetReport
    where
        F: Fn(Migrator<'m>) -> Migrator<'m> + Sync,
    {
        self.run(migrations, setup, progress, |migrator, conn| {
            migrator.downgrade(conn, target)
        })
    }

    /// Runs `run` with the migrator `setup` gives on each target.
    fn run<'m, F, R>(
        &self,
        migrations: &'m Migrations,
        setup: F,
        progress: Option<Progress<'_>>,
        run: R,
    ) -> FleetReport
    where
        F: Fn(Migrator<'m>) -> Migrator<'m> + Sync,
        R: Fn(Migrator<'m>, &mut AnyConnection) -> Result<Report> + Sync,
    {
        self.each(migrations, progress, false, |_, conn| {
            run(setup(Migrator::new(migrations)), conn).map(Some)
        })
    }

    /// Builds each target at head as `pelican init` does, through [`Boot`] set up by
    /// `setup` (snapshots, the seed hook with `initial_setup`, …): a fresh database
    /// (or schema) gets its schema at head in one build and is stamped head; one that
    /// is managed already is left as it is. The database of a database tenant is
    /// created if missing, and the schema of a schema tenant.
    ///
    /// ```no_run
    /// use diesel::connection::SimpleConnection;
    /// use pelican::fleet::{Fleet, Tenant};
    ///
    /// let migrations = pelican::Migrations::from_dir("migrations")?;
    /// let fleet = Fleet::new(vec![Tenant::schema("postgres://app@db/saas", "tenant_new")]);
    /// let report = fleet.init(
    ///     &migrations,
    ///     |boot| boot.initial_setup(|conn| conn.batch_execute("INSERT INTO plans (id) VALUES (1)")),
    ///     None,
    /// );
    /// assert!(report.is_ok());
    /// # Ok::<(), pelican::Error>(())
    /// ```
    pub fn init<'m, F>(
        &self,
        migrations: &'m Migrations,
        setup: F,
        progress: Option<Progress<'_>>,
    ) -> FleetReport
    where
        F: Fn(Boot<'m, AnyConnection>) -> Boot<'m, AnyConnection> + Sync,
    {
        let started = Instant::now();
        let reports = self.pool(progress).run(&self.tenants, |tenant| {
            let started = Instant::now();
            // Where it stood, when it exists (a database or schema to be made has no
            // ledger: `base`).
            let status = || {
                self.connect(tenant, true)
                    .and_then(|mut conn| Migrator::new(migrations).status(&mut conn))
            };
            let before = match crate::server::missing_sqlite_file(tenant.url()) {
                true => None,
                false => status().ok(),
            };
            let boot = setup(Boot::new(migrations)).lock_timeout(self.timeouts.lock);
            let built = match tenant.schema_name() {
                None => boot.run_url(tenant.url(), self.wait),
                Some(schema) => self.connect(tenant, false).and_then(|mut conn| {
                    create_schema(&mut conn, schema)?;
                    boot.run(&mut conn)
                }),
            };
            let after = status().ok();
            let mut report = self.report(tenant, before.as_ref(), after.as_ref(), started);
            match built {
                Ok(boot) => report.steps = boot.stamped + boot.steps.len(),
                Err(error) => {
                    report.outcome = TenantOutcome::Failed(error.redacted(tenant.url()));
                }
            }
            report
        });
        FleetReport {
            tenants: reports,
            duration: started.elapsed(),
        }
    }

    fn pool<'a>(&self, progress: Option<Progress<'a>>) -> pool::Pool<'a> {
        pool::Pool {
            jobs: self.jobs,
            keep_going: self.keep_going,
            progress,
        }
    }

    /// Runs `work` on each target's connection, between two readings of its ledger
    /// (`read_only`: it changes nothing, and no SQLite file is made for it).
    fn each<W>(
        &self,
        migrations: &Migrations,
        progress: Option<Progress<'_>>,
        read_only: bool,
        work: W,
    ) -> FleetReport
    where
        W: Fn(&Tenant, &mut AnyConnection) -> Result<Option<Report>> + Sync,
    {
        let started = Instant::now();
        let reports = self.pool(progress).run(&self.tenants, |tenant| {
            let started = Instant::now();
            // As `pelican status` reads: no SQLite file is made where there is none.
            let url = tenant.url();
            let conn = match read_only && crate::server::missing_sqlite_file(url) {
                true => AnyConnection::establish(":memory:"),
                false => self.connect(tenant, true),
            };
            let mut conn = match conn {
                Ok(conn) => conn,
                Err(error) => {
                    let mut report = self.report(tenant, None, None, started);
                    report.outcome = TenantOutcome::Failed(error.redacted(tenant.url()));
                    return report;
                }
            };
            let migrator = Migrator::new(migrations);
            let before = match migrator.status(&mut conn) {
                Ok(status) => status,
                Err(error) => {
                    let mut report = self.report(tenant, None, None, started);
                    report.outcome = TenantOutcome::Failed(error.redacted(tenant.url()));
                    return report;
                }
            };
            let ran = work(tenant, &mut conn);
            let after = match &ran {
                Ok(None) => Some(before.clone()),
                // Read again after a failure too: what committed before it stays.
                _ => migrator.status(&mut conn).ok(),
            };
            let mut report = self.report(tenant, Some(&before), after.as_ref(), started);
            match ran {
                Ok(Some(run)) => report.steps = run.steps.len(),
                Ok(None) => {}
                Err(error) => {
                    report.outcome = TenantOutcome::Failed(error.redacted(tenant.url()));
                }
            }
            report
        });
        FleetReport {
            tenants: reports,
            duration: started.elapsed(),
        }
    }

    /// A target's report, done, from its ledger read before and after the run (the
    /// steps counted as the versions that changed; a run's own count replaces it).
    fn report(
        &self,
        tenant: &Tenant,
        before: Option<&crate::Status>,
        after: Option<&crate::Status>,
        started: Instant,
    ) -> TenantReport {
        let applied = |status: &crate::Status| -> BTreeSet<String> {
            status
                .history
                .iter()
                .filter(|entry| entry.applied)
                .map(|entry| entry.version.clone())
                .collect()
        };
        let steps = match (before, after) {
            (Some(before), Some(after)) => applied(before)
                .symmetric_difference(&applied(after))
                .count(),
            _ => 0,
        };
        let current = |status: &crate::Status| status.current().map(|e| e.version.clone());
        TenantReport {
            target: tenant.label().to_owned(),
            schema: tenant.schema_name().map(str::to_owned),
            from: before.and_then(current),
            to: after.and_then(current),
            head: after.and_then(|s| s.head().map(|e| e.version.clone())),
            pending: after.map(|s| s.pending().count()),
            steps,
            duration: started.elapsed(),
            outcome: TenantOutcome::Done,
        }
    }

    /// A connection to the target, with the fleet's timeouts; a schema tenant's is
    /// checked to have the tenant's schema current (where `check_schema`), so that no
    /// ledger of another schema is read or written.
    fn connect(&self, tenant: &Tenant, check_schema: bool) -> Result<AnyConnection> {
        let mut conn = connect_with_retry(tenant.url(), self.wait)?;
        self.timeouts.apply(&mut conn)?;
        if let (Some(schema), true) = (tenant.schema_name(), check_schema) {
            let current = current_schema(&mut conn)?;
            if current.as_deref() != Some(schema) {
                return Err(Error::SchemaNotCurrent {
                    schema: schema.to_owned(),
                    current,
                });
            }
        }
        Ok(conn)
    }
}

#[derive(diesel::QueryableByName)]
struct CurrentSchema {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

fn current_schema(conn: &mut AnyConnection) -> Result<Option<String>> {
    let rows: Vec<CurrentSchema> = conn
        .load_with("SELECT current_schema()::text AS name", &[])
        .map_err(Error::query("cannot read the current schema"))?;
    Ok(rows.into_iter().next().and_then(|row| row.name))
}

/// Creates a schema tenant's schema where it is missing.
fn create_schema(conn: &mut AnyConnection, schema: &str) -> Result<()> {
    let sql = format!(
        "CREATE SCHEMA IF NOT EXISTS \"{}\"",
        schema.replace('"', "\"\"")
    );
    conn.execute_with(&sql, &[])
        .map(|_| ())
        .map_err(Error::query(format!("cannot create schema {schema}")))
}
