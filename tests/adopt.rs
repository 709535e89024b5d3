//! `adopt` and `boot --adopt`: a database with tables but no migrations table is stamped
//! at the newest version whose schema it has, found on a scratch database; none of the
//! history runs on it, and a database matching no version is left as it was.

mod common;

use std::path::PathBuf;

use common::{example_migrations, write_migrations, Output, TestDb};
use pelican::catalog::{Outline, Schema};
use serde_json::Value;

const CIPHERS: &str = "20240101000000";
const REBUILD: &str = "20240102000000";
const FOLDERS: &str = "20240103000000";
const EXAMPLE_HEAD: &str = "20240320110000";

/// A history whose second migration rebuilds a table (renames it away, creates it anew
/// with one more column, copies the rows, drops the old one): replayed on a database
/// that already has the new table, it would move the rows out and lose the new column's
/// values.
fn rebuild_history(db: &TestDb) -> PathBuf {
    write_migrations(
        db.dir(),
        &[
            (
                "2024-01-01-000000_create_ciphers",
                "CREATE TABLE ciphers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);",
                "DROP TABLE ciphers;",
            ),
            (
                "2024-01-02-000000_rebuild_ciphers",
                "ALTER TABLE ciphers RENAME TO oldCiphers;\n\
                 CREATE TABLE ciphers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, \
                 favorite INTEGER NOT NULL DEFAULT 0);\n\
                 INSERT INTO ciphers (id, name) SELECT id, name FROM oldCiphers;\n\
                 DROP TABLE oldCiphers;\n",
                "ALTER TABLE ciphers DROP COLUMN favorite;",
            ),
            (
                "2024-01-03-000000_create_folders",
                "CREATE TABLE folders (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);",
                "DROP TABLE folders;",
            ),
        ],
    )
}

/// A history where the outline (the names) cannot tell versions apart: the second
/// migration adds a column, the third and fourth add only rows, the fifth a table.
fn same_names_history(db: &TestDb) -> PathBuf {
    write_migrations(
        db.dir(),
        &[
            (
                "2024-02-01-000000_create_notes",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL);",
                "DROP TABLE notes;",
            ),
            (
                "2024-02-02-000000_add_title",
                "ALTER TABLE notes ADD COLUMN title VARCHAR(20) NULL;",
                "ALTER TABLE notes DROP COLUMN title;",
            ),
            (
                "2024-02-03-000000_seed_notes",
                "INSERT INTO notes (id, body) VALUES (1, 'one');",
                "DELETE FROM notes WHERE id = 1;",
            ),
            (
                "2024-02-04-000000_seed_more",
                "INSERT INTO notes (id, body) VALUES (2, 'two');",
                "DELETE FROM notes WHERE id = 2;",
            ),
            (
                "2024-02-05-000000_create_tags",
                "CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL);\n\
                 CREATE INDEX tags_note ON tags (note_id);",
                "DROP TABLE tags;",
            ),
        ],
    )
}

/// The database built by `migrate TARGET`, then its ledger dropped (diesel's table and
/// pelican's): an unmanaged database at that version. A favourite cipher is added.
fn unmanaged_at(db: &TestDb, dir: &std::path::Path, target: &str) {
    db.pelican(dir, &["migrate", target]).success();
    forget_ledger(db);
    db.execute("INSERT INTO ciphers (id, name, favorite) VALUES (1, 'bank', 1)");
}

fn forget_ledger(db: &TestDb) {
    for table in db.tables() {
        if table.starts_with("__") {
            db.execute(&format!("DROP TABLE {table}"));
        }
    }
}

/// The favourite ciphers, by name: the row added to the live database, if still there.
fn favourites(db: &TestDb) -> Vec<String> {
    db.query_strings("SELECT name AS value FROM ciphers WHERE favorite = 1")
}

fn user_tables(db: &TestDb) -> Vec<String> {
    db.tables()
        .into_iter()
        .filter(|t| !t.starts_with("__"))
        .map(|t| t.to_lowercase())
        .collect()
}

fn journal(db: &TestDb) -> Vec<String> {
    db.query_strings("SELECT outcome AS value FROM __pelican_journal")
}

backend_tests! {
    fn adopting_a_database_at_head_runs_none_of_the_history_on_it(db: TestDb) {
        let dir = rebuild_history(&db);
        unmanaged_at(&db, &dir, "head");
        let json = db.pelican(&dir, &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["command"], "adopt");
        assert_eq!(json["version"], FOLDERS, "{json}");
        assert_eq!(json["name"], "2024-01-03-000000_create_folders");
        assert_eq!(json["stamped"], 3);
        assert_eq!(json["compared"], 4, "base and the three versions");
        assert_eq!(json["pending"], Value::Array(Vec::new()));
        // The row is where it was: the rebuild ran on the scratch database only.
        assert_eq!(favourites(&db), ["bank"]);
        assert_eq!(user_tables(&db), ["ciphers", "folders"]);
        assert_eq!(db.applied(), [CIPHERS, REBUILD, FOLDERS]);
        assert_eq!(journal(&db), ["stamped", "stamped", "stamped"]);
        assert_eq!(db.query_strings("SELECT version AS value FROM __pelican_checksums").len(), 3);
        // Managed now: nothing pending, and migrate has nothing to do.
        let current = db.pelican(&dir, &["--format", "json", "current"]).success().json();
        assert_eq!((current["current"].as_str(), current["pending"].as_u64()), (Some(FOLDERS), Some(0)));
        let text = db.pelican(&dir, &["migrate"]).success();
        assert!(text.stdout.starts_with("Nothing to do"), "{}", text.stdout);
    }

    fn boot_adopt_runs_none_of_the_history_either(db: TestDb) {
        let dir = rebuild_history(&db);
        unmanaged_at(&db, &dir, "head");
        let out = db.pelican(&dir, &["boot", "--adopt"]).success();
        assert!(out.stdout.contains(&format!("Adopted the database at {FOLDERS} create_folders: its schema is the one the migrations build there (4 version(s) compared on a scratch database; none of the history ran on the database); 3 version(s) recorded as applied")), "{}", out.stdout);
        assert!(out.stdout.contains(&format!("The database is at {FOLDERS} create_folders (head)")), "{}", out.stdout);
        assert_eq!(favourites(&db), ["bank"]);
        assert_eq!(db.applied(), [CIPHERS, REBUILD, FOLDERS]);
        // A managed database now: boot again is a no-op.
        let again = db.pelican(&dir, &["--format", "json", "boot", "--adopt"]).success().json();
        assert_eq!((again["found"].as_str(), again["action"].as_str()), (Some("managed"), Some("up_to_date")));
    }

    fn a_database_at_an_intermediate_version_is_stamped_there_and_migrate_upgrades_it(db: TestDb) {
        let dir = rebuild_history(&db);
        unmanaged_at(&db, &dir, "2024-01-02");
        let out = db.pelican(&dir, &["adopt"]).success();
        assert!(out.stdout.contains(&format!("Adopted the database at {REBUILD} rebuild_ciphers")), "{}", out.stdout);
        assert!(out.stdout.contains(&format!("The database is at {REBUILD} rebuild_ciphers (1 pending): migrate applies them")), "{}", out.stdout);
        assert_eq!(db.applied(), [CIPHERS, REBUILD]);
        assert_eq!(user_tables(&db), ["ciphers"]);
        // Then the upgrade, the normal way (Alembic's stamp, then upgrade).
        let json = db.pelican(&dir, &["--format", "json", "migrate"]).success().json();
        assert_eq!(json["steps"].as_array().map(Vec::len), Some(1), "{json}");
        assert_eq!(db.applied(), [CIPHERS, REBUILD, FOLDERS]);
        assert_eq!(user_tables(&db), ["ciphers", "folders"]);
        assert_eq!(favourites(&db), ["bank"]);
    }

    fn boot_adopt_upgrades_from_the_version_found_only_with_auto_migrate(db: TestDb) {
        let dir = rebuild_history(&db);
        unmanaged_at(&db, &dir, "2024-01-02");
        let other = TestDb::new(db.backend, "adopt_auto_migrate");
        let other_dir = rebuild_history(&other);
        unmanaged_at(&other, &other_dir, "2024-01-02");

        // AUTO_MIGRATE off: stamped where it is, the newer one left pending.
        let out = db.pelican(&dir, &["--format", "json", "boot", "--adopt"]).success();
        assert!(out.stderr.contains("warning: 1 migration(s) newer than the version adopted are pending and AUTO_MIGRATE is off"), "{}", out.stderr);
        let json = out.json();
        assert_eq!(json["action"], "adopted");
        assert_eq!(json["current"], REBUILD);
        assert_eq!(json["pending"], serde_json::json!([FOLDERS]));
        assert_eq!(json["adoption"]["version"], REBUILD);
        assert_eq!(db.applied(), [CIPHERS, REBUILD]);
        assert_eq!(user_tables(&db), ["ciphers"]);

        // AUTO_MIGRATE on: stamped, then upgraded from there, guarded.
        let out = Output::from(
            other.command(&other_dir, &["--format", "json", "boot", "--adopt"]).env("AUTO_MIGRATE", "1").output().unwrap(),
        );
        let json = out.success().json();
        assert_eq!(json["action"], "adopted");
        assert_eq!(json["adoption"]["version"], REBUILD);
        assert_eq!(json["stamped"], 2);
        let steps: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["version"].as_str().unwrap()).collect();
        assert_eq!(steps, [FOLDERS]);
        assert_eq!(json["current"], FOLDERS);
        assert_eq!(other.applied(), [CIPHERS, REBUILD, FOLDERS]);
        assert_eq!(user_tables(&other), ["ciphers", "folders"]);
        assert_eq!(favourites(&other), ["bank"]);
        let outcomes = other.query_strings("SELECT outcome AS value FROM __pelican_journal ORDER BY version");
        assert_eq!(outcomes, ["stamped", "stamped", "applied"]);
    }

    fn a_database_matching_no_version_changes_nothing_and_names_the_closest(db: TestDb) {
        let dir = rebuild_history(&db);
        unmanaged_at(&db, &dir, "head");
        db.execute("ALTER TABLE folders ADD COLUMN color VARCHAR(20) NULL");
        let before = db.tables();

        let out = db.pelican(&dir, &["adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("no version of these migrations builds the schema this database has (4 compared on a scratch database), so it was not adopted and nothing changed"), "{}", out.stderr);
        assert!(out.stderr.contains(&format!("the closest is {FOLDERS} create_folders, with 1 difference(s) (migrations → database):\n    folders:\n      folders.color: missing → VARCHAR(20) NULL")), "{}", out.stderr);

        let out = db.pelican(&dir, &["--format", "json", "adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        let json = out.json();
        assert_eq!(json["closest"], FOLDERS);
        assert_eq!(json["compared"], 4);
        assert_eq!(json["changes"][0]["name"], "folders.color", "{json}");
        assert_eq!(json["changes"][0]["actual"], "VARCHAR(20) NULL");

        let out = db.pelican(&dir, &["boot", "--adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("folders.color: missing → VARCHAR(20) NULL"), "{}", out.stderr);

        // Nothing changed: no ledger, the row where it was.
        assert_eq!(db.tables(), before);
        assert_eq!(favourites(&db), ["bank"]);
    }

    fn adopt_refuses_a_managed_or_an_empty_database(db: TestDb) {
        let dir = rebuild_history(&db);
        let out = db.pelican(&dir, &["adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("nothing to adopt: the database has no tables; `init` builds it at head; nothing changed"), "{}", out.stderr);
        db.pelican(&dir, &["migrate", "2024-01-02"]).success();
        let out = db.pelican(&dir, &["adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(&format!("nothing to adopt: the database is already managed: diesel's migrations table records 2 applied version(s), the newest {REBUILD}")), "{}", out.stderr);
        assert_eq!(db.applied(), [CIPHERS, REBUILD]);
    }

    fn adoption_starts_from_the_snapshot_and_goes_back_only_when_it_must(db: TestDb) {
        // The example's migrations have a snapshot for each backend, at head.
        db.pelican(&example_migrations(), &["init"]).success();
        forget_ledger(&db);
        let json = db.pelican(&example_migrations(), &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["version"], EXAMPLE_HEAD);
        assert_eq!(json["snapshot"], EXAMPLE_HEAD);
        assert_eq!(json["compared"], 1, "the snapshot matched at once: {json}");
        assert_eq!(db.applied().len(), 12);

        // At the first version: the snapshot does not match, so the versions are built
        // from base; base and twelve versions compared besides head.
        let other = TestDb::new(db.backend, "adopt_snapshot_first");
        other.pelican(&example_migrations(), &["migrate", "2024-01-15-090000"]).success();
        forget_ledger(&other);
        let json = other.pelican(&example_migrations(), &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["version"], "20240115090000", "{json}");
        assert_eq!(json["compared"], 13, "{json}");
        assert_eq!(json["pending"].as_array().map(Vec::len), Some(11));
        assert_eq!(other.applied(), ["20240115090000"]);
    }

    fn versions_with_the_same_names_are_still_told_apart_by_their_columns(db: TestDb) {
        // The database is at the first version; the second has the same names (one
        // more column), so only the full comparison can refuse it.
        let dir = same_names_history(&db);
        db.pelican(&dir, &["migrate", "2024-02-01-000000"]).success();
        forget_ledger(&db);
        let json = db.pelican(&dir, &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["version"], "20240201000000", "{json}");
        assert_eq!(json["same_schema"], Value::Array(Vec::new()), "{json}");
        assert_eq!(json["compared"], 6, "base and the five versions: {json}");
        // Base lacks `notes`, the fifth adds `tags`: the first four are read in full.
        assert_eq!(json["read_in_full"], 4, "{json}");
        assert_eq!(db.applied(), ["20240201000000"]);
        assert_eq!(json["pending"].as_array().map(Vec::len), Some(4));
    }

    fn an_early_match_followed_by_rows_only_takes_the_newest_of_the_same_schema(db: TestDb) {
        let dir = same_names_history(&db);
        db.pelican(&dir, &["migrate", "2024-02-02-000000"]).success();
        forget_ledger(&db);
        let json = db.pelican(&dir, &["--format", "json", "adopt"]).success().json();
        assert_eq!(json["version"], "20240204000000", "{json}");
        assert_eq!(json["same_schema"], serde_json::json!(["20240202000000", "20240203000000"]), "{json}");
        assert_eq!((json["compared"].as_u64(), json["read_in_full"].as_u64()), (Some(6), Some(4)), "{json}");
        assert_eq!(db.applied(), ["20240201000000", "20240202000000", "20240203000000", "20240204000000"]);
        // The rows the seeds added on the scratch database are not here.
        assert!(db.query_strings("SELECT body AS value FROM notes").is_empty());

        // No version matches: every version is read in full for the closest one.
        forget_ledger(&db);
        db.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL)");
        let out = db.pelican(&dir, &["--format", "json", "adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        let json = out.json();
        assert_eq!(json["closest"], "20240205000000", "{json}");
        assert_eq!(json["compared"], 6, "{json}");
        assert!(json["changes"].to_string().contains("tags_note"), "{json}");
    }

    fn the_outline_is_the_names_the_full_introspection_reads(db: TestDb) {
        db.pelican(&example_migrations(), &["init"]).success();
        let mut conn = db.connect();
        let schema = Schema::introspect(&mut conn).unwrap();
        assert_eq!(Outline::read(&mut conn).unwrap(), Outline::of(&schema));
        let dir = same_names_history(&db);
        let other = TestDb::new(db.backend, "adopt_outline_notes");
        other.pelican(&dir, &["migrate"]).success();
        let mut conn = other.connect();
        let schema = Schema::introspect(&mut conn).unwrap();
        assert_eq!(Outline::read(&mut conn).unwrap(), Outline::of(&schema));
    }

    fn a_migration_failing_on_the_scratch_database_is_named(db: TestDb) {
        let dir = same_names_history(&db);
        db.pelican(&dir, &["migrate", "2024-02-01-000000"]).success();
        forget_ledger(&db);
        let before = db.tables();
        write_migrations(
            db.dir(),
            &[("2024-02-06-000000_broken", "CREATE TABLE broken (id INTEGER PRIMARY KEY,);", "DROP TABLE broken;")],
        );
        let out = db.pelican(&dir, &["adopt"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("adoption builds the migrations one by one on a scratch database, to compare each version's schema with the database's, and 2024-02-06-000000_broken failed there"), "{}", out.stderr);
        assert_eq!(db.tables(), before);
    }
}

/// MySQL/MariaDB: adoption compares the relations' names before the outline, so every
/// relation the catalog reads (a table named with capitals, a view, a sequence) must be
/// among them, or a version whose schema is the database's would be turned away by the
/// names alone; the ledger's tables are left out of both.
#[cfg(feature = "mysql")]
#[test]
fn mysql_relation_names_hold_every_relation_the_catalog_reads() {
    let db = TestDb::new(pelican::Backend::Mysql, "adopt_relation_names");
    db.pelican(&example_migrations(), &["init"]).success();
    db.execute(
        "CREATE TABLE Accounts (id INT PRIMARY KEY);\n\
         CREATE VIEW rich_accounts AS SELECT id FROM Accounts;\n\
         CREATE SEQUENCE invoice_numbers;",
    );
    let mut conn = db.connect();
    let schema = Schema::introspect(&mut conn).unwrap();
    let names = pelican::__test_support::relation_names(&mut conn)
        .unwrap()
        .expect("MySQL lists its relations apart from the outline");
    assert!(
        schema.views.len() >= 2 && schema.tables.len() > 3,
        "{names:?}"
    );
    for key in schema.tables.keys().chain(schema.views.keys()) {
        assert!(
            names.contains(key),
            "{key} is read by the catalog, not among {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.starts_with("__")), "{names:?}");
}
