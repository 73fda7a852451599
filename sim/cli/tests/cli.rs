//! End-to-end tests of the `ecsim` binary: what a user types and what they get.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
}

fn summary_without_wall(dir: &Path) -> String {
    String::from_utf8(read(dir, "summary.json"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"wall_ms\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Same scenario and seed: byte-identical files (summary.json apart from wall_ms); another seed
/// gives different ones.
#[test]
fn run_writes_identical_files_for_the_same_seed() {
    let base = tmp("det");
    let (a, b, c) = (base.join("a"), base.join("b"), base.join("c"));
    for (dir, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let o = ecsim(&[
            "run",
            "scenarios/quickstart.toml",
            "--seed",
            seed,
            "--out",
            dir.to_str().unwrap(),
            "-q",
        ]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for f in ["events.csv", "tasks.csv", "metrics.csv"] {
        assert!(!read(&a, f).is_empty());
        assert_eq!(
            read(&a, f),
            read(&b, f),
            "{f} differs between identical runs"
        );
    }
    assert_eq!(summary_without_wall(&a), summary_without_wall(&b));
    assert_ne!(read(&a, "events.csv"), read(&c, "events.csv"));
    assert!(summary_without_wall(&c).contains("\"seed\": 4"));
    let _ = std::fs::remove_dir_all(base);
}

#[test]
fn run_prints_a_summary_and_writes_every_file() {
    let base = tmp("files");
    let out = base.join("q");
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("ecsim run: quickstart (seed 42)") && t.contains("events hash"),
        "{t}"
    );
    let summary = String::from_utf8(read(&out, "summary.json")).unwrap();
    for key in [
        "scenario",
        "seed",
        "sim_end_ms",
        "events_processed",
        "tasks_started",
        "tasks_failed_to_place",
        "mean_cpu_reserved_pct",
        "mean_memory_reserved_pct",
        "peak_instances",
        "wall_ms",
        "events_hash",
    ] {
        assert!(
            summary.contains(&format!("\"{key}\":")),
            "summary.json lacks {key}:\n{summary}"
        );
    }
    let events = String::from_utf8(read(&out, "events.csv")).unwrap();
    assert!(events.starts_with("time_ms,kind,entity,service,job,instance,from,to,reason\n"));
    let metrics = String::from_utf8(read(&out, "metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        1 + 121,
        "a row a minute for 2 h, plus the header"
    );
    let tasks = String::from_utf8(read(&out, "tasks.csv")).unwrap();
    assert!(
        tasks
            .lines()
            .any(|l| l.starts_with("0,") && l.contains(",web,web,,service:web,default,")),
        "{tasks}"
    );
    // Rows are written as tasks finish, then the tasks live at the end in id order (README,
    // Outputs): every task appears once.
    let rows: Vec<(u64, bool)> = tasks
        .lines()
        .skip(1)
        .map(|l| {
            let id = l.split(',').next().unwrap().parse().unwrap();
            (id, l.contains("_at_end,") || l.contains(",never_placed,"))
        })
        .collect();
    let first_open = rows.iter().position(|r| r.1).unwrap_or(rows.len());
    assert!(rows[first_open..].iter().all(|r| r.1), "{tasks}");
    assert!(rows[first_open..].is_sorted_by_key(|r| r.0), "{tasks}");
    let mut ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..rows.len() as u64).collect::<Vec<_>>());
    // --no-events and --no-tasks leave those files out.
    let lean = base.join("lean");
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        lean.to_str().unwrap(),
        "--no-events",
        "--no-tasks",
        "-q",
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", text(&o));
    assert!(
        !lean.join("events.csv").exists()
            && !lean.join("tasks.csv").exists()
            && lean.join("metrics.csv").exists()
    );
    let _ = std::fs::remove_dir_all(base);
}

/// `--set` overrides reach the run.
#[test]
fn set_overrides_change_the_run() {
    let base = tmp("set");
    let out = base.join("s");
    let o = ecsim(&[
        "run",
        "scenarios/bench/steady-binpack.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--set",
        "clusters[0].count=50",
        "--set",
        "jobs[0].arrival.count=500",
        "--set",
        "jobs[0].arrival.rate_per_s=0.04",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = String::from_utf8(read(&out, "summary.json")).unwrap();
    assert!(
        summary.contains("\"tasks_created\": 500,") && summary.contains("\"peak_instances\": 50,"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(base);
}

/// A scenario with errors: every one reported, exit code 1, and no output folder at all.
#[test]
fn invalid_scenario_exits_1_and_writes_nothing() {
    let base = tmp("bad");
    let file = base.join("bad.toml");
    std::fs::write(&file, "schema_version = 1\nname = \"bad\"\nsurprise = 1\n[[clusters]]\nname = \"c\"\ninstance_type = \"z9.huge\"\ncount = 1\n[[task_definitions]]\nfamily = \"t\"\ncpu = 256\nmemory = 256\n[[jobs]]\nname = \"j\"\ntask_definition = \"t\"\narrival = { type = \"list\", at = [\"1m\"] }\nrun_time = \"1m\"\n").unwrap();
    let out = base.join("out");
    let o = ecsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("bad.toml:3:1: surprise: unknown field \"surprise\""),
        "{t}"
    );
    assert!(
        t.contains("bad.toml:6:17: clusters[0].instance_type: unknown instance type \"z9.huge\""),
        "{t}"
    );
    assert!(t.contains("2 problems found"), "{t}");
    assert!(!out.exists(), "no output for a failed run");
    let leftovers: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only the scenario file: {leftovers:?}");
    let v = ecsim(&[
        "validate",
        file.to_str().unwrap(),
        "scenarios/quickstart.toml",
    ]);
    assert_eq!(v.status.code(), Some(1));
    assert!(
        text(&v).contains("scenarios/quickstart.toml: ok"),
        "{}",
        text(&v)
    );
    let _ = std::fs::remove_dir_all(base);
}

/// A run that fails while writing leaves the previous output in place and no partial folder.
#[test]
fn failed_run_keeps_the_old_output() {
    let base = tmp("keep");
    let out = base.join("q");
    assert!(
        ecsim(&[
            "run",
            "scenarios/quickstart.toml",
            "--out",
            out.to_str().unwrap(),
            "-q"
        ])
        .status
        .success()
    );
    let before = read(&out, "events.csv");
    // A seed that does not parse is a usage error (exit 2), before anything is written.
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "minus-one",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "clusters[0].count=-1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("(--set clusters[0].count=-1): clusters[0].count: got the integer -1"),
        "{}",
        text(&o)
    );
    assert_eq!(read(&out, "events.csv"), before);
    let names: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["q".to_string()], "no staging folders left");
    let _ = std::fs::remove_dir_all(base);
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    assert_eq!(ecsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(ecsim(&["run"]).status.code(), Some(2));
    let h = ecsim(&["run", "--help"]);
    assert!(
        h.status.success()
            && text(&h).contains("Examples:")
            && text(&h).contains("--set clusters[0].count=1000")
    );
    let o = ecsim(&["run", "does/not/exist.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cannot read scenario does/not/exist.toml"),
        "{}",
        text(&o)
    );
}

/// `ecsim compare` with no other argument answers "which is cheaper, and by how much", and its
/// files do not depend on the number of threads.
#[test]
fn compare_answers_which_is_cheaper() {
    let base = tmp("compare");
    let (one, two) = (base.join("one"), base.join("two"));
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--out",
        one.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("cheapest: ")
            && t.contains("less than ec2-on-demand-binpack (the first variant)"),
        "{t}"
    );
    let csv = String::from_utf8(read(&one, "compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 9, "{csv}");
    assert!(csv.starts_with("variant,description,cost_total_usd,"));
    assert!(
        one.join("variants/fargate/summary.json").exists()
            && one.join("variants/ec2-spot/cost.csv").exists()
    );
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--out",
        two.to_str().unwrap(),
        "--threads",
        "2",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        read(&one, "compare.csv"),
        read(&two, "compare.csv"),
        "thread count changed the results"
    );
    assert_eq!(
        read(&one, "variants/fargate-mix/cost.csv"),
        read(&two, "variants/fargate-mix/cost.csv")
    );
    // A scenario without variants says what to do.
    let o = ecsim(&[
        "compare",
        "scenarios/quickstart.toml",
        "--out",
        base.join("none").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("declares no [[variants]]"),
        "{}",
        text(&o)
    );
    // A broken variant is reported with its name, and nothing is written.
    let vf = base.join("v.toml");
    std::fs::write(
        &vf,
        "[[variants]]\nname = \"bad\"\nset = { \"services[0].desired_count\" = -2 }\n",
    )
    .unwrap();
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--variants",
        vf.to_str().unwrap(),
        "--out",
        base.join("bad").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("variant bad:") && text(&o).contains("(--set variant bad: services[0].desired_count): services[0].desired_count: got the integer -2"), "{}", text(&o));
    assert!(!base.join("bad").exists());
    let _ = std::fs::remove_dir_all(base);
}

/// A scenario can name its own pricing table, relative to itself, and errors in that table are
/// reported with the table's file and line.
#[test]
fn pricing_file_relative_to_the_scenario() {
    let base = tmp("pricing");
    let table =
        std::fs::read_to_string(repo().join("scenarios/pricing/aws-us-east-1.toml")).unwrap();
    std::fs::write(
        base.join("cheap.toml"),
        table.replace("\"m5.large\" = 0.096", "\"m5.large\" = 0.048"),
    )
    .unwrap();
    let sc = std::fs::read_to_string(repo().join("scenarios/quickstart.toml")).unwrap();
    std::fs::write(
        base.join("s.toml"),
        format!("{sc}\n[pricing]\nfile = \"cheap.toml\"\n"),
    )
    .unwrap();
    let out = base.join("out");
    let o = ecsim(&[
        "run",
        base.join("s.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = String::from_utf8(read(&out, "summary.json")).unwrap();
    assert!(
        summary.contains("\"cost_ec2_usd\": 0.576000,"),
        "6 x m5.large x 2 h at $0.048: {summary}"
    );
    std::fs::write(base.join("cheap.toml"), "schema_version = 1\nname = \"x\"\nregion = \"r\"\ndate = \"d\"\n[fargate]\n[ec2]\nminimum_seconds = -5\n").unwrap();
    let o = ecsim(&["validate", base.join("s.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cheap.toml:7:19: ec2.minimum_seconds: got the integer -5"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(base);
}

/// A small sweep: 2 points x 3 seeds of the quickstart, fast in debug builds.
fn small_sweep(dir: &Path) -> PathBuf {
    let f = dir.join("sweep.toml");
    let scenario = repo().join("scenarios/quickstart.toml");
    std::fs::write(
        &f,
        format!(
            "schema_version = 1\nname = \"t\"\nscenario = \"{}\"\nseed = 5\nseeds = 3\nmetrics = [\"mean_cpu_reserved_pct\"]\n[[parameters]]\nname = \"web\"\npaths = [\"services[0].desired_count\"]\nvalues = [2, 5]\n",
            scenario.display()
        ),
    )
    .unwrap();
    f
}

/// Sweeps: the same files with 1 thread or several; shards merged equal the single sweep, byte
/// for byte; --resume skips finished runs and reproduces the same files.
#[test]
fn sweeps_are_deterministic_shardable_and_resumable() {
    let base = tmp("sweep");
    let f = small_sweep(&base);
    let f = f.to_str().unwrap();
    let dir = |n: &str| base.join(n);
    let ok = |args: &[&str]| {
        let o = ecsim(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        o
    };
    ok(&[
        "sweep",
        f,
        "--out",
        dir("one").to_str().unwrap(),
        "--threads",
        "1",
        "-q",
    ]);
    let o = ok(&[
        "sweep",
        f,
        "--out",
        dir("many").to_str().unwrap(),
        "--threads",
        "4",
    ]);
    assert!(
        text(&o).contains("2 grid points x 3 seeds; ran 6"),
        "{}",
        text(&o)
    );
    for file in ["runs.csv", "aggregate.csv", "aggregate_long.csv"] {
        assert_eq!(
            read(&dir("one"), file),
            read(&dir("many"), file),
            "{file}: threads changed it"
        );
    }
    // The long table holds the chosen metric only, with paired differences against point 0.
    let long = String::from_utf8(read(&dir("one"), "aggregate_long.csv")).unwrap();
    assert!(long.starts_with("point,metric,statistic,value\n"), "{long}");
    assert!(
        long.contains("1,mean_cpu_reserved_pct,diff_ci95_high,"),
        "{long}"
    );
    assert!(
        long.contains("0,mean_cpu_reserved_pct,diff_mean,0.000000"),
        "{long}"
    );
    assert!(
        long.lines()
            .skip(1)
            .all(|l| l.contains(",mean_cpu_reserved_pct,")),
        "{long}"
    );
    let runs = String::from_utf8(read(&dir("one"), "runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 6);
    assert!(!runs.contains("wall_ms"));
    let agg = String::from_utf8(read(&dir("one"), "aggregate.csv")).unwrap();
    assert!(
        agg.starts_with("point,param.web,runs,") && agg.contains("mean_cpu_reserved_pct.ci95_high"),
        "{agg}"
    );
    // Shards 0/2 and 1/2, merged in either order, equal the single sweep.
    ok(&[
        "sweep",
        f,
        "--out",
        dir("s0").to_str().unwrap(),
        "--shard",
        "0/2",
        "-q",
    ]);
    ok(&[
        "sweep",
        f,
        "--out",
        dir("s1").to_str().unwrap(),
        "--shard",
        "1/2",
        "-q",
    ]);
    ok(&[
        "merge",
        dir("s1").to_str().unwrap(),
        dir("s0").to_str().unwrap(),
        "--out",
        dir("merged").to_str().unwrap(),
    ]);
    for file in ["runs.csv", "aggregate.csv"] {
        assert_eq!(
            read(&dir("one"), file),
            read(&dir("merged"), file),
            "{file}: merged shards differ"
        );
    }
    // Resume: delete two run files and the tables; the resumed sweep redoes only those.
    let runs_dir = dir("one").join("runs");
    let mut names: Vec<_> = std::fs::read_dir(&runs_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let kept_before = std::fs::metadata(&names[0]).unwrap().modified().unwrap();
    std::fs::remove_file(&names[1]).unwrap();
    std::fs::remove_file(&names[4]).unwrap();
    let before = read(&dir("many"), "runs.csv");
    let o = ok(&[
        "sweep",
        f,
        "--out",
        dir("one").to_str().unwrap(),
        "--resume",
    ]);
    assert!(text(&o).contains("ran 2, kept 4 finished"), "{}", text(&o));
    assert_eq!(
        std::fs::metadata(&names[0]).unwrap().modified().unwrap(),
        kept_before,
        "a finished run was redone"
    );
    assert_eq!(read(&dir("one"), "runs.csv"), before);
    let _ = std::fs::remove_dir_all(base);
}

/// Every shipped scenario (the benchmark at a reduced size) gets every chart as a non-empty,
/// valid PNG and SVG, and a report.html that embeds them and escapes nothing twice.
#[test]
fn charts_and_report_for_every_scenario() {
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["", "bench", "pricing-examples"] {
        let d = repo().join("scenarios").join(sub);
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for f in &files {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let out = tmp(&format!("charts-{name}"));
        let mut args = vec![
            "run",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--report",
            "-q",
            "--no-events",
        ];
        if f.parent().unwrap().ends_with("bench") {
            args.extend([
                "--set",
                "clusters[0].count=50",
                "--set",
                "jobs[0].arrival.count=2000",
            ]);
        }
        let o = ecsim(&args);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let charts = out.join("charts");
        let mut n = 0;
        let mut stems: Vec<String> = std::fs::read_dir(&charts)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "png").then(|| p.file_stem().unwrap().to_str().unwrap().into())
            })
            .collect();
        stems.sort();
        assert!(stems.contains(&"tasks".to_string()), "{name}: {stems:?}");
        // Only charts with data: no instance chart without instances.
        let sum: String = String::from_utf8(read(&out, "summary.json")).unwrap();
        let has_instances = !sum.contains("\"peak_instances\": 0,");
        assert_eq!(
            stems.contains(&"instances".to_string()),
            has_instances,
            "{name}"
        );
        for stem in &stems {
            let png = read(&charts, &format!("{stem}.png"));
            assert!(
                png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{name}/{stem}.png"
            );
            let svg = String::from_utf8(read(&charts, &format!("{stem}.svg"))).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{name}/{stem}.svg"
            );
            n += 1;
        }
        let html = String::from_utf8(read(&out, "report.html")).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"ecsim-data\""));
        assert_eq!(
            html.matches("<div class=\"tchart\">").count(),
            n,
            "{name}: every chart is on the page, interactive"
        );
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "{name}: no network fetches"
        );
        assert!(html.len() < 3_000_000, "{name}: {} bytes", html.len());
        // `ecsim report` on the same folder gives the same page.
        let again = ecsim(&["report", out.to_str().unwrap(), "-q"]);
        assert!(again.status.success(), "{}", text(&again));
        assert_eq!(
            String::from_utf8(read(&out, "report.html")).unwrap(),
            html,
            "{name}"
        );
    }
}

/// The browser to check reports with, if any. Missing: a failure when `CI` is set (`.ci/run`
/// sets CI=1), else a skip written where `cargo test` shows it.
fn browser(test: &str) -> Option<&'static str> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if browser.is_none() {
        let why = "no chromium on PATH (apt-get install chromium)";
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false") {
            panic!("{test}: {why}, and CI is set: the browser check must run in CI");
        }
        // Written to the real stderr, not through the test harness's captured eprintln!, so
        // the skip is visible in `cargo test`'s output.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "\nSKIPPED {test}: {why}");
    }
    browser
}

/// Headless Chromium on `page`: `--dump-dom` gives the DOM after the scripts ran, or, with
/// `shot`, a screenshot of the first `height` pixels is written there.
fn chromium(browser: &str, page: &Path, shot: Option<&Path>, height: u32) -> Output {
    let profile = tmp(&format!(
        "chromium-profile-{}-{}",
        page.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap(),
        shot.is_some()
    ));
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        format!("--window-size=1100,{height}"),
        format!("--user-data-dir={}", profile.display()),
        "--virtual-time-budget=5000".into(),
    ];
    match shot {
        Some(p) => args.push(format!("--screenshot={}", p.display())),
        None => args.push("--dump-dom".into()),
    }
    args.push(format!("file://{}", page.display()));
    Command::new(browser).args(&args).output().unwrap()
}

/// The reports look right in a real browser: headless Chromium loads each page (run, sweep,
/// compare) with no script errors, every image has a size and every interactive chart drew
/// (the page's own check writes the verdict into the DOM); and a screenshot of the run page
/// shows pixels of several colours in every chart's area.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = browser("report_renders_in_headless_chromium") else {
        return;
    };
    for dir in report_folders() {
        check_in_browser(browser, &dir);
    }
}

/// A run (flash-sale, with --report), a sweep and a comparison (then `ecsim report` on it).
fn report_folders() -> [PathBuf; 3] {
    let out = tmp("chromium-report");
    let o = ecsim(&[
        "run",
        repo().join("scenarios/flash-sale.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--report",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = tmp("chromium-sweep");
    let o = ecsim(&[
        "sweep",
        repo()
            .join("scenarios/sweeps/placement-strategies.toml")
            .to_str()
            .unwrap(),
        "--out",
        sweep.to_str().unwrap(),
        "-q",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let cmp = tmp("chromium-compare");
    let o = ecsim(&[
        "compare",
        repo()
            .join("scenarios/fargate-vs-ec2.toml")
            .to_str()
            .unwrap(),
        "--out",
        cmp.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["report", cmp.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    [out, sweep, cmp]
}

/// The page in `dir` passes its own check in Chromium (every chart drew, every image has a
/// size, no script error), and a screenshot shows ink of several colours in every chart area.
fn check_in_browser(browser: &str, dir: &Path) {
    const HEIGHT: u32 = 4200;
    let page = dir.join("report.html").canonicalize().unwrap();
    let html = String::from_utf8(read(dir, "report.html")).unwrap();
    let want_images = html.matches("<img ").count();
    let want_charts = html.matches("<div class=\"tchart\">").count();
    assert!(want_images + want_charts >= 2, "{}", dir.display());
    let o = chromium(browser, &page, None, HEIGHT);
    let dom = String::from_utf8_lossy(&o.stdout);
    let verdict = format!("page check: ok: {want_charts} charts drawn, {want_images} images");
    assert!(
        dom.contains(&verdict),
        "{}: the browser's verdict: {}\nstderr: {}",
        dir.display(),
        dom.lines()
            .find(|l| l.contains("page check"))
            .unwrap_or("(no page check in the DOM)"),
        String::from_utf8_lossy(&o.stderr)
    );
    if want_charts == 0 {
        return;
    }
    // Where the charts are, as the page measured them: "x,y,w,h;...".
    let rects: Vec<[u32; 4]> = dom
        .split("data-charts=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .split(';')
        .filter_map(|r| {
            let v: Vec<u32> = r.split(',').filter_map(|n| n.parse().ok()).collect();
            (v.len() == 4).then(|| [v[0], v[1], v[2], v[3]])
        })
        .collect();
    assert_eq!(
        rects.len(),
        want_charts,
        "{}: chart areas {rects:?}",
        dir.display()
    );
    let shot = dir.join("screenshot.png");
    let o = chromium(browser, &page, Some(&shot), HEIGHT);
    let img = image::open(&shot)
        .unwrap_or_else(|e| panic!("screenshot: {e}; {}", String::from_utf8_lossy(&o.stderr)))
        .to_rgb8();
    let mut seen = 0;
    for [x, y, w, h] in rects {
        if y + h > img.height() {
            continue;
        }
        let mut colours = std::collections::BTreeSet::new();
        let mut inked = 0u32;
        for py in y..y + h {
            for px in x..(x + w).min(img.width()) {
                let p = img.get_pixel(px, py).0;
                if p != [255, 255, 255] {
                    inked += 1;
                    colours.insert(p.map(|c| c / 32));
                }
            }
        }
        let share = f64::from(inked) / f64::from(w * h);
        assert!(
            share > 0.01 && colours.len() >= 4,
            "{}: chart at {x},{y} ({w}x{h}) looks blank: {:.2} % inked, {} colours",
            dir.display(),
            share * 100.0,
            colours.len()
        );
        seen += 1;
    }
    assert!(
        seen >= 2,
        "{}: only {seen} charts in the screenshot",
        dir.display()
    );
}

/// Progress goes to stderr only when it is a terminal: through a pipe (as here) `run` and
/// `compare` write nothing to stderr, and with `-q` nothing at all.
#[test]
fn no_progress_in_pipes() {
    let out = tmp("progress");
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.join("run").to_str().unwrap(),
    ]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    let o = ecsim(&[
        "compare",
        "scenarios/spot-mix.toml",
        "-q",
        "--out",
        out.join("cmp").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", text(&o));
}

/// A `--set` mistake is reported once, naming the `--set` argument and the path meant; no
/// second error about something that merely refers to the broken entry.
#[test]
fn set_errors_name_the_argument_and_come_once() {
    let o = ecsim(&[
        "validate",
        "scenarios/spot-mix.toml",
        "--set",
        "clusters[0].instance_type=c5.xlarge",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("(--set clusters[0].instance_type=c5.xlarge): clusters[0].instance_type:")
            && t.contains("set clusters[0].instance_groups[N].instance_type")
            && t.contains("1 problem found")
            && !t.contains("count: missing"),
        "{t}"
    );
    // A bad cluster does not make the service that runs in it, nor the actions naming the
    // service, errors of their own.
    let o = ecsim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--set",
        "clusters[0].count=abc",
    ]);
    let t = text(&o);
    assert!(
        t.contains("(--set clusters[0].count=abc): clusters[0].count: got the string \"abc\"")
            && t.contains("1 problem found")
            && !t.contains("no service named"),
        "{t}"
    );
}

/// A likely modelling mistake is a warning, not an error: the run goes ahead and says what
/// looks wrong (a tenfold typo in requests_per_task overloads the service fivefold at its peak).
#[test]
fn overload_is_a_warning_and_the_run_goes_ahead() {
    let out = tmp("overload");
    let o = ecsim(&[
        "run",
        "scenarios/flash-sale.toml",
        "--set",
        "services[0].load.requests_per_task=10",
        "--no-events",
        "--no-tasks",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: scenarios/flash-sale.toml: services[0] (shop-tt): demand peaks at 2000 requests/s (at 2:00), 5.0x the most it can serve"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Shipped scenarios are modelled as meant: no warning.
    let o = ecsim(&[
        "validate",
        "scenarios/flash-sale.toml",
        "scenarios/diurnal-web.toml",
    ]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
}

/// `ecsim audit` (issue 15): the plain run and the shuffled runs, a table of what changed and
/// where the event logs diverge; `--strict` fails on a dependence; results do not depend on the
/// thread count. spot-storm's two interruptions at one instant share a random stream (README,
/// "Ordering audit"), so some of its metrics depend on the order.
#[test]
fn audit_reports_order_dependence_and_strict_fails_on_it() {
    let clean = ecsim(&[
        "audit",
        "scenarios/diurnal-web.toml",
        "--shuffles",
        "2",
        "--strict",
    ]);
    let t = text(&clean);
    assert!(clean.status.success(), "{t}");
    assert!(t.contains("ecsim audit: diurnal-web (seed"), "{t}");
    assert!(t.contains("are the same in every order"), "{t}");
    assert!(
        t.contains("every shuffled run has the plain run's events"),
        "{t}"
    );
    let a = ecsim(&[
        "audit",
        "scenarios/spot-storm.toml",
        "--shuffles",
        "3",
        "--threads",
        "1",
    ]);
    let b = ecsim(&[
        "audit",
        "scenarios/spot-storm.toml",
        "--shuffles",
        "3",
        "--threads",
        "2",
    ]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "the same for any thread count");
    let t = text(&a);
    assert!(t.contains("tasks_lost"), "{t}");
    assert!(t.contains("diverge; first at"), "{t}");
    let strict = ecsim(&[
        "audit",
        "scenarios/spot-storm.toml",
        "--shuffles",
        "3",
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
}

/// `run --shuffle K` reproduces the order of the audit's shuffle K, so a user can look at it.
#[test]
fn run_with_a_shuffle_is_reproducible_and_differs_where_the_audit_says() {
    let (a, b, c) = (tmp("shuffle-a"), tmp("shuffle-b"), tmp("plain"));
    for (dir, extra) in [(&a, Some("1")), (&b, Some("1")), (&c, None)] {
        let d = dir.to_str().unwrap();
        let mut args = vec![
            "run",
            "scenarios/spot-storm.toml",
            "--out",
            d,
            "--force",
            "-q",
        ];
        if let Some(k) = extra {
            args.extend(["--shuffle", k]);
        }
        let o = ecsim(&args);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(read(&a, "events.csv"), read(&b, "events.csv"));
    assert_ne!(read(&a, "events.csv"), read(&c, "events.csv"));
}

/// `run --explain` (issue 15): placements.csv has a row per placement attempt whose counts add
/// up to the candidates, strategy tiers that only narrow, a chosen instance or a failure reason;
/// and explaining changes nothing else (same events, same summary).
#[test]
fn explain_writes_placements_that_add_up_and_changes_nothing_else() {
    let (plain, explained) = (tmp("explain-off"), tmp("explain-on"));
    for (dir, on) in [(&plain, false), (&explained, true)] {
        let d = dir.to_str().unwrap();
        let mut args = vec![
            "run",
            "scenarios/placement-memberof.toml",
            "--out",
            d,
            "--force",
        ];
        if on {
            args.push("--explain");
        }
        let o = ecsim(&args);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(text(&o).contains("placements.csv"), on);
    }
    assert_eq!(read(&plain, "events.csv"), read(&explained, "events.csv"));
    assert_eq!(
        summary_without_wall(&plain),
        summary_without_wall(&explained)
    );
    assert!(!plain.join("placements.csv").exists());
    let csv = String::from_utf8(read(&explained, "placements.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let n = |name: &str| f[col(name)].parse::<u32>().unwrap();
        let removed: u32 = header
            .iter()
            .filter(|h| h.starts_with("removed_"))
            .map(|h| n(h))
            .sum();
        assert_eq!(
            n("candidates"),
            n("not_active") + removed + n("feasible"),
            "{line}"
        );
        let tiers: Vec<u32> = f[col("tiers")]
            .split('>')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect();
        assert!(tiers.windows(2).all(|w| w[1] <= w[0]), "{line}");
        assert!(n("tie") <= n("feasible"), "{line}");
        let chosen = !f[col("chosen")].is_empty();
        assert_eq!(chosen, n("feasible") > 0, "{line}");
        assert_eq!(chosen, f[col("failure")].is_empty(), "{line}");
        rows += 1;
    }
    // Every service and job task that was placed or waited went through the pipeline.
    assert!(rows >= 50, "{rows} rows");
    assert!(csv.contains("removed_member_of"));
    // Daemon tasks are explained too: one candidate, the instance they were tried on.
    assert!(csv.lines().any(|l| l.contains(",agent,,mixed,1,")), "{csv}");
    assert!(!plain.join("decisions.csv").exists());
    assert!(explained.join("decisions.csv").exists());
}

/// `run --explain --report` (issue 15): both explanation files are written, decisions.csv has
/// the scheduler's choices with the columns of its schema, and the report shows both tables with
/// a task's number linking its placement to its decisions and back.
#[test]
fn explain_writes_decisions_and_the_report_links_a_task_to_its_explanations() {
    let dir = tmp("explain-decisions");
    let d = dir.to_str().unwrap();
    let o = ecsim(&[
        "run",
        "scenarios/spot-mix.toml",
        "--explain",
        "--report",
        "--out",
        d,
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("decisions.csv"));
    let csv = String::from_utf8(read(&dir, "decisions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "time_ms,kind,subject,task,chosen,reason,details"
    );
    let rows: Vec<&str> = lines.collect();
    // spot-mix: on-demand has base 2, so the first two tasks go there for their base.
    // The rows README "Explanations" shows.
    assert_eq!(
        rows[..2],
        [
            "0,capacity_provider,api,0,on-demand,base,items=on-demand:0/2/1|spot:0/0/3",
            "0,capacity_provider,api,1,on-demand,base,items=on-demand:1/2/1|spot:0/0/3"
        ]
    );
    assert!(rows.iter().any(|r| r.contains(",scale_in,")), "{csv}");
    let html = String::from_utf8(read(&dir, "report.html")).unwrap();
    assert!(html.contains("<h2>Placements explained</h2>"));
    assert!(html.contains("<h2>Decisions explained</h2>"));
    assert!(html.contains("<tr id=\"placement-0\">"));
    assert!(html.contains("<tr id=\"decision-0\">"));
    assert!(html.contains("<a href=\"#placement-0\">"));
    assert!(html.contains("<a href=\"#decision-0\">"));
    // Made from the files alone: `ecsim report` on the folder gives the same page.
    let again = ecsim(&["report", d, "--force"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(String::from_utf8(read(&dir, "report.html")).unwrap(), html);
}
