//! What a run emits: state-change events, periodic metrics, one row per task, and a summary.
//!
//! The simulation pushes records into a [`Sink`]; the CLI's sink writes CSV files, tests collect
//! them in memory. Records borrow names from the scenario, so emitting one allocates nothing.

/// Kind of entity an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A task changed state (`from` -> `to`).
    Task,
    /// A container instance changed state.
    Instance,
    /// A service event (placement failures, desired count changes).
    Service,
}

impl EventKind {
    /// The name written in `events.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Task => "task",
            EventKind::Instance => "instance",
            EventKind::Service => "service",
        }
    }
}

/// One state change.
#[derive(Debug, Clone, Copy)]
pub struct EventRecord<'a> {
    /// Simulated time, ms.
    pub time_ms: u64,
    /// What kind of entity.
    pub kind: EventKind,
    /// Task id (for task events).
    pub task: Option<u64>,
    /// Service name, if the entity belongs to one.
    pub service: &'a str,
    /// Job name, if the entity belongs to one.
    pub job: &'a str,
    /// Container instance id, if any.
    pub instance: &'a str,
    /// State before.
    pub from: &'a str,
    /// State after.
    pub to: &'a str,
    /// Why, when there is a reason (stop code, placement failure code, ...).
    pub reason: &'a str,
}

/// Per-service numbers in a metrics row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceSample {
    /// Desired count.
    pub desired: u32,
    /// Tasks RUNNING.
    pub running: u32,
    /// Tasks PENDING (placed, not yet running).
    pub pending: u32,
    /// Tasks PROVISIONING (waiting for capacity-provider capacity, or for Fargate).
    pub provisioning: u32,
    /// Tasks STOPPING (stopped by the scheduler, still holding their resources).
    pub stopping: u32,
}

/// Per-cluster numbers in a metrics row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClusterSample {
    /// Instances running at least one task.
    pub instances_in_use: u32,
    /// `CPUReservation`, percent.
    pub cpu_reserved_pct: f64,
    /// `MemoryReservation`, percent.
    pub memory_reserved_pct: f64,
}

/// Per loaded service numbers in a metrics row (the last sample and the last closed datapoint).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadRow {
    /// Offered requests per second.
    pub demand_rps: f64,
    /// Served requests per second.
    pub served_rps: f64,
    /// Unserved requests per second.
    pub unserved_rps: f64,
    /// Service `CPUUtilization`, percent (None without running tasks).
    pub cpu_pct: Option<f64>,
    /// Service `MemoryUtilization`, percent.
    pub memory_pct: Option<f64>,
    /// `RequestCountPerTarget` of the last datapoint.
    pub requests_per_target: Option<f64>,
}

/// Per managed capacity provider numbers in a metrics row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProviderRow {
    /// Instances in the group (launching or ACTIVE).
    pub instances: u32,
    /// Last `CapacityProviderReservation`, percent.
    pub reservation_pct: Option<f64>,
}

/// One row of `scaling.csv`: an alarm state change or a scaling action.
#[derive(Debug, Clone, Copy)]
pub struct ScalingRecord<'a> {
    /// When.
    pub time_ms: u64,
    /// `alarm`, `service_scaling`, `scheduled` or `cluster_scaling`.
    pub kind: &'a str,
    /// Alarm or policy name.
    pub name: &'a str,
    /// Service or capacity provider.
    pub target: &'a str,
    /// State or capacity before.
    pub from: &'a str,
    /// State or capacity after.
    pub to: &'a str,
    /// Why.
    pub reason: &'a str,
}

/// One row of `failures.csv`.
#[derive(Debug, Clone, Copy)]
pub struct FailureRow<'a> {
    /// When it happened.
    pub time_ms: u64,
    /// `instance_failure`, `az_outage`, `az_outage_fargate`, `spot_interruption`,
    /// `fargate_spot_interruption`, `task_crash`, `drain`.
    pub kind: &'a str,
    /// Instance, AZ or task.
    pub target: &'a str,
    /// Tasks it took down (or, for a drain, 0).
    pub tasks_lost: u32,
    /// Services it touched, `;`-separated.
    pub services: &'a str,
    /// Time until every touched service ran its desired count again.
    pub recovered_after_ms: Option<u64>,
}

/// One row of `deployments.csv`.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentRow<'a> {
    /// Service.
    pub service: &'a str,
    /// Deployment number.
    pub deployment_id: u32,
    /// New task definition.
    pub task_definition: &'a str,
    /// Previous task definition.
    pub from_task_definition: &'a str,
    /// Start.
    pub started_ms: u64,
    /// End, if it ended.
    pub ended_ms: Option<u64>,
    /// `COMPLETED`, `FAILED`, `STOPPED` or `IN_PROGRESS` (rolloutState).
    pub state: &'a str,
    /// Tasks the circuit breaker counted.
    pub failed_tasks: u32,
    /// Why it ended.
    pub reason: &'a str,
}

/// One metrics row: the state after every event at or before `time_ms`.
#[derive(Debug, Clone, Copy)]
pub struct MetricsRow<'a> {
    /// Simulated time, ms (a multiple of the metrics period, or the end of the run).
    pub time_ms: u64,
    /// Instances launching (not yet registered).
    pub instances_launching: u32,
    /// Instances ACTIVE.
    pub instances_active: u32,
    /// Instances DRAINING.
    pub instances_draining: u32,
    /// Instances stopped.
    pub instances_stopped: u32,
    /// Tasks waiting for capacity (PROVISIONING).
    pub tasks_provisioning: u64,
    /// Tasks PENDING.
    pub tasks_pending: u64,
    /// Tasks RUNNING.
    pub tasks_running: u64,
    /// Tasks STOPPING.
    pub tasks_stopping: u64,
    /// Cluster `CPUReservation`, percent (all clusters together).
    pub cpu_reserved_pct: f64,
    /// Cluster `MemoryReservation`, percent.
    pub memory_reserved_pct: f64,
    /// Per cluster, in scenario order.
    pub clusters: &'a [ClusterSample],
    /// Per service, in scenario order.
    pub services: &'a [ServiceSample],
    /// Per service with load or auto scaling, in scenario order.
    pub loads: &'a [LoadRow],
    /// Per capacity provider with managed scaling.
    pub providers: &'a [ProviderRow],
}

/// One task's whole life.
#[derive(Debug, Clone, Copy)]
pub struct TaskRow<'a> {
    /// Task id (creation order).
    pub task_id: u64,
    /// Task definition family.
    pub task_definition: &'a str,
    /// Service, or "".
    pub service: &'a str,
    /// Job, or "".
    pub job: &'a str,
    /// Task group.
    pub group: &'a str,
    /// Cluster.
    pub cluster: &'a str,
    /// Container instance, or "" if never placed.
    pub instance: &'a str,
    /// Availability Zone, or "".
    pub availability_zone: &'a str,
    /// When it was created (arrived or launched by its service).
    pub created_ms: u64,
    /// When it was placed (PENDING).
    pub pending_ms: Option<u64>,
    /// When it reached RUNNING.
    pub running_ms: Option<u64>,
    /// When it stopped.
    pub stopped_ms: Option<u64>,
    /// Waiting for placement: `pending - created`, or until the end if never placed.
    pub wait_ms: u64,
    /// How it ended (`completed`, `failed_to_place`, `stopped_by_scheduler`, `never_placed`,
    /// `running_at_end`, `stopping_at_end`, `pending_at_end`).
    pub outcome: &'a str,
    /// Stop or failure reason.
    pub reason: &'a str,
}

/// One row of `cost.csv`: what one scope cost in one simulated hour.
#[derive(Debug, Clone, Copy)]
pub struct CostRow<'a> {
    /// Start of the hour, ms.
    pub hour_start_ms: u64,
    /// `total`, `ec2`, `fargate`, `fargate_spot`, `capacity_provider`, `service` or `job`.
    pub scope: &'a str,
    /// Within the scope: `used`/`idle`/`spot` for ec2, the dimension for Fargate, the name otherwise.
    pub name: &'a str,
    /// Exact amount.
    pub cost: crate::pricing::Money,
}

/// What the run is about, given to the sink before any record.
#[derive(Debug, Clone, Copy)]
pub struct RunHeader<'a> {
    /// Cluster names, the order of [`MetricsRow::clusters`].
    pub clusters: &'a [&'a str],
    /// Service names, the order of [`MetricsRow::services`].
    pub services: &'a [&'a str],
    /// Services with load or auto scaling, the order of [`MetricsRow::loads`].
    pub load_services: &'a [&'a str],
    /// Capacity providers with managed scaling, the order of [`MetricsRow::providers`].
    pub providers: &'a [&'a str],
}

/// One placement attempt, explained stage by stage (`placements.csv`, written with `--explain`).
#[derive(Debug, Clone, Copy)]
pub struct PlacementRecord<'a> {
    /// When.
    pub time_ms: u64,
    /// The task placed or queued; `None` when a service's launch failed and created no task.
    pub task: Option<u64>,
    /// Service name, if a service task.
    pub service: &'a str,
    /// Job name, if a job task.
    pub job: &'a str,
    /// Cluster name.
    pub cluster: &'a str,
    /// The pipeline's counts.
    pub explanation: &'a ecsim_placement::Explanation,
    /// The strategy chain as the scenario gives it (`spread(attribute:ecs.availability-zone) >
    /// binpack(cpu)`), empty for none.
    pub strategy: &'a str,
    /// The chosen container instance; empty when none.
    pub chosen: &'a str,
    /// The failure reason (the closest instance's failing check) when none was chosen.
    pub failure: &'a str,
}

/// One scheduler choice other than a placement, explained (`decisions.csv`, written with
/// `--explain`): which task a scale-in, a drain or a rebalancing move stopped, which capacity
/// provider a task went to, what service and cluster auto scaling decided.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRecord<'a> {
    /// When.
    pub time_ms: u64,
    /// What was decided: `scale_in`, `stop`, `rebalance`, `capacity_provider`,
    /// `service_scaling` or `cluster_scaling`.
    pub kind: &'a str,
    /// Whose decision: the service, job or capacity provider.
    pub subject: &'a str,
    /// The task stopped or launched, when the decision is about one.
    pub task: Option<u64>,
    /// What was chosen: the instance or AZ a stopped task ran on, the provider, the new
    /// desired count or group size (the current one when nothing changed).
    pub chosen: &'a str,
    /// The rule that decided, a short code documented with the table.
    pub reason: &'a str,
    /// The numbers the rule read, as `key=value` pairs separated by `;`.
    pub details: &'a str,
}

/// Receives a run's records. Every method has an empty default, so a sink takes only what it
/// needs. A sink that fails (a full disk) keeps its error and reports it when asked; the run
/// itself goes on. A new method must also be forwarded by `sim::fork::Fanout` (which hands a
/// fork's prefix records to every branch) and logged by `tests/fork.rs`'s sink.
pub trait Sink {
    /// Before the first record.
    fn begin(&mut self, _header: &RunHeader<'_>) {}
    /// A state change.
    fn event(&mut self, _e: &EventRecord<'_>) {}
    /// Whether the sink wants state changes ([`Sink::event`]); the model builds no event
    /// records when it does not (the events hash is the same either way). Asked once, when the
    /// run starts. True by default.
    fn wants_events(&self) -> bool {
        true
    }
    /// A metrics row.
    fn metrics(&mut self, _m: &MetricsRow<'_>) {}
    /// A task's row: as the task finishes (tasks finishing at one event in the order they
    /// stopped), then at the end the tasks still live, in task id order.
    fn task(&mut self, _t: &TaskRow<'_>) {}
    /// Whether the sink wants task rows ([`Sink::task`]); the model builds none when it does
    /// not. True by default.
    fn wants_tasks(&self) -> bool {
        true
    }
    /// A cost row, hour by hour, as the run closes each hour (see [`crate::billing`]).
    fn cost(&mut self, _c: &CostRow<'_>) {}
    /// An alarm state change or a scaling action.
    fn scaling(&mut self, _s: &ScalingRecord<'_>) {}
    /// A failure, at the end of the run.
    fn failure(&mut self, _f: &FailureRow<'_>) {}
    /// A deployment, at the end of the run.
    fn deployment(&mut self, _d: &DeploymentRow<'_>) {}
    /// Whether the sink wants placement explanations ([`Sink::placement`]); computing one scans
    /// the cluster, so the model asks first. False by default: explaining costs nothing when off.
    fn explains(&self) -> bool {
        false
    }
    /// A placement attempt, explained.
    fn placement(&mut self, _p: &PlacementRecord<'_>) {}
    /// A scheduler decision, explained (asked for with [`Sink::explains`], like placements).
    fn decision(&mut self, _d: &DecisionRecord<'_>) {}
}

/// A sink that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn wants_events(&self) -> bool {
        false
    }
    fn wants_tasks(&self) -> bool {
        false
    }
}

/// A value in the summary.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryValue {
    /// Text.
    Str(String),
    /// A count or a time in ms.
    Int(u64),
    /// A ratio or percentage.
    Float(f64),
}

/// What a run cost, exactly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostSummary {
    /// Everything.
    pub total: crate::pricing::Money,
    /// EC2 instances (used + idle, On-Demand and Spot, EBS included).
    pub ec2: crate::pricing::Money,
    /// EC2 capacity no task reserved.
    pub ec2_idle: crate::pricing::Money,
    /// EC2 on Spot instances.
    pub ec2_spot: crate::pricing::Money,
    /// Fargate and Fargate Spot.
    pub fargate: crate::pricing::Money,
    /// Fargate Spot alone.
    pub fargate_spot: crate::pricing::Money,
    /// Fargate (both) by dimension.
    pub fargate_charge: crate::pricing::FargateCharge,
    /// Hours tasks spent placed (PENDING or RUNNING).
    pub task_hours: f64,
    /// By capacity provider name (`none` for launch types and instances outside providers).
    pub providers: Vec<(String, crate::pricing::Money)>,
    /// By service.
    pub services: Vec<(String, crate::pricing::Money)>,
    /// By job.
    pub jobs: Vec<(String, crate::pricing::Money)>,
}

/// Auto scaling headline numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalingSummary {
    /// Requests no task could serve, in request-minutes (requests per second x minutes).
    pub unserved_request_minutes: f64,
    /// Hours ACTIVE instances spent without service or job tasks.
    pub idle_instance_hours: f64,
    /// The same, from the first load decrease on (None if the load never drops).
    pub idle_instance_hours_after_load_drop: Option<f64>,
    /// Desired count changes by service auto scaling and scheduled actions.
    pub scaling_actions: u64,
    /// Instances cluster auto scaling launched.
    pub instances_launched: u64,
    /// Instances cluster auto scaling terminated.
    pub instances_terminated: u64,
    /// Per service with load or auto scaling.
    pub services: Vec<ServiceScalingSummary>,
}

/// One service's reaction to its load.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceScalingSummary {
    /// Service.
    pub name: String,
    /// Unserved request-minutes.
    pub unserved_request_minutes: f64,
    /// Desired count changes.
    pub scaling_actions: u64,
    /// For each abrupt load change: when, delay to the first scaling action, delay until the
    /// running count reached the new desired count.
    pub load_changes: Vec<(u64, Option<u64>, Option<u64>)>,
}

/// Failures and recovery headline numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecoverySummary {
    /// Tasks lost to failures (crashes, failed starts, dead hosts, Spot).
    pub tasks_lost: u64,
    /// Unserved request-minutes while a failure was not yet recovered.
    pub unserved_request_minutes_during_failures: f64,
    /// Per REPLICA service: (name, % of time running >= desired, % of time running >= minimum
    /// healthy, tasks lost, task-minutes below desired), from the first time it ran its desired
    /// count.
    pub services: Vec<(String, f64, f64, u64, f64)>,
    /// Failures: (kind, time, time to recover).
    pub failures: Vec<(String, u64, Option<u64>)>,
    /// Deployments: (service, id, state, duration).
    pub deployments: Vec<(String, u32, String, Option<u64>)>,
}

/// Per-cluster headline numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSummary {
    /// Cluster name.
    pub name: String,
    /// Time-weighted mean of instances running at least one task.
    pub mean_instances_in_use: f64,
    /// Most instances running at least one task at once.
    pub peak_instances_in_use: u64,
    /// Time-weighted CPU reservation, percent.
    pub mean_cpu_reserved_pct: f64,
    /// Time-weighted memory reservation, percent.
    pub mean_memory_reserved_pct: f64,
    /// Fragmentation: the share of the CPU of instances running at least one task that is not
    /// reserved, time-weighted, percent. Capacity stranded on instances that cannot be turned
    /// off; binpack drives it down, spread up.
    pub cpu_fragmentation_pct: f64,
    /// As `cpu_fragmentation_pct`, for memory.
    pub memory_fragmentation_pct: f64,
}

/// The headline numbers of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Run seed.
    pub seed: u64,
    /// Simulated time at the end, ms.
    pub sim_end_ms: u64,
    /// Why the run ended: `duration`, `no_work_left`, `max_events`, `max_time`,
    /// `max_waiting_tasks`.
    pub stop_reason: String,
    /// Engine events handled.
    pub events_processed: u64,
    /// State-change records emitted.
    pub state_changes: u64,
    /// Tasks created.
    pub tasks_created: u64,
    /// Tasks that reached RUNNING.
    pub tasks_started: u64,
    /// Standalone tasks that finished their run time.
    pub tasks_completed: u64,
    /// Standalone tasks that failed at once because nothing fit (RunTask semantics).
    pub tasks_failed_to_place: u64,
    /// Tasks still waiting for capacity at the end.
    pub tasks_never_placed: u64,
    /// Service tasks stopped by their service (scale-in).
    pub tasks_stopped_by_scheduler: u64,
    /// Tasks that had to wait for capacity: queued for a container instance, or held back by
    /// Fargate's launch-rate limit.
    pub tasks_waited_for_capacity: u64,
    /// RunTask calls of standalone tasks that the API's rate limit held back.
    pub run_task_calls_throttled: u64,
    /// Of those that waited for an instance, how many for each reason nothing could hold them
    /// (the closest instance's failing check, `RESOURCE:CPU`, ...), in reason order.
    pub tasks_waited_by_reason: Vec<(String, u64)>,
    /// Times a service could not place a task it wanted (each attempt that failed).
    pub service_placement_failures: u64,
    /// Mean placement wait of placed tasks, ms.
    pub mean_wait_ms: f64,
    /// Longest placement wait, ms.
    pub max_wait_ms: u64,
    /// Time-weighted cluster CPU reservation, percent (reserved / registered over the run).
    pub mean_cpu_reserved_pct: f64,
    /// Time-weighted cluster memory reservation, percent.
    pub mean_memory_reserved_pct: f64,
    /// Most instances at once (launching, ACTIVE or DRAINING).
    pub peak_instances: u64,
    /// Instance-hours (launch to end or stop).
    pub instance_hours: f64,
    /// Stable hash of every state change, as 16 hex digits.
    pub events_hash: String,
    /// Per cluster, in scenario order.
    pub clusters: Vec<ClusterSummary>,
    /// What it cost.
    pub costs: CostSummary,
    /// Load and auto scaling.
    pub scaling: ScalingSummary,
    /// Failures, recovery and deployments.
    pub recovery: RecoverySummary,
    /// The numbers a planner states objectives in.
    pub goals: GoalSummary,
    /// What each trace job read: rows used, skipped (by reason) and never reached.
    pub traces: Vec<TraceSummary>,
    /// Wall-clock time of the run, ms (the only field that differs between identical runs).
    pub wall_ms: u64,
}

/// Simulated days a month of cost is extrapolated to: cost per 30 days.
pub const MONTH_DAYS: u64 = 30;

/// The numbers a planner states objectives in: wait percentiles, availability and unserved
/// share per service, time to serve a load change, monthly cost and cost per request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoalSummary {
    /// Wait of every task (creation to placement, to its stop if it never ran, or to the end if
    /// it still waits, as `wait_ms` in tasks.csv): p50, p95, p99, ms (nearest rank).
    pub wait_percentiles_ms: [u64; 3],
    /// Per REPLICA service: % of time running >= desired, from the first time it ran its
    /// desired count (0 if it never did).
    pub availability: Vec<(String, f64)>,
    /// Per service with a load model.
    pub load: Vec<ServiceLoadGoals>,
}

/// One service's demand and how fast it served its load changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceLoadGoals {
    /// Service.
    pub name: String,
    /// Request-minutes demanded.
    pub demand_request_minutes: f64,
    /// Request-minutes left unserved.
    pub unserved_request_minutes: f64,
    /// Per abrupt load change: delay to the first sample with every request served (`None`:
    /// not by the end).
    pub served_after_ms: Vec<Option<u64>>,
    /// Per abrupt load change: when (ms).
    pub change_at_ms: Vec<u64>,
}

impl Summary {
    /// Flat `(key, value)` pairs in a fixed order, for JSON, CSV and the terminal: the run's
    /// counts, per-cluster values as `cluster.NAME.KEY`, costs, then (when the run has them)
    /// scaling and recovery, and `wall_ms` last.
    pub fn fields(&self) -> Vec<(String, SummaryValue)> {
        let mut out = Fields(Vec::new());
        self.run_fields(&mut out);
        self.cluster_fields(&mut out);
        self.cost_fields(&mut out);
        self.scaling_fields(&mut out);
        self.recovery_fields(&mut out);
        self.goal_fields(&mut out);
        self.trace_fields(&mut out);
        out.int("wall_ms", self.wall_ms);
        out.0
    }

    fn run_fields(&self, out: &mut Fields) {
        out.str("scenario", &self.scenario);
        out.int("seed", self.seed);
        out.int("sim_end_ms", self.sim_end_ms);
        out.str("stop_reason", &self.stop_reason);
        out.int("events_processed", self.events_processed);
        out.int("state_changes", self.state_changes);
        out.int("tasks_created", self.tasks_created);
        out.int("tasks_started", self.tasks_started);
        out.int("tasks_completed", self.tasks_completed);
        out.int("tasks_failed_to_place", self.tasks_failed_to_place);
        out.int("tasks_never_placed", self.tasks_never_placed);
        out.int(
            "tasks_stopped_by_scheduler",
            self.tasks_stopped_by_scheduler,
        );
        out.int(
            "service_placement_failures",
            self.service_placement_failures,
        );
        out.float("mean_wait_ms", self.mean_wait_ms);
        out.int("max_wait_ms", self.max_wait_ms);
        out.float("mean_cpu_reserved_pct", self.mean_cpu_reserved_pct);
        out.float("mean_memory_reserved_pct", self.mean_memory_reserved_pct);
        out.int("peak_instances", self.peak_instances);
        out.float("instance_hours", self.instance_hours);
        out.str("events_hash", &self.events_hash);
    }

    fn cluster_fields(&self, out: &mut Fields) {
        for c in &self.clusters {
            let k = |f: &str| format!("cluster.{}.{f}", c.name);
            out.float(k("mean_instances_in_use"), c.mean_instances_in_use);
            out.int(k("peak_instances_in_use"), c.peak_instances_in_use);
            out.float(k("mean_cpu_reserved_pct"), c.mean_cpu_reserved_pct);
            out.float(k("mean_memory_reserved_pct"), c.mean_memory_reserved_pct);
            out.float(k("cpu_fragmentation_pct"), c.cpu_fragmentation_pct);
            out.float(k("memory_fragmentation_pct"), c.memory_fragmentation_pct);
        }
    }

    fn cost_fields(&self, out: &mut Fields) {
        let c = &self.costs;
        out.usd("cost_total_usd", c.total);
        out.usd("cost_ec2_usd", c.ec2);
        out.usd("cost_ec2_idle_usd", c.ec2_idle);
        out.usd("cost_ec2_spot_usd", c.ec2_spot);
        out.usd("cost_fargate_usd", c.fargate);
        out.usd("cost_fargate_spot_usd", c.fargate_spot);
        out.usd("cost_fargate_vcpu_usd", c.fargate_charge.vcpu);
        out.usd("cost_fargate_memory_usd", c.fargate_charge.memory);
        out.usd("cost_fargate_storage_usd", c.fargate_charge.storage);
        out.usd("cost_fargate_os_license_usd", c.fargate_charge.os_license);
        out.float("task_hours", c.task_hours);
        let per_task_hour = if c.task_hours > 0.0 {
            c.total.usd() / c.task_hours
        } else {
            0.0
        };
        out.float("cost_per_task_hour_usd", per_task_hour);
        for (n, m) in &c.providers {
            out.usd(format!("capacity_provider.{n}.cost_usd"), *m);
        }
        for (n, m) in &c.services {
            out.usd(format!("service.{n}.cost_usd"), *m);
        }
        for (n, m) in &c.jobs {
            out.usd(format!("job.{n}.cost_usd"), *m);
        }
        out.int("tasks_waited_for_capacity", self.tasks_waited_for_capacity);
        for (why, n) in &self.tasks_waited_by_reason {
            out.int(format!("tasks_waited_for_capacity.{why}"), *n);
        }
        out.int("run_task_calls_throttled", self.run_task_calls_throttled);
    }

    fn scaling_fields(&self, out: &mut Fields) {
        let sc = &self.scaling;
        if sc.services.is_empty() && sc.instances_launched + sc.instances_terminated == 0 {
            return;
        }
        out.float("unserved_request_minutes", sc.unserved_request_minutes);
        out.float("idle_instance_hours", sc.idle_instance_hours);
        if let Some(h) = sc.idle_instance_hours_after_load_drop {
            out.float("idle_instance_hours_after_load_drop", h);
        }
        out.int("scaling_actions", sc.scaling_actions);
        out.int("instances_launched", sc.instances_launched);
        out.int("instances_terminated", sc.instances_terminated);
        for s in &sc.services {
            let k = |f: &str| format!("service.{}.{f}", s.name);
            out.float(k("unserved_request_minutes"), s.unserved_request_minutes);
            out.int(k("scaling_actions"), s.scaling_actions);
            for (n, (at, first, running)) in s.load_changes.iter().enumerate() {
                out.int(k(&format!("load_change.{n}.at_ms")), *at);
                if let Some(f) = first {
                    out.int(k(&format!("load_change.{n}.first_scaling_after_ms")), *f);
                }
                if let Some(r) = running {
                    out.int(k(&format!("load_change.{n}.tasks_running_after_ms")), *r);
                }
            }
        }
    }

    /// Whether the recovery fields are written (the run had failures or deployments).
    fn has_recovery(&self) -> bool {
        let r = &self.recovery;
        !(r.failures.is_empty() && r.deployments.is_empty() && r.tasks_lost == 0)
    }

    /// 30 days over the simulated time: the factor that turns the run's cost into a month's.
    pub fn month_factor(&self) -> f64 {
        if self.sim_end_ms == 0 {
            0.0
        } else {
            (MONTH_DAYS * 86_400_000) as f64 / self.sim_end_ms as f64
        }
    }

    /// Requests served over the run (request-minutes x 60), if any service has a load model.
    pub fn requests_served(&self) -> Option<f64> {
        if self.goals.load.is_empty() {
            return None;
        }
        let g = &self.goals.load;
        Some(
            g.iter()
                .map(|s| (s.demand_request_minutes - s.unserved_request_minutes).max(0.0) * 60.0)
                .sum(),
        )
    }

    /// The planner's fields: wait percentiles, monthly cost, cost per million requests,
    /// unserved share, availability and time to serve load changes.
    fn goal_fields(&self, out: &mut Fields) {
        let g = &self.goals;
        let [p50, p95, p99] = g.wait_percentiles_ms;
        out.int("tasks.wait_p50_ms", p50);
        out.int("tasks.wait_p95_ms", p95);
        out.int("tasks.wait_p99_ms", p99);
        let month = self.month_factor();
        out.float("cost_monthly_usd", self.costs.total.usd() * month);
        for (n, m) in &self.costs.services {
            out.float(format!("service.{n}.cost_monthly_usd"), m.usd() * month);
        }
        for (n, m) in &self.costs.jobs {
            out.float(format!("job.{n}.cost_monthly_usd"), m.usd() * month);
        }
        if let Some(served) = self.requests_served() {
            let demand: f64 = g.load.iter().map(|s| s.demand_request_minutes).sum();
            let unserved: f64 = g.load.iter().map(|s| s.unserved_request_minutes).sum();
            out.float("unserved_request_pct", pct_of(unserved, demand));
            out.float("requests_served", served);
            if served > 0.0 {
                out.float(
                    "cost_per_million_requests_usd",
                    self.costs.total.usd() / served * 1e6,
                );
            }
        }
        if !self.has_recovery() {
            for (name, a) in &g.availability {
                out.float(format!("service.{name}.availability_pct"), *a);
            }
        }
        for s in &g.load {
            self.service_goal_fields(out, s);
        }
    }

    fn service_goal_fields(&self, out: &mut Fields, s: &ServiceLoadGoals) {
        let k = |f: &str| format!("service.{}.{f}", s.name);
        out.float(
            k("unserved_request_pct"),
            pct_of(s.unserved_request_minutes, s.demand_request_minutes),
        );
        let served = (s.demand_request_minutes - s.unserved_request_minutes).max(0.0) * 60.0;
        let cost = self.costs.services.iter().find(|(n, _)| *n == s.name);
        if let Some((_, m)) = cost
            && served > 0.0
        {
            out.float(k("cost_per_million_requests_usd"), m.usd() / served * 1e6);
        }
        let mut longest = None;
        for (n, (after, at)) in s.served_after_ms.iter().zip(&s.change_at_ms).enumerate() {
            if let Some(a) = after {
                out.int(k(&format!("load_change.{n}.served_after_ms")), *a);
            }
            // A change not served by the end counts until the end.
            let d = after.unwrap_or(self.sim_end_ms.saturating_sub(*at));
            longest = Some(longest.map_or(d, |l: u64| l.max(d)));
        }
        if let Some(l) = longest {
            out.int(k("load_change_served_max_ms"), l);
        }
    }

    fn trace_fields(&self, out: &mut Fields) {
        for t in &self.traces {
            let k = |f: &str| format!("job.{}.trace_{f}", t.job);
            let c = &t.counts;
            out.int(k("rows_used"), c.rows_used);
            out.int(k("tasks"), c.tasks);
            out.int(k("rows_skipped"), c.skipped_total());
            for r in crate::trace::SkipReason::ALL {
                out.int(
                    k(&format!("rows_skipped.{}", r.key())),
                    c.skipped[r as usize],
                );
            }
            out.int(k("rows_after_end"), c.after_end);
            out.int(k("rows_malformed"), c.malformed + c.late);
        }
    }

    fn recovery_fields(&self, out: &mut Fields) {
        let r = &self.recovery;
        if !self.has_recovery() {
            return;
        }
        out.int("tasks_lost", r.tasks_lost);
        out.float(
            "unserved_request_minutes_during_failures",
            r.unserved_request_minutes_during_failures,
        );
        for (name, a, m, lost, missing) in &r.services {
            out.float(format!("service.{name}.availability_pct"), *a);
            out.float(format!("service.{name}.min_healthy_availability_pct"), *m);
            out.int(format!("service.{name}.tasks_lost"), *lost);
            out.float(
                format!("service.{name}.task_minutes_below_desired"),
                *missing,
            );
        }
        for (k, (kind, at, rec)) in r.failures.iter().enumerate() {
            out.str(format!("failure.{k}.kind"), kind);
            out.int(format!("failure.{k}.at_ms"), *at);
            if let Some(x) = rec {
                out.int(format!("failure.{k}.recovered_after_ms"), *x);
            }
        }
        for (svc, id, state, dur) in &r.deployments {
            out.str(format!("service.{svc}.deployment.{id}.state"), state);
            if let Some(d) = dur {
                out.int(format!("service.{svc}.deployment.{id}.duration_ms"), *d);
            }
        }
    }
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
fn pct_of(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// What one trace job read from its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    /// The job's name.
    pub job: String,
    /// The trace file, as the scenario names it.
    pub file: String,
    /// Its format's name.
    pub format: &'static str,
    /// Rows used, skipped and never reached.
    pub counts: crate::trace::TraceCounts,
}

/// The summary's fields as they are collected.
struct Fields(Vec<(String, SummaryValue)>);

impl Fields {
    fn str(&mut self, k: impl Into<String>, v: &str) {
        self.0.push((k.into(), SummaryValue::Str(v.to_string())));
    }
    fn int(&mut self, k: impl Into<String>, v: u64) {
        self.0.push((k.into(), SummaryValue::Int(v)));
    }
    fn float(&mut self, k: impl Into<String>, v: f64) {
        self.0.push((k.into(), SummaryValue::Float(v)));
    }
    fn usd(&mut self, k: impl Into<String>, m: crate::pricing::Money) {
        self.float(k, m.usd());
    }
}
