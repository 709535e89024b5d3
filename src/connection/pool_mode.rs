//! How a connection reaches the database: directly (or through a session-pooling
//! proxy), or through a transaction-pooling one, where no session state lasts from one
//! transaction to the next.

use crate::{Error, Result};

/// How connections reach the database, which decides what the migration lock can be
/// on PostgreSQL (other backends take theirs the same way in either).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolMode {
    /// Directly, or through a proxy that gives each client one server session for as
    /// long as it is connected (PgBouncer's `pool_mode = session`): the session
    /// advisory lock, released by the server the moment the holder's session ends.
    #[default]
    Session,
    /// Through a proxy that hands the server connection to another client after each
    /// transaction (PgBouncer's `pool_mode = transaction`): the lease (see [`crate::lock`]), a row of
    /// `__pelican_lock`, since no session lock survives from one transaction to the
    /// next there.
    Transaction,
}

impl PoolMode {
    /// The variable [`PoolMode::from_env`] reads: `transaction`, or `session` (the
    /// default when unset or empty).
    pub const ENV: &'static str = "PELICAN_POOL_MODE";

    /// The mode [`PoolMode::ENV`] names, [`PoolMode::Session`] when it is unset or empty;
    /// anything else is [`Error::BadSetting`].
    pub fn from_env() -> Result<PoolMode> {
        match std::env::var(Self::ENV) {
            Ok(value) => Self::parse(&value),
            Err(std::env::VarError::NotPresent) => Ok(PoolMode::Session),
            Err(std::env::VarError::NotUnicode(value)) => Self::parse(&value.to_string_lossy()),
        }
    }

    /// Reads a mode as [`PoolMode::from_env`] reads the variable (any case, spaces
    /// trimmed).
    pub fn parse(value: &str) -> Result<PoolMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            _ => Err(Error::BadSetting {
                name: Self::ENV.to_owned(),
                value: value.to_owned(),
                expected: "transaction or session",
            }),
        }
    }

    /// The mode given, or else the one the environment names.
    pub(crate) fn or_env(mode: Option<PoolMode>) -> Result<PoolMode> {
        mode.map_or_else(Self::from_env, Ok)
    }
}
