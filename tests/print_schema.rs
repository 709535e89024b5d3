//! `pelican print-schema` prints what diesel CLI 2.3's `print-schema` prints, byte for
//! byte, for the same database and the same `diesel.toml`: every `[print_schema]` key,
//! on each backend, on a fixture schema of the shapes diesel has rules for
//! (`tests/fixtures/print_schema/*.sql`) and on the example schema (`migrations/`).
//!
//! Where diesel CLI is installed (`PELICAN_DIESEL_CLI`, `diesel` on `PATH`, or
//! `target/tools/bin/diesel` as `scripts/bench` installs it), each case runs it side by
//! side and compares; elsewhere pelican is compared with what diesel CLI 2.3.14 printed
//! once, committed under `tests/expected/`. To write those files again (after changing
//! a fixture or adding a case), with diesel CLI installed:
//!
//! ```sh
//! PELICAN_BLESS=1 cargo test --all-features --test print_schema
//! ```

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{diesel_cli, example_migrations, Output, TestDb};
use pelican::Backend;

fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected")
}

/// A program run from the test's folder with this database and nothing of the
/// developer's environment.
fn exec(program: &Path, db: &TestDb, args: &[&str]) -> Output {
    Output::from(
        Command::new(program)
            .current_dir(db.dir())
            .env_remove("DATABASE_URL")
            .env_remove("MIGRATION_DIRECTORY")
            .env_remove("DIESEL_CONFIG_FILE")
            .env("DATABASE_URL", &db.url)
            .args(args)
            .output()
            .expect("run the program"),
    )
}

fn pelican() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_pelican"))
}

/// The fixture schema for the test database's backend.
fn fixture(db: &TestDb) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/print_schema")
        .join(format!("{}.sql", db.backend));
    db.execute(&std::fs::read_to_string(file).expect("the fixture"));
}

/// Runs `args` with pelican and compares stdout and the exit code with diesel CLI's (run
/// live where installed), else with the committed `tests/expected/NAME`.
#[track_caller]
fn same_as_diesel(db: &TestDb, expected: &str, args: &[&str]) -> Output {
    let ours = exec(pelican(), db, args);
    let file = expected_dir().join(expected);
    match diesel_cli() {
        Some(diesel) => {
            let theirs = exec(&diesel, db, args);
            if std::env::var_os("PELICAN_BLESS").is_some() {
                assert_eq!(theirs.code, 0, "diesel failed: {theirs:?}");
                std::fs::create_dir_all(file.parent().expect("a folder")).expect("mkdir");
                std::fs::write(&file, &theirs.stdout).expect("write the expected file");
            } else if std::fs::read_to_string(&file).ok().as_deref() != Some(&theirs.stdout) {
                eprintln!(
                    "note: {} differs from what this diesel CLI prints (PELICAN_BLESS=1 writes it)",
                    file.display()
                );
            }
            assert_eq!(
                ours.stdout, theirs.stdout,
                "pelican (left) and diesel CLI (right) differ for {expected}; pelican's stderr: {}",
                ours.stderr
            );
            assert_eq!(
                ours.code, theirs.code,
                "exit codes differ: {ours:?} {theirs:?}"
            );
        }
        None => {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
                panic!(
                    "{} is missing: install diesel CLI and run with PELICAN_BLESS=1",
                    file.display()
                )
            });
            assert_eq!(ours.code, 0, "pelican failed: {ours:?}");
            assert_eq!(ours.stdout, text, "pelican differs from {}", file.display());
        }
    }
    ours
}

/// Runs one `[print_schema]` case on the fixture: `toml` is the `diesel.toml` (none if
/// `None`), `files` extra files written beside it.
fn case(backend: Backend, name: &str, toml: Option<&str>, files: &[(&str, &str)]) {
    let db = TestDb::new(backend, name);
    fixture(&db);
    if let Some(toml) = toml {
        std::fs::write(db.dir().join("diesel.toml"), toml).expect("write diesel.toml");
    }
    for (file, text) in files {
        std::fs::write(db.dir().join(file), text).expect("write a file");
    }
    same_as_diesel(
        &db,
        &format!("print_schema/{name}.{backend}.rs"),
        &["print-schema"],
    );
}

/// A patch of the header line only, which every backend's schema starts with.
const HEADER_PATCH: &str = "\
--- schema.rs
+++ schema.rs
@@ -1,2 +1,2 @@
-// @generated automatically by Diesel CLI.
+// @generated automatically by Diesel CLI, then patched.
 
";

macro_rules! case_test {
    (sqlite, $name:ident, $toml:expr, $files:expr) => {
        #[cfg(feature = "sqlite")]
        #[test]
        fn sqlite() {
            case(Backend::Sqlite, stringify!($name), $toml, $files);
        }
    };
    (postgres, $name:ident, $toml:expr, $files:expr) => {
        #[cfg(feature = "postgres")]
        #[test]
        fn postgres() {
            case(Backend::Postgres, stringify!($name), $toml, $files);
        }
    };
    (mysql, $name:ident, $toml:expr, $files:expr) => {
        #[cfg(feature = "mysql")]
        #[test]
        fn mysql() {
            case(Backend::Mysql, stringify!($name), $toml, $files);
        }
    };
}

/// One test per case and backend: `name [backends] = diesel.toml, extra files;`.
macro_rules! cases {
    ($($name:ident [$($backend:ident),*] = $toml:expr, $files:expr;)*) => {
        $(
            mod $name {
                use super::*;
                $(case_test!($backend, $name, $toml, $files);)*
            }
        )*
    };
}

cases! {
    no_diesel_toml [sqlite, postgres, mysql] = None, &[];
    empty_print_schema [sqlite, postgres, mysql] = Some("[print_schema]\n"), &[];
    with_docs_true [sqlite, postgres, mysql] = Some("[print_schema]\nwith_docs = true\n"), &[];
    with_docs_only_database_comments [sqlite, postgres, mysql] =
        Some("[print_schema]\nwith_docs = \"only-database-comments\"\n"), &[];
    with_docs_false [sqlite, postgres, mysql] = Some("[print_schema]\nwith_docs = false\n"), &[];
    filter_only_tables [sqlite, postgres, mysql] =
        Some("[print_schema]\nfilter = { only_tables = [\"^post\", \"users\"] }\n"), &[];
    filter_except_tables [sqlite, postgres, mysql] =
        Some("[print_schema]\nfilter = { except_tables = [\"^post\", \"Audit\"] }\n"), &[];
    column_sorting_name [sqlite, postgres, mysql] =
        Some("[print_schema]\ncolumn_sorting = \"name\"\n"), &[];
    column_sorting_ordinal_position [sqlite, postgres, mysql] =
        Some("[print_schema]\ncolumn_sorting = \"ordinal_position\"\n"), &[];
    schema_other [postgres] = Some("[print_schema]\nschema = \"other\"\n"), &[];
    schema_public [postgres] = Some("[print_schema]\nschema = \"public\"\n"), &[];
    patch_file [sqlite, postgres, mysql] =
        Some("[print_schema]\npatch_file = \"schema.patch\"\n"), &[("schema.patch", HEADER_PATCH)];
    import_types [sqlite, postgres, mysql] =
        Some("[print_schema]\nimport_types = [\"diesel::sql_types::*\", \"crate::types::Extra\"]\n"), &[];
    no_missing_sql_type_definitions [postgres, mysql] =
        Some("[print_schema]\ngenerate_missing_sql_type_definitions = false\n"), &[];
    except_custom_type_definitions [postgres, mysql] =
        Some("[print_schema]\nexcept_custom_type_definitions = [\"Tsvector\", \"^Enum$\"]\n"), &[];
    custom_type_derives [postgres, mysql] =
        Some("[print_schema]\ncustom_type_derives = [\"diesel::query_builder::QueryId\", \"Clone\"]\n"), &[];
    custom_type_docs [postgres, mysql] =
        Some("[print_schema]\nwith_docs = true\ncustom_type_derives = [\"diesel::sql_types::SqlType\", \"Debug\"]\n"), &[];
    sqlite_integer_primary_key_is_bigint [sqlite, postgres, mysql] =
        Some("[print_schema]\nsqlite_integer_primary_key_is_bigint = true\n"), &[];
    pg_domains_as_custom_types [postgres] =
        Some("[print_schema]\npg_domains_as_custom_types = [\"^positive\"]\n"), &[];
    allow_tables_fk_related_tables [sqlite, postgres, mysql] =
        Some("[print_schema]\nallow_tables_to_appear_in_same_query_config = \"fk_related_tables\"\n"), &[];
    allow_tables_all_tables [sqlite, postgres, mysql] =
        Some("[print_schema]\nallow_tables_to_appear_in_same_query_config = \"all_tables\"\n"), &[];
    allow_tables_none [sqlite, postgres, mysql] =
        Some("[print_schema]\nallow_tables_to_appear_in_same_query_config = \"none\"\n"), &[];
    named_sections [sqlite, postgres, mysql] = Some(
        "[print_schema]\nwith_docs = true\n\
         [print_schema.accounts]\nfilter = { only_tables = [\"users\", \"links\"] }\n\
         [print_schema.zettings]\nfilter = { only_tables = [\"settings\"] }\nwith_docs = true\n"
    ), &[];
    named_default_section [sqlite, postgres, mysql] = Some(
        "[print_schema]\nwith_docs = true\n\
         [print_schema.default]\nfilter = { only_tables = [\"settings\"] }\n"
    ), &[];
    every_key_at_once [postgres] = Some(
        "[print_schema]\nfile = \"src/schema.rs\"\nwith_docs = true\n\
         filter = { except_tables = [\"Audit\"] }\ncolumn_sorting = \"name\"\n\
         patch_file = \"schema.patch\"\nimport_types = [\"diesel::sql_types::*\"]\n\
         generate_missing_sql_type_definitions = true\n\
         except_custom_type_definitions = [\"Tsvector\"]\n\
         custom_type_derives = [\"diesel::query_builder::QueryId\", \"Clone\"]\n\
         sqlite_integer_primary_key_is_bigint = false\n\
         pg_domains_as_custom_types = [\"positive_int\"]\n\
         allow_tables_to_appear_in_same_query_config = \"fk_related_tables\"\n"
    ), &[("schema.patch", HEADER_PATCH)];
}

/// The example application's schema (`migrations/`), migrated by pelican, printed with
/// no configuration: `tests/expected/schema.BACKEND.rs`.
mod example_schema {
    use super::*;

    fn example(backend: Backend) {
        let db = TestDb::new(backend, "example_schema");
        db.pelican(&example_migrations(), &["migrate"]).success();
        same_as_diesel(&db, &format!("schema.{backend}.rs"), &["print-schema"]);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite() {
        example(Backend::Sqlite);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres() {
        example(Backend::Postgres);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql() {
        example(Backend::Mysql);
    }
}

backend_tests! {
    fn command_line_options_change_the_default_configuration(db: TestDb) {
        fixture(&db);
        let backend = db.backend;
        same_as_diesel(
            &db,
            &format!("print_schema/command_line_options.{backend}.rs"),
            &["print-schema", "--with-docs", "--column-sorting", "name", "-o", "users", "posts"],
        );
        same_as_diesel(
            &db,
            &format!("print_schema/command_line_except.{backend}.rs"),
            &["print-schema", "-e", "^post", "users", "--import-types", "diesel::sql_types::*",
              "--allow-tables-to-appear-in-same-query-config", "none"],
        );
    }

    fn options_given_again_apply_as_diesels_do(db: TestDb) {
        // Without named configurations, every option changes the one there is; a flag
        // given twice is given.
        fixture(&db);
        let backend = db.backend;
        same_as_diesel(
            &db,
            &format!("print_schema/command_line_options.{backend}.rs"),
            &["print-schema", "-o", "--with-docs", "--column-sorting", "name", "-o", "users",
              "posts", "--with-docs", "--schema-key", "default"],
        );
        // With named configurations, each option changes the configuration of the
        // --schema-key before it: diesel.toml's named_sections case, said on the
        // command line, prints what diesel printed for that diesel.toml.
        std::fs::write(
            db.dir().join("diesel.toml"),
            "[print_schema.accounts]\n[print_schema.zettings]\n",
        )
        .unwrap();
        let expected = format!("print_schema/named_sections.{backend}.rs");
        same_as_diesel(
            &db,
            &expected,
            &["print-schema", "--schema-key", "default", "--with-docs", "--schema-key", "accounts",
              "-o", "users", "links", "--schema-key", "zettings", "--with-docs", "-o", "settings"],
        );
        // Without a --schema-key, diesel applies the options to none of them.
        std::fs::write(
            db.dir().join("diesel.toml"),
            "[print_schema]\nwith_docs = true\n\
             [print_schema.accounts]\nfilter = { only_tables = [\"users\", \"links\"] }\n\
             [print_schema.zettings]\nfilter = { only_tables = [\"settings\"] }\nwith_docs = true\n",
        )
        .unwrap();
        same_as_diesel(&db, &expected, &["print-schema", "-e", "users", "--column-sorting", "name"]);
    }

    fn a_table_without_a_primary_key_is_refused_naming_it(db: TestDb) {
        fixture(&db);
        db.execute("CREATE TABLE loose (note TEXT)");
        let out = exec(pelican(), &db, &["print-schema"]);
        if db.backend == Backend::Sqlite {
            // SQLite's rowid is a primary key.
            assert_eq!(out.code, 0, "{out:?}");
            assert!(out.stdout.contains("loose (rowid) {"), "{}", out.stdout);
            return;
        }
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("Table `loose` has no primary key"), "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        // Left out by a filter, it is no obstacle.
        std::fs::write(
            db.dir().join("diesel.toml"),
            "[print_schema]\nfilter = { except_tables = [\"^loose$\"] }\n",
        )
        .unwrap();
        exec(pelican(), &db, &["print-schema"]).success();
    }

    fn a_key_diesel_does_not_know_is_refused(db: TestDb) {
        std::fs::write(db.dir().join("diesel.toml"), "[print_schema]\nwith_doc = true\n").unwrap();
        let out = exec(pelican(), &db, &["print-schema"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("with_doc"), "{}", out.stderr);
        if let Some(diesel) = diesel_cli() {
            assert_eq!(exec(&diesel, &db, &["print-schema"]).code, 1);
        }
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_schema_on_sqlite_is_refused_as_diesel_refuses_it() {
    let db = TestDb::new(Backend::Sqlite, "sqlite_schema");
    fixture(&db);
    std::fs::write(
        db.dir().join("diesel.toml"),
        "[print_schema]\nschema = \"other\"\n",
    )
    .unwrap();
    let out = exec(pelican(), &db, &["print-schema"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("sqlite cannot infer schema"),
        "{}",
        out.stderr
    );
    if let Some(diesel) = diesel_cli() {
        assert_eq!(exec(&diesel, &db, &["print-schema"]).code, 1);
    }
}

#[cfg(feature = "postgres")]
#[test]
fn a_varchar_array_is_warned_about_as_diesel_warns() {
    let db = TestDb::new(Backend::Postgres, "varchar_array");
    fixture(&db);
    let out = exec(pelican(), &db, &["print-schema"]).success();
    assert!(
        out.stderr
            .contains("The column `nicknames` is of type `varchar[]`"),
        "{}",
        out.stderr
    );
}
