//! Replays `tests/corpus/`: one file per hostile input found so far (issue 10 and fuzzing),
//! each with the error it must give (`# expect: TEXT` in its first lines, `\"` standing for
//! `"`; `ok` if it must load). Every file goes through the input check, the scenario or sweep
//! loader, each `[[variants]]` entry, and, when it loads, a short run with the invariants
//! checked: nothing may panic, and each must give its expected message.

use std::path::{Path, PathBuf};

use ecsim_model::input;
use ecsim_model::record::Sink;
use ecsim_model::scenario::{self, LoadOptions, Scenario};
use ecsim_model::sim::{self, RunOptions};
use ecsim_model::sweep;

struct Null;
impl Sink for Null {}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The `# expect:` lines of a file (as bytes: some files are not UTF-8).
fn expectations(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == b'\n')
        .map_while(|l| l.strip_prefix(b"# expect"))
        .filter_map(|l| l.strip_prefix(b": "))
        .map(|l| String::from_utf8_lossy(l).replace("\\\"", "\""))
        .collect()
}

/// Files named in a corpus scenario: only plain names in the corpus folder (the CLI's own rules
/// are tested with the CLI).
fn reader(name: &str) -> Result<String, String> {
    if name.starts_with('/') || name.contains("..") {
        return Err("outside the corpus folder".into());
    }
    std::fs::read_to_string(corpus().join(name)).map_err(|e| e.to_string())
}

/// Load, then run briefly with invariants checked.
fn load_and_run(file: &str, src: &str, opts: &LoadOptions<'_>) -> Result<Scenario, String> {
    let sc = scenario::load_with(file, src, opts).map_err(|e| e.to_string())?;
    let sets = [
        "simulation.max_events=20000".to_string(),
        "simulation.max_time=\"2h\"".to_string(),
    ];
    let short = LoadOptions {
        sets: &sets,
        ..*opts
    };
    let brief = scenario::load_with(file, src, &short).map_err(|e| e.to_string())?;
    let opts = RunOptions {
        seed: brief.seed,
        check_invariants: true,
    };
    let _ = sim::run(&brief, opts, Null);
    Ok(sc)
}

/// Everything the loader says about one corpus file ("" if it loads and runs).
fn replay(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() as u64 <= input::DEFAULT_MAX_INPUT_BYTES);
    let src = match input::decode(&name, bytes) {
        Ok(s) => s,
        Err(d) => return d.to_string(),
    };
    let read: scenario::FileReader<'_> = &reader;
    if sweep::looks_like_sweep(&src) {
        let sw = match sweep::load(&name, &src) {
            Ok(sw) => sw,
            Err(diags) => return diags.iter().map(|d| format!("{d}\n")).collect(),
        };
        let base_src = std::fs::read_to_string(corpus().join(&sw.scenario)).unwrap();
        let mut out = String::new();
        let mut first = None;
        for p in 0..sw.points() {
            let v = sw.variant(p);
            let opts = LoadOptions {
                variant: Some(&v),
                read_file: Some(read),
                variant_file: Some((&name, &src)),
                ..LoadOptions::default()
            };
            match load_and_run(&sw.scenario, &base_src, &opts) {
                Ok(sc) => first = first.or(Some(sc)),
                Err(e) => out.push_str(&format!("grid point {p}:\n{e}\n")),
            }
        }
        if let Some(sc) = first
            && let Err(diags) = sweep::check_metrics(&name, &src, &sc)
        {
            out.extend(diags.iter().map(|d| format!("{d}\n")));
        }
        return out;
    }
    let opts = LoadOptions {
        read_file: Some(read),
        ..LoadOptions::default()
    };
    if let Err(e) = load_and_run(&name, &src, &opts) {
        return e;
    }
    let variants = match scenario::variants(&name, &src) {
        Ok(v) => v,
        Err(e) => return e.to_string(),
    };
    let mut out = String::new();
    for v in &variants {
        let opts = LoadOptions {
            variant: Some(v),
            read_file: Some(read),
            ..LoadOptions::default()
        };
        if let Err(e) = load_and_run(&name, &src, &opts) {
            out.push_str(&format!("variant {}:\n{e}\n", v.name));
        }
    }
    out
}

#[test]
fn every_reproducer_gives_its_error_and_nothing_panics() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus is in tests/corpus/");
    let mut wrong = Vec::new();
    for f in &files {
        let expect = expectations(&std::fs::read(f).unwrap());
        assert!(!expect.is_empty(), "{}: no # expect: line", f.display());
        let got = replay(f);
        let ok = if expect[0] == "ok" {
            got.is_empty()
        } else {
            got.contains(&expect[0])
        };
        // Whatever the input, a message never carries a raw control character.
        let raw = got.chars().any(|c| c.is_control() && c != '\n');
        if !ok || raw {
            wrong.push(format!(
                "{}\n  expected: {}\n  got: {got}",
                f.display(),
                expect[0]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
