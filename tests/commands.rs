//! Every command of the `pelican` binary, on each backend, against the example schema.

mod common;

use common::{example_migrations, write_migrations};

const HEAD: &str = "20240320110000";
const EXAMPLE_COUNT: usize = 12;

backend_tests! {
    fn migrate_applies_every_migration_and_current_shows_head(db: TestDb) {
        let out = db.pelican(&example_migrations(), &["migrate"]).success();
        assert!(out.stdout.contains("Applied 2024-01-15-090000_create_usuario"), "{}", out.stdout);
        assert!(out.stderr.contains("Applying 2024-01-15-090000_create_usuario"), "{}", out.stderr);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        assert!(db.tables().contains(&"usuario".to_owned()));
        assert!(db.columns("usuario").contains(&"telefono".to_owned()));

        let current = db.pelican(&example_migrations(), &["current"]).success();
        assert_eq!(current.stdout.trim(), format!("{HEAD} rename_leccion_contenido (head)"));

        let json = db.pelican(&example_migrations(), &["--format", "json", "current"]).success().json();
        assert_eq!(json["current"], HEAD);
        assert_eq!(json["head"], HEAD);
        assert_eq!(json["pending"], 0);
    }

    fn migrate_again_does_nothing(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        let out = db.pelican(&migrations, &["migrate"]).success();
        assert!(out.stdout.starts_with("Nothing to do"), "{}", out.stdout);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
    }

    fn migrate_to_a_version_prefix_and_plus_n(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate", "2024-01-17"]).success();
        assert_eq!(db.applied().last().map(String::as_str), Some("20240117093000"));
        db.pelican(&migrations, &["upgrade", "+2"]).success();
        assert_eq!(db.applied().len(), 6);
        let json = db.pelican(&migrations, &["--format", "json", "current"]).success().json();
        assert_eq!(json["current"], "20240201090000");
        assert_eq!(json["pending"], EXAMPLE_COUNT - 6);
    }

    fn downgrade_relative_version_and_base(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        let out = db.pelican(&migrations, &["downgrade", "-1"]).success();
        assert!(out.stdout.contains("Reverted 2024-03-20-110000_rename_leccion_contenido"), "{}", out.stdout);
        assert!(db.columns("leccion").contains(&"contenido".to_owned()));
        assert_eq!(db.applied().len(), EXAMPLE_COUNT - 1);

        db.pelican(&migrations, &["downgrade", "20240201090000"]).success();
        assert_eq!(db.applied().last().map(String::as_str), Some("20240201090000"));
        assert!(!db.tables().contains(&"anuncio".to_owned()));

        db.pelican(&migrations, &["downgrade", "base"]).success();
        assert!(db.applied().is_empty());
        let left: Vec<String> = db.tables().into_iter().filter(|t| !t.starts_with("__")).collect();
        assert!(left.is_empty(), "tables left after downgrade base: {left:?}");
        let current = db.pelican(&migrations, &["current"]).success();
        assert!(current.stdout.starts_with("base"), "{}", current.stdout);
    }

    fn redo_reverts_and_reapplies(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate"]).success();
        let out = db.pelican(&migrations, &["redo", "-n", "2"]).success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines[0].starts_with("Reverted 2024-03-20-110000"), "{}", out.stdout);
        assert!(lines[1].starts_with("Reverted 2024-03-10-093000"), "{}", out.stdout);
        assert!(lines[2].starts_with("Applied 2024-03-10-093000"), "{}", out.stdout);
        assert!(lines[3].starts_with("Applied 2024-03-20-110000"), "{}", out.stdout);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        assert!(db.columns("leccion").contains(&"cuerpo".to_owned()));
    }

    fn history_marks_applied_and_pending(db: TestDb) {
        let migrations = example_migrations();
        db.pelican(&migrations, &["migrate", "+3"]).success();
        let out = db.pelican(&migrations, &["history"]).success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[0], "Migrations:");
        assert!(lines[1].starts_with("  [X] 2024-01-15-090000_create_usuario  20"), "{}", out.stdout);
        assert!(lines[4].starts_with("  [ ] 2024-01-17-093000_create_configuracion"), "{}", out.stdout);
        assert_eq!(lines.len(), EXAMPLE_COUNT + 1);

        let json = db.pelican(&migrations, &["--format", "json", "history"]).success().json();
        assert_eq!(json["command"], "history");
        let entries = json["history"].as_array().expect("an array under `history`");
        assert_eq!(entries.len(), EXAMPLE_COUNT);
        assert_eq!(entries[0]["version"], "20240115090000");
        assert_eq!(entries[0]["name"], "2024-01-15-090000_create_usuario");
        assert_eq!(entries[0]["applied"], true);
        assert!(entries[0]["run_on"].is_string());
        assert_eq!(entries[3]["applied"], false);
        assert!(entries[3]["run_on"].is_null());
    }

    fn heads_and_pending(db: TestDb) {
        let migrations = example_migrations();
        let heads = db.pelican(&migrations, &["heads"]).success();
        assert_eq!(heads.stdout.trim(), format!("{HEAD} rename_leccion_contenido (head)"));
        let json = db.pelican(&migrations, &["--format", "json", "heads"]).success().json();
        assert_eq!(json["heads"][0]["version"], HEAD);

        db.pelican(&migrations, &["migrate", "20240310093000"]).success();
        let pending = db.pelican(&migrations, &["pending"]).success();
        assert_eq!(pending.stdout.trim(), format!("{HEAD} rename_leccion_contenido"));
        let json = db.pelican(&migrations, &["--format", "json", "pending"]).success().json();
        assert_eq!(json["pending"][0]["version"], HEAD);
        assert_eq!(json["pending"].as_array().map(Vec::len), Some(1));
    }

    fn stamp_records_without_running_sql(db: TestDb) {
        let migrations = example_migrations();
        let out = db.pelican(&migrations, &["stamp", "2024-01-16-100000"]).success();
        assert!(out.stdout.contains("3 recorded"), "{}", out.stdout);
        assert_eq!(db.applied(), ["20240115090000", "20240115091500", "20240116100000"]);
        assert!(!db.tables().contains(&"usuario".to_owned()), "stamp ran SQL");

        db.pelican(&migrations, &["stamp", "-1"]).success();
        assert_eq!(db.applied(), ["20240115090000", "20240115091500"]);
        db.pelican(&migrations, &["stamp", "head"]).success();
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        db.pelican(&migrations, &["stamp", "base"]).success();
        assert!(db.applied().is_empty());
        let journal = db.query_strings("SELECT outcome AS value FROM __pelican_journal");
        assert!(journal.iter().all(|o| o == "stamped"), "{journal:?}");
    }

    fn out_of_order_migration_is_applied_and_reported(db: TestDb) {
        let root = db.dir().to_path_buf();
        let migrations = write_migrations(&root, &[
            ("2024-01-01-000000_one", "CREATE TABLE one (id INTEGER PRIMARY KEY);", "DROP TABLE one;"),
            ("2024-01-03-000000_three", "CREATE TABLE three (id INTEGER PRIMARY KEY);", "DROP TABLE three;"),
        ]);
        db.pelican(&migrations, &["migrate"]).success();
        write_migrations(&root, &[
            ("2024-01-02-000000_two", "CREATE TABLE two (id INTEGER PRIMARY KEY);", "DROP TABLE two;"),
        ]);
        let out = db.pelican(&migrations, &["migrate"]).success();
        assert!(out.stdout.contains("Applied 2024-01-02-000000_two"), "{}", out.stdout);
        assert!(out.stdout.contains("out of order"), "{}", out.stdout);
        assert_eq!(db.applied(), ["20240101000000", "20240102000000", "20240103000000"]);
        // -1 counts by version order, as diesel's revert does.
        db.pelican(&migrations, &["downgrade", "-1"]).success();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
    }

    fn failing_statement_names_migration_file_and_line(db: TestDb) {
        let root = db.dir().to_path_buf();
        let migrations = write_migrations(&root, &[
            ("2024-01-01-000000_ok", "CREATE TABLE ok_table (id INTEGER PRIMARY KEY);", "DROP TABLE ok_table;"),
            ("2024-01-02-000000_broken",
             "CREATE TABLE first_one (id INTEGER PRIMARY KEY);\n\nINSERT INTO missing_table\n  VALUES (1);\n",
             "DROP TABLE first_one;"),
        ]);
        // A commit per migration, so that the first one stays (an atomic run keeps none).
        let out = db.pelican(&migrations, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("migration 2024-01-02-000000_broken failed"), "{}", out.stderr);
        assert!(out.stderr.contains("2024-01-02-000000_broken/up.sql, line 3"), "{}", out.stderr);
        assert!(out.stderr.contains("`INSERT INTO missing_table`"), "{}", out.stderr);
        assert_eq!(db.applied(), ["20240101000000"], "the failed migration was recorded");
        let outcomes = db.query_strings("SELECT outcome AS value FROM __pelican_journal ORDER BY id");
        assert_eq!(outcomes, ["applied", "failed"]);
        if db.backend != pelican::Backend::Mysql {
            // One transaction per migration: its first statement was rolled back too.
            assert!(!db.tables().contains(&"first_one".to_owned()));
        }
    }

    fn generate_creates_diesel_2_3_folders(db: TestDb) {
        let root = db.dir().to_path_buf();
        let migrations = root.join("migrations");
        std::fs::create_dir(&migrations).unwrap();
        let first = db.pelican(&migrations, &["--format", "json", "generate", "add_thing"]).success().json();
        let second = db.pelican(&migrations, &["--format", "json", "generate", "add_other"]).success().json();
        let first = std::path::PathBuf::from(first["path"].as_str().unwrap());
        let second = std::path::PathBuf::from(second["path"].as_str().unwrap());
        let name = first.file_name().unwrap().to_str().unwrap().to_owned();
        // YYYY-MM-DD-HHMMSS-XXXX_name
        assert_eq!(name.len(), "2024-01-01-000000-0000_add_thing".len(), "{name}");
        assert_eq!(&name[17..18], "-");
        assert!(name.ends_with("_add_thing"));
        assert!(first.join("up.sql").is_file() && first.join("down.sql").is_file());
        let v1 = pelican::__test_support::version_of(&name).unwrap();
        let v2 = pelican::__test_support::version_of(second.file_name().unwrap().to_str().unwrap()).unwrap();
        assert_eq!(v1.len(), 18);
        assert!(v1 < v2, "{v1} then {v2}");
        // The generated migrations run (as nothing) and are recorded.
        db.pelican(&migrations, &["migrate"]).success();
        assert_eq!(db.applied(), [v1, v2]);

        let bad = db.pelican(&migrations, &["generate", "bad name!"]);
        assert_eq!(bad.code, 2);
        assert!(bad.stderr.contains("invalid migration name `bad name!`"), "{}", bad.stderr);
    }

    fn a_folder_with_diesels_hex_counter_is_a_migration_and_a_target(db: TestDb) {
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000-0009_nine", "CREATE TABLE nine (id INTEGER PRIMARY KEY);", "DROP TABLE nine;"),
            ("2024-01-01-000000-000a_ten", "CREATE TABLE ten (id INTEGER PRIMARY KEY);", "DROP TABLE ten;"),
            ("2024-01-01-000000-0010_sixteen", "CREATE TABLE sixteen (id INTEGER PRIMARY KEY);", "DROP TABLE sixteen;"),
        ]);
        db.pelican(&dir, &["migrate", "20240101000000000a"]).success();
        assert_eq!(db.applied(), ["202401010000000009", "20240101000000000a"]);
        let current = db.pelican(&dir, &["current"]).success();
        assert_eq!(current.stdout.trim(), "20240101000000000a ten (1 pending)");
        db.pelican(&dir, &["migrate"]).success();
        db.pelican(&dir, &["downgrade", "2024-01-01-000000-0009"]).success();
        assert_eq!(db.applied(), ["202401010000000009"]);

        // Another letter is a version too, as diesel reads it, in string order:
        // `…000g` sorts between `…000a` and `…0010`.
        write_migrations(db.dir(), &[("2024-01-01-000000-000g_other", "SELECT 1;", "")]);
        db.pelican(&dir, &["migrate"]).success();
        let mut applied = db.applied();
        applied.sort();
        assert_eq!(
            applied,
            ["202401010000000009", "20240101000000000a", "20240101000000000g", "202401010000000010"]
        );
    }

    fn json_errors_are_one_document(db: TestDb) {
        let out = db.pelican(&example_migrations(), &["--format", "json", "migrate", "nonsense"]);
        assert_eq!(out.code, 2);
        // Any text is a version diesel could read from a folder name: none has this one.
        assert!(out.json()["error"]["message"].as_str().unwrap().contains("unknown target `nonsense`"));
    }
}

backend_tests! {
    fn a_last_statement_ending_in_a_comment_is_recorded_with_it(db: TestDb) {
        // The last statement travels in one batch with the migration's record: a line
        // comment at its end must not swallow what follows.
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER) -- no semicolon after this", "DROP TABLE a -- nor here"),
            ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);\nINSERT INTO b (id) VALUES (1) -- the end\n;\n-- a closing comment\n", "DROP TABLE b;"),
        ]);
        db.pelican(&dir, &["migrate"]).success();
        assert_eq!(db.applied(), ["20240101000000", "20240102000000"]);
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR(10)) AS value FROM b"), ["1"]);
        db.pelican(&dir, &["downgrade", "base"]).success();
        assert!(db.applied().is_empty());
        let left: Vec<String> = db.tables().into_iter().filter(|t| !t.starts_with("__")).collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

backend_tests! {
    fn a_failed_run_reports_the_steps_that_ran_before_it(db: TestDb) {
        let dir = common::write_migrations(db.dir(), &[
            ("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;"),
            ("2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);", "DROP TABLE b;"),
            ("2024-01-03-000000_c", "INSERT INTO missing_t (id) VALUES (1);", ""),
        ]);
        // A commit per migration: an atomic run would keep none of them.
        let out = db.pelican(&dir, &["--format", "json", "migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        let json = out.json();
        assert!(json["error"]["message"].as_str().unwrap().contains("2024-01-03-000000_c"), "{json}");
        assert_eq!(json["error"]["kind"], "statement", "{json}");
        assert_eq!(json["error"]["migration"], "2024-01-03-000000_c", "{json}");
        assert_eq!(json["error"]["line"], 1, "{json}");
        assert!(json["error"]["file"].as_str().unwrap().ends_with("2024-01-03-000000_c/up.sql"), "{json}");
        assert_eq!(json["error"]["statement"], "INSERT INTO missing_t (id) VALUES (1)", "{json}");
        let steps: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(steps, ["2024-01-01-000000_a", "2024-01-02-000000_b"]);
        assert_eq!(json["current"], "20240102000000");
        assert_eq!(json["pending"], 1);

        // In text, the lines of the steps that ran come before the error.
        db.pelican(&dir, &["downgrade", "base"]).success();
        let out = db.pelican(&dir, &["migrate", "--no-atomic"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stdout.starts_with("Applied 2024-01-01-000000_a ("), "{out:?}");
        assert!(out.stdout.contains("Applied 2024-01-02-000000_b ("), "{out:?}");
        assert!(out.stderr.contains("error: migration 2024-01-03-000000_c failed"), "{out:?}");
    }
}

#[cfg(all(unix, feature = "sqlite"))]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let db = common::TestDb::new(pelican::Backend::Sqlite, "closed_pipe");
    // Far more than a pipe holds (64 KiB), so the command is still writing when the
    // reader goes.
    let many: Vec<(String, String)> = (0..8000)
        .map(|i| {
            (
                format!("2024-01-01-{i:06}_m{i}"),
                format!("CREATE TABLE t{i} (id INTEGER);"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str)> = many
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str(), ""))
        .collect();
    let dir = write_migrations(db.dir(), &borrowed);
    let mut child = db
        .command(&dir, &["pending"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("20240101000000"), "{first}");
    // The reader is gone, as after `| head -1`.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
}

backend_tests! {
    fn a_run_reports_each_step_as_it_finishes_and_quiet_prints_nothing(db: TestDb) {
        let migrations = example_migrations();
        let out = db.pelican(&migrations, &["migrate", "+2"]).success();
        // Off a terminal: a counted line on stderr as each step starts, its result on
        // stdout as it finishes, then where the database is.
        assert!(out.stderr.contains("[1/2] Applying 2024-01-15-090000_create_usuario"), "{}", out.stderr);
        assert!(out.stderr.contains("[2/2] Applying 2024-01-15-091500_create_curso"), "{}", out.stderr);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{}", out.stdout);
        assert!(lines[0].starts_with("Applied 2024-01-15-090000_create_usuario ("), "{}", out.stdout);
        assert!(lines[1].starts_with("Applied 2024-01-15-091500_create_curso ("), "{}", out.stdout);
        assert!(lines[2].starts_with("The database is at 20240115091500"), "{}", out.stdout);

        let quiet = db.pelican(&migrations, &["-q", "migrate", "+2"]).success();
        assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
        assert_eq!(db.applied().len(), 4);

        let verbose = db.pelican(&migrations, &["-v", "migrate", "+1"]).success();
        assert!(verbose.stdout.contains("Applied 2024-01-18-110000_create_leccion ("), "{}", verbose.stdout);
        assert!(verbose.stdout.contains("\n  RUN  line 3    CREATE TABLE leccion ("), "{}", verbose.stdout);
        assert!(verbose.stdout.contains("\n  RUN  line 12   CREATE UNIQUE INDEX ux_leccion_curso_orden"), "{}", verbose.stdout);
    }
}
