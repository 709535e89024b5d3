//! The README's shell blocks run: every command it shows on the example project (the
//! quick start, writing and running a migration, the container entrypoint) runs here in
//! README order, with the built `pelican` first on `PATH`, in a new Cargo project on
//! SQLite; each must succeed, and where the README shows what a command prints, it must
//! print exactly that.
//!
//! Each shell block is named, by its first line, in [`RUN`] or, when it cannot run in a
//! test, in [`NOT_RUN`] with the reason; a block in neither (a new one, or one whose
//! first line changed) fails a test, so none escapes silently, and no command the README
//! gains runs here before someone has looked at it. The README's Rust blocks are compiled elsewhere (doctests
//! through `src/lib.rs`'s `ReadmeDoctests`, and `tests/readme_testing.rs`, which
//! `tests/docs.rs` holds to the README's text).

#![cfg(all(unix, feature = "sqlite"))]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's shell blocks that run here, in README order in one project, each by its
/// first line.
const RUN: &[&str] = &[
    // The quick start: .env, `setup`, `migration generate`, with their output.
    "$ echo DATABASE_URL=app.db > .env",
    // Writing the generated migration's up.sql and down.sql.
    "echo 'CREATE TABLE users (id INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL);' \\",
    // `migration run`, `migration list`, `current`, with their output.
    "$ pelican migration run",
    // The container entrypoint: `boot`, then the application (a stand-in here).
    "AUTO_MIGRATE=1 pelican --wait 60 boot && exec myapp serve",
];

/// The README's shell blocks that are not run, each by its first line, with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo install pelican --features postgres,mysql",
        "installs pelican from crates.io: a download and a release build of every \
         backend; the blocks that run use the binary this build made instead",
    ),
    (
        "cargo run -- init           # the example schema at head on the SQLite file named in .env",
        "pelican's own development loop: `cargo run` builds pelican and writes the \
         repository's own SQLite file, and `scripts/test` is the whole suite (it installs \
         packages and starts PostgreSQL and MariaDB)",
    ),
];

/// Fenced blocks in these languages are not commands: Rust is compiled (see the module
/// documentation); TOML is a `Cargo.toml` fragment, the dependencies the Rust block after
/// it is compiled with.
const NOT_COMMANDS: &[&str] = &["rust", "toml"];

/// Where the README's sample output says the project is.
const README_PROJECT: &str = "/home/me/app";

/// A fenced block of the README.
#[derive(Debug)]
struct Block {
    /// The README's line the fence opens on, from 1.
    line: usize,
    /// The info string's first word (`console`, `sh`, `rust`…), empty when none.
    language: String,
    /// The block's lines, without the fence's indentation.
    lines: Vec<String>,
}

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md")
}

/// Every fenced block of a Markdown text, indented ones (in a list item) included.
fn blocks(text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let language = info
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let block = Block {
                        line: index + 1,
                        language,
                        lines: Vec::new(),
                    };
                    open = Some((indent, block));
                }
            }
            Some((_, block)) if trimmed == "```" => found.push(block),
            Some((indent, mut block)) => {
                let cut = line.len() - line.trim_start().len();
                block.lines.push(line[cut.min(indent)..].to_owned());
                open = Some((indent, block));
            }
        }
    }
    assert!(open.is_none(), "README.md ends inside a fenced block");
    found
}

/// A command of a block, and what the README shows it printing (`None`: nothing shown,
/// not compared).
#[derive(Debug)]
struct Step {
    command: String,
    expected: Option<String>,
}

/// A `console` block is `$ ` commands (a line ending in `\` goes on), each followed by
/// what it prints; any other block is one script whose output the README does not show.
fn steps(block: &Block) -> Vec<Step> {
    if block.language != "console" {
        return vec![Step {
            command: block.lines.join("\n"),
            expected: None,
        }];
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for line in &block.lines {
        let is_command = if continued {
            let step = steps.last_mut().expect("a command goes on");
            step.command.push('\n');
            step.command.push_str(line);
            true
        } else if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                command: command.to_owned(),
                expected: Some(String::new()),
            });
            true
        } else {
            let step = steps.last_mut().unwrap_or_else(|| {
                panic!("README.md:{}: output before any `$ ` command", block.line)
            });
            let expected = step.expected.get_or_insert_with(String::new);
            expected.push_str(line);
            expected.push('\n');
            false
        };
        continued = is_command && line.ends_with('\\');
    }
    steps
}

/// A block's first line, by which [`RUN`] and [`NOT_RUN`] name it.
fn first_line(block: &Block) -> &str {
    block.lines.first().map(String::as_str).unwrap_or_default()
}

/// Where the commands run: a new Cargo project (pelican, like diesel CLI, looks for
/// `Cargo.toml` from the working directory up), with the built `pelican` first on `PATH`
/// and nothing from the environment that would change what it does.
struct Project {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    path: std::ffi::OsString,
}

impl Project {
    fn new() -> Project {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path().canonicalize().expect("the temporary folder");
        let dir = root.join("app");
        fs::create_dir(&dir).expect("the project folder");
        fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .expect("Cargo.toml");
        let bin = root.join("bin");
        fs::create_dir(&bin).expect("the bin folder");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pelican"), bin.join("pelican"))
            .expect("pelican on PATH");
        // The CI block starts the reader's application after `pelican boot`: a stand-in
        // that does nothing.
        let myapp = bin.join("myapp");
        fs::write(&myapp, "#!/bin/sh\nexit 0\n").expect("myapp");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&myapp, fs::Permissions::from_mode(0o755)).expect("myapp runs");
        let mut paths = vec![bin];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        Project {
            _temp: temp,
            dir,
            path: std::env::join_paths(paths).expect("PATH"),
        }
    }

    /// Runs one command with `sh`, as a reader's shell would.
    fn run(&self, command: &str) -> std::process::Output {
        let mut run = Command::new("sh");
        run.arg("-ec").arg(command).current_dir(&self.dir);
        run.env("PATH", &self.path);
        for name in [
            "DATABASE_URL",
            "MIGRATION_DIRECTORY",
            "DIESEL_CONFIG_FILE",
            "AUTO_MIGRATE",
            "NO_COLOR",
            "CLICOLOR_FORCE",
        ] {
            run.env_remove(name);
        }
        run.output().expect("sh runs")
    }

    /// Gives a migration folder that `generate` just made the README's name for it
    /// (the README's clock), so that the commands after it run as written; returns the
    /// version it had and the README's.
    fn pin_generated(&self, readme: &str) -> Vec<(String, String)> {
        let mut renamed = Vec::new();
        let Ok(entries) = fs::read_dir(self.dir.join("migrations")) else {
            return renamed;
        };
        for entry in entries {
            let path = entry.expect("a migrations entry").path();
            let folder = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some((version, name)) = folder.split_once('_') else {
                continue;
            };
            if readme.contains(&folder) || !path.is_dir() {
                continue;
            }
            let pattern = format!(
                r"(\d{{4}}-\d{{2}}-\d{{2}}-\d{{6}}-\d{{4}})_{}\b",
                regex::escape(name)
            );
            let Some(found) = regex::Regex::new(&pattern).unwrap().captures(readme) else {
                continue;
            };
            let readme_version = found[1].to_owned();
            fs::rename(
                &path,
                path.with_file_name(format!("{readme_version}_{name}")),
            )
            .expect("rename the generated migration");
            renamed.push((version.to_owned(), readme_version));
        }
        renamed
    }
}

/// The README's shell blocks: those that are not [`NOT_COMMANDS`].
fn shell_blocks() -> Vec<Block> {
    blocks(&readme())
        .into_iter()
        .filter(|block| !NOT_COMMANDS.contains(&block.language.as_str()))
        .collect()
}

#[test]
fn every_shell_block_of_the_readme_is_run_or_says_why_not() {
    let blocks = shell_blocks();
    for block in &blocks {
        let first = first_line(block);
        let listed = RUN.contains(&first) || NOT_RUN.iter().any(|(line, _)| *line == first);
        assert!(
            listed,
            "README.md:{}: a shell block this test does not know, starting `{first}`: add \
             it to RUN (to run it in README order, once it runs here) or to NOT_RUN with \
             the reason it cannot run in a test",
            block.line
        );
    }
    let listed = RUN.iter().chain(NOT_RUN.iter().map(|(line, _)| line));
    for line in listed {
        assert!(
            blocks.iter().any(|block| first_line(block) == *line),
            "`{line}` is listed here, but no README block starts with it any more"
        );
    }
    for (line, reason) in NOT_RUN {
        assert!(!reason.is_empty(), "`{line}`: no reason given");
    }
}

#[test]
fn the_readme_commands_run_and_print_what_it_shows() {
    let readme = readme();
    let project = Project::new();
    let mut ran = 0;
    for block in shell_blocks() {
        if !RUN.contains(&first_line(&block)) {
            continue;
        }
        for step in steps(&block) {
            let output = project.run(&step.command);
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(
                output.status.success(),
                "README.md:{} (```{}): `{}` failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
                block.line,
                block.language,
                step.command,
                output.status,
            );
            ran += 1;
            let renamed = project.pin_generated(&readme);
            let Some(expected) = step.expected else {
                continue;
            };
            let mut shown = stdout.replace(&project.dir.display().to_string(), README_PROJECT);
            for (version, readme_version) in &renamed {
                shown = shown.replace(version, readme_version);
            }
            assert_eq!(
                shown, expected,
                "README.md:{}: what `{}` prints is not what the README shows",
                block.line, step.command
            );
            assert_eq!(
                stderr, "",
                "README.md:{}: `{}` printed on stderr what the README does not show",
                block.line, step.command
            );
        }
    }
    assert!(ran > 5, "only {ran} commands ran");
    // The quick start's promise: `setup` wrote diesel.toml, and `migration run` kept
    // `src/schema.rs` in step.
    let schema = fs::read_to_string(project.dir.join("src/schema.rs")).expect("src/schema.rs");
    assert!(schema.contains("users (id)"), "{schema}");
}
