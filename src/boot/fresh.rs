//! The fresh path: the database built as [`crate::fresh`] builds it, and its report.

use super::{Boot, BootAction, BootReport, Found};
use crate::error::Left;
use crate::fresh::{self, Fresh};
use crate::snapshot::Snapshot;
use crate::{Database, Result};

impl<'a, C: Database> Boot<'a, C> {
    /// How the fresh build joins (see [`fresh::parts`]).
    pub(super) fn fresh_parts(
        &self,
        conn: &mut C,
        snapshot: Option<&(Snapshot, usize)>,
    ) -> Result<Option<Vec<crate::join::Part>>> {
        fresh::parts(conn, self.migrations, snapshot)
    }

    /// The snapshot for this backend that describes these migrations, and how many of
    /// them it stands for.
    pub(super) fn usable_snapshot(&self, conn: &C) -> Result<Option<(Snapshot, usize)>> {
        fresh::usable_snapshot(&self.snapshots, self.migrations, conn.backend())
    }

    /// The fresh path. `outcome` says what a failure leaves, for its error message.
    pub(super) fn initialize(self, conn: &mut C, outcome: Left) -> Result<BootReport> {
        let head = self.migrations.head().map(|m| m.version().to_owned());
        let initial_setup = self.initial_setup.is_some();
        let migrator = self.migrator();
        let built = Fresh {
            migrations: self.migrations,
            snapshots: &self.snapshots,
            hook: self.initial_setup,
            check_foreign_keys: self.check_foreign_keys,
            migrator,
        }
        .build(conn, outcome)?;
        Ok(BootReport {
            build: Some(built.build),
            initial_setup,
            current: head.clone(),
            head,
            snapshot: built.snapshot,
            stamped: built.stamped,
            steps: built.steps,
            commits: built.commits,
            ..BootReport::new(Found::Fresh, BootAction::Initialized)
        })
    }
}
