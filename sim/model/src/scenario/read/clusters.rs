//! `[[instance_types]]` and `[[clusters]]` with their instance groups and capacity providers.

use super::prelude::*;

pub(super) fn read_instance_type(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<InstanceType> {
    let (origin, path) = (t.origin.clone(), t.path.clone());
    let name = t.req(
        cx,
        "name",
        "a type name such as \"bench.4c16g\"",
        |cx, n, p| cx.name(n, p, NameRule::InstanceType),
    );
    let cpu_units = match (t.has("vcpu"), t.has("cpu_units")) {
        (true, true) => {
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("cpu_units"),
                "give vcpu or cpu_units, not both",
            );
            None
        }
        (_, true) => t.opt(cx, "cpu_units", |cx, n, p| cx.u32(n, p, 128, 1024 * 1024)),
        _ => t
            .req(cx, "vcpu", "a vCPU count (or cpu_units)", |cx, n, p| {
                cx.u32(n, p, 1, 1024)
            })
            .map(|v| v * 1024),
    };
    let memory_mib = match (t.has("memory_gib"), t.has("memory_mib")) {
        (true, true) => {
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("memory_mib"),
                "give memory_gib or memory_mib, not both",
            );
            None
        }
        (true, _) => t
            .opt(cx, "memory_gib", |cx, n, p| cx.number(n, p, 0.125, 32768.0))
            .map(|g| (g * 1024.0).round() as u32),
        _ => t.req(
            cx,
            "memory_mib",
            "memory in MiB (or memory_gib)",
            |cx, n, p| cx.u32(n, p, 128, u32::MAX / 2),
        ),
    };
    let registered = t.opt(cx, "registered_memory_mib", |cx, n, p| {
        cx.u32(n, p, 1, u32::MAX / 2)
    });
    let architecture = t
        .opt(cx, "architecture", |cx, n, p| {
            cx.choice(n, p, INSTANCE_ARCHITECTURE)
        })
        .unwrap_or("x86_64")
        .to_string();
    let max_enis = t
        .opt(cx, "max_enis", |cx, n, p| cx.u32(n, p, 1, 1000))
        .unwrap_or(3);
    let price = t.opt(cx, "price_per_hour_usd", |cx, n, p| {
        cx.number(n, p, 0.0, 1000.0)
    });
    let spot_price = t.opt(cx, "spot_price_per_hour_usd", |cx, n, p| {
        cx.number(n, p, 0.0, 1000.0)
    });
    let trunk = t.opt(cx, "trunk_eni_tasks", |cx, n, p| cx.u32(n, p, 1, 1000));
    t.finish(cx);
    let memory_mib = memory_mib?;
    if let Some(r) = registered
        && r > memory_mib
    {
        cx.error(
            &origin,
            &format!("{path}.registered_memory_mib"),
            format!("got {r}; cannot exceed memory ({memory_mib} MiB)"),
        );
        return None;
    }
    Some(InstanceType {
        name: name?,
        cpu_units: cpu_units?,
        memory_mib,
        registered_memory_mib: registered,
        architecture,
        max_enis,
        price_per_hour_usd: price,
        spot_price_per_hour_usd: spot_price,
        trunk_eni_tasks: trunk,
    })
}

pub(super) fn resolve_type(
    cx: &mut Cx<'_>,
    n: &Node,
    p: &str,
    types: &[InstanceType],
) -> Option<usize> {
    let s = cx.string(n, p)?;
    match types.iter().position(|x| x.name == s) {
        Some(i) => Some(i),
        None => {
            let mut near: Vec<&str> = types
                .iter()
                .map(|x| x.name.as_str())
                .filter(|x| x.split('.').next() == s.split('.').next())
                .collect();
            if near.is_empty() {
                near = types.iter().map(|x| x.name.as_str()).take(8).collect();
            }
            cx.error(&n.origin, p, format!("unknown instance type \"{s}\"; known types include {} (see sim/model/data/ec2-instance-types.csv, or define it under [[instance_types]])", near.join(", ")));
            None
        }
    }
}

pub(super) fn read_group(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    name: Option<String>,
    types: &[InstanceType],
) -> Option<InstanceGroup> {
    let tys = read_group_types(cx, t, types);
    let count = t.req(cx, "count", "a number of instances", |cx, n, p| {
        cx.u32(n, p, 0, 1_000_000)
    });
    let azs = t
        .opt(cx, "availability_zones", read_zones)
        .unwrap_or_else(|| vec!["us-east-1a".into()]);
    let attributes = t.opt(cx, "attributes", read_attributes).unwrap_or_default();
    let os = t
        .opt(cx, "os_family", |cx, n, p| cx.choice(n, p, OS_FAMILY))
        .unwrap_or(OsFamily::Linux);
    let reserved = t
        .opt(cx, "reserved_memory_mib", |cx, n, p| {
            cx.u32(n, p, 0, 1 << 20)
        })
        .unwrap_or(0);
    let launch_delay = if t.has("launch_delay") {
        t.opt(cx, "launch_delay", read_dist)?
    } else {
        Dist::Fixed(0)
    };
    let capacity_provider = t.opt(cx, "capacity_provider", read_provider_name);
    let purchase = t
        .opt(cx, "purchase_option", |cx, n, p| {
            cx.choice(n, p, PURCHASE_OPTION)
        })
        .unwrap_or(PurchaseOption::OnDemand);
    let managed = t.opt(cx, "managed_scaling", read_managed_scaling);
    let ttf = if t.has("time_to_failure") {
        t.opt(cx, "time_to_failure", read_dist)
    } else {
        None
    };
    let spot_rate = t
        .opt(cx, "spot_interruptions_per_hour", |cx, n, p| {
            cx.number(n, p, 0.0, 100.0)
        })
        .unwrap_or(0.0);
    let spot_drain = t
        .opt(cx, "spot_instance_draining", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(false);
    let min_size = t.opt(cx, "min_size", |cx, n, p| cx.u32(n, p, 0, 1_000_000));
    let max_size = t.opt(cx, "max_size", |cx, n, p| cx.u32(n, p, 0, 1_000_000));
    let group_name = match name {
        Some(n) => n,
        None => t.req(cx, "name", "a group name", |cx, n, p| {
            cx.name(n, p, NameRule::Ecs)
        })?,
    };
    let count = count?;
    let has_provider = capacity_provider.is_some();
    let (min_size, max_size) = group_sizes(
        cx,
        t,
        count,
        (min_size, max_size),
        managed.is_some(),
        has_provider,
    )?;
    Some(InstanceGroup {
        name: group_name,
        instance_types: tys?,
        count,
        availability_zones: azs,
        attributes,
        os,
        reserved_memory_mib: reserved,
        launch_delay,
        capacity_provider,
        purchase_option: purchase,
        min_size,
        max_size,
        managed_scaling: managed,
        time_to_failure: ttf,
        spot_interruptions_per_hour: spot_rate,
        spot_instance_draining: spot_drain,
    })
}

/// `instance_type` or `instance_types` of a group: indices into `types`.
fn read_group_types(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    types: &[InstanceType],
) -> Option<Vec<usize>> {
    match (t.has("instance_type"), t.has("instance_types")) {
        (true, true) => {
            t.conflict(cx, "instance_type", "instance_types");
            None
        }
        (false, true) => t.opt(cx, "instance_types", |cx, n, p| {
            let items = cx.array(n, p)?;
            if items.is_empty() {
                cx.error(&n.origin, p, "expected at least one instance type");
                return None;
            }
            read_every(cx, items, p, |cx, x, p| resolve_type(cx, x, p, types))
        }),
        _ => t
            .req(
                cx,
                "instance_type",
                "an instance type from the catalog or [[instance_types]]",
                |cx, n, p| resolve_type(cx, n, p, types),
            )
            .map(|i| vec![i]),
    }
}

/// `capacity_provider` of a group: any name but the Fargate ones.
fn read_provider_name(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<String> {
    let s = cx.name(n, p, NameRule::Ecs)?;
    if s == "FARGATE" || s == "FARGATE_SPOT" {
        cx.error(
            &n.origin,
            p,
            format!(
                "\"{s}\" is reserved for Fargate; name the Auto Scaling group's provider otherwise"
            ),
        );
        return None;
    }
    // ECS-API CreateCapacityProvider: the name cannot be prefixed with "aws", "ecs" or "fargate".
    let lower = s.to_ascii_lowercase();
    if let Some(prefix) = ["aws", "ecs", "fargate"]
        .into_iter()
        .find(|x| lower.starts_with(x))
    {
        cx.error(
            &n.origin,
            p,
            format!("got \"{s}\"; a capacity provider name cannot start with \"{prefix}\" (reserved by ECS)"),
        );
        return None;
    }
    Some(s)
}

/// `min_size` and `max_size` with their defaults, checked against `count` and managed scaling.
fn group_sizes(
    cx: &mut Cx<'_>,
    t: &Tbl<'_>,
    count: u32,
    (min_size, max_size): (Option<u32>, Option<u32>),
    managed: bool,
    has_provider: bool,
) -> Option<(u32, u32)> {
    let (min_size, max_size) = (
        min_size.unwrap_or(0),
        max_size.unwrap_or(count.max(min_size.unwrap_or(0))),
    );
    if managed && !has_provider {
        cx.error(&t.origin, &t.child("managed_scaling"), "managed scaling belongs to an Auto Scaling group capacity provider; give the group a capacity_provider name");
        return None;
    }
    if managed && max_size == 0 {
        cx.error(
            &t.origin,
            &t.child("max_size"),
            "managed scaling needs max_size > 0 (ECS-DG cluster-auto-scaling.html)",
        );
        return None;
    }
    if min_size > count || count > max_size {
        cx.error(
            &t.origin,
            &t.child("count"),
            format!("count {count} must lie between min_size {min_size} and max_size {max_size}"),
        );
        return None;
    }
    Some((min_size, max_size))
}

pub(super) fn read_cluster(
    cx: &mut Cx<'_>,
    mut t: Tbl<'_>,
    types: &mut Vec<InstanceType>,
    read_file: Option<FileReader<'_>>,
) -> Option<ClusterDef> {
    let path = t.path.clone();
    let name = t.req(cx, "name", "a cluster name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
    let mut ok = true;
    let mut machines = None;
    let groups = match t.get("machines") {
        Some(n) => {
            let others = [
                "instance_type",
                "instance_types",
                "count",
                "instance_groups",
            ];
            if let Some(k) = others.iter().find(|k| t.has(k)) {
                let origin = n.origin.clone();
                cx.error(
                    &origin,
                    &t.child("machines"),
                    format!("give machines or {k}, not both: the trace's machines are the cluster's instances"),
                );
                ok = false;
                Vec::new()
            } else {
                let mp = t.child("machines");
                let cname = name.clone().unwrap_or_default();
                match read_machines(cx, n, &mp, &cname, types, read_file) {
                    Some((g, trace)) => {
                        machines = Some(trace);
                        g
                    }
                    None => {
                        ok = false;
                        Vec::new()
                    }
                }
            }
        }
        None => read_groups(cx, &mut t, name.clone(), types, &mut ok),
    };
    let awsvpc_trunking = t.opt(cx, "awsvpc_trunking", |cx, n, p| cx.boolean(n, p));
    // Capacity providers: Auto Scaling group providers come from groups that name one; FARGATE
    // and FARGATE_SPOT must be associated by listing them (ECS-DG fargate-capacity-providers.html).
    let mut providers = group_providers(cx, &t, &groups, &mut ok);
    read_listed_providers(cx, &mut t, &mut providers, &mut ok);
    let default_strategy = match t.get("default_capacity_provider_strategy") {
        Some(node) => {
            let dp = t.child("default_capacity_provider_strategy");
            let items = read_strategy_items(cx, node, &dp);
            let cname = name.clone().unwrap_or_default();
            let resolved = items.and_then(|items| {
                resolve_strategy(cx, &node.origin, &dp, &items, &providers, &cname)
            });
            if resolved.is_none() {
                ok = false;
            }
            resolved
        }
        None => None,
    };
    if groups.is_empty() && ok && providers.is_empty() {
        let origin = t.origin.clone();
        cx.error(&origin, &path, "a cluster needs instances (instance_type and count, or [[clusters.instance_groups]]) or a Fargate capacity provider");
        ok = false;
    }
    t.finish(cx);
    let name = name?;
    ok.then_some(ClusterDef {
        name,
        groups,
        capacity_providers: providers,
        default_strategy,
        awsvpc_trunking,
        machines,
    })
}

/// A cluster's instance groups: the one given by the cluster's own `instance_type` and `count`
/// (named after the cluster), then `[[clusters.instance_groups]]`.
fn read_groups(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    name: Option<String>,
    types: &[InstanceType],
    ok: &mut bool,
) -> Vec<InstanceGroup> {
    let mut groups = Vec::new();
    // An instance type on a cluster whose instances are in instance groups, without a count:
    // most likely meant for the groups (`--set clusters[0].instance_type=...`). Say so, once,
    // rather than report the count of a group nobody meant to add.
    let typed = ["instance_type", "instance_types"]
        .into_iter()
        .find(|k| t.has(k));
    if let Some(key) = typed
        && t.has("instance_groups")
        && !t.has("count")
    {
        let node = t.get(key).expect("present");
        let path = t.child(key);
        let groups_path = t.child("instance_groups");
        cx.error(
            &node.origin,
            &path,
            format!(
                "this cluster's instances are in instance groups: set {groups_path}[N].{key} to change a group's type (with count, {path} would add a group of its own)"
            ),
        );
        *ok = false;
        let _ = t.get("count");
    } else if t.has("instance_type") || t.has("instance_types") || t.has("count") {
        match read_group(cx, t, name, types) {
            Some(g) => groups.push(g),
            None => *ok = false,
        }
    }
    let more = t.tables(cx, "instance_groups", |cx, mut gt, _| {
        let g = read_group(cx, &mut gt, None, types);
        gt.finish(cx);
        g
    });
    groups.extend(entries(more, ok));
    groups
}

/// The Auto Scaling group providers named by the groups, each naming one group.
fn group_providers(
    cx: &mut Cx<'_>,
    t: &Tbl<'_>,
    groups: &[InstanceGroup],
    ok: &mut bool,
) -> Vec<ProviderDef> {
    let mut providers: Vec<ProviderDef> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let Some(cp) = &g.capacity_provider {
            if providers.iter().any(|p| &p.name == cp) {
                cx.error(&t.origin, &t.path, format!("capacity provider \"{cp}\" names two groups; an Auto Scaling group provider has one group"));
                *ok = false;
            }
            providers.push(ProviderDef {
                name: cp.clone(),
                kind: ProviderKind::Asg { group: gi },
            });
        }
    }
    providers
}

/// `capacity_providers`: FARGATE and FARGATE_SPOT are added; other names must be a group's.
fn read_listed_providers(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    providers: &mut Vec<ProviderDef>,
    ok: &mut bool,
) {
    let Some(list) = t.opt(cx, "capacity_providers", |cx, n, p| {
        let items = cx.array(n, p)?;
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if let Some(s) = cx.string(it, &format!("{p}[{i}]")) {
                out.push((s, it.origin.clone()));
            }
        }
        Some(out)
    }) else {
        return;
    };
    for (k, (name, origin)) in list.iter().enumerate() {
        match name.as_str() {
            "FARGATE" => providers.push(ProviderDef {
                name: name.clone(),
                kind: ProviderKind::Fargate,
            }),
            "FARGATE_SPOT" => providers.push(ProviderDef {
                name: name.clone(),
                kind: ProviderKind::FargateSpot,
            }),
            other if providers.iter().any(|p| p.name == other) => {}
            other => {
                let path = t.child("capacity_providers");
                cx.error(origin, &format!("{path}[{k}]"), format!("no capacity provider \"{other}\"; list FARGATE, FARGATE_SPOT, or a provider named by an instance group's capacity_provider"));
                *ok = false;
            }
        }
    }
}
