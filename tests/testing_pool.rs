//! `pelican::testing`'s databases prepared ahead: what a killed suite leaves is gone
//! after the next run, and tests in parallel threads and processes never share rows.
//!
//! Both tests run this binary again as child processes (the `child` test below, which
//! does nothing unless `PELICAN_POOL_CHILD` names what to do), so that a process can be
//! killed, and two can run side by side.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use pelican::__test_support::Server;
use pelican::testing::{Harness, TestDatabase};
use pelican::{Backend, Migrations};

/// What a child process does: `hold`, `take` or `isolate`, then the backend.
const CHILD: &str = "PELICAN_POOL_CHILD";
/// What the child that holds databases prints once it has them.
const HOLDING: &str = "pelican-pool-child-holding";

fn example() -> Migrations {
    Migrations::from_dir(common::example_migrations()).unwrap()
}

fn servers() -> Vec<Backend> {
    vec![
        #[cfg(feature = "postgres")]
        Backend::Postgres,
        #[cfg(feature = "mysql")]
        Backend::Mysql,
    ]
}

fn backend_named(name: &str) -> Backend {
    servers()
        .into_iter()
        .find(|backend| backend.to_string() == name)
        .unwrap_or_else(|| panic!("no backend {name}"))
}

/// This binary, running only the `child` test, told what to do.
fn spawn_child(what: &str, backend: Backend) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{what} {backend}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // The child sizes its pool as a plain `cargo test` process would.
        .env_remove("NEXTEST_RUN_ID");
    command
}

/// The test databases on the backend's server that process `pid` made.
fn databases_of(backend: Backend, pid: u32) -> Vec<String> {
    let url = pelican::testing::server_url(backend).unwrap();
    let mut server = Server::connect(&url).unwrap();
    server
        .list(&format!("{}{pid}_", pelican::testing::TEST_PREFIX))
        .unwrap()
}

fn rows(db: &mut TestDatabase) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Email {
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
    }
    db.conn()
        .load_with::<Email>("SELECT email FROM usuario ORDER BY email", &[])
        .unwrap()
        .into_iter()
        .map(|row| row.email)
        .collect()
}

/// The child processes' side; a no-op in a plain run.
#[test]
fn child() {
    let Ok(what) = std::env::var(CHILD) else {
        return;
    };
    let (what, backend) = what.split_once(' ').unwrap();
    let backend = backend_named(backend);
    let migrations = example();
    match what {
        // Takes databases from a pool of 4 and holds them, while the pool refills,
        // until it is killed.
        "hold" => {
            let harness = Harness::new(&migrations, backend).prepare_ahead(4);
            let held: Vec<TestDatabase> = (0..3).map(|_| harness.database().unwrap()).collect();
            println!("{HOLDING}");
            std::thread::sleep(std::time::Duration::from_secs(120));
            drop(held);
        }
        // Takes a database and ends: the run after a killed one.
        "take" => {
            let harness = Harness::new(&migrations, backend);
            drop(harness.database().unwrap());
        }
        // Sixteen threads, each taking databases in turn and finding its own rows only.
        "isolate" => std::thread::scope(|scope| {
            for thread in 0..16 {
                let migrations = &migrations;
                scope.spawn(move || {
                    let harness = Harness::new(migrations, backend);
                    for round in 0..3 {
                        let mut db = harness.database().unwrap();
                        assert!(rows(&mut db).is_empty(), "{backend}: a used database");
                        let mine: Vec<String> = (0..3)
                            .map(|i| format!("{}-{thread}-{round}-{i}@x", std::process::id()))
                            .collect();
                        for (id, email) in mine.iter().enumerate() {
                            db.conn()
                                .batch_execute(&format!(
                                    "INSERT INTO usuario (id, email, nombre) \
                                     VALUES ({id}, '{email}', 'U')"
                                ))
                                .unwrap();
                        }
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        assert_eq!(rows(&mut db), mine, "{backend}: someone else's rows");
                    }
                });
            }
        }),
        other => panic!("unknown child task {other}"),
    }
}

#[test]
fn a_suite_killed_mid_run_leaves_nothing_after_the_next_run() {
    for backend in servers() {
        let mut holder = spawn_child("hold", backend)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = holder.id();
        let stdout = BufReader::new(holder.stdout.take().unwrap());
        let holding = stdout
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains(HOLDING));
        assert!(holding, "{backend}: the child never held its databases");
        assert!(
            databases_of(backend, pid).len() >= 3,
            "{backend}: the child's databases are on the server"
        );
        // SIGKILL, while the pool refills: nothing of the child's runs after this.
        holder.kill().unwrap();
        holder.wait().unwrap();

        ends_leaving_nothing(backend, spawn_child("take", backend).spawn().unwrap());
        assert_eq!(
            databases_of(backend, pid),
            Vec::<String>::new(),
            "{backend}: the killed run's databases are left"
        );
    }
}

#[test]
fn a_run_that_ends_leaves_no_database_prepared_ahead() {
    for backend in servers() {
        ends_leaving_nothing(backend, spawn_child("take", backend).spawn().unwrap());
    }
}

#[test]
fn sixteen_threads_in_two_processes_see_only_their_own_rows() {
    for backend in servers() {
        let children: Vec<_> = (0..2)
            .map(|_| spawn_child("isolate", backend).spawn().unwrap())
            .collect();
        for process in children {
            ends_leaving_nothing(backend, process);
        }
    }
}

/// Waits for a child process, which must succeed and leave none of its databases (its
/// pool drained when it exits).
fn ends_leaving_nothing(backend: Backend, process: std::process::Child) {
    let pid = process.id();
    let output = process.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{backend}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        databases_of(backend, pid),
        Vec::<String>::new(),
        "{backend}: the child's databases are left"
    );
}
