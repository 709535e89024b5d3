//! What a newcomer meets first: `--version`, `--help`, shell completions, the man page,
//! colours, and `pending --exit-code`.

mod common;

use std::process::Command;

use common::{write_migrations, Output};

/// Runs `pelican` with `args` and nothing from the environment that changes its output.
fn pelican(args: &[&str]) -> Output {
    Output::from(
        Command::new(env!("CARGO_BIN_EXE_pelican"))
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("COLUMNS", "100")
            .args(args)
            .output()
            .expect("run pelican"),
    )
}

#[test]
fn version_lists_the_backends_compiled_in() {
    let mut backends = Vec::new();
    if cfg!(feature = "sqlite") {
        backends.push("sqlite");
    }
    if cfg!(feature = "postgres") {
        backends.push("postgres");
    }
    if cfg!(feature = "mysql") {
        backends.push("mysql");
    }
    let expected = format!(
        "pelican {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        backends.join(", ")
    );
    assert_eq!(pelican(&["--version"]).success().stdout, expected);
    assert_eq!(pelican(&["-V"]).success().stdout, expected);
}

backend_tests! {
    fn pending_exit_code_says_whether_anything_is_pending(db: TestDb) {
        let migrations = write_migrations(
            db.dir(),
            &[
                ("2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n", "DROP TABLE a;\n"),
                ("2024-01-02-000000_create_b", "CREATE TABLE b (id INTEGER PRIMARY KEY);\n", "DROP TABLE b;\n"),
            ],
        );
        let plain = db.pelican(&migrations, &["pending"]).success();
        let flagged = db.pelican(&migrations, &["pending", "--exit-code"]);
        assert_eq!(flagged.code, 1, "{flagged:?}");
        assert_eq!(flagged.stdout, plain.stdout);
        assert_eq!(flagged.stderr, plain.stderr);
        assert!(flagged.stdout.contains("20240102000000 create_b"), "{}", flagged.stdout);
        let json = db.pelican(&migrations, &["--format", "json", "pending", "--exit-code"]);
        assert_eq!(json.code, 1, "{json:?}");
        assert_eq!(json.json()["pending"].as_array().map(Vec::len), Some(2));

        db.pelican(&migrations, &["migrate"]).success();
        let none = db.pelican(&migrations, &["pending", "--exit-code"]).success();
        assert_eq!(none.stdout, "No pending migrations\n");
        assert_eq!(none.stderr, "");
    }
}
