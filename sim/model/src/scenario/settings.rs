//! `[simulation]` and `[settings]`: how long and how finely to run, and conventions AWS leaves open.

use ecsim_placement::{Strategy, TieBreak};

use crate::dist::Dist;

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
    /// Guard: stop when more tasks than this wait at once (for capacity, or for a throttled
    /// RunTask call): their records grow without bound otherwise.
    pub max_waiting_tasks: u64,
    /// CloudWatch datapoint resolution: 60 s (standard) or 20 s.
    pub metrics_resolution_ms: u64,
    /// How long after a period ends its datapoint can be seen by alarms.
    pub metrics_publish_delay_ms: u64,
}

/// `[settings]`: conventions where AWS documents nothing.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Memory the OS keeps from the agent, percent of nominal, for types without a documented
    /// figure; `None` (the default): the formulas of [`crate::catalog`] that reproduce AWS's
    /// documented figures.
    pub os_memory_overhead_pct: Option<f64>,
    /// Tie-breaking among equally ranked instances.
    pub tie_break: TieBreak,
    /// PENDING to RUNNING (image pull and container start), default 0.
    pub task_start_delay: Dist,
    /// SIGTERM to exit of a task the scheduler stops, capped at its `stop_timeout` (AWS: not
    /// documented); `None` (the default, `"stop_timeout"`): the whole stop timeout.
    pub task_stop_time: Option<Dist>,
    /// Strategy for standalone tasks that give none (AWS: not documented).
    pub run_task_default_strategy: Vec<Strategy>,
    /// `agentVersion` of every instance.
    pub agent_version: String,
    /// The RunTask API's rate limit for standalone tasks (one call per task), if applied.
    pub run_task_rate: Option<RunTaskRate>,
    /// The `awsvpcTrunking` account setting (ECS-DG `container-instance-eni.html`); off by
    /// default, as for an account that never opted in. A cluster's `awsvpc_trunking` overrides it.
    pub awsvpc_trunking: bool,
    /// When trunking was switched on (`awsvpc_trunking_at`, default 0): instances launched
    /// earlier keep `max_enis - 1` awsvpc tasks.
    pub awsvpc_trunking_at_ms: u64,
    /// How long a trunking instance creates and attaches its trunk ENI before it registers,
    /// added to its launch delay. AWS documents no figure: ecsim's convention is 5 s (AWS says
    /// ENI provisioning takes "several seconds", ecs-semantics 3.3).
    pub trunk_eni_delay: Dist,
    /// A service that cannot place a task tries again this often even when no capacity
    /// changes (ECS-DG service-event-messages.html: the service keeps retrying; AWS documents
    /// no cadence; default 1 minute; 0: only when capacity changes).
    pub service_placement_retry_ms: u64,
    /// Availability Zone rebalancing checks a service at most this often (AWS documents no
    /// pacing; default 1 minute).
    pub az_rebalancing_interval_ms: u64,
}

impl Settings {
    /// When ENI trunking was switched on for a cluster's instances (`None`: off): the cluster's
    /// `awsvpc_trunking` if it gives one, else the account setting, from `awsvpc_trunking_at`.
    pub fn awsvpc_trunking_since(&self, cluster: &super::ClusterDef) -> Option<u64> {
        cluster
            .awsvpc_trunking
            .unwrap_or(self.awsvpc_trunking)
            .then_some(self.awsvpc_trunking_at_ms)
    }
}

/// The RunTask API's request rate limit (ecs-semantics 3.3, ECS-DG throttling.html: 20 calls per
/// second). A throttled call is retried as soon as the bucket allows (ecsim's convention: the
/// client backs off exactly as long as needed, in call order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunTaskRate {
    /// Sustained calls per second.
    pub calls_per_s: f64,
    /// Calls that may be made at once (bucket size; AWS documents none: one second's worth).
    pub burst: u32,
}

impl Default for RunTaskRate {
    fn default() -> Self {
        RunTaskRate {
            calls_per_s: 20.0,
            burst: 20,
        }
    }
}
