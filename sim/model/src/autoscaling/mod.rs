//! Alarms and scaling arithmetic, as pure functions (no simulation state).
//!
//! * [`evaluate_alarm`]: CloudWatch's M-of-N evaluation with missing-data treatment
//!   (CW-UG `AlarmThatSendsEmail.html`, "How alarm state is evaluated when data is missing").
//! * [`step_adjustment`] and [`percent_change`]: Application Auto Scaling step policies
//!   (AAS-UG `application-auto-scaling-step-scaling-policies.html`).
//! * [`target_tracking_capacity`]: the proportional rule (not documented by AWS; ecsim's model).
//! * [`capacity_provider_reservation`]: the cluster auto scaling metric (ECS-DG
//!   `cluster-auto-scaling.html`).

pub(crate) mod datapoints;
pub(crate) mod policy;
pub(crate) mod service;

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// Within the threshold.
    Ok,
    /// Breaching.
    Alarm,
    /// Not enough data.
    InsufficientData,
}

impl AlarmState {
    /// As CloudWatch names it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatMissing {
    /// `missing` (default).
    Missing,
    /// `ignore`.
    Ignore,
    /// `breaching`.
    Breaching,
    /// `notBreaching`.
    NotBreaching,
}

/// Evaluate an alarm over its evaluation range, oldest first: each slot is `None` (missing) or
/// whether that datapoint breaches. `m` = DatapointsToAlarm, `n` = EvaluationPeriods.
///
/// The rules, which reproduce every row of both tables in CW-UG:
/// * at least `n` real datapoints in the range: the `n` most recent real ones decide;
/// * none: `missing` gives INSUFFICIENT_DATA, `ignore` keeps the state, `breaching` ALARM,
///   `notBreaching` OK;
/// * some (fewer than `n`): every real datapoint counts, and the shortfall is filled (as few
///   fills as possible) with breaching points for `breaching`, non-breaching ones for
///   `notBreaching`, and for `missing`/`ignore` with non-breaching ones if any real point is
///   non-breaching. If every real point breaches, `ignore` keeps the state and `missing` goes to
///   ALARM only when the data has stopped (the newest slot is missing): a breaching newest point
///   with too little history is INSUFFICIENT_DATA (CloudWatch's guard against premature alarms).
pub fn evaluate_alarm(
    range: &[Option<bool>],
    m: usize,
    n: usize,
    treat: TreatMissing,
    current: AlarmState,
) -> AlarmState {
    let real: Vec<bool> = range.iter().flatten().copied().collect();
    let decide = |breaching: usize| {
        if breaching >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    if real.len() >= n {
        return decide(real[real.len() - n..].iter().filter(|&&b| b).count());
    }
    let fills = n - real.len();
    let breaching = real.iter().filter(|&&b| b).count();
    if real.is_empty() {
        return match treat {
            TreatMissing::Missing => AlarmState::InsufficientData,
            TreatMissing::Ignore => current,
            TreatMissing::Breaching => AlarmState::Alarm,
            TreatMissing::NotBreaching => AlarmState::Ok,
        };
    }
    match treat {
        TreatMissing::Breaching => decide(breaching + fills),
        TreatMissing::NotBreaching => decide(breaching),
        TreatMissing::Missing | TreatMissing::Ignore if breaching < real.len() => decide(breaching),
        TreatMissing::Ignore => current,
        TreatMissing::Missing => {
            if range.last().is_some_and(|s| s.is_some()) {
                AlarmState::InsufficientData
            } else {
                AlarmState::Alarm
            }
        }
    }
}

/// `ComparisonOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`
    GreaterThan,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    LessThan,
    /// `<=`
    LessOrEqual,
}

impl Comparison {
    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThan => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::LessThan => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }
}

/// `AdjustmentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add the adjustment.
    ChangeInCapacity,
    /// Set capacity to it.
    ExactCapacity,
    /// Add that percent of the current capacity.
    PercentChangeInCapacity,
}

/// One step: bounds relative to the alarm threshold (`None` is infinite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// `MetricIntervalLowerBound`.
    pub lower: Option<f64>,
    /// `MetricIntervalUpperBound`.
    pub upper: Option<f64>,
    /// `ScalingAdjustment`.
    pub adjustment: i64,
}

/// The step that applies when the aggregated metric is `diff` above the threshold (negative:
/// below). Above the threshold the lower bound is inclusive and the upper exclusive; below it,
/// the lower is exclusive and the upper inclusive (AAS-API `StepAdjustment`).
pub fn matching_step(steps: &[Step], diff: f64) -> Option<&Step> {
    steps.iter().find(|s| {
        let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = s.upper.unwrap_or(f64::INFINITY);
        if diff >= 0.0 && lo >= 0.0 {
            // Above the threshold: lower bound inclusive, upper exclusive.
            diff >= lo && diff < hi
        } else {
            // Below it (or a step that straddles it): lower exclusive, upper inclusive.
            diff > lo && diff <= hi
        }
    })
}

/// The capacity change for a `PercentChangeInCapacity` adjustment: values above 1 are rounded
/// down, between 0 and 1 to 1, between -1 and 0 to -1, below -1 toward zero (AAS-UG), and
/// `MinAdjustmentMagnitude` is a floor on the magnitude.
pub fn percent_change(current: u32, pct: i64, min_magnitude: Option<u32>) -> i64 {
    let raw = f64::from(current) * pct as f64 / 100.0;
    let mut delta = if raw > 1.0 {
        raw.floor() as i64
    } else if raw > 0.0 {
        1
    } else if raw == 0.0 {
        0
    } else if raw >= -1.0 {
        -1
    } else {
        raw.ceil() as i64
    };
    if let Some(min) = min_magnitude {
        let min = i64::from(min);
        if delta != 0 && delta.abs() < min {
            delta = delta.signum() * min;
        }
    }
    delta
}

/// New capacity from a step adjustment applied to `current`.
pub fn step_adjustment(
    current: u32,
    kind: AdjustmentType,
    adjustment: i64,
    min_magnitude: Option<u32>,
) -> u32 {
    let new = match kind {
        AdjustmentType::ChangeInCapacity => i64::from(current) + adjustment,
        AdjustmentType::ExactCapacity => adjustment,
        AdjustmentType::PercentChangeInCapacity => {
            i64::from(current) + percent_change(current, adjustment, min_magnitude)
        }
    };
    new.clamp(0, i64::from(u32::MAX)) as u32
}

/// Target tracking's proportional rule (ecsim's model; AWS documents only "proportional",
/// rounded conservatively): `ceil(current x metric / target)`, which rounds up when adding and
/// removes the fewest tasks when scaling in.
pub fn target_tracking_capacity(current: u32, metric: f64, target: f64) -> u32 {
    let v = f64::from(current) * metric / target;
    // A hair under an integer from floating point should not add a task.
    (v - 1e-9).ceil().max(0.0) as u32
}

/// The instances a managed group should have for `needed` instances in use at `target_capacity`:
/// `ceil(M x 100 / target)` (ECS-DG cluster-auto-scaling.html: a target of 90 keeps about 10 %
/// spare instances).
pub fn instances_wanted(needed: u32, target_capacity: f64) -> u32 {
    let v = f64::from(needed) * 100.0 / target_capacity.max(1.0);
    // A hair over an integer from floating point should not keep an extra instance.
    (v - 1e-9).ceil().max(0.0) as u32
}

/// `CapacityProviderReservation` (ECS-DG cluster-auto-scaling.html; docs/ecs-semantics.md
/// 6.3). N instances in the group; M instances needed = the non-empty instances (daemon-only
/// counts as empty) plus the instances the PROVISIONING tasks would need.
///
/// * Tasks waiting, or no more instances than the target wants: `M / N x 100` (above 100 when
///   tasks wait for capacity).
/// * More instances than the target wants (`K = ceil(M x 100 / target)` below N): the documented
///   treatment of empty instances, `100 - empty` (2 empty of 10 -> 98). ecsim generalises it to any
///   target as `target - (N - K)`, which is `100 - empty` at target 100 and falls below a lower
///   target only when there are more empty instances than the spare the target keeps (ecsim's
///   convention: AWS documents the rule for the default target only). Never below 0.
/// * No instances: 200 with tasks waiting (AWS: "scales out to 200 %"), else 100 (nothing to do).
pub fn capacity_provider_reservation(
    instances: u32,
    non_empty: u32,
    needed_for_provisioning: u32,
    target_capacity: f64,
) -> f64 {
    if instances == 0 {
        return if needed_for_provisioning > 0 {
            200.0
        } else {
            100.0
        };
    }
    let needed = non_empty + needed_for_provisioning;
    let wanted = instances_wanted(needed, target_capacity);
    if needed_for_provisioning == 0 && wanted < instances {
        return (target_capacity - f64::from(instances - wanted)).max(0.0);
    }
    100.0 * f64::from(needed) / f64::from(instances)
}

/// Instances needed for tasks waiting for a provider: tasks grouped by identical needs, each
/// group binpacked onto empty instances of the group's type; groups that fit no instance are
/// ignored (ECS-DG cluster-auto-scaling.html).
pub fn instances_needed(waiting: &[(u32, u32, u32)], instance_cpu: u32, instance_mem: u32) -> u32 {
    waiting
        .iter()
        .filter(|&&(cpu, mem, _)| cpu <= instance_cpu && mem <= instance_mem)
        .map(|&(cpu, mem, count)| {
            let per = (instance_cpu / cpu.max(1))
                .min(instance_mem / mem.max(1))
                .max(1);
            count.div_ceil(per)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlarmState::*;
    use TreatMissing::*;

    fn slots(s: &str) -> Vec<Option<bool>> {
        s.split_whitespace()
            .map(|c| match c {
                "0" => Some(false),
                "X" => Some(true),
                "-" => None,
                other => panic!("{other}"),
            })
            .collect()
    }

    fn row(points: &str, m: usize, n: usize, expected: [AlarmState; 4]) {
        let current = AlarmState::Ok; // "Retain current state" rows are checked with two states below
        for (treat, want) in [Missing, Ignore, Breaching, NotBreaching]
            .into_iter()
            .zip(expected)
        {
            assert_eq!(
                evaluate_alarm(&slots(points), m, n, treat, current),
                want,
                "{points} M={m} N={n} {treat:?}"
            );
        }
    }

    /// CW-UG AlarmThatSendsEmail.html, first table: DatapointsToAlarm 3, EvaluationPeriods 3,
    /// the 5 most recent datapoints retrieved. "Retain current state" is written as the current
    /// state (OK here) and checked separately.
    #[test]
    fn cloudwatch_table_3_of_3() {
        row("0 - X - X", 3, 3, [Ok, Ok, Ok, Ok]);
        row("0 - - - -", 3, 3, [Ok, Ok, Ok, Ok]);
        row("- - - - -", 3, 3, [InsufficientData, Ok, Alarm, Ok]);
        row("0 X X - X", 3, 3, [Alarm, Alarm, Alarm, Alarm]);
        row("- - - - X", 3, 3, [InsufficientData, Ok, Alarm, Ok]);
        row("X - - - -", 3, 3, [Alarm, Ok, Alarm, Ok]);
        // "Retain current state" really retains it.
        for p in ["- - - - -", "- - - - X", "X - - - -"] {
            assert_eq!(evaluate_alarm(&slots(p), 3, 3, Ignore, Alarm), Alarm, "{p}");
            assert_eq!(
                evaluate_alarm(&slots(p), 3, 3, Ignore, InsufficientData),
                InsufficientData,
                "{p}"
            );
        }
        // The reference's premature-alarm example: `- - X - -` alarms (the data stopped).
        assert_eq!(
            evaluate_alarm(&slots("- - X - -"), 3, 3, Missing, Ok),
            Alarm
        );
    }

    /// CW-UG AlarmThatSendsEmail.html, second table: 2 out of 3.
    #[test]
    fn cloudwatch_table_2_of_3() {
        row("0 - X - X", 2, 3, [Alarm, Alarm, Alarm, Alarm]);
        row("0 0 X 0 X", 2, 3, [Alarm, Alarm, Alarm, Alarm]);
        row("0 - X - -", 2, 3, [Ok, Ok, Alarm, Ok]);
        row("- - - - 0", 2, 3, [Ok, Ok, Alarm, Ok]);
        row("- - - - X", 2, 3, [InsufficientData, Ok, Alarm, Ok]);
    }

    /// AAS-UG step scaling: percent changes round as documented (12.7 -> 12, 0.67 -> 1,
    /// -0.58 -> -1, -6.67 -> -6) and MinAdjustmentMagnitude is a floor.
    #[test]
    fn percent_rounding() {
        // 127 % of 10 = 12.7 -> 12
        assert_eq!(percent_change(10, 127, None), 12);
        // 67 % of 1 = 0.67 -> 1
        assert_eq!(percent_change(1, 67, None), 1);
        // -58 % of 1 = -0.58 -> -1
        assert_eq!(percent_change(1, -58, None), -1);
        // -667 % of 1 = -6.67 -> -6 (toward zero)
        assert_eq!(percent_change(1, -667, None), -6);
        // 10 % of 10 = 1, with a minimum magnitude of 2 -> 2
        assert_eq!(percent_change(10, 10, Some(2)), 2);
        assert_eq!(percent_change(10, -10, Some(2)), -2);
        assert_eq!(
            step_adjustment(10, AdjustmentType::PercentChangeInCapacity, 127, None),
            22
        );
        assert_eq!(
            step_adjustment(10, AdjustmentType::ExactCapacity, 4, None),
            4
        );
        assert_eq!(
            step_adjustment(3, AdjustmentType::ChangeInCapacity, -5, None),
            0
        );
    }

    /// AAS-UG step scaling worked example: alarm threshold 50; steps +0..+10 -> +0 (no change),
    /// +10..+20 -> +10 %, +20.. -> +30 %; and below the threshold -10..0 -> 0, -20..-10 -> -10 %,
    /// ..-20 -> -30 %. Bounds are relative to the threshold; lower inclusive above it, upper
    /// inclusive below it.
    #[test]
    fn step_bounds_relative_to_threshold() {
        let up = [
            Step {
                lower: Some(0.0),
                upper: Some(10.0),
                adjustment: 0,
            },
            Step {
                lower: Some(10.0),
                upper: Some(20.0),
                adjustment: 10,
            },
            Step {
                lower: Some(20.0),
                upper: None,
                adjustment: 30,
            },
        ];
        let down = [
            Step {
                lower: Some(-10.0),
                upper: Some(0.0),
                adjustment: 0,
            },
            Step {
                lower: Some(-20.0),
                upper: Some(-10.0),
                adjustment: -10,
            },
            Step {
                lower: None,
                upper: Some(-20.0),
                adjustment: -30,
            },
        ];
        let adj =
            |steps: &[Step], metric: f64| matching_step(steps, metric - 50.0).map(|s| s.adjustment);
        assert_eq!(adj(&up, 55.0), Some(0));
        assert_eq!(adj(&up, 60.0), Some(10), "60 is in [60, 70)");
        assert_eq!(adj(&up, 70.0), Some(30), "70 is in [70, inf)");
        assert_eq!(adj(&up, 99.0), Some(30));
        assert_eq!(adj(&down, 45.0), Some(0));
        assert_eq!(adj(&down, 40.0), Some(-10), "40 is in (30, 40]");
        assert_eq!(adj(&down, 30.0), Some(-30), "30 is in (-inf, 30]");
        // From 10 tasks: +10 % -> 11, +30 % -> 13, -10 % -> 9, -30 % -> 7.
        assert_eq!(
            step_adjustment(10, AdjustmentType::PercentChangeInCapacity, 10, None),
            11
        );
        assert_eq!(
            step_adjustment(10, AdjustmentType::PercentChangeInCapacity, 30, None),
            13
        );
        assert_eq!(
            step_adjustment(10, AdjustmentType::PercentChangeInCapacity, -10, None),
            9
        );
        assert_eq!(
            step_adjustment(10, AdjustmentType::PercentChangeInCapacity, -30, None),
            7
        );
    }

    #[test]
    fn target_tracking_rounds_conservatively() {
        assert_eq!(
            target_tracking_capacity(4, 80.0, 50.0),
            7,
            "6.4 rounds up when adding"
        );
        assert_eq!(target_tracking_capacity(10, 30.0, 50.0), 6, "6 exactly");
        assert_eq!(
            target_tracking_capacity(10, 31.0, 50.0),
            7,
            "6.2: remove only 3"
        );
        assert_eq!(target_tracking_capacity(3, 50.0, 50.0), 3);
    }

    /// ECS-DG cluster-auto-scaling.html (docs/ecs-semantics.md 6.3): 100 = exactly right;
    /// above 100 tasks wait for capacity; empty instances reduce the metric to `100 - empty`
    /// (2 empty -> 98); with no instance and tasks waiting, 200.
    #[test]
    fn capacity_provider_reservation_cases() {
        assert_eq!(capacity_provider_reservation(10, 10, 0, 100.0), 100.0);
        assert_eq!(
            capacity_provider_reservation(10, 8, 0, 100.0),
            98.0,
            "2 empty of 10: 100 - 2"
        );
        assert_eq!(capacity_provider_reservation(10, 1, 0, 100.0), 91.0);
        assert_eq!(
            capacity_provider_reservation(200, 0, 0, 100.0),
            0.0,
            "floor"
        );
        assert_eq!(
            capacity_provider_reservation(10, 10, 3, 100.0),
            130.0,
            "3 more needed"
        );
        assert_eq!(
            capacity_provider_reservation(10, 8, 1, 100.0),
            90.0,
            "tasks waiting: M / N, no empty-instance treatment"
        );
        assert_eq!(capacity_provider_reservation(0, 0, 2, 100.0), 200.0);
        assert_eq!(capacity_provider_reservation(0, 0, 0, 100.0), 100.0);
        // targetCapacity 90 keeps about 10 % spare: 9 busy of 10 is on target, 8 busy is one
        // instance too many (wanted ceil(8 / 0.9) = 9).
        assert_eq!(capacity_provider_reservation(10, 9, 0, 90.0), 90.0);
        assert_eq!(capacity_provider_reservation(10, 8, 0, 90.0), 89.0);
        assert_eq!(instances_wanted(9, 90.0), 10);
        assert_eq!(instances_wanted(8, 90.0), 9);
        assert_eq!(instances_wanted(8, 100.0), 8);
        // 7 tasks of 1 vCPU/2 GiB on 4 vCPU/16 GiB instances: 4 per instance -> 2 instances; a task
        // bigger than the instance is ignored.
        assert_eq!(
            instances_needed(&[(1024, 2048, 7), (8192, 1024, 3)], 4096, 16384),
            2
        );
    }
}
