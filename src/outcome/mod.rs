//! What pelican's work tells its caller, as plain data: the changes a comparison of two
//! schemas finds, and what a run did. Errors carry them (a drift's changes, a failed
//! run's partial report), so they live here, below [`crate::error`], and are public at
//! the paths of the modules that make them ([`crate::catalog::Change`],
//! [`crate::migrator::Report`], [`crate::source::Direction`]); the work itself stays
//! there.

mod change;
mod run;

pub use change::{Change, Grouped, Subject};
pub use run::{Action, Commit, Direction, Reason, Report, StatementReport, StepReport};
