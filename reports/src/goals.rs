//! The planner's lines of the terminal summary: wait percentiles, monthly cost, requests and
//! availability, and each objective met or missed.

use std::fmt::Write as _;

use ecsim_model::objectives::Outcome;
use ecsim_model::record::Summary;

use crate::units::duration;

/// A number for people: up to 4 significant decimals, no trailing zeros.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let places = if a >= 1000.0 {
        0
    } else if a >= 10.0 {
        2
    } else {
        4
    };
    let s = format!("{v:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Monthly cost (with how it was extrapolated), requests, availability per service.
pub(crate) fn goal_lines(o: &mut String, s: &Summary) {
    let month = s.month_factor();
    if s.costs.total.0 > 0 && month > 0.0 {
        let per: Vec<String> = s
            .costs
            .services
            .iter()
            .chain(&s.costs.jobs)
            .map(|(n, m)| format!("{n} ${:.2}", m.usd() * month))
            .collect();
        let _ = writeln!(
            o,
            "  monthly      ${:.2} per 30 days ({} simulated x {}){}{}",
            s.costs.total.usd() * month,
            duration(s.sim_end_ms),
            number(month),
            if per.is_empty() { "" } else { ": " },
            per.join(", ")
        );
    }
    if let Some(served) = s.requests_served() {
        let demand: f64 = s.goals.load.iter().map(|l| l.demand_request_minutes).sum();
        let unserved: f64 = s
            .goals
            .load
            .iter()
            .map(|l| l.unserved_request_minutes)
            .sum();
        let pct = if demand > 0.0 {
            100.0 * unserved / demand
        } else {
            0.0
        };
        let per_million = if served > 0.0 {
            format!(
                "; ${:.4} per million requests",
                s.costs.total.usd() / served * 1e6
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  requests     {:.0} served, {} % of demand unserved{per_million}",
            served,
            number(pct)
        );
    }
    let rec = &s.recovery;
    let recovery_shown =
        !(rec.failures.is_empty() && rec.deployments.is_empty() && rec.tasks_lost == 0);
    if !recovery_shown && !s.goals.availability.is_empty() {
        let per: Vec<String> = s
            .goals
            .availability
            .iter()
            .map(|(n, a)| format!("{n} {a:.2} %"))
            .collect();
        let _ = writeln!(
            o,
            "  availability {} (time at the desired count)",
            per.join(", ")
        );
    }
}

/// Each objective with its value, met or missed.
pub(crate) fn objective_lines(o: &mut String, outcomes: &[Outcome]) {
    if outcomes.is_empty() {
        return;
    }
    let met = outcomes.iter().filter(|x| x.met).count();
    let _ = writeln!(o, "  objectives   {met} of {} met", outcomes.len());
    for x in outcomes {
        let value = x.value.map_or("not measured".to_string(), number);
        let _ = writeln!(
            o,
            "    {:<6} {} (got {value})",
            if x.met { "met" } else { "MISSED" },
            x.objective.describe()
        );
    }
}

/// Placement wait percentiles.
pub(crate) fn wait_percentiles(s: &Summary) -> String {
    let [p50, p95, p99] = s.goals.wait_percentiles_ms;
    format!(
        "p50 {}, p95 {}, p99 {}",
        duration(p50),
        duration(p95),
        duration(p99)
    )
}
