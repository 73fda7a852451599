//! `ecsim`: the command line. Glue only: parse arguments, read files, call the model, hand
//! results to `reports`, write files atomically, print, and choose the exit code
//! (0 ok, 1 validation or run failure, 2 usage).

// Doc comments here are clap's --help text, written for a terminal, not rustdoc Markdown.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod output;
mod report;
mod sweep;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

const EXAMPLES: &str = "\
Examples:
  ecsim run scenarios/quickstart.toml
  ecsim run scenarios/bench/steady-binpack.toml --no-events --no-tasks
  ecsim run scenarios/bench/steady-binpack.toml --set clusters[0].count=1000 \\
      --set jobs[0].arrival.count=100000 --set jobs[0].arrival.rate_per_s=0.82963
  ecsim run scenarios/placement-spread-vs-binpack.toml --seed 7 --out /tmp/run7
  ecsim validate scenarios/*.toml scenarios/bench/*.toml";

/// A deterministic discrete-event simulator of Amazon ECS clusters.
#[derive(Parser)]
#[command(name = "ecsim", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write events.csv, tasks.csv, metrics.csv and summary.json.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Run one workload under several set-ups ([[variants]]) and compare cost, utilisation and waiting.
    #[command(
        after_help = "Examples:\n  ecsim compare scenarios/fargate-vs-ec2.toml\n  ecsim compare scenarios/spot-mix.toml --seed 7 --threads 2\n  ecsim compare my-workload.toml --variants my-variants.toml --out /tmp/cmp"
    )]
    Compare(CompareArgs),
    /// Run a parameter sweep: a grid of scenario variations x seeds, in parallel.
    #[command(
        after_help = "Examples:\n  ecsim sweep scenarios/sweeps/placement-strategies.toml\n  ecsim sweep scenarios/sweeps/target-value.toml --threads 2 --resume\n  ecsim sweep my-sweep.toml --shard 0/4 --out shard0      # one machine of four\n  ecsim sweep my-sweep.toml --shard auto --out shard-$SLURM_ARRAY_TASK_ID   # inside a Slurm array"
    )]
    Sweep {
        /// The sweep file (TOML).
        file: PathBuf,
        /// Output folder [default: out/<sweep name>].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Worker threads [default: all cores]. Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Keep the runs already finished in the output folder and do only the rest.
        #[arg(long)]
        resume: bool,
        /// Only every N-th run from the I-th (0-based): I/N, or auto (Slurm, AWS Batch, Kubernetes).
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// No progress bar, no summary.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Combine sweep output folders (shards) into one runs.csv and aggregate.csv.
    Merge {
        /// Sweep output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write runs.csv and aggregate.csv.
        #[arg(long, value_name = "DIR", default_value = "out/merged")]
        out: PathBuf,
    },
    /// Draw the charts (charts/*.svg, *.png) and the self-contained report.html of a run's output folder.
    #[command(
        after_help = "Examples:\n  ecsim run scenarios/flash-sale.toml --out out/flash-sale\n  ecsim report out/flash-sale          # then open out/flash-sale/report.html\n  ecsim run scenarios/az-outage.toml --report   # the same in one step"
    )]
    Report {
        /// A folder written by `ecsim run` (or a sweep folder, with aggregate.csv).
        dir: PathBuf,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check scenario files and report every problem with its line and column.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Override a field before validating (as with `run`).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
    },
}

#[derive(Args)]
struct CompareArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Variants file ([[variants]] tables) [default: the scenario's own [[variants]]].
    #[arg(long, value_name = "FILE")]
    variants: Option<PathBuf>,
    /// Output folder [default: out/<scenario name>-compare].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run seed, the same for every variant [default: the scenario's].
    #[arg(long)]
    seed: Option<u64>,
    /// Override a field in every variant (applied after the variant's own overrides).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Output folder [default: out/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
    /// Also draw charts/ (SVG and PNG) and report.html (as `ecsim report` does).
    #[arg(long)]
    report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Compare(args) => compare(args),
        Command::Sweep {
            file,
            out,
            threads,
            resume,
            shard,
            quiet,
        } => (|| {
            let shard = shard
                .map(|s| sweep::parse_shard(&s, &|k| std::env::var(k).ok()))
                .transpose()?;
            sweep::run(sweep::SweepOptions {
                file,
                out,
                threads,
                resume,
                shard,
                quiet,
            })
        })(),
        Command::Merge { dirs, out } => sweep::build_tables(&dirs, &out).map(|n| {
            println!(
                "ecsim merge: {n} runs from {} folder(s) into {}/runs.csv and aggregate.csv (charts: ecsim report {})",
                dirs.len(),
                out.display(),
                out.display()
            );
            ExitCode::SUCCESS
        }),
        Command::Report { dir, quiet } => report_command(&dir, quiet),
        Command::Validate { scenarios, sets } => validate(&scenarios, &sets),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn report_command(dir: &Path, quiet: bool) -> Result<ExitCode> {
    let rendered = if dir.join("summary.json").is_file() || !dir.join("aggregate.csv").is_file() {
        report::render_run(dir)?
    } else {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("sweep");
        report::render_sweep(dir, name, &[])?
    };
    output::remove_on_interrupt(&dir.join(format!(".report.partial-{}", std::process::id())));
    report::write(dir, &rendered)?;
    output::forget();
    if !quiet {
        println!(
            "ecsim report: {}/report.html and {} charts in {}/charts/ (SVG and PNG)",
            dir.display(),
            rendered.charts.len(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Read and validate a scenario; `Err` carries every diagnostic, already formatted.
fn load(path: &Path, sets: &[String]) -> Result<std::result::Result<Scenario, String>> {
    load_variant(path, sets, None)
}

/// Read a file the scenario names, relative to the scenario's folder.
pub(crate) fn relative_reader(
    scenario: &Path,
) -> impl Fn(&str) -> std::result::Result<String, String> + '_ {
    move |name: &str| {
        let p = scenario.parent().unwrap_or(Path::new(".")).join(name);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    }
}

/// Read and validate a scenario with a variant's overrides.
fn load_variant(
    path: &Path,
    sets: &[String],
    variant: Option<&scenario::Variant>,
) -> Result<std::result::Result<Scenario, String>> {
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))?;
    let reader = relative_reader(path);
    let opts = scenario::LoadOptions {
        sets,
        variant,
        read_file: Some(&reader),
    };
    Ok(scenario::load_with(&path.display().to_string(), &src, &opts).map_err(|e| e.to_string()))
}

fn validate(paths: &[PathBuf], sets: &[String]) -> Result<ExitCode> {
    let mut failed = 0;
    for p in paths {
        match load(p, sets) {
            Ok(Ok(sc)) => println!(
                "{}: ok ({} cluster(s), {} service(s), {} job(s))",
                p.display(),
                sc.clusters.len(),
                sc.services.len(),
                sc.jobs.len()
            ),
            Ok(Err(msg)) => {
                eprintln!("{msg}");
                failed += 1;
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn compare(args: CompareArgs) -> Result<ExitCode> {
    use rayon::prelude::*;
    let (vfile, vsrc) = match &args.variants {
        Some(f) => (
            f.clone(),
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read variants file {}", f.display()))?,
        ),
        None => (
            args.scenario.clone(),
            std::fs::read_to_string(&args.scenario)
                .with_context(|| format!("cannot read scenario {}", args.scenario.display()))?,
        ),
    };
    let variants = match scenario::variants(&vfile.display().to_string(), &vsrc) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    if variants.is_empty() {
        eprintln!(
            "error: {} declares no [[variants]]; add some (name, description, set = {{ \"path\" = value }}) or pass --variants FILE",
            vfile.display()
        );
        return Ok(ExitCode::from(1));
    }
    let mut loaded = Vec::new();
    let mut failed = false;
    for v in &variants {
        match load_variant(&args.scenario, &args.sets, Some(v))? {
            Ok(sc) => loaded.push(sc),
            Err(msg) => {
                eprintln!("variant {}:\n{msg}", v.name);
                failed = true;
            }
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    let seed = args.seed.unwrap_or(loaded[0].seed);
    let name = format!("{}-compare", loaded[0].name);
    let final_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&name));
    let staging = output::Staging::new(&final_dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    // Indexed parallel map: results come back in variant order whatever the thread count.
    let results: Vec<(ecsim_model::record::Summary, Vec<u8>)> = pool.install(|| {
        loaded
            .par_iter()
            .map(|sc| {
                let sink = ecsim_reports::CsvSink::new(None, None, None, Some(Vec::new()));
                let (summary, sink) = sim::run(
                    sc,
                    RunOptions {
                        seed,
                        check_invariants: false,
                    },
                    sink,
                );
                let cost = sink.into_writers().expect("writing to memory").cost;
                (summary, cost.unwrap_or_default())
            })
            .collect()
    });
    for (v, (summary, cost)) in variants.iter().zip(&results) {
        let dir = staging.path().join("variants").join(&v.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(
            dir.join("summary.json"),
            ecsim_reports::summary_json(summary),
        )?;
        std::fs::write(dir.join("cost.csv"), cost)?;
    }
    let rows: Vec<ecsim_reports::VariantResult<'_>> = variants
        .iter()
        .zip(&results)
        .map(|(v, r)| ecsim_reports::VariantResult {
            name: &v.name,
            description: &v.description,
            summary: &r.0,
        })
        .collect();
    std::fs::write(
        staging.path().join("compare.csv"),
        ecsim_reports::compare_csv(&rows).context("writing compare.csv")?,
    )?;
    let text = ecsim_reports::compare_text(&loaded[0].name, seed, &rows);
    std::fs::write(staging.path().join("compare.txt"), &text)?;
    staging.commit()?;
    if !args.quiet {
        print!("{text}");
        println!(
            "output: {}/ (compare.csv, compare.txt, variants/<name>/summary.json and cost.csv)",
            final_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let sc = match load(&args.scenario, &args.sets)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Ok(ExitCode::from(1));
        }
    };
    let seed = args.seed.unwrap_or(sc.seed);
    let final_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&sc.name));
    let staging = output::Staging::new(&final_dir)?;
    let started = Instant::now();
    let open = |name: &str, on: bool| -> Result<Option<std::io::BufWriter<std::fs::File>>> {
        if !on {
            return Ok(None);
        }
        let p = staging.path().join(name);
        let f =
            std::fs::File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
        Ok(Some(std::io::BufWriter::with_capacity(1 << 20, f)))
    };
    let sink = ecsim_reports::CsvSink::new(
        open("events.csv", !args.no_events)?,
        open("metrics.csv", true)?,
        open("tasks.csv", !args.no_tasks)?,
        open("cost.csv", true)?,
    )
    .with_scaling(open("scaling.csv", true)?.expect("always written"))
    .with_recovery(
        open("failures.csv", true)?.expect("always written"),
        open("deployments.csv", true)?.expect("always written"),
    );
    let opts = RunOptions {
        seed,
        check_invariants: args.check_invariants,
    };
    let (mut summary, sink) = sim::run(&sc, opts, sink);
    sink.finish().context("writing the CSV files")?;
    summary.wall_ms = started.elapsed().as_millis() as u64;
    let json = ecsim_reports::summary_json(&summary);
    std::fs::write(staging.path().join("summary.json"), json).context("writing summary.json")?;
    if args.report {
        report::write(staging.path(), &report::render_run(staging.path())?)?;
    }
    staging.commit()?;
    if !args.quiet {
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
        if args.report {
            files.extend(["charts/", "report.html"]);
        }
        let where_ = format!("{}/ ({})", final_dir.display(), files.join(", "));
        print!("{}", ecsim_reports::summary_text(&summary, &where_));
    }
    Ok(ExitCode::SUCCESS)
}
