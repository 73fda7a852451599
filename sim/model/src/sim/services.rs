//! Applying the service scheduler's decisions: reconcile passes, daemon placement, deployments,
//! failed service tasks, desired count changes and scripted actions.

use ecsim_engine::{Scheduler, SimTime};
use ecsim_placement::{InstanceId, PlacementFailure};

use super::Simulation;
use super::event::{Ev, ServiceEv, rank};
use crate::core::{Attempt, NewTask, Outcome, Runs, TaskState, chain_text, task_request};
use crate::ids::{ClusterId, DefId, Owner, ServiceId, TaskId};
use crate::launch::{Launched, Request};
use crate::record::Sink;
use crate::scenario::{ActionKind, SchedulingStrategy};
use crate::service::deployment::{Breaker, DeploymentState, max_total, min_healthy};
use crate::service::reconcile::{self, DeploymentView, Progress, Role, ServiceView};
use crate::service::scale_in::{ScaleInView, StopRule, choose_stop};

/// At most this many reconcile passes per call (each pass must change something to go on).
const MAX_PASSES: usize = 64;

impl<S: Sink> Simulation<'_, S> {
    pub(super) fn on_service(&mut self, e: ServiceEv, now: SimTime, sched: &mut Scheduler<Ev>) {
        match e {
            ServiceEv::TaskHealthy(tid) => {
                let t = self.core.task(tid);
                if let (Owner::Service(s), TaskState::Running) = (t.owner, t.state) {
                    let busy = self.deployments.in_progress(s).is_some()
                        || self
                            .core
                            .service(s)
                            .live
                            .iter()
                            .any(|&t| self.role(s, t) == Role::Retiring);
                    if busy {
                        self.reconcile(s, now, sched);
                    }
                    if self
                        .rebalancer
                        .moving(s.index())
                        .is_some_and(|m| m.0 == tid)
                    {
                        self.finish_move(s, tid, now, sched);
                    } else {
                        self.rebalance_arm(s, now, sched);
                    }
                }
            }
            ServiceEv::Wake(s) => self.reconcile(s, now, sched),
            ServiceEv::Rebalance(s) => {
                self.rebalancer.checked(s.index(), now);
                self.rebalance_check(s, now, sched);
            }
            ServiceEv::Action(a) => {
                self.core.work_done();
                self.action(a, now, sched);
            }
        }
    }

    fn action(&mut self, a: u32, now: SimTime, sched: &mut Scheduler<Ev>) {
        match self.core.sc.actions[a as usize].kind {
            ActionKind::SetDesiredCount {
                service,
                desired_count,
            } => self.set_desired(ServiceId::new(service), desired_count, now, sched),
            ActionKind::Deploy {
                service,
                task_definition,
            } => {
                let def = DefId::new(task_definition);
                self.deploy(ServiceId::new(service), def, now, sched, false);
            }
        }
    }

    /// Change a service's desired count, record it, and reconcile.
    pub(super) fn set_desired(
        &mut self,
        s: ServiceId,
        desired: u32,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let old = self.core.service(s).desired;
        self.core.set_desired(s, desired);
        let (from, to) = (old.to_string(), desired.to_string());
        self.core
            .service_event(s, now, &from, &to, "DesiredCountChanged");
        self.reconcile(s, now, sched);
    }

    /// Whether a live task of a service is retiring (to be replaced): an older task
    /// definition, a Fargate Spot warning, or a DRAINING instance.
    pub(super) fn retiring(&self, s: ServiceId, tid: TaskId) -> bool {
        let t = self.core.task(tid);
        if t.retiring || (t.def != self.deployments.primary_def(s) && !self.deployments.halted(s)) {
            return true;
        }
        matches!(t.runs, Runs::Ec2 { .. })
            && t.instance_ref().is_some_and(|r| {
                self.core.instance(r).state == crate::core::InstanceState::Draining
            })
    }

    /// A live task's role: STOPPING, else retiring or good.
    pub(super) fn role(&self, s: ServiceId, tid: TaskId) -> Role {
        if self.core.task(tid).state == TaskState::Stopping {
            Role::Stopping
        } else if self.retiring(s, tid) {
            Role::Retiring
        } else {
            Role::Good
        }
    }

    /// The service scheduler: passes until nothing changes, then the UNABLE_TO_PLACE/STEADY
    /// events, the deficit mark, and the deployment's progress (see [`crate::service`]).
    pub(super) fn reconcile(&mut self, s: ServiceId, now: SimTime, sched: &mut Scheduler<Ev>) {
        let mut changed = false;
        let mut unable = None;
        for _ in 0..MAX_PASSES {
            let (progress, why) = self.reconcile_pass(s, now, sched);
            unable = why;
            changed |= progress;
            if !progress {
                break;
            }
        }
        match unable {
            Some(why) => {
                self.core.counters.service_failures += 1;
                if self.scheduler.unable(s, why, now) {
                    self.core
                        .service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                }
                // The service keeps retrying on its own, not only when capacity changes.
                let every = self.core.sc.settings.service_placement_retry_ms;
                if let Some(at) = self.scheduler.retry_needed(s, now, every) {
                    sched.schedule_ranked_at(at, rank::RETRY, Ev::Service(ServiceEv::Wake(s)));
                }
            }
            None => {
                if self.scheduler.steady(s) {
                    self.core
                        .service_event(s, now, "UNABLE_TO_PLACE", "STEADY", "");
                }
            }
        }
        let d = self.core.service(s).desired;
        let live = &self.core.service(s).live;
        let (mut retiring, mut good) = (0, 0);
        for &t in live {
            match self.role(s, t) {
                Role::Good => good += 1,
                Role::Retiring => retiring += 1,
                Role::Stopping => {}
            }
        }
        let c = ClusterId::new(self.core.sc.services[s.index()].cluster);
        self.scheduler.set_deficit(c, s, good < d || retiring > 0);
        self.deployment_progress(s, now, changed, unable.is_some());
        self.rebalance_arm(s, now, sched);
    }

    /// Complete or stall the deployment in progress, if any.
    fn deployment_progress(&mut self, s: ServiceId, now: SimTime, changed: bool, unable: bool) {
        let Some(dep) = self.deployments.in_progress(s) else {
            return;
        };
        let live = &self.core.service(s).live;
        let v = DeploymentView {
            desired: self.core.service(s).desired,
            old_left: live
                .iter()
                .filter(|&&t| self.core.task(t).def != dep.def)
                .count() as u32,
            new_healthy: live
                .iter()
                .filter(|&&t| self.core.task(t).def == dep.def && self.core.task(t).healthy(now))
                .count() as u32,
            changed,
            in_flight: live.iter().any(|&t| match self.role(s, t) {
                Role::Good => !self.core.task(t).healthy(now),
                Role::Retiring => false,
                Role::Stopping => true,
            }),
            unable,
            throttled: self.deployments.throttled(s, now),
            already_stalled: dep.stalled,
        };
        match reconcile::progress(v) {
            Progress::Completed => {
                self.end_deployment(s, now, DeploymentState::Completed, "steady state")
            }
            Progress::Stalled => {
                self.deployments.set_stalled(s);
                let text = format!(
                    "(service {}) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.",
                    self.core.sc.services[s.index()].name
                );
                self.core
                    .service_event(s, now, "IN_PROGRESS", "STALLED", &text);
            }
            Progress::Ongoing => {}
        }
    }

    /// One pass: start what may start, stop what may stop, scale in. Returns whether anything
    /// changed and why a start failed, if it did.
    fn reconcile_pass(
        &mut self,
        s: ServiceId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> (bool, Option<PlacementFailure>) {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        let d = self.core.service(s).desired;
        let live: Vec<(TaskId, Role, bool)> = self
            .core
            .service(s)
            .live
            .iter()
            .map(|&t| (t, self.role(s, t), self.core.task(t).healthy(now)))
            .collect();
        let throttled = self.deployments.throttled(s, now);
        let halted = self.deployments.halted(s);
        let good = live.iter().filter(|t| t.1 == Role::Good).count() as u32;
        if throttled
            && good < d
            && let Some(until) = self.deployments.wake_needed(s, now)
        {
            sched.schedule_ranked_at(until, rank::RETRY, Ev::Service(ServiceEv::Wake(s)));
        }
        let plan = reconcile::plan(&ServiceView {
            desired: d,
            max_total: max_total(d, def.maximum_percent),
            min_healthy: min_healthy(d, def.minimum_healthy_percent),
            live: &live,
            throttled: throttled || halted,
        });
        let mut changed = false;
        let mut unable = None;
        // 1. Start good tasks.
        for _ in 0..plan.starts {
            match self.launch_service_task(s, now, sched) {
                Ok(_) => changed = true,
                Err(why) => {
                    unable = Some(why);
                    break;
                }
            }
        }
        // 2. Stop retiring tasks.
        for t in plan.stops {
            if matches!(
                self.core.task(t).state,
                TaskState::Stopped | TaskState::Stopping
            ) {
                continue;
            }
            changed = true;
            if self.explains() {
                let why = ("stop", self.retire_reason(s, t));
                let args = format_args!(
                    "desired={d};min_healthy={}",
                    min_healthy(d, def.minimum_healthy_percent)
                );
                self.explain_stop(why, s, t, args, now);
            }
            self.stop_task(
                t,
                Outcome::StoppedByScheduler,
                "ServiceSchedulerInitiated",
                now,
                sched,
            );
        }
        // 3. Scale in from good tasks above the desired count (and the one task an AZ
        // rebalancing move started, until it is healthy).
        let keep = d + self.rebalance_extra(s);
        while self.good_tasks(s) > keep {
            let (tid, rule, among) = self.choose_stop(s);
            if self.explains() {
                let good = self.good_tasks(s);
                let strategy = chain_text(&def.strategy);
                let args =
                    format_args!("desired={keep};good={good};among={among};strategy={strategy}");
                self.explain_stop(("scale_in", rule.as_str()), s, tid, args, now);
            }
            self.core.counters.tasks_scaled_in += 1;
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

    fn good_tasks(&self, s: ServiceId) -> u32 {
        let live = &self.core.service(s).live;
        live.iter()
            .filter(|&&t| self.role(s, t) == Role::Good)
            .count() as u32
    }

    fn choose_stop(&self, s: ServiceId) -> (TaskId, StopRule, usize) {
        self.choose_stop_among(s, &self.core.service(s).live, true)
    }

    /// The task to stop among some of a service's live tasks (`by_item`: from the capacity
    /// provider furthest above its share first).
    /// Also the rule that chose it and how many tasks it chose among.
    pub(super) fn choose_stop_among(
        &self,
        s: ServiceId,
        live: &[TaskId],
        by_item: bool,
    ) -> (TaskId, StopRule, usize) {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        let owner = Owner::Service(s);
        let counts = self.core.owner_counts(owner);
        choose_stop(&ScaleInView {
            sc,
            live,
            tasks: self.core.task_slots(),
            item: if by_item {
                self.launcher
                    .shrink_item(owner.index(sc.services.len()), &counts.items)
            } else {
                None
            },
            fargate_az: &counts.fargate_az,
            cluster: self.core.cluster(ClusterId::new(def.cluster)),
            group: self.scheduler.group(s),
            strategy: &def.strategy,
        })
    }

    /// Launch one task of a service's primary task definition; the AZ a stop-first
    /// rebalancing move chose is tried first (then anywhere, so the service is never kept short).
    fn launch_service_task(
        &mut self,
        s: ServiceId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> Result<TaskId, PlacementFailure> {
        if let Some(az) = self.rebalancer.take_target(s.index())
            && let Ok(tid) = self.launch_service_task_in(s, Some(&az), now, sched)
        {
            self.rebalance_started(s, tid, &az, now);
            return Ok(tid);
        }
        self.launch_service_task_in(s, None, now, sched)
    }

    /// Whether a task of the service would be placed in `az` now (a stop-first rebalancing move
    /// must not stop a task whose replacement cannot go where it should).
    pub(super) fn service_task_fits_in(&self, s: ServiceId, az: &str) -> bool {
        let sc = self.core.sc;
        let (def, group) = (self.deployments.primary_def(s), self.scheduler.group(s));
        let req = service_request(sc, s, def, group, Some(az), self.failures.azs_down());
        self.launcher.would_place(&self.core, &req)
    }

    /// Launch one task of a service's primary task definition, in `az` if given.
    pub(super) fn launch_service_task_in(
        &mut self,
        s: ServiceId,
        az: Option<&str>,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> Result<TaskId, PlacementFailure> {
        let sc = self.core.sc;
        let (def, group) = (self.deployments.primary_def(s), self.scheduler.group(s));
        let req = service_request(sc, s, def, group, az, self.failures.azs_down());
        Ok(
            match self.launcher.launch(&mut self.core, &req, now, sched)? {
                Launched::Placed(tid, inst) => {
                    self.start_task(tid, inst, now, sched);
                    tid
                }
                Launched::Queued(tid) | Launched::Fargate(tid) => tid,
            },
        )
    }

    /// Place a daemon's task on an instance, or note it missing. `first_time`: the instance has
    /// just registered (then it counts towards the daemon's desired count if eligible).
    pub(super) fn place_daemon(
        &mut self,
        c: ClusterId,
        s: ServiceId,
        inst: InstanceId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
        first_time: bool,
    ) {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        let group = self.scheduler.group(s);
        let tdef = DefId::new(def.task_definition);
        let req = task_request(sc, tdef, group, &def.constraints, &[], None);
        let check = self.core.cluster(c).pc.check(inst, &req);
        if let Err(why) = check {
            let (owner, a) = (Owner::Service(s), Attempt::Failed(why));
            self.core
                .explain_placement(now, c, owner, None, &req, a, Some(inst));
        }
        let ineligible = matches!(
            check,
            Err(PlacementFailure::DistinctInstance | PlacementFailure::MemberOf)
        );
        match check {
            Ok(()) => {
                self.scheduler.set_daemon_missing(c, s, inst, false);
                let new = NewTask {
                    def: tdef,
                    owner: Owner::Service(s),
                    cluster: c,
                    group,
                    run_ms: 0,
                    size: None,
                    runs: Runs::Ec2 { pool: None },
                    provider: 0,
                    item: None,
                };
                let tid = self.core.new_task(new, now);
                let (owner, a) = (Owner::Service(s), Attempt::Placed(inst));
                self.core
                    .explain_placement(now, c, owner, Some(tid), &req, a, Some(inst));
                self.start_task(tid, inst, now, sched);
            }
            Err(_) if ineligible => {
                if !first_time {
                    self.scheduler.set_daemon_missing(c, s, inst, false);
                    let d = self.core.service(s).desired;
                    self.core.set_desired(s, d - 1);
                }
            }
            Err(why) => {
                self.scheduler.set_daemon_missing(c, s, inst, true);
                if first_time {
                    self.core.counters.service_failures += 1;
                    self.core
                        .service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                }
            }
        }
        if first_time && !ineligible {
            // An eligible instance (placed now or waiting for room) counts towards the
            // daemon's desired count.
            let d = self.core.service(s).desired;
            self.core.set_desired(s, d + 1);
        }
    }

    fn end_deployment(&mut self, s: ServiceId, now: SimTime, state: DeploymentState, reason: &str) {
        if self.deployments.end(s, now, state, reason) {
            self.core
                .service_event(s, now, "IN_PROGRESS", state.as_str(), reason);
        }
    }

    /// Start a rolling deployment to task definition `def` (a newer one replaces one in
    /// progress).
    pub(super) fn deploy(
        &mut self,
        s: ServiceId,
        def: DefId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
        rollback: bool,
    ) {
        if self.deployments.in_progress(s).is_some() {
            self.end_deployment(
                s,
                now,
                DeploymentState::Stopped,
                "replaced by a newer deployment",
            );
        }
        let (id, from) = self.deployments.start(s, def, now, rollback);
        let tds = &self.core.sc.task_definitions;
        let text = format!(
            "deployment {id}: {} -> {}",
            tds[from.index()].family,
            tds[def.index()].family
        );
        self.core.service_event(s, now, "", "IN_PROGRESS", &text);
        self.reconcile(s, now, sched);
    }

    /// A service task failed (crashed, lost, or never started): the throttle and the circuit
    /// breaker count it, then the scheduler is told the service is short.
    pub(super) fn service_task_failed(
        &mut self,
        s: ServiceId,
        tid: TaskId,
        never_ran: bool,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let sc = self.core.sc;
        let def = &sc.services[s.index()];
        let t = self.core.task(tid);
        let (t_def, t_running) = (t.def, t.running());
        // Tasks lost with their host, their AZ or a Spot interruption did not fail to start nor
        // fail a health check: neither the throttle nor the circuit breaker counts them
        // (ecs-semantics 4.2, 4.5).
        let infrastructure = matches!(
            t.outcome,
            Outcome::Failed("HostInstanceFailed" | "SpotInterruption" | "AvailabilityZoneOutage")
        );
        if never_ran && !infrastructure && self.deployments.failed_start(s, &sc.failures, now) {
            let text = format!(
                "(service {}) is unable to consistently start tasks successfully.",
                def.name
            );
            self.core.service_event(s, now, "", "THROTTLED", &text);
        }
        // Circuit breaker: new tasks that fail to start, or fail after RUNNING once the grace
        // period is over.
        let grace_over = t_running.is_some_and(|r| now >= r.plus_ms(def.health_check_grace_ms));
        let counts = !infrastructure && (never_ran || grace_over);
        if let Some(cb) = def.circuit_breaker
            && counts
        {
            let desired = self.core.service(s).desired;
            if let Breaker::Trips {
                failures,
                threshold,
                rollback_to,
            } = self.deployments.count_failure(s, &cb, t_def, desired)
            {
                let reason =
                    format!("circuit breaker: {failures} failed tasks (threshold {threshold})");
                self.end_deployment(s, now, DeploymentState::Failed, &reason);
                match rollback_to {
                    Some(target) => {
                        self.deploy(s, target, now, sched, true);
                        return;
                    }
                    None => self.deployments.halt(s),
                }
            }
        }
        let c = ClusterId::new(def.cluster);
        if def.scheduling == SchedulingStrategy::Daemon {
            // A daemon replaces its task on the same instance, if that instance lives on;
            // otherwise the instance no longer counts towards its desired count.
            match self.core.task(tid).instance_ref() {
                Some(r) if self.core.instance(r).usable() => {
                    self.scheduler.set_daemon_missing(c, s, r.id, true);
                }
                _ => {
                    let d = self.core.service(s).desired;
                    self.core.set_desired(s, d.saturating_sub(1));
                }
            }
        } else {
            self.scheduler.set_deficit(c, s, true);
        }
        self.request_retry(c, sched);
    }
}

/// A launch request for a task of service `s` (definition `def`, task group `group`), in `az`
/// if given.
fn service_request<'a>(
    sc: &'a crate::scenario::Scenario,
    s: ServiceId,
    def: DefId,
    group: ecsim_placement::GroupId,
    az: Option<&'a str>,
    azs_down: &'a [String],
) -> Request<'a> {
    let d = &sc.services[s.index()];
    Request {
        owner: Owner::Service(s),
        cluster: ClusterId::new(d.cluster),
        def,
        group,
        constraints: &d.constraints,
        strategy: &d.strategy,
        run_ms: 0,
        size: None,
        az,
        azs_down,
    }
}
