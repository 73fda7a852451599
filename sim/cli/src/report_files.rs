//! Writing charts and HTML reports into output folders.
//!
//! A report is staged in a hidden folder inside the output folder and moved into place when
//! complete: `charts/` (every chart as `<name>.svg` and `<name>.png`) and `report.html`.

use std::path::Path;

use anyhow::{Context, Result};
use ecsim_reports::report::{self, Rendered, RunFiles};

use crate::output;

/// Read a run's output folder.
pub fn read_run(dir: &Path) -> Result<RunFiles> {
    let summary = dir.join("summary.json");
    if !summary.is_file() {
        anyhow::bail!(
            "{} is not an ecsim run output folder: it has no summary.json (make one with `ecsim run SCENARIO --out {}`)",
            dir.display(),
            dir.display()
        );
    }
    let read = |name: &str| -> Result<String> {
        let p = dir.join(name);
        if !p.exists() {
            return Ok(String::new());
        }
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let summary_json = read("summary.json")?;
    ecsim_reports::read_summary(&summary_json)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    Ok(RunFiles {
        summary_json,
        metrics_csv: read("metrics.csv")?,
        cost_csv: read("cost.csv")?,
        scaling_csv: read("scaling.csv")?,
        failures_csv: read("failures.csv")?,
        deployments_csv: read("deployments.csv")?,
    })
}

/// Render a run folder's report.
pub fn render_run(dir: &Path) -> Result<Rendered> {
    let files = read_run(dir)?;
    report::render_run(&files).map_err(|e| anyhow::anyhow!("drawing the charts: {e}"))
}

/// Render a sweep folder's report from its aggregate.csv.
pub fn render_sweep(dir: &Path, name: &str, metrics: &[String]) -> Result<Rendered> {
    let p = dir.join("aggregate.csv");
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    report::render_sweep(name, &text, metrics)
        .map_err(|e| anyhow::anyhow!("drawing the charts: {e}"))
}

/// Whether `dir` may get a new report: a folder ecsim wrote (it has the marker), or one
/// without `charts/` and `report.html` yet, or `force`.
pub fn check_report_target(dir: &Path, force: bool) -> Result<()> {
    if force || output::Marker::read(dir).is_some() {
        return Ok(());
    }
    for name in ["charts", "report.html"] {
        let p = dir.join(name);
        let empty_dir = std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
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
    let _ = std::fs::remove_dir_all(&stage);
    let id = output::on_signal_clean(output::Pending::Report {
        stage: stage.clone(),
        dir: dir.to_path_buf(),
    });
    let result = (|| -> Result<()> {
        std::fs::create_dir(&stage)
            .with_context(|| format!("cannot create {}", stage.display()))?;
        output::Marker::new("report", None).write(&stage)?;
        let charts = stage.join("charts");
        std::fs::create_dir_all(&charts)
            .with_context(|| format!("cannot create {}", charts.display()))?;
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
