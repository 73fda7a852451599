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

/// A target tracking policy's scale-out and scale-in proposals, given its alarms' states and
/// evaluated values.
pub(crate) fn target_tracking(
    k: usize,
    tt: &TargetTracking,
    (high, high_values): (AlarmState, &[Option<f64>]),
    (low, low_values): (AlarmState, &[Option<f64>]),
    cd: Cooldown,
    x: Situation,
) -> (Option<Proposal>, Option<Proposal>) {
    let (now, running, desired) = (x.now_ms, x.running, x.desired);
    let mut out = None;
    if high == AlarmState::Alarm
        && let Some(m) = latest(high_values)
    {
        let cap = target_tracking_capacity(running, m, tt.target);
        let blocked = cd
            .last_out
            .is_some_and(|(t0, c0)| now < t0 + tt.scale_out_cooldown_ms && cap <= c0);
        if cap > desired && !blocked {
            out = Some(Proposal {
                capacity: cap,
                policy: PolicyRef::TargetTracking(k),
                reason: format!(
                    "target tracking: {} = {m:.2} > target {} ({running} running)",
                    metric_label(tt.metric),
                    tt.target
                ),
            });
        }
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
        if cap < desired && !blocked {
            inn = Some(Proposal {
                capacity: cap,
                policy: PolicyRef::TargetTracking(k),
                reason: format!(
                    "target tracking: {} = {m:.2} < {:.2} ({running} running)",
                    metric_label(tt.metric),
                    tt.low.threshold
                ),
            });
        }
    }
    (out, inn)
}

/// A step policy's proposal (scale-out or scale-in), given its alarm in ALARM and the values
/// of its evaluation range.
pub(crate) fn step(
    k: usize,
    step: &StepScaling,
    values: &[Option<f64>],
    cd: Cooldown,
    x: Situation,
) -> Option<(bool, Proposal)> {
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
    let proposal = Proposal {
        capacity: cap,
        policy: PolicyRef::Step(k),
        reason: format!(
            "step scaling: {} {agg:.2} vs threshold {}: adjustment {} ({running} running)",
            metric_label(step.alarm.metric),
            step.alarm.threshold,
            adj.adjustment
        ),
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
    if scales_out && cap > desired && !out_blocked {
        Some((true, proposal))
    } else if scales_in && cap < desired && !in_blocked {
        Some((false, proposal))
    } else {
        None
    }
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

#[cfg(test)]
mod tests;
