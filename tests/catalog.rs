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
        assert!(schema.views.contains("v_inscripciones"));
        assert!(!schema.tables.contains_key("v_inscripciones"));
        if backend != pelican::Backend::Sqlite {
            assert!(schema.has_constraint(Some("inscripcion"), "uq_inscripcion_usuario_curso"));
        }
    }
}
