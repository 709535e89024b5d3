//! PostgreSQL's snapshot: statements built from `pg_catalog` for the current schema,
//! ordered much as `pg_dump` orders them, and the rows.
//!
//! Extensions, types (enums, ranges, domains, composites), functions and procedures,
//! sequences, then tables with their columns (type, collation, default, generated
//! expression, identity, NOT NULL), primary keys and unique constraints; after the
//! rows: indexes, the other constraints (foreign keys last), views and materialized
//! views in dependency order, triggers, sequence ownership and values, comments and
//! grants. Object names are written unqualified, so the snapshot builds in whatever
//! schema is current. What it cannot write (other schemas, row-level security and its
//! policies, rules, collations, storage parameters, replica identities, tablespaces,
//! disabled triggers, an owner's revoked privileges) it refuses, naming the object:
//! a snapshot that left them out would build a different schema.

use std::collections::BTreeSet;

use diesel::sql_types::{Nullable, Text};

use super::data::TableRows;
use super::{dependency_order, Parts};
use crate::{Database, Error, Result};

/// The current schema, and a relation `c` of it that is not the ledger's.
const IN_SCHEMA: &str =
    "c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
    AND c.relname <> '__diesel_schema_migrations' AND c.relname NOT LIKE '\\_\\_pelican\\_%'";

/// What pelican cannot rebuild, by name: partitioned, inherited and foreign tables,
/// aggregates, other schemas and what is in them, row-level security and policies,
/// rules, collations, storage parameters, replica identities, tablespaces, column
/// storage and statistics targets, disabled triggers, default privileges, publications,
/// event triggers.
const UNSUPPORTED: &str = "\
SELECT CASE WHEN c.relkind = 'p' THEN 'partitioned table ' WHEN c.relkind = 'f' THEN 'foreign table '
            ELSE 'inherited table ' END || c.relname AS name, NULL AS ddl, NULL AS extra
  FROM pg_class c
 WHERE %IN_SCHEMA% AND (c.relkind IN ('p', 'f') OR c.relispartition
       OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))
UNION ALL
SELECT 'aggregate ' || p.proname, NULL, NULL FROM pg_proc p
 WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
   AND p.prokind IN ('a', 'w')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                   AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'schema ' || n.nspname || COALESCE(' (' || (
         SELECT string_agg(x, ', ' ORDER BY x) FROM (
           SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
                                 ELSE 'table ' END || n.nspname || '.' || c.relname AS x
             FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
           UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p WHERE p.pronamespace = n.oid
           UNION ALL SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t
            WHERE t.typnamespace = n.oid AND t.typtype IN ('e', 'd', 'r') AND t.typname NOT LIKE '\\_%') o) || ')', ''),
       NULL, NULL
  FROM pg_namespace n
 WHERE n.nspname <> current_schema() AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                   AND d.objid = n.oid AND d.deptype = 'e')
UNION ALL
SELECT 'policy ' || p.polname || ' on ' || c.relname, NULL, NULL
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE %IN_SCHEMA%
UNION ALL
SELECT 'rule ' || r.rulename || ' on ' || c.relname, NULL, NULL
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE %IN_SCHEMA% AND r.rulename <> '_RETURN'
UNION ALL
SELECT concat_ws(', ', CASE WHEN c.relrowsecurity OR c.relforcerowsecurity THEN 'row-level security on ' || c.relname END,
                 CASE WHEN c.reloptions IS NOT NULL AND c.relkind <> 'v' THEN 'storage parameters of ' || c.relname END,
                 CASE WHEN c.relreplident <> 'd' AND c.relkind IN ('r', 'm') THEN 'replica identity of ' || c.relname END,
                 CASE WHEN c.reltablespace <> 0 THEN 'tablespace of ' || c.relname END), NULL, NULL
  FROM pg_class c
 WHERE %IN_SCHEMA% AND c.relkind IN ('r', 'm', 'v', 'i', 'S')
   AND (c.relrowsecurity OR c.relforcerowsecurity OR (c.reloptions IS NOT NULL AND c.relkind NOT IN ('v', 'i'))
        OR (c.relreplident <> 'd' AND c.relkind IN ('r', 'm')) OR c.reltablespace <> 0)
UNION ALL
SELECT 'storage or statistics target of column ' || c.relname || '.' || a.attname, NULL, NULL
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid
 WHERE %IN_SCHEMA% AND c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attstorage <> t.typstorage OR a.attstattarget >= 0)
UNION ALL
SELECT 'disabled trigger ' || g.tgname || ' on ' || c.relname, NULL, NULL
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
 WHERE %IN_SCHEMA% AND NOT g.tgisinternal AND g.tgenabled <> 'O'
UNION ALL
SELECT 'default privileges of ' || pg_get_userbyid(d.defaclrole), NULL, NULL FROM pg_default_acl d
UNION ALL
SELECT 'publication ' || p.pubname, NULL, NULL FROM pg_publication p
UNION ALL
SELECT 'event trigger ' || e.evtname, NULL, NULL FROM pg_event_trigger e
UNION ALL
SELECT 'collation ' || o.collname, NULL, NULL FROM pg_collation o
 WHERE o.collnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())";

/// Comments on what the snapshot makes, as `COMMENT ON` statements (the current
/// schema's own comment only when it is not the one every new database's `public`
/// schema has).
const COMMENTS: &str = "\
SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) AS name,
       format('COMMENT ON %s IS %L', o.target, d.description) AS ddl, NULL AS extra
  FROM pg_description d
  CROSS JOIN LATERAL (
    SELECT CASE WHEN d.objsubid > 0 THEN format('COLUMN %I.%I', c.relname,
                     (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = d.objsubid))
                ELSE CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
                                    WHEN 'i' THEN 'INDEX ' WHEN 'c' THEN 'TYPE ' ELSE 'TABLE ' END || quote_ident(c.relname) END
      FROM pg_class c WHERE d.classoid = 'pg_class'::regclass AND c.oid = d.objoid AND %IN_SCHEMA%
    UNION ALL
    SELECT format('%s %I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                  p.proname, pg_get_function_identity_arguments(p.oid))
      FROM pg_proc p WHERE d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
       AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(t.typname)
      FROM pg_type t WHERE d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
       AND t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    UNION ALL
    SELECT format('CONSTRAINT %I ON %s', k.conname,
                  CASE WHEN k.contypid <> 0 THEN 'DOMAIN ' || quote_ident((SELECT typname FROM pg_type WHERE oid = k.contypid))
                       ELSE quote_ident((SELECT relname FROM pg_class WHERE oid = k.conrelid)) END)
      FROM pg_constraint k WHERE d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
       AND k.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    UNION ALL
    SELECT format('TRIGGER %I ON %I', g.tgname, c.relname)
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE d.classoid = 'pg_trigger'::regclass AND g.oid = d.objoid AND %IN_SCHEMA%
  ) o(target)
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')
UNION ALL
SELECT 'schema', format('DO $pelican$BEGIN EXECUTE format(%L, current_schema()); END$pelican$',
                        format('COMMENT ON SCHEMA %%I IS %L', d.description)), NULL
  FROM pg_description d
 WHERE d.classoid = 'pg_namespace'::regclass
   AND d.objoid = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
   AND NOT (current_schema() = 'public' AND d.description = 'standard public schema')
 ORDER BY 1, 2";

/// The grants on what the snapshot makes that differ from an object's default, as
/// statements: `REVOKE ALL … FROM PUBLIC`, then a `GRANT` for each grantee but the
/// owner (whose privileges are the default ones of whoever loads the snapshot); `extra`
/// is `owner` when the owner's own privileges differ from the default, which the
/// snapshot cannot write. The current schema's `PUBLIC` privileges are left as the
/// database where it is loaded has them (every new database has its own `public`
/// schema's, and changing them takes its owner): `check` compares them.
const GRANTS: &str = "\
WITH objs AS (
  SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || quote_ident(c.relname) AS target,
         NULL::text AS col, c.relname::text AS label,
         CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\" AS objtype, c.relowner AS owner, c.relacl AS acl
    FROM pg_class c WHERE %IN_SCHEMA% AND c.relkind IN ('r', 'v', 'm', 'S')
  UNION ALL
  SELECT 'TABLE ' || quote_ident(c.relname), quote_ident(a.attname), c.relname || '.' || a.attname, 'c', c.relowner, a.attacl
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE %IN_SCHEMA% AND a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('%s %I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.proname,
                pg_get_function_identity_arguments(p.oid)),
         NULL, p.proname::text, 'f', p.proowner, p.proacl
    FROM pg_proc p
   WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  UNION ALL
  SELECT 'TYPE ' || quote_ident(t.typname), NULL, t.typname::text, 'T', t.typowner, t.typacl
    FROM pg_type t
   WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
     AND t.typtype IN ('e', 'd', 'r', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  UNION ALL
  SELECT 'SCHEMA %I', NULL, 'schema', 'n', n.nspowner, n.nspacl
    FROM pg_namespace n WHERE n.nspname = current_schema()
),
entries AS (
  SELECT o.*, e.grantee, e.privilege_type, e.is_grantable
    FROM objs o CROSS JOIN LATERAL aclexplode(COALESCE(o.acl, acldefault(o.objtype, o.owner))) e
),
differing AS (
  SELECT o.* FROM objs o
   WHERE o.acl IS NOT NULL
     AND (SELECT string_agg(q.x, ',' ORDER BY q.x)
            FROM (SELECT e.grantee::text || e.privilege_type || e.is_grantable::text AS x FROM aclexplode(o.acl) e) q)
         IS DISTINCT FROM
         (SELECT string_agg(q.x, ',' ORDER BY q.x)
            FROM (SELECT e.grantee::text || e.privilege_type || e.is_grantable::text AS x FROM aclexplode(acldefault(o.objtype, o.owner)) e) q)
)
SELECT o.label AS name, s.ddl, s.kind AS extra
  FROM differing o CROSS JOIN LATERAL (
    SELECT 0 AS n, format('REVOKE ALL ON %s FROM PUBLIC', o.target) AS ddl, 'grant' AS kind
     WHERE o.col IS NULL AND o.objtype <> 'n'
    UNION ALL
    SELECT 1, format('GRANT %s%s ON %s TO %s%s', e.privilege_type, COALESCE(' (' || o.col || ')', ''), o.target,
                     CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(e.grantee)) END,
                     CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), 'grant'
      FROM aclexplode(o.acl) e WHERE e.grantee <> o.owner AND NOT (o.objtype = 'n' AND e.grantee = 0)
    UNION ALL
    SELECT 2, NULL, 'owner'
     WHERE (SELECT string_agg(q.x, ',' ORDER BY q.x)
              FROM (SELECT e.privilege_type || e.is_grantable::text AS x
                      FROM aclexplode(o.acl) e WHERE e.grantee = o.owner) q)
           IS DISTINCT FROM
           (SELECT string_agg(q.x, ',' ORDER BY q.x)
              FROM (SELECT e.privilege_type || e.is_grantable::text AS x
                      FROM aclexplode(acldefault(o.objtype, o.owner)) e WHERE e.grantee = o.owner) q)
  ) s
 ORDER BY o.target, o.col NULLS FIRST, s.n, s.ddl";

/// The schema's name as an identifier, to take it out of definitions that qualify names.
const SCHEMA: &str = "SELECT quote_ident(current_schema()) AS name, NULL AS ddl, NULL AS extra";

const EXTENSIONS: &str = "\
SELECT extname::text AS name, format('CREATE EXTENSION IF NOT EXISTS %I', extname) AS ddl, NULL AS extra
  FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname";

/// Enums, ranges, domains, composite types (in that order: the later may use the
/// earlier).
const TYPES: &str = "\
SELECT t.typname::text AS name,
       CASE t.typtype
         WHEN 'e' THEN format('CREATE TYPE %I AS ENUM (%s)', t.typname,
              (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                 FROM pg_enum e WHERE e.enumtypid = t.oid))
         WHEN 'r' THEN format('CREATE TYPE %I AS RANGE (SUBTYPE = %s)', t.typname,
              (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid))
         WHEN 'd' THEN format('CREATE DOMAIN %I AS %s', t.typname, format_type(t.typbasetype, t.typtypmod))
              || CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END
              || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
              || COALESCE((SELECT string_agg(format(' CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), '' ORDER BY k.conname)
                             FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '')
         ELSE format('CREATE TYPE %I AS (%s)', t.typname,
              (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
       END AS ddl,
       NULL AS extra
  FROM pg_type t
 WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
   AND t.typtype IN ('e', 'r', 'd', 'c')
   AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                   AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY CASE t.typtype WHEN 'e' THEN 1 WHEN 'r' THEN 2 WHEN 'd' THEN 3 ELSE 4 END, t.typname";

/// Functions and procedures; `extra` is `late` for one whose signature uses a
/// table's row type (it can only be made after the table).
const FUNCTIONS: &str = "\
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
       pg_get_functiondef(p.oid) AS ddl,
       CASE WHEN EXISTS (SELECT 1 FROM pg_depend d JOIN pg_type t ON t.oid = d.refobjid
                           JOIN pg_class r ON r.oid = t.typrelid
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.refclassid = 'pg_type'::regclass AND r.relkind IN ('r', 'v', 'm'))
            THEN 'late' END AS extra
  FROM pg_proc p
 WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
   AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                   AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY 1";

/// Sequences of their own or behind a serial column (not an identity's, which comes
/// with its column), with `extra` the `OWNED BY` of a serial's.
const SEQUENCES: &str = "\
SELECT c.relname::text AS name,
       format('CREATE SEQUENCE %I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
              c.relname, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart,
              s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS ddl,
       (SELECT format('ALTER SEQUENCE %I OWNED BY %I.%I', c.relname, t.relname, a.attname)
          FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a') AS extra
  FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
 WHERE %IN_SCHEMA% AND c.relkind = 'S'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND (d.deptype IN ('i', 'e') OR (d.deptype = 'a' AND (t.relname = '__diesel_schema_migrations'
                           OR t.relname LIKE '\\_\\_pelican\\_%'))))
 ORDER BY 1";

/// Where each sequence stands, set after the rows (the rows carry their own ids).
const SEQUENCE_VALUES: &str = "\
SELECT c.relname::text AS name,
       format('SELECT pg_catalog.setval(%L, %s, true)', quote_ident(c.relname), q.last_value) AS ddl,
       NULL AS extra
  FROM pg_class c JOIN pg_sequences q ON q.schemaname = current_schema() AND q.sequencename = c.relname
 WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
   AND c.relkind = 'S' AND q.last_value IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                      AND (t.relname = '__diesel_schema_migrations' OR t.relname LIKE '\\_\\_pelican\\_%'))
 ORDER BY 1";

/// Tables: `ddl` the `CREATE TABLE` with its primary key and unique constraints (one
/// statement less each than adding them after the rows: with the few rows migrations
/// insert, statements are what a load costs), `columns` those a row gives values for (not the
/// generated ones), `select_rows` the query for the rows, `overriding` when an
/// identity column is `GENERATED ALWAYS`.
const TABLES: &str = "\
SELECT c.relname::text AS name,
       format(E'CREATE %sTABLE %I (\\n%s\\n)', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, c.relname,
         COALESCE((
           SELECT string_agg(format('    %I %s', a.attname, format_type(a.atttypid, a.atttypmod))
                  || CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
                          THEN (SELECT format(' COLLATE %I.%I', n.nspname, co.collname) FROM pg_collation co
                                  JOIN pg_namespace n ON n.oid = co.collnamespace WHERE co.oid = a.attcollation)
                          ELSE '' END
                  || CASE WHEN a.attgenerated = 's' THEN format(' GENERATED ALWAYS AS (%s) STORED', pg_get_expr(df.adbin, df.adrelid))
                          WHEN df.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(df.adbin, df.adrelid)
                          ELSE '' END
                  || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' || COALESCE(ident.opts, '')
                                        WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' || COALESCE(ident.opts, '')
                                        ELSE '' END
                  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  E',\\n' ORDER BY a.attnum)
             FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
             LEFT JOIN pg_attrdef df ON df.adrelid = a.attrelid AND df.adnum = a.attnum
             LEFT JOIN LATERAL (
               SELECT format(' (SEQUENCE NAME %I START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s)',
                             sc.relname, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                             CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS opts
                 FROM pg_depend dep JOIN pg_class sc ON sc.oid = dep.objid JOIN pg_sequence s ON s.seqrelid = sc.oid
                WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
                  AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'i' AND sc.relkind = 'S'
             ) ident ON true
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
         || COALESCE((SELECT string_agg(format(E',\n    CONSTRAINT %I %s', x.conname, pg_get_constraintdef(x.oid)), ''
                                        ORDER BY x.contype, x.conname)
                        FROM pg_constraint x WHERE x.conrelid = c.oid AND x.contype IN ('p', 'u')), '')) AS ddl,
       (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
       (SELECT format('SELECT to_json(ARRAY[%s])::text AS row_data FROM %I', string_agg(format('''t'' || %I::text', a.attname), ', ' ORDER BY a.attnum), c.relname)
         FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
       || COALESCE((SELECT ' ORDER BY ' || string_agg(format('%I', a.attname), ', ' ORDER BY k.n)
                     FROM pg_constraint x CROSS JOIN LATERAL unnest(x.conkey) WITH ORDINALITY AS k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = x.conrelid AND a.attnum = k.attnum
                    WHERE x.conrelid = c.oid AND x.contype = 'p'), '') AS select_rows,
       CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attidentity = 'a')
            THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END AS overriding
  FROM pg_class c
 WHERE %IN_SCHEMA% AND c.relkind = 'r'
 ORDER BY 1";

/// The other table constraints, made after the indexes (a foreign key may reference
/// a unique index that is no constraint): exclusion, check, then foreign keys.
const CONSTRAINTS: &str = "\
SELECT x.conname::text AS name,
       format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, x.conname, pg_get_constraintdef(x.oid)) AS ddl,
       x.contype::text AS extra
  FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid
 WHERE %IN_SCHEMA% AND c.relkind = 'r' AND x.contype IN ('x', 'c', 'f')
 ORDER BY CASE x.contype WHEN 'x' THEN 1 WHEN 'c' THEN 2 ELSE 3 END, c.relname, x.conname";

/// Indexes that no constraint made; `extra` the kind of what they index (`m`: a
/// materialized view, made after the views).
const INDEXES: &str = "\
SELECT i.relname::text AS name, pg_get_indexdef(x.indexrelid) AS ddl, c.relkind::text AS extra
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
 WHERE %IN_SCHEMA% AND c.relkind IN ('r', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid
                   AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))
 ORDER BY c.relname, i.relname";

/// Views and materialized views; `extra` a JSON array of the views each one uses.
const VIEWS: &str = "\
SELECT c.relname::text AS name,
       format('CREATE %s %I%s AS%s%s',
              CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, c.relname,
              CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END,
              rtrim(rtrim(pg_get_viewdef(c.oid)), ';'),
              CASE WHEN c.relkind = 'm' THEN ' WITH DATA' ELSE '' END) AS ddl,
       (SELECT json_agg(DISTINCT u.relname)::text
          FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
          JOIN pg_class u ON u.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass
         WHERE r.ev_class = c.oid AND u.oid <> c.oid AND u.relkind IN ('v', 'm')) AS extra
  FROM pg_class c
 WHERE %IN_SCHEMA% AND c.relkind IN ('v', 'm')
 ORDER BY 1";

const TRIGGERS: &str = "\
SELECT g.tgname::text AS name, pg_get_triggerdef(g.oid) AS ddl, NULL AS extra
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
 WHERE %IN_SCHEMA% AND NOT g.tgisinternal
 ORDER BY c.relname, g.tgname";

#[derive(diesel::QueryableByName)]
struct Item {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    ddl: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct TableItem {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ddl: String,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    select_rows: Option<String>,
    #[diesel(sql_type = Text)]
    overriding: String,
}

fn load<C: Database>(conn: &mut C, sql: &str, what: &str) -> Result<Vec<Item>> {
    conn.load_with(&sql.replace("%IN_SCHEMA%", IN_SCHEMA), &[])
        .map_err(Error::query(format!("cannot read the {what}")))
}

/// The grant statements, or a refusal naming an object whose owner's own privileges
/// were changed (the owner of a loaded snapshot's objects is whoever loads it).
fn grants(items: Vec<Item>) -> Result<Vec<(String, String, Option<String>)>> {
    if let Some(item) = items.iter().find(|i| i.extra.as_deref() == Some("owner")) {
        return Err(Error::Snapshot {
            snapshot: "snapshot".to_owned(),
            reason: format!(
                "pelican cannot take a snapshot of these yet: the owner's own privileges on {}",
                item.name
            ),
        });
    }
    Ok(ddl(items)
        .map(|(name, sql, extra)| {
            // The schema is named where the snapshot is loaded, not where it was made.
            let sql = if sql.contains("SCHEMA %I") {
                format!(
                    "DO $pelican$BEGIN EXECUTE format('{}', current_schema()); END$pelican$",
                    sql.replace('\'', "''")
                )
            } else {
                sql
            };
            (name, sql, extra)
        })
        .collect())
}

fn ddl(items: Vec<Item>) -> impl Iterator<Item = (String, String, Option<String>)> {
    items
        .into_iter()
        .filter_map(|item| Some((item.name, item.ddl?, item.extra)))
}

pub(crate) fn parts<C: Database>(conn: &mut C) -> Result<Parts> {
    let unsupported = load(conn, UNSUPPORTED, "schema")?;
    if !unsupported.is_empty() {
        let names: Vec<String> = unsupported.into_iter().map(|i| i.name).collect();
        return Err(Error::Snapshot {
            snapshot: "snapshot".to_owned(),
            reason: format!(
                "pelican cannot take a snapshot of these yet: {}",
                names.join(", ")
            ),
        });
    }
    let schema = load(conn, SCHEMA, "current schema")?
        .into_iter()
        .next()
        .map_or_else(|| "public".to_owned(), |i| i.name);
    // pg_get_indexdef, pg_get_triggerdef and pg_get_functiondef name the schema; the
    // snapshot builds in whichever schema is current where it is loaded.
    let unqualify =
        |text: &str, before: &str| text.replacen(&format!("{before}{schema}."), before, 1);
    let mut parts = Parts {
        // Function bodies are checked when called, not when made, so that one may
        // use a table made after it (as pg_dump does).
        prologue: vec!["SET check_function_bodies = false".to_owned()],
        epilogue: vec!["RESET check_function_bodies".to_owned()],
        ..Parts::default()
    };
    parts
        .before
        .extend(ddl(load(conn, EXTENSIONS, "extensions")?).map(|(_, sql, _)| sql));
    parts
        .before
        .extend(ddl(load(conn, TYPES, "types")?).map(|(_, sql, _)| sql));
    let mut late_functions = Vec::new();
    for (_, sql, extra) in ddl(load(conn, FUNCTIONS, "functions")?) {
        let sql = unqualify(&unqualify(&sql, "FUNCTION "), "PROCEDURE ");
        if extra.as_deref() == Some("late") {
            late_functions.push(sql);
        } else {
            parts.before.push(sql);
        }
    }
    let mut owned_by = Vec::new();
    for (_, sql, extra) in ddl(load(conn, SEQUENCES, "sequences")?) {
        parts.before.push(sql);
        owned_by.extend(extra);
    }
    let tables: Vec<TableItem> = conn
        .load_with(&TABLES.replace("%IN_SCHEMA%", IN_SCHEMA), &[])
        .map_err(Error::query("cannot read the tables"))?;
    for table in tables {
        parts.before.push(table.ddl);
        if let (Some(columns), Some(select)) = (table.columns, table.select_rows) {
            parts.tables.push(TableRows {
                insert: format!(
                    "INSERT INTO {} ({columns}){} VALUES",
                    crate::Backend::Postgres.quote(&table.name),
                    table.overriding
                ),
                select,
            });
        }
    }
    parts.before.extend(late_functions);

    let mut matview_indexes = Vec::new();
    for (_, sql, extra) in ddl(load(conn, INDEXES, "indexes")?) {
        let sql = unqualify(&unqualify(&sql, " ON ONLY "), " ON ");
        if extra.as_deref() == Some("m") {
            matview_indexes.push(sql);
        } else {
            parts.after.push(sql);
        }
    }
    parts
        .after
        .extend(ddl(load(conn, CONSTRAINTS, "constraints")?).map(|(_, sql, _)| sql));
    let views: Vec<(String, String, Option<String>)> = ddl(load(conn, VIEWS, "views")?).collect();
    let order = dependency_order(
        views
            .iter()
            .map(|(name, _, uses)| {
                let uses: BTreeSet<String> = uses
                    .as_deref()
                    .and_then(|json| serde_json::from_str(json).ok())
                    .unwrap_or_default();
                (name.clone(), uses)
            })
            .collect(),
    );
    for name in order {
        if let Some((_, sql, _)) = views.iter().find(|(n, _, _)| *n == name) {
            parts.after.push(sql.clone());
        }
    }
    parts.after.extend(matview_indexes);
    for (_, sql, _) in ddl(load(conn, TRIGGERS, "triggers")?) {
        parts
            .after
            .push(unqualify(&unqualify(&sql, " ON "), "EXECUTE FUNCTION "));
    }
    parts.after.extend(owned_by);
    parts
        .after
        .extend(ddl(load(conn, COMMENTS, "comments")?).map(|(_, sql, _)| sql));
    parts.after.extend(
        grants(load(conn, GRANTS, "grants")?)?
            .into_iter()
            .map(|(_, sql, _)| sql),
    );
    parts
        .after
        .extend(ddl(load(conn, SEQUENCE_VALUES, "sequence values")?).map(|(_, sql, _)| sql));
    Ok(parts)
}
