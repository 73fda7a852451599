//! Application Auto Scaling: scalable targets (`RegisterScalableTarget` input,
//! `DescribeScalableTargets` output) and scaling policies (`PutScalingPolicy` input,
//! `DescribeScalingPolicies` output, a bare target tracking or step scaling configuration as
//! given to `--target-tracking-scaling-policy-configuration`), mapped onto
//! `[services.auto_scaling]`.

use super::obj::{Notes, Obj, Out, array};
use crate::scenario::tree::{Kind, Node, Origin};

/// Which service a target or policy is for: `ResourceId` `service/<cluster>/<service>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resource {
    /// The cluster's name.
    pub cluster: Option<String>,
    /// The service's name.
    pub service: Option<String>,
}

/// What a scaling object maps to.
#[derive(Debug, Clone)]
pub enum Scaling {
    /// Bounds: `min_capacity`, `max_capacity`.
    Target(Node),
    /// A `[[services.auto_scaling.target_tracking]]` entry.
    TargetTracking(Node),
    /// A `[[services.auto_scaling.step_scaling]]` entry (without its alarm, which CloudWatch
    /// holds, not Application Auto Scaling).
    StepScaling(Node),
}

const COMMON_IGNORED: &[&str] = &[
    "serviceNamespace",
    "scalableDimension",
    "creationTime",
    "policyARN",
    "alarms",
    "roleARN",
    "suspendedState",
    "scalableTargetARN",
    "tags",
];

fn resource(o: &mut Obj<'_>, notes: &mut Notes) -> Resource {
    let mut r = Resource::default();
    if let Some((id, _)) = o.string("resourceId", notes) {
        let mut parts = id.split('/');
        if parts.next() == Some("service") {
            r.cluster = parts.next().map(str::to_string);
            r.service = parts.next().map(str::to_string);
        }
    }
    r
}

/// A scalable target.
pub fn map_target(n: &Node, path: &str, notes: &mut Notes) -> Option<(Resource, Scaling)> {
    let mut o = Obj::new(n, path, notes)?;
    let r = resource(&mut o, notes);
    let mut out = Out::default();
    out.int("min_capacity", o.int("minCapacity", notes));
    out.int("max_capacity", o.int("maxCapacity", notes));
    o.ignore(COMMON_IGNORED);
    let origin = o.origin.clone();
    o.finish(notes);
    Some((r, Scaling::Target(out.node(&origin))))
}

/// A scaling policy (with `PolicyType` and its configuration) or a bare configuration.
/// `default_name` names a bare configuration (the file's name). `None` for a policy ecsim
/// cannot simulate (a warning says why).
pub fn map_policy(
    n: &Node,
    path: &str,
    default_name: &str,
    notes: &mut Notes,
) -> Option<(Resource, Scaling)> {
    let mut o = Obj::new(n, path, notes)?;
    let r = resource(&mut o, notes);
    let name = o.string("policyName", notes);
    let _ = o.get("policyType");
    o.ignore(COMMON_IGNORED);
    let origin = o.origin.clone();
    let name = name.unwrap_or_else(|| (default_name.to_string(), origin.clone()));
    let mapped = if let Some(tt) = o.object("targetTrackingScalingPolicyConfiguration", notes) {
        target_tracking(tt, notes)
    } else if let Some(ss) = o.object("stepScalingPolicyConfiguration", notes) {
        step_scaling(ss, notes)
    } else if o.has("targetValue") {
        let (p, o2) = (o.path.clone(), o.origin.clone());
        let mapped = target_tracking(o, notes);
        return with_name(mapped, name, r, &p, &o2);
    } else if o.has("stepAdjustments") {
        let (p, o2) = (o.path.clone(), o.origin.clone());
        let mapped = step_scaling(o, notes);
        return with_name(mapped, name, r, &p, &o2);
    } else {
        o.unmodelled(
            "predictiveScalingPolicyConfiguration",
            "predictive scaling",
            notes,
        );
        o.finish(notes);
        return None;
    };
    o.finish(notes);
    with_name(mapped, name, r, path, &origin)
}

fn with_name(
    mapped: Option<Scaling>,
    name: (String, Origin),
    r: Resource,
    _path: &str,
    _origin: &Origin,
) -> Option<(Resource, Scaling)> {
    let named = |n: Node| {
        let Kind::Table(mut t) = n.kind else { return n };
        t.insert(
            0,
            (
                "name".into(),
                name.1.clone(),
                Node {
                    kind: Kind::Str(name.0.clone()),
                    origin: name.1.clone(),
                },
            ),
        );
        Node {
            kind: Kind::Table(t),
            origin: n.origin,
        }
    };
    Some((
        r,
        match mapped? {
            Scaling::TargetTracking(n) => Scaling::TargetTracking(named(n)),
            Scaling::StepScaling(n) => Scaling::StepScaling(named(n)),
            t @ Scaling::Target(_) => t,
        },
    ))
}

fn target_tracking(mut o: Obj<'_>, notes: &mut Notes) -> Option<Scaling> {
    let mut out = Out::default();
    let mut ok = true;
    if let Some(mut pm) = o.object("predefinedMetricSpecification", notes) {
        out.str("metric", pm.string("predefinedMetricType", notes));
        pm.ignore(&["resourceLabel"]);
        pm.finish(notes);
    } else if let Some(cm) = o.object("customizedMetricSpecification", notes) {
        match customized(cm, notes) {
            Some((metric, origin)) => out.set("metric", Kind::Str(metric.into()), &origin),
            None => ok = false,
        }
    }
    if let Some((v, origin)) = o.number("targetValue", notes) {
        let kind = if v.fract() == 0.0 {
            Kind::Int(v as i64)
        } else {
            Kind::Float(v)
        };
        out.set("target", kind, &origin);
    }
    out.seconds("scale_out_cooldown", o.int("scaleOutCooldown", notes));
    out.seconds("scale_in_cooldown", o.int("scaleInCooldown", notes));
    if let Some((b, origin)) = o.boolean("disableScaleIn", notes) {
        out.set("disable_scale_in", Kind::Bool(b), &origin);
    }
    let origin = o.origin.clone();
    o.finish(notes);
    ok.then(|| Scaling::TargetTracking(out.node(&origin)))
}

/// A customized metric that is one of the predefined ones in disguise (the service's average
/// CPU or memory utilization from `AWS/ECS`); anything else (SQS backlog, metric math) is
/// warned about and the policy left out, since ecsim has no such metric.
fn customized(mut cm: Obj<'_>, notes: &mut Notes) -> Option<(&'static str, Origin)> {
    let origin = cm.origin.clone();
    let path = cm.path.clone();
    let metric = cm.string("metricName", notes).map(|m| m.0);
    let namespace = cm.string("namespace", notes).map(|m| m.0);
    let stat = cm.string("statistic", notes).map(|m| m.0);
    cm.ignore(&["dimensions", "unit", "metrics"]);
    cm.finish(notes);
    let known = match (metric.as_deref(), namespace.as_deref(), stat.as_deref()) {
        (Some("CPUUtilization"), Some("AWS/ECS"), Some("Average")) => {
            Some("ECSServiceAverageCPUUtilization")
        }
        (Some("MemoryUtilization"), Some("AWS/ECS"), Some("Average")) => {
            Some("ECSServiceAverageMemoryUtilization")
        }
        _ => None,
    };
    if known.is_none() {
        notes.warn(&origin, &path, "not modelled, policy left out: a customized metric other than the service's average CPUUtilization or MemoryUtilization in AWS/ECS (ecsim simulates only the service's own CPU, memory and request metrics); write the policy with one of those in the scenario if it tracks a proxy of them");
    }
    known.map(|k| (k, origin))
}

fn step_scaling(mut o: Obj<'_>, notes: &mut Notes) -> Option<Scaling> {
    let mut out = Out::default();
    out.str("adjustment_type", o.string("adjustmentType", notes));
    out.seconds("cooldown", o.int("cooldown", notes));
    out.int(
        "min_adjustment_magnitude",
        o.int("minAdjustmentMagnitude", notes),
    );
    out.str(
        "metric_aggregation",
        o.string("metricAggregationType", notes),
    );
    if let Some((p, items)) = o.array("stepAdjustments", notes) {
        let mut steps = Vec::new();
        for (i, s) in items.iter().enumerate() {
            let Some(mut so) = Obj::new(s, &format!("{p}[{i}]"), notes) else {
                continue;
            };
            let mut st = Out::default();
            for (from, to) in [
                ("metricIntervalLowerBound", "lower"),
                ("metricIntervalUpperBound", "upper"),
            ] {
                if let Some((v, origin)) = so.number(from, notes) {
                    let kind = if v.fract() == 0.0 {
                        Kind::Int(v as i64)
                    } else {
                        Kind::Float(v)
                    };
                    st.set(to, kind, &origin);
                }
            }
            st.int("adjustment", so.int("scalingAdjustment", notes));
            let so_origin = so.origin.clone();
            so.finish(notes);
            steps.push(st.node(&so_origin));
        }
        out.put("steps", array(steps, &o.origin));
    }
    let origin = o.origin.clone();
    o.finish(notes);
    Some(Scaling::StepScaling(out.node(&origin)))
}
