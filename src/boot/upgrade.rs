//! The managed and adopted paths: pending migrations applied (with auto-migrate on)
//! or reported.

use super::{Boot, BootAction, BootReport, Found};
use crate::adopt::Adopt;
use crate::migrator::Report;
use crate::{Database, Error, Result, Target};

impl<'a, C: Database> Boot<'a, C> {
    /// The unmanaged path, asked to adopt: the version found and stamped (see
    /// [`Adopt`]), then with auto-migrate on what is newer applied, as for any managed
    /// database.
    pub(super) fn adopted(self, conn: &mut C, url: String) -> Result<BootReport> {
        let adopt = self.snapshots.iter().fold(
            Adopt::new(self.migrations, url).lock_timeout(self.lock_timeout),
            |adopt, text| adopt.snapshot(text.as_str()),
        );
        let adoption = adopt.run_locked(conn)?;
        let mut report = BootReport {
            stamped: adoption.stamped,
            current: adoption.version.clone(),
            head: adoption.head.clone(),
            pending: adoption.pending.clone(),
            ..BootReport::new(Found::Unmanaged, BootAction::Adopted)
        };
        if self.auto_migrate && !report.pending.is_empty() {
            let upgrade = self.migrator().migrate(conn, &Target::Head)?;
            report.steps = upgrade.steps;
            report.commits = upgrade.commits;
            report.current = upgrade.current;
            report.head = upgrade.head;
            report.pending.clear();
        }
        report.adoption = Some(adoption);
        Ok(report)
    }

    pub(super) fn managed(self, conn: &mut C) -> Result<BootReport> {
        let migrator = self.migrator();
        let status = migrator.status(conn)?;
        if !status.unknown.is_empty() {
            return Err(Error::DatabaseAhead {
                versions: status.unknown,
            });
        }
        let action = match (status.pending().next(), self.auto_migrate) {
            (None, _) => BootAction::UpToDate,
            (Some(_), false) => BootAction::LeftPending,
            (Some(_), true) => {
                let upgrade = migrator.migrate(conn, &Target::Head)?;
                return Ok(self.upgraded(Found::Managed, BootAction::Migrated, upgrade));
            }
        };
        Ok(BootReport {
            current: status.current().map(|e| e.version.clone()),
            head: status.head().map(|e| e.version.clone()),
            pending: status.pending().map(|e| e.version.clone()).collect(),
            ..BootReport::new(Found::Managed, action)
        })
    }

    /// The report of an upgrade to head (nothing is left pending).
    fn upgraded(&self, found: Found, action: BootAction, upgrade: Report) -> BootReport {
        BootReport {
            steps: upgrade.steps,
            commits: upgrade.commits,
            current: upgrade.current,
            head: upgrade.head,
            ..BootReport::new(found, action)
        }
    }
}
