//! MySQL/MariaDB's catalog: `information_schema`, restricted to the current database.

/// Every table, column, index column, view, trigger, constraint and routine of the
/// current database, in `CatalogRow`'s shape.
pub(crate) const INTROSPECT: &str = "\
SELECT CAST('table' AS CHAR) AS kind, CAST(NULL AS CHAR) AS tbl, CAST(table_name AS CHAR) AS name,
       CAST(NULL AS CHAR) AS detail, CAST(NULL AS CHAR) AS flag, CAST(0 AS SIGNED) AS pos
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'namespace', NULL, DATABASE(), NULL, NULL, 0
UNION ALL
SELECT 'column', table_name, column_name, column_type,
       CASE WHEN is_nullable = 'YES' THEN '1' ELSE '0' END, ordinal_position
  FROM information_schema.columns
  WHERE table_schema = DATABASE()
    AND table_name IN (SELECT table_name FROM information_schema.tables
                       WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE')
UNION ALL
SELECT 'index', table_name, index_name, column_name,
       CASE WHEN non_unique = 0 THEN '1' ELSE '0' END, seq_in_index
  FROM information_schema.statistics WHERE table_schema = DATABASE()
UNION ALL
SELECT 'view', NULL, table_name, NULL, NULL, 0
  FROM information_schema.views WHERE table_schema = DATABASE()
UNION ALL
SELECT 'trigger', event_object_table, trigger_name, NULL, NULL, 0
  FROM information_schema.triggers WHERE trigger_schema = DATABASE()
UNION ALL
SELECT 'constraint', table_name, constraint_name, constraint_type, NULL, 0
  FROM information_schema.table_constraints WHERE constraint_schema = DATABASE()
UNION ALL
SELECT 'function', NULL, routine_name, routine_type, NULL, 0
  FROM information_schema.routines WHERE routine_schema = DATABASE()";
