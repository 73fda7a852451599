//! Applying auto scaling: the `Sample` timer (service datapoints every sample, alarms and
//! policies every minute, then cluster auto scaling), and scheduled actions.

use ecsim_engine::{Scheduler, SimTime};

use super::Simulation;
use super::event::{Ev, ScalingEv, rank};
use crate::autoscaling::service::SetDesired;
use crate::cluster_autoscaling::Scale;
use crate::record::Sink;

impl<S: Sink> Simulation<'_, S> {
    pub(super) fn on_scaling(&mut self, e: ScalingEv, now: SimTime, sched: &mut Scheduler<Ev>) {
        match e {
            ScalingEv::Sample => self.sample(now, sched),
            ScalingEv::Scheduled(s, action) => {
                let sc = self.core.sc;
                let a = &sc.services[s.index()]
                    .auto_scaling
                    .as_ref()
                    .expect("scaled")
                    .scheduled[action as usize];
                if let Some(every) = a.every_ms {
                    sched.schedule_in(every, Ev::Scaling(ScalingEv::Scheduled(s, action)));
                }
                let desired = self.core.service(s).desired;
                let sink = &mut self.core.out.sink;
                if let Some(change) = self
                    .autoscaling
                    .scheduled(sc, s, action, desired, now, sink)
                {
                    self.apply_desired(change, now, sched);
                }
            }
        }
    }

    fn sample(&mut self, now: SimTime, sched: &mut Scheduler<Ev>) {
        let core = &self.core;
        let during_failure = self
            .failures
            .any_open()
            .then_some(&mut self.failures.tracking.unserved_during_failures);
        // Tasks on a dead host still count as RUNNING for ECS until it notices, but serve nothing.
        self.autoscaling
            .sample(core.sc, now, |s| core.service(s).serving(), during_failure);
        if now.ms().is_multiple_of(60_000) {
            self.evaluate_services(now, sched);
            self.evaluate_clusters(now, sched);
        }
        sched.schedule_ranked_at(
            now.plus_ms(self.autoscaling.sample_ms()),
            rank::SAMPLE,
            Ev::Scaling(ScalingEv::Sample),
        );
    }

    fn evaluate_services(&mut self, now: SimTime, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        for s in self.autoscaling.scaled() {
            let t = self.core.service(s);
            let (running, desired) = (t.running(), t.desired);
            let deploying = self.deployments.in_progress(s).is_some();
            let sink = &mut self.core.out.sink;
            if let Some(change) = self
                .autoscaling
                .evaluate(sc, s, now, running, desired, deploying, sink)
            {
                self.apply_desired(change, now, sched);
            }
        }
    }

    /// Set a desired count auto scaling asked for.
    fn apply_desired(&mut self, change: SetDesired, now: SimTime, sched: &mut Scheduler<Ev>) {
        let old = self.core.service(change.service).desired;
        let sink = &mut self.core.out.sink;
        self.autoscaling
            .desired_changed(self.core.sc, &change, old, now, sink);
        self.set_desired(change.service, change.desired, now, sched);
    }

    fn evaluate_clusters(&mut self, now: SimTime, sched: &mut Scheduler<Ev>) {
        for p in 0..self.cluster_autoscaling.len() {
            let c = self.cluster_autoscaling.cluster_of(p);
            let waiting = self.launcher.waiting(c);
            match self
                .cluster_autoscaling
                .evaluate(p, &mut self.core, waiting, now)
            {
                Some(Scale::Out {
                    cluster,
                    group,
                    add,
                }) => {
                    for _ in 0..add {
                        self.launch_instance(cluster, group, now, sched);
                    }
                }
                Some(Scale::In(chosen)) => {
                    for r in chosen {
                        self.terminate_instance(r, "ScaleIn", now, sched);
                    }
                }
                None => {}
            }
        }
    }
}
