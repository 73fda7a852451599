//! Checks across `[[instance_types]]`, `[[clusters]]` and `[pricing]`: every instance has the
//! price its purchase option bills, and a custom type never disagrees silently with the table.

use super::prelude::*;
use crate::pricing::{PricingTable, ec2_prices};

/// The entry `key` of a table node.
fn field<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Table(e) => e.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
        _ => None,
    }
}

/// The items of an array node.
fn items(n: Option<&Node>) -> &[Node] {
    match n.map(|n| &n.kind) {
        Some(Kind::Array(a)) => a,
        _ => &[],
    }
}

fn number(n: &Node) -> Option<f64> {
    match n.kind {
        Kind::Float(f) => Some(f),
        Kind::Int(i) => Some(i as f64),
        _ => None,
    }
}

fn usd(pico: u128) -> String {
    format!("${}/h", pico as f64 / 1e12)
}

/// A custom `[[instance_types]]` entry that gives `price_per_hour_usd` (or
/// `spot_price_per_hour_usd`) for a name the pricing table also prices, at a different price, is
/// an error: the table's price is the one billed (`pricing::ec2_prices`), so the entry's would
/// be ignored.
fn check_custom_prices(cx: &mut Cx<'_>, root: &Node, table: &PricingTable) {
    for (k, entry) in items(field(root, "instance_types")).iter().enumerate() {
        let Some(Kind::Str(name)) = field(entry, "name").map(|n| &n.kind) else {
            continue;
        };
        for (key, prices, what) in [
            ("price_per_hour_usd", &table.ec2.on_demand, "On-Demand"),
            ("spot_price_per_hour_usd", &table.ec2.spot, "Spot"),
        ] {
            let (Some(node), Some(&table_price)) = (field(entry, key), prices.get(name)) else {
                continue;
            };
            let Some(given) = number(node) else { continue };
            if pricing::pico_per_hour(given) != table_price {
                cx.error(
                    &node.origin,
                    &format!("instance_types[{k}].{key}"),
                    format!(
                        "got {given}; the pricing table \"{}\" prices \"{name}\" at {} {what}, and the table's price is the one billed. Remove {key}, give the type a name of its own, or change the price in your own table ([pricing] file)",
                        table.name,
                        usd(table_price)
                    ),
                );
            }
        }
    }
}

/// Every type of every group has an On-Demand price, and a Spot group's types a Spot price
/// (no silent fallback to On-Demand).
pub(super) fn check_prices(
    cx: &mut Cx<'_>,
    root: &Node,
    clusters: &[ClusterDef],
    types: &[InstanceType],
    pricing: &PricingSettings,
) {
    let table = &pricing.table;
    check_custom_prices(cx, root, table);
    let cluster_nodes = items(field(root, "clusters"));
    for (ci, c) in clusters.iter().enumerate() {
        let Some(cnode) = cluster_nodes.get(ci) else {
            continue;
        };
        // Group 0 is the cluster's own when it gives instance types or a count.
        let inline = ["instance_type", "instance_types", "count"]
            .iter()
            .any(|k| field(cnode, k).is_some());
        let group_nodes = items(field(cnode, "instance_groups"));
        for (gi, g) in c.groups.iter().enumerate() {
            let (gnode, path) = match (inline, gi) {
                (true, 0) => (Some(cnode), format!("clusters[{ci}]")),
                (true, k) => (
                    group_nodes.get(k - 1),
                    format!("clusters[{ci}].instance_groups[{}]", k - 1),
                ),
                (false, k) => (
                    group_nodes.get(k),
                    format!("clusters[{ci}].instance_groups[{k}]"),
                ),
            };
            let Some(gnode) = gnode else { continue };
            let spot = g.purchase_option == PurchaseOption::Spot;
            for &t in &g.instance_types {
                let ty = &types[t];
                let prices = ec2_prices(table, ty, pricing.ec2_spot_discount_pct);
                if prices.on_demand.is_none() {
                    cx.error(
                        &gnode.origin,
                        &format!("{path}.instance_type"),
                        format!(
                            "instance type \"{}\" has no On-Demand price: the pricing table \"{}\" does not list it and its [[instance_types]] entry gives no price_per_hour_usd (give one; 0 bills nothing)",
                            ty.name, table.name
                        ),
                    );
                } else if spot && prices.spot.is_none() {
                    let origin =
                        field(gnode, "purchase_option").map_or(&gnode.origin, |n| &n.origin);
                    cx.error(
                        origin,
                        &format!("{path}.purchase_option"),
                        format!(
                            "a Spot group, but instance type \"{}\" has no Spot price: the pricing table \"{}\" has none and its [[instance_types]] entry gives no spot_price_per_hour_usd. Give one, add it to your own table's [ec2.spot_per_hour_usd], or set pricing.ec2_spot_discount_pct to bill Spot as a discount from On-Demand",
                            ty.name, table.name
                        ),
                    );
                }
            }
        }
    }
}

/// Every Fargate platform a service or job can run on (Fargate or Fargate Spot; Linux x86,
/// Linux ARM or Windows) needs rates in the pricing table: a table without them (the shipped
/// one has no Fargate Spot Linux/ARM rates) is an error when the scenario is read.
pub(super) fn check_fargate_prices(cx: &mut Cx<'_>, root: &Node, sc: &Scenario) {
    let f = &sc.pricing.table.fargate;
    let fs = &sc.pricing.table.fargate_spot;
    let owners = sc
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!("services[{i}]"),
                s.cluster,
                &s.launch,
                vec![s.task_definition],
            )
        })
        .chain(sc.jobs.iter().enumerate().map(|(i, j)| {
            let defs = j.mix.iter().map(|d| d.0).collect();
            (format!("jobs[{i}]"), j.cluster, &j.launch, defs)
        }));
    for (path, cluster, launch, defs) in owners {
        let kinds: Vec<bool> = match launch {
            LaunchSpec::Ec2 => continue,
            LaunchSpec::Fargate => vec![false],
            LaunchSpec::Strategy(items) => items
                .iter()
                .filter_map(
                    |it| match sc.clusters[cluster].capacity_providers[it.provider].kind {
                        ProviderKind::Fargate => Some(false),
                        ProviderKind::FargateSpot => Some(true),
                        ProviderKind::Asg { .. } => None,
                    },
                )
                .collect(),
        };
        for spot in kinds {
            for &d in &defs {
                let td = &sc.task_definitions[d];
                let arm = td.architecture.as_deref() == Some("arm64");
                let windows = td.os.is_windows();
                let (table, rates) = if spot {
                    (
                        "fargate_spot",
                        if windows {
                            None
                        } else if arm {
                            fs.linux_arm64
                        } else {
                            fs.linux_x86_64
                        },
                    )
                } else {
                    (
                        "fargate",
                        if windows {
                            f.windows_x86_64
                        } else if arm {
                            f.linux_arm64
                        } else {
                            f.linux_x86_64
                        },
                    )
                };
                if rates.is_none() && !(spot && windows) {
                    let platform = if windows {
                        "windows_x86_64"
                    } else if arm {
                        "linux_arm64"
                    } else {
                        "linux_x86_64"
                    };
                    cx.error(
                        &root.origin,
                        &path,
                        format!(
                            "task definition \"{}\" would run on {} {platform}, but the pricing table has no [{table}] {platform} rates; add them to the table (pricing.file) or run it elsewhere",
                            td.family,
                            if spot { "Fargate Spot" } else { "Fargate" }
                        ),
                    );
                }
            }
        }
    }
}
