//! Writing charts and HTML reports into output folders.
//!
//! A report is staged in a hidden folder inside the output folder and moved into place when
//! complete: `charts/` (every chart as `<name>.svg` and `<name>.png`) and `report.html`.

use std::path::Path;

use anyhow::{Context, Result};
use ecsim_reports::report::{self, Rendered, RunFiles};

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

/// Write `charts/` and `report.html` into `dir`, replacing older ones only when all are written.
pub fn write(dir: &Path, r: &Rendered) -> Result<()> {
    let stage = dir.join(format!(".report.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    let result = (|| -> Result<()> {
        let charts = stage.join("charts");
        std::fs::create_dir_all(&charts)
            .with_context(|| format!("cannot create {}", charts.display()))?;
        for c in &r.charts {
            std::fs::write(charts.join(format!("{}.svg", c.name)), &c.svg)?;
            std::fs::write(charts.join(format!("{}.png", c.name)), &c.png)?;
        }
        std::fs::write(stage.join("report.html"), &r.html)?;
        let old = dir.join("charts");
        if old.exists() {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("cannot replace {}", old.display()))?;
        }
        std::fs::rename(&charts, &old)
            .with_context(|| format!("cannot move charts into {}", dir.display()))?;
        std::fs::rename(stage.join("report.html"), dir.join("report.html"))
            .with_context(|| format!("cannot move report.html into {}", dir.display()))?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&stage);
    result
}
