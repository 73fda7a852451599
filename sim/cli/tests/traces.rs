//! Task traces end to end: a trace file next to a scenario is streamed into a run, its counts
//! printed and written; malformed rows are all reported with file, line and column before the
//! run; trace files follow the input path rules; and the real traces of `../shared/data` replay
//! whole (skipped with a message when that folder is absent, as on a user's machine).

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A scenario with one trace job reading `file` in `format` (extra arrival fields in `extra`).
fn scenario(dir: &Path, file: &str, format: &str, extra: &str) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            r#"schema_version = 1
name = "trace"

[[clusters]]
name = "c"
instance_type = "m5.large"
count = 2

[[task_definitions]]
family = "t"
cpu = 256
memory = 256

[[jobs]]
name = "batch"
task_definition = "t"
arrival = {{ type = "trace", file = "{file}", format = "{format}"{extra} }}
on_no_capacity = "wait"
placement_strategy = [{{ type = "binpack", field = "cpu" }}]
"#
        ),
    )
    .unwrap();
    p
}

fn summary_field(dir: &Path, key: &str) -> String {
    let s = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let line = s
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{key}\":")))
        .unwrap_or_else(|| panic!("{key} not in summary.json"));
    line.split_once(':')
        .unwrap()
        .1
        .trim()
        .trim_end_matches(',')
        .trim_matches('"')
        .to_string()
}

/// A CSV trace: every row becomes its count of tasks with the row's size, run time and group;
/// skipped rows are counted; the terminal and summary.json say how many.
#[test]
fn a_csv_trace_runs_end_to_end() {
    let d = tmp("csv");
    std::fs::write(
        d.join("tasks.csv"),
        "submit_s,cpu_units,memory_mib,duration_s,count,group\n\
         0,2048,1024,60,1,big\n\
         10,512,512,30,3,etl\n\
         5,256,256,10\n\
         20,256,256,10,0\n",
    )
    .unwrap();
    let s = scenario(&d, "tasks.csv", "csv", "");
    let out = d.join("out");
    let o = ecsim(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(
            "trace batch          3 rows used (5 tasks), 1 skipped (1 no tasks), 0 after the end"
        ),
        "{t}"
    );
    assert_eq!(summary_field(&out, "job.batch.trace_rows_used"), "3");
    assert_eq!(summary_field(&out, "job.batch.trace_tasks"), "5");
    assert_eq!(
        summary_field(&out, "job.batch.trace_rows_skipped.no_tasks"),
        "1"
    );
    assert_eq!(summary_field(&out, "tasks_completed"), "5");
    // Each task ran for its row's time, in its row's group, submitted in time order.
    let tasks = std::fs::read_to_string(out.join("tasks.csv")).unwrap();
    let mut rows: Vec<Vec<&str>> = tasks
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // Rows come as tasks finish; task ids are in creation order.
    rows.sort_by_key(|r| r[0].parse::<u64>().unwrap());
    let col = |name: &str| {
        tasks
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == name)
            .unwrap()
    };
    let (group, created, running, stopped) = (
        col("group"),
        col("created_ms"),
        col("running_ms"),
        col("stopped_ms"),
    );
    let got: Vec<(&str, &str, u64)> = rows
        .iter()
        .map(|r| {
            let run = r[stopped].parse::<u64>().unwrap() - r[running].parse::<u64>().unwrap();
            (r[group], r[created], run)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("big", "0", 60_000),
            ("family:t", "5000", 10_000),
            ("etl", "10000", 30_000),
            ("etl", "10000", 30_000),
            ("etl", "10000", 30_000),
        ]
    );
    let _ = std::fs::remove_dir_all(d);
}

/// Malformed rows: every one reported with file, line, column, field, value and what is
/// allowed; nothing runs and no output folder appears.
#[test]
fn malformed_trace_rows_are_all_reported_before_the_run() {
    let d = tmp("bad");
    std::fs::write(
        d.join("tasks.csv"),
        "0,256,256,10\n1,lots,256,10\n2,256,256\n3,256,256,10,1,a;b\n",
    )
    .unwrap();
    let s = scenario(&d, "tasks.csv", "csv", "");
    let out = d.join("out");
    for cmd in ["run", "validate"] {
        let o = ecsim(
            &[cmd, s.to_str().unwrap(), "--out", out.to_str().unwrap()]
                [..if cmd == "run" { 4 } else { 2 }],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        let f = d.join("tasks.csv").display().to_string();
        for want in [
            format!(
                "error: {f}:2:3: jobs[0].arrival: csv trace: field cpu_units: got \"lots\"; expected an integer from 0 to 4294967295"
            ),
            format!(
                "error: {f}:3:1: jobs[0].arrival: csv trace: field row: got \"2,256,256\"; expected 4 to 6 comma-separated fields"
            ),
            format!("error: {f}:4:16: jobs[0].arrival: csv trace: field group: got \"a;b\""),
            "3 problems found in traces".to_string(),
        ] {
            assert!(t.contains(&want), "{cmd}: missing {want:?} in:\n{t}");
        }
    }
    assert!(!out.exists());
    // docs/traces.md shows these messages as validate prints them (the folder left out).
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    let shown = String::from_utf8_lossy(&o.stderr).replace(&format!("{}/", d.display()), "");
    for line in shown.lines() {
        assert!(docs.contains(line), "docs/traces.md lacks {line:?}");
    }
    let _ = std::fs::remove_dir_all(d);
}

/// The README's trace example is what ecsim prints.
#[test]
fn readme_trace_example_is_what_ecsim_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let d = tmp("readme");
    let (run, cmp) = (d.join("run"), d.join("cmp"));
    let s = "scenarios/traces/csv-batch.toml";
    let o = ecsim(&["run", s, "--out", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let trace = out
        .lines()
        .find(|l| l.starts_with("  trace "))
        .expect("a trace line");
    assert!(readme.contains(trace), "README lacks {trace:?}");
    let o = ecsim(&[
        "compare",
        s,
        "--out",
        cmp.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        if !line.starts_with("output:") {
            assert!(readme.contains(line), "README lacks {line:?}");
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

/// A trace outside the scenario's folder needs --allow-path; a .gz trace is read as it streams;
/// the scenario's own problems (a missing memory scale, a run_time) are reported as usual.
#[test]
fn trace_files_follow_the_input_rules() {
    let d = tmp("paths");
    let elsewhere = tmp("paths-elsewhere");
    let csv = "0,256,256,10\n1,256,256,10\n";
    std::fs::write(elsewhere.join("t.csv"), csv).unwrap();
    let abs = elsewhere.join("t.csv").display().to_string();
    let s = scenario(&d, &abs, "csv", "");
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("an absolute path is not allowed here"),
        "{}",
        text(&o)
    );
    let o = ecsim(&[
        "validate",
        s.to_str().unwrap(),
        "--allow-path",
        elsewhere.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // gzip, streamed.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
    std::fs::write(d.join("t.csv.gz"), gz.finish().unwrap()).unwrap();
    let s = scenario(&d, "t.csv.gz", "csv", "");
    let out = d.join("out");
    let o = run_quiet(&s, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(summary_field(&out, "job.batch.trace_tasks"), "2");
    // --max-trace-bytes stops a trace longer than allowed.
    let o = ecsim(&["validate", s.to_str().unwrap(), "--max-trace-bytes", "10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("longer than the trace limit of --max-trace-bytes"),
        "{}",
        text(&o)
    );
    // Scenario-level problems.
    let s = scenario(
        &d,
        "t.csv",
        "alibaba-v2017-batch-task",
        ", cpu_units_per_processor = 2",
    );
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    let t = text(&o);
    assert!(
        t.contains("jobs[0].arrival.memory_mib_per_unit: missing;"),
        "{t}"
    );
    assert!(
        t.contains("jobs[0].arrival.cpu_units_per_processor: applies only to format = \"swf\""),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(d);
    let _ = std::fs::remove_dir_all(elsewhere);
}

/// The shared data folder, if this checkout sits beside it.
fn shared_data() -> Option<PathBuf> {
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

/// Run a docs/examples scenario on a real trace file; the summary.json values asked for, and
/// what it printed.
fn replay(example: &str, file: &Path, keys: &[&str]) -> (Vec<String>, String) {
    let out = tmp(example);
    let set = format!("jobs[0].arrival.file=\"{}\"", file.display());
    let o = ecsim(&[
        "run",
        &format!("docs/examples/{example}.toml"),
        "--set",
        &set,
        "--allow-path",
        file.parent().unwrap().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-events",
        "--no-tasks",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let got = keys.iter().map(|k| summary_field(&out, k)).collect();
    let _ = std::fs::remove_dir_all(out);
    (got, String::from_utf8_lossy(&o.stdout).to_string())
}

/// The whole Alibaba v2017 batch_task (80,553 rows): the rows used and skipped are those a
/// separate reading of the file gives (67,013 Terminated + 1,126 Failed rows, less 11 without a
/// request and 117 that ended before the trace began; 8,847 Waiting + 3,567 Running never ran),
/// and every used row's task completes on the trace's own 1,313 machines.
#[test]
fn alibaba_v2017_batch_task_replays_whole() {
    let Some(d) = shared_data() else { return };
    let f = d.join("alibaba-v2017/batch_task.thirdparty-rounded.csv");
    let (got, printed) = replay(
        "alibaba-v2017-batch",
        &f,
        &[
            "job.batch.trace_rows_used",
            "job.batch.trace_rows_skipped.not_run",
            "job.batch.trace_rows_skipped.no_request",
            "job.batch.trace_rows_skipped.before_start",
            "job.batch.trace_rows_malformed",
            "tasks_completed",
        ],
    );
    assert_eq!(got, ["68011", "12414", "11", "117", "0", "68011"]);
    // docs/traces.md shows this run's trace line.
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    let line = printed.lines().find(|l| l.starts_with("  trace ")).unwrap();
    assert!(docs.contains(line), "docs/traces.md lacks {line:?}");
}

/// The OpenB pod list with GPU-model constraints: 7,255 pods were scheduled in the trace and
/// replay; the 897 never scheduled are skipped.
#[test]
fn alibaba_gpu_v2023_pods_replay_whole() {
    let Some(d) = shared_data() else { return };
    let f = d.join("alibaba-gpu-v2023/openb_pod_list_gpuspec33.csv");
    let (got, _) = replay(
        "alibaba-gpu-v2023",
        &f,
        &[
            "job.pods.trace_rows_used",
            "job.pods.trace_rows_skipped.not_run",
            "tasks_created",
        ],
    );
    assert_eq!(got, ["7255", "897", "7255"]);
}

/// The NASA iPSC/860 SWF log, gzip-compressed as the archive ships it: 18,239 jobs, 309,953
/// processors, each a task.
#[test]
fn swf_log_replays_whole_from_gzip() {
    let Some(d) = shared_data() else { return };
    let f = d.join("pwa-swf/NASA-iPSC-1993-3.1-cln.swf.gz");
    let (got, _) = replay(
        "swf-nasa-ipsc",
        &f,
        &[
            "job.jobs.trace_rows_used",
            "job.jobs.trace_tasks",
            "tasks_completed",
        ],
    );
    assert_eq!(got, ["18239", "309953", "309953"]);
}
