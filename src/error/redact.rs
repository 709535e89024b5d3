//! Errors with the secrets of a URL they quote hidden.

use super::{Error, Location};

impl Error {
    /// The error, with every secret of `url` it quotes (the password, in any form the
    /// URL holds it: in its user-info or a `password=` parameter, as written and
    /// percent-decoded) replaced by `***`: an [`Error::Scrubbed`] holding its message
    /// when it quoted one, else the error as it is. Errors from the driver can quote the
    /// URL; the library's functions that take a URL return them so, and an application
    /// that connects its own way can do the same before printing one.
    ///
    /// ```
    /// let url = "postgres://app:hunter2@db/app";
    /// let error = pelican::Error::Migration {
    ///     migration: "2024-01-01-000000_a".into(),
    ///     file: "up.sql".into(),
    ///     message: format!("cannot reach {url}"),
    /// };
    /// assert!(!error.redacted(url).to_string().contains("hunter2"));
    /// ```
    ///
    /// What the error says about itself survives: its [`kind`](Error::kind), whether it
    /// is a usage error, its [`location`](Error::location) (scrubbed too), and the
    /// report of what a run did before it failed.
    pub fn redacted(self, url: &str) -> Error {
        // The errors that wrap another keep their own shape (and the report they hold),
        // and scrub the one they wrap.
        match self {
            Error::Incomplete { report, source } => {
                return Error::Incomplete {
                    report,
                    source: Box::new(source.redacted(url)),
                }
            }
            Error::CreatedAndLeft { database, source } => {
                return Error::CreatedAndLeft {
                    database: crate::url_secret::scrub(&database, url),
                    source: Box::new(source.redacted(url)),
                }
            }
            Error::AfterRecovery { dropped, source } => {
                return Error::AfterRecovery {
                    dropped,
                    source: Box::new(source.redacted(url)),
                }
            }
            Error::RolledBack {
                rolled_back,
                source,
            } => {
                return Error::RolledBack {
                    rolled_back,
                    source: Box::new(source.redacted(url)),
                }
            }
            _ => {}
        }
        let message = self.to_string();
        let scrubbed = crate::url_secret::scrub(&message, url);
        if scrubbed == message {
            return self;
        }
        let at = self.location();
        let hide = |text: Option<String>| text.map(|t| crate::url_secret::scrub(&t, url));
        Error::Scrubbed {
            message: scrubbed,
            usage: self.is_usage(),
            kind: self.kind(),
            location: Box::new(Location {
                migration: hide(at.migration),
                file: hide(at.file),
                line: at.line,
                statement: hide(at.statement),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_the_kind_the_location_and_the_report() {
        let url = "postgres://app:Hunter2Secret@db/app";
        let error = Error::Statement {
            migration: "2024-01-01-000000_a".into(),
            file: "2024-01-01-000000_a/up.sql".into(),
            line: 3,
            statement: "CREATE SERVER s OPTIONS (password 'Hunter2Secret')".into(),
            message: format!("cannot reach {url}"),
            source: None,
        };
        let report = crate::migrator::Report {
            current: Some("20231231000000".into()),
            ..Default::default()
        };
        let error = Error::Incomplete {
            report: Box::new(report),
            source: Box::new(error),
        }
        .redacted(url);
        assert!(!error.to_string().contains("Hunter2Secret"), "{error}");
        assert_eq!(error.kind(), "statement");
        let at = error.location();
        assert_eq!(at.migration.as_deref(), Some("2024-01-01-000000_a"));
        assert_eq!(at.file.as_deref(), Some("2024-01-01-000000_a/up.sql"));
        assert_eq!(at.line, Some(3));
        assert!(!at.statement.unwrap_or_default().contains("Hunter2Secret"));
        let report = error.partial_report().expect("the report of what ran");
        assert_eq!(report.current.as_deref(), Some("20231231000000"));
        assert!(!error.is_usage());
    }
}
