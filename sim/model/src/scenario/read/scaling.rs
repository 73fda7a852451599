//! `[services.auto_scaling]` (service auto scaling) and `managed_scaling` (cluster auto scaling).

use super::prelude::*;

pub(super) fn metric_name(
    cx: &mut Cx<'_>,
    n: &Node,
    p: &str,
    predefined: bool,
) -> Option<ServiceMetric> {
    cx.choice(
        n,
        p,
        if predefined {
            PREDEFINED_METRIC
        } else {
            METRIC
        },
    )
}

pub(super) fn periods(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    n_default: usize,
    m_default: usize,
) -> (Option<usize>, Option<usize>) {
    let n = t
        .opt(cx, "evaluation_periods", |cx, n, p| cx.u32(n, p, 1, 1440))
        .map_or(Some(n_default), |v| Some(v as usize));
    let m = t
        .opt(cx, "datapoints_to_alarm", |cx, n, p| cx.u32(n, p, 1, 1440))
        .map_or(m_default.min(n.unwrap_or(1)), |v| v as usize);
    if let Some(nv) = n
        && m > nv
    {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            &t.child("datapoints_to_alarm"),
            format!(
                "{m} datapoints to alarm out of {nv} evaluation periods; it must not exceed them"
            ),
        );
        return (None, None);
    }
    (n, Some(m))
}

pub(super) fn read_alarm(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    resolution_ms: u64,
) -> Option<AlarmDef> {
    let mut t = cx.table(n, path)?;
    let metric = t.req(
        cx,
        "metric",
        "CPUUtilization, MemoryUtilization, RequestCountPerTarget or RunningTaskCount",
        |cx, n, p| metric_name(cx, n, p, false),
    );
    let stat = t
        .opt(cx, "statistic", |cx, n, p| cx.choice(n, p, STATISTIC))
        .unwrap_or(Statistic::Average);
    let period = t.opt(cx, "period", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d == 0 || d % resolution_ms != 0 {
            cx.error(
                &n.origin,
                p,
                format!(
                    "the period must be a positive multiple of the metrics resolution ({} s)",
                    resolution_ms / 1000
                ),
            );
            return None;
        }
        Some(d)
    });
    let (ne, m) = periods(cx, &mut t, 1, 1);
    let cmp = t.req(
        cx,
        "comparison",
        "\">\", \">=\", \"<\" or \"<=\" (or GreaterThanThreshold, ...)",
        |cx, n, p| cx.choice(n, p, COMPARISON),
    );
    let threshold = t.req(cx, "threshold", "a number", |cx, n, p| {
        cx.number(n, p, -1e12, 1e12)
    });
    let treat = t
        .opt(cx, "treat_missing_data", |cx, n, p| {
            cx.choice(n, p, TREAT_MISSING)
        })
        .unwrap_or(TreatMissing::Missing);
    t.finish(cx);
    let period_ms = period.unwrap_or(60_000.max(resolution_ms));
    let ne = ne?;
    if period_ms * ne as u64 > 86_400_000 {
        cx.error(
            &n.origin,
            path,
            "evaluation_periods x period must not exceed one day (CW-UG)",
        );
        return None;
    }
    Some(AlarmDef {
        metric: metric?,
        statistic: stat,
        period_ms,
        evaluation_periods: ne,
        datapoints_to_alarm: m?,
        comparison: cmp?,
        threshold: threshold?,
        treat_missing: treat,
    })
}

pub(super) fn cooldown(cx: &mut Cx<'_>, t: &mut Tbl<'_>, key: &'static str) -> u64 {
    t.opt(cx, key, |cx, n, p| cx.duration(n, p))
        .unwrap_or(300_000)
}

pub(super) fn read_service_scaling(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    resolution_ms: u64,
) -> Option<ServiceScaling> {
    let mut t = cx.table(n, path)?;
    let min = t.req(cx, "min_capacity", "MinCapacity", |cx, n, p| {
        cx.u32(n, p, 0, 10_000_000)
    });
    let max = t.req(cx, "max_capacity", "MaxCapacity", |cx, n, p| {
        cx.u32(n, p, 0, 10_000_000)
    });
    let mut ok = true;
    let tts = t.tables(cx, "target_tracking", |cx, pt, i| {
        read_target_tracking(cx, pt, i, resolution_ms)
    });
    let tts = entries(tts, &mut ok);
    let steps = t.tables(cx, "step_scaling", |cx, st, i| {
        read_step_scaling(cx, st, i, resolution_ms)
    });
    let steps = entries(steps, &mut ok);
    let scheduled = t.tables(cx, "scheduled", |cx, st, _| read_scheduled(cx, st));
    let scheduled = entries(scheduled, &mut ok);
    t.finish(cx);
    let (min, max) = (min?, max?);
    if min > max {
        cx.error(
            &n.origin,
            path,
            format!("min_capacity {min} is above max_capacity {max}"),
        );
        return None;
    }
    if tts.len() + steps.len() > 50 {
        cx.error(
            &n.origin,
            path,
            "at most 50 scaling policies per scalable target (AAS-UG quotas)",
        );
        return None;
    }
    ok.then_some(ServiceScaling {
        min_capacity: min,
        max_capacity: max,
        target_tracking: tts,
        step_scaling: steps,
        scheduled,
    })
}

/// One `[[services.auto_scaling.target_tracking]]` policy with the two alarms ECS creates for it.
fn read_target_tracking(
    cx: &mut Cx<'_>,
    mut pt: Tbl<'_>,
    i: usize,
    resolution_ms: u64,
) -> Option<TargetTracking> {
    let name = pt
        .opt(cx, "name", |cx, n, p| cx.name(n, p, NameRule::Printable))
        .unwrap_or_else(|| format!("target-tracking-{i}"));
    let metric = pt.req(cx, "metric", "ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or ALBRequestCountPerTarget", |cx, n, p| metric_name(cx, n, p, true));
    let target = pt.req(cx, "target", "the target value", |cx, n, p| {
        let v = cx.number(n, p, 0.0, 1e12)?;
        if v <= 0.0 {
            cx.error(&n.origin, p, "expected a positive target");
            return None;
        }
        Some(v)
    });
    let out_cd = cooldown(cx, &mut pt, "scale_out_cooldown");
    let in_cd = cooldown(cx, &mut pt, "scale_in_cooldown");
    let disable = pt
        .opt(cx, "disable_scale_in", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(false);
    let high = alarm_shape(cx, &mut pt, "high_alarm", 3, 1.0);
    let low = alarm_shape(cx, &mut pt, "low_alarm", 15, 0.9);
    pt.finish(cx);
    let (metric, target, h, l) = (metric?, target?, high?, low?);
    let stat = if metric == ServiceMetric::RequestCountPerTarget {
        Statistic::Sum
    } else {
        Statistic::Average
    };
    let alarm = |(n, m, ratio): (usize, usize, f64), cmp: Comparison| AlarmDef {
        metric,
        statistic: stat,
        period_ms: 60_000.max(resolution_ms),
        evaluation_periods: n,
        datapoints_to_alarm: m,
        comparison: cmp,
        threshold: target * ratio,
        treat_missing: TreatMissing::Missing,
    };
    Some(TargetTracking {
        name,
        metric,
        target,
        scale_out_cooldown_ms: out_cd,
        scale_in_cooldown_ms: in_cd,
        disable_scale_in: disable,
        high: alarm(h, Comparison::GreaterThan),
        low: alarm(l, Comparison::LessThan),
    })
}

/// Evaluation periods, datapoints to alarm and threshold ratio of a target tracking alarm. The
/// alarm shapes ECS creates are observed, not documented (ecs-semantics 5.2); each part can be
/// changed.
fn alarm_shape(
    cx: &mut Cx<'_>,
    pt: &mut Tbl<'_>,
    key: &'static str,
    n_default: usize,
    ratio_default: f64,
) -> Option<(usize, usize, f64)> {
    match pt.get(key) {
        None => Some((n_default, n_default, ratio_default)),
        Some(node) => {
            let p = pt.child(key);
            let mut a = cx.table(node, &p)?;
            let (n, m) = periods(cx, &mut a, n_default, n_default);
            let r = a
                .opt(cx, "threshold_ratio", |cx, n, p| {
                    cx.number(n, p, 0.01, 10.0)
                })
                .unwrap_or(ratio_default);
            a.finish(cx);
            Some((n?, m?, r))
        }
    }
}

/// One `[[services.auto_scaling.step_scaling]]` policy with its alarm.
fn read_step_scaling(
    cx: &mut Cx<'_>,
    mut st: Tbl<'_>,
    i: usize,
    resolution_ms: u64,
) -> Option<StepScaling> {
    let name = st
        .opt(cx, "name", |cx, n, p| cx.name(n, p, NameRule::Printable))
        .unwrap_or_else(|| format!("step-scaling-{i}"));
    let alarm = st.req(
        cx,
        "alarm",
        "the alarm table that invokes the policy",
        |cx, n, p| read_alarm(cx, n, p, resolution_ms),
    );
    let kind = st
        .opt(cx, "adjustment_type", |cx, n, p| {
            cx.choice(n, p, ADJUSTMENT_TYPE)
        })
        .unwrap_or(AdjustmentType::ChangeInCapacity);
    let steps = st.req(
        cx,
        "steps",
        "an array of { lower, upper, adjustment }",
        read_steps,
    );
    let min_mag = st.opt(cx, "min_adjustment_magnitude", |cx, n, p| {
        cx.u32(n, p, 1, 1_000_000)
    });
    let cd = cooldown(cx, &mut st, "cooldown");
    let agg = st
        .opt(cx, "metric_aggregation", |cx, n, p| {
            cx.choice(n, p, AGGREGATION)
        })
        .unwrap_or(Statistic::Average);
    let (origin, p) = (st.origin.clone(), st.path.clone());
    st.finish(cx);
    if min_mag.is_some() && kind != AdjustmentType::PercentChangeInCapacity {
        cx.error(
            &origin,
            &format!("{p}.min_adjustment_magnitude"),
            "applies to PercentChangeInCapacity only",
        );
        return None;
    }
    Some(StepScaling {
        name,
        alarm: alarm?,
        adjustment_type: kind,
        steps: steps?,
        min_adjustment_magnitude: min_mag,
        cooldown_ms: cd,
        aggregation: agg,
    })
}

/// `steps`: step adjustments whose intervals neither overlap nor leave gaps.
fn read_steps(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<Step>> {
    let items = cx.array(n, p)?;
    let mut out = Vec::new();
    for (k, s) in items.iter().enumerate() {
        let sp = format!("{p}[{k}]");
        let mut s = cx.table(s, &sp)?;
        let lower = s.opt(cx, "lower", |cx, n, p| cx.number(n, p, -1e12, 1e12));
        let upper = s.opt(cx, "upper", |cx, n, p| cx.number(n, p, -1e12, 1e12));
        let adj = s.req(
            cx,
            "adjustment",
            "ScalingAdjustment (an integer)",
            |cx, n, p| cx.int(n, p, -1_000_000, 1_000_000),
        );
        s.finish(cx);
        out.push(Step {
            lower,
            upper,
            adjustment: adj?,
        });
    }
    // AAS-API: intervals may not overlap or leave gaps; at most one open bound a side.
    let mut sorted = out.clone();
    sorted.sort_by(|a, b| {
        a.lower
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY))
    });
    for w in sorted.windows(2) {
        if w[0].upper != w[1].lower {
            cx.error(&n.origin, p, "step intervals overlap or leave a gap: each upper bound must equal the next step's lower bound (AAS-API StepAdjustment)");
            return None;
        }
    }
    if out.is_empty() {
        cx.error(&n.origin, p, "expected at least one step");
        return None;
    }
    Some(out)
}

/// One `[[services.auto_scaling.scheduled]]` action.
fn read_scheduled(cx: &mut Cx<'_>, mut st: Tbl<'_>) -> Option<ScheduledAction> {
    let at = st.req(cx, "at", "the first time it runs", |cx, n, p| {
        cx.duration(n, p)
    });
    let every = st.opt(cx, "every", |cx, n, p| {
        let d = cx.duration(n, p)?;
        if d < 60_000 {
            cx.error(
                &n.origin,
                p,
                "scheduled actions have a resolution of one minute (AAS-UG)",
            );
            return None;
        }
        Some(d)
    });
    let mn = st.opt(cx, "min_capacity", |cx, n, p| cx.u32(n, p, 0, 10_000_000));
    let mx = st.opt(cx, "max_capacity", |cx, n, p| cx.u32(n, p, 0, 10_000_000));
    let (origin, p) = (st.origin.clone(), st.path.clone());
    st.finish(cx);
    if mn.is_none() && mx.is_none() {
        cx.error(
            &origin,
            &p,
            "a scheduled action sets min_capacity, max_capacity or both",
        );
        return None;
    }
    Some(ScheduledAction {
        at_ms: at?,
        every_ms: every,
        min_capacity: mn,
        max_capacity: mx,
    })
}

pub(super) fn read_managed_scaling(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<ManagedScaling> {
    if let Kind::Bool(true) = n.kind {
        return Some(default_managed());
    }
    let mut t = cx.table(n, path)?;
    let d = default_managed();
    let target = t
        .opt(cx, "target_capacity", |cx, n, p| {
            cx.number(n, p, 1.0, 100.0)
        })
        .unwrap_or(d.target_capacity);
    let min = t
        .opt(cx, "minimum_scaling_step_size", |cx, n, p| {
            cx.u32(n, p, 1, 10_000)
        })
        .unwrap_or(1);
    let max = t
        .opt(cx, "maximum_scaling_step_size", |cx, n, p| {
            cx.u32(n, p, 1, 10_000)
        })
        .unwrap_or(10_000);
    let warm = t.opt(cx, "instance_warmup_period", |cx, n, p| {
        let v = cx.duration(n, p)?;
        if v > 10_000_000 {
            cx.error(
                &n.origin,
                p,
                "instanceWarmupPeriod is 0 to 10,000 seconds (ECS-API ManagedScaling)",
            );
            return None;
        }
        Some(v)
    });
    let out = t
        .opt(cx, "scale_out_datapoints", |cx, n, p| cx.u32(n, p, 1, 60))
        .unwrap_or(1) as usize;
    let inn = t
        .opt(cx, "scale_in_datapoints", |cx, n, p| cx.u32(n, p, 1, 60))
        .unwrap_or(15) as usize;
    let pct = t
        .opt(cx, "max_scale_in_pct", |cx, n, p| cx.u32(n, p, 1, 100))
        .unwrap_or(50);
    t.finish(cx);
    if min > max {
        cx.error(
            &n.origin,
            path,
            "minimum_scaling_step_size is above maximum_scaling_step_size",
        );
        return None;
    }
    Some(ManagedScaling {
        target_capacity: target,
        minimum_scaling_step_size: min,
        maximum_scaling_step_size: max,
        instance_warmup_ms: warm.unwrap_or(300_000),
        scale_out_datapoints: out,
        scale_in_datapoints: inn,
        max_scale_in_pct: pct,
    })
}

pub(super) fn default_managed() -> ManagedScaling {
    ManagedScaling {
        target_capacity: 100.0,
        minimum_scaling_step_size: 1,
        maximum_scaling_step_size: 10_000,
        instance_warmup_ms: 300_000,
        scale_out_datapoints: 1,
        scale_in_datapoints: 15,
        max_scale_in_pct: 50,
    }
}
