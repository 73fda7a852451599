//! A run's report: charts from `metrics.csv`, `cost.csv` and the event tables (scaling,
//! failures, deployments as markers), and the page around them with the key numbers of
//! `summary.json`.

use std::fmt::Write as _;

use std::collections::HashMap;

use super::input::{Csv, Problem, finite};
use super::{
    Rendered, RenderedChart, RunFiles, Unusable, escape, html_table, interactive, page_with,
    problems_section,
};
use crate::charts::{LineChart, Series, YUnit};
use crate::human;
use crate::schema::{cost, deployments, failures, metrics, scaling};

const MS_PER_HOUR: f64 = 3_600_000.0;

/// `metrics.csv` with its time axis in hours (none for a row whose time is not a number).
struct Metrics {
    csv: Csv,
    hours: Vec<Option<f64>>,
}

impl Metrics {
    /// Every cell must be a finite number (empty allowed but for the time).
    fn parse(text: &str, problems: &mut Vec<Problem>) -> Option<Metrics> {
        let mut csv = Csv::parse("metrics.csv", text, problems);
        let Some(t) = csv.col(metrics::TIME_MS) else {
            if !text.trim().is_empty() {
                problems.push(Problem {
                    file: "metrics.csv".into(),
                    line: 1,
                    column: 0,
                    message: format!("no {} column: no charts drawn", metrics::TIME_MS),
                });
            }
            return None;
        };
        csv.check_numbers(&[t], false, problems);
        let others: Vec<usize> = (0..csv.header.len()).filter(|&c| c != t).collect();
        csv.check_numbers(&others, true, problems);
        let hours = (0..csv.rows.len())
            .map(|r| csv.num(r, t).map(|v| v / MS_PER_HOUR))
            .collect();
        Some(Metrics { csv, hours })
    }

    /// A column over time, if the file has it; rows without a number left out.
    fn series(&self, column: &str, label: String, group: usize) -> Option<Series> {
        let c = self.csv.col(column)?;
        Some(Series::new(
            label,
            self.hours
                .iter()
                .enumerate()
                .filter_map(|(r, &x)| Some((x?, self.csv.num(r, c)?)))
                .collect(),
            group,
        ))
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

/// A column's times in hours, rows whose time is not a finite number reported and left out.
fn times(
    c: &mut Csv,
    column: &str,
    keep: impl Fn(&Csv, usize) -> bool,
    problems: &mut Vec<Problem>,
) -> Vec<f64> {
    let Some(tc) = c.col(column) else {
        return Vec::new();
    };
    c.check_numbers(&[tc], false, problems);
    (0..c.rows.len())
        .filter(|&r| keep(c, r))
        .filter_map(|r| c.num(r, tc))
        .map(|v| v / MS_PER_HOUR)
        .collect()
}

/// Vertical markers: scaling actions (not alarm changes), failures and deployment starts.
fn markers(f: &RunFiles, problems: &mut Vec<Problem>) -> Vec<(f64, &'static str)> {
    let mut markers: Vec<(f64, &'static str)> = Vec::new();
    let mut s = Csv::parse("scaling.csv", &f.scaling_csv, problems);
    let kc = s.col(scaling::KIND);
    let not_alarm = |c: &Csv, r: usize| kc.is_none_or(|k| c.text(r, k) != "alarm");
    markers.extend(
        times(&mut s, scaling::TIME_MS, not_alarm, problems)
            .into_iter()
            .map(|x| (x, "scaling")),
    );
    for (file, text, column, kind) in [
        (
            "failures.csv",
            &f.failures_csv,
            failures::TIME_MS,
            "failure",
        ),
        (
            "deployments.csv",
            &f.deployments_csv,
            deployments::STARTED_MS,
            "deployment",
        ),
    ] {
        let mut t = Csv::parse(file, text, &mut Vec::new());
        markers.extend(
            times(&mut t, column, |_, _| true, problems)
                .into_iter()
                .map(|x| (x, kind)),
        );
    }
    markers
}

fn line_chart(
    title: &str,
    y_label: &str,
    unit: YUnit,
    series: Vec<Series>,
    markers: &[(f64, &'static str)],
) -> LineChart {
    LineChart {
        title: title.into(),
        y_label: y_label.into(),
        series,
        markers: markers.to_vec(),
        unit,
        shade: Vec::new(),
    }
}

/// A series drawn dashed.
fn dashed(mut s: Series) -> Series {
    s.dashed = true;
    s
}

/// A series drawn thin.
fn thin(mut s: Series) -> Series {
    s.thin = true;
    s
}

/// Running, desired and pending tasks of the first eight services, one colour per service;
/// without services (a run of jobs only), all tasks running, pending and waiting.
fn tasks_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::service::{DESIRED, PENDING, RUNNING};
    let services = m.entities(DESIRED);
    let mut tasks = Vec::new();
    for (g, s) in services.iter().take(8).enumerate() {
        tasks.extend(m.series(&metrics::column(s, RUNNING), format!("{s} running"), g));
        tasks.extend(
            m.series(&metrics::column(s, DESIRED), format!("{s} desired"), g)
                .map(dashed),
        );
        tasks.extend(
            m.series(&metrics::column(s, PENDING), format!("{s} pending"), g)
                .map(thin),
        );
    }
    if services.is_empty() {
        tasks.extend(m.series(metrics::TASKS_RUNNING, "running".into(), 0));
        tasks.extend(m.series(metrics::TASKS_PENDING, "pending".into(), 1));
        tasks.extend(m.series(
            metrics::TASKS_PROVISIONING,
            "waiting for capacity".into(),
            3,
        ));
        return line_chart("Tasks", "tasks", YUnit::Count, tasks, markers);
    }
    line_chart(
        "Tasks per service: running, desired (dashed), pending (thin)",
        "tasks",
        YUnit::Count,
        tasks,
        markers,
    )
}

/// Instances by state (stopped ones are not drawn: that count only grows), and those in use
/// in the first six clusters.
fn instances_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::cluster::INSTANCES_IN_USE;
    let states = [
        (metrics::INSTANCES_ACTIVE, "active", 0),
        (metrics::INSTANCES_LAUNCHING, "launching", 1),
        (metrics::INSTANCES_DRAINING, "draining", 3),
    ];
    let mut inst: Vec<Series> = states
        .iter()
        .filter_map(|(col, k, g)| m.series(col, format!("instances {k}"), *g))
        .collect();
    inst.extend(
        m.entities(INSTANCES_IN_USE)
            .iter()
            .take(6)
            .enumerate()
            .filter_map(|(i, c)| {
                m.series(
                    &metrics::column(c, INSTANCES_IN_USE),
                    format!("cluster {c}: in use"),
                    2 + i,
                )
                .map(dashed)
            }),
    );
    line_chart(
        "Container instances",
        "instances",
        YUnit::Count,
        inst,
        markers,
    )
}

/// CPU and memory reserved, and the CPU the first six loaded services use.
fn utilisation_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> LineChart {
    use metrics::load::CPU_UTILIZATION_PCT;
    let mut res: Vec<Series> = vec![];
    // Without container instances (Fargate only) nothing is reserved on a cluster: no line.
    let some = |s: &Series| s.points.iter().any(|p| p.1 != 0.0);
    res.extend(
        m.series(metrics::CPU_RESERVED_PCT, "CPU reserved".into(), 0)
            .filter(some),
    );
    res.extend(
        m.series(metrics::MEMORY_RESERVED_PCT, "memory reserved".into(), 1)
            .filter(some),
    );
    for (i, c) in m.entities(CPU_UTILIZATION_PCT).iter().take(6).enumerate() {
        res.extend(
            m.series(
                &metrics::column(c, CPU_UTILIZATION_PCT),
                format!("{c}: CPU used"),
                2 + i,
            )
            .map(dashed),
        );
    }
    line_chart(
        "Capacity reserved (cluster) and CPU used (per service)",
        "percent",
        YUnit::Percent,
        res,
        markers,
    )
}

/// Demand and served requests of the first six loaded services, if any, with the unserved
/// demand between them shaded.
fn load_chart(m: &Metrics, markers: &[(f64, &'static str)]) -> Option<LineChart> {
    use metrics::load::{DEMAND_RPS, SERVED_RPS};
    let loads = m.entities(DEMAND_RPS);
    if loads.is_empty() {
        return None;
    }
    let mut l = Vec::new();
    let mut shade = Vec::new();
    for (g, s) in loads.iter().take(6).enumerate() {
        let d = m.series(&metrics::column(s, DEMAND_RPS), format!("{s}: demand"), g);
        let v = m.series(&metrics::column(s, SERVED_RPS), format!("{s}: served"), g);
        if let (Some(d), Some(v)) = (d, v) {
            shade.push((l.len(), l.len() + 1, format!("{s}: unserved")));
            l.push(thin(dashed(d)));
            l.push(v);
        }
    }
    let mut c = line_chart(
        "Requests: demand (dashed) and served; unserved shaded",
        "requests per second",
        YUnit::Number,
        l,
        markers,
    );
    c.shade = shade;
    Some(c)
}

/// Cumulative cost by capacity provider (the eight costliest), if any provider cost anything.
fn cost_chart(
    text: &str,
    markers: Vec<(f64, &'static str)>,
    problems: &mut Vec<Problem>,
) -> Option<LineChart> {
    let mut c = Csv::parse("cost.csv", text, problems);
    let (tc, sc, nc, vc) = (
        c.col(cost::HOUR_START_MS)?,
        c.col(cost::SCOPE)?,
        c.col(cost::NAME)?,
        c.col(cost::COST_USD)?,
    );
    c.check_numbers(&[tc, vc], false, problems);
    // (provider, running total, cumulative points), in order of first appearance.
    type Acc = (String, f64, Vec<(f64, f64)>);
    let mut acc: Vec<Acc> = Vec::new();
    let mut at_of: HashMap<&str, usize> = HashMap::new();
    for r in (0..c.rows.len()).filter(|&r| c.text(r, sc) == "capacity_provider") {
        let (Some(t), Some(v)) = (c.num(r, tc), c.num(r, vc)) else {
            continue;
        };
        let name = c.text(r, nc);
        let at = *at_of.entry(name).or_insert_with(|| {
            acc.push((name.to_string(), 0.0, vec![(0.0, 0.0)]));
            acc.len() - 1
        });
        let e = &mut acc[at];
        e.1 += v;
        e.2.push((t / MS_PER_HOUR + 1.0, e.1));
    }
    // The eight costliest providers (a hostile file could name thousands), in file order.
    let mut totals: Vec<f64> = acc.iter().map(|a| a.1).collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    let floor = totals.get(7).copied().unwrap_or(0.0);
    let mut kept = 0;
    let series: Vec<Series> = acc
        .into_iter()
        .filter(|a| a.1 > 0.0 && a.1 >= floor)
        .take_while(|_| {
            kept += 1;
            kept <= 8
        })
        .enumerate()
        .map(|(g, (n, _, p))| Series::new(if n == "none" { "no provider".into() } else { n }, p, g))
        .collect();
    if series.is_empty() {
        return None;
    }
    Some(LineChart {
        title: "Cost so far, by capacity provider".into(),
        y_label: "US dollars (cumulative)".into(),
        series,
        markers,
        unit: YUnit::Usd,
        shade: Vec::new(),
    })
}

/// The run charts: tasks per service, instances, reservation and utilisation, load, cost.
pub fn run_charts(f: &RunFiles) -> Vec<(String, LineChart)> {
    run_charts_checked(f, &mut Vec::new())
}

/// [`run_charts`], reporting every problem of the files it reads.
fn run_charts_checked(f: &RunFiles, problems: &mut Vec<Problem>) -> Vec<(String, LineChart)> {
    let Some(m) = Metrics::parse(&f.metrics_csv, problems) else {
        return Vec::new();
    };
    let markers = markers(f, problems);
    let mut out = vec![
        ("tasks".to_string(), tasks_chart(&m, &markers)),
        ("instances".to_string(), instances_chart(&m, &markers)),
        ("utilisation".to_string(), utilisation_chart(&m, &markers)),
    ];
    out.extend(load_chart(&m, &markers).map(|c| ("load".to_string(), c)));
    out.extend(cost_chart(&f.cost_csv, markers, problems).map(|c| ("cost".to_string(), c)));
    // Only charts with something to show: a Fargate-only run has no instances to draw.
    out.retain(|(_, c)| {
        c.series
            .iter()
            .any(|s| s.points.iter().any(|p| p.1.is_finite() && p.1 != 0.0))
    });
    out
}

/// summary.json's fields in file order, looked up by key (the first of a repeated key).
struct Fields(Vec<(String, String)>, HashMap<String, usize>);

impl Fields {
    fn new(fields: Vec<(String, String)>) -> Fields {
        let mut index = HashMap::with_capacity(fields.len());
        for (i, (k, _)) in fields.iter().enumerate() {
            index.entry(k.clone()).or_insert(i);
        }
        Fields(fields, index)
    }

    fn get(&self, k: &str) -> Option<String> {
        self.1.get(k).map(|&i| self.0[i].1.clone())
    }
}

/// The summary fields shown as key numbers, with their labels.
pub const KEY_NUMBERS: [(&str, &str); 18] = [
    ("tasks_created", "tasks created"),
    ("tasks_started", "tasks started"),
    ("tasks_failed_to_place", "tasks failed to place"),
    ("tasks_never_placed", "tasks never placed"),
    (
        "tasks_waited_for_capacity",
        "tasks that waited for capacity",
    ),
    ("mean_wait_ms", "mean wait, creation to placement"),
    ("mean_cpu_reserved_pct", "CPU reserved (time-weighted)"),
    (
        "mean_memory_reserved_pct",
        "memory reserved (time-weighted)",
    ),
    ("peak_instances", "peak instances"),
    ("instance_hours", "instance-hours"),
    ("cost_total_usd", "total cost"),
    ("cost_ec2_usd", "EC2"),
    ("cost_ec2_idle_usd", "of which idle"),
    ("cost_fargate_usd", "Fargate"),
    ("cost_per_task_hour_usd", "cost per task-hour"),
    ("unserved_request_minutes", "unserved request-minutes"),
    ("idle_instance_hours", "idle instance-hours"),
    ("tasks_lost", "tasks lost to failures"),
];

/// The headline numbers, as cards at the top of the page.
const CARDS: [(&str, &str); 6] = [
    ("cost_total_usd", "total cost"),
    ("tasks_started", "tasks started"),
    ("peak_instances", "peak instances"),
    ("mean_wait_ms", "mean wait for placement"),
    ("mean_cpu_reserved_pct", "CPU reserved"),
    ("unserved_request_minutes", "unserved request-minutes"),
];

/// Title, run line, headline cards and key numbers.
fn head(b: &mut String, fields: &Fields) {
    let get = |k: &str| fields.get(k).unwrap_or_default();
    let _ = write!(b, "<h1>ecsim report: {}</h1>", escape(&get("scenario")));
    let _ = write!(
        b,
        "<p>Seed {}, simulated {} (stop: {}), {} events; events hash <code>{}</code>.</p>",
        escape(&get("seed")),
        escape(&finite(&get("sim_end_ms")).map_or("?".into(), human::duration_ms)),
        escape(&get("stop_reason")),
        escape(&human::value("events_processed", &get("events_processed"))),
        escape(&get("events_hash"))
    );
    b.push_str("<div class=\"cards\">");
    for (k, label) in CARDS {
        if let Some(v) = fields.get(k) {
            let _ = write!(
                b,
                "<div class=\"card\"><b>{}</b><span>{}</span></div>",
                escape(&human::value(k, &v)),
                escape(label)
            );
        }
    }
    b.push_str("</div><h2>Key numbers</h2>");
    let rows: Vec<Vec<String>> = KEY_NUMBERS
        .iter()
        .filter_map(|(k, label)| {
            fields
                .get(k)
                .map(|v| vec![label.to_string(), human::value(k, &v)])
        })
        .collect();
    html_table(b, &["measure".into(), "value".into()], &rows);
}

/// Every `service.NAME.MEASURE` field, one row per service and one column per measure.
fn services_table(b: &mut String, fields: &Fields) {
    let mut names: Vec<&str> = Vec::new();
    let mut measures: Vec<&str> = Vec::new();
    let mut seen: std::collections::HashSet<(bool, &str)> = Default::default();
    for (k, _) in &fields.0 {
        if let Some((n, m)) = k
            .strip_prefix("service.")
            .and_then(|rest| rest.split_once('.'))
            .filter(|(_, m)| !m.contains('.'))
        {
            if seen.insert((true, n)) {
                names.push(n);
            }
            // Columns: a hostile file could name thousands; the table shows the first 40.
            if measures.len() < 40 && seen.insert((false, m)) {
                measures.push(m);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    b.push_str("<h2>Services</h2><div class=\"wide\">");
    let mut header = vec!["service".to_string()];
    header.extend(measures.iter().map(|m| human::short_label(m)));
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            let mut r = vec![n.to_string()];
            r.extend(measures.iter().map(|m| {
                human::value(
                    m,
                    &fields.get(&format!("service.{n}.{m}")).unwrap_or_default(),
                )
            }));
            r
        })
        .collect();
    html_table(b, &header, &rows);
    b.push_str("</div>");
}

/// How each service reacted to each abrupt load change, from the
/// `service.NAME.load_change.K.{at_ms,first_scaling_after_ms,tasks_running_after_ms}` fields;
/// a first scaling too soon to be a reaction is flagged.
fn load_changes_table(b: &mut String, fields: &Fields) {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (k, v) in &fields.0 {
        let Some((service, rest)) = k
            .strip_prefix("service.")
            .and_then(|r| r.split_once(".load_change."))
        else {
            continue;
        };
        let Some(n) = rest.strip_suffix(".at_ms") else {
            continue;
        };
        let get = |m: &str| fields.get(&format!("service.{service}.load_change.{n}.{m}"));
        let first = get("first_scaling_after_ms");
        let soon = first
            .as_deref()
            .and_then(finite)
            .is_some_and(|f| f < crate::summary::REACTION_MIN_MS as f64);
        let dur = |x: Option<String>| x.map_or("none".to_string(), |x| human::value("_ms", &x));
        let mut first_text = dur(first);
        if soon {
            first_text.push_str(" (too soon to be a reaction)");
        }
        rows.push(vec![
            service.to_string(),
            human::value("_ms", v),
            first_text,
            dur(get("tasks_running_after_ms")),
        ]);
    }
    if rows.is_empty() {
        return;
    }
    b.push_str("<h2>Reactions to load changes</h2>");
    html_table(
        b,
        &[
            "service".into(),
            "load change at".into(),
            "first scaling after".into(),
            "tasks running after".into(),
        ],
        &rows,
    );
}

/// Cost per capacity provider, from the `capacity_provider.NAME.cost_usd` fields.
fn provider_costs(b: &mut String, fields: &Fields) {
    let costs: Vec<Vec<String>> = fields
        .0
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("capacity_provider.")
                .and_then(|r| r.strip_suffix(".cost_usd"))
                .map(|n| vec![n.to_string(), human::value("cost_usd", v)])
        })
        .collect();
    if !costs.is_empty() {
        b.push_str("<h2>Cost by capacity provider</h2>");
        html_table(b, &["capacity provider".into(), "cost".into()], &costs);
    }
}

/// summary.json's fields; a file that is not one JSON object is a problem, and no fields.
fn summary_fields(json: &str, problems: &mut Vec<Problem>) -> Fields {
    match crate::summary::read_summary_at(json) {
        Ok(f) => Fields::new(f),
        Err((line, column, e)) => {
            let message = e
                .strip_prefix("summary.json: ")
                .map_or(e.clone(), String::from);
            problems.push(Problem {
                file: crate::summary::FILE.into(),
                line,
                column,
                message: format!(
                    "{}; no summary fields shown",
                    crate::escape::visible(&message)
                ),
            });
            Fields::new(Vec::new())
        }
    }
}

/// Render a run's charts and report page from its files, every one of which may be hostile:
/// rows of the wrong width, cells that are not finite numbers and a summary.json that is not a
/// JSON object are problems (file, line, column) and left out; the rest is drawn, and the
/// problems are listed on the page and in [`Rendered::problems`]. An error ([`Unusable`]) only
/// when nothing is usable: no summary field and no chart with data.
pub fn render_run(f: &RunFiles) -> Result<Rendered, Unusable> {
    let mut problems = f.problems.clone();
    let fields = summary_fields(&f.summary_json, &mut problems);
    if f.metrics_csv.trim().is_empty() {
        problems.push(Problem {
            file: "metrics.csv".into(),
            line: 0,
            column: 0,
            message: "missing or empty: no charts drawn".into(),
        });
    }
    let charts = run_charts_checked(f, &mut problems);
    let has_data = charts
        .iter()
        .any(|(_, c)| c.series.iter().any(|s| !s.points.is_empty()));
    if fields.0.is_empty() && !has_data {
        return Err(Unusable {
            reason: "nothing to report: no summary field and no chart data".into(),
            problems,
        });
    }
    let charts_out: Vec<RenderedChart> = charts
        .iter()
        .filter_map(|(name, c)| RenderedChart::new(name.clone(), &c.title, c, &mut problems))
        .collect();
    let mut tables = Vec::new();
    for (title, file, text) in [
        ("Failures", "failures.csv", &f.failures_csv),
        ("Deployments", "deployments.csv", &f.deployments_csv),
    ] {
        let t = Csv::parse(file, text, &mut problems);
        if !t.rows.is_empty() {
            tables.push((title, t));
        }
    }
    let mut b = String::new();
    head(&mut b, &fields);
    problems_section(&mut b, &problems);
    b.push_str("<h2>Charts</h2><p class=\"note\">Drag across a chart to zoom into a window of time, double-click to zoom out; hover for values (the legend under each chart). Ticks above a plot mark scaling actions (green), failures (red) and deployments (purple). Reserved is what tasks asked for; used is what the load made them use. Long runs are shown downsampled, keeping each interval\u{2019}s lowest and highest value. The same charts are in <code>charts/</code> as SVG and PNG.</p>");
    let line_charts: Vec<&LineChart> = charts.iter().map(|(_, c)| c).collect();
    b.push_str(&interactive::body(&line_charts));
    services_table(&mut b, &fields);
    load_changes_table(&mut b, &fields);
    provider_costs(&mut b, &fields);
    for (title, t) in &tables {
        let _ = write!(b, "<h2>{title}</h2>");
        let rows: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .zip(&t.header)
                    .map(|(v, h)| human::value(h, v))
                    .collect()
            })
            .collect();
        html_table(&mut b, &t.header, &rows);
    }
    super::explain::section(&mut b, &f.placements_csv, &f.decisions_csv, &mut problems);
    b.push_str("<h2>All summary fields</h2><details><summary>show</summary>");
    let all: Vec<Vec<String>> = fields
        .0
        .iter()
        .take(super::MAX_TABLE_ROWS + 1)
        .map(|(k, v)| vec![k.clone(), human::value(k, v), v.clone()])
        .collect();
    html_table(
        &mut b,
        &["field".into(), "value".into(), "as written".into()],
        &all,
    );
    b.push_str("</details>");
    let scenario = fields.get("scenario").unwrap_or_default();
    Ok(Rendered {
        charts: charts_out,
        html: page_with(&format!("ecsim: {scenario}"), &interactive::head(), &b),
        problems,
    })
}
