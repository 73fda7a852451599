//! Task and instance lifecycle: placing, running and stopping tasks with their reactions,
//! launching for jobs, retrying waiting work, and instances becoming ACTIVE.

use std::collections::HashSet;

use ecsim_engine::{Scheduler, SimTime};
use ecsim_placement::{Constraint, InstanceId, Strategy};

use super::Simulation;
use super::event::{Ev, LifecycleEv, ServiceEv, rank};
use crate::core::{Attempt, InstanceState, NewTask, Outcome, Runs, TaskState, task_request_of};
use crate::ids::{ClusterId, InstanceRef, JobId, Owner, TaskId};
use crate::job::{Arrived, Jobs};
use crate::launch::wait::{Frontier, Needs};
use crate::launch::{Launched, Request};
use crate::record::Sink;
use crate::scenario::{OnNoCapacity, Scenario};

impl<S: Sink> Simulation<'_, S> {
    pub(super) fn on_lifecycle(&mut self, e: LifecycleEv, now: SimTime, sched: &mut Scheduler<Ev>) {
        self.core.work_done();
        match e {
            LifecycleEv::InstanceRegistered(r) => self.instance_registered(r, now, sched),
            LifecycleEv::Arrival(j) => self.arrival(j, now, sched),
            LifecycleEv::FargateProvisioned(tid) => self.fargate_provisioned(tid, now, sched),
            LifecycleEv::TaskRunning(tid) => self.task_running(tid, now, sched),
            LifecycleEv::TaskExited(tid) => {
                if self.core.task(tid).state == TaskState::Running {
                    self.core.counters.tasks_completed += 1;
                    let why = "EssentialContainerExited";
                    // Not a scheduler stop: STOPPED at once (what `stop_task` does for it).
                    self.finish_stop(tid, Outcome::Completed, why, now, sched);
                }
            }
            LifecycleEv::TaskStopped(tid) => {
                if self.core.task(tid).state == TaskState::Stopping {
                    let why = "";
                    self.finish_stop(tid, Outcome::StoppedByScheduler, why, now, sched);
                }
            }
            LifecycleEv::Retry(c) => self.retry(c, now, sched),
            LifecycleEv::RunTaskRetry(j) => {
                let a = self.jobs.take_deferred(j);
                self.run_task(j, a, now, sched);
            }
        }
    }

    /// Place a created task on an instance: PENDING, then RUNNING after the start delay.
    pub(super) fn start_task(
        &mut self,
        tid: TaskId,
        inst: InstanceId,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        self.core.place(tid, inst, now);
        let fails = self.roll_start_failure(tid);
        let delay = self.core.sample_start_delay();
        if delay == 0 {
            // PENDING since just now, its start failure just rolled.
            self.start_or_fail(tid, fails, now, sched);
        } else {
            self.core.work_added();
            sched.schedule_in(delay, Ev::Lifecycle(LifecycleEv::TaskRunning(tid)));
        }
    }

    /// Decide at PENDING whether the task fails to start (a task is placed once, and its
    /// record starts with `fail_start` false: only a failure is written); returns it.
    fn roll_start_failure(&mut self, tid: TaskId) -> bool {
        let fail = self
            .failures
            .roll_start_failure(self.core.sc, self.core.task(tid));
        if fail {
            self.core.set_fail_start(tid);
        }
        fail
    }

    fn fargate_provisioned(&mut self, tid: TaskId, now: SimTime, sched: &mut Scheduler<Ev>) {
        if !self.core.fargate_provisioned(tid, now) {
            return;
        }
        self.roll_start_failure(tid);
        let delay = self.launcher.image_pull_delay(self.core.sc);
        self.core.work_added();
        sched.schedule_in(delay, Ev::Lifecycle(LifecycleEv::TaskRunning(tid)));
    }

    /// A PENDING task reaches RUNNING (or fails to start); then its timers.
    fn task_running(&mut self, tid: TaskId, now: SimTime, sched: &mut Scheduler<Ev>) {
        let t = self.core.task(tid);
        if t.state != TaskState::Pending {
            return; // stopped while pending
        }
        let fails = t.fail_start;
        self.start_or_fail(tid, fails, now, sched);
    }

    /// A PENDING task (`fails`: its `fail_start`) reaches RUNNING or fails to start; then its
    /// timers.
    fn start_or_fail(&mut self, tid: TaskId, fails: bool, now: SimTime, sched: &mut Scheduler<Ev>) {
        if fails {
            // The image pull (or container start) fails: PENDING to STOPPED without RUNNING.
            self.core.counters.tasks_lost += 1;
            let why = "CannotPullContainerError";
            self.stop_task(tid, Outcome::Failed(why), why, now, sched);
            return;
        }
        let sc = self.core.sc;
        let t = self.core.run(tid, now);
        match t.owner {
            Owner::Job(..) => {
                let run = t.run_ms;
                self.core.work_added();
                sched.schedule_in(run, Ev::Lifecycle(LifecycleEv::TaskExited(tid)));
            }
            Owner::Service(s) => {
                let after = healthy_after_ms(
                    sc.task_definitions[t.def.index()].health_check_ms,
                    sc.services[s.index()].load_balancer_check_ms,
                );
                self.core.set_healthy_at(tid, now.plus_ms(after));
                sched.schedule_in(after, Ev::Service(ServiceEv::TaskHealthy(tid)));
                self.deployments.task_running(s);
            }
        }
        self.failures
            .arm_task(self.core.sc, tid, self.core.task(tid), sched);
    }

    /// Stop a task. A RUNNING task the scheduler stops is STOPPING first, for its stop time
    /// ([`crate::core::Core::stop_time_ms`]); any other stop (a failure, a job's exit, a task
    /// not yet RUNNING, a task on a dead host) is at once. A task already STOPPING is left to
    /// its timer unless a failure stops it now.
    pub(super) fn stop_task(
        &mut self,
        tid: TaskId,
        outcome: Outcome,
        reason: &str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let t = self.core.task(tid);
        if outcome == Outcome::StoppedByScheduler {
            match t.state {
                TaskState::Stopping => return,
                TaskState::Running if !t.lost => {
                    let delay = self.core.stop_time_ms(tid);
                    if delay > 0 {
                        self.core.begin_stop(tid, reason, now);
                        self.core.work_added();
                        sched.schedule_in(delay, Ev::Lifecycle(LifecycleEv::TaskStopped(tid)));
                        return;
                    }
                }
                _ => {}
            }
        }
        self.finish_stop(tid, outcome, reason, now, sched);
    }

    /// The task is STOPPED: pass the news on (see the module docs for the order).
    fn finish_stop(
        &mut self,
        tid: TaskId,
        outcome: Outcome,
        reason: &str,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let stopped = self.core.stop(tid, outcome, reason, now);
        let (cluster, owner, was_stopping) = (stopped.cluster, stopped.owner, stopped.was_stopping);
        if stopped.was_provisioning {
            self.launcher.forget(cluster, tid);
        }
        if let Some(r) = stopped.freed {
            self.request_retry(r.cluster, sched);
            // Daemon tasks stop last on a draining instance: once no other task is left.
            let inst = self.core.instance(r);
            if inst.state == InstanceState::Draining
                && inst.busy_tasks == 0
                && !self.core.is_daemon(owner)
            {
                self.stop_daemons_on(r, "InstanceDraining", now, sched);
            }
            // An instance being terminated goes once its last task is STOPPED.
            let inst = self.core.instance(r);
            if let Some(why) = inst.terminating
                && inst.state != InstanceState::Stopped
                && inst.owners_empty()
            {
                self.core.terminate(r, why, now);
            }
        }
        if let (Owner::Service(s), Outcome::Failed(_)) = (owner, outcome) {
            let never_ran = stopped.never_ran;
            self.service_task_failed(s, tid, never_ran, now, sched);
        }
        // A REPLICA service's STOPPING task is gone: the room it held under maximumPercent may
        // start a task, and a deployment may be complete.
        if let Owner::Service(s) = owner
            && was_stopping
            && !self.core.is_daemon(owner)
        {
            self.reconcile(s, now, sched);
        }
    }

    /// Schedule one `Retry` of a cluster's waiting work at this instant, if there is work.
    pub(super) fn request_retry(&mut self, c: ClusterId, sched: &mut Scheduler<Ev>) {
        if self.retry_scheduled[c.index()]
            || (self.launcher.waiting(c).is_empty() && !self.scheduler.has_work(c))
        {
            return;
        }
        self.retry_scheduled[c.index()] = true;
        self.core.work_added();
        sched.schedule_ranked_at(
            sched.now(),
            rank::RETRY,
            Ev::Lifecycle(LifecycleEv::Retry(c)),
        );
    }

    /// A task of a job arrives: its RunTask call goes through now, or when the API's rate limit
    /// allows; then the job's next arrival is scheduled.
    fn arrival(&mut self, j: JobId, now: SimTime, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        let a = self.jobs.arrive(sc, &mut self.core, j);
        match self.launcher.run_task_call(j, now) {
            (0, _) => self.run_task(j, a, now, sched),
            (wait, new_call) => {
                self.core.counters.run_task_calls_throttled += u64::from(new_call);
                self.jobs.defer(j, a);
                self.core.work_added();
                sched.schedule_in(wait, Ev::Lifecycle(LifecycleEv::RunTaskRetry(j)));
            }
        }
        self.jobs.schedule_next(sc, &mut self.core, j, sched);
    }

    /// RunTask for an arrived task: launch it; if launch type EC2 has no room, fail it or queue
    /// it.
    fn run_task(&mut self, j: JobId, a: Arrived, now: SimTime, sched: &mut Scheduler<Ev>) {
        let sc = self.core.sc;
        let job = &sc.jobs[j.index()];
        let owner = Owner::Job(j, a.entry);
        let cluster = ClusterId::new(job.cluster);
        let req = Request {
            owner,
            cluster,
            def: a.def,
            group: a.group,
            constraints: self.jobs.constraints(j, a.entry),
            strategy: &job.strategy,
            run_ms: a.run_ms,
            size: a.size,
            az: None,
            azs_down: self.failures.azs_down(),
        };
        match self.launcher.launch(&mut self.core, &req, now, sched) {
            Ok(Launched::Placed(tid, inst)) => self.start_task(tid, inst, now, sched),
            Ok(Launched::Queued(_) | Launched::Fargate(_)) => {}
            Err(why) => {
                let new = NewTask {
                    def: a.def,
                    owner,
                    cluster,
                    group: a.group,
                    run_ms: a.run_ms,
                    size: a.size,
                    runs: Runs::Ec2 { pool: None },
                    provider: 0,
                    item: None,
                };
                let tid = self.core.new_task(new, now);
                match job.on_no_capacity {
                    OnNoCapacity::Fail => self.core.fail_to_place(tid, why, now),
                    OnNoCapacity::Wait => {
                        self.core.provision(tid, now, Some(why));
                        self.launcher.enqueue(&mut self.core, tid, why);
                    }
                }
            }
        }
    }

    /// The constraints and strategy a task of an owner is placed with.
    fn placement_rules<'a>(
        jobs: &'a Jobs,
        sc: &'a Scenario,
        owner: Owner,
    ) -> (&'a [Constraint], &'a [Strategy]) {
        match owner {
            Owner::Job(j, k) => (jobs.constraints(j, k), &sc.jobs[j.index()].strategy),
            Owner::Service(s) => {
                let d = &sc.services[s.index()];
                (&d.constraints, &d.strategy)
            }
        }
    }

    /// Retry a cluster's waiting work: daemons, then services short of tasks in scenario order,
    /// then queued tasks first come first served (a task whose owner, pool and size already
    /// failed in this pass is not tried again: same needs, same answer). The queue is walked by
    /// runs of tasks with the same needs (see [`crate::launch::wait`]): a pass costs the runs it
    /// visits and the tasks it tries, not every task waiting. Tasks queued during the pass (a
    /// service replacing a task that failed to start) go to the back of the queue.
    fn retry(&mut self, c: ClusterId, now: SimTime, sched: &mut Scheduler<Ev>) {
        self.retry_scheduled[c.index()] = false;
        for (s, inst) in self.scheduler.daemons_missing(c) {
            self.place_daemon(c, s, inst, now, sched, false);
        }
        for s in self.scheduler.deficit(c) {
            self.reconcile(s, now, sched);
        }
        let runs = self.launcher.waiting(c).runs();
        let mut failed: HashSet<Needs> = HashSet::new();
        let mut smaller = Frontier::default();
        for k in 0..runs {
            let needs = self.launcher.waiting(c).needs(k);
            if failed.contains(&needs) {
                continue;
            }
            while let Some(tid) = self.launcher.waiting(c).head(k) {
                if !self.try_waiting(c, k, tid, &mut smaller, now, sched) {
                    failed.insert(needs);
                    break;
                }
            }
        }
        self.launcher.waiting_mut(c).compact();
    }

    /// Try to place the oldest task of a wait queue's run: placed (and out of the queue) or not.
    /// A task `smaller` shows cannot fit is not searched for when skipping the search changes
    /// nothing: no explanation is written, its request has no constraints, and nothing was freed
    /// in the cluster during the pass (a freed instance asks for another retry, which is how that
    /// shows); a failed search draws no random number (`Cluster::find`), so skipping it leaves
    /// every later choice as it was.
    fn try_waiting(
        &mut self,
        c: ClusterId,
        run: usize,
        tid: TaskId,
        smaller: &mut Frontier,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> bool {
        let t = self.core.task(tid);
        let Runs::Ec2 { pool } = t.runs else {
            unreachable!("only EC2 tasks wait for instances")
        };
        let (cons, strategy) = Self::placement_rules(&self.jobs, self.core.sc, t.owner);
        let req = task_request_of(self.core.sc, t, cons, strategy, pool);
        let pc = &self.core.cluster(c).pc;
        let explains = self.core.out.sink.explains();
        let by_size = !explains && req.constraints.is_empty() && !self.retry_scheduled[c.index()];
        let key = (pool, t.def, req.cpu_units, req.memory_mib);
        if !by_size {
            smaller.clear();
        } else if smaller.covers(key.0, key.1, key.2, key.3) {
            return false;
        }
        let found = pc.find(&req);
        if explains {
            let attempt = match found {
                Some(inst) => Attempt::Placed(inst),
                None => Attempt::Failed(pc.diagnose(&req)),
            };
            let owner = self.core.task(tid).owner;
            self.core
                .explain_placement(now, c, owner, Some(tid), &req, attempt, None);
        }
        let Some(inst) = found else {
            if by_size {
                smaller.add(key.0, key.1, key.2, key.3);
            }
            return false;
        };
        self.launcher.waiting_mut(c).take_head(run);
        self.start_task(tid, inst, now, sched);
        true
    }

    /// A launching instance registers: daemons first, then whatever waits.
    fn instance_registered(&mut self, r: InstanceRef, now: SimTime, sched: &mut Scheduler<Ev>) {
        if !self.core.register(r, now) {
            return;
        }
        for k in 0..self.scheduler.daemons(r.cluster).len() {
            let s = self.scheduler.daemons(r.cluster)[k];
            self.place_daemon(r.cluster, s, r.id, now, sched, true);
        }
        self.request_retry(r.cluster, sched);
        for s in 0..self.core.sc.services.len() {
            let s = crate::ids::ServiceId::new(s);
            if self.core.sc.services[s.index()].cluster == r.cluster.index() {
                self.rebalance_arm(s, now, sched);
            }
        }
    }

    /// Launch an instance of a group (skipping AZs that are down) and arm its failures.
    pub(super) fn launch_instance(
        &mut self,
        c: ClusterId,
        g: usize,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) {
        let r = self
            .core
            .launch_instance(c, g, self.failures.azs_down(), now, sched);
        self.failures.arm_instance(self.core.sc, r, g, now, sched);
    }
}

/// How long after RUNNING a service task counts as healthy (ecs-semantics 4.3, ECS-DG
/// service_definition_parameters.html and load-balancer-healthcheck.html): without a load
/// balancer, after its container health check passes, else after 40 s; with a load balancer,
/// once its target passes its first health check, and its container health check if it has one
/// (both run from RUNNING; the 40-s rule does not apply).
pub(crate) fn healthy_after_ms(
    container_check_ms: Option<u64>,
    target_check_ms: Option<u64>,
) -> u64 {
    const WITHOUT_HEALTH_CHECKS_MS: u64 = 40_000;
    match target_check_ms {
        None => container_check_ms.unwrap_or(WITHOUT_HEALTH_CHECKS_MS),
        Some(lb) => lb.max(container_check_ms.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::healthy_after_ms;

    #[test]
    fn health_timing_with_and_without_a_load_balancer() {
        // ecs-semantics 4.3: no load balancer, no health check: RUNNING for 40 s.
        assert_eq!(healthy_after_ms(None, None), 40_000);
        assert_eq!(healthy_after_ms(Some(35_000), None), 35_000);
        // With a load balancer: the first passing target check (interval 30 s), no extra 40 s.
        // Regression (issue 11): this was 40 s + 30 s = 70 s.
        assert_eq!(healthy_after_ms(None, Some(30_000)), 30_000);
        // Both checks run from RUNNING: the later one decides.
        assert_eq!(healthy_after_ms(Some(45_000), Some(30_000)), 45_000);
    }
}
