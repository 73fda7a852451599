//! [`CsvSink`]: a [`Sink`] that writes a run's tables (`events.csv`, `metrics.csv`, `tasks.csv`,
//! `cost.csv`, `scaling.csv`, `failures.csv`, `deployments.csv`) to the writers it is given, with
//! the columns of [`crate::schema`]. Every write error is kept, with the file it happened in, and
//! returned by [`CsvSink::finish`] or [`CsvSink::into_writers`], which flush every table.

use std::fmt::Write as _;
use std::io::Write;

use ecsim_model::record::{
    CostRow, DecisionRecord, DeploymentRow, EventRecord, FailureRow, MetricsRow, PlacementRecord,
    RunHeader, ScalingRecord, Sink, TaskRow,
};

use crate::schema::{self, Schema};
use crate::units::usd_exact;

/// A write that failed, and the table it was for.
#[derive(Debug)]
pub struct SinkError {
    /// The table's file name, e.g. `cost.csv`.
    pub file: &'static str,
    /// What went wrong.
    pub source: csv::Error,
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.file, self.source)
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The writers a [`CsvSink`] was given, flushed, each `None` if that table was left out.
#[derive(Debug)]
pub struct Writers<W> {
    /// `events.csv`.
    pub events: Option<W>,
    /// `metrics.csv`.
    pub metrics: Option<W>,
    /// `tasks.csv`.
    pub tasks: Option<W>,
    /// `cost.csv`.
    pub cost: Option<W>,
    /// `scaling.csv`.
    pub scaling: Option<W>,
    /// `failures.csv`.
    pub failures: Option<W>,
    /// `deployments.csv`.
    pub deployments: Option<W>,
    /// `placements.csv`.
    pub placements: Option<W>,
    /// `decisions.csv`.
    pub decisions: Option<W>,
}

struct Table<W: Write> {
    w: csv::Writer<W>,
    schema: &'static Schema,
    buf: String,
}

impl<W: Write> Table<W> {
    fn new(w: W, schema: &'static Schema) -> Self {
        Table {
            w: csv::WriterBuilder::new()
                .buffer_capacity(1 << 16)
                .from_writer(w),
            schema,
            buf: String::new(),
        }
    }

    fn error(&self, source: csv::Error) -> SinkError {
        SinkError {
            file: self.schema.file,
            source,
        }
    }
}

/// One row being written. Each field names its column; debug builds check the name against the
/// schema, so the writer cannot drift from the columns the readers look up.
struct Row<'a, W: Write> {
    w: &'a mut csv::Writer<W>,
    buf: &'a mut String,
    columns: &'static [&'static str],
    at: usize,
}

impl<W: Write> Row<'_, W> {
    fn check(&mut self, column: &str) {
        if let Some(expected) = self.columns.get(self.at) {
            debug_assert_eq!(*expected, column, "column {} out of order", self.at);
        }
        self.at += 1;
    }

    /// A text cell (a name, a reason): escaped by [`crate::escape::csv_cell`].
    fn text(&mut self, column: &str, v: &str) -> csv::Result<()> {
        self.check(column);
        self.w.write_field(crate::escape::csv_cell(v).as_bytes())
    }

    /// A number: an unsigned integer through [`decimal::integer`], anything else (a negative
    /// value) as `{v}` writes it.
    fn num<N>(&mut self, column: &str, v: N) -> csv::Result<()>
    where
        N: std::fmt::Display + Copy + TryInto<u64>,
    {
        self.check(column);
        if let Ok(u) = v.try_into() {
            let mut digits = [0; decimal::LEN];
            return self.w.write_field(decimal::integer(u, &mut digits));
        }
        self.buf.clear();
        let _ = write!(self.buf, "{v}");
        self.w.write_field(self.buf.as_bytes())
    }

    fn opt_num(&mut self, column: &str, v: Option<u64>) -> csv::Result<()> {
        match v {
            Some(v) => self.num(column, v),
            None => self.text(column, ""),
        }
    }

    /// A percentage or rate, three decimals (as `{v:.3}` writes it; through
    /// [`decimal::fixed3`] unless NaN, infinite or huge).
    fn pct(&mut self, column: &str, v: f64) -> csv::Result<()> {
        self.check(column);
        let mut digits = [0; decimal::LEN];
        if let Some(text) = decimal::fixed3(v, &mut digits) {
            return self.w.write_field(text);
        }
        self.buf.clear();
        let _ = write!(self.buf, "{v:.3}");
        self.w.write_field(self.buf.as_bytes())
    }

    fn opt_pct(&mut self, column: &str, v: Option<f64>) -> csv::Result<()> {
        match v {
            Some(v) => self.pct(column, v),
            None => self.text(column, ""),
        }
    }

    fn end(self) -> csv::Result<()> {
        debug_assert!(self.at >= self.columns.len(), "row ended early");
        self.w.write_record(None::<&[u8]>)
    }
}

/// Write one row into `table` unless an error happened before; keep the first error.
fn write_row<W: Write>(
    error: &mut Option<SinkError>,
    table: &mut Option<Table<W>>,
    f: impl FnOnce(&mut Row<'_, W>) -> csv::Result<()>,
) {
    if error.is_some() {
        return;
    }
    let Some(t) = table.as_mut() else { return };
    let mut row = Row {
        w: &mut t.w,
        buf: &mut t.buf,
        columns: t.schema.columns,
        at: 0,
    };
    if let Err(e) = f(&mut row).and_then(|()| row.end()) {
        *error = Some(t.error(e));
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
    placements: Option<Table<W>>,
    decisions: Option<Table<W>>,
    error: Option<SinkError>,
}

impl<W: Write> CsvSink<W> {
    /// A sink over the given writers.
    pub fn new(events: Option<W>, metrics: Option<W>, tasks: Option<W>, costs: Option<W>) -> Self {
        CsvSink {
            events: events.map(|w| Table::new(w, &schema::events::SCHEMA)),
            metrics: metrics.map(|w| Table::new(w, &schema::metrics::SCHEMA)),
            tasks: tasks.map(|w| Table::new(w, &schema::tasks::SCHEMA)),
            costs: costs.map(|w| Table::new(w, &schema::cost::SCHEMA)),
            scaling: None,
            failures: None,
            deployments: None,
            placements: None,
            decisions: None,
            error: None,
        }
    }

    /// Also write `failures.csv` and `deployments.csv` to these writers.
    pub fn with_recovery(mut self, failures: W, deployments: W) -> Self {
        self.failures = Some(Table::new(failures, &schema::failures::SCHEMA));
        self.deployments = Some(Table::new(deployments, &schema::deployments::SCHEMA));
        self
    }

    /// Also explain every placement attempt into `placements.csv` and every other scheduler
    /// decision into `decisions.csv` (`--explain`).
    pub fn with_explanations(mut self, placements: W, decisions: W) -> Self {
        self.placements = Some(Table::new(placements, &schema::placements::SCHEMA));
        self.decisions = Some(Table::new(decisions, &schema::decisions::SCHEMA));
        self
    }

    /// Also write `scaling.csv` to this writer.
    pub fn with_scaling(mut self, w: W) -> Self {
        self.scaling = Some(Table::new(w, &schema::scaling::SCHEMA));
        self
    }

    /// Flush every table and report the first error, if any.
    pub fn finish(self) -> Result<(), SinkError> {
        self.into_writers().map(|_| ())
    }

    /// Flush every table and hand back the writers; the first error, if any, instead.
    pub fn into_writers(self) -> Result<Writers<W>, SinkError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let take = |t: Option<Table<W>>| -> Result<Option<W>, SinkError> {
            let Some(t) = t else { return Ok(None) };
            let file = t.schema.file;
            t.w.into_inner().map(Some).map_err(|e| SinkError {
                file,
                source: csv::Error::from(e.into_error()),
            })
        };
        Ok(Writers {
            events: take(self.events)?,
            metrics: take(self.metrics)?,
            tasks: take(self.tasks)?,
            cost: take(self.costs)?,
            scaling: take(self.scaling)?,
            failures: take(self.failures)?,
            deployments: take(self.deployments)?,
            placements: take(self.placements)?,
            decisions: take(self.decisions)?,
        })
    }

    fn write_headers(&mut self, h: &RunHeader<'_>) -> Result<(), SinkError> {
        if let Some(t) = self.metrics.as_mut() {
            let cols = schema::metrics::columns(h);
            t.w.write_record(cols.iter().map(|c| crate::escape::csv_cell(c).into_owned()))
                .map_err(|e| t.error(e))?;
        }
        for t in [
            &mut self.events,
            &mut self.tasks,
            &mut self.costs,
            &mut self.scaling,
            &mut self.failures,
            &mut self.deployments,
            &mut self.placements,
            &mut self.decisions,
        ]
        .into_iter()
        .flatten()
        {
            t.w.write_record(t.schema.columns).map_err(|e| t.error(e))?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn begin(&mut self, h: &RunHeader<'_>) {
        if self.error.is_none()
            && let Err(e) = self.write_headers(h)
        {
            self.error = Some(e);
        }
    }

    fn event(&mut self, e: &EventRecord<'_>) {
        use schema::events::*;
        write_row(&mut self.error, &mut self.events, |r| {
            r.num(TIME_MS, e.time_ms)?;
            r.text(KIND, e.kind.as_str())?;
            match e.task {
                Some(id) => r.num(ENTITY, id)?,
                None if !e.instance.is_empty() && e.service.is_empty() => {
                    r.text(ENTITY, e.instance)?
                }
                None => r.text(ENTITY, e.service)?,
            }
            r.text(SERVICE, e.service)?;
            r.text(JOB, e.job)?;
            r.text(INSTANCE, e.instance)?;
            r.text(FROM, e.from)?;
            r.text(TO, e.to)?;
            r.text(REASON, e.reason)
        });
    }

    fn metrics(&mut self, m: &MetricsRow<'_>) {
        use schema::metrics::*;
        write_row(&mut self.error, &mut self.metrics, |r| {
            r.num(TIME_MS, m.time_ms)?;
            r.num(INSTANCES_LAUNCHING, m.instances_launching)?;
            r.num(INSTANCES_ACTIVE, m.instances_active)?;
            r.num(INSTANCES_DRAINING, m.instances_draining)?;
            r.num(INSTANCES_STOPPED, m.instances_stopped)?;
            r.num(TASKS_PROVISIONING, m.tasks_provisioning)?;
            r.num(TASKS_PENDING, m.tasks_pending)?;
            r.num(TASKS_RUNNING, m.tasks_running)?;
            r.num(TASKS_STOPPING, m.tasks_stopping)?;
            r.pct(CPU_RESERVED_PCT, m.cpu_reserved_pct)?;
            r.pct(MEMORY_RESERVED_PCT, m.memory_reserved_pct)?;
            for c in m.clusters {
                r.num(cluster::INSTANCES_IN_USE, c.instances_in_use)?;
                r.pct(cluster::CPU_RESERVED_PCT, c.cpu_reserved_pct)?;
                r.pct(cluster::MEMORY_RESERVED_PCT, c.memory_reserved_pct)?;
            }
            for s in m.services {
                r.num(service::DESIRED, s.desired)?;
                r.num(service::RUNNING, s.running)?;
                r.num(service::PENDING, s.pending)?;
                r.num(service::PROVISIONING, s.provisioning)?;
                r.num(service::STOPPING, s.stopping)?;
            }
            for l in m.loads {
                r.pct(load::DEMAND_RPS, l.demand_rps)?;
                r.pct(load::SERVED_RPS, l.served_rps)?;
                r.pct(load::UNSERVED_RPS, l.unserved_rps)?;
                r.opt_pct(load::CPU_UTILIZATION_PCT, l.cpu_pct)?;
                r.opt_pct(load::MEMORY_UTILIZATION_PCT, l.memory_pct)?;
                r.opt_pct(load::REQUESTS_PER_TARGET, l.requests_per_target)?;
            }
            for p in m.providers {
                r.num(provider::INSTANCES, p.instances)?;
                r.opt_pct(
                    provider::CAPACITY_PROVIDER_RESERVATION_PCT,
                    p.reservation_pct,
                )?;
            }
            Ok(())
        });
    }

    fn wants_events(&self) -> bool {
        self.events.is_some()
    }

    fn wants_tasks(&self) -> bool {
        self.tasks.is_some()
    }

    fn task(&mut self, t: &TaskRow<'_>) {
        use schema::tasks::*;
        write_row(&mut self.error, &mut self.tasks, |r| {
            r.num(TASK_ID, t.task_id)?;
            r.text(TASK_DEFINITION, t.task_definition)?;
            r.text(SERVICE, t.service)?;
            r.text(JOB, t.job)?;
            r.text(GROUP, t.group)?;
            r.text(CLUSTER, t.cluster)?;
            r.text(INSTANCE, t.instance)?;
            r.text(AVAILABILITY_ZONE, t.availability_zone)?;
            r.num(CREATED_MS, t.created_ms)?;
            r.opt_num(PENDING_MS, t.pending_ms)?;
            r.opt_num(RUNNING_MS, t.running_ms)?;
            r.opt_num(STOPPED_MS, t.stopped_ms)?;
            r.num(WAIT_MS, t.wait_ms)?;
            r.text(OUTCOME, t.outcome)?;
            r.text(REASON, t.reason)
        });
    }

    fn cost(&mut self, c: &CostRow<'_>) {
        use schema::cost::*;
        write_row(&mut self.error, &mut self.costs, |r| {
            r.num(HOUR_START_MS, c.hour_start_ms)?;
            r.text(SCOPE, c.scope)?;
            r.text(NAME, c.name)?;
            r.text(COST_USD, &usd_exact(c.cost, 9))
        });
    }

    fn scaling(&mut self, s: &ScalingRecord<'_>) {
        use schema::scaling::*;
        write_row(&mut self.error, &mut self.scaling, |r| {
            r.num(TIME_MS, s.time_ms)?;
            r.text(KIND, s.kind)?;
            r.text(NAME, s.name)?;
            r.text(TARGET, s.target)?;
            r.text(FROM, s.from)?;
            r.text(TO, s.to)?;
            r.text(REASON, s.reason)
        });
    }

    fn failure(&mut self, f: &FailureRow<'_>) {
        use schema::failures::*;
        write_row(&mut self.error, &mut self.failures, |r| {
            r.num(TIME_MS, f.time_ms)?;
            r.text(KIND, f.kind)?;
            r.text(TARGET, f.target)?;
            r.num(TASKS_LOST, f.tasks_lost)?;
            r.text(SERVICES, f.services)?;
            r.opt_num(RECOVERED_AFTER_MS, f.recovered_after_ms)
        });
    }

    fn deployment(&mut self, d: &DeploymentRow<'_>) {
        use schema::deployments::*;
        write_row(&mut self.error, &mut self.deployments, |r| {
            r.text(SERVICE, d.service)?;
            r.num(DEPLOYMENT_ID, d.deployment_id)?;
            r.text(TASK_DEFINITION, d.task_definition)?;
            r.text(FROM_TASK_DEFINITION, d.from_task_definition)?;
            r.num(STARTED_MS, d.started_ms)?;
            r.opt_num(ENDED_MS, d.ended_ms)?;
            r.opt_num(DURATION_MS, d.ended_ms.map(|e| e - d.started_ms))?;
            r.text(STATE, d.state)?;
            r.num(FAILED_TASKS, d.failed_tasks)?;
            r.text(REASON, d.reason)
        });
    }

    fn explains(&self) -> bool {
        self.placements.is_some()
    }

    fn placement(&mut self, p: &PlacementRecord<'_>) {
        use schema::placements::*;
        let e = p.explanation;
        write_row(&mut self.error, &mut self.placements, |r| {
            r.num(TIME_MS, p.time_ms)?;
            r.opt_num(TASK, p.task)?;
            r.text(SERVICE, p.service)?;
            r.text(JOB, p.job)?;
            r.text(CLUSTER, p.cluster)?;
            r.num(CANDIDATES, e.candidates)?;
            r.num(NOT_ACTIVE, e.not_active)?;
            let removed = [
                REMOVED_AGENT,
                REMOVED_CPU,
                REMOVED_MEMORY,
                REMOVED_PORTS,
                REMOVED_ENI,
                REMOVED_DISTINCT_INSTANCE,
                REMOVED_MEMBER_OF,
            ];
            for (col, n) in removed.into_iter().zip(e.removed) {
                r.num(col, n)?;
            }
            r.num(FEASIBLE, e.feasible)?;
            r.text(STRATEGY, p.strategy)?;
            let tiers: Vec<String> = e.tiers.iter().map(|t| t.to_string()).collect();
            r.text(TIERS, &tiers.join(">"))?;
            r.num(TIE, e.tie)?;
            r.text(CHOSEN, p.chosen)?;
            r.text(FAILURE, p.failure)
        });
    }

    fn decision(&mut self, d: &DecisionRecord<'_>) {
        use schema::decisions::*;
        write_row(&mut self.error, &mut self.decisions, |r| {
            r.num(TIME_MS, d.time_ms)?;
            r.text(KIND, d.kind)?;
            r.text(SUBJECT, d.subject)?;
            r.opt_num(TASK, d.task)?;
            r.text(CHOSEN, d.chosen)?;
            r.text(REASON, d.reason)?;
            r.text(DETAILS, d.details)
        });
    }
}

mod decimal;
#[cfg(test)]
mod tests;
