//! Objectives: what a planner requires of a run, stated on summary metrics
//! (`[[objectives]]`: `{ metric = "service.web.availability_pct", at_least = 99.9 }`), and
//! their evaluation on one run or, with a confidence level, on several seeds.

use crate::record::{Summary, SummaryValue};

/// Which side of its limit a metric must stay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `at_least = x`: the metric must be >= x.
    AtLeast(f64),
    /// `at_most = x`: the metric must be <= x.
    AtMost(f64),
}

/// One objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// A numeric summary field, such as `tasks.wait_p95_ms`.
    pub metric: String,
    /// Its limit.
    pub bound: Bound,
}

/// Metrics that a run leaves out when they are zero (no failure, no scaling): an objective on
/// them reads 0 from a run without the field.
const ZERO_WHEN_ABSENT: &[&str] = &[
    "tasks_lost",
    "unserved_request_minutes",
    "unserved_request_minutes_during_failures",
    "unserved_request_pct",
    "scaling_actions",
    "instances_launched",
    "instances_terminated",
    "idle_instance_hours",
];

/// Per-service metrics that read 0 when absent.
const SERVICE_ZERO_WHEN_ABSENT: &[&str] = &[
    "tasks_lost",
    "unserved_request_minutes",
    "unserved_request_pct",
    "task_minutes_below_desired",
    "scaling_actions",
];

impl Objective {
    /// `metric >= x` or `metric <= x`.
    pub fn describe(&self) -> String {
        match self.bound {
            Bound::AtLeast(x) => format!("{} >= {}", self.metric, x),
            Bound::AtMost(x) => format!("{} <= {}", self.metric, x),
        }
    }

    /// The limit.
    pub fn limit(&self) -> f64 {
        match self.bound {
            Bound::AtLeast(x) | Bound::AtMost(x) => x,
        }
    }

    /// Whether `v` meets the objective.
    pub fn met_by(&self, v: f64) -> bool {
        match self.bound {
            Bound::AtLeast(x) => v >= x,
            Bound::AtMost(x) => v <= x,
        }
    }

    /// The metric's value in a run's summary fields; `None` if the run has no such number.
    pub fn value(&self, fields: &[(String, SummaryValue)]) -> Option<f64> {
        match fields.iter().find(|(k, _)| *k == self.metric) {
            Some((_, SummaryValue::Int(i))) => Some(*i as f64),
            Some((_, SummaryValue::Float(f))) => Some(*f),
            Some((_, SummaryValue::Str(_))) => None,
            None => self.zero_when_absent().then_some(0.0),
        }
    }

    fn zero_when_absent(&self) -> bool {
        if ZERO_WHEN_ABSENT.contains(&self.metric.as_str()) {
            return true;
        }
        let parts: Vec<&str> = self.metric.split('.').collect();
        parts.len() == 3 && parts[0] == "service" && SERVICE_ZERO_WHEN_ABSENT.contains(&parts[2])
    }

    /// The one-sided bound at `confidence` (such as 0.95) on the mean of `xs` that must meet the
    /// limit: the lower bound for `at_least`, the upper for `at_most` (Student's t). One value
    /// is its own bound.
    pub fn bound_on_mean(&self, xs: &[f64], confidence: f64) -> f64 {
        let s = crate::sweep::stats(xs);
        if s.n < 2 {
            return s.mean;
        }
        let half = crate::sweep::t_quantile(confidence, s.n - 1) * s.std / (s.n as f64).sqrt();
        match self.bound {
            Bound::AtLeast(_) => s.mean - half,
            Bound::AtMost(_) => s.mean + half,
        }
    }
}

/// One objective's result on one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The objective.
    pub objective: Objective,
    /// Its metric's value (`None`: the run has no such number, which counts as missed).
    pub value: Option<f64>,
    /// Whether it was met.
    pub met: bool,
}

/// Every objective's result on one run.
pub fn evaluate(objectives: &[Objective], summary: &Summary) -> Vec<Outcome> {
    let fields = summary.fields();
    objectives
        .iter()
        .map(|o| {
            let value = o.value(&fields);
            Outcome {
                objective: o.clone(),
                value,
                met: value.is_some_and(|v| o.met_by(v)),
            }
        })
        .collect()
}

/// One objective judged over several seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Mean of the metric over the seeds (`None` when a run has no such number).
    pub mean: Option<f64>,
    /// The one-sided bound at the confidence level that must meet the limit (the mean itself
    /// for one seed).
    pub bound: Option<f64>,
    /// Whether the bound meets the limit.
    pub met: bool,
}

/// Judge every objective over runs on several seeds (each run's summary fields): met when the
/// one-sided `confidence` bound on the mean meets the limit (for one run, its value does).
pub fn judge(
    objectives: &[Objective],
    runs: &[Vec<(String, SummaryValue)>],
    confidence: f64,
) -> Vec<Judged> {
    objectives
        .iter()
        .map(|o| {
            let xs: Option<Vec<f64>> = runs.iter().map(|f| o.value(f)).collect();
            match xs {
                Some(xs) if !xs.is_empty() => {
                    let mean = crate::sweep::stats(&xs).mean;
                    let bound = o.bound_on_mean(&xs, confidence);
                    Judged {
                        mean: Some(mean),
                        bound: Some(bound),
                        met: o.met_by(bound),
                    }
                }
                _ => Judged {
                    mean: None,
                    bound: None,
                    met: false,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(metric: &str, bound: Bound) -> Objective {
        Objective {
            metric: metric.into(),
            bound,
        }
    }

    #[test]
    fn values_limits_and_absent_zeroes() {
        let fields = vec![
            ("tasks.wait_p95_ms".to_string(), SummaryValue::Int(60_000)),
            (
                "service.web.availability_pct".to_string(),
                SummaryValue::Float(99.95),
            ),
        ];
        let wait = obj("tasks.wait_p95_ms", Bound::AtMost(60_000.0));
        assert_eq!(wait.value(&fields), Some(60_000.0));
        assert!(wait.met_by(60_000.0) && !wait.met_by(60_001.0));
        let avail = obj("service.web.availability_pct", Bound::AtLeast(99.9));
        assert!(avail.met_by(avail.value(&fields).unwrap()));
        // No failures: no tasks_lost field, which means none were lost.
        assert_eq!(
            obj("tasks_lost", Bound::AtMost(0.0)).value(&fields),
            Some(0.0)
        );
        assert_eq!(
            obj("service.web.tasks_lost", Bound::AtMost(0.0)).value(&fields),
            Some(0.0)
        );
        // A field that only exists with load is missed, not zero.
        assert_eq!(
            obj("cost_per_million_requests_usd", Bound::AtMost(1.0)).value(&fields),
            None
        );
    }

    /// The one-sided 95 % upper bound of 1..=5: mean 3 + t(0.95, 4) 2.1318 x 1.5811 / sqrt 5.
    #[test]
    fn one_sided_bounds() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let up = obj("x", Bound::AtMost(0.0)).bound_on_mean(&xs, 0.95);
        let low = obj("x", Bound::AtLeast(0.0)).bound_on_mean(&xs, 0.95);
        assert!(
            (up - (3.0 + 2.131_847 * 1.581_139 / 5f64.sqrt())).abs() < 1e-4,
            "{up}"
        );
        assert!((low + up - 6.0).abs() < 1e-9);
        assert_eq!(
            obj("x", Bound::AtMost(0.0)).bound_on_mean(&[4.0], 0.95),
            4.0
        );
    }
}
