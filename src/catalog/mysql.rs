//! MySQL/MariaDB's catalog: `information_schema`, restricted to the current database.

/// Every table, column, primary key, foreign key, index column, view, trigger,
/// constraint and routine of the current database, in `CatalogRow`'s shape.
pub(crate) const INTROSPECT: &str = "\
SELECT CAST('table' AS CHAR) AS kind, CAST(NULL AS CHAR) AS tbl, CAST(table_name AS CHAR) AS name,
       CAST(NULL AS CHAR) AS detail, CAST(NULL AS CHAR) AS flag, CAST(NULL AS CHAR) AS extra,
       CAST(0 AS SIGNED) AS pos
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'namespace', NULL, DATABASE(), NULL, NULL, NULL, 0
UNION ALL
SELECT 'column', table_name, column_name, column_type,
       CASE WHEN is_nullable = 'YES' THEN '1' ELSE '0' END, column_default, ordinal_position
  FROM information_schema.columns
  WHERE table_schema = DATABASE()
    AND table_name IN (SELECT table_name FROM information_schema.tables
                       WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE')
UNION ALL
SELECT 'primary_key', table_name, column_name, NULL, NULL, NULL, ordinal_position
  FROM information_schema.key_column_usage
  WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY'
UNION ALL
SELECT 'foreign_key', table_name, constraint_name, column_name, NULL,
       CONCAT(referenced_table_name, '.', referenced_column_name), ordinal_position
  FROM information_schema.key_column_usage
  WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL
UNION ALL
SELECT 'index', table_name, index_name, column_name,
       CASE WHEN non_unique = 0 THEN '1' ELSE '0' END, NULL, seq_in_index
  FROM information_schema.statistics WHERE table_schema = DATABASE()
UNION ALL
SELECT 'view', NULL, table_name, view_definition, NULL, NULL, 0
  FROM information_schema.views WHERE table_schema = DATABASE()
UNION ALL
SELECT 'trigger', event_object_table, trigger_name,
       CONCAT(action_timing, ' ', event_manipulation, ' ', action_statement), NULL, NULL, 0
  FROM information_schema.triggers WHERE trigger_schema = DATABASE()
UNION ALL
SELECT 'constraint', table_name, constraint_name, constraint_type, NULL, NULL, 0
  FROM information_schema.table_constraints WHERE constraint_schema = DATABASE()
UNION ALL
SELECT 'function', NULL, routine_name, routine_type, NULL, NULL, 0
  FROM information_schema.routines WHERE routine_schema = DATABASE()";
