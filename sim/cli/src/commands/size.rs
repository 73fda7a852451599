//! `ecsim size`: search the knobs of a scenario's `[search]` table for the cheapest
//! configuration that meets every `[[objectives]]` entry with the stated confidence, and write
//! `size.csv`, `frontier.svg`, `answer.toml` and `size.txt`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use rayon::prelude::*;

use ecsim_model::objectives;
use ecsim_model::record::Summary;
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::search::{self, Evaluation, Planner, Search};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::sweep::stats;
use ecsim_reports::size::{SizeResult, SizeRow};

use crate::error::{CliError, CliResult, FAILURE};
use crate::output;

#[derive(clap::Args)]
/// Find the cheapest set-up that meets every objective: search the knobs of the scenario's
/// [search] table (bisection along a monotone knob, enumeration over the others, each candidate
/// on the same paired seeds) and write the answer as a runnable scenario.
#[command(
    after_help = "Examples:\n  ecsim size scenarios/sizing/web-batch-ec2-spot.toml\n  ecsim size scenarios/sizing/bursty-fargate.toml --seeds 3 --out /tmp/size\n  ecsim size my-what-if.toml --fork-at 11h      # candidates judged from 11h on\n\nThe scenario needs [[objectives]] and a [search] table (see docs/scenario.md)."
)]
pub struct Args {
    /// The scenario file (TOML) with [[objectives]] and [search].
    scenario: PathBuf,
    /// Output folder [default: out/<scenario name>-size].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace DIR even if ecsim did not write it (no .ecsim file in it). Never `/`, the home or
    /// current folder, the folder of an input file or a parent of one, nor a device.
    #[arg(long)]
    force: bool,
    /// The seed the candidates' paired seeds derive from [default: the scenario's].
    #[arg(long)]
    seed: Option<u64>,
    /// Seeds per candidate [default: search.seeds, or 5].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    seeds: Option<u32>,
    /// Override a field of the scenario (before the knobs' values).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Per seed, run the scenario (without the knobs' values) up to this simulated time once;
    /// every candidate goes on from a copy of that state with its knob values applied then
    /// (only values a running cluster can take; see `ecsim compare --help`).
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

/// The base scenario, its text and its search; every problem printed.
fn load(args: &Args) -> Result<(Scenario, String, Search), CliError> {
    let src = super::read_input(&args.scenario, args.input.max_input_bytes, "scenario")?;
    let sc = match super::load(&args.scenario, &args.sets, &args.input)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    let file = args.scenario.display().to_string();
    let search = match search::read(&file, &src) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(anyhow!(
                "{file} has no [search] table; add one with [[search.knobs]] (name, paths, values or range, monotone) to say what ecsim size may change"
            )
            .into());
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("error: {d}");
            }
            return Err(CliError::code(FAILURE));
        }
    };
    if sc.objectives.is_empty() {
        return Err(anyhow!(
            "{file} has no [[objectives]]; ecsim size looks for the cheapest set-up that meets them (e.g. [[objectives]] metric = \"service.web.unserved_request_pct\", at_most = 0.1)"
        )
        .into());
    }
    Ok((sc, src, search))
}

/// Load one candidate's scenario (the knob values applied, then `--set`).
fn load_candidate(
    args: &Args,
    src: &str,
    search: &Search,
    c: usize,
) -> std::result::Result<Scenario, String> {
    let reader = super::relative_reader(&args.scenario, &args.input);
    let v = search.variant(c);
    let opts = scenario::LoadOptions {
        sets: &args.sets,
        variant: Some(&v),
        read_file: Some(&reader),
        variant_file: None,
    };
    scenario::load_with(&args.scenario.display().to_string(), src, &opts)
        .map_err(|e| format!("candidate {c} ({}):\n{e}", search.labels(c).join(", ")))
}

/// Validate every candidate before anything runs (the first few problems printed); none is
/// kept in memory: a round loads the few it runs.
fn validate_candidates(args: &Args, src: &str, search: &Search) -> Result<(), CliError> {
    let mut failed = 0;
    for c in 0..search.candidates() {
        if let Err(e) = load_candidate(args, src, search, c) {
            failed += 1;
            if failed <= 5 {
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} candidates are not valid scenarios",
            search.candidates()
        );
        return Err(CliError::code(FAILURE));
    }
    Ok(())
}

/// Run one candidate on seed number `r` (of `seeds`), whose value is `seed`.
type RunFn<'a> = dyn Fn(&Scenario, usize, u64) -> Result<Summary> + Sync + 'a;

/// `--fork-at`: every candidate's scenario (the prefix keeps what any of them needs), each
/// checked against the base; every candidate a fork cannot take is printed before failing.
fn fork_candidates(
    args: &Args,
    src: &str,
    search: &Search,
    base: &Scenario,
    at: u64,
) -> Result<Vec<Scenario>, CliError> {
    let mut out = Vec::new();
    let mut failed = 0;
    for c in 0..search.candidates() {
        let sc = load_candidate(args, src, search, c).map_err(|e| anyhow!(e))?;
        let problems = sim::fork::problems(base, &sc, at);
        if !problems.is_empty() {
            failed += 1;
            if failed <= 5 {
                for p in problems {
                    eprintln!(
                        "{}",
                        ecsim_reports::escape::terminal(&format!(
                            "error: {}: candidate {c} ({}): cannot fork at {}: {p}",
                            args.scenario.display(),
                            search.labels(c).join(", "),
                            ecsim_engine::format_duration(at)
                        ))
                    );
                }
            }
        }
        out.push(sc);
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} candidates cannot fork at {}",
            search.candidates(),
            ecsim_engine::format_duration(at)
        );
        return Err(CliError::code(FAILURE));
    }
    Ok(out)
}

/// Run the search round by round; each round's runs in parallel, recorded in candidate order.
fn search_all(
    load: &(dyn Fn(usize) -> Result<Scenario> + Sync),
    run: &RunFn<'_>,
    objectives: &[ecsim_model::objectives::Objective],
    search: &Search,
    seeds: &[u64],
    confidence: f64,
    quiet: bool,
) -> Result<(Planner, Vec<SizeRow>)> {
    let mut planner = Planner::new(search);
    let mut rows = Vec::new();
    let bar = progress_bar(quiet);
    loop {
        let round = planner.next_round(search);
        if round.is_empty() {
            break;
        }
        let jobs: Vec<(usize, u64)> = round
            .iter()
            .flat_map(|&c| seeds.iter().map(move |&s| (c, s)))
            .collect();
        bar.inc_length(jobs.len() as u64);
        let scenarios: Vec<Scenario> = round.iter().map(|&c| load(c)).collect::<Result<_>>()?;
        let summaries: Vec<Summary> = jobs
            .par_iter()
            .enumerate()
            .map(|(k, &(_, seed))| {
                let s = run(&scenarios[k / seeds.len()], k % seeds.len(), seed)?;
                bar.inc(1);
                Ok(s)
            })
            .collect::<Result<_>>()?;
        let mut results = Vec::new();
        for (&c, runs) in round.iter().zip(summaries.chunks(seeds.len())) {
            let fields: Vec<_> = runs.iter().map(Summary::fields).collect();
            let costs: Vec<f64> = runs
                .iter()
                .map(|s| s.costs.total.usd() * s.month_factor())
                .collect();
            let cost = stats(&costs);
            let judged = objectives::judge(objectives, &fields, confidence);
            rows.push(SizeRow {
                candidate: c,
                round: 0,
                labels: search.labels(c),
                cost,
                objectives: judged.clone(),
            });
            results.push((
                c,
                Evaluation {
                    cost: cost.mean,
                    objectives: judged,
                },
            ));
        }
        planner.record(search, results);
    }
    bar.finish_and_clear();
    // Rounds as the planner numbered them.
    for (row, (_, round, _)) in rows.iter_mut().zip(&planner.evaluated) {
        row.round = *round;
    }
    Ok((planner, rows))
}

fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "size [{bar:40}] {pos}/{len} runs, {elapsed_precise} elapsed",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    b
}

/// The answer's scenario: the scenario's text with the answer's knob values written in.
fn answer_text(src: &str, search: &Search, candidate: usize, labels: &str) -> Result<String> {
    let v = search.variant(candidate);
    let overrides: Vec<_> = v.overrides.into_iter().map(|(_, s, n)| (s, n)).collect();
    let text = scenario::rewrite::with_overrides(src, &overrides).map_err(|e| anyhow!(e))?;
    Ok(format!(
        "# The answer of `ecsim size`: {labels}. The scenario as given, with these knob values\n# written in; run it with `ecsim run` (files it names are relative to this file).\n{text}"
    ))
}

/// Search, then write the files into a staging folder, move it into place and print the answer.
pub fn exec(args: Args) -> CliResult {
    let (sc, src, search) = load(&args)?;
    validate_candidates(&args, &src, &search)?;
    let seed = args.seed.unwrap_or(sc.seed);
    let n_seeds = args.seeds.unwrap_or(search.seeds);
    let search = Search {
        seeds: n_seeds,
        ..search
    };
    let seeds = search.run_seeds(seed);
    let final_dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            output::check_folder_name("the scenario's name", &sc.name)?;
            Path::new("out").join(format!("{}-size", sc.name))
        }
    };
    let all = super::all_inputs(&[&args.scenario]);
    let inputs: Vec<&Path> = all.iter().map(|p| p.as_path()).collect();
    let staging = output::Staging::new(
        &final_dir,
        &output::Marker::new("size", None),
        args.force,
        &inputs,
    )?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let load = |c: usize| load_candidate(&args, &src, &search, c).map_err(|e| anyhow!(e));
    let plain = |sc: &Scenario, _: usize, seed: u64| -> Result<Summary> {
        let opts = RunOptions {
            seed,
            check_invariants: false,
        };
        Ok(sim::run(sc, opts, ecsim_model::record::NullSink).0)
    };
    let candidates = match args.fork_at {
        Some(at) => fork_candidates(&args, &src, &search, &sc, at)?,
        None => Vec::new(),
    };
    let hints: Vec<&Scenario> = candidates.iter().collect();
    let prefixes = match args.fork_at {
        Some(at) => pool.install(|| {
            seeds
                .par_iter()
                .map(|&seed| {
                    let opts = RunOptions {
                        seed,
                        check_invariants: false,
                    };
                    sim::fork::prefix(&sc, &hints, opts, at, ecsim_model::record::NullSink)
                        .map(std::sync::Mutex::new)
                        .map_err(|e| {
                            anyhow!("cannot fork at {}:\n{e}", ecsim_engine::format_duration(at))
                        })
                })
                .collect::<Result<Vec<_>>>()
        })?,
        None => Vec::new(),
    };
    let forked = |sc: &Scenario, r: usize, _: u64| -> Result<Summary> {
        // Placement's tie-break stream is a RefCell: the prefix is copied by one thread at a time.
        let b = prefixes[r]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .branch(sc)
            .map_err(|e| anyhow!("{e}"))?;
        Ok(b.run(None).0)
    };
    let run: &RunFn<'_> = if args.fork_at.is_some() {
        &forked
    } else {
        &plain
    };
    let (planner, rows) = pool.install(|| {
        search_all(
            &load,
            run,
            &sc.objectives,
            &search,
            &seeds,
            search.confidence,
            args.quiet,
        )
    })?;
    let best = planner.best().map(|(c, _)| c);
    let knob_names: Vec<&str> = search.knobs.iter().map(|k| k.name.as_str()).collect();
    let result = SizeResult {
        scenario: &sc.name,
        knobs: knob_names,
        objectives: &sc.objectives,
        seeds: seeds.len(),
        seed,
        confidence: search.confidence,
        grid: search.candidates(),
        discarded: planner.discarded,
        answer: best.and_then(|b| rows.iter().position(|r| r.candidate == b)),
        rows,
    };
    let dir = staging.path();
    std::fs::write(
        dir.join("size.csv"),
        ecsim_reports::size::size_csv(&result).context("writing size.csv")?,
    )
    .context("writing size.csv")?;
    let chart = ecsim_reports::charts::svg(&ecsim_reports::size::frontier_chart(&result))
        .map_err(|e| anyhow!("drawing frontier.svg: {e}"))?;
    std::fs::write(dir.join("frontier.svg"), chart).context("writing frontier.svg")?;
    let mut files = vec!["size.csv", "frontier.svg", "size.txt"];
    if let Some(b) = best {
        let labels: Vec<String> = result
            .knobs
            .iter()
            .zip(search.labels(b))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let text = answer_text(&src, &search, b, &labels.join(", "))?;
        std::fs::write(dir.join("answer.toml"), text).context("writing answer.toml")?;
        files.push("answer.toml");
    }
    let mut text = ecsim_reports::size::size_text(&result);
    if let Some(at) = args.fork_at {
        text.push_str(&format!(
            "forked at {at}: every candidate ran from a copy of the scenario's state at {at}, its knob values applied then; answer.toml sets them from time zero (`ecsim compare --fork-at {at}` compares candidates as they were judged)\n",
            at = ecsim_engine::format_duration(at)
        ));
    }
    std::fs::write(dir.join("size.txt"), &text).context("writing size.txt")?;
    staging.commit()?;
    if !args.quiet {
        print!("{}", ecsim_reports::escape::terminal(&text));
        println!("output: {}/ ({})", final_dir.display(), files.join(", "));
    }
    Ok(())
}
