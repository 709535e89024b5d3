//! A fresh build that cannot be one transaction (MySQL/MariaDB, whose DDL commits
//! itself; a migration with `run_in_transaction = false` anywhere) is recorded before
//! its first statement, so that one that failed, or whose process died, is cleaned up:
//! the objects the build itself made are dropped, and only those.
//!
//! **Undo only what you provably made.** The record names the objects the build's own
//! statements make: every statement pelican will send (each `up.sql` after the
//! snapshot, the snapshot's, the ledger's tables) is read for the object it creates
//! (`CREATE TABLE t`, `CREATE PROCEDURE p`, `ALTER TABLE t RENAME TO u`…), and that
//! object's kind and name are written, durably, before the first statement runs. The
//! undo drops an object only when a statement of the build names it and it was not in
//! the database when the build began (the record keeps that list too, to leave alone
//! what a statement such as `CREATE … IF NOT EXISTS` found there). Nothing is inferred
//! from what was not there before: a DBA's table, rows or procedure made while the
//! build ran, or after its process died, is no statement of the build's, and stays.
//!
//! Each object is recorded with the migration whose statement makes it. A build run
//! migration by migration records each in diesel's table as it commits, so the undo
//! knows how far it got: it takes the objects of the migrations applied, and of the one
//! under way only where its work outlives a rollback (MySQL's DDL, a migration outside
//! a transaction); those of the migrations after it had not begun, and an object of
//! that name is someone else's. A build in one batch is recorded at its end: any of its
//! objects may have been made.
//!
//! What no statement names is never dropped: an object made by dynamic SQL (a `DO`
//! block, a procedure the migration calls) or by the initial-setup hook stays after a
//! failed build, and the next build then says it exists.
//!
//! The record is the rows of `__pelican_build`, one line each; the table is dropped
//! once the build is stamped. Killed between the two, a build in one batch is known to
//! be done (diesel's table has its newest version, which the stamp, its last step,
//! writes), and only the record is dropped; a build run migration by migration, whose
//! seed hook runs after its last migration, is undone whole and made again by the next
//! boot: wasteful, never wrong.

use std::collections::BTreeSet;

use diesel::sql_types::{Nullable, Text};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::admin::{self, Listed};
use crate::catalog::Kind;
use crate::dialect::DdlTransactions;
use crate::guard::classify::{classify, AlterOp, Effect};
use crate::ledger::literal;
use crate::split::split;
use crate::{Backend, Database, Error, Migration, Result};

/// pelican's record of a fresh build under way.
pub(crate) const BUILD_TABLE: &str = "__pelican_build";

/// A line of the record naming what the database held when the build began.
const BEFORE: &str = "= ";
/// A line of the record naming an object a statement of the build makes.
const MADE: &str = "+ ";

/// A line of the record naming a migration that runs outside a transaction.
const OUTSIDE: &str = "~ ";
/// A line of the record giving a migration's place in the build (`# 00000003 VERSION`).
const ORDER: &str = "# ";
/// The line of the record saying the build runs migration by migration, each recorded
/// in diesel's table as it commits.
const STEPS: &str = "@ steps";
/// A line of the record naming the version whose stamp ends a build in one batch: once
/// diesel's table has it, the build is done.
const HEAD: &str = "^ ";
/// What stands for a version in a [`MADE`] line of the snapshot's or the ledger's.
const ANY: &str = "*";

/// What a build is recorded as: the objects its statements make, and what the database
/// held when it began.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Record {
    /// `KIND target`, as [`admin::objects_to_drop`] lists them.
    before: BTreeSet<String>,
    /// What the build's statements make.
    made: Made,
}

/// The objects a build's own statements make, read from its SQL before it runs, each
/// with the migration whose statement makes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Made {
    /// `VERSION CLASS key` (see [`class`]); [`ANY`] for the snapshot's and the ledger's.
    objects: BTreeSet<String>,
    /// The migrations, in the order they run.
    versions: Vec<String>,
    /// Those of them that run outside a transaction.
    outside: BTreeSet<String>,
    /// Whether the build runs migration by migration, each recorded as applied in
    /// diesel's table as it commits (else it is one batch, stamped at its end).
    steps: bool,
    /// For a build in one batch: the version its stamp, its last step, records.
    head: Option<String>,
}

impl Made {
    /// The objects the statements of `snapshot` and of these migrations' `up.sql` make
    /// (each split into statements as the server reads it), with the ledger's tables,
    /// which pelican's own statements make. `steps`: the build runs migration by
    /// migration.
    pub(crate) fn of<'m>(
        backend: Backend,
        snapshot: Option<&str>,
        migrations: impl IntoIterator<Item = &'m Migration>,
        steps: bool,
    ) -> Made {
        let dialect = backend.dialect();
        let mut objects: BTreeSet<String> = crate::ledger::TABLES
            .into_iter()
            .map(|table| format!("{ANY} RELATION {}", dialect.key(Kind::Table, table)))
            .collect();
        let mut read = |version: &str, text: &str| {
            for statement in split(text, backend) {
                if !statement.sql.is_empty() {
                    let made = creates(statement.sql, backend);
                    objects.extend(made.into_iter().map(|o| format!("{version} {o}")));
                }
            }
        };
        if let Some(snapshot) = snapshot {
            read(ANY, snapshot);
        }
        let mut versions = Vec::new();
        let mut outside = BTreeSet::new();
        for migration in migrations {
            read(migration.version(), migration.up());
            versions.push(migration.version().to_owned());
            if !migration.run_in_transaction() {
                outside.insert(migration.version().to_owned());
            }
        }
        Made {
            objects,
            versions,
            outside,
            steps,
            head: None,
        }
    }

    /// For a build in one batch, whose last step stamps every version: the newest one,
    /// by which a record left behind after the stamp is known to be of a build done.
    pub(crate) fn stamped_last(self, head: Option<&str>) -> Made {
        Made {
            head: head.map(str::to_owned),
            ..self
        }
    }

    /// The record's lines.
    fn lines(&self) -> impl Iterator<Item = String> + '_ {
        let steps = self.steps.then(|| STEPS.to_owned());
        let head = self.head.iter().map(|v| format!("{HEAD}{v}"));
        let order = (self.versions.iter().enumerate()).map(|(i, v)| format!("{ORDER}{i:08} {v}"));
        let outside = self.outside.iter().map(|v| format!("{OUTSIDE}{v}"));
        let made = self.objects.iter().map(|o| format!("{MADE}{o}"));
        steps
            .into_iter()
            .chain(head)
            .chain(order)
            .chain(outside)
            .chain(made)
    }

    /// The objects the build may have made by the time it stopped, `applied` being the
    /// versions diesel's table records. Run migration by migration: those of the
    /// migrations applied, and of the one under way where its work outlives a
    /// rollback (DDL that commits itself, a migration outside a transaction); never
    /// those of the migrations after it, which had not begun. One batch: any of them,
    /// since how far it got is not known.
    fn reached(&self, applied: &BTreeSet<String>, transactional_ddl: bool) -> BTreeSet<String> {
        let under_way = self.versions.iter().find(|v| !applied.contains(*v));
        let begun = |version: &str| {
            version == ANY
                || !self.steps
                || applied.contains(version)
                || (under_way.is_some_and(|v| v == version)
                    && (!transactional_ddl || self.outside.contains(version)))
        };
        self.objects
            .iter()
            .filter_map(|line| {
                let (version, identity) = line.split_once(' ')?;
                begun(version).then(|| identity.to_owned())
            })
            .collect()
    }
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    objects: Option<String>,
}

/// Records, durably, that a build begins: what its statements make, and what the
/// database holds now.
pub(crate) fn begin<C: Database>(conn: &mut C, made: &Made) -> Result<Record> {
    let before: BTreeSet<String> = admin::objects_to_drop(conn)?.into_iter().collect();
    let table = conn.backend().quote(BUILD_TABLE);
    let dialect = conn.backend().dialect();
    let started = literal(&chrono::Utc::now().to_rfc3339());
    let runner = literal(&crate::ledger::runner());
    // One line a row: a long history makes more lines than one MySQL TEXT holds.
    let rows: Vec<String> = before
        .iter()
        .map(|object| format!("{BEFORE}{object}"))
        .chain(made.lines())
        .map(|line| format!("({started}, {runner}, {})", dialect.text_literal(&line)))
        .collect();
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {table} (started_at VARCHAR(64) NOT NULL, \
         runner VARCHAR(255) NOT NULL, objects TEXT NULL);\n\
         DELETE FROM {table};\n"
    );
    if !rows.is_empty() {
        sql.push_str(&format!(
            "INSERT INTO {table} (started_at, runner, objects) VALUES {}",
            rows.join(", ")
        ));
    }
    conn.batch_execute(&sql)
        .map_err(Error::query("cannot record that a fresh build begins"))?;
    if matches!(
        dialect.ddl_transactions(),
        DdlTransactions::CommitThemselves(_)
    ) && !conn.in_transaction()?
    {
        // Where DDL commits itself, a run may have turned autocommit off; the record
        // must be there before anything is built.
        conn.batch_execute("COMMIT")
            .map_err(Error::query("cannot record that a fresh build begins"))?;
    }
    Ok(Record {
        before,
        made: made.clone(),
    })
}

/// Drops the record's table once the build is stamped.
pub(crate) fn forget<C: Database>(conn: &mut C) -> Result<()> {
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS {}",
        conn.backend().quote(BUILD_TABLE)
    ))
    .map_err(Error::query("cannot drop the fresh build's record"))
}

/// Undoes a failed build: drops every object a statement of the build makes that is in
/// the database and was not there before it, then the record. Returns what it dropped,
/// as `KIND name`.
pub(crate) fn undo<C: Database>(conn: &mut C, record: &Record) -> Result<Vec<String>> {
    let dialect = conn.backend().dialect();
    let applied: BTreeSet<String> = match record.made.steps {
        true => crate::ledger::Ledger::open(conn)?
            .applied(conn)?
            .into_iter()
            .map(|a| a.version)
            .collect(),
        false => BTreeSet::new(),
    };
    let made = record.made.reached(
        &applied,
        dialect.ddl_transactions() == DdlTransactions::RollBack,
    );
    let dropped = admin::drop_picked(conn, "undoing the unfinished fresh build", |object| {
        object.name != BUILD_TABLE
            && !record.before.contains(&object.shown())
            && made.contains(&listed_identity(dialect, object))
    })?;
    forget(conn)?;
    Ok(dropped)
}

/// A build an earlier process left unfinished (it failed and could not clean up, or it
/// was killed): cleaned up now, and what was dropped returned; `None` when its record
/// says the build was stamped. Called once the database is seen to hold [`BUILD_TABLE`],
/// so that a boot reads the database's tables once, as it did before.
pub(crate) fn recover<C: Database>(conn: &mut C) -> Result<Option<Vec<String>>> {
    let rows: Vec<Row> = conn
        .load_with(
            &format!("SELECT objects FROM {}", conn.backend().quote(BUILD_TABLE)),
            &[],
        )
        .map_err(Error::query(
            "cannot read the record of an unfinished fresh build",
        ))?;
    if rows.is_empty() {
        // Killed between the record's table and its rows (MySQL commits each):
        // nothing of the build's is known to be there.
        forget(conn)?;
        return Ok(None);
    }
    let mut record = Record::default();
    let mut order = Vec::new();
    for line in rows.iter().filter_map(|row| row.objects.as_deref()) {
        for line in line.lines() {
            if let Some(object) = line.strip_prefix(BEFORE) {
                record.before.insert(object.to_owned());
            } else if let Some(object) = line.strip_prefix(MADE) {
                record.made.objects.insert(object.to_owned());
            } else if let Some(version) = line.strip_prefix(OUTSIDE) {
                record.made.outside.insert(version.to_owned());
            } else if line == STEPS {
                record.made.steps = true;
            } else if let Some(version) = line.strip_prefix(HEAD) {
                record.made.head = Some(version.to_owned());
            } else if let Some(position) = line.strip_prefix(ORDER) {
                order.push(position.to_owned());
            } else {
                // An older pelican recorded only what the database held before the
                // build; what the build made cannot be told from that.
                return Err(Error::UnreadableBuildRecord { table: BUILD_TABLE });
            }
        }
    }
    if let Some(head) = &record.made.head {
        let ledger = crate::ledger::Ledger::open(conn)?;
        if ledger.applied(conn)?.iter().any(|a| &a.version == head) {
            // Stamped: the build was done, and killed before it dropped its record.
            forget(conn)?;
            return Ok(None);
        }
    }
    // Rows come back in no particular order: each position was written with its
    // version, zero-padded.
    order.sort();
    record.made.versions = order
        .iter()
        .filter_map(|line| line.split_once(' ').map(|(_, v)| v.to_owned()))
        .collect();
    undo(conn, &record).map(Some)
}

/// An object as listed, as [`creates`] names it: `CLASS key`.
fn listed_identity(dialect: &dyn crate::dialect::Dialect, object: &Listed) -> String {
    let class = class(&object.kind);
    let kind = if class == "RELATION" {
        Kind::Table
    } else {
        Kind::Routine
    };
    format!("{class} {}", dialect.key(kind, &object.name))
}

/// The namespace an object kind's names live in, as the record compares them: tables,
/// views and sequences share one (`RELATION`), types and domains another (`TYPE`),
/// functions and aggregates (`FUNCTION`); procedures, extensions and events are their
/// own.
fn class(kind: &str) -> &'static str {
    match kind {
        "TABLE" | "VIEW" | "MATERIALIZED VIEW" | "FOREIGN TABLE" | "SEQUENCE" => "RELATION",
        "TYPE" | "DOMAIN" => "TYPE",
        "FUNCTION" | "AGGREGATE" => "FUNCTION",
        "PROCEDURE" => "PROCEDURE",
        "EXTENSION" => "EXTENSION",
        "EVENT" => "EVENT",
        _ => "OTHER",
    }
}

/// The objects one statement makes, as `CLASS key`: what `CREATE` names (indexes and
/// triggers go with their tables, and are not listed apart), and the new name of a
/// rename. Read from the statement's tokens; a statement that makes nothing pelican
/// can name gives nothing.
fn creates(sql: &str, backend: Backend) -> Vec<String> {
    let dialect = backend.dialect();
    let Ok(tokens) = Tokenizer::new(dialect.parser(), sql).tokenize() else {
        return Vec::new();
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let name_at = |mut i: usize| -> Option<(usize, String, bool)> {
        if word(i).as_deref() == Some("IF") {
            i += 3;
        }
        // `a.b.c`: the last part is the name.
        let mut found = None;
        while let Some(Token::Word(w)) = tokens.get(i) {
            found = Some((i, w.value.clone(), w.quote_style.is_some()));
            if !matches!(tokens.get(i + 1), Some(Token::Period)) {
                break;
            }
            i += 2;
        }
        found
    };
    let identity = |class: &str, name: &str, quoted: bool| {
        let kind = if class == "RELATION" {
            Kind::Table
        } else {
            Kind::Routine
        };
        format!("{class} {}", dialect.ident(kind, name, quoted))
    };
    let first = word(0);
    if first.as_deref() == Some("CREATE") {
        let mut i = 1;
        while i < tokens.len() && i < 64 {
            let Some(w) = word(i) else {
                // A DEFINER's user, `=`, a quoted host: part of the preamble.
                i += 1;
                continue;
            };
            let kind = match w.as_str() {
                "TABLE" | "VIEW" | "SEQUENCE" => "RELATION",
                "TYPE" | "DOMAIN" => "TYPE",
                "FUNCTION" => "FUNCTION",
                // MariaDB's `CREATE AGGREGATE FUNCTION`, or PostgreSQL's aggregate.
                "AGGREGATE" if word(i + 1).as_deref() == Some("FUNCTION") => {
                    i += 1;
                    continue;
                }
                "AGGREGATE" => "FUNCTION",
                "PROCEDURE" => "PROCEDURE",
                "EXTENSION" => "EXTENSION",
                "EVENT" => "EVENT",
                "OR" | "REPLACE" | "ALTER" | "UNIQUE" | "TEMPORARY" | "TEMP" | "UNLOGGED"
                | "RECURSIVE" | "MATERIALIZED" | "FOREIGN" | "DEFINER" | "ALGORITHM"
                | "UNDEFINED" | "MERGE" | "TEMPTABLE" | "SQL" | "SECURITY" | "INVOKER"
                | "CURRENT_USER" | "GLOBAL" | "LOCAL" => {
                    i += 1;
                    continue;
                }
                // An index, a trigger, a schema, a rule…, or a DEFINER's unquoted user:
                // a user is followed by more preamble, anything else makes no object
                // pelican lists apart.
                _ if matches!(
                    tokens.get(i.wrapping_sub(1)),
                    Some(Token::Eq | Token::AtSign)
                ) =>
                {
                    i += 1;
                    continue;
                }
                _ => return Vec::new(),
            };
            return name_at(i + 1)
                .map(|(_, name, quoted)| vec![identity(kind, &name, quoted)])
                .unwrap_or_default();
        }
        return Vec::new();
    }
    if first.as_deref() == Some("ALTER") {
        // `ALTER TABLE|VIEW|SEQUENCE|TYPE|FUNCTION… x … RENAME TO|AS y`.
        let kind = match word(1).as_deref() {
            Some("TABLE" | "VIEW" | "SEQUENCE") => "RELATION",
            Some("MATERIALIZED" | "FOREIGN") if word(2).is_some() => "RELATION",
            Some("TYPE" | "DOMAIN") => "TYPE",
            Some("FUNCTION" | "AGGREGATE") => "FUNCTION",
            Some("PROCEDURE") => "PROCEDURE",
            Some("EVENT") => "EVENT",
            _ => return Vec::new(),
        };
        let renames = (0..tokens.len()).filter(|&i| {
            word(i).as_deref() == Some("RENAME")
                && matches!(word(i + 1).as_deref(), Some("TO" | "AS"))
        });
        return renames
            .filter_map(|i| name_at(i + 2))
            .map(|(_, name, quoted)| identity(kind, &name, quoted))
            .collect();
    }
    match classify(sql, backend) {
        Effect::RenameTables(pairs) => pairs
            .into_iter()
            .map(|(_, to)| format!("RELATION {}", to.key))
            .collect(),
        Effect::AlterTable { ops, .. } => ops
            .into_iter()
            .filter_map(|op| match op {
                AlterOp::RenameTable(to) => Some(format!("RELATION {}", to.key)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::DIESEL_TABLE;

    fn made(sql: &str, backend: Backend) -> Vec<String> {
        creates(sql, backend)
    }

    #[test]
    fn a_statement_names_what_it_creates() {
        let pg = Backend::Postgres;
        assert_eq!(made("CREATE TABLE Users (id INT)", pg), ["RELATION users"]);
        assert_eq!(
            made("create table if not exists \"Odd\" (id int)", pg),
            ["RELATION Odd"]
        );
        assert_eq!(
            made("CREATE OR REPLACE VIEW public.v AS SELECT 1", pg),
            ["RELATION v"]
        );
        assert_eq!(
            made("CREATE MATERIALIZED VIEW m AS SELECT 1", pg),
            ["RELATION m"]
        );
        assert_eq!(made("CREATE UNLOGGED TABLE u (id INT)", pg), ["RELATION u"]);
        assert_eq!(
            made(
                "CREATE OR REPLACE FUNCTION f() RETURNS INT AS $$ SELECT 1 $$ LANGUAGE sql",
                pg
            ),
            ["FUNCTION f"]
        );
        assert_eq!(made("CREATE TYPE mood AS ENUM ('a')", pg), ["TYPE mood"]);
        assert_eq!(made("CREATE DOMAIN d AS INT", pg), ["TYPE d"]);
        assert_eq!(
            made("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"", pg),
            ["EXTENSION uuid-ossp"]
        );
        assert_eq!(made("CREATE SEQUENCE s", pg), ["RELATION s"]);
        assert!(made("CREATE INDEX i ON t (a)", pg).is_empty());
        assert!(made("CREATE UNIQUE INDEX i ON t (a)", pg).is_empty());
        assert!(made(
            "CREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
            pg
        )
        .is_empty());
        assert!(made("INSERT INTO t VALUES (1)", pg).is_empty());
        assert_eq!(made("ALTER TABLE a RENAME TO b", pg), ["RELATION b"]);
        assert!(made("ALTER TABLE a RENAME COLUMN x TO y", pg).is_empty());
        assert_eq!(made("ALTER VIEW v RENAME TO w", pg), ["RELATION w"]);

        let my = Backend::Mysql;
        assert_eq!(
            made("CREATE TABLE `Users` (id INT)", my),
            ["RELATION Users"]
        );
        assert_eq!(
            made(
                "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END",
                my
            ),
            ["PROCEDURE p"]
        );
        assert_eq!(
            made(
                "CREATE DEFINER = root@localhost FUNCTION f() RETURNS INT RETURN 1",
                my
            ),
            ["FUNCTION f"]
        );
        assert_eq!(
            made(
                "CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW v AS SELECT 1",
                my
            ),
            ["RELATION v"]
        );
        assert_eq!(
            made("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", my),
            ["EVENT e"]
        );
        assert_eq!(
            made(
                "CREATE AGGREGATE FUNCTION g(x INT) RETURNS INT BEGIN RETURN 1; END",
                my
            ),
            ["FUNCTION g"]
        );
        assert_eq!(
            made("RENAME TABLE a TO b, c TO d", my),
            ["RELATION b", "RELATION d"]
        );
        assert_eq!(made("ALTER TABLE a RENAME AS b", my), ["RELATION b"]);

        let lite = Backend::Sqlite;
        assert_eq!(
            made("CREATE TABLE Users (id INT)", lite),
            ["RELATION users"]
        );
        assert_eq!(made("CREATE TEMP TABLE t (id INT)", lite), ["RELATION t"]);
    }

    #[test]
    fn a_build_reached_what_ran_and_never_what_had_not_begun() {
        let dir = tempfile::tempdir().unwrap();
        for (version, table, outside) in [
            ("1", "a", false),
            ("2", "b", false),
            ("3", "c", true),
            ("4", "d", false),
        ] {
            let folder = dir
                .path()
                .join(format!("2024-01-01-00000{version}_{table}"));
            std::fs::create_dir(&folder).unwrap();
            std::fs::write(
                folder.join("up.sql"),
                format!("CREATE TABLE {table} (id INT);"),
            )
            .unwrap();
            if outside {
                std::fs::write(folder.join("metadata.toml"), "run_in_transaction = false\n")
                    .unwrap();
            }
        }
        let migrations = crate::Migrations::from_dir(dir.path()).unwrap();
        let version = |n: usize| migrations.iter().nth(n).unwrap().version().to_owned();
        let reached = |steps: bool, applied: &[String], transactional: bool| {
            let snapshot = Some("CREATE TABLE s (id INT);");
            let made = Made::of(Backend::Postgres, snapshot, migrations.iter(), steps);
            let applied = applied.iter().cloned().collect();
            let reached = made.reached(&applied, transactional);
            ["a", "b", "c", "d", "s", DIESEL_TABLE]
                .into_iter()
                .filter(|t| reached.contains(&format!("RELATION {t}")))
                .collect::<Vec<_>>()
        };
        // One batch: any of them may have run.
        assert_eq!(
            reached(false, &[], true),
            ["a", "b", "c", "d", "s", DIESEL_TABLE]
        );
        // Migration by migration: what was applied, and the one under way where its
        // work stays without its commit; never what comes after.
        assert_eq!(reached(true, &[version(0)], true), ["a", "s", DIESEL_TABLE]);
        assert_eq!(
            reached(true, &[version(0)], false),
            ["a", "b", "s", DIESEL_TABLE]
        );
        assert_eq!(
            reached(true, &[version(0), version(1)], true),
            ["a", "b", "c", "s", DIESEL_TABLE]
        );
    }
}
