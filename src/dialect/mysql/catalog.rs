//! MySQL/MariaDB's catalog: `information_schema`, restricted to the current database.

/// Every table, column, primary key, foreign key, index column, view, trigger,
/// constraint and routine of the current database, in `CatalogRow`'s shape, and as
/// `definition` rows what else `information_schema` holds of them: tables' engine,
/// collation, options and comment; columns' exact type (enum labels as written),
/// charset, collation, extra (auto_increment, ON UPDATE, generated) and comment;
/// foreign keys' actions; CHECK expressions; index types, prefixes, order and
/// comments; routines' parameters, characteristics and bodies; triggers' order;
/// views' options; events; sequences (MariaDB), whose options [`sequence_options_sql`]
/// reads; and table and column grants.
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
  FROM information_schema.routines WHERE routine_schema = DATABASE()
UNION ALL
SELECT 'definition', table_name, CONCAT('table ', table_name),
       CONCAT_WS(' ', CONCAT('ENGINE=', engine), CONCAT('COLLATE=', table_collation), NULLIF(create_options, ''),
                 CASE WHEN table_comment <> '' THEN CONCAT('COMMENT ', QUOTE(table_comment)) END),
       'named', NULL, 0
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'sequence', NULL, table_name, NULL, NULL, NULL, 0
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'SEQUENCE'
UNION ALL
SELECT 'definition', c.table_name, CONCAT('column ', c.table_name, '.', c.column_name),
       CONCAT_WS(' ', c.column_type, CONCAT('CHARACTER SET ', c.character_set_name), CONCAT('COLLATE ', c.collation_name),
                 NULLIF(c.extra, ''), CONCAT('AS (', NULLIF(c.generation_expression, ''), ')'),
                 CASE WHEN c.column_comment <> '' THEN CONCAT('COMMENT ', QUOTE(c.column_comment)) END),
       'named', NULL, 0
  FROM information_schema.columns c
  JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 WHERE c.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'
UNION ALL
SELECT 'definition', table_name, CONCAT('constraint ', table_name, '.', constraint_name),
       CONCAT('REFERENCES ', referenced_table_name, ' ON UPDATE ', update_rule, ' ON DELETE ', delete_rule,
              ' MATCH ', match_option),
       'named', NULL, 0
  FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()
UNION ALL
SELECT 'definition', NULL, CONCAT('check ', constraint_name), CONCAT('CHECK (', check_clause, ')'), 'named', NULL, 0
  FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()
UNION ALL
SELECT 'definition', table_name, CONCAT('index ', table_name, '.', index_name),
       CONCAT_WS(' ', CASE WHEN seq_in_index = 1 THEN CONCAT('USING ', index_type) END,
                 CONCAT(COALESCE(column_name, '(expression)'), COALESCE(CONCAT('(', sub_part, ')'), '')),
                 CASE collation WHEN 'D' THEN 'DESC' WHEN 'A' THEN 'ASC' END,
                 CASE WHEN seq_in_index = 1 AND index_comment <> '' THEN CONCAT('COMMENT ', QUOTE(index_comment)) END),
       'named', NULL, seq_in_index
  FROM information_schema.statistics WHERE table_schema = DATABASE()
UNION ALL
SELECT 'definition', NULL, CONCAT(LOWER(routine_type), ' ', routine_name),
       CONCAT_WS(' ', CONCAT('RETURNS ', dtd_identifier), CONCAT('LANGUAGE ', routine_body),
                 CASE WHEN is_deterministic = 'YES' THEN 'DETERMINISTIC' END, sql_data_access,
                 CONCAT('SQL SECURITY ', security_type), CASE WHEN routine_comment <> '' THEN CONCAT('COMMENT ', QUOTE(routine_comment)) END,
                 CONCAT('SQL_MODE ', sql_mode), CONCAT('BODY ', routine_definition)),
       'named', NULL, 1000000
  FROM information_schema.routines WHERE routine_schema = DATABASE()
UNION ALL
SELECT 'definition', NULL, CONCAT(LOWER(routine_type), ' ', specific_name),
       CONCAT_WS(' ', parameter_mode, parameter_name, dtd_identifier), 'named', NULL, ordinal_position
  FROM information_schema.parameters WHERE specific_schema = DATABASE() AND ordinal_position > 0
UNION ALL
SELECT 'definition', event_object_table, CONCAT('trigger ', trigger_name),
       CONCAT('ORDER ', action_order, ' SQL_MODE ', sql_mode), 'named', NULL, 0
  FROM information_schema.triggers WHERE trigger_schema = DATABASE()
UNION ALL
SELECT 'definition', table_name, CONCAT('view ', table_name),
       CONCAT('CHECK OPTION ', check_option, ' SQL SECURITY ', security_type), 'named', NULL, 0
  FROM information_schema.views WHERE table_schema = DATABASE()
UNION ALL
SELECT 'definition', NULL, CONCAT('event ', event_name),
       CONCAT_WS(' ', event_type, interval_value, interval_field, status, on_completion,
                 CASE WHEN event_comment <> '' THEN CONCAT('COMMENT ', QUOTE(event_comment)) END, CONCAT('DO ', event_definition)),
       NULL, NULL, 0
  FROM information_schema.events WHERE event_schema = DATABASE()
UNION ALL
SELECT 'definition', table_name, CONCAT('grants on table ', table_name),
       CONCAT(grantee, ' ', privilege_type, CASE WHEN is_grantable = 'YES' THEN ' WITH GRANT OPTION' ELSE '' END),
       NULL, NULL, 0
  FROM information_schema.table_privileges WHERE table_schema = DATABASE()
UNION ALL
SELECT 'definition', table_name, CONCAT('grants on column ', table_name, '.', column_name),
       CONCAT(grantee, ' ', privilege_type, CASE WHEN is_grantable = 'YES' THEN ' WITH GRANT OPTION' ELSE '' END),
       NULL, NULL, 0
  FROM information_schema.column_privileges WHERE table_schema = DATABASE()";

/// The options of MariaDB's sequences `names` (as `SELECT`ing a sequence gives them:
/// start, increment, bounds, cache and cycling, not where it stands), in
/// [`INTROSPECT`]'s shape: `information_schema` has no table of them before MariaDB
/// 11.5, so each sequence is read itself, all in one query.
pub(crate) fn sequence_options_sql(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            let literal = crate::dialect::single_quoted(name);
            format!(
                "SELECT CAST('definition' AS CHAR) AS kind, CAST({literal} AS CHAR) AS tbl, \
                 CAST(CONCAT('sequence ', {literal}) AS CHAR) AS name, \
                 CAST(CONCAT('START WITH ', start_value, ' INCREMENT BY ', increment, \
                 ' MINVALUE ', minimum_value, ' MAXVALUE ', maximum_value, ' CACHE ', cache_size, \
                 CASE WHEN cycle_option = 1 THEN ' CYCLE' ELSE ' NOCYCLE' END) AS CHAR) AS detail, \
                 CAST(NULL AS CHAR) AS flag, CAST(NULL AS CHAR) AS extra, CAST(0 AS SIGNED) AS pos \
                 FROM `{}`",
                name.replace('`', "``")
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

/// The names of the current database's tables, indexes, views, triggers, constraints
/// and routines (with their kind: a procedure and a function may share a name), in
/// `CatalogRow`'s shape: [`INTROSPECT`]'s rows of those kinds, from the same tables
/// with the same filters, one row per object and nothing else (see `Outline`). Every
/// name here is one [`INTROSPECT`] reads and `diff` compares.
pub(crate) const OUTLINE: &str = "\
SELECT CAST('table' AS CHAR) AS kind, CAST(NULL AS CHAR) AS tbl, CAST(table_name AS CHAR) AS name,
       CAST(NULL AS CHAR) AS detail, CAST(NULL AS CHAR) AS flag, CAST(NULL AS CHAR) AS extra,
       CAST(0 AS SIGNED) AS pos
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'index', table_name, index_name, NULL, NULL, NULL, 0
  FROM information_schema.statistics WHERE table_schema = DATABASE()
UNION ALL
SELECT 'view', NULL, table_name, NULL, NULL, NULL, 0
  FROM information_schema.views WHERE table_schema = DATABASE()
UNION ALL
SELECT 'trigger', event_object_table, trigger_name, NULL, NULL, NULL, 0
  FROM information_schema.triggers WHERE trigger_schema = DATABASE()
UNION ALL
SELECT 'constraint', table_name, constraint_name, NULL, NULL, NULL, 0
  FROM information_schema.table_constraints WHERE constraint_schema = DATABASE()
UNION ALL
SELECT 'function', NULL, routine_name, routine_type, NULL, NULL, 0
  FROM information_schema.routines WHERE routine_schema = DATABASE()";

/// The names of the current database's tables, views and sequences (`n` is 0): the
/// names a scoped read ([`introspect_tables`]) may ask for. Only the name is asked:
/// MariaDB then lists the database's folder and opens no table's definition
/// (`Skip_open_table`), where asking for `table_type` too opens every one
/// (`Open_frm_only`), which grows with the schema and, past `table_definition_cache`
/// (400 by default), reads each `.frm` file again.
pub(crate) const RELATIONS: &str = "\
SELECT CAST(table_name AS CHAR) AS name, CAST(0 AS SIGNED) AS n
  FROM information_schema.tables WHERE table_schema = DATABASE()";

/// How many tables one query of [`introspect_tables`] asks for: each adds about twenty
/// parts to its `UNION ALL`.
pub(crate) const TABLES_PER_QUERY: usize = 16;

/// What one part of [`INTROSPECT`] reads, for a scoped read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Rows of no group, read whole (cheap: routines, events, the namespace).
    Global,
    /// Rows about one table, filtered to it by name: `information_schema` then opens
    /// only that table (an `IN` list makes it scan the whole database).
    Table,
    /// Triggers: filtering by `event_object_table` still scans the whole database.
    Trigger,
    /// CHECK constraints: rows of no group (they name no table), read whole.
    Check,
    /// Sequences (MariaDB): rows of no group, but of one relation each; a scoped read
    /// asks for those in scope by name, as for [`Part::Table`] (read whole, the part
    /// opens every table's definition).
    Sequence,
}

/// The parts of [`INTROSPECT`], each with what it reads.
fn parts() -> impl Iterator<Item = (Part, &'static str)> {
    INTROSPECT.split("\nUNION ALL\n").map(|sql| {
        let part = if sql.contains("information_schema.triggers") {
            Part::Trigger
        } else if sql.contains("information_schema.check_constraints") {
            Part::Check
        } else if sql.contains("'SEQUENCE'") {
            Part::Sequence
        } else if !sql.contains("FROM information_schema.")
            || sql.contains("information_schema.routines")
            || sql.contains("information_schema.parameters")
            || sql.contains("information_schema.events")
        {
            Part::Global
        } else {
            Part::Table
        };
        (part, sql)
    })
}

/// [`INTROSPECT`]'s part `sql` about one table only, `table` being its name as a
/// literal: every `information_schema` table it reads filtered by that name too.
fn table_part(sql: &str, table: &str) -> String {
    if sql.contains(COLUMNS_JOIN) {
        // Joined, the two tables are read whole (9 ms a part at 250 tables, against
        // under 1 ms): the join is a semi-join, as a table has one row in `tables`.
        return sql.replace(
            COLUMNS_JOIN,
            &format!(
                "FROM information_schema.columns c\n \
                 WHERE c.table_schema = DATABASE() AND c.table_name = {table}\n   \
                 AND c.table_name IN (SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = {table} AND table_type = 'BASE TABLE')"
            ),
        );
    }
    sql.replace(
        "table_schema = DATABASE()",
        &format!("table_schema = DATABASE() AND table_name = {table}"),
    )
    .replace(
        "constraint_schema = DATABASE()",
        &format!("constraint_schema = DATABASE() AND table_name = {table}"),
    )
}

/// [`INTROSPECT`]'s join of columns to their tables, which a scoped read rewrites.
const COLUMNS_JOIN: &str = "FROM information_schema.columns c
  JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 WHERE c.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'";

/// [`INTROSPECT`]'s rows about the tables, views and sequences `tables` (at least
/// one), and, with `triggers`, their triggers': each part filtered to one table by name
/// (see [`Part::Table`]), so that the query opens only those tables. The first part is
/// a table's, whose columns are named.
pub(crate) fn introspect_tables(tables: &[&str], triggers: bool) -> String {
    let literals: Vec<String> = tables.iter().map(|t| literal(t)).collect();
    let mut selects = Vec::new();
    for table in &literals {
        for (part, sql) in parts() {
            if matches!(part, Part::Table | Part::Sequence) {
                selects.push(table_part(sql, table));
            }
        }
    }
    if triggers {
        let list = literals.join(", ");
        for (part, sql) in parts() {
            if part == Part::Trigger {
                selects.push(sql.replace(
                    "trigger_schema = DATABASE()",
                    &format!("trigger_schema = DATABASE() AND event_object_table IN ({list})"),
                ));
            }
        }
    }
    selects.join("\nUNION ALL\n")
}

/// [`INTROSPECT`]'s rows of no group (namespace, routines, events) but sequences, and
/// with `checks` its CHECK constraints, in its order.
pub(crate) fn introspect_global(checks: bool) -> String {
    let selects: Vec<&str> = parts()
        .filter(|(part, _)| *part == Part::Global || (checks && *part == Part::Check))
        .map(|(_, sql)| sql)
        .collect();
    // Its first part names the columns.
    format!(
        "{NAMED_NOTHING}\nUNION ALL\n{}",
        selects.join("\nUNION ALL\n")
    )
}

/// A `SELECT` of no row naming [`INTROSPECT`]'s columns, to begin a `UNION ALL` whose
/// parts do not.
const NAMED_NOTHING: &str = "\
SELECT CAST(NULL AS CHAR) AS kind, CAST(NULL AS CHAR) AS tbl, CAST(NULL AS CHAR) AS name,
       CAST(NULL AS CHAR) AS detail, CAST(NULL AS CHAR) AS flag, CAST(NULL AS CHAR) AS extra,
       CAST(0 AS SIGNED) AS pos
  FROM DUAL WHERE FALSE";

/// A name as a MySQL string literal, whatever the session's `sql_mode`.
fn literal(name: &str) -> String {
    crate::Backend::Mysql.dialect().text_literal(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_a_scoped_read_is_filtered_to_its_table() {
        let sql = introspect_tables(&["a"], false);
        let count = |part| parts().filter(|(p, _)| *p == part).count();
        assert_eq!(
            sql.split("\nUNION ALL\n").count(),
            count(Part::Table) + count(Part::Sequence)
        );
        for select in sql.split("\nUNION ALL\n") {
            assert!(select.contains("table_name = 'a'"), "{select}");
        }
        assert!(sql.starts_with("SELECT CAST('table' AS CHAR) AS kind"));
        assert!(INTROSPECT.contains(COLUMNS_JOIN));
        assert!(!sql.contains(" JOIN "), "{sql}");
        assert_eq!(count(Part::Trigger), 2);
        assert_eq!(count(Part::Check), 1);
        assert_eq!(count(Part::Sequence), 1);
        assert_eq!(count(Part::Global), 5);
        let with_triggers = introspect_tables(&["a", "it's"], true);
        assert!(with_triggers.contains("event_object_table IN ('a', 'it''s')"));
    }
}
