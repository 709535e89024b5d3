//! SQLite's catalog: `sqlite_master` and the table-valued pragmas.

/// Every table, column, primary key, foreign key, index column, view and trigger, in
/// `CatalogRow`'s shape.
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
SELECT 'foreign_key', m.name, 'fk' || f.id, f.\"from\", NULL, f.\"table\" || '.' || coalesce(f.\"to\", ''), f.seq
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
SELECT 'trigger', m.tbl_name, m.name, m.sql, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'trigger'";
