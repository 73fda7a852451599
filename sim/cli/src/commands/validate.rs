//! `ecsim validate`: check scenario and sweep files and report every problem with its line and
//! column: a scenario with each of its `[[variants]]`, a sweep with its base scenario at every
//! grid point.

use std::path::{Path, PathBuf};

use ecsim_model::scenario;
use ecsim_model::sweep;

use crate::error::{CliError, CliResult, FAILURE};

#[derive(clap::Args)]
/// Check scenario and sweep files and report every problem with its line and column.
#[command(
    after_help = "Examples:\n  ecsim validate scenarios/quickstart.toml\n  ecsim validate scenarios/*.toml scenarios/sweeps/*.toml\n  ecsim validate scenarios/quickstart.toml --set clusters[0].count=200"
)]
pub struct Args {
    /// Scenario or sweep files.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Override a field before validating (as with `run`; scenarios only).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Refuse a sweep of more runs (grid points x seeds) than this (as with `sweep`).
    #[arg(long, value_name = "N", default_value_t = sweep::DEFAULT_MAX_RUNS)]
    max_runs: u64,
    #[command(flatten)]
    input: super::InputArgs,
}

/// Validate every file, print each one's verdict, fail if any has a problem.
pub fn exec(args: Args) -> CliResult {
    let mut failed = 0;
    for p in &args.scenarios {
        let src = match super::read_input(p, args.input.max_input_bytes, "scenario") {
            Ok(src) => src,
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
                continue;
            }
        };
        let ok = if sweep::looks_like_sweep(&src) {
            validate_sweep(p, &args)
        } else {
            validate_scenario(p, &src, &args)
        };
        if !ok {
            failed += 1;
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::code(FAILURE))
    }
}

/// A scenario, then each of its `[[variants]]` (as `ecsim compare` loads them).
fn validate_scenario(p: &Path, src: &str, args: &Args) -> bool {
    let sc = match super::load(p, &args.sets, &args.input) {
        Ok(Ok(sc)) => sc,
        Ok(Err(msg)) => {
            eprintln!("{msg}");
            return false;
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return false;
        }
    };
    let variants = match scenario::variants(&p.display().to_string(), src) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return false;
        }
    };
    super::print_warnings(p, None, &sc, false);
    let mut ok = true;
    for v in &variants {
        match super::load_variant(p, &args.sets, Some(v), &args.input) {
            Ok(Ok(vs)) => super::print_warnings(p, Some(&v.name), &vs, false),
            Ok(Err(msg)) => {
                eprintln!("variant {}:\n{msg}", v.name);
                ok = false;
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ok = false;
            }
        }
    }
    // The search space of `ecsim size` (the table itself; size validates every candidate).
    if let Err(diags) = ecsim_model::search::read(&p.display().to_string(), src) {
        for d in &diags {
            eprintln!("error: {d}");
        }
        ok = false;
    }
    if ok {
        let variants = if variants.is_empty() {
            String::new()
        } else {
            format!(", {} variant(s)", variants.len())
        };
        println!(
            "{}: ok ({} cluster(s), {} service(s), {} job(s){variants})",
            p.display(),
            sc.clusters.len(),
            sc.services.len(),
            sc.jobs.len()
        );
    }
    ok
}

/// A sweep file: itself, its base scenario at every grid point, and its metrics.
fn validate_sweep(p: &Path, args: &Args) -> bool {
    let loaded = super::sweep::load_sweep(p, args.max_runs, &args.input)
        .and_then(|(sw, src)| super::sweep::load_grid(p, &sw, &src, &args.input).map(|_| sw));
    let sw = match loaded {
        Ok(sw) => sw,
        Err(e) => {
            if let Some(e) = &e.error {
                eprintln!("error: {e:#}");
            }
            return false;
        }
    };
    println!(
        "{}: ok (sweep of {}: {} grid point(s) x {} seed(s))",
        p.display(),
        sw.scenario,
        sw.points(),
        sw.seeds
    );
    true
}
