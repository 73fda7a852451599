//! Launch types, capacity providers, Fargate and pricing settings, and variants.

use ecsim_placement::host_port;

use super::read::{Cx, Tbl, quote_list};
use super::tree::{self, Kind, Node, Origin};
use super::*;
use crate::pricing::{self, PricingTable};

/// What a capacity provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// An EC2 Auto Scaling group: index into the cluster's groups.
    Asg {
        /// The instance group that is the Auto Scaling group.
        group: usize,
    },
    /// `FARGATE`.
    Fargate,
    /// `FARGATE_SPOT`.
    FargateSpot,
}

/// A capacity provider associated with a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDef {
    /// Name (`FARGATE`, `FARGATE_SPOT`, or the Auto Scaling group provider's name).
    pub name: String,
    /// Kind.
    pub kind: ProviderKind,
}

/// One item of a capacity provider strategy (ECS-API `CapacityProviderStrategyItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpItem {
    /// Index into the cluster's `capacity_providers`.
    pub provider: usize,
    /// Minimum number of tasks on this provider.
    pub base: u32,
    /// Share of the tasks beyond the bases.
    pub weight: u32,
}

/// Where a service's or job's tasks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchSpec {
    /// Launch type EC2: any container instance of the cluster.
    Ec2,
    /// Launch type FARGATE.
    Fargate,
    /// A capacity provider strategy.
    Strategy(Vec<CpItem>),
}

/// Whether an instance group runs On-Demand or Spot instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseOption {
    /// On-Demand.
    OnDemand,
    /// Spot.
    Spot,
}

/// `[fargate]`: Fargate's timing and launch-rate limit.
#[derive(Debug, Clone)]
pub struct FargateSettings {
    /// PROVISIONING to PENDING (ENI attachment). Default 5 s: AWS says ENI provisioning adds
    /// "several seconds" (ECS-DG task-recommendations.html).
    pub provisioning_delay: Dist,
    /// PENDING to RUNNING (image pull and start; billing starts at PENDING). Default log-normal,
    /// median 20 s, sigma 0.5 (mean about 23 s): AWS publishes no figure; community
    /// measurements of Fargate start-up put the total at roughly 20 to 60 seconds.
    pub image_pull_delay: Dist,
    /// Apply the account's launch-rate token bucket (ECS-DG throttling.html).
    pub launch_rate_limit: bool,
    /// Bucket size (burst), tasks.
    pub launch_burst: u32,
    /// Refill rate, tasks per second.
    pub launch_refill_per_s: f64,
}

impl Default for FargateSettings {
    fn default() -> Self {
        FargateSettings {
            provisioning_delay: Dist::Fixed(5_000),
            image_pull_delay: Dist::LogNormal {
                median_ms: 20_000.0,
                sigma: 0.5,
            },
            launch_rate_limit: true,
            launch_burst: 100,
            launch_refill_per_s: 20.0,
        }
    }
}

/// `[pricing]`: which table, and the discounts that apply.
#[derive(Debug, Clone)]
pub struct PricingSettings {
    /// The table.
    pub table: PricingTable,
    /// Savings Plan or Reserved Instance discount on On-Demand EC2, percent.
    pub ec2_discount_pct: f64,
    /// Compute Savings Plan discount on Fargate (not Fargate Spot), percent.
    pub fargate_discount_pct: f64,
    /// Spot price as a discount from On-Demand, percent, instead of the table's Spot prices.
    pub ec2_spot_discount_pct: Option<f64>,
    /// Spot prices multiplied by `factor` from time `at` (piecewise constant), sorted.
    pub spot_price_changes: Vec<(u64, f64)>,
    /// EBS gp3 volume per instance, GB.
    pub ebs_gb_per_instance: u32,
}

/// A named set of overrides, for `ecsim compare`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Name (a column of compare.csv).
    pub name: String,
    /// What it shows.
    pub description: String,
    /// (path as written, parsed path, value).
    pub overrides: Vec<(String, Vec<tree::Step>, Node)>,
}

pub(super) fn read_strategy_items(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<Vec<(String, Origin, u32, u32)>> {
    let items = cx.array(n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut t) = cx.table(it, &p) else {
            ok = false;
            continue;
        };
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
        match name {
            Some((s, o)) => out.push((s, o, base, weight)),
            None => ok = false,
        }
    }
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

pub(super) fn read_fargate(cx: &mut Cx<'_>, root: &mut Tbl<'_>) -> Option<FargateSettings> {
    let mut s = FargateSettings::default();
    let Some(node) = root.get("fargate") else {
        return Some(s);
    };
    let mut t = cx.table(node, "fargate")?;
    let mut ok = true;
    for (key, slot) in [
        ("provisioning_delay", &mut s.provisioning_delay),
        ("image_pull_delay", &mut s.image_pull_delay),
    ] {
        if t.has(key) {
            match t.opt(cx, key, read_dist) {
                Some(d) => *slot = d,
                None => ok = false,
            }
        }
    }
    if let Some(b) = t.opt(cx, "launch_rate_limit", |cx, n, p| cx.boolean(n, p)) {
        s.launch_rate_limit = b;
    }
    if let Some(b) = t.opt(cx, "launch_burst", |cx, n, p| cx.u32(n, p, 1, 1_000_000)) {
        s.launch_burst = b;
    }
    if let Some(r) = t.opt(cx, "launch_refill_per_s", |cx, n, p| {
        cx.number(n, p, 0.001, 1e6)
    }) {
        s.launch_refill_per_s = r;
    }
    t.finish(cx);
    ok.then_some(s)
}

pub(super) fn read_pricing(
    cx: &mut Cx<'_>,
    root: &mut Tbl<'_>,
    read_file: Option<FileReader<'_>>,
) -> Option<PricingSettings> {
    let mut s = PricingSettings {
        table: pricing::builtin(),
        ec2_discount_pct: 0.0,
        fargate_discount_pct: 0.0,
        ec2_spot_discount_pct: None,
        spot_price_changes: Vec::new(),
        ebs_gb_per_instance: 0,
    };
    let Some(node) = root.get("pricing") else {
        return Some(s);
    };
    let mut t = cx.table(node, "pricing")?;
    let mut ok = true;
    if t.has("table") && t.has("file") {
        let _ = (t.get("table"), t.get("file"));
        cx.error(&node.origin, "pricing.file", "give table or file, not both");
        ok = false;
    } else if let Some(name) = t.opt(cx, "table", |cx, n, p| {
        let s = cx.string(n, p)?;
        if s == pricing::BUILTIN_TABLE {
            Some(s)
        } else {
            cx.error(&n.origin, p, format!("no built-in pricing table \"{s}\"; built in: \"{}\" (or give file = \"your-prices.toml\")", pricing::BUILTIN_TABLE));
            None
        }
    }) {
        let _ = name;
    } else if let Some((path, origin)) = t.opt(cx, "file", |cx, n, p| cx.string(n, p).map(|s| (s, n.origin.clone()))) {
        match read_file {
            None => {
                cx.error(&origin, "pricing.file", "pricing files can only be read when the scenario is loaded from a file");
                ok = false;
            }
            Some(read) => match read(&path) {
                Err(e) => {
                    cx.error(&origin, "pricing.file", format!("cannot read pricing table \"{path}\": {e}"));
                    ok = false;
                }
                Ok(text) => match pricing::load_table(&path, &text) {
                    Ok(table) => s.table = table,
                    Err(diags) => {
                        cx.diags.extend(diags);
                        ok = false;
                    }
                },
            },
        }
    }
    if let Some(sp) = t.get("savings_plan") {
        match cx.table(sp, "pricing.savings_plan") {
            Some(mut st) => {
                s.ec2_discount_pct = st
                    .opt(cx, "ec2_discount_pct", |cx, n, p| {
                        cx.number(n, p, 0.0, 100.0)
                    })
                    .unwrap_or(0.0);
                s.fargate_discount_pct = st
                    .opt(cx, "fargate_discount_pct", |cx, n, p| {
                        cx.number(n, p, 0.0, 100.0)
                    })
                    .unwrap_or(0.0);
                st.finish(cx);
            }
            None => ok = false,
        }
    }
    s.ec2_spot_discount_pct = t.opt(cx, "ec2_spot_discount_pct", |cx, n, p| {
        cx.number(n, p, 0.0, 100.0)
    });
    if let Some(items) = t.opt(cx, "spot_price_changes", |cx, n, p| cx.array(n, p)) {
        for (i, it) in items.iter().enumerate() {
            let p = format!("pricing.spot_price_changes[{i}]");
            let Some(mut ct) = cx.table(it, &p) else {
                ok = false;
                continue;
            };
            let at = ct.req(cx, "at", "a time", |cx, n, p| cx.duration(n, p));
            let f = ct.req(
                cx,
                "factor",
                "a multiplier of the Spot prices, e.g. 1.3",
                |cx, n, p| cx.number(n, p, 0.0, 100.0),
            );
            ct.finish(cx);
            match (at, f) {
                (Some(a), Some(f)) => s.spot_price_changes.push((a, f)),
                _ => ok = false,
            }
        }
        s.spot_price_changes.sort_by_key(|c| c.0);
    }
    s.ebs_gb_per_instance = t
        .opt(cx, "ebs_gb_per_instance", |cx, n, p| {
            cx.u32(n, p, 0, 64_000)
        })
        .unwrap_or(0);
    t.finish(cx);
    ok.then_some(s)
}

/// Valid Fargate memory sizes (MiB) for a CPU size (ECS-DG AWS_Fargate.html, task-cpu-memory-error.html;
/// FG-PRICE for 32 vCPU). Windows takes only 1, 2 and 4 vCPU.
pub fn fargate_memory_options(cpu: u32, windows: bool) -> Option<Vec<u32>> {
    let gb = |a: u32, b: u32, step: u32| {
        (a..=b)
            .step_by(step as usize)
            .map(|g| g * 1024)
            .collect::<Vec<u32>>()
    };
    if windows && !matches!(cpu, 1024 | 2048 | 4096) {
        return None;
    }
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => gb(1, 4, 1),
        1024 => gb(2, 8, 1),
        2048 => gb(4, 16, 1),
        4096 => gb(8, 30, 1),
        8192 => gb(16, 60, 4),
        16384 => gb(32, 120, 8),
        32768 => vec![60 * 1024, 120 * 1024, 244 * 1024],
        _ => return None,
    })
}

/// Check that a task definition can run on Fargate; the error names what is allowed.
pub(super) fn check_fargate_definition(d: &TaskDefinition) -> Result<(), String> {
    let windows = d.os == OsFamily::Windows;
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

/// Read the `[[variants]]` of a scenario or variants file.
pub fn variants(file: &str, src: &str) -> Result<Vec<Variant>, LoadError> {
    let mut cx = Cx::new(file, src, &[]);
    let root = match tree::parse(src) {
        Ok(r) => r,
        Err(e) => {
            cx.error(
                &e.span.map_or(Origin::Unknown, Origin::File),
                "",
                format!("TOML syntax: {}", e.message),
            );
            return Err(LoadError {
                diagnostics: cx.diags,
            });
        }
    };
    let Kind::Table(entries) = &root.kind else {
        return Ok(Vec::new());
    };
    let Some((_, _, node)) = entries.iter().find(|(k, _, _)| k == "variants") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if let Some(items) = cx.array(node, "variants") {
        for (i, it) in items.iter().enumerate() {
            if let Some(v) = read_variant(&mut cx, it, &format!("variants[{i}]")) {
                out.push(v);
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for v in &out {
        if names.contains(&v.name.as_str()) {
            cx.error(
                &node.origin,
                "variants",
                format!("two variants are named \"{}\"", v.name),
            );
        }
        names.push(&v.name);
    }
    if cx.diags.is_empty() {
        Ok(out)
    } else {
        Err(LoadError {
            diagnostics: cx.diags,
        })
    }
}

fn read_variant(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Variant> {
    let mut t = cx.table(n, path)?;
    let name = t.req(cx, "name", "a variant name", |cx, n, p| cx.string(n, p));
    let description = t
        .opt(cx, "description", |cx, n, p| cx.string(n, p))
        .unwrap_or_default();
    let overrides = t
        .opt(cx, "set", |cx, n, p| {
            let Kind::Table(entries) = &n.kind else {
                cx.error(&n.origin, p, "expected a table of \"field.path\" = value, e.g. { \"services[0].launch_type\" = \"FARGATE\" }");
                return None;
            };
            let mut out = Vec::new();
            for (k, o, v) in entries {
                match tree::parse_path(k) {
                    Ok(steps) => out.push((k.clone(), steps, v.clone())),
                    Err(e) => cx.error(o, &format!("{p}.\"{k}\""), e),
                }
            }
            Some(out)
        })
        .unwrap_or_default();
    t.finish(cx);
    Some(Variant {
        name: name?,
        description,
        overrides,
    })
}

/// Static host port helper re-exported for tests.
pub fn tcp(port: u16) -> ecsim_placement::HostPort {
    host_port(port, false)
}
