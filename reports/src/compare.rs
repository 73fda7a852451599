//! `ecsim compare`: `compare.csv` (one row per variant, columns of [`crate::schema::compare`])
//! and the table and verdict printed on the terminal.

use std::fmt::Write as _;

use ecsim_model::pricing::Money;
use ecsim_model::record::Summary;

use crate::schema::compare::*;
use crate::summary::cost_per_task_hour;
use crate::units::{duration, usd_exact};

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

/// `compare.csv`: one row per variant.
pub fn compare_csv(rows: &[VariantResult<'_>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SCHEMA.columns)?;
    for r in rows {
        let cells = row(r);
        debug_assert!(cells.iter().map(|c| c.0).eq(SCHEMA.columns.iter().copied()));
        w.write_record(
            cells
                .iter()
                .map(|c| crate::escape::csv_cell(&c.1).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The table and verdict `ecsim compare` prints.
pub fn compare_text(scenario: &str, seed: u64, rows: &[VariantResult<'_>]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ecsim compare: {scenario} (seed {seed}), {} variants on common random numbers",
        rows.len()
    );
    table(&mut o, rows);
    verdict(&mut o, rows);
    o
}

/// One line per variant under a header.
fn table(o: &mut String, rows: &[VariantResult<'_>]) {
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
        let _ = writeln!(
            o,
            "  {:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9.4}  {:>6.1}  {:>6}  {:>6}  {:>10}",
            r.name,
            usd_exact(c.total, 2),
            usd_exact(c.ec2, 2),
            usd_exact(c.ec2_idle, 2),
            usd_exact(c.fargate, 2),
            cost_per_task_hour(s),
            paid_utilisation_pct(s),
            s.tasks_waited_for_capacity,
            s.tasks_failed_to_place + s.tasks_never_placed,
            duration(s.mean_wait_ms.round() as u64),
        );
    }
}

/// Which variant is cheapest, by how much, and which left tasks unplaced.
fn verdict(o: &mut String, rows: &[VariantResult<'_>]) {
    let (Some(first), Some(cheapest)) = (
        rows.first(),
        rows.iter().min_by_key(|r| r.summary.costs.total),
    ) else {
        return;
    };
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
