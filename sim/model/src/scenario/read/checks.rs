//! Checks across sections: unique names, and that every task fits somewhere it may run.

use super::prelude::*;

pub(super) fn check_unique(cx: &mut Cx<'_>, root: &Node, list: &str, key: &str) {
    let Kind::Table(entries) = &root.kind else {
        return;
    };
    let Some((
        _,
        _,
        Node {
            kind: Kind::Array(items),
            ..
        },
    )) = entries.iter().find(|(k, _, _)| k == list)
    else {
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Kind::Table(fields) = &item.kind else {
            continue;
        };
        if let Some((_, _, n)) = fields.iter().find(|(k, _, _)| k == key)
            && let Kind::Str(s) = &n.kind
        {
            if let Some(first) = seen.iter().position(|x| x == s) {
                cx.error(
                    &n.origin,
                    &format!("{list}[{i}].{key}"),
                    format!("\"{s}\" is already used by {list}[{first}]; names must be unique"),
                );
            }
            seen.push(s);
        }
    }
}

/// A task that no instance type of its cluster could ever hold is an error, not a run outcome.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_fits(
    cx: &mut Cx<'_>,
    root: &Node,
    clusters: &[ClusterDef],
    types: &[InstanceType],
    defs: &[TaskDefinition],
    services: &[ServiceDef],
    jobs: &[JobDef],
    settings: &Settings,
) {
    let origin_of = |list: &str, i: usize| -> Origin {
        let Kind::Table(e) = &root.kind else {
            return Origin::Unknown;
        };
        e.iter()
            .find(|(k, _, _)| k == list)
            .and_then(|(_, _, n)| {
                if let Kind::Array(a) = &n.kind {
                    a.get(i).map(|x| x.origin.clone())
                } else {
                    None
                }
            })
            .unwrap_or(Origin::Unknown)
    };
    let fits = Fits {
        clusters,
        types,
        defs,
        settings,
    };
    for (i, s) in services.iter().enumerate() {
        fits.check(
            cx,
            s.cluster,
            &s.launch,
            s.scheduling == SchedulingStrategy::Daemon,
            s.task_definition,
            origin_of("services", i),
            format!("services[{i}].task_definition"),
        );
    }
    for (i, j) in jobs.iter().enumerate() {
        for (k, &(d, _)) in j.mix.iter().enumerate() {
            let path = if j.mix.len() == 1 {
                format!("jobs[{i}].task_definition")
            } else {
                format!("jobs[{i}].task_mix[{k}]")
            };
            fits.check(
                cx,
                j.cluster,
                &j.launch,
                false,
                d,
                origin_of("jobs", i),
                path,
            );
        }
    }
}

/// Check that a task definition can run on Fargate; the error names what is allowed.
pub(super) fn check_fargate_definition(d: &TaskDefinition) -> Result<(), String> {
    let windows = d.os.is_windows();
    if d.network_mode != NetworkMode::Awsvpc {
        return Err(format!(
            "task definition \"{}\" runs on Fargate, which requires network_mode = \"awsvpc\"",
            d.family
        ));
    }
    let (Some(cpu), Some(mem)) = (d.task_cpu, d.task_memory) else {
        return Err(format!(
            "task definition \"{}\" runs on Fargate, which requires task-level cpu and memory",
            d.family
        ));
    };
    let cpus: &[u32] = if windows {
        &[1024, 2048, 4096]
    } else {
        &[256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
    };
    match fargate_memory_options(cpu, windows) {
        None => Err(format!(
            "task definition \"{}\": cpu = {cpu} is not a Fargate size{}; allowed: {} (ECS-DG AWS_Fargate.html)",
            d.family,
            if windows { " on Windows" } else { "" },
            cpus.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(opts) if !opts.contains(&mem) => Err(format!(
            "task definition \"{}\": memory = {mem} is not valid with cpu = {cpu} on Fargate; with cpu = {cpu} the memory may be {} MiB (ECS-DG AWS_Fargate.html)",
            d.family,
            opts.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(_) => Ok(()),
    }
}

/// What [`check_fits`] checks a task against.
struct Fits<'a> {
    clusters: &'a [ClusterDef],
    types: &'a [InstanceType],
    defs: &'a [TaskDefinition],
    settings: &'a Settings,
}

impl Fits<'_> {
    /// Whether task definition `def` can run where `launch` puts it in cluster `cluster`.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        cx: &mut Cx<'_>,
        cluster: usize,
        launch: &LaunchSpec,
        daemon: bool,
        def: usize,
        origin: Origin,
        path: String,
    ) {
        let Some(c) = self.clusters.get(cluster) else {
            return;
        };
        let d = &self.defs[def];
        let group_fits = |g: &InstanceGroup| {
            g.instance_types.iter().any(|&t| {
                let ty = &self.types[t];
                ty.cpu_units >= d.cpu_units
                    && g.os == d.os
                    && ty.registered_memory_mib(
                        g.os.is_windows(),
                        self.settings.os_memory_overhead_pct,
                        g.reserved_memory_mib,
                    ) >= d.memory_mib
                    && (d.network_mode != NetworkMode::Awsvpc
                        || ty.eni_tasks() > 0
                        || (self.settings.awsvpc_trunking_since(c).is_some()
                            && ty.trunk_eni_tasks.is_some_and(|n| n > 0)))
                    && d.architecture
                        .as_ref()
                        .is_none_or(|a| *a == ty.architecture)
            })
        };
        let describe = |groups: &[&InstanceGroup]| -> String {
            groups
                .iter()
                .flat_map(|g| g.instance_types.iter().map(move |&t| (g, &self.types[t])))
                .map(|(g, ty)| {
                    format!(
                        "{} ({}{}) registers {} CPU units / {} MiB",
                        ty.name,
                        ty.architecture,
                        if g.os.is_windows() {
                            format!(", {}", g.os.as_str())
                        } else {
                            String::new()
                        },
                        ty.cpu_units,
                        ty.registered_memory_mib(
                            g.os.is_windows(),
                            self.settings.os_memory_overhead_pct,
                            g.reserved_memory_mib
                        )
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let too_big = |cx: &mut Cx<'_>, groups: &[&InstanceGroup], what: &str| {
            cx.error(&origin, &path, format!(
                "task definition \"{}\" needs {} CPU units and {} MiB{}{}{}, more than any instance type {what} can hold ({})",
                d.family, d.cpu_units, d.memory_mib,
                if d.network_mode == NetworkMode::Awsvpc { " and an ENI" } else { "" },
                d.architecture.as_ref().map(|a| format!(" on {a}")).unwrap_or_default(),
                if d.os.is_windows() { format!(" on a {} instance", d.os.as_str()) } else { String::new() },
                describe(groups)
            ));
        };
        let fargate_check = |cx: &mut Cx<'_>, spot: bool| {
            if let Err(e) = check_fargate_definition(d) {
                cx.error(&origin, &path, e);
            } else if spot && d.os.is_windows() {
                cx.error(&origin, &path, format!("task definition \"{}\" is a Windows task; FARGATE_SPOT runs Linux tasks only (ECS-DG fargate-capacity-providers.html)", d.family));
            }
        };
        if daemon && *launch != LaunchSpec::Ec2 {
            cx.error(&origin, &path, "a DAEMON service runs on EC2 container instances only: no Fargate, no capacity provider strategy (ECS-DG ecs_services.html)");
            return;
        }
        match launch {
            LaunchSpec::Ec2 => {
                let all: Vec<&InstanceGroup> = c.groups.iter().collect();
                if all.is_empty() {
                    cx.error(&origin, &path, format!("launch type EC2, but cluster \"{}\" has no container instances; use launch_type = \"FARGATE\" or a capacity provider strategy", c.name));
                } else if !all.iter().any(|g| group_fits(g)) {
                    too_big(cx, &all, &format!("in cluster \"{}\"", c.name));
                }
            }
            LaunchSpec::Fargate => fargate_check(cx, false),
            LaunchSpec::Strategy(items) => {
                for it in items {
                    let p = &c.capacity_providers[it.provider];
                    match p.kind {
                        ProviderKind::Fargate => fargate_check(cx, false),
                        ProviderKind::FargateSpot => fargate_check(cx, true),
                        ProviderKind::Asg { group } => {
                            let g = &c.groups[group];
                            if !group_fits(g) {
                                too_big(cx, &[g], &format!("of capacity provider \"{}\"", p.name));
                            }
                        }
                    }
                }
            }
        }
    }
}
