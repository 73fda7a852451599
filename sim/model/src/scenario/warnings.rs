//! Likely modelling mistakes: a scenario that is valid but probably not what its author meant.
//! They are warnings, not errors: the run goes ahead (the CLI prints them on stderr).
//!
//! - Offered load far above what the service can ever serve: the demand's peak (before noise,
//!   sampled every minute of the run, or of a day without a duration) is more than
//!   [`OVERLOAD_FACTOR`] times `max tasks x requests_per_task`, where max tasks is the auto
//!   scaling maximum (the largest of the scheduled maxima too) or the desired count. A typo in
//!   `requests_per_task` or a rate usually shows as a 10x overload that ran silently.

use super::Scenario;

/// How far above its largest serving capacity a service's peak demand may be before a warning.
pub const OVERLOAD_FACTOR: f64 = 3.0;

/// Most samples of a load's demand taken to find its peak.
const MAX_SAMPLES: u64 = 100_000;

/// `h:mm` of simulated time.
fn hm(ms: u64) -> String {
    let m = ms / 60_000;
    format!("{}:{:02}", m / 60, m % 60)
}

/// The scenario's likely modelling mistakes, one sentence each, in scenario order.
pub fn warnings(sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let horizon = sc.simulation.duration_ms.unwrap_or(86_400_000);
    let step = (horizon / MAX_SAMPLES).max(60_000);
    for s in &sc.services {
        let Some(load) = &s.load else { continue };
        if load.requests_per_task <= 0.0 {
            continue;
        }
        let (peak_at, peak) = (0..=horizon / step)
            .map(|k| (k * step, load.demand(k * step)))
            .fold((0, 0.0f64), |a, b| if b.1 > a.1 { b } else { a });
        let (max_tasks, why) = match &s.auto_scaling {
            Some(a) => {
                let scheduled = a.scheduled.iter().filter_map(|x| x.max_capacity).max();
                let m = a.max_capacity.max(scheduled.unwrap_or(0));
                (m, "its auto scaling max_capacity")
            }
            None => (s.desired_count, "its desired_count (no auto scaling)"),
        };
        let capacity = f64::from(max_tasks) * load.requests_per_task;
        if peak > OVERLOAD_FACTOR * capacity {
            out.push(format!(
                "services[{}] ({}): demand peaks at {:.0} requests/s (at {}), {:.1}x the most it can serve: {} tasks ({}) x requests_per_task {} = {:.0} requests/s; check the load's rates, requests_per_task and max_capacity",
                sc.services.iter().position(|x| std::ptr::eq(x, s)).unwrap_or(0),
                s.name,
                peak,
                hm(peak_at),
                peak / capacity.max(f64::MIN_POSITIVE),
                max_tasks,
                why,
                load.requests_per_task,
                capacity
            ));
        }
    }
    for (k, o) in sc.objectives.iter().enumerate() {
        if let Some(why) = never_met(o) {
            out.push(format!(
                "objectives[{k}] ({}): can never be met: {why}",
                o.metric
            ));
        }
    }
    out
}

/// Why an objective can never be met, if it cannot: every summary metric is at least 0, and a
/// percentage (`*_pct`) at most 100.
fn never_met(o: &crate::objectives::Objective) -> Option<String> {
    use crate::objectives::Bound;
    match o.bound {
        Bound::AtMost(x) if x < 0.0 => {
            Some(format!("at_most = {x}, but the metric is never below 0"))
        }
        Bound::AtLeast(x) if o.metric.ends_with("_pct") && x > 100.0 => Some(format!(
            "at_least = {x}, but a percentage is never above 100"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objectives::{Bound, Objective};

    /// Issue 16: an objective no run can meet is a likely mistake, said before anything runs.
    #[test]
    fn objectives_that_can_never_be_met_are_flagged() {
        let o = |metric: &str, bound| Objective {
            metric: metric.into(),
            bound,
        };
        assert!(never_met(&o("service.web.availability_pct", Bound::AtLeast(99.99))).is_none());
        assert!(never_met(&o("service.web.availability_pct", Bound::AtLeast(100.0))).is_none());
        assert!(never_met(&o("service.web.availability_pct", Bound::AtLeast(999.0))).is_some());
        assert!(never_met(&o("tasks.wait_p95_ms", Bound::AtMost(0.0))).is_none());
        assert!(never_met(&o("tasks.wait_p95_ms", Bound::AtMost(-1.0))).is_some());
        assert!(never_met(&o("peak_instances", Bound::AtLeast(1000.0))).is_none());
    }
}
