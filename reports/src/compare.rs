//! `ecsim compare`: `compare.csv` (one row per variant, columns of [`crate::schema::compare`])
//! and the table and verdict printed on the terminal.

use std::fmt::Write as _;

use ecsim_model::objectives::{Judged, Objective};
use ecsim_model::pricing::Money;
use ecsim_model::record::{Summary, SummaryValue};
use ecsim_model::sweep::{Stats, stats};

use crate::schema::compare::*;
use crate::summary::cost_per_task_hour;
use crate::units::{duration, usd_exact};

/// One variant's result, for `ecsim compare`.
pub struct VariantResult<'a> {
    /// Variant name.
    pub name: &'a str,
    /// What it shows.
    pub description: &'a str,
    /// Its summary (of the first seed).
    pub summary: &'a Summary,
    /// Its runs, one per seed (paired: seed r is the same for every variant); at least one.
    pub runs: &'a [Summary],
}

/// A comparison: the variants, and what they are judged by.
pub struct Comparison<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The seed (with several seeds, the one they are derived from).
    pub seed: u64,
    /// The variants; the first is the baseline of the paired differences.
    pub variants: Vec<VariantResult<'a>>,
    /// The scenario's objectives.
    pub objectives: &'a [Objective],
    /// Confidence of the one-sided bounds objectives are judged by (several seeds).
    pub confidence: f64,
}

/// What the verdict and the goal columns say about one variant.
struct Judgement {
    seeds: usize,
    monthly: Stats,
    /// Lowest availability of its REPLICA services (`None` without one).
    availability: Option<Stats>,
    unserved_pct: Stats,
    unserved_minutes: Stats,
    peak: Stats,
    objectives: Vec<Judged>,
    /// Monthly cost minus the baseline's, paired seed by seed.
    diff: Stats,
}

impl Judgement {
    fn feasible(&self) -> bool {
        self.objectives.iter().all(|j| j.met)
    }
    fn met(&self) -> usize {
        self.objectives.iter().filter(|j| j.met).count()
    }
}

fn field(f: &[(String, SummaryValue)], k: &str) -> f64 {
    match f.iter().find(|(n, _)| n == k) {
        Some((_, SummaryValue::Int(i))) => *i as f64,
        Some((_, SummaryValue::Float(x))) => *x,
        _ => 0.0,
    }
}

fn monthly(s: &Summary) -> f64 {
    s.costs.total.usd() * s.month_factor()
}

fn judge(c: &Comparison<'_>) -> Vec<Judgement> {
    let base: Vec<f64> = c
        .variants
        .first()
        .map_or(Vec::new(), |v| v.runs.iter().map(monthly).collect());
    c.variants
        .iter()
        .map(|v| {
            let fields: Vec<_> = v.runs.iter().map(Summary::fields).collect();
            let col =
                |f: &dyn Fn(&Summary) -> f64| stats(&v.runs.iter().map(f).collect::<Vec<_>>());
            let avail: Option<Vec<f64>> = v
                .runs
                .iter()
                .map(|s| {
                    s.goals
                        .availability
                        .iter()
                        .map(|a| a.1)
                        .min_by(f64::total_cmp)
                })
                .collect();
            let diffs: Vec<f64> = v
                .runs
                .iter()
                .zip(&base)
                .map(|(s, b)| monthly(s) - b)
                .collect();
            Judgement {
                seeds: v.runs.len(),
                monthly: col(&monthly),
                availability: avail.filter(|a| !a.is_empty()).map(|a| stats(&a)),
                unserved_pct: stats(
                    &fields
                        .iter()
                        .map(|f| field(f, "unserved_request_pct"))
                        .collect::<Vec<_>>(),
                ),
                unserved_minutes: col(&|s| s.scaling.unserved_request_minutes),
                peak: col(&|s| s.peak_instances as f64),
                objectives: ecsim_model::objectives::judge(c.objectives, &fields, c.confidence),
                diff: stats(&diffs),
            }
        })
        .collect()
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

/// A variant's row, with the column each value goes to.
fn row(r: &VariantResult<'_>) -> Vec<(&'static str, String)> {
    let s = r.summary;
    let c = &s.costs;
    vec![
        (VARIANT, r.name.to_string()),
        (DESCRIPTION, r.description.to_string()),
        (COST_TOTAL_USD, usd_exact(c.total, 6)),
        (COST_EC2_USD, usd_exact(c.ec2, 6)),
        (COST_EC2_IDLE_USD, usd_exact(c.ec2_idle, 6)),
        (COST_EC2_SPOT_USD, usd_exact(c.ec2_spot, 6)),
        (COST_FARGATE_USD, usd_exact(c.fargate, 6)),
        (COST_FARGATE_SPOT_USD, usd_exact(c.fargate_spot, 6)),
        (
            COST_PER_TASK_HOUR_USD,
            format!("{:.6}", cost_per_task_hour(s)),
        ),
        (
            PAID_CAPACITY_USED_PCT,
            format!("{:.3}", paid_utilisation_pct(s)),
        ),
        (
            MEAN_CPU_RESERVED_PCT,
            format!("{:.3}", s.mean_cpu_reserved_pct),
        ),
        (
            MEAN_MEMORY_RESERVED_PCT,
            format!("{:.3}", s.mean_memory_reserved_pct),
        ),
        (TASKS_CREATED, s.tasks_created.to_string()),
        (TASKS_STARTED, s.tasks_started.to_string()),
        (
            TASKS_WAITED_FOR_CAPACITY,
            s.tasks_waited_for_capacity.to_string(),
        ),
        (TASKS_FAILED_TO_PLACE, s.tasks_failed_to_place.to_string()),
        (TASKS_NEVER_PLACED, s.tasks_never_placed.to_string()),
        (MEAN_WAIT_MS, format!("{:.0}", s.mean_wait_ms)),
        (MAX_WAIT_MS, s.max_wait_ms.to_string()),
        (PEAK_INSTANCES, s.peak_instances.to_string()),
        (INSTANCE_HOURS, format!("{:.3}", s.instance_hours)),
        (EVENTS_HASH, s.events_hash.clone()),
    ]
}

/// Mean of each numeric cell over several rows of the same variant, written with as many
/// decimals as the first row's cell (text cells from the first row).
fn mean_row(rows: &[Vec<(&'static str, String)>]) -> Vec<(&'static str, String)> {
    if rows.len() == 1 {
        return rows[0].clone();
    }
    rows[0]
        .iter()
        .enumerate()
        .map(|(i, (col, first))| {
            let xs: Option<Vec<f64>> = rows.iter().map(|r| r[i].1.parse::<f64>().ok()).collect();
            let text = match xs {
                Some(xs) if *col != EVENTS_HASH => {
                    let places = first.split_once('.').map_or(0, |(_, d)| d.len());
                    format!("{:.places$}", stats(&xs).mean)
                }
                _ => first.clone(),
            };
            (*col, text)
        })
        .collect()
}

/// A cell for a number that may be missing.
fn cell(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

/// The goal columns after the fixed ones: seeds, monthly cost with its interval, availability,
/// unserved demand, peak instances, each objective's value, bound and verdict, and the paired
/// difference of monthly cost against the first variant.
fn goal_columns(c: &Comparison<'_>) -> Vec<String> {
    let mut cols: Vec<String> = [
        "seeds",
        "cost_monthly_usd",
        "cost_monthly_usd.ci95_low",
        "cost_monthly_usd.ci95_high",
        "availability_pct",
        "unserved_request_pct",
        "unserved_request_minutes",
        "peak_instances.mean",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for o in c.objectives {
        let m = &o.metric;
        cols.push(format!("objective.{m}.value"));
        cols.push(format!("objective.{m}.bound"));
        cols.push(format!("objective.{m}.met"));
    }
    cols.extend(
        [
            "meets_objectives",
            "cost_monthly_diff_usd",
            "cost_monthly_diff_usd.ci95_low",
            "cost_monthly_diff_usd.ci95_high",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    cols
}

fn goal_cells(j: &Judgement) -> Vec<String> {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut v = vec![
        j.seeds.to_string(),
        format!("{:.6}", j.monthly.mean),
        format!("{:.6}", j.monthly.ci_low),
        format!("{:.6}", j.monthly.ci_high),
        cell(j.availability.map(|a| a.mean)),
        format!("{:.6}", j.unserved_pct.mean),
        format!("{:.6}", j.unserved_minutes.mean),
        format!("{:.3}", j.peak.mean),
    ];
    for o in &j.objectives {
        v.push(cell(o.mean));
        v.push(cell(o.bound));
        v.push(yes(o.met));
    }
    v.push(yes(j.feasible()));
    v.push(format!("{:.6}", j.diff.mean));
    v.push(format!("{:.6}", j.diff.ci_low));
    v.push(format!("{:.6}", j.diff.ci_high));
    v
}

/// `compare.csv`: one row per variant; with several seeds, the fixed columns are means.
pub fn compare_csv(c: &Comparison<'_>) -> Result<Vec<u8>, csv::Error> {
    let judged = judge(c);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<String> = SCHEMA
        .columns
        .iter()
        .map(|s| s.to_string())
        .chain(goal_columns(c))
        .collect();
    w.write_record(
        header
            .iter()
            .map(|h| crate::escape::csv_cell(h).into_owned()),
    )?;
    for (r, j) in c.variants.iter().zip(&judged) {
        let per_run: Vec<_> = r
            .runs
            .iter()
            .map(|s| {
                row(&VariantResult {
                    name: r.name,
                    description: r.description,
                    summary: s,
                    runs: r.runs,
                })
            })
            .collect();
        let cells = mean_row(&per_run);
        debug_assert!(cells.iter().map(|c| c.0).eq(SCHEMA.columns.iter().copied()));
        w.write_record(
            cells
                .iter()
                .map(|c| c.1.clone())
                .chain(goal_cells(j))
                .map(|c| crate::escape::csv_cell(&c).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The table and verdict `ecsim compare` prints.
pub fn compare_text(c: &Comparison<'_>) -> String {
    let judged = judge(c);
    let mut o = String::new();
    let seeds = c.variants.first().map_or(1, |v| v.runs.len());
    if seeds > 1 {
        let _ = writeln!(
            o,
            "ecsim compare: {} ({seeds} paired seeds from {}), {} variants on common random numbers; means over the seeds",
            c.scenario,
            c.seed,
            c.variants.len()
        );
    } else {
        let _ = writeln!(
            o,
            "ecsim compare: {} (seed {}), {} variants on common random numbers",
            c.scenario,
            c.seed,
            c.variants.len()
        );
    }
    table(&mut o, c, &judged);
    if c.objectives.is_empty() {
        verdict(&mut o, c, &judged);
    } else {
        goal_verdict(&mut o, c, &judged);
    }
    o
}

/// One line per variant under a header.
fn table(o: &mut String, c: &Comparison<'_>, judged: &[Judgement]) {
    let rows = &c.variants;
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(7).max(7);
    let _ = write!(
        o,
        "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>6}  {:>6}  {:>6}  {:>10}  {:>10}  {:>7}  {:>8}  {:>5}",
        "variant",
        "total $",
        "EC2 $",
        "idle $",
        "Fargate $",
        "$/task-h",
        "used %",
        "waited",
        "failed",
        "mean wait",
        "monthly $",
        "avail %",
        "unserv %",
        "peak"
    );
    for k in 0..c.objectives.len() {
        let _ = write!(o, "  {:>10}", format!("goal {}", k + 1));
    }
    let _ = writeln!(o);
    for (r, j) in rows.iter().zip(judged) {
        let n = r.runs.len().max(1) as f64;
        let mean = |f: &dyn Fn(&Summary) -> f64| r.runs.iter().map(f).sum::<f64>() / n;
        let money = |f: &dyn Fn(&Summary) -> Money| {
            if r.runs.len() == 1 {
                usd_exact(f(&r.runs[0]), 2)
            } else {
                format!("{:.2}", mean(&|s| f(s).usd()))
            }
        };
        let _ = write!(
            o,
            "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9.4}  {:>6.1}  {:>6}  {:>6}  {:>10}  {:>10.2}  {:>7}  {:>8.3}  {:>5}",
            r.name,
            money(&|s| s.costs.total),
            money(&|s| s.costs.ec2),
            money(&|s| s.costs.ec2_idle),
            money(&|s| s.costs.fargate),
            mean(&cost_per_task_hour),
            mean(&paid_utilisation_pct),
            crate::goals::number(mean(&|s| s.tasks_waited_for_capacity as f64)),
            crate::goals::number(mean(
                &|s| (s.tasks_failed_to_place + s.tasks_never_placed) as f64
            )),
            duration(mean(&|s| s.mean_wait_ms).round() as u64),
            j.monthly.mean,
            j.availability
                .map_or("-".to_string(), |a| format!("{:.2}", a.mean)),
            j.unserved_pct.mean,
            crate::goals::number(j.peak.mean),
        );
        for g in &j.objectives {
            let v = g.mean.map_or("n/a".to_string(), crate::goals::number);
            let mark = if g.met { " " } else { "!" };
            let _ = write!(o, "  {:>10}", format!("{v}{mark}"));
        }
        let _ = writeln!(o);
    }
    for (k, ob) in c.objectives.iter().enumerate() {
        let _ = writeln!(o, "  goal {}: {}", k + 1, ob.describe());
    }
    if !c.objectives.is_empty() {
        let how = if judged.first().is_some_and(|j| j.seeds > 1) {
            format!(
                "judged by the one-sided {:.0} % bound on the mean over the seeds",
                c.confidence * 100.0
            )
        } else {
            "judged on one seed (--seeds N for confidence bounds)".to_string()
        };
        let _ = writeln!(o, "  (! marks a goal missed; {how})");
    }
}

/// Whether two variants' monthly costs tie: one seed, equal; several, the paired difference's
/// 95 % interval holds 0.
fn ties(a: &Judgement, base_a: &[f64], base_b: &[f64]) -> (bool, Stats) {
    let d: Vec<f64> = base_b.iter().zip(base_a).map(|(y, x)| y - x).collect();
    let s = stats(&d);
    let tie = if a.seeds > 1 {
        s.ci_low <= 0.0 && s.ci_high >= 0.0
    } else {
        s.mean.abs() < 0.005
    };
    (tie, s)
}

/// The cheapest variant meeting every objective, ties, and which miss what.
fn goal_verdict(o: &mut String, c: &Comparison<'_>, judged: &[Judgement]) {
    let costs: Vec<Vec<f64>> = c
        .variants
        .iter()
        .map(|v| v.runs.iter().map(monthly).collect())
        .collect();
    let mut feasible: Vec<usize> = (0..judged.len())
        .filter(|&i| judged[i].feasible())
        .collect();
    feasible.sort_by(|&a, &b| {
        judged[a]
            .monthly
            .mean
            .total_cmp(&judged[b].monthly.mean)
            .then(a.cmp(&b))
    });
    let Some(&best) = feasible.first() else {
        let closest = (0..judged.len()).max_by(|&a, &b| {
            judged[a]
                .met()
                .cmp(&judged[b].met())
                .then(judged[b].monthly.mean.total_cmp(&judged[a].monthly.mean))
        });
        let _ = write!(o, "verdict: no variant meets every objective");
        if let Some(i) = closest {
            let _ = write!(
                o,
                "; closest: {} ({} of {} met, ${:.2} per 30 days)",
                c.variants[i].name,
                judged[i].met(),
                c.objectives.len(),
                judged[i].monthly.mean
            );
        }
        let _ = writeln!(o);
        return;
    };
    let j = &judged[best];
    let ci = if j.seeds > 1 {
        format!(
            " (95 % CI {:.2} to {:.2})",
            j.monthly.ci_low, j.monthly.ci_high
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "verdict: {} is the cheapest variant that meets every objective, ${:.2} per 30 days{ci}",
        c.variants[best].name, j.monthly.mean
    );
    let tied: Vec<(usize, Stats)> = feasible[1..]
        .iter()
        .filter_map(|&i| {
            let (tie, d) = ties(j, &costs[best], &costs[i]);
            tie.then_some((i, d))
        })
        .collect();
    for (i, d) in &tied {
        let _ = writeln!(
            o,
            "tie: {} also meets every objective at a cost not distinguishable from it (difference ${:.2}, 95 % CI {:.2} to {:.2})",
            c.variants[*i].name, d.mean, d.ci_low, d.ci_high
        );
    }
    if let Some(&next) = feasible[1..]
        .iter()
        .find(|&&i| !tied.iter().any(|t| t.0 == i))
    {
        let (_, d) = ties(j, &costs[best], &costs[next]);
        let interval = if j.seeds > 1 {
            format!(
                " (paired difference, 95 % CI {:.2} to {:.2})",
                d.ci_low, d.ci_high
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  ${:.2} per 30 days less than {}, the next cheapest that meets them{interval}",
            d.mean, c.variants[next].name
        );
    }
    let cheaper: Vec<String> = (0..judged.len())
        .filter(|&i| !judged[i].feasible() && judged[i].monthly.mean < j.monthly.mean)
        .map(|i| {
            let missed: Vec<String> = judged[i]
                .objectives
                .iter()
                .enumerate()
                .filter(|(_, g)| !g.met)
                .map(|(k, _)| format!("goal {}", k + 1))
                .collect();
            format!("{} (misses {})", c.variants[i].name, missed.join(", "))
        })
        .collect();
    if !cheaper.is_empty() {
        let _ = writeln!(
            o,
            "  cheaper but missing objectives: {}",
            cheaper.join("; ")
        );
    }
}

/// Without objectives: which variant is cheapest, by how much, ties, and which left tasks
/// unplaced or demand unserved.
fn verdict(o: &mut String, c: &Comparison<'_>, judged: &[Judgement]) {
    let rows = &c.variants;
    let total = |r: &VariantResult<'_>| {
        stats(
            &r.runs
                .iter()
                .map(|s| s.costs.total.usd())
                .collect::<Vec<_>>(),
        )
        .mean
    };
    let Some(first) = rows.first() else {
        return;
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| total(&rows[a]).total_cmp(&total(&rows[b])).then(a.cmp(&b)));
    let cheapest = &rows[order[0]];
    let single = first.runs.len() == 1;
    if single {
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
    } else {
        let j = &judged[order[0]];
        let d = &j.diff;
        let _ = writeln!(
            o,
            "cheapest: {} at ${:.2} per 30 days (95 % CI {:.2} to {:.2}); against {} (the first variant): ${:.2} (paired, 95 % CI {:.2} to {:.2})",
            cheapest.name,
            j.monthly.mean,
            j.monthly.ci_low,
            j.monthly.ci_high,
            first.name,
            d.mean,
            d.ci_low,
            d.ci_high
        );
    }
    let costs: Vec<Vec<f64>> = rows
        .iter()
        .map(|v| v.runs.iter().map(monthly).collect())
        .collect();
    for &i in &order[1..] {
        let (tie, d) = ties(&judged[order[0]], &costs[order[0]], &costs[i]);
        if tie {
            let _ = writeln!(
                o,
                "tie: {} costs the same as {} within the 95 % interval (difference ${:.2} per 30 days)",
                rows[i].name, cheapest.name, d.mean
            );
        }
    }
    let slow: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.runs
                .iter()
                .any(|s| s.tasks_failed_to_place + s.tasks_never_placed > 0)
        })
        .map(|r| r.name)
        .collect();
    if !slow.is_empty() {
        let _ = writeln!(
            o,
            "note: tasks failed or were never placed under {}",
            slow.join(", ")
        );
    }
    let unserved: Vec<String> = rows
        .iter()
        .zip(judged)
        .filter(|(_, j)| j.unserved_pct.mean > 0.0)
        .map(|(r, j)| format!("{} {} %", r.name, crate::goals::number(j.unserved_pct.mean)))
        .collect();
    if !unserved.is_empty() {
        let _ = writeln!(
            o,
            "note: demand left unserved under {} (state [[objectives]] to judge by it)",
            unserved.join(", ")
        );
    }
}
