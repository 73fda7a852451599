//! Snapshot and fork (issue 15): a branch without changes is the plain run, record for record;
//! a branch's changes are what the plain run of its scenario does from the fork on; what a
//! running cluster cannot take is refused, naming the field.

use std::path::{Path, PathBuf};

use ecsim_model::record::*;
use ecsim_model::scenario::{self, Arrival, LoadOptions, Scenario};
use ecsim_model::sim::{self, RunOptions, fork};

/// Every record a run hands its sink, as text, in order.
#[derive(Default)]
struct Log(String);

impl Log {
    fn add(&mut self, what: &str, r: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{what} {r:?}\n"));
    }
}

impl Sink for Log {
    fn begin(&mut self, h: &RunHeader<'_>) {
        self.add("begin", h)
    }
    fn event(&mut self, e: &EventRecord<'_>) {
        self.add("event", e)
    }
    fn metrics(&mut self, m: &MetricsRow<'_>) {
        self.add("metrics", m)
    }
    fn task(&mut self, t: &TaskRow<'_>) {
        self.add("task", t)
    }
    fn cost(&mut self, c: &CostRow<'_>) {
        self.add("cost", c)
    }
    fn scaling(&mut self, s: &ScalingRecord<'_>) {
        self.add("scaling", s)
    }
    fn failure(&mut self, f: &FailureRow<'_>) {
        self.add("failure", f)
    }
    fn deployment(&mut self, d: &DeploymentRow<'_>) {
        self.add("deployment", d)
    }
    fn explains(&self) -> bool {
        true
    }
    fn placement(&mut self, p: &PlacementRecord<'_>) {
        self.add("placement", p)
    }
    fn decision(&mut self, d: &DecisionRecord<'_>) {
        self.add("decision", d)
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn opts(sc: &Scenario) -> RunOptions {
    RunOptions {
        seed: sc.seed,
        check_invariants: false,
    }
}

/// A scenario and its variants, loaded as the CLI would (benchmarks at a reduced size).
fn load_all(rel: &str) -> (Scenario, Vec<Scenario>) {
    let path = repo().join("scenarios").join(rel);
    let src = std::fs::read_to_string(&path).unwrap();
    let dir = path.parent().unwrap().to_path_buf();
    let reader = |name: &str| -> Result<String, String> {
        std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
    };
    let sets: Vec<String> = if rel.starts_with("bench/") {
        vec![
            "clusters[0].count=200".into(),
            "jobs[0].arrival.count=5000".into(),
            "jobs[0].arrival.rate_per_s=0.165926".into(),
        ]
    } else {
        Vec::new()
    };
    let load = |variant: Option<&scenario::Variant>| {
        let o = LoadOptions {
            sets: &sets,
            variant,
            read_file: Some(&reader),
            ..LoadOptions::default()
        };
        scenario::load_with(rel, &src, &o).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let variants = scenario::variants(rel, &src)
        .unwrap()
        .iter()
        .map(|v| load(Some(v)))
        .collect();
    (load(None), variants)
}

/// Every shipped scenario without trace jobs, with a fork time inside its run.
fn forkable() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("scenarios")];
    while let Some(d) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if !p.ends_with("pricing") {
                    dirs.push(p);
                }
                continue;
            }
            let src = std::fs::read_to_string(&p).unwrap_or_default();
            if p.extension().is_none_or(|e| e != "toml")
                || src.lines().any(|l| l.trim() == "[[parameters]]")
            {
                continue;
            }
            let rel = p
                .strip_prefix(repo().join("scenarios"))
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let (sc, _) = load_all(&rel);
            if sc
                .jobs
                .iter()
                .any(|j| matches!(j.arrival, Arrival::Trace(..)))
            {
                continue;
            }
            // Half-way, or 10 minutes into a run that ends when its work is done.
            let at = sc.simulation.duration_ms.map_or(600_000, |d| d / 2);
            out.push((rel, at));
        }
    }
    out.sort();
    out
}

/// The requirement of issue 15: a fork with no overrides gives what the plain run gives, for
/// every shipped scenario, whatever its variants make the prefix keep (placement indexes,
/// datapoints): every record in order, the events hash and the summary.
#[test]
fn a_branch_without_changes_is_the_plain_run_for_every_shipped_scenario() {
    let cases = forkable();
    assert!(cases.len() >= 12, "only {} scenarios", cases.len());
    for (rel, at) in cases {
        let (base, variants) = load_all(&rel);
        let (plain, plain_log) = sim::run(&base, opts(&base), Log::default());
        // Branch 1 is the base itself; the others are the variants that can fork, so that the
        // prefix keeps what they need.
        let mut branches = vec![(&base, Log::default())];
        for v in &variants {
            if fork::problems(&base, v, at).is_empty() {
                branches.push((v, Log::default()));
            }
        }
        let mut forked =
            fork::fork(&base, branches, opts(&base), at).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let (summary, log) = forked.remove(0).run(None);
        assert!(
            plain_log.0 == log.0,
            "{rel}: the records differ from the plain run's (fork at {at} ms)"
        );
        assert_eq!(plain.fields(), summary.fields(), "{rel}");
        assert!(plain_log.0.len() > 1000, "{rel}: the run wrote records");
    }
}

/// A branch that adds a scripted failure after the fork gives the plain run of its scenario
/// (the prefix is the same and the failure comes later): the summary and the events after the
/// fork agree. az-outage is free of same-instant order effects (`ecsim audit`), so the fork's
/// own rescheduling cannot change it.
#[test]
fn a_failure_after_the_fork_gives_the_plain_run_of_the_variant() {
    let (base, _) = load_all("az-outage.toml");
    let outage = base.failures.scripted[0].at_ms;
    // The base's outage is before this fork time: a branch without it is refused.
    let mut none = base.clone();
    none.failures.scripted.clear();
    let fork_at = outage + 600_000;
    assert!(!fork::problems(&base, &none, fork_at).is_empty());
    // From a base without the outage, a branch with it 30 minutes after the fork.
    let mut with = base.clone();
    with.failures.scripted[0].at_ms = fork_at + 1_800_000;
    let (plain, plain_log) = sim::run(&with, opts(&with), Log::default());
    let mut b = fork::fork(&none, vec![(&with, Log::default())], opts(&none), fork_at)
        .unwrap_or_else(|e| panic!("{e}"));
    let (summary, log) = b.remove(0).run(None);
    assert_eq!(plain.fields(), summary.fields());
    assert!(plain_log.0 == log.0, "the same records");
    let (without, _) = sim::run(&none, opts(&none), Log::default());
    assert_ne!(
        without.fields(),
        summary.fields(),
        "the branch's outage changed the run"
    );
}

/// A changed desired count is set at the fork, as a scripted action would: the same summary
/// as the plain run with that action, and the `DesiredCountChanged` event at the fork time.
#[test]
fn a_desired_count_change_acts_at_the_fork_time() {
    let (base, _) = load_all("quickstart.toml");
    let s = base
        .services
        .iter()
        .position(|s| s.scheduling == scenario::SchedulingStrategy::Replica)
        .unwrap();
    let at = 1_800_000;
    let mut more = base.clone();
    more.services[s].desired_count += 2;
    let mut b = fork::fork(&base, vec![(&more, Log::default())], opts(&base), at)
        .unwrap_or_else(|e| panic!("{e}"));
    let (summary, log) = b.remove(0).run(None);
    let want = format!(
        "time_ms: {at}, kind: Service, task: None, service: {:?}, job: \"\", instance: \"\", from: \"{}\", to: \"{}\", reason: \"DesiredCountChanged\"",
        base.services[s].name,
        base.services[s].desired_count,
        base.services[s].desired_count + 2
    );
    assert!(log.0.contains(&want), "no {want}");
    let (plain, _) = sim::run(&base, opts(&base), Log::default());
    assert_ne!(plain.fields(), summary.fields());
}

/// What a running cluster cannot take is refused, each difference named by its field.
#[test]
fn changes_a_running_cluster_cannot_take_are_refused_by_name() {
    let (base, _) = load_all("quickstart.toml");
    let mut v = base.clone();
    v.task_definitions[0].cpu_units += 256;
    v.simulation.duration_ms = v.simulation.duration_ms.map(|d| d + 1);
    v.clusters[0].groups[0].count = 0;
    let p = fork::problems(&base, &v, 60_000);
    assert!(p.iter().any(|m| m.starts_with("task_definitions")), "{p:?}");
    assert!(
        p.iter()
            .any(|m| m.starts_with("simulation.duration_ms differs")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.starts_with("clusters[0].groups[0].count: a smaller group")),
        "{p:?}"
    );
    assert_eq!(p.len(), 3, "{p:?}");
    let err = fork::fork(&base, vec![(&v, Log::default())], opts(&base), 60_000)
        .err()
        .unwrap();
    assert_eq!(err.0.len(), 3);
    assert!(err.0[0].starts_with("branch 1 (quickstart): "), "{err}");
    let late = base.simulation.duration_ms.unwrap() + 1;
    assert!(
        fork::problems(&base, &base, late)
            .iter()
            .any(|m| m.contains("not before the end")),
    );
}

/// A strategy change forks and is used from the fork on: the placements before the fork are
/// the base's, and the branch differs from the base after it.
#[test]
fn a_strategy_change_forks_from_the_shared_prefix() {
    let (base, _) = load_all("placement-spread-vs-binpack.toml");
    let at = base.simulation.duration_ms.unwrap() / 3;
    // The spread cluster's service and job binpack too in the branch.
    let mut v = base.clone();
    v.services[0].strategy = base.services[1].strategy.clone();
    v.jobs[0].strategy = base.jobs[1].strategy.clone();
    assert!(fork::problems(&base, &v, at).is_empty());
    let mut b = fork::fork(
        &base,
        vec![(&base, Log::default()), (&v, Log::default())],
        opts(&base),
        at,
    )
    .unwrap();
    let (_, lv) = b.pop().unwrap().run(None);
    let (_, lb) = b.pop().unwrap().run(None);
    let before = |l: &str| -> String {
        l.lines()
            .filter(|x| {
                x.split("time_ms: ")
                    .nth(1)
                    .and_then(|t| t.split(',').next())
                    .and_then(|t| t.parse::<u64>().ok())
                    .is_some_and(|t| t < at)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(before(&lb.0) == before(&lv.0), "same prefix");
    assert!(lb.0 != lv.0, "the branch placed differently after the fork");
}

/// The event lines of a log at one time.
fn events_at(log: &str, at: u64) -> Vec<&str> {
    let key = format!("event EventRecord {{ time_ms: {at},");
    log.lines().filter(|l| l.starts_with(&key)).collect()
}

/// Each kind of change a fork takes, with the whole-run invariants checked after every event
/// of every branch (counts per state, per provider and AZ; placement's free resources), so that
/// applying a change mid-run cannot leave the core inconsistent.
#[test]
fn every_kind_of_change_keeps_the_invariants() {
    let checked = |sc: &Scenario| RunOptions {
        seed: sc.seed,
        check_invariants: true,
    };
    // Strategy, target, managed scaling, bounds: the shipped what-if variants.
    let (base, variants) = load_all("what-if-az-outage.toml");
    let at = 11 * 3_600_000;
    let branches = variants.iter().map(|v| (v, Log::default())).collect();
    let summaries: Vec<_> = fork::fork(&base, branches, checked(&base), at)
        .unwrap()
        .into_iter()
        .map(|b| b.run(None).0.fields())
        .collect();
    assert_eq!(summaries.len(), 5);
    for (k, s) in summaries.iter().enumerate().skip(1) {
        assert!(*s != summaries[0], "variant {k} changed nothing");
    }

    // Capacity provider weights (and a desired count): at 30 minutes spot-mix's service grows
    // from 18 to 24 tasks, once with its 1:3 On-Demand : Spot split and once with 3:1. The
    // On-Demand group's instances are the first three launched.
    let (base, _) = load_all("spot-mix.toml");
    let mut same = base.clone();
    same.services[0].desired_count = 24;
    let mut flipped = same.clone();
    if let scenario::LaunchSpec::Strategy(items) = &mut flipped.services[0].launch {
        items[0].weight = 3;
        items[1].weight = 1;
    }
    let at = 1_800_000;
    let b = fork::fork(
        &base,
        vec![(&same, Log::default()), (&flipped, Log::default())],
        checked(&base),
        at,
    )
    .unwrap();
    let logs: Vec<String> = b.into_iter().map(|b| b.run(None).1.0).collect();
    for log in &logs {
        assert!(
            events_at(log, at)
                .iter()
                .any(|l| l.contains("from: \"18\", to: \"24\", reason: \"DesiredCountChanged\"")),
            "the desired count changed at the fork"
        );
    }
    let on_demand = |log: &str| {
        events_at(log, at)
            .iter()
            .filter(|l| l.contains("to: \"PENDING\""))
            .filter(|l| {
                ["1\"", "2\"", "3\""]
                    .iter()
                    .any(|n| l.contains(&format!("instance: \"i-0000000000000000{n}")))
            })
            .count()
    };
    assert!(
        on_demand(&logs[1]) > on_demand(&logs[0]),
        "3:1 put more of the 6 new tasks on On-Demand ({} against {})",
        on_demand(&logs[1]),
        on_demand(&logs[0])
    );

    // A larger instance group: the extra instances launch at the fork.
    let (base, _) = load_all("quickstart.toml");
    let mut v = base.clone();
    v.clusters[0].groups[0].count += 2;
    let at = 600_000;
    let mut b = fork::fork(&base, vec![(&v, Log::default())], checked(&base), at).unwrap();
    let (_, log) = b.remove(0).run(None);
    let launched = events_at(&log.0, at)
        .iter()
        .filter(|l| l.contains("to: \"LAUNCHING\""))
        .count();
    assert_eq!(launched, 2, "two more instances launch at the fork");
}
