//! The catalog reads the same schema the same way on every backend.

mod common;

use common::example_migrations;
use pelican::catalog::{Kind, Schema};

backend_tests! {
    fn the_example_schema_reads_the_same_on_every_backend(db: TestDb) {
        db.pelican(&example_migrations(), &["migrate"]).success();
        let mut conn = db.connect();
        let schema = Schema::introspect(&mut conn).unwrap();
        let backend = schema.backend();
        let names: Vec<&str> = schema.tables.values().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["anuncio", "configuracion", "curso", "inscripcion", "leccion", "usuario"],
            "ledger tables must not be part of the schema"
        );
        let usuario = &schema.tables[&Schema::key(backend, Kind::Table, "usuario")];
        let telefono = usuario.column("telefono", backend).expect("usuario.telefono");
        assert_eq!(telefono.data_type, "varchar(20)");
        assert!(telefono.nullable);
        let email = usuario.column("email", backend).unwrap();
        assert_eq!(email.data_type, "varchar(255)");
        assert!(!email.nullable);
        let curso = &schema.tables["curso"];
        assert_eq!(curso.column("precio", backend).unwrap().data_type, "decimal(10,2)");
        assert_eq!(curso.column("publicado", backend).unwrap().data_type, "boolean");
        assert_eq!(curso.column("created_at", backend).unwrap().data_type, "timestamp");
        assert_eq!(curso.column("id", backend).unwrap().data_type, "integer");

        let index = schema.index(Some("usuario"), "ux_usuario_email").expect("the unique index");
        assert!(index.unique);
        assert_eq!(index.columns, ["email"]);
        let titulo = schema.index(None, "ix_curso_titulo").unwrap();
        assert!(!titulo.unique);
        assert_eq!(titulo.table, "curso");
        assert!(schema.views.contains_key("v_inscripciones"));
        assert!(!schema.tables.contains_key("v_inscripciones"));
        if backend != pelican::Backend::Sqlite {
            assert!(schema.has_constraint(Some("inscripcion"), "uq_inscripcion_usuario_curso"));
        }
    }
}

backend_tests! {
    fn the_same_schema_built_twice_compares_equal(db: TestDb) {
        db.pelican(&example_migrations(), &["migrate"]).success();
        // The twin comes from pelican::testing: built by the fresh path (snapshot or
        // one batch), then copied; it must equal the one migrated step by step.
        let migrations = pelican::Migrations::from_dir(example_migrations()).unwrap();
        let mut twin = pelican::testing::Harness::new(&migrations, db.backend).database().unwrap();
        let a = Schema::introspect(&mut db.connect()).unwrap();
        let b = Schema::introspect(twin.conn()).unwrap();
        assert_eq!(pelican::catalog::diff(&a, &b), vec![]);
        assert_eq!(a.row_counts(&mut db.connect()).unwrap(), b.row_counts(twin.conn()).unwrap());
        assert_eq!(a.row_counts(&mut db.connect()).unwrap()["configuracion"], 4);
        let usuario = &a.tables["usuario"];
        assert_eq!(usuario.primary_key, ["id"]);
        assert!(a.foreign_keys.iter().any(|fk| fk.table == "inscripcion"
            && fk.columns == ["usuario_id"] && fk.references == "usuario" && fk.referenced == ["id"]));
        assert!(usuario.column("created_at", a.backend()).unwrap().default.is_some());
    }

    fn a_diff_reads_like_a_review_comment(db: TestDb) {
        db.pelican(&example_migrations(), &["migrate"]).success();
        let before = Schema::introspect(&mut db.connect()).unwrap();
        let rows_before = before.row_counts(&mut db.connect()).unwrap();
        db.execute("ALTER TABLE usuario DROP COLUMN telefono");
        db.execute("ALTER TABLE curso ADD COLUMN nivel INTEGER NULL");
        db.execute("DELETE FROM configuracion");
        db.execute("CREATE TABLE extra (id INTEGER)");
        let after = Schema::introspect(&mut db.connect()).unwrap();
        let changes: Vec<String> = pelican::catalog::diff(&before, &after).iter().map(ToString::to_string).collect();
        assert!(changes.contains(&"usuario.telefono: VARCHAR(20) NULL → missing".to_owned()), "{changes:?}");
        assert!(changes.contains(&"curso.nivel: missing → INTEGER NULL".to_owned()), "{changes:?}");
        assert!(changes.contains(&"table extra: missing → 1 column(s)".to_owned()), "{changes:?}");
        let rows: Vec<String> = pelican::catalog::diff_rows(&rows_before, &after.row_counts(&mut db.connect()).unwrap())
            .iter().map(ToString::to_string).collect();
        assert_eq!(rows, ["configuracion rows: 4 row(s) → 0 row(s)"]);
    }
}
