//! Secrets: a database URL's password is never printed, in text or in JSON, in an error
//! of pelican's or of the driver's, nor in a debug print of what holds the URL.
//!
//! Each test puts a password no output could hold by chance in the URL and looks for it
//! in everything pelican printed. On PostgreSQL and MariaDB the password is a real one:
//! a role or user is made for the test (and dropped after it) that logs in with it.
//! SQLite URLs are file paths and hold no password.

// Builds with fewer backends leave out the tests of the others, and with them the
// helpers only those use; the build with every backend (clippy's) still warns.
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports)
)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use clap::Parser;
use common::{mysql_url, postgres_url, write_migrations, Output, TestDb};
use diesel::connection::SimpleConnection;
use pelican::{AnyConnection, Backend};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A password no output could contain by chance.
fn secret() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("Pw{}x{n}Qz9", std::process::id())
}

#[track_caller]
fn assert_hidden(out: &Output, secret: &str) {
    assert!(
        !out.stdout.contains(secret) && !out.stderr.contains(secret),
        "the password was printed: {out:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// `scheme://host:port` of a server URL, without user or database.
fn server(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (scheme.to_owned(), host.to_owned())
}

/// A login with a password, made for one test and dropped after it: a PostgreSQL role
/// or a MariaDB user with every right on the test database.
struct Login {
    backend: Backend,
    user: String,
    /// The URL of the test database, logging in as this user with `password`.
    url: String,
    /// A database this user may create (and the test must drop).
    new_database: String,
    test_db_url: String,
}

impl Login {
    fn create(db: &TestDb, password: &str) -> Login {
        let user = format!(
            "pelican_login_{}",
            db.name().trim_start_matches("pelican_t_")
        );
        let user: String = user.chars().take(60).collect();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let new_database = format!("pelican_new_{}_{n}", std::process::id());
        let (scheme, host) = server(&db.url);
        // The guard exists before the login does: a failure half-way still drops it.
        let login = Login {
            backend: db.backend,
            url: format!("{scheme}://{user}:{password}@{host}/{}", db.name()),
            user,
            new_database,
            test_db_url: db.url.clone(),
        };
        let user = &login.user;
        match db.backend {
            Backend::Postgres => {
                admin(Backend::Postgres)
                    .batch_execute(&format!(
                        "CREATE ROLE {user} LOGIN CREATEDB PASSWORD '{password}'; \
                         GRANT ALL ON DATABASE {} TO {user}",
                        db.name()
                    ))
                    .unwrap();
                db.execute(&format!("GRANT ALL ON SCHEMA public TO {user}"));
            }
            _ => admin(Backend::Mysql)
                .batch_execute(&format!(
                    "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'; \
                     GRANT ALL ON `{}`.* TO '{user}'@'%'; \
                     GRANT ALL ON `{}`.* TO '{user}'@'%'",
                    db.name(),
                    login.new_database
                ))
                .unwrap(),
        }
        login
    }

    /// This login's URL with another password.
    fn with_password(&self, password: &str) -> String {
        let (scheme, host) = server(&self.url);
        let database = self.url.rsplit('/').next().unwrap();
        format!("{scheme}://{}:{password}@{host}/{database}", self.user)
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let sql = match self.backend {
            Backend::Postgres => {
                // What the role owns in the test database goes first, so the role can.
                if let Ok(mut conn) = AnyConnection::establish(&self.test_db_url) {
                    let _ = conn.batch_execute(&format!("DROP OWNED BY {}", self.user));
                }
                format!("DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}", self.user)
            }
            _ => format!("DROP USER IF EXISTS '{}'@'%'", self.user),
        };
        let _ = admin(self.backend).batch_execute(&sql);
    }
}

fn admin(backend: Backend) -> AnyConnection {
    let url = match backend {
        Backend::Postgres => postgres_url(),
        _ => mysql_url(),
    };
    AnyConnection::establish(&url).unwrap()
}

fn output_of(command: &mut std::process::Command) -> Output {
    Output::from(command.output().unwrap())
}

server_tests! {
    fn a_failing_migration_does_not_print_the_password(db: TestDb) {
        let password = secret();
        let login = Login::create(&db, &password);
        let dir = write_migrations(db.dir(), &[
            ("2024-01-01-000000_ok", "CREATE TABLE ok_table (id INTEGER);", ""),
            ("2024-01-02-000000_broken", "CREATE TABLE first_one (id INTEGER);\nINSERT INTO missing_table VALUES (1);", ""),
        ]);
        let out = output_of(&mut db.command_with_url(&login.url, &dir, &["migrate"]));
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("migration 2024-01-02-000000_broken failed"), "{}", out.stderr);
        assert_hidden(&out, &password);
        let out = output_of(&mut db.command_with_url(&login.url, &dir, &["--format", "json", "migrate"]));
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.json()["error"]["message"].as_str().unwrap().contains("2024-01-02-000000_broken"));
        assert_hidden(&out, &password);
        // A database message quoting the same text (here the migration's own) is
        // scrubbed as well.
        let quoted = match db.backend {
            Backend::Postgres => format!("SELECT * FROM \"{password}\""),
            _ => format!("SELECT * FROM `{password}`"),
        };
        std::fs::write(dir.join("2024-01-02-000000_broken/up.sql"), &quoted).unwrap();
        for args in [&["migrate"][..], &["--format", "json", "migrate"]] {
            let out = output_of(&mut db.command_with_url(&login.url, &dir, args));
            assert_eq!(out.code, 1, "{out:?}");
            assert!(out.stderr.contains("SELECT * FROM "), "{}", out.stderr);
            assert!(out.stderr.contains("***"), "{}", out.stderr);
            assert_hidden(&out, &password);
        }
        // And with the migration fixed, the run that succeeds prints no password either.
        std::fs::write(dir.join("2024-01-02-000000_broken/up.sql"), "CREATE TABLE first_one (id INTEGER);").unwrap();
        let out = output_of(&mut db.command_with_url(&login.url, &dir, &["migrate"]));
        assert_eq!(out.code, 0, "{out:?}");
        assert_hidden(&out, &password);
        for args in [&["current"][..], &["history"], &["--format", "json", "history"], &["pending"], &["heads"]] {
            let out = output_of(&mut db.command_with_url(&login.url, &dir, args));
            assert_eq!(out.code, 0, "{out:?}");
            assert_hidden(&out, &password);
        }
    }

    fn an_unreachable_host_does_not_print_the_password(db: TestDb) {
        let password = secret();
        let (scheme, _) = server(&db.url);
        let url = format!("{scheme}://app:{password}@127.0.0.1:1/{}", db.name());
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
        for args in [&["migrate"][..], &["--format", "json", "current"], &["init"], &["--wait", "0.3", "boot"]] {
            let out = output_of(&mut db.command_with_url(&url, &dir, args));
            assert_eq!(out.code, 1, "{args:?}: {out:?}");
            assert!(out.stderr.contains(&format!("Could not connect to database via `{scheme}://app:***@127.0.0.1:1/")), "{}", out.stderr);
            assert_hidden(&out, &password);
        }
        let out = output_of(&mut db.command_with_url(&url, &dir, &["--wait", "0.3", "migrate"]));
        assert!(out.stderr.contains("still no answer after"), "{}", out.stderr);
        assert_hidden(&out, &password);
    }

    fn a_lock_timeout_does_not_print_the_password(db: TestDb) {
        let password = secret();
        let login = Login::create(&db, &password);
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")]);
        pelican::lock::with(&mut db.connect(), Duration::ZERO, |_| {
            for args in [&["--lock-timeout", "0.2", "migrate"][..], &["--format", "json", "--lock-timeout", "0.2", "boot"]] {
                let out = output_of(&mut db.command_with_url(&login.url, &dir, args));
                assert_eq!(out.code, 1, "{out:?}");
                assert!(out.stderr.contains("waiting for the migration lock"), "{}", out.stderr);
                assert_hidden(&out, &password);
            }
            Ok(())
        })
        .unwrap();
    }

    fn a_created_database_is_named_without_the_password(db: TestDb) {
        let password = secret();
        let login = Login::create(&db, &password);
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "DROP TABLE a;")]);
        let new_name = login.new_database.clone();
        let url = login.url.replace(&format!("/{}", db.name()), &format!("/{new_name}"));
        let out = output_of(&mut db.command_with_url(&url, &dir, &["init"]));
        let dropped = admin(db.backend).batch_execute(&format!("DROP DATABASE IF EXISTS {new_name}"));
        assert_eq!(out.code, 0, "{out:?}");
        dropped.unwrap();
        assert!(out.stdout.contains(&format!("Created the database {}", pelican::__test_support::redact_url(&url))), "{}", out.stdout);
        assert!(out.stdout.contains(":***@"), "{}", out.stdout);
        assert_hidden(&out, &password);
    }

    fn a_password_with_a_raw_slash_is_refused_unprinted(db: TestDb) {
        let (scheme, host) = server(&db.url);
        let (front, back) = ("Pw-front-half-7", "back-half-Qz9");
        let url = format!("{scheme}://app:{front}/{back}@{host}/{}", db.name());
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
        let before = db.tables();
        for args in [&["migrate"][..], &["--format", "json", "current"]] {
            let out = output_of(&mut db.command_with_url(&url, &dir, args));
            assert_eq!(out.code, 2, "{out:?}");
            assert!(out.stderr.contains("percent-encode them"), "{}", out.stderr);
            assert_hidden(&out, front);
            assert_hidden(&out, back);
        }
        assert_eq!(db.tables(), before);
    }
}

server_tests! {
    // A password that reads like the rest of the message (the user name, the port, a
    // single letter) is hidden where it stands, in the URL, and nowhere else: hiding its
    // text everywhere garbled the message and told the password by where `***` stood.
    fn a_password_like_the_user_or_the_port_is_hidden_by_its_place(db: TestDb) {
        let admin = match db.backend {
            Backend::Postgres => postgres_url(),
            _ => mysql_url(),
        };
        let (scheme, host) = server(&admin);
        let user = admin.split_once("://").unwrap().1.split(['@', ':']).next().unwrap().to_owned();
        let port = host.rsplit(':').next().unwrap().to_owned();
        let missing = format!("pelican_missing_{}", std::process::id());
        let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
        for password in [user.as_str(), port.as_str(), "e"] {
            let url = format!("{scheme}://{user}:{password}@{host}/{missing}");
            for args in [&["current"][..], &["--format", "json", "current"]] {
                let out = output_of(&mut db.command_with_url(&url, &dir, args));
                assert_eq!(out.code, 1, "{out:?}");
                let shown = format!("error: Could not connect to database via `{scheme}://{user}:***@{host}/{missing}`: ");
                assert!(out.stderr.contains(&shown), "{password}: {}", out.stderr);
                assert_eq!(out.stderr.matches("***").count(), 1, "{password}: {}", out.stderr);
                let driver = match db.backend {
                    Backend::Postgres => format!("database \"{missing}\" does not exist"),
                    _ => format!("Access denied for user '{user}'@"),
                };
                let says = out.stderr.contains(&driver) || out.stderr.contains(&format!("Unknown database '{missing}'"));
                assert!(says, "{password}: {}", out.stderr);
                assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
            }
        }
    }
}

/// The test servers trust local connections (any password is accepted), so a wrong
/// password is tried on MariaDB, which checks it, and on PostgreSQL against a stand-in
/// server that asks for the password and refuses it with PostgreSQL's own message.
#[cfg(feature = "mysql")]
#[test]
fn a_wrong_password_is_refused_unprinted_mysql() {
    let db = TestDb::new(Backend::Mysql, "wrong_password");
    let login = Login::create(&db, &secret());
    let wrong = secret();
    let url = login.with_password(&wrong);
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    for args in [&["migrate"][..], &["--format", "json", "migrate"]] {
        let out = output_of(&mut db.command_with_url(&url, &dir, args));
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains(&format!("Access denied for user '{}'", login.user)),
            "{}",
            out.stderr
        );
        assert_hidden(&out, &wrong);
    }
    assert!(db.tables().is_empty());
}

#[cfg(feature = "postgres")]
#[test]
fn a_wrong_password_is_refused_unprinted_postgres() {
    let (port, sent) = password_refusing_server();
    let wrong = secret();
    let url = format!("postgres://app:{wrong}@127.0.0.1:{port}/app");
    let dir = tempfile::tempdir().unwrap();
    let migrations = write_migrations(dir.path(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    for args in [&["migrate"][..], &["--format", "json", "migrate"]] {
        let out = output_of(
            std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
                .current_dir(dir.path())
                .args(["--database-url", &url, "--migration-dir"])
                .arg(&migrations)
                .args(args),
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("password authentication failed for user \"app\""),
            "{}",
            out.stderr
        );
        assert_hidden(&out, &wrong);
        // The password really went to the server: it was the one refused.
        assert_eq!(sent.recv_timeout(Duration::from_secs(5)).unwrap(), wrong);
    }
}

/// libpq quotes a `password=` query parameter it cannot decode, as written.
#[cfg(feature = "postgres")]
#[test]
fn a_password_in_the_query_is_not_printed_when_the_driver_quotes_it() {
    let db = TestDb::new(Backend::Postgres, "query_password");
    let password = format!("{}%zz", secret());
    let (scheme, host) = server(&db.url);
    let dir = write_migrations(db.dir(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    let url = format!(
        "{scheme}://postgres@{host}/{}?password={password}",
        db.name()
    );
    let out = output_of(&mut db.command_with_url(&url, &dir, &["migrate"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("invalid percent-encoded token"),
        "{}",
        out.stderr
    );
    assert_hidden(&out, &password);
    assert_hidden(&out, password.trim_end_matches("%zz"));
    // The same in the user-info, encoded: neither form shows.
    let encoded = "Pw%2Fhidden%zz";
    let url = format!("{scheme}://postgres:{encoded}@{host}/{}", db.name());
    let out = output_of(&mut db.command_with_url(&url, &dir, &["migrate"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert_hidden(&out, "hidden");
}

/// A server that asks for a cleartext password and refuses it as PostgreSQL refuses a
/// wrong one (SQLSTATE 28P01). Returns its port, and the passwords it is sent.
fn password_refusing_server() -> (u16, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = refuse_password(&mut stream, &sender);
        }
    });
    (port, receiver)
}

fn refuse_password(stream: &mut TcpStream, sent: &Sender<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    loop {
        let mut head = [0u8; 8];
        stream.read_exact(&mut head)?;
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let mut rest = vec![0; length.saturating_sub(8)];
        stream.read_exact(&mut rest)?;
        // An SSL or GSSAPI encryption request: no; the startup message follows.
        if code != 80_877_103 && code != 80_877_104 {
            break;
        }
        stream.write_all(b"N")?;
    }
    // AuthenticationCleartextPassword.
    stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])?;
    let mut head = [0u8; 5];
    stream.read_exact(&mut head)?;
    let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0; length.saturating_sub(4)];
    stream.read_exact(&mut body)?;
    let password = body.strip_suffix(&[0]).unwrap_or(&body);
    let _ = sent.send(String::from_utf8_lossy(password).into_owned());
    let mut fields = Vec::new();
    for (code, text) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "28P01"),
        (b'M', "password authentication failed for user \"app\""),
    ] {
        fields.push(code);
        fields.extend_from_slice(text.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    message.extend(fields);
    stream.write_all(&message)
}

/// dotenvy's own message quotes the line that does not parse, DATABASE_URL and its
/// password included; pelican names the line by number instead.
#[test]
fn a_dotenv_that_does_not_parse_is_named_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let password = secret();
    write_migrations(dir.path(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    for content in [
        format!("# app\nDATABASE_URL='postgres://app:{password}@db/app\n"),
        format!("DATABASE_URL=postgres://app:{password}@db/app and more\n"),
    ] {
        std::fs::write(dir.path().join(".env"), content).unwrap();
        let out = Output::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .env_remove("MIGRATION_DIRECTORY")
                .args(["--format", "json", "current"])
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(".env: line 2 does not parse")
                || out.stderr.contains(".env: line 1 does not parse"),
            "{}",
            out.stderr
        );
        assert_hidden(&out, &password);
    }
}

/// Under diesel's commands a `.env` that does not parse is first said in diesel CLI's
/// words (`Initializing `.env` file failed: Error parsing line`, which its own tests
/// look for), by line number: the text, which may hold a password, is not shown either.
#[test]
fn a_dotenv_that_does_not_parse_is_said_as_diesel_says_it_under_its_commands() {
    let dir = tempfile::tempdir().unwrap();
    let password = secret();
    write_migrations(dir.path(), &[("2024-01-01-000000_a", "SELECT 1;", "")]);
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=postgres://app:{password}@db/app\n;foo {password}\n#bar"),
    )
    .unwrap();
    for args in [&["setup"][..], &["migration", "run"], &["print-schema"]] {
        let out = Output::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_pelican"))
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .env_remove("MIGRATION_DIRECTORY")
                .args(args)
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 1, "{out:?}");
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("Initializing `.env` file failed: Error parsing line 2 of ")
                && first.ends_with(".env"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains(".env: line 2 does not parse"),
            "{}",
            out.stderr
        );
        assert_hidden(&out, &password);
    }
}

/// What holds a URL prints it redacted in a debug print, and errors do in both forms.
#[test]
fn debug_prints_hide_the_password() {
    let password = secret();
    let url = format!("postgres://app:{password}@127.0.0.1:1/app?password={password}");
    let cli = pelican::__test_support::Cli::try_parse_from([
        "pelican",
        "--database-url",
        &url,
        "current",
    ])
    .unwrap();
    let shown = format!("{cli:?} {cli:#?}");
    assert!(
        shown.contains("postgres://app:***@127.0.0.1:1/app?password=***"),
        "{shown}"
    );
    assert!(!shown.contains(&password), "{shown}");

    #[derive(Debug, clap::Parser)]
    struct App {
        #[command(subcommand)]
        command: AppCommand,
    }
    #[derive(Debug, clap::Subcommand)]
    enum AppCommand {
        Database(pelican::cli::DatabaseCommand),
    }
    let app = App::try_parse_from(["app", "database", "--database-url", &url, "current"]).unwrap();
    let app = match app.command {
        AppCommand::Database(database) => database.with_database_url(url.clone()),
    };
    assert!(!format!("{app:?}").contains(&password));

    for url in [
        url.clone(),
        format!("oracle://app:{password}@db/app"),
        format!("postgres://app:{password}/x@db/app"),
    ] {
        if let Err(error) = AnyConnection::establish(&url) {
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(&password), "{shown}");
        }
    }
    #[cfg(feature = "postgres")]
    {
        let error = pelican::connect_with_retry(&url, Duration::from_millis(100)).unwrap_err();
        assert!(!format!("{error} {error:?}").contains(&password));
        let error =
            pelican::connection::establish_with_retry::<diesel::PgConnection>(&url, Duration::ZERO)
                .err()
                .unwrap();
        assert!(!format!("{error} {error:?}").contains(&password));
    }
    #[cfg(feature = "sqlite")]
    {
        let conn = AnyConnection::establish(":memory:").unwrap();
        assert_eq!(format!("{conn:?}"), "AnyConnection(sqlite)");
    }
}

/// Every place a value can go on the command line (each option and positional argument
/// of each command and subcommand, a flag given a value, an argument too many), with
/// a URL holding a password put there: the password is printed nowhere, in text and in
/// JSON, whatever refuses the value (clap, or pelican's own checks), and under
/// `--format json` stdout is one JSON document.
#[test]
fn a_password_url_in_any_argument_position_is_not_printed() {
    use clap::CommandFactory;
    let password = secret();
    let url = format!("postgres://app:{password}@127.0.0.1:1/app");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    let mut root = pelican::__test_support::Cli::command();
    root.build();
    let mut cases: Vec<Vec<String>> = Vec::new();
    let mut commands = vec![(Vec::<String>::new(), root)];
    while let Some((path, command)) = commands.pop() {
        for sub in command.get_subcommands() {
            let mut inner = path.clone();
            inner.push(sub.get_name().to_owned());
            commands.push((inner, sub.clone()));
        }
        let with = |tail: &[String]| {
            let mut args = path.clone();
            args.extend(tail.iter().cloned());
            args
        };
        // An argument too many, and an unknown option holding it.
        cases.push(with(std::slice::from_ref(&url)));
        cases.push(with(&[format!("--{url}")]));
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let takes_value = arg.get_action().takes_values();
            match (arg.get_long(), arg.get_short()) {
                (None, None) => cases.push(with(std::slice::from_ref(&url))),
                (Some(long), _) if takes_value => {
                    cases.push(with(&[format!("--{long}"), url.clone()]));
                    cases.push(with(&[format!("--{long}={url}")]));
                }
                (Some(long), _) => cases.push(with(&[format!("--{long}={url}")])),
                (None, Some(short)) => cases.push(with(&[format!("-{short}"), url.clone()])),
            }
        }
    }
    assert!(
        cases.len() > 100,
        "the command tree was enumerated: {cases:?}"
    );
    for args in &cases {
        for json in [false, true] {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pelican"));
            command
                .current_dir(dir.path())
                .env("DATABASE_URL", &url)
                .env_remove("MIGRATION_DIRECTORY")
                .env_remove("DIESEL_CONFIG_FILE")
                .env_remove("AUTO_MIGRATE")
                .stdin(std::process::Stdio::null());
            if json {
                command.args(["--format", "json"]);
            }
            let out = output_of(command.args(args));
            assert!(
                !out.stdout.contains(&password) && !out.stderr.contains(&password),
                "the password was printed by pelican {args:?} (json: {json}): {out:?}"
            );
            assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
            // Help is text whatever the format.
            let help = args.iter().any(|a| a == "help");
            if json && !help {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
                    "not one JSON document for {args:?}: {}",
                    out.stdout
                );
            }
        }
    }
}

/// An error whose text holds a `password=` (here a table's name) is printed with it
/// hidden, and keeps its kind and its hint.
#[cfg(feature = "sqlite")]
#[test]
fn a_scrubbed_error_keeps_its_kind_and_its_hint() {
    let db = TestDb::new(Backend::Sqlite, "scrubbed_hint");
    db.execute("CREATE TABLE \"password=Hunter2Secret\" (id INTEGER)");
    let dir = write_migrations(
        db.dir(),
        &[("2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);", "")],
    );
    let out = db.pelican(&dir, &["migrate"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_hidden(&out, "Hunter2Secret");
    assert!(
        out.stderr
            .contains("hint: `adopt`, or `boot --adopt`, adopts it"),
        "{out:?}"
    );
    let out = db.pelican(&dir, &["--format", "json", "migrate"]);
    assert_hidden(&out, "Hunter2Secret");
    assert_eq!(out.json()["error"]["kind"], "unmanaged", "{out:?}");
}
