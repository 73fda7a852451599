//! One run of a scenario.
//!
//! # Events and their order
//! The model's events are [`Ev`]. At one instant the engine processes them in the order they were
//! scheduled; the simulation relies on that for three rules:
//! * instances that become ACTIVE at an instant get their daemon tasks at once, before any other
//!   task is retried on them (daemon tasks start first, ECS-DG `ecs_services.html`);
//! * work that waits for capacity is retried by one `Retry` event per cluster and instant,
//!   scheduled after the event that freed or added capacity: daemons first, then services in
//!   scenario order, then waiting tasks first come first served;
//! * `End` is scheduled before anything else, so nothing at the end instant is processed.
//!
//! # Task lifecycle
//! * **Launch type EC2.** If an instance can take the task it is PENDING at once (RunTask on EC2
//!   without a capacity provider), RUNNING after `settings.task_start_delay`. If nothing fits, a
//!   standalone task fails at once (`on_no_capacity = "fail"`, RunTask semantics) or waits in
//!   PROVISIONING (`"wait"`); a service records `UNABLE_TO_PLACE` and retries when capacity
//!   changes, creating no task (ECS-DG `service-event-messages.html`).
//! * **Auto Scaling group capacity provider.** Placement is restricted to the group's instances;
//!   a task that does not fit is accepted and waits in PROVISIONING until capacity frees or
//!   arrives (ECS-DG `asg-capacity-providers.html`).
//! * **Fargate** (launch type, `FARGATE`, `FARGATE_SPOT`). The task is PROVISIONING while the
//!   account's launch-rate token bucket lets it through and `fargate.provisioning_delay` passes,
//!   then PENDING while the image is pulled (`fargate.image_pull_delay`; billing starts here),
//!   then RUNNING. It goes to the Availability Zone, of those given, with the fewest tasks of its
//!   service or job; ties are drawn at random (AWS documents none of this, ECS-DG
//!   `task-placement.html`).
//!
//! A capacity provider strategy chooses the provider of each new task: first the provider with a
//! `base` until it holds that many of the service's (or job's) live tasks, then the provider
//! furthest below its weighted share of the tasks beyond the base, ties to the one listed first.
//! With weights 1 and 4 that gives B, B, B, A, B, ...: one task on A for every four on B (ECS-DG
//! `cluster-capacity-providers.html`; the exact rounding is not documented).
//!
//! # Metrics and money
//! A metrics row at time T shows the state after every event at or before T; rows are written
//! for every multiple of the period up to the end, and one at the end itself. Costs are booked in
//! a [`Ledger`] as they accrue (see [`crate::billing`]); the run's end bills like a stop.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ecsim_engine::{
    Control, Limits, Model, Scheduler, SimTime, StableHasher, StopReason, Stream, Streams,
};
use ecsim_placement::{
    AZ_ATTRIBUTE, Cluster, Constraint, GroupId, IndexConfig, InstanceId, InstanceSpec,
    InstanceStatus, PlacementFailure, SpreadField, StopCandidate, Strategy, TaskRequest,
};
use rand::RngExt;

mod recovery;
mod scaling;

use crate::billing::{Ec2Target, Ledger};
use crate::pricing::{self, FargateRates, Money};
use crate::record::*;
use crate::scenario::{
    ActionKind, Arrival, LaunchSpec, NetworkMode, OnNoCapacity, OsFamily, ProviderKind,
    PurchaseOption, Scenario, SchedulingStrategy,
};

const NONE: u64 = u64::MAX;
const NO_INSTANCE: u32 = u32::MAX;
const NO_POOL: u32 = u32::MAX;
const NO_ITEM: u8 = u8::MAX;

/// The simulation's events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A launching instance registers and becomes ACTIVE.
    InstanceRegistered {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
    },
    /// The next task of a job arrives.
    Arrival {
        /// Job.
        job: u32,
    },
    /// A Fargate task's ENI is ready: it goes PENDING and its image pull starts.
    FargateProvisioned {
        /// Task.
        task: u32,
    },
    /// A PENDING task reaches RUNNING.
    TaskRunning {
        /// Task.
        task: u32,
    },
    /// A standalone task's run time is over.
    TaskExited {
        /// Task.
        task: u32,
    },
    /// Retry whatever waits for capacity in a cluster.
    Retry {
        /// Cluster.
        cluster: u32,
    },
    /// A scripted action.
    Action {
        /// Index into the scenario's actions.
        action: u32,
    },
    /// Sample load and metrics; at minute boundaries, evaluate alarms and scale.
    Sample,
    /// A scheduled scaling action of a service.
    Scheduled {
        /// Service.
        service: u32,
        /// Index of the action.
        action: u32,
    },
    /// A service task has been RUNNING long enough to count as healthy.
    TaskHealthy {
        /// Task.
        task: u32,
    },
    /// A task's essential container exits with an error.
    TaskCrash {
        /// Task.
        task: u32,
    },
    /// An instance dies.
    InstanceFailed {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
    },
    /// ECS notices a dead instance.
    FailureDetected {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
        /// Index of the failure record.
        failure: u32,
    },
    /// An EC2 Spot interruption notice.
    SpotNotice {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
    },
    /// A noticed Spot instance is reclaimed.
    SpotTerminate {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
        /// Index of the failure record.
        failure: u32,
    },
    /// A Fargate Spot interruption warning.
    FargateSpotNotice {
        /// Task.
        task: u32,
    },
    /// A warned Fargate Spot task stops.
    FargateSpotStop {
        /// Task.
        task: u32,
    },
    /// ECS notices Fargate tasks lost in an AZ outage.
    FargateLost {
        /// Index of the failure record.
        failure: u32,
    },
    /// A scripted failure.
    Scripted {
        /// Index into the scenario's scripted failures.
        index: u32,
    },
    /// An AZ outage ends.
    AzRestored {
        /// Index into the scenario's scripted failures.
        failure: u32,
    },
    /// A throttled service may launch again.
    ServiceWake {
        /// Service.
        service: u32,
    },
    /// `simulation.duration` reached.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TState {
    Provisioning,
    Pending,
    Running,
    Stopped,
}

impl TState {
    fn as_str(self) -> &'static str {
        match self {
            TState::Provisioning => "PROVISIONING",
            TState::Pending => "PENDING",
            TState::Running => "RUNNING",
            TState::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Service(u32),
    Job(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Completed,
    Failed(&'static str),
    FailedToPlace(PlacementFailure),
    StoppedByScheduler,
}

/// Where a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// On a container instance of `pool` (`NO_POOL`: any instance).
    Ec2 { pool: u32 },
    /// On Fargate, in the owner's AZ number `az`.
    Fargate { spot: bool, az: u16 },
}

#[derive(Debug, Clone)]
struct Task {
    def: u32,
    owner: Owner,
    cluster: u32,
    instance: u32,
    group: GroupId,
    runs: Runs,
    /// Global capacity provider index (0: none).
    provider: u16,
    /// Index of the strategy item it counts for.
    item: u8,
    state: TState,
    created: u64,
    placed: u64,
    running: u64,
    stopped: u64,
    run_ms: u64,
    outcome: Outcome,
    /// When it counts as healthy (RUNNING + health check time).
    healthy_at: u64,
    /// To be replaced (Fargate Spot warning).
    retiring: bool,
    /// RUNNING on a dead host that ECS has not noticed yet.
    lost: bool,
    /// Will fail to start (image pull error).
    fail_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IState {
    Launching,
    Active,
    Stopped,
}

struct InstRt {
    ec2_id: String,
    az: String,
    state: IState,
    launched: u64,
    stopped_at: u64,
    group: u16,
    /// Tasks of REPLICA services and jobs on it (daemon tasks do not make it busy).
    busy_tasks: u32,
    /// Failed, not yet noticed by ECS.
    dead: bool,
    /// Has a Spot interruption notice.
    noticed: bool,
    /// DRAINING.
    draining: bool,
    provider: u16,
    spot: bool,
    /// Pico-dollars per hour (before any Spot price factor), EBS included.
    rate: u128,
    last_bill: u64,
    /// (owner index, cpu units, memory MiB) reserved on it.
    owners: Vec<(u32, u32, u32)>,
}

#[derive(Default)]
struct ClusterAcc {
    cpu_reserved: u128,
    cpu_registered: u128,
    mem_reserved: u128,
    mem_registered: u128,
    in_use: u128,
    in_use_cpu: u128,
    in_use_mem: u128,
    peak_in_use: u32,
}

struct ClusterRt {
    acc: ClusterAcc,
    pc: Cluster,
    insts: Vec<InstRt>,
    waiting: VecDeque<u32>,
    retry_scheduled: bool,
    svc_deficit: BTreeSet<u32>,
    daemon_missing: BTreeSet<(u32, u32)>,
    daemons: Vec<u32>,
    /// Instances launched so far per group (round-robin position for AZ and type).
    group_launched: Vec<u32>,
    /// Instances with at least one non-daemon task.
    busy: u32,
}

/// One item of an owner's capacity provider strategy, resolved.
#[derive(Debug, Clone, Copy)]
struct ItemRt {
    provider: u16,
    base: u32,
    weight: u32,
    /// Placement pool, or Fargate.
    target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Pool(u32),
    Fargate { spot: bool },
}

/// How an owner (service or job) launches tasks, and its live tasks per strategy item and AZ.
struct LaunchRt {
    spec: LaunchKind,
    counts: Vec<u32>,
    fargate_az: Vec<u32>,
}

enum LaunchKind {
    Ec2,
    Fargate,
    Strategy(Vec<ItemRt>),
}

struct ServiceRt {
    desired: u32,
    live: Vec<u32>,
    running: u32,
    pending: u32,
    provisioning: u32,
    group: GroupId,
    failing: Option<PlacementFailure>,
    launch: LaunchRt,
}

struct JobRt {
    arrivals: Stream,
    mix: Stream,
    run_times: Stream,
    emitted: u64,
    next_ms: f64,
    /// Per mix entry: (definition, group, constraints: job's then definition's).
    entries: Vec<(u32, GroupId, Vec<Constraint>)>,
    cumulative: Vec<f64>,
    launch: LaunchRt,
}

/// Fargate's account-wide launch-rate token bucket, in millionths of a token.
struct TokenBucket {
    on: bool,
    tokens: i64,
    cap: i64,
    per_ms: i64,
    last: u64,
}

impl TokenBucket {
    /// Take a token at `now`; returns how long the launch must wait for it. Tokens may go
    /// negative: later launches queue behind earlier ones.
    fn take(&mut self, now: u64) -> u64 {
        if !self.on {
            return 0;
        }
        self.tokens = (self.tokens + (now - self.last) as i64 * self.per_ms).min(self.cap);
        self.last = now;
        self.tokens -= 1_000_000;
        if self.tokens >= 0 {
            0
        } else {
            ((-self.tokens) as u64).div_ceil(self.per_ms as u64)
        }
    }
}

/// Options of one run that are not part of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The run seed.
    pub seed: u64,
    /// Check the whole-run invariants after every event (slow; on in tests).
    pub check_invariants: bool,
}

/// One run of a scenario, pushing its records into a sink.
pub struct Simulation<'s, S: Sink> {
    sc: &'s Scenario,
    sink: S,
    clusters: Vec<ClusterRt>,
    services: Vec<ServiceRt>,
    jobs: Vec<JobRt>,
    tasks: Vec<Task>,
    start_delays: Stream,
    fargate_delays: Stream,
    fargate_az: Stream,
    bucket: TokenBucket,
    launch_delays: Stream,
    next_instance: u64,
    cluster_provider_ids: Vec<Vec<u16>>,
    n_stopped: u32,
    n_draining: u32,
    scaling: scaling::ScalingRt,
    health: Vec<recovery::SvcHealth>,
    recovery: recovery::RecoveryRt,
    fail_instances: Stream,
    fail_spot: Stream,
    fail_tasks: Stream,
    fail_fargate: Stream,
    tasks_lost: u64,
    fargate_rates: [Option<FargateRates>; 6],
    ledger: Ledger,
    provider_names: Vec<String>,
    scratch_owners: Vec<(usize, u128)>,
    hash: StableHasher,
    state_changes: u64,
    open_work: u64,
    n_prov: u64,
    n_pending: u64,
    n_running: u64,
    n_launching: u32,
    n_active: u32,
    peak_instances: u64,
    next_metrics_ms: u64,
    last_t: u64,
    cpu_reserved_int: u128,
    cpu_registered_int: u128,
    mem_reserved_int: u128,
    mem_registered_int: u128,
    samples: Vec<ServiceSample>,
    cluster_samples: Vec<ClusterSample>,
    tasks_started: u64,
    tasks_completed: u64,
    tasks_failed: u64,
    tasks_scaled_in: u64,
    tasks_waited: u64,
    service_failures: u64,
    wait_sum: u128,
    wait_max: u64,
    waits: u64,
    task_ms: u128,
    check: bool,
    stop_reason: &'static str,
}

fn task_request<'a>(
    sc: &'a Scenario,
    def: u32,
    group: GroupId,
    constraints: &'a [Constraint],
    strategy: &'a [Strategy],
    pool: u32,
) -> TaskRequest<'a> {
    let d = &sc.task_definitions[def as usize];
    TaskRequest {
        cpu_units: d.cpu_units,
        memory_mib: d.memory_mib,
        host_ports: &d.host_ports,
        needs_eni: d.network_mode == NetworkMode::Awsvpc,
        group,
        constraints,
        strategy,
        pool: (pool != NO_POOL).then_some(pool),
    }
}

fn index_config(sc: &Scenario, cluster: usize) -> IndexConfig {
    let mut cfg = IndexConfig {
        tie_break: sc.settings.tie_break,
        ..IndexConfig::default()
    };
    let chains = sc
        .services
        .iter()
        .filter(|s| s.cluster == cluster)
        .map(|s| &s.strategy)
        .chain(
            sc.jobs
                .iter()
                .filter(|j| j.cluster == cluster)
                .map(|j| &j.strategy),
        );
    for chain in chains {
        let end = chain
            .iter()
            .position(|s| *s == Strategy::Random)
            .unwrap_or(chain.len());
        for s in &chain[..end] {
            match s {
                Strategy::Binpack(ecsim_placement::BinpackField::Memory) => cfg.by_memory = true,
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

/// Index into `fargate_rates`: (spot, os, arch).
fn rate_slot(spot: bool, windows: bool, arm: bool) -> usize {
    usize::from(spot) * 3 + if windows { 2 } else { usize::from(arm) }
}

/// Choose the strategy item for a new task: the base first, then the item furthest below its
/// weighted share of the tasks beyond the bases (ties to the first listed).
fn choose_item(items: &[ItemRt], counts: &[u32]) -> usize {
    if let Some(k) = items.iter().zip(counts).position(|(it, &c)| c < it.base) {
        return k;
    }
    let mut best: Option<usize> = None;
    for (k, it) in items.iter().enumerate() {
        if it.weight == 0 {
            continue;
        }
        let e = u64::from(counts[k].saturating_sub(it.base)) + 1;
        best = match best {
            None => Some(k),
            Some(b) => {
                let eb = u64::from(counts[b].saturating_sub(items[b].base)) + 1;
                // e / w < eb / wb  <=>  e * wb < eb * w
                if e * u64::from(items[b].weight) < eb * u64::from(it.weight) {
                    Some(k)
                } else {
                    Some(b)
                }
            }
        };
    }
    best.expect("validation guarantees a positive weight")
}

/// The item to take a task from when scaling in: the one furthest above its weighted share,
/// never below its base while another can give.
fn shrink_item(items: &[ItemRt], counts: &[u32]) -> usize {
    let mut best: Option<(usize, u64, u64)> = None; // (k, excess, weight) compare excess/weight
    for (k, it) in items.iter().enumerate() {
        if counts[k] == 0 {
            continue;
        }
        let excess = u64::from(counts[k].saturating_sub(it.base));
        let w = u64::from(it.weight);
        let better = match best {
            None => true,
            Some((_, be, bw)) => {
                if excess == 0 || be == 0 {
                    excess > be
                } else if w == 0 || bw == 0 {
                    w == 0 && bw != 0
                } else {
                    excess * bw > be * w
                }
            }
        };
        if better {
            best = Some((k, excess, w));
        }
    }
    best.map_or(0, |b| b.0)
}

impl<'s, S: Sink> Simulation<'s, S> {
    /// Set up a run: instances, services, jobs and actions, all scheduled on `sched`.
    pub fn new(sc: &'s Scenario, opts: RunOptions, mut sink: S, sched: &mut Scheduler<Ev>) -> Self {
        let streams = Streams::new(opts.seed);
        let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
        let cluster_names: Vec<&str> = sc.clusters.iter().map(|c| c.name.as_str()).collect();
        let load_names: Vec<&str> = sc
            .services
            .iter()
            .filter(|s| s.load.is_some() || s.auto_scaling.is_some())
            .map(|s| s.name.as_str())
            .collect();
        let managed: Vec<&str> = sc
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
            clusters: &cluster_names,
            services: &names,
            load_services: &load_names,
            providers: &managed,
        });
        if let Some(d) = sc.simulation.duration_ms {
            sched.schedule_at(SimTime::from_ms(d), Ev::End);
        }
        let pr = &sc.pricing;
        // Capacity providers by name across clusters; 0 is "none".
        let mut provider_names = vec!["none".to_string()];
        let mut provider_index = |name: &str| -> u16 {
            match provider_names.iter().position(|n| n == name) {
                Some(i) => i as u16,
                None => {
                    provider_names.push(name.to_string());
                    (provider_names.len() - 1) as u16
                }
            }
        };
        let mut cluster_provider_ids: Vec<Vec<u16>> = Vec::new();
        for c in &sc.clusters {
            cluster_provider_ids.push(
                c.capacity_providers
                    .iter()
                    .map(|p| provider_index(&p.name))
                    .collect(),
            );
        }
        let mut clusters = Vec::new();
        let mut deferred_instances = Vec::new();
        for (ci, c) in sc.clusters.iter().enumerate() {
            let pc = Cluster::new(
                index_config(sc, ci),
                streams.seed_of(&format!("placement/{}", c.name)),
            );
            let mut rt = ClusterRt {
                acc: ClusterAcc::default(),
                pc,
                insts: Vec::new(),
                waiting: VecDeque::new(),
                retry_scheduled: false,
                svc_deficit: BTreeSet::new(),
                daemon_missing: BTreeSet::new(),
                daemons: Vec::new(),
                group_launched: Vec::new(),
                busy: 0,
            };
            rt.group_launched = vec![0; c.groups.len()];
            for (gi, g) in c.groups.iter().enumerate() {
                for _ in 0..g.count {
                    deferred_instances.push((ci as u32, gi as u16));
                }
            }
            clusters.push(rt);
        }
        let resolve_launch = |cluster: usize, spec: &LaunchSpec, n_azs: usize| -> LaunchRt {
            let c = &sc.clusters[cluster];
            let kind = match spec {
                LaunchSpec::Ec2 => LaunchKind::Ec2,
                LaunchSpec::Fargate => LaunchKind::Fargate,
                LaunchSpec::Strategy(items) => LaunchKind::Strategy(
                    items
                        .iter()
                        .map(|it| ItemRt {
                            provider: cluster_provider_ids[cluster][it.provider],
                            base: it.base,
                            weight: it.weight,
                            target: match c.capacity_providers[it.provider].kind {
                                ProviderKind::Asg { .. } => Target::Pool(it.provider as u32 + 1),
                                ProviderKind::Fargate => Target::Fargate { spot: false },
                                ProviderKind::FargateSpot => Target::Fargate { spot: true },
                            },
                        })
                        .collect(),
                ),
            };
            let n = if let LaunchKind::Strategy(i) = &kind {
                i.len()
            } else {
                0
            };
            LaunchRt {
                spec: kind,
                counts: vec![0; n],
                fargate_az: vec![0; n_azs],
            }
        };
        let mut services = Vec::new();
        for (si, s) in sc.services.iter().enumerate() {
            let launch = resolve_launch(s.cluster, &s.launch, s.availability_zones.len());
            let cl = &mut clusters[s.cluster];
            let group = cl.pc.group(&format!("service:{}", s.name));
            match s.scheduling {
                SchedulingStrategy::Daemon => cl.daemons.push(si as u32),
                SchedulingStrategy::Replica if s.desired_count > 0 => {
                    cl.svc_deficit.insert(si as u32);
                }
                SchedulingStrategy::Replica => {}
            }
            let desired = if s.scheduling == SchedulingStrategy::Daemon {
                0
            } else {
                s.desired_count
            };
            services.push(ServiceRt {
                desired,
                live: Vec::new(),
                running: 0,
                pending: 0,
                provisioning: 0,
                group,
                failing: None,
                launch,
            });
        }
        let mut jobs = Vec::new();
        for j in &sc.jobs {
            let launch = resolve_launch(j.cluster, &j.launch, j.availability_zones.len());
            let cl = &mut clusters[j.cluster];
            let mut entries = Vec::new();
            let mut cumulative = Vec::new();
            let mut acc = 0.0;
            for &(d, w) in &j.mix {
                let def = &sc.task_definitions[d];
                let group = match &j.group {
                    Some(g) => cl.pc.group(g),
                    None => cl.pc.group(&format!("family:{}", def.family)),
                };
                let mut cons = j.constraints.clone();
                cons.extend(def.constraints.iter().map(|c| c.1.clone()));
                entries.push((d as u32, group, cons));
                acc += w;
                cumulative.push(acc);
            }
            jobs.push(JobRt {
                arrivals: streams.stream(&format!("arrivals/{}", j.stream)),
                mix: streams.stream(&format!("task-mix/{}", j.stream)),
                run_times: streams.stream(&format!("run-times/{}", j.stream)),
                emitted: 0,
                next_ms: 0.0,
                entries,
                cumulative,
                launch,
            });
        }
        let f = &pr.table.fargate;
        let fs = &pr.table.fargate_spot;
        let disc = |r: Option<FargateRates>| r.map(|r| r.discounted(pr.fargate_discount_pct));
        let fargate_rates = [
            disc(f.linux_x86_64),
            disc(f.linux_arm64),
            disc(f.windows_x86_64),
            fs.linux_x86_64,
            fs.linux_arm64,
            None,
        ];
        let n_owners = sc.services.len() + sc.jobs.len();
        let ledger = Ledger::new(provider_names.len(), n_owners);
        let fg = &sc.fargate;
        let per_ms = ((fg.launch_refill_per_s * 1000.0).round() as i64).max(1);
        let mut sim = Simulation {
            sc,
            sink,
            clusters,
            services,
            jobs,
            tasks: Vec::new(),
            start_delays: streams.stream("start-delay"),
            fargate_delays: streams.stream("fargate-delays"),
            fargate_az: streams.stream("fargate-az"),
            launch_delays: streams.stream("launch-delay"),
            next_instance: 0,
            cluster_provider_ids: cluster_provider_ids.clone(),
            n_stopped: 0,
            n_draining: 0,
            scaling: scaling::ScalingRt::default(),
            health: sc
                .services
                .iter()
                .map(|d| recovery::SvcHealth {
                    primary_def: d.task_definition as u32,
                    last_completed_def: d.task_definition as u32,
                    ..Default::default()
                })
                .collect(),
            recovery: recovery::RecoveryRt::default(),
            fail_instances: streams.stream("failures/instances"),
            fail_spot: streams.stream("failures/spot"),
            fail_tasks: streams.stream("failures/tasks"),
            fail_fargate: streams.stream("failures/fargate-spot"),
            tasks_lost: 0,
            bucket: TokenBucket {
                on: fg.launch_rate_limit,
                tokens: i64::from(fg.launch_burst) * 1_000_000,
                cap: i64::from(fg.launch_burst) * 1_000_000,
                per_ms,
                last: 0,
            },
            fargate_rates,
            ledger,
            provider_names,
            scratch_owners: Vec::new(),
            hash: StableHasher::default(),
            state_changes: 0,
            open_work: 0,
            n_prov: 0,
            n_pending: 0,
            n_running: 0,
            n_launching: 0,
            n_active: 0,
            peak_instances: 0,
            next_metrics_ms: 0,
            last_t: 0,
            cpu_reserved_int: 0,
            cpu_registered_int: 0,
            mem_reserved_int: 0,
            mem_registered_int: 0,
            samples: vec![ServiceSample::default(); sc.services.len()],
            cluster_samples: vec![ClusterSample::default(); sc.clusters.len()],
            tasks_started: 0,
            tasks_completed: 0,
            tasks_failed: 0,
            tasks_scaled_in: 0,
            tasks_waited: 0,
            service_failures: 0,
            wait_sum: 0,
            wait_max: 0,
            waits: 0,
            task_ms: 0,
            check: opts.check_invariants,
            stop_reason: "no_work_left",
        };
        for (c, g) in deferred_instances {
            sim.launch_instance(c as usize, g as usize, 0, sched);
        }
        for j in 0..sim.jobs.len() {
            sim.schedule_arrival(j as u32, sched);
        }
        for (a, act) in sc.actions.iter().enumerate() {
            sim.open_work += 1;
            sched.schedule_at(SimTime::from_ms(act.at_ms), Ev::Action { action: a as u32 });
        }
        // Services that launch without instances (Fargate, capacity providers) start at once.
        for c in 0..sim.clusters.len() {
            sim.request_retry(c as u32, sched);
        }
        sim.setup_scaling(&streams, sched);
        for (k, f) in sc.failures.scripted.iter().enumerate() {
            sched.schedule_at(SimTime::from_ms(f.at_ms), Ev::Scripted { index: k as u32 });
        }
        sim
    }

    /// Launch one instance of a group: it is LAUNCHING, billed from now, and registers after the
    /// group's launch delay. Instance k of a group goes to AZ `k mod n` and type `k mod m`.
    fn launch_instance(&mut self, c: usize, g: usize, now: u64, sched: &mut Scheduler<Ev>) -> u32 {
        let sc = self.sc;
        let cdef = &sc.clusters[c];
        let gdef = &cdef.groups[g];
        let mut k = self.clusters[c].group_launched[g] as usize;
        // An Auto Scaling group launches into the group's AZs in turn, skipping AZs that are down.
        for _ in 0..gdef.availability_zones.len() {
            if !self
                .recovery
                .az_down
                .contains(&gdef.availability_zones[k % gdef.availability_zones.len()])
            {
                break;
            }
            k += 1;
            self.clusters[c].group_launched[g] += 1;
        }
        self.clusters[c].group_launched[g] += 1;
        self.next_instance += 1;
        let ty = &sc.instance_types[gdef.instance_types[k % gdef.instance_types.len()]];
        let az = gdef.availability_zones[k % gdef.availability_zones.len()].clone();
        let ec2_id = format!("i-{:017x}", self.next_instance);
        let provider_k = cdef
            .capacity_providers
            .iter()
            .position(|p| p.kind == ProviderKind::Asg { group: g });
        let pool = provider_k.map_or(0, |k| k as u32 + 1);
        let provider = provider_k.map_or(0, |k| self.cluster_provider_ids[c][k]);
        let mut attributes = vec![
            (AZ_ATTRIBUTE.to_string(), az.clone()),
            ("ecs.instance-type".to_string(), ty.name.clone()),
            ("ecs.os-type".to_string(), "linux".to_string()),
            ("ecs.os-family".to_string(), "LINUX".to_string()),
            ("ecs.cpu-architecture".to_string(), ty.architecture.clone()),
            ("ecs.ami-id".to_string(), "ami-ecsim".to_string()),
        ];
        attributes.extend(gdef.attributes.iter().cloned());
        let id = self.clusters[c].pc.add_instance(InstanceSpec {
            ec2_instance_id: ec2_id.clone(),
            cpu_units: ty.cpu_units,
            memory_mib: ty.registered_memory_mib(
                sc.settings.os_memory_overhead_pct,
                gdef.reserved_memory_mib,
            ),
            eni_tasks: ty.eni_tasks(),
            attributes,
            agent_version: sc.settings.agent_version.clone(),
            pool,
        });
        let pr = &sc.pricing;
        let spot = gdef.purchase_option == PurchaseOption::Spot;
        let od = pr
            .table
            .ec2
            .on_demand
            .get(&ty.name)
            .copied()
            .unwrap_or_else(|| pricing::pico_per_hour(ty.price_per_hour_usd));
        let base = if spot {
            match pr.ec2_spot_discount_pct {
                Some(d) => ((od as f64) * (1.0 - d / 100.0)).round() as u128,
                None => pr.table.ec2.spot.get(&ty.name).copied().unwrap_or(od),
            }
        } else {
            ((od as f64) * (1.0 - pr.ec2_discount_pct / 100.0)).round() as u128
        };
        let ebs = pr.table.ec2.ebs_gb_month * u128::from(pr.ebs_gb_per_instance)
            / u128::from(pr.table.ec2.hours_per_month);
        self.clusters[c].insts.push(InstRt {
            ec2_id,
            az,
            state: IState::Launching,
            launched: now,
            stopped_at: NONE,
            group: g as u16,
            busy_tasks: 0,
            dead: false,
            noticed: false,
            draining: false,
            provider,
            spot,
            rate: base + ebs,
            last_bill: now,
            owners: Vec::new(),
        });
        let delay = gdef.launch_delay.sample(&mut self.launch_delays);
        self.n_launching += 1;
        let live = u64::from(self.n_launching + self.n_active);
        self.peak_instances = self.peak_instances.max(live);
        self.emit_instance(now, c, id.0, "", "LAUNCHING", "");
        self.open_work += 1;
        sched.schedule_in(
            delay,
            Ev::InstanceRegistered {
                cluster: c as u32,
                instance: id.0,
            },
        );
        self.arm_instance_failures(c, id.0, now, sched);
        id.0
    }

    fn is_daemon(&self, o: Owner) -> bool {
        matches!(o, Owner::Service(s) if self.sc.services[s as usize].scheduling == SchedulingStrategy::Daemon)
    }

    fn owner_index(&self, o: Owner) -> usize {
        match o {
            Owner::Service(s) => s as usize,
            Owner::Job(j, _) => self.sc.services.len() + j as usize,
        }
    }

    fn launch_rt(&mut self, o: Owner) -> &mut LaunchRt {
        match o {
            Owner::Service(s) => &mut self.services[s as usize].launch,
            Owner::Job(j, _) => &mut self.jobs[j as usize].launch,
        }
    }

    fn owner_azs(&self, o: Owner) -> &'s [String] {
        match o {
            Owner::Service(s) => &self.sc.services[s as usize].availability_zones,
            Owner::Job(j, _) => &self.sc.jobs[j as usize].availability_zones,
        }
    }

    fn schedule_arrival(&mut self, j: u32, sched: &mut Scheduler<Ev>) {
        let job = &self.sc.jobs[j as usize];
        let rt = &mut self.jobs[j as usize];
        let at = match &job.arrival {
            Arrival::List(times) => times.get(rt.emitted as usize).copied(),
            Arrival::Periodic {
                start_ms,
                every_ms,
                batch,
                batches,
                spread_ms,
            } => {
                let (b, k) = (
                    rt.emitted / u64::from(*batch),
                    rt.emitted % u64::from(*batch),
                );
                if batches.is_some_and(|n| b >= n) {
                    None
                } else {
                    Some(start_ms + b * every_ms + k * spread_ms / u64::from(*batch))
                }
            }
            Arrival::Poisson {
                rate_per_s,
                start_ms,
                count,
                end_ms,
            } => {
                if count.is_some_and(|c| rt.emitted >= c) {
                    None
                } else {
                    if rt.emitted == 0 {
                        rt.next_ms = *start_ms as f64;
                    }
                    let gap: f64 =
                        rand_distr::Distribution::sample(&rand_distr::Exp1, &mut rt.arrivals);
                    rt.next_ms += gap * 1000.0 / rate_per_s;
                    let t = rt.next_ms.round() as u64;
                    (!end_ms.is_some_and(|e| t > e)).then_some(t)
                }
            }
        };
        if let Some(t) = at {
            let t = t.max(sched.now().ms());
            if self.sc.simulation.duration_ms.is_some_and(|d| t >= d) {
                return;
            }
            self.open_work += 1;
            sched.schedule_at(SimTime::from_ms(t), Ev::Arrival { job: j });
        }
    }

    fn advance(&mut self, now: u64) {
        while self.next_metrics_ms < now {
            let t = self.next_metrics_ms;
            self.write_metrics(t);
            self.next_metrics_ms += self.sc.simulation.metrics_period_ms;
        }
        if now > self.last_t {
            self.integrate_idle(self.last_t, now);
            self.integrate_availability(self.last_t, now - self.last_t);
            let dt = u128::from(now - self.last_t);
            for c in &mut self.clusters {
                let (a, b, x, y) = c.pc.reservation_totals();
                c.acc.cpu_registered += u128::from(a) * dt;
                c.acc.mem_registered += u128::from(b) * dt;
                c.acc.cpu_reserved += u128::from(x) * dt;
                c.acc.mem_reserved += u128::from(y) * dt;
                c.acc.in_use += u128::from(c.pc.instances_in_use()) * dt;
                let (uc, um) = c.pc.in_use_capacity();
                c.acc.in_use_cpu += u128::from(uc) * dt;
                c.acc.in_use_mem += u128::from(um) * dt;
                self.cpu_registered_int += u128::from(a) * dt;
                self.mem_registered_int += u128::from(b) * dt;
                self.cpu_reserved_int += u128::from(x) * dt;
                self.mem_reserved_int += u128::from(y) * dt;
            }
            self.last_t = now;
        }
    }

    fn write_metrics(&mut self, t: u64) {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let (mut rc, mut rm, mut uc, mut um) = (0u64, 0u64, 0u64, 0u64);
        for (c, sample) in self.clusters.iter().zip(self.cluster_samples.iter_mut()) {
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
        for (s, rt) in self.samples.iter_mut().zip(&self.services) {
            *s = ServiceSample {
                desired: rt.desired,
                running: rt.running,
                pending: rt.pending,
                provisioning: rt.provisioning,
            };
        }
        let loads: Vec<LoadRow> = self
            .scaling
            .services
            .iter()
            .map(|st| LoadRow {
                demand_rps: st.last.demand_rps,
                served_rps: st.last.served_rps,
                unserved_rps: st.last.unserved_rps,
                cpu_pct: st.last.cpu_pct,
                memory_pct: st.last.memory_pct,
                requests_per_target: st.last_rpt,
            })
            .collect();
        let cas: Vec<ProviderRow> = self
            .scaling
            .providers
            .iter()
            .map(|p| ProviderRow {
                instances: p.instances,
                reservation_pct: p.last_cpr,
            })
            .collect();
        self.sink.metrics(&MetricsRow {
            loads: &loads,
            providers: &cas,
            time_ms: t,
            instances_launching: self.n_launching,
            instances_active: self.n_active,
            instances_draining: self.n_draining,
            instances_stopped: self.n_stopped,
            tasks_provisioning: self.n_prov,
            tasks_pending: self.n_pending,
            tasks_running: self.n_running,
            cpu_reserved_pct: pct(uc, rc),
            memory_reserved_pct: pct(um, rm),
            clusters: &self.cluster_samples,
            services: &self.samples,
        });
    }

    fn task_event(&mut self, tid: u32, now: u64, from: TState, to: TState, reason: &str) {
        let t = &self.tasks[tid as usize];
        let (service, job) = match t.owner {
            Owner::Service(s) => (self.sc.services[s as usize].name.as_str(), ""),
            Owner::Job(j, _) => ("", self.sc.jobs[j as usize].name.as_str()),
        };
        let instance = if t.instance == NO_INSTANCE {
            ""
        } else {
            self.clusters[t.cluster as usize].insts[t.instance as usize]
                .ec2_id
                .as_str()
        };
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Task,
                task: Some(u64::from(tid)),
                service,
                job,
                instance,
                from: if from == to { "" } else { from.as_str() },
                to: to.as_str(),
                reason,
            },
        );
    }

    fn count_state(&mut self, s: TState, delta: i64) {
        let c = match s {
            TState::Provisioning => &mut self.n_prov,
            TState::Pending => &mut self.n_pending,
            TState::Running => &mut self.n_running,
            TState::Stopped => return,
        };
        *c = c
            .checked_add_signed(delta)
            .expect("task state counts never go negative");
    }

    /// Move a task to a new state (`from == to` marks a new task: it enters `to`).
    fn set_state(&mut self, tid: u32, to: TState, now: u64, reason: &str, new: bool) {
        let from = if new {
            to
        } else {
            self.tasks[tid as usize].state
        };
        if !new {
            self.count_state(from, -1);
        }
        self.count_state(to, 1);
        self.tasks[tid as usize].state = to;
        if let Owner::Service(s) = self.tasks[tid as usize].owner {
            let svc = &mut self.services[s as usize];
            if !new {
                match from {
                    TState::Provisioning => svc.provisioning -= 1,
                    TState::Pending => svc.pending -= 1,
                    TState::Running => svc.running -= 1,
                    TState::Stopped => {}
                }
            }
            match to {
                TState::Provisioning => svc.provisioning += 1,
                TState::Pending => svc.pending += 1,
                TState::Running => svc.running += 1,
                TState::Stopped => {}
            }
        }
        self.task_event(tid, now, from, to, reason);
    }

    #[allow(clippy::too_many_arguments)]
    fn new_task(
        &mut self,
        def: u32,
        owner: Owner,
        cluster: u32,
        group: GroupId,
        now: u64,
        run_ms: u64,
        runs: Runs,
        provider: u16,
        item: u8,
    ) -> u32 {
        let tid = u32::try_from(self.tasks.len()).expect("fewer than 4 billion tasks");
        self.tasks.push(Task {
            def,
            owner,
            cluster,
            instance: NO_INSTANCE,
            group,
            runs,
            provider,
            item,
            state: TState::Stopped,
            created: now,
            placed: NONE,
            running: NONE,
            stopped: NONE,
            run_ms,
            outcome: Outcome::Open,
            healthy_at: NONE,
            retiring: false,
            lost: false,
            fail_start: false,
        });
        if item != NO_ITEM {
            self.launch_rt(owner).counts[item as usize] += 1;
        }
        if let Runs::Fargate { az, .. } = runs {
            self.launch_rt(owner).fargate_az[az as usize] += 1;
        }
        if let Owner::Service(s) = owner {
            self.services[s as usize].live.push(tid);
        }
        tid
    }

    /// Book an instance's cost from its last booking to `now`.
    fn accrue_instance(&mut self, c: usize, i: u32, now: u64) {
        let inst = &self.clusters[c].insts[i as usize];
        let t0 = inst.last_bill;
        if now <= t0 || inst.state == IState::Stopped {
            return;
        }
        let id = InstanceId(i);
        let (ctot, mtot, _) = self.clusters[c].pc.registered(id);
        let (cav, mav, _) = self.clusters[c].pc.available(id);
        let (ctot, mtot) = (u128::from(ctot), u128::from(mtot));
        let active = inst.state == IState::Active;
        // Used fraction: the larger of the CPU and memory reservation fractions.
        let (num, den) = if active {
            (
                ((ctot - u128::from(cav)) * mtot).max((mtot - u128::from(mav)) * ctot),
                ctot * mtot,
            )
        } else {
            (0, 0)
        };
        let mut owners = std::mem::take(&mut self.scratch_owners);
        owners.clear();
        for &(o, cpu, mem) in &inst.owners {
            owners.push((o as usize, u128::from(cpu) * mtot + u128::from(mem) * ctot));
        }
        let target = Ec2Target {
            provider: inst.provider as usize,
            spot: inst.spot,
        };
        let (rate, spot) = (inst.rate, inst.spot);
        let changes = &self.sc.pricing.spot_price_changes;
        let mut a = t0;
        while a < now {
            let mut b = ((a / 3_600_000) + 1) * 3_600_000;
            let mut r = rate;
            if spot && !changes.is_empty() {
                let k = changes.partition_point(|c| c.0 <= a);
                if k > 0 {
                    r = ((rate as f64) * changes[k - 1].1).round() as u128;
                }
                if let Some(next) = changes.get(k) {
                    b = b.min(next.0);
                }
            }
            let b = b.min(now);
            self.ledger.book_ec2(
                a,
                pricing::instance_charge(r, b - a),
                num,
                den,
                &owners,
                target,
            );
            a = b;
        }
        self.scratch_owners = owners;
        self.clusters[c].insts[i as usize].last_bill = now;
    }

    fn instance_owner_change(
        &mut self,
        c: usize,
        i: u32,
        owner: u32,
        cpu: u32,
        mem: u32,
        add: bool,
    ) {
        let list = &mut self.clusters[c].insts[i as usize].owners;
        match list.iter().position(|o| o.0 == owner) {
            Some(k) if add => {
                list[k].1 += cpu;
                list[k].2 += mem;
            }
            Some(k) => {
                list[k].1 -= cpu;
                list[k].2 -= mem;
                if list[k].1 == 0 && list[k].2 == 0 {
                    list.swap_remove(k);
                }
            }
            None => {
                assert!(add, "releasing an owner that holds nothing");
                list.push((owner, cpu, mem));
            }
        }
    }

    /// Reserve resources and move a task to PENDING (and RUNNING if the start delay is zero).
    fn start_task(&mut self, tid: u32, inst: InstanceId, now: u64, sched: &mut Scheduler<Ev>) {
        let t = &self.tasks[tid as usize];
        let (c, def, group, owner, was) = (t.cluster as usize, t.def, t.group, t.owner, t.state);
        let new = t.placed == NONE && was == TState::Stopped && t.stopped == NONE;
        self.accrue_instance(c, inst.0, now);
        let req = task_request(self.sc, def, group, &[], &[], NO_POOL);
        let cl = &mut self.clusters[c];
        cl.pc.allocate(inst, &req);
        cl.acc.peak_in_use = cl.acc.peak_in_use.max(cl.pc.instances_in_use());
        let o = self.owner_index(owner) as u32;
        self.instance_owner_change(c, inst.0, o, req.cpu_units, req.memory_mib, true);
        if !self.is_daemon(owner) {
            let i = &mut self.clusters[c].insts[inst.0 as usize];
            i.busy_tasks += 1;
            if i.busy_tasks == 1 {
                self.clusters[c].busy += 1;
            }
        }
        let t = &mut self.tasks[tid as usize];
        t.instance = inst.0;
        t.placed = now;
        let wait = now - t.created;
        self.wait_sum += u128::from(wait);
        self.wait_max = self.wait_max.max(wait);
        self.waits += 1;
        self.set_state(tid, TState::Pending, now, "", new);
        self.roll_start_failure(tid);
        let delay = if self.sc.settings.task_start_delay.is_zero() {
            0
        } else {
            self.sc
                .settings
                .task_start_delay
                .sample(&mut self.start_delays)
        };
        if delay == 0 {
            self.task_running(tid, now, sched);
        } else {
            self.open_work += 1;
            sched.schedule_in(delay, Ev::TaskRunning { task: tid });
        }
    }

    fn task_running(&mut self, tid: u32, now: u64, sched: &mut Scheduler<Ev>) {
        if self.tasks[tid as usize].state != TState::Pending {
            return; // stopped while pending
        }
        if self.tasks[tid as usize].fail_start {
            // The image pull (or container start) fails: PENDING to STOPPED without RUNNING.
            self.tasks_lost += 1;
            self.stop_task(
                tid,
                Outcome::Failed("CannotPullContainerError"),
                "CannotPullContainerError",
                now,
                sched,
            );
            return;
        }
        self.set_state(tid, TState::Running, now, "", false);
        self.tasks_started += 1;
        let t = &mut self.tasks[tid as usize];
        t.running = now;
        if let Owner::Job(..) = t.owner {
            let run = t.run_ms;
            self.open_work += 1;
            sched.schedule_in(run, Ev::TaskExited { task: tid });
        }
        self.arm_task(tid, now, sched);
    }

    /// Decide at PENDING whether the task will fail to start.
    fn roll_start_failure(&mut self, tid: u32) {
        let p = self.sc.task_definitions[self.tasks[tid as usize].def as usize]
            .start_failure_probability;
        if p > 0.0 {
            self.tasks[tid as usize].fail_start = self.fail_tasks.random::<f64>() < p;
        }
    }

    /// Bill a Fargate task from PENDING to `end`, rounded up with the minimum, as stopped then.
    fn bill_fargate(&mut self, tid: u32, end: u64) {
        let t = &self.tasks[tid as usize];
        let Runs::Fargate { spot, .. } = t.runs else {
            return;
        };
        if t.placed == NONE {
            return;
        }
        let d = &self.sc.task_definitions[t.def as usize];
        let windows = d.os == OsFamily::Windows;
        let rates = self.fargate_rates
            [rate_slot(spot, windows, d.architecture.as_deref() == Some("arm64"))]
        .expect("validated: rates exist");
        let f = &self.sc.pricing.table.fargate;
        let min_s = if windows {
            f.minimum_seconds_windows
        } else {
            f.minimum_seconds_linux
        };
        let extra_gb = d.ephemeral_storage_gb.saturating_sub(f.storage_included_gb);
        let (start, owner, provider) = (t.placed, self.owner_index(t.owner), t.provider as usize);
        let (cpu, mem, storage) = (
            d.task_cpu.unwrap_or(d.cpu_units),
            d.task_memory.unwrap_or(d.memory_mib),
            f.storage_gb,
        );
        let billed = pricing::billed_ms(end - start, min_s);
        let ledger = &mut self.ledger;
        Ledger::split_hours(start, end, |_, a, b| {
            ledger.book_fargate(
                a,
                pricing::fargate_charge(&rates, storage, cpu, mem, extra_gb, b - a),
                spot,
                provider,
                owner,
            );
        });
        let top_up = billed - (end - start);
        if top_up > 0 {
            ledger.book_fargate(
                end.saturating_sub(1).max(start),
                pricing::fargate_charge(&rates, storage, cpu, mem, extra_gb, top_up),
                spot,
                provider,
                owner,
            );
        }
    }

    fn stop_task(
        &mut self,
        tid: u32,
        outcome: Outcome,
        reason: &str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let t = &self.tasks[tid as usize];
        let (c, def, group, inst, owner, item, runs, placed, state) = (
            t.cluster as usize,
            t.def,
            t.group,
            t.instance,
            t.owner,
            t.item,
            t.runs,
            t.placed,
            t.state,
        );
        if state == TState::Provisioning
            && let Some(k) = self.clusters[c].waiting.iter().position(|&w| w == tid)
        {
            self.clusters[c].waiting.remove(k);
        }
        if inst != NO_INSTANCE {
            self.accrue_instance(c, inst, now);
            let req = task_request(self.sc, def, group, &[], &[], NO_POOL);
            self.clusters[c].pc.release(InstanceId(inst), &req);
            let o = self.owner_index(owner) as u32;
            self.instance_owner_change(c, inst, o, req.cpu_units, req.memory_mib, false);
            if !self.is_daemon(owner) {
                let i = &mut self.clusters[c].insts[inst as usize];
                i.busy_tasks -= 1;
                if i.busy_tasks == 0 {
                    self.clusters[c].busy -= 1;
                }
            }
        }
        self.bill_fargate(tid, now);
        if placed != NONE {
            self.task_ms += u128::from(now - placed);
        }
        if item != NO_ITEM {
            self.launch_rt(owner).counts[item as usize] -= 1;
        }
        if let Runs::Fargate { az, .. } = runs {
            self.launch_rt(owner).fargate_az[az as usize] -= 1;
        }
        let t = &mut self.tasks[tid as usize];
        t.stopped = now;
        t.outcome = outcome;
        let (never_ran, was_lost) = (t.running == NONE, t.lost && state == TState::Running);
        if let Owner::Service(s) = owner {
            self.services[s as usize].live.retain(|&x| x != tid);
            if was_lost {
                self.health[s as usize].lost -= 1;
            }
        }
        self.set_state(tid, TState::Stopped, now, reason, false);
        if inst != NO_INSTANCE {
            self.request_retry(c as u32, sched);
        }
        if let (Owner::Service(s), Outcome::Failed(_)) = (owner, outcome) {
            self.service_task_stopped(s, tid, never_ran, !never_ran, now, sched);
        }
    }

    /// Standalone tasks placed on an instance (a scan: failures are rare).
    fn job_tasks_on(&self, c: usize, i: u32) -> Vec<u32> {
        (0..self.tasks.len() as u32)
            .filter(|&t| {
                let x = &self.tasks[t as usize];
                matches!(x.owner, Owner::Job(..))
                    && x.cluster as usize == c
                    && x.instance == i
                    && x.state != TState::Stopped
            })
            .collect()
    }

    fn request_retry(&mut self, c: u32, sched: &mut Scheduler<Ev>) {
        let cl = &mut self.clusters[c as usize];
        if cl.retry_scheduled
            || (cl.waiting.is_empty() && cl.svc_deficit.is_empty() && cl.daemon_missing.is_empty())
        {
            return;
        }
        cl.retry_scheduled = true;
        self.open_work += 1;
        sched.schedule_at(sched.now(), Ev::Retry { cluster: c });
    }

    /// Launch one task for an owner: choose the provider, then place it, send it to Fargate, or
    /// queue it. `Err` only for launch type EC2 when nothing fits (the caller decides).
    #[allow(clippy::too_many_arguments)]
    fn launch(
        &mut self,
        owner: Owner,
        def: u32,
        group: GroupId,
        constraints: &[Constraint],
        strategy: &[Strategy],
        run_ms: u64,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) -> Result<u32, PlacementFailure> {
        let cluster = match owner {
            Owner::Service(s) => self.sc.services[s as usize].cluster,
            Owner::Job(j, _) => self.sc.jobs[j as usize].cluster,
        } as u32;
        let lrt = self.launch_rt(owner);
        let (target, provider, item) = match &lrt.spec {
            LaunchKind::Ec2 => (Target::Pool(NO_POOL), 0u16, NO_ITEM),
            LaunchKind::Fargate => (Target::Fargate { spot: false }, 0, NO_ITEM),
            LaunchKind::Strategy(items) => {
                let k = choose_item(items, &lrt.counts);
                (items[k].target, items[k].provider, k as u8)
            }
        };
        match target {
            Target::Pool(pool) => {
                let req = task_request(self.sc, def, group, constraints, strategy, pool);
                match self.clusters[cluster as usize].pc.find(&req) {
                    Some(inst) => {
                        let tid = self.new_task(
                            def,
                            owner,
                            cluster,
                            group,
                            now,
                            run_ms,
                            Runs::Ec2 { pool },
                            provider,
                            item,
                        );
                        self.start_task(tid, inst, now, sched);
                        Ok(tid)
                    }
                    None if pool == NO_POOL => {
                        Err(self.clusters[cluster as usize].pc.diagnose(&req))
                    }
                    None => {
                        // A capacity provider accepts the task; it waits in PROVISIONING.
                        let tid = self.new_task(
                            def,
                            owner,
                            cluster,
                            group,
                            now,
                            run_ms,
                            Runs::Ec2 { pool },
                            provider,
                            item,
                        );
                        self.set_state(tid, TState::Provisioning, now, "", true);
                        self.clusters[cluster as usize].waiting.push_back(tid);
                        self.tasks_waited += 1;
                        Ok(tid)
                    }
                }
            }
            Target::Fargate { spot } => {
                let counts = &self.launch_rt(owner).fargate_az;
                let min = counts.iter().copied().min().expect("at least one AZ");
                let ties: Vec<usize> = counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c == min)
                    .map(|(k, _)| k)
                    .collect();
                let az = if ties.len() == 1 {
                    ties[0]
                } else {
                    ties[self.fargate_az.random_range(0..ties.len())]
                } as u16;
                let tid = self.new_task(
                    def,
                    owner,
                    cluster,
                    group,
                    now,
                    run_ms,
                    Runs::Fargate { spot, az },
                    provider,
                    item,
                );
                self.set_state(tid, TState::Provisioning, now, "", true);
                let wait = self.bucket.take(now);
                if wait > 0 {
                    self.tasks_waited += 1;
                }
                let delay = wait
                    + self
                        .sc
                        .fargate
                        .provisioning_delay
                        .sample(&mut self.fargate_delays);
                self.open_work += 1;
                sched.schedule_in(delay, Ev::FargateProvisioned { task: tid });
                Ok(tid)
            }
        }
    }

    fn fargate_provisioned(&mut self, tid: u32, now: u64, sched: &mut Scheduler<Ev>) {
        if self.tasks[tid as usize].state != TState::Provisioning {
            return;
        }
        let t = &mut self.tasks[tid as usize];
        t.placed = now;
        let wait = now - t.created;
        self.wait_sum += u128::from(wait);
        self.wait_max = self.wait_max.max(wait);
        self.waits += 1;
        self.set_state(tid, TState::Pending, now, "", false);
        self.roll_start_failure(tid);
        let delay = self
            .sc
            .fargate
            .image_pull_delay
            .sample(&mut self.fargate_delays);
        self.open_work += 1;
        sched.schedule_in(delay, Ev::TaskRunning { task: tid });
    }

    fn arrival(&mut self, j: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let job = &self.sc.jobs[j as usize];
        let rt = &mut self.jobs[j as usize];
        rt.emitted += 1;
        let k = if rt.entries.len() == 1 {
            0
        } else {
            let total = *rt.cumulative.last().expect("mix");
            let u = rt.mix.random::<f64>() * total;
            rt.cumulative
                .partition_point(|&c| c <= u)
                .min(rt.entries.len() - 1)
        };
        let run_ms = job.run_time.sample(&mut rt.run_times);
        let (def, group) = (rt.entries[k].0, rt.entries[k].1);
        let cons = std::mem::take(&mut self.jobs[j as usize].entries[k].2);
        let result = self.launch(
            Owner::Job(j, k as u32),
            def,
            group,
            &cons,
            &job.strategy,
            run_ms,
            now,
            sched,
        );
        self.jobs[j as usize].entries[k].2 = cons;
        if let Err(why) = result {
            // Launch type EC2 and nothing fits: RunTask fails at once, or the task waits.
            let c = job.cluster as u32;
            let tid = self.new_task(
                def,
                Owner::Job(j, k as u32),
                c,
                group,
                now,
                run_ms,
                Runs::Ec2 { pool: NO_POOL },
                0,
                NO_ITEM,
            );
            match job.on_no_capacity {
                OnNoCapacity::Fail => {
                    let t = &mut self.tasks[tid as usize];
                    t.outcome = Outcome::FailedToPlace(why);
                    t.stopped = now;
                    self.tasks_failed += 1;
                    self.task_event(tid, now, TState::Stopped, TState::Stopped, why.code());
                }
                OnNoCapacity::Wait => {
                    self.set_state(tid, TState::Provisioning, now, "", true);
                    self.clusters[c as usize].waiting.push_back(tid);
                    self.tasks_waited += 1;
                }
            }
        }
        self.schedule_arrival(j, sched);
    }

    fn service_event(&mut self, s: u32, now: u64, from: &str, to: &str, reason: &str) {
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Service,
                task: None,
                service: &self.sc.services[s as usize].name,
                job: "",
                instance: "",
                from,
                to,
                reason,
            },
        );
    }

    /// Which task a service stops on scale-in: one still PROVISIONING (newest first); else from the
    /// capacity provider furthest above its share; then by the placement strategy on EC2, or from
    /// the AZ with the most tasks on Fargate (newest first).
    fn choose_stop(&self, s: u32) -> u32 {
        let svc = &self.services[s as usize];
        if let Some(&t) = svc
            .live
            .iter()
            .rev()
            .find(|&&t| self.tasks[t as usize].state == TState::Provisioning)
        {
            return t;
        }
        let item = match &svc.launch.spec {
            LaunchKind::Strategy(items) if items.len() > 1 => {
                Some(shrink_item(items, &svc.launch.counts) as u8)
            }
            _ => None,
        };
        let cands: Vec<u32> = svc
            .live
            .iter()
            .copied()
            .filter(|&t| item.is_none_or(|k| self.tasks[t as usize].item == k))
            .collect();
        if let Runs::Fargate { .. } = self.tasks[cands[0] as usize].runs {
            let counts = &svc.launch.fargate_az;
            let max = *counts.iter().max().expect("azs");
            return *cands
                .iter()
                .rev()
                .find(|&&t| matches!(self.tasks[t as usize].runs, Runs::Fargate { az, .. } if counts[az as usize] == max))
                .unwrap_or(cands.last().expect("live"));
        }
        let def = &self.sc.services[s as usize];
        let stop: Vec<StopCandidate> = cands
            .iter()
            .map(|&t| {
                let d = &self.sc.task_definitions[self.tasks[t as usize].def as usize];
                StopCandidate {
                    instance: InstanceId(self.tasks[t as usize].instance),
                    cpu_units: d.cpu_units,
                    memory_mib: d.memory_mib,
                }
            })
            .collect();
        let pick = self.clusters[def.cluster]
            .pc
            .choose_to_stop(svc.group, &def.strategy, &stop)
            .expect("live tasks");
        cands[pick]
    }

    /// Try to place every daemon of a cluster on one instance.
    fn place_daemons(&mut self, c: u32, inst: u32, now: u64, sched: &mut Scheduler<Ev>) {
        for k in 0..self.clusters[c as usize].daemons.len() {
            let s = self.clusters[c as usize].daemons[k];
            self.place_daemon(c, s, inst, now, sched, true);
        }
    }

    fn place_daemon(
        &mut self,
        c: u32,
        s: u32,
        inst: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
        first_time: bool,
    ) {
        let def = &self.sc.services[s as usize];
        let group = self.services[s as usize].group;
        let req = task_request(
            self.sc,
            def.task_definition as u32,
            group,
            &def.constraints,
            &[],
            NO_POOL,
        );
        let check = self.clusters[c as usize].pc.check(InstanceId(inst), &req);
        match check {
            Ok(()) => {
                self.clusters[c as usize].daemon_missing.remove(&(s, inst));
                let tid = self.new_task(
                    def.task_definition as u32,
                    Owner::Service(s),
                    c,
                    group,
                    now,
                    0,
                    Runs::Ec2 { pool: NO_POOL },
                    0,
                    NO_ITEM,
                );
                self.start_task(tid, InstanceId(inst), now, sched);
            }
            Err(PlacementFailure::DistinctInstance | PlacementFailure::MemberOf) => {
                if !first_time {
                    self.clusters[c as usize].daemon_missing.remove(&(s, inst));
                    self.services[s as usize].desired -= 1;
                }
            }
            Err(why) => {
                self.clusters[c as usize].daemon_missing.insert((s, inst));
                if first_time {
                    self.service_failures += 1;
                    self.service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                }
            }
        }
        if first_time
            && !matches!(
                check,
                Err(PlacementFailure::MemberOf | PlacementFailure::DistinctInstance)
            )
        {
            // Eligible instance (placed now or waiting for room): it counts towards the daemon's desired count.
            self.services[s as usize].desired += 1;
        }
    }

    fn retry(&mut self, c: u32, now: u64, sched: &mut Scheduler<Ev>) {
        self.clusters[c as usize].retry_scheduled = false;
        let missing: Vec<(u32, u32)> = self.clusters[c as usize]
            .daemon_missing
            .iter()
            .copied()
            .collect();
        for (s, inst) in missing {
            self.place_daemon(c, s, inst, now, sched, false);
        }
        let deficit: Vec<u32> = self.clusters[c as usize]
            .svc_deficit
            .iter()
            .copied()
            .collect();
        for s in deficit {
            self.reconcile(s, now, sched);
        }
        let n = self.clusters[c as usize].waiting.len();
        let mut failed: Vec<(Owner, u32)> = Vec::new();
        for _ in 0..n {
            let Some(tid) = self.clusters[c as usize].waiting.pop_front() else {
                break;
            };
            let t = &self.tasks[tid as usize];
            let Runs::Ec2 { pool } = t.runs else {
                unreachable!("only EC2 tasks wait for instances")
            };
            let sig = (t.owner, pool);
            if !failed.contains(&sig) {
                let found = {
                    let (cons, strategy): (&[Constraint], &[Strategy]) = match t.owner {
                        Owner::Job(j, k) => (
                            &self.jobs[j as usize].entries[k as usize].2,
                            &self.sc.jobs[j as usize].strategy,
                        ),
                        Owner::Service(s) => (
                            &self.sc.services[s as usize].constraints,
                            &self.sc.services[s as usize].strategy,
                        ),
                    };
                    let req = task_request(self.sc, t.def, t.group, cons, strategy, pool);
                    self.clusters[c as usize].pc.find(&req)
                };
                if let Some(inst) = found {
                    self.start_task(tid, inst, now, sched);
                    continue;
                }
                // Same owner and pool means same needs: none of them fits in this pass.
                failed.push(sig);
            }
            self.clusters[c as usize].waiting.push_back(tid);
        }
    }

    fn instance_registered(&mut self, c: u32, i: u32, now: u64, sched: &mut Scheduler<Ev>) {
        if self.clusters[c as usize].insts[i as usize].state == IState::Stopped {
            return;
        }
        self.accrue_instance(c as usize, i, now);
        let cl = &mut self.clusters[c as usize];
        cl.pc.set_status(InstanceId(i), InstanceStatus::Active, now);
        cl.insts[i as usize].state = IState::Active;
        self.n_launching -= 1;
        self.n_active += 1;
        self.emit_instance(now, c as usize, i, "LAUNCHING", "ACTIVE", "");
        self.place_daemons(c, i, now, sched);
        self.request_retry(c, sched);
    }

    /// Whole-run invariants: no instance over-committed on CPU, memory, ports or ENIs; every
    /// task in exactly one state with the counters agreeing; no service above its maximum;
    /// capacity provider and AZ counters agree with the tasks.
    pub fn check_invariants(&self) {
        #[derive(Clone, Default)]
        struct Used {
            cpu: u64,
            mem: u64,
            eni: u32,
            ports: Vec<u32>,
        }
        let mut per_inst: Vec<Vec<Used>> = self
            .clusters
            .iter()
            .map(|c| vec![Used::default(); c.insts.len()])
            .collect();
        let (mut prov, mut pend, mut run) = (0, 0, 0);
        let n_owners = self.services.len() + self.jobs.len();
        let mut item_counts: Vec<BTreeMap<u8, u32>> = vec![BTreeMap::new(); n_owners];
        for t in &self.tasks {
            match t.state {
                TState::Provisioning => prov += 1,
                TState::Pending => pend += 1,
                TState::Running => run += 1,
                TState::Stopped => {}
            }
            let on_instance = matches!(t.state, TState::Pending | TState::Running)
                && matches!(t.runs, Runs::Ec2 { .. });
            assert_eq!(
                on_instance,
                t.instance != NO_INSTANCE && t.stopped == NONE,
                "task placement and state disagree: {t:?}"
            );
            if on_instance {
                let d = &self.sc.task_definitions[t.def as usize];
                let e = &mut per_inst[t.cluster as usize][t.instance as usize];
                e.cpu += u64::from(d.cpu_units);
                e.mem += u64::from(d.memory_mib);
                e.eni += u32::from(d.network_mode == NetworkMode::Awsvpc);
                e.ports.extend(d.host_ports.iter().copied());
            }
            if t.state != TState::Stopped && t.item != NO_ITEM {
                *item_counts[self.owner_index(t.owner)]
                    .entry(t.item)
                    .or_insert(0) += 1;
            }
        }
        assert_eq!(
            (prov, pend, run),
            (self.n_prov, self.n_pending, self.n_running),
            "task state counters"
        );
        for (c, cl) in self.clusters.iter().enumerate() {
            for (
                i,
                Used {
                    cpu,
                    mem,
                    eni,
                    ports,
                },
            ) in per_inst[c].iter().enumerate()
            {
                let id = InstanceId(i as u32);
                let (tc, tm, te) = cl.pc.registered(id);
                let (ac, am, ae) = cl.pc.available(id);
                assert!(
                    *cpu <= u64::from(tc) && *mem <= u64::from(tm) && *eni <= te,
                    "instance {i} over-committed"
                );
                assert_eq!(
                    (u64::from(tc - ac), u64::from(tm - am), te - ae),
                    (*cpu, *mem, *eni),
                    "instance {i} accounting"
                );
                let owned: u64 = cl.insts[i].owners.iter().map(|o| u64::from(o.1)).sum();
                assert_eq!(owned, *cpu, "instance {i}: per-owner CPU disagrees");
                let mut p = ports.clone();
                p.sort_unstable();
                let n = p.len();
                p.dedup();
                assert_eq!(n, p.len(), "instance {i}: a host port is used twice");
                for port in &p {
                    assert!(
                        cl.pc.ports(id).contains(port),
                        "instance {i}: port {port} not reserved"
                    );
                }
            }
        }
        for (s, rt) in self.services.iter().enumerate() {
            let def = &self.sc.services[s];
            let max = (u64::from(rt.desired) * u64::from(def.maximum_percent) / 100)
                .max(u64::from(rt.desired));
            assert!(
                rt.live.len() as u64 <= max,
                "service {} runs {} tasks, above its maximum {max}",
                def.name,
                rt.live.len()
            );
            assert_eq!(
                rt.running + rt.pending + rt.provisioning,
                rt.live.len() as u32,
                "service {} counters",
                def.name
            );
        }
        let launches = self
            .services
            .iter()
            .map(|s| &s.launch)
            .chain(self.jobs.iter().map(|j| &j.launch));
        for (o, l) in launches.enumerate() {
            for (k, &c) in l.counts.iter().enumerate() {
                assert_eq!(
                    c,
                    item_counts[o].get(&(k as u8)).copied().unwrap_or(0),
                    "owner {o}: provider item {k} count"
                );
            }
        }
    }

    /// Write the final rows, the task table and the cost table, and return the summary.
    pub fn finish(mut self, stats: ecsim_engine::RunStats) -> (Summary, S) {
        let end = stats.end.ms();
        self.advance(end);
        while self.next_metrics_ms <= end {
            let t = self.next_metrics_ms;
            self.write_metrics(t);
            self.next_metrics_ms += self.sc.simulation.metrics_period_ms;
        }
        if !end.is_multiple_of(self.sc.simulation.metrics_period_ms) {
            self.write_metrics(end);
        }
        // The end bills like a stop: instances and Fargate tasks still running are billed to it.
        let min_ec2 = self.sc.pricing.table.ec2.minimum_seconds;
        for c in 0..self.clusters.len() {
            for i in 0..self.clusters[c].insts.len() as u32 {
                if self.clusters[c].insts[i as usize].state == IState::Stopped {
                    continue;
                }
                self.accrue_instance(c, i, end);
                let inst = &self.clusters[c].insts[i as usize];
                let life = end - inst.launched;
                let top_up = pricing::billed_ms(life, min_ec2) - life;
                if top_up > 0 {
                    let target = Ec2Target {
                        provider: inst.provider as usize,
                        spot: inst.spot,
                    };
                    let cost = pricing::instance_charge(inst.rate, top_up);
                    self.ledger
                        .book_ec2(end.saturating_sub(1), cost, 0, 1, &[], target);
                }
            }
        }
        for tid in 0..self.tasks.len() as u32 {
            let t = &self.tasks[tid as usize];
            if t.state != TState::Stopped {
                if t.placed != NONE {
                    self.task_ms += u128::from(end - t.placed);
                }
                self.bill_fargate(tid, end);
            }
        }
        let stop_reason = match stats.reason {
            StopReason::EventLimit => "max_events",
            StopReason::TimeLimit => "max_time",
            StopReason::QueueEmpty => "no_work_left",
            StopReason::ModelStopped => self.stop_reason,
        };
        let mut never_placed = 0;
        let mut instance_ms: u128 = 0;
        for c in &self.clusters {
            for i in &c.insts {
                instance_ms += u128::from(i.stopped_at.min(end).saturating_sub(i.launched));
            }
        }
        for (tid, t) in self.tasks.iter().enumerate() {
            let c = &self.clusters[t.cluster as usize];
            let (service, job) = match t.owner {
                Owner::Service(s) => (self.sc.services[s as usize].name.as_str(), ""),
                Owner::Job(j, _) => ("", self.sc.jobs[j as usize].name.as_str()),
            };
            let (outcome, reason) = match (t.outcome, t.state) {
                (Outcome::Completed, _) => ("completed", "EssentialContainerExited"),
                (Outcome::Failed(why), _) => ("failed", why),
                (Outcome::FailedToPlace(w), _) => ("failed_to_place", w.code()),
                (Outcome::StoppedByScheduler, _) => {
                    ("stopped_by_scheduler", "ServiceSchedulerInitiated")
                }
                (Outcome::Open, TState::Provisioning) => {
                    never_placed += 1;
                    ("never_placed", "")
                }
                (Outcome::Open, TState::Running) => ("running_at_end", ""),
                (Outcome::Open, _) => ("pending_at_end", ""),
            };
            let opt = |v: u64| (v != NONE).then_some(v);
            let (instance, az) = match t.runs {
                Runs::Fargate { az, .. } => ("", self.owner_azs(t.owner)[az as usize].as_str()),
                Runs::Ec2 { .. } if t.instance == NO_INSTANCE => ("", ""),
                Runs::Ec2 { .. } => {
                    let i = &c.insts[t.instance as usize];
                    (i.ec2_id.as_str(), i.az.as_str())
                }
            };
            let wait = if t.placed != NONE {
                t.placed - t.created
            } else if t.stopped != NONE {
                t.stopped - t.created
            } else {
                end - t.created
            };
            self.sink.task(&TaskRow {
                task_id: tid as u64,
                task_definition: &self.sc.task_definitions[t.def as usize].family,
                service,
                job,
                group: c.pc.group_name(t.group),
                cluster: &self.sc.clusters[t.cluster as usize].name,
                instance,
                availability_zone: az,
                created_ms: t.created,
                pending_ms: opt(t.placed),
                running_ms: opt(t.running),
                stopped_ms: opt(t.stopped),
                wait_ms: wait,
                outcome,
                reason,
            });
        }
        let costs = self.cost_rows();
        let pct = |a: u128, b: u128| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let stranded = |reserved: u128, in_use: u128| {
            if in_use == 0 {
                0.0
            } else {
                100.0 * (1.0 - reserved.min(in_use) as f64 / in_use as f64)
            }
        };
        let summary = Summary {
            scenario: self.sc.name.clone(),
            seed: 0,
            sim_end_ms: end,
            stop_reason: stop_reason.to_string(),
            events_processed: stats.events_processed,
            state_changes: self.state_changes,
            tasks_created: self.tasks.len() as u64,
            tasks_started: self.tasks_started,
            tasks_completed: self.tasks_completed,
            tasks_failed_to_place: self.tasks_failed,
            tasks_never_placed: never_placed,
            tasks_stopped_by_scheduler: self.tasks_scaled_in,
            tasks_waited_for_capacity: self.tasks_waited,
            service_placement_failures: self.service_failures,
            mean_wait_ms: if self.waits == 0 {
                0.0
            } else {
                self.wait_sum as f64 / self.waits as f64
            },
            max_wait_ms: self.wait_max,
            mean_cpu_reserved_pct: pct(self.cpu_reserved_int, self.cpu_registered_int),
            mean_memory_reserved_pct: pct(self.mem_reserved_int, self.mem_registered_int),
            peak_instances: self.peak_instances,
            instance_hours: instance_ms as f64 / 3_600_000.0,
            events_hash: format!("{:016x}", self.hash.finish()),
            clusters: self
                .clusters
                .iter()
                .zip(&self.sc.clusters)
                .map(|(c, def)| ClusterSummary {
                    name: def.name.clone(),
                    mean_instances_in_use: if end == 0 {
                        0.0
                    } else {
                        c.acc.in_use as f64 / end as f64
                    },
                    peak_instances_in_use: u64::from(c.acc.peak_in_use),
                    mean_cpu_reserved_pct: pct(c.acc.cpu_reserved, c.acc.cpu_registered),
                    mean_memory_reserved_pct: pct(c.acc.mem_reserved, c.acc.mem_registered),
                    cpu_fragmentation_pct: stranded(c.acc.cpu_reserved, c.acc.in_use_cpu),
                    memory_fragmentation_pct: stranded(c.acc.mem_reserved, c.acc.in_use_mem),
                })
                .collect(),
            costs,
            scaling: self.scaling_summary(),
            recovery: self.recovery_summary(end),
            wall_ms: 0,
        };
        (summary, self.sink)
    }

    fn recovery_summary(&mut self, end: u64) -> RecoverySummary {
        let sc = self.sc;
        for f in &self.recovery.failures {
            let mut names: Vec<&str> = f
                .services
                .iter()
                .map(|&s| sc.services[s as usize].name.as_str())
                .collect();
            names.dedup();
            self.sink.failure(&FailureRow {
                time_ms: f.at,
                kind: f.kind,
                target: &f.target,
                tasks_lost: f.tasks_lost,
                services: &names.join(";"),
                recovered_after_ms: f.recovered,
            });
        }
        for d in &self.recovery.deploys {
            self.sink.deployment(&DeploymentRow {
                service: &sc.services[d.service as usize].name,
                deployment_id: d.id,
                task_definition: &sc.task_definitions[d.def as usize].family,
                from_task_definition: &sc.task_definitions[d.from_def as usize].family,
                started_ms: d.started,
                ended_ms: d.ended,
                state: d.state,
                failed_tasks: d.failures,
                reason: &d.reason,
            });
        }
        let pct = |x: u128, since: Option<u64>| match since {
            Some(t0) if end > t0 => 100.0 * x as f64 / (end - t0) as f64,
            _ => 0.0,
        };
        RecoverySummary {
            tasks_lost: self.tasks_lost,
            unserved_request_minutes_during_failures: self.recovery.unserved_during_failures,
            services: sc
                .services
                .iter()
                .enumerate()
                .filter(|(_, d)| d.scheduling == SchedulingStrategy::Replica)
                .map(|(s, d)| {
                    let h = &self.health[s];
                    (
                        d.name.clone(),
                        pct(h.avail_ms, h.steady_since),
                        pct(h.min_healthy_ms, h.steady_since),
                        h.tasks_lost,
                        h.missing_task_ms as f64 / 60_000.0,
                    )
                })
                .collect(),
            failures: self
                .recovery
                .failures
                .iter()
                .map(|f| (f.kind.to_string(), f.at, f.recovered))
                .collect(),
            deployments: self
                .recovery
                .deploys
                .iter()
                .map(|d| {
                    (
                        sc.services[d.service as usize].name.clone(),
                        d.id,
                        d.state.to_string(),
                        d.ended.map(|e| e - d.started),
                    )
                })
                .collect(),
        }
    }

    fn scaling_summary(&self) -> ScalingSummary {
        let r = &self.scaling;
        ScalingSummary {
            unserved_request_minutes: r.unserved_request_minutes,
            idle_instance_hours: r.idle_ms as f64 / 3_600_000.0,
            idle_instance_hours_after_load_drop: r
                .first_drop
                .map(|_| r.idle_after_drop_ms as f64 / 3_600_000.0),
            scaling_actions: r.actions,
            instances_launched: r.launched,
            instances_terminated: r.terminated,
            services: r
                .services
                .iter()
                .map(|st| ServiceScalingSummary {
                    name: self.sc.services[st.service as usize].name.clone(),
                    unserved_request_minutes: st.unserved_request_minutes,
                    scaling_actions: st.actions,
                    load_changes: st
                        .reactions
                        .iter()
                        .map(|x| (x.at, x.first_scaling, x.running))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Send `cost.csv` rows to the sink and sum them into the summary's costs.
    fn cost_rows(&mut self) -> CostSummary {
        let has_ec2 = self.clusters.iter().any(|c| !c.insts.is_empty());
        let has_fargate = self
            .sc
            .services
            .iter()
            .map(|s| &s.launch)
            .chain(self.sc.jobs.iter().map(|j| &j.launch))
            .any(|l| match l {
                LaunchSpec::Fargate => true,
                LaunchSpec::Strategy(items) => {
                    items.iter().any(|_| true)
                        && self
                            .provider_names
                            .iter()
                            .any(|n| n == "FARGATE" || n == "FARGATE_SPOT")
                }
                LaunchSpec::Ec2 => false,
            });
        let owner_names: Vec<(&str, &str)> = self
            .sc
            .services
            .iter()
            .map(|s| ("service", s.name.as_str()))
            .chain(self.sc.jobs.iter().map(|j| ("job", j.name.as_str())))
            .collect();
        for (h, row) in self.ledger.hours.iter().enumerate() {
            let at = h as u64 * 3_600_000;
            let mut put = |scope: &str, name: &str, cost: Money| {
                self.sink.cost(&CostRow {
                    hour_start_ms: at,
                    scope,
                    name,
                    cost,
                })
            };
            put("total", "all", row.total());
            if has_ec2 {
                put("ec2", "used", row.ec2_used);
                put("ec2", "idle", row.ec2_idle);
                put("ec2", "spot", row.ec2_spot);
            }
            if has_fargate {
                for (scope, c) in [
                    ("fargate", &row.fargate),
                    ("fargate_spot", &row.fargate_spot),
                ] {
                    put(scope, "vcpu", c.vcpu);
                    put(scope, "memory", c.memory);
                    put(scope, "ephemeral_storage", c.storage);
                    put(scope, "os_license", c.os_license);
                }
            }
            for (k, name) in self.provider_names.iter().enumerate() {
                put("capacity_provider", name, row.providers[k]);
            }
            for (k, (scope, name)) in owner_names.iter().enumerate() {
                put(scope, name, row.owners[k]);
            }
        }
        let t = self.ledger.totals();
        let mut fargate_charge = t.fargate;
        fargate_charge += t.fargate_spot;
        let n_services = self.sc.services.len();
        CostSummary {
            total: t.total(),
            ec2: t.ec2_used + t.ec2_idle,
            ec2_idle: t.ec2_idle,
            ec2_spot: t.ec2_spot,
            fargate: t.fargate.total() + t.fargate_spot.total(),
            fargate_spot: t.fargate_spot.total(),
            fargate_charge,
            task_hours: self.task_ms as f64 / 3_600_000.0,
            providers: self
                .provider_names
                .iter()
                .cloned()
                .zip(t.providers.iter().copied())
                .collect(),
            services: self
                .sc
                .services
                .iter()
                .map(|s| s.name.clone())
                .zip(t.owners[..n_services].iter().copied())
                .collect(),
            jobs: self
                .sc
                .jobs
                .iter()
                .map(|j| j.name.clone())
                .zip(t.owners[n_services..].iter().copied())
                .collect(),
        }
    }
}

impl<S: Sink> Simulation<'_, S> {
    /// Record an instance's state change (the instance is named by its EC2 id).
    pub(crate) fn emit_instance(
        &mut self,
        now: u64,
        c: usize,
        i: u32,
        from: &'static str,
        to: &'static str,
        reason: &str,
    ) {
        let id = self.clusters[c].insts[i as usize].ec2_id.as_str();
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Instance,
                task: None,
                service: "",
                job: "",
                instance: id,
                from,
                to,
                reason,
            },
        );
    }
}

fn emit<S: Sink>(sink: &mut S, hash: &mut StableHasher, n: &mut u64, e: EventRecord<'_>) {
    *n += 1;
    hash.write_u64(e.time_ms);
    hash.write_u64(e.kind as u64);
    hash.write_u64(e.task.unwrap_or(NONE));
    hash.write_str(e.service);
    hash.write_str(e.job);
    hash.write_str(e.instance);
    hash.write_str(e.from);
    hash.write_str(e.to);
    hash.write_str(e.reason);
    sink.event(&e);
}

impl<S: Sink> Model for Simulation<'_, S> {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, sched: &mut Scheduler<Ev>) -> Control {
        let now = sched.now().ms();
        self.advance(now);
        match ev {
            Ev::End => {
                self.stop_reason = "duration";
                return Control::Stop;
            }
            Ev::InstanceRegistered { cluster, instance } => {
                self.open_work -= 1;
                self.instance_registered(cluster, instance, now, sched);
            }
            Ev::Arrival { job } => {
                self.open_work -= 1;
                self.arrival(job, now, sched);
            }
            Ev::FargateProvisioned { task } => {
                self.open_work -= 1;
                self.fargate_provisioned(task, now, sched);
            }
            Ev::TaskRunning { task } => {
                self.open_work -= 1;
                self.task_running(task, now, sched);
            }
            Ev::TaskExited { task } => {
                self.open_work -= 1;
                if self.tasks[task as usize].state == TState::Running {
                    self.tasks_completed += 1;
                    self.stop_task(
                        task,
                        Outcome::Completed,
                        "EssentialContainerExited",
                        now,
                        sched,
                    );
                }
            }
            Ev::Retry { cluster } => {
                self.open_work -= 1;
                self.retry(cluster, now, sched);
            }
            Ev::Sample => self.sample(now, sched),
            Ev::TaskHealthy { task } => {
                if let (Owner::Service(s), TState::Running) = (
                    self.tasks[task as usize].owner,
                    self.tasks[task as usize].state,
                ) {
                    let busy = self.health[s as usize].deploy.is_some()
                        || self.services[s as usize]
                            .live
                            .iter()
                            .any(|&t| self.retiring(s, t));
                    if busy {
                        self.reconcile(s, now, sched);
                    }
                }
            }
            Ev::TaskCrash { task } => {
                if self.tasks[task as usize].state == TState::Running
                    && !self.tasks[task as usize].lost
                {
                    let services: Vec<u32> =
                        if let Owner::Service(s) = self.tasks[task as usize].owner {
                            vec![s]
                        } else {
                            Vec::new()
                        };
                    self.recovery.failures.push(recovery::FailureRecord {
                        at: now,
                        kind: "task_crash",
                        target: format!("task {task}"),
                        tasks_lost: 1,
                        services,
                        recovered: None,
                        detected: true,
                    });
                    self.lose_task(task, "EssentialContainerExited", now, sched);
                }
            }
            Ev::InstanceFailed { cluster, instance } => {
                self.instance_failed(cluster as usize, instance, "instance_failure", now, sched)
            }
            Ev::FailureDetected {
                cluster,
                instance,
                failure,
            } => self.failure_detected(
                cluster as usize,
                instance,
                failure,
                "HostInstanceFailed",
                now,
                sched,
            ),
            Ev::SpotNotice { cluster, instance } => {
                self.spot_notice(cluster as usize, instance, now, sched)
            }
            Ev::SpotTerminate {
                cluster,
                instance,
                failure,
            } => self.failure_detected(
                cluster as usize,
                instance,
                failure,
                "SpotInterruption",
                now,
                sched,
            ),
            Ev::FargateSpotNotice { task } => self.fargate_spot_notice(task, now, sched),
            Ev::FargateSpotStop { task } => self.lose_task(task, "SpotInterruption", now, sched),
            Ev::FargateLost { failure } => {
                let lost: Vec<u32> = (0..self.tasks.len() as u32)
                    .filter(|&t| {
                        self.tasks[t as usize].lost
                            && self.tasks[t as usize].state != TState::Stopped
                            && matches!(self.tasks[t as usize].runs, Runs::Fargate { .. })
                    })
                    .collect();
                for t in lost {
                    self.lose_task(t, "AvailabilityZoneOutage", now, sched);
                }
                self.recovery.failures[failure as usize].detected = true;
            }
            Ev::Scripted { index } => self.scripted_failure(index, now, sched),
            Ev::AzRestored { failure } => {
                if let crate::scenario::FailureKind::AzOutage { az, .. } =
                    &self.sc.failures.scripted[failure as usize].kind
                {
                    self.recovery.az_down.retain(|a| a != az);
                }
            }
            Ev::ServiceWake { service } => self.reconcile(service, now, sched),
            Ev::Scheduled { service, action } => self.scheduled_action(service, action, now, sched),
            Ev::Action { action } => {
                self.open_work -= 1;
                match self.sc.actions[action as usize].kind {
                    ActionKind::SetDesiredCount {
                        service,
                        desired_count,
                    } => {
                        let old = self.services[service].desired;
                        self.services[service].desired = desired_count;
                        let (from, to) = (old.to_string(), desired_count.to_string());
                        self.service_event(service as u32, now, &from, &to, "DesiredCountChanged");
                        self.reconcile(service as u32, now, sched);
                    }
                    ActionKind::Deploy {
                        service,
                        task_definition,
                    } => {
                        self.deploy(service as u32, task_definition as u32, now, sched, false);
                    }
                }
            }
        }
        if !self.recovery.failures.is_empty() {
            self.check_recovery(now);
        }
        if self.check {
            self.check_invariants();
        }
        if self.sc.simulation.duration_ms.is_none() && self.open_work == 0 {
            return Control::Stop;
        }
        Control::Continue
    }
}

/// Run a scenario to the end and return its summary (with `wall_ms` left at 0) and the sink.
pub fn run<S: Sink>(sc: &Scenario, opts: RunOptions, sink: S) -> (Summary, S) {
    let mut sched = Scheduler::new();
    let mut sim = Simulation::new(sc, opts, sink, &mut sched);
    let limits = Limits {
        max_events: sc.simulation.max_events,
        max_time: SimTime::from_ms(sc.simulation.max_time_ms),
    };
    let stats = ecsim_engine::run(&mut sim, &mut sched, limits);
    let (mut summary, sink) = sim.finish(stats);
    summary.seed = opts.seed;
    (summary, sink)
}
