//! The core: the only code that changes tasks and instances.
//!
//! [`Core`] owns the arenas (tasks, instances per cluster with placement's view of them), each
//! service's desired count and live tasks, the per-owner counts that capacity provider
//! strategies and Fargate's AZ spread read, the counters, the billing accrual, and the output
//! (sink and events hash). Every state change of a task or instance is a method here, which
//! keeps every derived count in step and records the change; the subsystems (`launch`,
//! `service`, `autoscaling`, `failures`, ...) decide *what* to change and read the core through
//! shared references.
//!
//! **Invariant: only `core` mutates tasks and instances.** Their arenas are private to this
//! module; everything else gets `&Task` / `&Instance`.

mod billing;
mod counters;
mod explain;
mod instance;
mod out;
mod rows;
mod task;

use ecsim_engine::{SimTime, Stream, Streams, str_words};
use ecsim_placement::{
    AZ_ATTRIBUTE, BinpackField, Cluster, Constraint, GroupId, IndexConfig, SpreadField, Strategy,
    TaskRequest,
};

pub(crate) use counters::Counters;
pub(crate) use explain::{Attempt, chain_text, owner_name};
pub(crate) use instance::{ClusterState, Instance, InstanceState};
pub(crate) use out::Out;
use task::FREE;
pub(crate) use task::{NewTask, Outcome, Runs, ServiceTasks, Task, TaskState};

use crate::ids::{ClusterId, DefId, Owner, TaskId};
use crate::record::Sink;
use crate::scenario::{LaunchSpec, NetworkMode, Scenario, SchedulingStrategy};

/// No pool: any instance of the cluster.
pub(crate) const NO_POOL: Option<u32> = None;

/// An owner's live tasks per capacity provider strategy item and per Fargate AZ.
#[derive(Debug, Clone, Default)]
pub(crate) struct OwnerCounts {
    pub(crate) items: Vec<u32>,
    pub(crate) fargate_az: Vec<u32>,
}

/// Instances launched above which the model gives cache hints ([`Core::worth_hinting`]; tests
/// lower it through `Core::hints_above`): the records a task's path reads take about 500 bytes
/// per instance (the core's, placement's and its bucket entries), so 4,096 instances fill a
/// 2 MiB second-level cache.
pub(crate) const HINTS_ABOVE: u64 = 4_096;

/// The simulation's state and its only mutators.
pub(crate) struct Core<'s, S: Sink> {
    /// The scenario (read-only).
    pub(crate) sc: &'s Scenario,
    /// The sink and the events hash.
    pub(crate) out: Out<S>,
    /// Task records of live tasks, by slot ([`TaskId::index`]); a freed slot holds a record
    /// whose `seq` is [`FREE`].
    tasks: Vec<Task>,
    /// Freed slots, reused last freed first.
    free: Vec<u32>,
    /// Tasks that finished during the current event: their rows are written and their slots
    /// freed once it is handled ([`Core::reclaim`]), so the event's reactions still read them.
    ended: Vec<TaskId>,
    /// Tasks created so far (the next task's number).
    created: u64,
    /// What a task id whose record was freed reads as: a STOPPED task.
    gone: Task,
    clusters: Vec<ClusterState>,
    services: Vec<ServiceTasks>,
    /// Services, then jobs.
    owners: Vec<OwnerCounts>,
    /// Per owner (services, then jobs), its service and job name fields as the events hash
    /// folds them in ([`Out::emit_task`]).
    owner_words: Vec<Box<[u64]>>,
    /// Live tasks by state: PROVISIONING, PENDING, RUNNING, STOPPING.
    task_counts: [u64; 4],
    /// Instances by state.
    inst_counts: [u32; 4],
    /// Run-wide counts.
    pub(crate) counters: Counters,
    pub(crate) billing: billing::Billing,
    start_delays: Stream,
    launch_delays: Stream,
    /// Trunk ENI creation times: a stream of their own, so that switching trunking on changes
    /// no other draw.
    trunk_delays: Stream,
    stop_times: Stream,
    next_instance: u64,
    /// [`HINTS_ABOVE`].
    pub(crate) hints_above: u64,
    /// Scheduled events that stand for work left (ends a run without a duration at zero).
    open_work: u64,
}

/// The placement request of a task definition.
pub(crate) fn task_request<'a>(
    sc: &'a Scenario,
    def: DefId,
    group: GroupId,
    constraints: &'a [Constraint],
    strategy: &'a [Strategy],
    pool: Option<u32>,
) -> TaskRequest<'a> {
    let d = &sc.task_definitions[def.index()];
    TaskRequest {
        cpu_units: d.cpu_units,
        memory_mib: d.memory_mib,
        host_ports: d.instance_ports(),
        needs_eni: d.network_mode == NetworkMode::Awsvpc,
        group,
        constraints,
        strategy,
        pool,
    }
}

/// The placement request of a task: its definition's, with the task's own CPU and memory (a
/// trace row's size).
pub(crate) fn task_request_of<'a>(
    sc: &'a Scenario,
    t: &Task,
    constraints: &'a [Constraint],
    strategy: &'a [Strategy],
    pool: Option<u32>,
) -> TaskRequest<'a> {
    sized(
        task_request(sc, t.def, t.group, constraints, strategy, pool),
        Some((t.cpu_units, t.memory_mib)),
    )
}

/// A request with another CPU and memory, when given.
pub(crate) fn sized(mut req: TaskRequest<'_>, size: Option<(u32, u32)>) -> TaskRequest<'_> {
    if let Some((cpu, mem)) = size {
        req.cpu_units = cpu;
        req.memory_mib = mem;
    }
    req
}

/// Which indexes a cluster's placement needs, from the strategies used on it in `sc` and in
/// the scenarios of a fork's `branches` (an index makes placement faster, never different).
fn index_config(sc: &Scenario, branches: &[&Scenario], cluster: usize) -> IndexConfig {
    let mut cfg = IndexConfig {
        tie_break: sc.settings.tie_break,
        ..IndexConfig::default()
    };
    let all = || std::iter::once(sc).chain(branches.iter().copied());
    let services = all().flat_map(|sc| sc.services.iter().filter(|s| s.cluster == cluster));
    let jobs = all().flat_map(|sc| sc.jobs.iter().filter(|j| j.cluster == cluster));
    let chains = services
        .map(|s| &s.strategy)
        .chain(jobs.map(|j| &j.strategy));
    for chain in chains {
        let end = chain
            .iter()
            .position(|s| *s == Strategy::Random)
            .unwrap_or(chain.len());
        for s in &chain[..end] {
            match s {
                Strategy::Binpack(BinpackField::Memory) => cfg.by_memory = true,
                Strategy::Spread(SpreadField::Attribute(a)) if a == AZ_ATTRIBUTE => {
                    cfg.az_counts = true
                }
                Strategy::Spread(SpreadField::Attribute(a))
                    if !cfg.spread_attributes.contains(a) =>
                {
                    cfg.spread_attributes.push(a.clone())
                }
                _ => {}
            }
        }
    }
    cfg
}

impl<'s, S: Sink> Core<'s, S> {
    /// A copy of this state that goes on with `sc` (a scenario the fork checks allowed) and
    /// writes into `sink`: every arena, count, stream and the events hash so far.
    pub(crate) fn fork<'b, S2: Sink>(&self, sc: &'b Scenario, sink: S2) -> Core<'b, S2> {
        Core {
            sc,
            out: self.out.fork(sink),
            tasks: self.tasks.clone(),
            free: self.free.clone(),
            ended: self.ended.clone(),
            created: self.created,
            gone: self.gone.clone(),
            clusters: self.clusters.clone(),
            services: self.services.clone(),
            owners: self.owners.clone(),
            owner_words: self.owner_words.clone(),
            task_counts: self.task_counts,
            inst_counts: self.inst_counts,
            counters: self.counters.clone(),
            billing: self.billing.clone(),
            start_delays: self.start_delays.clone(),
            launch_delays: self.launch_delays.clone(),
            trunk_delays: self.trunk_delays.clone(),
            stop_times: self.stop_times.clone(),
            next_instance: self.next_instance,
            hints_above: self.hints_above,
            open_work: self.open_work,
        }
    }

    /// An empty world: clusters without instances, services without tasks.
    /// `branches`: the scenarios of a fork's branches, whose placement indexes are kept too.
    pub(crate) fn new(
        sc: &'s Scenario,
        sink: S,
        streams: &Streams,
        branches: &[&Scenario],
    ) -> Self {
        let clusters = sc
            .clusters
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let seed = streams.seed_of(&format!("placement/{}", c.name));
                ClusterState::new(
                    Cluster::new(index_config(sc, branches, ci), seed),
                    c.groups.len(),
                )
            })
            .collect();
        let services = sc
            .services
            .iter()
            .map(|s| {
                // A daemon's desired count is its eligible instances, counted as they register.
                ServiceTasks::new(if s.scheduling == SchedulingStrategy::Daemon {
                    0
                } else {
                    s.desired_count
                })
            })
            .collect();
        let launches = sc
            .services
            .iter()
            .map(|s| (&s.launch, s.availability_zones.len()))
            .chain(
                sc.jobs
                    .iter()
                    .map(|j| (&j.launch, j.availability_zones.len())),
            );
        let owners = launches
            .map(|(l, azs)| OwnerCounts {
                items: vec![
                    0;
                    match l {
                        LaunchSpec::Strategy(items) => items.len(),
                        _ => 0,
                    }
                ],
                fargate_az: vec![0; azs],
            })
            .collect();
        let owner_words = sc
            .services
            .iter()
            .map(|s| (s.name.as_str(), ""))
            .chain(sc.jobs.iter().map(|j| ("", j.name.as_str())))
            .map(|(service, job)| [str_words(service), str_words(job)].concat().into())
            .collect();
        Core {
            sc,
            out: Out::new(sink),
            owner_words,
            tasks: Vec::new(),
            free: Vec::new(),
            ended: Vec::new(),
            created: 0,
            gone: Task::gone(),
            clusters,
            services,
            owners,
            task_counts: [0; 4],
            inst_counts: [0; 4],
            counters: Counters::default(),
            billing: billing::Billing::new(sc),
            start_delays: streams.stream("start-delay"),
            launch_delays: streams.stream("launch-delay"),
            trunk_delays: streams.stream("trunk-eni-delay"),
            stop_times: streams.stream("stop-time"),
            next_instance: 0,
            hints_above: HINTS_ABOVE,
            open_work: 0,
        }
    }

    /// Whether the cache hints pay: once the run has launched more than [`HINTS_ABOVE`]
    /// instances. Below, the records a task's path reads stay in the caches and a hint only
    /// costs instructions (at 1,000 instances about 10 % of the run).
    pub(crate) fn worth_hinting(&self) -> bool {
        self.next_instance > self.hints_above
    }

    /// Start loading a task's record (a hint, for an event about to come; see
    /// [`ecsim_engine::Model::prefetch`]).
    pub(crate) fn prefetch_task(&self, tid: TaskId) {
        if let Some(t) = self.tasks.get(tid.index()) {
            ecsim_engine::prefetch(t);
        }
    }

    /// Start loading what stopping a task reads of its instance: the core's record and
    /// placement's (a hint, for the event about to be handled, whose task record the previous
    /// event's hint loaded).
    pub(crate) fn prefetch_instance_of(&self, tid: TaskId) {
        let t = self.task(tid);
        let Some(i) = t.instance else {
            return;
        };
        let cs = &self.clusters[t.cluster.index()];
        if let Some(inst) = cs.insts.get(i.0 as usize) {
            ecsim_engine::prefetch(inst);
        }
        cs.pc.hot_memory(i, ecsim_engine::prefetch_range);
    }

    /// One task; a task whose record was freed (it stopped before the current event) reads
    /// as a STOPPED task that holds nothing.
    pub(crate) fn task(&self, tid: TaskId) -> &Task {
        let t = &self.tasks[tid.index()];
        if t.seq == tid.0 { t } else { &self.gone }
    }

    /// The record of a task that must still have one (a mutation through a stale id would
    /// change another task).
    fn rec(&mut self, tid: TaskId) -> &mut Task {
        let t = &mut self.tasks[tid.index()];
        assert_eq!(t.seq, tid.0, "task {} has no record any more", tid.0);
        t
    }

    /// The record slots, indexed by [`TaskId::index`] (only live ids may index them).
    pub(crate) fn task_slots(&self) -> &[Task] {
        &self.tasks
    }

    /// Every task that has a record (live, or stopped during the current event), in slot
    /// order (not creation order: sort the ids when order matters).
    pub(crate) fn live_tasks(&self) -> impl Iterator<Item = (TaskId, &Task)> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.seq != FREE)
            .map(|(k, t)| (TaskId(t.seq, k as u32), t))
    }

    /// Tasks created so far.
    pub(crate) fn tasks_created(&self) -> u64 {
        self.created
    }

    /// A cluster's instances and placement state.
    pub(crate) fn cluster(&self, c: ClusterId) -> &ClusterState {
        &self.clusters[c.index()]
    }

    /// Every cluster.
    pub(crate) fn clusters(&self) -> &[ClusterState] {
        &self.clusters
    }

    /// Intern a task group name in a cluster's placement.
    pub(crate) fn group(&mut self, c: ClusterId, name: &str) -> GroupId {
        self.clusters[c.index()].pc.group(name)
    }

    /// An owner's counts per strategy item and Fargate AZ.
    pub(crate) fn owner_counts(&self, o: Owner) -> &OwnerCounts {
        &self.owners[o.index(self.sc.services.len())]
    }

    /// Every owner's counts: services, then jobs.
    pub(crate) fn all_owner_counts(&self) -> &[OwnerCounts] {
        &self.owners
    }

    /// Live tasks by state: [PROVISIONING, PENDING, RUNNING, STOPPING].
    pub(crate) fn task_counts(&self) -> [u64; 4] {
        self.task_counts
    }

    /// Whether an owner is a DAEMON service (its tasks do not make an instance busy).
    pub(crate) fn is_daemon(&self, o: Owner) -> bool {
        matches!(o, Owner::Service(s) if self.sc.services[s.index()].scheduling == SchedulingStrategy::Daemon)
    }

    /// The start delay of a task placed now (`settings.task_start_delay`).
    pub(crate) fn sample_start_delay(&mut self) -> u64 {
        let d = &self.sc.settings.task_start_delay;
        if d.is_zero() {
            0
        } else {
            d.sample(&mut self.start_delays)
        }
    }

    /// How long a RUNNING task the scheduler stops now stays STOPPING: behind a load balancer
    /// the target group's deregistration delay, then SIGTERM to exit (`settings.task_stop_time`,
    /// by default the whole `stop_timeout`), at most the task's `stop_timeout` (then SIGKILL;
    /// ecs-semantics 3.1, 3.2, 3.3). Draws only from the `stop-time` stream.
    pub(crate) fn stop_time_ms(&mut self, tid: TaskId) -> u64 {
        let t = self.task(tid);
        let timeout = self.sc.task_definitions[t.def.index()].stop_timeout_ms;
        let deregistration = match t.owner {
            Owner::Service(s) => self.sc.services[s.index()].deregistration_delay_ms,
            Owner::Job(..) => 0,
        };
        let exit = match &self.sc.settings.task_stop_time {
            None => timeout,
            Some(d) if d.is_zero() => 0,
            Some(d) => d.sample(&mut self.stop_times).min(timeout),
        };
        deregistration + exit
    }

    /// Work was scheduled.
    pub(crate) fn work_added(&mut self) {
        self.open_work += 1;
    }

    /// Scheduled work was done.
    pub(crate) fn work_done(&mut self) {
        self.open_work -= 1;
    }

    /// No scheduled work left.
    pub(crate) fn idle(&self) -> bool {
        self.open_work == 0
    }

    /// Record a service event.
    pub(crate) fn service_event(
        &mut self,
        s: crate::ids::ServiceId,
        now: SimTime,
        from: &str,
        to: &str,
        reason: &str,
    ) {
        let name = &self.sc.services[s.index()].name;
        self.out.service_event(name, now, from, to, reason);
    }
}

#[cfg(test)]
mod tests;
