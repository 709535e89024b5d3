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

/// The paths of every command under `pelican`, subcommands of subcommands included
/// (`["migration", "run"]`), `pelican` itself first as the empty path.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: Vec<String>, paths: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut sub_path = path.clone();
            sub_path.push(sub.get_name().to_owned());
            walk(sub, sub_path, paths);
        }
        paths.push(path);
    }
    let mut paths = Vec::new();
    walk(
        &<pelican::__test_support::Cli as clap::CommandFactory>::command(),
        Vec::new(),
        &mut paths,
    );
    paths.sort();
    paths
}

/// `pelican --help` and every command's `--help`, as a user reads them at 100 columns.
///
/// The expected texts are in tests/snapshots/. After changing a help text, write them
/// again with `INSTA_UPDATE=always cargo test --all-features --test conventions`, or
/// review each change with `cargo insta review`, and commit them.
#[test]
fn help_of_every_command_matches_its_snapshot() {
    let paths = command_paths();
    assert!(paths.len() > 20, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = pelican(&args).success();
        let name = match path.is_empty() {
            true => "help".to_owned(),
            false => format!("help_{}", path.join("_").replace('-', "_")),
        };
        insta::assert_snapshot!(name, out.stdout, &args.join(" "));
    }
}

#[test]
fn help_lists_the_global_options_apart_from_a_commands_own() {
    let out = pelican(&["migrate", "--help"]).success();
    let (own, global) = out
        .stdout
        .split_once("Global options:")
        .unwrap_or_else(|| panic!("no Global options heading:\n{}", out.stdout));
    assert!(own.contains("--dry-run"), "{own}");
    assert!(!own.contains("--database-url"), "{own}");
    for flag in [
        "--database-url",
        "--format",
        "--quiet",
        "--wait",
        "--lock-timeout",
        "--statement-timeout",
        "--locked-schema",
        "--migration-dir",
        "--config-file",
    ] {
        assert!(
            global.contains(flag),
            "{flag} missing under Global options:\n{global}"
        );
    }
    assert!(!global.contains("--dry-run"), "{global}");
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

/// pelican's top-level commands, as `pelican --help` lists them.
fn top_level_commands() -> Vec<String> {
    <pelican::__test_support::Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    let commands = top_level_commands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = pelican(&["completions", shell]).success();
        assert!(!out.stdout.trim().is_empty(), "{shell}: empty script");
        assert!(out.stderr.is_empty(), "{shell}: {}", out.stderr);
        for command in &commands {
            assert!(
                out.stdout.contains(command.as_str()),
                "{shell}: {command} missing"
            );
        }
        assert!(
            out.stdout.contains("database-url"),
            "{shell}: no --database-url"
        );
    }
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let out = pelican(&["completions", "tcsh"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("tcsh"), "{}", out.stderr);
}

#[test]
fn man_writes_a_roff_page_naming_the_commands() {
    let out = pelican(&["man"]).success();
    // clap_mangen opens with the definition of a quote string, then the title.
    let first_request = out
        .stdout
        .lines()
        .find(|line| line.starts_with(".TH") || line.starts_with(".SH"))
        .unwrap_or_default();
    assert!(first_request.starts_with(".TH pelican 1"), "{}", out.stdout);
    assert!(out.stdout.contains(".SH SUBCOMMANDS"), "{}", out.stdout);
    for command in top_level_commands() {
        assert!(
            out.stdout
                .contains(&format!("pelican\\-{}(1)", command.replace('-', "\\-"))),
            "{command} missing from the man page"
        );
    }
}

/// The escape sequence that starts every colour or style.
const ESCAPE: char = '\u{1b}';

/// `pelican` with `args` and `env`, for clap's own output: help, usage and its errors.
fn clap_output(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut run = Command::new(env!("CARGO_BIN_EXE_pelican"));
    run.env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("COLUMNS", "100")
        .args(args);
    for (key, value) in env {
        run.env(key, value);
    }
    Output::from(run.output().expect("run pelican"))
}

/// The arguments and the environment of one run.
type Run = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

#[test]
fn help_and_usage_errors_follow_color_as_the_output_does() {
    let coloured: [Run; 5] = [
        (&["--color", "always", "--help"], &[]),
        (&["--color=always", "--help"], &[]),
        (&["migrate", "--help", "--color", "always"], &[]),
        (
            &["--color", "always", "migration", "run", "--help"],
            &[("NO_COLOR", "1")],
        ),
        (&["--help"], &[("CLICOLOR_FORCE", "1")]),
    ];
    for (args, env) in coloured {
        let out = clap_output(args, env).success();
        assert!(
            out.stdout.contains(ESCAPE),
            "{args:?} {env:?}: {:?}",
            out.stdout
        );
    }
    let plain: [Run; 5] = [
        (&["--help"], &[]),
        (&["--color", "never", "--help"], &[]),
        (&["--color", "never", "--help"], &[("CLICOLOR_FORCE", "1")]),
        (
            &["migrate", "--color=never", "--help"],
            &[("CLICOLOR_FORCE", "1")],
        ),
        (&["--help"], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
    ];
    for (args, env) in plain {
        let out = clap_output(args, env).success();
        assert!(
            !out.stdout.contains(ESCAPE),
            "{args:?} {env:?}: {:?}",
            out.stdout
        );
        assert!(out.stdout.contains("Usage:"), "{}", out.stdout);
    }
    // clap's usage error, on stderr with exit code 2.
    let error = clap_output(&["--color", "always", "history", "--no-such-flag"], &[]);
    assert_eq!(error.code, 2, "{error:?}");
    assert!(
        error.stderr.contains("unexpected argument"),
        "{}",
        error.stderr
    );
    assert!(error.stderr.contains(ESCAPE), "{:?}", error.stderr);
    let error = clap_output(
        &["--color", "never", "history", "--no-such-flag"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(error.code, 2, "{error:?}");
    assert!(error.stderr.contains("--no-such-flag"), "{}", error.stderr);
    assert!(!error.stderr.contains(ESCAPE), "{:?}", error.stderr);
}

/// `migrate` (which prints `Applied …`) and a `stamp` that fails (which prints `error:`)
/// on a fresh SQLite database, with `args` before the command and `env` set; both runs'
/// stdout and stderr.
#[cfg(feature = "sqlite")]
fn coloured_runs(test: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let db = common::TestDb::new(pelican::Backend::Sqlite, test);
    let migrations = write_migrations(
        db.dir(),
        &[(
            "2024-01-01-000000_create_a",
            "CREATE TABLE a (id INTEGER);\n",
            "DROP TABLE a;\n",
        )],
    );
    let mut texts = Vec::new();
    for command in [&["migrate"][..], &["stamp", "nope"][..]] {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(command);
        let mut run = db.command(&migrations, &all);
        run.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (key, value) in env {
            run.env(key, value);
        }
        let out = Output::from(run.output().expect("run pelican"));
        assert!(
            out.stdout.contains("Applied") || out.stderr.contains("error:"),
            "{out:?}"
        );
        texts.push(out.stdout);
        texts.push(out.stderr);
    }
    texts
}

#[cfg(feature = "sqlite")]
#[test]
fn output_through_a_pipe_has_no_colours() {
    for text in coloured_runs("no_colour_in_a_pipe", &[], &[]) {
        assert!(!text.contains(ESCAPE), "{text:?}");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn color_always_colours_a_pipe_too() {
    for args in [&["--color", "always"][..], &[][..]] {
        let env: &[(&str, &str)] = match args.is_empty() {
            true => &[("CLICOLOR_FORCE", "1")],
            false => &[],
        };
        let texts = coloured_runs("colour_always", args, env);
        let applied = &texts[0];
        let error = &texts[3];
        assert!(
            applied.contains(&format!("{ESCAPE}[")),
            "{args:?} {env:?}: {applied:?}"
        );
        assert!(!applied.starts_with("Applied"), "{applied:?}");
        assert!(error.starts_with(ESCAPE), "{args:?} {env:?}: {error:?}");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn no_color_and_color_never_win_over_clicolor_force() {
    let no_color = coloured_runs(
        "no_color",
        &["--color", "auto"],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    );
    let never = coloured_runs(
        "colour_never",
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
    );
    for text in no_color.iter().chain(&never) {
        assert!(!text.contains(ESCAPE), "{text:?}");
    }
}
