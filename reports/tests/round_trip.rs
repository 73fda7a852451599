//! The tables [`CsvSink`] writes and `summary.json` read back by the report: the columns and
//! keys the report looks up are the ones the writers produce.

use ecsim_model::record::SummaryValue;
use ecsim_model::scenario;
use ecsim_model::sim::{self, RunOptions};
use ecsim_reports::report::{self, RunFiles};
use ecsim_reports::{CsvSink, read_summary, summary_json};

fn run(name: &str) -> (RunFiles, Vec<(String, SummaryValue)>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let path = dir.join(format!("{name}.toml"));
    let src = std::fs::read_to_string(&path).unwrap();
    let sc = scenario::load(&path.display().to_string(), &src, &[]).unwrap();
    let sink = CsvSink::new(
        Some(Vec::new()),
        Some(Vec::new()),
        Some(Vec::new()),
        Some(Vec::new()),
    )
    .with_scaling(Vec::new())
    .with_recovery(Vec::new(), Vec::new())
    .with_explanations(Vec::new(), Vec::new());
    let opts = RunOptions {
        seed: sc.seed,
        check_invariants: false,
    };
    let (summary, sink) = sim::run(&sc, opts, sink);
    let w = sink.into_writers().unwrap();
    let text = |b: Option<Vec<u8>>| String::from_utf8(b.unwrap()).unwrap();
    let files = RunFiles {
        summary_json: summary_json(&summary),
        metrics_csv: text(w.metrics),
        cost_csv: text(w.cost),
        scaling_csv: text(w.scaling),
        failures_csv: text(w.failures),
        deployments_csv: text(w.deployments),
        placements_csv: text(w.placements),
        decisions_csv: text(w.decisions),
        problems: Vec::new(),
    };
    (files, summary.fields())
}

/// Every chart the report can draw is drawn, with data, from some shipped scenario's tables.
#[test]
fn the_report_finds_the_columns_the_sink_writes() {
    let mut names: Vec<String> = Vec::new();
    for scenario in ["flash-sale", "spot-mix", "az-outage"] {
        let (files, fields) = run(scenario);
        let back = read_summary(&files.summary_json).unwrap();
        assert_eq!(
            back.iter().map(|f| &f.0).collect::<Vec<_>>(),
            fields.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "summary.json keys in Summary::fields order"
        );
        for (name, chart) in report::run_charts(&files) {
            let data = chart
                .series
                .iter()
                .any(|s| s.points.iter().any(|p| p.1.is_finite() && p.1 > 0.0));
            if data && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    assert_eq!(names, ["cost", "instances", "load", "tasks", "utilisation"]);
}

/// The key numbers the run report shows are summary fields.
#[test]
fn key_numbers_are_summary_fields() {
    let mut keys: Vec<String> = Vec::new();
    for scenario in ["quickstart", "flash-sale", "az-outage"] {
        keys.extend(run(scenario).1.into_iter().map(|f| f.0));
    }
    for (k, _) in report::run::KEY_NUMBERS {
        assert!(keys.iter().any(|x| x == k), "{k} is not a summary field");
    }
}

/// The explanation tables the sink writes (`--explain`) are found by the report: both
/// sections, with a task's placement and decision rows linked (the `task` columns of both
/// schemas), and no problem reading them.
#[test]
fn the_report_finds_the_explanations_the_sink_writes() {
    let (files, _) = run("spot-mix");
    let r = report::render_run(&files).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(r.html.contains("<h2>Placements explained</h2>"));
    assert!(r.html.contains("<h2>Decisions explained</h2>"));
    assert!(r.html.contains("<a href=\"#decision-0\">"));
    assert!(r.html.contains("<a href=\"#placement-0\">"));
}
