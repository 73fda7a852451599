//! Load arbitrary bytes as a scenario (or a sweep) the way `ecsim` does, and when it validates,
//! run it briefly with the whole-run invariants checked. Any panic, hang or broken invariant is
//! a finding; add its reproducer to `sim/model/tests/corpus/` with the error it must give.
#![no_main]

use ecsim_model::input;
use ecsim_model::record::Sink;
use ecsim_model::scenario::{self, LoadOptions};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::sweep;
use libfuzzer_sys::fuzz_target;

struct Null;
impl Sink for Null {}

/// Short runs: a few thousand events and a few simulated hours at most.
/// Larger fleets are loaded but not run.
const MAX_INSTANCES: u64 = 200;

const SETS: [&str; 2] = ["simulation.max_events=5000", "simulation.max_time=\"6h\""];

fuzz_target!(|data: &[u8]| {
    if data.len() as u64 > input::DEFAULT_MAX_INPUT_BYTES {
        return;
    }
    let Ok(src) = input::decode("fuzz.toml", data.to_vec()) else {
        return;
    };
    if sweep::looks_like_sweep(&src) {
        let _ = sweep::load_with("fuzz.toml", &src, 1_000);
        return;
    }
    let reader = |_: &str| -> Result<String, String> { Err("no files while fuzzing".into()) };
    let sets: Vec<String> = SETS.iter().map(|s| s.to_string()).collect();
    let opts = LoadOptions {
        sets: &sets,
        read_file: Some(&reader),
        ..LoadOptions::default()
    };
    let _ = scenario::variants("fuzz.toml", &src);
    if let Ok(sc) = scenario::load_with("fuzz.toml", &src, &opts) {
        // Checking the invariants costs time per instance after every event: keep runs small.
        let instances: u64 = sc
            .clusters
            .iter()
            .flat_map(|c| &c.groups)
            .map(|g| u64::from(g.count.max(g.max_size)))
            .sum();
        if instances > MAX_INSTANCES {
            return;
        }
        let opts = RunOptions {
            seed: sc.seed,
            check_invariants: true,
        };
        let _ = sim::run(&sc, opts, Null);
    }
});
