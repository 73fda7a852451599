//! One module per subcommand, each with its clap arguments (`Args`) and its `exec`, in the
//! manner of cargo's `src/bin/cargo/commands/`; and the scenario loading they share.

pub mod compare;
pub mod merge;
pub mod report;
pub mod run;
pub mod sweep;
pub mod validate;

use std::path::Path;

use anyhow::{Context, Result};

use ecsim_model::scenario::{self, Scenario};

/// Read and validate a scenario; `Err` carries every diagnostic, already formatted.
pub fn load(path: &Path, sets: &[String]) -> Result<std::result::Result<Scenario, String>> {
    load_variant(path, sets, None)
}

/// Read a file the scenario names, relative to the scenario's folder.
pub fn relative_reader(
    scenario: &Path,
) -> impl Fn(&str) -> std::result::Result<String, String> + '_ {
    move |name: &str| {
        let p = scenario.parent().unwrap_or(Path::new(".")).join(name);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    }
}

/// Read and validate a scenario with a variant's overrides.
pub fn load_variant(
    path: &Path,
    sets: &[String],
    variant: Option<&scenario::Variant>,
) -> Result<std::result::Result<Scenario, String>> {
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))?;
    let reader = relative_reader(path);
    let opts = scenario::LoadOptions {
        sets,
        variant,
        read_file: Some(&reader),
    };
    Ok(scenario::load_with(&path.display().to_string(), &src, &opts).map_err(|e| e.to_string()))
}
