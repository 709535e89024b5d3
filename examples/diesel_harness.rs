//! diesel's own harness as a process, for `benches/process.rs` to measure beside
//! pelican: `diesel_harness URL MIGRATIONS_DIR` runs `run_pending_migrations`.

use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: diesel_harness URL MIGRATIONS_DIR".into());
    };
    let source = FileBasedMigrations::from_path(&dir)?;
    match pelican::Backend::from_url(&url)? {
        #[cfg(feature = "sqlite")]
        pelican::Backend::Sqlite => {
            diesel::SqliteConnection::establish(&url)?.run_pending_migrations(source)?;
        }
        #[cfg(feature = "postgres")]
        pelican::Backend::Postgres => {
            diesel::PgConnection::establish(&url)?.run_pending_migrations(source)?;
        }
        #[cfg(feature = "mysql")]
        pelican::Backend::Mysql => {
            diesel::MysqlConnection::establish(&url)?.run_pending_migrations(source)?;
        }
        #[allow(unreachable_patterns)]
        other => return Err(format!("built without the {other} feature").into()),
    }
    Ok(())
}
