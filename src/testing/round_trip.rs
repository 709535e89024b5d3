//! The round-trip assertion: every migration up, down and up again on a scratch database.

use super::server_url;
use crate::{Backend, Migrations};

/// Proves every migration reversible on `backend`, one by one, on a scratch database:
/// up, down (the schema and row counts must be what they were before), up again (what
/// they were after the first up). Panics with the readable diff of every migration that
/// does not come back, for a test:
///
/// ```no_run
/// #[test]
/// fn migrations_are_reversible() {
///     let migrations = pelican::Migrations::from_dir("migrations").unwrap();
///     pelican::testing::assert_round_trip(&migrations, pelican::Backend::Sqlite);
/// }
/// ```
#[track_caller]
pub fn assert_round_trip(migrations: &Migrations, backend: Backend) {
    if let Err(message) = round_trip(migrations, backend) {
        #[allow(clippy::panic)]
        {
            panic!("{message}");
        }
    }
}

/// What [`assert_round_trip`] checks, as a result: `Err` holds the findings, one a line.
pub fn round_trip(migrations: &Migrations, backend: Backend) -> std::result::Result<(), String> {
    // The check's live database is an empty one: only the round trip can find anything.
    let server = server_url(backend).unwrap_or_else(|| "pelican_rt.db".to_owned());
    let empty = crate::scratch::Scratch::create(&server, None)
        .map_err(|e| format!("the round trip could not run: {e}"))?;
    let report = crate::check::Check::new(migrations)
        .run(empty.url())
        .map_err(|e| format!("the round trip could not run: {e}"))?;
    if report.ok() {
        return Ok(());
    }
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    Err(format!(
        "{} migration(s) do not come back on {backend}:\n{}",
        findings.len(),
        findings.join("\n")
    ))
}
