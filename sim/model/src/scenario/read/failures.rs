//! `[failures]` and the deployment circuit breaker.

use super::prelude::*;

/// `cluster` (default: the first) and an optional `group` of a scripted failure.
pub(super) fn cluster_and_group(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    clusters: &[ClusterDef],
) -> Option<(usize, Option<usize>)> {
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    let cnode = t.get("cluster");
    let gnode = t.get("group");
    let c = match cnode {
        Some(n) => resolve(cx, n, &t.child("cluster"), &names, "cluster")?,
        None if !clusters.is_empty() => 0,
        None => return None,
    };
    match gnode {
        None => Some((c, None)),
        Some(n) => {
            let groups: Vec<&str> = clusters[c].groups.iter().map(|g| g.name.as_str()).collect();
            resolve(cx, n, &t.child("group"), &groups, "instance group").map(|g| (c, Some(g)))
        }
    }
}

pub(super) fn read_failures(
    cx: &mut Cx<'_>,
    root: &mut Tbl<'_>,
    clusters: &[ClusterDef],
    zones: &[&str],
    read_file: Option<FileReader<'_>>,
) -> Option<FailureSettings> {
    let mut s = FailureSettings::default();
    let Some(node) = root.get("failures") else {
        return Some(s);
    };
    let mut t = cx.table(node, "failures")?;
    let mut ok = true;
    if let Some(d) = t.opt(cx, "detection_delay", |cx, n, p| cx.duration(n, p)) {
        s.detection_delay_ms = d;
    }
    if let Some(r) = t.opt(
        cx,
        "fargate_spot_interruptions_per_task_hour",
        |cx, n, p| cx.number(n, p, 0.0, 100.0),
    ) {
        s.fargate_spot_interruptions_per_task_hour = r;
    }
    if let Some(th) = t.get("service_throttle") {
        ok &= read_throttle(cx, th, &mut s);
    }
    if let Some(items) = t.tables(cx, "scripted", |cx, f, _| {
        read_scripted(cx, f, clusters, zones)
    }) {
        s.scripted = entries(Some(items), &mut ok);
    }
    if let Some(n) = t.get("trace") {
        match read_failure_trace(cx, n, clusters, read_file) {
            Some((trace, failures)) => {
                s.scripted.extend(failures);
                s.trace = Some(trace);
            }
            None => ok = false,
        }
    }
    // Stable: at equal times, `scripted` entries before the trace's, each in file order.
    s.scripted.sort_by_key(|f| f.at_ms);
    t.finish(cx);
    ok.then_some(s)
}

/// `[failures] trace = { file, format, cluster }`: a machine failure trace read whole (it is
/// bounded by the scenario input limit) into instance failures; see
/// [`crate::trace::server_events`].
fn read_failure_trace(
    cx: &mut Cx<'_>,
    n: &Node,
    clusters: &[ClusterDef],
    read_file: Option<FileReader<'_>>,
) -> Option<(FailureTrace, Vec<ScriptedFailure>)> {
    const PATH: &str = "failures.trace";
    let mut t = cx.table(n, PATH)?;
    let file = t.req(
        cx,
        "file",
        "a server_event CSV file, relative to the scenario",
        |cx, n, p| cx.string(n, p).map(|s| (s, n.origin.clone())),
    );
    let format = t.req(
        cx,
        "format",
        "\"alibaba-v2017-server-event\"",
        |cx, n, p| cx.choice(n, p, &[("alibaba-v2017-server-event", ())]),
    );
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    let cluster = match t.get("cluster") {
        Some(n) => resolve(cx, n, &t.child("cluster"), &names, "cluster"),
        None => (!clusters.is_empty()).then_some(0),
    };
    t.finish(cx);
    let ((file, origin), (), cluster) = (file?, format?, cluster?);
    let field = format!("{PATH}.file");
    let text = cx.read_named(read_file, &origin, &field, "failure trace", &file)?;
    let instances: u32 = clusters[cluster].groups.iter().map(|g| g.count).sum();
    match crate::trace::server_events::alibaba_v2017(&text, instances) {
        Ok(e) => {
            let scripted = e
                .failures
                .iter()
                .map(|f| ScriptedFailure {
                    at_ms: f.at_ms,
                    kind: FailureKind::MachineFailure {
                        cluster,
                        instance: f.instance,
                    },
                })
                .collect();
            let trace = FailureTrace {
                file,
                cluster,
                failures: e.failures.len() as u64,
                add_rows: e.add_rows,
                beyond_cluster: e.beyond_cluster,
                machines_mapped: e.machines_mapped,
            };
            Some((trace, scripted))
        }
        Err(problems) => {
            cx.file_problems(&origin, &field, &file, problems);
            None
        }
    }
}

/// `[failures.service_throttle]`; false if it is not a table.
fn read_throttle(cx: &mut Cx<'_>, th: &Node, s: &mut FailureSettings) -> bool {
    let Some(mut tt) = cx.table(th, "failures.service_throttle") else {
        return false;
    };
    if let Some(v) = tt.opt(cx, "initial_delay", |cx, n, p| cx.duration(n, p)) {
        s.throttle_initial_ms = v;
    }
    if let Some(v) = tt.opt(cx, "factor", |cx, n, p| cx.number(n, p, 1.0, 100.0)) {
        s.throttle_factor = v;
    }
    if let Some(v) = tt.opt(cx, "cap", |cx, n, p| cx.duration(n, p)) {
        s.throttle_cap_ms = v;
    }
    if let Some(v) = tt.opt(cx, "after_failures", |cx, n, p| cx.u32(n, p, 1, 1000)) {
        s.throttle_after_failures = v;
    }
    tt.finish(cx);
    true
}

/// One `[[failures.scripted]]` entry.
fn read_scripted(
    cx: &mut Cx<'_>,
    mut f: Tbl<'_>,
    clusters: &[ClusterDef],
    zones: &[&str],
) -> Option<ScriptedFailure> {
    let at = f.req(cx, "at", "a time", |cx, n, p| cx.duration(n, p));
    let kind = f.req(cx, "type", &quoted(FAILURE), |cx, n, p| {
        cx.choice(n, p, FAILURE)
    });
    let k = match kind {
        Some(FailureType::InstanceFailure | FailureType::DrainInstances) => {
            let cg = cluster_and_group(cx, &mut f, clusters);
            let count = f.req(cx, "count", "a number of instances", |cx, n, p| {
                cx.u32(n, p, 1, 1_000_000)
            });
            match (cg, count) {
                (Some((cluster, group)), Some(count))
                    if kind == Some(FailureType::InstanceFailure) =>
                {
                    Some(FailureKind::InstanceFailure {
                        cluster,
                        group,
                        count,
                    })
                }
                (Some((cluster, group)), Some(count)) => Some(FailureKind::DrainInstances {
                    cluster,
                    group,
                    count,
                }),
                _ => None,
            }
        }
        Some(FailureType::AzOutage) => {
            let az = f.req(cx, "az", "an Availability Zone", |cx, n, p| {
                let az = cx.string(n, p)?;
                if zones.contains(&az.as_str()) {
                    return Some(az);
                }
                cx.error(
                    &n.origin,
                    p,
                    format!(
                        "no Availability Zone {} in the scenario; its instance groups, services and jobs use {}",
                        shown(&az),
                        quote_list(zones)
                    ),
                );
                None
            });
            let d = f.req(cx, "duration", "how long the AZ is lost", |cx, n, p| {
                cx.duration(n, p)
            });
            match (az, d) {
                (Some(az), Some(duration_ms)) => Some(FailureKind::AzOutage { az, duration_ms }),
                _ => None,
            }
        }
        Some(FailureType::SpotInterruption) => {
            let cg = cluster_and_group(cx, &mut f, clusters);
            let fr = f.req(
                cx,
                "fraction",
                "the share of Spot instances interrupted, 0 to 1",
                |cx, n, p| cx.number(n, p, 0.0, 1.0),
            );
            match (cg, fr) {
                (Some((cluster, group)), Some(fraction)) => Some(FailureKind::SpotInterruption {
                    cluster,
                    group,
                    fraction,
                }),
                _ => None,
            }
        }
        Some(FailureType::FargateSpotInterruption) => f
            .req(
                cx,
                "fraction",
                "the share of Fargate Spot tasks interrupted, 0 to 1",
                |cx, n, p| cx.number(n, p, 0.0, 1.0),
            )
            .map(|fraction| FailureKind::FargateSpotInterruption { fraction }),
        None => None,
    };
    f.finish(cx);
    Some(ScriptedFailure {
        at_ms: at?,
        kind: k?,
    })
}

pub(super) fn read_circuit_breaker(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
) -> Option<CircuitBreaker> {
    let mut t = cx.table(n, path)?;
    let enable = t
        .opt(cx, "enable", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(true);
    let rollback = t
        .opt(cx, "rollback", |cx, n, p| cx.boolean(n, p))
        .unwrap_or(false);
    let min = t
        .opt(cx, "min_threshold", |cx, n, p| {
            let v = cx.u32(n, p, 1, 200)?;
            if v != 3 && v != 10 {
                cx.error(
                    &n.origin,
                    p,
                    format!(
                        "got {v}; expected 3 (the current API reference) or 10 (the 2023 guide)"
                    ),
                );
                return None;
            }
            Some(v)
        })
        .unwrap_or(3);
    let pct = t
        .opt(cx, "threshold_percent", |cx, n, p| cx.u32(n, p, 1, 100))
        .unwrap_or(50);
    t.finish(cx);
    enable.then_some(CircuitBreaker {
        rollback,
        min_threshold: min,
        percent: pct,
    })
}
