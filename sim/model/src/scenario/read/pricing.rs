//! `[pricing]`: which pricing table, and the discounts that apply.

use super::prelude::*;

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
    ok &= read_table_or_file(cx, &mut t, &mut s, read_file);
    if let Some(sp) = t.get("savings_plan") {
        ok &= read_savings_plan(cx, sp, &mut s);
    }
    s.ec2_spot_discount_pct = t.opt(cx, "ec2_spot_discount_pct", |cx, n, p| {
        cx.number(n, p, 0.0, 100.0)
    });
    if let Some(changes) = t.tables(cx, "spot_price_changes", |cx, ct, _| {
        read_spot_price_change(cx, ct)
    }) {
        s.spot_price_changes = entries(Some(changes), &mut ok);
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

/// `table` or `file`: the built-in pricing table or one read from a file. False if wrong.
fn read_table_or_file(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    s: &mut PricingSettings,
    read_file: Option<FileReader<'_>>,
) -> bool {
    let mut ok = true;
    if t.has("table") && t.has("file") {
        t.conflict(cx, "table", "file");
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
        match cx.read_named(read_file, &origin, "pricing.file", "pricing table", &path) {
            None => ok = false,
            Some(text) => match pricing::load_table(&path, &text) {
                Ok(table) => s.table = table,
                Err(diags) => {
                    cx.diags.extend(diags);
                    ok = false;
                }
            },
        }
    }
    ok
}

/// `[pricing.savings_plan]`; false if it is not a table.
fn read_savings_plan(cx: &mut Cx<'_>, sp: &Node, s: &mut PricingSettings) -> bool {
    let Some(mut st) = cx.table(sp, "pricing.savings_plan") else {
        return false;
    };
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
    true
}

/// One `[[pricing.spot_price_changes]]` entry: Spot prices times `factor` from `at`.
fn read_spot_price_change(cx: &mut Cx<'_>, mut ct: Tbl<'_>) -> Option<(u64, f64)> {
    let at = ct.req(cx, "at", "a time", |cx, n, p| cx.duration(n, p));
    let f = ct.req(
        cx,
        "factor",
        "a multiplier of the Spot prices, e.g. 1.3",
        |cx, n, p| cx.number(n, p, 0.0, 100.0),
    );
    ct.finish(cx);
    Some((at?, f?))
}
