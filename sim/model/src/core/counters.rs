//! Counts of what happened over the run, kept by the core and by the subsystems through the
//! named methods below, each counter in one place.

use std::collections::BTreeMap;

use ecsim_engine::SimTime;
use ecsim_placement::PlacementFailure;

/// Run-wide counts and sums for the summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counters {
    /// Tasks that reached RUNNING.
    pub(crate) tasks_started: u64,
    /// Standalone tasks that finished their run time.
    pub(crate) tasks_completed: u64,
    /// Standalone tasks that failed at once because nothing fit.
    pub(crate) tasks_failed_to_place: u64,
    /// Service tasks stopped by scale-in.
    pub(crate) tasks_scaled_in: u64,
    /// Tasks that waited for capacity (or for Fargate's launch rate).
    pub(crate) tasks_waited: u64,
    /// Tasks that waited for capacity, by the reason nothing could hold them.
    pub(crate) waits_by_reason: BTreeMap<&'static str, u64>,
    /// Tasks lost to failures (crashes, failed starts, dead hosts, interruptions).
    pub(crate) tasks_lost: u64,
    /// RunTask calls the API's rate limit held back.
    pub(crate) run_task_calls_throttled: u64,
    /// Failed placement attempts of services.
    pub(crate) service_failures: u64,
    /// Sum, maximum and count of placement waits, ms.
    wait_sum_ms: u128,
    pub(crate) wait_max_ms: u64,
    waits: u64,
    /// Every task's wait (tasks.csv's `wait_ms`) with how many tasks waited that long: exact
    /// percentiles in memory that grows with distinct waits, not with tasks.
    /// (Tasks that waited 0 ms, the usual case, are counted apart: no map lookup.)
    wait_counts: BTreeMap<u64, u64>,
    zero_waits: u64,
    /// Task-ms from placement to stop (task hours in the cost summary).
    pub(crate) task_ms: u128,
    /// Most instances at once (launching or ACTIVE).
    pub(crate) peak_instances: u64,
}

impl Counters {
    /// A task waits for capacity because of `why`.
    pub(crate) fn waited_for_capacity(&mut self, why: PlacementFailure) {
        self.tasks_waited += 1;
        *self.waits_by_reason.entry(why.code()).or_insert(0) += 1;
    }

    /// A task was placed (or Fargate provisioned) after waiting from `created`.
    pub(crate) fn placed(&mut self, created: SimTime, now: SimTime) {
        let wait = now.since(created);
        self.wait_sum_ms += u128::from(wait);
        self.wait_max_ms = self.wait_max_ms.max(wait);
        self.waits += 1;
    }

    /// A task's row was written with this `wait_ms`.
    #[inline]
    pub(crate) fn task_waited(&mut self, wait_ms: u64) {
        if wait_ms == 0 {
            self.zero_waits += 1;
        } else {
            *self.wait_counts.entry(wait_ms).or_insert(0) += 1;
        }
    }

    /// The `q` quantile of every task's wait by the nearest-rank method (the smallest wait with
    /// at least `q` of the tasks at or below it); 0 for no tasks.
    pub(crate) fn wait_quantile_ms(&self, q: f64) -> u64 {
        let n: u64 = self.zero_waits + self.wait_counts.values().sum::<u64>();
        if n == 0 {
            return 0;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = self.zero_waits;
        if seen >= rank {
            return 0;
        }
        for (&wait, &k) in &self.wait_counts {
            seen += k;
            if seen >= rank {
                return wait;
            }
        }
        unreachable!("rank is at most the count")
    }

    /// Mean placement wait, ms.
    pub(crate) fn mean_wait_ms(&self) -> f64 {
        if self.waits == 0 {
            0.0
        } else {
            self.wait_sum_ms as f64 / self.waits as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Counters;

    /// Nearest rank (Hyndman & Fan definition 1): p95 of 1..=20 is the 19th value, p50 the 10th;
    /// repeated waits count once per task.
    #[test]
    fn nearest_rank_percentiles() {
        let mut c = Counters::default();
        assert_eq!(c.wait_quantile_ms(0.5), 0);
        for w in (1..=20).rev() {
            c.task_waited(w);
        }
        assert_eq!(c.wait_quantile_ms(0.95), 19);
        assert_eq!(c.wait_quantile_ms(0.50), 10);
        assert_eq!(c.wait_quantile_ms(0.99), 20);
        let mut c = Counters::default();
        c.task_waited(7);
        assert_eq!(c.wait_quantile_ms(0.5), 7);
        let mut c = Counters::default();
        for w in [0, 0, 0, 5] {
            c.task_waited(w);
        }
        assert_eq!(c.wait_quantile_ms(0.75), 0);
        assert_eq!(c.wait_quantile_ms(0.76), 5);
    }
}
