//! `[services.load]`: the requests offered to a service.

use super::prelude::*;

pub(super) fn read_component(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    let mut t = cx.table(n, path)?;
    let kind = t.req(cx, "type", &quoted(COMPONENT), |cx, n, p| {
        cx.choice(n, p, COMPONENT)
    });
    let rps = |t: &mut Tbl<'_>, cx: &mut Cx<'_>, key: &'static str| {
        t.req(cx, key, "requests per second", |cx, n, p| {
            cx.number(n, p, -1e9, 1e9)
        })
    };
    let c = match kind? {
        ComponentKind::Constant => rps(&mut t, cx, "rps").map(|rps| Component::Constant { rps }),
        ComponentKind::Daily => {
            let trough = rps(&mut t, cx, "trough_rps");
            let peak = rps(&mut t, cx, "peak_rps");
            let at = t
                .opt(cx, "peak_at", |cx, n, p| cx.duration(n, p))
                .unwrap_or(14 * 3_600_000);
            Some(Component::Daily {
                trough_rps: trough?,
                peak_rps: peak?,
                peak_at_ms: at % 86_400_000,
            })
        }
        ComponentKind::Ramp => {
            let start = t.req(cx, "start", "a time", |cx, n, p| cx.duration(n, p));
            let end = t.req(cx, "end", "a time", |cx, n, p| cx.duration(n, p));
            let from = rps(&mut t, cx, "from_rps");
            let to = rps(&mut t, cx, "to_rps");
            match (start, end) {
                (Some(s), Some(e)) if e > s => Some(Component::Ramp {
                    start_ms: s,
                    end_ms: e,
                    from_rps: from?,
                    to_rps: to?,
                }),
                (Some(_), Some(_)) => {
                    cx.error(
                        &n.origin,
                        &format!("{path}.end"),
                        "the ramp must end after it starts",
                    );
                    None
                }
                _ => None,
            }
        }
        ComponentKind::Step => {
            let at = t.req(cx, "at", "a time", |cx, n, p| cx.duration(n, p));
            let r = rps(&mut t, cx, "rps");
            Some(Component::Step {
                at_ms: at?,
                rps: r?,
            })
        }
        ComponentKind::Spike => {
            let start = t.req(cx, "start", "a time", |cx, n, p| cx.duration(n, p));
            let len = t.req(cx, "length", "a duration", |cx, n, p| cx.duration(n, p));
            let r = rps(&mut t, cx, "rps");
            Some(Component::Spike {
                start_ms: start?,
                length_ms: len?,
                rps: r?,
            })
        }
        // A bad CSV file ends the component before its unknown fields are checked.
        ComponentKind::Csv => Some(read_csv_component(cx, &mut t, path, read_file)?),
    };
    t.finish(cx);
    c
}

/// A `csv` component: `time_s,rps` rows from a file named relative to the scenario.
fn read_csv_component(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    let file = t.req(
        cx,
        "file",
        "a CSV file of time_s,rps rows, relative to the scenario",
        |cx, n, p| cx.string(n, p).map(|s| (s, n.origin.clone())),
    );
    let (file, origin) = file?;
    let Some(read) = read_file else {
        cx.error(
            &origin,
            &format!("{path}.file"),
            "CSV load files can only be read when the scenario is loaded from a file",
        );
        return None;
    };
    let text = match read(&file) {
        Ok(t) => t,
        Err(e) => {
            cx.error(
                &origin,
                &format!("{path}.file"),
                format!("cannot read \"{file}\": {e}"),
            );
            return None;
        }
    };
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || (i == 0 && line.chars().next().is_some_and(|c| c.is_alphabetic()))
        {
            continue;
        }
        let parsed = line.split_once(',').and_then(|(a, b)| {
            Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
        });
        match parsed {
            Some((ts, r)) if ts >= 0.0 && r.is_finite() => {
                points.push(((ts * 1000.0).round() as u64, r))
            }
            _ => {
                cx.error(
                    &origin,
                    &format!("{path}.file"),
                    format!(
                        "{file}:{}: expected \"time_s,rps\" with numbers, got \"{line}\"",
                        i + 1
                    ),
                );
                return None;
            }
        }
    }
    if points.is_empty() || points.windows(2).any(|w| w[1].0 <= w[0].0) {
        cx.error(
            &origin,
            &format!("{path}.file"),
            format!("{file}: expected at least one row, with strictly increasing times"),
        );
        return None;
    }
    Some(Component::Series { points })
}

pub(super) fn read_load(
    cx: &mut Cx<'_>,
    n: &Node,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<(LoadModel, Option<String>)> {
    let mut t = cx.table(n, path)?;
    let components = t.req(
        cx,
        "components",
        "an array of load components",
        |cx, n, p| {
            let items = cx.array(n, p)?;
            read_every(cx, items, p, |cx, x, p| read_component(cx, x, p, read_file))
        },
    );
    let noise = t
        .opt(cx, "noise_pct", |cx, n, p| cx.number(n, p, 0.0, 100.0))
        .unwrap_or(0.0);
    let per_task = t
        .opt(cx, "requests_per_task", |cx, n, p| {
            cx.number(n, p, 0.001, 1e9)
        })
        .unwrap_or(100.0);
    let mut util = |t: &mut Tbl<'_>, key: &'static str, d: (f64, f64, f64)| -> (f64, f64, f64) {
        match t.get(key) {
            None => d,
            Some(node) => {
                let p = t.child(key);
                let Some(mut u) = cx.table(node, &p) else {
                    return d;
                };
                let b = u
                    .opt(cx, "base_pct", |cx, n, p| cx.number(n, p, 0.0, 1000.0))
                    .unwrap_or(d.0);
                let k = u
                    .opt(cx, "per_rps_pct", |cx, n, p| cx.number(n, p, 0.0, 1e6))
                    .unwrap_or(d.1);
                let m = u
                    .opt(cx, "max_pct", |cx, n, p| cx.number(n, p, 1.0, 10_000.0))
                    .unwrap_or(d.2);
                u.finish(cx);
                (b, k, m)
            }
        }
    };
    // Defaults: 5 % CPU idle, 95 % at full load; 40 % memory idle, 70 % at full load.
    let cpu = util(&mut t, "cpu", (5.0, 90.0 / per_task, 100.0));
    let mem = util(&mut t, "memory", (40.0, 30.0 / per_task, 100.0));
    let stream = t.opt(cx, "stream", |cx, n, p| cx.string(n, p));
    t.finish(cx);
    Some((
        LoadModel {
            components: components?,
            noise_pct: noise,
            requests_per_task: per_task,
            cpu_base_pct: cpu.0,
            cpu_pct_per_rps: cpu.1,
            cpu_max_pct: cpu.2,
            memory_base_pct: mem.0,
            memory_pct_per_rps: mem.1,
            memory_max_pct: mem.2,
        },
        stream,
    ))
}
