//! A service (`CreateService`/`UpdateService` input, the `service` of their output, an entry of
//! `DescribeServices`' `services`, CloudFormation `AWS::ECS::Service` properties) mapped onto
//! `[[services]]`.

use super::obj::{Notes, Obj, Out, array, short_name};
use super::task_definition::constraints;
use crate::scenario::tree::{Kind, Node, Origin};

/// Fields of a service that do not affect scheduling, or describe its state rather than its
/// definition (outputs): accepted and ignored.
const IGNORED: &[&str] = &[
    "serviceArn",
    "status",
    "runningCount",
    "pendingCount",
    "deployments",
    "events",
    "createdAt",
    "createdBy",
    "roleArn",
    "role",
    "platformVersion",
    "platformFamily",
    "networkConfiguration",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "enableECSManagedTags",
    "propagateTags",
    "tags",
    "enableExecuteCommand",
    "clientToken",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
    "forceNewDeployment",
    "taskSets",
    "service",
    "currentServiceDeployment",
    "currentServiceRevisions",
];

/// Map a service object.
pub fn map(svc: &Node, path: &str, notes: &mut Notes) -> Option<Node> {
    let mut o = Obj::new(svc, path, notes)?;
    let mut out = Out::default();
    out.str("name", o.string("serviceName", notes));
    for key in ["cluster", "clusterArn"] {
        if let Some((c, origin)) = o.string(key, notes) {
            out.set("cluster", Kind::Str(short_name(&c, false)), &origin);
        }
    }
    if let Some((td, origin)) = o.string("taskDefinition", notes) {
        out.set("task_definition", Kind::Str(short_name(&td, true)), &origin);
    }
    out.int("desired_count", o.int("desiredCount", notes));
    if let Some((lt, origin)) = o.string("launchType", notes) {
        if lt == "EXTERNAL" {
            notes.warn(&origin, &o.child("launchType"), "not modelled, ignored: EXTERNAL (ECS Anywhere) instances are not simulated; the service runs on EC2 here");
        } else {
            out.set("launch_type", Kind::Str(lt), &origin);
        }
    }
    if let Some((p, items)) = o.array("capacityProviderStrategy", notes) {
        out.put(
            "capacity_provider_strategy",
            provider_strategy(items, &p, notes, &o.origin),
        );
    }
    if let Some((p, items)) = o.array("placementStrategy", notes) {
        out.put(
            "placement_strategy",
            strategies(items, &p, notes, &o.origin),
        );
    }
    if let Some((p, items)) = o.array("placementConstraints", notes) {
        out.put(
            "placement_constraints",
            constraints(items, &p, notes, &o.origin),
        );
    }
    if let Some(dc) = o.object("deploymentConfiguration", notes) {
        out.put("deployment_configuration", deployment(dc, notes));
    }
    out.seconds(
        "health_check_grace_period",
        o.int("healthCheckGracePeriodSeconds", notes),
    );
    if let Some((_, lbs)) = o.array("loadBalancers", notes)
        && let Some(first) = lbs.first()
    {
        // ECS says which target group, not its health check or deregistration delay: the
        // scenario's defaults (30 s, 300 s) are those of a new target group.
        out.put("load_balancer", Out::default().node(&first.origin));
    }
    out.str("scheduling_strategy", o.string("schedulingStrategy", notes));
    out.str(
        "availability_zone_rebalancing",
        o.string("availabilityZoneRebalancing", notes),
    );
    if let Some(mut dc) = o.object("deploymentController", notes) {
        if let Some((t, origin)) = dc.string("type", notes)
            && t != "ECS"
        {
            notes.warn(&origin, &dc.child("type"), format!("not modelled, ignored: a {t} deployment controller (ecsim deploys with ECS's rolling update)"));
        }
        dc.finish(notes);
    }
    o.ignore(IGNORED);
    o.unmodelled("loadBalancerName", "Classic Load Balancers", notes);
    let origin = o.origin.clone();
    o.finish(notes);
    Some(out.node(&origin))
}

fn deployment(mut dc: Obj<'_>, notes: &mut Notes) -> Node {
    let mut d = Out::default();
    d.int("maximum_percent", dc.int("maximumPercent", notes));
    d.int(
        "minimum_healthy_percent",
        dc.int("minimumHealthyPercent", notes),
    );
    if let Some(mut cb) = dc.object("deploymentCircuitBreaker", notes) {
        let mut c = Out::default();
        for (from, to) in [("enable", "enable"), ("rollback", "rollback")] {
            if let Some((b, origin)) = cb.boolean(from, notes) {
                c.set(to, Kind::Bool(b), &origin);
            }
        }
        let o = cb.origin.clone();
        cb.finish(notes);
        d.put("circuit_breaker", c.node(&o));
    }
    if let Some(mut al) = dc.object("alarms", notes) {
        let enabled = al.boolean("enable", notes).is_some_and(|b| b.0);
        al.ignore(&["alarmNames", "rollback"]);
        let (o, p) = (al.origin.clone(), al.path.clone());
        al.finish(notes);
        if enabled {
            notes.warn(&o, &p, "not modelled, ignored: CloudWatch alarms that fail a deployment (only the circuit breaker is simulated)");
        }
    }
    dc.unmodelled(
        "strategy",
        "deployment strategies other than rolling update (BLUE_GREEN)",
        notes,
    );
    dc.unmodelled(
        "bakeTimeInMinutes",
        "bake time belongs to blue/green deployments",
        notes,
    );
    dc.ignore(&["lifecycleHooks"]);
    let o = dc.origin.clone();
    dc.finish(notes);
    d.node(&o)
}

/// `capacityProviderStrategy` (of a service, job or cluster default).
pub fn provider_strategy(items: &[Node], p: &str, notes: &mut Notes, origin: &Origin) -> Node {
    let mut out = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let Some(mut co) = Obj::new(c, &format!("{p}[{i}]"), notes) else {
            continue;
        };
        let mut t = Out::default();
        t.str("capacity_provider", co.string("capacityProvider", notes));
        t.int("weight", co.int("weight", notes));
        t.int("base", co.int("base", notes));
        let o = co.origin.clone();
        co.finish(notes);
        out.push(t.node(&o));
    }
    array(out, origin)
}

/// `placementStrategy`: `{type, field}`, binpack fields in lower case as the scenario spells them.
pub fn strategies(items: &[Node], p: &str, notes: &mut Notes, origin: &Origin) -> Node {
    let mut out = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let Some(mut co) = Obj::new(c, &format!("{p}[{i}]"), notes) else {
            continue;
        };
        let mut t = Out::default();
        let ty = co.string("type", notes);
        let binpack = ty.as_ref().is_some_and(|t| t.0 == "binpack");
        t.str("type", ty);
        if let Some((f, fo)) = co.string("field", notes) {
            let f = if binpack { f.to_ascii_lowercase() } else { f };
            t.set("field", Kind::Str(f), &fo);
        }
        let o = co.origin.clone();
        co.finish(notes);
        out.push(t.node(&o));
    }
    array(out, origin)
}
