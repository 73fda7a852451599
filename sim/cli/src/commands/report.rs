//! `ecsim report`: draw the charts and the self-contained `report.html` of a run's (or a
//! sweep's) output folder.

use std::path::PathBuf;

use crate::error::CliResult;
use crate::report_files;

#[derive(clap::Args)]
/// Draw the charts (charts/*.svg, *.png) and the self-contained report.html of a folder that
/// `ecsim run`, `compare`, `sweep` or `merge` wrote.
#[command(
    after_help = "Examples:\n  ecsim run scenarios/flash-sale.toml --out out/flash-sale\n  ecsim report out/flash-sale          # then open out/flash-sale/report.html\n  ecsim run scenarios/az-outage.toml --report   # the same in one step\n  ecsim compare scenarios/fargate-vs-ec2.toml && ecsim report out/fargate-vs-ec2-compare\n  ecsim merge shards/* --out merged && ecsim report merged"
)]
pub struct Args {
    /// A folder written by `ecsim run` (summary.json), `ecsim compare` (compare.csv) or
    /// `ecsim sweep`/`merge` (aggregate.csv).
    dir: PathBuf,
    /// Replace charts/ and report.html even in a folder ecsim did not write (no .ecsim file).
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Render the folder's report and write it into the folder.
pub fn exec(args: Args) -> CliResult {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(anyhow::anyhow!("{} is not a folder", dir.display()).into());
    }
    let is_run = dir.join("summary.json").is_file();
    let rendered = if !is_run && dir.join("compare.csv").is_file() {
        report_files::render_compare(dir)?
    } else if is_run || !dir.join("aggregate.csv").is_file() {
        report_files::render_run(dir)?
    } else {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("sweep");
        report_files::render_sweep(dir, name, &[])?
    };
    eprint!("{}", report_files::problem_lines(dir, &rendered.problems));
    report_files::check_report_target(dir, args.force)?;
    report_files::write(dir, &rendered)?;
    if !args.quiet {
        let problems = match rendered.problems.len() {
            0 => String::new(),
            n => format!(" ({n} problems in the input, listed above and on the page)"),
        };
        println!(
            "{}",
            ecsim_reports::escape::terminal(&format!(
                "ecsim report: {}/report.html and {} charts in {}/charts/ (SVG and PNG){problems}",
                dir.display(),
                rendered.charts.len(),
                dir.display()
            ))
        );
    }
    Ok(())
}
