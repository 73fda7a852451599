//! A sweep's report, from `aggregate.csv`: per measure, bars with 95 % error bars per grid point
//! or the measure against a numeric parameter with a confidence band; cost against utilisation;
//! and the page with the table of means and intervals.

use std::fmt::Write as _;

use super::{Csv, Rendered, RenderedChart, cell, escape, figure, html_table, num, page};
use crate::charts::{Band, BarChart, XyChart};
use crate::schema::{aggregate, runs};

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
    fn parse(text: &str) -> Aggregate {
        let csv = Csv::parse(text);
        let params: Vec<usize> = csv
            .header
            .iter()
            .enumerate()
            .filter(|(_, c)| runs::param_name(c).is_some())
            .map(|(i, _)| i)
            .collect();
        let x = params.iter().rev().copied().find(|&i| {
            csv.rows.len() > 1 && csv.rows.iter().all(|r| cell(r, i).parse::<f64>().is_ok())
        });
        Aggregate { csv, params, x }
    }

    /// A grid point's parameter values, `, `-separated, leaving out column `skip`.
    fn label(&self, r: &[String], skip: Option<usize>) -> String {
        self.params
            .iter()
            .filter(|&&i| Some(i) != skip)
            .map(|&i| cell(r, i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A parameter column's parameter name.
    fn param(&self, i: usize) -> &str {
        runs::param_name(&self.csv.header[i]).unwrap_or_default()
    }

    /// A measure's mean and interval at a grid point, if the file has them.
    fn stat(&self, r: &[String], measure: &str) -> Option<Stat> {
        let get = |s: &str| {
            self.csv
                .col(&aggregate::stat_column(measure, s))
                .map(|c| num(cell(r, c)))
        };
        Some((
            get(aggregate::MEAN)?,
            get(aggregate::CI95_LOW)?,
            get(aggregate::CI95_HIGH)?,
        ))
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
            .map(String::from)
            .collect()
    }
}

/// A measure's name as a file stem: anything but letters, digits, `-` and `_` becomes `_`.
fn stem(m: &str) -> String {
    m.chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

/// A measure against the numeric parameter `x`: one band per value of the other parameters.
fn band_chart(a: &Aggregate, m: &str, x: usize, stats: &[Stat]) -> Result<RenderedChart, String> {
    let mut bands: Vec<Band> = Vec::new();
    for (r, st) in a.csv.rows.iter().zip(stats) {
        let group = a.label(r, Some(x));
        let group = if group.is_empty() {
            m.to_string()
        } else {
            group
        };
        let at = match bands.iter().position(|b| b.name == group) {
            Some(at) => at,
            None => {
                bands.push(Band {
                    name: group,
                    points: Vec::new(),
                });
                bands.len() - 1
            }
        };
        bands[at].points.push((num(cell(r, x)), st.0, st.1, st.2));
    }
    for b in &mut bands {
        b.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let c = XyChart {
        title: format!("{m} against {} (mean, 95 % band)", a.param(x)),
        x_label: a.param(x).to_string(),
        y_label: m.to_string(),
        bands,
        line: true,
    };
    RenderedChart::new(stem(m), &c.title, &c)
}

/// A measure per grid point, as bars with error bars.
fn bar_chart(a: &Aggregate, m: &str, stats: &[Stat]) -> Result<RenderedChart, String> {
    let bars = a
        .csv
        .rows
        .iter()
        .zip(stats)
        .map(|(r, st)| (a.label(r, None), st.0, st.1, st.2))
        .collect();
    let c = BarChart {
        title: format!("{m}: mean and 95 % confidence interval"),
        y_label: m.to_string(),
        bars,
    };
    RenderedChart::new(stem(m), &c.title, &c)
}

/// Cost against utilisation: a point per grid point (strategy), error bars on cost. The
/// utilisation is that of the instances in use (100 - fragmentation) when the sweep has it.
fn cost_vs_utilisation(a: &Aggregate, chosen: &[String]) -> Result<Option<RenderedChart>, String> {
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
    let Some(pts) = a
        .csv
        .rows
        .iter()
        .map(|r| Some((a.label(r, None), a.stat(r, &util)?, a.stat(r, cost)?)))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let bands = pts
        .into_iter()
        .map(|(l, u, c)| Band {
            name: l,
            points: vec![(if invert { 100.0 - u.0 } else { u.0 }, c.0, c.1, c.2)],
        })
        .collect();
    let c = XyChart {
        title: format!("{cost} against utilisation"),
        x_label,
        y_label: cost.to_string(),
        bands,
        line: false,
    };
    RenderedChart::new("cost-vs-utilisation".into(), &c.title, &c).map(Some)
}

/// The page: heading, the lowest value of the first measure, the table, the charts.
fn sweep_body(
    name: &str,
    a: &Aggregate,
    chosen: &[String],
    summary_rows: &[Vec<String>],
    charts: &[RenderedChart],
) -> String {
    let rows = &a.csv.rows;
    let mut b = String::new();
    let _ = write!(b, "<h1>ecsim sweep: {}</h1>", escape(name));
    let n = a
        .csv
        .col(aggregate::RUNS)
        .and_then(|c| rows.first().map(|r| cell(r, c).to_string()))
        .unwrap_or_default();
    let _ = write!(
        b,
        "<p>{} grid points, {} runs each (the same seeds at every point, so differences between points are the parameters\u{2019}, not the luck of the draw). Means with 95 % confidence intervals (Student\u{2019}s t); intervals that do not overlap mark a difference the runs support.</p>",
        rows.len(),
        escape(&n)
    );
    let best = chosen.first().and_then(|m| {
        rows.iter()
            .filter_map(|r| a.stat(r, m).map(|s| (r, s)))
            .min_by(|x, y| x.1.0.total_cmp(&y.1.0))
            .map(|best| (m, best))
    });
    if let Some((m, best)) = best {
        let _ = write!(
            b,
            "<p><strong>Lowest {}: {}</strong> ({:.4}, 95 % interval [{:.4}, {:.4}]).</p>",
            escape(m),
            escape(&a.label(best.0, None)),
            best.1.0,
            best.1.1,
            best.1.2
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
/// other parameters); and cost against utilisation, one point per grid point.
pub fn render_sweep(
    name: &str,
    aggregate_csv: &str,
    metrics: &[String],
) -> Result<Rendered, String> {
    let a = Aggregate::parse(aggregate_csv);
    let chosen: Vec<String> = if metrics.is_empty() {
        a.default_measures()
    } else {
        metrics.to_vec()
    };
    let mut charts = Vec::new();
    let mut summary_rows = Vec::new();
    for m in &chosen {
        let Some(stats) = a
            .csv
            .rows
            .iter()
            .map(|r| a.stat(r, m))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        for (r, st) in a.csv.rows.iter().zip(&stats) {
            summary_rows.push(vec![
                m.clone(),
                a.label(r, None),
                format!("{:.4}", st.0),
                format!("[{:.4}, {:.4}]", st.1, st.2),
            ]);
        }
        charts.push(match a.x {
            Some(x) => band_chart(&a, m, x, &stats)?,
            None => bar_chart(&a, m, &stats)?,
        });
    }
    charts.extend(cost_vs_utilisation(&a, &chosen)?);
    let body = sweep_body(name, &a, &chosen, &summary_rows, &charts);
    Ok(Rendered {
        charts,
        html: page(&format!("ecsim sweep: {name}"), &body),
    })
}
