//! Utilisation series as a load, end to end: the shipped Bitbrains scenario replays its committed
//! excerpt into the demand metrics.csv records; the real Bitbrains files and the Alibaba v2018
//! machine_usage excerpt of `../shared/data` (when present) read whole and replay; malformed
//! series are all reported with file, line and column before the run; series files follow the
//! input rules (no absolute path, --max-input-bytes).

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// `column` of every metrics.csv row: (time ms, value as printed).
fn metric(out: &Path, column: &str) -> Vec<(u64, String)> {
    let s = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = s.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[k].to_string())
        })
        .collect()
}

/// (Unix seconds, CPU usage [%]) of a Bitbrains file, read here on its own: the fifth of the
/// `;`-separated fields.
fn bitbrains_cpu(file: &Path) -> Vec<(u64, f64)> {
    let s = std::fs::read_to_string(file).unwrap();
    s.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(';').map(str::trim).collect();
            (f[0].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

/// The percent a step function through `samples` (time 0 = the first) holds at `t_ms`.
fn held(samples: &[(u64, f64)], t_ms: u64) -> f64 {
    let origin = samples[0].0;
    samples
        .iter()
        .rev()
        .find(|(t, _)| (t - origin) * 1000 <= t_ms)
        .unwrap()
        .1
}

/// Every metrics.csv row of `service` has demand = held CPU % / 100 x `rps_at_100_pct`.
fn assert_demand_follows(out: &Path, service: &str, samples: &[(u64, f64)], rps_at_100: f64) {
    // The row at time 0 comes before the first sample of the load (0 requests there).
    let rows = metric(out, &format!("{service}.demand_rps"));
    assert!(rows.len() > 10);
    for (t, got) in rows.into_iter().skip(1) {
        let want = held(samples, t) / 100.0 * rps_at_100;
        assert_eq!(got, format!("{want:.3}"), "{service} at {t} ms");
    }
}

/// The shipped scenario: each five-minute `CPU usage [%]` x 1,000 / 100 is both services'
/// demand until the next sample, from the excerpt's first sample on.
#[test]
fn shipped_bitbrains_scenario_replays_cpu_percent() {
    let d = tmp("util-run");
    let out = d.join("out");
    let sc = repo().join("scenarios/traces/bitbrains-vm.toml");
    let o = run_quiet(&sc, &out);
    assert!(o.status.success(), "{}", text(&o));
    let excerpt = repo().join("scenarios/traces/bitbrains-gwa-t-12/rnd-2013-7-vm1-day8.csv");
    let samples = bitbrains_cpu(&excerpt);
    assert_eq!(samples.len(), 288);
    assert_demand_follows(&out, "app-tt", &samples, 1000.0);
    assert_demand_follows(&out, "app-fixed", &samples, 1000.0);
    let _ = std::fs::remove_dir_all(d);
}

fn shared_traces() -> Option<PathBuf> {
    let d = repo().join("../shared/data/traces");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "skipped: {} is absent (the real traces are not shipped)",
            d.display()
        );
        None
    }
}

/// The three real Bitbrains VM files (about 8,260 samples each, a 30-hour gap in 1.csv) read
/// whole without a problem, and six hours of each replay as a step through its CPU %.
#[test]
fn real_bitbrains_files_replay() {
    let Some(traces) = shared_traces() else {
        return;
    };
    let dir = traces.join("bitbrains-gwa-t-12-rnd/2013-7");
    for name in ["1.csv", "2.csv", "3.csv"] {
        let f = dir.join(name);
        let d = tmp(&format!("util-real-{name}"));
        let out = d.join("out");
        let sets: Vec<String> = (0..2)
            .map(|s| format!("services[{s}].load.components[0].file=\"{}\"", f.display()))
            .collect();
        let o = ecsim(&[
            "run",
            "scenarios/traces/bitbrains-vm.toml",
            "--set",
            &sets[0],
            "--set",
            &sets[1],
            "--set",
            "simulation.duration=\"6h\"",
            "--allow-path",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-events",
            "--no-tasks",
            "-q",
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let samples = bitbrains_cpu(&f);
        assert!(samples.len() > 8_000, "{name}");
        assert_demand_follows(&out, "app-fixed", &samples, 1000.0);
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The real v2018 machine_usage excerpt (100,002 rows, 16 machines): machine m_1932's samples
/// from its first (386,640 s into the trace) as time 0: 44 % at 386,690 s (the sample a minute in
/// holds), 46 % at 386,800 s (three minutes in).
#[test]
fn real_alibaba_v2018_machine_usage_replays_one_machine() {
    let Some(traces) = shared_traces() else {
        return;
    };
    let dir = traces.join("alibaba-v2018");
    let f = dir.join("machine_usage.head.csv");
    let d = tmp("util-v2018");
    let out = d.join("out");
    let file = format!("services[0].load.components[0].file=\"{}\"", f.display());
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2018-usage.toml",
        "--set",
        &file,
        "--set",
        "services[0].load.components[0].machine=\"m_1932\"",
        "--allow-path",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let demand = metric(&out, "app.demand_rps");
    assert_eq!(demand[1], (60_000, "176.000".to_string()));
    assert_eq!(demand[3], (180_000, "184.000".to_string()));
    // A machine the file does not hold is named with the ones it does.
    let o = ecsim(&[
        "validate",
        "docs/examples/alibaba-v2018-usage.toml",
        "--set",
        &file,
        "--set",
        "services[0].load.components[0].machine=\"m_1\"",
        "--allow-path",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains(
            "no sample of machine \"m_1\"; the file has \"m_1932\", \"m_1933\", \"m_1934\", \"m_1935\", \"m_1936\" and 11 more machines"
        ),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(d);
}

/// The docs example runs as shipped on its synthetic excerpt (machine m_a: 36 % a minute in, its
/// sample at 3,640 s holding).
#[test]
fn the_usage_example_runs_on_its_excerpt() {
    let d = tmp("util-example");
    let out = d.join("out");
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2018-usage.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        metric(&out, "app.demand_rps")[1],
        (60_000, "144.000".to_string())
    );
    let _ = std::fs::remove_dir_all(d);
}

fn scenario(dir: &Path, component: &str) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            r#"schema_version = 1
name = "util"

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

/// Every malformed row and value is reported with the series' line and column, before the run,
/// by run and validate alike; a machine is required for machine_usage and refused for
/// Bitbrains; nothing is written.
#[test]
fn malformed_series_are_all_reported_before_the_run() {
    let d = tmp("util-bad");
    std::fs::write(
        d.join("u.csv"),
        "m_1,100,41,92,,,1,1,5\nm_1,soon,41,92,,,1,1,5\nm_1,120,140,92,,,1,1,5\nm_1,150\nm_1,100,42,92,,,1,1,5\n",
    )
    .unwrap();
    std::fs::write(
        d.join("b.csv"),
        "Timestamp [ms];\tCPU usage [%]\n1372629804;\t1.5\n1372630104;\tlots\n",
    )
    .unwrap();
    let s = scenario(
        &d,
        r#"{ type = "utilization", file = "u.csv", format = "alibaba-v2018-machine-usage", machine = "m_1", rps_at_100_pct = 100 },
  { type = "utilization", file = "u.csv", format = "alibaba-v2018-machine-usage", rps_at_100_pct = 100 },
  { type = "utilization", file = "b.csv", format = "bitbrains", machine = "m_1", rps_at_100_pct = 100 },
  { type = "utilization", file = "b.csv", format = "bitbrains", column = "memory", rps_at_100_pct = 100 },
  { type = "utilization", file = "b.csv", format = "bitbrains", rps_at_100_pct = 100 }"#,
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
            "components[0].file: u.csv:2:5: field time_stamp: got \"soon\"",
            "components[0].file: u.csv:3:9: field cpu_util_percent: got \"140\"; expected a utilisation from 0 to 100 (percent)",
            "components[0].file: u.csv:4:1: expected 9 comma-separated columns",
            "components[0].file: u.csv:5:9: a second sample for the time of line 1; expected one per time",
            "components[1].machine: missing; a machine_usage file holds every machine",
            "components[2].machine: a Bitbrains file holds one VM",
            "components[3].file: b.csv:1:1: header: no column \"Memory capacity provisioned [KB]\", \"Memory usage [KB]\"",
            "components[4].file: b.csv:3:13: field CPU usage [%]: got \"lots\"",
        ] {
            assert!(t.contains(want), "{args:?}: missing {want:?} in:\n{t}");
        }
    }
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(d);
}

/// A series is read like any other file a scenario names: relative to it, bounded in size.
#[test]
fn series_follow_the_input_rules() {
    let d = tmp("util-paths");
    let f = d.join("u.csv");
    let rows: String = (0..100)
        .map(|k| format!("m_1,{},{},50,,,1,1,1\n", k * 10, k % 100))
        .collect();
    std::fs::write(&f, rows).unwrap();
    let component = |file: &str| {
        format!(
            r#"{{ type = "utilization", file = "{file}", format = "alibaba-v2018-machine-usage", machine = "m_1", rps_at_100_pct = 100 }}"#
        )
    };
    let s = scenario(&d, &component(&f.display().to_string()));
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("an absolute path is not allowed here"),
        "{}",
        text(&o)
    );
    let s = scenario(&d, &component("u.csv"));
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["validate", s.to_str().unwrap(), "--max-input-bytes", "1000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--max-input-bytes"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(d);
}

/// The component docs/traces.md shows validates against a Bitbrains file of that shape.
#[test]
fn docs_utilization_example_validates() {
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    let section = docs.split("## Utilisation series as load").nth(1).unwrap();
    let line = section
        .lines()
        .find(|l| l.starts_with("components = ["))
        .unwrap();
    let component = line
        .trim_start_matches("components = [")
        .trim_end_matches(']');
    let d = tmp("util-docs");
    let excerpt = repo().join("scenarios/traces/bitbrains-gwa-t-12/rnd-2013-7-vm1-day8.csv");
    std::fs::copy(excerpt, d.join("vm.csv")).unwrap();
    let s = scenario(&d, component);
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(o.status.success(), "{component}: {}", text(&o));
    let _ = std::fs::remove_dir_all(d);
}

/// An empty `machine` is reported once, as empty, not also as missing (review finding).
#[test]
fn an_empty_machine_is_one_problem() {
    let d = tmp("util-empty-machine");
    let ex = repo().join("docs/examples");
    std::fs::copy(
        ex.join("machine-usage-excerpt.csv"),
        d.join("machine-usage-excerpt.csv"),
    )
    .unwrap();
    let sc = std::fs::read_to_string(ex.join("alibaba-v2018-usage.toml")).unwrap();
    assert!(sc.contains("machine = \"m_a\""));
    let s = d.join("s.toml");
    std::fs::write(&s, sc.replace("machine = \"m_a\"", "machine = \"\"")).unwrap();
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("expected a non-empty string"), "{out}");
    assert!(!out.contains("missing"), "{out}");
    assert!(out.contains("1 problem found"), "{out}");
    let _ = std::fs::remove_dir_all(d);
}
