//! MySQL and MariaDB: DDL commits itself, backslashes escape, `GET_LOCK` locks.

use std::time::Duration;

use super::DropSql;
use super::Kind;
use super::{single_quoted, Dialect};
use super::{
    AutocommitSql, DdlTransactions, ForeignKeyEnforcement, LockStrategy, ProgressSql, RelationSql,
    Rule, ScopedRead, ServerMessages, SessionSql, Storage,
};
use crate::split::Lexicon;
use crate::{AnyConnection, Result};

mod catalog;

/// What MariaDB and MySQL run that may change what a statement does not name (their
/// manuals: "CALL", "PREPARE", "EXECUTE IMMEDIATE", "BEGIN NOT ATOMIC", "CREATE
/// EVENT", "SET", executable comments): a step with any of these is read whole after it
/// runs.
const SCOPE_RULES: &[(Rule, &str)] = &[
    // Runs code, which may do anything.
    (Rule::Starts(&["call"]), "CALL runs a procedure"),
    (Rule::Starts(&["prepare"]), "PREPARE makes SQL from text"),
    (
        Rule::Starts(&["execute"]),
        "EXECUTE runs SQL made from text",
    ),
    (
        Rule::Words(&["not", "atomic"]),
        "BEGIN NOT ATOMIC runs a compound statement",
    ),
    (Rule::Starts(&["begin"]), "a compound statement runs code"),
    (Rule::Words(&["event"]), "an event runs code on its own"),
    (Rule::Starts(&["handler"]), "HANDLER reads tables by handle"),
    // Changes session state that decides what statements do.
    (Rule::Starts(&["set"]), "SET may change what statements do"),
    (
        Rule::Starts(&["use"]),
        "USE changes the database names resolve in",
    ),
    (
        Rule::Words(&["database"]),
        "a database holds objects not named",
    ),
    (
        Rule::Words(&["schema"]),
        "a schema (database) holds objects not named",
    ),
    (Rule::Starts(&["install"]), "a plugin may add tables"),
    (Rule::Starts(&["uninstall"]), "a plugin may drop tables"),
    (Rule::Starts(&["flush"]), "FLUSH acts on every table"),
    (
        Rule::Starts(&["rename", "user"]),
        "a user's grants are everywhere",
    ),
    (
        Rule::Starts(&["drop", "user"]),
        "a user's grants are everywhere",
    ),
    (
        Rule::Starts(&["drop", "role"]),
        "a role's grants are everywhere",
    ),
    // MySQL runs what an executable comment holds.
    (Rule::Text("/*!"), "an executable comment"),
    (Rule::Text("/*m!"), "an executable comment"),
    // Names spelled with escapes, whose words are not in the text.
    (Rule::Text("\\"), "a backslash escape may spell a name"),
];

/// MySQL's and MariaDB's dialect.
pub(crate) struct Mysql;

impl Dialect for Mysql {
    fn messages(&self) -> ServerMessages {
        ServerMessages {
            not_in_transaction: &[],
            // libmysqlclient's CR_SERVER_GONE_ERROR and CR_SERVER_LOST, which diesel
            // does not classify.
            connection_lost: &["Server has gone away", "Lost connection to server"],
            out_of_locks: None,
            unknown_setting: Some("Unknown system variable"),
        }
    }

    fn ddl_transactions(&self) -> DdlTransactions {
        DdlTransactions::CommitThemselves(ProgressSql {
            autocommit: AutocommitSql {
                off: "SET @pelican_autocommit = @@autocommit, autocommit = 0",
                restore: "SET autocommit = @pelican_autocommit",
            },
            in_flight_column: "SELECT column_name AS name FROM information_schema.columns \
                               WHERE table_schema = ? AND table_name = ? \
                               AND column_name = 'in_flight'",
            mark: "SET @pelican_recording = 1",
            unmark: "SET @pelican_recording = NULL",
            read_mark: "SELECT CAST(@pelican_recording AS SIGNED) AS mark",
        })
    }

    fn storage(&self) -> Storage {
        Storage::Server
    }

    fn foreign_keys(&self) -> ForeignKeyEnforcement {
        ForeignKeyEnforcement::Server
    }

    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote(&self, ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }

    /// Table, view and trigger names compare with case (on Linux); column, index and
    /// constraint names without.
    fn key(&self, kind: Kind, name: &str) -> String {
        if matches!(kind, Kind::Column | Kind::Index | Kind::Constraint) {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    }

    /// Backslashes escape in MySQL's strings unless the session's `sql_mode` holds
    /// `NO_BACKSLASH_ESCAPES` (a migration may set it, a server may default to it), so
    /// text holding a backslash or NUL is written as its UTF-8 bytes in hex, which
    /// read the same in either mode; other text is quoted as it is.
    fn text_literal(&self, text: &str) -> String {
        if !text.contains(['\\', '\0']) {
            return single_quoted(text);
        }
        let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
        format!("_utf8mb4 X'{hex}'")
    }

    fn text_type(&self) -> &'static str {
        "CHAR"
    }

    fn integer_type(&self) -> &'static str {
        "SIGNED"
    }

    /// A statement holding a `;` (a routine's `BEGIN … END` body) between `DELIMITER`
    /// commands, with a delimiter its text does not hold: the `mysql`/`mariadb` client
    /// would otherwise end it at its first `;`.
    fn script_statement(&self, sql: &str) -> String {
        if !sql.contains(';') {
            return super::default_script_statement(sql);
        }
        let delimiter = ["$$", "//", "$$$", "///"]
            .into_iter()
            .map(str::to_owned)
            .chain((1..).map(|n| format!("$${n}$$")))
            .find(|d| !sql.contains(d.as_str()))
            .unwrap_or_else(|| "$$".to_owned());
        format!("DELIMITER {delimiter}\n{sql}\n{delimiter}\nDELIMITER ;\n")
    }

    /// As `migrate` runs a step: autocommit off, so that its data statements commit
    /// with its record, and a `COMMIT` after the record. DDL commits itself.
    fn script_transaction(&self, _transactional: bool) -> Option<(&'static str, &'static str)> {
        Some(("SET autocommit = 0", "COMMIT"))
    }

    fn procedures_apart(&self) -> bool {
        true
    }

    fn indexes_per_table(&self) -> bool {
        true
    }

    fn constraints_apart_from_indexes(&self) -> bool {
        false
    }

    fn qualified_definitions(&self) -> bool {
        true
    }

    fn introspect_sql(&self) -> &'static str {
        catalog::INTROSPECT
    }

    fn scoped_read(&self) -> ScopedRead {
        ScopedRead::PerRelation(RelationSql {
            relations: catalog::RELATIONS,
            per_query: catalog::TABLES_PER_QUERY,
            tables: catalog::introspect_tables,
            global: catalog::introspect_global,
        })
    }

    fn scope_rules(&self) -> &'static [(Rule, &'static str)] {
        SCOPE_RULES
    }

    fn outline_sql(&self) -> &'static str {
        catalog::OUTLINE
    }

    fn database_defaults_sql(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(CONCAT('ALTER DATABASE CHARACTER SET ', default_character_set_name, \
             ' COLLATE ', default_collation_name) AS CHAR) AS `sql` \
             FROM information_schema.schemata WHERE schema_name = DATABASE()",
        )
    }

    fn parser(&self) -> &'static dyn sqlparser::dialect::Dialect {
        &sqlparser::dialect::MySqlDialect {}
    }

    fn lexicon(&self) -> Lexicon {
        Lexicon {
            hash_comments: true,
            dashes_need_space: true,
            backslash_escapes: true,
            at_words: true,
            compound_statements: true,
            ..Lexicon::default()
        }
    }

    fn says_exists(&self, lower: &str) -> bool {
        lower.contains("already exists")
            || (lower.starts_with("duplicate ") && !lower.starts_with("duplicate entry"))
            || lower.contains("errno: 121")
    }

    fn says_missing(&self, lower: &str) -> bool {
        lower.starts_with("unknown table")
            || lower.starts_with("unknown view")
            || lower.contains("doesn't exist")
            || lower.contains("does not exist")
            || lower.starts_with("can't drop")
    }

    /// A snapshot's load switches foreign key checks off.
    fn after_failed_load(&self) -> Option<&'static str> {
        Some("SET foreign_key_checks = COALESCE(@pelican_foreign_key_checks, @@foreign_key_checks)")
    }

    /// MariaDB's `max_statement_time` (seconds); MySQL has none, and its
    /// `max_execution_time` (milliseconds) bounds SELECTs only.
    fn timeout_sql(&self, _lock: Duration, statement: Duration) -> Vec<String> {
        vec![
            format!(
                "SET SESSION max_statement_time = {:.3}",
                statement.as_secs_f64()
            ),
            format!("SET SESSION max_execution_time = {}", statement.as_millis()),
        ]
    }

    /// MariaDB runs what its `/*M!` comment holds, lifting its max_statement_time for
    /// the wait; MySQL skips it, and its hint bounds this SELECT by the wait (and a
    /// margin) instead of by max_execution_time. lock_wait_timeout bounds metadata
    /// locks, never GET_LOCK.
    fn lock_strategy(&self) -> LockStrategy {
        LockStrategy::Session(SessionSql {
            try_acquire: "SELECT GET_LOCK(?, 0) AS answer",
            wait: "/*M!100301 SET STATEMENT max_statement_time = 0 FOR */ \
                   SELECT /*+ MAX_EXECUTION_TIME(TIMEOUT_MILLIS) */ \
                   GET_LOCK(?, TIMEOUT_SECONDS) AS answer",
            settings: &[],
            expired: None,
            release: "SELECT RELEASE_LOCK(?) AS answer",
            holder: "SELECT CAST(CONCAT('connection ', l.id, \
                       COALESCE(CONCAT(', user ', p.USER, ', host ', p.HOST), '')) AS CHAR) AS who \
                     FROM (SELECT IS_USED_LOCK(?) AS id) l \
                     LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id \
                     WHERE l.id IS NOT NULL",
            database: Some("SELECT DATABASE() AS name"),
            poll: false,
        })
    }

    fn namespace_query(&self) -> Option<&'static str> {
        Some("SELECT DATABASE() AS name")
    }

    fn system_databases(&self) -> &'static [&'static str] {
        &["mysql", "information_schema", "performance_schema", "sys"]
    }

    /// Without case: `information_schema` answers to any spelling, and so do the others
    /// where the server folds names (`lower_case_table_names`).
    fn is_system_database(&self, name: &str) -> bool {
        self.system_databases()
            .iter()
            .any(|system| system.eq_ignore_ascii_case(name))
    }

    fn current_database_query(&self) -> Option<&'static str> {
        Some("SELECT CAST(DATABASE() AS CHAR) AS name")
    }

    fn grants_on_database_query(&self) -> Option<&'static str> {
        // `ALL PRIVILEGES` on a table takes its columns' too, but not `GRANT OPTION`.
        // The grantee is written quoted already (`'app'@'%'`).
        Some(
            "SELECT DISTINCT CAST(CONCAT('REVOKE ', p.what, ' ON ', p.object, ' FROM ', p.grantee) AS CHAR) AS `sql` \
             FROM (SELECT grantee, 'ALL PRIVILEGES' AS what, \
                          CONCAT('`', REPLACE(table_schema, '`', '``'), '`.`', REPLACE(table_name, '`', '``'), '`') AS object \
                     FROM information_schema.table_privileges WHERE table_schema = ? \
                   UNION ALL \
                   SELECT grantee, 'ALL PRIVILEGES', \
                          CONCAT('`', REPLACE(table_schema, '`', '``'), '`.`', REPLACE(table_name, '`', '``'), '`') \
                     FROM information_schema.column_privileges WHERE table_schema = ? \
                   UNION ALL \
                   SELECT grantee, 'ALL PRIVILEGES', CONCAT('`', REPLACE(table_schema, '`', '``'), '`.*') \
                     FROM information_schema.schema_privileges WHERE table_schema = ?) p \
             UNION ALL \
             SELECT DISTINCT CONCAT('REVOKE GRANT OPTION ON `', REPLACE(table_schema, '`', '``'), '`.`', \
                    REPLACE(table_name, '`', '``'), '` FROM ', grantee) \
               FROM information_schema.table_privileges WHERE table_schema = ? AND is_grantable = 'YES'",
        )
    }

    fn routine_grants_on_database_query(&self) -> Option<&'static str> {
        // `Proc_priv` is a set of `Execute`, `Alter Routine` and `Grant` (GRANT OPTION).
        Some(
            "SELECT CAST(CONCAT('REVOKE ', CONCAT_WS(', ', \
                    IF(FIND_IN_SET('Execute', Proc_priv), 'EXECUTE', NULL), \
                    IF(FIND_IN_SET('Alter Routine', Proc_priv), 'ALTER ROUTINE', NULL), \
                    IF(FIND_IN_SET('Grant', Proc_priv), 'GRANT OPTION', NULL)), \
                  ' ON ', Routine_type, ' `', REPLACE(Db, '`', '``'), '`.`', REPLACE(Routine_name, '`', '``'), \
                  '` FROM ', QUOTE(User), '@', QUOTE(Host)) AS CHAR) AS `sql` \
             FROM mysql.procs_priv WHERE Db = ? AND Proc_priv <> ''",
        )
    }

    fn sequence_options_sql(&self, sequences: &[&str]) -> Option<String> {
        (!sequences.is_empty()).then(|| catalog::sequence_options_sql(sequences))
    }

    fn table_exists_query(&self) -> &'static str {
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = ? AND table_name = ?"
    }

    fn column_exists_query(&self) -> &'static str {
        "SELECT column_name AS name FROM information_schema.columns \
         WHERE table_schema = ? AND table_name = ? AND column_name = ?"
    }

    fn serial_key(&self) -> &'static str {
        "id BIGINT AUTO_INCREMENT PRIMARY KEY"
    }

    /// The primary key decides; MySQL names no columns for it.
    fn on_conflict(&self, _key: &str) -> String {
        "ON DUPLICATE KEY UPDATE".to_owned()
    }

    fn incoming(&self, column: &str) -> String {
        format!("VALUES({column})")
    }

    /// `IF NOT EXISTS` when `if_missing`: another process booting at the same time may
    /// have just created it.
    fn create_database_sql(&self, name: &str, if_missing: bool) -> String {
        let if_missing = if if_missing { "IF NOT EXISTS " } else { "" };
        format!("CREATE DATABASE {if_missing}{}", self.quote(name))
    }

    fn database_exists_query(&self, _templates: bool) -> &'static str {
        "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata \
         WHERE schema_name = ?"
    }

    fn pelican_databases_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata \
             WHERE schema_name LIKE 'pelican\\_%'",
        )
    }

    fn pelican_sessions_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(id AS SIGNED) AS id, CAST(COALESCE(db, '') AS CHAR) AS `database`, \
             CAST(COALESCE(info, '') AS CHAR) AS statement \
             FROM information_schema.processlist WHERE id <> CONNECTION_ID() \
             AND (db LIKE 'pelican\\_%' OR info LIKE '%pelican\\_%')",
        )
    }

    fn end_session_sql(&self, id: i64) -> Option<String> {
        Some(format!("KILL {id}"))
    }

    fn relations_query(&self) -> &'static str {
        "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
         WHERE table_schema = DATABASE() ORDER BY 1"
    }

    /// Triggers go with their tables; foreign keys are switched off for the drop and
    /// switched back to what they were.
    fn drop_everything(&self) -> DropSql {
        DropSql {
            list: "SELECT kind, target, name FROM ( \
                     SELECT CASE table_type WHEN 'VIEW' THEN 0 ELSE 1 END AS step, \
                       CAST(CASE table_type WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE' \
                         ELSE 'TABLE' END AS CHAR) AS kind, \
                       CAST(CONCAT('`', REPLACE(table_name, '`', '``'), '`') AS CHAR) AS target, \
                       CAST(table_name AS CHAR) AS name \
                     FROM information_schema.tables WHERE table_schema = DATABASE() \
                     UNION ALL \
                     SELECT 2, CAST(routine_type AS CHAR), \
                       CAST(CONCAT('`', REPLACE(routine_name, '`', '``'), '`') AS CHAR), \
                       CAST(routine_name AS CHAR) \
                     FROM information_schema.routines WHERE routine_schema = DATABASE() \
                     UNION ALL \
                     SELECT 3, CAST('EVENT' AS CHAR), \
                       CAST(CONCAT('`', REPLACE(event_name, '`', '``'), '`') AS CHAR), \
                       CAST(event_name AS CHAR) \
                     FROM information_schema.events WHERE event_schema = DATABASE() \
                   ) objects ORDER BY step, target",
            before: "SET @pelican_foreign_key_checks = @@foreign_key_checks; \
                     SET foreign_key_checks = 0",
            after: "SET foreign_key_checks = @pelican_foreign_key_checks",
            cascade: "",
            children_first: None,
        }
    }

    /// Views of other databases that name a table of this one (MySQL and MariaDB store
    /// a view's definition with every name qualified: `` `db`.`t` ``), and foreign keys
    /// of other databases' tables that reference one.
    fn dependents_query(&self) -> Option<&'static str> {
        Some(
            "SELECT CAST(name AS CHAR) AS name FROM ( \
               SELECT CONCAT('VIEW `', REPLACE(v.table_schema, '`', '``'), '`.`', \
                             REPLACE(v.table_name, '`', '``'), '` (needs ', \
                             CASE t.table_type WHEN 'VIEW' THEN 'VIEW' ELSE 'TABLE' END, ' `', \
                             REPLACE(t.table_name, '`', '``'), '`)') AS name \
               FROM information_schema.views v JOIN information_schema.tables t \
                 ON t.table_schema = DATABASE() \
                AND LOCATE(CONCAT('`', REPLACE(DATABASE(), '`', '``'), '`.`', \
                               REPLACE(t.table_name, '`', '``'), '`'), v.view_definition) > 0 \
               WHERE v.table_schema <> DATABASE() \
               UNION \
               SELECT CONCAT('FOREIGN KEY `', REPLACE(r.constraint_name, '`', '``'), '` ON `', \
                             REPLACE(r.constraint_schema, '`', '``'), '`.`', \
                             REPLACE(r.table_name, '`', '``'), '` (needs TABLE `', \
                             REPLACE(r.referenced_table_name, '`', '``'), '`)') \
               FROM information_schema.referential_constraints r \
               WHERE r.unique_constraint_schema = DATABASE() AND r.constraint_schema <> DATABASE() \
             ) d ORDER BY 1",
        )
    }

    fn dependents_fate(&self) -> &'static str {
        "MySQL drops nothing by CASCADE: they would be left broken"
    }

    fn test_server(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "PELICAN_TEST_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/mysql",
        ))
    }

    fn establish(&self, url: &str) -> Result<AnyConnection> {
        #[cfg(feature = "mysql")]
        {
            use diesel::Connection;
            // diesel 2.4's MariadbConnection's scheme, to the same server.
            let mysql = match url.strip_prefix("mariadb://") {
                Some(rest) => std::borrow::Cow::Owned(format!("mysql://{rest}")),
                None => std::borrow::Cow::Borrowed(url),
            };
            diesel::MysqlConnection::establish(&mysql)
                .map(AnyConnection::Mysql)
                .map_err(crate::connection::connect_error(url))
        }
        #[cfg(not(feature = "mysql"))]
        Err(crate::connection::not_enabled(self.name(), url))
    }
}
