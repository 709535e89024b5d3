//! What a command runs with ([`Context`]): the options, the database's URL, the
//! migrations, the snapshots, the output; and [`execute`], which gives it one, for the
//! binary and the mounted group alike.

use std::path::PathBuf;

use super::commands::Command;
use super::out::{self, errln};
use super::render::{Output, WARNING};
use super::{schema, Options, Outcome};
use crate::config::{self, DieselToml};
use crate::snapshot::Snapshot;
use crate::BoxError;
use crate::{AnyConnection, Boot, Migrations, Migrator, Progress, Result};

/// The initial setup hook, as the command line holds it.
pub(super) type Hook<'a> =
    Box<dyn FnOnce(&mut AnyConnection) -> std::result::Result<(), BoxError> + 'a>;

/// Where a command finds schema snapshots (the migrations folder, and the texts an
/// application embeds), and the diesel.toml whose schema files it keeps up to date.
pub(super) struct Snapshots {
    pub(super) dir: Option<PathBuf>,
    pub(super) embedded: Vec<String>,
    pub(super) config_file: Option<PathBuf>,
}

impl Snapshots {
    /// The texts `init`, `boot` and `reset` may build from: the folder's file for this
    /// backend, and every embedded one (`Boot` picks the backend's).
    fn for_boot(&self, url: &str) -> Result<Vec<String>> {
        let backend = crate::Backend::from_url(url)?;
        let mut texts = self.embedded.clone();
        if let Some(dir) = &self.dir {
            if let Some(snapshot) = Snapshot::find(dir, backend)? {
                texts.push(snapshot.sql().to_owned());
            }
        }
        Ok(texts)
    }

    /// Every snapshot there is, of every backend, for `check`.
    pub(super) fn all(&self) -> Result<Vec<Snapshot>> {
        let mut all = Vec::new();
        if let Some(dir) = &self.dir {
            for backend in crate::Backend::ALL {
                all.extend(Snapshot::find(dir, backend)?);
            }
        }
        for text in &self.embedded {
            // During development the folder holds the same files the binary embeds.
            if !all.iter().any(|s| s.sql() == text) {
                all.push(Snapshot::parse(text.as_str())?);
            }
        }
        Ok(all)
    }

    /// The migrations folder: the command line's, else the one found as diesel CLI
    /// finds it.
    pub(super) fn migration_dir(&self) -> Result<PathBuf> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => config::migration_dir(None, None),
        }
    }

    /// Where `snapshot` writes: `--output`, else the migrations folder.
    pub(super) fn target(
        &self,
        output: Option<PathBuf>,
        backend: crate::Backend,
    ) -> Result<PathBuf> {
        match output {
            Some(path) => Ok(path),
            None => self
                .migration_dir()
                .map(|dir| Snapshot::path(&dir, backend)),
        }
    }
}

/// What a command runs with, and the steps several commands share.
pub(super) struct Context<'a> {
    /// The options every command takes.
    pub(super) options: &'a Options,
    /// The database's URL.
    pub(super) url: &'a str,
    /// The migrations.
    pub(super) migrations: &'a Migrations,
    /// Where the snapshots and diesel.toml are.
    pub(super) snapshots: &'a Snapshots,
    /// Where results and progress go.
    pub(super) out: &'a Output,
    progress: &'a dyn Fn(Progress<'_>),
    initial_setup: Option<Hook<'a>>,
}

impl<'a> Context<'a> {
    /// Connects to the database, retrying for up to `--wait`, with the command's
    /// timeouts set on the session.
    pub(super) fn connect(&self) -> Result<AnyConnection> {
        self.options.connect(self.url)
    }

    /// Connects for a command that only reads the database (`current`, `history`,
    /// `heads`, `pending`, and `migrate`, `downgrade` or `redo` with `--dry-run` or
    /// `--sql`): such a command creates no SQLite file that does not exist, where diesel
    /// CLI's `migration list` creates the file and its migrations table.
    pub(super) fn connect_to_read(&self) -> Result<AnyConnection> {
        if crate::server::missing_sqlite_file(self.url) {
            // Nothing to read: the answer is an empty database's, and no file is made.
            AnyConnection::establish(":memory:")
        } else {
            self.connect()
        }
    }

    /// The migrator, printing progress unless the run is a `rehearsal` (a dry run
    /// prints its plan at the end, and `--sql` a script: no progress, and no step
    /// printed as if it had been applied).
    pub(super) fn migrator(&self, rehearsal: bool) -> Migrator<'a> {
        let migrator = Migrator::new(self.migrations).lock_timeout(self.options.lock_timeout);
        if rehearsal {
            migrator
        } else {
            migrator.with_progress(self.progress)
        }
    }

    /// The snapshot texts `init`, `boot`, `reset` and `adopt` may build from.
    pub(super) fn snapshot_texts(&self) -> Result<Vec<String>> {
        self.snapshots.for_boot(self.url)
    }

    /// The boot flow, building from `snapshot_texts`, printing progress, with the
    /// application's initial setup hook (there is one hook: only the first call gets it).
    pub(super) fn boot(&mut self, snapshot_texts: &[String]) -> Boot<'a, AnyConnection> {
        let boot = Boot::new(self.migrations)
            .lock_timeout(self.options.lock_timeout)
            .with_progress(self.progress);
        let boot = snapshot_texts
            .iter()
            .fold(boot, |boot, text| boot.snapshot(text.as_str()));
        match self.initial_setup.take() {
            Some(hook) => boot.initial_setup(hook),
            None => boot,
        }
    }

    /// diesel.toml's schema files, for a command that changes the schema: read before
    /// it runs, so that one that does not parse is refused before anything runs.
    pub(super) fn diesel_toml(&self) -> Result<DieselToml> {
        DieselToml::find(self.snapshots.config_file.as_deref())
    }

    /// Writes diesel.toml's schema files again after the schema changed, saying which
    /// it wrote (see [`schema::regenerate`]); nothing without a `toml`.
    pub(super) fn regenerate(&self, toml: Option<&DieselToml>) -> Result<()> {
        if let Some(toml) = toml {
            for path in schema::regenerate(self.options, toml, self.url)? {
                if !self.options.quiet {
                    errln!("Wrote {}", path.display());
                }
            }
        }
        Ok(())
    }
}

/// Runs one command against the database, for the binary and the mounted group alike.
pub(super) fn execute(
    options: &Options,
    command: &Command,
    migrations: &Migrations,
    initial_setup: Option<Hook<'_>>,
    snapshots: &Snapshots,
) -> Result<Outcome> {
    for warning in migrations.warnings() {
        errln!(
            "{WARNING}warning:{WARNING:#} {}",
            out::shown_lines(&warning.to_string())
        );
    }
    // A fleet has many URLs, and prints from several threads: it needs neither.
    if let Command::Fleet(fleet) = command {
        return fleet.run_fleet(options, migrations, snapshots);
    }
    let url = options.url()?;
    let out = Output::new(options);
    let progress = |event: Progress<'_>| out.progress(event);
    let ctx = Context {
        options,
        url: &url,
        migrations,
        snapshots,
        out: &out,
        progress: &progress,
        initial_setup,
    };
    command
        .handler()
        .run(ctx)
        // Errors from the driver can quote the URL; none leaves with its password.
        .map_err(|e| e.redacted(&url))
}
