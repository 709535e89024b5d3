//! Databases prepared ahead, in the background, for a test to take ready; drained when
//! the process exits.
//!
//! A test that takes a database from the pool waits for a lock and a pop: the clone (or
//! the snapshot load) and the connection were made while other tests ran. The pool is
//! the process's: sized to the test threads by default ([`default_size`]), it grows with
//! the demand (never more databases prepared than tests took so far, so a binary with
//! one test makes one spare), and what is in it when the process exits is dropped
//! ([`drain`]). What a killed process left is dropped by the next process's sweep
//! (`cleanup.rs`): every database in a pool carries its process's id in its name.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use super::template::{Template, TEMPLATES};
use super::{lock, TestDatabase};

/// Set when the process exits: a database prepared after that is dropped, not pooled.
static EXITING: AtomicBool = AtomicBool::new(false);

/// How long the drain at exit waits for the databases still being prepared.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// The pool's size when the harness is not told ([`super::Harness::prepare_ahead`]):
/// one database per test thread (`RUST_TEST_THREADS`, else the machine's parallelism,
/// as libtest counts them), so that while every thread runs a test, the next test of
/// each has one ready. None under cargo-nextest, which runs every test in a process of
/// its own: a database prepared there would be made for a process that never takes it.
pub(super) fn default_size() -> usize {
    if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        return 0;
    }
    std::env::var("RUST_TEST_THREADS")
        .ok()
        .and_then(|threads| threads.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Takes a database ready in the pool, if there is one, and starts preparing more.
pub(super) fn take(template: &Arc<Template>, size: usize) -> Option<TestDatabase> {
    drain_at_exit();
    let taken = template.taken.fetch_add(1, Ordering::SeqCst) + 1;
    let ready = lock(&template.pool).pop();
    refill(template, size.min(taken));
    ready
}

/// Starts preparing databases in the background until `ahead` are ready or on the way.
fn refill(template: &Arc<Template>, ahead: usize) {
    loop {
        let ready = lock(&template.pool).len();
        let preparing = template.preparing.load(Ordering::SeqCst);
        if ready + preparing >= ahead || EXITING.load(Ordering::SeqCst) {
            return;
        }
        if template
            .preparing
            .compare_exchange(preparing, preparing + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            continue;
        }
        let template = Arc::clone(template);
        std::thread::spawn(move || {
            // A failure here is found again, and reported, by the next test's own clone.
            if let Ok(database) = TestDatabase::prepared_ahead(Arc::clone(&template)) {
                if EXITING.load(Ordering::SeqCst) {
                    drop(database);
                } else {
                    lock(&template.pool).push(database);
                }
            }
            template.preparing.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Has [`drain`] run when the process exits (once).
fn drain_at_exit() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
        }
        // SAFETY: `atexit` (C's, in every platform's C library that std links) only
        // records the pointer; `drain` is a plain `extern "C" fn` that never unwinds.
        unsafe {
            atexit(drain);
        }
    });
}

/// Drops the databases of every pool, after waiting (a while) for those still being
/// prepared: run by the C library when the process exits, after `main` returns or
/// `std::process::exit` (how libtest ends). Best effort: a lock another thread holds
/// (it was stopped mid-test) is skipped, and what is left is swept by the next
/// process (`cleanup.rs`).
extern "C" fn drain() {
    let _ = std::panic::catch_unwind(|| {
        EXITING.store(true, Ordering::SeqCst);
        let templates: Vec<Arc<Template>> = match TEMPLATES.get().map(|map| map.try_lock()) {
            Some(Ok(map)) => map.values().cloned().collect(),
            _ => return,
        };
        for template in templates {
            let start = Instant::now();
            while template.preparing.load(Ordering::SeqCst) > 0 && start.elapsed() < DRAIN_WAIT {
                std::thread::sleep(Duration::from_millis(5));
            }
            let ready = match template.pool.try_lock() {
                Ok(mut pool) => std::mem::take(&mut *pool),
                Err(_) => continue,
            };
            drop(ready);
        }
    });
}
