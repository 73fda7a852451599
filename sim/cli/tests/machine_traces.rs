//! Machine traces end to end: `[failures] trace` replays Alibaba v2017 `server_event` failure
//! rows as instance failures (the committed synthetic excerpt and, when `../shared/data` is
//! present, the real file), prints the rows used and skipped, and reports every malformed row
//! with file, line and column before the run.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A scenario of `count` instances under a service with one task per instance, failures from
/// `file`.
fn scenario(dir: &Path, file: &str, count: u32) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            r#"schema_version = 1
name = "machines"

[simulation]
duration = "6h"

[[clusters]]
name = "c"
instance_type = "m5.large"
count = {count}

[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024

[[services]]
name = "web"
task_definition = "t"
desired_count = {count}
placement_strategy = [{{ type = "spread", field = "instanceId" }}]

[failures]
trace = {{ file = "{file}", format = "alibaba-v2017-server-event" }}
"#
        ),
    )
    .unwrap();
    p
}

/// failures.csv rows as (time ms, target).
fn failures(out: &Path) -> Vec<(String, String)> {
    let f = std::fs::read_to_string(out.join("failures.csv")).unwrap();
    f.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[2].to_string())
        })
        .collect()
}

/// Machines are numbered in order of first appearance: machine k fails the cluster's k-th
/// instance at the row's time; a second failure of a failed machine takes nothing; machines
/// beyond the cluster are skipped and counted.
#[test]
fn server_event_failures_fail_the_mapped_instances() {
    let d = tmp("server-event");
    std::fs::write(
        d.join("events.csv"),
        "0,70,add,,64,0.69,1\n0,80,add,,64,0.69,1\n0,90,add,,64,0.69,1\n0,99,add,,64,0.69,1\n\
         3600,90,softerror,agent_check,0,0,0\n\
         1800,70,harderror,machine_fail,0,0,0\n\
         7200,90,softerror,agent_check,0,0,0\n\
         9000,99,softerror,disk_full,0,0,0\n",
    )
    .unwrap();
    let s = scenario(&d, "events.csv", 3);
    let out = d.join("out");
    let o = ecsim(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("failure trace events.csv: 3 failure rows used, 1 skipped (machines beyond cluster c's 3 instances), 4 add rows; 3 machines mapped"),
        "{t}"
    );
    // Instance ids are 1-based in hex: machine 70 is instance 0, machine 90 instance 2.
    assert_eq!(
        failures(&out),
        [
            ("1800000".to_string(), "i-00000000000000001".to_string()),
            ("3600000".to_string(), "i-00000000000000003".to_string()),
        ]
    );
    let _ = std::fs::remove_dir_all(d);
}

/// Every malformed row is reported with the file, line and column, and nothing runs.
#[test]
fn malformed_server_event_rows_are_all_located() {
    let d = tmp("server-event-bad");
    std::fs::write(
        d.join("events.csv"),
        "0,1,add,,64,0.69,1\n1.5,1,softerror,x,0,0,0\n0,1,remove,,0,0,0\n0,1,add\n",
    )
    .unwrap();
    let s = scenario(&d, "events.csv", 2);
    let out = d.join("out");
    let o = ecsim(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let t = text(&o);
    for want in [
        "failures.trace.file: events.csv:2:1: timestamp: got \"1.5\"",
        "events.csv:3:5: event_type: got \"remove\"; expected \"add\", \"softerror\" or \"harderror\"",
        "events.csv:4:1: expected 7 comma-separated columns",
    ] {
        assert!(t.contains(want), "{want:?} not in {t}");
    }
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(d);
}

/// The shipped example runs as shipped on its synthetic excerpt.
#[test]
fn the_example_runs_on_its_excerpt() {
    let out = tmp("server-event-example");
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2017-failures.toml",
        "--out",
        out.to_str().unwrap(),
        "--no-events",
        "--no-tasks",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("failure trace server-event-excerpt.csv: 4 failure rows used, 0 skipped"),
        "{}",
        text(&o)
    );
    let times: Vec<String> = failures(&out).into_iter().map(|f| f.0).collect();
    assert_eq!(times, ["3600000", "7200000", "14400000"]);
    let _ = std::fs::remove_dir_all(out);
}

/// The real v2017 server_event table: 1,313 `add` rows number the 1,313 machines and its 39
/// `softerror` rows name 7 machines, so 7 instances fail (the repeats find them failed).
#[test]
fn alibaba_v2017_server_event_replays_whole() {
    let d = repo().join("../shared/data/traces/alibaba-v2017");
    if !d.is_dir() {
        eprintln!(
            "skipped: {} is absent (the real traces are not shipped)",
            d.display()
        );
        return;
    }
    let f = d.join("server_event.csv");
    let out = tmp("server-event-real");
    let set = format!("failures.trace.file=\"{}\"", f.display());
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2017-failures.toml",
        "--set",
        &set,
        "--allow-path",
        d.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-events",
        "--no-tasks",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("39 failure rows used, 0 skipped (machines beyond cluster alibaba's 1313 instances), 1313 add rows; 1313 machines mapped"),
        "{t}"
    );
    // docs/traces.md shows this line (for the file named server_event.csv).
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    let line = t
        .lines()
        .find(|l| l.starts_with("  failure trace "))
        .unwrap();
    let shown = line.replace(&f.display().to_string(), "server_event.csv");
    assert!(docs.contains(&shown), "docs/traces.md lacks {shown:?}");
    let got = failures(&out);
    let times: Vec<&str> = got.iter().map(|f| f.0.as_str()).collect();
    // The first failure row of each of the 7 machines, in time order.
    assert_eq!(
        times,
        [
            "777000", "1351000", "4407000", "49380000", "49854000", "50623000", "55222000"
        ]
    );
    let _ = std::fs::remove_dir_all(out);
}

/// A scenario whose cluster is sized from `file`, running `tasks` tasks spread over it.
fn machines_scenario(dir: &Path, file: &str, extra: &str, tasks: u32) -> PathBuf {
    let p = dir.join("m.toml");
    let at = vec!["\"0s\""; tasks as usize].join(", ");
    std::fs::write(
        &p,
        format!(
            r#"schema_version = 1
name = "sized"

[[clusters]]
name = "c"
machines = {{ file = "{file}", format = "alibaba-v2018-machine-meta", memory_mib_at_100 = 102400{extra} }}

[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024

[[jobs]]
name = "j"
task_definition = "t"
arrival = {{ type = "list", at = [{at}] }}
run_time = "1m"
on_no_capacity = "wait"
placement_strategy = [{{ type = "spread", field = "instanceId" }}]
"#
        ),
    )
    .unwrap();
    p
}

/// Each distinct machine is one instance; shapes become groups whose instance types have the
/// trace's cores x cpu_units_per_core and mem_size / 100 x memory_mib_at_100.
#[test]
fn machine_meta_sizes_the_cluster() {
    let d = tmp("machine-meta");
    std::fs::write(
        d.join("meta.csv"),
        "m_1,0,1,1,4,100,USING\nm_1,500,1,1,4,100,USING\nm_2,0,1,1,2,50,USING\n\
         m_3,0,1,1,4,100,IMPORT_INSTALLING\n",
    )
    .unwrap();
    let s = machines_scenario(&d, "meta.csv", ", cpu_units_per_core = 512", 10);
    let out = d.join("out");
    let o = ecsim(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("machines meta.csv: 4 rows, 3 machines in 2 instance groups of cluster c"),
        "{t}"
    );
    // Registered CPU: 2 machines of 4 x 512 units and one of 2 x 512 (memory is ample): 5 tasks
    // of 1,024 units at once, so 5 of the 10 wait.
    let s = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(s.contains("\"tasks_completed\": 10"), "{s}");
    assert!(s.contains("\"tasks_waited_for_capacity\": 5"), "{s}");
    assert!(t.contains("instances    peak 3, "), "{t}");
    let _ = std::fs::remove_dir_all(d);
}

/// Malformed machine rows are all located; machines together with instance_type is refused.
#[test]
fn malformed_machine_meta_is_located() {
    let d = tmp("machine-meta-bad");
    std::fs::write(
        d.join("meta.csv"),
        "m_1,0,1,1,4,100,USING\nm_2,0,1,1,four,100,USING\nm_3,0,1,1,4,0,USING\n",
    )
    .unwrap();
    let s = machines_scenario(&d, "meta.csv", "", 1);
    let o = ecsim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    for want in [
        "clusters[0].machines.file: meta.csv:2:11: cpu_num: got \"four\"",
        "meta.csv:3:13: mem_size: got \"0\"; expected normalised memory above 0, at most 100",
    ] {
        assert!(t.contains(want), "{want:?} not in {t}");
    }
    let src = std::fs::read_to_string(&s).unwrap();
    std::fs::write(
        &s,
        src.replace("name = \"c\"\n", "name = \"c\"\ncount = 2\n"),
    )
    .unwrap();
    std::fs::write(d.join("meta.csv"), "m_1,0,1,1,4,100,USING\n").unwrap();
    let t = text(&ecsim(&["validate", s.to_str().unwrap()]));
    assert!(t.contains("give machines or count, not both"), "{t}");
    let _ = std::fs::remove_dir_all(d);
}

/// The shipped example runs on its synthetic excerpt.
#[test]
fn the_machines_example_runs_on_its_excerpt() {
    let out = tmp("machine-meta-example");
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2018-machines.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o)
            .contains("machines machine-meta-excerpt.csv: 6 rows, 4 machines in 2 instance groups"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(out);
}

/// The real v2018 machine_meta (17,592 rows): 4,034 machines, all 96 cores and memory 100, one
/// group; docs/traces.md shows the line.
#[test]
fn alibaba_v2018_machine_meta_sizes_the_whole_cluster() {
    let d = repo().join("../shared/data/traces/alibaba-v2018");
    if !d.is_dir() {
        eprintln!(
            "skipped: {} is absent (the real traces are not shipped)",
            d.display()
        );
        return;
    }
    let f = d.join("machine_meta.csv");
    let out = tmp("machine-meta-real");
    let set = format!("clusters[0].machines.file=\"{}\"", f.display());
    let o = ecsim(&[
        "run",
        "docs/examples/alibaba-v2018-machines.toml",
        "--set",
        &set,
        "--allow-path",
        d.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-events",
        "--no-tasks",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("instances    peak 4,034"), "{t}");
    let line = t.lines().find(|l| l.starts_with("  machines ")).unwrap();
    let shown = line.replace(&f.display().to_string(), "machine_meta.csv");
    assert_eq!(
        shown,
        "  machines machine_meta.csv: 17592 rows, 4034 machines in 1 instance group of cluster alibaba (one per shape; a machine's later rows repeat it)"
    );
    let docs = std::fs::read_to_string(repo().join("docs/traces.md")).unwrap();
    assert!(docs.contains(&shown), "docs/traces.md lacks {shown:?}");
    let _ = std::fs::remove_dir_all(out);
}
