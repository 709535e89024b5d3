//! The live database as a check reads it: what it has applied, the checksums recorded
//! for those, and its schema; and the findings of comparing those checksums with the
//! migrations' files.

use std::collections::{BTreeMap, BTreeSet};

use super::{Check, CheckReport, Finding};
use crate::admin;
use crate::catalog::Schema;
use crate::ledger::{Ledger, CHECKSUM_TABLE};
use crate::{Database, Result};

impl Check<'_> {
    /// What the live database has applied, the checksums recorded for it, and its
    /// schema.
    pub(super) fn read_live<C: Database>(
        &self,
        live: &mut C,
    ) -> Result<(BTreeSet<String>, BTreeMap<String, String>, Schema)> {
        let ledger = Ledger::open(live)?;
        let applied: BTreeSet<String> = ledger
            .applied(live)?
            .into_iter()
            .map(|a| a.version)
            .collect();
        let recorded = if admin::relations(live)?.iter().any(|r| r == CHECKSUM_TABLE) {
            ledger.checksums(live)?
        } else {
            BTreeMap::new()
        };
        let schema = Schema::introspect(live)?;
        Ok((applied, recorded, schema))
    }

    pub(super) fn checksums(
        &self,
        applied: &BTreeSet<String>,
        recorded: &BTreeMap<String, String>,
        report: &mut CheckReport,
    ) {
        let mut unrecorded = 0;
        for version in applied {
            let Some(migration) = self.migrations.get(version) else {
                report.findings.push(Finding::MissingMigration {
                    version: version.clone(),
                });
                continue;
            };
            match recorded.get(version) {
                Some(checksum) => {
                    report.checksums += 1;
                    if *checksum != migration.checksum() {
                        let file = migration.file(crate::Direction::Up);
                        let folder = file.strip_suffix("up.sql").unwrap_or(&file).to_owned();
                        report.findings.push(Finding::ChangedMigration {
                            version: version.clone(),
                            name: migration.name().to_owned(),
                            folder,
                        });
                    }
                }
                None => unrecorded += 1,
            }
        }
        if unrecorded > 0 {
            report.notes.push(format!(
                "{unrecorded} applied migration(s) have no recorded checksum (applied by \
                 another tool, such as diesel CLI): their files could not be compared"
            ));
        }
    }
}
