//! `reset`: everything pelican sees dropped, then the database built as a fresh one.

use super::report::found;
use super::{Boot, BootReport};
use crate::admin;
use crate::error::Left;
use crate::{Database, Error, Result};

impl<'a, C: Database> Boot<'a, C> {
    /// Drops every object pelican sees (tables, views, and on PostgreSQL the schema's
    /// sequences, functions, types and extensions), the ledger included,
    /// then builds the database as a fresh one: what `pelican reset --yes` does. On
    /// SQLite and PostgreSQL all of it is one transaction, so a failure leaves the
    /// database as it was; on MySQL/MariaDB a failure part-way through the drops says
    /// what was dropped and what is left ([`Error::PartlyDropped`]).
    ///
    /// Refused, with nothing dropped, in one of the server's own databases (see
    /// [`Boot::allow_maintenance_database`]), and while objects outside what it drops
    /// depend on what it drops (see [`Boot::cascade`]).
    pub fn reset(self, conn: &mut C) -> Result<BootReport> {
        self.locked(conn, Boot::reset_locked)
    }

    fn reset_locked(self, conn: &mut C) -> Result<BootReport> {
        if let Some(name) = crate::server::current_database(conn)? {
            crate::server::refuse_system_name(
                conn.backend(),
                &name,
                "reset",
                self.allow_maintenance_database,
            )?;
        }
        let (dependents, fate) = admin::dependents(conn)?;
        if !dependents.is_empty() && !self.cascade {
            return Err(Error::Dependents { dependents, fate });
        }
        // Where the drops cascade, what depends on them goes too: say so.
        let cascaded = match conn.backend().dialect().drop_everything().cascade {
            "" => Vec::new(),
            _ => dependents,
        };
        let (standing, recovered) = self.classify(conn)?;
        let found = found(&standing);
        let snapshot = self.usable_snapshot(conn)?;
        let atomic = self
            .fresh_parts(conn, snapshot.as_ref())?
            .is_some_and(|parts| parts.len() <= 1);
        let outcome = if atomic {
            Left::AsBeforeReset
        } else {
            Left::Empty
        };
        let rebuild = |conn: &mut C| {
            let mut dropped = admin::drop_all(conn)?;
            dropped.extend(cascaded);
            let mut report = self.initialize(conn, outcome)?;
            report.dropped = dropped;
            report.found = found;
            report.recovered = recovered.clone();
            Ok(report)
        };
        if atomic {
            conn.transaction(rebuild)
        } else {
            rebuild(conn)
        }
    }
}
