//! `ecsim sweep`: run a sweep's grid in parallel, resumably and in shards, and
//! combine the runs into `runs.csv` and `aggregate.csv`.
//!
//! Every finished run is written at once, atomically, to `runs/p<point>-r<replicate>.csv` in the
//! output folder; `runs.csv` and `aggregate.csv` are then rebuilt from all run files there. So an
//! interrupted sweep resumes by skipping runs whose files exist, and shards merge by reading the
//! run files of several folders: the same code makes the same bytes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::sweep::{self, Sweep};

use crate::error::{CliError, CliResult, FAILURE};
use crate::report_files;
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
            (Some(i), _, _) => i - num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0),
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
    after_help = "Examples:\n  ecsim sweep scenarios/sweeps/placement-strategies.toml\n  ecsim sweep scenarios/sweeps/target-value.toml --threads 2 --resume\n  ecsim sweep my-sweep.toml --shard 0/4 --out shard0      # one machine of four\n  ecsim sweep my-sweep.toml --shard auto --out shard-$SLURM_ARRAY_TASK_ID   # inside a Slurm array"
)]
pub struct Args {
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
    /// Refuse a sweep of more runs (grid points x seeds) than this.
    #[arg(long, value_name = "N", default_value_t = sweep::DEFAULT_MAX_RUNS)]
    max_runs: u64,
    #[command(flatten)]
    input: super::InputArgs,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
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

/// Every grid point's scenario, all validated before anything runs, and the sweep's `metrics`
/// checked against them; problems are printed (a bad value at its line in the sweep file).
pub(super) fn load_grid(
    file: &Path,
    sw: &Sweep,
    sweep_src: &str,
    input: &super::InputArgs,
) -> Result<Vec<Scenario>, CliError> {
    let base = file.parent().unwrap_or(Path::new(".")).join(&sw.scenario);
    let base_src = super::read_input(&base, input.max_input_bytes, "the sweep's scenario")?;
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
        match scenario::load_with(&base.display().to_string(), &base_src, &opts) {
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

/// `DIR/runs/`, emptied first unless resuming.
fn runs_dir(dir: &Path, resume: bool) -> Result<PathBuf> {
    let runs_dir = dir.join("runs");
    if !resume && runs_dir.exists() {
        std::fs::remove_dir_all(&runs_dir)
            .with_context(|| format!("cannot clear {}", runs_dir.display()))?;
    }
    std::fs::create_dir_all(&runs_dir)
        .with_context(|| format!("cannot create {}", runs_dir.display()))?;
    Ok(runs_dir)
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
fn run_one(sw: &Sweep, sc: &Scenario, r: &sweep::RunSpec, file: &Path) -> Result<()> {
    let opts = RunOptions {
        seed: r.seed,
        check_invariants: false,
    };
    let (summary, _) = sim::run(sc, opts, ecsim_model::record::NullSink);
    let params: Vec<(String, String)> = sw
        .parameters
        .iter()
        .map(|p| p.name.clone())
        .zip(sw.labels(r.point))
        .collect();
    let bytes = ecsim_reports::sweep_run_csv(r.point, r.replicate, r.seed, &params, &summary)
        .context("formatting a run")?;
    write_atomic(file, &bytes)
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
    let results: Vec<Result<()>> = pool.install(|| {
        todo.par_iter()
            .map(|r| {
                run_one(sw, &scenarios[r.point], r, &run_file(runs_dir, r))?;
                done.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
                Ok(())
            })
            .collect()
    });
    bar.finish_and_clear();
    results.into_iter().collect::<Result<()>>()?;
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
    let scenarios = load_grid(&args.file, &sw, &sweep_src, &args.input)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&sw.name));
    let runs_dir = runs_dir(&dir, args.resume)?;
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
    let done = run_all(&args, &sw, &scenarios, &todo, &runs_dir)?;
    let written = build_tables(std::slice::from_ref(&dir), &dir)?;
    let rendered = report_files::render_sweep(&dir, &sw.name, &sw.metrics)?;
    report_files::write(&dir, &rendered)?;
    if !args.quiet {
        let shard = shard
            .map(|s| format!(" (shard {}/{})", s.index, s.count))
            .unwrap_or_default();
        println!(
            "ecsim sweep: {}{shard}: {} grid points x {} seeds; ran {done}, kept {skipped} finished; {written} runs in {}/runs.csv and aggregate.csv",
            sw.name,
            sw.points(),
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

/// Read every run file under `dirs/runs/` and write `runs.csv` and `aggregate.csv` into `out`.
/// Returns the number of runs.
pub fn build_tables(dirs: &[PathBuf], out: &Path) -> Result<usize> {
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
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            runs.push(run);
        }
    }
    runs.sort_by_key(|r| (r.point, r.replicate));
    runs.dedup_by_key(|r| (r.point, r.replicate));
    let (runs_csv, agg) = ecsim_reports::sweep_tables(&runs).context("building the tables")?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_atomic(&out.join(schema::runs::FILE), &runs_csv)?;
    write_atomic(&out.join(schema::aggregate::FILE), &agg)?;
    Ok(runs.len())
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
}
