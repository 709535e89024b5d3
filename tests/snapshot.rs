//! Schema snapshots: `pelican snapshot` writes one per backend, `init` builds a fresh
//! database from it, and a database built from it equals one built by the migrations.

mod common;

use common::{copy_migrations, example_migrations, write_migrations, TestDb};
use pelican::boot::Build;
use pelican::catalog::{diff, Schema};
use pelican::snapshot::{Fit, Snapshot};
use pelican::{AnyConnection, Backend, Boot, Migrations};

const HEAD: &str = "20240320110000";
const TENTH: &str = "20240301090000";

/// The catalogs and row counts of two databases, which must be the same.
fn assert_same_schema(a: &TestDb, b: &TestDb) {
    let schema_a = Schema::introspect(&mut a.connect()).unwrap();
    let schema_b = Schema::introspect(&mut b.connect()).unwrap();
    let changes: Vec<String> = diff(&schema_a, &schema_b)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(changes.is_empty(), "the catalogs differ: {changes:#?}");
    assert_eq!(
        schema_a.row_counts(&mut a.connect()).unwrap(),
        schema_b.row_counts(&mut b.connect()).unwrap()
    );
}

/// Migrations that use what the example schema does not: generated and
/// auto-numbered columns, triggers, routines, a view over a view (named to sort
/// before it), expression and partial indexes, and rows with quotes, backslashes,
/// NULLs, newlines, bytes and non-ASCII text, one of them deleted again.
fn rich_migrations(backend: Backend) -> [(&'static str, &'static str, &'static str); 2] {
    let (schema, schema_down, rows, rows_down) = match backend {
        Backend::Sqlite => (
            "CREATE TABLE autor (id INTEGER PRIMARY KEY AUTOINCREMENT, nombre TEXT NOT NULL, nota TEXT NULL,
                foto BLOB NULL, puntos REAL NULL, total INTEGER GENERATED ALWAYS AS (id * 2) VIRTUAL);
             CREATE TABLE etiqueta (clave TEXT PRIMARY KEY, valor TEXT) WITHOUT ROWID;
             CREATE TABLE log (id INTEGER PRIMARY KEY, autor_id INTEGER REFERENCES autor (id), msg TEXT);
             CREATE TRIGGER autor_log AFTER INSERT ON autor BEGIN
                 INSERT INTO log (autor_id, msg) VALUES (NEW.id, 'alta');
             END;
             CREATE VIEW v_autor AS SELECT id, nombre FROM autor;
             CREATE VIEW a_resumen AS SELECT count(*) AS n FROM v_autor;
             CREATE INDEX ix_autor_nombre_lower ON autor (lower(nombre));
             CREATE INDEX ix_log_msg ON log (msg) WHERE msg IS NOT NULL;",
            "DROP VIEW a_resumen; DROP VIEW v_autor; DROP TABLE log; DROP TABLE etiqueta; DROP TABLE autor;",
            "INSERT INTO autor (nombre, nota, foto, puntos) VALUES
                 ('O''Brien', 'C:\\temp\\new', X'00FF10', 0.1),
                 ('Ñandú ✓', NULL, NULL, 1e300),
                 ('x', 'line1
line2', NULL, -2.5);
             DELETE FROM log WHERE autor_id IN (SELECT id FROM autor WHERE nombre = 'x');
             DELETE FROM autor WHERE nombre = 'x';
             INSERT INTO etiqueta VALUES ('k''1', 'v\\1');",
            "DELETE FROM log; DELETE FROM autor; DELETE FROM etiqueta;",
        ),
        Backend::Postgres => (
            "CREATE TYPE estado AS ENUM ('borrador', 'publicado', 'it''s');
             CREATE DOMAIN positivo AS integer CHECK (VALUE > 0);
             CREATE SEQUENCE folio START 100;
             CREATE TABLE autor (id SERIAL PRIMARY KEY, nombre TEXT NOT NULL, nota TEXT, foto BYTEA,
                 puntos DOUBLE PRECISION, estado estado NOT NULL DEFAULT 'borrador',
                 total INTEGER GENERATED ALWAYS AS (id * 2) STORED, etiquetas TEXT[], datos JSONB,
                 nivel positivo, folio INTEGER NOT NULL DEFAULT nextval('folio'));
             CREATE TABLE log (id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 autor_id INTEGER REFERENCES autor (id) ON DELETE CASCADE, msg TEXT CHECK (msg <> ''));
             CREATE FUNCTION registrar() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 INSERT INTO log (autor_id, msg) VALUES (NEW.id, 'alta');
                 RETURN NEW;
             END $$;
             CREATE TRIGGER autor_log AFTER INSERT ON autor FOR EACH ROW EXECUTE FUNCTION registrar();
             CREATE FUNCTION todos() RETURNS SETOF autor LANGUAGE sql AS $$ SELECT * FROM autor $$;
             CREATE VIEW v_autor AS SELECT id, nombre FROM autor;
             CREATE VIEW a_resumen AS SELECT count(*) AS n FROM v_autor;
             CREATE MATERIALIZED VIEW mv_autor AS SELECT count(*) AS n FROM autor;
             CREATE UNIQUE INDEX ix_mv_autor ON mv_autor (n);
             CREATE INDEX ix_autor_nombre_lower ON autor (lower(nombre));
             CREATE INDEX ix_log_msg ON log (msg) WHERE msg IS NOT NULL;",
            "DROP MATERIALIZED VIEW mv_autor; DROP VIEW a_resumen; DROP VIEW v_autor; DROP FUNCTION todos();
             DROP TABLE log; DROP TABLE autor; DROP FUNCTION registrar(); DROP SEQUENCE folio;
             DROP DOMAIN positivo; DROP TYPE estado;",
            "INSERT INTO autor (nombre, nota, foto, puntos, estado, etiquetas, datos, nivel) VALUES
                 ('O''Brien', E'C:\\\\temp\\\\new', '\\x00ff10', 0.1, 'it''s', ARRAY['a', 'b,c'], '{\"k\": \"v\\\"q\"}', 3),
                 ('Ñandú ✓', NULL, NULL, 1e300, 'publicado', NULL, NULL, NULL),
                 ('x', 'line1
line2', NULL, -2.5, 'borrador', '{}', 'null', 1);
             DELETE FROM autor WHERE nombre = 'x';
             REFRESH MATERIALIZED VIEW mv_autor;",
            "DELETE FROM log; DELETE FROM autor;",
        ),
        Backend::Mysql => (
            "CREATE TABLE autor (id INT AUTO_INCREMENT PRIMARY KEY, nombre VARCHAR(100) NOT NULL,
                 nota TEXT NULL, foto BLOB NULL, puntos DOUBLE NULL, total INT AS (id * 2) VIRTUAL,
                 estado ENUM('borrador', 'publicado') NOT NULL DEFAULT 'borrador',
                 CHECK (puntos IS NULL OR puntos > -10));
             CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, autor_id INT NULL, msg VARCHAR(100),
                 CONSTRAINT fk_log_autor FOREIGN KEY (autor_id) REFERENCES autor (id) ON DELETE CASCADE);
             CREATE TRIGGER autor_log AFTER INSERT ON autor FOR EACH ROW
                 INSERT INTO log (autor_id, msg) VALUES (NEW.id, 'alta');
             CREATE TRIGGER autor_log_2 AFTER INSERT ON autor FOR EACH ROW BEGIN
                 INSERT INTO log (autor_id, msg) VALUES (NEW.id, 'otra');
             END;
             CREATE FUNCTION doble(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
             CREATE PROCEDURE limpiar() BEGIN DELETE FROM log; END;
             CREATE VIEW v_autor AS SELECT id, nombre FROM autor;
             CREATE VIEW a_resumen AS SELECT nombre, doble(id) AS d FROM v_autor;",
            "DROP VIEW a_resumen; DROP VIEW v_autor; DROP PROCEDURE limpiar; DROP FUNCTION doble;
             DROP TABLE log; DROP TABLE autor;",
            "INSERT INTO autor (nombre, nota, foto, puntos) VALUES
                 ('O''Brien', 'C:\\\\temp\\\\new', X'00FF10', 0.1),
                 ('Ñandú ✓', NULL, NULL, 1e300),
                 ('x', 'line1\\nline2', NULL, -2.5);
             DELETE FROM autor WHERE nombre = 'x';",
            "DELETE FROM log; DELETE FROM autor;",
        ),
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    [
        ("2024-05-01-000000_rich_schema", schema, schema_down),
        ("2024-05-02-000000_rich_rows", rows, rows_down),
    ]
}

/// What the rich schema's rows hold, as text, and where its counters stand.
fn fingerprint(db: &TestDb) -> Vec<String> {
    let rows = match db.backend {
        Backend::Sqlite => {
            "SELECT id || ':' || nombre || ':' || coalesce(nota, '~') || ':' || coalesce(hex(foto), '~')
                 || ':' || coalesce(puntos, '~') || ':' || total AS value FROM autor ORDER BY id"
        }
        Backend::Postgres => {
            "SELECT concat_ws(':', id, nombre, coalesce(nota, '~'), coalesce(encode(foto, 'hex'), '~'),
                 coalesce(puntos::text, '~'), estado, total, etiquetas::text, datos::text, nivel, folio) AS value
             FROM autor ORDER BY id"
        }
        Backend::Mysql => {
            "SELECT CAST(CONCAT_WS(':', id, nombre, COALESCE(nota, '~'), COALESCE(HEX(foto), '~'),
                 COALESCE(puntos, '~'), total, estado) AS CHAR) AS value FROM autor ORDER BY id"
        }
        other => unimplemented!("{other:?}: a backend these tests do not know"),
    };
    let mut values = db.query_strings(rows);
    if db.backend == Backend::Sqlite {
        values.extend(db.query_strings("SELECT clave || '=' || valor AS value FROM etiqueta"));
    }
    // The next id: the counters come back where the migrations left them.
    db.execute("INSERT INTO autor (nombre) VALUES ('nuevo')");
    values.extend(
        db.query_strings("SELECT CAST(id AS CHAR(20)) AS value FROM autor WHERE nombre = 'nuevo'"),
    );
    values.extend(db.query_strings("SELECT CAST(COUNT(*) AS CHAR(20)) AS value FROM log"));
    values
}

backend_tests! {
    fn a_snapshot_built_database_equals_a_migrated_one(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 12);
        db.pelican(&dir, &["snapshot"]).success();
        let file = Snapshot::path(&dir, db.backend);
        assert_eq!(Snapshot::read(&file).unwrap().head(), HEAD);

        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "snapshot", "{json}");
        assert_eq!(json["snapshot"], HEAD);
        assert_eq!(json["stamped"], 12);
        assert_eq!(db.applied().len(), 12);

        let migrated = TestDb::new(db.backend, "snapshot_twin");
        migrated.pelican(&dir, &["migrate"]).success();
        assert_same_schema(&migrated, &db);
    }

    fn a_richer_schema_comes_back_the_same_from_its_snapshot(db: TestDb) {
        let dir = write_migrations(db.dir(), &rich_migrations(db.backend));
        let out = db.pelican(&dir, &["snapshot"]).success();
        assert!(out.stdout.contains("Wrote"), "{}", out.stdout);
        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "snapshot", "{json}");

        let migrated = TestDb::new(db.backend, "snapshot_rich_twin");
        migrated.pelican(&dir, &["migrate", "--no-guards"]).success();
        assert_same_schema(&migrated, &db);
        assert_eq!(fingerprint(&db), fingerprint(&migrated));
        // And check agrees: the round trip, and the snapshot built once more.
        let check = db.pelican(&dir, &["--format", "json", "check"]);
        assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    }

    fn init_uses_an_older_snapshot_up_to_its_head_then_migrates_the_rest(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 10);
        db.pelican(&dir, &["snapshot"]).success();
        copy_migrations(&example_migrations(), db.dir(), 12);

        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "snapshot", "{json}");
        assert_eq!(json["snapshot"], TENTH);
        assert_eq!(json["stamped"], 12);
        assert_eq!(json["current"], HEAD);
        assert_eq!(db.applied().len(), 12);
        // The two newer migrations ran: a column added, one renamed.
        assert!(db.columns("inscripcion").contains(&"progreso".to_owned()));
        assert!(db.columns("leccion").contains(&"cuerpo".to_owned()));

        let migrated = TestDb::new(db.backend, "snapshot_older_twin");
        migrated.pelican(&dir, &["migrate"]).success();
        assert_same_schema(&migrated, &db);
        let text = TestDb::new(db.backend, "snapshot_older_text");
        let out = text.pelican(&dir, &["init"]).success();
        assert!(
            out.stdout.contains(&format!("from the snapshot of {TENTH} and 2 newer migration(s)")),
            "{}",
            out.stdout
        );
    }

    fn newer_migrations_outside_a_transaction_run_one_by_one_after_the_snapshot(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 10);
        db.pelican(&dir, &["snapshot"]).success();
        let folder = dir.join("2024-04-01-000000_index_curso_titulo_id");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("up.sql"), "CREATE INDEX ix_curso_titulo_id ON curso (titulo, id);\n").unwrap();
        std::fs::write(folder.join("metadata.toml"), "run_in_transaction = false\n").unwrap();
        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "per_migration", "{json}");
        assert_eq!(json["snapshot"], TENTH);
        assert_eq!(json["stamped"], 10);
        assert_eq!(json["steps"].as_array().unwrap().len(), 1);
        assert_eq!(db.applied().len(), 11);
        let schema = Schema::introspect(&mut db.connect()).unwrap();
        assert!(schema.index(Some("curso"), "ix_curso_titulo_id").is_some());
    }

    fn a_snapshot_of_another_head_is_not_used(db: TestDb) {
        let dir = copy_migrations(&example_migrations(), db.dir(), 12);
        db.pelican(&dir, &["snapshot"]).success();
        // An applied migration edited below the snapshot's head: it no longer describes them.
        let up = dir.join("2024-02-01-090000_add_usuario_telefono/up.sql");
        let text = std::fs::read_to_string(&up).unwrap();
        std::fs::write(&up, format!("{text}-- edited\n")).unwrap();
        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "batch", "{json}");
        assert_eq!(json["snapshot"], serde_json::Value::Null);
    }

    fn the_library_boots_from_a_snapshot_text(db: TestDb) {
        let migrations = Migrations::from_dir(example_migrations()).unwrap();
        let snapshot = Snapshot::create(&db.url, &migrations, None).unwrap();
        assert_eq!(snapshot.backend(), db.backend);
        assert_eq!(snapshot.fit(&migrations), Fit::Current);
        assert!(db.tables().is_empty(), "the snapshot is made on a scratch database");
        let mut conn: AnyConnection = db.connect();
        let report = Boot::new(&migrations)
            .snapshot(snapshot.sql())
            .run(&mut conn)
            .unwrap();
        assert_eq!(report.build, Some(Build::Snapshot));
        assert_eq!(report.stamped, 12);
        assert_eq!(db.applied().len(), 12);
        // Booting again finds it managed, at head.
        let again = Boot::new(&migrations).snapshot(snapshot.sql()).run(&mut conn).unwrap();
        assert_eq!(again.build, None);
    }

    fn a_text_that_is_not_a_snapshot_fails_the_boot(db: TestDb) {
        let migrations = Migrations::from_dir(example_migrations()).unwrap();
        let error = Boot::new(&migrations)
            .snapshot("CREATE TABLE t (id INTEGER);")
            .run(&mut db.connect())
            .unwrap_err();
        assert!(error.to_string().contains("pelican schema snapshot"), "{error}");
        assert!(db.tables().is_empty());
    }
}

/// The snapshots committed beside the example migrations stand for all of them: a
/// migration added without writing them again fails here (and in `pelican check`).
#[test]
fn the_committed_snapshots_describe_the_example_migrations() {
    let migrations = Migrations::from_dir(example_migrations()).unwrap();
    assert_eq!(
        migrations.len(),
        12,
        "the snapshot files are not migrations"
    );
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
        let snapshot = Snapshot::find(&example_migrations(), backend)
            .unwrap()
            .unwrap_or_else(|| panic!("no committed snapshot for {backend}"));
        assert_eq!(snapshot.backend(), backend);
        assert_eq!(snapshot.fit(&migrations), Fit::Current, "{backend}");
    }
}

backend_tests! {
    fn a_snapshot_leaves_out_the_ledgers_tables_and_only_those(db: TestDb) {
        // Near the ledger's names but none of its tables: `__pelicanx` has no `_` after
        // `__pelican` (a LIKE whose `_` is not escaped would take it for one), and
        // diesel's table is one name, not a prefix.
        let dir = write_migrations(db.dir(), &[(
            "2024-01-01-000000_near_names",
            "CREATE TABLE __pelicanx (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE __diesel_schema_migrations_x (id INTEGER PRIMARY KEY);\n\
             INSERT INTO __pelicanx (id) VALUES (7);",
            "DROP TABLE __diesel_schema_migrations_x; DROP TABLE __pelicanx;",
        )]);
        db.pelican(&dir, &["snapshot"]).success();
        let text = std::fs::read_to_string(Snapshot::path(&dir, db.backend)).unwrap();
        for ledger in ["__pelican_checksums", "__pelican_journal", "__pelican_build"] {
            assert!(!text.contains(ledger), "{ledger} in the snapshot:\n{text}");
        }
        let json = db.pelican(&dir, &["--format", "json", "init"]).success().json();
        assert_eq!(json["build"], "snapshot", "{json}");
        let tables = db.tables();
        for table in ["__pelicanx", "__diesel_schema_migrations_x"] {
            assert!(tables.contains(&table.to_owned()), "{table} not built: {tables:?}");
        }
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR(20)) AS value FROM __pelicanx"), ["7"]);
        let migrated = TestDb::new(db.backend, "near_names_twin");
        migrated.pelican(&dir, &["migrate"]).success();
        assert_same_schema(&migrated, &db);
    }
}
