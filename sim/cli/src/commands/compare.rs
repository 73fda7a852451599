//! `ecsim compare`: run one workload under several set-ups (`[[variants]]`) with the same seed
//! and write `compare.csv`, `compare.txt` and each variant's `summary.json` and `cost.csv`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use rayon::prelude::*;

use ecsim_model::record::Summary;
use ecsim_model::scenario::{self, Scenario, Variant};
use ecsim_model::sim::{self, RunOptions};
use ecsim_reports::{Comparison, VariantResult};

/// Confidence of the one-sided bounds objectives are judged by over several seeds.
const CONFIDENCE: f64 = 0.95;

use crate::error::{CliError, CliResult, FAILURE};
use crate::output;

#[derive(clap::Args)]
/// Run one workload under several set-ups ([[variants]]) and compare cost, utilisation and waiting.
#[command(
    after_help = "Examples:\n  ecsim compare scenarios/fargate-vs-ec2.toml\n  ecsim compare scenarios/spot-mix.toml --seed 7 --threads 2\n  ecsim compare my-workload.toml --variants my-variants.toml --out /tmp/cmp\n  ecsim compare scenarios/what-if-az-outage.toml --fork-at 11h   # the morning once, then each variant"
)]
pub struct Args {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Variants file ([[variants]] tables) [default: the scenario's own [[variants]]].
    #[arg(long, value_name = "FILE")]
    variants: Option<PathBuf>,
    /// Output folder [default: out/<scenario name>-compare].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace DIR even if ecsim did not write it (no .ecsim file in it): a folder with
    /// everything in it, a file or a symbolic link. Never `/`, the home or current folder, the
    /// folder of an input file or a parent of one, nor a device.
    #[arg(long)]
    force: bool,
    /// Run seed, the same for every variant [default: the scenario's].
    #[arg(long)]
    seed: Option<u64>,
    /// Override a field in every variant (applied after the variant's own overrides).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Run each variant on N paired seeds (derived from the seed; seed r is the same for
    /// every variant) and judge objectives by one-sided 95 % bounds over them.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    seeds: u32,
    /// Run the scenario (without any variant's overrides) up to this simulated time once, then
    /// each variant from a copy of that state, its overrides applied at that time: only what a
    /// running cluster can take (desired counts, placement strategies, auto scaling targets and
    /// bounds, capacity provider weights, actions and failures from then on, larger instance
    /// groups); anything else is refused, by name.
    #[arg(long, value_name = "TIME", value_parser = super::fork_time)]
    fork_at: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    input: super::InputArgs,
}

/// The variants, from `--variants FILE` or the scenario itself.
fn read_variants(args: &Args) -> Result<Vec<Variant>, CliError> {
    let (vfile, vsrc) = match &args.variants {
        Some(f) => (
            f,
            super::read_input(f, args.input.max_input_bytes, "variants file")?,
        ),
        None => (
            &args.scenario,
            super::read_input(&args.scenario, args.input.max_input_bytes, "scenario")?,
        ),
    };
    let variants = match scenario::variants(&vfile.display().to_string(), &vsrc) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return Err(CliError::code(FAILURE));
        }
    };
    // Each variant's files go into `variants/<name>/`: a name must be one folder name, or it
    // could point outside the output folder.
    for v in &variants {
        output::check_folder_name("variant name", &v.name)
            .with_context(|| format!("{}", vfile.display()))?;
    }
    let mut seen = std::collections::HashSet::new();
    for v in &variants {
        if !seen.insert(v.name.to_lowercase()) {
            return Err(anyhow!(
                "{}: two variants are named {:?} (names must differ, also in case: each names a folder)",
                vfile.display(),
                v.name
            )
            .into());
        }
    }
    if variants.is_empty() {
        return Err(anyhow!(
            "{} declares no [[variants]]; add some (name, description, set = {{ \"path\" = value }}) or pass --variants FILE",
            vfile.display()
        )
        .into());
    }
    Ok(variants)
}

/// Each variant's scenario; every problem of every variant is printed before failing.
fn load_variants(args: &Args, variants: &[Variant]) -> Result<Vec<Scenario>, CliError> {
    let mut loaded = Vec::new();
    let mut failed = false;
    for v in variants {
        match super::load_variant(&args.scenario, &args.sets, Some(v), &args.input)? {
            Ok(sc) => {
                super::print_warnings(&args.scenario, Some(&v.name), &sc, args.quiet);
                loaded.push(sc)
            }
            Err(msg) => {
                eprintln!("variant {}:\n{msg}", v.name);
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::code(FAILURE));
    }
    Ok(loaded)
}

/// `--fork-at`: the scenario without any variant's overrides, the prefix every variant shares;
/// every variant's change that a fork cannot take is printed before failing.
fn base_for_fork(args: &Args, loaded: &[Scenario], at_ms: u64) -> Result<Scenario, CliError> {
    let base = match super::load_variant(&args.scenario, &args.sets, None, &args.input)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    let variants = read_variants(args)?;
    let mut failed = false;
    for (v, sc) in variants.iter().zip(loaded) {
        for p in sim::fork::problems(&base, sc, at_ms) {
            eprintln!(
                "{}",
                ecsim_reports::escape::terminal(&format!(
                    "error: {}: variant {}: cannot fork at {}: {p}",
                    args.scenario.display(),
                    v.name,
                    ecsim_engine::format_duration(at_ms)
                ))
            );
            failed = true;
        }
    }
    if failed {
        return Err(CliError::code(FAILURE));
    }
    Ok(base)
}

/// The run seeds: the seed itself for one, else seeds derived from it (paired across variants).
pub fn run_seeds(seed: u64, n: u32) -> Vec<u64> {
    if n == 1 {
        vec![seed]
    } else {
        (0..n)
            .map(|r| ecsim_engine::seed_for_index(seed, u64::from(r)))
            .collect()
    }
}

/// Run every variant on every seed in parallel; results come back in (variant, seed) order
/// whatever the thread count.
fn run_variants(
    args: &Args,
    loaded: &[Scenario],
    seeds: &[u64],
    progress: &crate::progress::Line,
) -> Result<Vec<(Summary, Vec<u8>)>> {
    let threads = args.threads;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let jobs: Vec<(&Scenario, u64)> = loaded
        .iter()
        .flat_map(|sc| seeds.iter().map(move |&s| (sc, s)))
        .collect();
    pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .map(|(k, &(sc, seed))| {
                let sink = ecsim_reports::CsvSink::new(None, None, None, Some(Vec::new()));
                let opts = RunOptions {
                    seed,
                    check_invariants: false,
                };
                let traces = super::open_traces(&args.scenario, &args.input, sc)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let mut p = progress.run(k);
                let with = sim::RunWith {
                    progress: Some(&mut p),
                    traces: Some(traces),
                    shuffle: None,
                };
                let (summary, sink) = sim::run_with(sc, opts, sink, with);
                let cost = sink.into_writers().context("writing cost.csv")?.cost;
                Ok((summary, cost.unwrap_or_default()))
            })
            .collect()
    })
}

/// `--fork-at`: per seed, the shared prefix of `base` once, then every variant's branch; results
/// in (variant, seed) order whatever the thread count.
fn run_forked(
    args: &Args,
    base: &Scenario,
    loaded: &[Scenario],
    seeds: &[u64],
    at_ms: u64,
    progress: &crate::progress::Line,
) -> Result<Vec<(Summary, Vec<u8>)>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let per_seed: Vec<Vec<(Summary, Vec<u8>)>> = pool.install(|| {
        seeds
            .par_iter()
            .enumerate()
            .map(|(r, &seed)| -> Result<Vec<(Summary, Vec<u8>)>> {
                let opts = RunOptions {
                    seed,
                    check_invariants: false,
                };
                let branches = loaded
                    .iter()
                    .map(|sc| {
                        (
                            sc,
                            ecsim_reports::CsvSink::new(None, None, None, Some(Vec::new())),
                        )
                    })
                    .collect();
                let branches = sim::fork::fork(base, branches, opts, at_ms).map_err(|e| {
                    anyhow!(
                        "cannot fork at {}:\n{e}",
                        ecsim_engine::format_duration(at_ms)
                    )
                })?;
                branches
                    .into_par_iter()
                    .enumerate()
                    .map(|(v, b)| {
                        let mut p = progress.run(v * seeds.len() + r);
                        let (summary, sink) = b.run(Some(&mut p));
                        let cost = sink.into_writers().context("writing cost.csv")?.cost;
                        Ok((summary, cost.unwrap_or_default()))
                    })
                    .collect()
            })
            .collect::<Result<_>>()
    })?;
    // (seed, variant) -> (variant, seed)
    let mut out = Vec::with_capacity(loaded.len() * seeds.len());
    for v in 0..loaded.len() {
        for runs in &per_seed {
            out.push(runs[v].clone());
        }
    }
    Ok(out)
}

/// Each variant's `summary.json` and `cost.csv` (of the first seed) under `variants/<name>/`.
fn write_variants(
    dir: &Path,
    variants: &[Variant],
    results: &[(Summary, Vec<u8>)],
    seeds: usize,
) -> Result<()> {
    for (v, (summary, cost)) in variants.iter().zip(results.iter().step_by(seeds)) {
        let dir = dir.join("variants").join(&v.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(
            dir.join("summary.json"),
            ecsim_reports::summary_json(summary),
        )?;
        std::fs::write(dir.join("cost.csv"), cost)?;
    }
    Ok(())
}

/// Run the variants, write the comparison into a staging folder, move it into place, print it.
pub fn exec(args: Args) -> CliResult {
    super::QUIET.store(args.quiet, std::sync::atomic::Ordering::Relaxed);
    let variants = read_variants(&args)?;
    let loaded = load_variants(&args, &variants)?;
    let seed = args.seed.unwrap_or(loaded[0].seed);
    let name = format!("{}-compare", loaded[0].name);
    let final_dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            output::check_folder_name("the scenario's name", &loaded[0].name)?;
            Path::new("out").join(&name)
        }
    };
    let mut own: Vec<&Path> = vec![&args.scenario];
    own.extend(args.variants.as_deref());
    let all = super::all_inputs(&own);
    let inputs: Vec<&Path> = all.iter().map(|p| p.as_path()).collect();
    let staging = output::Staging::new(
        &final_dir,
        &output::Marker::new("compare", None),
        args.force,
        &inputs,
    )?;
    let seeds = run_seeds(seed, args.seeds);
    let line = crate::progress::Line::new(
        crate::progress::wanted(args.quiet),
        loaded.len() * seeds.len(),
    );
    let results = match args.fork_at {
        None => run_variants(&args, &loaded, &seeds, &line),
        Some(at) => run_forked(
            &args,
            &base_for_fork(&args, &loaded, at)?,
            &loaded,
            &seeds,
            at,
            &line,
        ),
    };
    line.finish();
    let results = results?;
    write_variants(staging.path(), &variants, &results, seeds.len())?;
    let summaries: Vec<Summary> = results.iter().map(|r| r.0.clone()).collect();
    let comparison = Comparison {
        scenario: &loaded[0].name,
        seed,
        variants: variants
            .iter()
            .zip(summaries.chunks(seeds.len()))
            .map(|(v, runs)| VariantResult {
                name: &v.name,
                description: &v.description,
                summary: &runs[0],
                runs,
            })
            .collect(),
        objectives: &loaded[0].objectives,
        confidence: CONFIDENCE,
    };
    std::fs::write(
        staging.path().join("compare.csv"),
        ecsim_reports::compare_csv(&comparison).context("writing compare.csv")?,
    )
    .context("writing compare.csv")?;
    let mut text = ecsim_reports::compare_text(&comparison);
    if let Some(at) = args.fork_at {
        text.push_str(&format!(
            "forked at {}: the scenario without any variant's overrides ran up to then once per seed; each variant's overrides apply from then on\n",
            ecsim_engine::format_duration(at)
        ));
    }
    std::fs::write(staging.path().join("compare.txt"), &text).context("writing compare.txt")?;
    staging.commit()?;
    if !args.quiet {
        print!("{text}");
        println!(
            "output: {}/ (compare.csv, compare.txt, variants/<name>/summary.json and cost.csv)",
            final_dir.display()
        );
    }
    Ok(())
}
