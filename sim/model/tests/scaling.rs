//! Load, alarms and auto scaling, end to end (docs/ecs-semantics.md §5 and §6.3).

use ecsim_model::record::{NullSink, ScalingRecord, Sink, Summary, SummaryValue};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

fn load(src: &str) -> Scenario {
    scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"))
}

#[derive(Default)]
struct Rows(Vec<(u64, String, String, String, String)>);

impl Sink for Rows {
    fn scaling(&mut self, r: &ScalingRecord<'_>) {
        self.0.push((
            r.time_ms,
            r.kind.to_string(),
            r.name.to_string(),
            r.from.to_string(),
            r.to.to_string(),
        ));
    }
}

fn run(sc: &Scenario) -> (Summary, Rows) {
    sim::run(
        sc,
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        Rows::default(),
    )
}

fn field(s: &Summary, key: &str) -> Option<u64> {
    s.fields()
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| {
            if let SummaryValue::Int(i) = v {
                Some(i)
            } else {
                None
            }
        })
}

/// A Fargate service with a fixed start-up time (5 s ENI + 15 s image pull), no noise.
fn fargate_service(load: &str, scaling: &str) -> String {
    format!(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "4h"
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
  components = {load}
  requests_per_task = 100
  cpu = {{ base_pct = 5, per_rps_pct = 0.9, max_pct = 100 }}
  [services.auto_scaling]
{scaling}
"#
    )
}

const TT50: &str = r#"  min_capacity = 1
  max_capacity = 40
    [[services.auto_scaling.target_tracking]]
    metric = "ECSServiceAverageCPUUtilization"
    target = 50
"#;

/// A step increase in load: target tracking's high alarm needs 3 of 3 one-minute datapoints above
/// the target (ecs-semantics 5.2, observed shape), so the first action comes at the end of the
/// third breaching minute; the new tasks run after Fargate's start-up time.
#[test]
fn step_load_scales_out_after_the_third_breaching_minute() {
    // 4 tasks x 100 rps = 400 capacity; 160 rps (41 % CPU) until 1 h, then 400 rps (95 % CPU)
    // until 2 h, then back.
    let sc = load(&fargate_service(
        r#"[{ type = "constant", rps = 160 }, { type = "step", at = "1h", rps = 240 }, { type = "step", at = "2h", rps = -240 }]"#,
        TT50,
    ));
    let (s, rows) = run(&sc);
    let first_out = rows
        .0
        .iter()
        .find(|r| r.1 == "service_scaling")
        .expect("a scale-out");
    assert_eq!(
        first_out.0,
        3_600_000 + 3 * 60_000,
        "end of the third breaching minute"
    );
    assert_eq!(
        (first_out.3.as_str(), first_out.4.as_str()),
        ("4", "8"),
        "ceil(4 x 95 / 50) = 8"
    );
    assert_eq!(
        field(&s, "service.s.load_change.0.first_scaling_after_ms"),
        Some(180_000)
    );
    assert_eq!(
        field(&s, "service.s.load_change.0.tasks_running_after_ms"),
        Some(180_000 + 20_000),
        "5 s ENI + 15 s pull"
    );
    let high = rows
        .0
        .iter()
        .find(|r| r.1 == "alarm" && r.4 == "ALARM" && r.2.ends_with("-high"))
        .expect("high alarm");
    assert_eq!(high.0, 3_780_000);
    // While the load was high and before tasks ran, requests went unserved.
    assert!(s.scaling.unserved_request_minutes > 0.0);
}

/// Target tracking's low alarm needs 15 of 15 datapoints below 90 % of the target (observed
/// shape, ecs-semantics 5.2): an over-provisioned service starts scaling in at minute 15, not
/// before, and by the proportional rule.
#[test]
fn scale_in_starts_after_fifteen_low_minutes() {
    let mut sc = load(&fargate_service(
        r#"[{ type = "constant", rps = 200 }]"#,
        TT50,
    ));
    sc.services[0].desired_count = 20; // 10 rps per task: 14 % CPU
    let (_, rows) = run(&sc);
    let low = rows
        .0
        .iter()
        .find(|r| r.1 == "alarm" && r.2.ends_with("-low") && r.4 == "ALARM")
        .expect("low alarm");
    assert_eq!(low.0, 15 * 60_000);
    let first = rows
        .0
        .iter()
        .find(|r| r.1 == "service_scaling")
        .expect("scale-in");
    assert_eq!(first.0, 15 * 60_000);
    assert_eq!(
        (first.3.as_str(), first.4.as_str()),
        ("20", "6"),
        "ceil(20 x 14 / 50) = 6"
    );
}

/// Scale-out cooldown (AAS-UG): during a step policy's cooldown the same step adds nothing more;
/// the next +1 comes when the cooldown is over.
#[test]
fn step_cooldown_is_respected() {
    let sc = load(&fargate_service(
        r#"[{ type = "constant", rps = 3000 }]"#,
        r#"  min_capacity = 1
  max_capacity = 40
    [[services.auto_scaling.step_scaling]]
    alarm = { metric = "CPUUtilization", comparison = ">", threshold = 60 }
    steps = [{ lower = 0, adjustment = 1 }]
    cooldown = "5m"
"#,
    ));
    let (_, rows) = run(&sc);
    let times: Vec<u64> = rows
        .0
        .iter()
        .filter(|r| r.1 == "service_scaling")
        .map(|r| r.0)
        .take(4)
        .collect();
    // The alarm is 1 of 1: ALARM from minute 1; one +1 per 5-minute cooldown.
    assert_eq!(times, vec![60_000, 360_000, 660_000, 960_000]);
}

/// Scale-in cooldown (AAS-UG): no scale-in during it; scale-in proposals resume after it.
#[test]
fn scale_in_cooldown_is_respected() {
    let sc = load(&fargate_service(
        r#"[{ type = "constant", rps = 20 }]"#,
        &TT50.replace(
            "target = 50",
            "target = 50\n    scale_in_cooldown = \"10m\"",
        ),
    ));
    let sc = {
        let mut sc = sc;
        sc.services[0].desired_count = 30;
        sc
    };
    let (_, rows) = run(&sc);
    let ins: Vec<u64> = rows
        .0
        .iter()
        .filter(|r| r.1 == "service_scaling")
        .map(|r| r.0)
        .collect();
    assert!(ins.len() >= 2, "{ins:?}");
    for w in ins.windows(2) {
        assert!(
            w[1] - w[0] >= 600_000,
            "scale-ins {} ms apart: {ins:?}",
            w[1] - w[0]
        );
    }
}

/// AAS-UG scheduled scaling: at its time the action sets min/max and pulls desired into range,
/// whatever the cooldowns; a daily schedule repeats.
#[test]
fn scheduled_actions_apply_at_their_time() {
    let sc = load(&fargate_service(
        r#"[{ type = "constant", rps = 100 }]"#,
        r#"  min_capacity = 1
  max_capacity = 40
    [[services.auto_scaling.scheduled]]
    at = "30m"
    every = "1h"
    min_capacity = 12
    [[services.auto_scaling.scheduled]]
    at = "50m"
    every = "1h"
    min_capacity = 1
    max_capacity = 3
"#,
    ));
    let (s, rows) = run(&sc);
    let acts: Vec<(u64, String, String)> = rows
        .0
        .iter()
        .filter(|r| r.1 == "scheduled")
        .map(|r| (r.0, r.3.clone(), r.4.clone()))
        .collect();
    assert_eq!(acts[0], (1_800_000, "4".into(), "12".into()));
    assert_eq!(acts[1], (3_000_000, "12".into(), "3".into()));
    assert_eq!(
        acts[2],
        (5_400_000, "3".into(), "12".into()),
        "repeats an hour later"
    );
    assert!(s.scaling.scaling_actions >= 3);
}

/// ECS-DG cluster-auto-scaling.html: tasks waiting in PROVISIONING for a provider push
/// CapacityProviderReservation above 100 and instances are launched; empty instances are removed
/// after 15 minutes below the target, at most 50 % of the group per step, and never an instance
/// running service tasks (managed termination protection); daemon-only instances count as empty.
#[test]
fn cluster_auto_scaling_out_and_in() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "3h"
[[clusters]]
name = "c"
default_capacity_provider_strategy = [{ capacity_provider = "asg", weight = 1 }]
  [[clusters.instance_groups]]
  name = "asg"
  capacity_provider = "asg"
  instance_type = "m5.large"
  count = 10
  min_size = 1
  max_size = 20
  launch_delay = "2m"
  managed_scaling = { target_capacity = 100, instance_warmup_period = "5m" }
[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024
[[task_definitions]]
family = "agent"
cpu = 128
memory = 128
[[services]]
name = "s"
task_definition = "t"
desired_count = 2
placement_strategy = [{ type = "binpack", field = "cpu" }]
[[services]]
name = "agent"
task_definition = "agent"
scheduling_strategy = "DAEMON"
[[actions]]
at = "1h"
type = "set_desired_count"
service = "s"
desired_count = 14
"#;
    let (s, rows) = run(&load(src));
    let cluster: Vec<&(u64, String, String, String, String)> =
        rows.0.iter().filter(|r| r.1 == "cluster_scaling").collect();
    // 2 tasks on one instance (binpack), 9 instances with only the daemon: empty. After 15
    // minutes below target: keep ceil(10 x 10 / 100) = 1, but remove at most 50 % = 5.
    assert_eq!(
        (cluster[0].0, cluster[0].3.as_str(), cluster[0].4.as_str()),
        (15 * 60_000, "10", "5")
    );
    // 15 fresh datapoints later: 5 -> keep 1, at most 2 (50 %, rounded down).
    assert_eq!(
        (cluster[1].0, cluster[1].3.as_str(), cluster[1].4.as_str()),
        (30 * 60_000, "5", "3")
    );
    // At 1 h the service wants 14 tasks (2 per m5.large): they wait, CPR rises, instances launch.
    let out = cluster
        .iter()
        .find(|r| r.0 >= 3_600_000)
        .expect("a scale-out");
    assert!(out.4.parse::<u32>().unwrap() > out.3.parse::<u32>().unwrap());
    assert!(s.scaling.instances_launched > 0 && s.scaling.instances_terminated >= 7);
    // Every task of the service eventually runs.
    assert_eq!(s.tasks_never_placed, 0);
}

/// Whole runs with scaling are reproducible from their seed.
#[test]
fn scaling_runs_are_deterministic() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/flash-sale.toml"),
    )
    .unwrap();
    let sc = scenario::load("flash-sale.toml", &src, &[]).unwrap();
    let a = sim::run(
        &sc,
        RunOptions {
            seed: 4,
            check_invariants: false,
        },
        NullSink,
    )
    .0;
    let b = sim::run(
        &sc,
        RunOptions {
            seed: 4,
            check_invariants: false,
        },
        NullSink,
    )
    .0;
    let c = sim::run(
        &sc,
        RunOptions {
            seed: 5,
            check_invariants: false,
        },
        NullSink,
    )
    .0;
    assert_eq!(a, b);
    assert_ne!(
        a.events_hash, c.events_hash,
        "the load noise differs with the seed"
    );
}

#[test]
fn bad_scaling_input_is_reported() {
    let bad = fargate_service(
        r#"[{ type = "spike", start = "1h", rps = 10 }]"#,
        r#"  min_capacity = 5
  max_capacity = 2
    [[services.auto_scaling.step_scaling]]
    alarm = { metric = "CPUUtilization", comparison = "~", threshold = 60, evaluation_periods = 2, datapoints_to_alarm = 3 }
    steps = [{ lower = 0, upper = 10, adjustment = 1 }, { lower = 20, adjustment = 2 }]
"#,
    );
    let e = scenario::load("bad.toml", &bad, &[])
        .unwrap_err()
        .to_string();
    for needle in [
        "components[0].length: missing",
        "comparison: got the string \"~\"",
        "3 datapoints to alarm out of 2 evaluation periods",
        "step intervals overlap or leave a gap",
    ] {
        assert!(e.contains(needle), "{needle:?} not in\n{e}");
    }
    let no_load = fargate_service("[]", TT50).replace("  [services.load]\n  components = []\n  requests_per_task = 100\n  cpu = { base_pct = 5, per_rps_pct = 0.9, max_pct = 100 }\n", "");
    let e = scenario::load("bad.toml", &no_load, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("which come from the service's load; add [services.load]"),
        "{e}"
    );
}

/// ecs-semantics 5.6 (ECS-DG cloudwatch-metrics.html): service CPUUtilization = 100 x CPU units
/// used / CPU units reserved by the task definition; same for memory in MiB. A load model may
/// give what a user measured in absolute units; the worked example: a task reserving 512 CPU /
/// 1,024 MiB that uses 2,048 units reports 400 %, one using 128 units / 128 MiB 25 % / 12.5 %.
/// Regression (issue 11): use could only be given in percent of the reservation.
#[test]
fn load_use_may_be_given_in_absolute_units() {
    let src = |cpu: &str, memory: &str| {
        format!(
            r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[[clusters]]
name = "c"
instance_type = "c4.large"
count = 1
[[task_definitions]]
family = "web"
cpu = 512
memory = 1024
[[services]]
name = "s"
task_definition = "web"
desired_count = 1
[services.load]
components = [{{ type = "constant", rps = 10 }}]
requests_per_task = 100
cpu = {cpu}
memory = {memory}
"#
        )
    };
    let sc = load(&src(
        "{ base_units = 2048 }",
        "{ base_mib = 128, per_rps_mib = 2 }",
    ));
    let m = sc.services[0].load.as_ref().unwrap();
    assert_eq!(m.cpu_base_pct, 400.0);
    assert_eq!(m.memory_base_pct, 12.5);
    assert_eq!(m.memory_pct_per_rps, 100.0 * 2.0 / 1024.0);
    let s = m.serve(10.0, 1);
    assert_eq!(s.cpu_pct, Some(400.0));
    assert_eq!(s.memory_pct, Some(12.5 + 10.0 * 100.0 * 2.0 / 1024.0));
    let sc = load(&src("{ base_units = 128 }", "{ base_mib = 128 }"));
    let m = sc.services[0].load.as_ref().unwrap();
    assert_eq!((m.cpu_base_pct, m.memory_base_pct), (25.0, 12.5));
    let e = scenario::load(
        "bad.toml",
        &src("{ base_units = 128, base_pct = 5 }", "{}"),
        &[],
    )
    .expect_err("both forms");
    assert!(e.to_string().contains("not both"), "{e}");
}

/// docs/ecs-semantics.md 6.3 (ECS-DG cluster-auto-scaling.html): empty instances reduce
/// CapacityProviderReservation to `100 - empty` (2 empty of 10 -> 98, where `M / N` would say
/// 80); after 15 minutes below the target the two empty instances, and only they, are removed.
#[test]
fn empty_instances_reduce_the_reservation_to_100_minus_their_count() {
    #[derive(Default)]
    struct Why(Vec<(u64, String, String, String, String)>);
    impl Sink for Why {
        fn scaling(&mut self, r: &ScalingRecord<'_>) {
            self.0.push((
                r.time_ms,
                r.kind.to_string(),
                r.from.to_string(),
                r.to.to_string(),
                r.reason.to_string(),
            ));
        }
    }
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "40m"
[[clusters]]
name = "c"
default_capacity_provider_strategy = [{ capacity_provider = "asg", weight = 1 }]
  [[clusters.instance_groups]]
  name = "asg"
  capacity_provider = "asg"
  instance_type = "m5.large"
  count = 10
  max_size = 20
  managed_scaling = { target_capacity = 100 }
[[task_definitions]]
family = "t"
cpu = 1536
memory = 1024
[[services]]
name = "s"
task_definition = "t"
desired_count = 8
"#;
    let (s, why) = sim::run(
        &load(src),
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        Why::default(),
    );
    let scaling: Vec<_> = why.0.iter().filter(|r| r.1 == "cluster_scaling").collect();
    assert_eq!(scaling.len(), 1, "{:?}", why.0);
    let (t, _, from, to, reason) = scaling[0];
    assert_eq!((*t, from.as_str(), to.as_str()), (15 * 60_000, "10", "8"));
    assert!(
        reason.contains("CapacityProviderReservation 98.0"),
        "{reason}"
    );
    assert_eq!(s.tasks_never_placed, 0);
}
