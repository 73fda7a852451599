//! Values shared by several sections: durations as distributions, string lists, attributes,
//! placement strategies and constraints, and names that refer to other entries.

use super::prelude::*;

pub(super) fn read_dist(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Dist> {
    if let Kind::Str(_) = n.kind {
        return cx.duration(n, path).map(Dist::Fixed);
    }
    let mut t = cx.table(n, path)?;
    let kind = t.req(
        cx,
        "dist",
        &format!("one of {}", quoted(DIST)),
        |cx, n, p| cx.choice(n, p, DIST),
    );
    let d = match kind {
        Some(DistKind::Fixed) => t
            .req(cx, "value", "a duration", |cx, n, p| cx.duration(n, p))
            .map(Dist::Fixed),
        Some(DistKind::Exponential) => t
            .req(cx, "mean", "a duration", |cx, n, p| cx.duration(n, p))
            .map(|m| Dist::Exponential { mean_ms: m as f64 }),
        Some(DistKind::LogNormal) => read_lognormal(cx, &mut t, n, path),
        Some(DistKind::Uniform) => read_uniform(cx, &mut t, n, path),
        Some(DistKind::Weibull) => read_weibull(cx, &mut t, n, path),
        Some(DistKind::Empirical) => {
            let (values, weights) = read_empirical_fields(cx, &mut t);
            // Bad values end the distribution before its unknown fields are checked.
            empirical(cx, n, path, values?, weights)
        }
        None => None,
    };
    t.finish(cx);
    d
}

fn read_lognormal(cx: &mut Cx<'_>, t: &mut Tbl<'_>, n: &Node, path: &str) -> Option<Dist> {
    let median = t.req(cx, "median", "a duration", |cx, n, p| cx.duration(n, p));
    let sigma = t.req(
        cx,
        "sigma",
        "the standard deviation of ln(x), e.g. 0.5",
        |cx, n, p| cx.number(n, p, 0.0, 10.0),
    );
    match (median, sigma) {
        (Some(m), Some(s)) if m > 0 => Some(Dist::LogNormal {
            median_ms: m as f64,
            sigma: s,
        }),
        (Some(_), Some(_)) => {
            cx.error(
                &n.origin,
                &format!("{path}.median"),
                "expected a positive duration",
            );
            None
        }
        _ => None,
    }
}

fn read_uniform(cx: &mut Cx<'_>, t: &mut Tbl<'_>, n: &Node, path: &str) -> Option<Dist> {
    let min = t.req(cx, "min", "a duration", |cx, n, p| cx.duration(n, p));
    let max = t.req(cx, "max", "a duration", |cx, n, p| cx.duration(n, p));
    match (min, max) {
        (Some(a), Some(b)) if a <= b => Some(Dist::Uniform {
            min_ms: a,
            max_ms: b,
        }),
        (Some(a), Some(b)) => {
            cx.error(
                &n.origin,
                &format!("{path}.max"),
                format!("max ({b} ms) is below min ({a} ms)"),
            );
            None
        }
        _ => None,
    }
}

fn read_weibull(cx: &mut Cx<'_>, t: &mut Tbl<'_>, n: &Node, path: &str) -> Option<Dist> {
    let scale = t.req(
        cx,
        "scale",
        "a duration (the 63rd percentile)",
        |cx, n, p| cx.duration(n, p),
    );
    let shape = t.req(cx, "shape", "a positive number, e.g. 1.5", |cx, n, p| {
        cx.number(n, p, 0.05, 50.0)
    });
    match (scale, shape) {
        (Some(sc), Some(sh)) if sc > 0 => Some(Dist::Weibull {
            scale_ms: sc as f64,
            shape: sh,
        }),
        (Some(_), Some(_)) => {
            cx.error(
                &n.origin,
                &format!("{path}.scale"),
                "expected a positive duration",
            );
            None
        }
        _ => None,
    }
}

/// `values` and `weights` of an empirical distribution.
fn read_empirical_fields(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> (Option<Vec<u64>>, Option<Vec<f64>>) {
    let values = t.req(cx, "values", "an array of durations", |cx, n, p| {
        let items = cx.array(n, p)?;
        if items.is_empty() {
            cx.error(&n.origin, p, "expected at least one value");
            return None;
        }
        read_every(cx, items, p, |cx, x, p| cx.duration(x, p))
    });
    let weights = t.opt(cx, "weights", |cx, n, p| {
        let items = cx.array(n, p)?;
        items
            .iter()
            .enumerate()
            .map(|(i, x)| cx.number(x, &format!("{p}[{i}]"), 0.0, 1e12))
            .collect::<Option<Vec<f64>>>()
    });
    (values, weights)
}

/// An empirical distribution: weights default to 1 and must have a positive sum.
fn empirical(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    values: Vec<u64>,
    weights: Option<Vec<f64>>,
) -> Option<Dist> {
    let weights = weights.unwrap_or_else(|| vec![1.0; values.len()]);
    if weights.len() != values.len() || weights.iter().sum::<f64>() <= 0.0 {
        cx.error(
            &n.origin,
            &format!("{path}.weights"),
            format!(
                "expected {} non-negative weights with a positive sum",
                values.len()
            ),
        );
        return None;
    }
    let mut acc = 0.0;
    let cumulative = weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect();
    Some(Dist::Empirical {
        values_ms: values,
        cumulative,
    })
}

/// Every item of an array, read by `f` at `path[i]`; every bad one is reported, and then `None`.
pub(super) fn read_every<T>(
    cx: &mut Cx<'_>,
    items: &[Node],
    path: &str,
    mut f: impl FnMut(&mut Cx<'_>, &Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        match f(cx, it, &format!("{path}[{i}]")) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// `availability_zones`: a non-empty list of zone names.
pub(super) fn read_zones(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Vec<String>> {
    let items = cx.array(n, p)?;
    let v = read_every(cx, items, p, |cx, x, p| cx.name(x, p, NameRule::Ecs))?;
    if v.is_empty() {
        cx.error(&n.origin, p, "expected at least one Availability Zone");
        return None;
    }
    Some(v)
}

pub(super) fn read_attributes(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<Vec<(String, String)>> {
    let Kind::Table(entries) = &n.kind else {
        cx.error(
            &n.origin,
            path,
            format!(
                "got {}; expected a table of name = \"value\"",
                n.kind.describe()
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for (k, origin, v) in entries {
        let p = format!("{path}.{k}");
        if k.is_empty()
            || k.len() > 128
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        {
            cx.error(origin, &p, "attribute names are 1-128 letters, digits, '-', '_', '.', '/' or '@' (ECS-DG task-placement-constraints.html)");
            continue;
        }
        if k.starts_with("ecs.") {
            cx.error(
                origin,
                &p,
                "names starting with \"ecs.\" are built-in attributes that ecsim sets itself",
            );
            continue;
        }
        if let Some(s) = cx.string(v, &p) {
            if s.len() > 128 {
                cx.error(&v.origin, &p, "attribute values are at most 128 characters");
            }
            out.push((k.clone(), s));
        }
    }
    Some(out)
}

pub(super) fn read_strategies(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<Strategy>> {
    let items = cx.array(n, path)?;
    if items.len() > MAX_STRATEGIES {
        cx.error(&n.origin, path, format!("got {} strategies; ECS allows at most {MAX_STRATEGIES} (ECS-API CreateService/RunTask)", items.len()));
    }
    let (out, ok) = cx.tables(n, path, read_strategy)?;
    (ok && items.len() <= MAX_STRATEGIES).then_some(out)
}

fn read_strategy(cx: &mut Cx<'_>, mut t: Tbl<'_>, _: usize) -> Option<Strategy> {
    let ty = t.req(cx, "type", &quoted(STRATEGY), |cx, n, p| {
        cx.choice(n, p, STRATEGY)
    });
    let s = match ty {
        Some(StrategyKind::Binpack) => t
            .req(cx, "field", &quoted(BINPACK_FIELD), |cx, n, p| {
                cx.choice(n, p, BINPACK_FIELD)
            })
            .map(Strategy::Binpack),
        Some(StrategyKind::Spread) => t.req(
            cx,
            "field",
            "\"instanceId\", \"host\" or \"attribute:NAME\"",
            read_spread_field,
        ),
        Some(StrategyKind::Random) => Some(Strategy::Random),
        None => None,
    };
    if ty == Some(StrategyKind::Random) && t.has("field") {
        let _ = t.get("field");
        let origin = t.origin.clone();
        cx.error(&origin, &t.child("field"), "random takes no field");
    }
    t.finish(cx);
    s
}

fn read_spread_field(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Strategy> {
    let f = cx.string(n, p)?;
    match f.as_str() {
        "instanceId" | "host" => Some(Strategy::Spread(SpreadField::Instance)),
        a if a.starts_with("attribute:") && a.len() > 10 => Some(Strategy::Spread(
            SpreadField::Attribute(a[10..].to_string()),
        )),
        _ => {
            cx.error(&n.origin, p, format!("got \"{f}\"; expected \"instanceId\", \"host\" or \"attribute:NAME\" such as \"attribute:ecs.availability-zone\""));
            None
        }
    }
}

pub(super) fn read_constraints(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    allow_distinct: bool,
) -> Option<Vec<(String, Constraint)>> {
    let allowed = if allow_distinct {
        CONSTRAINT
    } else {
        TASK_DEFINITION_CONSTRAINT
    };
    let (out, ok) = cx.tables(n, path, |cx, t, _| read_constraint(cx, t, allowed))?;
    ok.then_some(out)
}

fn read_constraint(
    cx: &mut Cx<'_>,
    mut t: Tbl<'_>,
    allowed: Names<ConstraintKind>,
) -> Option<(String, Constraint)> {
    let ty = t.req(cx, "type", &quoted(allowed), |cx, n, p| {
        cx.choice(n, p, allowed)
    });
    let c = match ty {
        Some(ConstraintKind::DistinctInstance) => {
            if t.has("expression") {
                let _ = t.get("expression");
                let origin = t.origin.clone();
                cx.error(
                    &origin,
                    &t.child("expression"),
                    "distinctInstance takes no expression",
                );
            }
            Some(("distinctInstance".to_string(), Constraint::DistinctInstance))
        }
        Some(ConstraintKind::MemberOf) => t.req(
            cx,
            "expression",
            "a cluster query language expression",
            read_member_of,
        ),
        None => None,
    };
    t.finish(cx);
    c
}

fn read_member_of(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<(String, Constraint)> {
    let src = cx.string(n, p)?;
    match Expr::parse(&src) {
        Ok(e) => Some((format!("memberOf({src})"), Constraint::MemberOf(e))),
        Err(e) => {
            cx.error_at(
                &n.origin,
                e.offset + 1,
                p,
                format!("invalid expression \"{src}\": {}", e.message),
            );
            None
        }
    }
}

pub(super) fn resolve(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    names: &[&str],
    what: &str,
) -> Option<usize> {
    let s = cx.string(n, path)?;
    match names.iter().position(|x| *x == s) {
        Some(i) => Some(i),
        // Declared by an entry that had problems of its own: reported there, not again here.
        None if cx.unreadable.iter().any(|(w, x)| *w == what && *x == s) => None,
        None => {
            cx.error(
                &n.origin,
                path,
                format!(
                    "no {what} named \"{s}\"; defined: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        quote_list(names)
                    }
                ),
            );
            None
        }
    }
}
