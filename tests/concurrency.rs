//! Many `pelican migrate` processes at once on one database: the lock lets one run at a
//! time, each reads the applied set only once it holds the lock, so every migration is
//! applied exactly once and every process succeeds.

mod common;

use std::collections::BTreeMap;

use common::{all_at_once, example_migrations, TestDb};

const EXAMPLE_COUNT: usize = 12;

/// The journal's `applied` rows: each version with the runners (`host:pid`) that
/// applied it.
fn runners_by_version(db: &TestDb) -> BTreeMap<String, Vec<String>> {
    let row = match db.backend {
        pelican::Backend::Mysql => "CONCAT(version, ' ', runner)",
        _ => "version || ' ' || runner",
    };
    let rows = db.query_strings(&format!(
        "SELECT {row} AS value FROM __pelican_journal WHERE outcome = 'applied' AND direction = 'up'"
    ));
    let mut runners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (version, runner) = row.split_once(' ').unwrap();
        runners
            .entry(version.to_owned())
            .or_default()
            .push(runner.to_owned());
    }
    runners
}

backend_tests! {
    fn sixteen_processes_migrating_at_once_apply_each_migration_once(db: TestDb) {
        let dir = example_migrations();
        let outputs = all_at_once((0..16).map(|_| {
            db.command(&dir, &["--format", "json", "--lock-timeout", "30", "migrate"])
        }));
        let mut steps = 0;
        for out in &outputs {
            assert_eq!(out.code, 0, "{out:?}");
            let json = out.json();
            assert_eq!(json["pending"], 0, "{json}");
            steps += json["steps"].as_array().unwrap().len();
        }
        assert_eq!(steps, EXAMPLE_COUNT, "migrations applied more than once, or not at all");
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        let runners = runners_by_version(&db);
        assert_eq!(runners.len(), EXAMPLE_COUNT, "{runners:?}");
        for (version, runners) in &runners {
            assert_eq!(runners.len(), 1, "{version} applied by {runners:?}");
        }
    }

    fn diesels_migration_run_and_migrate_at_once_on_a_new_database_all_succeed(db: TestDb) {
        // diesel's `migration run` creates the migrations tables before it reads them;
        // outside the lock, runs started together on a new PostgreSQL database raced to
        // create them (`duplicate key value violates unique constraint
        // "pg_type_typname_nsp_index"`).
        let dir = example_migrations();
        let outputs = all_at_once((0..8).map(|i| {
            let args: &[&str] = if i % 2 == 0 {
                &["--lock-timeout", "30", "migration", "run"]
            } else {
                &["--lock-timeout", "30", "migrate"]
            };
            db.command(&dir, args)
        }));
        for out in &outputs {
            assert_eq!(out.code, 0, "{out:?}");
        }
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        let runners = runners_by_version(&db);
        assert_eq!(runners.len(), EXAMPLE_COUNT, "{runners:?}");
        for (version, runners) in &runners {
            assert_eq!(runners.len(), 1, "{version} applied by {runners:?}");
        }
    }

    fn twelve_processes_each_applying_the_next_one_take_turns(db: TestDb) {
        // `migrate +1` each: whoever holds the lock applies the next pending migration,
        // so twelve runs apply the twelve migrations, one each, in version order.
        let dir = example_migrations();
        let outputs = all_at_once((0..EXAMPLE_COUNT).map(|_| {
            db.command(&dir, &["--format", "json", "--lock-timeout", "30", "migrate", "+1"])
        }));
        for out in &outputs {
            assert_eq!(out.code, 0, "{out:?}");
            assert_eq!(out.json()["steps"].as_array().unwrap().len(), 1, "{}", out.stdout);
        }
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        let runners = runners_by_version(&db);
        assert_eq!(runners.len(), EXAMPLE_COUNT, "{runners:?}");
        let mut distinct: Vec<&String> = runners.values().flatten().collect();
        assert_eq!(distinct.len(), EXAMPLE_COUNT, "a migration applied twice: {runners:?}");
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), EXAMPLE_COUNT, "a run applied two migrations: {runners:?}");
        let ids = db.query_strings(
            "SELECT version AS value FROM __pelican_journal WHERE outcome = 'applied' ORDER BY id",
        );
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "applied out of version order");
    }
}

backend_tests! {
    fn of_several_inits_of_a_missing_database_only_the_one_that_made_it_says_so(db: TestDb) {
        let missing = common::Missing::beside(&db, "new");
        let outputs = all_at_once((0..6).map(|_| {
            db.command_with_url(&missing.url, &example_migrations(), &["--format", "json", "--lock-timeout", "30", "init"])
        }));
        let mut created = 0;
        for out in &outputs {
            assert_eq!(out.code, 0, "{out:?}");
            if out.json()["created_database"] == true {
                created += 1;
            }
        }
        assert_eq!(created, 1, "{outputs:?}");
    }
}
