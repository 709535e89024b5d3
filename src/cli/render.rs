//! How the command line shows what happened: reports as lines for people or as one
//! JSON document, results on stdout, progress and warnings on stderr.

use super::out::{errln, out, outln, shown, shown_lines};
use std::io::Write;
use std::path::Path;

use anstyle::{AnsiColor, Style};

use super::{document, Format, Options, RunArgs};
use crate::boot::{BootAction, Build};
use crate::check::SnapshotState;
use crate::guard::Action;
use crate::migrator::{HistoryEntry, Progress, Report, StampReport, Status};
use crate::snapshot::Snapshot;
use crate::url_secret::redact_url;
use crate::{AdoptReport, BootReport, Migrations, Result};

/// The `error:` prefix on stderr.
pub(super) const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The `warning:` prefix on stderr.
pub(super) const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// The `hint:` prefix on stderr, under an error.
pub(super) const HINT: Style = AnsiColor::Cyan.on_default().bold();
/// `Applied` on stdout.
const APPLIED: Style = AnsiColor::Green.on_default().bold();
/// `Reverted` on stdout.
const REVERTED: Style = AnsiColor::Magenta.on_default().bold();

pub(super) struct Output {
    format: Format,
    quiet: bool,
    verbose: bool,
    /// The run's steps were printed as each finished: the report does not print them
    /// again.
    streamed: std::cell::Cell<bool>,
    /// On a terminal, the bar a run's progress shows on stderr.
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl Output {
    pub(super) fn stamped(&self, report: &StampReport, status: &Status) -> Result<()> {
        if self.format == Format::Json {
            document::print(&document::Stamp {
                command: "stamp",
                added: &report.added,
                removed: &report.removed,
                current: status.current().map(|e| e.version.as_str()),
            });
        } else {
            let at = status.current().map_or("base".to_owned(), describe);
            outln!(
                "Stamped {at}: {} recorded, {} removed (no SQL run)",
                report.added.len(),
                report.removed.len()
            );
        }
        Ok(())
    }

    pub(super) fn new(options: &Options) -> Output {
        Output {
            format: options.format,
            quiet: options.quiet,
            verbose: options.verbose,
            streamed: std::cell::Cell::new(false),
            bar: std::cell::RefCell::new(None),
        }
    }

    /// A spinner on stderr while `f` works, on a terminal and unless quiet: for the
    /// long quiet stretches of `init`, `check` and `snapshot`.
    pub(super) fn working<T>(&self, message: &str, f: impl FnOnce() -> T) -> T {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return f();
        }
        if !animated() {
            // A terminal that cannot redraw a line gets the message once.
            errln!("{message}…");
            return f();
        }
        let spinner = indicatif::ProgressBar::new_spinner().with_message(message.to_owned());
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        // A run inside (a fresh build migration by migration) turns it into its bar.
        *self.bar.borrow_mut() = Some(spinner);
        let value = f();
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        value
    }

    /// What `init`, `boot` or `reset` did. `created` is the URL of a database it created.
    pub(super) fn boot(
        &self,
        command: &str,
        created: Option<&str>,
        report: &BootReport,
        migrations: &Migrations,
    ) -> Result<()> {
        step_warnings(&report.steps);
        let pending_names: Vec<std::borrow::Cow<'_, str>> = report
            .pending
            .iter()
            .map(|v| shown(migrations.get(v).map_or(v.as_str(), |m| m.name())))
            .collect();
        if command == "boot" && report.action == BootAction::LeftPending {
            errln!(
                "{WARNING}warning:{WARNING:#} {} migration(s) pending and AUTO_MIGRATE is off, so the database \
                 was left as it is: {}; set AUTO_MIGRATE=1, or run migrate",
                report.pending.len(),
                pending_names.join(", ")
            );
        }
        if report.action == BootAction::Adopted && !report.pending.is_empty() {
            errln!(
                "{WARNING}warning:{WARNING:#} {} migration(s) newer than the version adopted are pending and \
                 AUTO_MIGRATE is off, so they were not applied: {}; set AUTO_MIGRATE=1, or run \
                 migrate",
                report.pending.len(),
                pending_names.join(", ")
            );
        }
        if self.format == Format::Json {
            document::print(&document::Reported {
                command,
                extra: document::Created {
                    created_database: created.is_some(),
                },
                report,
            });
            return Ok(());
        }
        if self.quiet {
            return Ok(());
        }
        // Coloured on a terminal (and as --color, NO_COLOR and CLICOLOR_FORCE say).
        let mut stdout = super::out::Stdout::lock();
        if let Some(url) = created {
            let _ = writeln!(stdout, "Created the database {}", redact_url(url));
        }
        if !report.recovered.is_empty() {
            let _ = writeln!(
                stdout,
                "Undid a fresh build left unfinished: dropped {} object(s) it made: {}",
                report.recovered.len(),
                report.recovered.join(", ")
            );
        }
        if !report.dropped.is_empty() {
            let _ = writeln!(stdout, "Dropped {} object(s)", report.dropped.len());
        }
        // Printed as each finished already, when they ran one by one.
        let steps = if self.streamed.get() {
            &[][..]
        } else {
            &report.steps[..]
        };
        for step in steps {
            let skipped = match step.statements_skipped {
                0 => String::new(),
                n => format!(", {n} skipped"),
            };
            let _ = writeln!(
                stdout,
                "{APPLIED}Applied{APPLIED:#} {} ({} statement(s){skipped}, {:.1} ms)",
                shown(&step.name),
                step.statements_run,
                step.duration_ms
            );
        }
        let at = match report.current.as_deref().and_then(|v| migrations.get(v)) {
            Some(m) => format!("{} {}", m.version(), shown(m.description())),
            None => "base".to_owned(),
        };
        let mark = match report.pending.len() {
            0 => " (head)".to_owned(),
            n => format!(" ({n} pending)"),
        };
        let setup = if report.initial_setup {
            ", initial setup run"
        } else {
            ""
        };
        let _ = match (report.action, report.build) {
            (BootAction::Initialized, Some(Build::Snapshot)) => writeln!(
                stdout,
                "Built the database at head from the snapshot of {}{}, stamped{setup} \
                 ({:.1} ms)\nThe database is at {at}{mark}",
                report.snapshot.as_deref().unwrap_or("head"),
                match migrations
                    .iter()
                    .filter(|m| report.snapshot.as_deref().is_some_and(|s| m.version() > s))
                    .count()
                {
                    0 => String::new(),
                    n => format!(" and {n} newer migration(s) in one batch"),
                },
                report.duration_ms
            ),
            (BootAction::Initialized, Some(Build::PerMigration)) => writeln!(
                stdout,
                "Built the database at head {}migration by migration{setup} ({:.1} ms)\n\
                 The database is at {at}{mark}",
                report
                    .snapshot
                    .as_deref()
                    .map_or(String::new(), |head| format!(
                        "from the snapshot of {head}, then "
                    )),
                report.duration_ms
            ),
            (BootAction::Initialized, _) => writeln!(
                stdout,
                "Built the database at head: {} migration(s) in one batch, stamped{setup} \
                 ({:.1} ms)\nThe database is at {at}{mark}",
                report.stamped, report.duration_ms
            ),
            (BootAction::UpToDate | BootAction::LeftPending, _) if command == "init" => {
                writeln!(
                    stdout,
                    "The database is already managed, at {at}{mark}; nothing changed"
                )
            }
            (BootAction::UpToDate, _) => {
                writeln!(stdout, "Nothing to do; the database is at {at}{mark}")
            }
            (BootAction::LeftPending, _) => writeln!(
                stdout,
                "The database is at {at}{mark}; AUTO_MIGRATE is off, nothing changed"
            ),
            (BootAction::Adopted, _) => {
                if let Some(adoption) = &report.adoption {
                    let _ = writeln!(stdout, "{}", adopted_line(adoption, migrations));
                }
                let applied = match report.steps.len() {
                    0 => String::new(),
                    n => format!("; then applied {n} newer migration(s)"),
                };
                writeln!(stdout, "The database is at {at}{mark}{applied}")
            }
            (BootAction::Migrated, _) => writeln!(stdout, "The database is at {at}{mark}"),
        };
        Ok(())
    }

    /// What `adopt` did.
    pub(super) fn adopted(&self, report: &AdoptReport, migrations: &Migrations) -> Result<()> {
        if self.format == Format::Json {
            document::print(&document::Reported {
                command: "adopt",
                extra: document::Nothing {},
                report,
            });
            return Ok(());
        }
        let mut stdout = super::out::Stdout::lock();
        let _ = writeln!(stdout, "{}", adopted_line(report, migrations));
        let at = version_text(report.version.as_deref(), migrations);
        let _ = match report.pending.len() {
            0 => writeln!(stdout, "The database is at {at} (head)"),
            n => writeln!(
                stdout,
                "The database is at {at} ({n} pending): migrate applies them"
            ),
        };
        Ok(())
    }

    /// What `reset --dry-run` found to drop.
    pub(super) fn reset_dry_run(
        &self,
        url: &str,
        objects: &[String],
        dependents: &[String],
        fate: &str,
    ) -> Result<()> {
        if self.format == Format::Json {
            document::print(&document::ResetDryRun {
                command: "reset",
                dry_run: true,
                would_drop: objects,
                dependents,
            });
            return Ok(());
        }
        let mut stdout = super::out::Stdout::lock();
        let _ = writeln!(
            stdout,
            "reset would drop {} object(s) in {}, then build the database at head:",
            objects.len(),
            redact_url(url)
        );
        for object in objects {
            let _ = writeln!(stdout, "  {object}");
        }
        if !dependents.is_empty() {
            let _ = writeln!(
                stdout,
                "and {} object(s) outside it depend on what it drops ({fate}); reset \
                 refuses unless given --cascade:",
                dependents.len()
            );
            for object in dependents {
                let _ = writeln!(stdout, "  {object}");
            }
        }
        let _ = writeln!(stdout, "Dry run: nothing was changed");
        Ok(())
    }

    /// Where a run is: on a terminal a bar on stderr (`[3/12] Applying NAME`), else a
    /// line on stderr as each step starts; each step's result on stdout as it finishes
    /// (with its statements under `-v`). Nothing under `-q`.
    pub(super) fn progress(&self, event: Progress<'_>) {
        if self.quiet {
            return;
        }
        match event {
            Progress::Starting { step, index, total } => {
                let verb = match step.direction {
                    crate::Direction::Up => "Applying",
                    crate::Direction::Down => "Reverting",
                };
                let note = if step.out_of_order {
                    " (out of order)"
                } else {
                    ""
                };
                let what = format!("{verb} {}{note}", shown(step.migration.name()));
                let mut bar = self.bar.borrow_mut();
                if bar.is_none() && animated() {
                    let new = indicatif::ProgressBar::new(total as u64);
                    new.enable_steady_tick(std::time::Duration::from_millis(120));
                    *bar = Some(new);
                }
                match bar.as_ref() {
                    Some(bar) => {
                        if index == 0 {
                            let style = indicatif::ProgressStyle::with_template(
                                "{spinner} [{pos}/{len}] {msg} {elapsed}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
                            bar.set_style(style);
                            bar.set_length(total as u64);
                        }
                        bar.set_position(index as u64);
                        bar.set_message(what);
                    }
                    None => errln!("[{}/{total}] {what}", index + 1),
                }
            }
            Progress::Done { step, index, .. } => {
                if self.format == Format::Json {
                    return;
                }
                self.streamed.set(true);
                let mut text = step_line(step);
                if self.verbose {
                    text.push_str(&statement_lines(step));
                }
                let print = || {
                    let _ = writeln!(super::out::Stdout::lock(), "{text}");
                };
                let bar = self.bar.borrow();
                match bar.as_ref() {
                    Some(bar) => {
                        bar.suspend(print);
                        bar.set_position(index as u64 + 1);
                    }
                    None => print(),
                }
            }
        }
    }

    pub(super) fn warn_unknown(&self, status: &Status) {
        if !status.unknown.is_empty() {
            errln!(
                "{WARNING}warning:{WARNING:#} the database has applied migrations these migrations lack: {}",
                shown(&status.unknown.join(", "))
            );
        }
    }

    pub(super) fn report(
        &self,
        command: &str,
        report: &Report,
        migrations: &Migrations,
        run: &RunArgs,
        backend: crate::Backend,
    ) -> Result<()> {
        let dry_run = run.dry_run || run.sql;
        step_warnings(&report.steps);
        for warning in &report.warnings {
            errln!("{WARNING}warning:{WARNING:#} {}", shown_lines(warning));
        }
        if self.format == Format::Json {
            document::print(&document::Run::new(command, report, dry_run));
            return Ok(());
        }
        let mut stdout = super::out::Stdout::lock();
        if run.sql {
            let _ = write!(stdout, "{}", crate::script::render(report, backend)?);
            return Ok(());
        }
        if run.dry_run {
            for step in &report.steps {
                let note = if step.out_of_order {
                    " (out of order)"
                } else {
                    ""
                };
                let _ = writeln!(stdout, "{} {}{note}", step.direction, shown(&step.name));
                for statement in &step.statements {
                    let action = match statement.action {
                        Action::Run => "RUN ",
                        Action::Skip => "SKIP",
                        Action::NotTried => "NOT TRIED",
                    };
                    let _ = writeln!(
                        stdout,
                        "  {action} line {:<4} {:<50}  {}",
                        statement.line,
                        shown(&crate::migrator::first_line(&statement.sql)),
                        shown(&statement.reason)
                    );
                }
            }
            if report.steps.is_empty() {
                let _ = writeln!(stdout, "Nothing to do (dry run)");
            } else if report.predicted {
                let _ = writeln!(
                    stdout,
                    "Dry run: nothing was changed. MySQL/MariaDB cannot roll DDL back, so \
                     this is a prediction from the schema as it stands"
                );
            } else {
                let not_tried = report
                    .steps
                    .iter()
                    .flat_map(|s| &s.statements)
                    .any(|s| s.action == Action::NotTried);
                let which = if not_tried {
                    "every statement above but those NOT TRIED"
                } else {
                    "every statement above"
                };
                let changed = if report.warnings.is_empty() {
                    "nothing was changed"
                } else {
                    "nothing was changed but what the warnings above name"
                };
                let _ = writeln!(
                    stdout,
                    "Dry run: {which} ran in a transaction that was rolled back; {changed}"
                );
            }
            return Ok(());
        }
        drop(stdout);
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return Ok(());
        }
        // Coloured on a terminal (and as --color, NO_COLOR and CLICOLOR_FORCE say).
        let mut stdout = super::out::Stdout::lock();
        if !self.streamed.get() {
            for step in &report.steps {
                let _ = writeln!(stdout, "{}", step_line(step));
                if self.verbose {
                    let _ = writeln!(stdout, "{}", statement_lines(step).trim_start_matches('\n'));
                }
            }
        }
        // Where an atomic run committed: worth a line when it was more than once.
        if report.atomic && (report.commits.len() > 1 || self.verbose) {
            for commit in &report.commits {
                let _ = writeln!(
                    stdout,
                    "Committed after {}: {}",
                    commit.after, commit.reason
                );
            }
        }
        let at = match report.current.as_deref().and_then(|v| migrations.get(v)) {
            Some(m) => format!("{} {}", m.version(), shown(m.description())),
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

    pub(super) fn current(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        let current = status.current();
        if self.format == Format::Json {
            document::print(&document::Current {
                command: "current",
                current: current.map(|e| e.version.as_str()),
                name: current.and_then(|e| e.name.as_deref()),
                head: status.head().map(|e| e.version.as_str()),
                pending: status.pending().count(),
            });
            return Ok(());
        }
        match current {
            Some(entry) => outln!("{}{}", describe(entry), head_mark(status)),
            None => outln!("base (no migration applied){}", head_mark(status)),
        }
        Ok(())
    }

    pub(super) fn history(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        if self.format == Format::Json {
            document::print(&document::History {
                command: "history",
                history: &status.history,
            });
            return Ok(());
        }
        let mut stdout = super::out::Stdout::lock();
        let _ = writeln!(stdout, "Migrations:");
        for entry in &status.history {
            let mark = if entry.applied { "[X]" } else { "[ ]" };
            let name = shown(entry.name.as_deref().unwrap_or("(not in these migrations)"));
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

    pub(super) fn heads(&self, status: &Status) -> Result<()> {
        let head = status.head();
        if self.format == Format::Json {
            let heads = head
                .map(|e| document::Named {
                    version: &e.version,
                    name: e.name.as_deref(),
                    applied: Some(e.applied),
                })
                .into_iter()
                .collect();
            document::print(&document::Heads {
                command: "heads",
                heads,
            });
            return Ok(());
        }
        match head {
            Some(entry) => outln!("{} (head)", describe(entry)),
            None => outln!("no migrations"),
        }
        Ok(())
    }

    pub(super) fn pending(&self, status: &Status) -> Result<()> {
        self.warn_unknown(status);
        let pending: Vec<&HistoryEntry> = status.pending().collect();
        if self.format == Format::Json {
            let pending = pending
                .iter()
                .map(|e| document::Named {
                    version: &e.version,
                    name: e.name.as_deref(),
                    applied: None,
                })
                .collect();
            document::print(&document::Pending {
                command: "pending",
                pending,
            });
            return Ok(());
        }
        if pending.is_empty() {
            outln!("No pending migrations");
        }
        for entry in pending {
            outln!("{}", describe(entry));
        }
        Ok(())
    }

    pub(super) fn generated(&self, folder: &std::path::Path) -> Result<()> {
        if self.format == Format::Json {
            document::print(&document::Generated {
                command: "generate",
                path: folder.display().to_string(),
                up: folder.join("up.sql").display().to_string(),
                down: folder.join("down.sql").display().to_string(),
            });
        } else {
            outln!("Creating {}", folder.join("up.sql").display());
            outln!("Creating {}", folder.join("down.sql").display());
        }
        Ok(())
    }
}

/// `check` and `snapshot`.
impl Output {
    pub(super) fn check(&self, report: &crate::CheckReport) -> Result<()> {
        if self.format == Format::Json {
            document::print(&document::Reported {
                command: "check",
                extra: document::Verdict { ok: report.ok() },
                report,
            });
            return Ok(());
        }
        for note in &report.notes {
            errln!("note: {}", shown_lines(note));
        }
        let mut stdout = super::out::Stdout::lock();
        let _ = writeln!(
            stdout,
            "Checksums: {} of {} applied migration(s) compared",
            report.checksums, report.applied
        );
        let _ = writeln!(
            stdout,
            "Round trip: {} of {} migration(s) up, down and up again on a scratch database",
            report.round_trip, report.migrations
        );
        let _ = writeln!(
            stdout,
            "Drift: {}",
            if report.drift_checked {
                "the database compared with what its migrations build"
            } else {
                "not checked"
            }
        );
        for snapshot in &report.snapshots {
            let how = match (snapshot.state, snapshot.built) {
                (SnapshotState::Current, true) => "current, and builds what the migrations build",
                (SnapshotState::Current, false) => "current (built only on its own backend)",
                (SnapshotState::Stale, _) => "stale",
                _ => "does not match the migrations",
            };
            let _ = writeln!(
                stdout,
                "Snapshot {} ({}, head {}): {how}",
                snapshot.snapshot, snapshot.backend, snapshot.head
            );
        }
        if report.ok() {
            let _ = writeln!(
                stdout,
                "OK: no problems found ({:.1} s)",
                report.duration_ms / 1000.0
            );
        } else {
            let _ = writeln!(
                stdout,
                "FAILED: {} problem(s) ({:.1} s)",
                report.findings.len(),
                report.duration_ms / 1000.0
            );
            for finding in &report.findings {
                let _ = writeln!(stdout, "  - {}", shown_lines(&finding.to_string()));
            }
        }
        Ok(())
    }

    pub(super) fn snapshot(&self, snapshot: &Snapshot, target: &Path) -> Result<()> {
        let to_stdout = target.as_os_str() == "-";
        if self.format == Format::Json {
            document::print(&document::SnapshotWritten {
                command: "snapshot",
                backend: snapshot.backend(),
                head: snapshot.head(),
                migrations: snapshot.migrations(),
                path: (!to_stdout).then(|| target.display().to_string()),
                bytes: snapshot.sql().len(),
                sql: to_stdout.then(|| snapshot.sql()),
            });
            return Ok(());
        }
        if to_stdout {
            out!("{}", snapshot.sql());
            return Ok(());
        }
        outln!(
            "Wrote {}: the {} schema at {} ({} migration(s), {} bytes)",
            target.display(),
            snapshot.backend(),
            snapshot.head(),
            snapshot.migrations(),
            snapshot.sql().len()
        );
        Ok(())
    }
}

/// Whether stderr is a terminal that can show an animated bar: not `TERM=dumb` (an
/// editor's shell, a CI log), nor one that `-v` prints spans on, which get plain lines
/// instead.
fn animated() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
        && !super::traces::printing()
}

/// A version with its migration's description, or `base`.
fn version_text(version: Option<&str>, migrations: &Migrations) -> String {
    match version {
        Some(version) => match migrations.get(version) {
            Some(m) => format!("{} {}", m.version(), shown(m.description())),
            None => version.to_owned(),
        },
        None => "base".to_owned(),
    }
}

/// How an adoption found its version, in a sentence.
fn adopted_line(report: &AdoptReport, migrations: &Migrations) -> String {
    let from = report.snapshot.as_deref().map_or(String::new(), |head| {
        format!(", from the snapshot of {head}")
    });
    let same = match report.same_schema.len() {
        0 => String::new(),
        n => format!(
            "; {n} older version(s) have the same schema ({}), recorded with it",
            shown(&report.same_schema.join(", "))
        ),
    };
    format!(
        "Adopted the database at {}: its schema is the one the migrations build there \
         ({} version(s) compared on a scratch database{from}; none of the history ran on the \
         database); {} version(s) recorded as applied{same} ({:.1} ms)",
        version_text(report.version.as_deref(), migrations),
        report.compared,
        report.stamped,
        report.duration_ms
    )
}

fn describe(entry: &HistoryEntry) -> String {
    match &entry.name {
        Some(name) => format!(
            "{} {}",
            entry.version,
            shown(name.split_once('_').map_or("", |(_, n)| n))
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

/// The warnings of a run's steps (a skipped statement whose object differs from what it
/// would make), on stderr: every command that runs migrations says them, diesel's
/// included.
pub(super) fn step_warnings(steps: &[crate::migrator::StepReport]) {
    for step in steps {
        for warning in &step.warnings {
            errln!(
                "{WARNING}warning:{WARNING:#} {}: {}",
                shown(&step.name),
                shown_lines(warning)
            );
        }
    }
}

/// A step's statements with what guards decided, one line each, for `-v`: each line
/// starts with a newline, so the text follows the step's line.
fn statement_lines(step: &crate::migrator::StepReport) -> String {
    let mut text = String::new();
    for statement in &step.statements {
        let action = match statement.action {
            Action::Run => "RUN ",
            Action::Skip => "SKIP",
            Action::NotTried => "NOT TRIED",
        };
        text.push_str(&format!(
            "\n  {action} line {:<4} {:<50}  {}",
            statement.line,
            shown(&crate::migrator::first_line(&statement.sql)),
            shown(&statement.reason)
        ));
    }
    text
}

/// One line of a run's text output: `Applied NAME (2 statement(s), 1 skipped, 3.1 ms)`,
/// its first word styled (for an `anstream` stream, which drops the style off a
/// terminal).
pub(super) fn step_line(step: &crate::migrator::StepReport) -> String {
    let verb = match step.direction {
        crate::Direction::Up => format!("{APPLIED}Applied{APPLIED:#}"),
        crate::Direction::Down => format!("{REVERTED}Reverted{REVERTED:#}"),
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
    format!(
        "{verb} {} ({} statement(s){skipped}, {:.1} ms{note})",
        shown(&step.name),
        step.statements_run,
        step.duration_ms
    )
}
