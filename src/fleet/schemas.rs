//! PostgreSQL schema tenants: the schemas of one database whose names match a glob
//! (`tenant_*`), each a tenant with its own ledger, reached through a URL whose
//! `options` set `search_path` to it.
//!
//! Where the ledger lives: pelican opens diesel's `__diesel_schema_migrations` (and its
//! own tables) in the schema that is current when the ledger is opened,
//! `current_schema()`, the first schema of `search_path` that exists (see
//! `crate::ledger`), and reads the catalog there too. A connection whose `search_path`
//! is the tenant's schema therefore runs exactly the run `pelican migrate` runs on that
//! schema, ledger included.

use diesel::sql_types::Text;

use super::targets::Tenant;
use crate::connection::Bind;
use crate::{AnyConnection, Backend, Database, Error, Result};

/// The schemas of the database `conn` is connected to whose names match `pattern`, in
/// name order, leaving out PostgreSQL's own (`pg_*`, `information_schema`).
pub(crate) fn matching(conn: &mut AnyConnection, pattern: &str) -> Result<Vec<String>> {
    if conn.backend() != Backend::Postgres {
        return Err(Error::FleetTargets {
            reason: format!(
                "--schemas lists the schemas of a PostgreSQL database, and this URL is {}'s",
                conn.backend()
            ),
        });
    }
    let rows: Vec<Name> = conn
        .load_with(
            "SELECT nspname::text AS name FROM pg_catalog.pg_namespace \
             WHERE nspname LIKE ? ESCAPE '\\' \
             AND nspname NOT LIKE 'pg\\_%' ESCAPE '\\' AND nspname <> 'information_schema' \
             ORDER BY nspname",
            &[Bind::Text(&glob_to_like(pattern))],
        )
        .map_err(Error::query("cannot list the schemas"))?;
    Ok(rows.into_iter().map(|row| row.name).collect())
}

/// The tenants of the schemas matching `pattern` in the database `url` names.
pub(crate) fn tenants(conn: &mut AnyConnection, url: &str, pattern: &str) -> Result<Vec<Tenant>> {
    Ok(matching(conn, pattern)?
        .into_iter()
        .map(|schema| Tenant::schema(url, schema))
        .collect())
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A glob (`*` any run of characters, `?` one, everything else itself) as a `LIKE`
/// pattern escaped with `\`: `tenant_*` matches `tenant_a`, never `tenantXa`.
pub(crate) fn glob_to_like(glob: &str) -> String {
    let mut like = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    like
}

/// `url` with libpq's `options` parameter setting `search_path` to `schema` (the name
/// quoted, so any name is taken as written). A URL that has `options` already keeps
/// them, the `search_path` appended.
pub(crate) fn url_with_search_path(url: &str, schema: &str) -> String {
    // In `options`, a backslash escapes the next character (a space would end the
    // setting); in the identifier, a double quote is doubled.
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let escaped: String = quoted
        .chars()
        .flat_map(|c| match c {
            ' ' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let setting = percent_encode(&format!("-csearch_path={escaped}"));
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let joined = match base.split_once('?') {
        None => format!("{base}?options={setting}"),
        Some((before, query)) => {
            let mut found = false;
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.strip_prefix("options=") {
                    Some(value) => {
                        found = true;
                        format!("options={value}%20{setting}")
                    }
                    None => param.to_owned(),
                })
                .collect();
            let mut query = params.join("&");
            if !found {
                query.push_str(&format!("&options={setting}"));
            }
            format!("{before}?{query}")
        }
    };
    match fragment {
        Some(fragment) => format!("{joined}#{fragment}"),
        None => joined,
    }
}

/// The one schema a URL's libpq `options` set `search_path` to (`-csearch_path=x` or
/// `-c search_path=x`, quoted or not), as [`url_with_search_path`] writes it: a URL
/// listed in a targets file that names a schema tenant. `None` for a `search_path` of
/// several schemas.
pub(crate) fn search_path_of(url: &str) -> Option<String> {
    let query = url.split('#').next()?.split_once('?')?.1;
    let options = query
        .split('&')
        .find_map(|param| param.strip_prefix("options="))?;
    let options = crate::url_secret::percent_decode(&options.replace('+', " "));
    let (_, value) = options
        .split_once("search_path=")
        .filter(|(before, _)| before.ends_with("-c") || before.ends_with("-c "))?;
    // The setting ends at the first space not escaped by a backslash.
    let mut setting = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => setting.extend(chars.next()),
            ' ' => break,
            c => setting.push(c),
        }
    }
    match setting.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(quoted) => Some(quoted.replace("\"\"", "\"")),
        None if setting.is_empty() || setting.contains(',') => None,
        None => Some(setting),
    }
}

/// Every byte but unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_is_a_like_pattern_whose_underscores_are_literal() {
        assert_eq!(glob_to_like("tenant_*"), "tenant\\_%");
        assert_eq!(glob_to_like("t?%"), "t_\\%");
        assert_eq!(glob_to_like("a\\b"), "a\\\\b");
    }

    #[test]
    fn the_url_sets_the_search_path_to_the_quoted_schema() {
        assert_eq!(
            url_with_search_path("postgres://u@h/db", "acme"),
            "postgres://u@h/db?options=-csearch_path%3D%22acme%22"
        );
        assert_eq!(
            url_with_search_path("postgres://u@h/db?sslmode=disable", "a b"),
            "postgres://u@h/db?sslmode=disable&options=-csearch_path%3D%22a%5C%20b%22"
        );
        assert_eq!(
            url_with_search_path("postgres://u@h/db?options=-cwork_mem%3D1MB", "x"),
            "postgres://u@h/db?options=-cwork_mem%3D1MB%20-csearch_path%3D%22x%22"
        );
    }

    #[test]
    fn the_schema_is_read_back_from_a_url() {
        for schema in ["acme", "a b", "q\"uote"] {
            let url = url_with_search_path("postgres://u@h/db?sslmode=disable", schema);
            assert_eq!(search_path_of(&url).as_deref(), Some(schema), "{url}");
        }
        let plain = "postgres://u@h/db?options=-c%20search_path%3Dtenant_a";
        assert_eq!(search_path_of(plain).as_deref(), Some("tenant_a"));
        assert_eq!(
            search_path_of("postgres://u@h/db?options=-csearch_path%3Da,b"),
            None
        );
        assert_eq!(search_path_of("postgres://u@h/db"), None);
    }
}
