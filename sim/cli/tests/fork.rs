//! `--fork-at` from the command line (issue 15): the same bytes as a plain run, variants that
//! branch from one shared prefix, refusals that name the field, and thread-count independence.

mod common;
use common::{ecsim, text, tmp};

use std::path::Path;

/// Every file of a folder, name and bytes, sorted; `summary.json` without its wall time.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            let mut bytes = std::fs::read(&p).unwrap();
            if name.ends_with("summary.json") {
                let t = String::from_utf8(bytes).unwrap();
                let t: Vec<&str> = t.lines().filter(|l| !l.contains("\"wall_ms\"")).collect();
                bytes = t.join("\n").into_bytes();
            }
            if name.ends_with("report.html") {
                // The wall time's row: "<td>wall_ms</td><td ...>16 ms</td><td ...>16</td></tr>".
                let t = String::from_utf8(bytes).unwrap();
                let at = t.find("wall_ms</td>").expect("the wall time row");
                let end = at + t[at..].find("</tr>").unwrap();
                bytes = format!("{}{}", &t[..at], &t[end..]).into_bytes();
            }
            out.push((name, bytes));
        }
    }
    out.sort();
    out
}

/// `run --fork-at` writes the plain run's files, byte for byte (report included), for
/// scenarios with failures, auto scaling, deployments and jobs.
#[test]
fn run_through_a_fork_writes_the_plain_runs_files() {
    let d = tmp("fork-run");
    for (file, at) in [
        ("scenarios/az-outage.toml", "1h"),
        ("scenarios/what-if-az-outage.toml", "11h"),
        ("scenarios/flash-sale.toml", "30m"),
        ("scenarios/deploy-full-cluster.toml", "10m"),
    ] {
        let (a, b) = (d.join("plain"), d.join("forked"));
        let plain = ecsim(&["run", file, "--out", a.to_str().unwrap(), "-q", "--report"]);
        assert!(plain.status.success(), "{}", text(&plain));
        let forked = ecsim(&[
            "run",
            file,
            "--fork-at",
            at,
            "--out",
            b.to_str().unwrap(),
            "-q",
            "--report",
        ]);
        assert!(forked.status.success(), "{}", text(&forked));
        let (fa, fb) = (files(&a), files(&b));
        assert_eq!(fa.len(), fb.len(), "{file}");
        for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
            assert_eq!(na, nb);
            assert!(
                ba == bb,
                "{file}: {na} differs between the plain and the forked run"
            );
        }
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }
}

/// `compare --fork-at`: the variant without overrides is the plain run (same summary as in a
/// plain comparison); the results do not depend on the thread count.
#[test]
fn compare_forks_every_variant_from_one_prefix() {
    let d = tmp("fork-compare");
    let run = |name: &str, extra: &[&str]| {
        let out = d.join(name);
        let mut args = vec![
            "compare",
            "scenarios/what-if-az-outage.toml",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = ecsim(&args);
        assert!(o.status.success(), "{}", text(&o));
        out
    };
    let plain = run("plain", &[]);
    let one = run("one", &["--fork-at", "11h", "--threads", "1"]);
    let two = run("two", &["--fork-at", "11h", "--threads", "2"]);
    assert_eq!(files(&one), files(&two), "thread count changed results");
    let summary = |dir: &Path, v: &str| files(&dir.join("variants").join(v));
    assert_eq!(summary(&plain, "as-is"), summary(&one, "as-is"));
    // A branch that changes something is not the plain run of its variant (that one changed
    // it from time zero) and not the base.
    assert_ne!(summary(&plain, "target-70"), summary(&one, "target-70"));
    assert_ne!(summary(&one, "as-is"), summary(&one, "target-70"));
    let table = std::fs::read_to_string(one.join("compare.txt")).unwrap();
    assert!(table.contains("forked at 11h"), "{table}");
}

/// A variant a running cluster cannot take is refused before anything runs, each difference
/// named; nothing is written.
#[test]
fn compare_refuses_what_a_fork_cannot_take_by_name() {
    let d = tmp("fork-refuse");
    let out = d.join("out");
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--fork-at",
        "1h",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("variant ec2-savings-plan: cannot fork at 1h: pricing.ec2_discount_pct differs from the base scenario"),
        "{t}"
    );
    assert!(
        t.contains("variant fargate: cannot fork at 1h: task_definitions[0].network_mode differs"),
        "{t}"
    );
    assert!(!out.exists());
    let o = ecsim(&[
        "compare",
        "scenarios/what-if-az-outage.toml",
        "--fork-at",
        "15h",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("is not before the end of the run (14h)"),
        "{}",
        text(&o)
    );
    let o = ecsim(&["run", "scenarios/quickstart.toml", "--fork-at", "0s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("the fork time must be after time zero"));
}

/// `sweep --fork-at` runs every grid point from the seed's prefix, the same for any thread
/// count; grid points a fork cannot take are refused.
#[test]
fn sweep_forks_each_seeds_prefix() {
    let d = tmp("fork-sweep");
    let run = |name: &str, threads: &str| {
        let out = d.join(name);
        let o = ecsim(&[
            "sweep",
            "scenarios/sweeps/target-value.toml",
            "--fork-at",
            "40h",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read(out.join("runs.csv")).unwrap()
    };
    let one = run("one", "1");
    assert_eq!(one, run("two", "2"));
    let o = ecsim(&[
        "sweep",
        "scenarios/sweeps/target-value.toml",
        "--fork-at",
        "50h",
        "--out",
        d.join("refused").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("grid point 0 (40): cannot fork at 2d2h: the fork time (2d2h) is not before the end of the run (2d)"),
        "{}",
        text(&o)
    );
    assert!(!d.join("refused").exists());
}

/// A fork after the run's end, or of a trace job, fails with the reason and writes nothing.
#[test]
fn a_fork_that_cannot_be_made_says_why() {
    let d = tmp("fork-why");
    let out = d.join("out");
    let o = ecsim(&[
        "run",
        "scenarios/bench/steady-binpack.toml",
        "--set",
        "clusters[0].count=100",
        "--set",
        "jobs[0].arrival.count=1000",
        "--fork-at",
        "300d",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains(
            "before the fork time 300d (its work was done, or too many tasks waited); fork earlier"
        ),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    let o = ecsim(&[
        "run",
        "scenarios/traces/csv-batch.toml",
        "--fork-at",
        "1h",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("a trace job cannot be forked"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
}

/// `size --fork-at`: every candidate from the seed's prefix. The candidate that changes
/// nothing is judged as in a plain search; one that does is judged on its change from the fork
/// on, not from time zero; the same for any thread count.
#[test]
fn size_judges_candidates_from_the_fork_on() {
    let d = tmp("fork-size");
    let src =
        std::fs::read_to_string(common::repo().join("scenarios/what-if-az-outage.toml")).unwrap();
    let mut src = src[..src.find("[[variants]]").unwrap()].to_string();
    src.push_str(
        r#"
[[objectives]]
metric = "service.web.availability_pct"
at_least = 98.3

[search]
seeds = 1

[[search.knobs]]
name = "min"
paths = ["services[0].auto_scaling.min_capacity"]
values = [2, 40, 45, 50, 60]
monotone = true
"#,
    );
    let file = d.join("what-if-size.toml");
    std::fs::write(&file, src).unwrap();
    let size = |name: &str, extra: &[&str]| {
        let out = d.join(name);
        let mut args = vec![
            "size",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = ecsim(&args);
        assert!(o.status.success(), "{}", text(&o));
        out
    };
    let rows = |dir: &Path| -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.join("size.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let plain = rows(&size("plain", &[]));
    let one = size("one", &["--fork-at", "11h", "--threads", "1"]);
    let forked = rows(&one);
    assert_eq!(
        forked,
        rows(&size("two", &["--fork-at", "11h", "--threads", "2"]))
    );
    // Candidate 0 (min 2) is the scenario itself: the same cost and availability.
    assert_eq!(plain[0][2], "2");
    assert_eq!(plain[0][4..9], forked[0][4..9]);
    // min 60 from 11h on costs less than from time zero, and no minimum set at 11h reaches
    // the objective over the whole day (the plain search finds one).
    let at = |rows: &[Vec<String>], min: &str| rows.iter().find(|r| r[2] == min).unwrap().clone();
    let (p60, f60) = (at(&plain, "60"), at(&forked, "60"));
    assert!(f60[4].parse::<f64>().unwrap() < p60[4].parse::<f64>().unwrap());
    assert!(forked.iter().all(|r| r[10] == "no"), "{forked:?}");
    assert!(plain.iter().any(|r| r[10] == "yes"), "{plain:?}");
    let txt = std::fs::read_to_string(one.join("size.txt")).unwrap();
    assert!(txt.contains("forked at 11h"), "{txt}");
}
