//! `ecsim merge`: combine sweep output folders (shards) into one `runs.csv` and `aggregate.csv`.
//! The folders must hold the same sweep: their fingerprints (in `.ecsim`) must agree.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use crate::error::CliResult;
use crate::output;

#[derive(clap::Args)]
/// Combine sweep output folders (shards) into one runs.csv and aggregate.csv.
#[command(
    after_help = "Examples:\n  ecsim sweep my-sweep.toml --shard 0/2 --out shards/0\n  ecsim sweep my-sweep.toml --shard 1/2 --out shards/1\n  ecsim merge shards/* --out merged && ecsim report merged"
)]
pub struct Args {
    /// Sweep output folders.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write runs.csv and aggregate.csv.
    #[arg(long, value_name = "DIR", default_value = "out/merged")]
    out: PathBuf,
    /// Replace DIR even if ecsim did not write it (no .ecsim file in it): a folder with
    /// everything in it, a file or a symbolic link. Never `/`, the home or current folder, an
    /// input folder or a parent of one, nor a device.
    #[arg(long)]
    force: bool,
}

/// The fingerprint the folders share, or an error naming the first that differs.
fn common_fingerprint(dirs: &[PathBuf]) -> anyhow::Result<String> {
    let mut first: Option<(String, &PathBuf)> = None;
    for d in dirs {
        let f = output::Marker::read(d)
            .and_then(|m| m.fingerprint)
            .ok_or_else(|| {
                anyhow!(
                    "{} has no sweep fingerprint (no .ecsim file from `ecsim sweep`): cannot tell which sweep its runs belong to; run its sweep (or shard) again",
                    d.display()
                )
            })?;
        match &first {
            None => first = Some((f, d)),
            Some((g, e)) if *g != f => bail!(
                "cannot merge {} with {}: they hold different sweeps (fingerprints {f} and {g}): the sweep files or their base scenarios differ",
                d.display(),
                e.display()
            ),
            Some(_) => {}
        }
    }
    first
        .map(|(f, _)| f)
        .ok_or_else(|| anyhow!("no folders to merge"))
}

/// Merge the run files of every folder and write the tables.
pub fn exec(args: Args) -> CliResult {
    let fingerprint = common_fingerprint(&args.dirs)?;
    let runs = super::sweep::collect_runs(&args.dirs)?;
    let inputs: Vec<&Path> = args.dirs.iter().map(PathBuf::as_path).collect();
    let staging = output::Staging::new(
        &args.out,
        &output::Marker::new("merge", Some(fingerprint)),
        args.force,
        &inputs,
    )?;
    super::sweep::write_tables(&runs, staging.path())?;
    staging.commit()?;
    println!(
        "ecsim merge: {} runs from {} folder(s) into {}/runs.csv and aggregate.csv (charts: ecsim report {})",
        runs.len(),
        args.dirs.len(),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
