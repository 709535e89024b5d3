//! `schema.rs` as diesel CLI 2.3's `print-schema` writes it, byte for byte, from
//! introspection queries of pelican's own, on SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! [`print_schema`] reads the database and renders the `table!`, `joinable!` and
//! `allow_tables_to_appear_in_same_query!` invocations as diesel lays them out, passes
//! the text through `rustfmt` as diesel does (kept as it is where `rustfmt` cannot run),
//! and applies the `patch_file` of the configuration. Every key of diesel's
//! `[print_schema]` section of `diesel.toml` is honoured ([`Config`], read by
//! [`crate::config::DieselToml`]). [`SchemaFile`] is one `file = …` to bring up to date
//! after a migration, as diesel CLI does after `migration run`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Backend, Database, Error, Result};

mod config;
mod file;
mod inspect;
mod introspection;
mod model;
mod mysql;
mod postgres;
mod render;
mod sqlite;

pub(crate) use config::{AllowTables, ColumnSorting, Config, DocConfig, Filter};
pub(crate) use file::SchemaFile;
use introspection::{ColumnOf, Introspection, Load, Session};
pub(crate) use render::{CustomColumn, SqlType};

use inspect::Inspector;

/// What [`print_schema`] printed, and what diesel CLI would have said on stderr while
/// printing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrintedSchema {
    /// The text of `schema.rs`.
    pub text: String,
    /// Warnings (a `varchar[]` column on PostgreSQL).
    pub warnings: Vec<String>,
}

/// Reads the schema of the database and prints it as diesel CLI 2.3's `print-schema`
/// does with this configuration: through `rustfmt` when it runs, then patched.
pub(crate) fn print_schema<C: Database>(conn: &mut C, config: &Config) -> Result<PrintedSchema> {
    let mut inspector = Inspector::new(conn, config)?;
    let text = inspector.render()?;
    let text = rustfmt(&text).unwrap_or(text);
    let text = match &config.patch_file {
        Some(path) => apply_patch(&text, path)?,
        None => text,
    };
    Ok(PrintedSchema {
        text,
        warnings: inspector.session.warnings,
    })
}

/// How print-schema reads a backend's schema and names its types: the one place it
/// chooses per backend, so that a new backend is a compile error here until it has an
/// introspection of its own.
fn introspection(backend: Backend) -> &'static dyn Introspection {
    match backend {
        Backend::Sqlite => &sqlite::Sqlite,
        Backend::Postgres => &postgres::Postgres,
        Backend::Mysql => &mysql::Mysql,
    }
}

/// The text through `rustfmt`, as diesel CLI formats it (same program, same working
/// folder); `None` where it cannot run or fails, and diesel prints the text as it is.
fn rustfmt(text: &str) -> Option<String> {
    let mut child = Command::new("rustfmt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().ok()?;
    match written {
        Some(Ok(())) if output.status.success() => String::from_utf8(output.stdout).ok(),
        _ => None,
    }
}

/// The text with a unified diff applied, as diesel CLI applies `patch_file`.
fn apply_patch(text: &str, path: &Path) -> Result<String> {
    let patch_text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let patch = diffy::Patch::from_str(&patch_text).map_err(|e| Error::PrintSchema {
        reason: format!("Failed to parse patch file {}: {e}", path.display()),
    })?;
    diffy::apply(text, &patch).map_err(|e| Error::PrintSchema {
        reason: format!(
            "Failed to apply patch {}: {e} (the schema no longer has the lines it changes: \
             update the patch)",
            path.display()
        ),
    })
}
