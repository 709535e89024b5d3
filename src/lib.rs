//! pelican: schema management for Diesel applications.
//!
//! pelican runs the migrations a Diesel application already has (diesel's
//! `migrations/YYYY-MM-DD-HHMMSS_name/{up.sql,down.sql}` folders, or the
//! `EmbeddedMigrations` of `embed_migrations!`) on SQLite, PostgreSQL and
//! MySQL/MariaDB, records them in diesel's own `__diesel_schema_migrations`, and adds
//! what diesel's harness lacks: targets (`head`, `base`, `-N`, a version), checksums
//! and a journal of every run, and errors that name the migration, file and statement.
//!
//! ```no_run
//! use pelican::{AnyConnection, Migrations, Migrator, Target};
//!
//! let migrations = Migrations::from_dir("migrations")?;
//! let mut conn = AnyConnection::establish("app.db")?;
//! let migrator = Migrator::new(&migrations);
//! migrator.migrate(&mut conn, &Target::Head)?;
//! migrator.downgrade(&mut conn, &"-1".parse()?)?;
//! # Ok::<(), pelican::Error>(())
//! ```
//!
//! At start-up an application runs the [`Boot`] flow instead: under the migration
//! [`lock`], a fresh database is built at head in one batch with the application's seed
//! hook, a managed one is upgraded when auto-migrate is on, an unmanaged one refused,
//! or [adopted](Adopt): the newest version whose schema it has recorded as applied, none
//! of the history replayed on it.
//! [`cli::DatabaseCommand`] (the `cli` feature, on by default) gives an application
//! pelican's commands to mount in its own CLI.
//!
//! [`Check`] proves the migrations on a [scratch] database (each one up, down and up
//! again, compared through the [`catalog`]), compares applied migrations with the
//! checksums recorded when they ran, and the live schema with what the migrations build.
//! A [`snapshot`] is the schema at head as one SQL file per backend, which [`Boot`]
//! loads for a fresh database instead of replaying the history.
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Much of what is internal serves only the command line (diesel.toml, print-schema,
// setup, generate, the server's listing): dead in a build without it, where it is left
// unreported. The default build, which has the command line, still reports dead code.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]
// A build without diesel's blocking connections (`async` over `postgres_backend` or
// `mysql_backend` alone): `AnyConnection` and what holds one have no value, so the code
// that uses one is unreachable, which the compiler reports of every use.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(unreachable_code, unused_variables, unused_mut, clippy::drop_non_drop)
)]

// A backend's feature without its client library (`postgres_backend`) is enough with
// `async`, whose connections are diesel-async's; alone it leaves nothing to connect with.
#[cfg(not(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    all(
        feature = "async",
        any(feature = "postgres_backend", feature = "mysql_backend")
    )
)))]
compile_error!(
    "enable at least one backend feature: sqlite, postgres or mysql, or async with \
     postgres_backend or mysql_backend"
);

// The command line opens its connections from a URL: diesel's blocking ones.
#[cfg(all(
    feature = "cli",
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql"))
))]
compile_error!(
    "the cli feature connects from a URL, with diesel's blocking connections: enable \
     sqlite, postgres or mysql (postgres_backend and mysql_backend have none)"
);

mod admin;
pub mod adopt;
mod backend;
pub mod boot;
pub mod catalog;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod connection;
mod dialect;
mod error;
mod execute;
pub mod fleet;
mod fresh;
mod generate;
mod guard;
pub mod interrupt;
mod join;
mod ledger;
pub mod lint;
pub mod lock;
pub mod migrator;
mod outcome;
mod plan;
mod print_schema;
pub mod scratch;
mod script;
mod server;
mod setup;
pub mod snapshot;
mod source;
mod split;
pub mod testing;
mod trace;
mod unfinished;
mod url_secret;

// pelican's own tests' and benchmarks' hooks into the internals, in one place (see the
// module): hidden, and no part of the API.
#[doc(hidden)]
pub mod __test_support;

/// The README's Rust blocks, compiled (and run, unless marked `no_run`) by `cargo test
/// --doc`, so that the code it shows keeps compiling against the library. Only in a
/// build with every feature they use (as `scripts/test` builds): a README cannot hide
/// the `#[cfg]`s that would leave the others out.
#[cfg(all(
    doctest,
    feature = "cli",
    feature = "sqlite",
    feature = "postgres",
    feature = "r2d2",
    feature = "async",
    feature = "deadpool"
))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use adopt::{Adopt, AdoptReport};
pub use backend::Backend;
pub use boot::{env_flag, Boot, BootReport};
pub use check::{Check, CheckReport, Finding};
pub use connection::{connect_with_retry, AnyConnection, Database};
pub use error::{BoxError, Error, Left, Location, Result};
pub use migrator::{Guards, Migrator, Mode, Progress, Report, Status};
pub use plan::Target;
pub use source::{Direction, Migration, Migrations};
