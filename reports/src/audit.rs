//! The text of `ecsim audit`: which summary metrics depend on the order of same-instant events,
//! and where the event logs first diverge.

use std::fmt::Write;

use ecsim_model::audit::MetricChange;
use ecsim_model::record::SummaryValue;

/// What an audit found, as the CLI hands it over.
pub struct AuditResult<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Run seed.
    pub seed: u64,
    /// Metrics compared.
    pub compared: usize,
    /// The metrics that changed in some shuffle.
    pub changes: &'a [MetricChange],
    /// Per shuffle, the first instant (ms) whose events differ from the plain run's.
    pub divergences: &'a [Option<u64>],
}

/// The audit as text for the terminal: a verdict, a table of the metrics that changed (plain
/// value, range over the shuffles, how many shuffles changed it) and the first divergence.
pub fn audit_text(a: &AuditResult<'_>) -> String {
    let mut s = String::new();
    let k = a.divergences.len();
    let _ = writeln!(
        s,
        "ecsim audit: {} (seed {}), {k} shuffled order(s) of same-instant events",
        a.scenario, a.seed
    );
    let same = a.compared - a.changes.len();
    let _ = writeln!(
        s,
        "  metrics      {same} of {} summary metrics are the same in every order",
        a.compared
    );
    if !a.changes.is_empty() {
        let w = a
            .changes
            .iter()
            .map(|c| c.metric.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let _ = writeln!(
            s,
            "  {:<w$}  {:>16}  {:>16}  {:>16}  {:>8}",
            "metric", "plain", "min", "max", "changed"
        );
        for c in a.changes {
            let (lo, hi) = c
                .range
                .map_or((String::new(), String::new()), |(l, h)| (num(l), num(h)));
            let _ = writeln!(
                s,
                "  {:<w$}  {:>16}  {:>16}  {:>16}  {:>5}/{k}",
                c.metric,
                value(&c.plain),
                lo,
                hi,
                c.changed_in
            );
        }
    }
    let first = a
        .divergences
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|t| (t, i)))
        .min();
    let diverged = a.divergences.iter().filter(|d| d.is_some()).count();
    match first {
        None => {
            let _ = writeln!(
                s,
                "  events       every shuffled run has the plain run's events at every instant"
            );
        }
        Some((t, i)) => {
            let _ = writeln!(
                s,
                "  events       {diverged} of {k} shuffled runs diverge; first at {} ({t} ms, shuffle {})",
                crate::units::duration(t),
                i + 1
            );
        }
    }
    s
}

fn value(v: &SummaryValue) -> String {
    match v {
        SummaryValue::Str(x) => x.clone(),
        SummaryValue::Int(i) => i.to_string(),
        SummaryValue::Float(f) => num(*f),
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.6}")
    }
}
