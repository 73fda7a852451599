//! `ecsim size` end to end: its answers on the shipped sizing scenarios agree with trying every
//! candidate of the same space (brute force, through the model), the files are the same for any
//! thread count, the answer's scenario runs, and a scenario without a search says what to add.

mod common;

use common::*;

use ecsim_model::objectives;
use ecsim_model::record::{NullSink, Summary};
use ecsim_model::scenario::{self, LoadOptions};
use ecsim_model::search;
use ecsim_model::sim::{self, RunOptions};

/// The cheapest candidate meeting every objective, found by running every candidate of the
/// scenario's search space on the same seeds: its knob labels and mean monthly cost.
fn brute_force(rel: &str) -> Option<(Vec<String>, f64)> {
    let path = repo().join(rel);
    let src = std::fs::read_to_string(&path).unwrap();
    let s = search::read(rel, &src).unwrap().unwrap();
    let base = scenario::load(rel, &src, &[]).unwrap();
    let seeds = s.run_seeds(base.seed);
    let mut best: Option<(usize, f64)> = None;
    for c in 0..s.candidates() {
        let v = s.variant(c);
        let opts = LoadOptions {
            variant: Some(&v),
            ..LoadOptions::default()
        };
        let sc = scenario::load_with(rel, &src, &opts).unwrap();
        let runs: Vec<Summary> = seeds
            .iter()
            .map(|&seed| {
                let opts = RunOptions {
                    seed,
                    check_invariants: false,
                };
                sim::run(&sc, opts, NullSink).0
            })
            .collect();
        let fields: Vec<_> = runs.iter().map(Summary::fields).collect();
        let judged = objectives::judge(&sc.objectives, &fields, s.confidence);
        let cost = runs
            .iter()
            .map(|r| r.costs.total.usd() * r.month_factor())
            .sum::<f64>()
            / runs.len() as f64;
        if judged.iter().all(|j| j.met) && best.is_none_or(|(_, b)| cost < b) {
            best = Some((c, cost));
        }
    }
    best.map(|(c, cost)| (s.labels(c), cost))
}

/// The answer row of size.csv: knob labels and monthly cost.
fn answer_of(csv: &str, knobs: usize) -> (Vec<String>, f64) {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let answer = h.iter().position(|c| c == "answer").unwrap();
    let cost = h.iter().position(|c| c == "cost_monthly_usd").unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[answer] == "yes" {
            let labels = (2..2 + knobs).map(|i| rec[i].to_string()).collect();
            return (labels, rec[cost].parse().unwrap());
        }
    }
    panic!("no answer in size.csv:\n{csv}")
}

fn check_against_brute_force(rel: &str, expect_mix: &str) {
    let base = tmp(rel.rsplit('/').next().unwrap());
    let (one, two) = (base.join("one"), base.join("two"));
    let o = ecsim(&[
        "size",
        rel,
        "--out",
        one.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("answer: ") && t.contains("per 30 days"), "{t}");
    let csv = std::fs::read_to_string(one.join("size.csv")).unwrap();
    let (labels, cost) = answer_of(&csv, 3);
    let (want, want_cost) = brute_force(rel).expect("a feasible candidate");
    assert_eq!(
        labels, want,
        "size and brute force ({want_cost}) disagree:\n{t}"
    );
    assert!((cost - want_cost).abs() < 1e-6, "{cost} vs {want_cost}");
    assert_eq!(labels[2], expect_mix, "{t}");
    // Fewer runs than the grid: bisection and early discard did their work.
    let grid: usize = csv.lines().count() - 1;
    assert!(grid < 60, "{grid} candidates run");
    // Any thread count, the same files.
    let o = ecsim(&[
        "size",
        rel,
        "--out",
        two.to_str().unwrap(),
        "--threads",
        "2",
        "-q",
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", text(&o));
    for f in ["size.csv", "answer.toml", "size.txt", "frontier.svg"] {
        assert_eq!(
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
            "{f} differs with the thread count"
        );
    }
    // The answer runs as it is, and reports its objectives.
    let o = ecsim(&[
        "run",
        one.join("answer.toml").to_str().unwrap(),
        "--out",
        base.join("answer-run").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("objectives   "), "{}", text(&o));
    let svg = std::fs::read_to_string(one.join("frontier.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("meets every objective"));
    let _ = std::fs::remove_dir_all(base);
}

/// EC2 with a Spot share beats Fargate for a steady web + batch workload.
#[test]
fn ec2_spot_answer_agrees_with_brute_force() {
    check_against_brute_force(
        "scenarios/sizing/web-batch-ec2-spot.toml",
        "two-on-demand-rest-spot",
    );
}

/// Fargate wins for a bursty one.
#[test]
fn fargate_answer_agrees_with_brute_force() {
    check_against_brute_force("scenarios/sizing/bursty-fargate.toml", "fargate");
}

/// Without [search] or [[objectives]], size says what to add; an objective on a misspelt
/// metric is reported with the closest name; nothing is written.
#[test]
fn size_says_what_is_missing() {
    let base = tmp("missing");
    let out = base.join("out");
    let o = ecsim(&[
        "size",
        "scenarios/quickstart.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("has no [search] table"), "{}", text(&o));
    let src = std::fs::read_to_string(repo().join("scenarios/sizing/bursty-fargate.toml"))
        .unwrap()
        .replace(
            "service.web.unserved_request_pct",
            "service.web.unserved_requests_pct",
        );
    let bad = base.join("bad.toml");
    std::fs::write(&bad, src).unwrap();
    let o = ecsim(&[
        "size",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("unknown metric \"service.web.unserved_requests_pct\" (did you mean \"service.web.unserved_request_pct\"?)"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    // validate checks the [search] table too.
    let src = std::fs::read_to_string(repo().join("scenarios/sizing/bursty-fargate.toml"))
        .unwrap()
        .replace("monotone = true", "monotone = \"yes\"");
    std::fs::write(&bad, src).unwrap();
    let o = ecsim(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("search.knobs[1].monotone: got the string \"yes\""),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(base);
}

/// The README's `ecsim size` example is what the command prints.
#[test]
fn readme_size_example_is_true() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("$ ecsim size scenarios/sizing/web-batch-ec2-spot.toml\n")
        .expect("the example in README.md");
    let block: Vec<&str> = readme[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(block.len() >= 6);
    let base = tmp("readme");
    let o = ecsim(&[
        "size",
        "scenarios/sizing/web-batch-ec2-spot.toml",
        "--out",
        base.join("out").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout);
    let printed: Vec<&str> = printed.lines().collect();
    // The output line names the folder, which here is a temporary one (tests/docs.rs runs the
    // README's block as it stands).
    let block: Vec<&str> = block
        .into_iter()
        .filter(|l| !l.starts_with("output:"))
        .collect();
    assert_eq!(
        &printed[..block.len()],
        &block[..],
        "README.md shows another output"
    );
    let _ = std::fs::remove_dir_all(base);
}

/// The TOML after a heading of docs/scenario.md.
fn doc_block(heading: &str) -> String {
    let doc = std::fs::read_to_string(repo().join("docs/scenario.md")).unwrap();
    let at = doc.find(heading).expect("heading in docs/scenario.md");
    let rest = &doc[at..];
    let start = rest.find("```toml\n").unwrap() + 8;
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

/// docs/scenario.md's [[objectives]] and [search] examples are read as documented.
#[test]
fn docs_examples_are_valid() {
    let base = std::fs::read_to_string(repo().join("scenarios/quickstart.toml")).unwrap();
    let src = format!(
        "{base}\n{}\n{}",
        doc_block("## `[[objectives]]`"),
        doc_block("## `[search]`")
    );
    let sc = scenario::load("docs.toml", &src, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.objectives.len(), 2);
    let s = search::read("docs.toml", &src).unwrap().unwrap();
    assert_eq!((s.seeds, s.knobs.len(), s.candidates()), (3, 3, 64));
    for c in [0, 63] {
        let v = s.variant(c);
        let opts = LoadOptions {
            variant: Some(&v),
            ..LoadOptions::default()
        };
        scenario::load_with("docs.toml", &src, &opts).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// compare judges variants by the scenario's objectives, on paired seeds.
#[test]
fn compare_is_goal_aware() {
    let base = tmp("compare");
    let out = base.join("c");
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--out",
        out.to_str().unwrap(),
        "--seeds",
        "3",
        "--set",
        "objectives=[{ metric = \"tasks.wait_p95_ms\", at_most = 300000 }]",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("(3 paired seeds from 2026)"), "{t}");
    assert!(t.contains("goal 1: tasks.wait_p95_ms <= 300000"), "{t}");
    assert!(
        t.contains("verdict: fargate-spot is the cheapest variant that meets every objective"),
        "{t}"
    );
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "cost_monthly_usd",
        "availability_pct",
        "unserved_request_pct",
        "objective.tasks.wait_p95_ms.met",
        "meets_objectives",
        "cost_monthly_diff_usd.ci95_low",
    ] {
        assert!(header.split(',').any(|c| c == col), "no {col} in {header}");
    }
    // EC2 with its fleet busy at night misses the wait objective.
    let row = csv.lines().find(|l| l.starts_with("ec2-spot,")).unwrap();
    assert!(row.contains(",no,no,"), "{row}");
    // No variant meets an impossible objective: the verdict says so.
    let o = ecsim(&[
        "compare",
        "scenarios/fargate-vs-ec2.toml",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "objectives=[{ metric = \"cost_monthly_usd\", at_most = 1 }]",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("verdict: no variant meets every objective; closest: "),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(base);
}
