use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use pelican::testing::{assert_round_trip, BoxError, Harness};
use pelican::{AnyConnection, Backend, Migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

fn seed(conn: &mut AnyConnection) -> Result<(), BoxError> {
    conn.batch_execute(
        "INSERT INTO usuario (id, email, nombre) VALUES (1, 'admin@lms.test', 'Admin')",
    )?;
    Ok(())
}

#[test]
fn enrolling_a_student() -> Result<(), BoxError> {
    let migrations = Migrations::from_embedded(&MIGRATIONS)?;
    let mut db = Harness::new(&migrations, Backend::Sqlite)
        .seed("admin", seed)
        .database()?;
    let conn: &mut AnyConnection = db.conn(); // or diesel's own connection on db.url()
    conn.batch_execute("INSERT INTO curso (id, titulo, instructor_id) VALUES (1, 'Rust', 1)")?;
    Ok(())
} // the database is dropped here

#[test]
fn every_migration_is_reversible() {
    let migrations = Migrations::from_embedded(&MIGRATIONS).unwrap();
    assert_round_trip(&migrations, Backend::Sqlite); // panics with the diff of each that is not
}
