//! The three database backends pelican speaks, and how a URL names one.

use std::fmt;

/// A database backend, chosen at run time from the database URL as diesel CLI does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        })
    }
}

impl Backend {
    /// The backend a URL names, as diesel CLI decides it: `postgres://` and `postgresql://`
    /// are PostgreSQL, `mysql://` is MySQL/MariaDB, and anything else is a SQLite path
    /// (with an optional `sqlite://` prefix). Any other `scheme://` is refused rather than
    /// taken for a file name.
    ///
    /// ```
    /// use pelican::Backend;
    /// assert_eq!(Backend::from_url("postgres://localhost/app").unwrap(), Backend::Postgres);
    /// assert_eq!(Backend::from_url("app.db").unwrap(), Backend::Sqlite);
    /// assert!(Backend::from_url("oracle://db/app").is_err());
    /// ```
    pub fn from_url(url: &str) -> crate::Result<Backend> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("mysql") => Ok(Backend::Mysql),
            Some("sqlite" | "file") | None => Ok(Backend::Sqlite),
            Some(scheme) => Err(crate::Error::UnknownScheme {
                scheme: scheme.to_owned(),
                url: redact_url(url),
            }),
        }
    }

    /// The cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    /// Quotes an identifier the way this backend does.
    pub(crate) fn quote(self, ident: &str) -> String {
        match self {
            Backend::Mysql => format!("`{}`", ident.replace('`', "``")),
            Backend::Sqlite | Backend::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }
}

/// A URL with its password replaced by `***`, fit to print or log.
///
/// Both places a password can sit are covered: the user-info part
/// (`postgres://user:secret@host/db`) and a `password=` query parameter.
///
/// ```
/// assert_eq!(
///     pelican::backend::redact_url("mysql://root:hunter2@db:3306/app?password=hunter2"),
///     "mysql://root:***@db:3306/app?password=***"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The password in a URL, if it has one, so that driver messages quoting it can be scrubbed.
pub(crate) fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `message` with every occurrence of the URL's password replaced by `***`.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    match url_password(url) {
        Some(password) => message.replace(password, "***"),
        None => message.to_owned(),
    }
}
