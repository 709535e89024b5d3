//! Connections that hold one of diesel's: r2d2's pooled connections and the enums of
//! `#[derive(diesel::MultiConnection)]`. pelican runs its own SQL on the connection held,
//! whose backend it knows, so each is a [`Database`] as the connection inside is.
//!
//! A pooled connection is one through `Deref`, whatever it holds. A MultiConnection enum
//! is the application's own type, and its variants are reachable only by a `match` in
//! the application's crate: the application says which variant holds what in one line,
//! [`multi_connection!`](crate::multi_connection), which implements [`MultiConnection`]
//! for it. (A blanket implementation over diesel's own traits cannot tell such an enum
//! from diesel's connections, which pelican implements [`Database`] for one by one, and
//! the backend it generates names no backend pelican could send its SQL text for.)

use diesel::connection::SimpleConnection;
use diesel::QueryResult;

use super::{Bind, Database, Operations, Row};
use crate::Backend;

/// Reaches the connection an r2d2 pooled connection holds.
#[cfg(feature = "r2d2")]
macro_rules! pooled {
    ($self:expr, $conn:ident => $body:expr) => {{
        let $conn = &mut **$self;
        $body
    }};
}

/// diesel's r2d2 pooled connections, as the connection they hold: `&mut pooled` goes
/// wherever `&mut conn` does, without `&mut *pooled`.
///
/// ```no_run
/// # #[cfg(all(feature = "r2d2", feature = "postgres"))] {
/// use diesel::r2d2::{ConnectionManager, Pool};
/// use pelican::{Migrations, Migrator, Target};
///
/// let pool = Pool::new(ConnectionManager::<diesel::PgConnection>::new("postgres://app@db/app"))?;
/// let mut conn = pool.get()?;
/// let migrations = Migrations::from_dir("migrations")?;
/// Migrator::new(&migrations).migrate(&mut conn, &Target::Head)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "r2d2")]
impl<C> Database for diesel::r2d2::PooledConnection<diesel::r2d2::ConnectionManager<C>>
where
    C: Database + diesel::r2d2::R2D2Connection + diesel::migration::MigrationConnection,
{
    fn backend(&self) -> Backend {
        (**self).backend()
    }
}

#[cfg(feature = "r2d2")]
impl<C> Operations for diesel::r2d2::PooledConnection<diesel::r2d2::ConnectionManager<C>>
where
    C: Database + diesel::r2d2::R2D2Connection + diesel::migration::MigrationConnection,
{
    operations_through!(pooled);

    // The pooled connection's own, not the one it holds: diesel's harness asks the
    // pooled connection, which in diesel 2.4.0 keeps no search_path.
    fn harness_search_path(&mut self) -> QueryResult<Option<String>> {
        harness_search_path!(read self)
    }

    fn restore_search_path(&mut self, path: &str) -> QueryResult<()> {
        harness_search_path!(set self, path)
    }
}

/// One of diesel's connections, borrowed from the value that holds it: what a
/// [`MultiConnection`] hands pelican.
#[non_exhaustive]
pub enum InnerConnection<'a> {
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut diesel::SqliteConnection),
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgres(&'a mut diesel::PgConnection),
    /// A MySQL/MariaDB connection.
    #[cfg(feature = "mysql")]
    Mysql(&'a mut diesel::MysqlConnection),
    /// diesel 2.4's MariaDB connection.
    #[cfg(feature = "mariadb")]
    Mariadb(&'a mut diesel::MariadbConnection),
    /// None: a build without diesel's blocking connections has no value of this type.
    #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    #[doc(hidden)]
    None(
        std::convert::Infallible,
        std::marker::PhantomData<&'a mut ()>,
    ),
}

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
impl InnerConnection<'_> {
    /// What `each_inner!` makes of an `InnerConnection` in a build that has none.
    fn absurd<T>(&self) -> T {
        match *self {
            InnerConnection::None(never, _) => match never {},
        }
    }
}

/// Calls the same code on whichever connection an [`InnerConnection`] holds.
macro_rules! each_inner {
    ($self:expr, $conn:ident => $body:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            InnerConnection::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            InnerConnection::Postgres($conn) => $body,
            #[cfg(feature = "mysql")]
            InnerConnection::Mysql($conn) => $body,
            #[cfg(feature = "mariadb")]
            InnerConnection::Mariadb($conn) => $body,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            none => none.absurd(),
        }
    };
}

impl std::fmt::Debug for InnerConnection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend: Backend = each_inner!(self, conn => conn.backend());
        write!(f, "InnerConnection({backend})")
    }
}

macro_rules! inner_from {
    ($feature:literal, $variant:ident, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl<'a> From<&'a mut $conn> for InnerConnection<'a> {
            fn from(conn: &'a mut $conn) -> Self {
                InnerConnection::$variant(conn)
            }
        }
    };
}

inner_from!("sqlite", Sqlite, diesel::SqliteConnection);
inner_from!("postgres", Postgres, diesel::PgConnection);
inner_from!("mysql", Mysql, diesel::MysqlConnection);
inner_from!("mariadb", Mariadb, diesel::MariadbConnection);

/// An enum of diesel's connections, as `#[derive(diesel::MultiConnection)]` makes one,
/// that pelican can migrate: every such type is a [`Database`], which runs pelican's
/// SQL on the connection the value holds.
///
/// [`multi_connection!`](crate::multi_connection) implements it in one line, naming the
/// enum's variants; nothing else changes in the enum or in how the application uses it:
///
/// ```no_run
/// # #[cfg(all(feature = "postgres", feature = "sqlite"))]
/// # mod app {
/// use diesel::Connection;
/// use pelican::{Boot, Migrations};
///
/// #[derive(diesel::MultiConnection)]
/// enum AppConnection {
///     Postgres(diesel::PgConnection),
///     Sqlite(diesel::SqliteConnection),
/// }
///
/// pelican::multi_connection!(AppConnection { Postgres, Sqlite });
///
/// # pub fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let migrations = Migrations::from_dir("migrations")?;
/// let mut conn = AppConnection::establish("postgres://app@db/app")?;
/// Boot::new(&migrations).run(&mut conn)?;
/// # Ok(())
/// # }
/// # }
/// # fn main() {}
/// ```
///
/// Each variant holds diesel's `SqliteConnection`, `PgConnection`, `MysqlConnection` or
/// (diesel 2.4) `MariadbConnection`, with pelican's feature for that backend on. Written by hand (for an enum, or any type
/// that holds one of those connections), the implementation is the same two `match`es
/// the macro writes: both must name the same connection, on every call, for pelican's
/// transactions and its lock to be on the connection it runs its statements on.
///
/// ```
/// # #[cfg(all(feature = "postgres", feature = "sqlite"))]
/// # mod app {
/// # #[derive(diesel::MultiConnection)]
/// # enum AppConnection {
/// #     Postgres(diesel::PgConnection),
/// #     Sqlite(diesel::SqliteConnection),
/// # }
/// use pelican::connection::{InnerConnection, MultiConnection};
/// use pelican::{Backend, Database};
///
/// impl MultiConnection for AppConnection {
///     fn inner(&mut self) -> InnerConnection<'_> {
///         match self {
///             AppConnection::Postgres(conn) => conn.into(),
///             AppConnection::Sqlite(conn) => conn.into(),
///         }
///     }
///
///     fn inner_backend(&self) -> Backend {
///         match self {
///             AppConnection::Postgres(conn) => conn.backend(),
///             AppConnection::Sqlite(conn) => conn.backend(),
///         }
///     }
/// }
/// # }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection pelican can migrate",
    note = "pelican takes diesel's SqliteConnection, PgConnection, MysqlConnection and \
            MariadbConnection (each behind pelican's feature of that name), \
            pelican::AnyConnection, r2d2's pooled \
            connections of those (the `r2d2` feature), and a #[derive(diesel::MultiConnection)] \
            enum after `pelican::multi_connection!(YourEnum {{ Variant, … }});`"
)]
pub trait MultiConnection: SimpleConnection + Send + 'static {
    /// The connection this value holds, borrowed: `conn.into()` for the variant's
    /// connection.
    fn inner(&mut self) -> InnerConnection<'_>;

    /// The backend of the connection this value holds: `conn.backend()` for the
    /// variant's connection (with [`Database`] in scope).
    fn inner_backend(&self) -> Backend;
}

impl<C: MultiConnection> Database for C {
    fn backend(&self) -> Backend {
        self.inner_backend()
    }
}

/// Reaches the connection a [`MultiConnection`] holds.
macro_rules! inner {
    ($self:expr, $conn:ident => $body:expr) => {
        each_inner!($self.inner(), $conn => $body)
    };
}

impl<C: MultiConnection> Operations for C {
    operations_through!(inner);
    search_path_through!(inner);
}

/// Makes a `#[derive(diesel::MultiConnection)]` enum a connection pelican can migrate
/// (see [`MultiConnection`]): `pelican::multi_connection!(Enum { Variant, … })`, every
/// variant named, each with the `#[cfg(…)]` it has in the enum.
///
/// ```
/// # #[cfg(all(feature = "postgres", feature = "sqlite"))]
/// # mod app {
/// #[derive(diesel::MultiConnection)]
/// pub enum AppConnection {
///     Postgres(diesel::PgConnection),
///     Sqlite(diesel::SqliteConnection),
/// }
///
/// pelican::multi_connection!(AppConnection { Postgres, Sqlite });
///
/// fn migrate(conn: &mut AppConnection) -> pelican::Result<()> {
///     let migrations = pelican::Migrations::from_dir("migrations")?;
///     pelican::Migrator::new(&migrations).migrate(conn, &pelican::Target::Head)?;
///     Ok(())
/// }
/// # }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! multi_connection {
    ($enum:ty { $($(#[$attr:meta])* $variant:ident),+ $(,)? }) => {
        impl $crate::connection::MultiConnection for $enum {
            fn inner(&mut self) -> $crate::connection::InnerConnection<'_> {
                match self {
                    $($(#[$attr])* Self::$variant(conn) => ::core::convert::From::from(conn),)+
                }
            }

            fn inner_backend(&self) -> $crate::Backend {
                match self {
                    $($(#[$attr])* Self::$variant(conn) => $crate::Database::backend(conn),)+
                }
            }
        }
    };
}
