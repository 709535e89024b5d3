//! A statement the server refused: whether its message says the object exists (or is
//! gone), and whether the catalog, read now, agrees that the statement's work is done.

use super::classify::{classify, Effect, ObjectKind};
use super::decide::{decide, Decision};
use super::{Action, Verdict};
use crate::catalog::Schema;
use crate::{Backend, Database};

/// Why the server refused a statement, when the reason is the existence of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// "already exists", "duplicate column name", …
    Exists,
    /// "does not exist", "no such table", "Can't DROP …", …
    Missing,
}

/// The existence refusal in a server's message, if that is what it says. Only the
/// class is read here: which object, and whether it is the statement's, is [`settle`]'s
/// question, answered from the catalog.
pub(super) fn refusal(backend: Backend, message: &str) -> Option<Refusal> {
    let lower = message.to_ascii_lowercase();
    let dialect = backend.dialect();
    if dialect.says_exists(&lower) {
        Some(Refusal::Exists)
    } else if dialect.says_missing(&lower) {
        Some(Refusal::Missing)
    } else {
        None
    }
}

/// Why a refusal is not taken as the statement's work being done: the statement fails
/// with the server's message, and this says what more there is to say.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum Unsettled {
    /// The message is not about an object's existence, or the statement is one that is
    /// never skipped (a rename, data, what the parser does not know): nothing to add.
    NotExistence,
    /// The catalog shows the object, but not as the statement makes it.
    NotDone(String),
    /// The name belongs to another kind of object, or to an unusable one.
    Conflict(String),
    /// The catalog could not be read to decide.
    Catalog(crate::Error),
}

impl std::fmt::Display for Unsettled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsettled::NotExistence => Ok(()),
            Unsettled::NotDone(reason) => write!(f, "not taken as done: {reason}"),
            Unsettled::Conflict(reason) => f.write_str(reason),
            Unsettled::Catalog(error) => write!(f, "{error}"),
        }
    }
}

/// After the server refused `sql` with `message`: a skip when the refusal says the
/// statement's work is done and the catalog, read now, shows the object the statement
/// would have made (or shows it gone). Otherwise why the refusal is not taken as done;
/// the caller adds the server's message.
pub(crate) fn settle<C: Database>(
    conn: &mut C,
    sql: &str,
    message: &str,
) -> Result<Verdict, Unsettled> {
    let backend = conn.backend();
    let Some(refused) = refusal(backend, message) else {
        return Err(Unsettled::NotExistence);
    };
    let effect = classify(sql, backend);
    if matches!(effect, Effect::Unguarded { .. } | Effect::RenameTables(_)) {
        return Err(Unsettled::NotExistence);
    }
    // The server resolved the signature itself: `function area(integer) does not exist`
    // is about that overload, whatever others of the name exist.
    if backend.dialect().overloaded_functions() {
        if let (Effect::DropObject(ObjectKind::Function, _), Refusal::Missing)
        | (Effect::CreateObject(ObjectKind::Function, _), Refusal::Exists) = (&effect, refused)
        {
            return Ok(Verdict::new(
                Action::Skip,
                format!("the server says so: {}", message.trim()),
                true,
            ));
        }
    }
    let schema = Schema::introspect(conn).map_err(Unsettled::Catalog)?;
    match decide(&schema, &effect) {
        Decision::Done { reason, warning } => Ok(Verdict {
            action: Action::Skip,
            reason,
            guarded: true,
            warning,
        }),
        Decision::NotDone { reason } => Err(Unsettled::NotDone(reason)),
        Decision::Conflict { reason } => Err(Unsettled::Conflict(reason)),
        Decision::Unknown { .. } => Err(Unsettled::NotExistence),
    }
}
