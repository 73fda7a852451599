//! The documentation is always true: every command and output shown in `README.md`,
//! `ARCHITECTURE.md` and `docs/*.md` is checked here.
//!
//! - A fenced block whose first line is `$ ecsim ...` is a transcript: the command is run (in a
//!   scratch copy of `scenarios/` and `docs/examples/`, so `out/` lands there) and what it prints,
//!   stdout then stderr, must equal the rest of the block. Only the wall time (`in 0.01 s wall`)
//!   is masked.
//! - Every other line of a code block that invokes ecsim (`ecsim CMD`, `cargo run --release --
//!   CMD`, `./target/release/ecsim CMD`) must name a real command, every `--flag` on it must be
//!   one that command's `--help` lists, and every `scenarios/...` file it names must exist.
//! - Every relative link resolves to a file of the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The documents checked, relative to the repository.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![PathBuf::from("README.md"), PathBuf::from("ARCHITECTURE.md")];
    for e in std::fs::read_dir(repo().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            docs.push(p.strip_prefix(repo()).unwrap().to_path_buf());
        }
    }
    docs.sort();
    docs
}

/// A fenced code block: the document, its first line number, its lines (indent removed).
struct Block {
    doc: PathBuf,
    line: usize,
    lines: Vec<String>,
}

fn blocks(doc: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap();
    let mut out = Vec::new();
    let mut open: Option<(usize, usize, Vec<String>)> = None;
    for (i, l) in text.lines().enumerate() {
        let trimmed = l.trim_start();
        let indent = l.len() - trimmed.len();
        if trimmed.starts_with("```") {
            match open.take() {
                Some((line, _, lines)) => out.push(Block {
                    doc: doc.to_path_buf(),
                    line,
                    lines,
                }),
                None => open = Some((i + 2, indent, Vec::new())),
            }
        } else if let Some((_, ind, lines)) = open.as_mut() {
            lines.push(l.get(*ind..).unwrap_or(l.trim_start()).to_string());
        }
    }
    out
}

/// Split a shell command line into words (single and double quotes; `$VAR` kept as text).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Where `line` invokes ecsim: the arguments after the program, up to a shell operator.
fn ecsim_args(line: &str) -> Option<Vec<String>> {
    let line = line.split(" #").next().unwrap();
    let line = line.trim().trim_start_matches("$ ");
    // A command starts the line or follows `&& `, `| ` or a quote (`--wrap 'ecsim ...'`).
    let starts_command = |at: usize| {
        at == 0
            || ["&& ", "| ", "'", "\""]
                .iter()
                .any(|p| line[..at].ends_with(p))
    };
    let rest = [
        "ecsim ",
        "cargo run --release -- ",
        "./target/release/ecsim ",
    ]
    .iter()
    .find_map(|p| {
        line.match_indices(p)
            .find(|(at, _)| starts_command(*at))
            .map(|(at, _)| &line[at + p.len()..])
    })?;
    let mut args = Vec::new();
    for w in words(rest) {
        if ["&&", "||", "|", ";", ">", "2>"].contains(&w.as_str()) {
            break;
        }
        args.push(w);
    }
    Some(args)
}

fn ecsim_in(dir: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ecsim"))
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .output()
        .expect("run ecsim")
}

/// A scratch folder with the repository's `scenarios/` and `docs/examples/`.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecsim-docs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                copy(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }
    copy(&repo().join("scenarios"), &d.join("scenarios"));
    copy(&repo().join("docs/examples"), &d.join("docs/examples"));
    d
}

/// Mask what differs from run to run: the wall time.
fn mask(s: &str) -> String {
    let mut out = String::new();
    for l in s.lines() {
        if let Some(at) = l.find(" s wall") {
            let head = &l[..at];
            let start = head
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(0, |i| i + 1);
            out.push_str(&format!("{}X{}", &l[..start], &l[at..]));
        } else {
            out.push_str(l.trim_end());
        }
        out.push('\n');
    }
    out
}

/// Every transcript (`$ ecsim ...` then its output) prints what the document shows.
#[test]
fn transcripts_print_what_the_docs_show() {
    let dir = scratch("transcripts");
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in documents() {
        for b in blocks(&doc) {
            let Some(first) = b.lines.first() else {
                continue;
            };
            if !first.starts_with("$ ecsim ") {
                continue;
            }
            let args = ecsim_args(first).unwrap();
            let o = ecsim_in(&dir, &args);
            let got = mask(&format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
            let want = mask(&b.lines[1..].join("\n"));
            if got != want {
                failures.push(format!(
                    "{}:{}: `{}` printed\n{got}\nbut the document shows\n{want}",
                    b.doc.display(),
                    b.line,
                    first
                ));
            }
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked >= 3, "only {checked} transcripts found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The `--help` text of a command (cached per command).
fn help_of(cmd: &str, cache: &mut Vec<(String, Option<String>)>) -> Option<String> {
    if let Some((_, h)) = cache.iter().find(|(c, _)| c == cmd) {
        return h.clone();
    }
    let o = ecsim_in(&repo(), &[cmd.to_string(), "--help".to_string()]);
    let h = o
        .status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned());
    cache.push((cmd.to_string(), h.clone()));
    h
}

/// Every ecsim command line in a code block names a real command, flags it has, and files
/// that exist.
#[test]
fn every_command_line_in_the_docs_is_valid() {
    let mut cache = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        for b in blocks(&doc) {
            // Join continuation lines (`\` at the end).
            let mut joined: Vec<(usize, String)> = Vec::new();
            let mut pending: Option<(usize, String)> = None;
            for (i, l) in b.lines.iter().enumerate() {
                let (start, mut text) = pending.take().unwrap_or((b.line + i, String::new()));
                match l.strip_suffix('\\') {
                    Some(head) => {
                        text.push_str(head);
                        pending = Some((start, text));
                    }
                    None => {
                        text.push_str(l);
                        joined.push((start, text));
                    }
                }
            }
            let transcript = b.lines.first().is_some_and(|l| l.starts_with("$ "));
            for (line, l) in joined {
                if l.trim_start().starts_with('#') || (transcript && !l.starts_with("$ ")) {
                    continue;
                }
                let Some(args) = ecsim_args(&l) else { continue };
                let Some(cmd) = args.first() else { continue };
                if cmd.starts_with('-') {
                    continue;
                }
                let place = format!("{}:{line}", b.doc.display());
                let Some(help) = help_of(cmd, &mut cache) else {
                    failures.push(format!("{place}: `ecsim {cmd}` is not a command"));
                    continue;
                };
                for a in &args[1..] {
                    let flag = a.split('=').next().unwrap().trim_matches(['[', ']']);
                    if flag.starts_with("--") && !help.contains(&format!("{flag} ")) {
                        let long_only = !help.contains(&format!("{flag}\n"));
                        if long_only {
                            failures.push(format!("{place}: `ecsim {cmd}` has no {flag}"));
                        }
                    }
                    if a.starts_with("scenarios/")
                        && a.ends_with(".toml")
                        && !a.contains(['*', '{', '$'])
                        && !repo().join(a).is_file()
                    {
                        failures.push(format!("{place}: {a} does not exist"));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} command lines found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every example in `ecsim --help` and in each command's `--help` names a real command, its
/// flags and files that exist; every command has examples.
#[test]
fn help_examples_are_valid() {
    let mut cache = Vec::new();
    let top = ecsim_in(&repo(), &["--help".to_string()]);
    let top = String::from_utf8_lossy(&top.stdout).into_owned();
    let commands: Vec<String> = top
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 6, "{commands:?}");
    let mut failures = Vec::new();
    let mut texts = vec![("ecsim --help".to_string(), top.clone())];
    for c in &commands {
        let h = help_of(c, &mut cache).unwrap();
        texts.push((format!("ecsim {c} --help"), h));
    }
    for (what, help) in &texts {
        let Some(examples) = help.split("Examples").nth(1) else {
            failures.push(format!("{what}: no examples"));
            continue;
        };
        let mut joined = String::new();
        for l in examples.lines().skip(1) {
            match l.trim_end().strip_suffix('\\') {
                Some(head) => joined.push_str(head),
                None => {
                    joined.push_str(l);
                    let line = std::mem::take(&mut joined);
                    let Some(args) = ecsim_args(line.trim()) else {
                        continue;
                    };
                    let cmd = &args[0];
                    let Some(h) = help_of(cmd, &mut cache) else {
                        failures.push(format!("{what}: `ecsim {cmd}` is not a command"));
                        continue;
                    };
                    for a in &args[1..] {
                        if a.starts_with("--")
                            && !h.contains(&format!("{} ", a.split('=').next().unwrap()))
                        {
                            failures.push(format!("{what}: `ecsim {cmd}` has no {a}"));
                        }
                        if a.starts_with("scenarios/")
                            && !a.contains(['*', '$'])
                            && !repo().join(a).exists()
                        {
                            failures.push(format!("{what}: {a} does not exist"));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every relative link in the documents leads to a file or folder of the repository (a clone
/// has nothing outside it).
#[test]
fn links_resolve_inside_the_repository() {
    let mut failures = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(repo().join(&doc)).unwrap();
        let base = repo().join(&doc).parent().unwrap().to_path_buf();
        for (n, l) in text.lines().enumerate() {
            let mut rest = l;
            while let Some(at) = rest.find("](") {
                let after = &rest[at + 2..];
                let end = after.find(')').unwrap_or(after.len());
                let target = after[..end].split('#').next().unwrap();
                rest = &after[end..];
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let p = base.join(target);
                let inside = p
                    .canonicalize()
                    .is_ok_and(|c| c.starts_with(repo()) && c.exists());
                if !inside {
                    failures.push(format!("{}:{}: {target}", doc.display(), n + 1));
                }
            }
            if l.contains("../shared/") {
                failures.push(format!(
                    "{}:{}: names ../shared/, which a clone does not have",
                    doc.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "links that do not resolve:\n{}",
        failures.join("\n")
    );
}

/// The pictures in the README are what ecsim draws today: `docs/images/flash-sale-load.png` is
/// `charts/load.png` of `ecsim run scenarios/flash-sale.toml --report`, and
/// `docs/images/placement-strategies-fragmentation.png` the CPU fragmentation chart of
/// `ecsim sweep scenarios/sweeps/placement-strategies.toml`, byte for byte (charts are
/// deterministic, drawn with the bundled font). After a change to the charts, copy the new
/// files over the old ones.
#[test]
fn readme_images_are_current() {
    let dir = scratch("images");
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let o = ecsim_in(&dir, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "run",
        "scenarios/flash-sale.toml",
        "--report",
        "-q",
        "--out",
        "fs",
    ]);
    run(&[
        "sweep",
        "scenarios/sweeps/placement-strategies.toml",
        "-q",
        "--out",
        "ps",
    ]);
    let mut stale = Vec::new();
    for (made, shown) in [
        ("fs/charts/load.png", "docs/images/flash-sale-load.png"),
        (
            "ps/charts/cluster_mixed_cpu_fragmentation_pct.png",
            "docs/images/placement-strategies-fragmentation.png",
        ),
    ] {
        let new = std::fs::read(dir.join(made)).unwrap();
        if std::fs::read(repo().join(shown)).ok() != Some(new) {
            stale.push(format!(
                "{shown} differs from {made} (in {})",
                dir.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "README pictures out of date:\n{}",
        stale.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
