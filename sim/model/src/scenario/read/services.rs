//! `[[services]]`.

use super::prelude::*;

pub(super) fn read_service(
    cx: &mut Cx<'_>,
    mut t: Tbl<'_>,
    cluster_defs: &[ClusterDef],
    defs: &[TaskDefinition],
    resolution_ms: u64,
    read_file: Option<FileReader<'_>>,
) -> Option<ServiceDef> {
    let (origin, path) = (t.origin.clone(), t.path.clone());
    let load = t.opt(cx, "load", |cx, n, p| read_load(cx, n, p, read_file));
    let load_failed = t.has("load") && load.is_none();
    let auto_scaling = t.opt(cx, "auto_scaling", |cx, n, p| {
        read_service_scaling(cx, n, p, resolution_ms)
    });
    let scaling_failed = t.has("auto_scaling") && auto_scaling.is_none();
    let name = t.req(cx, "name", "a service name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
    let cluster = read_cluster_ref(cx, &mut t, cluster_defs);
    let explicit_launch = t.has("launch_type") || t.has("capacity_provider_strategy");
    let launch = read_launch(cx, &mut t, cluster.map(|c| &cluster_defs[c]));
    let def_names: Vec<&str> = defs.iter().map(|d| d.family.as_str()).collect();
    let def = t.req(
        cx,
        "task_definition",
        "a task definition family",
        |cx, n, p| resolve(cx, n, p, &def_names, "task definition"),
    );
    let daemon = t
        .opt(cx, "scheduling_strategy", |cx, n, p| {
            cx.choice(n, p, SCHEDULING)
        })
        .is_some_and(|s| s == SchedulingStrategy::Daemon);
    let desired = read_desired_count(cx, &mut t, daemon);
    let strategy = read_service_strategy(cx, &mut t, daemon);
    let svc_constraints = t.opt(cx, "placement_constraints", |cx, n, p| {
        read_constraints(cx, n, p, true)
    });
    let grace = t
        .opt(cx, "health_check_grace_period", |cx, n, p| {
            cx.duration(n, p)
        })
        .unwrap_or(0);
    let lb = t.opt(cx, "load_balancer", read_load_balancer);
    let deployment = read_deployment(cx, &mut t, daemon);
    let az_rebalancing = read_az_rebalancing(cx, &mut t, daemon, strategy.as_deref());
    t.finish(cx);
    if load_failed
        || scaling_failed
        || !check_auto_scaling(cx, &origin, &path, daemon, &load, &auto_scaling)
    {
        return None;
    }
    let def = def?;
    let mut launch = launch?;
    if daemon && !explicit_launch {
        // A cluster's default capacity provider strategy does not apply to DAEMON services,
        // which run on EC2 container instances only.
        launch.0 = LaunchSpec::Ec2;
    }
    let load_stream = load
        .as_ref()
        .and_then(|l| l.stream.clone())
        .unwrap_or_else(|| format!("service/{}", name.as_deref().unwrap_or("")));
    let (reserved_cpu, reserved_mem) = (defs[def].cpu_units, defs[def].memory_mib);
    let constraints = service_constraints(cx, &origin, &path, &defs[def], svc_constraints)?;
    Some(ServiceDef {
        name: name?,
        cluster: cluster?,
        task_definition: def,
        scheduling: if daemon {
            SchedulingStrategy::Daemon
        } else {
            SchedulingStrategy::Replica
        },
        desired_count: desired?,
        strategy: strategy?,
        constraints,
        maximum_percent: deployment.maximum_percent,
        minimum_healthy_percent: deployment.minimum_healthy_percent,
        launch: launch.0,
        availability_zones: launch.1,
        load_stream,
        load: load.map(|l| l.model(reserved_cpu, reserved_mem)),
        auto_scaling,
        circuit_breaker: deployment.circuit_breaker,
        health_check_grace_ms: grace,
        load_balancer_check_ms: lb.map(|l| l.0),
        deregistration_delay_ms: lb.map_or(0, |l| l.1),
        az_rebalancing,
    })
}

/// `availability_zone_rebalancing`: `"ENABLED"` or `"DISABLED"`. Unset, it is enabled for a
/// compatible service: ECS enables it by default for new services created from 30 June 2025,
/// except those using `binpack`, which are incompatible (ecs-semantics 4.8). A DAEMON service
/// runs one task per instance and has nothing to rebalance.
fn read_az_rebalancing(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    daemon: bool,
    strategy: Option<&[Strategy]>,
) -> bool {
    let binpack = strategy.is_some_and(|s| s.iter().any(|x| matches!(x, Strategy::Binpack(_))));
    let compatible = !daemon && !binpack;
    let Some(node) = t.get("availability_zone_rebalancing") else {
        return compatible;
    };
    let path = t.child("availability_zone_rebalancing");
    let Some(on) = cx.choice(node, &path, AZ_REBALANCING) else {
        return false;
    };
    if on && !compatible {
        let why = if daemon {
            "got \"ENABLED\"; expected \"DISABLED\" for a DAEMON service: it runs one task on every instance and has no task count to even out over Availability Zones (leave the field out for the default)"
        } else {
            "got \"ENABLED\"; expected \"DISABLED\" with this placement_strategy: Availability Zone rebalancing is incompatible with binpack, which packs tasks on as few instances as possible whatever their zone (ecs-semantics 4.8); leave the field out (binpack services default to DISABLED) or use a spread strategy"
        };
        cx.error(&node.origin, &path, why);
        return false;
    }
    on
}

/// `cluster` of a service or job: a cluster name, by default the first cluster.
pub(super) fn read_cluster_ref(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    cluster_defs: &[ClusterDef],
) -> Option<usize> {
    let clusters: Vec<&str> = cluster_defs.iter().map(|c| c.name.as_str()).collect();
    match t.get("cluster") {
        Some(c) => resolve(cx, c, &t.child("cluster"), &clusters, "cluster"),
        None => (!clusters.is_empty()).then_some(0),
    }
}

/// `desired_count`: required of a REPLICA service, refused for a DAEMON one (which gets 0).
fn read_desired_count(cx: &mut Cx<'_>, t: &mut Tbl<'_>, daemon: bool) -> Option<u32> {
    if daemon {
        if t.has("desired_count") {
            let _ = t.get("desired_count");
            cx.error(&t.origin.clone(), &t.child("desired_count"), "a DAEMON service has no desired count: it runs one task on every eligible instance (ECS-DG ecs_services.html)");
        }
        Some(0)
    } else {
        t.req(cx, "desired_count", "a number of tasks", |cx, n, p| {
            cx.u32(n, p, 0, 10_000_000)
        })
    }
}

/// `placement_strategy`: refused for a DAEMON service; by default spread over zones, then
/// instances.
fn read_service_strategy(cx: &mut Cx<'_>, t: &mut Tbl<'_>, daemon: bool) -> Option<Vec<Strategy>> {
    if !t.has("placement_strategy") {
        return Some(default_service_strategy());
    }
    if daemon {
        let _ = t.get("placement_strategy");
        cx.error(
            &t.origin.clone(),
            &t.child("placement_strategy"),
            "a DAEMON service takes no placement strategy (ECS-DG ecs_services.html)",
        );
        None
    } else {
        t.opt(cx, "placement_strategy", |cx, n, p| {
            read_strategies(cx, n, p)
        })
    }
}

/// `[services.load_balancer]`: the target group's health check interval and deregistration
/// delay (default 300 s, ECS-DG load-balancer-connection-draining.html).
fn read_load_balancer(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<(u64, u64)> {
    let mut l = cx.table(n, p)?;
    let interval = l
        .opt(cx, "health_check_interval", |cx, n, p| cx.duration(n, p))
        .unwrap_or(30_000);
    let delay = l
        .opt(cx, "deregistration_delay", |cx, n, p| cx.duration(n, p))
        .unwrap_or(300_000);
    l.finish(cx);
    Some((interval, delay))
}

/// What `[services.deployment_configuration]` sets.
struct Deployment {
    maximum_percent: u32,
    minimum_healthy_percent: u32,
    circuit_breaker: Option<CircuitBreaker>,
}

/// `[services.deployment_configuration]`; the defaults depend on the scheduling strategy.
fn read_deployment(cx: &mut Cx<'_>, t: &mut Tbl<'_>, daemon: bool) -> Deployment {
    let mut d = Deployment {
        maximum_percent: 200,
        minimum_healthy_percent: 100,
        circuit_breaker: None,
    };
    let Some(dn) = t.get("deployment_configuration") else {
        if daemon {
            (d.maximum_percent, d.minimum_healthy_percent) = (100, 0);
        }
        return d;
    };
    let dp = t.child("deployment_configuration");
    let Some(mut dt) = cx.table(dn, &dp) else {
        return d;
    };
    d.circuit_breaker = dt.opt(cx, "circuit_breaker", read_circuit_breaker);
    d.maximum_percent = dt
        .opt(cx, "maximum_percent", |cx, n, p| cx.u32(n, p, 100, 200))
        .unwrap_or(if daemon { 100 } else { 200 });
    d.minimum_healthy_percent = dt
        .opt(cx, "minimum_healthy_percent", |cx, n, p| {
            cx.u32(n, p, 0, 100)
        })
        .unwrap_or(if daemon { 0 } else { 100 });
    dt.finish(cx);
    if daemon && d.maximum_percent != 100 {
        cx.error(
            &dn.origin,
            &format!("{dp}.maximum_percent"),
            "a DAEMON service's maximum_percent must be 100 (ECS-DG deployment-type-ecs.html)",
        );
    }
    d
}

/// Auto scaling needs a desired count to scale and, for policies, the service's load; false
/// after reporting why not.
fn check_auto_scaling(
    cx: &mut Cx<'_>,
    origin: &Origin,
    path: &str,
    daemon: bool,
    load: &Option<LoadSpec>,
    auto_scaling: &Option<ServiceScaling>,
) -> bool {
    let Some(a) = auto_scaling else {
        return true;
    };
    if daemon {
        cx.error(
            origin,
            &format!("{path}.auto_scaling"),
            "a DAEMON service has no desired count to scale (ECS-DG ecs_services.html)",
        );
        return false;
    }
    if load.is_none() && (!a.target_tracking.is_empty() || !a.step_scaling.is_empty()) {
        cx.error(origin, &format!("{path}.auto_scaling"), "scaling policies act on CPU, memory or request metrics, which come from the service's load; add [services.load]");
        return false;
    }
    true
}

/// The task definition's constraints and the service's, within the ECS limit per task.
fn service_constraints(
    cx: &mut Cx<'_>,
    origin: &Origin,
    path: &str,
    def: &TaskDefinition,
    svc_constraints: Option<Vec<(String, Constraint)>>,
) -> Option<Vec<Constraint>> {
    let mut constraints: Vec<(String, Constraint)> = def.constraints.clone();
    constraints.extend(svc_constraints.unwrap_or_default());
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(origin, &format!("{path}.placement_constraints"), format!("{} constraints with the task definition's; ECS allows at most {MAX_CONSTRAINTS} per task", constraints.len()));
        return None;
    }
    Some(constraints.into_iter().map(|c| c.1).collect())
}
