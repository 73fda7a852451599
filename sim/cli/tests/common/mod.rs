//! What every CLI test file needs: the binary, the repository, a scratch folder, the output.
#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `ecsim ARGS` in the repository, ready to run or spawn.
pub fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsim"));
    c.args(args).current_dir(repo());
    c
}

/// Run `ecsim ARGS` in the repository.
pub fn ecsim(args: &[&str]) -> Output {
    cmd(args).output().expect("run ecsim")
}

/// `ecsim run SCENARIO --out OUT -q`.
pub fn run_quiet(scenario: &Path, out: &Path) -> Output {
    ecsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ])
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// An empty scratch folder, unique to this test process and `name`.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecsim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Everything a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
