//! SQLite's catalog: `sqlite_master` and the table-valued pragmas.

/// Every row of `sqlite_master`, the whole schema as SQLite keeps it, grouped by the
/// table each object is or is on (`lower`, as SQLite compares names): the rows
/// [`INTROSPECT`] gives of a table, its indexes and its triggers follow from these
/// alone.
pub(crate) const OBJECTS: &str = "\
SELECT lower(tbl_name) AS grp, tbl_name AS tbl, type AS kind, name, sql AS definition FROM sqlite_master";

/// The most names [`objects_of`] lists by: past it (a step of thousands of distinct
/// words, rows' values), `sqlite_master` is listed whole, as cheaply.
const MAX_NAMES: usize = 2000;

/// [`OBJECTS`]' rows of the groups `keys` and of those named by one of `words` (as
/// SQLite compares names: ASCII without case), and of every group whose name has a
/// character no word has (a space, a dot, a letter beyond ASCII, which a step's words
/// may not spell whole) or is SQLite's own (`sqlite_sequence`, which the first table
/// with `AUTOINCREMENT` makes, unnamed): the groups a step that names `keys` and
/// `words` can have made, changed or dropped, with a few more. `None` past
/// [`MAX_NAMES`].
pub(crate) fn objects_of(
    keys: &std::collections::BTreeSet<String>,
    words: &[&str],
) -> Option<String> {
    let mut names: Vec<String> = keys
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .chain(words.iter().map(|w| w.to_ascii_lowercase()))
        // Any other is an odd name's, listed as one.
        .filter(|n| {
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() > MAX_NAMES {
        return None;
    }
    let list: Vec<String> = names
        .iter()
        .map(|n| super::super::single_quoted(n))
        .collect();
    Some(format!(
        "{OBJECTS}\n WHERE lower(tbl_name) IN ({})\n    OR tbl_name GLOB '*[^A-Za-z0-9_$]*'\n    \
         OR tbl_name LIKE 'sqlite\\_%' ESCAPE '\\'",
        list.join(", ")
    ))
}

/// [`INTROSPECT`] for the objects of `sqlite_master` whose `tbl_name` is one of `tables`.
pub(crate) fn introspect_tables(tables: &[&str]) -> String {
    let list: Vec<String> = tables
        .iter()
        .map(|t| super::super::single_quoted(t))
        .collect();
    format!(
        "WITH scope AS (SELECT * FROM sqlite_master WHERE tbl_name IN ({}))\n{}",
        list.join(", "),
        INTROSPECT.replace("FROM sqlite_master m", "FROM scope m")
    )
}

/// Every table, column, primary key, foreign key (with its actions), index column, view
/// and trigger, in `CatalogRow`'s shape; and as `definition` rows the `CREATE`
/// statements SQLite keeps of tables and indexes, which hold everything else (CHECK
/// expressions, collations, deferrable keys, generated columns, `STRICT`, `WITHOUT
/// ROWID`, partial and expression indexes).
pub(crate) const INTROSPECT: &str = "\
SELECT 'table' AS kind, NULL AS tbl, m.name AS name, NULL AS detail, NULL AS flag, NULL AS extra, 0 AS pos
  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'namespace', NULL, 'main', NULL, NULL, NULL, 0
UNION ALL
SELECT 'column', m.name, p.name, p.type, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN '0' ELSE '1' END,
       p.dflt_value, p.cid
  FROM sqlite_master m JOIN pragma_table_info(m.name) p
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'primary_key', m.name, p.name, NULL, NULL, NULL, p.pk
  FROM sqlite_master m JOIN pragma_table_info(m.name) p
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND p.pk > 0
UNION ALL
SELECT 'foreign_key', m.name, 'fk' || f.id, f.\"from\",
       'ON UPDATE ' || f.on_update || ' ON DELETE ' || f.on_delete || ' MATCH ' || f.\"match\",
       f.\"table\" || '.' || coalesce(f.\"to\", ''), f.seq
  FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
  WHERE m.type = 'table'
UNION ALL
SELECT 'index', m.tbl_name, m.name, ii.name, CAST(il.\"unique\" AS TEXT), NULL, ii.seqno
  FROM sqlite_master m
  JOIN pragma_index_list(m.tbl_name) il ON il.name = m.name
  JOIN pragma_index_info(m.name) ii
  WHERE m.type = 'index'
UNION ALL
SELECT 'view', NULL, m.name, m.sql, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'view'
UNION ALL
SELECT 'trigger', m.tbl_name, m.name, m.sql, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'trigger'
UNION ALL
SELECT 'definition', m.name, 'table ' || m.name, m.sql, 'whole', NULL, 0
  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'definition', m.tbl_name, 'index ' || m.tbl_name || '.' || m.name, m.sql, 'named', NULL, 0
  FROM sqlite_master m WHERE m.type = 'index' AND m.sql IS NOT NULL";

/// The names of the tables, indexes, views and triggers, in `CatalogRow`'s shape:
/// [`INTROSPECT`]'s rows of those kinds, from `sqlite_master` with the same filters,
/// one row per object and nothing else (see `Outline`). Every name here is one
/// [`INTROSPECT`] reads and `diff` compares.
pub(crate) const OUTLINE: &str = "\
SELECT 'table' AS kind, NULL AS tbl, m.name AS name, NULL AS detail, NULL AS flag, NULL AS extra, 0 AS pos
  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'index', m.tbl_name, m.name, NULL, NULL, NULL, 0
  FROM sqlite_master m
  JOIN pragma_index_list(m.tbl_name) il ON il.name = m.name
  JOIN pragma_index_info(m.name) ii
  WHERE m.type = 'index'
UNION ALL
SELECT 'view', NULL, m.name, NULL, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'view'
UNION ALL
SELECT 'trigger', m.tbl_name, m.name, NULL, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'trigger'";
