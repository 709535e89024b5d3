//! pelican's `tracing` spans and events, all in this one module (the `tracing`
//! feature): a span per boot, per run and per migration, an event per guard decision,
//! per warning and per lock wait. Their names, targets and fields are
//! `docs/tracing.md`'s, which a change here keeps in step.
//!
//! Without the feature, [`Span`] is empty and every function here does nothing: the
//! call sites carry no `cfg`, and the compiler removes them with their arguments, which
//! are borrowed and never formatted.

use std::fmt::Display;
use std::time::Duration;

#[cfg(feature = "tracing")]
use tracing::field::{display, Empty};

/// A span of pelican's: created where its work begins, entered while it is under way
/// ([`Span::enter`]), and closed when dropped.
#[must_use]
pub(crate) struct Span {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    /// Since the span began: its `duration_ms`.
    #[cfg(feature = "tracing")]
    clock: std::time::Instant,
    /// Whether its outcome is recorded; one that is not when it closes did not run.
    #[cfg(feature = "tracing")]
    ended: std::cell::Cell<bool>,
}

/// A span of pelican's, at `INFO`, with `fields` and those every span records at its
/// end ([`Span::end`]).
#[cfg(feature = "tracing")]
macro_rules! span {
    ($target:literal, $name:literal, $($fields:tt)*) => {
        Span::new(tracing::info_span!(
            target: $target,
            $name,
            $($fields)*
            duration_ms = Empty,
            outcome = Empty,
            error = Empty,
        ))
    };
}

/// The span `boot`: [`crate::Boot::run`] on one database.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn boot(backend: &dyn Display) -> Span {
    #[cfg(feature = "tracing")]
    return span!(
        "pelican::boot",
        "boot",
        backend = display(backend),
        found = Empty,
        action = Empty,
        current = Empty,
    );
    #[cfg(not(feature = "tracing"))]
    return Span {};
}

/// The span `run`: one run of migrations (`migrate`, `downgrade`, `redo`, a boot's
/// upgrade, `check`'s round trip), from reading what is applied to its report.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn run(backend: &dyn Display, mode: &'static str, atomic: bool) -> Span {
    #[cfg(feature = "tracing")]
    return span!(
        "pelican::run",
        "run",
        backend = display(backend),
        mode,
        atomic,
        steps = Empty,
        current = Empty,
        pending = Empty,
    );
    #[cfg(not(feature = "tracing"))]
    return Span {};
}

/// The span `migration`: one migration run in one direction.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn migration(version: &str, name: &str, direction: &dyn Display) -> Span {
    #[cfg(feature = "tracing")]
    return span!(
        "pelican::migration",
        "migration",
        version,
        name,
        direction = display(direction),
        statements_run = Empty,
        statements_skipped = Empty,
    );
    #[cfg(not(feature = "tracing"))]
    return Span {};
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
impl Span {
    #[cfg(feature = "tracing")]
    fn new(span: tracing::Span) -> Span {
        Span {
            span,
            clock: std::time::Instant::now(),
            ended: std::cell::Cell::new(false),
        }
    }

    /// Enters the span until the guard is dropped: what happens meanwhile on this
    /// thread is inside it.
    pub(crate) fn enter(&self) -> Entered<'_> {
        Entered {
            #[cfg(feature = "tracing")]
            _entered: self.span.enter(),
            #[cfg(not(feature = "tracing"))]
            _span: std::marker::PhantomData,
        }
    }

    /// Records a field declared when the span was created.
    pub(crate) fn record(&self, field: &'static str, value: &dyn Display) {
        #[cfg(feature = "tracing")]
        self.span.record(field, display(value));
    }

    /// Records a field declared when the span was created as its serde name (a
    /// report's enums: `fresh`, `initialized`).
    pub(crate) fn record_name(&self, field: &'static str, value: &impl serde::Serialize) {
        #[cfg(feature = "tracing")]
        if let Ok(serde_json::Value::String(name)) = serde_json::to_value(value) {
            self.span.record(field, name);
        }
    }

    /// Records a count declared when the span was created.
    pub(crate) fn record_count(&self, field: &'static str, value: usize) {
        #[cfg(feature = "tracing")]
        self.span.record(field, value as u64);
    }

    /// Ends the work: `duration_ms` (from the span's creation, unless `duration_ms` is
    /// given), and `outcome` `done`, or `failed` with the `error`.
    pub(crate) fn end(&self, error: Option<&dyn Display>, duration_ms: Option<f64>) {
        #[cfg(feature = "tracing")]
        {
            let ms = duration_ms.unwrap_or_else(|| self.clock.elapsed().as_secs_f64() * 1000.0);
            self.span.record("duration_ms", millis(ms / 1000.0));
            match error {
                None => self.span.record("outcome", "done"),
                Some(error) => self
                    .span
                    .record("outcome", "failed")
                    .record("error", display(error)),
            };
            self.ended.set(true);
        }
    }

    /// [`Span::end`] for a result.
    pub(crate) fn end_with<T, E: Display>(&self, result: &Result<T, E>) {
        self.end(result.as_ref().err().map(|e| e as &dyn Display), None);
    }
}

#[cfg(feature = "tracing")]
impl Drop for Span {
    fn drop(&mut self) {
        // A step of an atomic run's chunk that its batch did not run (a run of its own
        // follows, in a span of its own).
        if !self.ended.get() {
            self.span.record("outcome", "not_run");
        }
    }
}

/// A [`Span`] entered, until dropped.
pub(crate) struct Entered<'a> {
    #[cfg(feature = "tracing")]
    _entered: tracing::span::Entered<'a>,
    #[cfg(not(feature = "tracing"))]
    _span: std::marker::PhantomData<&'a Span>,
}

/// The event of a statement's guard decision (target `pelican::guard`): `action` is
/// `run`, `skip` or `not-tried`, `guarded` whether a guard decided (rather than the
/// statement running as written), `reason` why. A skip is at `INFO`, the rest at
/// `DEBUG`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn decision(line: usize, action: &'static str, guarded: bool, reason: &str) {
    #[cfg(feature = "tracing")]
    if action == "skip" {
        tracing::info!(target: "pelican::guard", line, action, guarded, reason, "statement skipped");
    } else {
        tracing::debug!(target: "pelican::guard", line, action, guarded, reason, "statement decided");
    }
}

/// The event of a warning a run reports (target `pelican::warning`, `WARN`): drift on
/// a skipped statement (its `line`), or what a dry run could not set back.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn warning(line: Option<usize>, warning: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "pelican::warning", line, warning, "warning");
}

/// The event of a run finding the migration lock held (target `pelican::lock`,
/// `INFO`): it waits up to `timeout`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn lock_waiting(lock: &str, timeout: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "pelican::lock",
        lock,
        timeout_ms = timeout.as_millis() as u64,
        "waiting for the migration lock"
    );
}

/// The event of the migration lock taken (target `pelican::lock`): after a wait at
/// `INFO`, at once at `DEBUG`. `waited` is how long taking it took.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn lock_taken(lock: &str, waited: Duration, after_wait: bool) {
    #[cfg(feature = "tracing")]
    {
        let waited_ms = millis(waited.as_secs_f64());
        if after_wait {
            tracing::info!(target: "pelican::lock", lock, waited_ms, "took the migration lock");
        } else {
            tracing::debug!(target: "pelican::lock", lock, waited_ms, "took the migration lock");
        }
    }
}

/// The event of a wait for the migration lock that gave up (target `pelican::lock`,
/// `WARN`), with the holder where the database tells.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn lock_timed_out(lock: &str, waited_secs: f64, holder: Option<&str>) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "pelican::lock",
        lock,
        waited_ms = millis(waited_secs),
        holder,
        "gave up waiting for the migration lock"
    );
}

/// Seconds as milliseconds to the microsecond, as the fields hold them.
#[cfg(feature = "tracing")]
fn millis(secs: f64) -> f64 {
    (secs * 1_000_000.0).round() / 1000.0
}
