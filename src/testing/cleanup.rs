//! What test processes leave behind, dropped: databases of processes that died, and
//! templates of other migration sets grown old.

use std::time::Duration;

use super::{now_secs, server_url, TEMPLATE_PREFIX, TEST_PREFIX};
use crate::server::{owner_gone, remove_leftover_files, Server};
use crate::Backend;

/// Templates of other migration sets are kept this long, for suites run side by side.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the sweep waits for the server to end a dead process's sessions.
const SESSIONS_WAIT: Duration = Duration::from_secs(10);

/// Drops what dead processes left (test and scratch databases whose process is gone,
/// see [`Server::remove_leftovers`]) and templates of other migration sets older
/// than a day. Best effort: a failure here must not fail a test.
pub(super) fn cleanup(backend: Backend, current: &str) {
    use crate::scratch::PREFIX as SCRATCH_PREFIX;
    let dead = |name: &str| owner_gone(name, TEST_PREFIX) || owner_gone(name, SCRATCH_PREFIX);
    let stale_template = |name: &str| {
        let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) else {
            return false;
        };
        let mut parts = rest.split(['_', '.']);
        let key = parts.next().unwrap_or_default();
        let made = parts
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        key != current && now_secs().saturating_sub(made) > STALE_AFTER.as_secs()
    };
    let Some(admin_url) = server_url(backend) else {
        let folder = std::env::temp_dir();
        let old = |name: &str| {
            std::fs::metadata(folder.join(name))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER)
        };
        let other_set = |name: &str| {
            name.strip_prefix(TEMPLATE_PREFIX)
                .is_some_and(|rest| !rest.starts_with(current))
        };
        remove_leftover_files(&folder, |name| dead(name) || other_set(name) && old(name));
        return;
    };
    if let Ok(mut server) = Server::connect(&admin_url) {
        // A killed process's `CREATE DATABASE` (a clone prepared ahead, say) may still be
        // running on the server: ended first, or the database would appear after the
        // sweep has looked.
        server.end_leftover_sessions(dead, SESSIONS_WAIT);
        server.remove_leftovers(|name| dead(name) || stale_template(name));
    }
}
