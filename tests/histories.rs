//! Rule one, held to diesel's exact result: a migration history that diesel's own
//! harness applies cleanly gives, under pelican, the identical schema, ledger and data,
//! from an empty database and from every applied prefix.
//!
//! The histories, one per backend, are in `tests/histories/shapes/{sqlite,postgres,mysql}/`
//! in diesel's layout, in the shapes real Diesel projects use: PostgreSQL's views over
//! views, a materialized view taken by `DROP VIEW … CASCADE`, `DROP FUNCTION … CASCADE`
//! taking a trigger, diesel's `set_updated_at` on several tables, overloads, enums grown
//! outside a transaction, `CREATE INDEX CONCURRENTLY`, constraint names PostgreSQL
//! invents and names it truncates; SQLite's table rebuild under a child table with
//! `ON DELETE CASCADE` and rows; MySQL's `_ibfk_N` names, column-named unique indexes,
//! routines of one name, trigger bodies, renames and the rename-copy-drop rebuild. Seed
//! rows and data migrations throughout. What "identical" covers is in `compare.rs`.

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::path::{Path, PathBuf};

use common::TestDb;
use compare::{assert_same, diesel_ok, differences, state, Diesel, State};
use pelican::Backend;

/// The history of real shapes for a backend.
fn shapes(backend: Backend) -> PathBuf {
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::Mysql => "mysql",
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/histories/shapes")
        .join(name)
}

/// The migration folders of `dir`, oldest first (diesel counts folders only).
fn folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the history")
        .map(|entry| entry.expect("an entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// diesel's result: a new database of `backend` migrated from empty by diesel's harness.
fn diesel_reference(backend: Backend, dir: &Path) -> State {
    let reference = TestDb::new(backend, "diesel_ref");
    diesel_ok(&reference, dir, Diesel::RunPending);
    state(&reference)
}

/// What a failed pelican run said, without its progress lines.
fn head(output: &common::Output) -> String {
    let text = format!("{}{}", output.stderr, output.stdout);
    text.lines()
        .filter(|line| !line.starts_with("Applying ") && !line.starts_with("Reverting "))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n      ")
}

backend_tests! {
    fn history_round_trips_under_diesel(db: TestDb) {
        // The histories themselves: diesel applies each from empty, reverts it to
        // empty, and applies it again to the same result.
        let dir = shapes(db.backend);
        let count = folders(&dir).len();
        assert!((15..=30).contains(&count), "{count} migrations");
        let empty = state(&db);
        assert_eq!(diesel_ok(&db, &dir, Diesel::RunPending).len(), count);
        let full = state(&db);
        assert_eq!(full.ledger.len(), count);
        assert!(!full.rows.is_empty());
        assert_eq!(diesel_ok(&db, &dir, Diesel::RevertAll).len(), count);
        assert_same(&empty, &state(&db), "diesel's full revert");
        diesel_ok(&db, &dir, Diesel::RunPending);
        assert_same(&full, &state(&db), "diesel's second run");
    }

    fn pelican_from_empty_equals_diesel(db: TestDb) {
        let dir = shapes(db.backend);
        let expected = diesel_reference(db.backend, &dir);
        db.pelican(&dir, &["migrate"]).success();
        assert_same(&expected, &state(&db), "pelican migrate from empty");
    }

    fn pelican_no_atomic_from_empty_equals_diesel(db: TestDb) {
        // A commit per migration, as diesel's harness commits them.
        let dir = shapes(db.backend);
        let expected = diesel_reference(db.backend, &dir);
        db.pelican(&dir, &["migrate", "--no-atomic"]).success();
        assert_same(&expected, &state(&db), "pelican migrate --no-atomic from empty");
    }

    fn pelican_init_equals_diesel(db: TestDb) {
        let dir = shapes(db.backend);
        let expected = diesel_reference(db.backend, &dir);
        db.pelican(&dir, &["init"]).success();
        assert_same(&expected, &state(&db), "pelican init");
    }

    fn from_every_prefix(db: TestDb) {
        // diesel applies the first k migrations, pelican the rest: diesel's full run,
        // for every k. Every k is tried; the databases of the failed ones are kept.
        let dir = shapes(db.backend);
        let names = folders(&dir);
        diesel_ok(&db, &dir, Diesel::RunPending);
        let expected = state(&db);
        let mut failures = Vec::new();
        let mut kept = Vec::new();
        for k in 0..=names.len() {
            let prefix = TestDb::new(db.backend, &format!("prefix_{k}"));
            diesel_ok(&prefix, &dir, Diesel::RunNext(k));
            let after = if k == 0 { "nothing".to_owned() } else { names[k - 1].clone() };
            let output = prefix.pelican(&dir, &["migrate"]);
            if output.code != 0 {
                failures.push(format!(
                    "k = {k} (diesel applied up to {after}): pelican migrate exited {}:\n      {}",
                    output.code,
                    head(&output)
                ));
                kept.push(prefix);
                continue;
            }
            let found = differences(&expected, &state(&prefix));
            if !found.is_empty() {
                failures.push(format!(
                    "k = {k} (diesel applied up to {after}): {} difference(s)\n    {}",
                    found.len(),
                    found.join("\n    ")
                ));
                kept.push(prefix);
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} prefixes differ from diesel's full run:\n  {}",
            failures.len(),
            names.len() + 1,
            failures.join("\n  ")
        );
    }

    fn round_trip_matches_diesel(db: TestDb) {
        let dir = shapes(db.backend);
        let reference = TestDb::new(db.backend, "round_trip_ref");
        diesel_ok(&reference, &dir, Diesel::RunPending);
        let full = state(&reference);
        diesel_ok(&reference, &dir, Diesel::RevertAll);
        let base = state(&reference);

        db.pelican(&dir, &["migrate"]).success();
        assert_same(&full, &state(&db), "pelican migrate");
        db.pelican(&dir, &["downgrade", "base"]).success();
        assert_same(&base, &state(&db), "pelican downgrade base");
        db.pelican(&dir, &["migrate"]).success();
        assert_same(&full, &state(&db), "pelican migrate after downgrade base");
    }
}

#[test]
fn timestamps_of_now_are_masked_and_others_kept() {
    let now =
        chrono::NaiveDateTime::parse_from_str("2026-11-27 15:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    assert_eq!(
        compare::mask_now(
            "1, '2026-11-27 14:59:59.123+00', '2023-01-10 09:00:00'",
            now
        ),
        "1, '<now>', '2023-01-10 09:00:00'"
    );
    assert_eq!(compare::mask_now("'2026-11-26T10:00:00Z'", now), "'<now>'");
    assert_eq!(compare::mask_now("no time here", now), "no time here");
}
