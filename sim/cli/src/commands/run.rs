//! `ecsim run`: run a scenario and write its tables, `summary.json` and, on request, its report
//! into an output folder that appears only when complete.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use ecsim_model::sim::{self, RunOptions};
use ecsim_reports::CsvSink;

use crate::error::{CliError, CliResult, FAILURE};
use crate::{output, report_files};

#[derive(clap::Args)]
/// Run a scenario and write its output folder: events.csv, tasks.csv, metrics.csv, cost.csv,
/// scaling.csv, failures.csv, deployments.csv and summary.json (with --report also charts/ and
/// report.html, with --explain placements.csv and decisions.csv).
#[command(after_help = crate::RUN_EXAMPLES)]
pub struct Args {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Output folder [default: out/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace DIR even if ecsim did not write it (no .ecsim file in it): a folder with
    /// everything in it, a file or a symbolic link. Never `/`, the home or current folder, the
    /// folder of an input file or a parent of one, nor a device.
    #[arg(long)]
    force: bool,
    /// Run seed [default: the scenario's `seed`, else 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Override any scenario field, e.g. --set clusters[0].count=200 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Do not write events.csv (the largest file).
    #[arg(long)]
    no_events: bool,
    /// Do not write tasks.csv.
    #[arg(long)]
    no_tasks: bool,
    /// Check whole-run invariants after every event (slow; for debugging).
    #[arg(long)]
    check_invariants: bool,
    /// Also write placements.csv: every placement attempt explained (instances entering each
    /// stage of the pipeline, how many each removed and why, the strategy tiers, the choice),
    /// and decisions.csv: every other scheduler decision (scale-in, drain and rebalancing stops,
    /// capacity provider choices, service and cluster auto scaling) with the rule that decided.
    /// Scans the cluster per attempt: slower on large clusters.
    #[arg(long)]
    explain: bool,
    /// Process same-instant events in the order of `ecsim audit`'s shuffle K (to look at what
    /// an audit found; the run is as reproducible as a plain one).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    shuffle: Option<u32>,
    /// Run up to this simulated time, copy the whole state there and finish the run from the
    /// copy (what `compare --fork-at` does per variant): the files are the plain run's, byte
    /// for byte. A check of the fork machinery; not for trace jobs.
    #[arg(long, value_name = "TIME", value_parser = super::fork_time, conflicts_with = "shuffle")]
    fork_at: Option<u64>,
    /// Also draw charts/ (SVG and PNG) and report.html (as `ecsim report` does).
    #[arg(long)]
    report: bool,
    /// Print nothing but errors (no summary, no progress line).
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    input: super::InputArgs,
}

/// A sink writing every table the arguments ask for into `dir`.
fn open_sink(dir: &Path, args: &Args) -> Result<CsvSink<BufWriter<File>>> {
    let create = |name: &str| -> Result<BufWriter<File>> {
        let p = dir.join(name);
        let f = File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
        // 64 KiB: a write per 64 KiB costs nothing measurable, and a buffer's pages are all
        // touched once its file passes its size, so 1 MiB buffers made peak memory grow with
        // the output files (issue 12).
        Ok(BufWriter::with_capacity(1 << 16, f))
    };
    let open = |name: &str, on: bool| on.then(|| create(name)).transpose();
    let sink = CsvSink::new(
        open("events.csv", !args.no_events)?,
        open("metrics.csv", true)?,
        open("tasks.csv", !args.no_tasks)?,
        open("cost.csv", true)?,
    )
    .with_scaling(create("scaling.csv")?)
    .with_recovery(create("failures.csv")?, create("deployments.csv")?);
    Ok(if args.explain {
        sink.with_explanations(create("placements.csv")?, create("decisions.csv")?)
    } else {
        sink
    })
}

/// The files the run wrote, for the summary's last line.
fn written_files(args: &Args) -> Vec<&'static str> {
    let mut files: Vec<&str> = Vec::new();
    if !args.no_events {
        files.push("events.csv");
    }
    if !args.no_tasks {
        files.push("tasks.csv");
    }
    files.extend([
        "metrics.csv",
        "cost.csv",
        "scaling.csv",
        "failures.csv",
        "deployments.csv",
        "summary.json",
    ]);
    if args.explain {
        files.extend(["placements.csv", "decisions.csv"]);
    }
    if args.report {
        files.extend(["charts/", "report.html"]);
    }
    files
}

/// Run the scenario into a staging folder, then move it into place and print the summary.
pub fn exec(args: Args) -> CliResult {
    super::QUIET.store(args.quiet, std::sync::atomic::Ordering::Relaxed);
    let sc = match super::load(&args.scenario, &args.sets, &args.input)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    super::print_warnings(&args.scenario, None, &sc, args.quiet);
    let seed = args.seed.unwrap_or(sc.seed);
    let final_dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            output::check_folder_name("the scenario's name", &sc.name)?;
            Path::new("out").join(&sc.name)
        }
    };
    let inputs = super::all_inputs(&[&args.scenario]);
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let staging = output::Staging::new(
        &final_dir,
        &output::Marker::new("run", None),
        args.force,
        &inputs,
    )?;
    let traces = match super::open_traces(&args.scenario, &args.input, &sc) {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    let started = Instant::now();
    let sink = open_sink(staging.path(), &args)?;
    let opts = RunOptions {
        seed,
        check_invariants: args.check_invariants,
    };
    let line = crate::progress::Line::new(crate::progress::wanted(args.quiet), 1);
    let mut progress = line.run(0);
    let (mut summary, sink) = match args.fork_at {
        None => {
            let with = sim::RunWith {
                progress: Some(&mut progress),
                traces: Some(traces),
                shuffle: args.shuffle.map(|k| ecsim_model::audit::salt(seed, k - 1)),
            };
            sim::run_with(&sc, opts, sink, with)
        }
        Some(at) => match sim::fork::fork(&sc, vec![(&sc, sink)], opts, at) {
            Ok(mut branches) => branches.remove(0).run(Some(&mut progress)),
            Err(e) => {
                line.finish();
                eprintln!(
                    "error: {}: cannot fork at {}:\n{}",
                    args.scenario.display(),
                    ecsim_engine::format_duration(at),
                    ecsim_reports::escape::terminal(&e.to_string())
                );
                return Err(CliError::code(FAILURE));
            }
        },
    };
    line.finish();
    sink.finish().context("writing the CSV files")?;
    summary.wall_ms = started.elapsed().as_millis() as u64;
    let json = ecsim_reports::summary_json(&summary);
    std::fs::write(staging.path().join("summary.json"), json).context("writing summary.json")?;
    if args.report {
        report_files::write(staging.path(), &report_files::render_run(staging.path())?)?;
    }
    staging.commit()?;
    if !args.quiet {
        let where_ = format!(
            "{}/ ({})",
            final_dir.display(),
            written_files(&args).join(", ")
        );
        let outcomes = ecsim_model::objectives::evaluate(&sc.objectives, &summary);
        print!(
            "{}",
            ecsim_reports::summary_text_with_objectives(&summary, &outcomes, &where_)
        );
        for line in super::machine_trace_lines(&sc) {
            println!("{line}");
        }
    }
    Ok(())
}
