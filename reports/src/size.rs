//! `ecsim size`: `size.csv` (every candidate evaluated), the frontier chart and the answer as
//! text.

use std::fmt::Write as _;

use ecsim_model::objectives::{Judged, Objective};
use ecsim_model::sweep::Stats;

use crate::charts::{Band, XyChart};
use crate::goals::number;

/// One candidate evaluated by the search.
pub struct SizeRow {
    /// Its index in the grid of the knobs.
    pub candidate: usize,
    /// The search round it ran in (0-based).
    pub round: usize,
    /// The knob values, in knob order.
    pub labels: Vec<String>,
    /// Monthly cost over the seeds, dollars.
    pub cost: Stats,
    /// Each objective, judged over the seeds.
    pub objectives: Vec<Judged>,
}

impl SizeRow {
    fn feasible(&self) -> bool {
        self.objectives.iter().all(|j| j.met)
    }
}

/// What `ecsim size` found.
pub struct SizeResult<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Knob names.
    pub knobs: Vec<&'a str>,
    /// The objectives.
    pub objectives: &'a [Objective],
    /// Seeds per candidate and the seed they derive from.
    pub seeds: usize,
    /// The seed.
    pub seed: u64,
    /// Confidence of the one-sided bounds.
    pub confidence: f64,
    /// Candidates in the grid.
    pub grid: usize,
    /// Combinations dropped by cost.
    pub discarded: usize,
    /// Every candidate evaluated, in the order run.
    pub rows: Vec<SizeRow>,
    /// Index into `rows` of the answer.
    pub answer: Option<usize>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

/// `size.csv`: one row per candidate evaluated, in candidate order.
pub fn size_csv(r: &SizeResult<'_>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["candidate".into(), "round".into()];
    header.extend(r.knobs.iter().map(|k| format!("knob.{k}")));
    header.extend(
        [
            "seeds",
            "cost_monthly_usd",
            "cost_monthly_usd.ci95_low",
            "cost_monthly_usd.ci95_high",
        ]
        .map(String::from),
    );
    for o in r.objectives {
        for s in ["value", "bound", "met"] {
            header.push(format!("objective.{}.{s}", o.metric));
        }
    }
    header.extend(["meets_objectives", "answer"].map(String::from));
    w.write_record(
        header
            .iter()
            .map(|h| crate::escape::csv_cell(h).into_owned()),
    )?;
    let mut order: Vec<usize> = (0..r.rows.len()).collect();
    order.sort_by_key(|&i| r.rows[i].candidate);
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    for i in order {
        let row = &r.rows[i];
        let mut cells = vec![row.candidate.to_string(), row.round.to_string()];
        cells.extend(row.labels.iter().cloned());
        cells.push(r.seeds.to_string());
        cells.push(format!("{:.6}", row.cost.mean));
        cells.push(format!("{:.6}", row.cost.ci_low));
        cells.push(format!("{:.6}", row.cost.ci_high));
        for j in &row.objectives {
            cells.push(cell(j.mean));
            cells.push(cell(j.bound));
            cells.push(yes(j.met));
        }
        cells.push(yes(row.feasible()));
        cells.push(yes(r.answer == Some(i)));
        w.write_record(
            cells
                .iter()
                .map(|c| crate::escape::csv_cell(c).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The answer as `ecsim size` prints it.
pub fn size_text(r: &SizeResult<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ecsim size: {} ({} seeds from {}, one-sided {} % bounds), {} candidates, {} run ({} runs), {} dropped by cost",
        r.scenario,
        r.seeds,
        r.seed,
        number(r.confidence * 100.0),
        r.grid,
        r.rows.len(),
        r.rows.len() * r.seeds,
        r.discarded
    );
    let Some(a) = r.answer.map(|i| &r.rows[i]) else {
        let _ = writeln!(
            o,
            "answer: no candidate meets every objective (size.csv lists each one tried and what it missed)"
        );
        return o;
    };
    let knobs: Vec<String> = r
        .knobs
        .iter()
        .zip(&a.labels)
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let _ = writeln!(o, "answer: {}", knobs.join(", "));
    let _ = writeln!(
        o,
        "  cost         ${:.2} per 30 days (95 % CI {:.2} to {:.2})",
        a.cost.mean, a.cost.ci_low, a.cost.ci_high
    );
    for (ob, j) in r.objectives.iter().zip(&a.objectives) {
        let _ = writeln!(
            o,
            "  objective    {}: mean {}, {} % bound {}",
            ob.describe(),
            j.mean.map_or("n/a".into(), number),
            number(r.confidence * 100.0),
            j.bound.map_or("n/a".into(), number)
        );
    }
    let cheaper: Vec<&SizeRow> = r
        .rows
        .iter()
        .filter(|x| !x.feasible() && x.cost.mean < a.cost.mean)
        .collect();
    if let Some(c) = cheaper
        .iter()
        .max_by(|x, y| x.cost.mean.total_cmp(&y.cost.mean))
    {
        let missed: Vec<String> = r
            .objectives
            .iter()
            .zip(&c.objectives)
            .filter(|(_, j)| !j.met)
            .map(|(ob, j)| {
                format!(
                    "{} (bound {})",
                    ob.describe(),
                    j.bound.map_or("n/a".into(), number)
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "  next cheaper {} at ${:.2} misses {}",
            c.labels.join(", "),
            c.cost.mean,
            missed.join(", ")
        );
    }
    o
}

/// Monthly cost against the first objective's bound, one point per candidate evaluated:
/// those meeting every objective, those missing one, and the answer.
pub fn frontier_chart(r: &SizeResult<'_>) -> XyChart {
    let y_of = |row: &SizeRow| {
        row.objectives
            .first()
            .and_then(|j| j.bound)
            .unwrap_or(f64::NAN)
    };
    let mut groups = [Vec::new(), Vec::new(), Vec::new()];
    for (i, row) in r.rows.iter().enumerate() {
        let k = if r.answer == Some(i) {
            2
        } else if row.feasible() {
            0
        } else {
            1
        };
        let y = y_of(row);
        groups[k].push((row.cost.mean, y, y, y));
    }
    for g in &mut groups {
        g.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    }
    let [meets, misses, answer] = groups;
    let metric = r
        .objectives
        .first()
        .map_or("objective".to_string(), |o| o.describe());
    XyChart {
        title: format!("{}: candidates by monthly cost and {metric}", r.scenario),
        x_label: "monthly cost, $ per 30 days (mean over the seeds)".into(),
        y_label: format!(
            "{} ({} % bound)",
            r.objectives.first().map_or("", |o| o.metric.as_str()),
            number(r.confidence * 100.0)
        ),
        bands: vec![
            Band {
                name: "meets every objective".into(),
                points: meets,
            },
            Band {
                name: "misses one".into(),
                points: misses,
            },
            Band {
                name: "answer".into(),
                points: answer,
            },
        ],
        line: false,
    }
}
