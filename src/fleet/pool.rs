//! The workers of a fleet run: at most `jobs` targets at a time, each on a thread of
//! its own (`std::thread::scope`), taken in the order they were given; after a failure
//! (unless told to keep going) or a stop request, no new target starts and those
//! running finish.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::report::{Tally, TenantReport};
use super::targets::Tenant;

/// What a live display is told as each target finishes: its report, and the counts so
/// far (`not_started` counts the targets not finished yet).
pub type Progress<'a> = &'a (dyn Fn(&TenantReport, Tally) + Sync);

/// How a fleet run goes: how many at a time, whether a failure stops it.
#[derive(Clone, Copy)]
pub(crate) struct Pool<'a> {
    pub(crate) jobs: usize,
    pub(crate) keep_going: bool,
    pub(crate) progress: Option<Progress<'a>>,
}

impl Pool<'_> {
    /// Runs `work` on each tenant, and returns each one's report in the tenants' order
    /// (those never started reported so).
    pub(crate) fn run(
        &self,
        tenants: &[Tenant],
        work: impl Fn(&Tenant) -> TenantReport + Sync,
    ) -> Vec<TenantReport> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let finished: Mutex<(Vec<Option<TenantReport>>, Tally)> = Mutex::new((
            tenants.iter().map(|_| None).collect(),
            Tally {
                not_started: tenants.len(),
                ..Tally::default()
            },
        ));
        let worker = || loop {
            if stop.load(Ordering::SeqCst) || crate::interrupt::is_requested() {
                break;
            }
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(tenant) = tenants.get(index) else {
                break;
            };
            let report = work(tenant);
            if report.failed() && !self.keep_going {
                stop.store(true, Ordering::SeqCst);
            }
            // A worker that panicked while holding the lock left the counts as they
            // were: they are still the best there is.
            let mut guard = finished.lock().unwrap_or_else(|e| e.into_inner());
            let (reports, tally) = &mut *guard;
            tally.not_started -= 1;
            match report.failed() {
                true => tally.failed += 1,
                false => tally.done += 1,
            }
            if let Some(progress) = self.progress {
                // Under the lock: lines of a live display come out whole, in order.
                progress(&report, *tally);
            }
            if let Some(slot) = reports.get_mut(index) {
                *slot = Some(report);
            }
        };
        let workers = self.jobs.clamp(1, tenants.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(worker);
            }
        });
        let (reports, _) = finished.into_inner().unwrap_or_else(|e| e.into_inner());
        reports
            .into_iter()
            .zip(tenants)
            .map(|(report, tenant)| report.unwrap_or_else(|| TenantReport::not_started(tenant)))
            .collect()
    }
}

/// The number of cores, the default number of jobs.
pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
