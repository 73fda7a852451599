//! `ecsim audit`: run a scenario once plainly and K more times with the events of each instant
//! in a seeded random order, and say which summary metrics depend on that order.

use std::path::PathBuf;

use anyhow::{Context, Result};
use rayon::prelude::*;

use ecsim_model::audit;
use ecsim_model::record::Summary;
use ecsim_model::scenario::Scenario;

use crate::error::{CliError, CliResult, FAILURE};

#[derive(clap::Args)]
/// Audit a scenario for order dependence: rerun it with same-instant events shuffled and report
/// which summary metrics change and where the event logs first diverge. Writes no files.
#[command(
    after_help = "Only the order of events at the same millisecond changes, and not where a documented\nsame-instant rule fixes it (the end of the run comes first). Exit status 0 whatever is found,\nunless --strict: then 1 when a metric changes.\n\nExamples:\n  ecsim audit scenarios/quickstart.toml\n  ecsim audit scenarios/flash-sale.toml --shuffles 16 --threads 2\n  ecsim audit scenarios/az-outage.toml --strict"
)]
pub struct Args {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// How many shuffled runs, besides the plain one.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    shuffles: u32,
    /// Run seed [default: the scenario's `seed`, else 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Override any scenario field (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Exit with status 1 when any summary metric depends on the order.
    #[arg(long)]
    strict: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    input: super::InputArgs,
}

/// A shuffled run's summary and the first instant its events differ from the plain run's.
type Shuffled = (Summary, Option<u64>);

/// The plain run, then every shuffle in parallel; results in shuffle order whatever the thread
/// count.
fn audit_runs(
    sc: &Scenario,
    seed: u64,
    shuffles: u32,
    threads: Option<usize>,
) -> Result<(Summary, Vec<Shuffled>)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let (plain, instants) = audit::plain_run(sc, seed);
    let shuffled = pool.install(|| {
        (0..shuffles)
            .into_par_iter()
            .map(|k| audit::shuffled_run(sc, seed, k, &instants))
            .collect()
    });
    Ok((plain, shuffled))
}

/// Run the audit and print it.
pub fn exec(args: Args) -> CliResult {
    let sc = match super::load(&args.scenario, &args.sets, &args.input)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    let seed = args.seed.unwrap_or(sc.seed);
    let (plain, runs) = audit_runs(&sc, seed, args.shuffles, args.threads)?;
    let summaries: Vec<Summary> = runs.iter().map(|r| r.0.clone()).collect();
    let divergences: Vec<Option<u64>> = runs.iter().map(|r| r.1).collect();
    let changes = audit::metric_changes(&plain, &summaries);
    let compared = audit::compared_metrics(&plain);
    if !args.quiet {
        print!(
            "{}",
            ecsim_reports::audit_text(&ecsim_reports::AuditResult {
                scenario: &sc.name,
                seed,
                compared,
                changes: &changes,
                divergences: &divergences,
            })
        );
    }
    if args.strict && !changes.is_empty() {
        return Err(CliError::code(FAILURE));
    }
    Ok(())
}
