//! SQLite's catalog: `sqlite_master` and the table-valued pragmas.

/// Every table, column, index column, view and trigger, in `CatalogRow`'s shape.
pub(crate) const INTROSPECT: &str = "\
SELECT 'table' AS kind, NULL AS tbl, m.name AS name, NULL AS detail, NULL AS flag, 0 AS pos
  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'namespace', NULL, 'main', NULL, NULL, 0
UNION ALL
SELECT 'column', m.name, p.name, p.type, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN '0' ELSE '1' END, p.cid
  FROM sqlite_master m JOIN pragma_table_info(m.name) p
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'index', m.tbl_name, m.name, ii.name, CAST(il.\"unique\" AS TEXT), ii.seqno
  FROM sqlite_master m
  JOIN pragma_index_list(m.tbl_name) il ON il.name = m.name
  JOIN pragma_index_info(m.name) ii
  WHERE m.type = 'index'
UNION ALL
SELECT 'view', NULL, m.name, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'view'
UNION ALL
SELECT 'trigger', m.tbl_name, m.name, NULL, NULL, 0 FROM sqlite_master m WHERE m.type = 'trigger'";
