//! PostgreSQL: transactional DDL, names folded and cut to 63 bytes, advisory locks.

use std::time::Duration;

use super::DropSql;
use super::Kind;
use super::{single_quoted, CloneStrategy, Dialect};
use super::{
    DdlTransactions, During, ForeignKeyEnforcement, LeaseSql, LockStrategy, Rule, ScopedRead,
    ServerMessages, SessionSql, Storage, WaitSetting,
};
use crate::split::Lexicon;
use crate::{AnyConnection, Result};

mod catalog;

/// What PostgreSQL runs that may change what a statement does not name (its manual:
/// "SET", "search_path", "DO", "CALL", "EXECUTE", "DROP OWNED", "ALTER DEFAULT
/// PRIVILEGES", "CREATE EVENT TRIGGER", "System Administration Functions"): a step
/// with any of these is read whole after it runs.
const SCOPE_RULES: &[(Rule, &str)] = &[
    // Runs code, which may do anything.
    (Rule::Starts(&["do"]), "DO runs code"),
    (Rule::Starts(&["call"]), "CALL runs a procedure"),
    (
        Rule::Starts(&["execute"]),
        "EXECUTE runs a prepared statement",
    ),
    (Rule::Starts(&["load"]), "LOAD loads a library"),
    // Changes where unqualified names resolve, or session defaults.
    (Rule::Starts(&["set"]), "SET may change the search_path"),
    (Rule::Starts(&["reset"]), "RESET may change the search_path"),
    (Rule::Starts(&["discard"]), "DISCARD resets the session"),
    (
        Rule::Words(&["search_path"]),
        "the search_path changes what names mean",
    ),
    (
        Rule::Words(&["set_config"]),
        "set_config may change the search_path",
    ),
    // Schemas, extensions: objects the statement does not list.
    (
        Rule::Words(&["schema"]),
        "a schema (or IN SCHEMA) covers objects not named",
    ),
    (
        Rule::Words(&["extension"]),
        "an extension creates or drops objects not named",
    ),
    (
        Rule::Starts(&["import"]),
        "IMPORT FOREIGN SCHEMA creates tables not named",
    ),
    (
        Rule::Words(&["owned"]),
        "DROP/REASSIGN OWNED and OWNED BY act on a role's objects",
    ),
    (
        Rule::Words(&["default", "privileges"]),
        "default privileges apply to objects not named",
    ),
    (
        Rule::Starts(&["security", "label"]),
        "SECURITY LABEL, by a provider's rules",
    ),
    (
        Rule::Words(&["event", "trigger"]),
        "an event trigger runs on any DDL",
    ),
    // Roles appear in every grant; the database's settings in every session.
    (
        Rule::Starts(&["create", "role"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["alter", "role"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["drop", "role"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["create", "user"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["alter", "user"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["drop", "user"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["create", "group"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["alter", "group"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["drop", "group"]),
        "a role's grants are everywhere",
    ),
    (
        Rule::Starts(&["alter", "database"]),
        "a database setting applies everywhere",
    ),
    (
        Rule::Starts(&["alter", "system"]),
        "a server setting applies everywhere",
    ),
    (
        Rule::Starts(&["reindex", "database"]),
        "REINDEX of the whole database",
    ),
    (
        Rule::Starts(&["reindex", "system"]),
        "REINDEX of the whole database",
    ),
    // Operators and casts call functions where no function is named.
    (
        Rule::Words(&["operator"]),
        "an operator calls a function not named",
    ),
    (
        Rule::Starts(&["create", "cast"]),
        "a cast calls a function not named",
    ),
    (
        Rule::Starts(&["drop", "cast"]),
        "a cast calls a function not named",
    ),
    // The catalog itself, and the administration functions.
    (
        Rule::Prefix("pg_"),
        "pg_catalog and administration functions",
    ),
    (Rule::Words(&["dblink"]), "dblink runs SQL given as text"),
    (Rule::Prefix("dblink_"), "dblink runs SQL given as text"),
    // Names spelled with escapes, whose words are not in the text.
    (Rule::Text("u&\""), "a Unicode-escaped identifier"),
    (Rule::Text("u&'"), "a Unicode-escaped string"),
    (Rule::Text("\\"), "a backslash escape may spell a name"),
];

/// PostgreSQL's dialect.
pub(crate) struct Postgres;

/// How a session setting is read, binding its name.
const READ_SETTING: &str = "SELECT current_setting(?) AS value";
/// How a session setting is set for the session, binding its name and value as text.
const SET_SETTING: &str = "SELECT set_config(?, ?, false) AS value";

/// The longest name PostgreSQL keeps; longer ones are cut.
const NAME_LIMIT: usize = 63;

impl Dialect for Postgres {
    fn messages(&self) -> ServerMessages {
        ServerMessages {
            not_in_transaction: &[
                "cannot run inside a transaction block",
                "cannot be executed from a function",
            ],
            // libpq's words for a backend that was terminated or went away.
            connection_lost: &[
                "terminating connection",
                "server closed the connection unexpectedly",
            ],
            out_of_locks: Some("out of shared memory"),
            unknown_setting: None,
        }
    }

    fn ddl_transactions(&self) -> DdlTransactions {
        DdlTransactions::RollBack
    }

    fn storage(&self) -> Storage {
        Storage::Server
    }

    fn foreign_keys(&self) -> ForeignKeyEnforcement {
        ForeignKeyEnforcement::Server
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    /// PostgreSQL keeps stored names exactly.
    fn key(&self, _kind: Kind, name: &str) -> String {
        name.to_owned()
    }

    /// Folds the ASCII letters of an unquoted name to lower case (and no others), keeps
    /// a quoted one, and cuts every name to 63 bytes, never inside a character.
    fn ident(&self, _kind: Kind, name: &str, quoted: bool) -> String {
        let mut name = if quoted {
            name.to_owned()
        } else {
            name.to_ascii_lowercase()
        };
        if name.len() > NAME_LIMIT {
            let mut end = NAME_LIMIT;
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name.truncate(end);
        }
        name
    }

    /// A backslash is written `E'\\'`, which means one whatever
    /// `standard_conforming_strings` says.
    fn text_literal(&self, text: &str) -> String {
        if text.contains('\\') {
            format!("E{}", single_quoted(&text.replace('\\', "\\\\")))
        } else {
            single_quoted(text)
        }
    }

    fn script_interpolates(&self) -> bool {
        true
    }

    fn script_prologue(&self) -> Option<&'static str> {
        Some("\\set ON_ERROR_STOP on")
    }

    /// `CREATE [UNIQUE] INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY` without the
    /// `CONCURRENTLY`: the same index made or dropped, which a transaction may hold.
    fn in_transaction_stand_in(&self, sql: &str) -> Option<String> {
        let mut words = Vec::new();
        let mut rest = sql;
        let mut at = 0;
        while words.len() < 4 {
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            let len = trimmed
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(trimmed.len());
            if len == 0 {
                break;
            }
            words.push((at, trimmed[..len].to_ascii_uppercase()));
            at += len;
            rest = &trimmed[len..];
        }
        let names: Vec<&str> = words.iter().map(|(_, w)| w.as_str()).collect();
        let position = match names.as_slice() {
            ["CREATE", "INDEX", "CONCURRENTLY", ..] | ["DROP", "INDEX", "CONCURRENTLY", ..] => 2,
            ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"] => 3,
            _ => return None,
        };
        let (start, word) = words.get(position)?;
        let after = &sql[start + word.len()..];
        Some(format!("{}{}", &sql[..*start], after.trim_start()))
    }

    /// Every sequence but those of the system's schemas, and whether the session may
    /// read it (the `CASE`: the privilege function refuses a table, whichever order the
    /// planner tests the conditions in).
    fn sequences_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(c.oid AS BIGINT) AS id, \
             quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, \
             CAST(CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') \
             END AS INTEGER) AS readable \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
             ORDER BY c.oid",
        )
    }

    fn bytes_literal(&self, hex: &str) -> String {
        format!("'\\x{hex}'")
    }

    fn begin_in_batch(&self) -> bool {
        true
    }

    fn numbered_placeholders(&self) -> bool {
        true
    }

    fn triggers_per_table(&self) -> bool {
        true
    }

    fn overloaded_functions(&self) -> bool {
        true
    }

    fn introspect_sql(&self) -> &'static str {
        catalog::INTROSPECT
    }

    fn scope_rules(&self) -> &'static [(Rule, &'static str)] {
        SCOPE_RULES
    }

    fn scoped_read(&self) -> ScopedRead {
        ScopedRead::Query(catalog::introspect_groups)
    }

    fn outline_sql(&self) -> &'static str {
        catalog::OUTLINE
    }

    fn parser(&self) -> &'static dyn sqlparser::dialect::Dialect {
        &sqlparser::dialect::PostgreSqlDialect {}
    }

    fn throwaway_session_sql(&self) -> &'static [&'static str] {
        &["SET synchronous_commit = off"]
    }

    fn lexicon(&self) -> Lexicon {
        Lexicon {
            dollar_quotes: true,
            nested_comments: true,
            escape_strings: true,
            ..Lexicon::default()
        }
    }

    /// The lock's wait is bounded by the lock, not by the session.
    fn timeout_sql(&self, _lock: Duration, statement: Duration) -> Vec<String> {
        vec![format!("SET statement_timeout = {}", statement.as_millis())]
    }

    fn lock_strategy(&self) -> LockStrategy {
        LockStrategy::Session(SessionSql {
            try_acquire: "SELECT CAST(pg_try_advisory_lock(?) AS INTEGER) AS answer",
            // Unused while waiters poll (`poll`, below): how to wait in the server.
            wait: "SELECT 1 AS answer FROM (SELECT pg_advisory_lock(?)) AS waited",
            settings: &[
                WaitSetting {
                    name: "lock_timeout",
                    during: During::TimeLeft,
                    read: READ_SETTING,
                    set: SET_SETTING,
                },
                WaitSetting {
                    name: "statement_timeout",
                    during: During::Unlimited,
                    read: READ_SETTING,
                    set: SET_SETTING,
                },
            ],
            expired: Some("lock timeout"),
            release: "SELECT CAST(pg_advisory_unlock(?) AS INTEGER) AS answer",
            // A bigint key shows in pg_locks as classid (high half), objid (low half),
            // objsubid 1.
            holder: "SELECT CAST('pid ' || a.pid \
                       || COALESCE(', application ' || NULLIF(a.application_name, ''), '') \
                       || COALESCE(', client ' || host(a.client_addr), '') \
                       || COALESCE(', user ' || a.usename, '') AS TEXT) AS who \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                       AND ((CAST(l.classid AS BIGINT) << 32) | CAST(l.objid AS BIGINT)) = ?",
            database: None,
            poll: true,
        })
    }

    /// Every time is the server's (`clock_timestamp()`): the clocks of the machines that
    /// take the lease never enter into it.
    fn lease_sql(&self) -> Option<LeaseSql> {
        Some(LeaseSql {
            create: "CREATE TABLE IF NOT EXISTS {table} (\
                       id INTEGER PRIMARY KEY CHECK (id = 1), \
                       token TEXT NOT NULL, \
                       holder TEXT NOT NULL, \
                       taken_at TIMESTAMPTZ NOT NULL, \
                       expires_at TIMESTAMPTZ NOT NULL)",
            exists: "SELECT CAST(CASE WHEN to_regclass(?) IS NULL THEN 0 ELSE 1 END AS INTEGER) \
                     AS answer",
            local_lock_timeout: "SELECT set_config('lock_timeout', ?, true) AS value",
            try_transaction_lock: "SELECT CAST(pg_try_advisory_xact_lock(?) AS INTEGER) AS answer",
            take: "INSERT INTO {table} AS l (id, token, holder, taken_at, expires_at) \
                   VALUES (1, ?, ?, clock_timestamp(), \
                           clock_timestamp() + CAST(? AS BIGINT) * interval '1 millisecond') \
                   ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, \
                     holder = EXCLUDED.holder, taken_at = EXCLUDED.taken_at, \
                     expires_at = EXCLUDED.expires_at \
                   WHERE l.expires_at < clock_timestamp() \
                   RETURNING 1 AS answer",
            renew: "UPDATE {table} \
                    SET expires_at = clock_timestamp() + CAST(? AS BIGINT) * interval '1 millisecond' \
                    WHERE id = 1 AND token = ? RETURNING 1 AS answer",
            release: "DELETE FROM {table} WHERE id = 1 AND token = ? RETURNING 1 AS answer",
            live: "SELECT 1 AS answer FROM {table} WHERE id = 1 AND expires_at > clock_timestamp()",
            holder: "SELECT CAST(holder || ', lease taken ' \
                       || to_char(extract(epoch FROM clock_timestamp() - taken_at), 'FM999999990.0') \
                       || ' s ago, ' || CASE WHEN expires_at > clock_timestamp() \
                         THEN 'expiring in ' || to_char(extract(epoch FROM expires_at - clock_timestamp()), 'FM999999990.0') || ' s' \
                         ELSE 'expired ' || to_char(extract(epoch FROM clock_timestamp() - expires_at), 'FM999999990.0') || ' s ago' END \
                     AS TEXT) AS who FROM {table} WHERE id = 1",
        })
    }

    fn namespace_query(&self) -> Option<&'static str> {
        Some("SELECT current_schema() AS name")
    }

    /// The shared lock table has room for `max_locks_per_transaction` locks per
    /// connection and prepared transaction.
    fn lock_table_query(&self) -> Option<&'static str> {
        Some(
            "SELECT current_setting('max_locks_per_transaction')::bigint * \
             (current_setting('max_connections')::bigint + \
             current_setting('max_prepared_transactions')::bigint) AS size",
        )
    }

    /// pg_catalog rather than information_schema, whose views cost a new session several
    /// milliseconds: this runs at every boot.
    fn table_exists_query(&self) -> &'static str {
        "SELECT c.relname::text AS name FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')"
    }

    fn column_exists_query(&self) -> &'static str {
        "SELECT a.attname::text AS name FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = ? AND c.relname = ? AND a.attname = ? AND NOT a.attisdropped"
    }

    fn serial_key(&self) -> &'static str {
        "id BIGSERIAL PRIMARY KEY"
    }

    fn system_databases(&self) -> &'static [&'static str] {
        &["postgres", "template0", "template1"]
    }

    fn shared_maintenance_database(&self) -> Option<&'static str> {
        Some("postgres")
    }

    fn current_database_query(&self) -> Option<&'static str> {
        Some("SELECT CAST(current_database() AS TEXT) AS name")
    }

    /// `template1` to drop `postgres` itself.
    fn maintenance_database(&self, name: &str) -> &'static str {
        if name == "postgres" {
            "template1"
        } else {
            "postgres"
        }
    }

    /// Without `templates`, a template database counts as missing (diesel CLI's
    /// `database drop` leaves templates alone).
    fn database_exists_query(&self, templates: bool) -> &'static str {
        if templates {
            "SELECT CAST(datname AS TEXT) AS name FROM pg_database WHERE datname = ?"
        } else {
            "SELECT CAST(datname AS TEXT) AS name FROM pg_database \
             WHERE datname = ? AND NOT datistemplate"
        }
    }

    /// `force` ends the connections still open to it (`WITH (FORCE)`); without it, a
    /// database in use is refused.
    fn drop_database_sql(&self, name: &str, force: bool) -> String {
        let force = if force { " WITH (FORCE)" } else { "" };
        format!("DROP DATABASE IF EXISTS {}{force}", self.quote(name))
    }

    fn clone_database_sql(
        &self,
        name: &str,
        template: &str,
        strategy: Option<CloneStrategy>,
    ) -> Option<String> {
        let strategy = match strategy {
            None => "",
            Some(CloneStrategy::WalLog) => " STRATEGY WAL_LOG",
            Some(CloneStrategy::FileCopy) => " STRATEGY FILE_COPY",
        };
        Some(format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            self.quote(name),
            self.quote(template)
        ))
    }

    fn mark_template_sql(&self, name: &str) -> Option<String> {
        Some(format!(
            "ALTER DATABASE {} WITH IS_TEMPLATE true",
            self.quote(name)
        ))
    }

    /// A test template must stop being one before it can be dropped, in a statement of
    /// its own (PostgreSQL drops no database in a batch).
    fn unmark_template_sql(&self, name: &str) -> Option<String> {
        // Only where it is a template: ALTER DATABASE on a database a cut-short DROP left
        // invalid is refused with FATAL, which ends the connection the drop then needs.
        Some(format!(
            "DO $pelican$ BEGIN IF EXISTS (SELECT 1 FROM pg_database WHERE datname = {} AND \
             datistemplate) THEN ALTER DATABASE {} WITH IS_TEMPLATE false; END IF; END $pelican$",
            self.text_literal(name),
            self.quote(name)
        ))
    }

    fn pelican_databases_query(&self) -> Option<&'static str> {
        Some("SELECT CAST(datname AS TEXT) AS name FROM pg_database WHERE datname LIKE 'pelican\\_%'")
    }

    fn pelican_templates_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(datname AS TEXT) AS name FROM pg_database \
             WHERE datname LIKE 'pelican\\_%' AND datistemplate",
        )
    }

    fn pelican_sessions_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(pid AS BIGINT) AS id, CAST(COALESCE(datname, '') AS TEXT) AS database, \
             CAST(COALESCE(query, '') AS TEXT) AS statement \
             FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
             AND (datname LIKE 'pelican\\_%' OR query LIKE '%pelican\\_%')",
        )
    }

    fn end_session_sql(&self, id: i64) -> Option<String> {
        Some(format!("SELECT pg_terminate_backend({id})"))
    }

    fn relations_query(&self) -> &'static str {
        "SELECT CAST(c.relname AS TEXT) AS name FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         ORDER BY 1"
    }

    /// Everything in the current schema, what belongs to an extension with the
    /// extension, last (a migration's plain `CREATE EXTENSION` must be able to run
    /// again; extensions elsewhere, such as plpgsql in pg_catalog, stay). Partitions go
    /// with their parent, owned sequences with their table, multirange types with their
    /// range.
    fn drop_everything(&self) -> DropSql {
        DropSql {
            list: "SELECT kind, target, name FROM ( \
                     SELECT 1 AS step, \
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' \
                         WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, \
                       format('%I.%I', n.nspname, c.relname) AS target, CAST(c.relname AS TEXT) AS name \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') \
                       AND NOT c.relispartition \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_class' AS regclass) \
                                       AND d.objid = c.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 2, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, \
                       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), \
                       CAST(p.proname AS TEXT) \
                     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE n.nspname = current_schema() \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_proc' AS regclass) \
                                       AND d.objid = p.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 3, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, \
                       format('%I.%I', n.nspname, t.typname), CAST(t.typname AS TEXT) \
                     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                     WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'c') \
                       AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c \
                                                        WHERE c.oid = t.typrelid AND c.relkind = 'c')) \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = CAST('pg_type' AS regclass) \
                                       AND d.objid = t.oid AND d.deptype = 'e') \
                     UNION ALL \
                     SELECT 4, 'EXTENSION', format('%I', e.extname), CAST(e.extname AS TEXT) \
                     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
                     WHERE n.nspname = current_schema() \
                   ) objects ORDER BY step, target",
            before: "",
            after: "",
            cascade: " CASCADE",
            children_first: None,
        }
    }

    fn database_templates(&self) -> bool {
        true
    }

    fn has_initial_setup(&self) -> bool {
        true
    }

    /// What depends, by a normal or automatic dependency (those `DROP … CASCADE`
    /// follows), on a relation, routine, type or extension of the current schema, and
    /// lives elsewhere: a view (its rewrite rule), a constraint, trigger, default,
    /// policy, routine or type of another schema, or an object of no schema (a cast).
    /// Followed as far as CASCADE goes: what depends on such an object (a view over a
    /// view over one of ours) goes with it, so it is listed too.
    fn dependents_query(&self) -> Option<&'static str> {
        Some(
            "WITH RECURSIVE ours(classid, objid) AS ( \
               SELECT CAST('pg_class' AS regclass), c.oid FROM pg_class c \
                 WHERE c.relnamespace = CAST(current_schema() AS regnamespace) \
               UNION ALL SELECT CAST('pg_proc' AS regclass), p.oid FROM pg_proc p \
                 WHERE p.pronamespace = CAST(current_schema() AS regnamespace) \
               UNION ALL SELECT CAST('pg_type' AS regclass), t.oid FROM pg_type t \
                 WHERE t.typnamespace = CAST(current_schema() AS regnamespace) \
               UNION ALL SELECT CAST('pg_extension' AS regclass), e.oid FROM pg_extension e \
                 WHERE e.extnamespace = CAST(current_schema() AS regnamespace) \
             ), walk(classid, objid, objsubid, refclassid, refobjid) AS ( \
               SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid \
                 FROM pg_depend d JOIN ours o ON o.classid = d.refclassid AND o.objid = d.refobjid \
                WHERE d.deptype IN ('n', 'a') \
               UNION \
               SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid \
                 FROM walk w \
                 CROSS JOIN LATERAL (SELECT \
                   CASE WHEN w.classid = CAST('pg_rewrite' AS regclass) THEN CAST('pg_class' AS regclass) \
                        ELSE w.classid END AS classid, \
                   CASE WHEN w.classid = CAST('pg_rewrite' AS regclass) \
                        THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = w.objid) \
                        ELSE w.objid END AS objid) n \
                 JOIN pg_depend d ON d.refclassid = n.classid AND d.refobjid = n.objid \
                WHERE d.deptype IN ('n', 'a') \
             ), deps AS ( \
               SELECT DISTINCT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, \
                 CASE d.classid \
                   WHEN CAST('pg_class' AS regclass) THEN \
                     (SELECT relnamespace FROM pg_class WHERE oid = d.objid) \
                   WHEN CAST('pg_rewrite' AS regclass) THEN \
                     (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid) \
                   WHEN CAST('pg_constraint' AS regclass) THEN \
                     (SELECT COALESCE(c.relnamespace, k.connamespace) FROM pg_constraint k \
                      LEFT JOIN pg_class c ON c.oid = k.conrelid WHERE k.oid = d.objid) \
                   WHEN CAST('pg_trigger' AS regclass) THEN \
                     (SELECT c.relnamespace FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE g.oid = d.objid) \
                   WHEN CAST('pg_attrdef' AS regclass) THEN \
                     (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid) \
                   WHEN CAST('pg_policy' AS regclass) THEN \
                     (SELECT c.relnamespace FROM pg_policy y JOIN pg_class c ON c.oid = y.polrelid WHERE y.oid = d.objid) \
                   WHEN CAST('pg_proc' AS regclass) THEN \
                     (SELECT pronamespace FROM pg_proc WHERE oid = d.objid) \
                   WHEN CAST('pg_type' AS regclass) THEN \
                     (SELECT typnamespace FROM pg_type WHERE oid = d.objid) \
                   WHEN CAST('pg_statistic_ext' AS regclass) THEN \
                     (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = d.objid) \
                 END AS namespace \
               FROM walk d \
               WHERE NOT (d.classid = CAST('pg_rewrite' AS regclass) AND d.refclassid = CAST('pg_class' AS regclass) \
                          AND d.refobjid = (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)) \
             ) \
             SELECT dependent || ' (needs ' || string_agg(DISTINCT need, ', ') || ')' AS name FROM ( \
               SELECT CASE classid \
                   WHEN CAST('pg_rewrite' AS regclass) THEN \
                     (SELECT CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW ' ELSE 'VIEW ' END \
                             || CAST(CAST(c.oid AS regclass) AS TEXT) \
                      FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = objid) \
                   ELSE pg_describe_object(classid, objid, objsubid) \
                 END AS dependent, pg_describe_object(refclassid, refobjid, 0) AS need \
               FROM deps \
               WHERE namespace IS DISTINCT FROM CAST(current_schema() AS regnamespace) \
             ) outside GROUP BY dependent ORDER BY 1",
        )
    }

    fn dependents_fate(&self) -> &'static str {
        "PostgreSQL drops them with it, by CASCADE"
    }

    fn test_server(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "PELICAN_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ))
    }

    fn establish(&self, url: &str) -> Result<AnyConnection> {
        #[cfg(feature = "postgres")]
        {
            use diesel::Connection;
            diesel::PgConnection::establish(url)
                .map(AnyConnection::Postgres)
                .map_err(crate::connection::connect_error(url))
        }
        #[cfg(not(feature = "postgres"))]
        Err(crate::connection::not_enabled(self.name(), url))
    }
}
