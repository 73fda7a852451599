//! `ecsim report` over mutated output folders: the input is split on `\0\x01` into the files
//! `ecsim report` reads, in the order of `INPUT_FILES` (summary.json, metrics.csv, cost.csv,
//! scaling.csv, failures.csv, deployments.csv, aggregate.csv, compare.csv, placements.csv,
//! decisions.csv); an empty part is a missing file.
//! Rendering must not panic or hang, every SVG must be well-formed enough to hold no raw control
//! character, and every problem must name one of the files.
//!
//!   cargo +nightly fuzz run report -- -max_total_time=600
#![no_main]

use ecsim_reports::report::{INPUT_FILES, render_folder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    let mut rest = data;
    for name in INPUT_FILES {
        let (part, tail) = match rest.windows(2).position(|w| w == b"\0\x01") {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (rest, &[][..]),
        };
        if !part.is_empty() {
            files.push((name, part));
        }
        rest = tail;
    }
    let r = render_folder(&files);
    let problems = match &r {
        Ok(r) => {
            for c in &r.charts {
                assert!(!c.svg.contains(['\u{1b}', '\0']), "control character in SVG");
            }
            assert!(!r.html.contains(['\u{1b}', '\0']), "control character in page");
            &r.problems
        }
        Err(u) => &u.problems,
    };
    for p in problems {
        assert!(
            INPUT_FILES.contains(&p.file.as_str()) || p.file.starts_with("charts/"),
            "{p}"
        );
    }
});
