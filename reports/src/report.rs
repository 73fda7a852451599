//! The HTML report of a run (`ecsim report OUT_DIR`, `ecsim run --report`) and of a sweep.
//!
//! Everything comes from the output files, given as text: the report can be made again later
//! from a folder. The page is self-contained: charts are embedded as `data:` SVG images, styles
//! inline, no network fetch. Every name that came from a scenario is HTML-escaped. A small
//! script checks on load that every image has a rendered size and that no script error occurred,
//! and writes the verdict into the page (`#selfcheck`), so a headless browser can verify it.

use std::fmt::Write as _;

use crate::charts::{self, Band, BarChart, LineChart, Series, XyChart};

/// The files of a run's output folder, as text (missing ones empty).
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    /// summary.json
    pub summary_json: String,
    /// metrics.csv
    pub metrics_csv: String,
    /// cost.csv
    pub cost_csv: String,
    /// scaling.csv
    pub scaling_csv: String,
    /// failures.csv
    pub failures_csv: String,
    /// deployments.csv
    pub deployments_csv: String,
}

/// A chart in both formats.
pub struct RenderedChart {
    /// File stem, e.g. `tasks`.
    pub name: String,
    /// Title.
    pub title: String,
    /// SVG text.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// A rendered report.
pub struct Rendered {
    /// Charts.
    pub charts: Vec<RenderedChart>,
    /// The HTML page.
    pub html: String,
}

/// Escape text for HTML.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= ch.len() {
                o.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// A CSV file as a header and rows of strings.
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map(|h| h.iter().map(String::from).collect())
        .unwrap_or_default();
    let rows = r
        .records()
        .filter_map(|x| x.ok())
        .map(|x| x.iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// summary.json's fields in file order (the file is flat, one field per line).
pub fn summary_fields(json: &str) -> Vec<(String, String)> {
    json.lines()
        .filter_map(|l| {
            let l = l.trim().trim_end_matches(',');
            let (k, v) = l.split_once(": ")?;
            let key: String = serde_json::from_str(k).ok()?;
            let val = serde_json::from_str::<String>(v).unwrap_or_else(|_| v.to_string());
            Some((key, val))
        })
        .collect()
}

fn col(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// The run charts: tasks per service, instances, reservation and utilisation, load, cost.
pub fn run_charts(f: &RunFiles) -> Vec<(String, LineChart)> {
    let (h, rows) = table(&f.metrics_csv);
    let Some(t) = col(&h, "time_ms") else {
        return Vec::new();
    };
    let hours: Vec<f64> = rows.iter().map(|r| num(&r[t]) / 3_600_000.0).collect();
    let series = |name: &str, label: String, dashed: bool| -> Option<Series> {
        let c = col(&h, name)?;
        Some(Series {
            name: label,
            points: hours
                .iter()
                .zip(&rows)
                .map(|(&x, r)| (x, num(r.get(c).map_or("", |v| v))))
                .collect(),
            dashed,
        })
    };
    let mut markers: Vec<(f64, &'static str)> = Vec::new();
    let (sh, srows) = table(&f.scaling_csv);
    if let (Some(tc), Some(kc)) = (col(&sh, "time_ms"), col(&sh, "kind")) {
        markers.extend(
            srows
                .iter()
                .filter(|r| r[kc] != "alarm")
                .map(|r| (num(&r[tc]) / 3_600_000.0, "scaling")),
        );
    }
    let (fh, frows) = table(&f.failures_csv);
    if let Some(tc) = col(&fh, "time_ms") {
        markers.extend(frows.iter().map(|r| (num(&r[tc]) / 3_600_000.0, "failure")));
    }
    let (dh, drows) = table(&f.deployments_csv);
    if let Some(tc) = col(&dh, "started_ms") {
        markers.extend(
            drows
                .iter()
                .map(|r| (num(&r[tc]) / 3_600_000.0, "deployment")),
        );
    }
    let services: Vec<String> = h
        .iter()
        .filter_map(|c| c.strip_suffix(".desired").map(String::from))
        .collect();
    let mut out = Vec::new();
    let mut tasks = Vec::new();
    for s in services.iter().take(6) {
        tasks.extend(series(
            &format!("{s}.running"),
            format!("{s} running"),
            false,
        ));
        tasks.extend(series(
            &format!("{s}.desired"),
            format!("{s} desired"),
            true,
        ));
        tasks.extend(series(
            &format!("{s}.pending"),
            format!("{s} pending"),
            false,
        ));
    }
    if services.is_empty() {
        tasks.extend(series("tasks_running", "tasks running".into(), false));
        tasks.extend(series("tasks_pending", "tasks pending".into(), false));
        tasks.extend(series("tasks_provisioning", "tasks waiting".into(), false));
    }
    out.push((
        "tasks".to_string(),
        LineChart {
            title: "Tasks per service".into(),
            y_label: "tasks".into(),
            series: tasks,
            markers: markers.clone(),
            money: false,
        },
    ));
    let mut inst: Vec<Series> = ["launching", "active", "draining", "stopped"]
        .iter()
        .filter_map(|k| series(&format!("instances_{k}"), format!("instances {k}"), false))
        .collect();
    inst.extend(
        h.iter()
            .filter_map(|c| c.strip_suffix(".instances_in_use"))
            .take(4)
            .filter_map(|c| {
                series(
                    &format!("{c}.instances_in_use"),
                    format!("{c} in use"),
                    true,
                )
            }),
    );
    out.push((
        "instances".to_string(),
        LineChart {
            title: "Container instances".into(),
            y_label: "instances".into(),
            series: inst,
            markers: markers.clone(),
            money: false,
        },
    ));
    let mut res: Vec<Series> = vec![];
    res.extend(series("cpu_reserved_pct", "CPU reserved".into(), false));
    res.extend(series(
        "memory_reserved_pct",
        "memory reserved".into(),
        false,
    ));
    for c in h
        .iter()
        .filter_map(|c| c.strip_suffix(".cpu_utilization_pct"))
        .take(4)
    {
        res.extend(series(
            &format!("{c}.cpu_utilization_pct"),
            format!("{c} CPU used"),
            true,
        ));
    }
    out.push((
        "utilisation".to_string(),
        LineChart {
            title: "Reserved versus used".into(),
            y_label: "percent".into(),
            series: res,
            markers: markers.clone(),
            money: false,
        },
    ));
    let loads: Vec<&str> = h
        .iter()
        .filter_map(|c| c.strip_suffix(".demand_rps"))
        .collect();
    if !loads.is_empty() {
        let mut l = Vec::new();
        for s in loads.iter().take(4) {
            l.extend(series(
                &format!("{s}.demand_rps"),
                format!("{s} demand"),
                true,
            ));
            l.extend(series(
                &format!("{s}.served_rps"),
                format!("{s} served"),
                false,
            ));
        }
        out.push((
            "load".to_string(),
            LineChart {
                title: "Load versus serving capacity".into(),
                y_label: "requests per second".into(),
                series: l,
                markers: markers.clone(),
                money: false,
            },
        ));
    }
    // Cumulative cost by capacity provider.
    let (ch, crows) = table(&f.cost_csv);
    if let (Some(tc), Some(sc), Some(nc), Some(vc)) = (
        col(&ch, "hour_start_ms"),
        col(&ch, "scope"),
        col(&ch, "name"),
        col(&ch, "cost_usd"),
    ) {
        let mut providers: Vec<String> = Vec::new();
        // (provider, running total, cumulative points)
        type Acc = (String, f64, Vec<(f64, f64)>);
        let mut acc: Vec<Acc> = Vec::new();
        for r in crows.iter().filter(|r| r[sc] == "capacity_provider") {
            if !providers.contains(&r[nc]) {
                providers.push(r[nc].clone());
                acc.push((r[nc].clone(), 0.0, vec![(0.0, 0.0)]));
            }
            let e = acc.iter_mut().find(|a| a.0 == r[nc]).expect("added");
            e.1 += num(&r[vc]);
            e.2.push((num(&r[tc]) / 3_600_000.0 + 1.0, e.1));
        }
        let series: Vec<Series> = acc
            .into_iter()
            .filter(|a| a.1 > 0.0)
            .map(|(n, _, p)| Series {
                name: if n == "none" { "no provider".into() } else { n },
                points: p,
                dashed: false,
            })
            .collect();
        if !series.is_empty() {
            out.push((
                "cost".to_string(),
                LineChart {
                    title: "Cumulative cost by capacity provider".into(),
                    y_label: "USD".into(),
                    series,
                    markers,
                    money: true,
                },
            ));
        }
    }
    out
}

const STYLE: &str = "body{font-family:DejaVu Sans,Verdana,sans-serif;margin:24px auto;max-width:1040px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:12px 0}img{max-width:100%;height:auto;border:1px solid #eee}\
#selfcheck{color:#888;font-size:11px}";

const SELFCHECK: &str = "<script>\
window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));});\
window.addEventListener('load',function(){var imgs=Array.prototype.slice.call(document.images);\
var bad=imgs.filter(function(i){var r=i.getBoundingClientRect();return !(i.complete&&i.naturalWidth>0&&r.width>0&&r.height>0);});\
var el=document.getElementById('selfcheck');\
el.textContent=(bad.length===0&&window.__errors.length===0)?('page check: ok: '+imgs.length+' images'):('page check: problems: '+bad.length+' images without size; errors: '+window.__errors.join('; '));});\
</script>";

fn html_table(o: &mut String, header: &[String], rows: &[Vec<String>]) {
    o.push_str("<table><tr>");
    for h in header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr>");
    for r in rows {
        o.push_str("<tr>");
        for v in r {
            let cls = if v.parse::<f64>().is_ok() {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(o, "<td{cls}>{}</td>", escape(v));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
}

fn figure(o: &mut String, c: &RenderedChart) {
    let _ = write!(
        o,
        "<figure><img alt=\"{}\" width=\"960\" height=\"420\" src=\"data:image/svg+xml;base64,{}\"><figcaption>{}</figcaption></figure>",
        escape(&c.title),
        base64(c.svg.as_bytes()),
        escape(&c.title)
    );
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style>{SELFCHECK}</head><body>{body}<p id=\"selfcheck\">page check: not run</p></body></html>\n",
        escape(title)
    )
}

/// Render a run's charts and report page.
pub fn render_run(f: &RunFiles) -> Result<Rendered, String> {
    let fields = summary_fields(&f.summary_json);
    let get = |k: &str| fields.iter().find(|x| x.0 == k).map(|x| x.1.clone());
    let mut charts_out = Vec::new();
    for (name, c) in run_charts(f) {
        charts_out.push(RenderedChart {
            name,
            title: c.title.clone(),
            svg: charts::svg(&c)?,
            png: charts::png(&c)?,
        });
    }
    let scenario = get("scenario").unwrap_or_default();
    let mut b = String::new();
    let _ = write!(b, "<h1>ecsim report: {}</h1>", escape(&scenario));
    let _ = write!(
        b,
        "<p>Seed {}, simulated {} h (stop: {}), events hash <code>{}</code>.</p>",
        escape(&get("seed").unwrap_or_default()),
        escape(&format!(
            "{:.2}",
            num(&get("sim_end_ms").unwrap_or_default()) / 3_600_000.0
        )),
        escape(&get("stop_reason").unwrap_or_default()),
        escape(&get("events_hash").unwrap_or_default())
    );
    b.push_str("<h2>Key numbers</h2>");
    let keys = [
        ("tasks_created", "tasks created"),
        ("tasks_started", "tasks started"),
        ("tasks_failed_to_place", "tasks failed to place"),
        ("tasks_never_placed", "tasks never placed"),
        (
            "tasks_waited_for_capacity",
            "tasks that waited for capacity",
        ),
        ("mean_cpu_reserved_pct", "CPU reserved, time-weighted %"),
        (
            "mean_memory_reserved_pct",
            "memory reserved, time-weighted %",
        ),
        ("peak_instances", "peak instances"),
        ("instance_hours", "instance-hours"),
        ("cost_total_usd", "total cost, USD"),
        ("cost_ec2_usd", "EC2, USD"),
        ("cost_ec2_idle_usd", "of which idle, USD"),
        ("cost_fargate_usd", "Fargate, USD"),
        ("cost_per_task_hour_usd", "cost per task-hour, USD"),
        ("unserved_request_minutes", "unserved request-minutes"),
        ("idle_instance_hours", "idle instance-hours"),
        ("tasks_lost", "tasks lost to failures"),
    ];
    let rows: Vec<Vec<String>> = keys
        .iter()
        .filter_map(|(k, label)| get(k).map(|v| vec![label.to_string(), v]))
        .collect();
    html_table(&mut b, &["measure".into(), "value".into()], &rows);
    b.push_str("<h2>Charts</h2><p>Vertical lines mark alarms entering ALARM (orange), scaling actions (green), failures (red) and deployments (purple). Reserved is what tasks asked for; used is what the load made them use.</p>");
    for c in &charts_out {
        figure(&mut b, c);
    }
    // Services: every service.NAME.* field, one row per service.
    let mut names: Vec<String> = Vec::new();
    let mut metrics: Vec<String> = Vec::new();
    for (k, _) in &fields {
        if let Some((n, m)) = k
            .strip_prefix("service.")
            .and_then(|rest| rest.split_once('.'))
        {
            if m.contains('.') {
                continue;
            }
            if !names.contains(&n.to_string()) {
                names.push(n.to_string());
            }
            if !metrics.contains(&m.to_string()) {
                metrics.push(m.to_string());
            }
        }
    }
    if !names.is_empty() {
        b.push_str("<h2>Services</h2>");
        let mut header = vec!["service".to_string()];
        header.extend(metrics.iter().cloned());
        let rows: Vec<Vec<String>> = names
            .iter()
            .map(|n| {
                let mut r = vec![n.clone()];
                r.extend(
                    metrics
                        .iter()
                        .map(|m| get(&format!("service.{n}.{m}")).unwrap_or_default()),
                );
                r
            })
            .collect();
        html_table(&mut b, &header, &rows);
    }
    let costs: Vec<Vec<String>> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("capacity_provider.")
                .and_then(|r| r.strip_suffix(".cost_usd"))
                .map(|n| vec![n.to_string(), v.clone()])
        })
        .collect();
    if !costs.is_empty() {
        b.push_str("<h2>Cost by capacity provider</h2>");
        html_table(&mut b, &["capacity provider".into(), "USD".into()], &costs);
    }
    for (title, text) in [
        ("Failures", &f.failures_csv),
        ("Deployments", &f.deployments_csv),
    ] {
        let (h, rows) = table(text);
        if !rows.is_empty() {
            let _ = write!(b, "<h2>{title}</h2>");
            html_table(&mut b, &h, &rows);
        }
    }
    b.push_str("<h2>All summary fields</h2><details><summary>show</summary>");
    let all: Vec<Vec<String>> = fields
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()])
        .collect();
    html_table(&mut b, &["field".into(), "value".into()], &all);
    b.push_str("</details>");
    Ok(Rendered {
        charts: charts_out,
        html: page(&format!("ecsim: {scenario}"), &b),
    })
}

/// Render a sweep's charts and page: per metric, bars with 95 % error bars per grid point, or
/// the metric against a numeric parameter with a confidence band (one line per value of the
/// other parameters); and cost against utilisation, one point per grid point.
pub fn render_sweep(
    name: &str,
    aggregate_csv: &str,
    metrics: &[String],
) -> Result<Rendered, String> {
    let (h, rows) = table(aggregate_csv);
    let params: Vec<usize> = h
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("param."))
        .map(|(i, _)| i)
        .collect();
    let label = |r: &[String], skip: Option<usize>| {
        params
            .iter()
            .filter(|&&i| Some(i) != skip)
            .map(|&i| r[i].clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The last numeric parameter (every value a number) becomes the x axis.
    let numeric = params
        .iter()
        .rev()
        .copied()
        .find(|&i| rows.len() > 1 && rows.iter().all(|r| r[i].parse::<f64>().is_ok()));
    let mut chosen: Vec<String> = metrics.to_vec();
    if chosen.is_empty() {
        // No list given (e.g. `ecsim merge`): the capacity and cost measures that are present.
        chosen = h
            .iter()
            .filter_map(|c| c.strip_suffix(".mean"))
            .filter(|c| {
                c.ends_with(".mean_instances_in_use")
                    || c.ends_with(".cpu_fragmentation_pct")
                    || [
                        "cost_total_usd",
                        "mean_cpu_reserved_pct",
                        "tasks_waited_for_capacity",
                        "unserved_request_minutes",
                    ]
                    .contains(c)
            })
            .map(String::from)
            .collect();
    }
    let stat = |r: &[String], m: &str| -> Option<(f64, f64, f64)> {
        Some((
            num(&r[col(&h, &format!("{m}.mean"))?]),
            num(&r[col(&h, &format!("{m}.ci95_low"))?]),
            num(&r[col(&h, &format!("{m}.ci95_high"))?]),
        ))
    };
    let stem = |m: &str| -> String {
        m.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut charts_out = Vec::new();
    let mut summary_rows = Vec::new();
    for m in &chosen {
        let Some(stats) = rows.iter().map(|r| stat(r, m)).collect::<Option<Vec<_>>>() else {
            continue;
        };
        for (r, st) in rows.iter().zip(&stats) {
            summary_rows.push(vec![
                m.clone(),
                label(r, None),
                format!("{:.4}", st.0),
                format!("[{:.4}, {:.4}]", st.1, st.2),
            ]);
        }
        if let Some(x) = numeric {
            let mut bands: Vec<Band> = Vec::new();
            for (r, st) in rows.iter().zip(&stats) {
                let group = label(r, Some(x));
                let group = if group.is_empty() { m.clone() } else { group };
                let at = match bands.iter().position(|b| b.name == group) {
                    Some(at) => at,
                    None => {
                        bands.push(Band {
                            name: group,
                            points: Vec::new(),
                        });
                        bands.len() - 1
                    }
                };
                bands[at].points.push((num(&r[x]), st.0, st.1, st.2));
            }
            for b in &mut bands {
                b.points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let c = XyChart {
                title: format!("{m} against {} (mean, 95 % band)", &h[x]["param.".len()..]),
                x_label: h[x]["param.".len()..].to_string(),
                y_label: m.clone(),
                bands,
                line: true,
            };
            charts_out.push(RenderedChart {
                name: stem(m),
                title: c.title.clone(),
                svg: charts::svg(&c)?,
                png: charts::png(&c)?,
            });
        } else {
            let bars = rows
                .iter()
                .zip(&stats)
                .map(|(r, st)| (label(r, None), st.0, st.1, st.2))
                .collect();
            let c = BarChart {
                title: format!("{m}: mean and 95 % confidence interval"),
                y_label: m.clone(),
                bars,
            };
            charts_out.push(RenderedChart {
                name: stem(m),
                title: c.title.clone(),
                svg: charts::svg(&c)?,
                png: charts::png(&c)?,
            });
        }
    }
    // Cost against utilisation: a point per grid point (strategy), error bars on cost. The
    // utilisation is that of the instances in use (100 - fragmentation) when the sweep has it.
    let frag = h
        .iter()
        .filter_map(|c| c.strip_suffix(".mean"))
        .find(|c| c.starts_with("cluster.") && c.ends_with(".cpu_fragmentation_pct"))
        .map(String::from);
    let (util, x_label, invert) = match &frag {
        Some(f) => (
            f.clone(),
            "CPU reserved on instances in use, % (100 - fragmentation)".to_string(),
            true,
        ),
        None => (
            "mean_cpu_reserved_pct".to_string(),
            "CPU reserved, % (mean)".to_string(),
            false,
        ),
    };
    let cost = if chosen.iter().any(|m| m == "cost_per_task_hour_usd") {
        "cost_per_task_hour_usd"
    } else {
        "cost_total_usd"
    };
    if let Some(pts) = rows
        .iter()
        .map(|r| Some((label(r, None), stat(r, &util)?, stat(r, cost)?)))
        .collect::<Option<Vec<_>>>()
    {
        let bands = pts
            .into_iter()
            .map(|(l, u, c)| Band {
                name: l,
                points: vec![(if invert { 100.0 - u.0 } else { u.0 }, c.0, c.1, c.2)],
            })
            .collect();
        let c = XyChart {
            title: format!("{cost} against utilisation"),
            x_label,
            y_label: cost.to_string(),
            bands,
            line: false,
        };
        charts_out.push(RenderedChart {
            name: "cost-vs-utilisation".into(),
            title: c.title.clone(),
            svg: charts::svg(&c)?,
            png: charts::png(&c)?,
        });
    }
    let mut b = String::new();
    let _ = write!(b, "<h1>ecsim sweep: {}</h1>", escape(name));
    let n = col(&h, "runs")
        .and_then(|c| rows.first().map(|r| r[c].clone()))
        .unwrap_or_default();
    let _ = write!(
        b,
        "<p>{} grid points, {} runs each (the same seeds at every point, so differences between points are the parameters\u{2019}, not the luck of the draw). Means with 95 % confidence intervals (Student\u{2019}s t); intervals that do not overlap mark a difference the runs support.</p>",
        rows.len(),
        escape(&n)
    );
    let best = chosen.first().and_then(|m| {
        rows.iter()
            .filter_map(|r| stat(r, m).map(|s| (r, s)))
            .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
            .map(|b| (m, b))
    });
    {
        if let Some((m, best)) = best {
            let _ = write!(
                b,
                "<p><strong>Lowest {}: {}</strong> ({:.4}, 95 % interval [{:.4}, {:.4}]).</p>",
                escape(m),
                escape(&label(best.0, None)),
                best.1.0,
                best.1.1,
                best.1.2
            );
        }
    }
    html_table(
        &mut b,
        &[
            "metric".into(),
            "grid point".into(),
            "mean".into(),
            "95 % interval".into(),
        ],
        &summary_rows,
    );
    for c in &charts_out {
        figure(&mut b, c);
    }
    Ok(Rendered {
        charts: charts_out,
        html: page(&format!("ecsim sweep: {name}"), &b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_base64() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    /// A hostile service name from a scenario never reaches the page unescaped.
    #[test]
    fn hostile_names_are_escaped() {
        let evil = "<img src=x onerror=alert(1)>";
        let f = RunFiles {
            summary_json: format!(
                "{{\n  \"scenario\": \"{}\",\n  \"service.{evil}.tasks_lost\": 1\n}}\n",
                "s<b>"
            ),
            metrics_csv: format!(
                "time_ms,\"{evil}.desired\",\"{evil}.running\"\n0,1,0\n60000,1,1\n"
            ),
            ..RunFiles::default()
        };
        let r = render_run(&f).unwrap();
        assert!(
            !r.html.contains(evil) && !r.html.contains("<b>"),
            "unescaped name in the page"
        );
        assert!(r.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(
            r.charts
                .iter()
                .all(|c| c.png.starts_with(b"\x89PNG") && c.svg.starts_with("<svg"))
        );
    }
}
