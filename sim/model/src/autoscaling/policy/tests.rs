//! The policy decisions a user relies on: cooldowns, bounds, scale-in agreement and deployments.
//! Sources: AAS-UG target-tracking-scaling-policy-overview (cooldowns),
//! application-auto-scaling-step-scaling-policies (step cooldown), ECS-DG
//! service-auto-scaling.html (scale-in suspended during deployments).

use super::*;
use crate::autoscaling::{AdjustmentType, Comparison, Step, TreatMissing};
use crate::scenario::{AlarmDef, Statistic};

fn alarm(threshold: f64, comparison: Comparison) -> AlarmDef {
    AlarmDef {
        metric: ServiceMetric::CpuUtilization,
        statistic: Statistic::Average,
        period_ms: 60_000,
        evaluation_periods: 3,
        datapoints_to_alarm: 3,
        comparison,
        threshold,
        treat_missing: TreatMissing::Missing,
    }
}

fn tt() -> TargetTracking {
    TargetTracking {
        name: "cpu50".into(),
        metric: ServiceMetric::CpuUtilization,
        target: 50.0,
        scale_out_cooldown_ms: 300_000,
        scale_in_cooldown_ms: 300_000,
        disable_scale_in: false,
        high: alarm(50.0, Comparison::GreaterThan),
        low: alarm(45.0, Comparison::LessThan),
    }
}

const BREACH: [Option<f64>; 5] = [None, None, Some(100.0), Some(100.0), Some(100.0)];
const LOW: [Option<f64>; 5] = [None, None, Some(10.0), Some(10.0), Some(10.0)];

fn at(now_ms: u64, running: u32, desired: u32) -> Situation {
    Situation {
        now_ms,
        running,
        desired,
    }
}

fn ok() -> (AlarmState, &'static [Option<f64>]) {
    (AlarmState::Ok, &[])
}

#[test]
fn target_tracking_scales_out_proportionally_from_the_running_count() {
    // 4 running at 100 % CPU, target 50 %: ceil(4 x 100 / 50) = 8.
    let (out, inn) = target_tracking(
        0,
        &tt(),
        (AlarmState::Alarm, &BREACH),
        ok(),
        Cooldown::default(),
        at(0, 4, 4),
    );
    assert_eq!(out.unwrap().capacity, 8);
    assert!(inn.is_none());
}

#[test]
fn during_the_scale_out_cooldown_only_a_larger_capacity_goes_through() {
    // AAS-UG: during the scale-out cooldown, a scale-out that would not add capacity beyond the
    // last one is not made.
    let cd = Cooldown {
        last_out: Some((0, 8)),
        ..Cooldown::default()
    };
    let (out, _) = target_tracking(
        0,
        &tt(),
        (AlarmState::Alarm, &BREACH),
        ok(),
        cd,
        at(60_000, 4, 6),
    );
    assert!(out.is_none(), "8 again inside the cooldown is blocked");
    let (out, _) = target_tracking(
        0,
        &tt(),
        (AlarmState::Alarm, &BREACH),
        ok(),
        cd,
        at(60_000, 5, 6),
    );
    assert_eq!(out.unwrap().capacity, 10, "10 > 8 goes through");
    let (out, _) = target_tracking(
        0,
        &tt(),
        (AlarmState::Alarm, &BREACH),
        ok(),
        cd,
        at(300_000, 4, 6),
    );
    assert_eq!(
        out.unwrap().capacity,
        8,
        "after the cooldown 8 is allowed again"
    );
}

#[test]
fn during_the_scale_in_cooldown_nothing_scales_in() {
    let cd = Cooldown {
        last_in: Some(0),
        ..Cooldown::default()
    };
    let low = (AlarmState::Alarm, &LOW[..]);
    let (_, inn) = target_tracking(0, &tt(), ok(), low, cd, at(299_999, 10, 10));
    assert!(inn.is_none());
    let (_, inn) = target_tracking(0, &tt(), ok(), low, cd, at(300_000, 10, 10));
    assert_eq!(inn.unwrap().capacity, 2, "ceil(10 x 10 / 50)");
}

#[test]
fn disabled_scale_in_never_proposes_scale_in() {
    let mut t = tt();
    t.disable_scale_in = true;
    let (_, inn) = target_tracking(
        0,
        &t,
        ok(),
        (AlarmState::Alarm, &LOW),
        Cooldown::default(),
        at(0, 10, 10),
    );
    assert!(inn.is_none());
}

fn prop(capacity: u32, policy: PolicyRef) -> Proposal {
    Proposal {
        capacity,
        policy,
        reason: String::new(),
    }
}

#[test]
fn the_largest_scale_out_wins_and_is_clamped_to_max_capacity() {
    let out = vec![
        prop(8, PolicyRef::TargetTracking(0)),
        prop(12, PolicyRef::Step(0)),
    ];
    match decide(out, vec![], true, false, 4, (1, 10)) {
        Some(Decision::Out { capacity, proposal }) => {
            assert_eq!(capacity, 10);
            assert_eq!(proposal.policy, PolicyRef::Step(0));
        }
        other => panic!("{other:?}"),
    }
    // Already at the maximum: nothing to do.
    assert_eq!(
        decide(
            vec![prop(12, PolicyRef::Step(0))],
            vec![],
            true,
            false,
            10,
            (1, 10)
        ),
        None
    );
}

#[test]
fn scale_in_needs_every_target_tracking_policy_and_no_deployment() {
    let inn = || vec![prop(3, PolicyRef::TargetTracking(0))];
    assert!(
        decide(vec![], inn(), false, false, 6, (1, 10)).is_none(),
        "one policy disagrees"
    );
    assert!(
        decide(vec![], inn(), true, true, 6, (1, 10)).is_none(),
        "deployment in progress"
    );
    match decide(vec![], inn(), true, false, 6, (4, 10)) {
        Some(Decision::In { capacity, .. }) => assert_eq!(capacity, 4, "clamped to min capacity"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_scale_out_beats_any_scale_in() {
    let d = decide(
        vec![prop(7, PolicyRef::Step(1))],
        vec![prop(3, PolicyRef::TargetTracking(0))],
        true,
        false,
        6,
        (1, 10),
    );
    assert!(matches!(d, Some(Decision::Out { capacity: 7, .. })));
}

fn step_policy() -> StepScaling {
    StepScaling {
        name: "step".into(),
        alarm: alarm(70.0, Comparison::GreaterThan),
        adjustment_type: AdjustmentType::ChangeInCapacity,
        steps: vec![
            Step {
                lower: Some(0.0),
                upper: Some(20.0),
                adjustment: 1,
            },
            Step {
                lower: Some(20.0),
                upper: None,
                adjustment: 3,
            },
        ],
        min_adjustment_magnitude: None,
        cooldown_ms: 300_000,
        aggregation: Statistic::Average,
    }
}

#[test]
fn a_step_breach_during_the_cooldown_adds_only_the_difference() {
    // AAS-UG step scaling: with a cooldown in progress from a +1 step taken at 4 running, a
    // breach of the +3 step brings capacity to 4 + 3 = 7, not to (running 5) + 3.
    let cd = Cooldown {
        last_out: Some((0, 5)),
        last_out_base: 4,
        last_in: None,
    };
    let vals = [None, None, Some(95.0), Some(95.0), Some(95.0)];
    let (up, p) = step(0, &step_policy(), &vals, cd, at(60_000, 5, 5)).unwrap();
    assert!(up);
    assert_eq!(p.capacity, 7);
    // The same +1 breach again inside the cooldown adds nothing.
    let small = [None, None, Some(75.0), Some(75.0), Some(75.0)];
    assert!(step(0, &step_policy(), &small, cd, at(60_000, 5, 5)).is_none());
    // After the cooldown, the step applies to the running count.
    let (_, p) = step(0, &step_policy(), &vals, cd, at(300_000, 5, 5)).unwrap();
    assert_eq!(p.capacity, 8);
}

#[test]
fn a_scale_out_step_never_scales_in_during_its_cooldown() {
    // ecs-semantics 5.3 (AAS-UG step scaling, cooldown): during a scale-out cooldown only the
    // part of a new scale-out larger than the one in progress is added; a scale-out policy never
    // lowers capacity. Regression (issue 11): desired 11 with a 0 step breached dropped to 10, and
    // a +2 step from a cooldown base of 2 took desired 5 down to 4.
    let mut zero = step_policy();
    zero.steps = vec![Step {
        lower: Some(0.0),
        upper: None,
        adjustment: 0,
    }];
    let cd = Cooldown {
        last_out: Some((0, 11)),
        last_out_base: 10,
        last_in: None,
    };
    let vals = [None, None, Some(95.0), Some(95.0), Some(95.0)];
    assert_eq!(step(0, &zero, &vals, cd, at(60_000, 10, 11)), None);
    let mut plus2 = step_policy();
    plus2.steps = vec![Step {
        lower: Some(0.0),
        upper: None,
        adjustment: 2,
    }];
    let cd = Cooldown {
        last_out: Some((0, 5)),
        last_out_base: 2,
        last_in: None,
    };
    assert_eq!(step(0, &plus2, &vals, cd, at(60_000, 5, 5)), None);
}

#[test]
fn a_scale_in_step_scales_in_and_never_out() {
    let mut minus = step_policy();
    minus.alarm = alarm(30.0, Comparison::LessThan);
    minus.steps = vec![Step {
        lower: None,
        upper: Some(0.0),
        adjustment: -2,
    }];
    let vals = [None, None, Some(10.0), Some(10.0), Some(10.0)];
    let (up, p) = step(0, &minus, &vals, Cooldown::default(), at(0, 6, 6)).unwrap();
    assert!(!up);
    assert_eq!(p.capacity, 4);
    // Running 2 with desired 6 (tasks not placed): 2 - 2 = 0 is still a scale-in, never "out".
    let (up, _) = step(0, &minus, &vals, Cooldown::default(), at(0, 2, 6)).unwrap();
    assert!(!up);
}

#[test]
fn bounds_never_move_capacity_against_the_policy() {
    // ecs-semantics 5.1 (AAS-UG): below min a scale-out first brings desired to min and a
    // scale-in does nothing; symmetric above max. Regression (issue 11): a scale-in proposal with
    // desired 1 and min 2 raised desired to 2; a scale-out with desired above max lowered it.
    let inn = || vec![prop(0, PolicyRef::TargetTracking(0))];
    assert_eq!(decide(vec![], inn(), true, false, 1, (2, 10)), None);
    assert_eq!(decide(vec![], inn(), true, false, 2, (2, 10)), None);
    // Above max, a scale-in to 12 first brings desired to max.
    assert!(matches!(
        decide(
            vec![],
            vec![prop(12, PolicyRef::TargetTracking(0))],
            true,
            false,
            15,
            (2, 10)
        ),
        Some(Decision::In { capacity: 10, .. })
    ));
    let out = || vec![prop(20, PolicyRef::Step(0))];
    assert_eq!(decide(out(), vec![], true, false, 15, (2, 10)), None);
    assert_eq!(decide(out(), vec![], true, false, 10, (2, 10)), None);
    assert!(matches!(
        decide(
            vec![prop(1, PolicyRef::Step(0))],
            vec![],
            true,
            false,
            0,
            (2, 10)
        ),
        Some(Decision::Out { capacity: 2, .. })
    ));
}

/// `decisions.csv`'s rule names the bound that clamped a decision (AAS-UG: a scale-out above
/// max goes to max, a scale-in below min goes to min), and why nothing changed.
#[test]
fn the_rule_names_the_clamp_and_what_held_a_decision_back() {
    let prop = |capacity| Proposal {
        capacity,
        policy: PolicyRef::TargetTracking(0),
        reason: String::new(),
    };
    let c = |capacity, out: bool, cooldown| Considered {
        capacity,
        policy: PolicyRef::TargetTracking(0),
        why: Why::TargetHigh {
            metric: ServiceMetric::CpuUtilization,
            value: 0.0,
            target: 50.0,
            running: 5,
        },
        scales_out: out,
        scales_in: !out,
        cooldown,
    };
    let out = Decision::Out {
        capacity: 10,
        proposal: prop(15),
    };
    assert_eq!(
        rule(Some(&out), &[c(15, true, false)], true, false, 5),
        Some("scale_out_max_capacity")
    );
    let inn = Decision::In {
        capacity: 2,
        proposal: prop(1),
        policies: vec![PolicyRef::TargetTracking(0)],
    };
    assert_eq!(
        rule(Some(&inn), &[c(1, false, false)], true, false, 5),
        Some("scale_in_min_capacity")
    );
    assert_eq!(rule(None, &[], true, false, 5), None);
    assert_eq!(
        rule(None, &[c(3, false, false)], true, true, 5),
        Some("deployment_in_progress")
    );
    assert_eq!(
        rule(None, &[c(3, false, false)], false, false, 5),
        Some("scale_in_not_unanimous")
    );
    assert_eq!(
        rule(None, &[c(8, true, true)], true, false, 5),
        Some("cooldown")
    );
    assert_eq!(
        rule(None, &[c(5, true, false)], true, false, 5),
        Some("no_change")
    );
}
