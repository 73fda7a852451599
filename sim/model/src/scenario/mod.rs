//! Scenario files: the schema (see `docs/scenario.md` in the repository) and its validation.
//!
//! Loading goes in three stages: TOML text to a spanned tree ([`tree`]), `--set` overrides applied
//! to the tree, then the tree read into a validated [`Scenario`] by [`read`], which collects every
//! problem with its line, column and field path instead of stopping at the first.

pub mod capacity;
pub mod failures;
pub mod read;
pub mod scaling;
pub mod tree;

pub use failures::{CircuitBreaker, FailureKind, FailureSettings, ScriptedFailure};
pub use scaling::{
    AlarmDef, ManagedScaling, ScheduledAction, ServiceMetric, ServiceScaling, Statistic,
    StepScaling, TargetTracking,
};

pub use capacity::{
    CpItem, FargateSettings, LaunchSpec, PricingSettings, ProviderDef, ProviderKind,
    PurchaseOption, Variant, variants,
};

use ecsim_placement::{
    BinpackField, Constraint, Expr, HostPort, MAX_CONSTRAINTS, MAX_STRATEGIES, SpreadField,
    Strategy, TieBreak, host_port,
};

use crate::catalog::{self, InstanceType};
use crate::dist::Dist;
use read::{Cx, Diagnostic, Tbl, quote_list};
use tree::{Kind, Node, Origin};

/// The schema version this build reads.
pub const SCHEMA_VERSION: i64 = 1;

/// A validated scenario: everything the simulation needs, with names resolved to indexes.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name`, used for the output folder.
    pub name: String,
    /// The run seed (`seed`, default 1; `--seed` overrides).
    pub seed: u64,
    /// `[simulation]`.
    pub simulation: SimulationSettings,
    /// `[settings]`.
    pub settings: Settings,
    /// Instance types in use (catalog entries and `[[instance_types]]`).
    pub instance_types: Vec<InstanceType>,
    /// `[[clusters]]`.
    pub clusters: Vec<ClusterDef>,
    /// `[[task_definitions]]`.
    pub task_definitions: Vec<TaskDefinition>,
    /// `[[services]]`.
    pub services: Vec<ServiceDef>,
    /// `[[jobs]]`.
    pub jobs: Vec<JobDef>,
    /// `[[actions]]`, sorted by time.
    pub actions: Vec<Action>,
    /// `[fargate]`.
    pub fargate: FargateSettings,
    /// `[pricing]`.
    pub pricing: PricingSettings,
    /// `[failures]`.
    pub failures: FailureSettings,
}

/// `[simulation]`: how long and how finely to run.
#[derive(Debug, Clone)]
pub struct SimulationSettings {
    /// Stop at this time; without it the run ends when no work is left.
    pub duration_ms: Option<u64>,
    /// One `metrics.csv` row per period.
    pub metrics_period_ms: u64,
    /// Guard: stop after this many events.
    pub max_events: u64,
    /// Guard: stop at this simulated time.
    pub max_time_ms: u64,
    /// CloudWatch datapoint resolution: 60 s (standard) or 20 s.
    pub metrics_resolution_ms: u64,
    /// How long after a period ends its datapoint can be seen by alarms.
    pub metrics_publish_delay_ms: u64,
}

/// `[settings]`: conventions where AWS documents nothing.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Memory the OS keeps from the agent, percent of nominal (default 2.5).
    pub os_memory_overhead_pct: f64,
    /// Tie-breaking among equally ranked instances.
    pub tie_break: TieBreak,
    /// PENDING to RUNNING (image pull and container start), default 0.
    pub task_start_delay: Dist,
    /// Strategy for standalone tasks that give none (AWS: not documented).
    pub run_task_default_strategy: Vec<Strategy>,
    /// `agentVersion` of every instance.
    pub agent_version: String,
}

/// One ECS cluster.
#[derive(Debug, Clone)]
pub struct ClusterDef {
    /// Name.
    pub name: String,
    /// Groups of identical instances.
    pub groups: Vec<InstanceGroup>,
    /// Associated capacity providers: Auto Scaling group providers first, then FARGATE and
    /// FARGATE_SPOT if listed.
    pub capacity_providers: Vec<ProviderDef>,
    /// `default_capacity_provider_strategy`.
    pub default_strategy: Option<Vec<CpItem>>,
}

/// Identical container instances spread round-robin over AZs.
#[derive(Debug, Clone)]
pub struct InstanceGroup {
    /// Name (the cluster's own for the group given at cluster level).
    pub name: String,
    /// Indexes into [`Scenario::instance_types`]; instance k has type `instance_types[k % len]`.
    pub instance_types: Vec<usize>,
    /// How many.
    pub count: u32,
    /// AZs, instance k goes to `availability_zones[k % len]`.
    pub availability_zones: Vec<String>,
    /// Custom attributes.
    pub attributes: Vec<(String, String)>,
    /// `ECS_RESERVED_MEMORY`, MiB.
    pub reserved_memory_mib: u32,
    /// Launch to ACTIVE.
    pub launch_delay: Dist,
    /// The Auto Scaling group capacity provider this group is, if any.
    pub capacity_provider: Option<String>,
    /// On-Demand or Spot.
    pub purchase_option: PurchaseOption,
    /// Auto Scaling group minimum size.
    pub min_size: u32,
    /// Auto Scaling group maximum size.
    pub max_size: u32,
    /// Capacity provider managed scaling (cluster auto scaling).
    pub managed_scaling: Option<ManagedScaling>,
    /// Time from launch to an instance failure, if instances fail.
    pub time_to_failure: Option<Dist>,
    /// Random EC2 Spot interruptions per instance-hour (Spot groups).
    pub spot_interruptions_per_hour: f64,
    /// `ECS_ENABLE_SPOT_INSTANCE_DRAINING` (agent default false).
    pub spot_instance_draining: bool,
}

/// Network mode of a task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Docker bridge: static host ports are reserved, dynamic ones (`host_port = 0`) are not.
    Bridge,
    /// Host networking: every container port is a static host port.
    Host,
    /// One ENI per task.
    Awsvpc,
    /// No networking.
    None,
}

/// A task definition, reduced to what placement and the scheduler need.
#[derive(Debug, Clone)]
pub struct TaskDefinition {
    /// `family`.
    pub family: String,
    /// CPU units reserved (task level, else the sum of containers).
    pub cpu_units: u32,
    /// Memory reserved, MiB (task level, else per container `memory_reservation` or `memory`).
    pub memory_mib: u32,
    /// Network mode.
    pub network_mode: NetworkMode,
    /// Static host ports reserved on the instance.
    pub host_ports: Vec<HostPort>,
    /// Task definition constraints (`memberOf` only, as ECS allows).
    pub constraints: Vec<(String, Constraint)>,
    /// Task-level CPU, if given (Fargate requires it).
    pub task_cpu: Option<u32>,
    /// Task-level memory, if given (Fargate requires it).
    pub task_memory: Option<u32>,
    /// `runtime_platform.operating_system_family`.
    pub os: OsFamily,
    /// `runtime_platform.cpu_architecture`: `x86_64` or `arm64` (instance attribute spelling).
    pub architecture: Option<String>,
    /// Ephemeral storage, GB (Fargate: 20 included, up to 200).
    pub ephemeral_storage_gb: u32,
    /// Time from RUNNING to a crash (essential container exits), if tasks crash.
    pub time_to_failure: Option<Dist>,
    /// Probability that a task fails to start (PENDING to STOPPED, e.g. an image pull error).
    pub start_failure_probability: f64,
    /// SIGTERM to SIGKILL (`stopTimeout`), default 30 s, at most 120 s.
    pub stop_timeout_ms: u64,
    /// RUNNING to HEALTHY: 40 s without health checks (ECS-DG service_definition_parameters.html),
    /// else the container health check's start period plus one interval.
    pub healthy_after_ms: u64,
}

/// Operating system family of a task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    /// Linux.
    Linux,
    /// Windows Server.
    Windows,
}

/// `REPLICA` or `DAEMON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulingStrategy {
    /// Keeps `desired_count` tasks.
    Replica,
    /// One task on every ACTIVE instance that satisfies the constraints.
    Daemon,
}

/// A service.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    /// Name; its task group is `service:NAME`.
    pub name: String,
    /// Index into [`Scenario::clusters`].
    pub cluster: usize,
    /// Index into [`Scenario::task_definitions`].
    pub task_definition: usize,
    /// `REPLICA` or `DAEMON`.
    pub scheduling: SchedulingStrategy,
    /// Initial desired count (REPLICA).
    pub desired_count: u32,
    /// Strategy chain (defaults applied: `[spread AZ, spread instanceId]`, ECS-DG `task-placement.html`).
    pub strategy: Vec<Strategy>,
    /// All constraints: the task definition's, then the service's.
    pub constraints: Vec<Constraint>,
    /// `deployment_configuration.maximum_percent`.
    pub maximum_percent: u32,
    /// `deployment_configuration.minimum_healthy_percent`.
    pub minimum_healthy_percent: u32,
    /// Launch type or capacity provider strategy.
    pub launch: LaunchSpec,
    /// Fargate subnets' Availability Zones.
    pub availability_zones: Vec<String>,
    /// Requests offered to the service.
    pub load: Option<crate::load::LoadModel>,
    /// Name of the load noise's random stream (default: the service's name).
    pub load_stream: String,
    /// Service auto scaling.
    pub auto_scaling: Option<ServiceScaling>,
    /// Deployment circuit breaker.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `healthCheckGracePeriodSeconds`: crashes in this window after RUNNING do not count as
    /// health failures for the circuit breaker.
    pub health_check_grace_ms: u64,
    /// With a load balancer, a new task also needs one passing target health check (interval).
    pub load_balancer_check_ms: Option<u64>,
}

/// How standalone tasks arrive.
#[derive(Debug, Clone)]
pub enum Arrival {
    /// At the listed times.
    List(Vec<u64>),
    /// `batch` tasks every `every_ms`, `batches` times, from `start_ms`; the tasks of a batch
    /// are spread evenly over `spread_ms` (0: all at once).
    Periodic {
        /// First batch.
        start_ms: u64,
        /// Time between batches.
        every_ms: u64,
        /// Tasks per batch.
        batch: u32,
        /// Number of batches (`None`: until the run ends).
        batches: Option<u64>,
        /// Window the tasks of a batch are spread over.
        spread_ms: u64,
    },
    /// A Poisson process.
    Poisson {
        /// Tasks per second.
        rate_per_s: f64,
        /// First possible arrival.
        start_ms: u64,
        /// At most this many tasks.
        count: Option<u64>,
        /// No arrivals after this time.
        end_ms: Option<u64>,
    },
}

/// What a standalone task does when nothing can take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNoCapacity {
    /// RunTask semantics: fail at once with the reason.
    Fail,
    /// Wait in PROVISIONING, first come first served, until capacity frees or arrives.
    Wait,
}

/// A stream of standalone tasks (batch jobs, RunTask calls).
#[derive(Debug, Clone)]
pub struct JobDef {
    /// Name.
    pub name: String,
    /// Index into [`Scenario::clusters`].
    pub cluster: usize,
    /// Task definitions and weights.
    pub mix: Vec<(usize, f64)>,
    /// Arrivals.
    pub arrival: Arrival,
    /// Run time of each task.
    pub run_time: Dist,
    /// Fail or wait.
    pub on_no_capacity: OnNoCapacity,
    /// Task group; `None` means `family:FAMILY` of each task's definition.
    pub group: Option<String>,
    /// Strategy chain (default from `settings.run_task_default_strategy`).
    pub strategy: Vec<Strategy>,
    /// Run-time constraints (added to the task definition's).
    pub constraints: Vec<Constraint>,
    /// Name of the random streams for arrivals, mix and run times (default: the job's name).
    /// Jobs with the same stream see the same workload: common random numbers for comparisons.
    pub stream: String,
    /// Launch type or capacity provider strategy.
    pub launch: LaunchSpec,
    /// Fargate subnets' Availability Zones.
    pub availability_zones: Vec<String>,
}

/// A scripted change.
#[derive(Debug, Clone)]
pub struct Action {
    /// When.
    pub at_ms: u64,
    /// What.
    pub kind: ActionKind,
}

/// What a scripted action does.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// UpdateService with a new task definition: a rolling deployment.
    Deploy {
        /// Index into [`Scenario::services`].
        service: usize,
        /// Index into [`Scenario::task_definitions`].
        task_definition: usize,
    },
    /// UpdateService with a new desired count.
    SetDesiredCount {
        /// Index into [`Scenario::services`].
        service: usize,
        /// The new desired count.
        desired_count: u32,
    },
}

/// Why a scenario could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// Every problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "error: {d}")?;
        }
        write!(
            f,
            "{} problem{} found",
            self.diagnostics.len(),
            if self.diagnostics.len() == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for LoadError {}

/// Load a scenario from its text. `file` names it in messages; `sets` are `path=value`
/// overrides applied before validation.
pub fn load(file: &str, src: &str, sets: &[String]) -> Result<Scenario, LoadError> {
    load_with(
        file,
        src,
        &LoadOptions {
            sets,
            ..LoadOptions::default()
        },
    )
}

/// Reads a file a scenario names (`pricing.file`), given its name as written; the CLI resolves
/// it relative to the scenario. The model itself does no I/O.
pub type FileReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// How to load a scenario beyond its text.
#[derive(Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// `PATH=VALUE` overrides, applied after the variant's.
    pub sets: &'a [String],
    /// A variant whose overrides apply first.
    pub variant: Option<&'a Variant>,
    /// Reads a file named in the scenario (`pricing.file`), relative to the scenario.
    pub read_file: Option<FileReader<'a>>,
}

/// Load a scenario with a variant, overrides and access to the files it names.
pub fn load_with(file: &str, src: &str, opts: &LoadOptions<'_>) -> Result<Scenario, LoadError> {
    // Messages about overridden values name the override: variant ones first, then --set.
    let mut labels: Vec<String> = Vec::new();
    if let Some(v) = opts.variant {
        for (path, _, _) in &v.overrides {
            labels.push(format!("variant {}: {path}", v.name));
        }
    }
    let first_set = labels.len();
    labels.extend(opts.sets.iter().cloned());
    let mut cx = Cx::new(file, src, &labels);
    let mut root = match tree::parse(src) {
        Ok(root) => root,
        Err(e) => {
            let origin = e.span.map_or(Origin::Unknown, Origin::File);
            cx.error(&origin, "", format!("TOML syntax: {}", e.message));
            return Err(LoadError {
                diagnostics: cx.diags,
            });
        }
    };
    if let Some(v) = opts.variant {
        for (i, (path, steps, value)) in v.overrides.iter().enumerate() {
            let mut value = value.clone();
            tree::relabel(&mut value, i);
            if let Err(e) = tree::apply_set(&mut root, steps, value) {
                cx.error(&Origin::Set(i), path, e);
            }
        }
    }
    for (k, set) in opts.sets.iter().enumerate() {
        let i = first_set + k;
        let Some((path, value)) = set.split_once('=') else {
            cx.error(
                &Origin::Set(i),
                "",
                "expected PATH=VALUE, e.g. clusters[0].count=200",
            );
            continue;
        };
        let applied = tree::parse_path(path.trim()).and_then(|steps| {
            tree::apply_set(&mut root, &steps, tree::parse_set_value(value.trim(), i))
        });
        if let Err(e) = applied {
            cx.error(&Origin::Set(i), path.trim(), e);
        }
    }
    let scenario = read_scenario(&mut cx, &root, opts.read_file);
    let mut diags = cx.diags;
    if diags.is_empty()
        && let Some(s) = scenario
    {
        return Ok(s);
    }
    diags.sort_by_key(|d| (d.from_set.is_some(), d.file != file, d.line, d.column));
    diags.dedup();
    Err(LoadError { diagnostics: diags })
}

fn default_service_strategy() -> Vec<Strategy> {
    vec![
        Strategy::Spread(SpreadField::Attribute(ecsim_placement::AZ_ATTRIBUTE.into())),
        Strategy::Spread(SpreadField::Instance),
    ]
}

fn read_scenario(
    cx: &mut Cx<'_>,
    root: &Node,
    read_file: Option<FileReader<'_>>,
) -> Option<Scenario> {
    let mut t = cx.table(root, "")?;
    let (has_services, has_jobs) = (t.has("services"), t.has("jobs"));
    let version = t.req(
        cx,
        "schema_version",
        &format!("schema_version = {SCHEMA_VERSION}"),
        |cx, n, p| cx.int(n, p, SCHEMA_VERSION, SCHEMA_VERSION),
    );
    let name = t.req(cx, "name", "a scenario name", |cx, n, p| {
        let s = cx.string(n, p)?;
        if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            Some(s)
        } else {
            cx.error(&n.origin, p, format!("got \"{s}\"; a name uses letters, digits, '-', '_' and '.' (it names the output folder)"));
            None
        }
    });
    let seed = t
        .opt(cx, "seed", |cx, n, p| cx.int(n, p, 0, i64::MAX))
        .map_or(1, |s| s as u64);
    let _description = t.opt(cx, "description", |cx, n, p| cx.string(n, p));
    let simulation = read_simulation(cx, &mut t);
    let settings = read_settings(cx, &mut t);
    let fargate = capacity::read_fargate(cx, &mut t);
    let pricing = capacity::read_pricing(cx, &mut t, read_file);
    // Variants are for `ecsim compare`; `variants()` reads and checks them.
    let _ = t.get("variants");

    // Instance types: the catalog plus [[instance_types]] (which may shadow catalog names).
    let mut types = catalog::builtin();
    if let Some(items) = t.opt(cx, "instance_types", |cx, n, p| cx.array(n, p)) {
        for (i, n) in items.iter().enumerate() {
            if let Some(ty) = read_instance_type(cx, n, &format!("instance_types[{i}]")) {
                types.retain(|x| x.name != ty.name);
                types.push(ty);
            }
        }
    }

    let task_definitions = read_list(cx, &mut t, "task_definitions", |cx, n, p| {
        read_task_definition(cx, n, p)
    });
    let clusters = read_list(cx, &mut t, "clusters", |cx, n, p| {
        read_cluster(cx, n, p, &types)
    });
    if clusters.as_ref().is_some_and(|c| c.is_empty()) && !t.has("clusters") {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            "clusters",
            "missing; a scenario needs at least one [[clusters]] entry",
        );
    }
    let clusters = clusters.unwrap_or_default();
    let defs = task_definitions.unwrap_or_default();
    let def_names: Vec<&str> = defs.iter().map(|d| d.family.as_str()).collect();
    let services = read_list(cx, &mut t, "services", |cx, n, p| {
        read_service(
            cx,
            n,
            p,
            &clusters,
            &defs,
            simulation
                .as_ref()
                .map_or(60_000, |s| s.metrics_resolution_ms),
            read_file,
        )
    });
    let services = services.unwrap_or_default();
    let default_rt = settings
        .as_ref()
        .map(|s| s.run_task_default_strategy.clone())
        .unwrap_or_default();
    let jobs = read_list(cx, &mut t, "jobs", |cx, n, p| {
        read_job(cx, n, p, &clusters, &def_names, &default_rt)
    });
    let jobs = jobs.unwrap_or_default();
    let failures = failures::read_failures(cx, &mut t, &clusters);
    let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let actions = read_list(cx, &mut t, "actions", |cx, n, p| {
        read_action(cx, n, p, &service_names, &def_names)
    });
    let root_origin = t.origin.clone();
    t.finish(cx);

    check_unique(cx, root, "clusters", "name");
    check_unique(cx, root, "task_definitions", "family");
    check_unique(cx, root, "services", "name");
    check_unique(cx, root, "jobs", "name");

    let simulation = simulation?;
    if !services.is_empty() && simulation.duration_ms.is_none() {
        cx.error(&root_origin, "simulation.duration", "missing; services run until stopped, so a scenario with services needs simulation.duration (e.g. \"2h\")");
    }
    if !has_services && !has_jobs {
        cx.error(
            &root_origin,
            "",
            "the scenario has no [[services]] and no [[jobs]]: nothing would run",
        );
    }
    let settings = settings?;
    check_fits(
        cx, root, &clusters, &types, &defs, &services, &jobs, &settings,
    );

    // Keep only the types in use, in first-use order, and renumber.
    let mut used: Vec<usize> = Vec::new();
    for c in &clusters {
        for g in &c.groups {
            for &ty in &g.instance_types {
                if !used.contains(&ty) {
                    used.push(ty);
                }
            }
        }
    }
    let mut clusters = clusters;
    for c in &mut clusters {
        for g in &mut c.groups {
            for ty in &mut g.instance_types {
                *ty = used.iter().position(|u| u == ty).expect("used");
            }
        }
    }
    let instance_types = used.iter().map(|&u| types[u].clone()).collect();
    let mut actions = actions.unwrap_or_default();
    actions.sort_by_key(|a| a.at_ms);
    version?;
    Some(Scenario {
        failures: failures?,
        fargate: fargate?,
        pricing: pricing?,
        name: name?,
        seed,
        simulation,
        settings,
        instance_types,
        clusters,
        task_definitions: defs,
        services,
        jobs,
        actions,
    })
}

fn read_list<T>(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    key: &'static str,
    mut f: impl FnMut(&mut Cx<'_>, &Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(node) = t.get(key) else {
        return Some(Vec::new());
    };
    let items = cx.array(node, key)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, n) in items.iter().enumerate() {
        match f(cx, n, &format!("{key}[{i}]")) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn check_unique(cx: &mut Cx<'_>, root: &Node, list: &str, key: &str) {
    let Kind::Table(entries) = &root.kind else {
        return;
    };
    let Some((
        _,
        _,
        Node {
            kind: Kind::Array(items),
            ..
        },
    )) = entries.iter().find(|(k, _, _)| k == list)
    else {
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Kind::Table(fields) = &item.kind else {
            continue;
        };
        if let Some((_, _, n)) = fields.iter().find(|(k, _, _)| k == key)
            && let Kind::Str(s) = &n.kind
        {
            if let Some(first) = seen.iter().position(|x| x == s) {
                cx.error(
                    &n.origin,
                    &format!("{list}[{i}].{key}"),
                    format!("\"{s}\" is already used by {list}[{first}]; names must be unique"),
                );
            }
            seen.push(s);
        }
    }
}

fn read_simulation(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<SimulationSettings> {
    let mut s = SimulationSettings {
        duration_ms: None,
        metrics_period_ms: 60_000,
        max_events: 2_000_000_000,
        max_time_ms: 366 * 86_400_000,
        metrics_resolution_ms: 60_000,
        metrics_publish_delay_ms: 0,
    };
    let Some(node) = root.get("simulation") else {
        return Some(s);
    };
    let mut t = cx.table(node, "simulation")?;
    s.duration_ms = t.opt(cx, "duration", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d == 0 {
            cx.error(&n.origin, p, "got 0s; expected a positive duration");
            return None;
        }
        Some(d)
    });
    if let Some(p) = t.opt(cx, "metrics_period", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d < 1000 {
            cx.error(&n.origin, p, "expected at least 1s");
            return None;
        }
        Some(d)
    }) {
        s.metrics_period_ms = p;
    }
    if let Some(m) = t.opt(cx, "max_events", |cx, n, p| cx.int(n, p, 1, i64::MAX)) {
        s.max_events = m as u64;
    }
    if let Some(m) = t.opt(cx, "max_time", |cx, n, p| cx.duration(n, p)) {
        s.max_time_ms = m;
    }
    if let Some(r) = t.opt(cx, "metrics_resolution", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d != 60_000 && d != 20_000 {
            cx.error(
                &n.origin,
                p,
                "expected \"1m\" (standard resolution) or \"20s\"",
            );
            return None;
        }
        Some(d)
    }) {
        s.metrics_resolution_ms = r;
    }
    if let Some(d) = t.opt(cx, "metrics_publish_delay", |cx, n, p| cx.duration(n, p)) {
        s.metrics_publish_delay_ms = d;
    }
    t.finish(cx);
    Some(s)
}

fn read_settings(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<Settings> {
    let mut s = Settings {
        os_memory_overhead_pct: 2.5,
        tie_break: TieBreak::Random,
        task_start_delay: Dist::Fixed(0),
        run_task_default_strategy: default_service_strategy(),
        agent_version: "1.90.0".into(),
    };
    let Some(node) = root.get("settings") else {
        return Some(s);
    };
    let mut t = cx.table(node, "settings")?;
    let mut ok = true;
    if let Some(v) = t.opt(cx, "os_memory_overhead_pct", |cx, n, p| {
        cx.number(n, p, 0.0, 50.0)
    }) {
        s.os_memory_overhead_pct = v;
    }
    if let Some(v) = t.opt(cx, "tie_break", |cx, n, p| {
        cx.one_of(n, p, &["random", "lowest_index"])
    }) {
        s.tie_break = [TieBreak::Random, TieBreak::LowestIndex][v];
    }
    if t.has("task_start_delay") {
        match t.opt(cx, "task_start_delay", read_dist) {
            Some(d) => s.task_start_delay = d,
            None => ok = false,
        }
    }
    if t.has("run_task_default_strategy") {
        match t.opt(cx, "run_task_default_strategy", |cx, n, p| {
            read_strategies(cx, n, p)
        }) {
            Some(d) => s.run_task_default_strategy = d,
            None => ok = false,
        }
    }
    if let Some(v) = t.opt(cx, "agent_version", |cx, n, p| cx.string(n, p)) {
        s.agent_version = v;
    }
    t.finish(cx);
    ok.then_some(s)
}

fn read_instance_type(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<InstanceType> {
    let mut t = cx.table(n, path)?;
    let name = t.req(
        cx,
        "name",
        "a type name such as \"bench.4c16g\"",
        |cx, n, p| cx.string(n, p),
    );
    let cpu_units = match (t.has("vcpu"), t.has("cpu_units")) {
        (true, true) => {
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("cpu_units"),
                "give vcpu or cpu_units, not both",
            );
            None
        }
        (_, true) => t.opt(cx, "cpu_units", |cx, n, p| cx.u32(n, p, 128, 1024 * 1024)),
        _ => t
            .req(cx, "vcpu", "a vCPU count (or cpu_units)", |cx, n, p| {
                cx.u32(n, p, 1, 1024)
            })
            .map(|v| v * 1024),
    };
    let memory_mib = match (t.has("memory_gib"), t.has("memory_mib")) {
        (true, true) => {
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("memory_mib"),
                "give memory_gib or memory_mib, not both",
            );
            None
        }
        (true, _) => t
            .opt(cx, "memory_gib", |cx, n, p| cx.number(n, p, 0.125, 32768.0))
            .map(|g| (g * 1024.0).round() as u32),
        _ => t.req(
            cx,
            "memory_mib",
            "memory in MiB (or memory_gib)",
            |cx, n, p| cx.u32(n, p, 128, u32::MAX / 2),
        ),
    };
    let registered = t.opt(cx, "registered_memory_mib", |cx, n, p| {
        cx.u32(n, p, 1, u32::MAX / 2)
    });
    let architecture = t
        .opt(cx, "architecture", |cx, n, p| {
            cx.one_of(n, p, &["x86_64", "arm64"])
        })
        .map_or("x86_64".to_string(), |i| ["x86_64", "arm64"][i].to_string());
    let max_enis = t
        .opt(cx, "max_enis", |cx, n, p| cx.u32(n, p, 1, 1000))
        .unwrap_or(3);
    let price = t
        .opt(cx, "price_per_hour_usd", |cx, n, p| {
            cx.number(n, p, 0.0, 1000.0)
        })
        .unwrap_or(0.0);
    t.finish(cx);
    let memory_mib = memory_mib?;
    if let Some(r) = registered
        && r > memory_mib
    {
        cx.error(
            n_origin(n),
            &format!("{path}.registered_memory_mib"),
            format!("got {r}; cannot exceed memory ({memory_mib} MiB)"),
        );
        return None;
    }
    Some(InstanceType {
        name: name?,
        cpu_units: cpu_units?,
        memory_mib,
        registered_memory_mib: registered,
        architecture,
        max_enis,
        price_per_hour_usd: price,
    })
}

fn n_origin(n: &Node) -> &Origin {
    &n.origin
}

fn read_string_list(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<String>> {
    let items = cx.array(n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        match cx.string(it, &format!("{path}[{i}]")) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_attributes(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<(String, String)>> {
    let Kind::Table(entries) = &n.kind else {
        cx.error(
            &n.origin,
            path,
            format!(
                "got {}; expected a table of name = \"value\"",
                n.kind.describe()
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for (k, origin, v) in entries {
        let p = format!("{path}.{k}");
        if k.is_empty()
            || k.len() > 128
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        {
            cx.error(origin, &p, "attribute names are 1-128 letters, digits, '-', '_', '.', '/' or '@' (ECS-DG task-placement-constraints.html)");
            continue;
        }
        if k.starts_with("ecs.") {
            cx.error(
                origin,
                &p,
                "names starting with \"ecs.\" are built-in attributes that ecsim sets itself",
            );
            continue;
        }
        if let Some(s) = cx.string(v, &p) {
            if s.len() > 128 {
                cx.error(&v.origin, &p, "attribute values are at most 128 characters");
            }
            out.push((k.clone(), s));
        }
    }
    Some(out)
}

fn resolve_type(cx: &mut Cx<'_>, n: &Node, p: &str, types: &[InstanceType]) -> Option<usize> {
    let s = cx.string(n, p)?;
    match types.iter().position(|x| x.name == s) {
        Some(i) => Some(i),
        None => {
            let mut near: Vec<&str> = types
                .iter()
                .map(|x| x.name.as_str())
                .filter(|x| x.split('.').next() == s.split('.').next())
                .collect();
            if near.is_empty() {
                near = types.iter().map(|x| x.name.as_str()).take(8).collect();
            }
            cx.error(&n.origin, p, format!("unknown instance type \"{s}\"; known types include {} (see sim/model/data/ec2-instance-types.csv, or define it under [[instance_types]])", near.join(", ")));
            None
        }
    }
}

fn read_group(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    name: Option<String>,
    types: &[InstanceType],
) -> Option<InstanceGroup> {
    let tys = match (t.has("instance_type"), t.has("instance_types")) {
        (true, true) => {
            let _ = (t.get("instance_type"), t.get("instance_types"));
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("instance_types"),
                "give instance_type or instance_types, not both",
            );
            None
        }
        (false, true) => t.opt(cx, "instance_types", |cx, n, p| {
            let items = cx.array(n, p)?;
            if items.is_empty() {
                cx.error(&n.origin, p, "expected at least one instance type");
                return None;
            }
            items
                .iter()
                .enumerate()
                .map(|(i, x)| resolve_type(cx, x, &format!("{p}[{i}]"), types))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<Vec<usize>>>()
        }),
        _ => t
            .req(
                cx,
                "instance_type",
                "an instance type from the catalog or [[instance_types]]",
                |cx, n, p| resolve_type(cx, n, p, types),
            )
            .map(|i| vec![i]),
    };
    let count = t.req(cx, "count", "a number of instances", |cx, n, p| {
        cx.u32(n, p, 0, 1_000_000)
    });
    let azs = t
        .opt(cx, "availability_zones", |cx, n, p| {
            let v = read_string_list(cx, n, p)?;
            if v.is_empty() {
                cx.error(&n.origin, p, "expected at least one Availability Zone");
                return None;
            }
            Some(v)
        })
        .unwrap_or_else(|| vec!["us-east-1a".into()]);
    let attributes = t.opt(cx, "attributes", read_attributes).unwrap_or_default();
    let reserved = t
        .opt(cx, "reserved_memory_mib", |cx, n, p| {
            cx.u32(n, p, 0, 1 << 20)
        })
        .unwrap_or(0);
    let launch_delay = if t.has("launch_delay") {
        t.opt(cx, "launch_delay", read_dist)?
    } else {
        Dist::Fixed(0)
    };
    let capacity_provider = t.opt(cx, "capacity_provider", |cx, n, p| {
        let s = cx.string(n, p)?;
        if s == "FARGATE" || s == "FARGATE_SPOT" {
            cx.error(&n.origin, p, format!("\"{s}\" is reserved for Fargate; name the Auto Scaling group's provider otherwise"));
            return None;
        }
        Some(s)
    });
    let purchase = t
        .opt(cx, "purchase_option", |cx, n, p| {
            cx.one_of(n, p, &["on_demand", "spot"])
        })
        .map_or(PurchaseOption::OnDemand, |i| {
            [PurchaseOption::OnDemand, PurchaseOption::Spot][i]
        });
    let managed = t.opt(cx, "managed_scaling", scaling::read_managed_scaling);
    let ttf = if t.has("time_to_failure") {
        t.opt(cx, "time_to_failure", read_dist)
    } else {
        None
    };
    let spot_rate = t
        .opt(cx, "spot_interruptions_per_hour", |cx, n, p| {
            cx.number(n, p, 0.0, 100.0)
        })
        .unwrap_or(0.0);
    let spot_drain = t
        .opt(cx, "spot_instance_draining", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(false);
    let min_size = t.opt(cx, "min_size", |cx, n, p| cx.u32(n, p, 0, 1_000_000));
    let max_size = t.opt(cx, "max_size", |cx, n, p| cx.u32(n, p, 0, 1_000_000));
    let group_name = match name {
        Some(n) => n,
        None => t.req(cx, "name", "a group name", |cx, n, p| cx.string(n, p))?,
    };
    let count = count?;
    let (min_size, max_size) = (
        min_size.unwrap_or(0),
        max_size.unwrap_or(count.max(min_size.unwrap_or(0))),
    );
    if managed.is_some() && capacity_provider.is_none() {
        let origin = t.origin.clone();
        cx.error(&origin, &t.child("managed_scaling"), "managed scaling belongs to an Auto Scaling group capacity provider; give the group a capacity_provider name");
        return None;
    }
    if managed.is_some() && max_size == 0 {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            &t.child("max_size"),
            "managed scaling needs max_size > 0 (ECS-DG cluster-auto-scaling.html)",
        );
        return None;
    }
    if min_size > count || count > max_size {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            &t.child("count"),
            format!("count {count} must lie between min_size {min_size} and max_size {max_size}"),
        );
        return None;
    }
    Some(InstanceGroup {
        name: group_name,
        instance_types: tys?,
        count,
        availability_zones: azs,
        attributes,
        reserved_memory_mib: reserved,
        launch_delay,
        capacity_provider,
        purchase_option: purchase,
        min_size,
        max_size,
        managed_scaling: managed,
        time_to_failure: ttf,
        spot_interruptions_per_hour: spot_rate,
        spot_instance_draining: spot_drain,
    })
}

fn read_cluster(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    types: &[InstanceType],
) -> Option<ClusterDef> {
    let mut t = cx.table(n, path)?;
    let name = t.req(cx, "name", "a cluster name", |cx, n, p| cx.string(n, p));
    let mut groups = Vec::new();
    let mut ok = true;
    if t.has("instance_type") || t.has("instance_types") || t.has("count") {
        match read_group(cx, &mut t, name.clone(), types) {
            Some(g) => groups.push(g),
            None => ok = false,
        }
    }
    if let Some(items) = t.opt(cx, "instance_groups", |cx, n, p| cx.array(n, p)) {
        for (i, g) in items.iter().enumerate() {
            let gp = format!("{path}.instance_groups[{i}]");
            let Some(mut gt) = cx.table(g, &gp) else {
                ok = false;
                continue;
            };
            match read_group(cx, &mut gt, None, types) {
                Some(g) => groups.push(g),
                None => ok = false,
            }
            gt.finish(cx);
        }
    }
    // Capacity providers: Auto Scaling group providers come from groups that name one; FARGATE
    // and FARGATE_SPOT must be associated by listing them (ECS-DG fargate-capacity-providers.html).
    let mut providers: Vec<ProviderDef> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let Some(cp) = &g.capacity_provider {
            if providers.iter().any(|p| &p.name == cp) {
                let origin = t.origin.clone();
                cx.error(&origin, path, format!("capacity provider \"{cp}\" names two groups; an Auto Scaling group provider has one group"));
                ok = false;
            }
            providers.push(ProviderDef {
                name: cp.clone(),
                kind: ProviderKind::Asg { group: gi },
            });
        }
    }
    if let Some(list) = t.opt(cx, "capacity_providers", |cx, n, p| {
        let items = cx.array(n, p)?;
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if let Some(s) = cx.string(it, &format!("{p}[{i}]")) {
                out.push((s, it.origin.clone()));
            }
        }
        Some(out)
    }) {
        for (k, (name, origin)) in list.iter().enumerate() {
            match name.as_str() {
                "FARGATE" => providers.push(ProviderDef {
                    name: name.clone(),
                    kind: ProviderKind::Fargate,
                }),
                "FARGATE_SPOT" => providers.push(ProviderDef {
                    name: name.clone(),
                    kind: ProviderKind::FargateSpot,
                }),
                other if providers.iter().any(|p| p.name == other) => {}
                other => {
                    cx.error(origin, &format!("{path}.capacity_providers[{k}]"), format!("no capacity provider \"{other}\"; list FARGATE, FARGATE_SPOT, or a provider named by an instance group's capacity_provider"));
                    ok = false;
                }
            }
        }
    }
    let default_strategy = match t.get("default_capacity_provider_strategy") {
        Some(node) => {
            let dp = t.child("default_capacity_provider_strategy");
            let items = capacity::read_strategy_items(cx, node, &dp);
            let cname = name.clone().unwrap_or_default();
            let resolved = items.and_then(|items| {
                capacity::resolve_strategy(cx, &node.origin, &dp, &items, &providers, &cname)
            });
            if resolved.is_none() {
                ok = false;
            }
            resolved
        }
        None => None,
    };
    if groups.is_empty() && ok && providers.is_empty() {
        let origin = t.origin.clone();
        cx.error(&origin, path, "a cluster needs instances (instance_type and count, or [[clusters.instance_groups]]) or a Fargate capacity provider");
        ok = false;
    }
    t.finish(cx);
    let name = name?;
    ok.then_some(ClusterDef {
        name,
        groups,
        capacity_providers: providers,
        default_strategy,
    })
}

fn read_dist(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Dist> {
    if let Kind::Str(_) = n.kind {
        return cx.duration(n, path).map(Dist::Fixed);
    }
    let mut t = cx.table(n, path)?;
    const KINDS: [&str; 6] = [
        "fixed",
        "exponential",
        "lognormal",
        "uniform",
        "empirical",
        "weibull",
    ];
    let kind = t.req(
        cx,
        "dist",
        &format!("one of {}", quote_list(&KINDS)),
        |cx, n, p| cx.one_of(n, p, &KINDS),
    );
    let d = match kind {
        Some(0) => t
            .req(cx, "value", "a duration", |cx, n, p| cx.duration(n, p))
            .map(Dist::Fixed),
        Some(1) => t
            .req(cx, "mean", "a duration", |cx, n, p| cx.duration(n, p))
            .map(|m| Dist::Exponential { mean_ms: m as f64 }),
        Some(2) => {
            let median = t.req(cx, "median", "a duration", |cx, n, p| cx.duration(n, p));
            let sigma = t.req(
                cx,
                "sigma",
                "the standard deviation of ln(x), e.g. 0.5",
                |cx, n, p| cx.number(n, p, 0.0, 10.0),
            );
            match (median, sigma) {
                (Some(m), Some(s)) if m > 0 => Some(Dist::LogNormal {
                    median_ms: m as f64,
                    sigma: s,
                }),
                (Some(_), Some(_)) => {
                    cx.error(
                        &n.origin,
                        &format!("{path}.median"),
                        "expected a positive duration",
                    );
                    None
                }
                _ => None,
            }
        }
        Some(3) => {
            let min = t.req(cx, "min", "a duration", |cx, n, p| cx.duration(n, p));
            let max = t.req(cx, "max", "a duration", |cx, n, p| cx.duration(n, p));
            match (min, max) {
                (Some(a), Some(b)) if a <= b => Some(Dist::Uniform {
                    min_ms: a,
                    max_ms: b,
                }),
                (Some(a), Some(b)) => {
                    cx.error(
                        &n.origin,
                        &format!("{path}.max"),
                        format!("max ({b} ms) is below min ({a} ms)"),
                    );
                    None
                }
                _ => None,
            }
        }
        Some(5) => {
            let scale = t.req(
                cx,
                "scale",
                "a duration (the 63rd percentile)",
                |cx, n, p| cx.duration(n, p),
            );
            let shape = t.req(cx, "shape", "a positive number, e.g. 1.5", |cx, n, p| {
                cx.number(n, p, 0.05, 50.0)
            });
            match (scale, shape) {
                (Some(sc), Some(sh)) if sc > 0 => Some(Dist::Weibull {
                    scale_ms: sc as f64,
                    shape: sh,
                }),
                (Some(_), Some(_)) => {
                    cx.error(
                        &n.origin,
                        &format!("{path}.scale"),
                        "expected a positive duration",
                    );
                    None
                }
                _ => None,
            }
        }
        Some(4) => {
            let values = t.req(cx, "values", "an array of durations", |cx, n, p| {
                let items = cx.array(n, p)?;
                let v: Vec<Option<u64>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| cx.duration(x, &format!("{p}[{i}]")))
                    .collect();
                if v.is_empty() {
                    cx.error(&n.origin, p, "expected at least one value");
                    return None;
                }
                v.into_iter().collect::<Option<Vec<u64>>>()
            });
            let weights = t.opt(cx, "weights", |cx, n, p| {
                let items = cx.array(n, p)?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| cx.number(x, &format!("{p}[{i}]"), 0.0, 1e12))
                    .collect::<Option<Vec<f64>>>()
            });
            let values = values?;
            let weights = weights.unwrap_or_else(|| vec![1.0; values.len()]);
            if weights.len() != values.len() || weights.iter().sum::<f64>() <= 0.0 {
                cx.error(
                    &n.origin,
                    &format!("{path}.weights"),
                    format!(
                        "expected {} non-negative weights with a positive sum",
                        values.len()
                    ),
                );
                None
            } else {
                let mut acc = 0.0;
                let cumulative = weights
                    .iter()
                    .map(|w| {
                        acc += w;
                        acc
                    })
                    .collect();
                Some(Dist::Empirical {
                    values_ms: values,
                    cumulative,
                })
            }
        }
        _ => None,
    };
    t.finish(cx);
    d
}

fn read_strategies(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<Strategy>> {
    let items = cx.array(n, path)?;
    if items.len() > MAX_STRATEGIES {
        cx.error(&n.origin, path, format!("got {} strategies; ECS allows at most {MAX_STRATEGIES} (ECS-API CreateService/RunTask)", items.len()));
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut t) = cx.table(it, &p) else {
            ok = false;
            continue;
        };
        let ty = t.req(
            cx,
            "type",
            "\"binpack\", \"spread\" or \"random\"",
            |cx, n, p| cx.one_of(n, p, &["binpack", "spread", "random"]),
        );
        let s = match ty {
            Some(0) => t
                .req(cx, "field", "\"cpu\" or \"memory\"", |cx, n, p| cx.one_of(n, p, &["cpu", "memory"]))
                .map(|f| Strategy::Binpack([BinpackField::Cpu, BinpackField::Memory][f])),
            Some(1) => t.req(cx, "field", "\"instanceId\", \"host\" or \"attribute:NAME\"", |cx, n, p| {
                let f = cx.string(n, p)?;
                match f.as_str() {
                    "instanceId" | "host" => Some(Strategy::Spread(SpreadField::Instance)),
                    a if a.starts_with("attribute:") && a.len() > 10 => Some(Strategy::Spread(SpreadField::Attribute(a[10..].to_string()))),
                    _ => {
                        cx.error(&n.origin, p, format!("got \"{f}\"; expected \"instanceId\", \"host\" or \"attribute:NAME\" such as \"attribute:ecs.availability-zone\""));
                        None
                    }
                }
            }),
            Some(_) => Some(Strategy::Random),
            None => None,
        };
        if ty == Some(2) && t.has("field") {
            let _ = t.get("field");
            cx.error(&it.origin, &format!("{p}.field"), "random takes no field");
        }
        t.finish(cx);
        match s {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    (ok && items.len() <= MAX_STRATEGIES).then_some(out)
}

fn read_constraints(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    allow_distinct: bool,
) -> Option<Vec<(String, Constraint)>> {
    let items = cx.array(n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut t) = cx.table(it, &p) else {
            ok = false;
            continue;
        };
        let allowed: &[&str] = if allow_distinct {
            &["distinctInstance", "memberOf"]
        } else {
            &["memberOf"]
        };
        let ty = t.req(cx, "type", &quote_list(allowed), |cx, n, p| {
            cx.one_of(n, p, allowed)
        });
        let c = match ty.map(|i| allowed[i]) {
            Some("distinctInstance") => {
                if t.has("expression") {
                    let _ = t.get("expression");
                    cx.error(
                        &it.origin,
                        &format!("{p}.expression"),
                        "distinctInstance takes no expression",
                    );
                }
                Some(("distinctInstance".to_string(), Constraint::DistinctInstance))
            }
            Some(_) => t.req(
                cx,
                "expression",
                "a cluster query language expression",
                |cx, n, p| {
                    let src = cx.string(n, p)?;
                    match Expr::parse(&src) {
                        Ok(e) => Some((format!("memberOf({src})"), Constraint::MemberOf(e))),
                        Err(e) => {
                            cx.error_at(
                                &n.origin,
                                e.offset + 1,
                                p,
                                format!("invalid expression \"{src}\": {}", e.message),
                            );
                            None
                        }
                    }
                },
            ),
            None => None,
        };
        t.finish(cx);
        match c {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_task_definition(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<TaskDefinition> {
    let mut t = cx.table(n, path)?;
    let family = t.req(cx, "family", "a family name", |cx, n, p| cx.string(n, p));
    let task_cpu = t.opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 128, 196_608));
    let task_mem = t.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
    let mode = t
        .opt(cx, "network_mode", |cx, n, p| {
            cx.one_of(n, p, &["bridge", "host", "awsvpc", "none"])
        })
        .map_or(NetworkMode::Bridge, |i| {
            [
                NetworkMode::Bridge,
                NetworkMode::Host,
                NetworkMode::Awsvpc,
                NetworkMode::None,
            ][i]
        });
    let constraints = t
        .opt(cx, "placement_constraints", |cx, n, p| {
            read_constraints(cx, n, p, false)
        })
        .unwrap_or_default();
    let (os, architecture) = t
        .opt(cx, "runtime_platform", |cx, n, p| {
            let mut rt = cx.table(n, p)?;
            const OS: [&str; 5] = [
                "LINUX",
                "WINDOWS_SERVER_2019_FULL",
                "WINDOWS_SERVER_2019_CORE",
                "WINDOWS_SERVER_2022_FULL",
                "WINDOWS_SERVER_2022_CORE",
            ];
            let os = rt
                .opt(cx, "operating_system_family", |cx, n, p| {
                    cx.one_of(n, p, &OS)
                })
                .map_or(OsFamily::Linux, |i| {
                    if i == 0 {
                        OsFamily::Linux
                    } else {
                        OsFamily::Windows
                    }
                });
            let arch = rt
                .opt(cx, "cpu_architecture", |cx, n, p| {
                    cx.one_of(n, p, &["X86_64", "ARM64"])
                })
                .map(|i| ["x86_64", "arm64"][i].to_string());
            rt.finish(cx);
            if os == OsFamily::Windows && arch.as_deref() == Some("arm64") {
                cx.error(&n.origin, p, "Windows tasks run on X86_64 only");
                return None;
            }
            Some((os, arch))
        })
        .unwrap_or((OsFamily::Linux, None));
    let ephemeral = t
        .opt(cx, "ephemeral_storage_gib", |cx, n, p| {
            cx.u32(n, p, 21, 200)
        })
        .unwrap_or(20);
    let ttf = if t.has("time_to_failure") {
        t.opt(cx, "time_to_failure", read_dist)
    } else {
        None
    };
    let start_fail = t
        .opt(cx, "start_failure_probability", |cx, n, p| {
            cx.number(n, p, 0.0, 1.0)
        })
        .unwrap_or(0.0);
    let stop_timeout = t
        .opt(cx, "stop_timeout", |cx, n, p| {
            let d = cx.duration(n, p)?;
            if d > 120_000 {
                cx.error(
                    &n.origin,
                    p,
                    "stopTimeout is at most 120 s (ECS-DG task_definition_parameters.html)",
                );
                return None;
            }
            Some(d)
        })
        .unwrap_or(30_000);
    // ECS-DG task_definition_parameters.html: health check interval 30 s (5-300), start period 0-300 s.
    let healthy_after = t
        .opt(cx, "health_check", |cx, n, p| {
            let mut h = cx.table(n, p)?;
            let interval = h.opt(cx, "interval", |cx, n, p| cx.duration(n, p)).unwrap_or(30_000);
            let start = h.opt(cx, "start_period", |cx, n, p| cx.duration(n, p)).unwrap_or(0);
            h.finish(cx);
            if !(5_000..=300_000).contains(&interval) || start > 300_000 {
                cx.error(&n.origin, p, "interval is 5 to 300 s and start_period 0 to 300 s (ECS-DG task_definition_parameters.html)");
                return None;
            }
            Some(start + interval)
        })
        .unwrap_or(40_000);
    let mut cpu_sum = 0u32;
    let mut mem_sum = 0u32;
    let mut mem_missing = false;
    let mut ports: Vec<HostPort> = Vec::new();
    let mut ok = true;
    if let Some(items) = t.opt(cx, "containers", |cx, n, p| cx.array(n, p)) {
        for (i, c) in items.iter().enumerate() {
            let cp = format!("{path}.containers[{i}]");
            let Some(mut ct) = cx.table(c, &cp) else {
                ok = false;
                continue;
            };
            let _name = ct.req(cx, "name", "a container name", |cx, n, p| cx.string(n, p));
            cpu_sum += ct
                .opt(cx, "cpu", |cx, n, p| cx.u32(n, p, 0, 196_608))
                .unwrap_or(0);
            let hard = ct.opt(cx, "memory", |cx, n, p| cx.u32(n, p, 6, 4_000_000));
            let soft = ct.opt(cx, "memory_reservation", |cx, n, p| {
                cx.u32(n, p, 6, 4_000_000)
            });
            if let (Some(h), Some(s)) = (hard, soft)
                && h <= s
            {
                cx.error(&c.origin, &format!("{cp}.memory"), format!("memory ({h}) must be greater than memory_reservation ({s}) (ECS-DG task_definition_parameters.html)"));
                ok = false;
            }
            // ECS-DG task_definition_parameters.html: the soft limit is what placement reserves.
            match soft.or(hard) {
                Some(m) => mem_sum += m,
                None => mem_missing = true,
            }
            if let Some(pm) = ct.opt(cx, "port_mappings", |cx, n, p| cx.array(n, p)) {
                for (j, m) in pm.iter().enumerate() {
                    let mp = format!("{cp}.port_mappings[{j}]");
                    let Some(mut mt) = cx.table(m, &mp) else {
                        ok = false;
                        continue;
                    };
                    let cport = mt.req(
                        cx,
                        "container_port",
                        "a port from 1 to 65535",
                        |cx, n, p| cx.u32(n, p, 1, 65535),
                    );
                    let hport = mt.opt(cx, "host_port", |cx, n, p| cx.u32(n, p, 0, 65535));
                    let udp = mt
                        .opt(cx, "protocol", |cx, n, p| cx.one_of(n, p, &["tcp", "udp"]))
                        .is_some_and(|i| i == 1);
                    mt.finish(cx);
                    let static_port = match mode {
                        NetworkMode::Host | NetworkMode::Awsvpc => cport,
                        NetworkMode::Bridge => hport.filter(|&h| h != 0),
                        NetworkMode::None => None,
                    };
                    if let Some(p) = static_port {
                        let hp = host_port(p as u16, udp);
                        if ports.contains(&hp) {
                            cx.error(
                                &m.origin,
                                &mp,
                                format!("host port {p} is mapped twice in this task definition"),
                            );
                            ok = false;
                        }
                        ports.push(hp);
                    }
                }
            }
            ct.finish(cx);
        }
    }
    t.finish(cx);
    let cpu = task_cpu.unwrap_or(cpu_sum);
    let memory = match task_mem {
        Some(m) => m,
        None if mem_missing || mem_sum == 0 => {
            cx.error(&n.origin, &format!("{path}.memory"), "missing; the EC2 launch type needs task-level memory or memory/memory_reservation on every container (ECS-DG task_definition_parameters.html)");
            return None;
        }
        None => mem_sum,
    };
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(
            &n.origin,
            &format!("{path}.placement_constraints"),
            format!("at most {MAX_CONSTRAINTS} constraints per task"),
        );
        ok = false;
    }
    ports.sort_unstable();
    if !ok {
        return None;
    }
    let mut constraints = constraints;
    if let Some(a) = &architecture {
        // On EC2 the image's architecture must match the instance's (ecsim adds this constraint;
        // ECS itself would fail the container start).
        let e = format!("attribute:ecs.cpu-architecture == {a}");
        constraints.push((
            format!("memberOf({e})"),
            Constraint::MemberOf(Expr::parse(&e).expect("valid")),
        ));
    }
    Some(TaskDefinition {
        family: family?,
        cpu_units: cpu,
        memory_mib: memory,
        network_mode: mode,
        host_ports: ports,
        constraints,
        task_cpu,
        task_memory: task_mem,
        os,
        architecture,
        ephemeral_storage_gb: ephemeral,
        time_to_failure: ttf,
        start_failure_probability: start_fail,
        stop_timeout_ms: stop_timeout,
        healthy_after_ms: healthy_after,
    })
}

fn resolve(cx: &mut Cx<'_>, n: &Node, path: &str, names: &[&str], what: &str) -> Option<usize> {
    let s = cx.string(n, path)?;
    match names.iter().position(|x| *x == s) {
        Some(i) => Some(i),
        None => {
            cx.error(
                &n.origin,
                path,
                format!(
                    "no {what} named \"{s}\"; defined: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        quote_list(names)
                    }
                ),
            );
            None
        }
    }
}

fn read_service(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    cluster_defs: &[ClusterDef],
    defs: &[TaskDefinition],
    resolution_ms: u64,
    read_file: Option<FileReader<'_>>,
) -> Option<ServiceDef> {
    let clusters: Vec<&str> = cluster_defs.iter().map(|c| c.name.as_str()).collect();
    let mut t = cx.table(n, path)?;
    let load = t.opt(cx, "load", |cx, n, p| {
        scaling::read_load(cx, n, p, read_file)
    });
    let load_failed = t.has("load") && load.is_none();
    let auto_scaling = t.opt(cx, "auto_scaling", |cx, n, p| {
        scaling::read_service_scaling(cx, n, p, resolution_ms)
    });
    let scaling_failed = t.has("auto_scaling") && auto_scaling.is_none();
    let name = t.req(cx, "name", "a service name", |cx, n, p| cx.string(n, p));
    let cluster = match t.get("cluster") {
        Some(c) => resolve(cx, c, &t.child("cluster"), &clusters, "cluster"),
        None => (!clusters.is_empty()).then_some(0),
    };
    let explicit_launch = t.has("launch_type") || t.has("capacity_provider_strategy");
    let launch = read_launch(cx, &mut t, n, path, cluster.map(|c| &cluster_defs[c]));
    let def_names: Vec<&str> = defs.iter().map(|d| d.family.as_str()).collect();
    let def = t.req(
        cx,
        "task_definition",
        "a task definition family",
        |cx, n, p| resolve(cx, n, p, &def_names, "task definition"),
    );
    let daemon = t
        .opt(cx, "scheduling_strategy", |cx, n, p| {
            cx.one_of(n, p, &["REPLICA", "DAEMON"])
        })
        .is_some_and(|i| i == 1);
    let desired = if daemon {
        if t.has("desired_count") {
            let _ = t.get("desired_count");
            cx.error(&n.origin, &t.child("desired_count"), "a DAEMON service has no desired count: it runs one task on every eligible instance (ECS-DG ecs_services.html)");
        }
        Some(0)
    } else {
        t.req(cx, "desired_count", "a number of tasks", |cx, n, p| {
            cx.u32(n, p, 0, 10_000_000)
        })
    };
    let strategy = if t.has("placement_strategy") {
        if daemon {
            let _ = t.get("placement_strategy");
            cx.error(
                &n.origin,
                &t.child("placement_strategy"),
                "a DAEMON service takes no placement strategy (ECS-DG ecs_services.html)",
            );
            None
        } else {
            t.opt(cx, "placement_strategy", |cx, n, p| {
                read_strategies(cx, n, p)
            })
        }
    } else {
        Some(default_service_strategy())
    };
    let svc_constraints = t.opt(cx, "placement_constraints", |cx, n, p| {
        read_constraints(cx, n, p, true)
    });
    let mut breaker = None;
    let grace = t
        .opt(cx, "health_check_grace_period", |cx, n, p| {
            cx.duration(n, p)
        })
        .unwrap_or(0);
    let lb = t.opt(cx, "load_balancer", |cx, n, p| {
        let mut l = cx.table(n, p)?;
        let interval = l
            .opt(cx, "health_check_interval", |cx, n, p| cx.duration(n, p))
            .unwrap_or(30_000);
        l.finish(cx);
        Some(interval)
    });
    let (max_pct, min_pct) = match t.get("deployment_configuration") {
        Some(dn) => {
            let dp = t.child("deployment_configuration");
            match cx.table(dn, &dp) {
                Some(mut dt) => {
                    breaker = dt.opt(cx, "circuit_breaker", failures::read_circuit_breaker);
                    let max = dt
                        .opt(cx, "maximum_percent", |cx, n, p| cx.u32(n, p, 100, 200))
                        .unwrap_or(if daemon { 100 } else { 200 });
                    let min = dt
                        .opt(cx, "minimum_healthy_percent", |cx, n, p| {
                            cx.u32(n, p, 0, 100)
                        })
                        .unwrap_or(if daemon { 0 } else { 100 });
                    dt.finish(cx);
                    if daemon && max != 100 {
                        cx.error(&dn.origin, &format!("{dp}.maximum_percent"), "a DAEMON service's maximum_percent must be 100 (ECS-DG deployment-type-ecs.html)");
                    }
                    (max, min)
                }
                None => (200, 100),
            }
        }
        None => {
            if daemon {
                (100, 0)
            } else {
                (200, 100)
            }
        }
    };
    t.finish(cx);
    if load_failed || scaling_failed {
        return None;
    }
    if let Some(a) = &auto_scaling {
        if daemon {
            cx.error(
                &n.origin,
                &format!("{path}.auto_scaling"),
                "a DAEMON service has no desired count to scale (ECS-DG ecs_services.html)",
            );
            return None;
        }
        if load.is_none() && (!a.target_tracking.is_empty() || !a.step_scaling.is_empty()) {
            cx.error(&n.origin, &format!("{path}.auto_scaling"), "scaling policies act on CPU, memory or request metrics, which come from the service's load; add [services.load]");
            return None;
        }
    }
    let def = def?;
    let mut launch = launch?;
    if daemon && !explicit_launch {
        // A cluster's default capacity provider strategy does not apply to DAEMON services,
        // which run on EC2 container instances only.
        launch.0 = LaunchSpec::Ec2;
    }
    let load_stream = load
        .as_ref()
        .and_then(|l| l.1.clone())
        .unwrap_or_else(|| format!("service/{}", name.as_deref().unwrap_or("")));
    let mut constraints: Vec<(String, Constraint)> = defs[def].constraints.clone();
    constraints.extend(svc_constraints.unwrap_or_default());
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(&n.origin, &format!("{path}.placement_constraints"), format!("{} constraints with the task definition's; ECS allows at most {MAX_CONSTRAINTS} per task", constraints.len()));
        return None;
    }
    Some(ServiceDef {
        name: name?,
        cluster: cluster?,
        task_definition: def,
        scheduling: if daemon {
            SchedulingStrategy::Daemon
        } else {
            SchedulingStrategy::Replica
        },
        desired_count: desired?,
        strategy: strategy?,
        constraints: constraints.into_iter().map(|c| c.1).collect(),
        maximum_percent: max_pct,
        minimum_healthy_percent: min_pct,
        launch: launch.0,
        availability_zones: launch.1,
        load_stream,
        load: load.map(|l| l.0),
        auto_scaling,
        circuit_breaker: breaker,
        health_check_grace_ms: grace,
        load_balancer_check_ms: lb,
    })
}

/// `launch_type`, `capacity_provider_strategy` and `availability_zones` of a service or job.
/// Neither given: the cluster's default strategy, else launch type EC2 (ECS-DG
/// cluster-capacity-providers.html).
fn read_launch(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    n: &Node,
    path: &str,
    cluster: Option<&ClusterDef>,
) -> Option<(LaunchSpec, Vec<String>)> {
    let lt = t.opt(cx, "launch_type", |cx, n, p| {
        cx.one_of(n, p, &["EC2", "FARGATE"])
    });
    let items = t.get("capacity_provider_strategy").map(|node| {
        (
            capacity::read_strategy_items(cx, node, &t.child("capacity_provider_strategy")),
            node.origin.clone(),
        )
    });
    let azs = t.opt(cx, "availability_zones", |cx, n, p| {
        let v = read_string_list(cx, n, p)?;
        if v.is_empty() {
            cx.error(&n.origin, p, "expected at least one Availability Zone");
            return None;
        }
        Some(v)
    });
    let cluster = cluster?;
    let azs = azs.unwrap_or_else(|| {
        let mut v: Vec<String> = Vec::new();
        for g in &cluster.groups {
            for a in &g.availability_zones {
                if !v.contains(a) {
                    v.push(a.clone());
                }
            }
        }
        if v.is_empty() {
            v = ["us-east-1a", "us-east-1b", "us-east-1c"]
                .map(String::from)
                .to_vec();
        }
        v
    });
    let launch = match (lt, items) {
        (Some(_), Some((_, origin))) => {
            cx.error(&origin, &format!("{path}.capacity_provider_strategy"), "give launch_type or capacity_provider_strategy, not both (a launch type overrides capacity providers in ECS)");
            return None;
        }
        (Some(0), None) => LaunchSpec::Ec2,
        (Some(_), None) => LaunchSpec::Fargate,
        (None, Some((items, origin))) => {
            let resolved = capacity::resolve_strategy(
                cx,
                &origin,
                &format!("{path}.capacity_provider_strategy"),
                &items?,
                &cluster.capacity_providers,
                &cluster.name,
            )?;
            LaunchSpec::Strategy(resolved)
        }
        (None, None) => match &cluster.default_strategy {
            Some(d) => LaunchSpec::Strategy(d.clone()),
            None => LaunchSpec::Ec2,
        },
    };
    let _ = n;
    Some((launch, azs))
}

fn read_arrival(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Arrival> {
    let mut t = cx.table(n, path)?;
    let ty = t.req(
        cx,
        "type",
        "\"list\", \"periodic\" or \"poisson\"",
        |cx, n, p| cx.one_of(n, p, &["list", "poisson", "periodic"]),
    );
    let a = match ty {
        Some(0) => t.req(
            cx,
            "at",
            "an array of times such as [\"0s\", \"10m\"]",
            |cx, n, p| {
                let items = cx.array(n, p)?;
                let v: Option<Vec<u64>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| cx.duration(x, &format!("{p}[{i}]")))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect();
                let mut v = v?;
                v.sort_unstable();
                Some(Arrival::List(v))
            },
        ),
        Some(2) => {
            let start = t
                .opt(cx, "start", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            let every = t.req(
                cx,
                "every",
                "the time between batches, e.g. \"24h\"",
                |cx, n, p| {
                    let d = cx.duration(n, p)?;
                    if d == 0 {
                        cx.error(&n.origin, p, "expected a positive duration");
                        return None;
                    }
                    Some(d)
                },
            );
            let batch = t
                .opt(cx, "batch", |cx, n, p| cx.u32(n, p, 1, 10_000_000))
                .unwrap_or(1);
            let batches = t
                .opt(cx, "batches", |cx, n, p| cx.int(n, p, 1, i64::MAX))
                .map(|b| b as u64);
            let spread = t
                .opt(cx, "spread", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            Some(Arrival::Periodic {
                start_ms: start,
                every_ms: every?,
                batch,
                batches,
                spread_ms: spread,
            })
        }
        Some(_) => {
            let rate = t.req(cx, "rate_per_s", "tasks per second", |cx, n, p| {
                let r = cx.number(n, p, 0.0, 1e6)?;
                if r <= 0.0 {
                    cx.error(&n.origin, p, "expected a positive rate");
                    return None;
                }
                Some(r)
            });
            let start = t
                .opt(cx, "start", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            let count = t
                .opt(cx, "count", |cx, n, p| cx.int(n, p, 0, i64::MAX))
                .map(|c| c as u64);
            let end = t.opt(cx, "end", |cx, n, p| cx.duration(n, p));
            Some(Arrival::Poisson {
                rate_per_s: rate?,
                start_ms: start,
                count,
                end_ms: end,
            })
        }
        None => None,
    };
    t.finish(cx);
    a
}

fn read_job(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    cluster_defs: &[ClusterDef],
    defs: &[&str],
    default_strategy: &[Strategy],
) -> Option<JobDef> {
    let clusters: Vec<&str> = cluster_defs.iter().map(|c| c.name.as_str()).collect();
    let mut t = cx.table(n, path)?;
    let name = t.req(cx, "name", "a job name", |cx, n, p| cx.string(n, p));
    let cluster = match t.get("cluster") {
        Some(c) => resolve(cx, c, &t.child("cluster"), &clusters, "cluster"),
        None => (!clusters.is_empty()).then_some(0),
    };
    let launch = read_launch(cx, &mut t, n, path, cluster.map(|c| &cluster_defs[c]));
    let mix = match (t.has("task_definition"), t.has("task_mix")) {
        (true, true) => {
            let _ = (t.get("task_definition"), t.get("task_mix"));
            cx.error(
                &n.origin,
                &t.child("task_mix"),
                "give task_definition or task_mix, not both",
            );
            None
        }
        (false, true) => t.opt(cx, "task_mix", |cx, n, p| {
            let items = cx.array(n, p)?;
            let mut out = Vec::new();
            let mut ok = true;
            for (i, it) in items.iter().enumerate() {
                let ip = format!("{p}[{i}]");
                let Some(mut mt) = cx.table(it, &ip) else {
                    ok = false;
                    continue;
                };
                let d = mt.req(
                    cx,
                    "task_definition",
                    "a task definition family",
                    |cx, n, p| resolve(cx, n, p, defs, "task definition"),
                );
                let w = mt
                    .opt(cx, "weight", |cx, n, p| cx.number(n, p, 0.0, 1e12))
                    .unwrap_or(1.0);
                mt.finish(cx);
                match d {
                    Some(d) => out.push((d, w)),
                    None => ok = false,
                }
            }
            if ok && (out.is_empty() || out.iter().map(|m| m.1).sum::<f64>() <= 0.0) {
                cx.error(
                    &n.origin,
                    p,
                    "expected at least one entry and a positive total weight",
                );
                ok = false;
            }
            ok.then_some(out)
        }),
        _ => t
            .req(
                cx,
                "task_definition",
                "a task definition family (or task_mix)",
                |cx, n, p| resolve(cx, n, p, defs, "task definition"),
            )
            .map(|d| vec![(d, 1.0)]),
    };
    let arrival = t.req(
        cx,
        "arrival",
        "a table with type = \"list\" or \"poisson\"",
        read_arrival,
    );
    let run_time = t.req(
        cx,
        "run_time",
        "a duration or a distribution table",
        read_dist,
    );
    let on_no = t
        .opt(cx, "on_no_capacity", |cx, n, p| {
            cx.one_of(n, p, &["fail", "wait"])
        })
        .map_or(OnNoCapacity::Fail, |i| {
            [OnNoCapacity::Fail, OnNoCapacity::Wait][i]
        });
    let group = t.opt(cx, "group", |cx, n, p| {
        let g = cx.string(n, p)?;
        if g.len() > 255 {
            cx.error(
                &n.origin,
                p,
                "a task group name is at most 255 characters (ECS-DG task-groups.html)",
            );
            return None;
        }
        Some(g)
    });
    let strategy = if t.has("placement_strategy") {
        t.opt(cx, "placement_strategy", |cx, n, p| {
            read_strategies(cx, n, p)
        })
    } else {
        Some(default_strategy.to_vec())
    };
    let constraints = t.opt(cx, "placement_constraints", |cx, n, p| {
        read_constraints(cx, n, p, true)
    });
    let stream = t.opt(cx, "stream", |cx, n, p| cx.string(n, p));
    t.finish(cx);
    let name = name?;
    let launch = launch?;
    Some(JobDef {
        launch: launch.0,
        availability_zones: launch.1,
        stream: stream.unwrap_or_else(|| name.clone()),
        name,
        cluster: cluster?,
        mix: mix?,
        arrival: arrival?,
        run_time: run_time?,
        on_no_capacity: on_no,
        group,
        strategy: strategy?,
        constraints: constraints
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.1)
            .collect(),
    })
}

fn read_action(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    services: &[&str],
    defs: &[&str],
) -> Option<Action> {
    let mut t = cx.table(n, path)?;
    let at = t.req(cx, "at", "a time such as \"30m\"", |cx, n, p| {
        cx.duration(n, p)
    });
    let ty = t.req(
        cx,
        "type",
        "\"set_desired_count\" or \"deploy\"",
        |cx, n, p| cx.one_of(n, p, &["set_desired_count", "deploy"]),
    );
    let s = t.req(cx, "service", "a service name", |cx, n, p| {
        resolve(cx, n, p, services, "service")
    });
    let kind = match ty {
        Some(0) => {
            let d = t.req(cx, "desired_count", "a number of tasks", |cx, n, p| {
                cx.u32(n, p, 0, 10_000_000)
            });
            match (s, d) {
                (Some(service), Some(desired_count)) => Some(ActionKind::SetDesiredCount {
                    service,
                    desired_count,
                }),
                _ => None,
            }
        }
        Some(_) => {
            let d = t.req(
                cx,
                "task_definition",
                "the new task definition family",
                |cx, n, p| resolve(cx, n, p, defs, "task definition"),
            );
            match (s, d) {
                (Some(service), Some(task_definition)) => Some(ActionKind::Deploy {
                    service,
                    task_definition,
                }),
                _ => None,
            }
        }
        None => None,
    };
    t.finish(cx);
    Some(Action {
        at_ms: at?,
        kind: kind?,
    })
}

/// A task that no instance type of its cluster could ever hold is an error, not a run outcome.
#[allow(clippy::too_many_arguments)]
fn check_fits(
    cx: &mut Cx<'_>,
    root: &Node,
    clusters: &[ClusterDef],
    types: &[InstanceType],
    defs: &[TaskDefinition],
    services: &[ServiceDef],
    jobs: &[JobDef],
    settings: &Settings,
) {
    let origin_of = |list: &str, i: usize| -> Origin {
        let Kind::Table(e) = &root.kind else {
            return Origin::Unknown;
        };
        e.iter()
            .find(|(k, _, _)| k == list)
            .and_then(|(_, _, n)| {
                if let Kind::Array(a) = &n.kind {
                    a.get(i).map(|x| x.origin.clone())
                } else {
                    None
                }
            })
            .unwrap_or(Origin::Unknown)
    };
    let check = |cx: &mut Cx<'_>,
                 cluster: usize,
                 launch: &LaunchSpec,
                 daemon: bool,
                 def: usize,
                 origin: Origin,
                 path: String| {
        let Some(c) = clusters.get(cluster) else {
            return;
        };
        let d = &defs[def];
        let group_fits = |g: &InstanceGroup| {
            g.instance_types.iter().any(|&t| {
                let ty = &types[t];
                ty.cpu_units >= d.cpu_units
                    && ty.registered_memory_mib(
                        settings.os_memory_overhead_pct,
                        g.reserved_memory_mib,
                    ) >= d.memory_mib
                    && (d.network_mode != NetworkMode::Awsvpc || ty.eni_tasks() > 0)
                    && d.architecture
                        .as_ref()
                        .is_none_or(|a| *a == ty.architecture)
            })
        };
        let describe = |groups: &[&InstanceGroup]| -> String {
            groups
                .iter()
                .flat_map(|g| g.instance_types.iter().map(move |&t| (g, &types[t])))
                .map(|(g, ty)| {
                    format!(
                        "{} ({}) registers {} CPU units / {} MiB",
                        ty.name,
                        ty.architecture,
                        ty.cpu_units,
                        ty.registered_memory_mib(
                            settings.os_memory_overhead_pct,
                            g.reserved_memory_mib
                        )
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let too_big = |cx: &mut Cx<'_>, groups: &[&InstanceGroup], what: &str| {
            cx.error(&origin, &path, format!(
                "task definition \"{}\" needs {} CPU units and {} MiB{}{}, more than any instance type {what} can hold ({})",
                d.family, d.cpu_units, d.memory_mib,
                if d.network_mode == NetworkMode::Awsvpc { " and an ENI" } else { "" },
                d.architecture.as_ref().map(|a| format!(" on {a}")).unwrap_or_default(),
                describe(groups)
            ));
        };
        let fargate_check = |cx: &mut Cx<'_>, spot: bool| {
            if let Err(e) = capacity::check_fargate_definition(d) {
                cx.error(&origin, &path, e);
            } else if spot && d.os == OsFamily::Windows {
                cx.error(&origin, &path, format!("task definition \"{}\" is a Windows task; FARGATE_SPOT runs Linux tasks only (ECS-DG fargate-capacity-providers.html)", d.family));
            }
        };
        if daemon && *launch != LaunchSpec::Ec2 {
            cx.error(&origin, &path, "a DAEMON service runs on EC2 container instances only: no Fargate, no capacity provider strategy (ECS-DG ecs_services.html)");
            return;
        }
        match launch {
            LaunchSpec::Ec2 => {
                let all: Vec<&InstanceGroup> = c.groups.iter().collect();
                if all.is_empty() {
                    cx.error(&origin, &path, format!("launch type EC2, but cluster \"{}\" has no container instances; use launch_type = \"FARGATE\" or a capacity provider strategy", c.name));
                } else if !all.iter().any(|g| group_fits(g)) {
                    too_big(cx, &all, &format!("in cluster \"{}\"", c.name));
                }
            }
            LaunchSpec::Fargate => fargate_check(cx, false),
            LaunchSpec::Strategy(items) => {
                for it in items {
                    let p = &c.capacity_providers[it.provider];
                    match p.kind {
                        ProviderKind::Fargate => fargate_check(cx, false),
                        ProviderKind::FargateSpot => fargate_check(cx, true),
                        ProviderKind::Asg { group } => {
                            let g = &c.groups[group];
                            if !group_fits(g) {
                                too_big(cx, &[g], &format!("of capacity provider \"{}\"", p.name));
                            }
                        }
                    }
                }
            }
        }
    };
    for (i, s) in services.iter().enumerate() {
        check(
            cx,
            s.cluster,
            &s.launch,
            s.scheduling == SchedulingStrategy::Daemon,
            s.task_definition,
            origin_of("services", i),
            format!("services[{i}].task_definition"),
        );
    }
    for (i, j) in jobs.iter().enumerate() {
        for (k, &(d, _)) in j.mix.iter().enumerate() {
            let path = if j.mix.len() == 1 {
                format!("jobs[{i}].task_definition")
            } else {
                format!("jobs[{i}].task_mix[{k}]")
            };
            check(
                cx,
                j.cluster,
                &j.launch,
                false,
                d,
                origin_of("jobs", i),
                path,
            );
        }
    }
}
