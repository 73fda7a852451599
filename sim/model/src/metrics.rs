//! Metrics: the periodic rows of metrics.csv and the time integrals behind the summary's means
//! (reservation, instances in use, idle instances).
//!
//! A metrics row at time T shows the state after every event at or before T; rows are written
//! lazily, before an event at a later time is handled, for every multiple of the period up to
//! the end, and one at the end itself. Integrals advance with simulated time before each event.

use ecsim_engine::SimTime;

use crate::core::{Core, InstanceState};
use crate::ids::ServiceId;
use crate::record::{
    ClusterSample, ClusterSummary, LoadRow, MetricsRow, ProviderRow, ServiceSample, Sink,
};
use crate::scenario::Scenario;

/// Time integrals of one cluster (resource-ms or instance-ms). The reservations change at
/// nearly every event and are added up at each; the others change seldom and are integrated
/// piecewise ([`Held`]).
#[derive(Debug, Default, Clone)]
struct ClusterAcc {
    cpu_reserved: u128,
    cpu_registered: Held,
    mem_reserved: u128,
    mem_registered: Held,
    in_use: Held,
    in_use_cpu: Held,
    in_use_mem: Held,
}

/// The time integral of a value that seldom changes, from time 0: the integral up to `since`
/// plus `value` times the time since. Adding `value * dt` at each event instead gives the same
/// exact sum (integers), at the cost of a multiply-add per event.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    sum: u128,
    value: u64,
    since: u64,
}

impl Held {
    /// `v` holds from `from` on (until the next call).
    #[inline(always)]
    fn hold(&mut self, v: u64, from: u64) {
        if v != self.value {
            self.sum += u128::from(self.value) * u128::from(from - self.since);
            self.value = v;
            self.since = from;
        }
    }

    /// The integral up to `t` (not before the last [`Held::hold`]).
    fn to(&self, t: u64) -> u128 {
        self.sum + u128::from(self.value) * u128::from(t - self.since)
    }
}

/// The metrics state of a run.
#[derive(Clone)]
pub(crate) struct Metrics {
    period_ms: u64,
    next_row: SimTime,
    last: SimTime,
    clusters: Vec<ClusterAcc>,
    idle_ms: u128,
    idle_after_drop_ms: u128,
    /// The first time a service's load drops.
    first_drop: Option<u64>,
    samples: Vec<ServiceSample>,
    cluster_samples: Vec<ClusterSample>,
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn pct128(a: u128, b: u128) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

impl Metrics {
    pub(crate) fn new(sc: &Scenario) -> Self {
        let first_drop = sc
            .services
            .iter()
            .filter_map(|s| s.load.as_ref())
            .flat_map(|l| {
                l.changes()
                    .into_iter()
                    .filter(|&c| l.demand(c) < l.demand(c.saturating_sub(1)))
                    .collect::<Vec<_>>()
            })
            .min();
        Metrics {
            period_ms: sc.simulation.metrics_period_ms,
            next_row: SimTime::ZERO,
            last: SimTime::ZERO,
            clusters: vec![ClusterAcc::default(); sc.clusters.len()],
            idle_ms: 0,
            idle_after_drop_ms: 0,
            first_drop,
            samples: vec![ServiceSample::default(); sc.services.len()],
            cluster_samples: vec![ClusterSample::default(); sc.clusters.len()],
        }
    }

    /// The next row due before `now` (`inclusive`: at or before), if any; the caller writes it.
    pub(crate) fn due(&mut self, now: SimTime, inclusive: bool) -> Option<SimTime> {
        let t = self.next_row;
        if t < now || (inclusive && t == now) {
            self.next_row = t.plus_ms(self.period_ms);
            Some(t)
        } else {
            None
        }
    }

    /// Advance the integrals to `now`; returns the interval covered (`None` if time did not
    /// move). Runs before nearly every event: one pass over the clusters, plain loops.
    #[inline]
    pub(crate) fn integrate<S: Sink>(
        &mut self,
        core: &Core<'_, S>,
        now: SimTime,
    ) -> Option<(SimTime, u64)> {
        if now <= self.last {
            return None;
        }
        let (from, dt) = (self.last, now.since(self.last));
        let (f, dt128) = (from.ms(), u128::from(dt));
        let mut busy = 0u32;
        for (c, acc) in core.clusters().iter().zip(&mut self.clusters) {
            busy += c.busy;
            let (a, b, x, y) = c.pc.reservation_totals();
            acc.cpu_registered.hold(a, f);
            acc.mem_registered.hold(b, f);
            acc.cpu_reserved += u128::from(x) * dt128;
            acc.mem_reserved += u128::from(y) * dt128;
            acc.in_use.hold(u64::from(c.pc.instances_in_use()), f);
            let (uc, um) = c.pc.in_use_capacity();
            acc.in_use_cpu.hold(uc, f);
            acc.in_use_mem.hold(um, f);
        }
        let idle = u128::from(
            core.instances_in(InstanceState::Active)
                .saturating_sub(busy),
        );
        self.idle_ms += idle * dt128;
        if let Some(d) = self.first_drop {
            let a = f.max(d);
            if now.ms() > a {
                self.idle_after_drop_ms += idle * u128::from(now.ms() - a);
            }
        }
        self.last = now;
        Some((from, dt))
    }

    /// Write the metrics row at `t` from the current state.
    pub(crate) fn write_row<S: Sink>(
        &mut self,
        core: &mut Core<'_, S>,
        t: SimTime,
        loads: &[LoadRow],
        providers: &[ProviderRow],
    ) {
        let (mut rc, mut rm, mut uc, mut um) = (0u64, 0u64, 0u64, 0u64);
        for (c, sample) in core.clusters().iter().zip(self.cluster_samples.iter_mut()) {
            let (a, b, x, y) = c.pc.reservation_totals();
            rc += a;
            rm += b;
            uc += x;
            um += y;
            *sample = ClusterSample {
                instances_in_use: c.pc.instances_in_use(),
                cpu_reserved_pct: pct(x, a),
                memory_reserved_pct: pct(y, b),
            };
        }
        for (k, s) in self.samples.iter_mut().enumerate() {
            let rt = core.service(ServiceId::new(k));
            *s = ServiceSample {
                desired: rt.desired,
                running: rt.running(),
                pending: rt.pending(),
                provisioning: rt.provisioning(),
                stopping: rt.stopping(),
            };
        }
        let [prov, pend, run, stopping] = core.task_counts();
        let row = MetricsRow {
            loads,
            providers,
            time_ms: t.ms(),
            instances_launching: core.instances_in(InstanceState::Launching),
            instances_active: core.instances_in(InstanceState::Active),
            instances_draining: core.instances_in(InstanceState::Draining),
            instances_stopped: core.instances_in(InstanceState::Stopped),
            tasks_provisioning: prov,
            tasks_pending: pend,
            tasks_running: run,
            tasks_stopping: stopping,
            cpu_reserved_pct: pct(uc, rc),
            memory_reserved_pct: pct(um, rm),
            clusters: &self.cluster_samples,
            services: &self.samples,
        };
        core.out.sink.metrics(&row);
    }

    /// Time-weighted CPU and memory reservation of the whole run, percent: the clusters'
    /// integrals summed (exact, so the same as integrating the sums at every event).
    pub(crate) fn mean_reserved_pct(&self) -> (f64, f64) {
        let t = self.last.ms();
        let sum = |f: &dyn Fn(&ClusterAcc) -> u128| self.clusters.iter().map(f).sum::<u128>();
        (
            pct128(sum(&|c| c.cpu_reserved), sum(&|c| c.cpu_registered.to(t))),
            pct128(sum(&|c| c.mem_reserved), sum(&|c| c.mem_registered.to(t))),
        )
    }

    /// Idle instance-hours, and those after the first load drop (if there is one).
    pub(crate) fn idle_hours(&self) -> (f64, Option<f64>) {
        (
            self.idle_ms as f64 / 3_600_000.0,
            self.first_drop
                .map(|_| self.idle_after_drop_ms as f64 / 3_600_000.0),
        )
    }

    /// Per-cluster summaries.
    pub(crate) fn cluster_summaries<S: Sink>(
        &self,
        sc: &Scenario,
        core: &Core<'_, S>,
        end: SimTime,
    ) -> Vec<ClusterSummary> {
        let stranded = |reserved: u128, in_use: u128| {
            if in_use == 0 {
                0.0
            } else {
                100.0 * (1.0 - reserved.min(in_use) as f64 / in_use as f64)
            }
        };
        let t = self.last.ms();
        self.clusters
            .iter()
            .zip(core.clusters())
            .zip(&sc.clusters)
            .map(|((acc, c), def)| ClusterSummary {
                name: def.name.clone(),
                mean_instances_in_use: if end.ms() == 0 {
                    0.0
                } else {
                    acc.in_use.to(t) as f64 / end.ms() as f64
                },
                peak_instances_in_use: u64::from(c.peak_in_use),
                mean_cpu_reserved_pct: pct128(acc.cpu_reserved, acc.cpu_registered.to(t)),
                mean_memory_reserved_pct: pct128(acc.mem_reserved, acc.mem_registered.to(t)),
                cpu_fragmentation_pct: stranded(acc.cpu_reserved, acc.in_use_cpu.to(t)),
                memory_fragmentation_pct: stranded(acc.mem_reserved, acc.in_use_mem.to(t)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    /// A held value's integral is the sum of value x time over every interval, whether the
    /// value changed there or not: the same exact number as adding it up at each event.
    #[test]
    fn held_integral_equals_the_sum_at_every_step() {
        let steps = [
            (0u64, 5u64),
            (3, 5),
            (4, 0),
            (9, 0),
            (10, 7),
            (10, 2),
            (15, 2),
            (40, 9),
        ];
        let (mut held, mut eager, mut last) = (Held::default(), 0u128, 0u64);
        for &(to, v) in &steps {
            held.hold(v, last);
            eager += u128::from(v) * u128::from(to - last);
            last = to;
            assert_eq!(held.to(last), eager, "up to {last}");
        }
        assert_eq!(eager, 5 * 3 + 7 + 2 * 5 + 9 * 25);
    }
}
