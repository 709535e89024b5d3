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
//! [`Schema::introspect`] does.
//!
//! Two catalogs whose rows are equal describe equal schemas; two whose rows differ
//! are compared as [`Schema`]s, which decides.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use diesel::sql_types::{Nullable, Text};

use super::scope::{Fnv, Globals, Profile, View, WordIndex};
use super::{is_ledger, sort_rows, CatalogRow, Count, Kind, Schema};
use crate::dialect::{GroupsQuery, RelationSql, ScopedRead};
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
#[derive(Debug)]
struct Group {
    rows: Vec<CatalogRow>,
    /// Its tables, by key with their names (the ledger's left out).
    tables: Vec<(String, String)>,
    /// What scoping asks of it, worked out the first time it does.
    profile: OnceLock<Profile>,
    /// Which group this is, among every group of the process (see [`Reader::scope_view`]).
    id: u64,
}

impl PartialEq for Group {
    fn eq(&self, other: &Group) -> bool {
        self.rows == other.rows
    }
}

impl Group {
    fn new(backend: Backend, mut rows: Vec<CatalogRow>) -> Group {
        // In one order, so that a group read again compares equal to itself however the
        // server's plan ordered its rows.
        sort_rows(&mut rows);
        let tables = rows
            .iter()
            .filter(|r| r.kind == "table" && !is_ledger(&r.name))
            .map(|r| (Schema::key(backend, Kind::Table, &r.name), r.name.clone()))
            .collect();
        static IDS: AtomicU64 = AtomicU64::new(0);
        Group {
            rows,
            tables,
            profile: OnceLock::new(),
            id: IDS.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn profile(&self, key: &str) -> &Profile {
        self.profile.get_or_init(|| Profile::new(key, &self.rows))
    }
}

/// One read of a database's catalog (see the [module](self)).
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    backend: Backend,
    /// Rows that belong to no group (SQLite: the namespace).
    global: Arc<Vec<CatalogRow>>,
    groups: BTreeMap<String, Arc<Group>>,
    /// What scoping asks of the global rows, worked out the first time it does.
    globals: Arc<OnceLock<Globals>>,
}

impl Catalog {
    fn new(
        backend: Backend,
        global: Arc<Vec<CatalogRow>>,
        groups: BTreeMap<String, Arc<Group>>,
    ) -> Catalog {
        Catalog {
            backend,
            global,
            groups,
            globals: Arc::default(),
        }
    }

    /// Its backend.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Its groups and global rows as scoping reads them (see [`super::scope::plan`]),
    /// with `index` if every group is in it.
    fn scope_view<'a>(&'a self, index: Option<&'a WordIndex>) -> View<'a> {
        View {
            groups: self
                .groups
                .iter()
                .map(|(key, group)| (key.as_str(), group.profile(key)))
                .collect(),
            globals: self.globals.get_or_init(|| Globals::new(&self.global)),
            index,
        }
    }

    /// Whether group `key` is `before`'s own, carried over without being read again.
    pub(crate) fn carried(&self, before: &Catalog, key: &str) -> bool {
        match (self.groups.get(key), before.groups.get(key)) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The tables of these groups, by key with their names.
    pub(crate) fn tables_of(&self, groups: &BTreeSet<String>) -> BTreeMap<String, String> {
        groups
            .iter()
            .filter_map(|key| self.groups.get(key))
            .flat_map(|g| g.tables.iter().cloned())
            .collect()
    }

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

/// The versions of one group a [`Reader`] read, each with the objects it was read from.
type Versions = Vec<(Vec<ObjectRow>, Arc<Group>)>;

/// A catalog's rows of no group, shared by the catalogs read after it.
type Global = Arc<Vec<CatalogRow>>;

/// A catalog's groups, by key.
type Groups = BTreeMap<String, Arc<Group>>;

/// Reads catalogs, keeping what it read to read only what changed next time (see the
/// [module](self)). One reader may read several databases of one backend: what it
/// keeps is keyed by the objects' whole definitions, not by database.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    /// The groups read, by key, each version with the objects it was read from (the
    /// last read last): a group is looked up by its key, then its objects compared,
    /// rather than every group's definitions hashed at every read.
    groups: HashMap<String, Versions>,
    /// The rows of no group the last introspection returned.
    global: Option<Arc<Vec<CatalogRow>>>,
    /// Whether every scoped read is checked against a whole one (see
    /// `Check::verify_reads`).
    pub(crate) verify: bool,
    /// The words of every group of the catalogs scoped through it, and which groups
    /// (by [`Group::id`]) are indexed (every group of a catalog is looked up at each
    /// plan: FNV-1a rather than SipHash).
    index: WordIndex,
    indexed: HashSet<u64, BuildHasherDefault<Fnv>>,
}

impl Reader {
    /// `catalog`'s groups and global rows as scoping reads them (see
    /// [`super::scope::plan`]), its groups indexed by their words first where they
    /// were not (a group's words do not change: each read that changes a group makes
    /// another).
    pub(crate) fn scope_view<'a>(&'a mut self, catalog: &'a Catalog) -> View<'a> {
        for (key, group) in &catalog.groups {
            if self.indexed.insert(group.id) {
                self.index.add(key, group.profile(key));
            }
        }
        catalog.scope_view(Some(&self.index))
    }

    /// Reads the catalog of the database `conn` is connected to.
    pub(crate) fn read<C: Database>(&mut self, conn: &mut C) -> Result<Catalog> {
        let backend = conn.backend();
        let dialect = backend.dialect();
        let Some(objects_query) = dialect.catalog_objects_query() else {
            let rows = super::introspection_rows(conn)?;
            let (global, groups) = grouped(backend, rows);
            return Ok(Catalog::new(backend, Arc::new(global), groups));
        };
        let listed = list_objects(conn, objects_query)?;
        let (groups, _) = self.groups_of(conn, listed, true)?;
        Ok(Catalog::new(
            backend,
            self.global.clone().unwrap_or_default(),
            groups,
        ))
    }

    /// The group `grp` as read before from these objects, if it was.
    fn known(&self, grp: &str, objects: &[ObjectRow]) -> Option<Arc<Group>> {
        let versions = self.groups.get(grp)?;
        versions
            .iter()
            .rev()
            .find(|(read, _)| read.as_slice() == objects)
            .map(|(_, group)| Arc::clone(group))
    }

    /// The groups of the objects `listed` (by group), each as read before where its
    /// objects are, the others read in one query (the whole introspection when
    /// `whole` and none was read before), and the rows of no group that query
    /// returned, if one ran (the reader keeps them: `global`).
    fn groups_of<C: Database>(
        &mut self,
        conn: &mut C,
        listed: BTreeMap<String, Vec<ObjectRow>>,
        whole: bool,
    ) -> Result<(Groups, Option<Global>)> {
        let backend = conn.backend();
        let dialect = backend.dialect();
        // Each group as read before, if it was.
        let mut groups: BTreeMap<String, Option<Arc<Group>>> = listed
            .iter()
            .map(|(grp, objects)| (grp.clone(), self.known(grp, objects)))
            .collect();
        let unread = groups.values().filter(|g| g.is_none()).count();
        let mut read_global = None;
        if unread > 0 || self.global.is_none() {
            let sql = if whole && unread == listed.len() {
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
                    // The namespace's name may be a table's: it is no table's row.
                    ("namespace", _) => global.push(row),
                    // Not listed: a whole read's row of no group; a partial read's row of
                    // a group it did not list (none: it asks for listed tables only).
                    (_, None) if whole => global.push(row),
                    (_, None) => {}
                    // A group read before keeps its rows: they follow from its objects.
                    (_, Some(Some(_))) => {}
                    (_, Some(None)) => by_group.entry(grp).or_default().push(row),
                }
            }
            for (grp, objects) in listed {
                if let Some(slot @ None) = groups.get_mut(&grp) {
                    let rows = by_group.remove(&grp).unwrap_or_default();
                    let group = Arc::new(Group::new(backend, rows));
                    self.groups
                        .entry(grp)
                        .or_default()
                        .push((objects, Arc::clone(&group)));
                    *slot = Some(group);
                }
            }
            sort_rows(&mut global);
            let global = Arc::new(global);
            self.global = Some(Arc::clone(&global));
            read_global = Some(global);
        }
        let groups = groups
            .into_iter()
            .filter_map(|(grp, group)| Some((grp, group?)))
            .collect();
        Ok((groups, read_global))
    }

    /// Reads again the groups `keys` and those whose name's last part is one of `words`
    /// (see [`ScopedRead`]), and every row of no group, as the backend's dialect says
    /// it can; the other groups are `before`'s. `None` where it cannot for these names.
    pub(crate) fn read_groups<C: Database>(
        &mut self,
        conn: &mut C,
        before: &Catalog,
        keys: &BTreeSet<String>,
        words: &[&str],
    ) -> Result<Option<Catalog>> {
        let backend = conn.backend();
        match backend.dialect().scoped_read() {
            ScopedRead::PerRelation(sql) => {
                let rows = relation_groups_rows(conn, &sql, before, keys, words)?;
                let (global, read) = grouped(backend, rows);
                Ok(Some(before.with_groups(keys, Arc::new(global), read)))
            }
            ScopedRead::ListedObjects(list) => {
                // Too many words to list by (a step of thousands of rows' values): whole.
                let Some(sql) = list(keys, words) else {
                    return Ok(None);
                };
                self.listed_groups(conn, before, keys, &sql).map(Some)
            }
            ScopedRead::Query(query) => {
                let keys_list: Vec<&str> = keys.iter().map(String::as_str).collect();
                let Some(query) = query(&keys_list, words) else {
                    return Ok(None);
                };
                query_groups(conn, before, keys, &query).map(Some)
            }
        }
    }

    /// The groups as [`read_groups`](Reader::read_groups) reads them where the dialect
    /// lists objects ([`ScopedRead::ListedObjects`]): only the objects `listing` lists
    /// (the groups `keys` and those named by the step), and of these groups only those
    /// whose objects changed introspected; the other groups are `before`'s.
    fn listed_groups<C: Database>(
        &mut self,
        conn: &mut C,
        before: &Catalog,
        keys: &BTreeSet<String>,
        listing: &str,
    ) -> Result<Catalog> {
        let listed = list_objects(conn, listing)?;
        let (read, global) = self.groups_of(conn, listed, false)?;
        let global = global.unwrap_or_else(|| Arc::clone(&before.global));
        Ok(before.with_groups(keys, global, read))
    }
}

/// The groups `keys` (and those the query's words name) read by one query
/// ([`ScopedRead::Query`]), prepared first where it must be; the other groups are
/// `before`'s.
fn query_groups<C: Database>(
    conn: &mut C,
    before: &Catalog,
    keys: &BTreeSet<String>,
    query: &GroupsQuery,
) -> Result<Catalog> {
    let backend = conn.backend();
    if let Some(prepare) = &query.prepare {
        // Run by name first, without asking whether the session has prepared it:
        // it has, but on the first read of a connection or after a migration's
        // `DEALLOCATE` or `DISCARD`. Then the run fails, and is made again once
        // prepared. Not in a transaction, which a failed statement would end.
        if !conn.in_transaction()? {
            if let Ok(rows) = conn.load_with::<CatalogRow>(&query.sql, &[]) {
                let (global, read) = grouped(backend, rows);
                return Ok(before.with_groups(keys, Arc::new(global), read));
            }
        }
        let present: Vec<Count> = conn
            .load_with(&prepare.present, &[])
            .map_err(Error::query("cannot read the database's schema"))?;
        if present.is_empty() {
            conn.execute_with(&prepare.sql, &[]).map_err(Error::query(
                "cannot prepare the read of the database's schema",
            ))?;
        }
    }
    let rows: Vec<CatalogRow> = conn
        .load_with(&query.sql, &[])
        .map_err(Error::query("cannot read the database's schema"))?;
    let (global, read) = grouped(backend, rows);
    Ok(before.with_groups(keys, Arc::new(global), read))
}

/// The objects `sql` (the dialect's [`catalog_objects_query`], or part of it) lists,
/// by group, each group's sorted.
///
/// [`catalog_objects_query`]: crate::dialect::Dialect::catalog_objects_query
fn list_objects<C: Database>(conn: &mut C, sql: &str) -> Result<BTreeMap<String, Vec<ObjectRow>>> {
    let mut objects: Vec<ObjectRow> = conn
        .load_with(sql, &[])
        .map_err(Error::query("cannot read the database's schema"))?;
    objects.sort();
    let mut listed: BTreeMap<String, Vec<ObjectRow>> = BTreeMap::new();
    for object in objects {
        listed.entry(object.grp.clone()).or_default().push(object);
    }
    Ok(listed)
}

impl Catalog {
    /// This catalog with the groups `keys` and `read` replaced by `read`, and the rows of
    /// no group by `global`.
    fn with_groups(&self, keys: &BTreeSet<String>, global: Global, read: Groups) -> Catalog {
        let mut groups: BTreeMap<String, Arc<Group>> = self
            .groups
            .iter()
            .filter(|(key, _)| !keys.contains(*key) && !read.contains_key(*key))
            .map(|(key, group)| (key.clone(), Arc::clone(group)))
            .collect();
        groups.extend(read);
        Catalog::new(self.backend, global, groups)
    }
}

/// The rows of the groups `keys` and of the tables and views whose name, as it is or
/// lowercased, is one of `words` or has a character no word has, and every row of no
/// group, read relation by relation ([`ScopedRead::PerRelation`]: MySQL's, MariaDB's):
/// as [`super::introspection_rows`] gives them for those.
///
/// `information_schema` opens only the tables a part names by equality, so the
/// relations' names are listed first (no table opened: [`RelationSql::relations`]) and
/// each part asks for one ([`RelationSql::tables`]). Triggers, which scan the whole
/// database however filtered, are read only where the step says `TRIGGER`: a group in
/// scope with a trigger sends the step to a whole read, and no other statement makes
/// one. CHECK constraints are rows of no group that name no table: those of `before`
/// are kept when no table in scope has one, before or after (each table's
/// `constraint` rows list them), and read whole otherwise. Sequences are rows of no
/// group too, but each of one relation: those in scope are read by name, the others'
/// kept from `before` (a step that makes, drops or renames one names it).
fn relation_groups_rows<C: Database>(
    conn: &mut C,
    sql: &RelationSql,
    before: &Catalog,
    keys: &BTreeSet<String>,
    words: &[&str],
) -> Result<Vec<CatalogRow>> {
    let all: Vec<Count> = conn
        .load_with(sql.relations, &[])
        .map_err(Error::query("cannot read the database's schema"))?;
    let words: BTreeSet<&str> = words.iter().copied().collect();
    let in_scope = |name: &str| {
        keys.contains(name)
            || words.contains(name)
            || words.contains(name.to_lowercase().as_str())
            || name
                .chars()
                .any(|c| !(c.is_alphanumeric() || c == '_' || c == '$'))
    };
    let relations: Vec<&Count> = all.iter().filter(|r| in_scope(&r.name)).collect();
    let names: Vec<&str> = relations.iter().map(|r| r.name.as_str()).collect();
    let triggers = words.contains("trigger");
    let mut rows: Vec<CatalogRow> = Vec::new();
    for chunk in names.chunks(sql.per_query) {
        let part: Vec<CatalogRow> = conn
            .load_with(&(sql.tables)(chunk, triggers), &[])
            .map_err(Error::query("cannot read the database's schema"))?;
        rows.extend(part);
    }
    let is_sequence = |r: &CatalogRow| r.kind == "sequence" && r.tbl.is_none();
    let sequences: Vec<&str> = rows
        .iter()
        .filter(|r| is_sequence(r))
        .map(|r| r.name.as_str())
        .collect();
    if let Some(options_sql) = conn.backend().dialect().sequence_options_sql(&sequences) {
        let options: Vec<CatalogRow> = conn.load_with(&options_sql, &[]).map_err(Error::query(
            "cannot read the options of the database's sequences",
        ))?;
        rows.extend(options);
    }
    // Whether a table in scope has a CHECK constraint, before the step or after it.
    let is_check = |r: &CatalogRow| r.kind == "constraint" && r.detail.as_deref() == Some("CHECK");
    let read_again = |key: &String| keys.contains(key) || names.contains(&key.as_str());
    let checks_in_scope = rows.iter().any(is_check)
        || before
            .groups
            .iter()
            .any(|(key, group)| read_again(key) && group.rows.iter().any(is_check));
    let is_check_row =
        |r: &CatalogRow| r.kind == "definition" && r.tbl.is_none() && r.name.starts_with("check ");
    let global: Vec<CatalogRow> = conn
        .load_with(&(sql.global)(checks_in_scope), &[])
        .map_err(Error::query("cannot read the database's schema"))?;
    rows.extend(global);
    if !checks_in_scope {
        rows.extend(before.global.iter().filter(|r| is_check_row(r)).cloned());
    }
    // The sequences out of scope are as they were: making, dropping or renaming one
    // names it.
    let listed: BTreeSet<&str> = all.iter().map(|r| r.name.as_str()).collect();
    rows.extend(
        before
            .global
            .iter()
            .filter(|r| is_sequence(r) && listed.contains(r.name.as_str()))
            .filter(|r| !names.contains(&r.name.as_str()))
            .cloned(),
    );
    Ok(rows)
}

/// Rows of one whole read (or of some groups), grouped by the table or view they are
/// about; those about no table or view (types, functions, other schemas' names, the
/// namespace) are global.
fn grouped(
    backend: Backend,
    rows: Vec<CatalogRow>,
) -> (Vec<CatalogRow>, BTreeMap<String, Arc<Group>>) {
    let dialect = backend.dialect();
    let mut global = Vec::new();
    let mut by_group: BTreeMap<String, Vec<CatalogRow>> = BTreeMap::new();
    for row in rows {
        let owner = match (&row.tbl, row.kind.as_str()) {
            (Some(tbl), _) => tbl,
            (None, "table" | "view") => &row.name,
            (None, _) => {
                global.push(row);
                continue;
            }
        };
        by_group
            .entry(dialect.catalog_group(owner))
            .or_default()
            .push(row);
    }
    let groups = by_group
        .into_iter()
        .map(|(key, rows)| (key, Arc::new(Group::new(backend, rows))))
        .collect();
    sort_rows(&mut global);
    (global, groups)
}

impl Catalog {
    /// The number of rows in each of its tables, read from `conn` in one query (or one
    /// per as many tables as a compound `SELECT` may join: 500 on SQLite).
    pub(crate) fn row_counts<C: Database>(&self, conn: &mut C) -> Result<BTreeMap<String, i64>> {
        count_rows(conn, &self.tables())
    }
}

/// The number of rows in each of `tables` (by key, with their names), read from `conn`
/// in one query (or one per as many tables as a compound `SELECT` may join).
pub(crate) fn count_rows<C: Database>(
    conn: &mut C,
    tables: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, i64>> {
    let backend = conn.backend();
    let selects: Vec<String> = tables
        .iter()
        .map(|(key, name)| {
            format!(
                "SELECT {} AS name, COUNT(*) AS n FROM {}",
                crate::ledger::literal(key),
                backend.quote(name)
            )
        })
        .collect();
    let mut counts = BTreeMap::new();
    for chunk in selects.chunks(backend.dialect().max_compound_select().max(1)) {
        let rows: Vec<Count> = conn
            .load_with(&chunk.join("\nUNION ALL\n"), &[])
            .map_err(Error::query("cannot count the rows of the tables"))?;
        counts.extend(rows.into_iter().map(|r| (r.name, r.n)));
    }
    Ok(counts)
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::AnyConnection;

    /// What the reader reads, part by part, is what one whole read gives.
    fn read_as_whole(reader: &mut Reader, conn: &mut AnyConnection) -> Catalog {
        let catalog = reader.read(conn).unwrap();
        assert_eq!(catalog.schema(), Schema::introspect(conn).unwrap());
        catalog
    }

    #[test]
    fn a_sqlite_catalog_read_again_is_the_whole_catalog() {
        let mut conn = AnyConnection::establish(":memory:").unwrap();
        let mut reader = Reader::default();
        let empty = read_as_whole(&mut reader, &mut conn);
        conn.batch_execute(
            "CREATE TABLE main (id INTEGER PRIMARY KEY);
             CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER UNIQUE);
             CREATE TABLE B (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
             CREATE INDEX ix_b ON b (a_id);
             CREATE VIEW v AS SELECT id FROM a;
             CREATE TRIGGER t AFTER INSERT ON A BEGIN INSERT INTO b (a_id) VALUES (NEW.id); END;",
        )
        .unwrap();
        let full = read_as_whole(&mut reader, &mut conn);
        assert!(!full.same_as(&empty));
        // One table changed: read again, the others taken as they were.
        conn.batch_execute("ALTER TABLE a ADD COLUMN y TEXT; DROP INDEX ix_b;")
            .unwrap();
        let changed = read_as_whole(&mut reader, &mut conn);
        assert!(!changed.same_as(&full));
        // Back as it was: the same rows as the first read.
        conn.batch_execute("ALTER TABLE a DROP COLUMN y; CREATE INDEX ix_b ON b (a_id);")
            .unwrap();
        let back = read_as_whole(&mut reader, &mut conn);
        assert!(back.same_as(&full));
        assert_eq!(back.tables().len(), 3);
    }

    /// A column dropped and added again reads as the rows it was read as before,
    /// although PostgreSQL gives it another `attnum`: equal catalogs are compared by
    /// their rows, and only unequal ones as schemas (a whole schema's diff at every
    /// such step of a round trip).
    #[cfg(feature = "postgres")]
    #[test]
    fn a_postgres_column_added_again_reads_as_the_same_rows() {
        let url = crate::testing::server_url(Backend::Postgres).unwrap();
        let scratch = crate::scratch::Scratch::create(&url, None).unwrap();
        let mut conn = scratch.connect().unwrap();
        conn.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
             CREATE TABLE other (id INTEGER PRIMARY KEY);
             ALTER TABLE t ADD COLUMN b INTEGER NULL;",
        )
        .unwrap();
        let mut reader = Reader::default();
        let first = read_as_whole(&mut reader, &mut conn);
        conn.batch_execute("ALTER TABLE t DROP COLUMN b; ALTER TABLE t ADD COLUMN b INTEGER NULL;")
            .unwrap();
        let again = read_as_whole(&mut reader, &mut conn);
        assert!(again.same_as(&first));
        let keys = BTreeSet::from(["t".to_owned()]);
        let scoped = reader
            .read_groups(&mut conn, &first, &keys, &["t", "b"])
            .unwrap()
            .unwrap();
        assert!(scoped.same_as(&first));
        drop(conn);
        scratch.remove().unwrap();
    }

    /// The scoped read looks for relations of odd names (which a step's words cannot
    /// name) from oid 16384 on only: sound while `initdb` makes none.
    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_makes_no_relation_of_an_odd_name_in_initdb() {
        let url = crate::testing::server_url(Backend::Postgres).unwrap();
        let mut conn = AnyConnection::establish(&url).unwrap();
        let odd: Vec<Count> = conn
            .load_with(
                "SELECT relname::text AS name, 1::bigint AS n FROM pg_class \
                 WHERE oid < CAST(16384 AS oid) AND relname ~ '[^a-z0-9_$]'",
                &[],
            )
            .unwrap();
        let odd: Vec<&str> = odd.iter().map(|c| c.name.as_str()).collect();
        assert!(odd.is_empty(), "{odd:?}");
    }

    #[test]
    fn the_scoped_query_reads_only_the_tables_asked_for() {
        let sql = Backend::Sqlite
            .dialect()
            .introspect_tables_sql(&["a", "it's"])
            .unwrap();
        assert!(!sql.contains("FROM sqlite_master m"), "{sql}");
        assert!(sql.contains("tbl_name IN ('a', 'it''s')"), "{sql}");
    }
}
