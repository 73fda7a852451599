//! `ecsim import`: ECS JSON files (task definitions, services, clusters, capacity providers,
//! container instances, Application Auto Scaling targets and policies; API inputs and outputs,
//! CloudFormation templates, Terraform container definitions) to a complete, commented
//! scenario, checked before it is written.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use ecsim_model::scenario::{self, ecs_json};

use crate::error::{CliError, CliResult, FAILURE};
use crate::output;

#[derive(clap::Args)]
/// Turn ECS JSON (task definitions, services, scaling policies, clusters, ...) into a scenario.
#[command(after_help = "\
Examples:
  ecsim import td.json svc.json policy.json -o scenario.toml
  ecsim import exported/ -o scenario.toml     (every *.json file under exported/, in name order)
  ecsim import td.json                        (prints the scenario)

Values ECS JSON does not hold (how long to run, the load, run times, instance types of
capacity providers, step scaling alarms) are written as placeholders marked PLACEHOLDER.
See docs/ecs-json.md for what is read.")]
pub struct Args {
    /// ECS JSON files, or folders to take every *.json file from.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    inputs: Vec<PathBuf>,
    /// Write the scenario to FILE instead of printing it. An existing FILE is replaced only if
    /// `ecsim import` wrote it, or with --force.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The scenario's name [default: the output file's name, else "imported"].
    #[arg(long)]
    name: Option<String>,
    /// Replace FILE even if ecsim did not write it (never one of the inputs).
    #[arg(long)]
    force: bool,
    /// Refuse input files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = ecsim_model::input::DEFAULT_MAX_INPUT_BYTES)]
    max_input_bytes: u64,
}

/// Every input file: files as given, folders' `*.json` files (recursively) in name order.
fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            collect(p, &mut out, 0)?;
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(anyhow!(
            "no *.json file in {}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        // Links are not followed inside folders: a folder could point anywhere.
        let Ok(m) = std::fs::symlink_metadata(&e) else {
            continue;
        };
        if m.is_dir() {
            collect(&e, out, depth + 1)?;
        } else if m.is_file()
            && e.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            out.push(e);
        }
    }
    Ok(())
}

/// The scenario's name: `--name`, else the output file's stem made a valid name, else "imported".
fn scenario_name(args: &Args) -> Result<String> {
    if let Some(n) = &args.name {
        if !ecs_json::import::valid_name(n) {
            return Err(anyhow!(
                "--name {}: a name uses letters, digits, '-', '_' and '.', does not start with '.', at most 255 characters (it names the output folder)",
                scenario::read::shown(n)
            ));
        }
        return Ok(n.clone());
    }
    let stem = args
        .output
        .as_ref()
        .and_then(|o| o.file_stem())
        .map(|s| s.to_string_lossy().to_string());
    let cleaned: String = stem
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    Ok(
        if cleaned.is_empty() || !ecs_json::import::valid_name(&cleaned) {
            "imported".into()
        } else {
            cleaned
        },
    )
}

/// Import, check the scenario, write or print it.
pub fn exec(args: Args) -> CliResult {
    let files = input_files(&args.inputs)?;
    let mut texts = Vec::new();
    for f in &files {
        texts.push((
            f.display().to_string(),
            super::read_input(f, args.max_input_bytes, "ECS JSON file")?,
        ));
    }
    let name = scenario_name(&args)?;
    let imported = match ecs_json::import(&texts, &name) {
        Ok(i) => i,
        Err((errors, warnings)) => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{} problem{} found; nothing written",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return Err(CliError::code(FAILURE));
        }
    };
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let shown = args
        .output
        .as_ref()
        .map_or("the imported scenario".to_string(), |o| {
            o.display().to_string()
        });
    if let Err(e) = scenario::load(&shown, &imported.toml, &[]) {
        eprintln!("{e}");
        eprintln!(
            "the imported values do not make a valid scenario (above); nothing written. Name the JSON from a scenario with file = \"...\" and fix the fields there (see docs/ecs-json.md)"
        );
        return Err(CliError::code(FAILURE));
    }
    let placeholders = imported.toml.matches("# PLACEHOLDER").count();
    match &args.output {
        None => print!("{}", imported.toml),
        Some(o) => {
            let inputs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
            output::write_owned_file(
                o,
                imported.toml.as_bytes(),
                ecs_json::import::HEADER,
                args.force,
                &inputs,
            )?;
            eprintln!(
                "wrote {} from {} file{}: {placeholders} placeholder{} to check (lines marked PLACEHOLDER); run it with: ecsim run {}",
                o.display(),
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                if placeholders == 1 { "" } else { "s" },
                o.display()
            );
        }
    }
    Ok(())
}
