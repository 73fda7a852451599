//! `[[objectives]]`: limits on summary metrics, checked against the metrics a run of the
//! scenario has (with the closest name when one is misspelt).

use super::prelude::*;
use crate::objectives::{Bound, Objective};

/// Every `[[objectives]]` entry, each with the origin of its metric (for [`check_objectives`]).
pub(super) fn read_objectives(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> Vec<(Objective, Origin)> {
    t.tables(cx, "objectives", |cx, o, _| read_objective(cx, o))
        .map(|(v, _)| v)
        .unwrap_or_default()
}

fn read_objective(cx: &mut Cx<'_>, mut t: Tbl<'_>) -> Option<(Objective, Origin)> {
    let origin = t.get("metric").map(|n| n.origin.clone());
    let metric = t.req(
        cx,
        "metric",
        "a summary metric such as \"service.web.availability_pct\"",
        |cx, n, p| cx.name(n, p, NameRule::Printable),
    );
    let limit = |cx: &mut Cx<'_>, n: &Node, p: &str| cx.number(n, p, -1e300, 1e300);
    let bound = match (t.has("at_least"), t.has("at_most")) {
        (true, true) => {
            t.conflict(cx, "at_least", "at_most");
            None
        }
        (true, false) => t.opt(cx, "at_least", limit).map(Bound::AtLeast),
        (false, true) => t.opt(cx, "at_most", limit).map(Bound::AtMost),
        (false, false) => {
            cx.error(
                &t.origin.clone(),
                &t.child("at_most"),
                "missing; give at_least = x or at_most = x",
            );
            None
        }
    };
    t.finish(cx);
    Some((
        Objective {
            metric: metric?,
            bound: bound?,
        },
        origin.unwrap_or(Origin::Unknown),
    ))
}

/// Each objective's metric must be a numeric summary field a run of `sc` can have.
pub(super) fn check_objectives(cx: &mut Cx<'_>, objectives: &[(Objective, Origin)], sc: &Scenario) {
    let templates = crate::sweep::metric_templates(sc);
    let names: Vec<&str> = templates.iter().map(String::as_str).collect();
    for (i, (o, origin)) in objectives.iter().enumerate() {
        if templates
            .iter()
            .any(|t| crate::sweep::matches_template(&o.metric, t))
        {
            continue;
        }
        let hint = match super::closest_name(&o.metric, &names) {
            Some(s) => format!(" (did you mean \"{s}\"?)"),
            None => String::new(),
        };
        let some: Vec<&str> = names.iter().take(8).copied().collect();
        cx.error(
            origin,
            &format!("objectives[{i}].metric"),
            format!(
                "unknown metric {}{hint}; an objective's metric is a numeric field of summary.json, such as {}, ... (the full list: docs/scenario.md, [[objectives]])",
                shown(&o.metric),
                quote_list(&some)
            ),
        );
    }
}
