//! `print-schema`, and the schema files brought up to date after the commands that
//! change the schema, as diesel CLI does after `migration run`.

use super::out::{errln, out, outln};
use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::ArgAction;

use crate::config::DieselToml;
use crate::print_schema::{self, AllowTables, ColumnSorting, DocConfig, Filter, SchemaFile};
use crate::{Error, Result};

use super::Options;

/// diesel's `print-schema`: the schema of the database as Rust, on stdout.
///
/// With no options, every configuration of diesel.toml's [print_schema] section (and its
/// [print_schema.NAME] sections) is printed, in the order of their names. The options
/// change them as diesel CLI's do: without [print_schema.NAME] sections they change the
/// unnamed one; with them, each option changes the configuration of the --schema-key
/// before it on the command line (and none without a --schema-key).
#[derive(Debug, Clone, Default)]
pub(crate) struct PrintSchemaArgs {
    options: PrintSchemaOptions,
    /// Where each option's values are on the command line (clap's indices), by the
    /// option's id: the --schema-key before a value is the configuration it changes.
    places: BTreeMap<String, Vec<usize>>,
}

impl clap::FromArgMatches for PrintSchemaArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        let options = PrintSchemaOptions::from_arg_matches(matches)?;
        let places = matches
            .ids()
            .filter(|id| {
                // A default value is no place on the command line.
                matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .filter_map(|id| {
                let indices = matches.indices_of(id.as_str())?;
                Some((id.to_string(), indices.collect()))
            })
            .collect();
        Ok(PrintSchemaArgs { options, places })
    }

    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for PrintSchemaArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        PrintSchemaOptions::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        PrintSchemaOptions::augment_args_for_update(command)
    }
}

/// diesel's `print-schema` options. Each may be given more than once, as diesel's may:
/// once per --schema-key.
#[derive(Debug, Clone, Default, clap::Args)]
struct PrintSchemaOptions {
    /// The name of the schema (PostgreSQL) or database (MySQL) to print.
    #[arg(short = 's', long = "schema", value_name = "SCHEMA", action = ArgAction::Append)]
    schema: Vec<String>,

    /// Table names to filter (regular expressions), with --only-tables or --except-tables.
    #[arg(value_name = "TABLE_NAME")]
    table_names: Vec<String>,

    /// Only include the tables whose name matches a TABLE_NAME.
    #[arg(short = 'o', long = "only-tables", num_args = 0, default_missing_value = "true", action = ArgAction::Append)]
    only_tables: Vec<bool>,

    /// Exclude the tables whose name matches a TABLE_NAME.
    #[arg(short = 'e', long = "except-tables", num_args = 0, default_missing_value = "true", action = ArgAction::Append)]
    except_tables: Vec<bool>,

    /// Render documentation comments for tables and columns.
    #[arg(long = "with-docs", num_args = 0, default_missing_value = "true", action = ArgAction::Append)]
    with_docs: Vec<bool>,

    /// Which documentation comments to render.
    #[arg(long = "with-docs-config", value_name = "MODE", action = ArgAction::Append, value_parser = clap::builder::PossibleValuesParser::new(DocConfig::NAMES))]
    with_docs_config: Vec<String>,

    /// Group tables in allow_tables_to_appear_in_same_query!().
    #[arg(
        long = "allow-tables-to-appear-in-same-query-config",
        value_name = "MODE",
        action = ArgAction::Append,
        value_parser = ["fk_related_tables", "all_tables", "none"]
    )]
    allow_tables: Vec<String>,

    /// Sort order for table columns.
    #[arg(long = "column-sorting", value_name = "ORDER", action = ArgAction::Append, value_parser = ["ordinal_position", "name"])]
    column_sorting: Vec<String>,

    /// A unified diff file to be applied to the final schema.
    #[arg(long = "patch-file", value_name = "FILE", action = ArgAction::Append)]
    patch_file: Vec<PathBuf>,

    /// A type to import for every table (repeat for more).
    #[arg(long = "import-types", value_name = "TYPE")]
    import_types: Vec<String>,

    /// Generate no SQL type definitions for types diesel does not provide.
    #[arg(long = "no-generate-missing-sql-type-definitions", num_args = 0, default_missing_value = "true", action = ArgAction::Append)]
    no_generate_missing_sql_type_definitions: Vec<bool>,

    /// Regular expressions of custom types not to define.
    #[arg(long = "except-custom-type-definitions", value_name = "REGEX", num_args = 1..)]
    except_custom_type_definitions: Vec<String>,

    /// A derive of every generated SQL type (repeat for more).
    #[arg(long = "custom-type-derives", value_name = "DERIVE")]
    custom_type_derives: Vec<String>,

    /// A regular expression of PostgreSQL domains that get a type of their own.
    #[arg(long = "pg-domains-as-custom-types", value_name = "REGEX")]
    pg_domains_as_custom_types: Vec<String>,

    /// The diesel.toml configuration the options after it change ("default":
    /// [print_schema]); repeat it for each configuration to change.
    #[arg(long = "schema-key", value_name = "KEY", default_value = "default")]
    schema_key: Vec<String>,

    /// For SQLite 3.37 and above, detect `INTEGER PRIMARY KEY` columns as `BigInt`, when
    /// the table isn't declared with `WITHOUT ROWID`.
    #[arg(long = "sqlite-integer-primary-key-is-bigint", num_args = 0, default_missing_value = "true", action = ArgAction::Append)]
    sqlite_integer_primary_key_is_bigint: Vec<bool>,
}

fn regexes<'a>(patterns: impl IntoIterator<Item = &'a String>) -> Result<Vec<regex::Regex>> {
    patterns
        .into_iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| Error::PrintSchema {
                reason: format!("Invalid argument for table filtering regex: {e}"),
            })
        })
        .collect()
}

/// Which of the command line's values an option takes: those at these places.
type Places = std::ops::Range<usize>;

impl PrintSchemaArgs {
    /// The values of option `id` (its field's values, `values`) given within `places`.
    fn within<'a, T>(&self, id: &str, values: &'a [T], places: &Places) -> Vec<&'a T> {
        let Some(at) = self.places.get(id) else {
            return Vec::new();
        };
        at.iter()
            .zip(values)
            .filter(|(place, _)| places.contains(place))
            .map(|(_, value)| value)
            .collect()
    }

    /// The first value of option `id` given within `places`, as diesel takes one.
    fn first<'a, T>(&self, id: &str, values: &'a [T], places: &Places) -> Option<&'a T> {
        self.within(id, values, places).into_iter().next()
    }

    /// Whether flag `id` is given within `places`.
    fn flag(&self, id: &str, values: &[bool], places: &Places) -> bool {
        self.first(id, values, places).copied().unwrap_or(false)
    }

    /// The configuration with the options given within `places` applied; `all` when
    /// they are every option (diesel's single configuration, which also takes the
    /// PostgreSQL domains option; diesel reads it for no named configuration).
    fn apply(&self, config: &mut print_schema::Config, places: &Places, all: bool) -> Result<()> {
        let o = &self.options;
        let tables = self.within("table_names", &o.table_names, places);
        if !tables.is_empty() {
            let only = self.flag("only_tables", &o.only_tables, places);
            let except = self.flag("except_tables", &o.except_tables, places);
            // Both given: diesel's single configuration takes --only-tables, a named
            // one --except-tables.
            if only && (all || !except) {
                config.filter = Filter::OnlyTables(regexes(tables)?);
            } else if except {
                config.filter = Filter::ExceptTables(regexes(tables)?);
            }
        }
        if let Some(schema) = self.first("schema", &o.schema, places) {
            config.schema = Some(schema.clone());
        }
        if self.flag("with_docs", &o.with_docs, places) {
            config.with_docs = DocConfig::DatabaseCommentsFallbackToAutoGeneratedDocComment;
        }
        if let Some(mode) = self
            .first("with_docs_config", &o.with_docs_config, places)
            .and_then(|mode| DocConfig::from_name(mode))
        {
            config.with_docs = mode;
        }
        if let Some(mode) = self
            .first("allow_tables", &o.allow_tables, places)
            .and_then(|mode| AllowTables::from_name(mode))
        {
            config.allow_tables = mode;
        }
        match self
            .first("column_sorting", &o.column_sorting, places)
            .map(String::as_str)
        {
            Some("name") => config.column_sorting = ColumnSorting::Name,
            Some(_) => config.column_sorting = ColumnSorting::OrdinalPosition,
            None => {}
        }
        if let Some(patch) = self.first("patch_file", &o.patch_file, places) {
            config.patch_file = Some(patch.clone());
        }
        let import_types = self.within("import_types", &o.import_types, places);
        if !import_types.is_empty() {
            config.import_types = Some(import_types.into_iter().cloned().collect());
        }
        if self.flag(
            "no_generate_missing_sql_type_definitions",
            &o.no_generate_missing_sql_type_definitions,
            places,
        ) {
            config.generate_missing_sql_type_definitions = Some(false);
        }
        let except = self.within(
            "except_custom_type_definitions",
            &o.except_custom_type_definitions,
            places,
        );
        if !except.is_empty() {
            config.except_custom_type_definitions = regexes(except)?;
        }
        let derives = self.within("custom_type_derives", &o.custom_type_derives, places);
        if !derives.is_empty() {
            config.custom_type_derives = Some(derives.into_iter().cloned().collect());
        }
        let domains = self.within(
            "pg_domains_as_custom_types",
            &o.pg_domains_as_custom_types,
            places,
        );
        if all && !domains.is_empty() {
            config.pg_domains_as_custom_types = regexes(domains)?;
        }
        if self.flag(
            "sqlite_integer_primary_key_is_bigint",
            &o.sqlite_integer_primary_key_is_bigint,
            places,
        ) {
            config.sqlite_integer_primary_key_is_bigint = Some(true);
        }
        Ok(())
    }

    /// The configurations with the options applied, as diesel CLI applies them.
    fn configure(
        &self,
        mut configs: BTreeMap<String, print_schema::Config>,
    ) -> Result<BTreeMap<String, print_schema::Config>> {
        if !configs.keys().any(|name| name != "default") {
            // One configuration: every option changes it, whatever --schema-key says.
            let config = configs.entry("default".to_owned()).or_default();
            self.apply(config, &(0..usize::MAX), true)?;
            return Ok(configs);
        }
        // Named configurations: each --schema-key takes the options up to the next.
        // Without one on the command line, diesel applies none of them.
        let at = self.places.get("schema_key").cloned().unwrap_or_default();
        let ends = at.iter().skip(1).copied().chain([usize::MAX]);
        for ((key, start), end) in self.options.schema_key.iter().zip(&at).zip(ends) {
            let Some(config) = configs.get_mut(key.as_str()) else {
                return Err(Error::PrintSchema {
                    reason: format!("No `[print_schema.{key}]` entries in your diesel.toml"),
                });
            };
            self.apply(config, &(*start..end), false)?;
        }
        Ok(configs)
    }
}

/// `print-schema`: every configuration's schema, on stdout.
pub(super) fn print(options: &Options, toml: DieselToml, args: &PrintSchemaArgs) -> Result<()> {
    let url = options.url()?;
    let mut conn = options.connect(&url)?;
    let configs = args.configure(toml.print_schema)?;
    for config in configs.values() {
        let schema = print_schema::print_schema(&mut conn, config)?;
        for warning in &schema.warnings {
            errln!("{warning}");
        }
        out!("{}", schema.text);
    }
    Ok(())
}

/// Brings every `file` of diesel.toml's [print_schema] up to date with the database, as
/// diesel CLI does after the commands that change the schema; with `--locked-schema`,
/// fails instead (printing the difference on stdout) when one would change. Says which
/// files it wrote.
pub(super) fn regenerate(options: &Options, toml: &DieselToml, url: &str) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for config in toml.schema_files() {
        let mut conn = options.connect(url)?;
        let Some(file) = SchemaFile::plan(&mut conn, config)? else {
            continue;
        };
        for warning in &file.schema.warnings {
            errln!("{warning}");
        }
        if options.locked_schema {
            if file.current.is_none() {
                return Err(Error::Io {
                    path: file.path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the schema file does not exist (--locked-schema)",
                    ),
                });
            }
            if !file.is_current() {
                // Under --format json stdout is the error document alone.
                if options.format == super::Format::Json {
                    errln!("{}", file.diff());
                } else {
                    outln!("{}", file.diff());
                }
                return Err(Error::SchemaWouldChange { path: file.path });
            }
        } else if file.current.as_deref() != Some(file.schema.text.as_str()) {
            file.write()?;
            written.push(file.path);
        }
    }
    Ok(written)
}
