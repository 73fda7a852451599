//! Renders what a run produced: CSV files, `summary.json`, and the terminal summary.
//!
//! The principal types are [`CsvSink`], a [`ecsim_model::record::Sink`] that writes
//! `events.csv`, `metrics.csv` and `tasks.csv` to the writers it is given, and the functions
//! [`summary_json`] and [`summary_text`]. This crate opens no files: the CLI hands it writers.

use std::fmt::Write as _;
use std::io::Write;

pub mod charts;
pub mod report;

use ecsim_model::pricing::{Money, UNITS_PER_USD};
use ecsim_model::record::{
    CostRow, DeploymentRow, EventRecord, FailureRow, MetricsRow, RunHeader, ScalingRecord, Sink,
    Summary, SummaryValue, TaskRow,
};

/// Column names of `events.csv`.
pub const EVENT_COLUMNS: [&str; 9] = [
    "time_ms", "kind", "entity", "service", "job", "instance", "from", "to", "reason",
];
/// Fixed column names of `metrics.csv`; per cluster, `NAME.instances_in_use`,
/// `NAME.cpu_reserved_pct` and `NAME.memory_reserved_pct` follow, then per service, `NAME.desired`, `NAME.running` and `NAME.pending` follow.
pub const METRIC_COLUMNS: [&str; 10] = [
    "time_ms",
    "instances_launching",
    "instances_active",
    "instances_draining",
    "instances_stopped",
    "tasks_provisioning",
    "tasks_pending",
    "tasks_running",
    "cpu_reserved_pct",
    "memory_reserved_pct",
];
/// Column names of `cost.csv` (long format: one row per hour, scope and name).
pub const COST_COLUMNS: [&str; 4] = ["hour_start_ms", "scope", "name", "cost_usd"];

/// Column names of `scaling.csv`.
pub const SCALING_COLUMNS: [&str; 7] =
    ["time_ms", "kind", "name", "target", "from", "to", "reason"];

/// Column names of `failures.csv`.
pub const FAILURE_COLUMNS: [&str; 6] = [
    "time_ms",
    "kind",
    "target",
    "tasks_lost",
    "services",
    "recovered_after_ms",
];
/// Column names of `deployments.csv`.
pub const DEPLOYMENT_COLUMNS: [&str; 10] = [
    "service",
    "deployment_id",
    "task_definition",
    "from_task_definition",
    "started_ms",
    "ended_ms",
    "duration_ms",
    "state",
    "failed_tasks",
    "reason",
];

/// Column names of `tasks.csv`.
pub const TASK_COLUMNS: [&str; 15] = [
    "task_id",
    "task_definition",
    "service",
    "job",
    "group",
    "cluster",
    "instance",
    "availability_zone",
    "created_ms",
    "pending_ms",
    "running_ms",
    "stopped_ms",
    "wait_ms",
    "outcome",
    "reason",
];

struct Table<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> Table<W> {
    fn new(w: W) -> Self {
        Table {
            w: csv::WriterBuilder::new()
                .buffer_capacity(1 << 16)
                .from_writer(w),
        }
    }
}

/// Writes a run's records as CSV. Any table may be left out. The first write error is kept
/// and returned by [`CsvSink::finish`]; after it, nothing more is written.
pub struct CsvSink<W: Write> {
    events: Option<Table<W>>,
    metrics: Option<Table<W>>,
    tasks: Option<Table<W>>,
    costs: Option<Table<W>>,
    scaling: Option<Table<W>>,
    failures: Option<Table<W>>,
    deployments: Option<Table<W>>,
    buf: String,
    error: Option<csv::Error>,
}

impl<W: Write> CsvSink<W> {
    /// A sink over the given writers.
    pub fn new(events: Option<W>, metrics: Option<W>, tasks: Option<W>, costs: Option<W>) -> Self {
        CsvSink {
            events: events.map(Table::new),
            metrics: metrics.map(Table::new),
            tasks: tasks.map(Table::new),
            costs: costs.map(Table::new),
            scaling: None,
            failures: None,
            deployments: None,
            buf: String::new(),
            error: None,
        }
    }

    /// Also write `failures.csv` and `deployments.csv` to these writers.
    pub fn with_recovery(mut self, failures: W, deployments: W) -> Self {
        self.failures = Some(Table::new(failures));
        self.deployments = Some(Table::new(deployments));
        self
    }

    /// Also write `scaling.csv` to this writer.
    pub fn with_scaling(mut self, w: W) -> Self {
        self.scaling = Some(Table::new(w));
        self
    }

    /// Flush everything and hand back the writers (events, metrics, tasks, cost).
    pub fn into_writers(mut self) -> Result<[Option<W>; 4], csv::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let take = |t: Option<Table<W>>| -> Result<Option<W>, csv::Error> {
            t.map(|t| {
                t.w.into_inner()
                    .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
            })
            .transpose()
        };
        Ok([
            take(self.events)?,
            take(self.metrics)?,
            take(self.tasks)?,
            take(self.costs)?,
        ])
    }

    /// Flush everything and report the first error, if any.
    pub fn finish(mut self) -> Result<(), csv::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for t in [
            self.events.as_mut(),
            self.metrics.as_mut(),
            self.tasks.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            t.w.flush()?;
        }
        Ok(())
    }

    fn keep(&mut self, r: Result<(), csv::Error>) {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }
}

fn num(
    w: &mut csv::Writer<impl Write>,
    buf: &mut String,
    v: impl std::fmt::Display,
) -> Result<(), csv::Error> {
    buf.clear();
    let _ = write!(buf, "{v}");
    w.write_field(buf.as_bytes())
}

fn opt_num(
    w: &mut csv::Writer<impl Write>,
    buf: &mut String,
    v: Option<u64>,
) -> Result<(), csv::Error> {
    match v {
        Some(v) => num(w, buf, v),
        None => w.write_field(""),
    }
}

fn pct(w: &mut csv::Writer<impl Write>, buf: &mut String, v: f64) -> Result<(), csv::Error> {
    buf.clear();
    let _ = write!(buf, "{v:.3}");
    w.write_field(buf.as_bytes())
}

impl<W: Write> Sink for CsvSink<W> {
    fn begin(&mut self, h: &RunHeader<'_>) {
        let mut r = Ok(());
        if let Some(t) = self.events.as_mut() {
            r = r.and_then(|_| t.w.write_record(EVENT_COLUMNS));
        }
        if let Some(t) = self.metrics.as_mut() {
            let mut cols: Vec<String> = METRIC_COLUMNS.iter().map(|s| s.to_string()).collect();
            for c in h.clusters {
                for k in [
                    "instances_in_use",
                    "cpu_reserved_pct",
                    "memory_reserved_pct",
                ] {
                    cols.push(format!("{c}.{k}"));
                }
            }
            for s in h.services {
                for k in ["desired", "running", "pending", "provisioning"] {
                    cols.push(format!("{s}.{k}"));
                }
            }
            for s in h.load_services {
                for k in [
                    "demand_rps",
                    "served_rps",
                    "unserved_rps",
                    "cpu_utilization_pct",
                    "memory_utilization_pct",
                    "requests_per_target",
                ] {
                    cols.push(format!("{s}.{k}"));
                }
            }
            for p in h.providers {
                for k in ["instances", "capacity_provider_reservation_pct"] {
                    cols.push(format!("{p}.{k}"));
                }
            }
            r = r.and_then(|_| t.w.write_record(&cols));
        }
        if let Some(t) = self.tasks.as_mut() {
            r = r.and_then(|_| t.w.write_record(TASK_COLUMNS));
        }
        if let Some(t) = self.costs.as_mut() {
            r = r.and_then(|_| t.w.write_record(COST_COLUMNS));
        }
        if let Some(t) = self.scaling.as_mut() {
            r = r.and_then(|_| t.w.write_record(SCALING_COLUMNS));
        }
        if let Some(t) = self.failures.as_mut() {
            r = r.and_then(|_| t.w.write_record(FAILURE_COLUMNS));
        }
        if let Some(t) = self.deployments.as_mut() {
            r = r.and_then(|_| t.w.write_record(DEPLOYMENT_COLUMNS));
        }
        self.keep(r);
    }

    fn event(&mut self, e: &EventRecord<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.events.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut t.w;
        let r = (|| {
            num(w, b, e.time_ms)?;
            w.write_field(e.kind.as_str())?;
            match e.task {
                Some(id) => num(w, b, id)?,
                None if !e.instance.is_empty() && e.service.is_empty() => {
                    w.write_field(e.instance)?
                }
                None => w.write_field(e.service)?,
            }
            w.write_field(e.service)?;
            w.write_field(e.job)?;
            w.write_field(e.instance)?;
            w.write_field(e.from)?;
            w.write_field(e.to)?;
            w.write_field(e.reason)?;
            w.write_record(None::<&[u8]>)
        })();
        self.keep(r);
    }

    fn metrics(&mut self, m: &MetricsRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.metrics.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut t.w;
        let r = (|| {
            num(w, b, m.time_ms)?;
            num(w, b, m.instances_launching)?;
            num(w, b, m.instances_active)?;
            num(w, b, m.instances_draining)?;
            num(w, b, m.instances_stopped)?;
            num(w, b, m.tasks_provisioning)?;
            num(w, b, m.tasks_pending)?;
            num(w, b, m.tasks_running)?;
            pct(w, b, m.cpu_reserved_pct)?;
            pct(w, b, m.memory_reserved_pct)?;
            for c in m.clusters {
                num(w, b, c.instances_in_use)?;
                pct(w, b, c.cpu_reserved_pct)?;
                pct(w, b, c.memory_reserved_pct)?;
            }
            for s in m.services {
                num(w, b, s.desired)?;
                num(w, b, s.running)?;
                num(w, b, s.pending)?;
                num(w, b, s.provisioning)?;
            }
            for l in m.loads {
                pct(w, b, l.demand_rps)?;
                pct(w, b, l.served_rps)?;
                pct(w, b, l.unserved_rps)?;
                for v in [l.cpu_pct, l.memory_pct, l.requests_per_target] {
                    match v {
                        Some(v) => pct(w, b, v)?,
                        None => w.write_field("")?,
                    }
                }
            }
            for p in m.providers {
                num(w, b, p.instances)?;
                match p.reservation_pct {
                    Some(v) => pct(w, b, v)?,
                    None => w.write_field("")?,
                }
            }
            w.write_record(None::<&[u8]>)
        })();
        self.keep(r);
    }

    fn cost(&mut self, c: &CostRow<'_>) {
        self.cost_row(c);
    }

    fn failure(&mut self, f: &FailureRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.failures.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut t.w;
        let res = (|| {
            num(w, b, f.time_ms)?;
            w.write_field(f.kind)?;
            w.write_field(f.target)?;
            num(w, b, f.tasks_lost)?;
            w.write_field(f.services)?;
            opt_num(w, b, f.recovered_after_ms)?;
            w.write_record(None::<&[u8]>)
        })();
        self.keep(res);
    }

    fn deployment(&mut self, d: &DeploymentRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.deployments.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut t.w;
        let res = (|| {
            w.write_field(d.service)?;
            num(w, b, d.deployment_id)?;
            w.write_field(d.task_definition)?;
            w.write_field(d.from_task_definition)?;
            num(w, b, d.started_ms)?;
            opt_num(w, b, d.ended_ms)?;
            opt_num(w, b, d.ended_ms.map(|e| e - d.started_ms))?;
            w.write_field(d.state)?;
            num(w, b, d.failed_tasks)?;
            w.write_field(d.reason)?;
            w.write_record(None::<&[u8]>)
        })();
        self.keep(res);
    }

    fn scaling(&mut self, r: &ScalingRecord<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.scaling.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut t.w;
        let res = (|| {
            num(w, b, r.time_ms)?;
            for f in [r.kind, r.name, r.target, r.from, r.to, r.reason] {
                w.write_field(f)?;
            }
            w.write_record(None::<&[u8]>)
        })();
        self.keep(res);
    }

    fn task(&mut self, t: &TaskRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(tab) = self.tasks.as_mut() else {
            return;
        };
        let b = &mut self.buf;
        let w = &mut tab.w;
        let r = (|| {
            num(w, b, t.task_id)?;
            w.write_field(t.task_definition)?;
            w.write_field(t.service)?;
            w.write_field(t.job)?;
            w.write_field(t.group)?;
            w.write_field(t.cluster)?;
            w.write_field(t.instance)?;
            w.write_field(t.availability_zone)?;
            num(w, b, t.created_ms)?;
            opt_num(w, b, t.pending_ms)?;
            opt_num(w, b, t.running_ms)?;
            opt_num(w, b, t.stopped_ms)?;
            num(w, b, t.wait_ms)?;
            w.write_field(t.outcome)?;
            w.write_field(t.reason)?;
            w.write_record(None::<&[u8]>)
        })();
        self.keep(r);
    }
}

impl<W: Write> CsvSink<W> {
    fn cost_row(&mut self, c: &CostRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(t) = self.costs.as_mut() else { return };
        let b = &mut self.buf;
        let w = &mut t.w;
        let r = (|| {
            num(w, b, c.hour_start_ms)?;
            w.write_field(c.scope)?;
            w.write_field(c.name)?;
            b.clear();
            b.push_str(&usd_exact(c.cost, 9));
            w.write_field(b.as_bytes())?;
            w.write_record(None::<&[u8]>)
        })();
        self.keep(r);
    }
}

/// An exact amount as decimal dollars with `places` decimals (rounded half up), without going
/// through floating point.
pub fn usd_exact(m: Money, places: u32) -> String {
    let scale = 10u128.pow(places);
    let per = UNITS_PER_USD / scale;
    let q = (m.0 + per / 2) / per;
    format!(
        "{}.{:0width$}",
        q / scale,
        q % scale,
        width = places as usize
    )
}

fn json_value(v: &SummaryValue) -> String {
    match v {
        SummaryValue::Str(s) => serde_json::Value::String(s.clone()).to_string(),
        SummaryValue::Int(i) => i.to_string(),
        SummaryValue::Float(f) if f.is_finite() => format!("{f:.6}"),
        SummaryValue::Float(_) => "null".into(),
    }
}

/// `summary.json`: one flat object, keys in [`Summary::fields`] order.
pub fn summary_json(s: &Summary) -> String {
    let fields = s.fields();
    let mut out = String::from("{\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        let comma = if i + 1 < fields.len() { "," } else { "" };
        let _ = writeln!(out, "  \"{k}\": {}{comma}", json_value(v));
    }
    out.push_str("}\n");
    out
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The few lines `ecsim run` prints.
pub fn summary_text(s: &Summary, output: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "ecsim run: {} (seed {})", s.scenario, s.seed);
    let _ = writeln!(
        o,
        "  simulated    {} (stop: {}), {} events in {:.2} s wall",
        ecsim_engine_like_duration(s.sim_end_ms),
        s.stop_reason,
        thousands(s.events_processed),
        s.wall_ms as f64 / 1000.0
    );
    let _ = writeln!(
        o,
        "  tasks        {} created, {} started, {} completed, {} failed to place, {} never placed",
        thousands(s.tasks_created),
        thousands(s.tasks_started),
        thousands(s.tasks_completed),
        thousands(s.tasks_failed_to_place),
        thousands(s.tasks_never_placed)
    );
    if s.service_placement_failures > 0 || s.tasks_stopped_by_scheduler > 0 {
        let _ = writeln!(
            o,
            "  services     {} failed placement attempts, {} tasks stopped by scale-in",
            thousands(s.service_placement_failures),
            thousands(s.tasks_stopped_by_scheduler)
        );
    }
    let _ = writeln!(
        o,
        "  wait         mean {}, max {} (creation to placement)",
        ecsim_engine_like_duration(s.mean_wait_ms.round() as u64),
        ecsim_engine_like_duration(s.max_wait_ms)
    );
    let _ = writeln!(
        o,
        "  reserved     CPU {:.1} %, memory {:.1} % (time-weighted over registered capacity)",
        s.mean_cpu_reserved_pct, s.mean_memory_reserved_pct
    );
    let _ = writeln!(
        o,
        "  instances    peak {}, {:.1} instance-hours",
        thousands(s.peak_instances),
        s.instance_hours
    );
    for c in &s.clusters {
        let _ = writeln!(
            o,
            "  cluster {:<12} {:.1} instances in use on average (peak {}), CPU {:.1} %, memory {:.1} % reserved",
            c.name,
            c.mean_instances_in_use,
            c.peak_instances_in_use,
            c.mean_cpu_reserved_pct,
            c.mean_memory_reserved_pct
        );
    }
    let c = &s.costs;
    let sc = &s.scaling;
    if !sc.services.is_empty() || sc.instances_launched > 0 {
        let _ = writeln!(
            o,
            "  scaling      {} service scaling actions, {} instances launched, {} terminated; {:.1} unserved request-minutes; {:.1} idle instance-hours",
            sc.scaling_actions,
            sc.instances_launched,
            sc.instances_terminated,
            sc.unserved_request_minutes,
            sc.idle_instance_hours
        );
        for svc in &sc.services {
            for (at, first, running) in &svc.load_changes {
                let f = |v: &Option<u64>| v.map_or("none".to_string(), ecsim_engine_like_duration);
                let _ = writeln!(
                    o,
                    "  {:<12} load change at {}: first scaling after {}, tasks running after {}",
                    svc.name,
                    ecsim_engine_like_duration(*at),
                    f(first),
                    f(running)
                );
            }
        }
    }
    let r = &s.recovery;
    if !r.failures.is_empty() || !r.deployments.is_empty() || r.tasks_lost > 0 {
        let recovered: Vec<u64> = r.failures.iter().filter_map(|f| f.2).collect();
        let _ = writeln!(
            o,
            "  failures     {} failures, {} tasks lost, {} recovered (longest {}); {:.1} unserved request-minutes during failures",
            r.failures.len(),
            r.tasks_lost,
            recovered.len(),
            ecsim_engine_like_duration(recovered.iter().copied().max().unwrap_or(0)),
            r.unserved_request_minutes_during_failures
        );
        for (name, a, m, lost, missing) in &r.services {
            let _ = writeln!(
                o,
                "  {name:<12} available {a:.2} % of the time (at least minimum healthy {m:.2} %), {lost} tasks lost, {missing:.1} task-minutes below desired"
            );
        }
        for (svc, id, state, dur) in &r.deployments {
            let d = dur.map_or("still running".to_string(), ecsim_engine_like_duration);
            let _ = writeln!(o, "  {svc:<12} deployment {id}: {state} after {d}");
        }
    }
    if c.total.0 > 0 {
        let _ = writeln!(
            o,
            "  cost         ${} total: EC2 ${} (idle ${}, Spot ${}), Fargate ${} (Spot ${}); ${:.4} per task-hour",
            usd_exact(c.total, 2),
            usd_exact(c.ec2, 2),
            usd_exact(c.ec2_idle, 2),
            usd_exact(c.ec2_spot, 2),
            usd_exact(c.fargate, 2),
            usd_exact(c.fargate_spot, 2),
            if c.task_hours > 0.0 {
                c.total.usd() / c.task_hours
            } else {
                0.0
            }
        );
    }
    let _ = writeln!(o, "  events hash  {}", s.events_hash);
    let _ = writeln!(o, "  output       {output}");
    o
}

fn ecsim_engine_like_duration(ms: u64) -> String {
    let (h, m, sec) = (ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

/// One variant's result, for `ecsim compare`.
pub struct VariantResult<'a> {
    /// Variant name.
    pub name: &'a str,
    /// What it shows.
    pub description: &'a str,
    /// Its summary.
    pub summary: &'a Summary,
}

/// Share of the bill that paid for capacity tasks reserved: (total - idle EC2) / total. Fargate
/// bills only what tasks reserve, so it counts as fully used.
pub fn paid_utilisation_pct(s: &Summary) -> f64 {
    let t = s.costs.total.0;
    if t == 0 {
        0.0
    } else {
        100.0 * (t - s.costs.ec2_idle.0) as f64 / t as f64
    }
}

/// Column names of `compare.csv`.
pub const COMPARE_COLUMNS: [&str; 22] = [
    "variant",
    "description",
    "cost_total_usd",
    "cost_ec2_usd",
    "cost_ec2_idle_usd",
    "cost_ec2_spot_usd",
    "cost_fargate_usd",
    "cost_fargate_spot_usd",
    "cost_per_task_hour_usd",
    "paid_capacity_used_pct",
    "mean_cpu_reserved_pct",
    "mean_memory_reserved_pct",
    "tasks_created",
    "tasks_started",
    "tasks_waited_for_capacity",
    "tasks_failed_to_place",
    "tasks_never_placed",
    "mean_wait_ms",
    "max_wait_ms",
    "peak_instances",
    "instance_hours",
    "events_hash",
];

/// `compare.csv`: one row per variant.
pub fn compare_csv(rows: &[VariantResult<'_>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COMPARE_COLUMNS)?;
    for r in rows {
        let s = r.summary;
        let c = &s.costs;
        let per_task_hour = if c.task_hours > 0.0 {
            c.total.usd() / c.task_hours
        } else {
            0.0
        };
        w.write_record([
            r.name.to_string(),
            r.description.to_string(),
            usd_exact(c.total, 6),
            usd_exact(c.ec2, 6),
            usd_exact(c.ec2_idle, 6),
            usd_exact(c.ec2_spot, 6),
            usd_exact(c.fargate, 6),
            usd_exact(c.fargate_spot, 6),
            format!("{per_task_hour:.6}"),
            format!("{:.3}", paid_utilisation_pct(s)),
            format!("{:.3}", s.mean_cpu_reserved_pct),
            format!("{:.3}", s.mean_memory_reserved_pct),
            s.tasks_created.to_string(),
            s.tasks_started.to_string(),
            s.tasks_waited_for_capacity.to_string(),
            s.tasks_failed_to_place.to_string(),
            s.tasks_never_placed.to_string(),
            format!("{:.0}", s.mean_wait_ms),
            s.max_wait_ms.to_string(),
            s.peak_instances.to_string(),
            format!("{:.3}", s.instance_hours),
            s.events_hash.clone(),
        ])?;
    }
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The table and verdict `ecsim compare` prints.
pub fn compare_text(scenario: &str, seed: u64, rows: &[VariantResult<'_>]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ecsim compare: {scenario} (seed {seed}), {} variants on common random numbers",
        rows.len()
    );
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(7).max(7);
    let _ = writeln!(
        o,
        "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>6}  {:>6}  {:>6}  {:>10}",
        "variant",
        "total $",
        "EC2 $",
        "idle $",
        "Fargate $",
        "$/task-h",
        "used %",
        "waited",
        "failed",
        "mean wait"
    );
    for r in rows {
        let s = r.summary;
        let c = &s.costs;
        let per = if c.task_hours > 0.0 {
            c.total.usd() / c.task_hours
        } else {
            0.0
        };
        let _ = writeln!(
            o,
            "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9.4}  {:>6.1}  {:>6}  {:>6}  {:>10}",
            r.name,
            usd_exact(c.total, 2),
            usd_exact(c.ec2, 2),
            usd_exact(c.ec2_idle, 2),
            usd_exact(c.fargate, 2),
            per,
            paid_utilisation_pct(s),
            s.tasks_waited_for_capacity,
            s.tasks_failed_to_place + s.tasks_never_placed,
            ecsim_engine_like_duration(s.mean_wait_ms.round() as u64),
        );
    }
    if let (Some(first), Some(cheapest)) = (
        rows.first(),
        rows.iter().min_by_key(|r| r.summary.costs.total),
    ) {
        let (a, b) = (first.summary.costs.total, cheapest.summary.costs.total);
        if cheapest.name == first.name {
            let _ = writeln!(
                o,
                "cheapest: {} (the first variant) at ${}",
                first.name,
                usd_exact(a, 2)
            );
        } else {
            let saved = Money(a.0 - b.0);
            let pct = if a.0 == 0 {
                0.0
            } else {
                100.0 * saved.0 as f64 / a.0 as f64
            };
            let _ = writeln!(
                o,
                "cheapest: {} at ${}, ${} ({pct:.1} %) less than {} (the first variant) at ${}",
                cheapest.name,
                usd_exact(b, 2),
                usd_exact(saved, 2),
                first.name,
                usd_exact(a, 2)
            );
        }
        let slow: Vec<&str> = rows
            .iter()
            .filter(|r| r.summary.tasks_failed_to_place + r.summary.tasks_never_placed > 0)
            .map(|r| r.name)
            .collect();
        if !slow.is_empty() {
            let _ = writeln!(
                o,
                "note: tasks failed or were never placed under {}",
                slow.join(", ")
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecsim_model::record::{ClusterSample, EventKind, ServiceSample};

    #[test]
    fn exact_dollars() {
        assert_eq!(usd_exact(Money(UNITS_PER_USD * 126 / 100), 2), "1.26");
        assert_eq!(usd_exact(Money(UNITS_PER_USD / 200), 2), "0.01");
        assert_eq!(usd_exact(Money(UNITS_PER_USD / 200 - 1), 2), "0.00");
        assert_eq!(usd_exact(Money(UNITS_PER_USD * 3 + 7), 9), "3.000000000");
    }

    #[test]
    fn csv_rows_quote_hostile_names_and_keep_columns() {
        let mut sink = CsvSink::new(Some(Vec::new()), Some(Vec::new()), None, None);
        sink.begin(&RunHeader {
            clusters: &["c1"],
            services: &["web,\"x\""],
            load_services: &[],
            providers: &[],
        });
        sink.event(&EventRecord {
            time_ms: 5,
            kind: EventKind::Task,
            task: Some(7),
            service: "web,\"x\"",
            job: "",
            instance: "i-1",
            from: "PENDING",
            to: "RUNNING",
            reason: "",
        });
        sink.metrics(&MetricsRow {
            time_ms: 60_000,
            instances_launching: 0,
            instances_active: 2,
            instances_draining: 0,
            instances_stopped: 0,
            tasks_provisioning: 0,
            tasks_pending: 0,
            tasks_running: 1,
            cpu_reserved_pct: 12.5,
            memory_reserved_pct: 1.0 / 3.0,
            clusters: &[ClusterSample {
                instances_in_use: 2,
                cpu_reserved_pct: 12.5,
                memory_reserved_pct: 1.0 / 3.0,
            }],
            services: &[ServiceSample {
                desired: 2,
                running: 1,
                pending: 0,
                provisioning: 1,
            }],
            loads: &[],
            providers: &[],
        });
        sink.events.as_mut().unwrap().w.flush().unwrap();
        sink.metrics.as_mut().unwrap().w.flush().unwrap();
        let ev = String::from_utf8(sink.events.as_mut().unwrap().w.get_ref().clone()).unwrap();
        assert_eq!(
            ev,
            "time_ms,kind,entity,service,job,instance,from,to,reason\n5,task,7,\"web,\"\"x\"\"\",,i-1,PENDING,RUNNING,\n"
        );
        let me = String::from_utf8(sink.metrics.as_mut().unwrap().w.get_ref().clone()).unwrap();
        assert!(
            me.ends_with("60000,0,2,0,0,0,0,1,12.500,0.333,2,12.500,0.333,2,1,0,1\n"),
            "{me}"
        );
        assert!(
            me.starts_with("time_ms,") && me.contains("\"web,\"\"x\"\".desired\""),
            "{me}"
        );
    }
}

/// One finished sweep run, as read back from its file: column names and values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// Grid point.
    pub point: usize,
    /// Replicate.
    pub replicate: u32,
    /// Columns: point, replicate, seed, the parameters, then the summary's fields.
    pub columns: Vec<String>,
    /// Values, as written.
    pub values: Vec<String>,
}

/// The one-row CSV a sweep run is stored as: `point`, `replicate`, `seed`, one column per
/// parameter (its value's label), then every summary field but `wall_ms` (which would make runs
/// differ from one machine or thread count to another).
pub fn sweep_run_csv(
    point: usize,
    replicate: u32,
    seed: u64,
    params: &[(String, String)],
    s: &Summary,
) -> Result<Vec<u8>, csv::Error> {
    let mut cols: Vec<String> = vec!["point".into(), "replicate".into(), "seed".into()];
    let mut vals: Vec<String> = vec![point.to_string(), replicate.to_string(), seed.to_string()];
    for (name, label) in params {
        cols.push(format!("param.{name}"));
        vals.push(label.clone());
    }
    for (k, v) in s.fields() {
        if k == "wall_ms" {
            continue;
        }
        cols.push(k);
        vals.push(match v {
            SummaryValue::Str(x) => x,
            SummaryValue::Int(i) => i.to_string(),
            SummaryValue::Float(f) => format!("{f:.6}"),
        });
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols)?;
    w.write_record(&vals)?;
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// Read a run file back.
pub fn read_sweep_run(bytes: &[u8]) -> Result<SweepRun, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rows = r.records();
    let cols: Vec<String> = rows
        .next()
        .ok_or("empty run file")?
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    let vals: Vec<String> = rows
        .next()
        .ok_or("run file without a row")?
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    if cols.len() != vals.len() || cols.len() < 3 || cols[0] != "point" || cols[1] != "replicate" {
        return Err("not a sweep run file".into());
    }
    let point = vals[0].parse().map_err(|_| "bad point")?;
    let replicate = vals[1].parse().map_err(|_| "bad replicate")?;
    Ok(SweepRun {
        point,
        replicate,
        columns: cols,
        values: vals,
    })
}

/// `runs.csv` and `aggregate.csv` from finished runs (in any order): runs sorted by (point,
/// replicate); columns the union of the runs' columns in order of first appearance; per grid
/// point the mean, standard deviation and 95 % confidence interval (Student's t) of every numeric
/// column. Only the runs decide the bytes, so shards merged in any order give the same files.
pub fn sweep_tables(runs: &[SweepRun]) -> Result<(Vec<u8>, Vec<u8>), csv::Error> {
    let mut runs: Vec<&SweepRun> = runs.iter().collect();
    runs.sort_by_key(|r| (r.point, r.replicate));
    let mut cols: Vec<String> = Vec::new();
    for r in &runs {
        for c in &r.columns {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
    }
    let get = |r: &SweepRun, c: &str| {
        r.columns
            .iter()
            .position(|x| x == c)
            .map(|i| r.values[i].clone())
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols)?;
    for r in &runs {
        w.write_record(cols.iter().map(|c| get(r, c).unwrap_or_default()))?;
    }
    let runs_csv = w
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    // Aggregate: parameter columns identify the point; numeric columns get statistics.
    let params: Vec<&String> = cols.iter().filter(|c| c.starts_with("param.")).collect();
    // Identifiers and hashes are not measurements, even when they parse as numbers.
    let skip = ["point", "replicate", "seed", "events_hash"];
    let numeric: Vec<&String> = cols
        .iter()
        .filter(|c| !skip.contains(&c.as_str()) && !c.starts_with("param."))
        .filter(|c| {
            runs.iter()
                .filter_map(|r| get(r, c))
                .all(|v| v.parse::<f64>().is_ok())
                && runs.iter().any(|r| get(r, c).is_some())
        })
        .collect();
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(params.iter().map(|p| p.to_string()));
    header.push("runs".into());
    for m in &numeric {
        for k in ["mean", "std", "ci95_low", "ci95_high"] {
            header.push(format!("{m}.{k}"));
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    let mut k = 0;
    while k < runs.len() {
        let point = runs[k].point;
        let end = runs[k..]
            .iter()
            .position(|r| r.point != point)
            .map_or(runs.len(), |n| k + n);
        let group = &runs[k..end];
        let mut row: Vec<String> = vec![point.to_string()];
        row.extend(params.iter().map(|p| get(group[0], p).unwrap_or_default()));
        row.push(group.len().to_string());
        for m in &numeric {
            let xs: Vec<f64> = group
                .iter()
                .filter_map(|r| get(r, m))
                .filter_map(|v| v.parse().ok())
                .collect();
            if xs.is_empty() {
                row.extend(std::iter::repeat_n(String::new(), 4));
                continue;
            }
            let st = ecsim_model::sweep::stats(&xs);
            row.extend([st.mean, st.std, st.ci_low, st.ci_high].map(|v| format!("{v:.6}")));
        }
        w.write_record(&row)?;
        k = end;
    }
    let agg = w
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    Ok((runs_csv, agg))
}
