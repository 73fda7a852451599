//! One module per subcommand, each with its clap arguments (`Args`) and its `exec`, in the
//! manner of cargo's `src/bin/cargo/commands/`; and the scenario loading they share.

pub mod audit;
pub mod compare;
pub mod import;
pub mod merge;
pub mod report;
pub mod run;
pub mod size;
pub mod sweep;
pub mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use ecsim_model::input::{self, DEFAULT_MAX_INPUT_BYTES};
use ecsim_model::scenario::{self, Scenario};

/// How input files are read: their size limit and the folders, besides the scenario's own,
/// that files named in a scenario may come from.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Also allow files named in the scenario (pricing table, load CSV) under DIR (repeatable);
    /// by default they must be inside the scenario's folder.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_paths: Vec<PathBuf>,
    /// Refuse input files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_bytes: u64,
}

impl Default for InputArgs {
    fn default() -> Self {
        InputArgs {
            allow_paths: Vec::new(),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// The UTF-8 text of an input file, read with a bounded reader: an endless or huge file (say
/// `/dev/zero`) stops at `max` bytes with an error, and text that is not UTF-8 is reported with
/// its line and byte offset. `what` names the file in messages ("scenario", "sweep", ...).
pub fn read_input(path: &Path, max: u64, what: &str) -> Result<String> {
    let shown = path.display().to_string();
    let bytes = read_bounded(path, max).with_context(|| format!("cannot read {what} {shown}"))?;
    let bytes = bytes.ok_or_else(|| anyhow!("{}", input::too_large(&shown, max)))?;
    input::decode(&shown, bytes).map_err(|d| anyhow!("{d}"))
}

/// Up to `max` bytes of a file; `None` if it has more.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a folder, not a file"));
    }
    let mut bytes = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// Read and validate a scenario; `Err` carries every diagnostic, already formatted.
pub fn load(
    path: &Path,
    sets: &[String],
    input: &InputArgs,
) -> Result<std::result::Result<Scenario, String>> {
    load_variant(path, sets, None, input)
}

/// Read a file the scenario names: relative to the scenario's folder, and, after following
/// symbolic links, inside it or inside a folder given with `--allow-path`; a regular file of at
/// most `--max-input-bytes`. The error never quotes the file.
pub fn relative_reader<'a>(
    scenario: &'a Path,
    input: &'a InputArgs,
) -> impl Fn(&str) -> std::result::Result<String, String> + 'a {
    move |name: &str| {
        let folder = match scenario.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let given = Path::new(name);
        let p = folder.join(given);
        let canonical = p
            .canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()))?;
        let inside = |dir: &Path| dir.canonicalize().is_ok_and(|d| canonical.starts_with(&d));
        let allowed_elsewhere = input.allow_paths.iter().any(|d| inside(d));
        if !allowed_elsewhere {
            let own = folder.canonicalize().map_or_else(
                |_| folder.display().to_string(),
                |d| d.display().to_string(),
            );
            if given.is_absolute() {
                return Err(format!(
                    "an absolute path is not allowed here; name the file relative to the scenario's folder {own}, or pass --allow-path DIR to allow a folder"
                ));
            }
            if !inside(folder) {
                return Err(format!(
                    "{} leads outside the scenario's folder {own} (symbolic links followed); keep the file there, or pass --allow-path DIR to allow a folder",
                    p.display()
                ));
            }
        }
        if !canonical.is_file() {
            return Err(format!("{}: not a regular file", p.display()));
        }
        files_read_by_scenarios()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(canonical.clone());
        let shown = p.display().to_string();
        let bytes = read_bounded(&canonical, input.max_input_bytes)
            .map_err(|e| format!("{shown}: {e}"))?
            .ok_or_else(|| input::too_large(&shown, input.max_input_bytes).to_string())?;
        input::decode(&shown, bytes).map_err(|d| d.to_string())
    }
}

/// Every file a scenario named and this process read (pricing tables, load CSV files): inputs
/// that an output folder must never replace, even with `--force`.
pub fn files_read_by_scenarios() -> &'static std::sync::Mutex<Vec<std::path::PathBuf>> {
    static FILES: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    &FILES
}

/// The command's own inputs plus the files its scenarios read.
pub fn all_inputs(own: &[&Path]) -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = own.iter().map(|p| p.to_path_buf()).collect();
    v.extend(
        files_read_by_scenarios()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned(),
    );
    v
}

/// Read and validate a scenario with a variant's overrides.
pub fn load_variant(
    path: &Path,
    sets: &[String],
    variant: Option<&scenario::Variant>,
    input: &InputArgs,
) -> Result<std::result::Result<Scenario, String>> {
    let src = read_input(path, input.max_input_bytes, "scenario")?;
    if looks_like_json(path, &src) {
        return Ok(Err(format!(
            "error: {}: this is JSON, not a scenario (TOML). If it is ECS JSON (a task definition, service, scaling policy, ...), turn it into a scenario with\n  ecsim import {} -o scenario.toml\nor name it in a scenario with file = \"...\" (see docs/ecs-json.md)",
            path.display(),
            path.display()
        )));
    }
    let reader = relative_reader(path, input);
    let opts = scenario::LoadOptions {
        sets,
        variant,
        read_file: Some(&reader),
        variant_file: None,
    };
    let loaded = scenario::load_with(&path.display().to_string(), &src, &opts);
    let quiet = QUIET.load(std::sync::atomic::Ordering::Relaxed);
    if let (Ok(sc), None, false) = (&loaded, variant, quiet) {
        for w in &sc.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(loaded.map_err(|e| e.to_string()))
}

/// `-q`: the command prints nothing but errors, so no warnings either (set once, at start).
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether an input given as a scenario is JSON: named `*.json`, or starting as a JSON object
/// or array does (a TOML file starts with a key, a comment or a `[table]` header).
pub fn looks_like_json(path: &Path, src: &str) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return true;
    }
    let t = src.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('{') || (t.starts_with('[') && t[1..].trim_start().starts_with(['{', '"', ']']))
}

/// Print the scenario's likely modelling mistakes ([`scenario::warnings::warnings`]) on stderr,
/// `warning: FILE: ...`, prefixed with `label` (a variant) if given; nothing with `quiet`.
pub fn print_warnings(path: &Path, label: Option<&str>, sc: &Scenario, quiet: bool) {
    if quiet {
        return;
    }
    for w in scenario::warnings::warnings(sc) {
        let at = match label {
            Some(l) => format!("{} (variant {l})", path.display()),
            None => path.display().to_string(),
        };
        eprintln!(
            "{}",
            ecsim_reports::escape::terminal(&format!("warning: {at}: {w}"))
        );
    }
}
