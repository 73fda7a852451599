//! A run's report: charts from `metrics.csv`, `cost.csv` and the event tables (scaling,
//! failures, deployments as markers), and the page around them with the key numbers of
//! `summary.json`.

use std::fmt::Write as _;

use super::{Csv, Rendered, RenderedChart, RunFiles, cell, escape, figure, html_table, num, page};
use crate::charts::{LineChart, Series};
use crate::schema::{cost, deployments, failures, metrics, scaling};

const MS_PER_HOUR: f64 = 3_600_000.0;

/// `metrics.csv` with its time axis in hours.
struct Metrics {
    csv: Csv,
    hours: Vec<f64>,
}

impl Metrics {
    fn parse(text: &str) -> Option<Metrics> {
        let csv = Csv::parse(text);
        let t = csv.col(metrics::TIME_MS)?;
        let hours = csv
            .rows
            .iter()
            .map(|r| num(cell(r, t)) / MS_PER_HOUR)
            .collect();
        Some(Metrics { csv, hours })
    }

    /// A column over time, if the file has it.
    fn series(&self, column: &str, label: String, dashed: bool) -> Option<Series> {
        let c = self.csv.col(column)?;
        Some(Series {
            name: label,
            points: self
                .hours
                .iter()
                .zip(&self.csv.rows)
                .map(|(&x, r)| (x, num(cell(r, c))))
                .collect(),
            dashed,
        })
    }

    /// The entities with a column ending in `.suffix`, in file order.
    fn entities(&self, suffix: &str) -> Vec<&str> {
        self.csv
            .header
            .iter()
            .filter_map(|c| metrics::entity(c, suffix))
            .collect()
    }
}

/// Vertical markers: scaling actions (not alarm changes), failures and deployment starts.
fn markers(f: &RunFiles) -> Vec<(f64, &'static str)> {
    let mut markers: Vec<(f64, &'static str)> = Vec::new();
    let s = Csv::parse(&f.scaling_csv);
    if let (Some(tc), Some(kc)) = (s.col(scaling::TIME_MS), s.col(scaling::KIND)) {
        markers.extend(
            s.rows
                .iter()
                .filter(|r| cell(r, kc) != "alarm")
                .map(|r| (num(cell(r, tc)) / MS_PER_HOUR, "scaling")),
        );
    }
    for (text, column, kind) in [
        (&f.failures_csv, failures::TIME_MS, "failure"),
        (&f.deployments_csv, deployments::STARTED_MS, "deployment"),
    ] {
        let t = Csv::parse(text);
        if let Some(tc) = t.col(column) {
            markers.extend(
                t.rows
                    .iter()
                    .map(|r| (num(cell(r, tc)) / MS_PER_HOUR, kind)),
            );
        }
    }
    markers
}

fn line_chart(
    title: &str,
    y_label: &str,
    series: Vec<Series>,
    markers: &[(f64, &'static str)],
) -> LineChart {
    LineChart {
        title: title.into(),
        y_label: y_label.into(),
        series,
        markers: markers.to_vec(),
        money: false,
    }
}

/// Running, desired and pending tasks of the first six services (or of all tasks).
fn tasks_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::service::{DESIRED, PENDING, RUNNING};
    let services = m.entities(DESIRED);
    let mut tasks = Vec::new();
    for s in services.iter().take(6) {
        for (suffix, dashed) in [(RUNNING, false), (DESIRED, true), (PENDING, false)] {
            tasks.extend(m.series(&metrics::column(s, suffix), format!("{s} {suffix}"), dashed));
        }
    }
    if services.is_empty() {
        tasks.extend(m.series(metrics::TASKS_RUNNING, "tasks running".into(), false));
        tasks.extend(m.series(metrics::TASKS_PENDING, "tasks pending".into(), false));
        tasks.extend(m.series(metrics::TASKS_PROVISIONING, "tasks waiting".into(), false));
    }
    line_chart("Tasks per service", "tasks", tasks, markers)
}

/// Instances by state, and those in use in the first four clusters.
fn instances_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::cluster::INSTANCES_IN_USE;
    let states = [
        (metrics::INSTANCES_LAUNCHING, "launching"),
        (metrics::INSTANCES_ACTIVE, "active"),
        (metrics::INSTANCES_DRAINING, "draining"),
        (metrics::INSTANCES_STOPPED, "stopped"),
    ];
    let mut inst: Vec<Series> = states
        .iter()
        .filter_map(|(col, k)| m.series(col, format!("instances {k}"), false))
        .collect();
    inst.extend(m.entities(INSTANCES_IN_USE).iter().take(4).filter_map(|c| {
        m.series(
            &metrics::column(c, INSTANCES_IN_USE),
            format!("{c} in use"),
            true,
        )
    }));
    line_chart("Container instances", "instances", inst, markers)
}

/// CPU and memory reserved, and the CPU the first four loaded services use.
fn utilisation_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::load::CPU_UTILIZATION_PCT;
    let mut res: Vec<Series> = vec![];
    res.extend(m.series(metrics::CPU_RESERVED_PCT, "CPU reserved".into(), false));
    res.extend(m.series(
        metrics::MEMORY_RESERVED_PCT,
        "memory reserved".into(),
        false,
    ));
    for c in m.entities(CPU_UTILIZATION_PCT).iter().take(4) {
        res.extend(m.series(
            &metrics::column(c, CPU_UTILIZATION_PCT),
            format!("{c} CPU used"),
            true,
        ));
    }
    line_chart("Reserved versus used", "percent", res, markers)
}

/// Demand and served requests of the first four loaded services, if any.
fn load_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> Option<LineChart> {
    use metrics::load::{DEMAND_RPS, SERVED_RPS};
    let loads = m.entities(DEMAND_RPS);
    if loads.is_empty() {
        return None;
    }
    let mut l = Vec::new();
    for s in loads.iter().take(4) {
        l.extend(m.series(&metrics::column(s, DEMAND_RPS), format!("{s} demand"), true));
        l.extend(m.series(
            &metrics::column(s, SERVED_RPS),
            format!("{s} served"),
            false,
        ));
    }
    Some(line_chart(
        "Load versus serving capacity",
        "requests per second",
        l,
        markers,
    ))
}

/// Cumulative cost by capacity provider, if any provider cost anything.
fn cost_chart(text: &str, markers: Vec<(f64, &'static str)>) -> Option<LineChart> {
    let c = Csv::parse(text);
    let (tc, sc, nc, vc) = (
        c.col(cost::HOUR_START_MS)?,
        c.col(cost::SCOPE)?,
        c.col(cost::NAME)?,
        c.col(cost::COST_USD)?,
    );
    // (provider, running total, cumulative points), in order of first appearance.
    type Acc = (String, f64, Vec<(f64, f64)>);
    let mut acc: Vec<Acc> = Vec::new();
    for r in c.rows.iter().filter(|r| cell(r, sc) == "capacity_provider") {
        let name = cell(r, nc);
        let at = match acc.iter().position(|a| a.0 == name) {
            Some(at) => at,
            None => {
                acc.push((name.to_string(), 0.0, vec![(0.0, 0.0)]));
                acc.len() - 1
            }
        };
        let e = &mut acc[at];
        e.1 += num(cell(r, vc));
        e.2.push((num(cell(r, tc)) / MS_PER_HOUR + 1.0, e.1));
    }
    let series: Vec<Series> = acc
        .into_iter()
        .filter(|a| a.1 > 0.0)
        .map(|(n, _, p)| Series {
            name: if n == "none" { "no provider".into() } else { n },
            points: p,
            dashed: false,
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    Some(LineChart {
        title: "Cumulative cost by capacity provider".into(),
        y_label: "USD".into(),
        series,
        markers,
        money: true,
    })
}

/// The run charts: tasks per service, instances, reservation and utilisation, load, cost.
pub fn run_charts(f: &RunFiles) -> Vec<(String, LineChart)> {
    let Some(m) = Metrics::parse(&f.metrics_csv) else {
        return Vec::new();
    };
    let markers = markers(f);
    let mut out = vec![
        ("tasks".to_string(), tasks_chart(&m, &markers)),
        ("instances".to_string(), instances_chart(&m, &markers)),
        ("utilisation".to_string(), utilisation_chart(&m, &markers)),
    ];
    out.extend(load_chart(&m, &markers).map(|c| ("load".to_string(), c)));
    out.extend(cost_chart(&f.cost_csv, markers).map(|c| ("cost".to_string(), c)));
    out
}

/// summary.json's fields, looked up by key.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, k: &str) -> Option<String> {
        self.0.iter().find(|x| x.0 == k).map(|x| x.1.clone())
    }
}

/// The summary fields shown as key numbers, with their labels.
pub const KEY_NUMBERS: [(&str, &str); 17] = [
    ("tasks_created", "tasks created"),
    ("tasks_started", "tasks started"),
    ("tasks_failed_to_place", "tasks failed to place"),
    ("tasks_never_placed", "tasks never placed"),
    (
        "tasks_waited_for_capacity",
        "tasks that waited for capacity",
    ),
    ("mean_cpu_reserved_pct", "CPU reserved, time-weighted %"),
    (
        "mean_memory_reserved_pct",
        "memory reserved, time-weighted %",
    ),
    ("peak_instances", "peak instances"),
    ("instance_hours", "instance-hours"),
    ("cost_total_usd", "total cost, USD"),
    ("cost_ec2_usd", "EC2, USD"),
    ("cost_ec2_idle_usd", "of which idle, USD"),
    ("cost_fargate_usd", "Fargate, USD"),
    ("cost_per_task_hour_usd", "cost per task-hour, USD"),
    ("unserved_request_minutes", "unserved request-minutes"),
    ("idle_instance_hours", "idle instance-hours"),
    ("tasks_lost", "tasks lost to failures"),
];

/// Title, run line and key numbers.
fn head(b: &mut String, fields: &Fields) {
    let get = |k: &str| fields.get(k).unwrap_or_default();
    let _ = write!(b, "<h1>ecsim report: {}</h1>", escape(&get("scenario")));
    let _ = write!(
        b,
        "<p>Seed {}, simulated {} h (stop: {}), events hash <code>{}</code>.</p>",
        escape(&get("seed")),
        escape(&format!("{:.2}", num(&get("sim_end_ms")) / MS_PER_HOUR)),
        escape(&get("stop_reason")),
        escape(&get("events_hash"))
    );
    b.push_str("<h2>Key numbers</h2>");
    let rows: Vec<Vec<String>> = KEY_NUMBERS
        .iter()
        .filter_map(|(k, label)| fields.get(k).map(|v| vec![label.to_string(), v]))
        .collect();
    html_table(b, &["measure".into(), "value".into()], &rows);
}

/// Every `service.NAME.MEASURE` field, one row per service and one column per measure.
fn services_table(b: &mut String, fields: &Fields) {
    let mut names: Vec<&str> = Vec::new();
    let mut measures: Vec<&str> = Vec::new();
    for (k, _) in &fields.0 {
        if let Some((n, m)) = k
            .strip_prefix("service.")
            .and_then(|rest| rest.split_once('.'))
            .filter(|(_, m)| !m.contains('.'))
        {
            if !names.contains(&n) {
                names.push(n);
            }
            if !measures.contains(&m) {
                measures.push(m);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    b.push_str("<h2>Services</h2>");
    let mut header = vec!["service".to_string()];
    header.extend(measures.iter().map(|m| m.to_string()));
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            let mut r = vec![n.to_string()];
            r.extend(
                measures
                    .iter()
                    .map(|m| fields.get(&format!("service.{n}.{m}")).unwrap_or_default()),
            );
            r
        })
        .collect();
    html_table(b, &header, &rows);
}

/// Cost per capacity provider, from the `capacity_provider.NAME.cost_usd` fields.
fn provider_costs(b: &mut String, fields: &Fields) {
    let costs: Vec<Vec<String>> = fields
        .0
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("capacity_provider.")
                .and_then(|r| r.strip_suffix(".cost_usd"))
                .map(|n| vec![n.to_string(), v.clone()])
        })
        .collect();
    if !costs.is_empty() {
        b.push_str("<h2>Cost by capacity provider</h2>");
        html_table(b, &["capacity provider".into(), "USD".into()], &costs);
    }
}

/// Render a run's charts and report page.
pub fn render_run(f: &RunFiles) -> Result<Rendered, String> {
    let fields = Fields(crate::summary::read_summary(&f.summary_json)?);
    let charts_out = run_charts(f)
        .into_iter()
        .map(|(name, c)| RenderedChart::new(name, &c.title, &c))
        .collect::<Result<Vec<_>, String>>()?;
    let mut b = String::new();
    head(&mut b, &fields);
    b.push_str("<h2>Charts</h2><p>Vertical lines mark alarms entering ALARM (orange), scaling actions (green), failures (red) and deployments (purple). Reserved is what tasks asked for; used is what the load made them use.</p>");
    for c in &charts_out {
        figure(&mut b, c);
    }
    services_table(&mut b, &fields);
    provider_costs(&mut b, &fields);
    for (title, text) in [
        ("Failures", &f.failures_csv),
        ("Deployments", &f.deployments_csv),
    ] {
        let t = Csv::parse(text);
        if !t.rows.is_empty() {
            let _ = write!(b, "<h2>{title}</h2>");
            html_table(&mut b, &t.header, &t.rows);
        }
    }
    b.push_str("<h2>All summary fields</h2><details><summary>show</summary>");
    let all: Vec<Vec<String>> = fields
        .0
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()])
        .collect();
    html_table(&mut b, &["field".into(), "value".into()], &all);
    b.push_str("</details>");
    let scenario = fields.get("scenario").unwrap_or_default();
    Ok(Rendered {
        charts: charts_out,
        html: page(&format!("ecsim: {scenario}"), &b),
    })
}
