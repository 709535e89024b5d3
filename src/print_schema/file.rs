//! A schema file (`file = …` of `diesel.toml`) kept in step with the database.

use std::path::PathBuf;

use super::{print_schema, Config, PrintedSchema};
use crate::{Database, Error, Result};

/// One schema file to keep in step with the database: a `file = …` of `diesel.toml`,
/// what is in it now, and what `print-schema` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaFile {
    /// The file.
    pub path: PathBuf,
    /// Its text now, `None` if it does not exist.
    pub current: Option<String>,
    /// What it should hold.
    pub schema: PrintedSchema,
}

impl SchemaFile {
    /// What the schema file of `config` should hold, if it names one (its folder is
    /// created, as diesel CLI creates it).
    pub(crate) fn plan<C: Database>(conn: &mut C, config: &Config) -> Result<Option<SchemaFile>> {
        let Some(path) = &config.file else {
            return Ok(None);
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let schema = print_schema(conn, config)?;
        let current = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(Error::Io {
                    path: path.clone(),
                    source,
                })
            }
        };
        Ok(Some(SchemaFile {
            path: path.clone(),
            current,
            schema,
        }))
    }

    /// Whether the file holds the schema already, line by line (as diesel compares).
    pub(crate) fn is_current(&self) -> bool {
        self.current
            .as_deref()
            .is_some_and(|text| text.lines().eq(self.schema.text.lines()))
    }

    /// A unified diff from the file to the schema.
    pub(crate) fn diff(&self) -> String {
        let label = self
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let patch = diffy::create_patch(self.current.as_deref().unwrap_or(""), &self.schema.text);
        let text = diffy::PatchFormatter::new().fmt_patch(&patch).to_string();
        text.replacen("--- original", &format!("--- {label}"), 1)
            .replacen("+++ modified", "+++ new schema", 1)
    }

    /// Writes the schema into the file.
    pub(crate) fn write(&self) -> Result<()> {
        std::fs::write(&self.path, &self.schema.text).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }
}
