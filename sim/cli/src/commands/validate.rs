//! `ecsim validate`: check scenario files and report every problem with its line and column.

use std::path::PathBuf;

use crate::error::{CliError, CliResult, FAILURE};

#[derive(clap::Args)]
/// Check scenario files and report every problem with its line and column.
pub struct Args {
    /// Scenario files.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Override a field before validating (as with `run`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

/// Validate every file, print each one's verdict, fail if any has a problem.
pub fn exec(args: Args) -> CliResult {
    let mut failed = 0;
    for p in &args.scenarios {
        match super::load(p, &args.sets) {
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
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::code(FAILURE))
    }
}
