//! The three database backends pelican speaks, and how a URL names one.

use std::fmt;

pub(crate) use crate::url_secret::redact_url;
use crate::url_secret::{authority, libpq_userinfo, rfc_userinfo};

/// A database backend, chosen at run time from the database URL as diesel CLI does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// SQLite: any URL that is not `postgres://`, `postgresql://` or `mysql://`.
    Sqlite,
    /// PostgreSQL: `postgres://` or `postgresql://`.
    Postgres,
    /// MySQL or MariaDB: `mysql://`.
    Mysql,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dialect().name())
    }
}

impl Backend {
    /// The backend a URL names, as diesel CLI decides it: `postgres://` and `postgresql://`
    /// are PostgreSQL, `mysql://` is MySQL/MariaDB, and so is `mariadb://` (diesel 2.4's
    /// `MariadbConnection` takes only that scheme), and anything else is a SQLite path
    /// (with an optional `sqlite://` prefix). Any other `scheme://` is refused rather than
    /// taken for a file name, and so is a server URL whose user name or password holds a
    /// raw `@`, `/`, `?` or `#` (drivers would quote pieces of it in their errors).
    ///
    /// ```
    /// use pelican::Backend;
    /// assert_eq!(Backend::from_url("postgres://localhost/app").unwrap(), Backend::Postgres);
    /// assert_eq!(Backend::from_url("app.db").unwrap(), Backend::Sqlite);
    /// assert!(Backend::from_url("oracle://db/app").is_err());
    /// ```
    pub fn from_url(url: &str) -> crate::Result<Backend> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("postgres" | "postgresql") => check_url(url).map(|()| Backend::Postgres),
            Some("mysql" | "mariadb") => check_url(url).map(|()| Backend::Mysql),
            Some("sqlite" | "file") | None => Ok(Backend::Sqlite),
            Some(scheme) => Err(crate::Error::UnknownScheme {
                scheme: scheme.to_owned(),
                url: redact_url(url),
            }),
        }
    }

    /// Every backend pelican knows, compiled in or not.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

    /// The backend a name (`sqlite`, `postgres`, `mysql`: what [`Backend`]'s `Display`
    /// writes) stands for.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL
            .into_iter()
            .find(|b| b.dialect().name() == name)
    }

    /// The cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.dialect().name()
    }

    /// Whether this build has diesel's blocking connection of this backend, which
    /// pelican's own connections ([`AnyConnection`](crate::AnyConnection), scratch and
    /// test databases) are made of. A backend compiled in for diesel-async's connection
    /// alone (`postgres_backend` without `postgres`) has not.
    pub(crate) fn has_client(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::Mysql => cfg!(feature = "mysql"),
        }
    }

    /// Quotes an identifier the way this backend does.
    pub(crate) fn quote(self, ident: &str) -> String {
        self.dialect().quote(ident)
    }
}

/// Refuses a server URL whose user name or password holds a character it should have
/// percent-encoded, before a driver reads it: libpq and the `url` crate split such a URL
/// in different places, and then quote a piece of the password in their errors as a
/// host name or a port.
pub(crate) fn check_url(url: &str) -> crate::Result<()> {
    let Some((_, rest)) = url.split_once("://") else {
        return Ok(());
    };
    let authority = authority(rest);
    let before_query = &rest[..rest.find('?').unwrap_or(rest.len())];
    // `user:pa/ss@host`: both read a host `user` and a port `pa`, and say so. An `@` in
    // the query after a real port (`host:5432/db?application_name=me@host`) is fine.
    let misread_port = match authority.split_once(':') {
        Some((_, port)) if !authority.starts_with('[') => {
            let numeric = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
            rest.contains('@') && (!numeric || before_query.contains('@'))
        }
        _ => false,
    };
    let ambiguous = authority.matches('@').count() > 1
        || rfc_userinfo(rest) != libpq_userinfo(rest)
        || (rfc_userinfo(rest).is_none() && misread_port);
    if ambiguous {
        return Err(crate::Error::BadUrl {
            url: redact_url(url),
            reason: "its user name or password holds a raw `@`, `/`, `?` or `#`; \
                     percent-encode them (%40, %2F, %3F, %23)"
                .to_owned(),
        });
    }
    Ok(())
}

/// Where a database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// A file that connecting creates (SQLite): no server, no `CREATE DATABASE`.
    File,
    /// A database on a server, created and dropped by name.
    Server,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url_secret::{percent_decode, scrub, url_secrets};
    use proptest::prelude::*;

    #[test]
    fn urls_drivers_would_read_differently_are_refused_without_showing_the_password() {
        for url in [
            "postgres://app:s3/cret@db/app",
            "postgres://app:s3?cret@db/app",
            "postgres://app:s3#cret@db/app",
            "postgres://app:s3@cr@et@db/app",
            "mysql://app:s3/cret@db/app",
        ] {
            let error = Backend::from_url(url).unwrap_err();
            assert!(
                matches!(error, crate::Error::BadUrl { .. }),
                "{url}: {error}"
            );
            assert!(!error.to_string().contains("cret"), "{error}");
        }
        for url in [
            "postgres://app:s3%2Fcret@db:5432/app?sslmode=disable",
            "postgres://db:5432/app?application_name=a@b",
            "postgres://[::1]:5432/app",
            "mysql://root@127.0.0.1:3306/app",
            "app.db",
        ] {
            assert!(Backend::from_url(url).is_ok(), "{url}");
        }
    }

    /// What the property tests below once shrank to: passwords with raw `/`, `#`, `?`
    /// or `:` ahead of a query holding an `@`. Each showed part of its password.
    #[test]
    fn fuzz_regressions() {
        for password in ["Zq/", "Zq:#", "Zq:0/", "Zq?/"] {
            let url = format!("postgres://a:{password}@db.example:5432/app?password=Zq@");
            assert!(!redact_url(&url).contains(password), "{url}");
            assert!(check_url(&url).is_err(), "{url}");
        }
        // Quoted by a message, each hidden though the drivers read a shorter password
        // (up to a raw `@`) or query value (up to a raw `?`).
        for (password, query) in [
            ("0", "?"),
            ("@#", "$"),
            ("@?", "a"),
            ("@/", "a"),
            ("@!?", "a"),
        ] {
            let url = format!("postgres://a:Zq{password}@db.example:5432/app?password=Zq{query}");
            if check_url(&url).is_ok() {
                let message = format!("failed: \"Zq{password}\", \"Zq{query}\"");
                let scrubbed = scrub(&message, &url);
                assert!(!scrubbed.contains(&format!("Zq{password}")), "{scrubbed}");
                assert!(!scrubbed.contains(&format!("Zq{query}")), "{scrubbed}");
            }
        }
    }

    proptest! {
        /// Whatever the password (any printable text), the redacted URL does not show it.
        #[test]
        fn a_password_never_survives_redaction(
            password in "[!-~]{1,24}",
            query_password in "[!-~&&[^&#]]{1,24}",
            user in "[a-z]{1,8}",
            scheme in prop::sample::select(vec!["postgres", "postgresql", "mysql"]),
        ) {
            let marker = format!("Zq{password}");
            let query_marker = format!("Zq{query_password}");
            let url = format!("{scheme}://{user}:{marker}@db.example:5432/app?sslmode=disable&password={query_marker}");
            let redacted = redact_url(&url);
            prop_assert!(!redacted.contains(&marker), "{} -> {}", url, redacted);
            prop_assert!(!redacted.contains(&query_marker), "{} -> {}", url, redacted);
            if check_url(&url).is_ok() {
                let message = format!("failed: \"{marker}\", \"{query_marker}\", {url}");
                let scrubbed = scrub(&message, &url);
                prop_assert!(!scrubbed.contains(&marker), "{}", scrubbed);
                prop_assert!(!scrubbed.contains(&query_marker), "{}", scrubbed);
            }
        }

        /// A password a driver reads (one without raw `/`, `?`, `#`, `@`: percent-encoded
        /// or not needing it) is accepted, and scrubbed from whatever quotes it, as
        /// written or decoded.
        #[test]
        fn a_password_a_driver_reads_is_scrubbed_from_its_messages(
            password in "[!-~&&[^/?#@]]{1,24}",
            query_password in "[!-~&&[^&#]]{1,24}",
            user in "[a-z]{1,8}",
            scheme in prop::sample::select(vec!["postgres", "postgresql", "mysql"]),
        ) {
            let marker = format!("Zq{password}");
            let query_marker = format!("Zq{query_password}");
            let url = format!("{scheme}://{user}:{marker}@db.example:5432/app?password={query_marker}");
            prop_assert!(check_url(&url).is_ok(), "{}", url);
            let decoded = percent_decode(&marker);
            let message = format!("for {url}: \"{marker}\", \"{query_marker}\", '{decoded}'");
            let scrubbed = scrub(&message, &url);
            for secret in [&marker, &query_marker, &decoded] {
                prop_assert!(!scrubbed.contains(secret.as_str()), "{}", scrubbed);
            }
        }


        #[test]
        fn redaction_never_panics(url in "\\PC{0,40}", message in "\\PC{0,60}") {
            let _ = scrub(&message, &url);
            let _ = redact_url(&url);
            let _ = url_secrets(&url);
            let _ = check_url(&url);
        }
    }
}
