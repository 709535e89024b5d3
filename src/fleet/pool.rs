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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::TenantOutcome;
    use std::sync::atomic::AtomicUsize;

    fn tenants(n: usize) -> Vec<Tenant> {
        (0..n)
            .map(|i| Tenant::database(format!("t{i}.db")))
            .collect()
    }

    /// Fails the tenants named `t1.db`, counting how many ran.
    fn run(pool: Pool<'_>, n: usize, ran: &AtomicUsize) -> Vec<TenantReport> {
        pool.run(&tenants(n), |tenant| {
            ran.fetch_add(1, Ordering::SeqCst);
            let mut report = TenantReport::not_started(tenant);
            report.outcome = match tenant.url() == "t1.db" {
                true => TenantOutcome::Failed(crate::Error::NoDatabaseUrl),
                false => TenantOutcome::Done,
            };
            report
        })
    }

    #[test]
    fn after_a_failure_no_new_target_starts_unless_told_to_keep_going() {
        let ran = AtomicUsize::new(0);
        let stop = Pool {
            jobs: 1,
            keep_going: false,
            progress: None,
        };
        let reports = run(stop, 4, &ran);
        let outcomes: Vec<&str> = reports
            .iter()
            .map(|r| match r.outcome {
                TenantOutcome::Done => "done",
                TenantOutcome::Failed(_) => "failed",
                TenantOutcome::NotStarted => "not started",
            })
            .collect();
        assert_eq!(outcomes, ["done", "failed", "not started", "not started"]);
        assert_eq!(ran.load(Ordering::SeqCst), 2);

        let ran = AtomicUsize::new(0);
        let on = Pool {
            jobs: 3,
            keep_going: true,
            progress: None,
        };
        let reports = run(on, 6, &ran);
        assert_eq!(ran.load(Ordering::SeqCst), 6);
        assert_eq!(reports.iter().filter(|r| r.failed()).count(), 1);
        assert_eq!(reports[5].target, "t5.db", "in the order given");
    }

    #[test]
    fn progress_counts_each_finished_target() {
        let seen = std::sync::Mutex::new(Vec::new());
        let progress = |_: &TenantReport, tally: Tally| seen.lock().unwrap().push(tally);
        let pool = Pool {
            jobs: 2,
            keep_going: true,
            progress: Some(&progress),
        };
        run(pool, 3, &AtomicUsize::new(0));
        let last = *seen.lock().unwrap().last().unwrap();
        assert_eq!((last.done, last.failed, last.not_started), (2, 1, 0));
        assert_eq!(seen.lock().unwrap().len(), 3);
    }
}
