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
        ComponentKind::RequestLog => Some(read_request_log(cx, &mut t, path, read_file)?),
        ComponentKind::CloudWatch => Some(read_cloudwatch(cx, &mut t, path, read_file)?),
        ComponentKind::Utilization => Some(read_utilization(cx, &mut t, path, read_file)?),
    };
    t.finish(cx);
    c
}

/// A `request_log` component: a per-request log (`format = "azure-llm-inference"`) counted per
/// `bin` (default 1 minute) into requests per second (`crate::trace::requests`).
fn read_request_log(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    let file = file_field(cx, t, "a request log, relative to the scenario");
    let format = t.req(cx, "format", "\"azure-llm-inference\"", |cx, n, p| {
        cx.choice(n, p, &[("azure-llm-inference", ())])
    });
    let bin = t.opt(cx, "bin", seconds_to_a_day).unwrap_or(60_000);
    let file = file?;
    format?;
    let points = named_points(cx, read_file, path, "request log", &file, |text| {
        crate::trace::requests::azure_llm_rates(text, bin)
    })?;
    Some(Component::Series { points })
}

/// A component's `file`: a file named relative to the scenario, and where it was given.
fn file_field(cx: &mut Cx<'_>, t: &mut Tbl<'_>, expected: &str) -> Option<(String, Origin)> {
    t.req(cx, "file", expected, |cx, n, p| {
        cx.string(n, p).map(|s| (s, n.origin.clone()))
    })
}

/// A period of whole seconds from 1 s to 24 h, in milliseconds.
fn seconds_to_a_day(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<u64> {
    let d = cx.duration(n, p)?;
    if !(1000..=86_400_000).contains(&d) || d % 1000 != 0 {
        cx.error(&n.origin, p, "expected whole seconds from 1s to 24h");
        return None;
    }
    Some(d)
}

/// Read the file a component names (`what` in messages) and turn it into its points with
/// `parse`; every problem the reader finds is reported at the file's line and column.
fn named_points(
    cx: &mut Cx<'_>,
    read_file: Option<FileReader<'_>>,
    path: &str,
    what: &str,
    (file, origin): &(String, Origin),
    parse: impl FnOnce(&str) -> Result<Vec<(u64, f64)>, Vec<crate::trace::requests::RowProblem>>,
) -> Option<Vec<(u64, f64)>> {
    let field = format!("{path}.file");
    let text = cx.read_named(read_file, origin, &field, what, file)?;
    parse(&text)
        .map_err(|problems| cx.file_problems(origin, &field, file, problems))
        .ok()
}

/// A `cloudwatch` component: a CloudWatch metric export (console CSV or `get-metric-data` JSON)
/// of a request count per `period`, held over each period (`crate::trace::cloudwatch`).
fn read_cloudwatch(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    use crate::trace::cloudwatch::{Export, Gaps, rates};
    let file = file_field(
        cx,
        t,
        "a CloudWatch export (CSV or get-metric-data JSON), relative to the scenario",
    );
    let period = t.req(
        cx,
        "period",
        "the metric's period, such as \"1m\"",
        seconds_to_a_day,
    );
    // Only a Sum per period is a count of requests; other statistics are rejected here.
    let _: Option<()> = t.opt(cx, "statistic", |cx, n, p| cx.choice(n, p, &[("Sum", ())]));
    let targets = t
        .opt(cx, "targets", |cx, n, p| cx.number(n, p, 1.0, 1e6))
        .unwrap_or(1.0);
    let gaps = t
        .opt(cx, "gaps", |cx, n, p| {
            cx.choice(n, p, &[("zero", Gaps::Zero), ("hold", Gaps::Hold)])
        })
        .unwrap_or(Gaps::Zero);
    let metric = t.opt(cx, "metric", |cx, n, p| cx.string(n, p));
    let (file, period_ms) = (file?, period?);
    let ex = Export {
        metric: metric.as_deref(),
        period_ms,
        targets,
        gaps,
    };
    let points = named_points(cx, read_file, path, "CloudWatch export", &file, |text| {
        rates(&file.0, text, &ex)
    })?;
    Some(Component::Held { points })
}

/// A `utilization` component: a machine's CPU or memory utilisation series (Bitbrains or Alibaba
/// v2018 `machine_usage`) replayed as `utilisation % / 100 x rps_at_100_pct` requests per second,
/// each sample held until the next (`crate::trace::utilization`).
fn read_utilization(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    use crate::trace::utilization::{Series, UsageColumn, UsageFormat, rates};
    let file = file_field(cx, t, "a utilisation series, relative to the scenario");
    let format = t.req(
        cx,
        "format",
        "\"bitbrains\" or \"alibaba-v2018-machine-usage\"",
        |cx, n, p| cx.choice(n, p, &UsageFormat::ALL),
    );
    // Given but not valid (already reported) is not "missing".
    let machine_given = t.has("machine");
    let machine = t.opt(cx, "machine", |cx, n, p| {
        cx.string(n, p).map(|s| (s, n.origin.clone()))
    });
    let column = t
        .opt(cx, "column", |cx, n, p| {
            cx.choice(
                n,
                p,
                &[("cpu", UsageColumn::Cpu), ("memory", UsageColumn::Memory)],
            )
        })
        .unwrap_or(UsageColumn::Cpu);
    let rps = t.req(
        cx,
        "rps_at_100_pct",
        "the requests per second 100 % utilisation stands for",
        |cx, n, p| cx.number(n, p, 0.001, 1e9),
    );
    let format = format?;
    match (format, &machine) {
        (UsageFormat::AlibabaV2018MachineUsage, None) if machine_given => return None,
        (UsageFormat::AlibabaV2018MachineUsage, None) => {
            cx.error(
                &t.origin.clone(),
                &format!("{path}.machine"),
                "missing; a machine_usage file holds every machine: name the one to replay, such as machine = \"m_1932\"",
            );
            return None;
        }
        (UsageFormat::Bitbrains, Some((_, o))) => {
            cx.error(
                o,
                &format!("{path}.machine"),
                "a Bitbrains file holds one VM; machine is only for format \"alibaba-v2018-machine-usage\"",
            );
            return None;
        }
        _ => {}
    }
    let (file, rps_at_100_pct) = (file?, rps?);
    let series = Series {
        format,
        machine: machine.as_ref().map(|(m, _)| m.as_str()),
        column,
        rps_at_100_pct,
    };
    let points = named_points(cx, read_file, path, "utilisation series", &file, |text| {
        rates(text, &series)
    })?;
    Some(Component::Held { points })
}

/// A `csv` component: `time_s,rps` rows from a file named relative to the scenario.
fn read_csv_component(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    path: &str,
    read_file: Option<FileReader<'_>>,
) -> Option<Component> {
    let file = file_field(
        cx,
        t,
        "a CSV file of time_s,rps rows, relative to the scenario",
    );
    let (file, origin) = file?;
    let text = cx.read_named(
        read_file,
        &origin,
        &format!("{path}.file"),
        "CSV load file",
        &file,
    )?;
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
                        "{}:{}: expected \"time_s,rps\" with numbers, got \"{}\"",
                        super::escape_controls(&file),
                        i + 1,
                        super::escape_controls(line)
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
            format!(
                "{}: expected at least one row, with strictly increasing times",
                super::escape_controls(&file)
            ),
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
) -> Option<LoadSpec> {
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
    // Defaults: 5 % CPU idle, 95 % at full load; 40 % memory idle, 70 % at full load.
    let cpu = read_use(cx, &mut t, "cpu", CPU_UNITS, (5.0, 90.0 / per_task, 100.0));
    let mem = read_use(
        cx,
        &mut t,
        "memory",
        MEMORY_MIB,
        (40.0, 30.0 / per_task, 100.0),
    );
    let stream = t.opt(cx, "stream", |cx, n, p| cx.string(n, p));
    t.finish(cx);
    let (cpu, mem) = (cpu?, mem?);
    Some(LoadSpec {
        model: LoadModel {
            components: components?,
            noise_pct: noise,
            requests_per_task: per_task,
            cpu_base_pct: cpu.pct.0,
            cpu_pct_per_rps: cpu.pct.1,
            cpu_max_pct: cpu.pct.2,
            memory_base_pct: mem.pct.0,
            memory_pct_per_rps: mem.pct.1,
            memory_max_pct: mem.pct.2,
        },
        stream,
        absolute: (cpu.absolute, mem.absolute),
    })
}

/// A service's load as read, before absolute use is turned into percentages of its task
/// definition's reservation (which the service reader knows).
pub(super) struct LoadSpec {
    pub(super) model: LoadModel,
    pub(super) stream: Option<String>,
    /// CPU units and MiB, when given as absolute use.
    pub(super) absolute: (Option<Triple>, Option<Triple>),
}

impl LoadSpec {
    /// The model, with absolute use converted to ECS's metric: 100 x used / reserved, from the
    /// task-level reservation (ecs-semantics 5.6, ECS-DG cloudwatch-metrics.html).
    pub(super) fn model(mut self, reserved_cpu_units: u32, reserved_memory_mib: u32) -> LoadModel {
        let pct = |v: (f64, f64, f64), reserved: u32| {
            let r = f64::from(reserved.max(1));
            (100.0 * v.0 / r, 100.0 * v.1 / r, 100.0 * v.2 / r)
        };
        let m = &mut self.model;
        if let Some(c) = self.absolute.0 {
            (m.cpu_base_pct, m.cpu_pct_per_rps, m.cpu_max_pct) = pct(c, reserved_cpu_units);
        }
        if let Some(c) = self.absolute.1 {
            (m.memory_base_pct, m.memory_pct_per_rps, m.memory_max_pct) =
                pct(c, reserved_memory_mib);
        }
        self.model
    }
}

/// Use as (base, per request per second, max).
type Triple = (f64, f64, f64);

/// Resource use as read: percentages, and the absolute values when given that way.
struct Use {
    pct: (f64, f64, f64),
    absolute: Option<(f64, f64, f64)>,
}

/// `cpu` or `memory` of a load: `{ base_pct, per_rps_pct, max_pct }` (percent of the task's
/// reservation), or absolute use `{ base_<unit>, per_rps_<unit>, max_<unit> }`, not both.
const CPU_UNITS: [&str; 3] = ["base_units", "per_rps_units", "max_units"];
const MEMORY_MIB: [&str; 3] = ["base_mib", "per_rps_mib", "max_mib"];

fn read_use(
    cx: &mut Cx<'_>,
    t: &mut Tbl<'_>,
    key: &'static str,
    abs_keys: [&'static str; 3],
    d: (f64, f64, f64),
) -> Option<Use> {
    let Some(node) = t.get(key) else {
        return Some(Use {
            pct: d,
            absolute: None,
        });
    };
    let p = t.child(key);
    let mut u = cx.table(node, &p)?;
    let absolute = abs_keys.iter().any(|k| u.has(k));
    let pct_given = ["base_pct", "per_rps_pct", "max_pct"]
        .iter()
        .any(|k| u.has(k));
    if absolute && pct_given {
        cx.error(
            &u.origin.clone(),
            &p,
            format!(
                "give use either in percent of the reservation (base_pct, per_rps_pct, max_pct) or absolute ({}), not both",
                abs_keys.join(", ")
            ),
        );
        return None;
    }
    let num = |cx: &mut Cx<'_>, u: &mut Tbl<'_>, k: &'static str, lo: f64, hi: f64| {
        u.opt(cx, k, |cx, n, p| cx.number(n, p, lo, hi))
    };
    let out = if absolute {
        let b = num(cx, &mut u, abs_keys[0], 0.0, 1e9).unwrap_or(0.0);
        let k = num(cx, &mut u, abs_keys[1], 0.0, 1e9).unwrap_or(0.0);
        let m = num(cx, &mut u, abs_keys[2], 0.001, 1e9).unwrap_or(f64::MAX);
        Use {
            pct: d,
            absolute: Some((b, k, m)),
        }
    } else {
        let b = num(cx, &mut u, "base_pct", 0.0, 1000.0).unwrap_or(d.0);
        let k = num(cx, &mut u, "per_rps_pct", 0.0, 1e6).unwrap_or(d.1);
        let m = num(cx, &mut u, "max_pct", 1.0, 10_000.0).unwrap_or(d.2);
        Use {
            pct: (b, k, m),
            absolute: None,
        }
    };
    u.finish(cx);
    Some(out)
}
