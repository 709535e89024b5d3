//! A migration that fails, above all on MySQL/MariaDB, where each DDL statement commits
//! itself: what the server can undo is undone (pelican's own bookkeeping commits none of
//! a failed migration's data statements), progress records exactly what committed, a
//! statement the server refused did not run (fixed, it runs, and what committed is not
//! run again), and only a statement whose outcome is unknown is refused, naming it.
//! Where a scenario applies on SQLite and PostgreSQL it runs there too, held to
//! diesel's harness: with `--no-atomic`, which commits each migration as diesel does
//! (an atomic run's failure rolls the whole run back: `tests/atomic.rs`).

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{write_migrations, TestDb};
use compare::{assert_same, diesel, diesel_ok, state, Diesel};
use diesel::connection::SimpleConnection;
use pelican::connection::Bind;
use pelican::Backend;

const ACCOUNTS: &str = "2024-01-01-000000_accounts";
const CENTS: &str = "2024-01-02-000000_cents";

/// The balances of `accounts`, by id.
fn balances(db: &TestDb) -> Vec<String> {
    db.query_strings("SELECT CAST(balance AS CHAR(20)) AS value FROM accounts ORDER BY id")
}

/// The journal's messages for a version and outcome, oldest first.
fn journal(db: &TestDb, version: &str, outcome: &str) -> Vec<String> {
    db.query_strings(&format!(
        "SELECT message AS value FROM __pelican_journal \
         WHERE version = '{version}' AND outcome = '{outcome}' ORDER BY id"
    ))
}

/// Rewrites a migration's `up.sql`.
fn rewrite(dir: &Path, migration: &str, up: &str) {
    std::fs::write(dir.join(migration).join("up.sql"), up).unwrap();
}

/// Applies `dir` with diesel's harness on a new database of `db`'s backend: its error,
/// if it failed, and the state it left.
fn diesel_on(db: &TestDb, dir: &Path) -> (Option<String>, compare::State) {
    let reference = TestDb::new(db.backend, "diesel_ref");
    let error = diesel(&reference, dir, Diesel::RunPending).err();
    (error, state(&reference))
}

backend_tests! {
    fn an_update_before_a_failing_statement_is_undone_and_runs_once_after_the_fix(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            (ACCOUNTS, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\nINSERT INTO accounts (id, balance) VALUES (1, 5);\n", ""),
            (CENTS, "UPDATE accounts SET balance = balance * 100;\nINSERT INTO missing_table VALUES (1);\n", ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("2024-01-02-000000_cents/up.sql, line 2: `INSERT INTO missing_table VALUES (1)`"), "{}", out.stderr);
        // diesel rolls the UPDATE back with its transaction; so does pelican, before it
        // writes its journal (on MySQL that write used to commit the UPDATE).
        assert_eq!(balances(&db), ["5"]);
        let (error, failed) = diesel_on(&db, &dir);
        assert!(error.is_some(), "diesel's harness ran the failing history");
        assert_same(&failed, &state(&db), "after the failure");
        assert_eq!(journal(&db, "20240102000000", "failed").len(), 1);

        // Fixed, it runs again: the balance is multiplied once, as diesel's is.
        rewrite(&dir, CENTS, "UPDATE accounts SET balance = balance * 100;\nINSERT INTO accounts (id, balance) VALUES (2, 7);\n");
        db.pelican(&dir, &["migrate", "--no-atomic"]).success();
        assert_eq!(balances(&db), ["500", "7"]);
        let reference = TestDb::new(db.backend, "diesel_ref");
        diesel_ok(&reference, &dir, Diesel::RunPending);
        assert_same(&state(&reference), &state(&db), "after the fix");
    }

    fn a_refused_statement_fixed_resumes_after_what_committed(db: TestDb) {
        // On MySQL the CREATE commits itself, and the RENAME's implicit commit (made
        // before it fails) commits the INSERT and the UPDATE, as under diesel.
        let up = |column: &str| format!(
            "CREATE TABLE a (id INTEGER);\nINSERT INTO a (id) VALUES (1);\n\
             UPDATE a SET id = id * 100;\nALTER TABLE a RENAME COLUMN {column} TO ident;\n\
             INSERT INTO a (ident) VALUES (2);\n"
        );
        let dir = write_migrations(db.dir(), &[
            (ACCOUNTS, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);", ""),
            (CENTS, &up("idd"), ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("up.sql, line 4: `ALTER TABLE a RENAME COLUMN idd TO ident`"), "{}", out.stderr);
        let (error, failed) = diesel_on(&db, &dir);
        assert!(error.is_some(), "diesel's harness ran the failing history");
        assert_same(&failed, &state(&db), "after the failure");

        // The server refused the rename: it did not run. Fixed, the run resumes.
        rewrite(&dir, CENTS, &up("id"));
        let out = db.pelican(&dir, &["--format", "json", "migrate", "--no-atomic"]).success().json();
        let step = &out["steps"][0];
        let reasons: Vec<&str> = step["statements"].as_array().unwrap().iter()
            .map(|s| s["reason"].as_str().unwrap()).collect();
        if db.backend == Backend::Mysql {
            assert_eq!(reasons[..3], ["done in an earlier run (recorded)"; 3], "{step}");
        } else {
            // SQLite and PostgreSQL rolled the whole migration back: it all runs.
            assert_eq!(step["statements_run"], 5, "{step}");
        }
        let reference = TestDb::new(db.backend, "diesel_ref");
        diesel_ok(&reference, &dir, Diesel::RunPending);
        assert_same(&state(&reference), &state(&db), "after the fix");
        if db.backend == Backend::Mysql {
            assert_eq!(
                db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM __pelican_progress"),
                ["0"]
            );
        }
    }

    fn journal_text_is_stored_as_it_is_whatever_mode_a_migration_left(db: TestDb) {
        // A mode under which backslashes no longer escape in string literals.
        let mode = match db.backend {
            Backend::Mysql => "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES');",
            Backend::Postgres => "SET standard_conforming_strings = off;",
            Backend::Sqlite => "SELECT 1;",
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_mode", &format!("CREATE TABLE t (id INTEGER);\n{mode}\n"), ""),
            ("2024-01-02-000000_path", "INSERT INTO nowhere (path) VALUES ('C:\\temp\\new');\n", ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        let messages = journal(&db, "20240102000000", "failed");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("`INSERT INTO nowhere (path) VALUES ('C:\\temp\\new')`"),
            "the journal changed the statement's backslashes: {}",
            messages[0]
        );
    }

    fn a_failing_ledger_write_is_reported_as_the_ledgers(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", ""),
        ]);
        db.pelican(&dir, &["migrate", "--no-atomic"]).success();
        // The journal can no longer take pelican's rows.
        db.execute("ALTER TABLE __pelican_journal DROP COLUMN runner");
        let dir = write_migrations(db.dir(), &[
            ("2024-01-02-000000_b", "INSERT INTO a (id) VALUES (1);\nCREATE TABLE b (id INTEGER);\n", ""),
        ]);
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(
                "error: cannot record migration 2024-01-02-000000_b in the ledger \
                 (__diesel_schema_migrations, __pelican_checksums, __pelican_journal): "
            ),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("runner"), "the server's message is kept: {}", out.stderr);
        assert!(!out.stderr.contains("line 2: `CREATE TABLE b"), "the statement was blamed: {}", out.stderr);
        assert_eq!(db.applied(), ["20240101000000"]);

        // Repaired, the next run converges (on MySQL the table the failed run made
        // stays, and its guard skips it).
        db.execute("ALTER TABLE __pelican_journal ADD COLUMN runner VARCHAR(255) NOT NULL DEFAULT ''");
        db.pelican(&dir, &["migrate", "--no-atomic"]).success();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        assert_eq!(db.query_strings("SELECT CAST(COUNT(*) AS CHAR(20)) AS value FROM a"), ["1"]);
    }
}

/// The server sessions, other than the asking one, running a statement that holds
/// `text`.
fn sessions_running(db: &TestDb, text: &str) -> Vec<i64> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let pattern = format!("%{text}%");
    let rows: Vec<Id> = db
        .connect()
        .load_with(
            "SELECT CAST(id AS SIGNED) AS id FROM information_schema.processlist \
             WHERE id <> CONNECTION_ID() AND db = DATABASE() AND info LIKE ?",
            &[Bind::Text(&pattern)],
        )
        .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

/// A child process killed when dropped, so that a failed assertion leaves none behind.
struct Killed(Option<std::process::Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(feature = "mysql")]
#[test]
fn a_statement_cut_off_mid_run_is_refused_naming_it_until_decided() {
    let db = TestDb::new(Backend::Mysql, "cut_mid_statement");
    let dir = write_migrations(
        db.dir(),
        &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INT);", ""),
            (
                "2024-01-02-000000_rename",
                "INSERT INTO a VALUES (1);\nRENAME TABLE a TO b;\nCREATE TABLE c (id INT);\n",
                "",
            ),
        ],
    );
    // A reader holds `a`: the rename waits for it, and is cut off while it waits.
    let out = cut_off_at(&db, &dir, "a", "RENAME TABLE a TO b");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("up.sql, line 2: `RENAME TABLE a TO b`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "(the connection to the database was lost while it ran, so whether it ran is \
             not known; the migration was not recorded: the next run names this statement \
             and asks for a directive that decides it)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(db.applied(), ["20240101000000"]);

    // Its outcome is not known: the next run refuses it, naming it and the directive.
    let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "2024-01-02-000000_rename was left half-applied by an earlier run (1 statement(s) \
             recorded done); "
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "up.sql, line 2: `RENAME TABLE a TO b` may or may not have run, and existence \
             cannot decide it: look, then put `-- pelican: skip-if table b`"
        ),
        "{}",
        out.stderr
    );
    // Decided, the run resumes: the INSERT, committed, does not run again.
    rewrite(
        &dir,
        "2024-01-02-000000_rename",
        "INSERT INTO a VALUES (1);\n-- pelican: skip-if table b\nRENAME TABLE a TO b;\nCREATE TABLE c (id INT);\n",
    );
    db.pelican(&dir, &["migrate", "--no-atomic"]).success();
    assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    assert_eq!(
        db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM b"),
        ["1"]
    );
}

/// A small deterministic generator (xorshift), so that a failing case can be named by
/// its number and run again.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One generated case: a migration of data statements and DDL (existence decides some,
/// not the renames) and statements that change nothing, with one failing statement at
/// a random place, and the same migration with that statement fixed; guards off in
/// half of them.
fn generated(case: u64, backend: Backend) -> (String, String, Vec<String>) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (case + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut statements: Vec<String> = Vec::new();
    let mut tables: Vec<usize> = Vec::new();
    let count = 3 + dice.below(5);
    for k in 0..count {
        let statement = match dice.below(7) {
            0 => "UPDATE acct SET bal = bal * 3".to_owned(),
            1 => format!("INSERT INTO acct (id, bal) VALUES ({}, {k})", 100 + k),
            3 => format!("ALTER TABLE acct ADD COLUMN c{k} INTEGER"),
            4 if !tables.is_empty() => {
                let t = tables[dice.below(tables.len())];
                format!("INSERT INTO t{t} (id) VALUES ({k})")
            }
            5 if !tables.is_empty() => {
                let t = tables.remove(dice.below(tables.len()));
                format!("ALTER TABLE t{t} RENAME TO r{t}")
            }
            6 if k % 2 == 0 => "SELECT 1".to_owned(),
            6 => match backend {
                Backend::Mysql => "SET @pelican_test = 1",
                Backend::Postgres => "SET client_min_messages = warning",
                Backend::Sqlite => "SELECT 2",
                other => unimplemented!("{other:?}: a backend these tests do not know"),
            }
            .to_owned(),
            _ => {
                tables.push(k);
                format!("CREATE TABLE t{k} (id INTEGER)")
            }
        };
        statements.push(statement);
    }
    // The failing statement and its fix: a data statement, DDL refused as it runs,
    // a rename refused (existence cannot decide it), a statement that does not parse.
    let (failing, fixed) = match case % 4 {
        0 => (
            "INSERT INTO missing_table (id) VALUES (1)",
            "INSERT INTO acct (id, bal) VALUES (999, 9)",
        ),
        1 => (
            "ALTER TABLE missing_table ADD COLUMN x INTEGER",
            "CREATE TABLE fixed_t (id INTEGER)",
        ),
        2 => (
            "ALTER TABLE missing_table RENAME TO other_t",
            "ALTER TABLE spare RENAME TO spare_renamed",
        ),
        _ => (
            "ALTER TABLE acct ADD COLUMN",
            "ALTER TABLE acct ADD COLUMN z INTEGER",
        ),
    };
    let at = dice.below(statements.len() + 1);
    // Every other pair of cases without guards: the progress alone must say what
    // committed.
    let header = if case % 8 >= 4 {
        "-- pelican: no-guards\n"
    } else {
        ""
    };
    let file = |last: &str| {
        let mut all = statements.clone();
        all.insert(at, last.to_owned());
        let body: String = all.iter().map(|s| format!("{s};\n")).collect();
        format!("{header}{body}")
    };
    let mut broken = statements.clone();
    broken.insert(at, failing.to_owned());
    (file(failing), file(fixed), broken)
}

/// What the server keeps of a failing migration by itself, found without pelican: a
/// new database at the base migration (by diesel's harness), then the migration's
/// statements one by one in a transaction (autocommit off on MySQL, where each DDL
/// statement still commits), rolled back at the first that fails.
fn what_the_server_keeps(db: &TestDb, base: &Path, statements: &[String]) -> compare::State {
    let oracle = TestDb::new(db.backend, "server_keeps");
    diesel_ok(&oracle, base, Diesel::RunPending);
    let mut conn = oracle.connect();
    let begin = match db.backend {
        Backend::Mysql => "SET autocommit = 0",
        _ => "BEGIN",
    };
    conn.batch_execute(begin).unwrap();
    for statement in statements {
        if conn.batch_execute(statement).is_err() {
            break;
        }
    }
    conn.batch_execute("ROLLBACK").unwrap();
    drop(conn);
    state(&oracle)
}

backend_tests! {
    fn a_failing_statement_anywhere_fixed_converges_to_diesels_result(db: TestDb) {
        const BASE: &str = "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL);\n\
                            INSERT INTO acct (id, bal) VALUES (1, 5), (2, 7);\n\
                            CREATE TABLE spare (id INTEGER);\n";
        let cases: u64 = std::env::var("PELICAN_FAILURE_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(8);
        for case in 0..cases {
            let (broken, fixed, statements) = generated(case, db.backend);
            let pelican = TestDb::new(db.backend, "failure_case");
            let base = write_migrations(&pelican.dir().join("base"), &[(ACCOUNTS, BASE, "")]);
            let dir = write_migrations(pelican.dir(), &[
                (ACCOUNTS, BASE, ""),
                (CENTS, &broken, ""),
            ]);
            let what = format!("case {case}:\n{broken}");
            let out = pelican.pelican(&dir, &["migrate", "--no-atomic"]);
            assert_eq!(out.code, 1, "{what}\n{out:?}");
            assert_eq!(pelican.applied(), ["20240101000000"], "{what}");
            // Nothing more than the server committed by itself.
            assert_same(
                &what_the_server_keeps(&pelican, &base, &statements),
                &state(&pelican),
                &format!("{what}\nafter the failure"),
            );
            rewrite(&dir, CENTS, &fixed);
            let out = pelican.pelican(&dir, &["migrate", "--no-atomic"]);
            assert_eq!(out.code, 0, "{what}\nfixed:\n{fixed}\n{out:?}");
            let reference = TestDb::new(db.backend, "diesel_ref");
            diesel_ok(&reference, &dir, Diesel::RunPending);
            assert_same(&state(&reference), &state(&pelican), &format!("{what}\nfixed:\n{fixed}"));
        }
    }
}

#[cfg(feature = "mysql")]
#[test]
fn a_half_applied_migration_whose_done_statements_changed_is_refused() {
    let db = TestDb::new(Backend::Mysql, "done_changed");
    let up = |value: u8, missing: &str| {
        format!(
            "CREATE TABLE a (id INT);\nINSERT INTO a VALUES ({value});\nCREATE TABLE b (id INT);\nINSERT INTO {missing} VALUES (1);\n"
        )
    };
    let dir = write_migrations(db.dir(), &[(CENTS, &up(1, "missing"), "")]);
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    // The INSERT committed with CREATE TABLE b's implicit commit, and both are
    // recorded done.
    rewrite(&dir, CENTS, &up(2, "b"));
    let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "2024-01-02-000000_cents was left half-applied by an earlier run (3 statement(s) \
             recorded done); "
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "up.sql, line 4: `INSERT INTO b VALUES (1)` is where it would resume, but the \
             statements before it, recorded done, changed since (comments aside): restore \
             them, or finish the migration by hand and stamp it"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        db.query_strings("SELECT CAST(id AS CHAR) AS value FROM a"),
        ["1"],
        "something ran"
    );
    // Restored (a fix after them is fine), it resumes.
    rewrite(&dir, CENTS, &up(1, "b"));
    db.pelican(&dir, &["migrate", "--no-atomic"]).success();
    assert_eq!(
        db.query_strings("SELECT CAST(id AS CHAR) AS value FROM a"),
        ["1"]
    );
}

#[cfg(feature = "mysql")]
#[test]
fn without_guards_a_fixed_migration_resumes_after_the_ddl_that_committed() {
    let db = TestDb::new(Backend::Mysql, "no_guards_resume");
    let up = |last: &str| {
        format!(
            "-- pelican: no-guards\nCREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\n\
             CREATE TABLE b (id INT);\n{last};\n"
        )
    };
    let dir = write_migrations(
        db.dir(),
        &[(CENTS, &up("INSERT INTO missing VALUES (1)"), "")],
    );
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    // Guards off, nothing would skip `CREATE TABLE b` (it committed): the progress says
    // it is done.
    rewrite(&dir, CENTS, &up("INSERT INTO b VALUES (2)"));
    let out = db
        .pelican(&dir, &["--format", "json", "migrate", "--no-atomic"])
        .success()
        .json();
    let step = &out["steps"][0];
    assert_eq!(step["statements_skipped"], 3, "{step}");
    assert_eq!(step["statements_run"], 1, "{step}");
    let reference = TestDb::new(Backend::Mysql, "diesel_ref");
    diesel_ok(&reference, &dir, Diesel::RunPending);
    assert_same(&state(&reference), &state(&db), "after the fix");
}

#[cfg(feature = "mysql")]
#[test]
fn a_resumed_migration_sets_its_session_again() {
    let db = TestDb::new(Backend::Mysql, "session_again");
    let base = "CREATE TABLE parent (id INT PRIMARY KEY);\n\
                CREATE TABLE child (id INT, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent (id));\n";
    let up =
        |last: &str| format!("SET FOREIGN_KEY_CHECKS = 0;\nCREATE TABLE a (id INT);\n{last};\n");
    let dir = write_migrations(
        db.dir(),
        &[
            (ACCOUNTS, base, ""),
            (CENTS, &up("ALTER TABLE missing RENAME TO other"), ""),
        ],
    );
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    // The fixed statement needs the foreign key checks the first statement turned off.
    rewrite(&dir, CENTS, &up("INSERT INTO child VALUES (1, 42)"));
    let out = db
        .pelican(&dir, &["--format", "json", "migrate", "--no-atomic"])
        .success()
        .json();
    let step = &out["steps"][0];
    assert_eq!(
        step["statements"][0]["reason"], "done in an earlier run, whose session it set: run again",
        "{step}"
    );
    assert_eq!(
        step["statements"][1]["reason"], "done in an earlier run (recorded)",
        "{step}"
    );
    let reference = TestDb::new(Backend::Mysql, "diesel_ref");
    diesel_ok(&reference, &dir, Diesel::RunPending);
    assert_same(&state(&reference), &state(&db), "after the fix");
}

#[cfg(feature = "mysql")]
#[test]
fn rows_a_procedure_inserted_before_a_failing_statement_are_undone() {
    let db = TestDb::new(Backend::Mysql, "procedure_rows");
    let up = |last: &str| format!("CALL fill();\n{last};\n");
    let dir = write_migrations(
        db.dir(),
        &[
            (
                ACCOUNTS,
                "CREATE TABLE t (id INT);\nCREATE PROCEDURE fill() BEGIN INSERT INTO t VALUES (1); END;\n",
                "",
            ),
            (CENTS, &up("INSERT INTO missing VALUES (1)"), ""),
        ],
    );
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    // diesel's transaction rolls the procedure's row back; pelican's progress row for
    // the CALL (a statement it cannot decide) must not commit it.
    let (error, failed) = diesel_on(&db, &dir);
    assert!(error.is_some(), "diesel's harness ran the failing history");
    assert_same(&failed, &state(&db), "after the failure");
    assert_eq!(
        db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM t"),
        ["0"]
    );
    rewrite(&dir, CENTS, &up("INSERT INTO t VALUES (2)"));
    db.pelican(&dir, &["migrate", "--no-atomic"]).success();
    let reference = TestDb::new(Backend::Mysql, "diesel_ref");
    diesel_ok(&reference, &dir, Diesel::RunPending);
    assert_same(&state(&reference), &state(&db), "after the fix");
}

#[cfg(feature = "mysql")]
#[test]
fn a_progress_table_an_older_pelican_made_is_upgraded_and_resumes() {
    let db = TestDb::new(Backend::Mysql, "old_progress");
    let up = |last: &str| {
        format!(
            "-- pelican: no-guards\nCREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\n\
             CREATE TABLE b (id INT);\n{last};\n"
        )
    };
    let dir = write_migrations(
        db.dir(),
        &[(CENTS, &up("INSERT INTO missing VALUES (1)"), "")],
    );
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    // The progress table as pelican made it before it had `in_flight`, holding the
    // row the failed run left.
    let row = db.query_strings(
        "SELECT CONCAT_WS(',', version, direction, checksum, done) AS value \
         FROM __pelican_progress",
    );
    let [row] = row.as_slice() else {
        panic!("one progress row: {row:?}")
    };
    let fields: Vec<&str> = row.split(',').collect();
    db.execute(&format!(
        "DROP TABLE __pelican_progress;\n\
         CREATE TABLE IF NOT EXISTS __pelican_progress (\n\
             version VARCHAR(50) NOT NULL,\n\
             direction VARCHAR(8) NOT NULL,\n\
             checksum VARCHAR(64) NOT NULL,\n\
             done INTEGER NOT NULL,\n\
             PRIMARY KEY (version, direction)\n\
         );\n\
         INSERT INTO __pelican_progress VALUES ('{}', '{}', '{}', {});",
        fields[0], fields[1], fields[2], fields[3]
    ));
    rewrite(&dir, CENTS, &up("INSERT INTO b VALUES (2)"));
    let out = db
        .pelican(&dir, &["--format", "json", "migrate", "--no-atomic"])
        .success()
        .json();
    let step = &out["steps"][0];
    assert_eq!(step["statements_skipped"], 3, "{step}");
    assert_eq!(step["statements_run"], 1, "{step}");
    assert_eq!(
        db.query_strings(
            "SELECT column_name AS value FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = '__pelican_progress' \
             AND column_name = 'in_flight'"
        ),
        ["in_flight"]
    );
    assert_eq!(
        db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM __pelican_progress"),
        ["0"]
    );
    let reference = TestDb::new(Backend::Mysql, "diesel_ref");
    diesel_ok(&reference, &dir, Diesel::RunPending);
    assert_same(&state(&reference), &state(&db), "after the fix");
    // Upgraded once: the next run finds the column and adds nothing.
    db.pelican(&dir, &["migrate", "--no-atomic"]).success();
}

/// Applies the first migration of `dir`, then runs `migrate --no-atomic` while a
/// reader holds `table`, and kills its session once `statement` waits for the table (the
/// statements before it ran): what the cut-off run printed.
fn cut_off_at(db: &TestDb, dir: &Path, table: &str, statement: &str) -> common::Output {
    db.pelican(dir, &["migrate", "--no-atomic", "+1"]).success();
    let mut reader = db.connect();
    reader
        .batch_execute(&format!("BEGIN; SELECT COUNT(*) FROM {table}"))
        .unwrap();
    let mut child = Killed(Some(
        db.command(dir, &["migrate", "--no-atomic"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    let session = loop {
        assert!(Instant::now() < deadline, "`{statement}` never started");
        if let Some(id) = sessions_running(db, statement).first() {
            break *id;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    db.execute(&format!("KILL CONNECTION {session}"));
    let out = common::Output::from(child.0.take().unwrap().wait_with_output().unwrap());
    reader.batch_execute("COMMIT").unwrap();
    out
}

/// Statements that set a column's definition or default (`ALTER … DROP DEFAULT`,
/// `SET DEFAULT`, `MODIFY`, `CHANGE c c`), on tables nothing later in the file touches,
/// are written without progress rows (each a commit, and a log sync, of its own): a run
/// cut off at any of them, killed while it waits for a table a reader holds, leaves no
/// row saying it is in flight, and the next run runs it again, which gives what one
/// run gives. The `UPDATE` among them committed with its row, and runs once. Before,
/// the next run was refused, naming the statement and asking for a directive.
#[cfg(feature = "mysql")]
#[test]
fn a_redefinition_cut_off_anywhere_runs_again_and_converges_to_diesels_result() {
    const BASE: &str = "CREATE TABLE t0 (id INT PRIMARY KEY, a INT DEFAULT 1, n INT NOT NULL);\n\
                        CREATE TABLE t1 (id INT PRIMARY KEY, b VARCHAR(10));\n\
                        CREATE TABLE t2 (id INT PRIMARY KEY, c INT DEFAULT 2);\n\
                        CREATE TABLE t3 (id INT PRIMARY KEY, d INT);\n\
                        INSERT INTO t0 VALUES (1, 1, 5), (2, 1, 7);\n\
                        INSERT INTO t1 VALUES (1, 'x');\n";
    const STATEMENTS: [&str; 6] = [
        "ALTER TABLE t0 ALTER a DROP DEFAULT",
        "ALTER TABLE t1 MODIFY b VARCHAR(100) NOT NULL",
        "UPDATE t0 SET n = n * 10",
        "ALTER TABLE t2 CHANGE COLUMN c c BIGINT NOT NULL DEFAULT 5",
        "ALTER TABLE t3 ALTER COLUMN d SET DEFAULT 7",
        "CREATE TABLE t4 (id INT)",
    ];
    let up = STATEMENTS.join(";\n") + ";\n";
    // The DDL statements on tables a reader can hold, with the table.
    for (at, table) in [(0, "t0"), (1, "t1"), (3, "t2"), (4, "t3")] {
        let db = TestDb::new(Backend::Mysql, "cut_redefinition");
        let dir = write_migrations(db.dir(), &[(ACCOUNTS, BASE, ""), (CENTS, &up, "")]);
        let out = cut_off_at(&db, &dir, table, STATEMENTS[at]);
        assert_eq!(out.code, 1, "cut at {at}: {out:?}");
        assert_eq!(db.applied(), ["20240101000000"], "cut at {at}");
        // No row says a statement is in flight.
        assert_eq!(
            db.query_strings(
                "SELECT CAST(COUNT(*) AS CHAR) AS value FROM __pelican_progress WHERE in_flight <> 0"
            ),
            ["0"],
            "cut at {at}"
        );

        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 0, "cut at {at}: {out:?}");
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        assert_eq!(
            db.query_strings("SELECT CAST(n AS CHAR) AS value FROM t0 ORDER BY id"),
            ["50", "70"],
            "cut at {at}: the UPDATE ran once"
        );
        let (error, reference) = diesel_on(&db, &dir);
        assert_eq!(error, None);
        assert_same(&reference, &state(&db), &format!("cut at {at}"));
    }
}

/// A redefinition that a later statement of its file undoes or builds on keeps its
/// progress rows: `MODIFY c` then `MODIFY c` again, run again from the first after the
/// second ran, would change what the data went through. Cut off at the second, the next
/// run is refused naming it, as before.
#[cfg(feature = "mysql")]
#[test]
fn a_redefinition_a_later_statement_builds_on_keeps_its_rows() {
    let db = TestDb::new(Backend::Mysql, "cut_redefinition_twice");
    let up = "ALTER TABLE t MODIFY c BIGINT;\nALTER TABLE t MODIFY c VARCHAR(20);\n";
    let dir = write_migrations(
        db.dir(),
        &[
            (
                ACCOUNTS,
                "CREATE TABLE t (id INT PRIMARY KEY, c INT);\n",
                "",
            ),
            (CENTS, up, ""),
        ],
    );
    let out = cut_off_at(&db, &dir, "t", "MODIFY c BIGINT");
    assert_eq!(out.code, 1, "{out:?}");
    let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "up.sql, line 1: `ALTER TABLE t MODIFY c BIGINT` may or may not have run, and \
             existence cannot decide it"
        ),
        "{}",
        out.stderr
    );
}

/// Column renames (`CHANGE COLUMN a b …`, `RENAME COLUMN`) on columns nothing later in
/// their file touches, as vaultwarden renames seven: one row, before the first, says
/// the migration began, and none says a rename is in flight or done. Cut off at any
/// of them (killed while it waits for a table a reader holds, so the ones before it
/// ran), the next run resumes and runs each again: one the cut-off run renamed is
/// refused and, the old name gone and the new one there, settled as done. Before, the
/// next run was refused, naming the rename and asking for a directive.
#[cfg(feature = "mysql")]
#[test]
fn a_column_rename_cut_off_anywhere_is_settled_and_converges_to_diesels_result() {
    const BASE: &str = "CREATE TABLE t0 (id INT PRIMARY KEY, `key` TEXT, type INT NOT NULL);\n\
                        CREATE TABLE t1 (id INT PRIMARY KEY, type INT NOT NULL);\n\
                        CREATE TABLE t2 (id INT PRIMARY KEY, old INT);\n\
                        INSERT INTO t0 VALUES (1, 'k', 3);\n";
    const STATEMENTS: [&str; 4] = [
        "ALTER TABLE t0 CHANGE COLUMN `key` akey TEXT",
        "ALTER TABLE t0 CHANGE COLUMN type atype INTEGER NOT NULL",
        "ALTER TABLE t1 CHANGE COLUMN type atype INTEGER NOT NULL",
        "ALTER TABLE t2 RENAME COLUMN old TO new",
    ];
    let up = STATEMENTS.join(";\n") + ";\n";
    // (The second renames a column of `t0` too: a reader of `t0` holds the first.)
    for (at, table) in [(0, "t0"), (2, "t1"), (3, "t2")] {
        let db = TestDb::new(Backend::Mysql, "cut_rename");
        let dir = write_migrations(db.dir(), &[(ACCOUNTS, BASE, ""), (CENTS, &up, "")]);
        let out = cut_off_at(&db, &dir, table, STATEMENTS[at]);
        assert_eq!(out.code, 1, "cut at {at}: {out:?}");
        assert_eq!(db.applied(), ["20240101000000"], "cut at {at}");
        assert_eq!(
            db.query_strings(
                "SELECT CAST(CONCAT(done, ' ', in_flight) AS CHAR) AS value FROM __pelican_progress"
            ),
            ["0 0"],
            "cut at {at}: one row, saying the migration began"
        );

        let out = db
            .pelican(&dir, &["--format", "json", "migrate", "--no-atomic"])
            .success()
            .json();
        let reasons: Vec<&str> = out["steps"][0]["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reason"].as_str().unwrap())
            .collect();
        for (i, reason) in reasons.iter().enumerate() {
            if i < at {
                assert!(reason.ends_with(": renamed"), "cut at {at}: {reasons:?}");
            } else {
                assert_eq!(*reason, "ran", "cut at {at}: {reasons:?}");
            }
        }
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        let (error, reference) = diesel_on(&db, &dir);
        assert_eq!(error, None);
        assert_same(&reference, &state(&db), &format!("cut at {at}"));
    }
}

/// A progress row whose direction is neither `up` nor `down` (a hand edit, another
/// tool's row) is not guessed at: the run stops before anything, with an error naming
/// the migration and the value, and the row stays for the operator to look at.
#[cfg(feature = "mysql")]
#[test]
fn a_progress_row_of_an_unknown_direction_stops_the_run_naming_it() {
    let db = TestDb::new(Backend::Mysql, "progress_direction");
    let up = "-- pelican: no-guards\nCREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\n\
              INSERT INTO missing VALUES (1);\n";
    let dir = write_migrations(db.dir(), &[(CENTS, up, "")]);
    assert_eq!(db.pelican(&dir, &["migrate", "--no-atomic"]).code, 1);
    db.execute("UPDATE __pelican_progress SET direction = 'sideways'");
    rewrite(
        &dir,
        CENTS,
        "-- pelican: no-guards\nCREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\n",
    );
    let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("20240102000000") && out.stderr.contains("\"sideways\""),
        "{}",
        out.stderr
    );
    assert!(db.applied().is_empty(), "{:?}", db.applied());
    assert_eq!(
        db.query_strings("SELECT direction AS value FROM __pelican_progress"),
        ["sideways"]
    );
    // The failed run's insert was rolled back (as diesel's is), and nothing ran since.
    assert_eq!(
        db.query_strings("SELECT CAST(COUNT(*) AS CHAR) AS value FROM a"),
        ["0"]
    );
}
