//! A fleet's targets: [`Tenant`], one database (or one PostgreSQL schema) a fleet runs
//! on, and the file that lists them (one URL a line, `#` comments, `${VAR}` read from
//! the environment so that no password needs to be written in the file).

use std::path::Path;

use crate::url_secret::redact_url;
use crate::{Error, Result};

/// One target of a fleet: a database URL, as a single `pelican` command would take it,
/// and, for a PostgreSQL schema tenant, the schema its ledger and its migrations live in.
#[derive(Clone, PartialEq, Eq)]
pub struct Tenant {
    url: String,
    schema: Option<String>,
    label: String,
}

/// Written by hand so that a debug print never shows the URL's password.
impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("target", &self.label)
            .field("schema", &self.schema)
            .finish()
    }
}

impl Tenant {
    /// The tenant `url` names: a database (a SQLite path, `postgres://…`, `mysql://…`),
    /// or a PostgreSQL schema where its `options` set `search_path` to one schema
    /// (`?options=-csearch_path%3Dacme`, as [`Tenant::schema`] writes it).
    pub fn database(url: impl Into<String>) -> Tenant {
        let url = url.into();
        Tenant {
            label: redact_url(&url),
            schema: super::schemas::search_path_of(&url),
            url,
        }
    }

    /// A PostgreSQL schema tenant: `schema` in the database `url` names. Its connections
    /// have `search_path` set to it (libpq's `options` parameter, added to the URL), so
    /// that diesel's ledger and every unqualified name of its migrations are the
    /// schema's, as they are for `pelican --database-url URL migrate` with that URL.
    pub fn schema(url: &str, schema: impl Into<String>) -> Tenant {
        let schema = schema.into();
        Tenant {
            label: format!("{} schema {schema}", redact_url(url)),
            url: super::schemas::url_with_search_path(url, &schema),
            schema: Some(schema),
        }
    }

    /// The URL connections are made with (a schema tenant's with its `search_path`).
    /// It holds the password, if any: show [`Tenant::label`] instead.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema of a schema tenant.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// How the tenant is shown: its URL with the password hidden, and its schema.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// The tenants a targets file lists, each line's `${VAR}` replaced from `env` (the
/// process's environment, for [`read_file`]).
pub(crate) fn parse(
    path: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Tenant>> {
    let mut tenants = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let url = expand(line, &env).map_err(|reason| Error::FleetTargets {
            reason: format!("{}, line {}: {reason}", path.display(), index + 1),
        })?;
        tenants.push(Tenant::database(url));
    }
    Ok(tenants)
}

/// Reads a targets file, `${VAR}` from the process's environment.
pub(crate) fn read_file(path: &Path) -> Result<Vec<Tenant>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text, |name| std::env::var(name).ok())
}

/// `line` with every `${VAR}` replaced by the variable's value; an unset variable, or a
/// `${` that never closes, is the reason the line is refused. `$` not followed by `{`
/// stays as it is (a password may hold one).
fn expand(
    line: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` is never closed by `}`".to_owned());
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!("`${{{name}}}` is not a variable's name"));
        }
        match env(name) {
            Some(value) => out.push_str(&value),
            None => return Err(format!("${{{name}}} is not set in the environment")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PG" => Some("postgres://app:s3cret@db".to_owned()),
            "TENANT" => Some("acme".to_owned()),
            _ => None,
        }
    }

    fn urls(text: &str) -> std::result::Result<Vec<String>, String> {
        parse(Path::new("targets"), text, env)
            .map(|t| t.into_iter().map(|t| t.url).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_file_lists_one_url_a_line_with_comments_and_variables() {
        let text = "# tenants\n\n${PG}/${TENANT}  \n  mysql://root@h/x # not a comment\n";
        assert_eq!(
            urls(text).unwrap(),
            [
                "postgres://app:s3cret@db/acme",
                "mysql://root@h/x # not a comment"
            ]
        );
    }

    #[test]
    fn an_unset_variable_is_named_with_its_line() {
        let error = urls("${PG}/a\n${MISSING}/b\n").unwrap_err();
        assert!(error.contains("targets, line 2"), "{error}");
        assert!(error.contains("${MISSING} is not set"), "{error}");
    }

    #[test]
    fn a_dollar_without_a_brace_stays() {
        assert_eq!(
            urls("postgres://u:pa$s@h/d").unwrap(),
            ["postgres://u:pa$s@h/d"]
        );
        assert!(urls("${PG").unwrap_err().contains("never closed"));
        assert!(urls("${1X}").unwrap_err().contains("not a variable"));
    }

    #[test]
    fn a_label_hides_the_password() {
        let tenant = Tenant::database("postgres://app:s3cret@db/acme");
        assert_eq!(tenant.label(), "postgres://app:***@db/acme");
        assert!(!format!("{tenant:?}").contains("s3cret"));
    }
}
