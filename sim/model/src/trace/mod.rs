//! Task traces: one task (or a row's count of tasks) per row of a trace file, each with its own
//! submit time, CPU, memory and run time, and optionally a task group and a `memberOf`
//! constraint. See `docs/traces.md` in the repository for every format's mapping.
//!
//! A trace is **streamed**: the CLI opens the file and hands a [`std::io::BufRead`] to the run,
//! and [`TraceReader`] parses rows only as simulated time reaches them. It keeps at most
//! `reorder_rows` parsed rows (a window that puts rows a little out of order back in submit
//! order), so a trace of any length runs in bounded memory. [`check`] reads a whole trace the
//! same way before a run and reports every malformed row with its line, column, field, value
//! and what is allowed; rows a format defines as not runnable (a task that never ran, a request
//! the trace left empty) are skipped and counted by reason ([`SkipReason`]).
//!
//! The model reads no file itself: the CLI opens them, checks where they are, and gives the
//! readers here.

pub mod cloudwatch;
mod formats;
pub mod machines;
mod reader;
pub mod requests;
pub mod server_events;
pub mod utilization;

pub use reader::{TraceCheck, TraceReader, TraceTask, check};

use std::io::BufRead;

use crate::scenario::{Arrival, Scenario};
use requests::RowProblem;

/// The open traces of a run: one reader per trace job.
#[derive(Default)]
pub struct Traces {
    readers: Vec<Option<TraceReader>>,
}

impl Traces {
    /// No traces (a scenario without trace jobs).
    pub fn none() -> Self {
        Traces::default()
    }

    /// Open every trace job's trace with `open`, which the CLI gives: it resolves the file
    /// against the scenario's folder, checks it is allowed, and opens (and decompresses) it.
    /// `Err` lists every trace that could not be opened as (job index, message).
    pub fn open(
        sc: &Scenario,
        mut open: impl FnMut(&TraceSpec) -> Result<Box<dyn BufRead + Send>, String>,
    ) -> Result<Traces, Vec<(usize, String)>> {
        let mut readers = Vec::new();
        let mut errors = Vec::new();
        for (j, job) in sc.jobs.iter().enumerate() {
            readers.push(match &job.arrival {
                Arrival::Trace(spec) => match open(spec) {
                    Ok(src) => Some(TraceReader::new(spec, src)),
                    Err(e) => {
                        errors.push((j, e));
                        None
                    }
                },
                _ => None,
            });
        }
        if errors.is_empty() {
            Ok(Traces { readers })
        } else {
            Err(errors)
        }
    }

    /// The reader of job `j`, taken.
    pub(crate) fn take(&mut self, j: usize) -> Option<TraceReader> {
        self.readers.get_mut(j).and_then(Option::take)
    }
}

/// The formats a trace can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// ecsim's own CSV: `submit_s,cpu_units,memory_mib,duration_s[,count][,group]`.
    Csv,
    /// Alibaba cluster-trace-v2017 `batch_task`.
    AlibabaV2017BatchTask,
    /// Alibaba cluster-trace-gpu-v2023 (OpenB) pod list.
    AlibabaGpuV2023Pods,
    /// The Standard Workload Format of the Parallel Workloads Archive.
    Swf,
}

impl TraceFormat {
    /// Every format with the name a scenario gives it.
    pub const ALL: [(&'static str, TraceFormat); 4] = [
        ("csv", TraceFormat::Csv),
        (
            "alibaba-v2017-batch-task",
            TraceFormat::AlibabaV2017BatchTask,
        ),
        ("alibaba-gpu-v2023-pods", TraceFormat::AlibabaGpuV2023Pods),
        ("swf", TraceFormat::Swf),
    ];

    /// The name a scenario gives the format.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
}

/// How many tasks a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TasksPerRow {
    /// The row's count (`count`, `instance_num`, SWF processors), each of the row's per-task size.
    Count,
    /// One task of the row's per-task size, whatever its count.
    One,
}

/// `arrival = { type = "trace", ... }`: where the trace is and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The file, as written in the scenario (relative to the scenario's folder).
    pub file: String,
    /// Its format.
    pub format: TraceFormat,
    /// One task per row or the row's count.
    pub tasks_per_row: TasksPerRow,
    /// MiB that a normalised memory of 1.0 stands for (Alibaba v2017; required there).
    pub memory_mib_per_unit: Option<f64>,
    /// CPU units of one SWF processor (default 1,024: one vCPU).
    pub cpu_units_per_processor: u32,
    /// Memory of one SWF processor when the log gives none, MiB (default 2,048).
    pub memory_mib_per_processor: u32,
    /// The instance attribute holding a GPU model (OpenB pods; default `gpu_model`).
    pub gpu_attribute: String,
    /// Rows kept parsed ahead of time to put rows back in submit order (default 100,000).
    pub reorder_rows: u32,
}

/// Default of [`TraceSpec::reorder_rows`]: the whole Alibaba v2017 `batch_task` (80,553 rows,
/// far out of order) fits; a few MiB of memory.
pub const DEFAULT_REORDER_ROWS: u32 = 100_000;

/// Why a row was skipped (a row the format defines as not runnable; not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// The task never ran in the trace (Alibaba `Waiting`/`Running`/`Ready`/`Cancelled`
    /// status, an OpenB pod never scheduled): no run time to replay.
    NotRun,
    /// The trace gives no CPU or memory request (Alibaba: empty `plan_cpu`/`plan_mem`).
    NoRequest,
    /// The run time is unknown or negative (SWF `-1`, an end before the start).
    NoRunTime,
    /// The task ended before the trace's time origin.
    BeforeStart,
    /// The row stands for no task (a count of 0, SWF processors unknown).
    NoTasks,
    /// The submit time is unknown (SWF `-1`).
    NoSubmitTime,
}

impl SkipReason {
    /// Every reason, in the order the summary lists them.
    pub const ALL: [SkipReason; 6] = [
        SkipReason::NotRun,
        SkipReason::NoRequest,
        SkipReason::NoRunTime,
        SkipReason::BeforeStart,
        SkipReason::NoTasks,
        SkipReason::NoSubmitTime,
    ];

    /// The key in the summary (`job.NAME.trace_rows_skipped.KEY`).
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::NotRun => "not_run",
            SkipReason::NoRequest => "no_request",
            SkipReason::NoRunTime => "no_run_time",
            SkipReason::BeforeStart => "before_start",
            SkipReason::NoTasks => "no_tasks",
            SkipReason::NoSubmitTime => "no_submit_time",
        }
    }
}

/// What a trace gave a run: rows used, rows skipped by reason, rows after the run's end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceCounts {
    /// Rows that became tasks.
    pub rows_used: u64,
    /// Tasks those rows stood for.
    pub tasks: u64,
    /// Rows skipped, per [`SkipReason`] (in [`SkipReason::ALL`] order).
    pub skipped: [u64; 6],
    /// Rows submitted at or after the end of the run (never reached).
    pub after_end: u64,
    /// Malformed rows (only if the file changed after it was checked: [`check`] refuses them).
    pub malformed: u64,
    /// Rows further out of order than the reorder window, submitted late (likewise refused by
    /// [`check`]).
    pub late: u64,
}

impl TraceCounts {
    /// Rows skipped, all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().sum()
    }
}

/// A comma-separated row of a machine trace split into its fields, or (column 1, a message naming
/// the `columns` expected) when it has another number of fields.
pub(crate) fn split_row<'a>(line: &'a str, columns: &str) -> Result<Vec<&'a str>, (usize, String)> {
    let fields: Vec<&str> = line.split(',').collect();
    let want = columns.split(',').count();
    if fields.len() != want {
        return Err((
            1,
            format!(
                "expected {want} comma-separated columns ({columns}), got {}",
                fields.len()
            ),
        ));
    }
    Ok(fields)
}

/// The column (1-based, in characters) where field `f` of a split row starts.
pub(crate) fn field_column(fields: &[&str], f: usize) -> usize {
    1 + fields[..f]
        .iter()
        .map(|s| s.chars().count() + 1)
        .sum::<usize>()
}

/// At most this many problems of a load trace are listed, then a count of the rest.
const SHOWN: usize = 20;

/// Collects a load trace's problems: the first [`SHOWN`], then a count.
#[derive(Default)]
pub(crate) struct Problems {
    list: Vec<RowProblem>,
    more: usize,
}

impl Problems {
    /// Add a problem at 1-based `line` and `column` (0, 0 for the whole file).
    pub(crate) fn add(&mut self, line: usize, column: usize, msg: String) {
        if self.list.len() < SHOWN {
            self.list.push((line, column, msg));
        } else {
            self.more += 1;
        }
    }

    /// Whether any problem was added.
    pub(crate) fn any(&self) -> bool {
        !self.list.is_empty() || self.more > 0
    }

    /// The problems listed, then one saying how many more were found.
    pub(crate) fn finish(mut self) -> Vec<RowProblem> {
        if self.more > 0 {
            self.list
                .push((0, 0, format!("{} more problems not shown", self.more)));
        }
        self.list
    }
}
