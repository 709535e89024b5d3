//! What a newcomer meets first: `--version`, `--help`, shell completions, the man page,
//! colours, and `pending --exit-code`.

mod common;

use std::process::Command;

use common::Output;

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
