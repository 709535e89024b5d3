//! PostgreSQL's catalog: `pg_catalog`. The structured parts (tables, columns, keys,
//! index columns, views, triggers, constraint kinds, types and functions by name) are
//! the current schema's; the `definition` rows hold, as the server's own text, every
//! other property, in every schema of the database (see `Definition`).

use std::sync::OnceLock;

use super::Postgres;
use crate::dialect::{Dialect, GroupsQuery, Prepare};

/// Where [`INTROSPECT`]'s common table expressions end and its rows begin.
const ROWS_START: &str = "\nSELECT 'table'::text AS kind";

/// [`INTROSPECT`] for the rows of the groups whose key (`tbl`, or the name of a table or
/// view) is one of `keys`, or whose name's last part (after a `.`), as it is or
/// lowercased, is one of `words`, or has a character no word has; and every row of no
/// group. Each part reads the relations it is about from `scoped_class`, `pg_class`
/// without the relations out of scope but sequences, composite types and those whose
/// name has a character other than `a`-`z`, `0`-`9`, `_`, `$` (a superset of those the
/// filter keeps, found by equality where a name is plain: the filter decides), so that
/// a part costs what the groups in scope hold (the names compared as one `name[]`
/// worked out once, not cast from `text[]` at each row of `pg_class`; the odd names
/// looked for from oid 16384 on, as `initdb` made no relation with such a name). The
/// parts about no group read the catalogs they share once (see [`scoped_sql`]).
///
/// The names are parameters (three text arrays) of a statement prepared once per
/// session and run by name: PostgreSQL keeps a generic plan of it after five runs, and
/// planning the query's thirty parts was most of a scoped read.
pub(crate) fn introspect_groups(keys: &[&str], words: &[&str]) -> Option<GroupsQuery> {
    let numbered = prepared_sql()?;
    let relnames: Vec<&str> = keys
        .iter()
        .map(|k| k.rsplit('.').next().unwrap_or(k))
        .collect();
    let arrays = [text_array(&relnames), text_array(keys), text_array(words)];
    // The query is run by name with the arrays as literals: a `?` in one would be taken
    // for a placeholder.
    if arrays.iter().any(|a| a.contains('?')) {
        return None;
    }
    let literals: Vec<String> = arrays.iter().map(|a| Postgres.text_literal(a)).collect();
    Some(GroupsQuery {
        sql: format!("EXECUTE {SCOPED_READ}({})", literals.join(", ")),
        prepare: Some(Prepare {
            present: format!(
                "SELECT name::text AS name, 1::bigint AS n FROM pg_prepared_statements \
                 WHERE name = '{SCOPED_READ}'"
            ),
            sql: format!("PREPARE {SCOPED_READ}(text[], text[], text[]) AS\n{numbered}"),
        }),
    })
}

/// [`scoped_sql`] with its `?` numbered (`$1`, `$2`, `$3`), as `PREPARE` takes it: worked
/// out once per process, as it is the same text at every read.
fn prepared_sql() -> Option<&'static str> {
    static NUMBERED: OnceLock<Option<String>> = OnceLock::new();
    NUMBERED
        .get_or_init(|| {
            let sql = scoped_sql()?;
            let mut numbered = String::with_capacity(sql.len());
            for (index, part) in sql.split('?').enumerate() {
                if index > 0 {
                    numbered.push_str(&format!("${index}"));
                }
                numbered.push_str(part);
            }
            Some(numbered)
        })
        .as_deref()
}

/// The text of [`introspect_groups`]' query, its three arrays as `?`: [`INTROSPECT`]
/// with the catalogs its parts share read once at the top ([`SHARED`]), the comments
/// found from the user's comments ([`COMMENTS`]) and the rows kept by scope. `None` if
/// [`INTROSPECT`] no longer has a part this rewrites (a unit test says so first).
fn scoped_sql() -> Option<String> {
    let at = INTROSPECT.find(ROWS_START)?;
    let (ctes, rows) = INTROSPECT.split_at(at);
    // The comments' join is replaced whole, after the other parts' rewrites (which
    // would rewrite its text too).
    if !rows.contains(COMMENT_JOIN) {
        return None;
    }
    let mut rows = rows
        .replace(COMMENT_JOIN, COMMENTS_MARK)
        .replace("pg_class c ", "scoped_class c ")
        .replace(
            "pg_class t ON t.oid = x.indrelid",
            "scoped_class t ON t.oid = x.indrelid",
        );
    for (from, to) in SHARED {
        if !rows.contains(from) {
            return None;
        }
        rows = rows.replace(from, to);
    }
    let rows = rows.replace(COMMENTS_MARK, COMMENTS);
    let key = "coalesce(q.tbl, q.name)";
    let last_key = format!("substring({key} FROM '[^.]*$')");
    Some(format!(
        "{ctes},\n\
         scope_names AS MATERIALIZED (SELECT ?::text[] AS relnames, ?::text[] AS keys, ?::text[] AS words),\n\
         class_names AS MATERIALIZED (SELECT (relnames || words)::name[] AS names FROM scope_names),\n\
         scoped_class AS MATERIALIZED (\n\
           SELECT * FROM pg_class\n\
            WHERE relkind IN ('S', 'c')\n\
               OR relname = ANY((SELECT names FROM class_names)::name[])\n\
               OR (oid >= CAST(16384 AS oid) AND relname ~ '[^a-z0-9_$]')),\n\
         {SHARED_CTES},\n\
         catalog_rows AS ({rows})\n\
         SELECT * FROM catalog_rows q\n\
         WHERE (q.tbl IS NULL AND q.kind NOT IN ('table', 'view'))\n\
            OR {key} = ANY((SELECT keys FROM scope_names)::text[])\n\
            OR {last_key} = ANY((SELECT words FROM scope_names)::text[])\n\
            OR lower({last_key}) = ANY((SELECT words FROM scope_names)::text[])\n\
            OR {last_key} ~ '[^[:alnum:]_$]'",
    ))
}

/// Catalogs several parts of [`INTROSPECT`] scan whole (PostgreSQL has no index on an
/// object's schema), read once at the top of the scoped query instead, each a superset
/// of the rows the parts reading it keep (their own filters stay). Each is read by its
/// oid index from 16384 on (`FirstNormalObjectId`): every object made after `initdb`,
/// so every one in a schema of the database's, without scanning the thousands of
/// functions, types and collations `initdb` makes (a third of a scoped read's time). `composite_class`
/// replaces a lookup of each type's relation: the relations of kind `c` are the same
/// set, and `scoped_class` holds all of them.
const SHARED_CTES: &str = "\
nss_proc AS MATERIALIZED (
  SELECT oid, pronamespace, proname, prokind, proowner, proacl FROM pg_proc
   WHERE oid >= CAST(16384 AS oid)
     AND (pronamespace IN (SELECT oid FROM nss) OR pronamespace = (SELECT oid FROM ns))),
composite_class AS MATERIALIZED (SELECT oid FROM scoped_class WHERE relkind = 'c'),
nss_type AS MATERIALIZED (
  SELECT * FROM pg_type
   WHERE oid >= CAST(16384 AS oid) AND typtype IN ('e', 'd', 'r', 'c')
     AND (typnamespace IN (SELECT oid FROM nss) OR typnamespace = (SELECT oid FROM ns))),
user_type AS MATERIALIZED (
  SELECT * FROM nss_type
   WHERE typtype IN ('e', 'd', 'r', 'c') AND (typrelid = 0 OR typrelid IN (SELECT oid FROM composite_class))),
nss_collation AS MATERIALIZED (
  SELECT * FROM pg_collation WHERE oid >= CAST(16384 AS oid) AND collnamespace IN (SELECT oid FROM nss))";

/// What [`scoped_sql`] rewrites in [`INTROSPECT`]'s rows to read [`SHARED_CTES`].
const SHARED: &[(&str, &str)] = &[
    (
        "FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)",
        "FROM nss_proc p WHERE p.pronamespace = (SELECT oid FROM ns)",
    ),
    (
        "pg_proc p JOIN nss n ON n.oid = p.pronamespace",
        "nss_proc p JOIN nss n ON n.oid = p.pronamespace",
    ),
    (
        "(SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'",
        "t.typrelid IN (SELECT oid FROM composite_class)",
    ),
    (
        "FROM pg_type t\n  WHERE t.typnamespace = (SELECT oid FROM ns)",
        "FROM user_type t\n  WHERE t.typnamespace = (SELECT oid FROM ns)",
    ),
    (
        "FROM pg_type t JOIN nss n ON n.oid = t.typnamespace\n WHERE t.typtype",
        "FROM user_type t JOIN nss n ON n.oid = t.typnamespace\n WHERE t.typtype",
    ),
    (
        "FROM pg_type t JOIN nss n ON n.oid = t.typnamespace\n         WHERE t.typacl",
        "FROM user_type t JOIN nss n ON n.oid = t.typnamespace\n         WHERE t.typacl",
    ),
    (
        "pg_collation o JOIN nss n ON n.oid = o.collnamespace",
        "nss_collation o JOIN nss n ON n.oid = o.collnamespace",
    ),
];

/// [`INTROSPECT`]'s join of the comments to the objects they may be on, which
/// [`scoped_sql`] replaces with [`COMMENTS`]: a macro, so that [`INTROSPECT`] is
/// written with it. [`COMMENTS`] follows what it says: a change here is one there.
macro_rules! comment_join {
    () => {
        "\
FROM pg_description d
  JOIN (SELECT 'pg_class'::regclass AS classoid, c.oid, n.q || c.relname AS tbl
          FROM pg_class c JOIN nss n ON n.oid = c.relnamespace
        UNION ALL
        SELECT 'pg_proc'::regclass, p.oid, NULL FROM pg_proc p JOIN nss n ON n.oid = p.pronamespace
        UNION ALL
        SELECT 'pg_type'::regclass, t.oid, NULL FROM pg_type t JOIN nss n ON n.oid = t.typnamespace
        UNION ALL
        SELECT 'pg_constraint'::regclass, k.oid, NULL FROM pg_constraint k JOIN nss n ON n.oid = k.connamespace
        UNION ALL
        SELECT 'pg_trigger'::regclass, g.oid, NULL
          FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN nss n ON n.oid = c.relnamespace
        UNION ALL
        SELECT 'pg_policy'::regclass, p.oid, NULL
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN nss n ON n.oid = c.relnamespace
        UNION ALL
        SELECT 'pg_rewrite'::regclass, r.oid, NULL
          FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN nss n ON n.oid = c.relnamespace
        UNION ALL
        SELECT 'pg_collation'::regclass, o.oid, NULL FROM pg_collation o JOIN nss n ON n.oid = o.collnamespace
        UNION ALL
        SELECT 'pg_namespace'::regclass, n.oid, NULL FROM nss n) o
    ON o.classoid = d.classoid AND o.oid = d.objoid"
    };
}
/// See [`comment_join`].
const COMMENT_JOIN: &str = comment_join!();

/// Where [`COMMENTS`] goes while the other parts are rewritten.
const COMMENTS_MARK: &str = "/* comments */";

/// [`COMMENT_JOIN`] driven by the comments rather than by the objects they may be on:
/// each comment looked up by its object's oid in that object's catalog, kept if the
/// object is one of [`COMMENT_JOIN`]'s (the same conditions, the same `tbl`). Which
/// comments: those on objects from oid 16384 up, found by the range of
/// `pg_description`'s index, and below it those on the user's schemas (`public`).
/// Below 16384 (`FirstNormalObjectId`) are only the objects `initdb` made, and of
/// these only the schema `public` is in a schema [`COMMENT_JOIN`] reads; so the rows are
/// its rows, and neither the system's thousands of comments nor the thousands of
/// objects a comment may be on (every relation, type, function, constraint and rule)
/// are read, only the user's comments. (An object's oid is unique in its catalog: one
/// branch at most finds it, as one row of the join's at most matched.)
const COMMENTS: &str = "\
FROM (SELECT d.objoid, d.classoid, d.objsubid, d.description FROM pg_description d
         WHERE d.objoid >= CAST(16384 AS oid)
        UNION ALL
        SELECT d.objoid, d.classoid, d.objsubid, d.description
          FROM nss n
          CROSS JOIN LATERAL (SELECT * FROM pg_description d WHERE d.objoid = n.oid
                                 AND d.classoid = 'pg_namespace'::regclass OFFSET 0) d
         WHERE n.oid < CAST(16384 AS oid)) d
  CROSS JOIN LATERAL (
        SELECT n.q || c.relname AS tbl FROM pg_class c JOIN nss n ON n.oid = c.relnamespace
         WHERE d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_proc p JOIN nss n ON n.oid = p.pronamespace
         WHERE d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_type t JOIN nss n ON n.oid = t.typnamespace
         WHERE d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_constraint k JOIN nss n ON n.oid = k.connamespace
         WHERE d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN nss n ON n.oid = c.relnamespace
         WHERE d.classoid = 'pg_trigger'::regclass AND g.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN nss n ON n.oid = c.relnamespace
         WHERE d.classoid = 'pg_policy'::regclass AND p.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN nss n ON n.oid = c.relnamespace
         WHERE d.classoid = 'pg_rewrite'::regclass AND r.oid = d.objoid
        UNION ALL
        SELECT NULL FROM pg_collation o JOIN nss n ON n.oid = o.collnamespace
         WHERE d.classoid = 'pg_collation'::regclass AND o.oid = d.objoid
        UNION ALL
        SELECT NULL FROM nss n WHERE d.classoid = 'pg_namespace'::regclass AND n.oid = d.objoid) o";

/// The name [`introspect_groups`]' query is prepared by in a session.
const SCOPED_READ: &str = "pelican_scoped_read";

/// A `text[]` literal of `items`: each double-quoted, `"` and `\` escaped.
fn text_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// Every table, column, primary key, foreign key, index column, view, trigger,
/// constraint, type and function of the current schema, and the definitions of every
/// user schema, in `CatalogRow`'s shape.
///
/// A definition's name says what it is (`index t.ix`, `type mood`, `comment on column
/// c of table t`); names outside the current schema are qualified with their schema,
/// and the current schema's qualifier is taken out of definitions, so that the same
/// schema under another name compares equal. Grants are written relative to the
/// object's owner (`OWNER`), and only where they differ from the default. A column's
/// position is its place among the table's columns (`row_number()`), not `attnum`,
/// which keeps the places of dropped columns: a column dropped and added again reads
/// as the same row it was, so that equal catalogs read as equal rows.
pub(crate) const INTROSPECT: &str = concat!("\
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
nss AS (SELECT oid, nspname::text AS nspname, nspname = current_schema() AS cur,
               CASE WHEN nspname = current_schema() THEN '' ELSE nspname::text || '.' END AS q
          FROM pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%'
           AND nspname NOT LIKE 'pg\\_temp\\_%'),
unq AS (SELECT quote_ident(current_schema()) || '.' AS prefix)
SELECT 'table'::text AS kind, NULL::text AS tbl, c.relname::text AS name, NULL::text AS detail,
       NULL::text AS flag, NULL::text AS extra, 0::bigint AS pos
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'namespace', NULL, current_schema()::text, NULL, NULL, NULL, 0
UNION ALL
SELECT 'column', c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN '0' ELSE '1' END, pg_get_expr(d.adbin, d.adrelid),
       row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
    AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'primary_key', c.relname::text, a.attname::text, NULL, NULL, NULL, k.n::bigint
  FROM pg_constraint x
  JOIN pg_class c ON c.oid = x.conrelid
  CROSS JOIN LATERAL unnest(x.conkey) WITH ORDINALITY AS k(attnum, n)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  WHERE c.relnamespace = (SELECT oid FROM ns) AND x.contype = 'p'
UNION ALL
SELECT 'foreign_key', c.relname::text, x.conname::text, a.attname::text, NULL,
       r.relname::text || '.' || ra.attname::text, k.n::bigint
  FROM pg_constraint x
  JOIN pg_class c ON c.oid = x.conrelid
  JOIN pg_class r ON r.oid = x.confrelid
  CROSS JOIN LATERAL unnest(x.conkey, x.confkey) WITH ORDINALITY AS k(attnum, refnum, n)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  JOIN pg_attribute ra ON ra.attrelid = r.oid AND ra.attnum = k.refnum
  WHERE c.relnamespace = (SELECT oid FROM ns) AND x.contype = 'f'
UNION ALL
SELECT 'index', t.relname::text, i.relname::text, pg_get_indexdef(x.indexrelid, k.n::int, true),
       CASE WHEN x.indisunique THEN '1' ELSE '0' END,
       CASE WHEN x.indisvalid THEN NULL ELSE 'invalid' END, k.n::bigint
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  CROSS JOIN LATERAL generate_series(1, x.indnkeyatts) AS k(n)
  WHERE t.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'view', NULL, c.relname::text, pg_get_viewdef(c.oid, true), NULL, NULL, 0
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger', c.relname::text, g.tgname::text, pg_get_triggerdef(g.oid, true), NULL, NULL, 0
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
  WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT g.tgisinternal
UNION ALL
SELECT 'constraint', c.relname::text, k.conname::text, k.contype::text, NULL,
       pg_get_constraintdef(k.oid, true), 0
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'type', NULL, t.typname::text, t.typtype::text, NULL, NULL, 0
  FROM pg_type t
  WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype IN ('e', 'd', 'r', 'c')
    AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'function', NULL, p.proname::text, NULL, NULL, NULL, 0
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'definition', NULL, 'schema ' || n.nspname, 'present', NULL, NULL, 0 FROM nss n WHERE NOT n.cur
UNION ALL
SELECT 'definition', n.q || c.relname, CASE WHEN c.relkind IN ('v', 'm') THEN 'view ' ELSE 'table ' END || n.q || c.relname,
       CASE WHEN c.relkind IN ('v', 'm') THEN c.relkind::text || ' ' || pg_get_viewdef(c.oid, true) ELSE 'relkind ' || c.relkind::text END,
       NULL, NULL, 0
  FROM pg_class c JOIN nss n ON n.oid = c.relnamespace
 WHERE NOT n.cur AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
UNION ALL
SELECT 'definition', n.q || c.relname, 'table ' || n.q || c.relname,
       format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), NULL, NULL,
       row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
  FROM pg_class c JOIN nss n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE NOT n.cur AND c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'definition', n.q || c.relname, 'column ' || n.q || c.relname || '.' || a.attname,
       concat_ws(' ', CASE WHEN NOT n.cur AND a.attnotnull THEN 'NOT NULL' END,
                 CASE WHEN NOT n.cur AND d.adbin IS NOT NULL AND a.attgenerated = '' THEN 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
                 CASE WHEN a.attgenerated <> '' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' END,
                 CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END,
                 CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                      THEN (SELECT 'COLLATE ' || quote_ident(o.collname) FROM pg_collation o WHERE o.oid = a.attcollation) END,
                 CASE WHEN a.attstorage <> t.typstorage THEN 'STORAGE ' || a.attstorage::text END,
                 CASE WHEN a.attstattarget >= 0 THEN 'STATISTICS ' || a.attstattarget END),
       NULL, NULL, 0
  FROM pg_class c JOIN nss n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
  JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
   AND ((NOT n.cur AND (a.attnotnull OR d.adbin IS NOT NULL)) OR a.attgenerated <> '' OR a.attidentity <> ''
        OR (a.attcollation <> 0 AND a.attcollation <> t.typcollation) OR a.attstorage <> t.typstorage
        OR a.attstattarget >= 0)
UNION ALL
SELECT 'definition', n.q || c.relname, 'table ' || n.q || c.relname || ' options',
       concat_ws(' ', CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED' END,
                 CASE WHEN c.reloptions IS NOT NULL THEN 'WITH (' || array_to_string(c.reloptions, ', ') || ')' END,
                 CASE WHEN c.relreplident <> 'd' AND c.relkind IN ('r', 'p', 'm') THEN 'REPLICA IDENTITY ' || c.relreplident::text END,
                 CASE WHEN c.relrowsecurity THEN 'ROW LEVEL SECURITY' END,
                 CASE WHEN c.relforcerowsecurity THEN 'FORCE ROW LEVEL SECURITY' END,
                 CASE WHEN c.reltablespace <> 0 THEN 'TABLESPACE ' || (SELECT spcname FROM pg_tablespace WHERE oid = c.reltablespace) END,
                 CASE WHEN c.relkind = 'p' THEN 'PARTITION BY ' || pg_get_partkeydef(c.oid) END,
                 CASE WHEN c.relispartition THEN 'PARTITION OF ' || (SELECT string_agg(i.inhparent::regclass::text, ', ') FROM pg_inherits i WHERE i.inhrelid = c.oid)
                      || ' ' || pg_get_expr(c.relpartbound, c.oid) END,
                 (SELECT 'INHERITS (' || string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno) || ')'
                    FROM pg_inherits i WHERE i.inhrelid = c.oid AND NOT c.relispartition)),
       NULL, NULL, 0
  FROM pg_class c JOIN nss n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f', 'm', 'v')
   AND (c.relpersistence = 'u' OR c.reloptions IS NOT NULL OR (c.relreplident <> 'd' AND c.relkind IN ('r', 'p', 'm')) OR c.relrowsecurity
        OR c.relforcerowsecurity OR c.reltablespace <> 0 OR c.relkind = 'p' OR c.relispartition
        OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))
UNION ALL
SELECT 'definition', n.q || c.relname, 'constraint ' || n.q || c.relname || '.' || k.conname,
       replace(pg_get_constraintdef(k.oid, true), (SELECT prefix FROM unq), ''),
       CASE WHEN n.cur THEN 'named' END, NULL, 0
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN nss n ON n.oid = c.relnamespace
UNION ALL
SELECT 'definition', n.q || t.relname, 'index ' || n.q || t.relname || '.' || i.relname,
       replace(pg_get_indexdef(x.indexrelid), (SELECT prefix FROM unq), '')
       || CASE WHEN x.indisvalid THEN '' ELSE ' (INVALID)' END
       || CASE WHEN x.indisclustered THEN ' (CLUSTER)' ELSE '' END,
       CASE WHEN n.cur THEN 'named' END, NULL, 0
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  JOIN nss n ON n.oid = t.relnamespace
UNION ALL
SELECT 'definition', n.q || c.relname, 'trigger ' || n.q || c.relname || '.' || g.tgname,
       CASE WHEN n.cur THEN '' ELSE replace(pg_get_triggerdef(g.oid, true), (SELECT prefix FROM unq), '') END
       || CASE g.tgenabled WHEN 'O' THEN '' ELSE ' (ENABLE ' || g.tgenabled::text || ')' END,
       CASE WHEN n.cur THEN 'named' END, NULL, 0
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN nss n ON n.oid = c.relnamespace
 WHERE NOT g.tgisinternal AND (NOT n.cur OR g.tgenabled <> 'O')
UNION ALL
SELECT 'definition', n.q || c.relname, 'rule ' || n.q || c.relname || '.' || r.rulename,
       replace(pg_get_ruledef(r.oid, true), (SELECT prefix FROM unq), ''), NULL, NULL, 0
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN nss n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'definition', n.q || c.relname, 'policy ' || n.q || c.relname || '.' || p.polname,
       format('%s FOR %s TO %s USING (%s) WITH CHECK (%s)', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              p.polcmd, (SELECT string_agg(x, ', ' ORDER BY x)
                           FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END AS x
                                   FROM unnest(p.polroles) AS r) roles),
              pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)),
       NULL, NULL, 0
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN nss n ON n.oid = c.relnamespace
UNION ALL
SELECT 'definition', NULL, 'type ' || n.q || t.typname,
       CASE t.typtype
         WHEN 'e' THEN 'ENUM (' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                    FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
         WHEN 'r' THEN (SELECT format('RANGE (SUBTYPE = %s, COLLATION %s, OPCLASS %s, CANONICAL %s, SUBDIFF %s)',
                                      format_type(r.rngsubtype, NULL), r.rngcollation, r.rngsubopc::regclass::text,
                                      r.rngcanonical, r.rngsubdiff)
                          FROM pg_range r WHERE r.rngtypid = t.oid)
         WHEN 'd' THEN 'DOMAIN ' || format_type(t.typbasetype, t.typtypmod)
              || COALESCE(' DEFAULT ' || t.typdefault, '') || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
              || CASE WHEN t.typcollation <> 0 AND t.typcollation <> (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype)
                      THEN ' COLLATE ' || (SELECT quote_ident(o.collname) FROM pg_collation o WHERE o.oid = t.typcollation) ELSE '' END
              || COALESCE((SELECT string_agg(format(' CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid, true)), '' ORDER BY k.conname)
                             FROM pg_constraint k WHERE k.contypid = t.oid), '')
         ELSE '(' || COALESCE((SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                                 FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
       END,
       CASE WHEN n.cur THEN 'named' END, NULL, 0
  FROM pg_type t JOIN nss n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd', 'r', 'c')
   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'definition', NULL,
       CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
         || n.q || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE WHEN p.prokind = 'a'
            THEN (SELECT format('RETURNS %s SFUNC %s STYPE %s FINALFUNC %s COMBINEFUNC %s INITCOND %s SORTOP %s',
                                pg_get_function_result(p.oid), g.aggtransfn, format_type(g.aggtranstype, NULL),
                                g.aggfinalfn, g.aggcombinefn, g.agginitval, g.aggsortop)
                    FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
            ELSE replace(pg_get_functiondef(p.oid), (SELECT prefix FROM unq), '') END,
       NULL, NULL, 0
  FROM pg_proc p JOIN nss n ON n.oid = p.pronamespace
 -- An extension's own functions are its version's, which is compared.
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                     AND d.deptype = 'e')
UNION ALL
SELECT 'definition', o.tbl, 'sequence ' || n.q || c.relname,
       format('AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s%s',
              format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
              CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END,
              CASE WHEN c.relpersistence = 'u' THEN ' UNLOGGED' ELSE '' END)
       || COALESCE(' OWNED BY ' || o.tbl || '.' || o.col, ''),
       NULL, NULL, 0
  FROM pg_class c JOIN nss n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
  LEFT JOIN LATERAL (SELECT (SELECT q FROM nss WHERE nss.oid = t.relnamespace) || t.relname AS tbl, a.attname::text AS col
                       FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                      LIMIT 1) o ON true
 WHERE c.relkind = 'S'
UNION ALL
SELECT 'definition', NULL,
       'default privileges of ' || pg_get_userbyid(d.defaclrole)
         || COALESCE(' in schema ' || (SELECT nspname FROM pg_namespace WHERE oid = d.defaclnamespace), '')
         || ' on ' || d.defaclobjtype::text,
       array_to_string(d.defaclacl, ', '), NULL, NULL, 0
  FROM pg_default_acl d WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (SELECT oid FROM nss)
UNION ALL
SELECT 'definition', NULL, 'publication ' || p.pubname,
       (to_jsonb(p) - 'oid' - 'pubname' - 'pubowner')::text || COALESCE(' TABLES ' || (
         SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT r.prrelid::regclass::text AS x FROM pg_publication_rel r
                                                      WHERE r.prpubid = p.oid) t), ''),
       NULL, NULL, 0
  FROM pg_publication p
UNION ALL
SELECT 'definition', NULL, 'event trigger ' || e.evtname,
       format('ON %s EXECUTE FUNCTION %s ENABLE %s TAGS %s', e.evtevent, e.evtfoid::regproc::text, e.evtenabled::text,
              COALESCE(array_to_string(e.evttags, ', '), '')),
       NULL, NULL, 0
  FROM pg_event_trigger e
UNION ALL
SELECT 'definition', NULL, 'extension ' || e.extname,
       e.extversion || ' IN SCHEMA ' || n.nspname, NULL, NULL, 0
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'
UNION ALL
SELECT 'definition', NULL, 'collation ' || n.q || o.collname,
       (to_jsonb(o) - 'oid' - 'collname' - 'collnamespace' - 'collowner' - 'collversion')::text,
       NULL, NULL, 0
  FROM pg_collation o JOIN nss n ON n.oid = o.collnamespace
UNION ALL
SELECT 'definition', o.tbl, 'comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description,
       NULL, NULL, 0
  ", comment_join!(), "
UNION ALL
SELECT 'definition', g.tbl, 'grants on ' || pg_describe_object(g.classid, g.objid, g.subid), g.acl, NULL, NULL, 0
  FROM (SELECT 'pg_class'::regclass AS classid, c.oid AS objid, 0 AS subid, n.q || c.relname AS tbl,
               CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\" AS objtype, c.relowner AS owner, c.relacl AS acl
          FROM pg_class c JOIN nss n ON n.oid = c.relnamespace
         WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
        UNION ALL
        SELECT 'pg_class'::regclass, c.oid, a.attnum, n.q || c.relname, 'c', c.relowner, a.attacl
          FROM pg_class c JOIN nss n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT 'pg_proc'::regclass, p.oid, 0, NULL, 'f', p.proowner, p.proacl
          FROM pg_proc p JOIN nss n ON n.oid = p.pronamespace WHERE p.proacl IS NOT NULL
        UNION ALL
        SELECT 'pg_type'::regclass, t.oid, 0, NULL, 'T', t.typowner, t.typacl
          FROM pg_type t JOIN nss n ON n.oid = t.typnamespace
         WHERE t.typacl IS NOT NULL AND t.typtype IN ('e', 'd', 'r', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
        UNION ALL
        SELECT 'pg_namespace'::regclass, n.oid, 0, NULL, 'n', s.nspowner, s.nspacl
          FROM nss n JOIN pg_namespace s ON s.oid = n.oid WHERE s.nspacl IS NOT NULL) o
  -- No ACL is the default one: only an object granted or revoked on has one.
  CROSS JOIN LATERAL (
    SELECT o.tbl, o.classid, o.objid, o.subid,
           (SELECT string_agg(p.x, ', ' ORDER BY p.x)
              FROM (SELECT CASE WHEN e.grantee = o.owner THEN 'OWNER' WHEN e.grantee = 0 THEN 'PUBLIC'
                                ELSE pg_get_userbyid(e.grantee)::text END
                           || ' ' || e.privilege_type || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS x
                      FROM aclexplode(COALESCE(o.acl, acldefault(o.objtype, o.owner))) e) p) AS acl,
           (SELECT string_agg(p.x, ', ' ORDER BY p.x)
              FROM (SELECT CASE WHEN e.grantee = o.owner THEN 'OWNER' WHEN e.grantee = 0 THEN 'PUBLIC'
                                ELSE pg_get_userbyid(e.grantee)::text END
                           || ' ' || e.privilege_type || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS x
                      FROM aclexplode(acldefault(o.objtype, o.owner)) e) p) AS base
     WHERE o.acl IS NOT NULL) g
 WHERE g.acl IS DISTINCT FROM g.base");

/// The names of the current schema's tables, views, indexes, triggers, constraints,
/// types and functions, in `CatalogRow`'s shape: [`INTROSPECT`]'s rows of those kinds,
/// from the same catalogs with the same filters, one row per object and nothing else
/// (see `Outline`). Every name here is one [`INTROSPECT`] reads and `diff` compares.
pub(crate) const OUTLINE: &str = "\
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
SELECT 'table'::text AS kind, NULL::text AS tbl, c.relname::text AS name, NULL::text AS detail,
       NULL::text AS flag, NULL::text AS extra, 0::bigint AS pos
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'index', t.relname::text, i.relname::text, NULL, NULL, NULL, 0
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  WHERE t.relnamespace = (SELECT oid FROM ns) AND x.indnkeyatts > 0
UNION ALL
SELECT 'view', NULL, c.relname::text, NULL, NULL, NULL, 0
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger', c.relname::text, g.tgname::text, NULL, NULL, NULL, 0
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
  WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT g.tgisinternal
UNION ALL
SELECT 'constraint', c.relname::text, k.conname::text, NULL, NULL, NULL, 0
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'type', NULL, t.typname::text, NULL, NULL, NULL, 0
  FROM pg_type t
  WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype IN ('e', 'd', 'r', 'c')
    AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'function', NULL, p.proname::text, NULL, NULL, NULL, 0
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)";

#[cfg(test)]
mod tests {
    use super::*;

    /// A change to [`INTROSPECT`] that drops a part [`scoped_sql`] rewrites shows here,
    /// not as a whole read after every step.
    #[test]
    fn the_scoped_query_rewrites_every_shared_part() {
        let sql = scoped_sql().expect("every rewritten part is in INTROSPECT");
        assert!(sql.contains(COMMENTS));
        let sql = sql.replace(COMMENTS, "");
        assert!(!sql.contains("FROM pg_description d"));
        assert!(!sql.contains("pg_proc p "));
        assert!(!sql.contains("pg_collation o JOIN"));
        assert!(!sql.contains("pg_type t JOIN"));
        assert!(!sql.contains("WHERE oid = t.typrelid"));
    }
}
