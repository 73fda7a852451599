//! CloudWatch metric exports as a load, end to end: the shipped example scenario replays both
//! shapes (console CSV and get-metric-data JSON) into the demand metrics.csv records; malformed
//! exports are all reported with file, line and column before the run; export files follow the
//! input rules (no absolute path, --max-input-bytes).

mod common;

use common::*;
use std::path::Path;

/// `column` of metrics.csv at `time_ms`.
fn metric_at(out: &Path, column: &str, time_ms: u64) -> String {
    let s = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = s.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == column).unwrap();
    let row = lines
        .find(|l| l.split(',').next() == Some(&time_ms.to_string()))
        .unwrap_or_else(|| panic!("no row at {time_ms}"));
    row.split(',').nth(k).unwrap().to_string()
}

/// The shipped scenario: each minute's RequestCount / 60 is web-1m's demand over that minute;
/// each 5-minute RequestCountPerTarget x 4 targets / 300 is web-5m's.
#[test]
fn shipped_cloudwatch_example_replays_both_shapes() {
    let d = tmp("cw-run");
    let out = d.join("out");
    let sc = repo().join("scenarios/traces/cloudwatch-alb.toml");
    let o = run_quiet(&sc, &out);
    assert!(o.status.success(), "{}", text(&o));
    let dir = repo().join("scenarios/traces/cloudwatch-example");
    let csv = std::fs::read_to_string(dir.join("alb-web-requestcount-1m.csv")).unwrap();
    let counts: Vec<f64> = csv
        .lines()
        .filter(|l| l.starts_with("2024-"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 60);
    for minute in [1, 30, 31, 59] {
        let t = minute * 60_000;
        assert_eq!(
            metric_at(&out, "web-1m.demand_rps", t),
            format!("{:.3}", counts[minute as usize] / 60.0),
            "minute {minute}"
        );
    }
    // The JSON holds the same hour per target (4 targets, 5-minute sums, one decimal: within
    // 0.05 x 4 / 300 requests per second of the CSV's sums).
    for k in [0usize, 6, 11] {
        let five: f64 = counts[k * 5..k * 5 + 5].iter().sum();
        let t = (k as u64 * 5 + 2) * 60_000;
        let got: f64 = metric_at(&out, "web-5m.demand_rps", t).parse().unwrap();
        assert!((got - five / 300.0).abs() < 0.0012, "period {k}: {got}");
    }
    let _ = std::fs::remove_dir_all(d);
}

fn scenario(dir: &Path, component: &str) -> std::path::PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            r#"schema_version = 1
name = "cw"

[simulation]
duration = "10m"

[[clusters]]
name = "c"
capacity_providers = ["FARGATE"]

[[task_definitions]]
family = "t"
cpu = 256
memory = 512
network_mode = "awsvpc"

[[services]]
name = "s"
task_definition = "t"
desired_count = 1
launch_type = "FARGATE"
  [services.load]
  components = [{component}]
"#
        ),
    )
    .unwrap();
    p
}

/// Every malformed row and value is reported with the export's line and column, before the
/// run, by run and validate alike; nothing is written.
#[test]
fn malformed_exports_are_all_reported_before_the_run() {
    let d = tmp("cw-bad");
    std::fs::write(
        d.join("m.csv"),
        "Time,RequestCount\n2024-03-04 09:00:00,60\nsoon,60\n2024-03-04 09:01:00,lots\n2024-03-04 09:00:00,5\n",
    )
    .unwrap();
    std::fs::write(
        d.join("m.json"),
        "{\"MetricDataResults\": [{\"Id\": \"m\",\n \"Timestamps\": [\"2024-03-04T09:00:00Z\"],\n \"Values\": [null]}]}",
    )
    .unwrap();
    let s = scenario(
        &d,
        r#"{ type = "cloudwatch", file = "m.csv", period = "1m" }, { type = "cloudwatch", file = "m.json", period = "1m", statistic = "Average" }"#,
    );
    let out = d.join("out");
    for args in [
        vec!["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()],
        vec!["validate", s.to_str().unwrap()],
    ] {
        let o = ecsim(&args);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        for want in [
            "components[0].file: m.csv:3:1: field timestamp: got \"soon\"; expected a UTC time such as 2024-03-04 09:00:00",
            "components[0].file: m.csv:4:21: field RequestCount: got \"lots\"; expected a number from 0, or nothing",
            "components[0].file: m.csv:5:21: a second datapoint for the timestamp of line 2; expected one per period",
            "components[1].statistic:",
            "components[1].file: m.json:3:12: 1 Timestamps but 0 Values; expected one value per timestamp",
        ] {
            assert!(t.contains(want), "{args:?}: missing {want:?} in:\n{t}");
        }
    }
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(d);
}

/// An export is read like any other file a scenario names: relative to it, bounded in size.
#[test]
fn exports_follow_the_input_rules() {
    let d = tmp("cw-paths");
    let f = d.join("m.csv");
    let rows: String = (0..60)
        .map(|m| format!("2024-03-04 09:{m:02}:00,60\n"))
        .collect();
    std::fs::write(&f, format!("Time,RequestCount\n{rows}")).unwrap();
    let s = scenario(
        &d,
        &format!(
            r#"{{ type = "cloudwatch", file = "{}", period = "1m" }}"#,
            f.display()
        ),
    );
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("an absolute path is not allowed here"),
        "{}",
        text(&o)
    );
    let s = scenario(
        &d,
        r#"{ type = "cloudwatch", file = "m.csv", period = "1m" }"#,
    );
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["validate", s.to_str().unwrap(), "--max-input-bytes", "1000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--max-input-bytes"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(d);
}

/// The component docs/traces.md shows validates against a console CSV of that shape.
#[test]
fn docs_cloudwatch_example_validates() {
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    let section = docs
        .split("## CloudWatch metric exports as load")
        .nth(1)
        .unwrap();
    let line = section
        .lines()
        .find(|l| l.starts_with("components = ["))
        .unwrap();
    let component = line
        .trim_start_matches("components = [")
        .trim_end_matches(']');
    let d = tmp("cw-docs");
    std::fs::write(
        d.join("export.csv"),
        "\"Time\",\"RequestCount\",\"HTTPCode_Target_5XX_Count\"\n2024-03-04 09:00:00,600,\n2024-03-04 09:01:00,660,2\n",
    )
    .unwrap();
    let s = scenario(&d, component);
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(o.status.success(), "{component}: {}", text(&o));
    let _ = std::fs::remove_dir_all(d);
}

/// A file saved with a byte-order mark (as some Windows tools write CSV) reads as the same file
/// without it: every file a scenario names goes through one reader that drops the mark, so the
/// export's header is found and the demand is the same.
#[test]
fn a_byte_order_mark_is_not_part_of_the_file() {
    let d = tmp("cw-bom");
    let src = repo().join("scenarios/traces/cloudwatch-example/alb-web-requestcount-1m.csv");
    let csv = std::fs::read_to_string(src).unwrap();
    std::fs::write(d.join("plain.csv"), &csv).unwrap();
    std::fs::write(d.join("bom.csv"), format!("\u{feff}{csv}")).unwrap();
    let mut demand = Vec::new();
    for f in ["plain", "bom"] {
        let sub = d.join(f);
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(d.join(format!("{f}.csv")), sub.join("x.csv")).unwrap();
        let sc = scenario(
            &sub,
            r#"{ type = "cloudwatch", file = "x.csv", metric = "RequestCount", period = "1m" }"#,
        );
        let out = sub.join("out");
        let o = run_quiet(&sc, &out);
        assert!(o.status.success(), "{f}: {}", text(&o));
        demand.push(metric_at(&out, "s.demand_rps", 120_000));
    }
    assert_eq!(demand[0], demand[1]);
    let _ = std::fs::remove_dir_all(d);
}
