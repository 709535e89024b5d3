//! The round trip on one scratch database: each migration's up.sql, down.sql and up.sql
//! again, one after another, in as few runs of the migrator as it can.
//!
//! A run of the migrator reads the whole ledger, verifies every applied migration's
//! checksum and, on SQLite, reads every foreign-key violation before its first step:
//! a run per step would cost O(N) per step, O(N²) per check. So the steps of many
//! migrations are one run's plan, `[up(m1), down(m1), up(m1), up(m2), …]`, one
//! migration per transaction (never an atomic run: each step commits on its own), and
//! the state is read and compared after each step has committed, by the run's
//! observer. A state that differs ends the run there; a step that fails ends it too.
//! Either way the caller goes on at the next migration on a fresh scratch database.
//!
//! What each step runs and records is what a run of its own would: the same
//! statements, ledger rows and journal entries, and on SQLite the same foreign-key
//! rule (each migration checked against the violations there before it ran).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use super::state::{named, State};
use super::{Finding, RoundTripStep};
use crate::catalog::Reader;
use crate::migrator::{whole_files, StepReport};
use crate::plan::Step;
use crate::source::Direction;
use crate::{AnyConnection, Backend, Database, Error, Migration, Migrator, Result};

/// How one migration's round trip went.
pub(super) enum Leg {
    /// Up, down, up again, each as it should: the state after up.
    Passed(State),
    /// Up only (no down.sql): the state after it.
    NoDown(State),
}

/// A round trip that failed, which ends the trip on its scratch database.
pub(super) struct Failure {
    /// The migration's index.
    pub(super) index: usize,
    /// What failed.
    pub(super) finding: Finding,
    /// The state after the migration's first up.sql, if it ran.
    pub(super) after: Option<State>,
}

/// Where the current migration's round trip stands: the step it waits for next.
enum Phase<'m> {
    /// Its up.sql.
    Up,
    /// Its down.sql (`down`), after up.sql left `after`.
    Down { after: State, down: &'m str },
    /// Its up.sql again, after up.sql left `after` and down.sql left `undone`.
    UpAgain { after: State, undone: State },
}

impl Phase<'_> {
    fn step(&self) -> RoundTripStep {
        match self {
            Phase::Up => RoundTripStep::Up,
            Phase::Down { .. } => RoundTripStep::Down,
            Phase::UpAgain { .. } => RoundTripStep::UpAgain,
        }
    }
}

/// The round trip on one scratch database, from one migration on.
pub(super) struct Walk<'w, 'm> {
    /// Every migration, in order.
    all: &'w [&'m Migration],
    /// The migration under way.
    index: usize,
    /// The state before it.
    before: State,
    phase: Phase<'m>,
    /// The round trip that failed after a step that did not: it ended the run.
    failure: Option<Failure>,
    /// The observer itself failed (reading a state): the run's error is its error.
    observer_failed: bool,
}

impl<'w, 'm> Walk<'w, 'm> {
    /// A walk from the migration at `first`, on a database whose state is `before`.
    pub(super) fn new(all: &'w [&'m Migration], first: usize, before: State) -> Self {
        Walk {
            all,
            index: first,
            before,
            phase: Phase::Up,
            failure: None,
            observer_failed: false,
        }
    }

    /// Takes the round trips from where the walk stands until one fails (returned)
    /// or the last migration's has passed, calling `passed` with each migration's
    /// index and its [`Leg`] as soon as it is done.
    ///
    /// One run of `migrator` (guards off; the run is never atomic) takes every step,
    /// unless a file ends inside a comment, a string or a quote: the migrator refuses
    /// such a file before a run starts, so the run before it stops short of it and it
    /// is the first step of a run of its own, which fails on it as a run of that one
    /// step would.
    pub(super) fn run(
        &mut self,
        migrator: &Migrator<'m>,
        conn: &mut AnyConnection,
        reader: &mut Reader,
        passed: &mut dyn FnMut(usize, &Leg),
    ) -> Result<Option<Failure>> {
        let backend = conn.backend();
        while self.index < self.all.len() {
            let (all, first, next) = (self.all, self.index, self.phase.step());
            let ran = migrator.run_steps_observed(
                conn,
                |applied, _| Ok(plan(applied, all, first, next, backend)),
                &mut |conn, done| {
                    let seen = self.observe(conn, reader, passed, done);
                    self.observer_failed = seen.is_err();
                    seen
                },
            );
            if let Some(failure) = self.failure.take() {
                return Ok(Some(failure));
            }
            match ran {
                Err(error) if self.observer_failed => {
                    return Err(match error {
                        Error::Incomplete { source, .. } => *source,
                        error => error,
                    })
                }
                // The step after the last one observed: its run failed.
                Err(error) => return Ok(Some(self.failed(error.to_string()))),
                Ok(report) if report.steps.is_empty() => {
                    // Never so: a plan is never empty, and a run that takes no step
                    // fails. Said rather than looped on.
                    return Ok(Some(
                        self.failed("the migrator took none of the steps planned".to_owned()),
                    ));
                }
                Ok(_) => {}
            }
        }
        Ok(None)
    }

    /// After a step committed: the state read and compared, the walk moved on.
    fn observe(
        &mut self,
        conn: &mut AnyConnection,
        reader: &mut Reader,
        passed: &mut dyn FnMut(usize, &Leg),
        _done: &StepReport,
    ) -> Result<ControlFlow<()>> {
        let Some(&migration) = self.all.get(self.index) else {
            return Ok(ControlFlow::Break(()));
        };
        let differs = |step, changes| Finding::RoundTrip {
            migration: migration.name().to_owned(),
            step,
            changes,
        };
        let leg = match std::mem::replace(&mut self.phase, Phase::Up) {
            Phase::Up => {
                let after = State::read_after(conn, reader, &self.before, migration.up())
                    .map_err(|e| named(e, migration, RoundTripStep::Up))?;
                let Some(down) = migration.down() else {
                    return Ok(self.passed(passed, Leg::NoDown(after)));
                };
                self.phase = Phase::Down { after, down };
                return Ok(ControlFlow::Continue(()));
            }
            Phase::Down { after, down } => {
                let undone = State::read_after(conn, reader, &after, down)
                    .map_err(|e| named(e, migration, RoundTripStep::Down))?;
                let changes = undone.changes_from(&self.before);
                if !changes.is_empty() {
                    return Ok(self.fail(differs(RoundTripStep::Down, changes), Some(after)));
                }
                self.phase = Phase::UpAgain { after, undone };
                return Ok(ControlFlow::Continue(()));
            }
            Phase::UpAgain { after, undone } => {
                let changes = State::read_after(conn, reader, &undone, migration.up())
                    .map_err(|e| named(e, migration, RoundTripStep::UpAgain))?
                    .changes_from(&after);
                if !changes.is_empty() {
                    return Ok(self.fail(differs(RoundTripStep::UpAgain, changes), Some(after)));
                }
                Leg::Passed(after)
            }
        };
        Ok(self.passed(passed, leg))
    }

    /// The current migration's round trip passed (or had no down.sql): on to the next.
    fn passed(&mut self, passed: &mut dyn FnMut(usize, &Leg), leg: Leg) -> ControlFlow<()> {
        passed(self.index, &leg);
        let (Leg::Passed(after) | Leg::NoDown(after)) = leg;
        self.before = after;
        self.index += 1;
        ControlFlow::Continue(())
    }

    /// The current migration's round trip found a difference: the run ends here.
    fn fail(&mut self, finding: Finding, after: Option<State>) -> ControlFlow<()> {
        self.failure = Some(Failure {
            index: self.index,
            finding,
            after,
        });
        ControlFlow::Break(())
    }

    /// The failure of the step the walk waits for, which did not run to its commit.
    fn failed(&mut self, message: String) -> Failure {
        let step = self.phase.step();
        let after = match std::mem::replace(&mut self.phase, Phase::Up) {
            Phase::Up => None,
            Phase::Down { after, .. } | Phase::UpAgain { after, .. } => Some(after),
        };
        let migration = self
            .all
            .get(self.index)
            .map(|m| m.name().to_owned())
            .unwrap_or_default();
        Failure {
            index: self.index,
            finding: Finding::RoundTripFailed {
                migration,
                step,
                message,
            },
            after,
        }
    }
}

/// The steps of the round trips from the migration at `first` on, starting at its
/// `next` step: up, down, up again for each (up only without down.sql). The plan
/// stops before a file the migrator would refuse to start a run with (see
/// [`Walk::run`]), and holds only it when it comes first.
fn plan<'m>(
    applied: &BTreeSet<String>,
    all: &[&'m Migration],
    first: usize,
    next: RoundTripStep,
    backend: Backend,
) -> Vec<Step<'m>> {
    use Direction::{Down, Up};
    // As `migrate` decides it for each up.sql (never so on a trip, which goes in order).
    let newest = applied.iter().next_back();
    let mut steps = Vec::new();
    for (offset, &migration) in all.iter().skip(first).enumerate() {
        let directions: &[Direction] = match (offset, next, migration.down()) {
            (0, RoundTripStep::Down, _) => &[Down, Up],
            (0, RoundTripStep::UpAgain, _) => &[Up],
            (_, _, Some(_)) => &[Up, Down, Up],
            (_, _, None) => &[Up],
        };
        for &direction in directions {
            let whole = whole_files([(migration, direction)], backend).is_ok();
            if !whole && !steps.is_empty() {
                return steps;
            }
            steps.push(Step {
                migration,
                direction,
                out_of_order: direction == Up
                    && newest.is_some_and(|newest| migration.version() < newest.as_str()),
            });
            if !whole {
                return steps;
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;
    use crate::ledger::Ledger;
    use crate::scratch::Scratch;
    use crate::{Guards, Migrations};

    #[derive(diesel::QueryableByName)]
    struct Journal {
        #[diesel(sql_type = Text)]
        version: String,
        #[diesel(sql_type = Text)]
        direction: String,
        #[diesel(sql_type = Text)]
        outcome: String,
    }

    /// Two migrations of several statements each, data between DDL (on MySQL a run
    /// records their progress).
    fn migrations(dir: &std::path::Path) -> Migrations {
        for (name, table) in [("2024-01-01-000000_a", "a"), ("2024-01-02-000000_b", "b")] {
            let folder = dir.join(name);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(
                folder.join("up.sql"),
                format!(
                    "CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n\
                     INSERT INTO {table} (id) VALUES (1);\n\
                     ALTER TABLE {table} ADD COLUMN x INTEGER NULL;\n\
                     INSERT INTO {table} (id) VALUES (2);\n"
                ),
            )
            .unwrap();
            std::fs::write(folder.join("down.sql"), format!("DROP TABLE {table};\n")).unwrap();
        }
        Migrations::from_dir(dir).unwrap()
    }

    /// The round trip's plan, up, down and up again for each migration, run as one
    /// run: each step observed after it committed, and the ledger left as runs of one
    /// step each would leave it.
    fn one_run_takes_every_step_and_records_each(url: &str, scratch_in: Option<&str>) {
        let dir = tempfile::tempdir().unwrap();
        let migrations = migrations(dir.path());
        let all: Vec<&Migration> = migrations.iter().collect();
        let scratch = Scratch::create(url, scratch_in).unwrap();
        let mut conn = scratch.connect().unwrap();
        let backend = conn.backend();
        let migrator = Migrator::new(&migrations).guards(Guards::Off);
        let mut seen = Vec::new();
        let report = migrator
            .run_steps_observed(
                &mut conn,
                |applied, _| Ok(plan(applied, &all, 0, RoundTripStep::Up, backend)),
                &mut |conn, done| {
                    let applied = Ledger::open(conn)?.read_versions(conn)?;
                    seen.push((done.version.clone(), done.direction, applied.len()));
                    Ok(ControlFlow::Continue(()))
                },
            )
            .unwrap();
        let (a, b) = ("20240101000000".to_owned(), "20240102000000".to_owned());
        use Direction::{Down, Up};
        assert_eq!(
            seen,
            [
                (a.clone(), Up, 1),
                (a.clone(), Down, 0),
                (a.clone(), Up, 1),
                (b.clone(), Up, 2),
                (b.clone(), Down, 1),
                (b.clone(), Up, 2),
            ]
        );
        assert_eq!(report.steps.len(), 6);
        assert_eq!(report.current.as_ref(), Some(&b));
        let ledger = Ledger::open(&mut conn).unwrap();
        assert_eq!(
            ledger.read_versions(&mut conn).unwrap(),
            BTreeSet::from([a.clone(), b.clone()])
        );
        let checksums = ledger.checksums(&mut conn).unwrap();
        assert_eq!(checksums.get(&a), Some(&all[0].checksum().to_owned()));
        assert_eq!(checksums.get(&b), Some(&all[1].checksum().to_owned()));
        let journal: Vec<Journal> = conn
            .load_with(
                "SELECT version, direction, outcome FROM __pelican_journal ORDER BY id",
                &[],
            )
            .unwrap();
        let journal: Vec<String> = journal
            .iter()
            .map(|j| format!("{} {} {}", j.version, j.direction, j.outcome))
            .collect();
        assert_eq!(
            journal,
            [
                format!("{a} up applied"),
                format!("{a} down reverted"),
                format!("{a} up applied"),
                format!("{b} up applied"),
                format!("{b} down reverted"),
                format!("{b} up applied"),
            ]
        );
        if ledger
            .has_table(&mut conn, crate::ledger::PROGRESS_TABLE)
            .unwrap()
        {
            assert!(ledger.progress(&mut conn).unwrap().is_empty());
        }
        drop(conn);
        scratch.remove().unwrap();
    }

    /// `Break` from the observer ends the run there, the steps after it not taken.
    fn break_ends_the_run_after_the_step(url: &str, scratch_in: Option<&str>) {
        let dir = tempfile::tempdir().unwrap();
        let migrations = migrations(dir.path());
        let all: Vec<&Migration> = migrations.iter().collect();
        let scratch = Scratch::create(url, scratch_in).unwrap();
        let mut conn = scratch.connect().unwrap();
        let backend = conn.backend();
        let mut observed = 0;
        let report = Migrator::new(&migrations)
            .guards(Guards::Off)
            .run_steps_observed(
                &mut conn,
                |applied, _| Ok(plan(applied, &all, 0, RoundTripStep::Up, backend)),
                &mut |_, _| {
                    observed += 1;
                    Ok(if observed == 2 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    })
                },
            )
            .unwrap();
        assert_eq!(observed, 2);
        assert_eq!(report.steps.len(), 2);
        assert_eq!(report.current, None);
        assert_eq!(report.pending, 2);
        let ledger = Ledger::open(&mut conn).unwrap();
        assert!(ledger.read_versions(&mut conn).unwrap().is_empty());
        drop(conn);
        scratch.remove().unwrap();
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite() {
        let folder = tempfile::tempdir().unwrap();
        let folder = folder.path().to_str().unwrap();
        one_run_takes_every_step_and_records_each("unused.db", Some(folder));
        break_ends_the_run_after_the_step("unused.db", Some(folder));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres() {
        let url = crate::testing::server_url(Backend::Postgres).unwrap();
        one_run_takes_every_step_and_records_each(&url, None);
        break_ends_the_run_after_the_step(&url, None);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql() {
        let url = crate::testing::server_url(Backend::Mysql).unwrap();
        one_run_takes_every_step_and_records_each(&url, None);
        break_ends_the_run_after_the_step(&url, None);
    }
}
