//! Failures, the service scheduler's recovery, and rolling deployments.
//!
//! # Failures
//! Each failure model draws from its own stream (`failures/instances`, `failures/spot`,
//! `failures/tasks`, `failures/fargate-spot`), so adding one leaves the others' timing unchanged.
//! * **Task crashes**: a task definition's `time_to_failure` (exponential, Weibull, ...) from
//!   RUNNING; the essential container exits and the service replaces the task.
//! * **Failed starts**: with `start_failure_probability` a task goes PENDING to STOPPED
//!   (`CannotPullContainerError`) without running; repeated failed starts throttle the service.
//! * **Instance failures**: a group's `time_to_failure`, or scripted. The instance dies at once:
//!   its tasks stop serving and nothing is placed on it, but ECS notices only after
//!   `failures.detection_delay` (AWS does not document it), then stops the tasks, and the Auto
//!   Scaling group launches a replacement.
//! * **AZ outages**: every instance in the AZ fails as above and Fargate tasks there are lost;
//!   for the outage's length nothing is placed or launched in the AZ (replacements go to the
//!   group's other AZs; they are not moved back afterwards).
//! * **EC2 Spot interruptions**: a Spot group's `spot_interruptions_per_hour`, or a scripted storm.
//!   The two-minute notice sets the instance DRAINING when `spot_instance_draining` is on
//!   (`ECS_ENABLE_SPOT_INSTANCE_DRAINING`, agent default off); either way the instance is gone two
//!   minutes later (EC2-UG spot-instance-termination-notices.html).
//! * **Fargate Spot interruptions**: a warning (stop code `TerminationNotice`) and SIGTERM; the task
//!   stops `stopTimeout` later (ECS-DG fargate-capacity-providers.html).
//! * **Draining** started by the scenario (ECS-DG container-instance-draining.html).
//!
//! # The service scheduler
//! A service's live tasks are *good* (current task definition, on a usable instance) or
//! *retiring* (an older task definition, a DRAINING instance, a Spot notice). Whenever anything
//! changes it: starts good tasks while there are fewer than the desired count D and the total is
//! below `floor(D x maximumPercent / 100)`; stops retiring tasks that are not healthy at once, and
//! healthy ones while the healthy count stays at or above `ceil(D x minimumHealthyPercent / 100)`
//! (ECS-DG deployment-type-ecs.html); scales in from good tasks above D. A task counts as healthy
//! 40 s after RUNNING without health checks, or after its health check's start period and one
//! interval (plus one target health check with a load balancer) (ECS-DG
//! service_definition_parameters.html). When it can neither start nor stop, a deployment stalls
//! with ECS's event text.
//!
//! # Deployments and the circuit breaker
//! A `deploy` action starts a rolling deployment to a new task definition. It completes when no
//! task of an older definition is left and D new tasks are healthy. The circuit breaker counts new
//! tasks that stop before RUNNING and, after the health check grace period, new tasks that crash;
//! at `clamp(ceil(percent x D), min, 200)` failures (ECS-DG deployment-circuit-breaker.html) the
//! deployment FAILS and, with rollback, a deployment back to the last completed definition starts.
//!
//! # The throttle (ECS-DG service-throttle-logic.html)
//! After `after_failures` consecutive failed starts a service waits `initial x factor^k` (k = 0, 1,
//! ...) before launching again, capped at `cap` (15 minutes, the 2023 guide; 27 in the current
//! page); retries never stop. A new task definition resets it, and so (ecsim's convention) does a
//! task reaching RUNNING.

use ecsim_engine::Scheduler;
use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::*;
use crate::scenario::{FailureKind, ServiceDef};

/// A deployment of a service.
#[derive(Debug, Clone)]
pub(super) struct Deploy {
    pub(super) id: u32,
    pub(super) def: u32,
    pub(super) from_def: u32,
    pub(super) failures: u32,
    pub(super) stalled: bool,
    pub(super) rollback: bool,
}

/// A finished (or still running) deployment, for deployments.csv.
#[derive(Debug, Clone)]
pub(super) struct DeployRecord {
    pub(super) service: u32,
    pub(super) id: u32,
    pub(super) def: u32,
    pub(super) from_def: u32,
    pub(super) started: u64,
    pub(super) ended: Option<u64>,
    pub(super) state: &'static str,
    pub(super) failures: u32,
    pub(super) reason: String,
}

/// A failure event, for failures.csv.
#[derive(Debug, Clone)]
pub(super) struct FailureRecord {
    pub(super) at: u64,
    pub(super) kind: &'static str,
    pub(super) target: String,
    pub(super) tasks_lost: u32,
    pub(super) services: Vec<u32>,
    pub(super) recovered: Option<u64>,
    pub(super) detected: bool,
}

#[derive(Default)]
pub(super) struct RecoveryRt {
    pub(super) deploys: Vec<DeployRecord>,
    pub(super) failures: Vec<FailureRecord>,
    pub(super) az_down: Vec<String>,
    pub(super) unserved_during_failures: f64,
    next_deploy: u32,
}

/// Per-service availability and recovery state.
#[derive(Default, Clone)]
pub(super) struct SvcHealth {
    pub(super) primary_def: u32,
    pub(super) deploy: Option<Deploy>,
    pub(super) last_completed_def: u32,
    pub(super) throttle_count: u32,
    pub(super) throttle_until: u64,
    pub(super) wake_at: u64,
    pub(super) lost: u32,
    /// From the first time the service ran its desired count (start-up is not downtime).
    pub(super) steady_since: Option<u64>,
    pub(super) avail_ms: u128,
    /// Integral of (desired - serving tasks) over time, task-ms.
    pub(super) missing_task_ms: u128,
    pub(super) min_healthy_ms: u128,
    pub(super) tasks_lost: u64,
}

fn min_healthy(d: &ServiceDef, desired: u32) -> u32 {
    (u64::from(desired) * u64::from(d.minimum_healthy_percent)).div_ceil(100) as u32
}

fn max_total(d: &ServiceDef, desired: u32) -> u32 {
    ((u64::from(desired) * u64::from(d.maximum_percent)) / 100).max(u64::from(desired)) as u32
}

impl<S: Sink> Simulation<'_, S> {
    /// Schedule random failures of a new instance (called when it launches).
    pub(super) fn arm_instance_failures(
        &mut self,
        c: usize,
        i: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let g = &self.sc.clusters[c].groups[self.clusters[c].insts[i as usize].group as usize];
        if let Some(d) = &g.time_to_failure {
            let t = d.sample(&mut self.fail_instances);
            sched.schedule_in(
                t,
                Ev::InstanceFailed {
                    cluster: c as u32,
                    instance: i,
                },
            );
        }
        if g.purchase_option == crate::scenario::PurchaseOption::Spot
            && g.spot_interruptions_per_hour > 0.0
        {
            let x: f64 = Exp::new(g.spot_interruptions_per_hour)
                .expect("positive")
                .sample(&mut self.fail_spot);
            sched.schedule_at(
                SimTime::from_ms(now + (x * 3_600_000.0) as u64),
                Ev::SpotNotice {
                    cluster: c as u32,
                    instance: i,
                },
            );
        }
    }

    /// A task reached RUNNING: health, crash and Fargate Spot timers.
    pub(super) fn arm_task(&mut self, tid: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let t = &self.tasks[tid as usize];
        let d = &self.sc.task_definitions[t.def as usize];
        if let Owner::Service(s) = t.owner {
            let svc = &self.sc.services[s as usize];
            let after = d.healthy_after_ms + svc.load_balancer_check_ms.unwrap_or(0);
            self.tasks[tid as usize].healthy_at = now + after;
            sched.schedule_in(after, Ev::TaskHealthy { task: tid });
            self.health[s as usize].throttle_count = 0;
        }
        let d = &self.sc.task_definitions[self.tasks[tid as usize].def as usize];
        if let Some(ttf) = &d.time_to_failure {
            let x = ttf.sample(&mut self.fail_tasks);
            sched.schedule_in(x, Ev::TaskCrash { task: tid });
        }
        let rate = self.sc.failures.fargate_spot_interruptions_per_task_hour;
        if rate > 0.0
            && matches!(
                self.tasks[tid as usize].runs,
                Runs::Fargate { spot: true, .. }
            )
        {
            let x: f64 = Exp::new(rate)
                .expect("positive")
                .sample(&mut self.fail_fargate);
            sched.schedule_in(
                (x * 3_600_000.0) as u64,
                Ev::FargateSpotNotice { task: tid },
            );
        }
    }

    /// Whether a live task of a service is retiring (to be replaced).
    pub(super) fn retiring(&self, s: u32, tid: u32) -> bool {
        let t = &self.tasks[tid as usize];
        if t.def != self.health[s as usize].primary_def || t.retiring {
            return true;
        }
        matches!(t.runs, Runs::Ec2 { .. })
            && t.instance != NO_INSTANCE
            && self.clusters[t.cluster as usize]
                .pc
                .status(InstanceId(t.instance))
                == InstanceStatus::Draining
    }

    fn healthy(&self, tid: u32, now: u64) -> bool {
        let t = &self.tasks[tid as usize];
        t.state == TState::Running && !t.lost && t.healthy_at <= now
    }

    /// The service scheduler: see the module docs. Starts and stops alternate until neither can
    /// make progress (stopping an old task can make room for a new one, and the other way round).
    pub(super) fn reconcile(&mut self, s: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let mut changed = false;
        let mut unable = None;
        for _ in 0..64 {
            let (progress, why) = self.reconcile_step(s, now, sched);
            unable = why;
            changed |= progress;
            if !progress {
                break;
            }
        }
        let sc = self.sc;
        let def = &sc.services[s as usize];
        let c = def.cluster;
        let d = self.services[s as usize].desired;
        match unable {
            Some(why) => {
                self.service_failures += 1;
                if self.services[s as usize].failing != Some(why) {
                    // ECS suppresses identical service events until the cause changes (ECS-DG service-event-messages.html).
                    self.services[s as usize].failing = Some(why);
                    self.service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                }
            }
            None => {
                if self.services[s as usize].failing.take().is_some() {
                    self.service_event(s, now, "UNABLE_TO_PLACE", "STEADY", "");
                }
            }
        }
        // Keep the service where capacity changes will find it while it has work left.
        let live = &self.services[s as usize].live;
        let retiring = live.iter().filter(|&&t| self.retiring(s, t)).count() as u32;
        let good = live.len() as u32 - retiring;
        if good < d || retiring > 0 {
            self.clusters[c].svc_deficit.insert(s);
        } else {
            self.clusters[c].svc_deficit.remove(&s);
        }
        // Deployment progress: completed, or stalled.
        let Some(dep) = self.health[s as usize].deploy.clone() else {
            return;
        };
        let live = &self.services[s as usize].live;
        let old_left = live
            .iter()
            .filter(|&&t| self.tasks[t as usize].def != dep.def)
            .count();
        let new_healthy = live
            .iter()
            .filter(|&&t| self.tasks[t as usize].def == dep.def && self.healthy(t, now))
            .count() as u32;
        if old_left == 0 && new_healthy >= d {
            self.end_deployment(s, now, "COMPLETED", "steady state");
            return;
        }
        let throttled = now < self.health[s as usize].throttle_until;
        let in_flight = live
            .iter()
            .any(|&t| !self.retiring(s, t) && !self.healthy(t, now));
        if !changed && !in_flight && unable.is_none() && !throttled && !dep.stalled {
            if let Some(x) = self.health[s as usize].deploy.as_mut() {
                x.stalled = true;
            }
            let text = format!(
                "(service {}) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.",
                def.name
            );
            self.service_event(s, now, "IN_PROGRESS", "STALLED", &text);
        }
    }

    /// One pass: start what may start, stop what may stop. Returns whether anything changed and
    /// why a start failed, if it did.
    fn reconcile_step(
        &mut self,
        s: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) -> (bool, Option<PlacementFailure>) {
        let sc = self.sc;
        let def = &sc.services[s as usize];
        let d = self.services[s as usize].desired;
        let (max_total, min_ok) = (max_total(def, d), min_healthy(def, d));
        let mut changed = false;
        let live = self.services[s as usize].live.clone();
        let retiring: Vec<u32> = live
            .iter()
            .copied()
            .filter(|&t| self.retiring(s, t))
            .collect();
        let mut good = live.len() as u32 - retiring.len() as u32;
        let mut total = live.len() as u32;
        // 1. Start good tasks, within the maximum and unless throttled.
        let h = &self.health[s as usize];
        let throttled = now < h.throttle_until;
        if throttled && good < d && h.wake_at != h.throttle_until {
            let until = h.throttle_until;
            self.health[s as usize].wake_at = until;
            sched.schedule_at(SimTime::from_ms(until), Ev::ServiceWake { service: s });
        }
        let primary = self.health[s as usize].primary_def;
        let mut unable = None;
        while good < d && total < max_total && !throttled {
            let group = self.services[s as usize].group;
            match self.launch(
                Owner::Service(s),
                primary,
                group,
                &def.constraints,
                &def.strategy,
                0,
                now,
                sched,
            ) {
                Ok(_) => {
                    good += 1;
                    total += 1;
                    changed = true;
                }
                Err(why) => {
                    unable = Some(why);
                    break;
                }
            }
        }
        // 2. Stop retiring tasks: not-yet-healthy ones at once, healthy ones while the healthy
        //    count stays at the minimum.
        let mut healthy = live.iter().filter(|&&t| self.healthy(t, now)).count() as u32;
        let mut order = retiring;
        order.sort_by_key(|&t| (self.healthy(t, now), t));
        for t in order {
            if self.tasks[t as usize].state == TState::Stopped {
                continue;
            }
            let is_healthy = self.healthy(t, now);
            if is_healthy && healthy <= min_ok {
                break;
            }
            if is_healthy {
                healthy -= 1;
            }
            changed = true;
            self.stop_task(
                t,
                Outcome::StoppedByScheduler,
                "ServiceSchedulerInitiated",
                now,
                sched,
            );
        }
        // 3. Scale in from good tasks.
        while self.services[s as usize]
            .live
            .iter()
            .filter(|&&t| !self.retiring(s, t))
            .count() as u32
            > d
        {
            let tid = self.choose_stop(s);
            self.tasks_scaled_in += 1;
            changed = true;
            self.stop_task(
                tid,
                Outcome::StoppedByScheduler,
                "ServiceSchedulerInitiated",
                now,
                sched,
            );
        }
        (changed, unable)
    }

    fn end_deployment(&mut self, s: u32, now: u64, state: &'static str, reason: &str) {
        let Some(dep) = self.health[s as usize].deploy.take() else {
            return;
        };
        if state == "COMPLETED" {
            self.health[s as usize].last_completed_def = dep.def;
        }
        if let Some(r) = self
            .recovery
            .deploys
            .iter_mut()
            .rev()
            .find(|r| r.service == s && r.id == dep.id)
        {
            r.ended = Some(now);
            r.state = state;
            r.failures = dep.failures;
            r.reason = reason.to_string();
        }
        self.service_event(s, now, "IN_PROGRESS", state, reason);
    }

    /// Start a rolling deployment to task definition `def`.
    pub(super) fn deploy(
        &mut self,
        s: u32,
        def: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
        rollback: bool,
    ) {
        if self.health[s as usize].deploy.is_some() {
            // A newer deployment replaces one in progress.
            self.end_deployment(s, now, "STOPPED", "replaced by a newer deployment");
        }
        let from = self.health[s as usize].primary_def;
        let id = self.recovery.next_deploy;
        self.recovery.next_deploy += 1;
        let h = &mut self.health[s as usize];
        h.primary_def = def;
        h.throttle_count = 0;
        h.throttle_until = 0;
        h.deploy = Some(Deploy {
            id,
            def,
            from_def: from,
            failures: 0,
            stalled: false,
            rollback,
        });
        self.recovery.deploys.push(DeployRecord {
            service: s,
            id,
            def,
            from_def: from,
            started: now,
            ended: None,
            state: "IN_PROGRESS",
            failures: 0,
            reason: String::new(),
        });
        let text = format!(
            "deployment {id}: {} -> {}",
            self.sc.task_definitions[from as usize].family,
            self.sc.task_definitions[def as usize].family
        );
        self.service_event(s, now, "", "IN_PROGRESS", &text);
        self.reconcile(s, now, sched);
    }

    /// Account a stopped service task: throttle, circuit breaker, replacement.
    pub(super) fn service_task_stopped(
        &mut self,
        s: u32,
        tid: u32,
        never_ran: bool,
        crashed: bool,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let (t_def, t_running) = (
            self.tasks[tid as usize].def,
            self.tasks[tid as usize].running,
        );
        let sc = self.sc;
        let def = &sc.services[s as usize];
        let f = &self.sc.failures;
        if never_ran {
            let h = &mut self.health[s as usize];
            h.throttle_count += 1;
            if h.throttle_count >= f.throttle_after_failures {
                let k = h.throttle_count - f.throttle_after_failures;
                let delay = (f.throttle_initial_ms as f64
                    * f.throttle_factor.powi(k.min(60) as i32))
                .min(f.throttle_cap_ms as f64) as u64;
                h.throttle_until = now + delay;
                if k == 0 {
                    let text = format!(
                        "(service {}) is unable to consistently start tasks successfully.",
                        def.name
                    );
                    self.service_event(s, now, "", "THROTTLED", &text);
                }
            }
        }
        // Circuit breaker: new tasks of the deployment that fail to start, or fail after
        // RUNNING once the grace period is over.
        let grace_over = t_running != NONE && now >= t_running + def.health_check_grace_ms;
        let counts = never_ran || (crashed && grace_over);
        if let (Some(cb), Some(dep)) =
            (def.circuit_breaker, self.health[s as usize].deploy.as_mut())
            && counts
            && t_def == dep.def
        {
            dep.failures += 1;
            let threshold = cb.threshold(self.services[s as usize].desired);
            if dep.failures >= threshold {
                let (from, rolled) = (dep.from_def, dep.rollback);
                let reason = format!(
                    "circuit breaker: {} failed tasks (threshold {threshold})",
                    dep.failures
                );
                self.end_deployment(s, now, "FAILED", &reason);
                if cb.rollback && !rolled {
                    let target = self.health[s as usize].last_completed_def;
                    let target = if target == self.health[s as usize].primary_def {
                        from
                    } else {
                        target
                    };
                    self.deploy(s, target, now, sched, true);
                    return;
                }
            }
        }
        let c = def.cluster;
        self.clusters[c].svc_deficit.insert(s);
        self.request_retry(c as u32, sched);
    }

    /// Integrate availability (called from `advance`).
    pub(super) fn integrate_availability(&mut self, from: u64, dt: u64) {
        for (s, svc) in self.services.iter().enumerate() {
            let def = &self.sc.services[s];
            if def.scheduling != crate::scenario::SchedulingStrategy::Replica {
                continue;
            }
            let serving = svc.running.saturating_sub(self.health[s].lost);
            let h = &mut self.health[s];
            if h.steady_since.is_none() {
                if serving >= svc.desired {
                    h.steady_since = Some(from);
                } else {
                    continue;
                }
            }
            if serving >= svc.desired {
                h.avail_ms += u128::from(dt);
            } else {
                h.missing_task_ms += u128::from(svc.desired - serving) * u128::from(dt);
            }
            if serving >= min_healthy(def, svc.desired) {
                h.min_healthy_ms += u128::from(dt);
            }
        }
    }

    /// Mark failures recovered once every service they touched is back at its desired count.
    pub(super) fn check_recovery(&mut self, now: u64) {
        for k in 0..self.recovery.failures.len() {
            let f = &self.recovery.failures[k];
            if f.recovered.is_some() || !f.detected {
                continue;
            }
            let ok = f.services.iter().all(|&s| {
                self.services[s as usize]
                    .running
                    .saturating_sub(self.health[s as usize].lost)
                    >= self.services[s as usize].desired
            });
            if ok {
                self.recovery.failures[k].recovered = Some(now - self.recovery.failures[k].at);
            }
        }
    }

    /// Services with tasks on an instance.
    fn services_on(&self, c: usize, i: u32) -> Vec<u32> {
        let mut v: Vec<u32> = Vec::new();
        for (s, svc) in self.services.iter().enumerate() {
            if self.sc.services[s].cluster == c
                && svc.live.iter().any(|&t| {
                    self.tasks[t as usize].instance == i
                        && matches!(self.tasks[t as usize].runs, Runs::Ec2 { .. })
                })
            {
                v.push(s as u32);
            }
        }
        v
    }

    fn tasks_on(&self, c: usize, i: u32) -> Vec<u32> {
        // Service tasks from the services' live lists, standalone tasks by scanning the waiting-free
        // set of running tasks of the cluster's jobs (kept small by construction: only jobs).
        let mut v: Vec<u32> = Vec::new();
        for svc in &self.services {
            v.extend(svc.live.iter().copied().filter(|&t| {
                let x = &self.tasks[t as usize];
                x.cluster as usize == c && x.instance == i && matches!(x.runs, Runs::Ec2 { .. })
            }));
        }
        v.extend(self.job_tasks_on(c, i));
        v.sort_unstable();
        v
    }

    /// An instance dies now; ECS notices after the detection delay.
    pub(super) fn instance_failed(
        &mut self,
        c: usize,
        i: u32,
        kind: &'static str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let inst = &self.clusters[c].insts[i as usize];
        if inst.state != IState::Active || inst.dead {
            return;
        }
        self.clusters[c].insts[i as usize].dead = true;
        self.clusters[c]
            .pc
            .set_agent_connected(InstanceId(i), false);
        let tasks = self.tasks_on(c, i);
        for &t in &tasks {
            if self.tasks[t as usize].state == TState::Running && !self.tasks[t as usize].lost {
                self.tasks[t as usize].lost = true;
                if let Owner::Service(s) = self.tasks[t as usize].owner {
                    self.health[s as usize].lost += 1;
                }
            }
        }
        let services = self.services_on(c, i);
        let target = self.clusters[c].insts[i as usize].ec2_id.clone();
        self.recovery.failures.push(FailureRecord {
            at: now,
            kind,
            target,
            tasks_lost: tasks.len() as u32,
            services,
            recovered: None,
            detected: false,
        });
        let k = self.recovery.failures.len() as u32 - 1;
        sched.schedule_in(
            self.sc.failures.detection_delay_ms,
            Ev::FailureDetected {
                cluster: c as u32,
                instance: i,
                failure: k,
            },
        );
    }

    /// ECS notices a dead instance: its tasks stop, it is terminated, the group replaces it.
    pub(super) fn failure_detected(
        &mut self,
        c: usize,
        i: u32,
        failure: u32,
        reason: &'static str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.clusters[c].insts[i as usize].state == IState::Stopped {
            return;
        }
        for t in self.tasks_on(c, i) {
            self.lose_task(t, reason, now, sched);
        }
        self.terminate_instance(c, i, reason, now, sched);
        if (failure as usize) < self.recovery.failures.len() {
            self.recovery.failures[failure as usize].detected = true;
        }
        // The Auto Scaling group keeps its size: a replacement launches at once.
        let g = self.clusters[c].insts[i as usize].group as usize;
        self.launch_instance(c, g, now, sched);
    }

    /// A task is lost to a failure: it stops with the reason; services replace it.
    pub(super) fn lose_task(
        &mut self,
        t: u32,
        reason: &'static str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.tasks[t as usize].state == TState::Stopped {
            return;
        }
        if let Owner::Service(s) = self.tasks[t as usize].owner {
            self.health[s as usize].tasks_lost += 1;
        }
        self.tasks_lost += 1;
        self.stop_task(t, Outcome::Failed(reason), reason, now, sched);
    }

    /// A scripted failure or operation.
    pub(super) fn scripted_failure(&mut self, k: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let sc = self.sc;
        let f = &sc.failures.scripted[k as usize];
        match &f.kind {
            FailureKind::InstanceFailure {
                cluster,
                group,
                count,
            }
            | FailureKind::DrainInstances {
                cluster,
                group,
                count,
            } => {
                let drain = matches!(f.kind, FailureKind::DrainInstances { .. });
                let cl = &self.clusters[*cluster];
                let mut chosen: Vec<u32> = (0..cl.insts.len() as u32)
                    .filter(|&i| {
                        let x = &cl.insts[i as usize];
                        x.state == IState::Active
                            && !x.dead
                            && group.is_none_or(|g| x.group as usize == g)
                            && cl.pc.status(InstanceId(i)) == InstanceStatus::Active
                    })
                    .collect();
                chosen.truncate(*count as usize);
                for i in chosen {
                    if drain {
                        self.drain_instance(*cluster, i, "DrainInstances", now, sched);
                    } else {
                        self.instance_failed(*cluster, i, "instance_failure", now, sched);
                    }
                }
            }
            FailureKind::AzOutage { az, duration_ms } => {
                self.recovery.az_down.push(az.clone());
                sched.schedule_in(*duration_ms, Ev::AzRestored { failure: k });
                for c in 0..self.clusters.len() {
                    for i in 0..self.clusters[c].insts.len() as u32 {
                        if self.clusters[c].insts[i as usize].az == *az {
                            self.instance_failed(c, i, "az_outage", now, sched);
                        }
                    }
                }
                // Fargate tasks in the AZ are lost too, after the same detection delay.
                let lost: Vec<u32> = (0..self.tasks.len() as u32)
                    .filter(|&t| {
                        let x = &self.tasks[t as usize];
                        x.state != TState::Stopped && matches!(x.runs, Runs::Fargate { az: a, .. } if self.owner_azs(x.owner)[a as usize] == *az)
                    })
                    .collect();
                if !lost.is_empty() {
                    let services: Vec<u32> = lost
                        .iter()
                        .filter_map(|&t| {
                            if let Owner::Service(s) = self.tasks[t as usize].owner {
                                Some(s)
                            } else {
                                None
                            }
                        })
                        .collect();
                    for &t in &lost {
                        self.tasks[t as usize].lost = true;
                        if let (Owner::Service(s), TState::Running) =
                            (self.tasks[t as usize].owner, self.tasks[t as usize].state)
                        {
                            self.health[s as usize].lost += 1;
                        }
                    }
                    let mut svcs = services;
                    svcs.sort_unstable();
                    svcs.dedup();
                    self.recovery.failures.push(FailureRecord {
                        at: now,
                        kind: "az_outage_fargate",
                        target: az.clone(),
                        tasks_lost: lost.len() as u32,
                        services: svcs,
                        recovered: None,
                        detected: false,
                    });
                    let idx = self.recovery.failures.len() as u32 - 1;
                    sched.schedule_in(
                        self.sc.failures.detection_delay_ms,
                        Ev::FargateLost { failure: idx },
                    );
                }
            }
            FailureKind::SpotInterruption {
                cluster,
                group,
                fraction,
            } => {
                let cl = &self.clusters[*cluster];
                let spot: Vec<u32> = (0..cl.insts.len() as u32)
                    .filter(|&i| {
                        let x = &cl.insts[i as usize];
                        x.spot
                            && x.state == IState::Active
                            && !x.dead
                            && !x.noticed
                            && group.is_none_or(|g| x.group as usize == g)
                    })
                    .collect();
                let n = ((spot.len() as f64) * fraction).round() as usize;
                let mut pick = spot;
                // A seeded shuffle picks which ones.
                for j in (1..pick.len()).rev() {
                    let r = self.fail_spot.random_range(0..=j);
                    pick.swap(j, r);
                }
                pick.truncate(n);
                pick.sort_unstable();
                for i in pick {
                    self.spot_notice(*cluster, i, now, sched);
                }
            }
            FailureKind::FargateSpotInterruption { fraction } => {
                let mut running: Vec<u32> = (0..self.tasks.len() as u32)
                    .filter(|&t| {
                        let x = &self.tasks[t as usize];
                        x.state == TState::Running
                            && !x.retiring
                            && matches!(x.runs, Runs::Fargate { spot: true, .. })
                    })
                    .collect();
                let n = ((running.len() as f64) * fraction).round() as usize;
                for j in (1..running.len()).rev() {
                    let r = self.fail_fargate.random_range(0..=j);
                    running.swap(j, r);
                }
                running.truncate(n);
                running.sort_unstable();
                for t in running {
                    self.fargate_spot_notice(t, now, sched);
                }
            }
        }
    }

    /// Set an instance DRAINING (ECS-DG container-instance-draining.html): no new placements,
    /// PENDING service tasks stop at once, RUNNING ones are replaced within the deployment limits;
    /// standalone tasks are left alone.
    pub(super) fn drain_instance(
        &mut self,
        c: usize,
        i: u32,
        reason: &str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        if self.clusters[c].pc.status(InstanceId(i)) != InstanceStatus::Active {
            return;
        }
        self.accrue_instance(c, i, now);
        self.clusters[c]
            .pc
            .set_status(InstanceId(i), InstanceStatus::Draining, now);
        self.n_active -= 1;
        self.n_draining += 1;
        self.clusters[c].insts[i as usize].draining = true;
        self.emit_instance(now, c, i, "ACTIVE", "DRAINING", reason);
        let id = self.clusters[c].insts[i as usize].ec2_id.clone();
        let services = self.services_on(c, i);
        self.recovery.failures.push(FailureRecord {
            at: now,
            kind: "drain",
            target: id,
            tasks_lost: 0,
            services: services.clone(),
            recovered: None,
            detected: true,
        });
        for s in services {
            if self.sc.services[s as usize].scheduling
                == crate::scenario::SchedulingStrategy::Daemon
            {
                // Draining stops daemon tasks (ECS-DG ecs_services.html).
                let on: Vec<u32> = self.services[s as usize]
                    .live
                    .iter()
                    .copied()
                    .filter(|&t| self.tasks[t as usize].instance == i)
                    .collect();
                for t in on {
                    self.services[s as usize].desired -= 1;
                    self.stop_task(
                        t,
                        Outcome::StoppedByScheduler,
                        "InstanceDraining",
                        now,
                        sched,
                    );
                }
                continue;
            }
            self.reconcile(s, now, sched);
        }
    }

    /// An EC2 Spot two-minute notice.
    pub(super) fn spot_notice(&mut self, c: usize, i: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let inst = &self.clusters[c].insts[i as usize];
        if inst.state != IState::Active || inst.dead || inst.noticed {
            return;
        }
        let gi = inst.group as usize;
        self.clusters[c].insts[i as usize].noticed = true;
        let g = &self.sc.clusters[c].groups[gi];
        let tasks = self.tasks_on(c, i).len() as u32;
        let services = self.services_on(c, i);
        let target = self.clusters[c].insts[i as usize].ec2_id.clone();
        self.recovery.failures.push(FailureRecord {
            at: now,
            kind: "spot_interruption",
            target,
            tasks_lost: tasks,
            services,
            recovered: None,
            detected: false,
        });
        let k = self.recovery.failures.len() as u32 - 1;
        if g.spot_instance_draining {
            self.drain_instance(c, i, "SpotInterruptionNotice", now, sched);
        }
        sched.schedule_in(
            120_000,
            Ev::SpotTerminate {
                cluster: c as u32,
                instance: i,
                failure: k,
            },
        );
    }

    /// A Fargate Spot warning: SIGTERM now, stopped after the stop timeout.
    pub(super) fn fargate_spot_notice(&mut self, t: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let x = &self.tasks[t as usize];
        if x.state != TState::Running || x.retiring {
            return;
        }
        let (def, owner) = (x.def, x.owner);
        self.tasks[t as usize].retiring = true;
        let stop = self.sc.task_definitions[def as usize].stop_timeout_ms;
        let services: Vec<u32> = if let Owner::Service(s) = owner {
            vec![s]
        } else {
            Vec::new()
        };
        self.task_event(
            t,
            now,
            TState::Running,
            TState::Running,
            "TerminationNotice",
        );
        self.recovery.failures.push(FailureRecord {
            at: now,
            kind: "fargate_spot_interruption",
            target: format!("task {t}"),
            tasks_lost: 1,
            services,
            recovered: None,
            detected: true,
        });
        sched.schedule_in(stop, Ev::FargateSpotStop { task: t });
    }
}
