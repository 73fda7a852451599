//! A sweep's report, from `aggregate.csv`: per measure, bars with 95 % error bars per grid point
//! or the measure against a numeric parameter with a confidence band; cost against utilisation;
//! and the page with the table of means and intervals.
//!
//! `aggregate.csv` is treated as hostile like a run's files ([`super::input`]): rows of the wrong
//! width and statistics that are not finite numbers are problems and left out. Charts show at
//! most [`MAX_CHART_POINTS`] grid points and at most [`MAX_CHARTS`] measures.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::input::{Csv, Problem, finite};
use super::{
    Rendered, RenderedChart, Unusable, escape, figure, html_table, page, problems_section,
};
use crate::charts::{Band, BarChart, XyChart};
use crate::schema::{aggregate, runs};

/// The most grid points a sweep chart shows (the first ones in the file).
pub const MAX_CHART_POINTS: usize = 500;

/// The most measures charted.
pub const MAX_CHARTS: usize = 40;

/// Mean and 95 % interval of a measure at a grid point.
type Stat = (f64, f64, f64);

/// `aggregate.csv`, with its parameter columns and the one used as x axis, if any.
struct Aggregate {
    csv: Csv,
    params: Vec<usize>,
    /// The last numeric parameter (every value a number), with more than one grid point.
    x: Option<usize>,
}

impl Aggregate {
    fn parse(text: &str, problems: &mut Vec<Problem>) -> Aggregate {
        let mut csv = Csv::parse("aggregate.csv", text, problems);
        let params: Vec<usize> = csv
            .header
            .iter()
            .enumerate()
            .filter(|(_, c)| runs::param_name(c).is_some())
            .map(|(i, _)| i)
            .collect();
        let stats: Vec<usize> = csv
            .header
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                aggregate::STATS
                    .iter()
                    .any(|s| aggregate::measure(c, s).is_some())
            })
            .map(|(i, _)| i)
            .collect();
        csv.check_numbers(&stats, true, problems);
        let x = params.iter().rev().copied().find(|&i| {
            csv.rows.len() > 1
                && csv
                    .rows
                    .iter()
                    .all(|r| r.cells.get(i).and_then(|v| finite(v)).is_some())
        });
        Aggregate { csv, params, x }
    }

    /// A grid point's parameter values, `, `-separated, leaving out column `skip`.
    fn label(&self, ri: usize, skip: Option<usize>) -> String {
        self.params
            .iter()
            .filter(|&&i| Some(i) != skip)
            .map(|&i| self.csv.text(ri, i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A parameter column's parameter name.
    fn param(&self, i: usize) -> &str {
        runs::param_name(&self.csv.header[i]).unwrap_or_default()
    }

    /// A measure's mean and interval at a grid point, if the file has them as numbers.
    fn stat(&self, ri: usize, measure: &str) -> Option<Stat> {
        let get = |s: &str| {
            self.csv
                .num(ri, self.csv.col(&aggregate::stat_column(measure, s))?)
        };
        Some((
            get(aggregate::MEAN)?,
            get(aggregate::CI95_LOW)?,
            get(aggregate::CI95_HIGH)?,
        ))
    }

    /// The grid points (row indices) charted.
    fn points(&self) -> std::ops::Range<usize> {
        0..self.csv.rows.len().min(MAX_CHART_POINTS)
    }

    /// The measures that have a mean column.
    fn measures(&self) -> impl Iterator<Item = &str> {
        self.csv
            .header
            .iter()
            .filter_map(|c| aggregate::measure(c, aggregate::MEAN))
    }

    /// With no list given (e.g. `ecsim merge`): the capacity and cost measures present.
    fn default_measures(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.measures()
            .filter(|c| {
                c.ends_with(".mean_instances_in_use")
                    || c.ends_with(".cpu_fragmentation_pct")
                    || [
                        "cost_total_usd",
                        "mean_cpu_reserved_pct",
                        "tasks_waited_for_capacity",
                        "unserved_request_minutes",
                    ]
                    .contains(c)
            })
            .filter(|c| seen.insert(*c))
            .map(String::from)
            .collect()
    }
}

/// The longest file stem a chart gets (characters), well under file systems' 255 bytes.
const MAX_STEM: usize = 100;

/// A measure's name as a file stem: anything but ASCII letters, digits, `-` and `_` becomes `_`,
/// at most [`MAX_STEM`] characters, never empty.
fn stem(m: &str) -> String {
    let s: String = m
        .chars()
        .take(MAX_STEM)
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "metric".into() } else { s }
}

/// File stems made unique, deterministically, in the order given: a stem already taken (compared
/// without case, for case-insensitive file systems) gets `-2`, `-3`, ... Two measures that map
/// to the same stem (`a.b` and `a_b`) never overwrite each other's chart.
struct Stems(HashSet<String>);

impl Stems {
    fn unique(&mut self, m: &str) -> String {
        let base = stem(m);
        let mut name = base.clone();
        let mut k = 1;
        while !self.0.insert(name.to_ascii_lowercase()) {
            k += 1;
            name = format!("{base}-{k}");
        }
        name
    }
}

/// A measure against the numeric parameter `x`: one band per value of the other parameters.
fn band_chart(a: &Aggregate, m: &str, x: usize, stats: &[(usize, Stat)]) -> XyChart {
    let mut bands: Vec<Band> = Vec::new();
    let mut at_of: HashMap<String, usize> = HashMap::new();
    for &(ri, st) in stats {
        let Some(xv) = a.csv.num(ri, x).or_else(|| finite(a.csv.text(ri, x))) else {
            continue;
        };
        let group = a.label(ri, Some(x));
        let group = if group.is_empty() {
            m.to_string()
        } else {
            group
        };
        let at = *at_of.entry(group.clone()).or_insert_with(|| {
            bands.push(Band {
                name: group,
                points: Vec::new(),
            });
            bands.len() - 1
        });
        bands[at].points.push((xv, st.0, st.1, st.2));
    }
    for b in &mut bands {
        b.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    XyChart {
        title: format!(
            "{} against {} (mean, 95 % band)",
            crate::human::label(m),
            a.param(x)
        ),
        x_label: a.param(x).to_string(),
        y_label: crate::human::label(m),
        bands,
        line: true,
    }
}

/// A measure per grid point, as bars with error bars.
fn bar_chart(a: &Aggregate, m: &str, stats: &[(usize, Stat)]) -> BarChart {
    BarChart {
        title: format!(
            "{}: mean and 95 % confidence interval",
            crate::human::label(m)
        ),
        y_label: crate::human::Unit::of(m).axis().to_string(),
        bars: stats
            .iter()
            .map(|&(ri, st)| (a.label(ri, None), st.0, st.1, st.2))
            .collect(),
    }
}

/// Cost against utilisation: a point per grid point (strategy), error bars on cost. The
/// utilisation is that of the instances in use (100 - fragmentation) when the sweep has it.
fn cost_vs_utilisation(a: &Aggregate, chosen: &[String]) -> Option<XyChart> {
    let frag = a
        .measures()
        .find(|c| c.starts_with("cluster.") && c.ends_with(".cpu_fragmentation_pct"));
    let (util, x_label, invert) = match frag {
        Some(f) => (
            f.to_string(),
            "CPU reserved on instances in use, % (100 - fragmentation)".to_string(),
            true,
        ),
        None => (
            "mean_cpu_reserved_pct".to_string(),
            "CPU reserved, % (mean)".to_string(),
            false,
        ),
    };
    let cost = if chosen.iter().any(|m| m == "cost_per_task_hour_usd") {
        "cost_per_task_hour_usd"
    } else {
        "cost_total_usd"
    };
    let has = |m: &str| {
        a.csv
            .col(&aggregate::stat_column(m, aggregate::MEAN))
            .is_some()
    };
    if !has(&util) || !has(cost) {
        return None;
    }
    let bands: Vec<Band> = a
        .points()
        .filter_map(|ri| Some((a.label(ri, None), a.stat(ri, &util)?, a.stat(ri, cost)?)))
        .map(|(l, u, c)| Band {
            name: l,
            points: vec![(if invert { 100.0 - u.0 } else { u.0 }, c.0, c.1, c.2)],
        })
        .collect();
    if bands.is_empty() {
        return None;
    }
    Some(XyChart {
        title: format!("{} against utilisation", crate::human::label(cost)),
        x_label,
        y_label: crate::human::label(cost),
        bands,
        line: false,
    })
}

/// A mean or interval bound of measure `m` for people: its unit (`$0.0940`, `19.2 %`,
/// `6 m 39 s`), else four significant figures.
fn stat_text(m: &str, v: f64) -> String {
    match crate::human::Unit::of(m) {
        crate::human::Unit::Plain => {
            let d = crate::human::decimals_for_step(v.abs() / 1000.0).min(4);
            crate::human::fixed(v, d)
        }
        _ => crate::human::value(m, &v.to_string()),
    }
}

/// The page: heading, the lowest value of the first measure, the table, the charts.
fn sweep_body(
    name: &str,
    a: &Aggregate,
    chosen: &[String],
    summary_rows: &[Vec<String>],
    charts: &[RenderedChart],
    problems: &[Problem],
) -> String {
    let rows = &a.csv.rows;
    let mut b = String::new();
    let _ = write!(b, "<h1>ecsim sweep: {}</h1>", escape(name));
    let n = a
        .csv
        .col(aggregate::RUNS)
        .map(|c| a.csv.text(0, c).to_string())
        .unwrap_or_default();
    let _ = write!(
        b,
        "<p>{} grid points, {} runs each (the same seeds at every point, so differences between points are the parameters\u{2019}, not the luck of the draw). Means with 95 % confidence intervals (Student\u{2019}s t); intervals that do not overlap mark a difference the runs support.</p>",
        rows.len(),
        escape(&n)
    );
    problems_section(&mut b, problems);
    let best = chosen.first().and_then(|m| {
        (0..rows.len())
            .filter_map(|ri| a.stat(ri, m).map(|s| (ri, s)))
            .min_by(|x, y| x.1.0.total_cmp(&y.1.0))
            .map(|best| (m, best))
    });
    if let Some((m, best)) = best {
        let _ = write!(
            b,
            "<div class=\"cards\"><div class=\"card\"><b>{}</b><span>lowest {}: {} (95 % interval [{}, {}])</span></div></div>",
            escape(&a.label(best.0, None)),
            escape(&crate::human::short_label(m)),
            escape(&stat_text(m, best.1.0)),
            escape(&stat_text(m, best.1.1)),
            escape(&stat_text(m, best.1.2))
        );
    }
    html_table(
        &mut b,
        &[
            "metric".into(),
            "grid point".into(),
            "mean".into(),
            "95 % interval".into(),
        ],
        summary_rows,
    );
    for c in charts {
        figure(&mut b, c);
    }
    b
}

/// Render a sweep's charts and page: per metric, bars with 95 % error bars per grid point, or
/// the metric against a numeric parameter with a confidence band (one line per value of the
/// other parameters); and cost against utilisation, one point per grid point. Chart file names
/// are unique (a repeated stem gets `-2`, `-3`, ...). Problems in `aggregate.csv` are listed as for a run
/// ([`super::render_run`]); an error ([`Unusable`]) only when it is empty.
pub fn render_sweep(
    name: &str,
    aggregate_csv: &str,
    metrics: &[String],
) -> Result<Rendered, Unusable> {
    render_sweep_with(name, aggregate_csv, metrics, Vec::new())
}

/// [`render_sweep`], with `problems` found while reading the file (see [`super::decode`]).
pub fn render_sweep_with(
    name: &str,
    aggregate_csv: &str,
    metrics: &[String],
    mut problems: Vec<Problem>,
) -> Result<Rendered, Unusable> {
    let a = Aggregate::parse(aggregate_csv, &mut problems);
    if a.csv.header.is_empty() {
        return Err(Unusable {
            reason: "nothing to report: aggregate.csv is empty".into(),
            problems,
        });
    }
    if a.csv.rows.len() > MAX_CHART_POINTS {
        problems.push(Problem {
            file: "aggregate.csv".into(),
            line: 0,
            column: 0,
            message: format!(
                "{} grid points: the charts show the first {MAX_CHART_POINTS}",
                a.csv.rows.len()
            ),
        });
    }
    let mut chosen: Vec<String> = if metrics.is_empty() {
        a.default_measures()
    } else {
        metrics.to_vec()
    };
    if chosen.len() > MAX_CHARTS {
        problems.push(Problem {
            file: "aggregate.csv".into(),
            line: 0,
            column: 0,
            message: format!("{} measures: the first {MAX_CHARTS} charted", chosen.len()),
        });
        chosen.truncate(MAX_CHARTS);
    }
    let mut stems = Stems(HashSet::new());
    stems.unique("cost-vs-utilisation");
    let mut charts = Vec::new();
    let mut summary_rows = Vec::new();
    for m in &chosen {
        let stats: Vec<(usize, Stat)> = a
            .points()
            .filter_map(|ri| a.stat(ri, m).map(|s| (ri, s)))
            .collect();
        if stats.is_empty() {
            continue;
        }
        for &(ri, st) in &stats {
            summary_rows.push(vec![
                crate::human::short_label(m),
                a.label(ri, None),
                stat_text(m, st.0),
                format!("[{}, {}]", stat_text(m, st.1), stat_text(m, st.2)),
            ]);
        }
        let file = stems.unique(m);
        charts.extend(match a.x {
            Some(x) => {
                let c = band_chart(&a, m, x, &stats);
                RenderedChart::new(file, &c.title, &c, &mut problems)
            }
            None => {
                let c = bar_chart(&a, m, &stats);
                RenderedChart::new(file, &c.title, &c, &mut problems)
            }
        });
    }
    if let Some(c) = cost_vs_utilisation(&a, &chosen) {
        charts.extend(RenderedChart::new(
            "cost-vs-utilisation".into(),
            &c.title,
            &c,
            &mut problems,
        ));
    }
    let body = sweep_body(name, &a, &chosen, &summary_rows, &charts, &problems);
    Ok(Rendered {
        charts,
        html: page(&format!("ecsim sweep: {name}"), &body),
        problems,
    })
}
