//! `[[jobs]]` and their arrivals.

use super::prelude::*;

pub(super) fn read_arrival(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Arrival> {
    let mut t = cx.table(n, path)?;
    let ty = t.req(
        cx,
        "type",
        "\"list\", \"periodic\", \"poisson\" or \"trace\"",
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
        Some(ArrivalKind::Trace) => read_trace(cx, &mut t).map(Arrival::Trace),
        None => None,
    };
    t.finish(cx);
    a
}

/// `{ type = "trace", file, format, ... }` (the file itself is read by the run, streamed).
fn read_trace(cx: &mut Cx<'_>, t: &mut Tbl<'_>) -> Option<TraceSpec> {
    let file = t.req(
        cx,
        "file",
        "the trace file, relative to the scenario",
        |cx, n, p| {
            let f = cx.string(n, p)?;
            if f.is_empty() {
                cx.error(&n.origin, p, "expected a file name, not an empty string");
                return None;
            }
            Some(f)
        },
    );
    let format = t.req(cx, "format", &trace_formats(), |cx, n, p| {
        cx.choice(n, p, &TraceFormat::ALL)
    });
    let per_row = t
        .opt(cx, "tasks_per_row", |cx, n, p| {
            cx.choice(
                n,
                p,
                &[("count", TasksPerRow::Count), ("one", TasksPerRow::One)],
            )
        })
        .unwrap_or(TasksPerRow::Count);
    let only = |cx: &mut Cx<'_>, n: &Node, p: &str, f: TraceFormat| {
        if format.is_some_and(|g| g != f) {
            cx.error(
                &n.origin,
                p,
                format!("applies only to format = \"{}\"", f.name()),
            );
        }
    };
    let mem_unit = t.opt(cx, "memory_mib_per_unit", |cx, n, p| {
        only(cx, n, p, TraceFormat::AlibabaV2017BatchTask);
        let v = cx.number(n, p, 0.0, 1e9)?;
        if v <= 0.0 {
            cx.error(&n.origin, p, "expected a positive number of MiB");
            return None;
        }
        Some(v)
    });
    if format == Some(TraceFormat::AlibabaV2017BatchTask) && !t.has("memory_mib_per_unit") {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            &t.child("memory_mib_per_unit"),
            "missing; the Alibaba v2017 trace gives memory normalised to its largest machine: give the MiB a normalised 1.0 stands for (the same figure that sizes your instances; see docs/traces.md)",
        );
    }
    let cpu_proc = t.opt(cx, "cpu_units_per_processor", |cx, n, p| {
        only(cx, n, p, TraceFormat::Swf);
        cx.u32(n, p, 1, 1 << 20)
    });
    let mem_proc = t.opt(cx, "memory_mib_per_processor", |cx, n, p| {
        only(cx, n, p, TraceFormat::Swf);
        cx.u32(n, p, 1, 1 << 30)
    });
    let gpu_attribute = t.opt(cx, "gpu_attribute", |cx, n, p| {
        only(cx, n, p, TraceFormat::AlibabaGpuV2023Pods);
        let a = cx.string(n, p)?;
        let ok = !a.is_empty()
            && a.len() <= 128
            && a
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            cx.error(
                &n.origin,
                p,
                "expected an attribute name of letters, digits, '-', '_' and '.', at most 128 characters",
            );
            return None;
        }
        Some(a)
    });
    let reorder = t.opt(cx, "reorder_rows", |cx, n, p| cx.u32(n, p, 1, 10_000_000));
    Some(TraceSpec {
        file: file?,
        format: format?,
        tasks_per_row: per_row,
        memory_mib_per_unit: mem_unit,
        cpu_units_per_processor: cpu_proc.unwrap_or(1024),
        memory_mib_per_processor: mem_proc.unwrap_or(2048),
        gpu_attribute: gpu_attribute.unwrap_or_else(|| "gpu_model".to_string()),
        reorder_rows: reorder.unwrap_or(DEFAULT_REORDER_ROWS),
    })
}

/// The trace formats, quoted, for messages.
fn trace_formats() -> String {
    let names: Vec<&str> = TraceFormat::ALL.iter().map(|f| f.0).collect();
    quote_list(&names)
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
    let trace = t.has("task_mix") && is_trace(&t);
    let mix = if trace {
        t.conflict(cx, "arrival", "task_mix");
        None
    } else {
        read_mix(cx, &mut t, defs)
    };
    let arrival = t.req(
        cx,
        "arrival",
        "a table with type = \"list\", \"periodic\", \"poisson\" or \"trace\"",
        read_arrival,
    );
    let run_time = if is_trace(&t) {
        if t.has("run_time") {
            let _ = t.get("run_time");
            let origin = t.origin.clone();
            cx.error(
                &origin,
                &t.child("run_time"),
                "a trace gives each task its run time; remove run_time",
            );
            None
        } else {
            Some(Dist::Fixed(0))
        }
    } else {
        t.req(
            cx,
            "run_time",
            "a duration or a distribution table",
            read_dist,
        )
    };
    if is_trace(&t)
        && let Some((spec, _)) = &launch
        && runs_on_fargate(spec, cluster.map(|c| &cluster_defs[c]))
    {
        let origin = t.origin.clone();
        cx.error(
            &origin,
            &t.child("arrival"),
            "a trace's tasks have sizes Fargate does not offer; run a trace job on EC2 (launch_type = \"EC2\" or an Auto Scaling group capacity provider)",
        );
    }
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

/// Whether a job's `arrival` is a trace (`type = "trace"`).
fn is_trace(t: &Tbl<'_>) -> bool {
    let Some(Kind::Table(a)) = t.peek("arrival").map(|n| &n.kind) else {
        return false;
    };
    a.iter()
        .any(|(k, _, v)| k == "type" && matches!(&v.kind, Kind::Str(s) if s == "trace"))
}

/// Whether a launch spec sends tasks to Fargate (launch type or any Fargate provider).
fn runs_on_fargate(spec: &LaunchSpec, cluster: Option<&ClusterDef>) -> bool {
    match spec {
        LaunchSpec::Ec2 => false,
        LaunchSpec::Fargate => true,
        LaunchSpec::Strategy(items) => cluster.is_some_and(|c| {
            items.iter().any(|it| {
                matches!(
                    c.capacity_providers[it.provider].kind,
                    ProviderKind::Fargate | ProviderKind::FargateSpot
                )
            })
        }),
    }
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
