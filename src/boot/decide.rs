//! The decision of what to do: the database classified (fresh, managed, unmanaged) and
//! sent down its path, or a boot with nothing to do answered without the lock.

use super::{Boot, BootAction, BootReport, Found};
use crate::admin;
use crate::error::Left;
use crate::ledger::{Ledger, Standing};
use crate::unfinished;
use crate::{Database, Error, Result};

impl<'a, C: Database> Boot<'a, C> {
    /// The report of a boot with nothing to do, read without the lock, as
    /// [`Migrator::migrate`] reads one: a managed database (diesel's table holds
    /// versions), no fresh build an earlier process left unfinished, no version these
    /// migrations lack, and nothing pending, or pending with auto-migrate off. What the
    /// flow does for such a database is read, so without the lock it answers as it
    /// would have under it, at the moment of its read. `None` for every other case,
    /// which the flow decides under the lock.
    pub(super) fn settled(&self, conn: &mut C) -> Result<Option<BootReport>> {
        let ledger = Ledger::open(conn)?;
        if !ledger.exists(conn)? || ledger.has_table(conn, unfinished::BUILD_TABLE)? {
            return Ok(None);
        }
        let applied = ledger.read_versions(conn)?;
        if applied.is_empty() || !crate::plan::unknown_applied(&applied, self.migrations).is_empty()
        {
            return Ok(None);
        }
        let pending: Vec<String> = self
            .migrations
            .iter()
            .filter(|m| !applied.contains(m.version()))
            .map(|m| m.version().to_owned())
            .collect();
        let action = match (pending.is_empty(), self.auto_migrate) {
            (true, _) => BootAction::UpToDate,
            (false, false) => BootAction::LeftPending,
            (false, true) => return Ok(None),
        };
        Ok(Some(BootReport {
            current: applied.iter().next_back().cloned(),
            head: self.migrations.head().map(|m| m.version().to_owned()),
            pending,
            ..BootReport::new(Found::Managed, action)
        }))
    }

    /// What the database is, as the ledger's one classification ([`Standing`]) says,
    /// and what of a fresh build an earlier process left unfinished was dropped first.
    pub(super) fn classify(&self, conn: &mut C) -> Result<(Standing, Vec<String>)> {
        let mut relations = admin::relations(conn)?;
        let mut recovered = Vec::new();
        if relations.iter().any(|r| r == unfinished::BUILD_TABLE) {
            // A fresh build an earlier process left half-done is undone first.
            recovered = unfinished::recover(conn)?.unwrap_or_default();
            relations = admin::relations(conn)?;
        }
        let standing = Standing::read(conn, &relations)?;
        Ok((standing, recovered))
    }

    pub(super) fn decide(self, conn: &mut C) -> Result<BootReport> {
        let (standing, recovered) = self.classify(conn)?;
        let report = match standing {
            Standing::Fresh => self.initialize(conn, Left::AsBefore),
            Standing::Managed => self.managed(conn),
            Standing::Unmanaged { tables } => match self.adopt.clone() {
                Some(url) => self.adopted(conn, url),
                None => Err(Error::Unmanaged { tables }),
            },
        };
        match report {
            Ok(report) => Ok(BootReport {
                recovered,
                ..report
            }),
            Err(source) if !recovered.is_empty() => Err(Error::AfterRecovery {
                dropped: recovered,
                source: Box::new(source),
            }),
            Err(error) => Err(error),
        }
    }
}
