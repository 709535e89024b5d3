//! What kind of error it is: usage or failure, its stable name, and its cause beneath
//! the report of what ran before it.

use super::Error;

impl Error {
    /// Whether the error is about how pelican was called (exit code 2) rather than a failure (1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self.cause(),
            Error::BadTarget { .. }
                | Error::UnknownTarget { .. }
                | Error::AmbiguousTarget { .. }
                | Error::TargetOutOfRange { .. }
                | Error::TargetNotForCommand { .. }
                | Error::BadMigrationName { .. }
                | Error::NoDatabaseUrl
                | Error::UnknownScheme { .. }
                | Error::BackendNotEnabled { .. }
                | Error::BadFlag { .. }
                | Error::NotConfirmed { .. }
                | Error::SystemDatabase { .. }
                | Error::BadUrl { .. }
                | Error::NoJson { .. }
                | Error::Scrubbed { usage: true, .. }
        )
    }

    /// The error's kind, stable for programs: its variant's name in snake case
    /// (`statement`, `lock_timeout`, `unmanaged`…), that of the error itself for an
    /// [`Error::Incomplete`].
    pub fn kind(&self) -> String {
        use heck::ToSnakeCase;
        if let Error::Scrubbed { kind, .. } = self.cause() {
            return kind.clone();
        }
        let debug = format!("{:?}", self.cause());
        let name: String = debug
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        name.to_snake_case()
    }

    /// The error itself, without the report of what ran before it.
    pub fn cause(&self) -> &Error {
        match self {
            Error::Incomplete { source, .. }
            | Error::CreatedAndLeft { source, .. }
            | Error::AfterRecovery { source, .. }
            | Error::RolledBack { source, .. } => source.cause(),
            other => other,
        }
    }

    /// The error itself, owned, the report of what ran before it left behind.
    pub fn into_cause(self) -> Error {
        match self {
            Error::Incomplete { source, .. }
            | Error::CreatedAndLeft { source, .. }
            | Error::AfterRecovery { source, .. }
            | Error::RolledBack { source, .. } => source.into_cause(),
            other => other,
        }
    }

    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Error {
        let context = context.into();
        move |source| Error::Query { context, source }
    }
}
