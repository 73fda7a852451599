//! `ecsim import` and ECS JSON named from scenarios, end to end (issue 13).

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn hash(o: &Output) -> String {
    let t = text(o);
    t.lines()
        .find(|l| l.contains("events hash"))
        .unwrap_or_else(|| panic!("{t}"))
        .to_string()
}

const EXAMPLE: [&str; 3] = [
    "scenarios/ecs-json/sample-fargate-taskdef.json",
    "scenarios/ecs-json/service.json",
    "scenarios/ecs-json/ecs-target-tracking-cpu75-config.json",
];

#[test]
fn running_json_says_to_import_it() {
    let o = ecsim(&["run", "scenarios/ecs-json/service.json"]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("this is JSON, not a scenario (TOML)"), "{t}");
    assert!(
        t.contains("ecsim import scenarios/ecs-json/service.json -o scenario.toml"),
        "{t}"
    );
    assert!(!t.contains("TOML syntax"), "{t}");
}

#[test]
fn an_imported_scenario_runs_like_the_json_named_from_a_scenario() {
    let d = tmp("roundtrip");
    let out = d.join("web.toml");
    let mut args = vec!["import"];
    args.extend(EXAMPLE);
    args.extend(["-o", out.to_str().unwrap()]);
    let o = ecsim(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("5 placeholders to check"), "{}", text(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("# Written by `ecsim import`"),
        "{written}"
    );
    assert!(
        written.contains("name = \"web\""),
        "the name comes from the output file"
    );

    // The same JSON files named from a scenario beside them, with the same placeholders.
    for f in EXAMPLE {
        std::fs::copy(repo().join(f), d.join(Path::new(f).file_name().unwrap())).unwrap();
    }
    let by_file = d.join("by-file.toml");
    std::fs::write(&by_file, "schema_version = 1\nname = \"web\"\n[simulation]\nduration = \"2h\"\n\
        [[clusters]]\nname = \"default\"\n[[clusters.instance_groups]]\nname = \"default\"\ninstance_type = \"m5.large\"\ncount = 0\navailability_zones = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]\n\
        [[task_definitions]]\nfile = \"sample-fargate-taskdef.json\"\n\
        [[services]]\nfile = \"service.json\"\nload = { components = [{ type = \"constant\", rps = 500 }], requests_per_task = 100 }\n\
        [services.auto_scaling]\nmin_capacity = 1\nmax_capacity = 8\n\
        [[services.auto_scaling.target_tracking]]\nfile = \"ecs-target-tracking-cpu75-config.json\"\nname = \"ecs-target-tracking-cpu75-config\"\n").unwrap();
    let a = ecsim(&[
        "run",
        out.to_str().unwrap(),
        "--out",
        d.join("a").to_str().unwrap(),
    ]);
    let b = ecsim(&[
        "run",
        by_file.to_str().unwrap(),
        "--out",
        d.join("b").to_str().unwrap(),
    ]);
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        text(&a),
        text(&b)
    );
    assert_eq!(hash(&a), hash(&b));
    assert_eq!(
        std::fs::read(d.join("a/events.csv")).unwrap(),
        std::fs::read(d.join("b/events.csv")).unwrap()
    );

    // Importing again replaces the file ecsim wrote; a user's file only with --force; an input never.
    let o = ecsim(&args);
    assert!(o.status.success(), "{}", text(&o));
    let mine = d.join("mine.toml");
    std::fs::write(&mine, "# my notes\n").unwrap();
    let o = ecsim(&["import", EXAMPLE[0], "-o", mine.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("already exists and was not written by ecsim"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "# my notes\n");
    let o = ecsim(&[
        "import",
        EXAMPLE[0],
        "-o",
        mine.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let input = d.join("service.json");
    let o = ecsim(&[
        "import",
        input.to_str().unwrap(),
        EXAMPLE[0],
        "-o",
        input.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("an input of this command"),
        "{}",
        text(&o)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn json_files_go_through_the_input_checks_and_report_positions() {
    let d = tmp("paths");
    let inner = d.join("s");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(
        d.join("td.json"),
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"memory\": 128}]}",
    )
    .unwrap();
    let sc = "schema_version = 1\nname = \"p\"\n[[clusters]]\nname = \"c\"\ninstance_type = \"m5.large\"\ncount = 1\n[[task_definitions]]\nfile = \"../td.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"x\"\narrival = { type = \"list\", at = [\"0s\"] }\nrun_time = \"1m\"\n";
    std::fs::write(inner.join("s.toml"), sc).unwrap();
    let s = inner.join("s.toml");
    let o = ecsim(&["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("leads outside the scenario's folder"),
        "{}",
        text(&o)
    );
    let o = ecsim(&[
        "validate",
        s.to_str().unwrap(),
        "--allow-path",
        d.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&[
        "validate",
        s.to_str().unwrap(),
        "--allow-path",
        d.to_str().unwrap(),
        "--max-input-bytes",
        "200",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    std::fs::write(d.join("td.json"), "{\"family\": \"x\",\n \"containerDefinitions\": [{\"name\": \"a\", \"memory\": 128, \"resourceRequirements\": [{\"type\": \"GPU\", \"value\": \"1\"}]}],\n \"cpu\": 1 2}").unwrap();
    let o = ecsim(&[
        "validate",
        s.to_str().unwrap(),
        "--allow-path",
        d.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(
        t.contains("td.json:3:11: JSON syntax: expected ',' or '}', found '2'"),
        "{t}"
    );
    assert!(
        !t.contains("missing"),
        "no problems that only follow from the bad file: {t}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The lines of the README's block that starts with `$ <command>`.
fn readme_block(command: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find(&format!("$ {command}\n"))
        .unwrap_or_else(|| panic!("README shows `{command}`"));
    let rest = &readme[start..];
    let end = rest.find("```").unwrap();
    rest[..end].lines().skip(1).map(str::to_string).collect()
}

#[test]
fn the_readme_shows_what_the_ecs_json_commands_print() {
    let d = tmp("readme");
    let o = ecsim(&[
        "run",
        "scenarios/ecs-json/web.toml",
        "--out",
        d.join("run").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for line in readme_block("ecsim run scenarios/ecs-json/web.toml") {
        if line.contains("s wall") {
            let kept = line.split(" in ").next().unwrap();
            assert!(t.contains(kept), "README line {line:?} not in\n{t}");
        } else if line.contains("output ") {
            assert!(line.contains("out/ecs-json-web/ (events.csv"), "{line}");
        } else {
            assert!(t.contains(&line), "README line {line:?} not in\n{t}");
        }
    }
    // The folder: its JSON files in name order.
    let out = d.join("web.toml");
    let o = ecsim(&["import", "scenarios/ecs-json", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let shown = readme_block("ecsim import scenarios/ecs-json -o web.toml").join("\n");
    assert_eq!(
        text(&o).trim(),
        shown.replace("web.toml", out.to_str().unwrap()).trim()
    );
    let o = ecsim(&[
        "run",
        out.to_str().unwrap(),
        "--out",
        d.join("imp").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn warnings_name_the_field_and_quiet_runs_print_none() {
    let d = tmp("warn");
    std::fs::write(d.join("td.json"), "{\"family\": \"g\", \"containerDefinitions\": [{\"name\": \"a\", \"memory\": 128,\n  \"resourceRequirements\": [{\"type\": \"GPU\", \"value\": \"1\"}]}]}").unwrap();
    std::fs::write(d.join("s.toml"), "schema_version = 1\nname = \"w\"\n[[clusters]]\nname = \"c\"\ninstance_type = \"m5.large\"\ncount = 1\n[[task_definitions]]\nfile = \"td.json\"\n[[jobs]]\nname = \"j\"\ntask_definition = \"g\"\narrival = { type = \"list\", at = [\"0s\"] }\nrun_time = \"1m\"\n").unwrap();
    let s = d.join("s.toml");
    let o = ecsim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("warning: ") && err.contains("td.json:2:28: containerDefinitions[0].resourceRequirements[0]: not modelled, ignored: resource requirement GPU = 1"), "{err}");
    let o = ecsim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        d.join("o").to_str().unwrap(),
        "-q",
    ]);
    assert!(
        o.status.success() && o.stderr.is_empty() && o.stdout.is_empty(),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&d);
}
