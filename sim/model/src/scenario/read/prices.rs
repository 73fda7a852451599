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
