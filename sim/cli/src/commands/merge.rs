//! `ecsim merge`: combine sweep output folders (shards) into one `runs.csv` and `aggregate.csv`.

use std::path::PathBuf;

use crate::error::CliResult;

#[derive(clap::Args)]
/// Combine sweep output folders (shards) into one runs.csv and aggregate.csv.
pub struct Args {
    /// Sweep output folders.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write runs.csv and aggregate.csv.
    #[arg(long, value_name = "DIR", default_value = "out/merged")]
    out: PathBuf,
}

/// Merge the run files of every folder and write the tables.
pub fn exec(args: Args) -> CliResult {
    let n = super::sweep::build_tables(&args.dirs, &args.out)?;
    println!(
        "ecsim merge: {n} runs from {} folder(s) into {}/runs.csv and aggregate.csv (charts: ecsim report {})",
        args.dirs.len(),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
