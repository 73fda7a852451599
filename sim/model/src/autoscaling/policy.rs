//! Application Auto Scaling's decisions for one service, as pure functions: what each target
//! tracking and step policy proposes, and which proposal wins.
//!
//! * target tracking proposes `ceil(running x metric / target)` from the RUNNING count (AAS
//!   starts from the actual running count, ECS-DG service-auto-scaling.html);
//! * step scaling aggregates its alarm's evaluated datapoints (Average, Minimum or Maximum),
//!   finds the step by the distance to the threshold, and applies its adjustment to the running
//!   count;
//! * the service scales out if any policy says so, to the largest capacity proposed; it scales in
//!   only if every target tracking policy with scale-in enabled says so, to the largest capacity
//!   proposed (AAS-UG); results are bounded by min and max capacity but never move capacity
//!   against the policy's direction (a scale-out below min brings it to min, a scale-in above
//!   max brings it to max; a scale-out above max or a scale-in below min does nothing); scale-in
//!   is suspended during a deployment (ECS-DG service-auto-scaling.html);
//! * cooldowns: during a policy's scale-out cooldown it scales out again only to a capacity
//!   larger than its last one; during its scale-in cooldown it does not scale in; a scale-out
//!   ends every scale-in cooldown (AAS-UG). During a step policy's cooldown a further breach adds
//!   only the difference between its step and the one in progress: both apply to the capacity
//!   the cooldown started from. A step's sign gives its direction: a scale-out step never lowers
//!   capacity, even when the cooldown's starting count is below the desired count.

use super::datapoints::aggregate;
use super::{AdjustmentType, AlarmState, matching_step, step_adjustment, target_tracking_capacity};
use crate::scenario::{ServiceMetric, StepScaling, TargetTracking};

/// A policy's cooldown state (times in ms).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cooldown {
    /// Last scale-out: when, and to what capacity.
    pub(crate) last_out: Option<(u64, u32)>,
    /// The running count the step cooldown started from.
    pub(crate) last_out_base: u32,
    pub(crate) last_in: Option<u64>,
}

/// Which policy of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyRef {
    TargetTracking(usize),
    Step(usize),
}

/// A capacity a policy asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proposal {
    pub(crate) capacity: u32,
    pub(crate) policy: PolicyRef,
    pub(crate) reason: String,
}

/// What the service does this minute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Scale out to `capacity` (clamped), as `proposal` asked.
    Out { capacity: u32, proposal: Proposal },
    /// Scale in to `capacity` (clamped); every proposing policy starts its scale-in cooldown.
    In {
        capacity: u32,
        proposal: Proposal,
        policies: Vec<PolicyRef>,
    },
}

/// What the policies see.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Situation {
    pub(crate) now_ms: u64,
    pub(crate) running: u32,
    pub(crate) desired: u32,
}

/// The metric's name as CloudWatch has it.
pub(crate) fn metric_label(m: ServiceMetric) -> &'static str {
    match m {
        ServiceMetric::CpuUtilization => "CPUUtilization",
        ServiceMetric::MemoryUtilization => "MemoryUtilization",
        ServiceMetric::RequestCountPerTarget => "RequestCountPerTarget",
        ServiceMetric::RunningTaskCount => "RunningTaskCount",
    }
}

fn latest(v: &[Option<f64>]) -> Option<f64> {
    v.iter().rev().flatten().next().copied()
}

/// What one policy made of its alarm in ALARM: the capacity it computed, which way that
/// scales, and whether its cooldown blocked it. A proposal goes through when it scales in its
/// direction past the desired count and is not blocked. Plain numbers: the reason's text is
/// written only for a proposal ([`Considered::into_proposal`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Considered {
    pub(crate) capacity: u32,
    pub(crate) policy: PolicyRef,
    pub(crate) why: Why,
    pub(crate) scales_out: bool,
    pub(crate) scales_in: bool,
    /// Its cooldown blocked it.
    pub(crate) cooldown: bool,
}

/// What a policy read, for its proposal's reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Why {
    /// Target tracking's high alarm: the metric's latest value above the target.
    TargetHigh {
        metric: ServiceMetric,
        value: f64,
        target: f64,
        running: u32,
    },
    /// Target tracking's low alarm: the latest value below its threshold.
    TargetLow {
        metric: ServiceMetric,
        value: f64,
        threshold: f64,
        running: u32,
    },
    /// A step policy: the aggregate, the threshold and the matching step's adjustment.
    Step {
        metric: ServiceMetric,
        aggregate: f64,
        threshold: f64,
        adjustment: i64,
        running: u32,
    },
}

impl Considered {
    /// The proposal, with its reason as scaling.csv writes it.
    pub(crate) fn into_proposal(self) -> Proposal {
        let reason = match self.why {
            Why::TargetHigh {
                metric,
                value,
                target,
                running,
            } => format!(
                "target tracking: {} = {value:.2} > target {target} ({running} running)",
                metric_label(metric)
            ),
            Why::TargetLow {
                metric,
                value,
                threshold,
                running,
            } => format!(
                "target tracking: {} = {value:.2} < {threshold:.2} ({running} running)",
                metric_label(metric)
            ),
            Why::Step {
                metric,
                aggregate,
                threshold,
                adjustment,
                running,
            } => format!(
                "step scaling: {} {aggregate:.2} vs threshold {threshold}: adjustment {adjustment} ({running} running)",
                metric_label(metric)
            ),
        };
        Proposal {
            capacity: self.capacity,
            policy: self.policy,
            reason,
        }
    }

    /// `Some(true)`: a scale-out proposal, `Some(false)`: a scale-in one, `None`: neither (no
    /// change, or blocked by the cooldown).
    pub(crate) fn direction(&self, desired: u32) -> Option<bool> {
        let cap = self.capacity;
        if self.cooldown {
            None
        } else if self.scales_out && cap > desired {
            Some(true)
        } else if self.scales_in && cap < desired {
            Some(false)
        } else {
            None
        }
    }
}

/// A target tracking policy's scale-out and scale-in proposals, given its alarms' states and
/// evaluated values (the simulation reads [`target_tracking_considered`], which also keeps
/// what did not go through).
#[cfg(test)]
pub(crate) fn target_tracking(
    k: usize,
    tt: &TargetTracking,
    high: (AlarmState, &[Option<f64>]),
    low: (AlarmState, &[Option<f64>]),
    cd: Cooldown,
    x: Situation,
) -> (Option<Proposal>, Option<Proposal>) {
    let (out, inn) = target_tracking_considered(k, tt, high, low, cd, x);
    let go = |c: Option<Considered>| c.filter(|c| c.direction(x.desired).is_some());
    (
        go(out).map(Considered::into_proposal),
        go(inn).map(Considered::into_proposal),
    )
}

/// What a target tracking policy made of each of its alarms in ALARM (see [`Considered`]).
pub(crate) fn target_tracking_considered(
    k: usize,
    tt: &TargetTracking,
    (high, high_values): (AlarmState, &[Option<f64>]),
    (low, low_values): (AlarmState, &[Option<f64>]),
    cd: Cooldown,
    x: Situation,
) -> (Option<Considered>, Option<Considered>) {
    let (now, running) = (x.now_ms, x.running);
    let mut out = None;
    if high == AlarmState::Alarm
        && let Some(m) = latest(high_values)
    {
        let cap = target_tracking_capacity(running, m, tt.target);
        let blocked = cd
            .last_out
            .is_some_and(|(t0, c0)| now < t0 + tt.scale_out_cooldown_ms && cap <= c0);
        out = Some(Considered {
            capacity: cap,
            policy: PolicyRef::TargetTracking(k),
            why: Why::TargetHigh {
                metric: tt.metric,
                value: m,
                target: tt.target,
                running,
            },
            scales_out: true,
            scales_in: false,
            cooldown: blocked && cap > x.desired,
        });
    }
    let mut inn = None;
    if !tt.disable_scale_in
        && low == AlarmState::Alarm
        && let Some(m) = latest(low_values)
    {
        let cap = target_tracking_capacity(running, m, tt.target);
        let blocked = cd
            .last_in
            .is_some_and(|t0| now < t0 + tt.scale_in_cooldown_ms);
        inn = Some(Considered {
            capacity: cap,
            policy: PolicyRef::TargetTracking(k),
            why: Why::TargetLow {
                metric: tt.metric,
                value: m,
                threshold: tt.low.threshold,
                running,
            },
            scales_out: false,
            scales_in: true,
            cooldown: blocked && cap < x.desired,
        });
    }
    (out, inn)
}

/// A step policy's proposal (scale-out or scale-in), given its alarm in ALARM and the values
/// of its evaluation range (the simulation reads [`step_considered`]).
#[cfg(test)]
pub(crate) fn step(
    k: usize,
    step: &StepScaling,
    values: &[Option<f64>],
    cd: Cooldown,
    x: Situation,
) -> Option<(bool, Proposal)> {
    let c = step_considered(k, step, values, cd, x)?;
    let up = c.direction(x.desired)?;
    Some((up, c.into_proposal()))
}

/// What a step policy made of its alarm in ALARM (see [`Considered`]); `None` when no
/// datapoint or no step matches.
pub(crate) fn step_considered(
    k: usize,
    step: &StepScaling,
    values: &[Option<f64>],
    cd: Cooldown,
    x: Situation,
) -> Option<Considered> {
    let (now, running, desired) = (x.now_ms, x.running, x.desired);
    let recent: Vec<f64> = values
        .iter()
        .rev()
        .take(step.alarm.evaluation_periods)
        .flatten()
        .copied()
        .collect();
    let agg = aggregate(step.aggregation, &recent)?;
    let adj = matching_step(&step.steps, agg - step.alarm.threshold)?;
    let in_cooldown = cd
        .last_out
        .is_some_and(|(t0, _)| now < t0 + step.cooldown_ms);
    let base = if in_cooldown {
        cd.last_out_base
    } else {
        running
    };
    let cap = step_adjustment(
        base,
        step.adjustment_type,
        adj.adjustment,
        step.min_adjustment_magnitude,
    );
    let why = Why::Step {
        metric: step.alarm.metric,
        aggregate: agg,
        threshold: step.alarm.threshold,
        adjustment: adj.adjustment,
        running,
    };
    // The step's sign says which way the policy scales (an ExactCapacity step scales towards
    // its capacity). A scale-out never lowers capacity and a scale-in never raises it, also
    // during a cooldown, when the capacity comes from the cooldown's starting count (AAS-UG).
    let scales_out = match step.adjustment_type {
        AdjustmentType::ExactCapacity => cap > desired,
        _ => adj.adjustment > 0,
    };
    let scales_in = match step.adjustment_type {
        AdjustmentType::ExactCapacity => cap < desired,
        _ => adj.adjustment < 0,
    };
    let out_blocked = cd
        .last_out
        .is_some_and(|(t0, c0)| now < t0 + step.cooldown_ms && cap <= c0);
    let in_blocked = cd.last_in.is_some_and(|t0| now < t0 + step.cooldown_ms);
    let cooldown = if scales_out && cap > desired {
        out_blocked
    } else {
        scales_in && cap < desired && in_blocked
    };
    Some(Considered {
        capacity: cap,
        policy: PolicyRef::Step(k),
        why,
        scales_out,
        scales_in,
        cooldown,
    })
}

/// Combine the proposals: any scale-out wins (the largest); otherwise scale in, to the largest
/// proposed, if every target tracking policy with scale-in agrees (`tt_agree`) and no
/// deployment is in progress. `None` if nothing changes the desired count.
pub(crate) fn decide(
    out: Vec<Proposal>,
    inn: Vec<Proposal>,
    tt_agree: bool,
    deploying: bool,
    desired: u32,
    (min, max): (u32, u32),
) -> Option<Decision> {
    if let Some(best) = out
        .into_iter()
        .reduce(|a, b| if b.capacity >= a.capacity { b } else { a })
    {
        // AAS-UG: below min a scale-out first brings capacity to min; above max it does nothing.
        let capacity = best.capacity.min(max).max(min);
        return (capacity > desired).then_some(Decision::Out {
            capacity,
            proposal: best,
        });
    }
    if inn.is_empty() || deploying || !tt_agree {
        return None;
    }
    let policies = inn.iter().map(|p| p.policy).collect();
    let best = inn
        .into_iter()
        .reduce(|a, b| if b.capacity >= a.capacity { b } else { a })
        .expect("non-empty");
    // Above max a scale-in first brings capacity to max; at or below min it does nothing.
    let capacity = best.capacity.max(min).min(max);
    (capacity < desired).then_some(Decision::In {
        capacity,
        proposal: best,
        policies,
    })
}

/// The rule that decided a minute's evaluation (`decisions.csv`'s reason), given what the
/// policies with an alarm in ALARM considered and what [`decide`] returned; `None` when no
/// policy considered anything. Clamps name the bound: `scale_out_max_capacity` (a scale-out cut
/// to max), `scale_out_min_capacity` (raised to min), `scale_in_min_capacity`,
/// `scale_in_max_capacity`; without a change: `at_max_capacity` (a scale-out at or above max),
/// `deployment_in_progress` and `scale_in_not_unanimous` (scale-in held back),
/// `at_min_capacity`, `cooldown` (every proposal blocked by its cooldown) and `no_change` (the
/// capacity computed is the desired count, or a scale-out would lower it).
pub(crate) fn rule(
    decision: Option<&Decision>,
    considered: &[Considered],
    tt_agree: bool,
    deploying: bool,
    desired: u32,
) -> Option<&'static str> {
    let clamp = |capacity: u32, p: &Proposal, up: bool| {
        use std::cmp::Ordering::*;
        match (capacity.cmp(&p.capacity), up) {
            (Equal, true) => "scale_out",
            (Equal, false) => "scale_in",
            (Less, true) => "scale_out_max_capacity",
            (Greater, true) => "scale_out_min_capacity",
            (Greater, false) => "scale_in_min_capacity",
            (Less, false) => "scale_in_max_capacity",
        }
    };
    match decision {
        Some(Decision::Out { capacity, proposal }) => {
            return Some(clamp(*capacity, proposal, true));
        }
        Some(Decision::In {
            capacity, proposal, ..
        }) => return Some(clamp(*capacity, proposal, false)),
        None => {}
    }
    if considered.is_empty() {
        return None;
    }
    let dirs = || considered.iter().map(|c| c.direction(desired));
    Some(if dirs().any(|d| d == Some(true)) {
        "at_max_capacity"
    } else if dirs().any(|d| d == Some(false)) {
        if deploying {
            "deployment_in_progress"
        } else if !tt_agree {
            "scale_in_not_unanimous"
        } else {
            "at_min_capacity"
        }
    } else if considered.iter().any(|c| c.cooldown) {
        "cooldown"
    } else {
        "no_change"
    })
}

#[cfg(test)]
mod tests;
