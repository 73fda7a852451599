//! Hostile input through the `ecsim` binary: the reproducers of `sim/model/tests/corpus/`
//! replayed with `ecsim validate`, and the rules for files a scenario names, input sizes and
//! sweep sizes.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `# expect-cli:` if the file has one, else `# expect:` (`\"` stands for `"`).
fn expectation(bytes: &[u8]) -> String {
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .take_while(|l| l.starts_with(b"# expect"))
        .collect();
    let pick = |prefix: &[u8]| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|l| String::from_utf8_lossy(l).replace("\\\"", "\""))
    };
    pick(b"# expect-cli: ")
        .or_else(|| pick(b"# expect: "))
        .expect("an # expect: line")
}

#[test]
fn validate_gives_each_reproducer_its_error_and_never_panics() {
    let dir = repo().join("sim/model/tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut wrong = Vec::new();
    for f in &files {
        let expect = expectation(&std::fs::read(f).unwrap());
        let o = ecsim(&["validate", f.to_str().unwrap()]);
        let out = text(&o);
        let ok = if expect == "ok" {
            o.status.success()
        } else {
            o.status.code() == Some(1) && out.contains(&expect)
        };
        let raw = out.chars().any(|c| c.is_control() && c != '\n');
        if !ok || raw || out.contains("panicked") {
            wrong.push(format!(
                "{}\n  expected: {expect}\n  got: {out}",
                f.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A scenario in `dir` whose pricing table is `file`.
fn scenario_with_pricing(dir: &Path, file: &str) -> PathBuf {
    let base = std::fs::read_to_string(repo().join("sim/model/tests/corpus/base.toml")).unwrap();
    let text = base.replacen(
        "[simulation]",
        &format!("[pricing]\nfile = \"{file}\"\n\n[simulation]"),
        1,
    );
    let p = dir.join("s.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn files_named_in_a_scenario_stay_in_its_folder_unless_allowed() {
    let root = tmp("paths");
    let (inside, outside) = (root.join("inside"), root.join("outside"));
    std::fs::create_dir_all(inside.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let table = std::fs::read(repo().join("scenarios/pricing/aws-us-east-1.toml")).unwrap();
    std::fs::write(inside.join("sub/prices.toml"), &table).unwrap();
    std::fs::write(outside.join("prices.toml"), &table).unwrap();
    // A file that is not a scenario input: its content must never be shown.
    std::fs::write(outside.join("secret.toml"), "SECRET-CONTENT = [\n").unwrap();

    let s = scenario_with_pricing(&inside, "sub/prices.toml");
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    for (file, says) in [
        (
            "../outside/prices.toml",
            "leads outside the scenario's folder",
        ),
        (
            "sub/../../outside/secret.toml",
            "leads outside the scenario's folder",
        ),
        ("/etc/passwd", "an absolute path is not allowed here"),
        // Files that do not exist get the same refusals, so the message never tells whether a
        // file outside the allowed folders exists.
        (
            "/etc/no-such-file.toml",
            "an absolute path is not allowed here",
        ),
        (
            "../outside/no-such-file.toml",
            "leads outside the scenario's folder",
        ),
        (
            "../../../../../../../../../../no-such",
            "leads outside the scenario's folder",
        ),
    ] {
        let s = scenario_with_pricing(&inside, file);
        let o = ecsim(&["validate", s.to_str().unwrap()]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{file}: {out}");
        assert!(out.contains(says), "{file}: {out}");
        assert!(out.contains("--allow-path"), "{out}");
        assert!(!out.contains("SECRET") && !out.contains("root:"), "{out}");
    }

    // A symbolic link inside the folder that leads out of it is followed, then refused.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.join("prices.toml"), inside.join("link.toml")).unwrap();
        let s = scenario_with_pricing(&inside, "link.toml");
        let o = ecsim(&["validate", s.to_str().unwrap()]);
        assert!(text(&o).contains("leads outside"), "{}", text(&o));
        let allow = outside.to_str().unwrap();
        let o = ecsim(&["validate", s.to_str().unwrap(), "--allow-path", allow]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // Inside the folder, or in an allowed one, a missing file is said to be missing.
    let s = scenario_with_pricing(&inside, "sub/../no-such-file.toml");
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert!(text(&o).contains("No such file"), "{}", text(&o));
    let s = scenario_with_pricing(&inside, "../outside/no-such-file.toml");
    let o = ecsim(&[
        "validate",
        s.to_str().unwrap(),
        "--allow-path",
        outside.to_str().unwrap(),
    ]);
    assert!(text(&o).contains("No such file"), "{}", text(&o));
    let s = scenario_with_pricing(&inside, "../outside/prices.toml");
    let allow = outside.to_str().unwrap();
    let o = ecsim(&["validate", s.to_str().unwrap(), "--allow-path", allow]);
    assert!(o.status.success(), "{}", text(&o));
    let s = scenario_with_pricing(&inside, outside.join("prices.toml").to_str().unwrap());
    let o = ecsim(&["validate", s.to_str().unwrap(), "--allow-path", allow]);
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn input_files_are_read_with_a_size_limit() {
    #[cfg(unix)]
    {
        let start = Instant::now();
        let o = ecsim(&["validate", "/dev/zero", "--max-input-bytes", "1000000"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(
            out.contains("larger than the input limit of 1000000 bytes"),
            "{out}"
        );
        assert!(start.elapsed() < Duration::from_secs(30));
        let o = ecsim(&["validate", "/dev/zero"]);
        assert!(text(&o).contains("larger than the input limit of 16777216 bytes"));
    }
    let o = ecsim(&[
        "validate",
        "scenarios/quickstart.toml",
        "--max-input-bytes",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--max-input-bytes"), "{}", text(&o));
    let o = ecsim(&[
        "run",
        "scenarios/quickstart.toml",
        "--max-input-bytes",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("larger than the input limit"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_sweep_has_a_size_limit_that_can_be_raised() {
    let sweep = "sim/model/tests/corpus/sweep-ok.toml";
    let o = ecsim(&["validate", sweep]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("sweep of base.toml: 2 grid point(s) x 2 seed(s)"));
    let o = ecsim(&["validate", sweep, "--max-runs", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("2 values x 2 seeds = 4 runs, more than the limit of 3"),
        "{}",
        text(&o)
    );
    let o = ecsim(&["sweep", "sim/model/tests/corpus/sweep-too-many-runs.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("raise it with --max-runs"),
        "{}",
        text(&o)
    );
}
