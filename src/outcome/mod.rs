//! What pelican's work tells its caller, as plain data: the changes a comparison of two
//! schemas finds. Errors carry them (a drift's changes), so they live here, below
//! [`crate::error`], and are public at the paths of the modules that make them
//! ([`crate::catalog::Change`]); the work itself stays there.

mod change;

pub use change::{Change, Grouped, Subject};
