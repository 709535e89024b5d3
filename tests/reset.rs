//! `reset`, the one command that drops everything: `--dry-run` lists what would go,
//! a script must say `--yes`, and a person at a terminal is asked.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cascading_migrations, example_migrations, Output, TestDb};
use pelican::{Backend, Boot, Migrations};

const EXAMPLE_COUNT: usize = 12;

/// The example database at head, with a table and a row of the user's own.
fn example_with_extras(db: &TestDb) {
    db.pelican(&example_migrations(), &["init"]).success();
    db.execute("CREATE TABLE scratch (id INTEGER); INSERT INTO configuracion (clave, valor) VALUES ('extra', 'x')");
}

fn rows(db: &TestDb) -> usize {
    db.query_strings("SELECT clave AS value FROM configuracion")
        .len()
}

backend_tests! {
    fn dry_run_lists_what_reset_would_drop_and_drops_nothing(db: TestDb) {
        example_with_extras(&db);
        let before = db.tables();
        let out = db.pelican(&example_migrations(), &["reset", "--dry-run"]).success();
        assert!(out.stdout.contains("reset would drop "), "{}", out.stdout);
        assert!(out.stdout.contains("Dry run: nothing was changed"), "{}", out.stdout);
        for table in ["scratch", "usuario", "__diesel_schema_migrations", "__pelican_journal"] {
            assert!(
                out.stdout.lines().any(|l| l.starts_with("  TABLE ") && l.contains(table)),
                "{table} not listed:\n{}",
                out.stdout
            );
        }
        assert_eq!(db.tables(), before);
        assert_eq!(rows(&db), 5);

        // The JSON list is exactly what `reset --yes` then drops.
        let json = db.pelican(&example_migrations(), &["--format", "json", "reset", "--dry-run"]).success().json();
        assert_eq!(json["dry_run"], true);
        let would_drop = json["would_drop"].clone();
        assert_eq!(db.tables(), before);
        let done = db.pelican(&example_migrations(), &["--format", "json", "reset", "--yes"]).success().json();
        assert_eq!(done["dropped"], would_drop);
        assert!(!db.tables().contains(&"scratch".to_owned()));
        assert_eq!(rows(&db), 4);
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
    }

    fn without_yes_reset_is_refused_when_stdin_is_not_a_terminal(db: TestDb) {
        example_with_extras(&db);
        let before = db.tables();
        // Not even a `y` piped in counts: a script must say --yes.
        for input in ["", "y\n", "yes\n"] {
            let mut child = db
                .command(&example_migrations(), &["reset"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
            let out = Output::from(child.wait_with_output().unwrap());
            assert_eq!(out.code, 2, "{out:?}");
            assert!(out.stderr.contains("was not confirmed"), "{}", out.stderr);
            assert!(!out.stderr.lines().any(|l| l.starts_with("error:") && l.contains("--yes")), "{}", out.stderr);
            assert!(out.stderr.contains("\nhint: pass --yes to confirm"), "{}", out.stderr);
            assert!(!out.stderr.contains("[y/N]"), "asked a script: {}", out.stderr);
        }
        assert_eq!(db.tables(), before);
        assert_eq!(rows(&db), 5);
    }
}

/// How many rows a table has (`column`: one of its text columns).
fn count(db: &TestDb, table: &str, column: &str) -> usize {
    db.query_strings(&format!("SELECT {column} AS value FROM {table}"))
        .len()
}

backend_tests! {
    fn reset_empties_tables_whose_foreign_keys_cascade_and_the_views_on_them(db: TestDb) {
        let dir = cascading_migrations(db.dir());
        db.pelican(&dir, &["init"]).success();
        db.execute("INSERT INTO authors (id, name) VALUES (2, 'Grace'); INSERT INTO comments (id, post_id, body) VALUES (2, 1, 'Second')");
        let json = db.pelican(&dir, &["--format", "json", "reset", "--yes"]).success().json();
        assert_eq!(json["action"], "initialized", "{json}");
        let dropped = json["dropped"].to_string();
        for object in ["post_titles", "blog_sizes", "authors", "blogs", "posts", "comments", "tags"] {
            assert!(dropped.contains(object), "{object} not dropped: {dropped}");
        }
        // Built again: the migrations' rows, not the ones added since.
        assert_eq!((count(&db, "authors", "name"), count(&db, "comments", "body")), (1, 1));
        assert_eq!(db.applied().len(), 3);
    }
}

/// An application may reset inside a transaction of its own, where SQLite cannot switch
/// foreign keys off (`PRAGMA foreign_keys` does nothing in a transaction): the tables go
/// children first, so that no cascade runs into a table already gone.
#[cfg(feature = "sqlite")]
#[test]
fn reset_in_a_transaction_drops_the_children_first() {
    let db = TestDb::new(Backend::Sqlite, "reset_in_transaction");
    let dir = cascading_migrations(db.dir());
    db.pelican(&dir, &["init"]).success();
    db.execute("INSERT INTO authors (id, name) VALUES (2, 'Grace')");
    let migrations = Migrations::from_dir(&dir).unwrap();
    let mut conn = db.connect();
    let report = conn
        .transaction(|conn| Boot::new(&migrations).reset(conn))
        .unwrap_or_else(|e| panic!("reset failed: {e}"));
    let order: Vec<&str> = report.dropped.iter().map(String::as_str).collect();
    let position = |object: &str| {
        order
            .iter()
            .position(|o| *o == object)
            .unwrap_or_else(|| panic!("{object} not in {order:?}"))
    };
    assert!(
        position("TABLE \"comments\"") < position("TABLE \"posts\""),
        "{order:?}"
    );
    assert!(
        position("TABLE \"posts\"") < position("TABLE \"authors\""),
        "{order:?}"
    );
    assert!(
        position("TABLE \"posts\"") < position("TABLE \"blogs\""),
        "{order:?}"
    );
    drop(conn);
    assert_eq!(count(&db, "authors", "name"), 1);
    assert_eq!(db.applied().len(), 3);
}

/// A PostgreSQL migration that creates an extension without `IF NOT EXISTS`: reset
/// drops the extension with the rest, so that the rebuild can create it again.
#[cfg(feature = "postgres")]
#[test]
fn reset_drops_the_extensions_the_migrations_created() {
    let db = TestDb::new(Backend::Postgres, "reset_extension");
    let available = db.query_strings(
        "SELECT CAST(name AS TEXT) AS value FROM pg_available_extensions WHERE name = 'uuid-ossp'",
    );
    assert_eq!(
        available,
        ["uuid-ossp"],
        "the uuid-ossp extension is not installed on the server (postgresql-contrib)"
    );
    let dir = common::write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_create_things",
            "CREATE EXTENSION \"uuid-ossp\";\n\
             CREATE TABLE things (id UUID PRIMARY KEY DEFAULT uuid_generate_v4(), name VARCHAR(50) NOT NULL);\n",
            "DROP TABLE things;\nDROP EXTENSION \"uuid-ossp\";\n",
        )],
    );
    db.pelican(&dir, &["init"]).success();
    db.execute("INSERT INTO things (name) VALUES ('kept until the reset')");
    let listed = db.pelican(&dir, &["reset", "--dry-run"]).success();
    assert!(
        listed.stdout.contains("  EXTENSION \"uuid-ossp\""),
        "{}",
        listed.stdout
    );
    let json = db
        .pelican(&dir, &["--format", "json", "reset", "--yes"])
        .success()
        .json();
    assert!(json["dropped"].to_string().contains("EXTENSION"), "{json}");
    assert!(db
        .query_strings("SELECT name AS value FROM things")
        .is_empty());
    let extensions = db.query_strings(
        "SELECT CAST(extname AS TEXT) AS value FROM pg_extension WHERE extname = 'uuid-ossp'",
    );
    assert_eq!(extensions, ["uuid-ossp"], "the rebuild created it again");
    assert_eq!(db.applied(), ["20240101000000"]);
}

/// At a terminal, `reset` asks on stderr and goes ahead only on a yes. Run in a tmux
/// pane, which gives pelican a real terminal; skipped (saying so) without tmux.
#[cfg(feature = "sqlite")]
#[test]
fn at_a_terminal_reset_asks_and_only_a_yes_drops() {
    let tmux_works = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !tmux_works {
        eprintln!("skipped: tmux is not installed (the prompt's decision is unit-tested in src/confirm.rs)");
        return;
    }
    let db = TestDb::new(pelican::Backend::Sqlite, "reset_prompt");
    example_with_extras(&db);
    let socket = format!("pelican-test-{}", std::process::id());
    struct Server(String);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _server = Server(socket.clone());

    // Declined: nothing dropped, exit code 1.
    let (exit, screen) = answer_in_tmux(&db, &socket, "n");
    assert!(screen.contains("Drop everything? [y/N]"), "{screen}");
    assert!(
        screen.contains("reset cancelled: nothing was dropped"),
        "{screen}"
    );
    assert_eq!(exit, "1", "{screen}");
    assert!(db.tables().contains(&"scratch".to_owned()));
    assert_eq!(rows(&db), 5);

    // Confirmed: the database is rebuilt.
    let (exit, screen) = answer_in_tmux(&db, &socket, "y");
    assert_eq!(exit, "0", "{screen}");
    assert!(!db.tables().contains(&"scratch".to_owned()), "{screen}");
    assert_eq!(rows(&db), 4);
}

/// Runs `pelican reset` in a tmux pane, answers the prompt with `answer`, and returns
/// its exit code and what the pane showed.
fn answer_in_tmux(db: &TestDb, socket: &str, answer: &str) -> (String, String) {
    let exit_file = db.dir().join(format!("exit-{answer}"));
    let script = format!(
        "{} --database-url '{}' --migration-dir '{}' reset; echo $? > '{}'; sleep 30",
        env!("CARGO_BIN_EXE_pelican"),
        db.url,
        example_migrations().display(),
        exit_file.display()
    );
    let session = format!("reset-{answer}");
    let tmux = |args: &[&str]| {
        let status = Command::new("tmux")
            .args(["-L", socket])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "tmux {args:?}");
    };
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &script,
    ]);
    let capture = || {
        let out = Command::new("tmux")
            .args(["-L", socket, "capture-pane", "-p", "-J", "-t", &session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    wait_until(|| capture().contains("[y/N]"), "the prompt");
    tmux(&["send-keys", "-t", &session, answer, "Enter"]);
    wait_until(|| exit_file_written(&exit_file), "pelican to finish");
    let exit = std::fs::read_to_string(&exit_file)
        .unwrap()
        .trim()
        .to_owned();
    let screen = capture();
    tmux(&["kill-session", "-t", &session]);
    (exit, screen)
}

fn exit_file_written(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.ends_with('\n'))
}

fn wait_until(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(8);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// What a server's own databases hold, to see that a refused command left them as they
/// were: each database with its number of tables.
fn system_state(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT CAST(datname AS TEXT) || ' ' || CAST(datistemplate AS TEXT) AS value \
             FROM pg_database WHERE datname IN ('postgres', 'template0', 'template1') ORDER BY 1"
        }
        _ => {
            "SELECT CAST(CONCAT(table_schema, ' ', COUNT(*)) AS CHAR) AS value \
             FROM information_schema.tables \
             WHERE table_schema IN ('mysql', 'performance_schema', 'sys') \
             GROUP BY table_schema ORDER BY 1"
        }
    };
    db.query_strings(sql)
}

server_tests! {
    fn destructive_commands_refuse_the_servers_own_databases(db: TestDb) {
        let systems: &[(&str, bool)] = match db.backend {
            Backend::Postgres => &[("postgres", true), ("template0", false), ("template1", false)],
            _ => &[("mysql", false), ("information_schema", false), ("performance_schema", false), ("sys", false), ("MySQL", false)],
        };
        let before = system_state(&db);
        assert!(!before.is_empty());
        for (name, overridable) in systems {
            let url = common::with_database(&db.url, name);
            for args in [
                &["reset", "--yes"][..],
                &["reset", "--dry-run"],
                &["init"],
                &["database", "drop"],
                &["database", "reset"],
            ] {
                let out = Output::from(db.command_with_url(&url, &example_migrations(), args).output().unwrap());
                // diesel's `database` commands exit 1 on every error, as diesel CLI does.
                let code = if args[0] == "database" { 1 } else { 2 };
                assert_eq!(out.code, code, "{args:?} on {name}: {out:?}");
                let command = if args[0] == "database" { format!("database {}", args[1]) } else { args[0].to_owned() };
                assert!(
                    out.stderr.contains(&format!(
                        "{command} refuses database {name}: it is one of the server's own databases, \
                         and nothing in it is pelican's; nothing was changed"
                    )),
                    "{args:?} on {name}: {}",
                    out.stderr
                );
                let flag = "pass --allow-maintenance-database";
                assert_eq!(out.stderr.contains(flag), *overridable, "{}", out.stderr);
                assert_eq!(out.stderr.contains("no flag overrides this"), !overridable, "{}", out.stderr);
            }
            // The test harness's databases are never one of them either.
            let mut server = pelican::__test_support::Server::connect(&common::with_database(&db.url, db.name())).unwrap();
            let error = pelican::__test_support::temp_database_on(&mut server, name).err().unwrap();
            assert!(error.to_string().contains(&format!("refuses database {name}")), "{error}");
            assert!(server.drop(name).unwrap_err().to_string().contains("one of the server's own databases"));
        }
        // The library's reset, on a connection to one, refuses too.
        let migrations = Migrations::from_dir(example_migrations()).unwrap();
        let mut conn = pelican::AnyConnection::establish(&common::with_database(&db.url, systems[0].0)).unwrap();
        let error = Boot::new(&migrations).reset(&mut conn).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("reset refuses database {}: it is one of the server's own databases", systems[0].0)),
            "{error}"
        );
        assert_eq!(system_state(&db), before, "a system database changed");
        if db.backend == Backend::Postgres {
            // The flag lets `postgres` through (a dry run: the database is shared).
            let url = common::with_database(&db.url, "postgres");
            let out = Output::from(db.command_with_url(&url, &example_migrations(), &["--allow-maintenance-database", "reset", "--dry-run"]).output().unwrap());
            assert_eq!(out.code, 0, "{out:?}");
        }
    }
}

server_tests! {
    fn reset_refuses_while_objects_elsewhere_depend_on_what_it_drops(db: TestDb) {
        db.pelican(&example_migrations(), &["init"]).success();
        // Elsewhere: another schema of the database (PostgreSQL), another database on
        // the server (MySQL), dropped with the test.
        let mut other = None;
        let place = match db.backend {
            Backend::Postgres => {
                db.execute("CREATE SCHEMA elsewhere");
                "elsewhere".to_owned()
            }
            _ => {
                let mut server = pelican::__test_support::Server::connect(&db.url).unwrap();
                let name = format!("{}_x", &db.name()[..db.name().len().min(60)]);
                other = Some(pelican::__test_support::temp_database_on(&mut server, &name).unwrap());
                name
            }
        };
        let home = match db.backend {
            Backend::Postgres => "public".to_owned(),
            _ => db.name().to_owned(),
        };
        let q = |name: &str| match db.backend {
            Backend::Postgres => format!("\"{name}\""),
            _ => format!("`{name}`"),
        };
        db.execute(&format!(
            "CREATE VIEW {p}.people AS SELECT id, nombre FROM {h}.usuario; \
             CREATE TABLE {p}.notes (id INTEGER PRIMARY KEY, usuario_id INTEGER, \
               CONSTRAINT notes_usuario FOREIGN KEY (usuario_id) REFERENCES {h}.usuario (id))",
            p = q(&place),
            h = q(&home),
        ));
        let before = db.tables();

        // The dry run lists them apart, with what each needs.
        let out = db.pelican(&example_migrations(), &["reset", "--dry-run"]).success();
        assert!(out.stdout.contains("and 2 object(s) outside it depend on what it drops ("), "{}", out.stdout);
        assert!(out.stdout.contains("reset refuses unless given --cascade:"), "{}", out.stdout);
        let listed: Vec<&str> = out.stdout.lines().skip_while(|l| !l.contains("outside it depend")).skip(1).filter(|l| l.starts_with("  ")).collect();
        assert_eq!(listed.len(), 2, "{}", out.stdout);
        assert!(listed.iter().any(|l| l.contains("VIEW ") && l.contains("people") && l.contains("usuario")), "{listed:?}");
        assert!(listed.iter().any(|l| l.contains("notes_usuario") && l.contains("usuario")), "{listed:?}");
        let json = db.pelican(&example_migrations(), &["--format", "json", "reset", "--dry-run"]).success().json();
        assert_eq!(json["dependents"].as_array().unwrap().len(), 2, "{json}");

        // Without --cascade: refused, nothing dropped.
        let out = db.pelican(&example_migrations(), &["reset", "--yes"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("error: reset refused: 2 object(s) outside what it drops depend on what it drops ("),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was dropped (reset --dry-run lists them; pass --cascade to go ahead all the same)"), "{}", out.stderr);
        assert_eq!(db.tables(), before);
        let views = format!("SELECT id AS value FROM {}.people", q(&place));
        assert!(db.query_strings(&views).is_empty());

        // With it: reset goes ahead, and says what went by CASCADE.
        let json = db.pelican(&example_migrations(), &["--format", "json", "reset", "--yes", "--cascade"]).success().json();
        assert_eq!(db.applied().len(), EXAMPLE_COUNT);
        let dropped = json["dropped"].to_string();
        let views_left = match db.backend {
            Backend::Postgres => db.query_strings("SELECT CAST(viewname AS TEXT) AS value FROM pg_views WHERE schemaname = 'elsewhere'"),
            _ => db.query_strings(&format!("SELECT CAST(table_name AS CHAR) AS value FROM information_schema.views WHERE table_schema = '{place}'")),
        };
        if db.backend == Backend::Postgres {
            assert!(dropped.contains("people"), "{dropped}");
            assert!(views_left.is_empty(), "{views_left:?}");
        } else {
            // MySQL drops nothing by CASCADE: the view stays, broken.
            assert!(!dropped.contains("people"), "{dropped}");
            assert_eq!(views_left, ["people"]);
        }
        drop(other);
    }
}

/// PostgreSQL's CASCADE goes past the first object elsewhere: a view over a view over
/// one of the database's tables goes too, so the dry run lists both, and the refusal
/// counts both.
#[cfg(feature = "postgres")]
#[test]
fn reset_lists_what_depends_on_the_dependents_too() {
    let db = TestDb::new(Backend::Postgres, "reset_dependents_deep");
    db.pelican(&example_migrations(), &["init"]).success();
    db.execute(
        "CREATE SCHEMA elsewhere; \
         CREATE VIEW elsewhere.people AS SELECT id, nombre FROM public.usuario; \
         CREATE VIEW elsewhere.names AS SELECT nombre FROM elsewhere.people; \
         CREATE VIEW elsewhere.first_name AS SELECT min(nombre) AS nombre FROM elsewhere.names",
    );
    let json = db
        .pelican(
            &example_migrations(),
            &["--format", "json", "reset", "--dry-run"],
        )
        .success()
        .json();
    let dependents = json["dependents"].to_string();
    assert_eq!(json["dependents"].as_array().unwrap().len(), 3, "{json}");
    for view in [
        "elsewhere.people",
        "elsewhere.names",
        "elsewhere.first_name",
    ] {
        assert!(
            dependents.contains(&format!("VIEW {view} (needs")),
            "{view}: {dependents}"
        );
    }
    let out = db.pelican(&example_migrations(), &["reset", "--yes"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "3 object(s) outside what it drops depend on what it drops (PostgreSQL drops them with \
             it, by CASCADE): VIEW elsewhere.first_name (needs view elsewhere.names), VIEW \
             elsewhere.names (needs view elsewhere.people), VIEW elsewhere.people (needs table \
             usuario);"
        ),
        "{}",
        out.stderr
    );
    let views = "SELECT CAST(viewname AS TEXT) AS value FROM pg_views WHERE schemaname = 'elsewhere' ORDER BY 1";
    assert_eq!(db.query_strings(views), ["first_name", "names", "people"]);
    db.pelican(&example_migrations(), &["reset", "--yes", "--cascade"])
        .success();
    assert!(db.query_strings(views).is_empty());
}

/// A MySQL user that may drop tables but not routines: its reset drops the tables
/// (each drop commits itself), then fails on the procedure, and says so.
#[cfg(feature = "mysql")]
#[test]
fn a_reset_that_fails_part_way_says_what_it_dropped_and_what_is_left() {
    use diesel::connection::SimpleConnection;
    let db = TestDb::new(Backend::Mysql, "reset_part_way");
    db.pelican(&example_migrations(), &["init"]).success();
    db.execute("CREATE PROCEDURE keep_me() BEGIN SELECT 1; END");
    let tables = db.tables();
    let user = format!("pelican_rp_{}", std::process::id());
    struct User(String);
    impl Drop for User {
        fn drop(&mut self) {
            if let Ok(mut admin) = pelican::AnyConnection::establish(&common::mysql_url()) {
                let _ = admin.batch_execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.0));
            }
        }
    }
    let mut admin = pelican::AnyConnection::establish(&common::mysql_url()).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'; \
             GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, CREATE VIEW, \
               SHOW VIEW, TRIGGER, REFERENCES, EXECUTE ON `{}`.* TO '{user}'@'%'",
            db.name()
        ))
        .unwrap();
    let _user = User(user.clone());
    let url = db.url.replacen("root@", &format!("{user}:pw@"), 1);
    let out = Output::from(
        db.command_with_url(&url, &example_migrations(), &["reset", "--yes"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "error: reset failed part-way: {} object(s) were dropped before the failure and are gone (",
            tables.len() + 1
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("; still in the database: PROCEDURE `keep_me`: "),
        "{}",
        out.stderr
    );
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    assert_eq!(
        db.query_strings(
            "SELECT CAST(routine_name AS CHAR) AS value FROM information_schema.routines \
             WHERE routine_schema = DATABASE()"
        ),
        ["keep_me"]
    );
}

/// A PostgreSQL role that may read the tables but owns none: its drops are refused,
/// and since they are one transaction nothing was dropped; the message says so.
#[cfg(feature = "postgres")]
#[test]
fn a_reset_refused_on_postgres_says_nothing_was_dropped() {
    use diesel::connection::SimpleConnection;
    let db = TestDb::new(Backend::Postgres, "reset_not_owner");
    db.pelican(&example_migrations(), &["init"]).success();
    let tables = db.tables();
    let role = format!("pelican_rn_{}", std::process::id());
    struct Role(String, String);
    impl Drop for Role {
        fn drop(&mut self) {
            if let Ok(mut conn) = pelican::AnyConnection::establish(&self.1) {
                let _ = conn.batch_execute(&format!("DROP OWNED BY {}", self.0));
            }
            if let Ok(mut admin) = pelican::AnyConnection::establish(&common::postgres_url()) {
                let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.0));
            }
        }
    }
    let mut admin = pelican::AnyConnection::establish(&common::postgres_url()).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'pw'; GRANT CONNECT ON DATABASE {} TO {role}",
            db.name()
        ))
        .unwrap();
    let _role = Role(role.clone(), db.url.clone());
    db.execute(&format!(
        "GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ));
    let url = db.url.replacen("postgres@", &format!("{role}:pw@"), 1);
    let out = Output::from(
        db.command_with_url(&url, &example_migrations(), &["reset", "--yes"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "error: reset failed, and nothing was dropped (the drops are one transaction, \
             rolled back): cannot drop the database's objects: must be owner of"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(db.tables(), tables);
}
