//! Regression tests for issue 10's report cases, written against the API the report had before
//! the fix too, so each can be checked to fail on the old code: an infinite value hung the chart
//! axis; control characters in names made malformed SVG and reached HTML and CSV raw; two sweep
//! metrics with the same file stem overwrote each other's chart.

use std::sync::mpsc;
use std::time::Duration;

use ecsim_model::scenario;
use ecsim_model::sim::{self, RunOptions};
use ecsim_reports::report::{self, RunFiles};
use ecsim_reports::{Comparison, CsvSink, VariantResult, compare_csv, sweep_run_csv};

/// The names every output format must survive.
const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "q\"uote",
    "a&b",
    "esc\u{1b}[2J",
    "nul\0x",
    "=cmd|' /C calc'!A0",
];

/// Runs `f` on a thread and fails if it has not finished after a generous watchdog: a hang in
/// the old code becomes a failure instead of a test that never ends. (Not a timing assertion:
/// the code under test finishes in milliseconds.)
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{what}: no result after 120 s (hung or panicked)"))
}

fn metrics_with(row: &str) -> RunFiles {
    RunFiles {
        summary_json: "{\n  \"scenario\": \"s\"\n}\n".into(),
        metrics_csv: format!("time_ms,tasks_running,web.desired,web.running\n0,1,1,1\n{row}\n"),
        ..RunFiles::default()
    }
}

/// An infinite (or enormous) time or value gives a report, not an endless loop in the axis.
#[test]
fn infinite_and_huge_values_do_not_hang() {
    for row in [
        "inf,2,1,1",
        "60000,inf,1,1",
        "-inf,2,1,1",
        "1.7e308,2,1,1",
        "60000,1.7e308,1,1",
        "60000,-1.7e308,1,1",
        "-1.7e308,1.7e308,1,1",
        "NaN,NaN,NaN,NaN",
        "1e-320,1e-320,1,1",
    ] {
        let f = metrics_with(row);
        let ok = finishes(row, move || report::render_run(&f).is_ok());
        assert!(ok, "{row}: no report");
    }
}

fn assert_xml(svg: &str, what: &str) {
    if let Err(e) = roxmltree::Document::parse(svg) {
        panic!("{what}: SVG is not well-formed XML: {e}");
    }
    assert!(
        !svg.contains(['\u{1b}', '\0']),
        "{what}: control character in SVG"
    );
}

/// Names with markup, quotes, ESC and NUL reach the charts as well-formed, escaped SVG, and the
/// page with no raw control character or markup.
#[test]
fn hostile_names_give_well_formed_svg_and_escaped_html() {
    for name in HOSTILE {
        let q = name.replace('"', "\"\"");
        let f = RunFiles {
            summary_json:
                serde_json::json!({ "scenario": name, format!("service.{name}.tasks_lost"): 1 })
                    .to_string(),
            metrics_csv: format!(
                "time_ms,\"{q}.desired\",\"{q}.running\",\"{q}.instances_in_use\"\n0,1,0,1\n60000,1,1,1\n"
            ),
            cost_csv: format!(
                "hour_start_ms,scope,name,cost_usd\n0,capacity_provider,\"{q}\",1.5\n"
            ),
            ..RunFiles::default()
        };
        let r = report::render_run(&f).unwrap();
        for c in &r.charts {
            assert_xml(&c.svg, &format!("{name:?} chart {}", c.name));
        }
        assert!(
            !r.html.contains(['\u{1b}', '\0']),
            "{name:?}: control character in HTML"
        );
        assert!(
            !r.html.contains("<script>alert"),
            "{name:?}: markup in HTML"
        );
        let s = report::render_sweep(
            name,
            &format!("point,\"param.{q}\",runs,\"{q}.mean\",\"{q}.std\",\"{q}.ci95_low\",\"{q}.ci95_high\"\n0,\"{q}\",2,1,0,1,1\n1,b,2,2,0,2,2\n"),
            &[name.to_string()],
        )
        .unwrap();
        for c in &s.charts {
            assert_xml(&c.svg, &format!("{name:?} sweep chart {}", c.name));
        }
        assert!(
            !s.html.contains(['\u{1b}', '\0']),
            "{name:?}: control character in sweep HTML"
        );
    }
}

/// Two metrics whose names map to the same file stem get two charts with different names.
#[test]
fn sweep_chart_file_names_are_unique() {
    let mut header = "point,param.p,runs".to_string();
    for m in ["a.b", "a_b", "A_B", "cost-vs-utilisation"] {
        for s in ["mean", "std", "ci95_low", "ci95_high"] {
            header.push_str(&format!(",{m}.{s}"));
        }
    }
    let text = format!(
        "{header}\n0,x,2{}\n1,y,2{}\n",
        ",1,0,1,1".repeat(4),
        ",2,0,2,2".repeat(4)
    );
    let metrics: Vec<String> = ["a.b", "a_b", "A_B", "cost-vs-utilisation"]
        .map(String::from)
        .to_vec();
    let r = report::render_sweep("s", &text, &metrics).unwrap();
    let mut names: Vec<String> = r
        .charts
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    assert_eq!(names.len(), 4);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4, "chart file names collide: {names:?}");
}

fn summary() -> ecsim_model::record::Summary {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let path = dir.join("quickstart.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    let sc = scenario::load(&path.display().to_string(), &src, &[]).unwrap();
    let sink = CsvSink::<Vec<u8>>::new(None, None, None, None);
    let opts = RunOptions {
        seed: sc.seed,
        check_invariants: false,
    };
    sim::run(&sc, opts, sink).0
}

/// No CSV cell ecsim writes starts a formula or holds a raw control character.
#[test]
fn csv_cells_are_not_formulas() {
    let s = summary();
    for name in HOSTILE {
        let objectives = [ecsim_model::objectives::Objective {
            metric: name.to_string(),
            bound: ecsim_model::objectives::Bound::AtMost(1.0),
        }];
        let runs = [s.clone()];
        let c = Comparison {
            scenario: name,
            seed: 1,
            variants: vec![VariantResult {
                name,
                description: name,
                summary: &s,
                runs: &runs,
            }],
            objectives: &objectives,
            confidence: 0.95,
        };
        let compare = compare_csv(&c).unwrap();
        let run = sweep_run_csv(0, 0, 1, &[(name.to_string(), name.to_string())], &s).unwrap();
        for (what, bytes) in [("compare.csv", compare), ("sweep run", run)] {
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                !text.contains(['\u{1b}', '\0']),
                "{what} {name:?}: control character"
            );
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes());
            for rec in r.records() {
                for cell in rec.unwrap().iter() {
                    assert!(
                        !cell.starts_with(['=', '+', '@', '\t', '\r'])
                            && (!cell.starts_with('-') || cell.parse::<f64>().is_ok()),
                        "{what} {name:?}: formula cell {cell:?}"
                    );
                }
            }
        }
    }
}

/// The HTML escape shows control characters instead of passing them through.
#[test]
fn html_escape_hides_control_characters() {
    let e = report::escape("a\u{1b}[31m\0b<");
    assert!(!e.contains(['\u{1b}', '\0', '<']), "{e:?}");
}

/// report.html stays small for any run length (issue 16: 1.37 MB for 48 simulated hours): 20
/// simulated days of one-minute rows for eight services give a page under 3 MB, because the
/// charts' data is downsampled (peaks kept) and the static images are not embedded.
#[test]
fn long_runs_give_small_pages() {
    use std::fmt::Write as _;
    let services = 8;
    let mut m = String::from("time_ms,tasks_running,cpu_reserved_pct");
    for s in 0..services {
        for c in ["desired", "running", "pending", "demand_rps", "served_rps"] {
            let _ = write!(m, ",svc{s}.{c}");
        }
    }
    m.push('\n');
    let rows: u64 = 20 * 24 * 60;
    for r in 0..rows {
        let _ = write!(
            m,
            "{},{},{:.3}",
            r * 60_000,
            r % 97,
            (r % 1000) as f64 / 10.0
        );
        for s in 0..services {
            let d = if r == 12_345 && s == 0 {
                99_999.0
            } else {
                100.0 + ((r + s * 7) % 500) as f64
            };
            let _ = write!(
                m,
                ",{},{},{},{d:.3},{:.3}",
                5 + s,
                4 + r % 3,
                r % 2,
                d * 0.9
            );
        }
        m.push('\n');
    }
    let f = RunFiles {
        summary_json: "{\"scenario\": \"long\", \"sim_end_ms\": 5184000000}\n".into(),
        metrics_csv: m,
        ..RunFiles::default()
    };
    let r = report::render_run(&f).unwrap();
    assert!(r.html.len() < 3_000_000, "{} bytes", r.html.len());
    // A one-minute spike survives the downsampling.
    assert!(r.html.contains(",99999,"), "the spike was lost");
}
