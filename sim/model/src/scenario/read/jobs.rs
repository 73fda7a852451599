//! `[[jobs]]` and their arrivals.

use super::prelude::*;

pub(super) fn read_arrival(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Arrival> {
    let mut t = cx.table(n, path)?;
    let ty = t.req(
        cx,
        "type",
        "\"list\", \"periodic\" or \"poisson\"",
        |cx, n, p| cx.choice(n, p, ARRIVAL),
    );
    let a = match ty {
        Some(ArrivalKind::List) => t.req(
            cx,
            "at",
            "an array of times such as [\"0s\", \"10m\"]",
            |cx, n, p| {
                let items = cx.array(n, p)?;
                let mut v = read_every(cx, items, p, |cx, x, p| cx.duration(x, p))?;
                v.sort_unstable();
                Some(Arrival::List(v))
            },
        ),
        Some(ArrivalKind::Periodic) => {
            let start = t
                .opt(cx, "start", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            let every = t.req(
                cx,
                "every",
                "the time between batches, e.g. \"24h\"",
                |cx, n, p| {
                    let d = cx.duration(n, p)?;
                    if d == 0 {
                        cx.error(&n.origin, p, "expected a positive duration");
                        return None;
                    }
                    Some(d)
                },
            );
            let batch = t
                .opt(cx, "batch", |cx, n, p| cx.u32(n, p, 1, 10_000_000))
                .unwrap_or(1);
            let batches = t
                .opt(cx, "batches", |cx, n, p| cx.int(n, p, 1, i64::MAX))
                .map(|b| b as u64);
            let spread = t
                .opt(cx, "spread", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            Some(Arrival::Periodic {
                start_ms: start,
                every_ms: every?,
                batch,
                batches,
                spread_ms: spread,
            })
        }
        Some(ArrivalKind::Poisson) => {
            let rate = t.req(cx, "rate_per_s", "tasks per second", |cx, n, p| {
                let r = cx.number(n, p, 0.0, 1e6)?;
                if r <= 0.0 {
                    cx.error(&n.origin, p, "expected a positive rate");
                    return None;
                }
                Some(r)
            });
            let start = t
                .opt(cx, "start", |cx, n, p| cx.duration(n, p))
                .unwrap_or(0);
            let count = t
                .opt(cx, "count", |cx, n, p| cx.int(n, p, 0, i64::MAX))
                .map(|c| c as u64);
            let end = t.opt(cx, "end", |cx, n, p| cx.duration(n, p));
            Some(Arrival::Poisson {
                rate_per_s: rate?,
                start_ms: start,
                count,
                end_ms: end,
            })
        }
        None => None,
    };
    t.finish(cx);
    a
}

pub(super) fn read_job(
    cx: &mut Cx<'_>,
    mut t: Tbl<'_>,
    cluster_defs: &[ClusterDef],
    defs: &[&str],
    default_strategy: &[Strategy],
) -> Option<JobDef> {
    let name = t.req(cx, "name", "a job name", |cx, n, p| {
        cx.name(n, p, NameRule::Ecs)
    });
    let cluster = read_cluster_ref(cx, &mut t, cluster_defs);
    let launch = read_launch(cx, &mut t, cluster.map(|c| &cluster_defs[c]));
    let mix = read_mix(cx, &mut t, defs);
    let arrival = t.req(
        cx,
        "arrival",
        "a table with type = \"list\" or \"poisson\"",
        read_arrival,
    );
    let run_time = t.req(
        cx,
        "run_time",
        "a duration or a distribution table",
        read_dist,
    );
    let on_no = t
        .opt(cx, "on_no_capacity", |cx, n, p| {
            cx.choice(n, p, ON_NO_CAPACITY)
        })
        .unwrap_or(OnNoCapacity::Fail);
    let group = t.opt(cx, "group", read_task_group);
    let strategy = if t.has("placement_strategy") {
        t.opt(cx, "placement_strategy", |cx, n, p| {
            read_strategies(cx, n, p)
        })
    } else {
        Some(default_strategy.to_vec())
    };
    let constraints = t.opt(cx, "placement_constraints", |cx, n, p| {
        read_constraints(cx, n, p, true)
    });
    let stream = t.opt(cx, "stream", |cx, n, p| cx.string(n, p));
    t.finish(cx);
    let name = name?;
    let launch = launch?;
    Some(JobDef {
        launch: launch.0,
        availability_zones: launch.1,
        stream: stream.unwrap_or_else(|| name.clone()),
        name,
        cluster: cluster?,
        mix: mix?,
        arrival: arrival?,
        run_time: run_time?,
        on_no_capacity: on_no,
        group,
        strategy: strategy?,
        constraints: constraints
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.1)
            .collect(),
    })
}

/// `task_definition` or `task_mix`: the task definitions a job runs, with their weights.
fn read_mix(cx: &mut Cx<'_>, t: &mut Tbl<'_>, defs: &[&str]) -> Option<Vec<(usize, f64)>> {
    match (t.has("task_definition"), t.has("task_mix")) {
        (true, true) => {
            t.conflict(cx, "task_definition", "task_mix");
            None
        }
        (false, true) => t.opt(cx, "task_mix", |cx, n, p| read_task_mix(cx, n, p, defs)),
        _ => t
            .req(
                cx,
                "task_definition",
                "a task definition family (or task_mix)",
                |cx, n, p| resolve(cx, n, p, defs, "task definition"),
            )
            .map(|d| vec![(d, 1.0)]),
    }
}

/// `task_mix = [{ task_definition, weight }, ...]`, with a positive total weight.
fn read_task_mix(cx: &mut Cx<'_>, n: &Node, p: &str, defs: &[&str]) -> Option<Vec<(usize, f64)>> {
    let (out, mut ok) = cx.tables(n, p, |cx, mut mt, _| {
        let d = mt.req(
            cx,
            "task_definition",
            "a task definition family",
            |cx, n, p| resolve(cx, n, p, defs, "task definition"),
        );
        let w = mt
            .opt(cx, "weight", |cx, n, p| cx.number(n, p, 0.0, 1e12))
            .unwrap_or(1.0);
        mt.finish(cx);
        Some((d?, w))
    })?;
    if ok && (out.is_empty() || out.iter().map(|m| m.1).sum::<f64>() <= 0.0) {
        cx.error(
            &n.origin,
            p,
            "expected at least one entry and a positive total weight",
        );
        ok = false;
    }
    ok.then_some(out)
}

/// `group`: a task group name of at most 255 characters.
fn read_task_group(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<String> {
    let g = cx.string(n, p)?;
    if g.len() > 255 {
        cx.error(
            &n.origin,
            p,
            "a task group name is at most 255 characters (ECS-DG task-groups.html)",
        );
        return None;
    }
    Some(g)
}
