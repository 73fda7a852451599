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
    /// Stop reading a trace (`arrival.type = "trace"`) after this many bytes (decompressed).
    /// Traces are streamed, not held in memory, so this bounds time, not memory.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_TRACE_BYTES)]
    pub max_trace_bytes: u64,
}

/// Default of `--max-trace-bytes`: 64 GiB, far above any published trace file.
pub const DEFAULT_MAX_TRACE_BYTES: u64 = 64 << 30;

impl Default for InputArgs {
    fn default() -> Self {
        InputArgs {
            allow_paths: Vec::new(),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_trace_bytes: DEFAULT_MAX_TRACE_BYTES,
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
        let (p, canonical) = resolve_named_file(scenario, input, name)?;
        let shown = p.display().to_string();
        let bytes = read_bounded(&canonical, input.max_input_bytes)
            .map_err(|e| format!("{shown}: {e}"))?
            .ok_or_else(|| input::too_large(&shown, input.max_input_bytes).to_string())?;
        input::decode(&shown, bytes).map_err(|d| d.to_string())
    }
}

/// A file a scenario names, as shown (relative to the scenario's folder) and canonical: inside
/// the scenario's folder after following symbolic links, or inside a folder given with
/// `--allow-path`, and a regular file. It is recorded as an input no output may replace.
pub fn resolve_named_file(
    scenario: &Path,
    input: &InputArgs,
    name: &str,
) -> std::result::Result<(PathBuf, PathBuf), String> {
    let folder = match scenario.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let given = Path::new(name);
    let p = folder.join(given);
    let own = folder.canonicalize().map_or_else(
        |_| folder.display().to_string(),
        |d| d.display().to_string(),
    );
    let absolute = || {
        format!(
            "an absolute path is not allowed here; name the file relative to the scenario's folder {own}, or pass --allow-path DIR to allow a folder"
        )
    };
    let outside = || {
        format!(
            "{} leads outside the scenario's folder {own} (symbolic links followed); keep the file there, or pass --allow-path DIR to allow a folder",
            p.display()
        )
    };
    let under = |path: &Path, dir: &Path| dir.canonicalize().is_ok_and(|d| path.starts_with(&d));
    let canonical = match p.canonicalize() {
        Ok(c) => c,
        Err(e) => {
            // A file that does not exist is refused by the same rules as one that does, so the
            // message never tells whether a file outside the allowed folders exists.
            let lexical = folder
                .canonicalize()
                .ok()
                .and_then(|f| lexically_within(&f, given));
            let allowed = lexical
                .as_ref()
                .is_some_and(|l| input.allow_paths.iter().any(|d| under(l, d)));
            if !allowed && given.is_absolute() {
                return Err(absolute());
            }
            if !allowed && lexical.as_ref().is_none_or(|l| !under(l, folder)) {
                return Err(outside());
            }
            return Err(format!("{}: {e}", p.display()));
        }
    };
    let allowed_elsewhere = input.allow_paths.iter().any(|d| under(&canonical, d));
    if !allowed_elsewhere {
        if given.is_absolute() {
            return Err(absolute());
        }
        if !under(&canonical, folder) {
            return Err(outside());
        }
    }
    if !canonical.is_file() {
        return Err(format!("{}: not a regular file", p.display()));
    }
    files_read_by_scenarios()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(canonical.clone());
    Ok((p, canonical))
}

/// `base` joined with `rel` with `.` and `..` resolved by name (no file system access), or
/// `None` when a `..` would climb above the root. For a path that does not exist, so cannot be
/// canonicalised.
fn lexically_within(base: &Path, rel: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = if rel.is_absolute() {
        PathBuf::new()
    } else {
        base.to_path_buf()
    };
    for c in rel.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Some(out)
}

/// A reader that fails once more than `left` bytes have been read (`--max-trace-bytes`).
struct Capped<R> {
    inner: R,
    left: u64,
    shown: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "{} is longer than the trace limit of --max-trace-bytes bytes (decompressed); raise it if this is really meant",
                self.shown
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Open a trace a scenario names (same rules as [`resolve_named_file`]), streamed: a `.gz` file
/// is decompressed as it is read; at most `--max-trace-bytes` bytes are read. The shown name
/// is returned for messages.
pub fn open_trace(
    scenario: &Path,
    input: &InputArgs,
    name: &str,
) -> std::result::Result<(String, Box<dyn std::io::BufRead + Send>), String> {
    let (p, canonical) = resolve_named_file(scenario, input, name)?;
    let shown = p.display().to_string();
    let f = std::fs::File::open(&canonical).map_err(|e| format!("{shown}: {e}"))?;
    let raw: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            f,
        )))
    } else {
        Box::new(f)
    };
    let capped = Capped {
        inner: raw,
        left: input.max_trace_bytes,
        shown: shown.clone(),
    };
    Ok((
        shown,
        Box::new(std::io::BufReader::with_capacity(1 << 16, capped)),
    ))
}

/// Open every trace of a scenario for a run.
pub fn open_traces(
    scenario: &Path,
    input: &InputArgs,
    sc: &Scenario,
) -> std::result::Result<ecsim_model::trace::Traces, String> {
    ecsim_model::trace::Traces::open(sc, |spec| {
        open_trace(scenario, input, &spec.file).map(|(_, r)| r)
    })
    .map_err(|errors| {
        errors
            .iter()
            .map(|(j, e)| format!("error: {}: jobs[{j}].arrival.file: {e}", scenario.display()))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// What a scenario's machine traces gave (`[[clusters]] machines`, `[failures] trace`): rows
/// used and skipped, one line each, for the terminal.
pub fn machine_trace_lines(sc: &Scenario) -> Vec<String> {
    let mut lines = Vec::new();
    for c in &sc.clusters {
        if let Some(m) = &c.machines {
            lines.push(format!(
                "  machines {}: {} rows, {} machines in {} instance group{} of cluster {} (one per shape; a machine's later rows repeat it)",
                m.file,
                m.rows,
                m.machines,
                c.groups.len(),
                if c.groups.len() == 1 { "" } else { "s" },
                c.name
            ));
        }
    }
    if let Some(t) = &sc.failures.trace {
        let cluster = &sc.clusters[t.cluster];
        let instances: u32 = cluster.groups.iter().map(|g| g.count).sum();
        lines.push(format!(
            "  failure trace {}: {} failure rows used, {} skipped (machines beyond cluster {}'s {} instances), {} add rows; {} machines mapped",
            t.file, t.failures, t.beyond_cluster, cluster.name, instances, t.add_rows, t.machines_mapped
        ));
    }
    lines
        .iter()
        .map(|l| ecsim_reports::escape::terminal(l).into_owned())
        .collect()
}

/// Read every trace of a scenario through (streamed) and report every malformed row, as
/// `error: FILE:LINE:COLUMN: ...` lines; `Ok` if there is none.
pub fn check_traces(
    scenario: &Path,
    input: &InputArgs,
    sc: &Scenario,
) -> std::result::Result<(), String> {
    let mut lines = Vec::new();
    for (j, job) in sc.jobs.iter().enumerate() {
        let ecsim_model::scenario::Arrival::Trace(spec) = &job.arrival else {
            continue;
        };
        let path = format!("jobs[{j}].arrival");
        match open_trace(scenario, input, &spec.file) {
            Err(e) => lines.push(format!("error: {}: {path}.file: {e}", scenario.display())),
            Ok((shown, src)) => {
                let c = ecsim_model::trace::check(spec, src, &shown, &path);
                lines.extend(c.problems.iter().map(|d| format!("error: {d}")));
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let n = lines.len();
    lines.push(format!(
        "{n} problem{} found in traces",
        if n == 1 { "" } else { "s" }
    ));
    Err(lines.join("\n"))
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
    Ok(match loaded {
        Ok(sc) => check_traces(path, input, &sc).map(|()| sc),
        Err(e) => Err(e.to_string()),
    })
}

/// A `--fork-at` time: a duration after time zero (`11h`, `90m`).
pub fn fork_time(s: &str) -> std::result::Result<u64, String> {
    match ecsim_engine::parse_duration_ms(s) {
        Ok(0) => Err("the fork time must be after time zero".to_string()),
        Ok(ms) => Ok(ms),
        Err(e) => Err(e.0),
    }
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
