//! Where an error happened, and what a failed run did before it.

use super::Error;

impl Error {
    /// Where the error happened, when it concerns a migration: its folder name, the
    /// file, the line and the statement's first line, as far as the error knows them.
    pub fn location(&self) -> Location {
        match self.cause() {
            Error::Statement {
                migration,
                file,
                line,
                statement,
                ..
            }
            | Error::HalfApplied {
                migration,
                file,
                line,
                statement,
                ..
            } => Location {
                migration: Some(migration.clone()),
                file: Some(file.clone()),
                line: Some(*line),
                statement: Some(statement.clone()),
            },
            Error::Migration {
                migration, file, ..
            } => Location {
                migration: Some(migration.clone()),
                file: Some(file.clone()),
                ..Location::default()
            },
            Error::NoDown { migration } | Error::ForeignKeyViolation { migration, .. } => {
                Location {
                    migration: Some(migration.clone()),
                    ..Location::default()
                }
            }
            Error::InvalidMigration { path, .. } => Location {
                file: Some(path.display().to_string()),
                ..Location::default()
            },
            Error::BuildUndone { source } => source.location(),
            Error::Scrubbed { location, .. } => Location::clone(location),
            _ => Location::default(),
        }
    }

    /// What a failed run did before it failed, when it did anything.
    pub fn partial_report(&self) -> Option<&crate::outcome::Report> {
        match self {
            Error::Incomplete { report, .. } => Some(report),
            Error::CreatedAndLeft { source, .. }
            | Error::AfterRecovery { source, .. }
            | Error::RolledBack { source, .. } => source.partial_report(),
            _ => None,
        }
    }
}

/// Where an error happened, as far as it knows (see [`Error::location`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The migration's folder name.
    pub migration: Option<String>,
    /// The file (`…/up.sql`, `…/down.sql`, or the folder).
    pub file: Option<String>,
    /// The statement's line in the file.
    pub line: Option<usize>,
    /// The statement's first line.
    pub statement: Option<String>,
}
