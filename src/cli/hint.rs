//! What to pass on the command line about an error. The library's errors say what is
//! wrong and name no flag (an application calling it has none); the command line adds a
//! `hint:` line for the errors one of its flags or commands answers.

use crate::Error;

/// The flag or command that answers `error`, for the `hint:` line printed after it.
/// An application that prints errors from [`DatabaseCommand::try_run`] its own way can
/// print it too.
///
/// ```
/// let error = pelican::Error::NoDatabaseUrl;
/// assert!(pelican::cli::hint(&error).unwrap().contains("--database-url"));
/// assert!(!error.to_string().contains("--database-url"));
/// ```
///
/// [`DatabaseCommand::try_run`]: super::DatabaseCommand::try_run
pub fn hint(error: &Error) -> Option<&'static str> {
    match error.cause() {
        Error::BuildUndone { source } | Error::AdoptionBuild { source, .. } => hint(source),
        // An error scrubbed of a password keeps its kind, and so its hint.
        Error::Scrubbed { kind, .. } => by_kind(kind),
        other => by_kind(other.kind()),
    }
}

/// The hint for an error of this [`kind`](Error::kind).
fn by_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "no_database_url" => {
            "pass --database-url, or set DATABASE_URL in the environment or in .env"
        }
        "no_migration_directory" => "pass --migration-dir (or set MIGRATION_DIRECTORY)",
        "lock_timeout" => "--lock-timeout SECONDS allows a longer wait",
        "unmanaged" => "`adopt`, or `boot --adopt`, adopts it",
        "not_undone" => "`reset --yes` empties it",
        "not_confirmed" => "pass --yes to confirm, or --dry-run to list them",
        "changed_migrations" => "pass --accept-changed to record the new checksums",
        "scratch_database" => "--scratch-url names another server for it",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_are_in_the_hints_not_in_the_errors() {
        let errors = [
            Error::NoDatabaseUrl,
            Error::NoMigrationDirectory {
                searched_from: "/app".into(),
            },
            Error::LockTimeout {
                lock: "advisory lock 1".into(),
                holder: None,
                waited_secs: 1.0,
            },
            Error::Unmanaged {
                tables: vec!["legacy".into()],
            },
            Error::NotConfirmed {
                command: "reset",
                url: "app.db".into(),
            },
            Error::ChangedMigrations {
                migrations: vec!["2024-01-01-000000_a".into()],
            },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains("--"), "{message}");
            assert!(!message.contains("pelican "), "{message}");
            let hint = hint(&error).unwrap_or_default();
            assert!(hint.contains("--"), "{}: no hint", error.kind());
        }
    }
}
