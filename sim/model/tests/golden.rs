//! Golden test: every shipped scenario (and every variant of one) keeps its events hash and
//! summary. A change here means the simulation's behaviour changed.
//!
//! The golden files live in `tests/golden/`, one per scenario file. Regenerate them only on
//! purpose, with
//!
//! ```text
//! ECSIM_BLESS=1 cargo test -p ecsim-model --test golden
//! ```
//!
//! and say in the commit message which rule changed the output and why.

use std::path::{Path, PathBuf};

use ecsim_model::record::{Sink, SummaryValue};
use ecsim_model::scenario::{self, LoadOptions, Scenario};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::trace::Traces;

struct Null;
impl Sink for Null {}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every scenario file under `scenarios/`, sorted: not the pricing tables, not sweep files.
fn scenario_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if p.file_name().unwrap() != "pricing" {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|e| e == "toml") {
                let src = std::fs::read_to_string(&p).unwrap();
                if !src.lines().any(|l| l.trim() == "[[parameters]]") {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("scenarios"), &mut out);
    out
}

/// Benchmarks run at the size CI runs them (the full size is for timing, not for tests).
fn reduced(rel: &str) -> Vec<String> {
    if rel.starts_with("bench/") {
        vec![
            "clusters[0].count=1000".into(),
            "jobs[0].arrival.count=20000".into(),
            "jobs[0].arrival.rate_per_s=0.82963".into(),
        ]
    } else {
        Vec::new()
    }
}

/// The scenario's traces, opened relative to its folder (the CLI's job in a real run).
fn traces(dir: &Path, sc: &Scenario) -> Traces {
    Traces::open(sc, |spec| {
        let f = std::fs::File::open(dir.join(&spec.file)).map_err(|e| e.to_string())?;
        Ok(Box::new(std::io::BufReader::new(f)))
    })
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn describe(label: &str, sc: &Scenario, dir: &Path) -> String {
    let (summary, _) = sim::run_traced(
        sc,
        RunOptions {
            seed: sc.seed,
            check_invariants: false,
        },
        Null,
        traces(dir, sc),
    );
    let mut out = format!("## {label}\n");
    for (k, v) in summary.fields() {
        if k == "wall_ms" {
            continue;
        }
        let v = match v {
            SummaryValue::Int(i) => i.to_string(),
            SummaryValue::Float(f) => format!("{f:?}"),
            SummaryValue::Str(t) => format!("{t:?}"),
        };
        out.push_str(&format!("{k} = {v}\n"));
    }
    out
}

fn golden_text(path: &Path, rel: &str) -> String {
    let src = std::fs::read_to_string(path).unwrap();
    let sets = reduced(rel);
    let dir = path.parent().unwrap().to_path_buf();
    let reader = |name: &str| -> Result<String, String> {
        std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
    };
    let load = |variant: Option<&scenario::Variant>| {
        let opts = LoadOptions {
            sets: &sets,
            variant,
            read_file: Some(&reader),
            ..LoadOptions::default()
        };
        scenario::load_with(rel, &src, &opts).unwrap_or_else(|e| panic!("{e}"))
    };
    let mut text = describe("base", &load(None), &dir);
    for v in scenario::variants(rel, &src).unwrap_or_else(|e| panic!("{e}")) {
        text.push('\n');
        let sc = load(Some(&v));
        text.push_str(&describe(&format!("variant {}", v.name), &sc, &dir));
    }
    text
}

#[test]
fn every_scenario_keeps_its_events_hash_and_summary() {
    let bless = std::env::var_os("ECSIM_BLESS").is_some();
    let root = repo_root().join("scenarios");
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = Vec::new();
    let files = scenario_files();
    assert!(files.len() >= 10, "found only {} scenarios", files.len());
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let got = golden_text(&path, &rel);
        let gold = golden_dir.join(rel.replace('/', "__").replace(".toml", ".txt"));
        if bless {
            std::fs::write(&gold, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&gold) {
            Ok(want) if want == got => {}
            Ok(want) => {
                let diff: Vec<String> = want
                    .lines()
                    .zip(got.lines())
                    .filter(|(a, b)| a != b)
                    .take(8)
                    .map(|(a, b)| format!("    want {a}\n    got  {b}"))
                    .collect();
                failures.push(format!("{rel}:\n{}", diff.join("\n")));
            }
            Err(_) => failures.push(format!("{rel}: no golden file {}", gold.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "outputs changed (regenerate with ECSIM_BLESS=1 only if the change is intended):\n{}",
        failures.join("\n")
    );
}
