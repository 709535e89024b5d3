//! A real history held to diesel's result: crates.io's 285 PostgreSQL migrations
//! (`tests/corpora/crates.io`, read-only), which diesel applies from empty, and
//! whose full revert stops at `2024-10-25-112826_make-unique-version-unique` (its
//! `down.sql` drops a constraint by the name of an index).
//!
//! The folder also holds `README.md` and `data_oauth_github.sql`: diesel counts
//! folders only, and so must pelican.

#![cfg(feature = "postgres")]

mod common;
#[path = "histories/compare.rs"]
mod compare;

use std::path::Path;

use common::TestDb;
use compare::{assert_same, diesel, diesel_ok, differences, state, Diesel};
use pelican::Backend;

const CRATES_IO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/corpora/crates.io/migrations"
);

/// The migration whose `down.sql` fails under diesel.
const IRREVERSIBLE: &str = "2024-10-25-112826_make-unique-version-unique";

fn crates_io() -> &'static Path {
    Path::new(CRATES_IO)
}

fn migration_count() -> usize {
    std::fs::read_dir(crates_io())
        .expect("the crates.io corpus")
        .filter(|entry| entry.as_ref().expect("an entry").path().is_dir())
        .count()
}

#[test]
fn the_corpus_is_where_the_tests_expect_it() {
    assert_eq!(migration_count(), 285);
    // Files beside the folders, which diesel passes over.
    assert!(crates_io().join("README.md").is_file());
    assert!(crates_io().join("data_oauth_github.sql").is_file());
}

#[test]
fn pelican_reads_the_folder_as_diesel_does() {
    let migrations = pelican::Migrations::from_dir(crates_io())
        .unwrap_or_else(|e| panic!("pelican refuses the folder diesel reads: {e}"));
    assert_eq!(migrations.len(), migration_count());
}

#[test]
fn crates_io_migrate_equals_diesel() {
    let db = TestDb::new(Backend::Postgres, "corpus_migrate");
    let reference = TestDb::new(db.backend, "crates_io_ref");
    assert_eq!(
        diesel_ok(&reference, crates_io(), Diesel::RunPending).len(),
        migration_count()
    );
    let expected = state(&reference);
    db.pelican(crates_io(), &["migrate"]).success();
    assert_same(&expected, &state(&db), "pelican migrate of crates.io");
}

#[test]
fn crates_io_init_equals_diesel() {
    let db = TestDb::new(Backend::Postgres, "corpus_init");
    let reference = TestDb::new(db.backend, "crates_io_ref");
    diesel_ok(&reference, crates_io(), Diesel::RunPending);
    let expected = state(&reference);
    db.pelican(crates_io(), &["init"]).success();
    assert_same(&expected, &state(&db), "pelican init of crates.io");
}

#[test]
fn crates_io_downgrade_base_stops_where_diesel_stops() {
    let db = TestDb::new(Backend::Postgres, "corpus_downgrade");
    // diesel: the full revert fails at the irreversible migration, which stays
    // applied with everything older; everything newer is reverted.
    let reference = TestDb::new(db.backend, "crates_io_ref");
    diesel_ok(&reference, crates_io(), Diesel::RunPending);
    let error = diesel(&reference, crates_io(), Diesel::RevertAll)
        .expect_err("diesel's full revert of crates.io fails");
    assert!(error.contains(IRREVERSIBLE), "{error}");
    let expected = state(&reference);
    let version: String = IRREVERSIBLE.split('_').next().unwrap().replace('-', "");
    assert_eq!(expected.ledger.last(), Some(&version));

    db.pelican(crates_io(), &["migrate"]).success();
    let output = db.pelican(crates_io(), &["downgrade", "base"]);
    let said = format!("{}{}", output.stderr, output.stdout);
    // What pelican said besides its progress lines ("Reverting …").
    let errors: Vec<&str> = said
        .lines()
        .filter(|line| !line.starts_with("Reverting ") && !line.starts_with("Applying "))
        .collect();
    let mut problems = Vec::new();
    if output.code != 1 {
        problems.push(format!("exit code {}, not 1", output.code));
    }
    if !errors.iter().any(|line| line.contains(IRREVERSIBLE)) {
        problems.push(format!(
            "the error does not name {IRREVERSIBLE}:\n      {}",
            errors.join("\n      ")
        ));
    }
    problems.extend(differences(&expected, &state(&db)));
    assert!(
        problems.is_empty(),
        "pelican downgrade base of crates.io, against diesel's revert_all_migrations:\n  {}",
        problems.join("\n  ")
    );
}

/// crates.io built by `migrate`, then its ledger dropped: an unmanaged database at head,
/// 285 migrations deep. Adoption finds head on a scratch database (base and every
/// version compared) and stamps it; no migration runs on the database itself.
#[test]
fn crates_io_adoption_stamps_head() {
    let db = TestDb::new(Backend::Postgres, "corpus_adopt");
    db.pelican(crates_io(), &["migrate"]).success();
    db.execute("DROP TABLE __diesel_schema_migrations, __pelican_checksums, __pelican_journal");
    let head = pelican::Migrations::from_dir(crates_io())
        .unwrap()
        .head()
        .map(|m| m.version().to_owned());
    let json = db
        .pelican(crates_io(), &["--format", "json", "adopt"])
        .success()
        .json();
    assert_eq!(json["version"].as_str(), head.as_deref(), "{json}");
    assert_eq!(json["stamped"], migration_count());
    assert_eq!(json["compared"], migration_count() + 1);
    assert_eq!(db.applied().len(), migration_count());
    let outcomes = db.query_strings("SELECT DISTINCT outcome AS value FROM __pelican_journal");
    assert_eq!(outcomes, ["stamped"]);
}
