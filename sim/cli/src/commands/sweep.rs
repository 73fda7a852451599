//! `ecsim sweep`: run a sweep's grid in parallel, resumably and in shards, and
//! combine the runs into `runs.csv` and `aggregate.csv`.
//!
//! Every finished run is written at once, atomically, to `runs/p<point>-r<replicate>.csv` in the
//! output folder; `runs.csv` and `aggregate.csv` are then rebuilt from all run files there. So an
//! interrupted sweep resumes by skipping runs whose files exist, and shards merge by reading the
//! run files of several folders: the same code makes the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::sweep::{self, Sweep};

use crate::error::{CliError, CliResult, FAILURE};
use crate::{output, report_files};
use ecsim_reports::schema;

/// Which share of the runs this process does: run k belongs to shard `k mod count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// Parse `I/N` (0-based I), or `auto`: I from `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`),
/// `AWS_BATCH_JOB_ARRAY_INDEX` or `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs), and N from
/// `SLURM_ARRAY_TASK_COUNT` or `ECSIM_SHARD_COUNT`.
pub fn parse_shard(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard> {
    let num = |name: &str| -> Result<Option<usize>> {
        env(name)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .with_context(|| format!("{name}={v} is not a number"))
            })
            .transpose()
    };
    let (index, count) = if s == "auto" {
        let index = match (
            num("SLURM_ARRAY_TASK_ID")?,
            num("AWS_BATCH_JOB_ARRAY_INDEX")?,
            num("JOB_COMPLETION_INDEX")?,
        ) {
            (Some(i), _, _) => {
                let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
                i.checked_sub(min).with_context(|| {
                    format!(
                        "--shard auto: SLURM_ARRAY_TASK_ID={i} is below SLURM_ARRAY_TASK_MIN={min}"
                    )
                })?
            }
            (None, Some(i), _) | (None, None, Some(i)) => i,
            _ => bail!(
                "--shard auto: none of SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX is set"
            ),
        };
        let count = match (num("SLURM_ARRAY_TASK_COUNT")?, num("ECSIM_SHARD_COUNT")?) {
            (Some(n), _) | (None, Some(n)) => n,
            _ => bail!(
                "--shard auto: set ECSIM_SHARD_COUNT to the number of array jobs (Slurm sets SLURM_ARRAY_TASK_COUNT itself)"
            ),
        };
        (index, count)
    } else {
        let (i, n) = s
            .split_once('/')
            .context("--shard takes I/N (0-based I), e.g. 0/4, or auto")?;
        (
            i.trim().parse().context("--shard I/N: I is not a number")?,
            n.trim().parse().context("--shard I/N: N is not a number")?,
        )
    };
    if count == 0 || index >= count {
        bail!("--shard {index}/{count}: the index must be below the count");
    }
    Ok(Shard { index, count })
}

#[derive(clap::Args)]
/// Run a parameter sweep: a grid of scenario variations x seeds, in parallel.
#[command(
    after_help = "Examples:\n  ecsim sweep scenarios/sweeps/placement-strategies.toml\n  ecsim sweep scenarios/sweeps/target-value.toml --threads 2 --resume\n  ecsim sweep scenarios/sweeps/target-value.toml --fork-at 40h      # the first 40 h once per seed\n  ecsim sweep my-sweep.toml --shard 0/4 --out shard0      # one machine of four\n  ecsim sweep my-sweep.toml --shard auto --out shard-$SLURM_ARRAY_TASK_ID   # inside a Slurm array"
)]
pub struct Args {
    /// The sweep file (TOML).
    file: PathBuf,
    /// Output folder [default: out/<sweep name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    threads: usize,
    /// Keep the runs already finished in the output folder and do only the rest.
    #[arg(long)]
    resume: bool,
    /// Only every N-th run from the I-th (0-based): I/N, or auto (Slurm, AWS Batch, Kubernetes).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Replace DIR even if ecsim did not write it (no .ecsim file in it): a folder with
    /// everything in it, a file or a symbolic link. Never `/`, the home or current folder, the
    /// folder of an input file or a parent of one, nor a device.
    #[arg(long)]
    force: bool,
    /// No progress bar, no summary.
    #[arg(long, short)]
    quiet: bool,
    /// Per seed, run the base scenario (without the grid's values) up to this simulated time
    /// once, then every grid point from a copy of that state, its values applied then: only
    /// values a running cluster can take (see `ecsim compare --help`); others are refused.
    #[arg(long, value_name = "TIME", value_parser = super::fork_time)]
    fork_at: Option<u64>,
    /// Refuse a sweep of more runs (grid points x seeds) than this.
    #[arg(long, value_name = "N", default_value_t = sweep::DEFAULT_MAX_RUNS)]
    max_runs: u64,
    #[command(flatten)]
    input: super::InputArgs,
}

/// Write `path` through a temporary file `*.partial-PID` renamed into place; on any error the
/// temporary file is removed (no empty or partial file is left, e.g. on a full disk).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, &|p, b| std::fs::write(p, b))
}

/// [`write_atomic`] with the write itself given (tests inject failures).
fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_extension(output::partial_suffix());
    if let Err(e) = write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::anyhow!("cannot write {}: {e}", path.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::anyhow!(
            "cannot move {} into place: {e}",
            path.display()
        ));
    }
    Ok(())
}

/// Read the sweep file (at most `max_runs` runs); its problems are printed. Also its text.
pub(super) fn load_sweep(
    file: &Path,
    max_runs: u64,
    input: &super::InputArgs,
) -> Result<(Sweep, String), CliError> {
    let src = super::read_input(file, input.max_input_bytes, "sweep")?;
    match sweep::load_with(&file.display().to_string(), &src, max_runs) {
        Ok(sw) => Ok((sw, src)),
        Err(diags) => {
            for d in &diags {
                eprintln!("error: {d}");
            }
            Err(CliError::code(FAILURE))
        }
    }
}

/// The base scenario of a sweep file: its path and text.
fn base_scenario(
    file: &Path,
    sw: &Sweep,
    input: &super::InputArgs,
) -> Result<(PathBuf, String), CliError> {
    let base = file.parent().unwrap_or(Path::new(".")).join(&sw.scenario);
    let src = super::read_input(&base, input.max_input_bytes, "the sweep's scenario")?;
    Ok((base, src))
}

/// Every grid point's scenario, all validated before anything runs, and the sweep's `metrics`
/// checked against them; problems are printed (a bad value at its line in the sweep file).
pub(super) fn load_grid(
    file: &Path,
    sw: &Sweep,
    sweep_src: &str,
    input: &super::InputArgs,
) -> Result<Vec<Scenario>, CliError> {
    let (base, base_src) = base_scenario(file, sw, input)?;
    let reader = super::relative_reader(&base, input);
    let sweep_name = file.display().to_string();
    let mut scenarios = Vec::new();
    let mut failed = false;
    for p in 0..sw.points() {
        let v = sw.variant(p);
        let opts = scenario::LoadOptions {
            sets: &[],
            variant: Some(&v),
            read_file: Some(&reader),
            variant_file: Some((&sweep_name, sweep_src)),
        };
        let loaded = scenario::load_with(&base.display().to_string(), &base_src, &opts)
            .map_err(|e| e.to_string())
            .and_then(|sc| super::check_traces(&base, input, &sc).map(|()| sc));
        match loaded {
            Ok(sc) => scenarios.push(sc),
            Err(e) => {
                eprintln!("grid point {p} ({}):\n{e}", sw.labels(p).join(", "));
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::code(FAILURE));
    }
    if let Some(first) = scenarios.first()
        && let Err(diags) = sweep::check_metrics(&sweep_name, sweep_src, first)
    {
        for d in &diags {
            eprintln!("error: {d}");
        }
        return Err(CliError::code(FAILURE));
    }
    Ok(scenarios)
}

/// Where a sweep writes: in its output folder (new, or resumed: an interrupted sweep keeps its
/// finished runs there), or, when it replaces an earlier output, in a staging folder that takes
/// the old one's place only when the whole sweep is complete.
enum Work {
    InPlace { dir: PathBuf, id: u64 },
    Staged(output::Staging),
}

impl Work {
    /// Check `dir` and choose where to write (see [`Work`]).
    fn open(dir: &Path, args: &Args, fingerprint: &str, inputs: &[&Path]) -> Result<Work> {
        let marker = output::Marker::new("sweep", Some(fingerprint.to_string()));
        let meta = std::fs::symlink_metadata(dir);
        let exists = meta.is_ok();
        // A symbolic link is never written through: it is replaced (with --force) like a file.
        let empty = meta.is_ok_and(|m| m.is_dir())
            && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
        if args.resume && exists && !empty {
            output::check_target(dir, false, inputs)?;
            match output::Marker::read(dir) {
                Some(m) if m.command == "sweep" => {
                    if m.fingerprint.as_deref() != Some(fingerprint) {
                        bail!(
                            "--resume: {} holds the runs of a different sweep (fingerprint {}; this sweep's is {fingerprint}): the sweep file or its base scenario changed since; run without --resume to replace them (the old runs stay until the new sweep is complete), or choose another --out",
                            dir.display(),
                            m.fingerprint.as_deref().unwrap_or("none")
                        );
                    }
                }
                Some(m) => bail!(
                    "--resume: {} was written by `ecsim {}`, not by a sweep: nothing to resume",
                    dir.display(),
                    m.command
                ),
                None => bail!(
                    "--resume: {} was not written by ecsim's sweep (it has no .ecsim file with a fingerprint): nothing to resume",
                    dir.display()
                ),
            }
        } else if !exists || empty {
            output::check_target(dir, args.force, inputs)?;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            marker.write(dir)?;
        } else {
            return Ok(Work::Staged(output::Staging::new(
                dir, &marker, args.force, inputs,
            )?));
        }
        let runs = dir.join("runs");
        std::fs::create_dir_all(&runs)
            .with_context(|| format!("cannot create {}", runs.display()))?;
        output::clean_stale_files(&runs);
        let id = output::on_signal_clean(output::Pending::Sweep {
            runs,
            resume: format!(
                "ecsim sweep {} --resume --out {}",
                args.file.display(),
                dir.display()
            ),
        });
        Ok(Work::InPlace {
            dir: dir.to_path_buf(),
            id,
        })
    }

    /// The folder to write into.
    fn path(&self) -> &Path {
        match self {
            Work::InPlace { dir, .. } => dir,
            Work::Staged(s) => s.path(),
        }
    }

    /// What an error leaves behind, for its message.
    fn on_error(&self, dir: &Path) -> String {
        match self {
            Work::InPlace { .. } => format!(
                "the finished runs are kept in {}/runs/ (--resume does the rest)",
                dir.display()
            ),
            Work::Staged(_) => format!(
                "the unfinished sweep was removed; {} is as it was",
                dir.display()
            ),
        }
    }

    /// Put the complete output in place.
    fn finish(self) -> Result<()> {
        match self {
            Work::InPlace { id, .. } => {
                output::forget(id);
                Ok(())
            }
            Work::Staged(s) => s.commit(),
        }
    }
}

/// A run's file in `runs/`.
fn run_file(runs_dir: &Path, r: &sweep::RunSpec) -> PathBuf {
    runs_dir.join(format!("p{:05}-r{:05}.csv", r.point, r.replicate))
}

fn progress_bar(quiet: bool, len: usize, name: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(len as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} runs, {elapsed_precise} elapsed, ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    b.set_message(name.to_string());
    b
}

/// Run one grid point's replicate and write its run file.
fn run_one(o: &Args, sw: &Sweep, sc: &Scenario, r: &sweep::RunSpec, file: &Path) -> Result<()> {
    let opts = RunOptions {
        seed: r.seed,
        check_invariants: false,
    };
    let base = o.file.parent().unwrap_or(Path::new(".")).join(&sw.scenario);
    let traces = super::open_traces(&base, &o.input, sc).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (summary, _) = sim::run_traced(sc, opts, ecsim_model::record::NullSink, traces);
    write_run(sw, r, &summary, file)
}

/// A run's file, from its summary.
fn write_run(
    sw: &Sweep,
    r: &sweep::RunSpec,
    summary: &ecsim_model::record::Summary,
    file: &Path,
) -> Result<()> {
    let params: Vec<(String, String)> = sw
        .parameters
        .iter()
        .map(|p| p.name.clone())
        .zip(sw.labels(r.point))
        .collect();
    let bytes = ecsim_reports::sweep_run_csv(r.point, r.replicate, r.seed, &params, summary)
        .context("formatting a run")?;
    write_atomic(file, &bytes)
}

/// `--fork-at`: the runs of `todo` grouped by seed; per seed the base's prefix once, then
/// every grid point of the group as a branch, each writing its run file when it finishes.
fn run_all_forked(
    o: &Args,
    sw: &Sweep,
    base: &Scenario,
    scenarios: &[Scenario],
    todo: &[&sweep::RunSpec],
    runs_dir: &Path,
    at_ms: u64,
) -> Result<usize> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads)
        .build()
        .context("starting worker threads")?;
    let mut by_seed: std::collections::BTreeMap<u32, Vec<&sweep::RunSpec>> = Default::default();
    for r in todo {
        by_seed.entry(r.replicate).or_default().push(r);
    }
    let groups: Vec<Vec<&sweep::RunSpec>> = by_seed.into_values().collect();
    let bar = progress_bar(o.quiet, todo.len(), &sw.name);
    let done = AtomicUsize::new(0);
    let result = pool.install(|| {
        groups.par_iter().try_for_each(|runs| -> Result<()> {
            let opts = RunOptions {
                seed: runs[0].seed,
                check_invariants: false,
            };
            let branches = runs
                .iter()
                .map(|r| (&scenarios[r.point], ecsim_model::record::NullSink))
                .collect();
            let branches = sim::fork::fork(base, branches, opts, at_ms).map_err(|e| {
                anyhow::anyhow!(
                    "cannot fork at {}:\n{e}",
                    ecsim_engine::format_duration(at_ms)
                )
            })?;
            branches
                .into_par_iter()
                .zip(runs.par_iter())
                .try_for_each(|(b, r)| -> Result<()> {
                    let (summary, _) = b.run(None);
                    write_run(sw, r, &summary, &run_file(runs_dir, r))?;
                    done.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                    Ok(())
                })
        })
    });
    bar.finish_and_clear();
    result.map_err(|e| {
        e.context(format!(
            "stopped at the first error, after {} runs",
            done.load(Ordering::Relaxed)
        ))
    })?;
    Ok(done.load(Ordering::Relaxed))
}

/// The sweep's base scenario, for `--fork-at`; every grid point a fork cannot take is printed
/// before failing.
fn fork_base(
    o: &Args,
    sw: &Sweep,
    scenarios: &[Scenario],
    at_ms: u64,
) -> Result<Scenario, CliError> {
    let path = o.file.parent().unwrap_or(Path::new(".")).join(&sw.scenario);
    let base = match super::load_variant(&path, &[], None, &o.input)? {
        Ok(sc) => sc,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(CliError::code(FAILURE));
        }
    };
    let mut failed = false;
    for (p, sc) in scenarios.iter().enumerate() {
        for problem in sim::fork::problems(&base, sc, at_ms) {
            eprintln!(
                "{}",
                ecsim_reports::escape::terminal(&format!(
                    "error: {}: grid point {p} ({}): cannot fork at {}: {problem}",
                    o.file.display(),
                    sw.labels(p).join(", "),
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

/// Run `todo` on `threads` workers with a progress bar; the number of runs done.
fn run_all(
    o: &Args,
    sw: &Sweep,
    scenarios: &[Scenario],
    todo: &[&sweep::RunSpec],
    runs_dir: &Path,
) -> Result<usize> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads)
        .build()
        .context("starting worker threads")?;
    let bar = progress_bar(o.quiet, todo.len(), &sw.name);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    pool.install(|| {
        todo.par_iter().for_each(|r| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match run_one(o, sw, &scenarios[r.point], r, &run_file(runs_dir, r)) {
                Ok(()) => {
                    done.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert(e);
                }
            }
        })
    });
    bar.finish_and_clear();
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e.context(format!(
            "stopped at the first error, after {} runs",
            done.load(Ordering::Relaxed)
        )));
    }
    Ok(done.load(Ordering::Relaxed))
}

/// Parse `--shard` and run the sweep.
pub fn exec(args: Args) -> CliResult {
    let shard = args
        .shard
        .as_deref()
        .map(|s| parse_shard(s, &|k| std::env::var(k).ok()))
        .transpose()?;
    let (sw, sweep_src) = load_sweep(&args.file, args.max_runs, &args.input)?;
    let Some((points, _)) = sw.grid_size() else {
        let counts: Vec<String> = sw
            .parameters
            .iter()
            .map(|p| p.values.len().to_string())
            .collect();
        return Err(anyhow::anyhow!(
            "{}: the grid is too large to count: {} values x {} seeds does not fit in {} bits",
            args.file.display(),
            counts.join(" x "),
            sw.seeds,
            usize::BITS
        )
        .into());
    };
    let (base, base_src) = base_scenario(&args.file, &sw, &args.input)?;
    let scenarios = load_grid(&args.file, &sw, &sweep_src, &args.input)?;
    let fork_base = match args.fork_at {
        Some(at) => Some(fork_base(&args, &sw, &scenarios, at)?),
        None => None,
    };
    // Forked runs are other runs: a resumed sweep must not mix them with plain ones.
    let fingerprint = match args.fork_at {
        None => sw.fingerprint(&base_src),
        Some(at) => format!("{}-fork-at-{at}", sw.fingerprint(&base_src)),
    };
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            output::check_folder_name("the sweep's name", &sw.name)?;
            Path::new("out").join(&sw.name)
        }
    };
    let all = super::all_inputs(&[&args.file, &base]);
    let inputs: Vec<&Path> = all.iter().map(|p| p.as_path()).collect();
    let work = Work::open(&dir, &args, &fingerprint, &inputs)?;
    let result = (|| -> Result<(usize, usize, usize)> {
        let runs_dir = work.path().join("runs");
        std::fs::create_dir_all(&runs_dir)
            .with_context(|| format!("cannot create {}", runs_dir.display()))?;
        let all = sw.runs();
        let mine: Vec<&sweep::RunSpec> = all
            .iter()
            .enumerate()
            .filter(|(k, _)| shard.is_none_or(|s| k % s.count == s.index))
            .map(|(_, r)| r)
            .collect();
        let todo: Vec<&sweep::RunSpec> = mine
            .iter()
            .copied()
            .filter(|r| !run_file(&runs_dir, r).exists())
            .collect();
        let skipped = mine.len() - todo.len();
        let done = match (&fork_base, args.fork_at) {
            (Some(base), Some(at)) => {
                run_all_forked(&args, &sw, base, &scenarios, &todo, &runs_dir, at)?
            }
            _ => run_all(&args, &sw, &scenarios, &todo, &runs_dir)?,
        };
        let runs = collect_runs(&[work.path().to_path_buf()])?;
        write_tables(&runs, work.path())?;
        let long = ecsim_reports::sweep_long::aggregate_long(&runs, &sw.metrics)
            .context("building aggregate_long.csv")?;
        write_atomic(&work.path().join(ecsim_reports::sweep_long::FILE), &long)?;
        let rendered = report_files::render_sweep(work.path(), &sw.name, &sw.metrics)?;
        report_files::write(work.path(), &rendered)?;
        Ok((done, skipped, runs.len()))
    })();
    let (done, skipped, written) = match result {
        Ok(x) => x,
        Err(e) => {
            let left = work.on_error(&dir);
            drop(work);
            return Err(anyhow::anyhow!("{e:#}; {left}").into());
        }
    };
    work.finish()?;
    if !args.quiet {
        let shard = shard
            .map(|s| format!(" (shard {}/{})", s.index, s.count))
            .unwrap_or_default();
        println!(
            "ecsim sweep: {}{shard}: {points} grid points x {} seeds; ran {done}, kept {skipped} finished; {written} runs in {}/runs.csv and aggregate.csv",
            sw.name,
            sw.seeds,
            dir.display()
        );
        print_best(&sw, &dir)?;
        println!(
            "report: {}/report.html (charts in {}/charts/)",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Every run file under `dirs/runs/`, each checked (a corrupt one is an error naming the file
/// and line), sorted by (point, replicate), duplicates (the same run in two shards) once.
pub fn collect_runs(dirs: &[PathBuf]) -> Result<Vec<ecsim_reports::SweepRun>> {
    let mut runs = Vec::new();
    for d in dirs {
        let rd = d.join("runs");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&rd)
            .with_context(|| format!("{} has no runs/ folder: not a sweep output", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        names.sort();
        for p in names {
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            let run = ecsim_reports::read_sweep_run(&bytes)
                .map_err(|e| anyhow::anyhow!("corrupt run file {}: {e}", p.display()))?;
            runs.push(run);
        }
    }
    runs.sort_by_key(|r| (r.point, r.replicate));
    runs.dedup_by_key(|r| (r.point, r.replicate));
    Ok(runs)
}

/// Write `runs.csv` and `aggregate.csv` of `runs` into `out`, each atomically.
pub fn write_tables(runs: &[ecsim_reports::SweepRun], out: &Path) -> Result<()> {
    let (runs_csv, agg) = ecsim_reports::sweep_tables(runs).context("building the tables")?;
    write_atomic(&out.join(schema::runs::FILE), &runs_csv)?;
    write_atomic(&out.join(schema::aggregate::FILE), &agg)?;
    Ok(())
}

/// Print, for the sweep's first metric, each grid point's mean and 95 % interval.
fn print_best(sw: &Sweep, dir: &Path) -> Result<()> {
    let Some(metric) = sw.metrics.first() else {
        return Ok(());
    };
    use schema::aggregate::{CI95_HIGH, CI95_LOW, MEAN, stat_column};
    let text = std::fs::read_to_string(dir.join(schema::aggregate::FILE))?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers()?.clone();
    let col = |stat: &str| {
        let name = stat_column(metric, stat);
        headers.iter().position(|h| h == name)
    };
    let (Some(m), Some(lo), Some(hi)) = (col(MEAN), col(CI95_LOW), col(CI95_HIGH)) else {
        println!("(metric {metric} is not in the results)");
        return Ok(());
    };
    let params: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| schema::runs::param_name(h).is_some())
        .map(|(i, _)| i)
        .collect();
    println!("{metric}, mean and 95 % confidence interval per grid point:");
    for rec in r.records() {
        let rec = rec?;
        let cell = |i: usize| rec.get(i).unwrap_or_default();
        let label: Vec<&str> = params.iter().map(|&i| cell(i)).collect();
        println!(
            "  {:<40} {:>12} [{}, {}]",
            label.join(", "),
            cell(m),
            cell(lo),
            cell(hi)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_from_flags_and_array_variables() {
        let none = |_: &str| None;
        assert_eq!(
            parse_shard("1/4", &none).unwrap(),
            Shard { index: 1, count: 4 }
        );
        assert!(parse_shard("4/4", &none).is_err());
        assert!(parse_shard("auto", &none).is_err());
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("3".into()),
            "SLURM_ARRAY_TASK_MIN" => Some("1".into()),
            "SLURM_ARRAY_TASK_COUNT" => Some("4".into()),
            _ => None,
        };
        assert_eq!(
            parse_shard("auto", &slurm).unwrap(),
            Shard { index: 2, count: 4 }
        );
        let batch = |k: &str| match k {
            "AWS_BATCH_JOB_ARRAY_INDEX" => Some("0".into()),
            "ECSIM_SHARD_COUNT" => Some("2".into()),
            _ => None,
        };
        assert_eq!(
            parse_shard("auto", &batch).unwrap(),
            Shard { index: 0, count: 2 }
        );
        let below_min = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("0".into()),
            "SLURM_ARRAY_TASK_MIN" => Some("1".into()),
            "SLURM_ARRAY_TASK_COUNT" => Some("4".into()),
            _ => None,
        };
        let e = parse_shard("auto", &below_min).unwrap_err().to_string();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID=0 is below SLURM_ARRAY_TASK_MIN=1"),
            "{e}"
        );
        let k8s = |k: &str| match k {
            "JOB_COMPLETION_INDEX" => Some("1".into()),
            "ECSIM_SHARD_COUNT" => Some("3".into()),
            _ => None,
        };
        assert_eq!(
            parse_shard("auto", &k8s).unwrap(),
            Shard { index: 1, count: 3 }
        );
    }

    /// A failing write (a full disk) leaves no temporary file behind.
    #[test]
    fn failed_write_leaves_no_partial_file() {
        let d = std::env::temp_dir().join(format!("ecsim-sweep-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let full = |p: &Path, b: &[u8]| {
            std::fs::write(p, &b[..b.len() / 2])?;
            Err(std::io::Error::from_raw_os_error(28))
        };
        let e = write_atomic_with(&d.join("p00000-r00000.csv"), b"point,replicate\n", &full)
            .unwrap_err();
        assert!(format!("{e:#}").contains("p00000-r00000.csv"), "{e:#}");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "nothing left");
        // /dev/full: the kernel's own full disk.
        if Path::new("/dev/full").exists() {
            let e = std::fs::write("/dev/full", b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(28));
        }
        let _ = std::fs::remove_dir_all(d);
    }
}
