//! Parameter sweeps: a grid of scenario variations times a number of seeds, and the statistics
//! over them.
//!
//! # Sweep files
//! ```toml
//! schema_version = 1
//! name = "placement-strategies"
//! scenario = "../placement-spread-vs-binpack.toml"   # relative to the sweep file
//! seed = 1                 # the sweep seed
//! seeds = 20               # runs per grid point
//! metrics = ["cluster.c.mean_instances_in_use"]     # optional: the metrics charted first
//! [[parameters]]
//! name = "strategy"
//! paths = ["services[0].placement_strategy"]        # any --set path; several move together
//! values = [[{ type = "binpack", field = "memory" }], [{ type = "random" }]]
//! labels = ["binpack", "random"]                    # optional
//! [[parameters]]
//! name = "instances"
//! paths = ["clusters[0].count"]
//! range = { from = 4, to = 12, step = 4 }
//! ```
//! The grid is the product of the parameters' values, in file order (the last parameter varies
//! fastest). Run `r` of every grid point uses the seed `seed_for_index(sweep seed, r)`: the same
//! seeds at every point (common random numbers, so differences between points are not noise from
//! different workloads), and adding a grid point or more seeds leaves every other run unchanged.

use crate::scenario::Scenario;
use crate::scenario::read::{
    Cx, Diagnostic, NameRule, Tbl, entries, quote_list, read_document, shown, string_array,
};
use crate::scenario::tree::{self, Kind, Node, Step};

/// The most runs (grid points x seeds) a sweep may have unless the user allows more
/// (`ecsim sweep --max-runs`): enough for any study on one machine, and a guard against a
/// typo that would ask for 10^10 runs.
pub const DEFAULT_MAX_RUNS: u64 = 1_000_000;

/// One parameter of a sweep.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Its column name.
    pub name: String,
    /// Scenario paths it sets.
    pub paths: Vec<(String, Vec<Step>)>,
    /// Values, each with its label.
    pub values: Vec<(String, Node)>,
}

/// A sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name (the output folder).
    pub name: String,
    /// The base scenario, as written (relative to the sweep file).
    pub scenario: String,
    /// The sweep seed.
    pub seed: u64,
    /// Runs per grid point.
    pub seeds: u32,
    /// Parameters in file order.
    pub parameters: Vec<Parameter>,
    /// Metrics to chart first.
    pub metrics: Vec<String>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// Index of the grid point.
    pub point: usize,
    /// Replicate number at that point.
    pub replicate: u32,
    /// Run seed.
    pub seed: u64,
}

impl Sweep {
    /// Number of grid points. Valid once [`Sweep::grid_size`] is `Some`; saturates otherwise.
    pub fn points(&self) -> usize {
        self.parameters
            .iter()
            .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
            .unwrap_or(usize::MAX)
    }

    /// Number of grid points (the product of the parameters' value counts) and of runs (times
    /// `seeds`), or `None` if either does not fit in a `usize`.
    pub fn grid_size(&self) -> Option<(usize, usize)> {
        let points = self
            .parameters
            .iter()
            .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))?;
        let runs = points.checked_mul(usize::try_from(self.seeds).ok()?)?;
        Some((points, runs))
    }

    /// The sweep's fingerprint: a stable 128-bit hash (FNV-1a, written out here so that it never
    /// changes with a library) of everything that decides its runs: the sweep seed, the number
    /// of seeds, every parameter (name, paths, values and labels) and the base scenario's text
    /// `base_src`. Not the name nor the charted metrics. Runs of sweeps with different
    /// fingerprints are never mixed (resume, merge).
    pub fn fingerprint(&self, base_src: &str) -> String {
        let mut h = Fnv128::new();
        h.field("ecsim sweep fingerprint 1");
        h.field(&self.seed.to_string());
        h.field(&self.seeds.to_string());
        h.field(&self.parameters.len().to_string());
        for p in &self.parameters {
            h.field(&p.name);
            h.field(&p.paths.len().to_string());
            for (path, _) in &p.paths {
                h.field(path);
            }
            h.field(&p.values.len().to_string());
            for (label, node) in &p.values {
                h.field(label);
                h.field(&toml_text(node));
            }
        }
        h.field(base_src);
        format!("{:032x}", h.0)
    }

    /// The value index of each parameter at a grid point.
    pub fn coordinates(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut out = vec![0; self.parameters.len()];
        for (k, p) in self.parameters.iter().enumerate().rev() {
            out[k] = rest % p.values.len();
            rest /= p.values.len();
        }
        out
    }

    /// Labels of the parameter values at a grid point.
    pub fn labels(&self, point: usize) -> Vec<String> {
        self.coordinates(point)
            .iter()
            .zip(&self.parameters)
            .map(|(&i, p)| p.values[i].0.clone())
            .collect()
    }

    /// The grid point as a scenario variant (its overrides applied before validation). Its
    /// values keep their positions in the sweep file: load it with
    /// [`LoadOptions::variant_file`](crate::scenario::LoadOptions::variant_file) naming the
    /// sweep file, so that a bad value is reported at the sweep file's line.
    pub fn variant(&self, point: usize) -> crate::scenario::Variant {
        crate::scenario::Variant {
            name: self.labels(point).join(","),
            description: String::new(),
            overrides: self.overrides(point),
        }
    }

    /// Overrides for a grid point: (path, value).
    pub fn overrides(&self, point: usize) -> Vec<(String, Vec<Step>, Node)> {
        let mut out = Vec::new();
        for (&i, p) in self.coordinates(point).iter().zip(&self.parameters) {
            for (path, steps) in &p.paths {
                out.push((path.clone(), steps.clone(), p.values[i].1.clone()));
            }
        }
        out
    }

    /// Every run, in order: point by point, replicate by replicate.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut v = Vec::new();
        for point in 0..self.points() {
            for r in 0..self.seeds {
                v.push(RunSpec {
                    point,
                    replicate: r,
                    seed: ecsim_engine::seed_for_index(self.seed, u64::from(r)),
                });
            }
        }
        v
    }
}

/// FNV-1a, 128 bits, over length-prefixed fields (so that no two field lists hash alike by
/// concatenation).
struct Fnv128(u128);

impl Fnv128 {
    fn new() -> Fnv128 {
        Fnv128(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u128::from(x);
            self.0 = self
                .0
                .wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
    }
    fn field(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
}

fn toml_text(n: &Node) -> String {
    match &n.kind {
        Kind::Str(s) => s.clone(),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => f.to_string(),
        Kind::Bool(b) => b.to_string(),
        Kind::Datetime(d) => d.clone(),
        Kind::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_text).collect::<Vec<_>>().join(", ")
        ),
        Kind::Table(t) => format!(
            "{{{}}}",
            t.iter()
                .map(|(k, _, v)| format!("{k}={}", toml_text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Read a sweep file, reporting every problem with its position; at most
/// [`DEFAULT_MAX_RUNS`] runs.
pub fn load(file: &str, src: &str) -> Result<Sweep, Vec<Diagnostic>> {
    load_with(file, src, DEFAULT_MAX_RUNS)
}

/// [`load`] with another limit on the number of runs (grid points x seeds).
pub fn load_with(file: &str, src: &str, max_runs: u64) -> Result<Sweep, Vec<Diagnostic>> {
    read_document(file, src, |cx, root| read(cx, root, max_runs))
}

/// The file name stem of a metric's chart in `charts/`, as `ecsim report` draws it: every
/// character but letters, digits, '-' and '_' becomes '_'.
pub fn chart_stem(metric: &str) -> String {
    metric
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

/// Chart stems a sweep report always writes.
const RESERVED_STEMS: &[&str] = &["cost-vs-utilisation"];

/// `metrics`: names, no two of which chart to the same file.
fn read_metrics(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<String>> {
    let items = cx.array(n, p)?;
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, x) in items.iter().enumerate() {
        let path = format!("{p}[{i}]");
        let Some(m) = cx.name(x, &path, NameRule::Printable) else {
            ok = false;
            continue;
        };
        let stem = chart_stem(&m);
        if let Some(j) = out.iter().position(|o| chart_stem(o) == stem) {
            let msg = if out[j] == m {
                format!("\"{m}\" is listed twice (also {p}[{j}])")
            } else {
                format!(
                    "\"{m}\" and {p}[{j}] \"{}\" would both be charted as charts/{stem}.svg",
                    out[j]
                )
            };
            cx.error(&x.origin, &path, msg);
            ok = false;
        } else if RESERVED_STEMS.contains(&stem.as_str()) {
            cx.error(&x.origin, &path, format!("\"{m}\" would be charted as charts/{stem}.svg, which the sweep report draws itself"));
            ok = false;
        }
        out.push(m);
    }
    ok.then_some(out)
}

/// Check the number of runs: grid points x seeds, at most `max_runs` (checked arithmetic).
fn check_size(cx: &mut Cx<'_>, root: &Node, params: &[Parameter], seeds: u32, max_runs: u64) {
    let points = params
        .iter()
        .try_fold(1u64, |acc, p| acc.checked_mul(p.values.len() as u64));
    let runs = points.and_then(|g| g.checked_mul(u64::from(seeds)));
    let counts: Vec<String> = params.iter().map(|p| p.values.len().to_string()).collect();
    let too_many = match runs {
        Some(r) if r <= max_runs && usize::try_from(r).is_ok() => return,
        Some(r) => format!("{r} runs"),
        None => "more than 2^64 runs".to_string(),
    };
    cx.error(
        &root.origin,
        "parameters",
        format!(
            "the grid is {} values x {seeds} seeds = {too_many}, more than the limit of {max_runs} (raise it with --max-runs, or sweep fewer values)",
            counts.join(" x ")
        ),
    );
}

fn read(cx: &mut Cx<'_>, root: &Node, max_runs: u64) -> Option<Sweep> {
    let mut t = cx.table(root, "")?;
    t.req(cx, "schema_version", "schema_version = 1", |cx, n, p| {
        cx.int(n, p, 1, 1)
    });
    let name = t.req(cx, "name", "a sweep name", |cx, n, p| {
        cx.name(n, p, NameRule::Folder)
    });
    let scenario = t.req(
        cx,
        "scenario",
        "the base scenario file, relative to this file",
        |cx, n, p| cx.string(n, p),
    );
    let seed = t
        .opt(cx, "seed", |cx, n, p| cx.int(n, p, 0, i64::MAX))
        .map_or(1, |s| s as u64);
    let seeds = t
        .opt(cx, "seeds", |cx, n, p| cx.u32(n, p, 1, 100_000))
        .unwrap_or(10);
    let mut ok = true;
    let metrics = match t.opt(cx, "metrics", read_metrics) {
        Some(m) => m,
        None => {
            ok &= !t.has("metrics");
            Vec::new()
        }
    };
    let params = t.tables(cx, "parameters", |cx, pt, _| read_parameter(cx, pt));
    let params = entries(params, &mut ok);
    t.finish(cx);
    if ok && params.is_empty() {
        cx.error(
            &root.origin,
            "parameters",
            "missing; a sweep varies at least one [[parameters]] entry",
        );
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for p in &params {
        if names.contains(&p.name.as_str()) {
            cx.error(
                &root.origin,
                "parameters",
                format!("two parameters are named \"{}\"", p.name),
            );
            ok = false;
        }
        names.push(&p.name);
    }
    ok.then_some(())?;
    check_size(cx, root, &params, seeds, max_runs);
    Some(Sweep {
        name: name?,
        scenario: scenario?,
        seed,
        seeds,
        parameters: params,
        metrics,
    })
}

pub(crate) fn read_parameter(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<Parameter> {
    let path = t.path.clone();
    let paths = t.req(
        cx,
        "paths",
        "scenario paths such as [\"clusters[0].count\"]",
        read_paths,
    );
    let name = t
        .opt(cx, "name", |cx, n, p| cx.name(n, p, NameRule::Printable))
        .or_else(|| {
            paths
                .as_ref()
                .map(|p: &Vec<(String, Vec<Step>)>| p[0].0.clone())
        });
    let values = read_values(cx, &mut t);
    let labels = t.opt(cx, "labels", |cx, n, p| {
        string_array(cx, n, p).map(|v| (v, n.origin.clone()))
    });
    t.finish(cx);
    let values = values?;
    let labels = match labels {
        Some((l, origin)) => {
            if l.len() != values.len() {
                cx.error(
                    &origin,
                    &format!("{path}.labels"),
                    format!("{} labels for {} values", l.len(), values.len()),
                );
                return None;
            }
            l
        }
        None => values.iter().map(toml_text).collect(),
    };
    // Labels become CSV cells and chart text: the name rule for printable names.
    let mut bad = false;
    for (i, (l, v)) in labels.iter().zip(&values).enumerate() {
        if let Err(why) = NameRule::Printable.check(l) {
            let p = format!("{path}.values[{i}]");
            cx.error(&v.origin, &p, format!("its label is {}; {why}", shown(l)));
            bad = true;
        }
    }
    if bad {
        return None;
    }
    Some(Parameter {
        name: name?,
        paths: paths?,
        values: labels.into_iter().zip(values).collect(),
    })
}

/// `paths`: at least one scenario path, each parsed as `--set` parses it.
fn read_paths(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<(String, Vec<Step>)>> {
    let items = cx.array(n, p)?;
    let mut out = Vec::new();
    for (i, x) in items.iter().enumerate() {
        let s = cx.string(x, &format!("{p}[{i}]"))?;
        match tree::parse_path(&s) {
            Ok(steps) => out.push((s, steps)),
            Err(e) => {
                cx.error(&x.origin, &format!("{p}[{i}]"), e);
                return None;
            }
        }
    }
    if out.is_empty() {
        cx.error(&n.origin, p, "expected at least one path");
        return None;
    }
    Some(out)
}

/// `values` or `range` of a parameter: the values it takes.
fn read_values(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> Option<Vec<Node>> {
    match (t.has("values"), t.has("range")) {
        (true, true) => {
            t.conflict(cx, "values", "range");
            None
        }
        (true, false) => t.opt(cx, "values", |cx, n, p| {
            let items = cx.array(n, p)?;
            if items.is_empty() {
                cx.error(&n.origin, p, "expected at least one value");
                return None;
            }
            Some(items.to_vec())
        }),
        (false, true) => t.opt(cx, "range", read_range),
        (false, false) => {
            cx.error(
                &t.origin.clone(),
                &t.child("values"),
                "missing; give values = [...] or range = { from, to, step }",
            );
            None
        }
    }
}

/// `range = { from, to, step }`: integers if `from` and `step` are whole, else floats.
fn read_range(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<Node>> {
    let mut r = cx.table(n, p)?;
    let from = r.req(cx, "from", "a number", |cx, n, p| {
        cx.number(n, p, -1e15, 1e15)
    });
    let to = r.req(cx, "to", "a number", |cx, n, p| {
        cx.number(n, p, -1e15, 1e15)
    });
    let step = r.req(cx, "step", "a positive number", |cx, n, p| {
        cx.number(n, p, 1e-12, 1e15)
    });
    r.finish(cx);
    let (from, to, step) = (from?, to?, step?);
    let count = ((to - from) / step + 1e-9).floor();
    if !(0.0..=100_000.0).contains(&count) {
        cx.error(
            &n.origin,
            p,
            "from..to by step gives no values or too many (at most 100,000)",
        );
        return None;
    }
    let ints = from.fract() == 0.0 && step.fract() == 0.0;
    Some(
        (0..=count as u64)
            .map(|k| {
                let v = from + step * k as f64;
                let kind = if ints {
                    Kind::Int(v as i64)
                } else {
                    Kind::Float(v)
                };
                Node {
                    kind,
                    origin: n.origin.clone(),
                }
            })
            .collect(),
    )
}

/// Mean, standard deviation and 95 % confidence interval of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Sample size.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1).
    pub std: f64,
    /// Lower end of the 95 % confidence interval of the mean (Student's t).
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom (the 0.975 quantile);
/// NaN for `df` = 0.
pub fn t95(df: usize) -> f64 {
    t_quantile(0.975, df)
}

/// The `p` quantile of Student's t with `df` degrees of freedom, exact (statrs inverts the
/// regularized incomplete beta function); NaN for `df` = 0 or `p` outside (0, 1).
pub fn t_quantile(p: f64, df: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if df == 0 || !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Statistics of a sample (the interval is the mean alone for n = 1).
pub fn stats(xs: &[f64]) -> Stats {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return Stats {
            n,
            mean,
            std: 0.0,
            ci_low: mean,
            ci_high: mean,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    let half = t95(n - 1) * std / (n as f64).sqrt();
    Stats {
        n,
        mean,
        std,
        ci_low: mean - half,
        ci_high: mean + half,
    }
}

/// Every summary field a run of `sc` can have, with `N` standing for any index (a load change,
/// a failure) and `ID` for a deployment id: the names a sweep's `metrics` may use.
pub(crate) fn metric_templates(sc: &Scenario) -> Vec<String> {
    const RUN: &[&str] = &[
        "seed",
        "sim_end_ms",
        "events_processed",
        "state_changes",
        "tasks_created",
        "tasks_started",
        "tasks_completed",
        "tasks_failed_to_place",
        "tasks_never_placed",
        "tasks_stopped_by_scheduler",
        "service_placement_failures",
        "mean_wait_ms",
        "max_wait_ms",
        "mean_cpu_reserved_pct",
        "mean_memory_reserved_pct",
        "peak_instances",
        "instance_hours",
        "cost_total_usd",
        "cost_ec2_usd",
        "cost_ec2_idle_usd",
        "cost_ec2_spot_usd",
        "cost_fargate_usd",
        "cost_fargate_spot_usd",
        "cost_fargate_vcpu_usd",
        "cost_fargate_memory_usd",
        "cost_fargate_storage_usd",
        "cost_fargate_os_license_usd",
        "task_hours",
        "cost_per_task_hour_usd",
        "tasks_waited_for_capacity",
        "tasks_waited_for_capacity.ID", // per reason: RESOURCE:CPU, ...
        "run_task_calls_throttled",
        "unserved_request_minutes",
        "idle_instance_hours",
        "idle_instance_hours_after_load_drop",
        "scaling_actions",
        "instances_launched",
        "instances_terminated",
        "tasks_lost",
        "unserved_request_minutes_during_failures",
        "failure.N.at_ms",
        "failure.N.recovered_after_ms",
        "capacity_provider.ID.cost_usd", // also pseudo providers: tasks launched without one
        "tasks.wait_p50_ms",
        "tasks.wait_p95_ms",
        "tasks.wait_p99_ms",
        "cost_monthly_usd",
        "unserved_request_pct",
        "requests_served",
        "cost_per_million_requests_usd",
    ];
    const CLUSTER: &[&str] = &[
        "mean_instances_in_use",
        "peak_instances_in_use",
        "mean_cpu_reserved_pct",
        "mean_memory_reserved_pct",
        "cpu_fragmentation_pct",
        "memory_fragmentation_pct",
    ];
    const SERVICE: &[&str] = &[
        "cost_usd",
        "unserved_request_minutes",
        "scaling_actions",
        "availability_pct",
        "min_healthy_availability_pct",
        "tasks_lost",
        "task_minutes_below_desired",
        "load_change.N.at_ms",
        "load_change.N.first_scaling_after_ms",
        "load_change.N.tasks_running_after_ms",
        "deployment.ID.duration_ms",
        "cost_monthly_usd",
        "unserved_request_pct",
        "cost_per_million_requests_usd",
        "load_change.N.served_after_ms",
        "load_change_served_max_ms",
    ];
    let mut out: Vec<String> = RUN.iter().map(|s| s.to_string()).collect();
    for c in &sc.clusters {
        out.extend(CLUSTER.iter().map(|f| format!("cluster.{}.{f}", c.name)));
        for p in &c.capacity_providers {
            out.push(format!("capacity_provider.{}.cost_usd", p.name));
        }
    }
    for s in &sc.services {
        out.extend(SERVICE.iter().map(|f| format!("service.{}.{f}", s.name)));
    }
    for j in &sc.jobs {
        out.push(format!("job.{}.cost_usd", j.name));
        out.push(format!("job.{}.cost_monthly_usd", j.name));
    }
    out.sort();
    out.dedup();
    out
}

/// Whether `metric` matches `template` (`N` matches a number, `ID` any name).
pub(crate) fn matches_template(metric: &str, template: &str) -> bool {
    let (m, t): (Vec<&str>, Vec<&str>) =
        (metric.split('.').collect(), template.split('.').collect());
    m.len() == t.len()
        && m.iter().zip(&t).all(|(m, t)| match *t {
            "N" => !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()),
            "ID" => !m.is_empty(),
            t => *m == t,
        })
}

/// Check a sweep's `metrics` against the fields a run of its base scenario `sc` has (numeric
/// ones): each unknown metric is reported at its line in the sweep file, with the closest known
/// name.
pub fn check_metrics(file: &str, src: &str, sc: &Scenario) -> Result<(), Vec<Diagnostic>> {
    let templates = metric_templates(sc);
    let shown_names: Vec<&str> = templates.iter().map(String::as_str).collect();
    read_document(file, src, |cx, root| {
        let Kind::Table(entries) = &root.kind else {
            return Some(());
        };
        let Some((_, _, node)) = entries.iter().find(|(k, _, _)| k == "metrics") else {
            return Some(());
        };
        let Kind::Array(items) = &node.kind else {
            return Some(());
        };
        for (i, x) in items.iter().enumerate() {
            let Kind::Str(m) = &x.kind else { continue };
            if templates.iter().any(|t| matches_template(m, t)) {
                continue;
            }
            let hint = match crate::scenario::read::closest_name(m, &shown_names) {
                Some(s) => format!(" (did you mean \"{s}\"?)"),
                None => String::new(),
            };
            let some: Vec<&str> = shown_names.iter().take(12).copied().collect();
            cx.error(
                &x.origin,
                &format!("metrics[{i}]"),
                format!(
                    "unknown metric {}{hint}; a metric is a numeric field of summary.json, such as {}, ...",
                    shown(m),
                    quote_list(&some)
                ),
            );
        }
        Some(())
    })
}

/// Whether a TOML text is a sweep file rather than a scenario: it has a top-level `scenario`
/// (the base scenario) and `[[parameters]]`, which no scenario has.
pub fn looks_like_sweep(src: &str) -> bool {
    let Ok(root) = tree::parse(src) else {
        return false;
    };
    let Kind::Table(entries) = &root.kind else {
        return false;
    };
    let has = |key: &str| entries.iter().any(|(k, _, _)| k == key);
    has("scenario") && has("parameters")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known answer: the sample 1..=5 has mean 3, s = 1.5811, and t(4, 0.975) = 2.776, so the
    /// 95 % interval is 3 +- 1.963.
    #[test]
    fn confidence_interval_known_answer() {
        let s = stats(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, 3.0);
        assert!((s.std - 1.581_138_8).abs() < 1e-6);
        assert!(
            (s.ci_low - (3.0 - 1.962_9)).abs() < 1e-3 && (s.ci_high - 4.962_9).abs() < 1e-3,
            "{s:?}"
        );
        let one = stats(&[7.0]);
        assert_eq!((one.ci_low, one.ci_high, one.std), (7.0, 7.0, 0.0));
        // Exact quantiles (NIST/SEMATECH e-Handbook, table 1.3.6.7.2, and R's qt()): no
        // steps between tabulated degrees of freedom.
        for (df, want) in [
            (1, 12.706_205),
            (4, 2.776_445),
            (30, 2.042_272),
            (45, 2.014_103),
            (1_000, 1.962_339),
        ] {
            assert!((t95(df) - want).abs() < 1e-5, "t95({df}) = {}", t95(df));
        }
        assert!((t_quantile(0.95, 4) - 2.131_847).abs() < 1e-5);
        assert!(t95(0).is_nan() && t_quantile(1.0, 3).is_nan());
    }

    /// The product of the value counts does not wrap: 4 parameters of 100,000 values each.
    #[test]
    fn grid_size_overflow_is_detected() {
        let mut src = String::from("schema_version = 1\nname = \"big\"\nscenario = \"x.toml\"\n");
        for k in 0..4 {
            src.push_str(&format!(
                "[[parameters]]\nname = \"p{k}\"\npaths = [\"clusters[0].count\"]\nrange = {{ from = 1, to = 100000, step = 1 }}\n"
            ));
        }
        let errs = load_with("big.toml", &src, u64::MAX).unwrap_err();
        assert!(
            errs.iter()
                .any(|d| d.to_string().contains("more than 2^64 runs")),
            "{errs:?}"
        );
    }

    #[test]
    fn grid_seeds_and_overrides() {
        let src = r#"schema_version = 1
name = "s"
scenario = "x.toml"
seeds = 3
[[parameters]]
name = "a"
paths = ["clusters[0].count"]
range = { from = 2, to = 6, step = 2 }
[[parameters]]
paths = ["services[0].placement_strategy", "jobs[0].placement_strategy"]
values = [[{ type = "random" }], [{ type = "binpack", field = "cpu" }]]
labels = ["random", "binpack"]
"#;
        let sw = load("s.toml", src).unwrap();
        assert_eq!(sw.points(), 6);
        assert_eq!(sw.labels(0), vec!["2", "random"]);
        assert_eq!(sw.labels(5), vec!["6", "binpack"]);
        assert_eq!(sw.overrides(3).len(), 3);
        let runs = sw.runs();
        assert_eq!(runs.len(), 18);
        // Common random numbers: replicate r has the same seed at every point.
        assert!(
            runs.iter()
                .all(|r| r.seed == runs[r.replicate as usize].seed)
        );
        assert_ne!(runs[0].seed, runs[1].seed);
        let fp = sw.fingerprint("base");
        assert_eq!(fp.len(), 32);
        assert_eq!(fp, load("s.toml", src).unwrap().fingerprint("base"));
        assert_ne!(fp, sw.fingerprint("base "));
        let other = load("s.toml", &src.replace("to = 6", "to = 8")).unwrap();
        assert_ne!(fp, other.fingerprint("base"));
        let more = load("s.toml", &src.replace("seeds = 3", "seeds = 4")).unwrap();
        assert_ne!(fp, more.fingerprint("base"));
        let renamed = load("s.toml", &src.replace("name = \"s\"", "name = \"t\"")).unwrap();
        assert_eq!(
            fp,
            renamed.fingerprint("base"),
            "the name does not decide the runs"
        );
        let errs = load("s.toml", "schema_version = 1\nname = \"s\"\nscenario = \"x\"\n[[parameters]]\npaths = [\"a[\"]\nvalues = [1]\nlabels = [\"a\", \"b\"]\n").unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert!(text.iter().any(|e| e.contains("missing ']'")), "{text:?}");
    }

    /// Every numeric field of real runs (failures, deployments, load changes, capacity
    /// providers) is a metric a sweep may name: the templates keep up with `Summary::fields`.
    #[test]
    fn metric_templates_cover_every_summary_field() {
        struct Null;
        impl crate::record::Sink for Null {}
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for f in [
            "az-outage.toml",
            "deploy-full-cluster.toml",
            "diurnal-web.toml",
            "spot-mix.toml",
        ] {
            let src = std::fs::read_to_string(dir.join(f)).unwrap();
            let sc = crate::scenario::load(f, &src, &[]).unwrap();
            let opts = crate::sim::RunOptions {
                seed: sc.seed,
                check_invariants: false,
            };
            let (summary, _) = crate::sim::run(&sc, opts, Null);
            let templates = metric_templates(&sc);
            for (k, v) in summary.fields() {
                if matches!(v, crate::record::SummaryValue::Str(_)) || k == "wall_ms" {
                    continue;
                }
                assert!(
                    templates.iter().any(|t| matches_template(&k, t)),
                    "{f}: summary field {k} is not a known sweep metric"
                );
            }
        }
    }
}
