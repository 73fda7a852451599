//! Launch types and capacity provider strategies of clusters, services and jobs.

use super::prelude::*;

pub(super) fn read_strategy_items(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<Vec<(String, Origin, u32, u32)>> {
    let (out, ok) = cx.tables(n, path, |cx, mut t, _| {
        let name = t.req(
            cx,
            "capacity_provider",
            "a capacity provider name",
            |cx, n, p| cx.string(n, p).map(|s| (s, n.origin.clone())),
        );
        // ECS-API CapacityProviderStrategyItem: base 0..100,000 (default 0), weight 0..1,000 (default 0 via the API).
        let base = t
            .opt(cx, "base", |cx, n, p| cx.u32(n, p, 0, 100_000))
            .unwrap_or(0);
        let weight = t
            .opt(cx, "weight", |cx, n, p| cx.u32(n, p, 0, 1000))
            .unwrap_or(0);
        t.finish(cx);
        name.map(|(s, o)| (s, o, base, weight))
    })?;
    ok.then_some(out)
}

/// Resolve and check a strategy against a cluster's providers (ECS-DG cluster-capacity-providers.html).
pub(super) fn resolve_strategy(
    cx: &mut Cx<'_>,
    origin: &Origin,
    path: &str,
    items: &[(String, Origin, u32, u32)],
    providers: &[ProviderDef],
    cluster: &str,
) -> Option<Vec<CpItem>> {
    let mut ok = true;
    let mut out = Vec::new();
    if items.is_empty() {
        cx.error(
            origin,
            path,
            "an empty capacity provider strategy; give at least one provider",
        );
        return None;
    }
    if items.len() > 6 {
        cx.error(origin, path, format!("got {} providers; a strategy holds at most 6 (ECS-DG cluster-capacity-providers.html)", items.len()));
        ok = false;
    }
    for (k, (name, o, base, weight)) in items.iter().enumerate() {
        match providers.iter().position(|p| &p.name == name) {
            Some(i) => {
                if out.iter().any(|c: &CpItem| c.provider == i) {
                    cx.error(
                        o,
                        &format!("{path}[{k}].capacity_provider"),
                        format!("\"{name}\" is listed twice"),
                    );
                    ok = false;
                }
                out.push(CpItem {
                    provider: i,
                    base: *base,
                    weight: *weight,
                });
            }
            None => {
                let known: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
                cx.error(o, &format!("{path}[{k}].capacity_provider"), format!(
                    "\"{name}\" is not associated with cluster \"{cluster}\"; associated: {} (list FARGATE and FARGATE_SPOT in the cluster's capacity_providers to use them)",
                    if known.is_empty() { "none".to_string() } else { quote_list(&known) }
                ));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    if out.iter().filter(|c| c.base > 0).count() > 1 {
        cx.error(origin, path, "only one provider in a strategy may set a base (ECS-DG cluster-capacity-providers.html)");
        ok = false;
    }
    if out.iter().all(|c| c.weight == 0) {
        cx.error(origin, path, "every weight is 0, which ECS rejects; give at least one provider a weight above 0 (weights default to 0, as in the API)");
        ok = false;
    }
    let fargate = out
        .iter()
        .filter(|c| {
            providers[c.provider].kind != ProviderKind::Fargate
                && providers[c.provider].kind != ProviderKind::FargateSpot
        })
        .count();
    if fargate != 0 && fargate != out.len() {
        cx.error(
            origin,
            path,
            "a strategy mixes Fargate and Auto Scaling group providers, which ECS does not allow",
        );
        ok = false;
    }
    ok.then_some(out)
}

/// `launch_type`, `capacity_provider_strategy` and `availability_zones` of a service or job.
/// Neither given: the cluster's default strategy, else launch type EC2 (ECS-DG
/// cluster-capacity-providers.html).
pub(super) fn read_launch(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    cluster: Option<&ClusterDef>,
) -> Option<(LaunchSpec, Vec<String>)> {
    let lt = t.opt(cx, "launch_type", |cx, n, p| cx.choice(n, p, LAUNCH_TYPE));
    let items = t.get("capacity_provider_strategy").map(|node| {
        (
            read_strategy_items(cx, node, &t.child("capacity_provider_strategy")),
            node.origin.clone(),
        )
    });
    let azs = t.opt(cx, "availability_zones", read_zones);
    let cluster = cluster?;
    let azs = azs.unwrap_or_else(|| {
        let mut v: Vec<String> = Vec::new();
        for g in &cluster.groups {
            for a in &g.availability_zones {
                if !v.contains(a) {
                    v.push(a.clone());
                }
            }
        }
        if v.is_empty() {
            v = ["us-east-1a", "us-east-1b", "us-east-1c"]
                .map(String::from)
                .to_vec();
        }
        v
    });
    let launch = match (lt, items) {
        (Some(_), Some((_, origin))) => {
            cx.error(&origin, &t.child("capacity_provider_strategy"), "give launch_type or capacity_provider_strategy, not both (a launch type overrides capacity providers in ECS)");
            return None;
        }
        (Some(LaunchType::Ec2), None) => LaunchSpec::Ec2,
        (Some(LaunchType::Fargate), None) => LaunchSpec::Fargate,
        (None, Some((items, origin))) => {
            let resolved = resolve_strategy(
                cx,
                &origin,
                &t.child("capacity_provider_strategy"),
                &items?,
                &cluster.capacity_providers,
                &cluster.name,
            )?;
            LaunchSpec::Strategy(resolved)
        }
        (None, None) => match &cluster.default_strategy {
            Some(d) => LaunchSpec::Strategy(d.clone()),
            None => LaunchSpec::Ec2,
        },
    };
    Some((launch, azs))
}
