//! Where the database and the migrations are, found the way diesel CLI finds them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{print_schema, Error, Result};

/// The database URL: the flag, else `DATABASE_URL` (from the environment or `.env`).
pub fn database_url(flag: Option<&str>) -> Result<String> {
    if let Some(url) = flag.filter(|u| !u.is_empty()) {
        return Ok(url.to_owned());
    }
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .ok_or(Error::NoDatabaseUrl)
}

/// The migrations folder, searched as diesel CLI does: the flag, else
/// `MIGRATION_DIRECTORY`, else `[migrations_directory] dir` in `diesel.toml`
/// (relative to that file), else a `migrations/` folder in the working directory or
/// the nearest parent that has one.
pub(crate) fn migration_dir(flag: Option<&Path>, config_file: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("MIGRATION_DIRECTORY").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = DieselToml::find(config_file)?.migrations_directory {
        return Ok(dir);
    }
    let cwd = current_dir()?;
    cwd.ancestors()
        .map(|dir| dir.join("migrations"))
        .find(|candidate| candidate.is_dir())
        .ok_or(Error::NoMigrationDirectory { searched_from: cwd })
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|source| Error::Io {
        path: PathBuf::from("."),
        source,
    })
}

/// diesel CLI's project root: the nearest folder, from the working directory up, with
/// a `diesel.toml`, else the nearest with a `Cargo.toml`.
pub(crate) fn project_root() -> Result<PathBuf> {
    let cwd = current_dir()?;
    ["diesel.toml", "Cargo.toml"]
        .iter()
        .find_map(|file| {
            cwd.ancestors()
                .find(|dir| dir.join(file).is_file())
                .map(Path::to_path_buf)
        })
        .ok_or(Error::ProjectRootNotFound { searched_from: cwd })
}

/// Where diesel CLI's `diesel.toml` is: `--config-file`, else `DIESEL_CONFIG_FILE`, else
/// `diesel.toml` in the [project root](project_root) (in the working directory when
/// there is none). It may not exist.
pub(crate) fn config_file(flag: Option<&Path>) -> PathBuf {
    if let Some(file) = flag {
        return file.to_path_buf();
    }
    if let Some(file) = std::env::var_os("DIESEL_CONFIG_FILE").filter(|f| !f.is_empty()) {
        return PathBuf::from(file);
    }
    project_root().unwrap_or_default().join("diesel.toml")
}

/// What `diesel setup` writes into a new `diesel.toml`, with the migrations folder
/// relative to the project root.
pub(crate) fn default_diesel_toml(migrations_dir: &str) -> String {
    format!(
        "# For documentation on how to configure this file,\n\
         # see https://diesel.rs/guides/configuring-diesel-cli\n\
         \n\
         [print_schema]\n\
         file = \"src/schema.rs\"\n\
         custom_type_derives = [\"diesel::query_builder::QueryId\", \"Clone\"]\n\
         \n\
         [migrations_directory]\n\
         dir = \"{}\"\n",
        migrations_dir.replace('\\', "\\\\")
    )
}

/// diesel CLI's `diesel.toml`, read as diesel CLI 2.3 reads it: `[migrations_directory]`
/// and `[print_schema]` (with its named `[print_schema.NAME]` sections), every other
/// section or key refused, paths made relative to the file's folder. A file that does
/// not exist is an empty configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct DieselToml {
    /// `[migrations_directory] dir`.
    pub(crate) migrations_directory: Option<PathBuf>,
    /// `[print_schema]`: the configurations by name, the unnamed one as `default`.
    pub(crate) print_schema: BTreeMap<String, print_schema::Config>,
}

impl DieselToml {
    /// The `diesel.toml` diesel CLI would use (see [`config_file`]).
    pub(crate) fn find(flag: Option<&Path>) -> Result<DieselToml> {
        DieselToml::read(&config_file(flag))
    }

    /// Reads a `diesel.toml`; one that does not exist is an empty configuration.
    pub(crate) fn read(path: &Path) -> Result<DieselToml> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DieselToml {
                    print_schema: BTreeMap::from([(
                        "default".to_owned(),
                        print_schema::Config::default(),
                    )]),
                    ..DieselToml::default()
                })
            }
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut named = BTreeMap::new();
        let mut unnamed = toml::Table::new();
        for (key, value) in raw.print_schema.unwrap_or_default() {
            if PRINT_SCHEMA_KEYS.contains(&key.as_str()) {
                unnamed.insert(key, value);
            } else if let toml::Value::Table(table) = value {
                named.insert(key, table);
            } else {
                return Err(bad(format!(
                    "unknown key `{key}` in [print_schema]: expected one of {}, or a \
                     [print_schema.NAME] section",
                    PRINT_SCHEMA_KEYS.join(", ")
                )));
            }
        }
        let section = |name: &str, table: toml::Table| -> Result<print_schema::Config> {
            let raw: RawPrintSchema =
                toml::Value::Table(table)
                    .try_into()
                    .map_err(|e: toml::de::Error| {
                        bad(format!("[{name}]: {}", e.message().trim_end()))
                    })?;
            raw.into_config(base)
                .map_err(|message| bad(format!("[{name}]: {message}")))
        };
        let mut print_schema = BTreeMap::new();
        for (name, table) in named {
            let config = section(&format!("print_schema.{name}"), table)?;
            print_schema.insert(name, config);
        }
        if !print_schema.contains_key("default") {
            print_schema.insert("default".to_owned(), section("print_schema", unnamed)?);
        }
        Ok(DieselToml {
            migrations_directory: raw.migrations_directory.map(|m| base.join(m.dir)),
            print_schema,
        })
    }

    /// The configurations that name a schema file to keep up to date, by name.
    pub(crate) fn schema_files(&self) -> impl Iterator<Item = &print_schema::Config> {
        self.print_schema.values().filter(|c| c.file.is_some())
    }
}

/// The keys of a `[print_schema]` section.
const PRINT_SCHEMA_KEYS: &[&str] = &[
    "file",
    "with_docs",
    "allow_tables_to_appear_in_same_query_config",
    "filter",
    "column_sorting",
    "schema",
    "patch_file",
    "import_types",
    "generate_missing_sql_type_definitions",
    "except_custom_type_definitions",
    "custom_type_derives",
    "sqlite_integer_primary_key_is_bigint",
    "pg_domains_as_custom_types",
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    print_schema: Option<toml::Table>,
    migrations_directory: Option<RawMigrationsDirectory>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrationsDirectory {
    dir: PathBuf,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrintSchema {
    file: Option<PathBuf>,
    with_docs: Option<RawDocs>,
    allow_tables_to_appear_in_same_query_config: Option<String>,
    filter: Option<RawFilter>,
    column_sorting: Option<String>,
    schema: Option<String>,
    patch_file: Option<PathBuf>,
    import_types: Option<Vec<String>>,
    generate_missing_sql_type_definitions: Option<bool>,
    #[serde(default)]
    except_custom_type_definitions: Vec<String>,
    custom_type_derives: Option<Vec<String>>,
    sqlite_integer_primary_key_is_bigint: Option<bool>,
    #[serde(default)]
    pg_domains_as_custom_types: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum RawDocs {
    Flag(bool),
    Mode(String),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    only_tables: Option<Vec<String>>,
    except_tables: Option<Vec<String>>,
}

fn regexes(key: &str, patterns: Vec<String>) -> std::result::Result<Vec<regex::Regex>, String> {
    patterns
        .into_iter()
        .map(|p| regex::Regex::new(&p).map_err(|e| format!("{key}: `{p}` is not a regex: {e}")))
        .collect()
}

impl RawPrintSchema {
    fn into_config(self, base: &Path) -> std::result::Result<print_schema::Config, String> {
        use print_schema::{AllowTables, ColumnSorting, DocConfig, Filter};
        let with_docs = match self.with_docs {
            None | Some(RawDocs::Flag(false)) => DocConfig::NoDocComments,
            Some(RawDocs::Flag(true)) => {
                DocConfig::DatabaseCommentsFallbackToAutoGeneratedDocComment
            }
            Some(RawDocs::Mode(mode)) => DocConfig::from_name(&mode).ok_or_else(|| {
                format!(
                    "with_docs: unknown mode `{mode}`, expected true, false or one of {}",
                    DocConfig::NAMES.join(", ")
                )
            })?,
        };
        let allow_tables = match self.allow_tables_to_appear_in_same_query_config {
            None => AllowTables::default(),
            Some(mode) => AllowTables::from_name(&mode).ok_or_else(|| {
                format!(
                    "allow_tables_to_appear_in_same_query_config: unknown mode `{mode}`, \
                     expected fk_related_tables, all_tables or none"
                )
            })?,
        };
        let column_sorting = match self.column_sorting.as_deref() {
            None | Some("ordinal_position") => ColumnSorting::OrdinalPosition,
            Some("name") => ColumnSorting::Name,
            Some(other) => {
                return Err(format!(
                    "column_sorting: unknown sorting `{other}`, expected ordinal_position or name"
                ))
            }
        };
        let filter = match self.filter {
            None => Filter::None,
            Some(RawFilter {
                only_tables: Some(only),
                except_tables: None,
            }) => Filter::OnlyTables(regexes("filter.only_tables", only)?),
            Some(RawFilter {
                only_tables: None,
                except_tables: Some(except),
            }) => Filter::ExceptTables(regexes("filter.except_tables", except)?),
            Some(RawFilter {
                only_tables: None,
                except_tables: None,
            }) => Filter::None,
            Some(_) => {
                return Err("filter: only_tables and except_tables cannot both be given".to_owned())
            }
        };
        let relative = |path: PathBuf| {
            if path.is_relative() {
                base.join(path)
            } else {
                path
            }
        };
        Ok(print_schema::Config {
            file: self.file.map(relative),
            with_docs,
            allow_tables,
            filter,
            column_sorting,
            schema: self.schema,
            patch_file: self.patch_file.map(relative),
            import_types: self.import_types,
            generate_missing_sql_type_definitions: self.generate_missing_sql_type_definitions,
            except_custom_type_definitions: regexes(
                "except_custom_type_definitions",
                self.except_custom_type_definitions,
            )?,
            custom_type_derives: self.custom_type_derives,
            sqlite_integer_primary_key_is_bigint: self.sqlite_integer_primary_key_is_bigint,
            pg_domains_as_custom_types: regexes(
                "pg_domains_as_custom_types",
                self.pg_domains_as_custom_types,
            )?,
        })
    }
}
