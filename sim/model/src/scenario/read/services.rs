//! `[[services]]`.

use super::prelude::*;

pub(super) fn read_service(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    cluster_defs: &[ClusterDef],
    defs: &[TaskDefinition],
    resolution_ms: u64,
    read_file: Option<FileReader<'_>>,
) -> Option<ServiceDef> {
    let clusters: Vec<&str> = cluster_defs.iter().map(|c| c.name.as_str()).collect();
    let mut t = cx.table(n, path)?;
    let load = t.opt(cx, "load", |cx, n, p| read_load(cx, n, p, read_file));
    let load_failed = t.has("load") && load.is_none();
    let auto_scaling = t.opt(cx, "auto_scaling", |cx, n, p| {
        read_service_scaling(cx, n, p, resolution_ms)
    });
    let scaling_failed = t.has("auto_scaling") && auto_scaling.is_none();
    let name = t.req(cx, "name", "a service name", |cx, n, p| cx.string(n, p));
    let cluster = match t.get("cluster") {
        Some(c) => resolve(cx, c, &t.child("cluster"), &clusters, "cluster"),
        None => (!clusters.is_empty()).then_some(0),
    };
    let explicit_launch = t.has("launch_type") || t.has("capacity_provider_strategy");
    let launch = read_launch(cx, &mut t, n, path, cluster.map(|c| &cluster_defs[c]));
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
    let desired = if daemon {
        if t.has("desired_count") {
            let _ = t.get("desired_count");
            cx.error(&n.origin, &t.child("desired_count"), "a DAEMON service has no desired count: it runs one task on every eligible instance (ECS-DG ecs_services.html)");
        }
        Some(0)
    } else {
        t.req(cx, "desired_count", "a number of tasks", |cx, n, p| {
            cx.u32(n, p, 0, 10_000_000)
        })
    };
    let strategy = if t.has("placement_strategy") {
        if daemon {
            let _ = t.get("placement_strategy");
            cx.error(
                &n.origin,
                &t.child("placement_strategy"),
                "a DAEMON service takes no placement strategy (ECS-DG ecs_services.html)",
            );
            None
        } else {
            t.opt(cx, "placement_strategy", |cx, n, p| {
                read_strategies(cx, n, p)
            })
        }
    } else {
        Some(default_service_strategy())
    };
    let svc_constraints = t.opt(cx, "placement_constraints", |cx, n, p| {
        read_constraints(cx, n, p, true)
    });
    let mut breaker = None;
    let grace = t
        .opt(cx, "health_check_grace_period", |cx, n, p| {
            cx.duration(n, p)
        })
        .unwrap_or(0);
    let lb = t.opt(cx, "load_balancer", |cx, n, p| {
        let mut l = cx.table(n, p)?;
        let interval = l
            .opt(cx, "health_check_interval", |cx, n, p| cx.duration(n, p))
            .unwrap_or(30_000);
        l.finish(cx);
        Some(interval)
    });
    let (max_pct, min_pct) = match t.get("deployment_configuration") {
        Some(dn) => {
            let dp = t.child("deployment_configuration");
            match cx.table(dn, &dp) {
                Some(mut dt) => {
                    breaker = dt.opt(cx, "circuit_breaker", read_circuit_breaker);
                    let max = dt
                        .opt(cx, "maximum_percent", |cx, n, p| cx.u32(n, p, 100, 200))
                        .unwrap_or(if daemon { 100 } else { 200 });
                    let min = dt
                        .opt(cx, "minimum_healthy_percent", |cx, n, p| {
                            cx.u32(n, p, 0, 100)
                        })
                        .unwrap_or(if daemon { 0 } else { 100 });
                    dt.finish(cx);
                    if daemon && max != 100 {
                        cx.error(&dn.origin, &format!("{dp}.maximum_percent"), "a DAEMON service's maximum_percent must be 100 (ECS-DG deployment-type-ecs.html)");
                    }
                    (max, min)
                }
                None => (200, 100),
            }
        }
        None => {
            if daemon {
                (100, 0)
            } else {
                (200, 100)
            }
        }
    };
    t.finish(cx);
    if load_failed || scaling_failed {
        return None;
    }
    if let Some(a) = &auto_scaling {
        if daemon {
            cx.error(
                &n.origin,
                &format!("{path}.auto_scaling"),
                "a DAEMON service has no desired count to scale (ECS-DG ecs_services.html)",
            );
            return None;
        }
        if load.is_none() && (!a.target_tracking.is_empty() || !a.step_scaling.is_empty()) {
            cx.error(&n.origin, &format!("{path}.auto_scaling"), "scaling policies act on CPU, memory or request metrics, which come from the service's load; add [services.load]");
            return None;
        }
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
        .and_then(|l| l.1.clone())
        .unwrap_or_else(|| format!("service/{}", name.as_deref().unwrap_or("")));
    let mut constraints: Vec<(String, Constraint)> = defs[def].constraints.clone();
    constraints.extend(svc_constraints.unwrap_or_default());
    if constraints.len() > MAX_CONSTRAINTS {
        cx.error(&n.origin, &format!("{path}.placement_constraints"), format!("{} constraints with the task definition's; ECS allows at most {MAX_CONSTRAINTS} per task", constraints.len()));
        return None;
    }
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
        constraints: constraints.into_iter().map(|c| c.1).collect(),
        maximum_percent: max_pct,
        minimum_healthy_percent: min_pct,
        launch: launch.0,
        availability_zones: launch.1,
        load_stream,
        load: load.map(|l| l.0),
        auto_scaling,
        circuit_breaker: breaker,
        health_check_grace_ms: grace,
        load_balancer_check_ms: lb,
    })
}
