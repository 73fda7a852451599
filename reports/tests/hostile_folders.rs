//! `ecsim report` on hostile output folders: the committed corpus in `tests/hostile/` (one folder
//! per case, with an `expect` file: `ok` or `unusable`, then problem prefixes `file:line[:col]`
//! that must be reported), and a seeded, bounded mutation loop over real run outputs made here.
//! Each must give a report or a clean refusal: no panic, every problem placed in its file, every
//! SVG well-formed. No hang: every loop has a fixed number of steps over inputs of bounded size,
//! so the test ends unless the renderer does not (the fuzz target `fuzz/fuzz_targets/report.rs`
//! explores further on nightly).

use std::path::Path;

use ecsim_model::scenario;
use ecsim_model::sim::{self, RunOptions};
use ecsim_reports::report::{self, INPUT_FILES, Rendered, Unusable};
use ecsim_reports::{CsvSink, summary_json};

fn check(what: &str, r: &Result<Rendered, Unusable>) {
    let problems = match r {
        Ok(r) => {
            for c in &r.charts {
                if let Err(e) = roxmltree::Document::parse(&c.svg) {
                    panic!("{what}: chart {} is not well-formed XML: {e}", c.name);
                }
                assert!(
                    c.png.starts_with(b"\x89PNG"),
                    "{what}: chart {} PNG",
                    c.name
                );
            }
            assert!(
                !r.html.contains(['\u{1b}', '\0']),
                "{what}: control character in page"
            );
            &r.problems
        }
        Err(u) => &u.problems,
    };
    for p in problems {
        let s = p.to_string();
        assert!(
            INPUT_FILES.contains(&p.file.as_str()) || p.file.starts_with("charts/"),
            "{what}: problem without its file: {s}"
        );
        assert!(
            !s.contains(['\u{1b}', '\0']),
            "{what}: raw control character in {s:?}"
        );
    }
}

/// Every committed hostile folder gives what its `expect` file says.
#[test]
fn committed_hostile_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "corpus missing: {}", root.display());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let files: Vec<(&str, Vec<u8>)> = INPUT_FILES
            .iter()
            .filter_map(|f| std::fs::read(case.join(f)).ok().map(|b| (*f, b)))
            .collect();
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let r = report::render_folder(&refs);
        check(&name, &r);
        let expect = std::fs::read_to_string(case.join("expect")).unwrap();
        let mut lines = expect.lines();
        let problems = match (lines.next(), &r) {
            (Some("ok"), Ok(r)) => &r.problems,
            (Some("unusable"), Err(u)) => &u.problems,
            (want, _) => panic!("{name}: expected {want:?}, got ok = {}", r.is_ok()),
        };
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        for want in lines {
            assert!(
                shown.iter().any(|s| s.starts_with(want)),
                "{name}: no problem {want:?} in {shown:#?}"
            );
        }
    }
}

/// A run's real output files, as the CLI writes them.
fn run_files(name: &str) -> Vec<(&'static str, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.toml"));
    let src = std::fs::read_to_string(&path).unwrap();
    let sc = scenario::load(&path.display().to_string(), &src, &[]).unwrap();
    let sink = CsvSink::new(None, Some(Vec::new()), None, Some(Vec::new()))
        .with_scaling(Vec::new())
        .with_recovery(Vec::new(), Vec::new());
    let opts = RunOptions {
        seed: sc.seed,
        check_invariants: false,
    };
    let (summary, sink) = sim::run(&sc, opts, sink);
    let w = sink.into_writers().unwrap();
    vec![
        ("summary.json", summary_json(&summary).into_bytes()),
        ("metrics.csv", w.metrics.unwrap()),
        ("cost.csv", w.cost.unwrap()),
        ("scaling.csv", w.scaling.unwrap()),
        ("failures.csv", w.failures.unwrap()),
        ("deployments.csv", w.deployments.unwrap()),
    ]
}

/// A small deterministic generator (xorshift64*), so the loop is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: [&[u8]; 16] = [
    b"inf",
    b"-inf",
    b"NaN",
    b"1e999",
    b"1.7e308",
    b"-1.7e308",
    b"1e-320",
    b"",
    b",,,",
    b"\n",
    b"\"",
    b"\xff\xfe",
    b"\x1b[2J",
    b"\0",
    b"<script>&",
    b"=cmd|' /C calc'!A0",
];

/// One mutation of `b`: a token over a field, a byte flipped, a line dropped or doubled, a cut.
fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    let at = rng.below(b.len() + 1);
    match rng.below(6) {
        0 | 1 => {
            let end = (at..b.len())
                .find(|&i| b[i] == b',' || b[i] == b'\n')
                .unwrap_or(b.len());
            let t = TOKENS[rng.below(TOKENS.len())];
            b.splice(at..end, t.iter().copied());
        }
        2 if !b.is_empty() => {
            let i = at.min(b.len() - 1);
            b[i] ^= 1 << rng.below(8);
        }
        3 => {
            let end = (at..b.len())
                .find(|&i| b[i] == b'\n')
                .map_or(b.len(), |i| i + 1);
            b.drain(at..end);
        }
        4 => {
            let end = (at..b.len())
                .find(|&i| b[i] == b'\n')
                .map_or(b.len(), |i| i + 1);
            let line: Vec<u8> = b[at..end].to_vec();
            b.splice(at..at, line);
        }
        _ => b.truncate(at),
    }
}

/// Seeded mutations of real run outputs (a service with scaling and load; failures), and of a
/// sweep's aggregate: a fixed number of rounds, each checked like the corpus.
#[test]
fn mutated_real_outputs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let bases = [run_files("flash-sale"), run_files("az-outage")];
    let aggregate: &[u8] = b"point,param.strategy,param.n,runs,cost_total_usd.mean,cost_total_usd.std,cost_total_usd.ci95_low,cost_total_usd.ci95_high,cluster.c.cpu_fragmentation_pct.mean,cluster.c.cpu_fragmentation_pct.std,cluster.c.cpu_fragmentation_pct.ci95_low,cluster.c.cpu_fragmentation_pct.ci95_high\n0,binpack,8,20,1.5,0.1,1.4,1.6,20,1,19,21\n1,binpack,16,20,2.5,0.1,2.4,2.6,30,1,29,31\n2,spread,8,20,1.7,0.1,1.6,1.8,50,1,49,51\n3,spread,16,20,2.7,0.1,2.6,2.8,60,1,59,61\n";
    for round in 0..24 {
        let mut files: Vec<(&str, Vec<u8>)> = if round % 4 == 3 {
            vec![("aggregate.csv", aggregate.to_vec())]
        } else {
            bases[round % 2].clone()
        };
        for _ in 0..1 + rng.below(4) {
            let k = rng.below(files.len());
            mutate(&mut rng, &mut files[k].1);
        }
        if rng.below(8) == 0 {
            let k = rng.below(files.len());
            files.remove(k);
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        check(&format!("round {round}"), &report::render_folder(&refs));
    }
}
