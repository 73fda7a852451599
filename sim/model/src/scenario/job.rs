//! `[[jobs]]`: streams of standalone tasks.

use ecsim_placement::{Constraint, Strategy};

use super::LaunchSpec;
use crate::dist::Dist;
use crate::trace::TraceSpec;

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
    /// One task (or a row's count) per row of a trace file, streamed as the run goes
    /// ([`crate::trace`]); each task has the row's submit time, CPU, memory and run time.
    Trace(TraceSpec),
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
    /// Index into [`Scenario::clusters`](super::Scenario::clusters).
    pub cluster: usize,
    /// Task definitions and weights.
    pub mix: Vec<(usize, f64)>,
    /// Arrivals.
    pub arrival: Arrival,
    /// Run time of each task (a trace gives each task its own; then this is unused, 0).
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
