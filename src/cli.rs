//! The command line: clap definitions, and the rendering of reports as text or JSON.
//!
//! The library knows nothing of this module; it parses, calls [`Migrator`], and prints.
//! Results go to stdout, progress and warnings to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::guard::Action;
use crate::migrator::{HistoryEntry, Report, Status};
use crate::plan::Step;
use crate::{
    config, generate, AnyConnection, Error, Guards, Migrations, Migrator, Mode, Result, Target,
};

/// Schema management for Diesel applications: guarded migrations on SQLite, PostgreSQL
/// and MySQL/MariaDB, compatible with diesel CLI's folders and migrations table.
#[derive(Debug, Parser)]
#[command(name = "pelican", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The database URL: postgres://…, mysql://…, or a SQLite file path.
    ///
    /// When absent, DATABASE_URL is read from the environment, then from a .env file in
    /// the working directory or above. The password is never printed.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// The folder holding the migrations (diesel's layout).
    ///
    /// When absent: MIGRATION_DIRECTORY, then [migrations_directory] dir in diesel.toml,
    /// then a migrations/ folder in the working directory or above.
    #[arg(long, global = true, value_name = "DIR")]
    pub migration_dir: Option<PathBuf>,

    /// diesel CLI's configuration file (default: diesel.toml in the project root, or
    /// DIESEL_CONFIG_FILE).
    #[arg(long, global = true, value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// How results are printed on stdout: text for people, json for programs (one JSON
    /// document per command, errors included).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Print no progress on stderr, only results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
}

/// pelican's commands, as a clap subcommand group.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations up to TARGET (default: head).
    ///
    /// TARGET is head, +N (the next N pending), or a version (a unique prefix will do,
    /// with or without diesel's dashes). Migrations older than the newest applied one
    /// (merged from another branch) are applied too, and reported as out of order.
    /// Each migration runs in its own transaction with its record, unless its
    /// metadata.toml says run_in_transaction = false.
    #[command(visible_alias = "upgrade")]
    Migrate {
        /// Where to stop: head, +N, or a version.
        #[arg(allow_hyphen_values = true)]
        target: Option<String>,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Revert applied migrations down to TARGET.
    ///
    /// TARGET is -N (the newest N applied, by version), a version (it stays applied), or
    /// base (revert everything).
    Downgrade {
        /// Where to stop: -N, a version, or base.
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Revert the newest N applied migrations and apply them again.
    Redo {
        /// How many migrations to redo.
        #[arg(short = 'n', long = "number", default_value_t = 1)]
        n: usize,
        /// How the run goes.
        #[command(flatten)]
        run: RunArgs,
    },

    /// Show the newest applied migration, with "(head)" when nothing is pending.
    Current,

    /// List every migration, oldest first, applied ([X]) or pending ([ ]), with when it ran.
    History,

    /// Show the newest available migration.
    Heads,

    /// List the migrations not applied yet.
    Pending,

    /// Record TARGET as the applied state without running any SQL.
    ///
    /// The applied set becomes exactly the migrations up to TARGET (head, base, a
    /// version, or +N/-N from the current one). For adopting a database whose schema
    /// already matches, or repairing the record after a manual fix.
    Stamp {
        /// head, base, a version, +N or -N.
        #[arg(allow_hyphen_values = true)]
        target: String,
    },

    /// Create a new migration folder, YYYY-MM-DD-HHMMSS-XXXX_NAME, with up.sql and down.sql.
    ///
    /// The name is diesel 2.3's: the UTC time and a hex counter within the second.
    Generate {
        /// The migration's name: letters, digits and underscores.
        name: String,
    },
}

/// How `migrate`, `downgrade` and `redo` run.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Show the plan and touch nothing: each migration, each statement with RUN or SKIP
    /// and why. No statement runs; no ledger or journal row is written.
    #[arg(long)]
    pub dry_run: bool,

    /// Print only the SQL that would run, in order, ready for review; touch nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub sql: bool,

    /// Run every statement as written: no existence guards (explicit `-- pelican:`
    /// directives still apply).
    #[arg(long)]
    pub no_guards: bool,

    /// Fail instead of warning when a statement is skipped but what exists differs from
    /// what it would make (another column type, say).
    #[arg(long, conflicts_with = "no_guards")]
    pub strict_guards: bool,
}

impl RunArgs {
    fn apply<'m>(&self, migrator: Migrator<'m>) -> Migrator<'m> {
        let guards = if self.no_guards {
            Guards::Off
        } else if self.strict_guards {
            Guards::Strict
        } else {
            Guards::On
        };
        let mode = if self.dry_run || self.sql {
            Mode::DryRun
        } else {
            Mode::Apply
        };
        migrator.guards(guards).mode(mode)
    }
}

/// Runs the command line and returns the process's exit code: 0 done, 1 failed,
/// 2 usage.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.format;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = error.to_string();
            if format == Format::Json {
                print_json(&json!({ "error": message }));
            }
            eprintln!("error: {message}");
            ExitCode::from(if error.is_usage() { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    config::load_dotenv()?;
    let out = Output {
        format: cli.format,
        quiet: cli.quiet,
    };
    let dir = config::migration_dir(cli.migration_dir.as_deref(), cli.config_file.as_deref())?;
    if let Command::Generate { name } = &cli.command {
        let folder = generate::migration(&dir, name, chrono::Utc::now())?;
        return out.generated(&folder);
    }
    let migrations = Migrations::from_dir(&dir)?;
    let url = config::database_url(cli.database_url.as_deref())?;
    let mut conn = AnyConnection::establish(&url)?;
    let progress = |step: &Step<'_>| out.progress(step);
    let migrator = Migrator::new(&migrations).with_progress(&progress);
    match cli.command {
        Command::Migrate { target, run } => {
            let target = match target {
                Some(text) => text.parse()?,
                None => Target::Head,
            };
            let report = run.apply(migrator).migrate(&mut conn, &target)?;
            out.report("migrate", &report, &migrations, &run)
        }
        Command::Downgrade { target, run } => {
            let report = run.apply(migrator).downgrade(&mut conn, &target.parse()?)?;
            out.report("downgrade", &report, &migrations, &run)
        }
        Command::Redo { n, run } => {
            let report = run.apply(migrator).redo(&mut conn, n)?;
            out.report("redo", &report, &migrations, &run)
        }
        Command::Current => out.current(&migrator.status(&mut conn)?),
        Command::History => out.history(&migrator.status(&mut conn)?),
        Command::Heads => out.heads(&migrator.status(&mut conn)?),
        Command::Pending => out.pending(&migrator.status(&mut conn)?),
        Command::Stamp { target } => {
            let report = migrator.stamp(&mut conn, &target.parse()?)?;
            let status = migrator.status(&mut conn)?;
            if out.format == Format::Json {
                print_json(&json!({
                    "added": report.added,
                    "removed": report.removed,
                    "current": status.current().map(|e| &e.version),
                }));
            } else {
                let at = status.current().map_or("base".to_owned(), describe);
                println!(
                    "Stamped {at}: {} recorded, {} removed (no SQL run)",
                    report.added.len(),
                    report.removed.len()
                );
            }
            Ok(())
        }
        Command::Generate { .. } => Ok(()),
    }
    .map_err(|error| redact(error, &url))
}

/// Errors from the driver can quote the URL; none leaves with its password.
fn redact(error: Error, url: &str) -> Error {
    match error {
        Error::Query { context, source } => Error::Query {
            context: crate::backend::scrub(&context, url),
            source,
        },
        other => other,
    }
}

struct Output {
    format: Format,
    quiet: bool,
}

impl Output {
    fn progress(&self, step: &Step<'_>) {
        if self.quiet {
            return;
        }
        let verb = match step.direction {
            crate::Direction::Up => "Applying",
            crate::Direction::Down => "Reverting",
        };
        let note = if step.out_of_order {
            " (out of order)"
        } else {
            ""
        };
        eprintln!("{verb} {}{note}", step.migration.name());
    }

    fn warn_unknown(&self, status: &Status) {
        if !status.unknown.is_empty() {
            eprintln!(
                "warning: the database has applied migrations these migrations lack: {}",
                status.unknown.join(", ")
            );
        }
    }

    fn report(
        &self,
        command: &str,
        report: &Report,
        migrations: &Migrations,
        run: &RunArgs,
    ) -> Result<()> {
        let dry_run = run.dry_run || run.sql;
        for step in &report.steps {
            for warning in &step.warnings {
                eprintln!("warning: {}: {warning}", step.name);
            }
        }
        if self.format == Format::Json {
            print_json(&json!({
                "command": command,
                "dry_run": dry_run,
                "steps": report.steps,
                "current": report.current,
                "head": report.head,
                "pending": report.pending,
            }));
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        if run.sql {
            for step in &report.steps {
                let _ = writeln!(stdout, "-- {} ({})", step.name, step.direction);
                for statement in step.statements.iter().filter(|s| s.action == Action::Run) {
                    let _ = writeln!(stdout, "{};", statement.sql);
                }
                let _ = writeln!(stdout);
            }
            return Ok(());
        }
        if run.dry_run {
            for step in &report.steps {
                let note = if step.out_of_order {
                    " (out of order)"
                } else {
                    ""
                };
                let _ = writeln!(stdout, "{} {}{note}", step.direction, step.name);
                for statement in &step.statements {
                    let action = match statement.action {
                        Action::Run => "RUN ",
                        Action::Skip => "SKIP",
                    };
                    let _ = writeln!(
                        stdout,
                        "  {action} line {:<4} {:<50}  {}",
                        statement.line,
                        crate::migrator::first_line(&statement.sql),
                        statement.reason
                    );
                }
            }
            if report.steps.is_empty() {
                let _ = writeln!(stdout, "Nothing to do (dry run)");
            } else {
                let _ = writeln!(stdout, "Dry run: nothing was changed");
            }
            return Ok(());
        }
        for step in &report.steps {
            let verb = match step.direction {
                crate::Direction::Up => "Applied",
                crate::Direction::Down => "Reverted",
            };
            let note = if step.out_of_order {
                ", out of order"
            } else {
                ""
            };
            let skipped = match step.statements_skipped {
                0 => String::new(),
                n => format!(", {n} skipped"),
            };
            let _ = writeln!(
                stdout,
                "{verb} {} ({} statement(s){skipped}, {:.1} ms{note})",
                step.name, step.statements_run, step.duration_ms
            );
        }
        let at = match report.current.as_deref().and_then(|v| migrations.get(v)) {
            Some(m) => format!("{} {}", m.version(), m.description()),
            None => "base".to_owned(),
        };
        let mark = match report.pending {
            0 => " (head)".to_owned(),
            n => format!(" ({n} pending)"),
        };
        if report.steps.is_empty() {
            let _ = writeln!(stdout, "Nothing to do; the database is at {at}{mark}");
        } else {
            let _ = writeln!(stdout, "The database is at {at}{mark}");
        }
        Ok(())
    }

    fn current(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        let current = status.current();
        if self.format == Format::Json {
            print_json(&json!({
                "current": current.map(|e| &e.version),
                "name": current.and_then(|e| e.name.as_ref()),
                "head": status.head().map(|e| &e.version),
                "pending": status.pending().count(),
            }));
            return Ok(());
        }
        match current {
            Some(entry) => println!("{}{}", describe(entry), head_mark(status)),
            None => println!("base (no migration applied){}", head_mark(status)),
        }
        Ok(())
    }

    fn history(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        if self.format == Format::Json {
            print_json(&serde_json::to_value(&status.history).unwrap_or_default());
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "Migrations:");
        for entry in &status.history {
            let mark = if entry.applied { "[X]" } else { "[ ]" };
            let name = entry.name.as_deref().unwrap_or("(not in these migrations)");
            let _ = match entry.run_on {
                Some(run_on) => writeln!(
                    stdout,
                    "  {mark} {name}  {}",
                    run_on.format("%Y-%m-%d %H:%M:%S")
                ),
                None => writeln!(stdout, "  {mark} {name}"),
            };
        }
        Ok(())
    }

    fn heads(&self, status: &Status) -> Result<()> {
        let head = status.head();
        if self.format == Format::Json {
            let heads: Vec<_> = head
                .map(|e| json!({ "version": e.version, "name": e.name, "applied": e.applied }))
                .into_iter()
                .collect();
            print_json(&json!({ "heads": heads }));
            return Ok(());
        }
        match head {
            Some(entry) => println!("{} (head)", describe(entry)),
            None => println!("no migrations"),
        }
        Ok(())
    }

    fn pending(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        let pending: Vec<&HistoryEntry> = status.pending().collect();
        if self.format == Format::Json {
            let list: Vec<_> = pending
                .iter()
                .map(|e| json!({ "version": e.version, "name": e.name }))
                .collect();
            print_json(&json!({ "pending": list }));
            return Ok(());
        }
        if pending.is_empty() {
            println!("No pending migrations");
        }
        for entry in pending {
            println!("{}", describe(entry));
        }
        Ok(())
    }

    fn generated(&self, folder: &std::path::Path) -> Result<()> {
        if self.format == Format::Json {
            print_json(&json!({
                "path": folder.display().to_string(),
                "up": folder.join("up.sql").display().to_string(),
                "down": folder.join("down.sql").display().to_string(),
            }));
        } else {
            println!("Creating {}", folder.join("up.sql").display());
            println!("Creating {}", folder.join("down.sql").display());
        }
        Ok(())
    }
}

fn describe(entry: &HistoryEntry) -> String {
    match &entry.name {
        Some(name) => format!(
            "{} {}",
            entry.version,
            name.split_once('_').map_or("", |(_, n)| n)
        ),
        None => format!("{} (not in these migrations)", entry.version),
    }
}

fn head_mark(status: &Status) -> String {
    match status.pending().count() {
        0 if status.head().is_some() => " (head)".to_owned(),
        0 => String::new(),
        n => format!(" ({n} pending)"),
    }
}

fn print_json(value: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut stdout, value);
    let _ = writeln!(stdout);
}
