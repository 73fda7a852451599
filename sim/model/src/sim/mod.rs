//! One run of a scenario: the [`Simulation`] that routes each event to the subsystem that owns
//! it and applies the subsystems' decisions through the core.
//!
//! # Who does what
//! * `core` holds the tasks and instances and is the only code that changes them;
//! * the subsystems (`launch`, `job`, `service`,
//!   `autoscaling`, `cluster_autoscaling`, `failures`,
//!   `metrics`) keep their own state private and decide;
//! * this module wires them: [`Simulation::handle`](ecsim_engine::Model::handle) routes each
//!   event by its owner (`lifecycle.rs`, `services.rs`, `scaling.rs`, `failures.rs`), and the
//!   apply steps there call one subsystem's decision and then the core.
//!
//! # Reactions, in order
//! A change in one place that another subsystem must hear of is passed on here, always in this
//! order, synchronously, right after the core made the change:
//! * **task stopping** (`Simulation::stop_task`): a RUNNING task the scheduler stops is STOPPING
//!   for its stop time (a `TaskStopped` event); nothing else reacts until it is STOPPED;
//! * **task stopped** (`Simulation::finish_stop`): the launcher forgets it if it was queued; if it
//!   freed an instance, the cluster's waiting work is retried (one `Retry` event per cluster and
//!   instant), on a DRAINING instance left without other tasks the daemon tasks stop (they
//!   stop last), and an instance waiting to be terminated is terminated once no task is left on
//!   it; if it was a service task that failed, the deployment's throttle and circuit
//!   breaker count it, then the service scheduler is told it is short; if it was STOPPING, its
//!   REPLICA service reconciles (the room it held under `maximumPercent`, the deployment's end);
//! * **task RUNNING** (`task_running`): the service's health timer, the throttle reset, then the
//!   failure timers (crash, Fargate Spot);
//! * **instance launched**: its failure timers; **instance ACTIVE**: daemons first, then a retry;
//! * **desired count changed** (actions, auto scaling): the service event, then the scheduler
//!   reconciles;
//! * **a service could not place a task**: a `Wake` of that service after
//!   `settings.service_placement_retry` (one pending at a time), besides the retries capacity
//!   changes bring;
//! * **a job's task arrives**: its RunTask call goes through now or, throttled, at a
//!   `RunTaskRetry` event when the API's rate limit allows (calls in order);
//! * **Availability Zone rebalancing** (`rebalance.rs`): after every reconcile of a service, when
//!   one of its tasks becomes healthy, when an instance of its cluster becomes ACTIVE and when an
//!   AZ outage ends, a service with rebalancing on that is at steady state and unbalanced (or
//!   still rebalancing) gets a check, at most one per `settings.az_rebalancing_interval`; a
//!   check moves one task; the task it started being healthy stops one in the fullest AZ.
//!
//! See [`event`] for the events and the same-instant rules.

pub mod event;
mod explain;
mod failures;
mod finish;
pub mod fork;
mod invariants;
mod lifecycle;
pub mod progress;
mod rebalance;
mod scaling;
mod services;
mod setup;

use ecsim_engine::{Control, Limits, Model, Scheduler, SimTime};
pub use progress::{NoProgress, Progress};

pub use event::Ev;

use crate::autoscaling::service::ServiceAutoScaling;
use crate::cluster_autoscaling::ClusterAutoScaling;
use crate::core::Core;
use crate::failures::Failures;
use crate::job::Jobs;
use crate::launch::Launcher;
use crate::metrics::Metrics;
use crate::record::{Sink, Summary};
use crate::scenario::Scenario;
use crate::service::ServiceScheduler;
use crate::service::deployment::Deployments;
use crate::service::rebalance::Rebalancer;

/// Options of one run that are not part of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The run seed.
    pub seed: u64,
    /// Check the whole-run invariants after every event (slow; on in tests).
    pub check_invariants: bool,
}

/// Why a run stopped, as the summary names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Duration,
    NoWorkLeft,
    /// More tasks waited at once than `simulation.max_waiting_tasks`.
    MaxWaitingTasks,
}

/// One run of a scenario, pushing its records into a sink.
pub struct Simulation<'s, S: Sink> {
    core: Core<'s, S>,
    launcher: Launcher,
    jobs: Jobs,
    scheduler: ServiceScheduler,
    deployments: Deployments,
    rebalancer: Rebalancer,
    autoscaling: ServiceAutoScaling,
    cluster_autoscaling: ClusterAutoScaling,
    failures: Failures,
    metrics: Metrics,
    /// Per cluster: a `Retry` is scheduled for this instant.
    retry_scheduled: Vec<bool>,
    check: bool,
    stop_reason: StopReason,
}

impl<S: Sink> Simulation<'_, S> {
    /// Write the metrics rows due before `now` and advance the time integrals to it.
    fn advance(&mut self, now: SimTime) {
        while let Some(t) = self.metrics.due(now, false) {
            self.write_metrics(t);
        }
        if let Some((from, dt)) = self.metrics.integrate(&self.core, now)
            && !self.core.sc.services.is_empty()
        {
            // Availability is tracked per service: nothing to do (at every event) without any.
            let core = &self.core;
            self.failures.tracking.integrate(core.sc, from, dt, |s| {
                let t = core.service(s);
                (t.serving(), t.desired)
            });
        }
    }

    /// Tasks waiting at once: PROVISIONING, and deferred by throttled RunTask calls.
    fn waiting_tasks(&self) -> u64 {
        self.core.task_counts()[0] + self.jobs.deferred()
    }

    fn write_metrics(&mut self, t: SimTime) {
        let loads = self.autoscaling.load_rows();
        let providers = self.cluster_autoscaling.rows();
        self.metrics
            .write_row(&mut self.core, t, &loads, &providers);
    }
}

impl<S: Sink> Model for Simulation<'_, S> {
    type Event = Ev;

    fn prefetch(&self, ev: &Ev, sched: &Scheduler<Ev>) {
        use event::LifecycleEv::{TaskExited, TaskStopped};
        if !self.core.worth_hinting() {
            return;
        }
        if let Ev::Lifecycle(TaskExited(tid) | TaskStopped(tid)) = ev {
            self.core.prefetch_instance_of(*tid);
        }
        if let Some(Ev::Lifecycle(TaskExited(tid) | TaskStopped(tid))) = sched.peek() {
            self.core.prefetch_task(*tid);
        }
    }

    fn handle(&mut self, ev: Ev, sched: &mut Scheduler<Ev>) -> Control {
        let now = sched.now();
        self.advance(now);
        match ev {
            Ev::End => {
                self.stop_reason = StopReason::Duration;
                return Control::Stop;
            }
            Ev::Lifecycle(e) => self.on_lifecycle(e, now, sched),
            Ev::Service(e) => self.on_service(e, now, sched),
            Ev::Scaling(e) => self.on_scaling(e, now, sched),
            Ev::Failure(e) => self.on_failure(e, now, sched),
        }
        // Tasks that finished in this event: rows written, records freed.
        self.core.reclaim();
        // Once per simulated day: close the cost ledger's finished hours.
        self.core.settle_hours(now);
        if self.failures.any_open() {
            let core = &self.core;
            self.failures.check_recovery(now, |s| {
                let t = core.service(s);
                t.serving() >= t.desired
            });
        }
        if self.check {
            self.check_invariants();
        }
        if self.waiting_tasks() > self.core.sc.simulation.max_waiting_tasks {
            self.stop_reason = StopReason::MaxWaitingTasks;
            return Control::Stop;
        }
        if self.core.sc.simulation.duration_ms.is_none() && self.core.idle() {
            return Control::Stop;
        }
        Control::Continue
    }
}

/// Run a scenario to the end and return its summary (with `wall_ms` left at 0) and the sink.
/// Trace jobs submit nothing here (their traces are empty): use [`run_traced`] with the traces
/// open.
pub fn run<S: Sink>(sc: &Scenario, opts: RunOptions, sink: S) -> (Summary, S) {
    run_with(sc, opts, sink, RunWith::default())
}

/// [`run`], telling `progress` how far it has come every [`progress::EVERY`] events.
pub fn run_with_progress<S: Sink>(
    sc: &Scenario,
    opts: RunOptions,
    sink: S,
    progress: &mut dyn Progress,
) -> (Summary, S) {
    let with = RunWith {
        progress: Some(progress),
        ..RunWith::default()
    };
    run_with(sc, opts, sink, with)
}

/// Run a scenario with the events of each instant in a seeded random order (`salt`), except
/// those the same-instant rules fix (see [`event`]): an ordering audit. With the same salt the
/// run is as reproducible as [`run`].
pub fn run_shuffled<S: Sink>(
    sc: &Scenario,
    opts: RunOptions,
    salt: u64,
    sink: S,
    progress: &mut dyn Progress,
) -> (Summary, S) {
    let with = RunWith {
        progress: Some(progress),
        shuffle: Some(salt),
        ..RunWith::default()
    };
    run_with(sc, opts, sink, with)
}

/// [`run`] a scenario whose trace jobs read from `traces` (opened with
/// [`crate::trace::Traces::open`]).
///
/// A trace job missing from `traces` reads an empty trace.
pub fn run_traced<S: Sink>(
    sc: &Scenario,
    opts: RunOptions,
    sink: S,
    traces: crate::trace::Traces,
) -> (Summary, S) {
    let with = RunWith {
        traces: Some(traces),
        ..RunWith::default()
    };
    run_with(sc, opts, sink, with)
}

/// What a run may take besides its scenario, options and sink.
#[derive(Default)]
pub struct RunWith<'p> {
    /// Told how far the run has come every [`progress::EVERY`] events.
    pub progress: Option<&'p mut dyn Progress>,
    /// The trace jobs' open traces (none: they read empty traces).
    pub traces: Option<crate::trace::Traces>,
    /// Same-instant events in the seeded random order of this salt (an ordering audit).
    pub shuffle: Option<u64>,
}

/// The scenario's guards on a run (`simulation.max_events`, `simulation.max_time`).
fn limits(sc: &Scenario) -> Limits {
    Limits {
        max_events: sc.simulation.max_events,
        max_time: SimTime::from_ms(sc.simulation.max_time_ms),
    }
}

/// [`run`] with everything [`RunWith`] offers.
pub fn run_with<S: Sink>(
    sc: &Scenario,
    opts: RunOptions,
    sink: S,
    with: RunWith<'_>,
) -> (Summary, S) {
    let mut sched = match with.shuffle {
        None => Scheduler::new(),
        Some(salt) => Scheduler::shuffled(salt),
    };
    let traces = with.traces.unwrap_or_else(crate::trace::Traces::none);
    let mut none = NoProgress;
    let progress: &mut dyn Progress = match with.progress {
        Some(p) => p,
        None => &mut none,
    };
    let mut sim = Simulation::new_traced(sc, opts, sink, &mut sched, traces);
    let limits = limits(sc);
    let mut reporting = progress::Reporting {
        inner: &mut sim,
        progress,
        end_ms: sc.simulation.duration_ms,
        events: 0,
    };
    let stats = ecsim_engine::run(&mut reporting, &mut sched, limits);
    let (mut summary, sink) = sim.finish(stats);
    summary.seed = opts.seed;
    (summary, sink)
}

#[cfg(test)]
mod hint_tests {
    use super::*;
    use crate::record::NullSink;

    /// Hands every event to the model and drops the cache hints.
    struct NoHints<'a, M>(&'a mut M);

    impl<M: Model> Model for NoHints<'_, M> {
        type Event = M::Event;
        fn handle(&mut self, ev: M::Event, sched: &mut Scheduler<M::Event>) -> Control {
            self.0.handle(ev, sched)
        }
    }

    fn summary(src: &str, sets: &[&str], hints: bool) -> Summary {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let sc = crate::scenario::load("t.toml", src, &sets).expect("a shipped scenario");
        let mut sched = Scheduler::new();
        let opts = RunOptions {
            seed: 3,
            check_invariants: false,
        };
        let traces = crate::trace::Traces::none();
        let mut sim = Simulation::new_traced(&sc, opts, NullSink, &mut sched, traces);
        // Hints at every size (by default only above `HINTS_ABOVE` instances).
        sim.core.hints_above = 0;
        let limits = limits(&sc);
        let stats = if hints {
            ecsim_engine::run(&mut sim, &mut sched, limits)
        } else {
            ecsim_engine::run(&mut NoHints(&mut sim), &mut sched, limits)
        };
        sim.finish(stats).0
    }

    /// The cache hints (`Model::prefetch`) only load memory: a run gives the same summary and
    /// events hash with and without them, on the benchmark (the hints' main path: exits and
    /// placements on many instances) and on scenarios with failures, Spot and services.
    #[test]
    fn the_cache_hints_change_no_result() {
        let bench = include_str!("../../../../scenarios/bench/steady-binpack.toml");
        let small = [
            "clusters[0].count=300",
            "jobs[0].arrival.count=5000",
            "jobs[0].arrival.rate_per_s=0.25",
        ];
        let random = [
            &small[..],
            &["jobs[0].placement_strategy=[{ type = \"random\" }]"],
        ]
        .concat();
        let cases: [(&str, &[&str]); 4] = [
            (bench, &small),
            (bench, &random),
            (include_str!("../../../../scenarios/spot-storm.toml"), &[]),
            (include_str!("../../../../scenarios/az-outage.toml"), &[]),
        ];
        for (src, sets) in cases {
            let with = summary(src, sets, true);
            assert!(with.tasks_started > 20, "the run did some work: {with:?}");
            assert_eq!(with, summary(src, sets, false));
        }
    }
}
