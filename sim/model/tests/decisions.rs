//! `decisions.csv` (`run --explain`, issue 15): one test per kind of decision, on a small
//! scenario whose expected choice is known from the ECS reference (../shared/ecs-semantics.md
//! and the AWS pages named in each test).

use ecsim_model::record::{DecisionRecord, EventRecord, Sink};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

fn load(src: &str) -> Scenario {
    scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn shipped(name: &str) -> Scenario {
    let p = format!("{}/../../scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    load(&std::fs::read_to_string(p).unwrap())
}

/// A decision, owned.
#[derive(Debug, Clone)]
struct Row {
    time_ms: u64,
    kind: String,
    subject: String,
    task: Option<u64>,
    chosen: String,
    reason: String,
    details: String,
}

impl Row {
    /// The value of `key` in the details.
    fn detail(&self, key: &str) -> Option<&str> {
        self.details
            .split(';')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    fn num(&self, key: &str) -> u32 {
        let v = self
            .detail(key)
            .unwrap_or_else(|| panic!("{key} in {self:?}"));
        v.parse()
            .unwrap_or_else(|_| panic!("{key}={v} in {self:?}"))
    }
}

/// Explains, keeps the decisions and the instances set DRAINING.
#[derive(Default)]
struct Rec {
    rows: Vec<Row>,
    drained: Vec<String>,
}

impl Sink for Rec {
    fn explains(&self) -> bool {
        true
    }
    fn decision(&mut self, d: &DecisionRecord<'_>) {
        self.rows.push(Row {
            time_ms: d.time_ms,
            kind: d.kind.into(),
            subject: d.subject.into(),
            task: d.task,
            chosen: d.chosen.into(),
            reason: d.reason.into(),
            details: d.details.into(),
        });
    }
    fn event(&mut self, e: &EventRecord<'_>) {
        if e.to == "DRAINING" {
            self.drained.push(e.instance.to_string());
        }
    }
}

fn run(sc: &Scenario) -> Vec<Row> {
    let opts = RunOptions {
        seed: 1,
        check_invariants: true,
    };
    let (_, rec) = sim::run(sc, opts, Rec::default());
    rec.rows
}

fn of<'a>(rows: &'a [Row], kind: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.kind == kind).collect()
}

/// ECS-DG cluster-capacity-providers.html: "base" tasks go to their provider first, the rest are
/// split by weight: with FARGATE base 1 weight 1 and FARGATE_SPOT weight 4, six tasks are one
/// base task on FARGATE, then one of the other five on FARGATE and four on FARGATE_SPOT.
#[test]
fn capacity_provider_rows_name_the_base_then_the_weights() {
    let sc = load(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "10m"
[[clusters]]
name = "f"
capacity_providers = ["FARGATE", "FARGATE_SPOT"]
[[task_definitions]]
family = "t"
cpu = 256
memory = 512
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "t"
desired_count = 6
capacity_provider_strategy = [
  { capacity_provider = "FARGATE", base = 1, weight = 1 },
  { capacity_provider = "FARGATE_SPOT", weight = 4 },
]
"#,
    );
    let rows = run(&sc);
    let cp = of(&rows, "capacity_provider");
    assert_eq!(cp.len(), 6, "{cp:?}");
    assert_eq!(
        (cp[0].chosen.as_str(), cp[0].reason.as_str()),
        ("FARGATE", "base")
    );
    assert_eq!(cp[0].details, "items=FARGATE:0/1/1|FARGATE_SPOT:0/0/4");
    assert!(cp[1..].iter().all(|r| r.reason == "weight"), "{cp:?}");
    let on = |p: &str| cp.iter().filter(|r| r.chosen == p).count();
    assert_eq!((on("FARGATE"), on("FARGATE_SPOT")), (2, 4));
    // Every row names the task it launched, in creation order.
    let tasks: Vec<u64> = cp.iter().map(|r| r.task.unwrap()).collect();
    assert_eq!(tasks, (0..6).collect::<Vec<_>>());
    assert!(cp.iter().all(|r| r.subject == "s"));
}

/// ECS-DG task-placement-strategies.html: a service spread over AZs keeps the spread when it
/// scales in. quickstart's web service (6 tasks over 3 AZs) goes to 3 at 90 min: the three
/// tasks stopped come one from each AZ, chosen by the placement strategy.
#[test]
fn scale_in_rows_keep_the_az_spread() {
    let rows = run(&shipped("quickstart.toml"));
    let si = of(&rows, "scale_in");
    assert_eq!(si.len(), 3, "{si:?}");
    assert!(
        si.iter()
            .all(|r| r.time_ms == 90 * 60_000 && r.subject == "web")
    );
    assert!(si.iter().all(|r| r.reason == "strategy"), "{si:?}");
    let mut azs: Vec<&str> = si.iter().map(|r| r.detail("az").unwrap()).collect();
    azs.sort_unstable();
    assert_eq!(azs, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    // Each stop is chosen among the good tasks above the desired count, one at a time.
    let good: Vec<u32> = si.iter().map(|r| r.num("good")).collect();
    assert_eq!(good, [6, 5, 4]);
    assert!(si.iter().all(|r| r.num("desired") == 3 && r.task.is_some()));
    assert!(si.iter().all(|r| r.chosen.starts_with("i-")));
}

/// ECS-DG container-instance-draining.html: service tasks on a DRAINING instance are replaced;
/// the scheduler stops exactly the tasks on the drained instance (here one, once its
/// replacement runs, as minimumHealthyPercent 100 asks).
#[test]
fn stop_rows_name_the_draining_instance() {
    let sc = load(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "30m"
[[clusters]]
name = "c"
instance_type = "m5.large"
count = 3
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
launch_delay = "0s"
[[task_definitions]]
family = "t"
cpu = 512
memory = 1024
[[services]]
name = "s"
task_definition = "t"
desired_count = 3
[failures]
scripted = [{ at = "10m", type = "drain_instances", cluster = "c", count = 1 }]
"#,
    );
    let opts = RunOptions {
        seed: 1,
        check_invariants: true,
    };
    let (_, rec) = sim::run(&sc, opts, Rec::default());
    assert_eq!(rec.drained.len(), 1);
    let stops = of(&rec.rows, "stop");
    assert_eq!(stops.len(), 1, "{:?}", rec.rows);
    let r = stops[0];
    assert_eq!(r.reason, "instance_draining");
    assert_eq!(r.chosen, rec.drained[0]);
    assert!(r.time_ms >= 10 * 60_000);
    assert_eq!(r.detail("state"), Some("RUNNING"));
    assert_eq!((r.num("desired"), r.num("min_healthy")), (3, 3));
}

/// Target tracking (ECS-DG service-auto-scaling.html, AAS-UG): 4 tasks at 95 % CPU with
/// target 50 scale out to ceil(4 x 95 / 50) = 8 once the high alarm has 3 of 3 datapoints
/// above the target; the row gives the rule, the alarm and the datapoints it read.
#[test]
fn service_scaling_rows_give_the_rule_and_the_datapoints() {
    let sc = load(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "2h"
[fargate]
provisioning_delay = "5s"
image_pull_delay = "15s"
[[clusters]]
name = "f"
capacity_providers = ["FARGATE"]
[[task_definitions]]
family = "t"
cpu = 256
memory = 512
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "t"
desired_count = 4
launch_type = "FARGATE"
  [services.load]
  components = [{ type = "constant", rps = 160 }, { type = "step", at = "1h", rps = 240 }]
  requests_per_task = 100
  cpu = { base_pct = 5, per_rps_pct = 0.9, max_pct = 100 }
  [services.auto_scaling]
  min_capacity = 1
  max_capacity = 40
    [[services.auto_scaling.target_tracking]]
    name = "cpu50"
    metric = "ECSServiceAverageCPUUtilization"
    target = 50
"#,
    );
    let rows = run(&sc);
    let ss = of(&rows, "service_scaling");
    let out = ss
        .iter()
        .find(|r| r.reason == "scale_out")
        .expect("a scale-out");
    assert_eq!(out.time_ms, 3_600_000 + 3 * 60_000);
    assert_eq!(out.chosen, "8");
    assert_eq!((out.num("running"), out.num("desired")), (4, 4));
    let policy = out.detail("cpu50").unwrap();
    assert!(policy.starts_with("out:8:3of3>50:"), "{policy}");
    // The last three datapoints breach the target; the first of the range does not.
    let dps: Vec<&str> = policy.rsplit(':').next().unwrap().split('/').collect();
    let last3: Vec<f64> = dps[dps.len() - 3..]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(last3.iter().all(|&v| v > 50.0), "{policy}");
    // Before the step nothing was in ALARM: no row. Every row names a documented rule.
    assert!(
        ss.iter()
            .all(|r| r.time_ms > 3_600_000 || r.reason != "scale_out")
    );
    let rules = [
        "scale_out",
        "scale_in",
        "scale_out_max_capacity",
        "scale_out_min_capacity",
        "scale_in_min_capacity",
        "scale_in_max_capacity",
        "at_max_capacity",
        "at_min_capacity",
        "deployment_in_progress",
        "scale_in_not_unanimous",
        "cooldown",
        "no_change",
    ];
    assert!(
        ss.iter().all(|r| rules.contains(&r.reason.as_str())),
        "{ss:?}"
    );
}

/// Cluster auto scaling (ECS-DG cluster-auto-scaling.html): CPR = M / N x 100 (100 - empty
/// with empty instances beyond the target's); a scale-out
/// launches max(needed, K - N) instances within the step sizes, K = ceil(M x 100 / target);
/// a scale-in terminates empty instances only. diurnal-web's group does both; every row's
/// numbers obey those rules.
#[test]
fn cluster_scaling_rows_follow_the_cpr_arithmetic() {
    let rows = run(&shipped("diurnal-web.toml"));
    let cs = of(&rows, "cluster_scaling");
    let (mut outs, mut ins) = (0, 0);
    for r in &cs {
        let (n, m, wanted) = (r.num("n"), r.num("m"), r.num("wanted"));
        assert_eq!(m, r.num("non_empty") + r.num("needed"), "{r:?}");
        let cpr: f64 = r.detail("cpr").unwrap().parse().unwrap();
        if n > 0 {
            // With empty instances beyond what the target wants: 100 - empty (the documented
            // treatment at target 100).
            let expect = if r.num("needed") == 0 && wanted < n {
                100.0 - f64::from(n - wanted)
            } else {
                f64::from(m) * 100.0 / f64::from(n)
            };
            assert!((cpr - expect).abs() < 0.051, "{r:?}");
        }
        // target_capacity = 100: K = M.
        assert_eq!(wanted, m, "{r:?}");
        let chosen: u32 = r.chosen.parse().unwrap();
        match r.reason.as_str() {
            "scale_out" => {
                outs += 1;
                let step = r.num("step");
                assert_eq!(chosen, n + step, "{r:?}");
                assert_eq!(step, r.num("needed").max(wanted - n).clamp(1, 10), "{r:?}");
            }
            "scale_in" => {
                ins += 1;
                let gone = r.detail("terminate").unwrap().split('|').count() as u32;
                assert_eq!(chosen, n - gone, "{r:?}");
                assert!(chosen >= wanted, "{r:?}");
            }
            other => assert!(
                [
                    "instance_warmup",
                    "at_max_size",
                    "at_min_size",
                    "no_empty_instance",
                    "no_change"
                ]
                .contains(&other),
                "{r:?}"
            ),
        }
    }
    assert!(outs > 0 && ins > 0, "{cs:?}");
}

/// Availability Zone rebalancing (ECS-DG service-rebalancing.html) stops a task in the AZ with
/// the most tasks: flash-sale's rows name that AZ, and the task stopped is in it.
#[test]
fn rebalance_rows_stop_a_task_in_the_fullest_az() {
    let rows = run(&shipped("flash-sale.toml"));
    let rb = of(&rows, "rebalance");
    assert!(!rb.is_empty());
    for r in rb {
        assert_eq!(r.reason, "fullest_az");
        assert_eq!(r.detail("from"), r.detail("az"), "{r:?}");
        assert!(r.task.is_some());
    }
}

/// Explaining changes no result: every top-level shipped scenario gives the same events hash
/// and summary with an explaining sink as with one that does not explain, and every decision
/// row has a kind, a subject and a reason.
#[test]
fn explaining_changes_no_result() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for p in files {
        let sc = load(&std::fs::read_to_string(&p).unwrap());
        let opts = RunOptions {
            seed: sc.seed,
            check_invariants: false,
        };
        let (plain, _) = sim::run(&sc, opts, ecsim_model::record::NullSink);
        let (explained, rec) = sim::run(&sc, opts, Rec::default());
        assert_eq!(plain.events_hash, explained.events_hash, "{}", p.display());
        let fields = |s: &ecsim_model::record::Summary| {
            s.fields()
                .into_iter()
                .filter(|(k, _)| k != "wall_ms")
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&plain), fields(&explained), "{}", p.display());
        for r in &rec.rows {
            assert!(!r.kind.is_empty() && !r.subject.is_empty() && !r.reason.is_empty());
        }
    }
}
