//! Applying failures: instance failures and their detection, AZ outages, Spot interruptions
//! (EC2 and Fargate), draining, task crashes, and instance termination. See
//! [`crate::failures`] for the models.

use ecsim_engine::{Scheduler, SimTime};

use super::Simulation;
use super::event::{Ev, FailureEv};
use crate::core::{InstanceState, Outcome, Runs, TaskState};
use crate::failures::{FailureId, FailureKind, FailureRecord, Pending, scripted};
use crate::ids::{ClusterId, InstanceRef, Owner, ServiceId, TaskId};
use crate::record::Sink;
use crate::scenario::{self, SchedulingStrategy};

/// How long an EC2 Spot instance runs after its interruption notice (EC2-UG
/// spot-instance-termination-notices.html).
const SPOT_NOTICE_MS: u64 = 120_000;

impl<S: Sink> Simulation<'_, S> {
    pub(super) fn on_failure(&mut self, e: FailureEv, now: SimTime, sched: &mut Scheduler<Ev>) {
        match e {
            FailureEv::TaskCrash(tid) => self.task_crash(tid, now, sched),
            FailureEv::InstanceFailed(r) => {
                self.instance_failed(r, FailureKind::InstanceFailure, now, sched)
            }
            FailureEv::Detected(r) => {
                let f = self.failures.take_pending(r, Pending::Failure);
                self.failure_detected(r, f, "HostInstanceFailed", now, sched)
            }
            FailureEv::SpotNotice(r) => self.spot_notice(r, now, sched),
            FailureEv::SpotTerminate(r) => {
                let f = self.failures.take_pending(r, Pending::SpotNotice);
                self.failure_detected(r, f, "SpotInterruption", now, sched)
            }
            FailureEv::FargateSpotNotice(tid) => self.fargate_spot_notice(tid, now, sched),
            FailureEv::FargateSpotStop(tid) => self.lose_task(tid, "SpotInterruption", now, sched),
            FailureEv::FargateLost(f) => {
                let mut lost: Vec<TaskId> = self
                    .core
                    .live_tasks()
                    .filter(|(_, x)| {
                        x.lost
                            && x.state != TaskState::Stopped
                            && matches!(x.runs, Runs::Fargate { .. })
                    })
                    .map(|(t, _)| t)
                    .collect();
                lost.sort_unstable();
                for t in lost {
                    self.lose_task(t, "AvailabilityZoneOutage", now, sched);
                }
                self.failures.detected(f);
            }
            FailureEv::Scripted(k) => self.scripted(k, now, sched),
            FailureEv::AzRestored(k) => {
                let sc = self.core.sc;
                if let scenario::FailureKind::AzOutage { az, .. } =
                    &sc.failures.scripted[k as usize].kind
                {
                    self.failures.az_restored(az);
                    for s in 0..sc.services.len() {
                        self.rebalance_arm(ServiceId::new(s), now, sched);
                    }
                }
            }
        }
    }

    fn task_crash(&mut self, tid: TaskId, now: SimTime, sched: &mut Scheduler<Ev>) {
        let t = self.core.task(tid);
        if t.state != TaskState::Running || t.lost {
            return;
        }
        let services = t.owner.service().into_iter().collect();
        self.failures.record(FailureRecord {
            at: now,
            kind: FailureKind::TaskCrash,
            target: format!("task {}", tid.0),
            tasks_lost: 1,
            services,
            recovered: None,
            detected: true,
        });
        self.lose_task(tid, "EssentialContainerExited", now, sched);
    }

    /// Service and job tasks on an instance (live, on EC2), in id order.
    fn tasks_on(&self, r: InstanceRef) -> Vec<TaskId> {
        let mut v: Vec<TaskId> = Vec::new();
        for s in 0..self.core.sc.services.len() {
            let live = &self.core.service(ServiceId::new(s)).live;
            v.extend(live.iter().copied().filter(|&t| {
                let x = self.core.task(t);
                x.instance_ref() == Some(r) && matches!(x.runs, Runs::Ec2 { .. })
            }));
        }
        // Standalone tasks: a scan (failures are rare).
        v.extend(
            self.core
                .live_tasks()
                .filter(|(_, x)| {
                    matches!(x.owner, Owner::Job(..))
                        && x.instance_ref() == Some(r)
                        && x.state != TaskState::Stopped
                })
                .map(|(t, _)| t),
        );
        v.sort_unstable();
        v
    }

    /// Services with tasks on an instance.
    fn services_on(&self, r: InstanceRef) -> Vec<ServiceId> {
        (0..self.core.sc.services.len())
            .map(ServiceId::new)
            .filter(|&s| {
                self.core.sc.services[s.index()].cluster == r.cluster.index()
                    && self.core.service(s).live.iter().any(|&t| {
                        let x = self.core.task(t);
                        x.instance_ref() == Some(r) && matches!(x.runs, Runs::Ec2 { .. })
                    })
            })
            .collect()
    }

    /// An instance dies now; ECS notices after the detection delay.
    fn instance_failed(
        &mut self,
        r: InstanceRef,
        kind: FailureKind,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if !self.core.instance(r).usable() {
            return;
        }
        self.core.fail_instance(r);
        let tasks = self.tasks_on(r);
        for &t in &tasks {
            // Also a PENDING task: it may still reach RUNNING on the dead host, serving nothing.
            self.core.mark_lost(t);
        }
        let f = self.failures.record(FailureRecord {
            at: now,
            kind,
            target: self.core.instance(r).ec2_id.clone(),
            tasks_lost: tasks.len() as u32,
            services: self.services_on(r),
            recovered: None,
            detected: false,
        });
        let delay = self.core.sc.failures.detection_delay_ms;
        self.failures.set_pending(r, Pending::Failure, f);
        sched.schedule_in(delay, Ev::Failure(FailureEv::Detected(r)));
    }

    /// ECS notices a dead instance: its tasks stop, it is terminated, the group replaces it.
    fn failure_detected(
        &mut self,
        r: InstanceRef,
        f: FailureId,
        reason: &'static str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.core.instance(r).state == InstanceState::Stopped {
            return;
        }
        for t in self.tasks_on(r) {
            self.lose_task(t, reason, now, sched);
        }
        self.terminate_instance(r, reason, now, sched);
        self.failures.detected(f);
        // The Auto Scaling group keeps its size: a replacement launches at once.
        let g = self.core.instance(r).group as usize;
        self.launch_instance(r.cluster, g, now, sched);
    }

    /// A task is lost to a failure: it stops with the reason; services replace it.
    fn lose_task(
        &mut self,
        t: TaskId,
        reason: &'static str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.core.task(t).state == TaskState::Stopped {
            return;
        }
        if let Owner::Service(s) = self.core.task(t).owner {
            self.failures.tracking.task_lost(s);
        }
        self.core.counters.tasks_lost += 1;
        self.stop_task(t, Outcome::Failed(reason), reason, now, sched);
    }

    /// A scripted failure or operation.
    fn scripted(&mut self, k: u32, now: SimTime, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        match &sc.failures.scripted[k as usize].kind {
            scenario::FailureKind::InstanceFailure {
                cluster,
                group,
                count,
            } => {
                let c = ClusterId::new(*cluster);
                for r in scripted::oldest_active(self.core.instances(c), *group, *count) {
                    self.instance_failed(r, FailureKind::InstanceFailure, now, sched);
                }
            }
            scenario::FailureKind::MachineFailure { cluster, instance } => {
                let c = ClusterId::new(*cluster);
                if let Some(r) = scripted::kth_active(self.core.instances(c), *instance) {
                    self.instance_failed(r, FailureKind::InstanceFailure, now, sched);
                }
            }
            scenario::FailureKind::DrainInstances {
                cluster,
                group,
                count,
            } => {
                let c = ClusterId::new(*cluster);
                for r in scripted::oldest_active(self.core.instances(c), *group, *count) {
                    self.drain_instance(r, "DrainInstances", now, sched);
                }
            }
            scenario::FailureKind::AzOutage { az, duration_ms } => {
                self.az_outage(k, az, *duration_ms, now, sched)
            }
            scenario::FailureKind::SpotInterruption {
                cluster,
                group,
                fraction,
            } => {
                let c = ClusterId::new(*cluster);
                let mut pick = scripted::spot_candidates(self.core.instances(c), *group);
                let n = scripted::share(pick.len(), *fraction);
                self.failures.shuffle_spot(&mut pick);
                pick.truncate(n);
                pick.sort_unstable();
                for r in pick {
                    self.spot_notice(r, now, sched);
                }
            }
            scenario::FailureKind::FargateSpotInterruption { fraction } => {
                let mut running = scripted::fargate_spot_running(self.core.live_tasks());
                let n = scripted::share(running.len(), *fraction);
                self.failures.shuffle_fargate(&mut running);
                running.truncate(n);
                running.sort_unstable();
                for t in running {
                    self.fargate_spot_notice(t, now, sched);
                }
            }
        }
    }

    /// Every instance in the AZ fails, Fargate tasks there are lost, and nothing goes there
    /// for the outage's length.
    fn az_outage(
        &mut self,
        k: u32,
        az: &str,
        duration_ms: u64,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        self.failures.az_down(az);
        sched.schedule_in(duration_ms, Ev::Failure(FailureEv::AzRestored(k)));
        for c in 0..self.core.sc.clusters.len() {
            let in_az: Vec<InstanceRef> = self
                .core
                .instances(ClusterId::new(c))
                .filter(|(_, x)| x.az == az)
                .map(|(r, _)| r)
                .collect();
            for r in in_az {
                self.instance_failed(r, FailureKind::AzOutage, now, sched);
            }
        }
        // Fargate tasks in the AZ are lost too, after the same detection delay.
        let sc = self.core.sc;
        let owner_azs = |o: Owner| match o {
            Owner::Service(s) => &sc.services[s.index()].availability_zones,
            Owner::Job(j, _) => &sc.jobs[j.index()].availability_zones,
        };
        let mut lost: Vec<TaskId> = self
            .core
            .live_tasks()
            .filter(|(_, x)| {
                x.state != TaskState::Stopped
                    && matches!(x.runs, Runs::Fargate { az: a, .. } if owner_azs(x.owner)[a as usize] == az)
            })
            .map(|(t, _)| t)
            .collect();
        lost.sort_unstable();
        if lost.is_empty() {
            return;
        }
        let mut services: Vec<ServiceId> = lost
            .iter()
            .filter_map(|&t| self.core.task(t).owner.service())
            .collect();
        for &t in &lost {
            self.core.mark_lost(t);
        }
        services.sort_unstable();
        services.dedup();
        let f = self.failures.record(FailureRecord {
            at: now,
            kind: FailureKind::AzOutageFargate,
            target: az.to_string(),
            tasks_lost: lost.len() as u32,
            services,
            recovered: None,
            detected: false,
        });
        let delay = sc.failures.detection_delay_ms;
        sched.schedule_in(delay, Ev::Failure(FailureEv::FargateLost(f)));
    }

    /// Set an instance DRAINING (ECS-DG container-instance-draining.html): no new placements,
    /// PENDING service tasks stop at once, RUNNING ones are replaced within the deployment
    /// limits; standalone tasks are left alone. Daemon tasks stop last, once no other task is
    /// left on the instance (ECS-DG ecs_services.html; see `stop_task`'s reactions).
    fn drain_instance(
        &mut self,
        r: InstanceRef,
        reason: &str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if !self.core.drain(r, reason, now) {
            return;
        }
        let services = self.services_on(r);
        self.failures.record(FailureRecord {
            at: now,
            kind: FailureKind::Drain,
            target: self.core.instance(r).ec2_id.clone(),
            tasks_lost: 0,
            services: services.clone(),
            recovered: None,
            detected: true,
        });
        for s in services {
            if self.core.sc.services[s.index()].scheduling != SchedulingStrategy::Daemon {
                self.reconcile(s, now, sched);
            }
        }
        let inst = self.core.instance(r);
        if inst.state == InstanceState::Draining && inst.busy_tasks == 0 {
            self.stop_daemons_on(r, "InstanceDraining", now, sched);
        }
    }

    /// Stop every daemon task on an instance (each lowers its daemon's desired count).
    pub(super) fn stop_daemons_on(
        &mut self,
        r: InstanceRef,
        reason: &str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        for k in 0..self.scheduler.daemons(r.cluster).len() {
            let s = self.scheduler.daemons(r.cluster)[k];
            self.stop_daemon_tasks(s, r, reason, now, sched);
        }
    }

    /// Stop a daemon's tasks on an instance (each lowers the daemon's desired count).
    fn stop_daemon_tasks(
        &mut self,
        s: ServiceId,
        r: InstanceRef,
        reason: &str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let on: Vec<TaskId> = self
            .core
            .service(s)
            .live
            .iter()
            .copied()
            .filter(|&t| {
                let x = self.core.task(t);
                x.instance_ref() == Some(r) && x.state != TaskState::Stopping
            })
            .collect();
        for t in on {
            let d = self.core.service(s).desired;
            if self.explains() {
                let args = format_args!("why={reason};desired={d}");
                self.explain_stop(("stop", "daemon_instance_draining"), s, t, args, now);
            }
            self.core.set_desired(s, d - 1);
            self.stop_task(t, Outcome::StoppedByScheduler, reason, now, sched);
        }
    }

    /// An EC2 Spot two-minute notice.
    fn spot_notice(&mut self, r: InstanceRef, now: SimTime, sched: &mut Scheduler<Ev>) {
        let inst = self.core.instance(r);
        if !inst.usable() || inst.spot_notice {
            return;
        }
        let group = inst.group as usize;
        self.core.notice_spot(r);
        let f = self.failures.record(FailureRecord {
            at: now,
            kind: FailureKind::SpotInterruption,
            target: self.core.instance(r).ec2_id.clone(),
            tasks_lost: self.tasks_on(r).len() as u32,
            services: self.services_on(r),
            recovered: None,
            detected: false,
        });
        if self.core.sc.clusters[r.cluster.index()].groups[group].spot_instance_draining {
            self.drain_instance(r, "SpotInterruptionNotice", now, sched);
        }
        self.failures.set_pending(r, Pending::SpotNotice, f);
        sched.schedule_in(SPOT_NOTICE_MS, Ev::Failure(FailureEv::SpotTerminate(r)));
    }

    /// A Fargate Spot warning: SIGTERM now, stopped after the stop timeout.
    fn fargate_spot_notice(&mut self, t: TaskId, now: SimTime, sched: &mut Scheduler<Ev>) {
        let x = self.core.task(t);
        if x.state != TaskState::Running || x.retiring {
            return;
        }
        let stop = self.core.sc.task_definitions[x.def.index()].stop_timeout_ms;
        let services = x.owner.service().into_iter().collect();
        self.core.warn_retiring(t, now, "TerminationNotice");
        self.failures.record(FailureRecord {
            at: now,
            kind: FailureKind::FargateSpotInterruption,
            target: format!("task {}", t.0),
            tasks_lost: 1,
            services,
            recovered: None,
            detected: true,
        });
        sched.schedule_in(stop, Ev::Failure(FailureEv::FargateSpotStop(t)));
        // The service acts on the warning as on a Spot-drained instance: the task is retiring,
        // so its replacement starts now, within the deployment limits (ecs-semantics 7.3).
        if let Some(s) = self.core.task(t).owner.service() {
            self.reconcile(s, now, sched);
        }
    }

    /// Terminate an instance that runs no service or job task: its daemon tasks stop first; if
    /// they are STOPPING, the instance drains and is terminated when they are STOPPED (see
    /// `finish_stop`).
    pub(super) fn terminate_instance(
        &mut self,
        r: InstanceRef,
        reason: &'static str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.core.instance(r).state == InstanceState::Stopped {
            return;
        }
        for k in 0..self.scheduler.daemons(r.cluster).len() {
            let s = self.scheduler.daemons(r.cluster)[k];
            if self.scheduler.set_daemon_missing(r.cluster, s, r.id, false) {
                let d = self.core.service(s).desired;
                self.core.set_desired(s, d - 1);
            }
            self.stop_daemon_tasks(s, r, "InstanceTerminated", now, sched);
        }
        if self.core.instance(r).owners_empty() {
            self.core.terminate(r, reason, now);
        } else {
            self.core.terminate_when_empty(r, reason, now);
        }
    }
}
