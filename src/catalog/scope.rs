//! What one step of a migration (one file, run) can have changed, from its text and the
//! catalog read before it: the groups (a table with everything on it, or a view) a
//! read after it must read again, or a reason to read everything.
//!
//! A group is in scope when the step names it or one of its objects (an index, a
//! constraint, a trigger, an owned sequence), as a word of its text, case-insensitively
//! (words inside strings, comments and quoted identifiers count: reading a group too
//! many only costs time). Then, until nothing changes, every group whose own rows
//! mention a name in scope (a view over a table, a foreign key referencing it, a column
//! of a type the step altered, a default calling `nextval` on its sequence), and every
//! group a view or a child table in scope reads from or inherits (rows written through
//! a view, rows counted through a parent). Rows of no group (types, functions, schemas,
//! extensions, ...) are read every time.
//!
//! A step is read whole instead when it may act on something it does not name: a rule
//! of its backend's dialect ([`crate::dialect::Dialect::scope_rules`]), a word naming a
//! function (a function can do anything), a group in scope with triggers or rules, or
//! whose rows call a function, an event trigger (PostgreSQL) or event (MariaDB) in the
//! database, or more groups in scope than a whole read costs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::CatalogRow;
// A dialect's rules are written in its own words, below this module.
use crate::dialect::Rule;
use crate::Backend;

/// The words of a text, lowercased, as one name may be written: runs of letters,
/// digits, `_` and `$`.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The words of a text as a server may compare them with names: each as written,
/// lowercased, and with only ASCII lowercased (PostgreSQL's `lower` in the C locale).
pub(crate) fn spellings(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .flat_map(|w| [w.to_owned(), w.to_lowercase(), w.to_ascii_lowercase()])
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// A name's words: it is mentioned where all of them are (`other.t`, `"my table"`).
pub(crate) fn parts(name: &str) -> Vec<String> {
    words(name).collect()
}

/// A set of words. Scoping looks thousands of short words up at every step of a
/// round trip, and the standard library's SipHash was a fifth of `check`'s own work:
/// these sets hash with FNV-1a instead. The words are the migrations' and the
/// catalog's own, not input chosen to collide.
type Words = HashSet<String, BuildHasherDefault<Fnv>>;

/// The 64-bit FNV-1a hash.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Whether `set` holds every word of a name split into `parts` (a name with no word in
/// it is taken as mentioned everywhere).
fn mentioned(set: &Words, parts: &[String]) -> bool {
    parts.iter().all(|p| set.contains(p))
}

/// One step's text, as scoping reads it.
#[derive(Debug)]
pub(crate) struct Step {
    list: Vec<String>,
    set: Words,
    /// The first reason to read everything, if a rule of the dialect applies.
    full: Option<&'static str>,
}

impl Step {
    /// Reads `sql`, the text of one migration file, by `backend`'s rules.
    pub(crate) fn new(backend: Backend, sql: &str) -> Step {
        let list: Vec<String> = words(sql).collect();
        let set = list.iter().cloned().collect();
        let mut step = Step {
            list,
            set,
            full: None,
        };
        step.full = step.first_rule(backend, sql);
        step
    }

    /// Why it must be read whole, by its text alone.
    pub(crate) fn full_read(&self) -> Option<&'static str> {
        self.full
    }

    fn first_rule(&self, backend: Backend, sql: &str) -> Option<&'static str> {
        let rules = backend.dialect().scope_rules();
        let lower = sql.to_lowercase();
        let mut starts: Option<Vec<Vec<String>>> = None;
        for &(rule, why) in rules {
            let hit = match rule {
                Rule::Words(seq) => self.list.windows(seq.len()).any(|w| w == seq),
                Rule::Prefix(prefix) => self.set.iter().any(|w| w.starts_with(prefix)),
                Rule::Text(text) => lower.contains(text),
                Rule::Starts(seq) => starts
                    .get_or_insert_with(|| statement_openings(backend, sql))
                    .iter()
                    .any(|opening| opening.len() >= seq.len() && opening[..seq.len()] == *seq),
            };
            if hit {
                return Some(why);
            }
        }
        None
    }
}

/// The first few words of each statement, its leading comments skipped.
fn statement_openings(backend: Backend, sql: &str) -> Vec<Vec<String>> {
    crate::split::split(sql, backend)
        .iter()
        .map(|s| words(skip_comments(s.sql)).take(4).collect())
        .collect()
}

/// `sql` from its first character that is neither space nor in a comment.
fn skip_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if sql.starts_with("--") || sql.starts_with('#') {
            sql = sql.split_once('\n').map_or("", |(_, rest)| rest);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, rest)| rest);
        } else {
            return sql;
        }
    }
}

/// What scoping needs of one group's rows, worked out once per group read.
#[derive(Debug, Default)]
pub(crate) struct Profile {
    /// The names a step may call it by: its own, and its objects' (indexes,
    /// constraints, triggers, owned sequences), each as its words.
    names: Vec<Vec<String>>,
    /// Every word of its rows.
    words: Words,
    /// The words of its views' definitions and of its parents (`INHERITS`,
    /// `PARTITION OF`): what writing to it may write to.
    reads: Words,
    /// Why a step acting on it must be read whole (a trigger, a rule).
    hazard: Option<&'static str>,
}

/// Whether a definition is SQLite's `CREATE VIRTUAL TABLE`.
fn is_virtual(definition: Option<&str>) -> bool {
    let words: Vec<String> = definition
        .unwrap_or_default()
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_lowercase)
        .collect();
    words == ["create", "virtual"]
}

impl Profile {
    /// The profile of group `key`, of these rows.
    pub(crate) fn new(key: &str, rows: &[CatalogRow]) -> Profile {
        let mut profile = Profile::default();
        let mut names = BTreeSet::new();
        names.insert(parts(key));
        for row in rows {
            let texts = [&row.tbl, &row.detail, &row.flag, &row.extra];
            for text in texts.into_iter().flatten() {
                profile.words.extend(words(text));
            }
            profile.words.extend(words(&row.name));
            match row.kind.as_str() {
                "index" | "constraint" | "trigger" | "table" | "view" => {
                    names.insert(parts(&row.name));
                }
                "definition" => {
                    if let Some(object) = object_name(&row.name) {
                        names.insert(parts(object));
                    }
                }
                _ => {}
            }
            if row.kind == "trigger" || row.name.starts_with("trigger ") {
                profile.hazard = Some("a table in scope has a trigger");
            } else if row.name.starts_with("rule ") {
                profile.hazard = Some("a table in scope has a rule");
            } else if row.kind == "definition" && is_virtual(row.detail.as_deref()) {
                // SQLite: its module keeps the rows in tables of its own (an FTS5
                // table's `docs_content`, `docs_docsize`, …), which no step names.
                profile.hazard = Some("a table in scope is a virtual table");
            }
            let detail = row.detail.as_deref().unwrap_or_default();
            let parent = detail.contains("INHERITS (") || detail.contains("PARTITION OF ");
            if row.kind == "view" || row.name.starts_with("view ") || parent {
                profile.reads.extend(words(detail));
            }
        }
        names.remove(&Vec::new());
        // MySQL names every primary key `PRIMARY`: no name of one table.
        names.remove(&vec!["primary".to_owned()]);
        profile.names = names.into_iter().collect();
        profile
    }

    fn mentions_any(&self, names: &[Vec<String>]) -> bool {
        names.iter().any(|n| mentioned(&self.words, n))
    }
}

/// The name of the object a `definition` row describes, where it is one a step may
/// name on its own: `index t.ix` → `ix`, `sequence t_id_seq` → `t_id_seq`.
fn object_name(name: &str) -> Option<&str> {
    let (what, object) = name.split_once(' ')?;
    matches!(
        what,
        "index" | "sequence" | "trigger" | "rule" | "policy" | "constraint" | "type"
    )
    .then(|| object.rsplit('.').next().unwrap_or(object))
}

/// What the rows of no group hold that scoping asks about.
#[derive(Debug, Default)]
pub(crate) struct Globals {
    /// Functions, procedures and aggregates, by name.
    functions: Words,
    /// Types, sequences and collations: a column may use one.
    names: Vec<Vec<String>>,
    /// An event trigger or event, which may act on anything.
    events: bool,
}

impl Globals {
    /// What `rows` (a catalog's rows of no group) hold.
    pub(crate) fn new(rows: &[CatalogRow]) -> Globals {
        let mut globals = Globals::default();
        for row in rows {
            let (what, object) = match row.kind.as_str() {
                "function" => ("function", row.name.as_str()),
                "type" | "sequence" => ("type", row.name.as_str()),
                "definition" => row.name.split_once(' ').unwrap_or((&row.name, "")),
                _ => continue,
            };
            let bare = object.split('(').next().unwrap_or(object);
            let bare = bare.rsplit('.').next().unwrap_or(bare);
            match what {
                "function" | "procedure" | "aggregate" => {
                    globals.functions.insert(bare.to_lowercase());
                }
                "type" | "sequence" | "collation" => globals.names.push(parts(bare)),
                "event" => globals.events = true,
                _ => {}
            }
        }
        globals
    }
}

/// What a read after a step reads.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Everything, for this reason.
    Full(&'static str),
    /// These groups (and the rows of no group).
    Groups(BTreeSet<String>),
}

/// The groups of a catalog (by key, with their profiles) and its global rows' summary,
/// as [`plan`] reads them.
pub(crate) struct View<'a> {
    /// Each group's key and profile.
    pub(crate) groups: BTreeMap<&'a str, &'a Profile>,
    /// The rows of no group.
    pub(crate) globals: &'a Globals,
    /// Which groups may hold a word, every group of `groups` indexed: [`plan`] visits
    /// the groups it finds there rather than every group. `None`: it visits every one.
    pub(crate) index: Option<&'a WordIndex>,
}

/// The groups each word is found in, over every version of every group indexed: in
/// their names (`names`) and in their rows (`words`). A superset of the groups of one
/// catalog that hold it, which [`plan`] narrows down with each candidate's own
/// profile: so a plan visits the groups that share a word with what it looks for, not
/// every group of the catalog at every step of a round trip (quadratic in N).
#[derive(Debug, Default)]
pub(crate) struct WordIndex {
    names: Index,
    words: Index,
}

/// Words to the keys of the groups they are found in.
type Index = HashMap<String, BTreeSet<String>, BuildHasherDefault<Fnv>>;

impl WordIndex {
    /// Indexes the group `key` with this profile.
    pub(crate) fn add(&mut self, key: &str, profile: &Profile) {
        add(&mut self.names, key, profile.names.iter().flatten());
        add(&mut self.words, key, profile.words.iter());
    }
}

/// Adds `key` to the groups of each of `words`.
fn add<'w>(index: &mut Index, key: &str, words: impl Iterator<Item = &'w String>) {
    for word in words {
        match index.get_mut(word.as_str()) {
            Some(keys) if keys.contains(key) => {}
            Some(keys) => {
                keys.insert(key.to_owned());
            }
            None => {
                index.insert(word.clone(), BTreeSet::from([key.to_owned()]));
            }
        }
    }
}

/// The groups `word` was found in, in `index`.
fn found<'i>(index: &'i Index, word: &str) -> impl Iterator<Item = &'i str> {
    index
        .get(word)
        .into_iter()
        .flat_map(|keys| keys.iter().map(String::as_str))
}

impl View<'_> {
    /// The groups whose rows may mention one of `names`, or whose names may be made of
    /// `words` (each group that does, perhaps others), in key order; every group
    /// without an index, or where a name has no word (mentioned everywhere).
    fn candidates<'w>(
        &self,
        names: &'w [Vec<String>],
        words: impl Iterator<Item = &'w String>,
    ) -> Vec<(&str, &Profile)> {
        let Some(index) = self.index.filter(|_| names.iter().all(|n| !n.is_empty())) else {
            return self.groups.iter().map(|(&k, &p)| (k, p)).collect();
        };
        let mentioning = names
            .iter()
            .filter_map(|n| n.first())
            .flat_map(|word| found(&index.words, word));
        let named = words.flat_map(|word| found(&index.names, word));
        let keys: BTreeSet<&str> = mentioning.chain(named).collect();
        keys.into_iter()
            .filter_map(|key| self.groups.get_key_value(key).map(|(&k, &p)| (k, p)))
            .collect()
    }
}

/// The groups a read after `step` must read, on a database whose catalog (before or
/// after the step) is `view`, or why it must read everything.
pub(crate) fn plan(step: &Step, view: &View<'_>) -> Plan {
    if let Some(why) = step.full_read() {
        return Plan::Full(why);
    }
    if view.globals.events {
        return Plan::Full("the database has an event trigger or event");
    }
    if step.set.iter().any(|w| view.globals.functions.contains(w)) {
        return Plan::Full("the step names a function");
    }
    // A whole read costs about as much as reading a quarter of the groups one by one.
    let bound = (view.groups.len() / 4).max(16);
    let mut scope: BTreeSet<&str> = BTreeSet::new();
    let mut names: Vec<Vec<String>> = view
        .globals
        .names
        .iter()
        .filter(|n| mentioned(&step.set, n))
        .cloned()
        .collect();
    for (key, profile) in view.candidates(&names, step.set.iter()) {
        // Named by the step, or using a type or sequence it names.
        if profile.names.iter().any(|n| mentioned(&step.set, n)) || profile.mentions_any(&names) {
            scope.insert(key);
        }
    }
    let mut added: Vec<&str> = scope.iter().copied().collect();
    while !added.is_empty() {
        if scope.len() > bound {
            return Plan::Full("too many tables in scope");
        }
        let mut reads = Words::default();
        for key in &added {
            let profile = view.groups[key];
            names.extend(profile.names.iter().cloned());
            reads.extend(profile.reads.iter().cloned());
        }
        added = view
            .candidates(&names, reads.iter())
            .into_iter()
            .filter(|(key, _)| !scope.contains(key))
            .filter(|(_, p)| p.mentions_any(&names) || p.names.iter().any(|n| mentioned(&reads, n)))
            .map(|(key, _)| key)
            .collect();
        scope.extend(added.iter().copied());
    }
    for key in &scope {
        let profile = view.groups[key];
        if let Some(why) = profile.hazard {
            return Plan::Full(why);
        }
        if profile
            .words
            .iter()
            .any(|w| view.globals.functions.contains(w))
        {
            return Plan::Full("a table in scope calls a function");
        }
    }
    Plan::Groups(scope.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, tbl: Option<&str>, name: &str, detail: Option<&str>) -> CatalogRow {
        CatalogRow {
            kind: kind.into(),
            tbl: tbl.map(Into::into),
            name: name.into(),
            detail: detail.map(Into::into),
            flag: None,
            extra: None,
            pos: 0,
        }
    }

    /// A plan over groups given as (key, rows).
    fn plan_for(
        backend: Backend,
        sql: &str,
        groups: &[(&str, Vec<CatalogRow>)],
        global: &[CatalogRow],
    ) -> Plan {
        let profiles: Vec<(&str, Profile)> = groups
            .iter()
            .map(|(k, rows)| (*k, Profile::new(k, rows)))
            .collect();
        let globals = Globals::new(global);
        let mut index = WordIndex::default();
        for (key, profile) in &profiles {
            index.add(key, profile);
        }
        let groups: BTreeMap<&str, &Profile> = profiles.iter().map(|(k, p)| (*k, p)).collect();
        let step = Step::new(backend, sql);
        let visiting_all = plan(
            &step,
            &View {
                groups: groups.clone(),
                globals: &globals,
                index: None,
            },
        );
        let indexed = plan(
            &step,
            &View {
                groups,
                globals: &globals,
                index: Some(&index),
            },
        );
        // The index only spares visits: the plan is the same.
        assert_eq!(indexed, visiting_all);
        indexed
    }

    fn scoped(keys: &[&str]) -> Plan {
        Plan::Groups(keys.iter().map(|k| (*k).to_owned()).collect())
    }

    #[test]
    fn words_are_lowercased_and_found_in_strings_comments_and_quotes() {
        let found: Vec<String> =
            words("ALTER TABLE \"Users\" ADD x int -- see `Orders`\n DEFAULT 'a.b$c'").collect();
        assert_eq!(
            found,
            [
                "alter", "table", "users", "add", "x", "int", "see", "orders", "default", "a",
                "b$c"
            ]
        );
        assert_eq!(parts("other.My Table"), ["other", "my", "table"]);
    }

    #[test]
    fn dependents_are_in_scope_transitively() {
        let groups = [
            ("users", vec![row("table", None, "users", None)]),
            (
                "posts",
                vec![
                    row("table", None, "posts", None),
                    row(
                        "constraint",
                        Some("posts"),
                        "posts_fk",
                        Some("FOREIGN KEY (u) REFERENCES users(id) ON DELETE CASCADE"),
                    ),
                ],
            ),
            (
                "comments",
                vec![row(
                    "constraint",
                    Some("comments"),
                    "c_fk",
                    Some("FOREIGN KEY (p) REFERENCES posts(id)"),
                )],
            ),
            (
                "v",
                vec![row("view", None, "v", Some("SELECT id FROM users"))],
            ),
            ("other", vec![row("table", None, "other", None)]),
        ];
        assert_eq!(
            plan_for(Backend::Postgres, "DELETE FROM Users", &groups, &[]),
            scoped(&["comments", "posts", "users", "v"])
        );
        // A view in scope brings the tables it reads (written through it).
        assert_eq!(
            plan_for(Backend::Postgres, "INSERT INTO v VALUES (1)", &groups, &[]),
            scoped(&["comments", "posts", "users", "v"])
        );
        assert_eq!(
            plan_for(Backend::Postgres, "SELECT 1", &groups, &[]),
            scoped(&[])
        );
    }

    #[test]
    fn an_object_of_a_group_or_a_type_names_it() {
        let groups = [
            (
                "t",
                vec![
                    row("index", Some("t"), "t_ix", None),
                    row("column", Some("t"), "m", Some("mood")),
                    row(
                        "definition",
                        Some("t"),
                        "sequence t_id_seq",
                        Some("AS integer"),
                    ),
                ],
            ),
            (
                "u",
                vec![row(
                    "column",
                    Some("u"),
                    "id",
                    Some("nextval('t_id_seq'::regclass)"),
                )],
            ),
        ];
        let types = [row("type", None, "mood", Some("e"))];
        assert_eq!(
            plan_for(Backend::Postgres, "DROP INDEX t_ix", &groups, &types),
            scoped(&["t", "u"])
        );
        assert_eq!(
            plan_for(
                Backend::Postgres,
                "ALTER TYPE mood RENAME TO feeling",
                &groups,
                &types
            ),
            scoped(&["t", "u"])
        );
    }

    #[test]
    fn what_may_act_unnamed_reads_everything() {
        let groups = [
            (
                "t",
                vec![row("trigger", Some("t"), "audit", Some("AFTER INSERT"))],
            ),
            (
                "u",
                vec![row("column", Some("u"), "x", Some("f_default()"))],
            ),
            ("w", vec![row("table", None, "w", None)]),
        ];
        let functions = [row("function", None, "f_default", None)];
        let full = |sql: &str| {
            matches!(
                plan_for(Backend::Postgres, sql, &groups, &functions),
                Plan::Full(_)
            )
        };
        assert!(full("INSERT INTO t VALUES (1)"));
        assert!(full("INSERT INTO u VALUES (1)"));
        assert!(full("SELECT f_default()"));
        assert!(full("DO $$ BEGIN END $$"));
        assert!(full("-- note\nSET search_path = x"));
        assert!(full("CREATE TABLE w2 (x int); CREATE SCHEMA s"));
        assert!(full("CREATE EXTENSION citext"));
        assert!(full("UPDATE pg_catalog.pg_class SET relname = 'x'"));
        assert!(!full("INSERT INTO w VALUES (1) ON CONFLICT DO NOTHING"));
        let events = [row("definition", None, "event trigger e", None)];
        assert!(matches!(
            plan_for(Backend::Postgres, "SELECT 1", &[], &events),
            Plan::Full(_)
        ));
        assert!(matches!(
            plan_for(Backend::Mysql, "CALL p()", &[], &[]),
            Plan::Full(_)
        ));
        assert!(matches!(
            plan_for(Backend::Mysql, "/*!50001 DROP TABLE x */", &[], &[]),
            Plan::Full(_)
        ));
    }

    #[test]
    fn the_postgres_scoped_query_filters_the_whole_one() {
        let crate::dialect::ScopedRead::Query(introspect_groups) =
            Backend::Postgres.dialect().scoped_read()
        else {
            panic!("PostgreSQL reads the groups in scope with one query");
        };
        let query = introspect_groups(&["other.it's"], &["t", "a\"b\\c"]).unwrap();
        let prepare = query.prepare.unwrap();
        assert!(prepare
            .sql
            .starts_with("PREPARE pelican_scoped_read(text[], text[], text[]) AS\nWITH ns AS"));
        assert!(prepare
            .sql
            .contains("catalog_rows AS (\nSELECT 'table'::text AS kind"));
        assert!(prepare
            .sql
            .contains("SELECT $1::text[] AS relnames, $2::text[] AS keys, $3::text[] AS words"));
        assert_eq!(
            query.sql,
            "EXECUTE pelican_scoped_read('{\"it''s\"}', '{\"other.it''s\"}', E'{\"t\",\"a\\\\\"b\\\\\\\\c\"}')"
        );
        assert!(introspect_groups(&["a?b"], &[]).is_none());
    }
}
