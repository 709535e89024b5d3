//! MySQL/MariaDB: a reset in place.
//!
//! - **The schema unchanged**: a digest of what `information_schema` says of the
//!   database (tables, columns, indexes, constraints, views, triggers, routines, events,
//!   the schema's character set), every value quoted so that no two catalogs read the
//!   same, compared with the template's. Row counts, sizes, times and auto-increment
//!   values are left out: they are not schema.
//! - **The rows**: every row of every table as the tuple that inserts it again
//!   (numbers as the server prints them, text and bytes in hexadecimal), read in one
//!   query that scans each table once, and compared, sorted, with the template's; and
//!   each auto-increment counter.
//! - **Putting back**: with `foreign_key_checks = 0` (no cascade, no check: the end
//!   state is the template's), `DELETE` and the template's rows inserted again, in one
//!   transaction, then `ALTER TABLE … AUTO_INCREMENT` where the counter moved. MySQL
//!   cannot switch triggers off: a table with one that differs is copied instead.

use diesel::sql_types::{Nullable, Text};

use super::{batch, load, Restored, What};
use crate::snapshot::mysql::{ColumnRow, COLUMNS};
use crate::{AnyConnection, Backend, Result};

/// `GROUP_CONCAT` cuts its result at `group_concat_max_len`: raised for the reads
/// (a cut digest or row list would compare equal while the rows differ).
const LONG: &str = "SET @pelican_group_concat_max_len = @@group_concat_max_len; \
                    SET SESSION group_concat_max_len = 4294967295";
const LONG_BACK: &str = "SET SESSION group_concat_max_len = @pelican_group_concat_max_len";

/// The digest of the catalog: one line per object, each value `QUOTE`d.
const CATALOG: &str = "CAST(SHA2(CONCAT_WS('\\n--\\n',
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(table_type), QUOTE(engine), QUOTE(table_collation),
                                QUOTE(create_options), QUOTE(table_comment))
                      ORDER BY table_name SEPARATOR '\\n')
    FROM information_schema.tables WHERE table_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(column_name), QUOTE(ordinal_position),
                                QUOTE(column_default), QUOTE(is_nullable), QUOTE(column_type),
                                QUOTE(character_set_name), QUOTE(collation_name), QUOTE(column_key),
                                QUOTE(extra), QUOTE(column_comment), QUOTE(generation_expression))
                      ORDER BY table_name, ordinal_position SEPARATOR '\\n')
    FROM information_schema.columns WHERE table_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(index_name), QUOTE(seq_in_index),
                                QUOTE(column_name), QUOTE(non_unique), QUOTE(sub_part), QUOTE(collation),
                                QUOTE(index_type), QUOTE(comment), QUOTE(index_comment))
                      ORDER BY table_name, index_name, seq_in_index SEPARATOR '\\n')
    FROM information_schema.statistics WHERE table_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(constraint_name), QUOTE(constraint_type))
                      ORDER BY table_name, constraint_name, constraint_type SEPARATOR '\\n')
    FROM information_schema.table_constraints WHERE constraint_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(constraint_name), QUOTE(column_name),
                                QUOTE(ordinal_position), QUOTE(NULLIF(referenced_table_schema, DATABASE())),
                                QUOTE(referenced_table_name), QUOTE(referenced_column_name))
                      ORDER BY table_name, constraint_name, ordinal_position SEPARATOR '\\n')
    FROM information_schema.key_column_usage WHERE constraint_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(constraint_name), QUOTE(unique_constraint_name),
                                QUOTE(referenced_table_name), QUOTE(match_option), QUOTE(update_rule),
                                QUOTE(delete_rule))
                      ORDER BY table_name, constraint_name SEPARATOR '\\n')
    FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(constraint_name), QUOTE(check_clause))
                      ORDER BY constraint_name, check_clause SEPARATOR '\\n')
    FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(table_name), QUOTE(view_definition), QUOTE(check_option),
                                QUOTE(is_updatable), QUOTE(definer), QUOTE(security_type),
                                QUOTE(character_set_client), QUOTE(collation_connection))
                      ORDER BY table_name SEPARATOR '\\n')
    FROM information_schema.views WHERE table_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(trigger_name), QUOTE(event_manipulation), QUOTE(event_object_table),
                                QUOTE(action_order), QUOTE(action_statement), QUOTE(action_timing),
                                QUOTE(sql_mode), QUOTE(definer))
                      ORDER BY trigger_name SEPARATOR '\\n')
    FROM information_schema.triggers WHERE trigger_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(routine_name), QUOTE(routine_type), QUOTE(dtd_identifier),
                                QUOTE(routine_definition), QUOTE(is_deterministic), QUOTE(sql_data_access),
                                QUOTE(security_type), QUOTE(sql_mode), QUOTE(routine_comment), QUOTE(definer))
                      ORDER BY routine_type, routine_name SEPARATOR '\\n')
    FROM information_schema.routines WHERE routine_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(specific_name), QUOTE(ordinal_position), QUOTE(parameter_mode),
                                QUOTE(parameter_name), QUOTE(dtd_identifier))
                      ORDER BY specific_name, ordinal_position SEPARATOR '\\n')
    FROM information_schema.parameters WHERE specific_schema = DATABASE()), ''),
 IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(',', QUOTE(event_name), QUOTE(event_definition), QUOTE(event_type),
                                QUOTE(execute_at), QUOTE(interval_value), QUOTE(interval_field),
                                QUOTE(status), QUOTE(on_completion), QUOTE(definer))
                      ORDER BY event_name SEPARATOR '\\n')
    FROM information_schema.events WHERE event_schema = DATABASE()), ''),
 IFNULL((SELECT CONCAT_WS(',', QUOTE(default_character_set_name), QUOTE(default_collation_name))
    FROM information_schema.schemata WHERE schema_name = DATABASE()), '')
), 256) AS CHAR)";

/// What a reset cannot put back in place: sequences, system-versioned tables.
const UNSUPPORTED: &str = "\
SELECT CAST(table_name AS CHAR) AS what FROM information_schema.tables
 WHERE table_schema = DATABASE() AND table_type NOT IN ('BASE TABLE', 'VIEW')";

/// The tables, their auto-increment counters, and whether a trigger fires on them.
const TABLES: &str = "\
SELECT CAST(t.table_name AS CHAR) AS name, CAST(t.auto_increment AS CHAR) AS auto_increment,
       CAST(CASE WHEN EXISTS (SELECT 1 FROM information_schema.triggers g
                               WHERE g.event_object_schema = DATABASE()
                                 AND g.event_object_table = t.table_name)
                 THEN 'y' ELSE 'n' END AS CHAR) AS triggers
  FROM information_schema.tables t
 WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'
 ORDER BY t.table_name";

/// What a reset needs to know of a template.
#[derive(Debug)]
pub(super) struct Template {
    /// The query reading the database as a reset compares it: `d` and the catalog's
    /// digest, `<i>` and a row of table `i` (the tuple that inserts it), `a` and
    /// `<i>=<n>` (table `i`'s auto-increment counter, where it has one). One scan
    /// of every table streams faster than a subquery per table.
    read: String,
    /// The template, as read.
    seen: Seen,
    tables: Vec<Table>,
}

#[derive(Debug)]
struct Table {
    quoted: String,
    /// The columns a row is inserted with, quoted, comma separated.
    columns: String,
    /// Whether a trigger fires on it.
    triggers: bool,
}

/// A database as [`Template::read`] reads it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    digest: String,
    /// Each table's rows, sorted.
    rows: Vec<Vec<String>>,
    /// Each table's auto-increment counter, if it has one.
    counters: Vec<Option<String>>,
}

#[derive(diesel::QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    auto_increment: Option<String>,
    #[diesel(sql_type = Text)]
    triggers: String,
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    r: String,
}

/// The literal that inserts the value of `column` again, `NULL` included.
fn value(column: &str, data_type: &str) -> String {
    let q = Backend::Mysql.quote(column);
    let literal = match data_type {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
        | "numeric" | "float" | "double" | "real" | "year" => format!("CAST({q} AS CHAR)"),
        // `0x` takes an odd number of digits, as HEX of a bit value may have.
        "bit" => format!("CONCAT('0x', HEX({q}))"),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry"
        | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => format!("CONCAT('X''', HEX({q}), '''')"),
        _ => format!("CONCAT('_utf8mb4 X''', HEX(CONVERT({q} USING utf8mb4)), '''')"),
    };
    format!("IFNULL({literal}, 'NULL')")
}

/// Reads what a reset needs from `conn`, a copy of the template no test has touched.
pub(super) fn learn(conn: &mut AnyConnection) -> Result<Option<Template>> {
    if !load::<What>(conn, UNSUPPORTED)?.is_empty() {
        return Ok(None);
    }
    let columns: Vec<ColumnRow> = load(conn, COLUMNS)?;
    let table_rows: Vec<TableRow> = load(conn, TABLES)?;
    let mut read = vec![format!(
        "SELECT CAST('d' AS CHAR(20)) AS t, CAST({CATALOG} AS CHAR) AS r"
    )];
    let mut tables = Vec::new();
    let mut counters = Vec::new();
    let mut names = Vec::new();
    for (i, table) in table_rows.iter().enumerate() {
        // The snapshot's columns: a generated one is computed, not inserted.
        let own: Vec<&ColumnRow> = columns
            .iter()
            .filter(|c| c.tbl == table.name && c.extra.is_empty())
            .collect();
        if own.is_empty() {
            return Ok(None);
        }
        let quoted = Backend::Mysql.quote(&table.name);
        read.push(format!(
            "SELECT '{i}', CONCAT('(', CONCAT_WS(',', {}), ')') FROM {quoted}",
            own.iter()
                .map(|c| value(&c.name, &c.data_type.to_lowercase()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if table.auto_increment.is_some() {
            names.push(literal(&table.name));
            counters.push(format!("WHEN {} THEN '{i}'", literal(&table.name)));
        }
        tables.push(Table {
            quoted,
            columns: own
                .iter()
                .map(|c| Backend::Mysql.quote(&c.name))
                .collect::<Vec<_>>()
                .join(", "),
            triggers: table.triggers == "y",
        });
    }
    if !counters.is_empty() {
        read.push(format!(
            "SELECT 'a', CONCAT(CASE table_name {} END, '=', auto_increment) \
             FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND auto_increment IS NOT NULL \
             AND table_name IN ({})",
            counters.join(" "),
            names.join(", ")
        ));
    }
    let read = read.join("\nUNION ALL ");
    let Some(seen) = see(conn, &read, tables.len())? else {
        return Ok(None);
    };
    Ok(Some(Template { read, seen, tables }))
}

/// Reads the database with `read` (see [`Template::read`]); none where an answer is
/// not understood.
fn see(conn: &mut AnyConnection, read: &str, tables: usize) -> Result<Option<Seen>> {
    batch(conn, LONG)?;
    let lines: Result<Vec<Line>> = load(conn, read);
    batch(conn, LONG_BACK)?;
    let mut seen = Seen {
        rows: vec![Vec::new(); tables],
        counters: vec![None; tables],
        ..Seen::default()
    };
    for line in lines? {
        match line.t.as_str() {
            "d" => seen.digest = line.r,
            "a" => {
                let Some((i, counter)) = line.r.split_once('=') else {
                    return Ok(None);
                };
                let Some(slot) = i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| seen.counters.get_mut(i))
                else {
                    return Ok(None);
                };
                *slot = Some(counter.to_owned());
            }
            i => {
                let Some(rows) = i.parse::<usize>().ok().and_then(|i| seen.rows.get_mut(i)) else {
                    return Ok(None);
                };
                rows.push(line.r);
            }
        }
    }
    for rows in &mut seen.rows {
        rows.sort_unstable();
    }
    Ok(Some(seen))
}

fn literal(text: &str) -> String {
    Backend::Mysql.dialect().text_literal(text)
}

/// Puts the template's rows and auto-increment counters back where they differ, or
/// answers [`Restored::No`] where the schema changed or a trigger would fire.
pub(super) fn restore(template: &Template, conn: &mut AnyConnection) -> Result<Restored> {
    let Some(seen) = see(conn, &template.read, template.tables.len())? else {
        return Ok(Restored::No);
    };
    let expected = &template.seen;
    if seen.digest != expected.digest {
        return Ok(Restored::No);
    }
    let mut rows = String::new();
    let mut counters = String::new();
    for (i, table) in template.tables.iter().enumerate() {
        let dirty = seen.rows[i] != expected.rows[i];
        if dirty {
            if table.triggers {
                return Ok(Restored::No);
            }
            rows.push_str(&format!("DELETE FROM {};\n", table.quoted));
            if !expected.rows[i].is_empty() {
                // The tuples hold digits, letters, `'`, `(`, `)`, `,`, `.`, `-`, `+`,
                // `_` and spaces: the same whatever `sql_mode` says.
                rows.push_str(&format!(
                    "INSERT INTO {} ({}) VALUES {};\n",
                    table.quoted,
                    table.columns,
                    expected.rows[i].join(",")
                ));
            }
        }
        if let Some(counter) = &expected.counters[i] {
            if dirty || seen.counters[i].as_ref() != Some(counter) {
                counters.push_str(&format!(
                    "ALTER TABLE {} AUTO_INCREMENT = {counter};\n",
                    table.quoted
                ));
            }
        }
    }
    if rows.is_empty() && counters.is_empty() {
        return Ok(Restored::Yes);
    }
    // ALTER TABLE commits by itself: after the rows' transaction.
    batch(
        conn,
        &format!(
            "SET @pelican_foreign_key_checks = @@foreign_key_checks;\n\
             SET foreign_key_checks = 0;\n\
             START TRANSACTION;\n{rows}COMMIT;\n{counters}\
             SET foreign_key_checks = @pelican_foreign_key_checks"
        ),
    )?;
    Ok(Restored::Yes)
}
