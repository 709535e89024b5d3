//! Shared test support: a fresh database per test on each backend, and the `pelican`
//! binary run against it.
//!
//! `backend_tests!` writes one `#[test]` per enabled backend from one body, each test
//! in its own uniquely named database (a SQLite file in a temporary folder, or a
//! database on the PostgreSQL/MariaDB server named by `PELICAN_TEST_POSTGRES_URL` /
//! `PELICAN_TEST_MYSQL_URL`), dropped afterwards unless the test failed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use pelican::__test_support::{temp_database_on, Server, TempDatabase};
use pelican::{AnyConnection, Backend};

/// `url` naming database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> String {
    pelican::__test_support::with_database(url, name)
}

/// A database made for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: String,
    /// The test's database on its server; none on SQLite, whose file is in `_dir`.
    database: Option<TempDatabase>,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("pelican_t_{}_{}_{n}", std::process::id(), test);
    name.truncate(63);
    name
}

pub fn postgres_url() -> String {
    pelican::testing::server_url(Backend::Postgres).expect("a server backend")
}

pub fn mysql_url() -> String {
    pelican::testing::server_url(Backend::Mysql).expect("a server backend")
}

impl TestDb {
    pub fn new(backend: Backend, test: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let name = unique_name(test);
        // A database on the backend's test server, or a file (not made yet) in the folder.
        let database = pelican::testing::server_url(backend).map(|server_url| {
            let mut server = Server::connect(&server_url).expect("the test server answers");
            temp_database_on(&mut server, &name).expect("a test database")
        });
        let url = match &database {
            Some(database) => database.url().to_owned(),
            None => dir.path().join("test.db").display().to_string(),
        };
        TestDb {
            backend,
            url,
            name,
            database,
            _dir: dir,
        }
    }

    pub fn connect(&self) -> AnyConnection {
        AnyConnection::establish(&self.url).expect("connect to the test database")
    }

    /// The folder this test may write files into (a project root).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Runs `pelican` with this database and `migrations`, from the test's folder.
    pub fn pelican(&self, migrations: &Path, args: &[&str]) -> Output {
        Output::from(
            self.command(migrations, args)
                .output()
                .expect("run pelican"),
        )
    }

    /// The `pelican` command `pelican()` runs, not started yet (to set its environment,
    /// or to start several at once). AUTO_MIGRATE is unset.
    pub fn command(&self, migrations: &Path, args: &[&str]) -> Command {
        self.command_with_url(&self.url, migrations, args)
    }

    /// The database's name on its server (unique to this test).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `pelican` command with another database URL than this test database's (a
    /// wrong password, an unreachable host…), from the test's folder.
    pub fn command_with_url(&self, url: &str, migrations: &Path, args: &[&str]) -> Command {
        self.wrapped(
            Command::new(env!("CARGO_BIN_EXE_pelican")),
            url,
            migrations,
            args,
        )
    }

    /// `command` is `pelican`, or a program that runs what follows it (`setpriv … pelican`,
    /// a shell setting a limit): given pelican's arguments and environment as
    /// [`command_with_url`](TestDb::command_with_url) gives them.
    pub fn wrapped(
        &self,
        mut command: Command,
        url: &str,
        migrations: &Path,
        args: &[&str],
    ) -> Command {
        command
            .current_dir(self.dir())
            .env_remove("DATABASE_URL")
            .env_remove("MIGRATION_DIRECTORY")
            .env_remove("DIESEL_CONFIG_FILE")
            .env_remove("AUTO_MIGRATE")
            // With the `tracing` feature, `-v` prints spans and events on stderr too:
            // the tests of the command line's output see what it prints without them
            // (tests/tracing.rs tests them).
            .env("RUST_LOG", "off")
            .arg("--database-url")
            .arg(url)
            .arg("--migration-dir")
            .arg(migrations)
            .args(args);
        command
    }

    /// The names of the tables (not views) in the database, sorted, ledger included.
    pub fn tables(&self) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            Backend::Mysql => "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let mut names: Vec<String> = self
            .connect()
            .load_with::<Row>(sql, &[])
            .expect("list tables")
            .into_iter()
            .map(|r| r.name)
            .collect();
        names.sort();
        names
    }

    /// The columns of a table, lower-cased, in name order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        use pelican::connection::Bind;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM pragma_table_info(?)",
            Backend::Postgres => "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
            Backend::Mysql => "SELECT CAST(column_name AS CHAR) AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        };
        let mut names: Vec<String> = self
            .connect()
            .load_with::<Row>(sql, &[Bind::Text(table)])
            .expect("list columns")
            .into_iter()
            .map(|r| r.name.to_lowercase())
            .collect();
        names.sort();
        names
    }

    /// The versions in diesel's table, oldest first.
    pub fn applied(&self) -> Vec<String> {
        self.query_strings(
            "SELECT version AS value FROM __diesel_schema_migrations ORDER BY version",
        )
    }

    /// The first column (aliased `value`, text) of every row of a query.
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        self.connect()
            .load_with::<Row>(sql, &[])
            .expect("query")
            .into_iter()
            .map(|r| r.value.trim_end().to_owned())
            .collect()
    }

    pub fn execute(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        self.connect().batch_execute(sql).expect("execute");
    }

    /// The database's own command-line client (`psql`, `sqlite3`, `mariadb`) reading the
    /// script in `file`, as a user would apply it; `psql_options` go before psql's
    /// others.
    pub fn client(&self, file: &Path, psql_options: &[&str]) -> Command {
        let script = || std::fs::File::open(file).expect("the script");
        match self.backend {
            Backend::Postgres => {
                let mut c = Command::new("psql");
                c.args(psql_options)
                    .args(["-q", "-X", "-d", &self.url, "-f"])
                    .arg(file);
                c
            }
            Backend::Mysql => {
                // mysql://user[:password]@host:port/database
                let rest = self.url.trim_start_matches("mysql://");
                let (user, rest) = rest.split_once('@').expect("a user");
                let (address, database) = rest.split_once('/').expect("a database");
                let (host, port) = address.split_once(':').unwrap_or((address, "3306"));
                let mut c = Command::new("mariadb");
                c.args([
                    "--protocol=TCP",
                    "-h",
                    host,
                    "-P",
                    port,
                    "-u",
                    user,
                    database,
                ])
                .stdin(script());
                c
            }
            Backend::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.arg(&self.url).stdin(script());
                c
            }
            other => unimplemented!("{other:?}: a backend these tests do not know"),
        }
    }
}

impl TestDb {
    /// Whether the backend's test server has a database named `name` (a template
    /// database included).
    pub fn server_has(backend: Backend, name: &str) -> bool {
        let url = pelican::testing::server_url(backend).expect("a server backend");
        Server::connect(&url)
            .expect("the server answers")
            .exists(name)
            .expect("look for the database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test database kept for inspection: {}", self.url);
            match self.database.take() {
                Some(database) => {
                    database.keep();
                }
                None => {
                    let kept =
                        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("tempdir"));
                    let _ = kept.keep();
                }
            }
        }
        // Otherwise the database is dropped with its field, and the folder with its own.
    }
}

/// What a run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(output: std::process::Output) -> Output {
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Output {
    #[track_caller]
    pub fn success(self) -> Output {
        assert_eq!(
            self.code, 0,
            "pelican failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Starts every command at once, then waits for all of them.
pub fn all_at_once(commands: impl IntoIterator<Item = Command>) -> Vec<Output> {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut command| {
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start pelican")
        })
        .collect();
    children
        .into_iter()
        .map(|child| Output::from(child.wait_with_output().expect("wait for pelican")))
        .collect()
}

/// diesel CLI, where it is installed: `PELICAN_DIESEL_CLI`, `diesel` on `PATH`, or
/// `target/tools/bin/diesel` (where `scripts/bench` installs it).
pub fn diesel_cli() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PELICAN_DIESEL_CLI").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("diesel"))
            .find(|file| file.is_file())
    });
    on_path.or_else(|| {
        let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/diesel");
        tools.is_file().then_some(tools)
    })
}

/// The example application's migrations at the root of the repository.
pub fn example_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// The example migrations, loaded.
pub fn example_set() -> pelican::Migrations {
    pelican::Migrations::from_dir(example_migrations()).unwrap()
}

/// The example's seed: the admin user, as the testing tests seed their templates.
pub fn example_seed(conn: &mut pelican::AnyConnection) -> Result<(), pelican::BoxError> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(
        "INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@lms.test', 'Admin')",
    )?;
    Ok(())
}

/// A migrations folder written from `(folder name, up.sql, down.sql)` triples.
pub fn write_migrations(root: &Path, migrations: &[(&str, &str, &str)]) -> PathBuf {
    let dir = root.join("migrations");
    std::fs::create_dir_all(&dir).expect("create migrations");
    for (name, up, down) in migrations {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).expect("create migration folder");
        std::fs::write(folder.join("up.sql"), up).expect("write up.sql");
        if !down.is_empty() {
            std::fs::write(folder.join("down.sql"), down).expect("write down.sql");
        }
    }
    dir
}

/// Copies the oldest `count` migration folders of `from` into `root/migrations`.
pub fn copy_migrations(from: &Path, root: &Path, count: usize) -> PathBuf {
    let dir = write_migrations(root, &[]);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(from)
        .expect("read migrations")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    for folder in folders.into_iter().take(count) {
        let target = dir.join(folder.file_name().expect("a folder name"));
        std::fs::create_dir_all(&target).expect("create folder");
        for file in std::fs::read_dir(&folder).expect("read folder") {
            let file = file.expect("entry");
            std::fs::copy(file.path(), target.join(file.file_name())).expect("copy");
        }
    }
    dir
}

/// One `#[test]` per enabled backend for each body: `fn name(db: TestDb) { … }`.
#[macro_export]
macro_rules! backend_tests {
    ($(fn $name:ident($db:ident: TestDb) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn run($db: $crate::common::TestDb) $body

                #[cfg(feature = "sqlite")]
                #[test]
                fn sqlite() {
                    run($crate::common::TestDb::new(pelican::Backend::Sqlite, stringify!($name)));
                }

                #[cfg(feature = "postgres")]
                #[test]
                fn postgres() {
                    run($crate::common::TestDb::new(pelican::Backend::Postgres, stringify!($name)));
                }

                #[cfg(feature = "mysql")]
                #[test]
                fn mysql() {
                    run($crate::common::TestDb::new(pelican::Backend::Mysql, stringify!($name)));
                }
            }
        )*
    };
}

/// One `#[test]` per enabled server backend (PostgreSQL, MySQL/MariaDB) for each body,
/// for what SQLite has no counterpart of (a password, a server session to cut).
#[macro_export]
macro_rules! server_tests {
    ($(fn $name:ident($db:ident: TestDb) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                // Only where a server backend is built: a body may use what only
                // those builds have.
                #[cfg(any(feature = "postgres", feature = "mysql"))]
                fn run($db: $crate::common::TestDb) $body

                #[cfg(feature = "postgres")]
                #[test]
                fn postgres() {
                    run($crate::common::TestDb::new(pelican::Backend::Postgres, stringify!($name)));
                }

                #[cfg(feature = "mysql")]
                #[test]
                fn mysql() {
                    run($crate::common::TestDb::new(pelican::Backend::Mysql, stringify!($name)));
                }
            }
        )*
    };
}

/// Three migrations every backend runs: tables whose foreign keys cascade (`posts` on
/// `blogs`, `comments` on `posts`) beside one that does not (`posts` on `authors`),
/// with a row in each; views on them, one on top of the other; then one more table.
/// Dropped in name order with foreign keys enforced, SQLite stumbles on them.
pub fn cascading_migrations(root: &Path) -> PathBuf {
    write_migrations(
        root,
        &[
            (
                "2024-01-01-000000_create_blogs",
                "CREATE TABLE authors (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
                 CREATE TABLE blogs (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL);\n\
                 CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  author_id INTEGER NOT NULL,\n  \
                 blog_id INTEGER NOT NULL,\n  title VARCHAR(100) NOT NULL,\n  \
                 FOREIGN KEY (author_id) REFERENCES authors (id),\n  \
                 FOREIGN KEY (blog_id) REFERENCES blogs (id) ON DELETE CASCADE\n);\n\
                 CREATE TABLE comments (\n  id INTEGER PRIMARY KEY,\n  post_id INTEGER NOT NULL,\n  \
                 body VARCHAR(200) NOT NULL,\n  \
                 FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE\n);\n\
                 INSERT INTO authors (id, name) VALUES (1, 'Ada');\n\
                 INSERT INTO blogs (id, title) VALUES (1, 'Notes');\n\
                 INSERT INTO posts (id, author_id, blog_id, title) VALUES (1, 1, 1, 'Hello');\n\
                 INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'First');\n",
                "DROP TABLE comments;\nDROP TABLE posts;\nDROP TABLE blogs;\nDROP TABLE authors;\n",
            ),
            (
                "2024-01-02-000000_create_views",
                "CREATE VIEW post_titles AS SELECT p.title AS post, b.title AS blog, a.name AS author \
                 FROM posts p JOIN blogs b ON b.id = p.blog_id JOIN authors a ON a.id = p.author_id;\n\
                 CREATE VIEW blog_sizes AS SELECT blog, COUNT(*) AS posts FROM post_titles GROUP BY blog;\n",
                "DROP VIEW blog_sizes;\nDROP VIEW post_titles;\n",
            ),
            (
                "2024-01-03-000000_create_tags",
                "CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n",
                "DROP TABLE tags;\n",
            ),
        ],
    )
}

/// A database no test has made yet, beside the test's own (a file in its folder, or a
/// database of the same server), dropped at the end if something made it.
pub struct Missing {
    pub url: String,
    /// The server's URL and the database's name.
    server: Option<(String, String)>,
}

impl Missing {
    pub fn beside(db: &TestDb, suffix: &str) -> Missing {
        match db.backend {
            Backend::Sqlite => Missing {
                url: db.dir().join(format!("{suffix}.db")).display().to_string(),
                server: None,
            },
            _ => {
                let mut name = db.name().to_owned();
                name.truncate(63 - suffix.len() - 1);
                let name = format!("{name}_{suffix}");
                Missing {
                    url: with_database(&db.url, &name),
                    server: Some((db.url.clone(), name)),
                }
            }
        }
    }

    /// The database's name (SQLite: the file's path), as pelican names it.
    pub fn name(&self) -> &str {
        match &self.server {
            Some((_, name)) => name,
            None => &self.url,
        }
    }

    /// Whether it exists now.
    pub fn exists(&self) -> bool {
        match &self.server {
            Some((url, name)) => Server::connect(url)
                .expect("the server answers")
                .exists(name)
                .expect("look for the database"),
            None => Path::new(&self.url).exists(),
        }
    }
}

impl Drop for Missing {
    fn drop(&mut self) {
        if let Some((url, name)) = &self.server {
            if let Ok(mut server) = Server::connect(url) {
                let _ = server.drop(name);
            }
        }
    }
}
