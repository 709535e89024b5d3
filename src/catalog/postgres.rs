//! PostgreSQL's catalog: `pg_catalog`, restricted to the current schema.

/// Every table, column, primary key, foreign key, index column, view, trigger,
/// constraint, type and function of the current schema, in `CatalogRow`'s shape.
pub(crate) const INTROSPECT: &str = "\
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
SELECT 'table'::text AS kind, NULL::text AS tbl, c.relname::text AS name, NULL::text AS detail,
       NULL::text AS flag, NULL::text AS extra, 0::bigint AS pos
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'namespace', NULL, current_schema()::text, NULL, NULL, NULL, 0
UNION ALL
SELECT 'column', c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN '0' ELSE '1' END, pg_get_expr(d.adbin, d.adrelid), a.attnum::bigint
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
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)";
