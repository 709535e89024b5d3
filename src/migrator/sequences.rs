//! A dry run's sequences: PostgreSQL hands out a sequence's values outside transactions,
//! so a `nextval` (a serial column's default) in the dry run's transaction stays taken
//! after its rollback. Each sequence's state is read before the dry run runs anything
//! and after, and set back after the rollback.

use crate::{Database, Error, Result};

/// The state of the database's sequences at one moment.
#[derive(Debug, Default)]
pub(super) struct Sequences {
    states: Vec<State>,
    /// Sequences the session may not read, which a dry run cannot set back.
    unreadable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
struct Listed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    readable: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
struct State {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_value: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    is_called: i32,
}

/// How many sequences one query reads.
const CHUNK: usize = 500;

impl Sequences {
    /// Every sequence's `last_value` and `is_called` now (none on a backend whose
    /// sequences, if any, are transactional).
    pub(super) fn read<C: Database>(conn: &mut C) -> Result<Sequences> {
        let Some(list) = conn.backend().dialect().sequences_query() else {
            return Ok(Sequences::default());
        };
        let context = "cannot read the sequences' values, which a dry run sets back";
        let listed: Vec<Listed> = conn.load_with(list, &[]).map_err(Error::query(context))?;
        let (listed, unreadable): (Vec<Listed>, Vec<Listed>) =
            listed.into_iter().partition(|s| s.readable == Some(1));
        let unreadable = unreadable.into_iter().map(|s| s.name).collect();
        let mut states = Vec::with_capacity(listed.len());
        for chunk in listed.chunks(CHUNK) {
            let query = chunk
                .iter()
                .map(|s| {
                    format!(
                        "SELECT CAST({} AS BIGINT) AS id, {} AS name, last_value, \
                         CAST(is_called AS INTEGER) AS is_called FROM {}",
                        s.id,
                        crate::dialect::single_quoted(&s.name),
                        s.name
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let rows: Vec<State> = conn.load_with(&query, &[]).map_err(Error::query(context))?;
            states.extend(rows);
        }
        Ok(Sequences { states, unreadable })
    }

    /// After the dry run's rollback: sets back each sequence the dry run moved (its
    /// value now the one it had when the dry run's statements were done, `end`) to its
    /// value before them. One that another session moved since is left as it is, and
    /// named in the warnings returned.
    pub(super) fn set_back<C: Database>(
        &self,
        conn: &mut C,
        end: Option<&Sequences>,
    ) -> Result<Vec<String>> {
        // What cannot be read cannot be compared or set back: said, not hidden.
        let mut warnings: Vec<String> = self
            .unreadable
            .iter()
            .map(|name| {
                format!(
                    "sequence {name} cannot be read by this user (no SELECT privilege): \
                     values the dry run took from it, if any, stay taken"
                )
            })
            .collect();
        if self.states.is_empty() {
            return Ok(warnings);
        }
        let now = Sequences::read(conn)?;
        for before in &self.states {
            let Some(current) = now.states.iter().find(|s| s.id == before.id) else {
                continue;
            };
            if current.last_value == before.last_value && current.is_called == before.is_called {
                continue;
            }
            let ended = end.and_then(|end| end.states.iter().find(|s| s.id == before.id));
            let ours = ended.is_some_and(|ended| {
                ended.last_value == current.last_value && ended.is_called == current.is_called
            });
            if !ours {
                warnings.push(format!(
                    "sequence {} moved from {} to {} during the dry run, and not only by it \
                     (another session took values from it): it was not set back",
                    before.name, before.last_value, current.last_value
                ));
                continue;
            }
            // Only while no other session has taken a value since it was read.
            let restore = format!(
                "SELECT CAST(setval(CAST(CAST({id} AS oid) AS regclass), {value}, {called}) \
                 AS BIGINT) AS id, '' AS name, CAST(0 AS BIGINT) AS last_value, \
                 CAST(0 AS INTEGER) AS is_called FROM {name} \
                 WHERE last_value = {now_value} AND CAST(is_called AS INTEGER) = {now_called}",
                id = before.id,
                value = before.last_value,
                called = before.is_called != 0,
                name = before.name,
                now_value = current.last_value,
                now_called = current.is_called,
            );
            let set: Vec<State> = conn.load_with(&restore, &[]).map_err(Error::query(format!(
                "cannot set sequence {} back to {} after the dry run",
                before.name, before.last_value
            )))?;
            if set.is_empty() {
                warnings.push(format!(
                    "sequence {} was moved by another session as the dry run ended: it was \
                     not set back to {}",
                    before.name, before.last_value
                ));
            }
        }
        Ok(warnings)
    }
}
