//! `pelican::testing`: a database per test, cloned from a template built once.

mod common;

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use pelican::testing::{Harness, TestDatabase};
use pelican::{Backend, Migrations};

use common::{example_seed as seed, example_set as example};

fn count(db: &mut TestDatabase, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    db.conn().load_with::<N>(sql, &[]).unwrap()[0].n
}

fn exists(backend: Backend, name: &str, url: &str) -> bool {
    match backend {
        Backend::Sqlite => std::path::Path::new(url).exists(),
        Backend::Postgres | Backend::Mysql => common::TestDb::server_has(backend, name),
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    }
}

fn each_backend(test: impl Fn(Backend)) {
    #[cfg(feature = "sqlite")]
    test(Backend::Sqlite);
    #[cfg(feature = "postgres")]
    test(Backend::Postgres);
    #[cfg(feature = "mysql")]
    test(Backend::Mysql);
}

#[test]
fn sixteen_parallel_tests_each_get_their_own_database_at_head() {
    each_backend(|backend| {
        let migrations = Arc::new(example());
        let made: Vec<(String, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let migrations = Arc::clone(&migrations);
                    scope.spawn(move || {
                        let mut db = Harness::new(&migrations, backend).seed("admin", seed).database().unwrap();
                        // At head, seeded, managed.
                        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"), 12);
                        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM usuario"), 1);
                        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM configuracion"), 4);
                        db.conn()
                            .batch_execute(&format!(
                                "INSERT INTO usuario (id, email, nombre) VALUES ({}, 'u{i}@lms.test', 'U')",
                                100 + i
                            ))
                            .unwrap();
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        // Nobody else's writes.
                        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM usuario"), 2);
                        (db.name().to_owned(), db.url().to_owned())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let names: std::collections::BTreeSet<&String> = made.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 16, "{backend}: databases were shared");
        for (name, url) in &made {
            assert!(
                !exists(backend, name, url),
                "{backend}: {name} was left behind"
            );
        }
    });
}

#[test]
fn a_changed_migration_set_gets_a_new_template() {
    each_backend(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let migrations = common::copy_migrations(&common::example_migrations(), dir.path(), 3);
        let first = Migrations::from_dir(&migrations).unwrap();
        let harness = Harness::new(&first, backend);
        let key = harness.key();
        let mut db = harness.database().unwrap();
        assert_eq!(
            count(
                &mut db,
                "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"
            ),
            3
        );
        drop(db);

        // An edit to an existing migration is a new set too.
        let up = migrations.join("2024-01-16-100000_create_inscripcion/up.sql");
        std::fs::write(
            &up,
            std::fs::read_to_string(&up).unwrap() + "\nCREATE TABLE extra_tpl (id INTEGER);\n",
        )
        .unwrap();
        let second = Migrations::from_dir(&migrations).unwrap();
        let harness = Harness::new(&second, backend);
        assert_ne!(harness.key(), key);
        let mut db = harness.database().unwrap();
        assert_eq!(
            count(&mut db, "SELECT COUNT(*) AS n FROM extra_tpl"),
            0,
            "the old template was reused"
        );
    });
}

#[test]
fn reset_puts_the_template_state_back() {
    each_backend(|backend| {
        let migrations = example();
        let mut db = Harness::new(&migrations, backend)
            .seed("admin", seed)
            .database()
            .unwrap();
        db.conn()
            .batch_execute("DELETE FROM configuracion")
            .unwrap();
        let old = (db.name().to_owned(), db.url().to_owned());
        db.reset().unwrap();
        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM configuracion"), 4);
        assert_eq!(count(&mut db, "SELECT COUNT(*) AS n FROM usuario"), 1);
        // Reset in place, or replaced by a new copy and the old one dropped.
        assert!(
            db.name() == old.0 || !exists(backend, &old.0, &old.1),
            "{backend}: the replaced database was left"
        );
    });
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_databases_can_live_in_memory() {
    let migrations = example();
    let mut a = Harness::new(&migrations, Backend::Sqlite)
        .in_memory()
        .database()
        .unwrap();
    let mut b = Harness::new(&migrations, Backend::Sqlite)
        .in_memory()
        .database()
        .unwrap();
    assert!(a.url().contains("mode=memory"));
    a.conn()
        .batch_execute("INSERT INTO configuracion (clave, valor) VALUES ('x', 'y')")
        .unwrap();
    assert_eq!(count(&mut a, "SELECT COUNT(*) AS n FROM configuracion"), 5);
    assert_eq!(count(&mut b, "SELECT COUNT(*) AS n FROM configuracion"), 4);
}

#[test]
fn assert_round_trip_passes_the_example_and_names_an_incomplete_down() {
    each_backend(|backend| {
        pelican::testing::assert_round_trip(&example(), backend);

        let dir = tempfile::tempdir().unwrap();
        let migrations = common::write_migrations(dir.path(), &[
            ("2024-01-01-000000_create_t", "CREATE TABLE t (id INTEGER PRIMARY KEY);", "DROP TABLE t;"),
            ("2024-01-02-000000_two_columns",
             "ALTER TABLE t ADD COLUMN a INTEGER NULL;\nALTER TABLE t ADD COLUMN b VARCHAR(20) NULL;",
             "ALTER TABLE t DROP COLUMN a;"),
        ]);
        let migrations = Migrations::from_dir(&migrations).unwrap();
        let failure =
            std::panic::catch_unwind(|| pelican::testing::assert_round_trip(&migrations, backend))
                .expect_err("an incomplete down.sql passed");
        let message = (*failure)
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("2024-01-02-000000_two_columns"),
            "{backend}: {message}"
        );
        assert!(
            message.contains("t.b: missing → VARCHAR(20) NULL"),
            "{backend}: {message}"
        );
    });
}

#[test]
fn databases_prepared_ahead_are_each_a_fresh_copy() {
    each_backend(|backend| {
        let migrations = example();
        let harness = Harness::new(&migrations, backend).prepare_ahead(2);
        let mut first = harness.database().unwrap();
        first
            .conn()
            .batch_execute("DELETE FROM configuracion")
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut second = harness.database().unwrap();
        let mut third = harness.database().unwrap();
        assert_ne!(first.name(), second.name());
        assert_ne!(second.name(), third.name());
        for db in [&mut second, &mut third] {
            assert_eq!(
                count(db, "SELECT COUNT(*) AS n FROM configuracion"),
                4,
                "{backend}"
            );
            assert_eq!(
                count(db, "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"),
                12
            );
        }
    });
}
