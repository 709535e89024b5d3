//! `pelican fleet`: many targets (PostgreSQL databases and schemas, MariaDB databases,
//! SQLite files) run as one, each as a single `pelican` command would run it, with one
//! report and exit code 1 when a target failed.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, TestDb};
use pelican::Backend;
use serde_json::Value;

/// Three migrations; the second inserts a row a broken tenant already has, so that it
/// fails there (duplicate key) and nowhere else.
fn migrations(root: &Path) -> PathBuf {
    common::write_migrations(
        root,
        &[
            (
                "2024-01-01-000001_items",
                "CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, name VARCHAR(50) NOT NULL);",
                "DROP TABLE items;",
            ),
            (
                "2024-01-01-000002_first_item",
                "INSERT INTO items (id, name) VALUES (1, 'first');",
                "DELETE FROM items WHERE id = 1;",
            ),
            (
                "2024-01-01-000003_tags",
                "CREATE TABLE tags (id INTEGER PRIMARY KEY NOT NULL);",
                "DROP TABLE tags;",
            ),
        ],
    )
}

const HEAD: &str = "20240101000003";

/// `pelican fleet ARGS` from `root` with these migrations, DATABASE_URL unset.
fn fleet(root: &Path, migrations: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pelican"));
    command
        .current_dir(root)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "off")
        .arg("--migration-dir")
        .arg(migrations)
        .arg("fleet")
        .args(args);
    for (key, value) in envs {
        command.env(key, value);
    }
    Output::from(command.output().expect("run pelican"))
}

/// A single `pelican` command on one URL.
fn single(db: &TestDb, url: &str, migrations: &Path, args: &[&str]) -> Output {
    Output::from(
        db.command_with_url(url, migrations, args)
            .output()
            .expect("run pelican"),
    )
}

/// The target of a fleet document whose `target` contains `needle`.
fn target<'a>(document: &'a Value, needle: &str) -> &'a Value {
    document["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["target"].as_str().is_some_and(|s| s.contains(needle)))
        .unwrap_or_else(|| panic!("no target {needle} in {document:#}"))
}

/// A PostgreSQL schema tenant's URL: the database's, with search_path set to `schema`.
fn schema_url(db: &TestDb, schema: &str) -> String {
    let separator = if db.url.contains('?') { '&' } else { '?' };
    format!("{}{separator}options=-csearch_path%3D{schema}", db.url)
}

#[test]
fn a_mixed_fleet_reports_each_target_and_a_rerun_after_the_fix_completes_the_rest() {
    let pg_head = TestDb::new(Backend::Postgres, "fleet_pg_head");
    let pg_behind = TestDb::new(Backend::Postgres, "fleet_pg_behind");
    let schemas = TestDb::new(Backend::Postgres, "fleet_pg_schemas");
    let maria = TestDb::new(Backend::Mysql, "fleet_maria");
    let root = pg_head.dir().to_owned();
    let dir = migrations(&root);
    let sqlite = root.join("tenant.db").display().to_string();

    // At head, behind by two, and broken: at the first migration, with the row the
    // second inserts already there.
    pg_head.pelican(&dir, &["migrate"]).success();
    pg_behind.pelican(&dir, &["migrate", "+1"]).success();
    schemas.execute("CREATE SCHEMA tenant_ok; CREATE SCHEMA tenant_broken;");
    let broken = schema_url(&schemas, "tenant_broken");
    single(&schemas, &broken, &dir, &["migrate", "+1"]).success();
    let mut conn = pelican::AnyConnection::establish(&broken).unwrap();
    conn.execute_with("INSERT INTO items (id, name) VALUES (1, 'taken')", &[])
        .unwrap();
    drop(conn);

    // The targets file: variables for every URL, comments, and an unreachable server
    // whose password must never be shown.
    let file = root.join("targets.txt");
    std::fs::write(
        &file,
        "# the application's tenants\n\
         ${PG_HEAD}\n\
         ${PG_BEHIND}\n\
         ${TENANT_OK}\n\
         ${TENANT_BROKEN}\n\
         \n\
         ${MARIA}\n\
         ${SQLITE}\n\
         postgres://app:hunter2@127.0.0.1:1/nowhere\n",
    )
    .unwrap();
    let ok = schema_url(&schemas, "tenant_ok");
    let envs = [
        ("PG_HEAD", pg_head.url.as_str()),
        ("PG_BEHIND", pg_behind.url.as_str()),
        ("TENANT_OK", ok.as_str()),
        ("TENANT_BROKEN", broken.as_str()),
        ("MARIA", maria.url.as_str()),
        ("SQLITE", sqlite.as_str()),
    ];
    let targets = file.display().to_string();
    let args = [
        "--targets",
        &targets,
        "--keep-going",
        "-j",
        "3",
        "--format",
        "json",
        "migrate",
    ];
    let run = fleet(&root, &dir, &args, &envs);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"));
    let document = run.json();
    assert_eq!(document["command"], "fleet migrate");
    assert_eq!(
        (
            &document["done"],
            &document["failed"],
            &document["not_started"]
        ),
        (&Value::from(5), &Value::from(2), &Value::from(0))
    );
    let head = target(&document, pg_head.name());
    assert_eq!(
        (&head["outcome"], &head["steps"]),
        (&"done".into(), &0.into())
    );
    assert_eq!((&head["from"], &head["to"]), (&HEAD.into(), &HEAD.into()));
    let behind = target(&document, pg_behind.name());
    assert_eq!(behind["from"], "20240101000001");
    assert_eq!((&behind["to"], &behind["steps"]), (&HEAD.into(), &2.into()));
    let tenant_ok = target(&document, "tenant_ok");
    assert_eq!(
        (&tenant_ok["from"], &tenant_ok["to"]),
        (&Value::Null, &HEAD.into())
    );
    let failed = target(&document, "tenant_broken");
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["error"]["kind"], "statement");
    assert_eq!(failed["error"]["migration"], "2024-01-01-000002_first_item");
    // Atomic on PostgreSQL: the failed run left it where it was.
    assert_eq!(
        (&failed["from"], &failed["to"]),
        (&"20240101000001".into(), &"20240101000001".into())
    );
    for needle in [maria.name(), "tenant.db"] {
        let t = target(&document, needle);
        assert_eq!((&t["outcome"], &t["to"]), (&"done".into(), &HEAD.into()));
    }
    let unreachable = target(&document, "nowhere");
    assert_eq!(
        unreachable["target"],
        "postgres://app:***@127.0.0.1:1/nowhere"
    );
    assert_eq!(unreachable["error"]["kind"], "connect");
    // Each schema tenant's ledger is in its schema; the database's own schema has none.
    assert!(!schemas
        .tables()
        .contains(&"__diesel_schema_migrations".to_owned()));

    // The table says the same to a person.
    let text = fleet(
        &root,
        &dir,
        &["--targets", &targets, "--keep-going", "migrate"],
        &envs,
    );
    assert_eq!(text.code, 1, "{text:?}");
    let line = |needle: &str| {
        text.stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line for {needle}: {}", text.stdout))
            .to_owned()
    };
    assert!(line("tenant_broken").contains("FAILED"), "{}", text.stdout);
    assert!(
        line("tenant_broken").contains("first_item"),
        "{}",
        text.stdout
    );
    assert!(line("nowhere").contains("FAILED"), "{}", text.stdout);
    assert!(line(pg_head.name()).contains(&format!("{HEAD} -> {HEAD}")));
    assert!(text
        .stdout
        .contains("7 target(s): 5 done, 2 failed, 0 not started"));

    // Fixed (and the unreachable one gone), a run again completes the broken tenant and
    // leaves those at head as they were: no run, no journal row.
    let journal = "SELECT CAST(COUNT(*) AS CHAR(10)) AS value FROM __pelican_journal";
    let journaled = pg_behind.query_strings(journal);
    let mut conn = pelican::AnyConnection::establish(&broken).unwrap();
    conn.execute_with("DELETE FROM items WHERE id = 1", &[])
        .unwrap();
    drop(conn);
    let lines: Vec<&str> = std::fs::read_to_string(&file)
        .unwrap()
        .leak()
        .lines()
        .collect();
    std::fs::write(&file, lines[..lines.len() - 1].join("\n")).unwrap();
    let again = fleet(
        &root,
        &dir,
        &["--targets", &targets, "--format", "json", "migrate"],
        &envs,
    );
    assert_eq!(again.code, 0, "{again:?}");
    let document = again.json();
    for t in document["targets"].as_array().unwrap() {
        assert_eq!(
            (&t["outcome"], &t["to"]),
            (&"done".into(), &HEAD.into()),
            "{t}"
        );
        let expected = if t["target"].as_str().unwrap().contains("tenant_broken") {
            2
        } else {
            0
        };
        assert_eq!(t["steps"], expected, "{t}");
    }
    assert_eq!(pg_behind.query_strings(journal), journaled);
}

#[test]
fn after_the_first_failure_no_new_target_starts() {
    let ok = TestDb::new(Backend::Postgres, "fleet_stop_ok");
    let root = ok.dir().to_owned();
    let dir = migrations(&root);
    let url = ok.url.as_str();
    let args = [
        "--database-url",
        "postgres://app:hunter2@127.0.0.1:1/nowhere",
        "--database-url",
        url,
        "-j",
        "1",
        "--format",
        "json",
        "migrate",
    ];
    let run = fleet(&root, &dir, &args, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let document = run.json();
    assert_eq!(target(&document, "nowhere")["outcome"], "failed");
    let rest = target(&document, ok.name());
    assert_eq!(
        (&rest["outcome"], &rest["to"]),
        (&"not_started".into(), &Value::Null)
    );
    assert!(
        ok.tables().is_empty(),
        "nothing ran on the target after the failure"
    );
}

#[test]
fn schemas_matching_a_glob_are_tenants_each_with_its_own_ledger() {
    let db = TestDb::new(Backend::Postgres, "fleet_schemas");
    let root = db.dir().to_owned();
    let dir = migrations(&root);
    // `_` is itself in the glob: tenantXb is not a tenant.
    db.execute("CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA tenantXb;");
    let on_tenants = |args: &[&str]| {
        let mut all = vec!["--database-url", &db.url, "--schemas", "tenant_*"];
        all.extend(["--format", "json"]);
        all.extend(args);
        fleet(&root, &dir, &all, &[]).success().json()
    };
    on_tenants(&["migrate"]);
    let document = on_tenants(&["status"]);
    let schemas: Vec<&str> = document["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["schema"].as_str().unwrap())
        .collect();
    assert_eq!(schemas, ["tenant_a", "tenant_b"]);
    for schema in ["tenant_a", "tenant_b"] {
        let out = single(&db, &schema_url(&db, schema), &dir, &["current"]).success();
        assert!(out.stdout.starts_with(HEAD), "{schema}: {}", out.stdout);
    }
    let out = single(&db, &schema_url(&db, "tenantXb"), &dir, &["current"]).success();
    assert!(!out.stdout.contains(HEAD), "{}", out.stdout);

    for t in on_tenants(&["downgrade", "-1"])["targets"]
        .as_array()
        .unwrap()
    {
        assert_eq!(
            (&t["to"], &t["steps"]),
            (&"20240101000002".into(), &1.into())
        );
    }
}

#[test]
fn init_builds_new_tenants_at_head() {
    let db = TestDb::new(Backend::Postgres, "fleet_init");
    let root = db.dir().to_owned();
    let dir = migrations(&root);
    let sqlite = root.join("new.db").display().to_string();
    let schema = schema_url(&db, "tenant_new");
    let args = [
        "--database-url",
        &sqlite,
        "--database-url",
        &schema,
        "--format",
        "json",
        "init",
    ];
    let document = fleet(&root, &dir, &args, &[]).success().json();
    for t in document["targets"].as_array().unwrap() {
        assert_eq!(
            (&t["outcome"], &t["to"]),
            (&"done".into(), &HEAD.into()),
            "{t}"
        );
    }
    let out = single(&db, &schema, &dir, &["current"]).success();
    assert!(out.stdout.starts_with(HEAD), "{}", out.stdout);

    // Again: both are managed at head, and left as they are.
    let again = fleet(&root, &dir, &args, &[]).success().json();
    for t in again["targets"].as_array().unwrap() {
        assert_eq!(
            (&t["from"], &t["to"], &t["steps"]),
            (&HEAD.into(), &HEAD.into(), &0.into()),
            "{t}"
        );
    }
}

#[test]
fn an_unset_variable_in_the_targets_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = migrations(dir.path());
    std::fs::write(
        dir.path().join("targets"),
        "# tenants\na.db\n${NOT_SET_ANYWHERE}/b\n",
    )
    .unwrap();
    let run = fleet(
        dir.path(),
        &migrations,
        &["--targets", "targets", "status"],
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("targets, line 3: ${NOT_SET_ANYWHERE} is not set"),
        "{}",
        run.stderr
    );
}

/// `pelican ARGS` in a folder of its own, with these migrations and no database.
fn pelican_alone(args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let migrations = migrations(dir.path());
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .arg("--migration-dir")
        .arg(&migrations)
        .args(args)
        .output()
        .unwrap();
    (Output::from(run), dir)
}

#[test]
fn only_fleet_commands_take_more_than_one_database_url() {
    let args = [
        "--database-url",
        "a.db",
        "--database-url",
        "b.db",
        "current",
    ];
    let (run, dir) = pelican_alone(&args);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--database-url was given 2 times"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("a.db").exists() && !dir.path().join("b.db").exists());
}

#[test]
fn urls_on_both_sides_of_fleet_are_refused_rather_than_left_out() {
    let args = [
        "--database-url",
        "a.db",
        "fleet",
        "--database-url",
        "b.db",
        "migrate",
    ];
    let (run, dir) = pelican_alone(&args);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("on the same side"), "{}", run.stderr);
    assert!(!dir.path().join("a.db").exists() && !dir.path().join("b.db").exists());
}

#[test]
fn quiet_prints_only_the_failed_targets_errors() {
    let args = [
        "--database-url",
        "a.db",
        "--database-url",
        "no/such/b.db",
        "-q",
    ];
    let (run, dir) = pelican_alone(&[&args[..], &["fleet", "--keep-going", "migrate"]].concat());
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("no/such/b.db: "), "{}", run.stderr);
    assert!(dir.path().join("a.db").exists(), "the other target ran");
}
