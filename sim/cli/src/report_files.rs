//! Writing charts and HTML reports into output folders.
//!
//! A report is staged in a hidden folder inside the output folder and moved into place when
//! complete: `charts/` (every chart as `<name>.svg` and `<name>.png`) and `report.html`.
//!
//! Every file read is untrusted ([`ecsim_reports::report::input`]): at most
//! [`MAX_FILE_BYTES`] of it is read, only regular files are opened (a FIFO or a device would
//! block or never end), and bad UTF-8, wrong row widths and values that are not finite numbers
//! are problems with file, line and column, printed as warnings, listed on the page, and left
//! out of what is drawn. Only when nothing is usable does the report fail (exit 1).

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context, Result};
use ecsim_reports::escape;
use ecsim_reports::report::{self, MAX_FILE_BYTES, Problem, Rendered, RunFiles};

/// Read `dir/name` as text, at most `cap` bytes, with its problems; a missing file reads as
/// empty (no problem: older runs lack some files).
pub fn read_capped(dir: &Path, name: &str, cap: u64, problems: &mut Vec<Problem>) -> String {
    let p = dir.join(name);
    let mut problem = |message: String| {
        problems.push(Problem {
            file: name.into(),
            line: 0,
            column: 0,
            message,
        })
    };
    let meta = match std::fs::metadata(&p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return String::new(),
        Err(e) => {
            problem(format!("cannot read: {e}; left out"));
            return String::new();
        }
    };
    if !meta.is_file() {
        problem("not a regular file; left out".into());
        return String::new();
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&p).and_then(|f| f.take(cap + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        problem(format!("cannot read: {e}; left out"));
        return String::new();
    }
    let truncated = bytes.len() as u64 > cap;
    bytes.truncate(cap as usize);
    report::decode(name, &bytes, truncated, problems)
}

use crate::output;

/// Read a run's output folder.
pub fn read_run(dir: &Path) -> Result<RunFiles> {
    if !dir.join("summary.json").exists() {
        anyhow::bail!(
            "{} is not an ecsim run output folder: it has no summary.json (make one with `ecsim run SCENARIO --out {}`)",
            dir.display(),
            dir.display()
        );
    }
    let mut problems = Vec::new();
    let mut read = |name: &str| read_capped(dir, name, MAX_FILE_BYTES, &mut problems);
    Ok(RunFiles {
        summary_json: read("summary.json"),
        metrics_csv: read("metrics.csv"),
        cost_csv: read("cost.csv"),
        scaling_csv: read("scaling.csv"),
        failures_csv: read("failures.csv"),
        deployments_csv: read("deployments.csv"),
        placements_csv: read("placements.csv"),
        decisions_csv: read("decisions.csv"),
        problems,
    })
}

/// The problems of a report on `dir`, one a line, escaped for a terminal.
pub fn problem_lines(dir: &Path, problems: &[Problem]) -> String {
    let mut o = String::new();
    for p in problems {
        o.push_str(&format!(
            "warning: {}\n",
            escape::terminal(&format!("{}/{p}", dir.display()))
        ));
    }
    o
}

fn unusable(dir: &Path, e: report::Unusable) -> anyhow::Error {
    let mut msg = format!("{}: {}", dir.display(), e.reason);
    for p in &e.problems {
        msg.push_str(&format!("\n  {}/{p}", dir.display()));
    }
    anyhow::anyhow!(escape::terminal(&msg).into_owned())
}

/// Render a run folder's report.
pub fn render_run(dir: &Path) -> Result<Rendered> {
    let files = read_run(dir)?;
    report::render_run(&files).map_err(|e| unusable(dir, e))
}

/// Render a sweep folder's report from its aggregate.csv.
pub fn render_sweep(dir: &Path, name: &str, metrics: &[String]) -> Result<Rendered> {
    let mut problems = Vec::new();
    let text = read_capped(dir, "aggregate.csv", MAX_FILE_BYTES, &mut problems);
    report::sweep::render_sweep_with(name, &text, metrics, problems).map_err(|e| unusable(dir, e))
}

/// Render a comparison folder's report from its compare.csv.
pub fn render_compare(dir: &Path) -> Result<Rendered> {
    let mut problems = Vec::new();
    let text = read_capped(dir, "compare.csv", MAX_FILE_BYTES, &mut problems);
    // The scenario's name, from compare.txt's first line ("ecsim compare: NAME (seed ...").
    let txt = read_capped(dir, "compare.txt", 64 * 1024, &mut Vec::new());
    let folder = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("compare");
    let name = txt
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("ecsim compare: "))
        .and_then(|l| l.rsplit_once(" (seed ").map(|(n, _)| n))
        .unwrap_or(folder);
    report::compare::render_compare(name, &text, problems).map_err(|e| unusable(dir, e))
}

/// Whether `dir` may get a new report: a folder ecsim wrote (it has the marker), or one
/// without `charts/` and `report.html` yet, or `force`.
pub fn check_report_target(dir: &Path, force: bool) -> Result<()> {
    if force || output::Marker::read(dir).is_some() {
        return Ok(());
    }
    for name in ["charts", "report.html"] {
        let p = dir.join(name);
        // A symbolic link counts as something to keep, never as an empty folder.
        let empty_dir = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir())
            && std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
        if std::fs::symlink_metadata(&p).is_ok() && !empty_dir {
            anyhow::bail!(
                "{} exists and {} was not written by ecsim (it has no .ecsim file): not replacing it; pass --force to replace charts/ and report.html",
                p.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Write `charts/` and `report.html` into `dir`, replacing older ones only when all are
/// written: the new `charts/` takes the old one's place in one step (see [`output::swap_in`]),
/// then `report.html` is renamed over the old one; a signal waits for both.
pub fn write(dir: &Path, r: &Rendered) -> Result<()> {
    output::clean_stale(dir, ".report.");
    let stage = dir.join(format!(".report.{}", output::partial_suffix()));
    if std::fs::symlink_metadata(&stage).is_ok() {
        anyhow::bail!(
            "{} already exists and is not ecsim's to remove: not writing the report (move it away and try again)",
            stage.display()
        );
    }
    let charts = stage.join("charts");
    // Both folders made while signals wait, so a signal's cleanup never races their creation.
    let id = output::on_signal_clean_creating(
        output::Pending::Report {
            stage: stage.clone(),
            dir: dir.to_path_buf(),
        },
        || -> Result<()> {
            std::fs::create_dir(&stage)
                .with_context(|| format!("cannot create {}", stage.display()))?;
            std::fs::create_dir(&charts).with_context(|| {
                let _ = std::fs::remove_dir(&stage);
                format!("cannot create {}", charts.display())
            })
        },
    )?;
    let result = (|| -> Result<()> {
        output::Marker::new("report", None).write(&stage)?;
        for c in &r.charts {
            output::check_folder_name("chart", &c.name)?;
            for (ext, bytes) in [("svg", c.svg.as_bytes()), ("png", c.png.as_slice())] {
                let p = charts.join(format!("{}.{ext}", c.name));
                std::fs::write(&p, bytes)
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
        }
        let html = stage.join("report.html");
        std::fs::write(&html, &r.html)
            .with_context(|| format!("cannot write {}", html.display()))?;
        output::commit_locked(id, dir, vec![stage.clone()], || {
            let old = output::swap_in(
                &charts,
                &dir.join("charts"),
                &stage.join("charts.old"),
                true,
                &|a, b| std::fs::rename(a, b),
            )?;
            std::fs::rename(&html, dir.join("report.html")).with_context(|| {
                format!(
                    "the new charts/ is in place, but report.html could not be moved into {} (the old one, if any, is kept)",
                    dir.display()
                )
            })?;
            output::remove_old(old);
            Ok(())
        })
    })();
    let _ = std::fs::remove_dir_all(&stage);
    output::forget(id);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An enormous file is read only up to the cap, and says so; a FIFO-like non-file is refused.
    #[test]
    fn reading_is_capped_and_only_regular_files() {
        let dir = std::env::temp_dir().join(format!("ecsim-read-capped-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("big.csv"), "a\n".repeat(100)).unwrap();
        let mut p = Vec::new();
        let t = read_capped(&dir, "big.csv", 10, &mut p);
        assert_eq!(t, "a\na\na\na\na\n");
        assert_eq!(p.len(), 1);
        assert!(
            p[0].to_string().starts_with("big.csv: larger than"),
            "{p:?}"
        );
        let mut p = Vec::new();
        assert_eq!(read_capped(&dir, "sub", 10, &mut p), "");
        assert_eq!(p[0].to_string(), "sub: not a regular file; left out");
        let mut p = Vec::new();
        assert_eq!(read_capped(&dir, "missing.csv", 10, &mut p), "");
        assert!(p.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
