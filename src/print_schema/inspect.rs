//! Reading one database's schema into the model, table by table, and rendering it.

use std::collections::HashMap;

use super::introspection::COMMON_TYPES;
use super::model::{self, Column, ForeignKey, TableData, TableName};
use super::render;
use super::{ColumnOf, Config, DocConfig, Introspection, Session};
use crate::{Database, Error, Result};

/// Reads one database's schema through the introspection of its backend.
pub(super) struct Inspector<'c> {
    pub(super) session: Session<'c>,
    introspection: &'static dyn Introspection,
}

impl<'c> Inspector<'c> {
    pub(super) fn new<C: Database>(conn: &'c mut C, config: &'c Config) -> Result<Self> {
        let introspection = super::introspection(conn.backend());
        let default_schema = introspection.default_schema(conn)?;
        Ok(Inspector {
            session: Session {
                conn,
                config,
                default_schema,
                warnings: Vec::new(),
            },
            introspection,
        })
    }

    /// The tables of the schema asked for (or the default one), sorted.
    fn table_names(&mut self) -> Result<Vec<TableName>> {
        let names = self.introspection.table_names(&mut self.session)?;
        let session = &self.session;
        Ok(names
            .into_iter()
            .map(|name| match &session.config.schema {
                Some(schema) => TableName::in_schema(name, schema.clone(), &session.default_schema),
                None => TableName::new(name),
            })
            .collect())
    }

    /// Every foreign key of the schema, sorted, with reserved Rust names made usable.
    fn foreign_keys(&mut self) -> Result<Vec<ForeignKey>> {
        let mut keys = self.introspection.foreign_keys(&mut self.session)?;
        keys.sort();
        for key in &mut keys {
            for name in &mut key.columns_rust {
                if model::is_reserved_name(name) {
                    name.push('_');
                }
            }
        }
        Ok(keys)
    }

    fn primary_keys(&mut self, table: &TableName) -> Result<Vec<String>> {
        let keys = self.introspection.primary_keys(&mut self.session, table)?;
        if keys.is_empty() {
            return Err(Error::PrintSchema {
                reason: format!(
                    "Diesel only supports tables with primary keys. Table `{table}` has no \
                     primary key (leave it out with `filter = {{ except_tables = [...] }}`)"
                ),
            });
        }
        Ok(keys)
    }

    /// The foreign keys diesel can write a `joinable!` for: between two printed tables,
    /// of one column, to a single-column primary key, the only one between the two.
    fn joinable(&mut self, keys: &[ForeignKey], tables: &[TableName]) -> Result<Vec<ForeignKey>> {
        let pairs: Vec<(&TableName, &TableName)> =
            keys.iter().map(ForeignKey::ordered_tables).collect();
        let duplicated = |key: &ForeignKey| {
            let pair = key.ordered_tables();
            pairs.iter().filter(|p| **p == pair).count() > 1
        };
        let mut kept = Vec::new();
        for key in keys {
            if key.parent == key.child
                || !tables.contains(&key.parent)
                || !tables.contains(&key.child)
                || key.columns.len() != 1
            {
                continue;
            }
            let parent_keys = self.primary_keys(&key.parent)?;
            if parent_keys.len() != 1 || key.referenced.first() != parent_keys.first() {
                continue;
            }
            if !duplicated(key) {
                kept.push(key.clone());
            }
        }
        Ok(kept)
    }

    fn table_data(&mut self, name: TableName, all_keys: &[ForeignKey]) -> Result<TableData> {
        let comment = match self.session.config.with_docs {
            DocConfig::NoDocComments => None,
            _ => self.introspection.comment(&mut self.session, &name)?,
        };
        let primary_key = self.primary_keys(&name)?;
        // diesel looks a column's foreign key up by the column's Rust name.
        let keys: HashMap<String, ForeignKey> = all_keys
            .iter()
            .filter(|k| k.child == name && k.columns.len() == 1)
            .map(|k| (k.columns_rust[0].clone(), k.clone()))
            .collect();
        let infos = self.introspection.columns(&mut self.session, &name)?;
        let mut columns = Vec::new();
        for info in infos {
            let column = ColumnOf {
                info: &info,
                table: &name,
                primary_key: &primary_key,
                foreign_keys: &keys,
            };
            let ty = self.introspection.column_type(&mut self.session, &column)?;
            columns.push(Column {
                rust_name: model::rust_name_for_sql_name(&info.name, Some(&name)),
                sql_name: info.name,
                ty,
                comment: info.comment,
            });
        }
        let primary_key = primary_key
            .iter()
            .map(|key| model::rust_name_for_sql_name(key, Some(&name)))
            .collect();
        Ok(TableData {
            name,
            primary_key,
            columns,
            comment,
        })
    }

    /// The text before rustfmt.
    pub(super) fn render(&mut self) -> Result<String> {
        let config = self.session.config;
        let names: Vec<TableName> = self
            .table_names()?
            .into_iter()
            .filter(|t| !config.filter.ignores(&t.sql_name))
            .collect();
        let all_keys = self.foreign_keys()?;
        let joinable = self.joinable(&all_keys, &names)?;
        let type_keys = if self.introspection.types_need_foreign_keys(config) {
            all_keys
        } else {
            Vec::new()
        };
        let mut tables = Vec::new();
        for name in names {
            tables.push(self.table_data(name, &type_keys)?);
        }
        let custom_types = config
            .generate_missing_sql_type_definitions()
            .then(|| self.custom_types(&tables));
        let definitions = render::Definitions {
            tables: &tables,
            foreign_keys: &joinable,
            with_docs: config.with_docs,
            allow_tables: config.allow_tables,
            import_types: config.import_types.as_deref(),
            custom_types,
            module: config
                .schema
                .as_deref()
                .map(|s| model::rust_name_for_sql_name(s, None)),
        };
        Ok(definitions.render())
    }

    /// For each column, the SQL type to define for it, if diesel does not provide one.
    fn custom_types(&self, tables: &[TableData]) -> render::CustomTypes {
        let config = self.session.config;
        let provided = |rust_name: &str| {
            COMMON_TYPES.contains(&rust_name)
                || self.introspection.provided_types().contains(&rust_name)
        };
        let per_column = tables
            .iter()
            .map(|table| {
                table
                    .columns
                    .iter()
                    .map(|column| {
                        let ty = &column.ty;
                        let excepted = config
                            .except_custom_type_definitions
                            .iter()
                            .any(|r| r.is_match(&ty.rust_name));
                        if provided(&ty.rust_name) || excepted {
                            return None;
                        }
                        Some(
                            self.introspection
                                .custom_type(&table.name, &column.rust_name, ty),
                        )
                    })
                    .collect()
            })
            .collect();
        render::CustomTypes {
            introspection: self.introspection,
            per_column,
            with_docs: config.with_docs
                == DocConfig::DatabaseCommentsFallbackToAutoGeneratedDocComment,
            derives: config.custom_type_derives(),
        }
    }
}
