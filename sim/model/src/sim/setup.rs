//! Setting up a run: the subsystems, the instances of every group, the first arrival of each
//! job, the scripted actions and failures, and the sampling timer.

use ecsim_engine::{Scheduler, SimTime, Streams};

use super::event::{Ev, FailureEv, ScalingEv, ServiceEv, rank};
use super::{RunOptions, Simulation, StopReason};
use crate::autoscaling::service::ServiceAutoScaling;
use crate::cluster_autoscaling::ClusterAutoScaling;
use crate::core::Core;
use crate::failures::Failures;
use crate::ids::{ClusterId, JobId};
use crate::job::Jobs;
use crate::launch::Launcher;
use crate::metrics::Metrics;
use crate::record::{RunHeader, Sink};
use crate::scenario::{ProviderKind, Scenario};
use crate::service::ServiceScheduler;
use crate::service::deployment::Deployments;
use crate::trace::Traces;

/// Tell the sink which columns the run has.
fn begin<S: Sink>(sc: &Scenario, sink: &mut S) {
    let services: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    let clusters: Vec<&str> = sc.clusters.iter().map(|c| c.name.as_str()).collect();
    let load_services: Vec<&str> = sc
        .services
        .iter()
        .filter(|s| s.load.is_some() || s.auto_scaling.is_some())
        .map(|s| s.name.as_str())
        .collect();
    let providers: Vec<&str> = sc
        .clusters
        .iter()
        .flat_map(|c| {
            c.groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.managed_scaling.is_some())
                .map(move |(gi, _)| {
                    c.capacity_providers
                        .iter()
                        .find(|p| p.kind == ProviderKind::Asg { group: gi })
                        .map_or("", |p| p.name.as_str())
                })
        })
        .collect();
    sink.begin(&RunHeader {
        clusters: &clusters,
        services: &services,
        load_services: &load_services,
        providers: &providers,
    });
}

impl<'s, S: Sink> Simulation<'s, S> {
    /// Set up a run: instances, services, jobs and actions, all scheduled on `sched`.
    pub fn new(sc: &'s Scenario, opts: RunOptions, sink: S, sched: &mut Scheduler<Ev>) -> Self {
        Self::new_traced(sc, opts, sink, sched, Traces::none())
    }

    /// Set up a run whose trace jobs read from `traces` (see [`Traces::open`]).
    ///
    /// A trace job missing from `traces` reads an empty trace.
    pub fn new_traced(
        sc: &'s Scenario,
        opts: RunOptions,
        sink: S,
        sched: &mut Scheduler<Ev>,
        traces: Traces,
    ) -> Self {
        Self::setup(sc, opts, sink, sched, traces, &[])
    }

    /// Set up the shared prefix of a fork whose branches run `branches`: placement keeps the
    /// indexes and auto scaling the datapoints any branch needs (see `fork.rs`).
    pub(super) fn new_for_fork(
        sc: &'s Scenario,
        opts: RunOptions,
        sink: S,
        sched: &mut Scheduler<Ev>,
        branches: &[&Scenario],
    ) -> Self {
        Self::setup(sc, opts, sink, sched, Traces::none(), branches)
    }

    fn setup(
        sc: &'s Scenario,
        opts: RunOptions,
        mut sink: S,
        sched: &mut Scheduler<Ev>,
        mut traces: Traces,
        branches: &[&Scenario],
    ) -> Self {
        let streams = Streams::new(opts.seed);
        begin(sc, &mut sink);
        if let Some(d) = sc.simulation.duration_ms {
            sched.schedule_ranked_at(SimTime::from_ms(d), rank::END, Ev::End);
        }
        let mut core = Core::new(sc, sink, &streams, branches);
        // Task groups are interned services first, then jobs.
        let scheduler = ServiceScheduler::new(sc, &mut core);
        let jobs = Jobs::new(sc, &mut core, &streams, &mut traces);
        let launcher = Launcher::new(sc, &core.billing.cluster_provider_ids, &streams);
        let mut sim = Simulation {
            launcher,
            jobs,
            scheduler,
            deployments: Deployments::new(sc),
            rebalancer: crate::service::rebalance::Rebalancer::new(
                sc.services.len(),
                sc.settings.az_rebalancing_interval_ms,
            ),
            autoscaling: ServiceAutoScaling::new(sc, &streams, branches),
            cluster_autoscaling: ClusterAutoScaling::new(sc, branches),
            failures: Failures::new(sc, &streams),
            metrics: Metrics::new(sc),
            retry_scheduled: vec![false; sc.clusters.len()],
            check: opts.check_invariants,
            stop_reason: StopReason::NoWorkLeft,
            core,
        };
        sim.schedule_start(sched);
        sim
    }

    /// The work of instant zero.
    fn schedule_start(&mut self, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        for (c, cdef) in sc.clusters.iter().enumerate() {
            for (g, gdef) in cdef.groups.iter().enumerate() {
                for _ in 0..gdef.count {
                    self.launch_instance(ClusterId::new(c), g, SimTime::ZERO, sched);
                }
            }
        }
        for j in 0..self.jobs.len() {
            self.jobs
                .schedule_next(sc, &mut self.core, JobId::new(j), sched);
        }
        for (a, act) in sc.actions.iter().enumerate() {
            self.core.work_added();
            sched.schedule_at(
                SimTime::from_ms(act.at_ms),
                Ev::Service(ServiceEv::Action(a as u32)),
            );
        }
        // Services that launch without instances (Fargate, capacity providers) start at once.
        for c in 0..sc.clusters.len() {
            self.request_retry(ClusterId::new(c), sched);
        }
        self.autoscaling.schedule_actions(sc, sched);
        if !self.autoscaling.is_empty() || !self.cluster_autoscaling.is_empty() {
            let first = SimTime::from_ms(self.autoscaling.sample_ms());
            sched.schedule_ranked_at(first, rank::SAMPLE, Ev::Scaling(ScalingEv::Sample));
        }
        for (k, f) in sc.failures.scripted.iter().enumerate() {
            sched.schedule_at(
                SimTime::from_ms(f.at_ms),
                Ev::Failure(FailureEv::Scripted(k as u32)),
            );
        }
    }
}
