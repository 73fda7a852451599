//! Values shared by several sections: durations as distributions, string lists, attributes,
//! placement strategies and constraints, and names that refer to other entries.

use super::prelude::*;

pub(super) fn read_dist(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Dist> {
    if let Kind::Str(_) = n.kind {
        return cx.duration(n, path).map(Dist::Fixed);
    }
    let mut t = cx.table(n, path)?;
    const KINDS: [&str; 6] = [
        "fixed",
        "exponential",
        "lognormal",
        "uniform",
        "empirical",
        "weibull",
    ];
    let kind = t.req(
        cx,
        "dist",
        &format!("one of {}", quote_list(&KINDS)),
        |cx, n, p| cx.one_of(n, p, &KINDS),
    );
    let d = match kind {
        Some(0) => t
            .req(cx, "value", "a duration", |cx, n, p| cx.duration(n, p))
            .map(Dist::Fixed),
        Some(1) => t
            .req(cx, "mean", "a duration", |cx, n, p| cx.duration(n, p))
            .map(|m| Dist::Exponential { mean_ms: m as f64 }),
        Some(2) => {
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
        Some(3) => {
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
        Some(5) => {
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
        Some(4) => {
            let values = t.req(cx, "values", "an array of durations", |cx, n, p| {
                let items = cx.array(n, p)?;
                let v: Vec<Option<u64>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| cx.duration(x, &format!("{p}[{i}]")))
                    .collect();
                if v.is_empty() {
                    cx.error(&n.origin, p, "expected at least one value");
                    return None;
                }
                v.into_iter().collect::<Option<Vec<u64>>>()
            });
            let weights = t.opt(cx, "weights", |cx, n, p| {
                let items = cx.array(n, p)?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| cx.number(x, &format!("{p}[{i}]"), 0.0, 1e12))
                    .collect::<Option<Vec<f64>>>()
            });
            let values = values?;
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
                None
            } else {
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
        }
        _ => None,
    };
    t.finish(cx);
    d
}

pub(super) fn read_string_list(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Vec<String>> {
    let items = cx.array(n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        match cx.string(it, &format!("{path}[{i}]")) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
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
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut t) = cx.table(it, &p) else {
            ok = false;
            continue;
        };
        let ty = t.req(
            cx,
            "type",
            "\"binpack\", \"spread\" or \"random\"",
            |cx, n, p| cx.one_of(n, p, &["binpack", "spread", "random"]),
        );
        let s = match ty {
            Some(0) => t
                .req(cx, "field", "\"cpu\" or \"memory\"", |cx, n, p| cx.one_of(n, p, &["cpu", "memory"]))
                .map(|f| Strategy::Binpack([BinpackField::Cpu, BinpackField::Memory][f])),
            Some(1) => t.req(cx, "field", "\"instanceId\", \"host\" or \"attribute:NAME\"", |cx, n, p| {
                let f = cx.string(n, p)?;
                match f.as_str() {
                    "instanceId" | "host" => Some(Strategy::Spread(SpreadField::Instance)),
                    a if a.starts_with("attribute:") && a.len() > 10 => Some(Strategy::Spread(SpreadField::Attribute(a[10..].to_string()))),
                    _ => {
                        cx.error(&n.origin, p, format!("got \"{f}\"; expected \"instanceId\", \"host\" or \"attribute:NAME\" such as \"attribute:ecs.availability-zone\""));
                        None
                    }
                }
            }),
            Some(_) => Some(Strategy::Random),
            None => None,
        };
        if ty == Some(2) && t.has("field") {
            let _ = t.get("field");
            cx.error(&it.origin, &format!("{p}.field"), "random takes no field");
        }
        t.finish(cx);
        match s {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    (ok && items.len() <= MAX_STRATEGIES).then_some(out)
}

pub(super) fn read_constraints(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    allow_distinct: bool,
) -> Option<Vec<(String, Constraint)>> {
    let items = cx.array(n, path)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut t) = cx.table(it, &p) else {
            ok = false;
            continue;
        };
        let allowed: &[&str] = if allow_distinct {
            &["distinctInstance", "memberOf"]
        } else {
            &["memberOf"]
        };
        let ty = t.req(cx, "type", &quote_list(allowed), |cx, n, p| {
            cx.one_of(n, p, allowed)
        });
        let c = match ty.map(|i| allowed[i]) {
            Some("distinctInstance") => {
                if t.has("expression") {
                    let _ = t.get("expression");
                    cx.error(
                        &it.origin,
                        &format!("{p}.expression"),
                        "distinctInstance takes no expression",
                    );
                }
                Some(("distinctInstance".to_string(), Constraint::DistinctInstance))
            }
            Some(_) => t.req(
                cx,
                "expression",
                "a cluster query language expression",
                |cx, n, p| {
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
                },
            ),
            None => None,
        };
        t.finish(cx);
        match c {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
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
