//! The database a server URL names, and the URL of another one on the same server.

use crate::url_secret::percent_decode;

/// The database a server URL names: the first path segment, percent-decoded.
pub(crate) fn database_name(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let path = &rest[rest.find('/')? + 1..];
    let segment = path.split(['?', '#', '/']).next().unwrap_or_default();
    let name = percent_decode(segment);
    (!name.is_empty()).then_some(name)
}

/// `url` naming database `name` instead of its own (the query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url() {
        assert_eq!(
            database_name("postgres://u:p@h:5432/app?sslmode=disable").as_deref(),
            Some("app")
        );
        assert_eq!(
            database_name("mysql://root@h/my%2Dapp").as_deref(),
            Some("my-app")
        );
        assert_eq!(database_name("mysql://root@h/"), None);
        assert_eq!(database_name("mysql://root@h"), None);
    }

    #[test]
    fn a_url_for_another_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "postgres"),
            "postgres://u:p@h:5432/postgres?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h/app", ""), "mysql://root@h/");
        assert_eq!(with_database("mysql://root@h", ""), "mysql://root@h/");
    }
}
