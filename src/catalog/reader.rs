//! Reading one database's catalog again and again, as `check`'s round trip does after
//! every run of a migration, without reading again what has not changed.
//!
//! A [`Catalog`] is one read: the rows of the backend's introspection query, grouped
//! by table where the backend can tell, from a cheap list of its objects, which
//! tables changed. Where it can (SQLite, whose whole schema is the text of
//! `sqlite_master`: every row of the introspection query follows from the
//! `sqlite_master` rows of one table, its indexes and its triggers), a [`Reader`]
//! reads that list, and runs the introspection query only for the tables whose rows
//! are not ones it has read before. Elsewhere it reads the whole catalog each time, as
//! [`Schema::introspect`] does (on PostgreSQL as a statement prepared once per
//! session: planning the query cost more than running it).
//!
//! Two catalogs whose rows are equal describe equal schemas; two whose rows differ
//! are compared as [`Schema`]s, which decides.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use diesel::sql_types::{Nullable, Text};

use super::{is_ledger, CatalogRow, Count, Kind, Schema};
use diesel::QueryResult;

use crate::connection::Row;
use crate::{Backend, Database, Error, Result};

/// One object in the backend's list of them (SQLite: a row of `sqlite_master`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::QueryableByName)]
pub(crate) struct ObjectRow {
    /// The group it belongs to: the table it is, or is on, as the backend compares names.
    #[diesel(sql_type = Text)]
    grp: String,
    /// The name its group's introspection is asked for by (SQLite: `tbl_name`).
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    /// Its whole definition.
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
}

/// The catalog rows of one group.
#[derive(Debug, PartialEq, Eq)]
struct Group {
    rows: Vec<CatalogRow>,
    /// Its tables, by key with their names (the ledger's left out).
    tables: Vec<(String, String)>,
}

impl Group {
    fn new(backend: Backend, rows: Vec<CatalogRow>) -> Group {
        let tables = rows
            .iter()
            .filter(|r| r.kind == "table" && !is_ledger(&r.name))
            .map(|r| (Schema::key(backend, Kind::Table, &r.name), r.name.clone()))
            .collect();
        Group { rows, tables }
    }
}

/// One read of a database's catalog (see the [module](self)).
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    backend: Backend,
    /// The schema (PostgreSQL) or database (MySQL) read, or `main` (SQLite).
    namespace: Option<String>,
    /// Rows that belong to no group (SQLite: the namespace).
    global: Arc<Vec<CatalogRow>>,
    groups: BTreeMap<String, Arc<Group>>,
}

impl Catalog {
    /// The schema it describes.
    pub(crate) fn schema(&self) -> Schema {
        let rows = self
            .global
            .iter()
            .chain(self.groups.values().flat_map(|g| g.rows.iter()))
            .cloned()
            .collect();
        Schema::from_rows(self.backend, rows)
    }

    /// Whether it surely describes the same schema as `other`: false when their rows
    /// differ, which their [`schema`](Catalog::schema)s must then decide.
    pub(crate) fn same_as(&self, other: &Catalog) -> bool {
        self.backend == other.backend
            && self.global == other.global
            && self.groups.len() == other.groups.len()
            && self
                .groups
                .iter()
                .zip(&other.groups)
                .all(|((k, a), (l, b))| k == l && (Arc::ptr_eq(a, b) || a == b))
    }

    /// The tables, by key with their names, the ledger's left out.
    pub(crate) fn tables(&self) -> BTreeMap<String, String> {
        let global = self
            .global
            .iter()
            .filter(|r| r.kind == "table" && !is_ledger(&r.name))
            .map(|r| {
                (
                    Schema::key(self.backend, Kind::Table, &r.name),
                    r.name.clone(),
                )
            });
        self.groups
            .values()
            .flat_map(|g| g.tables.iter().cloned())
            .chain(global)
            .collect()
    }
}

/// The namespace a catalog's rows name, if one does.
fn namespace<'r>(mut rows: impl Iterator<Item = &'r CatalogRow>) -> Option<String> {
    rows.find(|r| r.kind == "namespace").map(|r| r.name.clone())
}

/// How many statements a reader keeps prepared: the catalog query, and the row counts
/// of the tables before and after a migration, in a few chunks.
const PREPARED: usize = 8;

/// Reads catalogs, keeping what it read to read only what changed next time (see the
/// [module](self)). One reader may read several databases of one backend: what it
/// keeps is keyed by the objects' whole definitions, not by database.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    /// The groups read, by their objects.
    groups: HashMap<Vec<ObjectRow>, Arc<Group>>,
    /// The rows of no group the last introspection returned.
    global: Option<Arc<Vec<CatalogRow>>>,
    /// The queries prepared (where the backend prepares them), by their text with
    /// their names, the one used last at the end.
    prepared: Vec<(String, String)>,
    /// How many statements it has named.
    named: usize,
}

impl Reader {
    /// Reads the catalog of the database `conn` is connected to.
    pub(crate) fn read<C: Database>(&mut self, conn: &mut C) -> Result<Catalog> {
        let backend = conn.backend();
        let dialect = backend.dialect();
        let Some(objects_query) = dialect.catalog_objects_query() else {
            let rows = self
                .load(conn, dialect.introspect_sql(), "pelican_catalog")
                .map_err(Error::query("cannot read the database's schema"))?;
            let namespace = namespace(rows.iter());
            let mut groups = BTreeMap::new();
            groups.insert(String::new(), Arc::new(Group::new(backend, rows)));
            return Ok(Catalog {
                backend,
                namespace,
                global: Arc::new(Vec::new()),
                groups,
            });
        };
        let mut objects: Vec<ObjectRow> = conn
            .load_with(objects_query, &[])
            .map_err(Error::query("cannot read the database's schema"))?;
        objects.sort();
        let mut listed: BTreeMap<String, Vec<ObjectRow>> = BTreeMap::new();
        for object in objects {
            listed.entry(object.grp.clone()).or_default().push(object);
        }
        // Each group as read before, if it was.
        let mut groups: BTreeMap<String, Option<Arc<Group>>> = listed
            .iter()
            .map(|(grp, objects)| (grp.clone(), self.groups.get(objects).cloned()))
            .collect();
        let unread = groups.values().filter(|g| g.is_none()).count();
        if unread > 0 || self.global.is_none() {
            let sql = if unread == listed.len() {
                dialect.introspect_sql().to_owned()
            } else {
                let mut names: Vec<&str> = groups
                    .iter()
                    .filter(|(_, group)| group.is_none())
                    .filter_map(|(grp, _)| listed.get(grp))
                    .flat_map(|objects| objects.iter().map(|o| o.tbl.as_str()))
                    .collect();
                names.sort_unstable();
                names.dedup();
                match dialect.introspect_tables_sql(&names) {
                    Some(sql) => sql,
                    None => dialect.introspect_sql().to_owned(),
                }
            };
            let rows: Vec<CatalogRow> = conn
                .load_with(&sql, &[])
                .map_err(Error::query("cannot read the database's schema"))?;
            let mut by_group: BTreeMap<String, Vec<CatalogRow>> = BTreeMap::new();
            let mut global = Vec::new();
            for row in rows {
                let owner = row.tbl.as_deref().unwrap_or(&row.name);
                let grp = dialect.catalog_group(owner);
                match (row.kind.as_str(), groups.get(&grp)) {
                    // A group read before keeps its rows: they follow from its objects.
                    (_, Some(Some(_))) => {}
                    ("namespace", _) | (_, None) => global.push(row),
                    (_, Some(None)) => by_group.entry(grp).or_default().push(row),
                }
            }
            for (grp, objects) in listed {
                if let Some(slot @ None) = groups.get_mut(&grp) {
                    let rows = by_group.remove(&grp).unwrap_or_default();
                    let group = Arc::new(Group::new(backend, rows));
                    self.groups.insert(objects, Arc::clone(&group));
                    *slot = Some(group);
                }
            }
            self.global = Some(Arc::new(global));
        }
        let groups = groups
            .into_iter()
            .filter_map(|(grp, group)| Some((grp, group?)))
            .collect();
        let global = self.global.clone().unwrap_or_default();
        Ok(Catalog {
            backend,
            namespace: namespace(global.iter()),
            global,
            groups,
        })
    }

    /// The number of rows in each of the catalog's tables, read from `conn` in one
    /// query (or one per as many tables as a compound `SELECT` may join: 500 on
    /// SQLite).
    pub(crate) fn row_counts<C: Database>(
        &mut self,
        conn: &mut C,
        catalog: &Catalog,
    ) -> Result<BTreeMap<String, i64>> {
        let backend = catalog.backend;
        // A prepared statement keeps the names it was prepared with: its tables are
        // named with their schema, as the catalog read them.
        let qualifier = match (&catalog.namespace, backend.dialect().prepared("", "")) {
            (Some(namespace), Some(_)) => format!("{}.", backend.quote(namespace)),
            _ => String::new(),
        };
        let selects: Vec<String> = catalog
            .tables()
            .iter()
            .map(|(key, name)| {
                format!(
                    "SELECT {} AS name, COUNT(*) AS n FROM {qualifier}{}",
                    crate::ledger::literal(key),
                    backend.quote(name)
                )
            })
            .collect();
        let mut counts = BTreeMap::new();
        for chunk in selects.chunks(backend.dialect().max_compound_select().max(1)) {
            let rows: Vec<Count> = self
                .load(conn, &chunk.join("\nUNION ALL\n"), "pelican_rows")
                .map_err(Error::query("cannot count the rows of the tables"))?;
            counts.extend(rows.into_iter().map(|r| (r.name, r.n)));
        }
        Ok(counts)
    }

    /// Runs `sql`, where the backend prepares statements as one prepared once per
    /// session (outside a transaction only: a failed `EXECUTE` would abort it). A new
    /// connection, or a migration that deallocated it (`DISCARD ALL`), costs a failed
    /// `EXECUTE` and a `PREPARE`; if that fails too, `sql` runs as it is. Its name
    /// begins with `what`.
    fn load<C: Database, R: Row>(
        &mut self,
        conn: &mut C,
        sql: &str,
        what: &str,
    ) -> QueryResult<Vec<R>> {
        let dialect = conn.backend().dialect();
        if dialect.prepared("", "").is_none() || conn.in_transaction().ok() != Some(false) {
            return conn.load_with(sql, &[]);
        }
        let name = match self.prepared.iter().position(|(text, _)| text == sql) {
            Some(index) => {
                let entry = self.prepared.remove(index);
                let name = entry.1.clone();
                self.prepared.push(entry);
                name
            }
            None => {
                self.named += 1;
                let name = format!("{what}_{}", self.named);
                self.prepared.push((sql.to_owned(), name.clone()));
                if self.prepared.len() > PREPARED {
                    let (_, old) = self.prepared.remove(0);
                    if let Some(statements) = dialect.prepared(&old, "") {
                        // Gone already if the connection is another one: nothing to do.
                        let _ = conn.batch_execute(&statements.deallocate);
                    }
                }
                name
            }
        };
        let Some(statements) = dialect.prepared(&name, sql) else {
            return conn.load_with(sql, &[]);
        };
        if let Ok(rows) = conn.load_with(&statements.execute, &[]) {
            return Ok(rows);
        }
        if conn.batch_execute(&statements.prepare).is_ok() {
            if let Ok(rows) = conn.load_with(&statements.execute, &[]) {
                return Ok(rows);
            }
        }
        conn.load_with(sql, &[])
    }
}
