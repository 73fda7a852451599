//! Tasks: their record, their states, and the core's task mutators (create, place, run, stop).
//!
//! A task moves PROVISIONING → PENDING → RUNNING → (STOPPING →) STOPPED, skipping states as ECS
//! does: an EC2 task placed at once starts in PENDING; a task that fails to start goes PENDING →
//! STOPPED; a RunTask that nothing can hold is recorded STOPPED at creation. A RUNNING task the
//! scheduler stops is STOPPING (deregistration delay, SIGTERM, up to `stopTimeout`) and keeps
//! its resources until it is STOPPED ([`Core::begin_stop`], then [`Core::stop`]). Every transition goes through
//! [`Core::set_state`], which keeps the counters and records the change.

use ecsim_engine::{SimTime, StableHasher, str_words};
use ecsim_placement::{GroupId, InstanceId, PlacementFailure};

use super::{Core, NO_POOL, task_request_of};
use crate::ids::{ClusterId, DefId, InstanceRef, Owner, ServiceId, TaskId};
use crate::record::{EventKind, EventRecord, Sink};

/// A task's state (ECS `lastStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum TaskState {
    Provisioning,
    Pending,
    Running,
    /// Stopping (deregistered, SIGTERM sent): still holds its resources.
    Stopping,
    Stopped,
}

impl TaskState {
    /// The name ECS uses.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            TaskState::Provisioning => "PROVISIONING",
            TaskState::Pending => "PENDING",
            TaskState::Running => "RUNNING",
            TaskState::Stopping => "STOPPING",
            TaskState::Stopped => "STOPPED",
        }
    }

    /// Fold its name into the events hash, as `write_str(self.as_str())` does, from constant
    /// words, unrolled (every name is one word long but PROVISIONING's, two).
    #[inline(always)]
    pub(super) fn hash_name(self, h: &mut StableHasher) {
        const fn words<const N: usize>(s: TaskState) -> [u64; N] {
            StableHasher::words_of(s.as_str())
        }
        match self {
            TaskState::Provisioning => {
                h.write_array(&const { words::<3>(TaskState::Provisioning) })
            }
            TaskState::Pending => h.write_array(&const { words::<2>(TaskState::Pending) }),
            TaskState::Running => h.write_array(&const { words::<2>(TaskState::Running) }),
            TaskState::Stopping => h.write_array(&const { words::<2>(TaskState::Stopping) }),
            TaskState::Stopped => h.write_array(&const { words::<2>(TaskState::Stopped) }),
        }
    }

    /// Index into per-state counts (live states only: the first four).
    #[inline]
    fn live_index(self) -> Option<usize> {
        let k = self as usize;
        (k < 4).then_some(k)
    }
}

// `live_index` and the per-state counts rely on this order.
const _: () = assert!(
    TaskState::Provisioning as usize == 0
        && TaskState::Pending as usize == 1
        && TaskState::Running as usize == 2
        && TaskState::Stopping as usize == 3
        && TaskState::Stopped as usize == 4
);

/// How a task ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Open,
    Completed,
    Failed(&'static str),
    FailedToPlace(PlacementFailure),
    StoppedByScheduler,
}

/// Where a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runs {
    /// On a container instance of a placement pool (`None`: any instance of the cluster).
    Ec2 { pool: Option<u32> },
    /// On Fargate, in the owner's AZ number `az`.
    Fargate { spot: bool, az: u16 },
}

/// What the core needs to create a task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewTask {
    pub(crate) def: DefId,
    pub(crate) owner: Owner,
    pub(crate) cluster: ClusterId,
    pub(crate) group: GroupId,
    pub(crate) run_ms: u64,
    /// CPU units and MiB of this task when not its definition's (a trace row's).
    pub(crate) size: Option<(u32, u32)>,
    pub(crate) runs: Runs,
    /// Global capacity provider index (0: none).
    pub(crate) provider: u16,
    /// Index of the capacity provider strategy item it counts for.
    pub(crate) item: Option<u8>,
}

/// The `seq` of a freed record slot.
pub(super) const FREE: u32 = u32::MAX;

/// One task of the run.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// Its number in creation order ([`TaskId`]'s `.0`), or [`FREE`].
    pub(super) seq: u32,
    pub(crate) def: DefId,
    pub(crate) owner: Owner,
    pub(crate) cluster: ClusterId,
    pub(crate) instance: Option<InstanceId>,
    pub(crate) group: GroupId,
    pub(crate) runs: Runs,
    pub(crate) provider: u16,
    pub(crate) item: Option<u8>,
    /// CPU units it reserves (its definition's, or a trace row's).
    pub(crate) cpu_units: u32,
    /// Memory it reserves, MiB.
    pub(crate) memory_mib: u32,
    pub(crate) state: TaskState,
    pub(crate) created: SimTime,
    /// PENDING on an instance, or Fargate provisioned (billing starts).
    placed: Stamp,
    running: Stamp,
    stopped: Stamp,
    pub(crate) run_ms: u64,
    pub(crate) outcome: Outcome,
    /// When it counts as healthy (RUNNING + health check time).
    healthy_at: Stamp,
    /// Fargate: billed up to here (from PENDING when not yet; see [`Core::settle_hours`]).
    fargate_billed: Stamp,
    /// To be replaced (Fargate Spot warning).
    pub(crate) retiring: bool,
    /// RUNNING on a dead host (or in a failed AZ) that ECS has not noticed yet.
    pub(crate) lost: bool,
    /// Will fail to start (image pull error).
    pub(crate) fail_start: bool,
}

/// An instant that may not have come yet: an `Option<SimTime>` in 8 bytes (a run keeps a task
/// record per task, so its size is the run's memory).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp(u64);

impl Stamp {
    const NOT_YET: Stamp = Stamp(u64::MAX);

    fn get(self) -> Option<SimTime> {
        (self != Stamp::NOT_YET).then_some(SimTime::from_ms(self.0))
    }

    fn at(t: SimTime) -> Stamp {
        assert_ne!(t.ms(), u64::MAX, "the end of time is not an instant");
        Stamp(t.ms())
    }
}

impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Task {
    /// What a freed record reads as: STOPPED, on no instance, nothing pending.
    pub(super) fn gone() -> Task {
        Task {
            seq: FREE,
            def: DefId(0),
            owner: Owner::Job(crate::ids::JobId(0), 0),
            cluster: ClusterId(0),
            instance: None,
            group: GroupId(0),
            runs: Runs::Ec2 { pool: None },
            provider: 0,
            item: None,
            cpu_units: 0,
            memory_mib: 0,
            state: TaskState::Stopped,
            created: SimTime::ZERO,
            placed: Stamp::NOT_YET,
            running: Stamp::NOT_YET,
            stopped: Stamp::NOT_YET,
            run_ms: 0,
            outcome: Outcome::Open,
            healthy_at: Stamp::NOT_YET,
            fargate_billed: Stamp::NOT_YET,
            retiring: false,
            lost: false,
            fail_start: false,
        }
    }

    /// When it was placed (PENDING on an instance, or Fargate provisioned).
    pub(crate) fn placed(&self) -> Option<SimTime> {
        self.placed.get()
    }

    /// When it reached RUNNING.
    pub(crate) fn running(&self) -> Option<SimTime> {
        self.running.get()
    }

    /// When it stopped.
    pub(crate) fn stopped(&self) -> Option<SimTime> {
        self.stopped.get()
    }

    /// Fargate: the start of what is not billed yet (PENDING, or the last hour settled).
    pub(super) fn fargate_unbilled_from(&self) -> Option<SimTime> {
        self.fargate_billed.get().or(self.placed())
    }

    /// Fargate: billed up to `t`.
    pub(super) fn set_fargate_billed(&mut self, t: SimTime) {
        self.fargate_billed = Stamp::at(t);
    }

    /// The instance it holds resources on, if any.
    pub(crate) fn instance_ref(&self) -> Option<InstanceRef> {
        self.instance.map(|i| InstanceRef::new(self.cluster, i))
    }

    /// RUNNING, not lost, and past its health check time.
    pub(crate) fn healthy(&self, now: SimTime) -> bool {
        self.state == TaskState::Running
            && !self.lost
            && self.healthy_at.get().is_some_and(|h| h <= now)
    }
}

/// What a stop changed, for the reactions that follow it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopped {
    /// Its owner.
    pub(crate) owner: Owner,
    /// Its cluster.
    pub(crate) cluster: ClusterId,
    /// It was STOPPING.
    pub(crate) was_stopping: bool,
    /// The instance it freed resources on.
    pub(crate) freed: Option<InstanceRef>,
    /// It was PROVISIONING (it may sit in a wait queue).
    pub(crate) was_provisioning: bool,
    /// It never reached RUNNING.
    pub(crate) never_ran: bool,
}

/// A service's live tasks and their counts by state.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceTasks {
    pub(crate) desired: u32,
    /// Live (not STOPPED) tasks, in creation order.
    pub(crate) live: Vec<TaskId>,
    /// Live tasks by state: PROVISIONING, PENDING, RUNNING, STOPPING (kept by `Core::set_state`).
    counts: [u32; 4],
    /// RUNNING tasks that are lost (serve nothing) and ECS has not noticed yet.
    pub(crate) lost: u32,
}

impl ServiceTasks {
    /// No tasks yet, `desired` wanted.
    pub(crate) fn new(desired: u32) -> Self {
        ServiceTasks {
            desired,
            ..ServiceTasks::default()
        }
    }
    pub(crate) fn provisioning(&self) -> u32 {
        self.counts[0]
    }
    pub(crate) fn pending(&self) -> u32 {
        self.counts[1]
    }
    pub(crate) fn running(&self) -> u32 {
        self.counts[2]
    }
    pub(crate) fn stopping(&self) -> u32 {
        self.counts[3]
    }
    /// One of its tasks moved `from` a state (`None`: it was just created) `to` another;
    /// `lost`: it is lost (a service's lost count is its RUNNING tasks that are lost).
    fn moved(&mut self, from: Option<TaskState>, to: TaskState, lost: bool) {
        if let Some(k) = from.and_then(TaskState::live_index) {
            self.counts[k] -= 1;
        }
        if let Some(k) = to.live_index() {
            self.counts[k] += 1;
        }
        if lost && let Some(from) = from.filter(|&f| f != to) {
            if from == TaskState::Running {
                self.lost -= 1;
            }
            if to == TaskState::Running {
                self.lost += 1;
            }
        }
    }
    /// RUNNING tasks that serve (not on a dead host).
    pub(crate) fn serving(&self) -> u32 {
        self.running().saturating_sub(self.lost)
    }
}

impl<S: Sink> Core<'_, S> {
    /// Create a task (in no state yet: the caller moves it into its first one).
    #[inline(always)]
    pub(crate) fn new_task(&mut self, n: NewTask, now: SimTime) -> TaskId {
        let seq = u32::try_from(self.created)
            .ok()
            .filter(|&k| k != FREE)
            .expect("task ids fit in 32 bits");
        self.created += 1;
        let d = &self.sc.task_definitions[n.def.index()];
        let (cpu_units, memory_mib) = n.size.unwrap_or((d.cpu_units, d.memory_mib));
        // The slot first, then the record written straight into it.
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(self.tasks.len()).expect("task slots fit in 32 bits");
                self.tasks.push(Task::gone());
                slot
            }
        };
        self.tasks[slot as usize] = Task {
            seq,
            cpu_units,
            memory_mib,
            def: n.def,
            owner: n.owner,
            cluster: n.cluster,
            instance: None,
            group: n.group,
            runs: n.runs,
            provider: n.provider,
            item: n.item,
            state: TaskState::Stopped,
            created: now,
            placed: Stamp::NOT_YET,
            running: Stamp::NOT_YET,
            stopped: Stamp::NOT_YET,
            run_ms: n.run_ms,
            outcome: Outcome::Open,
            healthy_at: Stamp::NOT_YET,
            fargate_billed: Stamp::NOT_YET,
            retiring: false,
            lost: false,
            fail_start: false,
        };
        let tid = TaskId(seq, slot);
        let o = n.owner.index(self.sc.services.len());
        if let Some(k) = n.item {
            self.owners[o].items[k as usize] += 1;
        }
        if let Runs::Fargate { az, .. } = n.runs {
            self.owners[o].fargate_az[az as usize] += 1;
        }
        if let Owner::Service(s) = n.owner {
            self.services[s.index()].live.push(tid);
        }
        tid
    }

    /// Move a task to a new state (`new`: it was just created and enters `to`), keep the
    /// counters and record the change.
    pub(super) fn set_state(
        &mut self,
        tid: TaskId,
        to: TaskState,
        now: SimTime,
        reason: &str,
        new: bool,
    ) {
        self.change_state(tid, to, now, reason, new, |_| ());
    }

    /// [`Core::set_state`], first changing the task's record with `f` (while it is at hand:
    /// one look-up of the record for the whole change).
    #[inline(always)]
    fn change_state<R>(
        &mut self,
        tid: TaskId,
        to: TaskState,
        now: SimTime,
        reason: &str,
        new: bool,
        f: impl FnOnce(&mut Task) -> R,
    ) -> R {
        let t = self.rec(tid);
        let r = f(t);
        let from = (!new).then_some(t.state);
        t.state = to;
        let (owner, lost, inst) = (t.owner, t.lost, t.instance_ref());
        if let Some(k) = from.and_then(TaskState::live_index) {
            self.task_counts[k] -= 1;
        }
        if let Some(k) = to.live_index() {
            self.task_counts[k] += 1;
        }
        if let Owner::Service(s) = owner {
            self.services[s.index()].moved(from, to, lost);
        }
        let from = from.filter(|&f| f != to);
        self.record_task(tid.0, owner, inst, now, from, to, reason);
        r
    }

    /// Record a task event without a state change (`from == to`: entering `to`).
    #[inline(never)]
    pub(crate) fn task_event(
        &mut self,
        tid: TaskId,
        now: SimTime,
        from: TaskState,
        to: TaskState,
        reason: &str,
    ) {
        let t = self.task(tid);
        let (owner, inst) = (t.owner, t.instance_ref());
        let from = (from != to).then_some(from);
        self.record_task(tid.0, owner, inst, now, from, to, reason);
    }

    /// Hash a task event (`from`: `None` when it enters `to`) and, when the sink wants records,
    /// hand it its record.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn record_task(
        &mut self,
        seq: u32,
        owner: Owner,
        inst: Option<InstanceRef>,
        now: SimTime,
        from: Option<TaskState>,
        to: TaskState,
        reason: &str,
    ) {
        let owner_words = &self.owner_words[owner.index(self.sc.services.len())];
        let inst_words: &[u64] = match inst {
            Some(r) => &self.clusters[r.cluster.index()].insts[r.id.0 as usize].ec2_id_words,
            None => &[0],
        };
        self.out
            .hash_task(now.ms(), seq, owner_words, inst_words, from, to, reason);
        if self.out.wants_events() {
            let from = from.map_or("", TaskState::as_str);
            self.task_record(seq, owner, inst, now, from, to.as_str(), reason);
        }
    }

    /// Hand a task event's record to the sink (which wants it).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    fn task_record(
        &mut self,
        seq: u32,
        owner: Owner,
        inst: Option<InstanceRef>,
        now: SimTime,
        from: &str,
        to: &str,
        reason: &str,
    ) {
        let (service, job) = match owner {
            Owner::Service(s) => (self.sc.services[s.index()].name.as_str(), ""),
            Owner::Job(j, _) => ("", self.sc.jobs[j.index()].name.as_str()),
        };
        let instance = inst.map_or("", |r| {
            self.clusters[r.cluster.index()].insts[r.id.0 as usize]
                .ec2_id
                .as_str()
        });
        let e = EventRecord {
            time_ms: now.ms(),
            kind: EventKind::Task,
            task: Some(u64::from(seq)),
            service,
            job,
            instance,
            from,
            to,
            reason,
        };
        debug_assert_eq!(
            self.owner_words[owner.index(self.sc.services.len())][..],
            [str_words(service), str_words(job)].concat(),
            "owner words"
        );
        debug_assert_eq!(
            inst.map_or(&[0][..], |r| &self.clusters[r.cluster.index()].insts
                [r.id.0 as usize]
                .ec2_id_words[..]),
            str_words(instance),
            "instance words"
        );
        self.out.task_record(&e);
    }

    /// A new task waits in PROVISIONING: for Fargate, or for capacity (`why` nothing can hold
    /// it now: the closest instance's failing check, recorded as the event's reason).
    pub(crate) fn provision(&mut self, tid: TaskId, now: SimTime, why: Option<PlacementFailure>) {
        let reason = why.map_or("", PlacementFailure::code);
        self.set_state(tid, TaskState::Provisioning, now, reason, true);
    }

    /// A new task that nothing can hold fails at once (RunTask without capacity).
    pub(crate) fn fail_to_place(&mut self, tid: TaskId, why: PlacementFailure, now: SimTime) {
        let t = self.rec(tid);
        t.outcome = Outcome::FailedToPlace(why);
        t.stopped = Stamp::at(now);
        self.ended.push(tid);
        self.counters.tasks_failed_to_place += 1;
        self.task_event(tid, now, TaskState::Stopped, TaskState::Stopped, why.code());
    }

    /// Reserve resources on an instance and move the task to PENDING.
    pub(crate) fn place(&mut self, tid: TaskId, inst: InstanceId, now: SimTime) {
        let t = self.task(tid);
        let new = t.placed().is_none() && t.state == TaskState::Stopped && t.stopped().is_none();
        let (c, owner, created) = (t.cluster, t.owner, t.created);
        let req = task_request_of(self.sc, t, &[], &[], NO_POOL);
        let r = InstanceRef::new(c, inst);
        self.accrue_instance(r, now);
        let o = owner.index(self.sc.services.len()) as u32;
        let busy = !self.is_daemon(owner);
        self.reserve(r, &req, o, busy);
        self.counters.placed(created, now);
        self.change_state(tid, TaskState::Pending, now, "", new, |t| {
            t.instance = Some(inst);
            t.placed = Stamp::at(now);
        });
    }

    /// A Fargate task's ENI is ready: it is PENDING (billing starts) while its image is pulled.
    /// Returns false if it was stopped meanwhile.
    pub(crate) fn fargate_provisioned(&mut self, tid: TaskId, now: SimTime) -> bool {
        if self.task(tid).state != TaskState::Provisioning {
            return false;
        }
        let t = self.rec(tid);
        t.placed = Stamp::at(now);
        let created = t.created;
        self.counters.placed(created, now);
        self.set_state(tid, TaskState::Pending, now, "", false);
        true
    }

    /// A PENDING task reaches RUNNING; returns its record.
    pub(crate) fn run(&mut self, tid: TaskId, now: SimTime) -> &Task {
        self.counters.tasks_started += 1;
        self.change_state(tid, TaskState::Running, now, "", false, |t| {
            t.running = Stamp::at(now);
        });
        &self.tasks[tid.index()]
    }

    /// A RUNNING task starts stopping (the scheduler stopped it): it is STOPPING, with the stop
    /// reason on the event, and keeps its resources, its billing and its place among the
    /// service's live tasks until [`Core::stop`].
    pub(crate) fn begin_stop(&mut self, tid: TaskId, reason: &str, now: SimTime) {
        let t = self.task(tid);
        debug_assert!(t.state == TaskState::Running && !t.lost, "{t:?}");
        self.set_state(tid, TaskState::Stopping, now, reason, false);
    }

    /// Stop a task (from any live state, STOPPING included): release what it holds, bill it,
    /// record the outcome.
    pub(crate) fn stop(
        &mut self,
        tid: TaskId,
        outcome: Outcome,
        reason: &str,
        now: SimTime,
    ) -> Stopped {
        let t = self.task(tid);
        debug_assert_eq!(t.seq, tid.0, "stopping a task twice");
        let (owner, item, runs, placed, state) = (t.owner, t.item, t.runs, t.placed(), t.state);
        let cluster = t.cluster;
        let freed = t.instance_ref();
        let o = owner.index(self.sc.services.len());
        if let Some(r) = freed {
            let req = task_request_of(self.sc, t, &[], &[], NO_POOL);
            self.accrue_instance(r, now);
            let busy = !self.is_daemon(owner);
            self.release(r, &req, o as u32, busy);
        }
        if let Some(p) = placed {
            self.counters.task_ms += u128::from(now.since(p));
        }
        // The per-owner counts (and Fargate's billing) only for the tasks they are kept for.
        if let Some(k) = item {
            self.owners[o].items[k as usize] -= 1;
        }
        if let Runs::Fargate { az, .. } = runs {
            self.bill_fargate(tid, now);
            self.owners[o].fargate_az[az as usize] -= 1;
        }
        if let Owner::Service(s) = owner {
            self.services[s.index()].live.retain(|&x| x != tid);
        }
        let never_ran = self.change_state(tid, TaskState::Stopped, now, reason, false, |t| {
            t.stopped = Stamp::at(now);
            t.outcome = outcome;
            t.running().is_none()
        });
        self.ended.push(tid);
        Stopped {
            owner,
            cluster,
            was_stopping: state == TaskState::Stopping,
            freed,
            was_provisioning: state == TaskState::Provisioning,
            never_ran,
        }
    }

    /// The task stops serving: its host died (or its AZ failed) and ECS has not noticed.
    pub(crate) fn mark_lost(&mut self, tid: TaskId) {
        let t = self.rec(tid);
        if t.lost {
            return;
        }
        t.lost = true;
        if let (Owner::Service(s), TaskState::Running) = (t.owner, t.state) {
            self.services[s.index()].lost += 1;
        }
    }

    /// A Fargate Spot warning: the task is to be replaced; recorded as a task event.
    pub(crate) fn warn_retiring(&mut self, tid: TaskId, now: SimTime, reason: &str) {
        self.rec(tid).retiring = true;
        self.task_event(tid, now, TaskState::Running, TaskState::Running, reason);
    }

    /// The task will fail to start (decided at PENDING).
    pub(crate) fn set_fail_start(&mut self, tid: TaskId) {
        self.rec(tid).fail_start = true;
    }

    /// When a RUNNING task counts as healthy.
    pub(crate) fn set_healthy_at(&mut self, tid: TaskId, at: SimTime) {
        self.rec(tid).healthy_at = Stamp::at(at);
    }

    /// A service's live tasks and counts.
    pub(crate) fn service(&self, s: ServiceId) -> &ServiceTasks {
        &self.services[s.index()]
    }

    /// Set a service's desired count (the caller records why).
    pub(crate) fn set_desired(&mut self, s: ServiceId, desired: u32) {
        self.services[s.index()].desired = desired;
    }
}
