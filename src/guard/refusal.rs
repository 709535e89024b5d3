//! A statement the server refused: whether its message says the object exists (or is
//! gone), and whether the catalog, read now, agrees that the statement's work is done.

use super::classify::{classify, Effect, ObjectKind};
use super::decide::{decide, Decision};
use super::{Action, Verdict};
use crate::catalog::Schema;
use crate::{Backend, Database};

/// Why the server refused a statement, when the reason is the existence of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// "already exists", "duplicate column name", …
    Exists,
    /// "does not exist", "no such table", "Can't DROP …", …
    Missing,
}

/// The existence refusal in a server's message, if that is what it says. Only the
/// class is read here: which object, and whether it is the statement's, is [`settle`]'s
/// question, answered from the catalog.
pub fn refusal(backend: Backend, message: &str) -> Option<Refusal> {
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

/// After the server refused `sql` with `message`: a skip when the refusal says the
/// statement's work is done and the catalog, read now, shows the object the statement
/// would have made (or shows it gone). Otherwise an error that says why the refusal is
/// not taken as done; the caller adds the server's message.
pub fn settle<C: Database>(conn: &mut C, sql: &str, message: &str) -> Result<Verdict, String> {
    let backend = conn.backend();
    let Some(refused) = refusal(backend, message) else {
        return Err(String::new());
    };
    let effect = classify(sql, backend);
    if matches!(effect, Effect::Unguarded { .. } | Effect::RenameTables(_)) {
        return Err(String::new());
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
    let schema = Schema::introspect(conn).map_err(|e| e.to_string())?;
    match decide(&schema, &effect) {
        Decision::Done { reason, warning } => Ok(Verdict {
            action: Action::Skip,
            reason,
            guarded: true,
            warning,
        }),
        Decision::NotDone { reason } => Err(format!("not taken as done: {reason}")),
        Decision::Conflict { reason } => Err(reason),
        Decision::Unknown { .. } => Err(String::new()),
    }
}
