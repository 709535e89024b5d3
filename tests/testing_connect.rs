//! `TestDatabase::connect` and `connect_async`: a test talks to its database through the
//! application's own connection type, blocking or async, and sees what pelican built.

mod common;

use pelican::testing::Harness;
use pelican::Backend;

use common::{example_seed as seed, example_set as example};

#[derive(diesel::QueryableByName)]
struct Email {
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
}

const EMAILS: &str = "SELECT email FROM usuario ORDER BY id";
const INSERT: &str = "INSERT INTO usuario (id, email, nombre) VALUES (2, 'b@lms.test', 'B')";

/// The seed row through diesel's own connection, and a write through it that pelican's
/// connection then sees: one database, whichever connection.
fn blocking<C: diesel::Connection>(backend: Backend, in_memory: bool)
where
    C::Backend: diesel::backend::Backend,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Email>,
{
    use diesel::RunQueryDsl;
    let migrations = example();
    let harness = Harness::new(&migrations, backend).seed("admin", seed);
    let harness = if in_memory {
        harness.in_memory()
    } else {
        harness
    };
    let mut db = harness.database().unwrap();
    let mut conn: C = db.connect().unwrap();
    let emails: Vec<String> = diesel::sql_query(EMAILS)
        .load::<Email>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|e| e.email)
        .collect();
    assert_eq!(emails, ["admin@lms.test"]);
    conn.batch_execute(INSERT).unwrap();
    let seen = db.conn().load_with::<Email>(EMAILS, &[]).unwrap();
    assert_eq!(seen.len(), 2, "pelican's connection sees the test's write");
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_connection_on_a_file_and_in_memory() {
    blocking::<diesel::SqliteConnection>(Backend::Sqlite, false);
    blocking::<diesel::SqliteConnection>(Backend::Sqlite, true);
}

#[cfg(feature = "postgres")]
#[test]
fn pg_connection() {
    blocking::<diesel::PgConnection>(Backend::Postgres, false);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_connection() {
    blocking::<diesel::MysqlConnection>(Backend::Mysql, false);
}

#[cfg(all(feature = "postgres", feature = "sqlite"))]
mod multi {
    #[derive(diesel::MultiConnection)]
    pub enum AppConnection {
        Postgres(diesel::PgConnection),
        Sqlite(diesel::SqliteConnection),
    }

    #[test]
    fn a_multi_connection_enum() {
        super::blocking::<AppConnection>(pelican::Backend::Postgres, false);
        super::blocking::<AppConnection>(pelican::Backend::Sqlite, false);
    }
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};

    async fn check<A>(backend: Backend)
    where
        A: AsyncConnection + SimpleAsyncConnection,
        diesel::query_builder::SqlQuery: diesel_async::methods::LoadQuery<'static, A, Email>,
    {
        let migrations = example();
        // Made without blocking the runtime: on a current_thread runtime (tokio::test's),
        // a task spawned before keeps running while the database is made.
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ticker = tokio::spawn({
            let ticks = std::sync::Arc::clone(&ticks);
            async move {
                loop {
                    ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        });
        let mut db = Harness::new(&migrations, backend)
            .seed("admin", seed)
            .database_async()
            .await
            .unwrap();
        ticker.abort();
        // `AtomicUsize::load`, named: diesel-async 0.9's `RunQueryDsl::load` would be taken.
        assert!(
            std::sync::atomic::AtomicUsize::load(&ticks, std::sync::atomic::Ordering::SeqCst) > 0
        );
        let mut conn: A = db.connect_async().await.unwrap();
        let emails = diesel::sql_query(EMAILS)
            .load::<Email>(&mut conn)
            .await
            .unwrap();
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].email, "admin@lms.test");
        conn.batch_execute(INSERT).await.unwrap();
        assert_eq!(db.conn().load_with::<Email>(EMAILS, &[]).unwrap().len(), 2);
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite() {
        check::<
            diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>,
        >(Backend::Sqlite)
        .await;
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres() {
        check::<diesel_async::AsyncPgConnection>(Backend::Postgres).await;
    }

    #[cfg(feature = "mysql")]
    #[tokio::test]
    async fn mysql() {
        check::<diesel_async::AsyncMysqlConnection>(Backend::Mysql).await;
    }
}
