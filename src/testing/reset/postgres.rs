//! PostgreSQL: a reset in place.
//!
//! - **The schema unchanged**: every DDL statement inserts, updates or deletes rows of
//!   the system catalogs, and a row written after the template was built has a newer
//!   `xmin` than any of the template's (a clone copies the template's rows as they are).
//!   So the catalogs hold the template's rows exactly when they hold as many rows and
//!   none newer than the template's newest. What the server writes there on its own
//!   (planner statistics) is left out; vacuum's counters in `pg_class` are written in
//!   place and keep their `xmin`.
//! - **The rows**: each table's rows as the server writes them (`row::text`, read back
//!   by the table's own type), in one string, compared with the template's.
//! - **Putting back**: `DELETE` and the template's rows inserted again, with
//!   `session_replication_role = replica` so that foreign keys neither cascade nor
//!   check (the end state is the template's, which satisfies them), and sequences set
//!   with `setval`. Nothing of this touches the catalogs.

use diesel::sql_types::{Nullable, Text};

use super::{batch, in_transaction, load, Content, Restored, What};
use crate::{AnyConnection, Result};

/// The settings the rows are read and written under, the same every time: the text
/// of a value depends on them.
const SETTINGS: &str = "\
SET LOCAL search_path = pg_catalog;
SET LOCAL DateStyle = 'ISO, YMD';
SET LOCAL IntervalStyle = postgres;
SET LOCAL extra_float_digits = 3;
SET LOCAL bytea_output = hex;
SET LOCAL TimeZone = 'UTC';
SET LOCAL lc_monetary = 'C';
SET LOCAL xmloption = content";

/// The system catalogs of this database; statistics, which ANALYZE rewrites, left out.
const CATALOGS: &str = "\
SELECT quote_ident(c.relname) AS name
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' AND NOT c.relisshared
   AND c.relname NOT IN ('pg_statistic', 'pg_statistic_ext_data')
 ORDER BY c.relname";

/// The application's tables (partitions included, their parents not: the rows are in
/// the partitions), what to insert into, and what would fire on a `DELETE` or an
/// `INSERT`: with `replica`, the triggers and rules that fire anyway; without, any.
const TABLES: &str = "\
SELECT format('%I.%I', n.nspname, c.relname) AS name,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = '') AS columns,
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                          WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled IN ('A', 'R'))
              OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                          WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN')
            THEN 'y' ELSE 'n' END AS replica_fires,
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                          WHERE t.tgrelid = c.oid AND t.tgenabled <> 'D')
              OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                          WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN')
            THEN 'y' ELSE 'n' END AS fires
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
 ORDER BY 1";

/// The application's sequences.
const SEQUENCES: &str = "\
SELECT format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
 ORDER BY 1";

/// What a reset needs to know of a template.
#[derive(Debug)]
pub(super) struct Template {
    /// The query answering what differs from the template: `catalog`, `t<i>` (table
    /// `i`'s rows), `s<i>` (sequence `i`).
    check: String,
    /// The name it is prepared under in a session: planning its hundreds of
    /// subqueries costs more than running them.
    prepared: String,
    tables: Vec<Table>,
    /// `setval` of each sequence to the template's state.
    sequences: Vec<String>,
    /// Whether this connection may set `session_replication_role`.
    replica: bool,
}

#[derive(Debug)]
struct Table {
    /// `DELETE` and `INSERT` of the template's rows; none where they cannot be
    /// inserted (no column to insert into).
    restore: Option<String>,
    /// Whether a trigger or rule fires on them with `replica`; without.
    replica_fires: bool,
    fires: bool,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
    #[diesel(sql_type = Text)]
    replica_fires: String,
    #[diesel(sql_type = Text)]
    fires: String,
}

#[derive(diesel::QueryableByName)]
struct Fingerprint {
    #[diesel(sql_type = Text)]
    n: String,
    #[diesel(sql_type = Text)]
    newest: String,
}

#[derive(diesel::QueryableByName)]
struct State {
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
}

/// A table's rows (at most `limit`), each as its literal, in one string.
fn content(table: &str, limit: Option<usize>) -> String {
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    format!(
        "(SELECT string_agg(quote_literal(s.r::text), ',' ORDER BY s.r::text COLLATE \"C\") \
         FROM (SELECT t AS r FROM ONLY {table} t{limit}) s)"
    )
}

fn sequence_state(sequence: &str) -> String {
    format!("(SELECT last_value::text || ',' || is_called::text FROM {sequence})")
}

fn literal(text: Option<&str>) -> String {
    match text {
        // The literals are quote_literal's: `'`, or `E'` with backslashes doubled.
        Some(text) => format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''")),
        None => "NULL::text".to_owned(),
    }
}

/// Reads what a reset needs from `conn`, a copy of the template no test has touched.
pub(super) fn learn(conn: &mut AnyConnection) -> Result<Option<Template>> {
    // The reads run under the same settings as a reset, in a transaction rolled back.
    let mut template = None;
    in_transaction(conn, |conn| {
        batch(conn, SETTINGS)?;
        template = read(conn)?;
        Ok(Restored::No)
    })?;
    Ok(template)
}

fn read(conn: &mut AnyConnection) -> Result<Option<Template>> {
    let catalogs: Vec<Name> = load(conn, CATALOGS)?;
    let counts = catalogs
        .iter()
        .map(|c| format!("SELECT count(*) AS n FROM pg_catalog.{}", c.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let xmins = catalogs
        .iter()
        .map(|c| format!("SELECT xmin AS x FROM pg_catalog.{}", c.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let fingerprint: Vec<Fingerprint> = load(
        conn,
        &format!(
            "SELECT (SELECT sum(n) FROM ({counts}) s)::text AS n, \
             (SELECT x::text FROM ({xmins}) s ORDER BY age(x) LIMIT 1) AS newest"
        ),
    )?;
    let Some(fingerprint) = fingerprint.into_iter().next() else {
        return Ok(None);
    };
    let mut check = vec![format!(
        "SELECT 'catalog' AS what FROM ({}) s HAVING sum(s.n) <> {} OR sum(s.newer) > 0",
        catalogs
            .iter()
            .map(|c| format!(
                "SELECT count(*) AS n, count(*) FILTER (WHERE age(xmin) < age({}::xid)) AS newer \
                 FROM pg_catalog.{}",
                literal(Some(&fingerprint.newest)),
                c.name
            ))
            .collect::<Vec<_>>()
            .join(" UNION ALL "),
        fingerprint.n
    )];

    let table_rows: Vec<TableRow> = load(conn, TABLES)?;
    let mut tables = Vec::new();
    for (i, table) in table_rows.iter().enumerate() {
        let rows: Vec<Content> = load(
            conn,
            &format!(
                "SELECT {} AS content, (SELECT count(*) FROM ONLY {})::text AS n",
                content(&table.name, None),
                table.name
            ),
        )?;
        let Some(rows) = rows.into_iter().next() else {
            return Ok(None);
        };
        let count: usize = rows.n.parse().unwrap_or(usize::MAX);
        check.push(format!(
            "SELECT 't{i}' WHERE {} IS DISTINCT FROM {}",
            content(&table.name, Some(count.saturating_add(1))),
            literal(rows.content.as_deref())
        ));
        let delete = format!("DELETE FROM ONLY {};\n", table.name);
        let restore = match (&rows.content, &table.columns) {
            (None, _) => Some(delete),
            (Some(content), Some(columns)) => Some(format!(
                "{delete}INSERT INTO {name} ({columns}) OVERRIDING SYSTEM VALUE \
                 SELECT {columns} FROM unnest(ARRAY[{content}]::{name}[]);\n",
                name = table.name
            )),
            (Some(_), None) => None,
        };
        tables.push(Table {
            restore,
            replica_fires: table.replica_fires == "y",
            fires: table.fires == "y",
        });
    }

    let sequence_names: Vec<Name> = load(conn, SEQUENCES)?;
    let mut sequences = Vec::new();
    for (i, sequence) in sequence_names.iter().enumerate() {
        let state: Vec<State> = load(
            conn,
            &format!("SELECT {} AS state", sequence_state(&sequence.name)),
        )?;
        let Some(state) = state.into_iter().next().and_then(|s| s.state) else {
            return Ok(None);
        };
        let Some((last, called)) = state.split_once(',') else {
            return Ok(None);
        };
        check.push(format!(
            "SELECT 's{i}' WHERE {} IS DISTINCT FROM {}",
            sequence_state(&sequence.name),
            literal(Some(&state))
        ));
        sequences.push(format!(
            "SELECT pg_catalog.setval({}, {last}, {called});\n",
            literal(Some(&sequence.name))
        ));
    }

    // Last: a refusal ends the transaction.
    let replica = batch(conn, "SET LOCAL session_replication_role = replica").is_ok();
    Ok(Some(Template {
        check: check.join("\nUNION ALL "),
        prepared: format!("pelican_reset_{}", crate::server::next()),
        tables,
        sequences,
        replica,
    }))
}

/// Puts the template's rows and sequence values back where they differ, or answers
/// [`Restored::No`] where the schema changed or a trigger would fire.
pub(super) fn restore(template: &Template, conn: &mut AnyConnection) -> Result<Restored> {
    in_transaction(conn, |conn| {
        batch(conn, &format!("{SETTINGS};\nSAVEPOINT pelican_reset"))?;
        let execute = format!("EXECUTE {}", template.prepared);
        // Prepared once per session (a test's DEALLOCATE is no harm: prepared again).
        let differs: Vec<What> = match load(conn, &execute) {
            Ok(differs) => differs,
            Err(_) => {
                batch(
                    conn,
                    &format!(
                        "ROLLBACK TO SAVEPOINT pelican_reset;\nPREPARE {} AS {}",
                        template.prepared, template.check
                    ),
                )?;
                load(conn, &execute)?
            }
        };
        let mut sql = String::new();
        if template.replica {
            sql.push_str("SET LOCAL session_replication_role = replica;\n");
        }
        for what in &differs {
            let (kind, index) = what.what.split_at(1);
            let index: usize = index.parse().unwrap_or(usize::MAX);
            let step = match kind {
                "t" => template.tables.get(index).and_then(|table| {
                    let fires = if template.replica {
                        table.replica_fires
                    } else {
                        table.fires
                    };
                    table.restore.as_deref().filter(|_| !fires)
                }),
                "s" => template.sequences.get(index).map(String::as_str),
                _ => None,
            };
            let Some(step) = step else {
                return Ok(Restored::No);
            };
            sql.push_str(step);
        }
        if !differs.is_empty() {
            batch(conn, &sql)?;
        }
        Ok(Restored::Yes)
    })
}
