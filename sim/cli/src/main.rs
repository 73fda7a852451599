//! `ecsim`: the command line. Glue only: parse arguments, read files, call the model, hand
//! results to `reports`, write files atomically, print, and choose the exit code
//! (0 ok, 1 validation or run failure, 2 usage).
//!
//! Each subcommand lives in its own module under [`commands`] with its arguments and its
//! `exec`; this file parses and dispatches. Commands return [`error::CliResult`], whose error
//! carries the exit code.
// No unsafe code here: the workspace denies it, and only `ecsim_prefetch` allows it.
#![forbid(unsafe_code)]
// Doc comments here are clap's --help text, written for a terminal, not rustdoc Markdown.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod commands;
mod error;
mod output;
mod progress;
mod report_files;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{audit, compare, import, merge, report, run, size, sweep, validate};

const EXAMPLES: &str = "\
Examples (one per command; `ecsim help COMMAND` shows more):
  ecsim run scenarios/quickstart.toml                  # writes out/quickstart/
  ecsim run scenarios/flash-sale.toml --report         # also charts/ and report.html
  ecsim compare scenarios/fargate-vs-ec2.toml          # one workload, several set-ups
  ecsim sweep scenarios/sweeps/placement-strategies.toml
  ecsim merge shards/* --out merged                    # sweep shards into one
  ecsim report out/flash-sale                          # charts and report.html of a folder
  ecsim validate scenarios/*.toml
  ecsim size scenarios/sizing/web-batch-ec2-spot.toml  # cheapest set-up meeting the objectives
  ecsim audit scenarios/spot-storm.toml                # does a result depend on same-instant order?
  ecsim import scenarios/ecs-json/ -o my.toml          # a scenario from ECS JSON";

/// Examples of `ecsim run`.
pub const RUN_EXAMPLES: &str = "\
Examples:
  ecsim run scenarios/quickstart.toml
  ecsim run scenarios/flash-sale.toml --report -q
  ecsim run scenarios/bench/steady-binpack.toml --no-events --no-tasks
  ecsim run scenarios/bench/steady-binpack.toml --set clusters[0].count=1000 \\
      --set jobs[0].arrival.count=100000 --set jobs[0].arrival.rate_per_s=0.82963
  ecsim run scenarios/placement-spread-vs-binpack.toml --seed 7 --out /tmp/run7
  ecsim run scenarios/placement-memberof.toml --explain      # also placements.csv, decisions.csv
  ecsim run scenarios/spot-storm.toml --shuffle 1            # the order of audit shuffle 1
  ecsim run scenarios/az-outage.toml --fork-at 1h            # the same files, through a fork";

/// A deterministic discrete-event simulator of Amazon ECS clusters: run scenarios, compare
/// set-ups, sweep parameters over many seeds, and draw reports.
#[derive(Parser)]
#[command(name = "ecsim", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Each command's help (about, examples) is on its `Args` in `commands/`.
#[derive(Subcommand)]
enum Command {
    Run(run::Args),
    Compare(compare::Args),
    Size(size::Args),
    Sweep(sweep::Args),
    Merge(merge::Args),
    Report(report::Args),
    Validate(validate::Args),
    Audit(audit::Args),
    Import(import::Args),
}

fn main() -> ExitCode {
    output::handle_signals();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::exec(args),
        Command::Compare(args) => compare::exec(args),
        Command::Size(args) => size::exec(args),
        Command::Sweep(args) => sweep::exec(args),
        Command::Merge(args) => merge::exec(args),
        Command::Report(args) => report::exec(args),
        Command::Validate(args) => validate::exec(args),
        Command::Audit(args) => audit::exec(args),
        Command::Import(args) => import::exec(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
