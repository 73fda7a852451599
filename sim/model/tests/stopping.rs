//! The STOPPING phase (docs/ecs-semantics.md §3.1, §3.2, §3.3, §4.4): a task the service
//! scheduler stops is STOPPING (deregistered behind a load balancer, then SIGTERM, SIGKILL after
//! `stopTimeout`), holds its resources and counts towards `maximumPercent` until it is STOPPED.
//! Every test here runs with the whole-run invariants checked after every event.

use ecsim_model::record::{EventRecord, Sink, Summary, SummaryValue};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

/// (time, service or instance, from>to, reason) of task events.
#[derive(Default)]
struct Tasks(Vec<(u64, String, String, String)>);

impl Sink for Tasks {
    fn event(&mut self, e: &EventRecord<'_>) {
        if e.kind.as_str() == "task" {
            self.0.push((
                e.time_ms,
                e.service.to_string(),
                format!("{}>{}", e.from, e.to),
                e.reason.to_string(),
            ));
        }
    }
}

fn run(src: &str) -> (Summary, Tasks) {
    let sc: Scenario = scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"));
    sim::run(
        &sc,
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        Tasks::default(),
    )
}

/// Times of the task events of a service with this transition.
fn times(e: &Tasks, service: &str, change: &str) -> Vec<u64> {
    e.0.iter()
        .filter(|r| r.1 == service && r.2 == change)
        .map(|r| r.0)
        .collect()
}

fn float(s: &Summary, key: &str) -> f64 {
    match s.fields().into_iter().find(|(k, _)| k == key) {
        Some((_, SummaryValue::Float(f))) => f,
        Some((_, SummaryValue::Int(i))) => i as f64,
        other => panic!("{key}: {other:?}"),
    }
}

const MIN: u64 = 60_000;

/// One m5.large (2 vCPU): service `a` runs 2 tasks of 1 vCPU and scales in to 1 at 30 min;
/// service `b` (1 vCPU) waits for room. `settings` and `a_extra` are added.
fn scale_in(settings: &str, a_extra: &str) -> String {
    format!(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[settings]
tie_break = "lowest_index"
{settings}
[[clusters]]
name = "c"
instance_type = "m5.large"
count = 1
[[task_definitions]]
family = "a"
cpu = 1024
memory = 1024
stop_timeout = "20s"
[[task_definitions]]
family = "b"
cpu = 1024
memory = 1024
[[services]]
name = "a"
task_definition = "a"
desired_count = 2
{a_extra}
[[services]]
name = "b"
task_definition = "b"
desired_count = 1
[[actions]]
at = "30m"
type = "set_desired_count"
service = "a"
desired_count = 1
"#
    )
}

/// ecs-semantics 3.2 (ECS-DG task_definition_parameters.html, `stopTimeout`): a scaled-in task
/// holds its CPU until it is STOPPED, so the waiting task of another service is placed only
/// then. Old code: STOPPED and `b` placed at 30 min, in the same millisecond.
#[test]
fn a_scale_in_frees_the_instance_only_after_the_stop_time() {
    let t0 = 30 * MIN;
    // Default: the app does not exit on SIGTERM; SIGKILL at the 20-s stop timeout.
    let (_, e) = run(&scale_in("", ""));
    assert_eq!(times(&e, "a", "RUNNING>STOPPING"), vec![t0]);
    assert_eq!(times(&e, "a", "STOPPING>STOPPED"), vec![t0 + 20_000]);
    let stopping = e.0.iter().find(|r| r.2 == "RUNNING>STOPPING").unwrap();
    assert_eq!(
        stopping.3, "ServiceSchedulerInitiated",
        "reason on STOPPING"
    );
    assert_eq!(times(&e, "b", ">PENDING"), vec![t0 + 20_000]);
    // settings.task_stop_time: the app exits 5 s after SIGTERM.
    let (_, e) = run(&scale_in("task_stop_time = \"5s\"", ""));
    assert_eq!(times(&e, "a", "STOPPING>STOPPED"), vec![t0 + 5_000]);
    assert_eq!(times(&e, "b", ">PENDING"), vec![t0 + 5_000]);
    // ... at most the stop timeout (then SIGKILL).
    let (_, e) = run(&scale_in("task_stop_time = \"90s\"", ""));
    assert_eq!(times(&e, "a", "STOPPING>STOPPED"), vec![t0 + 20_000]);
    // "0s" stops at once, without STOPPING (the old behaviour).
    let (_, e) = run(&scale_in("task_stop_time = \"0s\"", ""));
    assert!(times(&e, "a", "RUNNING>STOPPING").is_empty());
    assert_eq!(times(&e, "a", "RUNNING>STOPPED"), vec![t0]);
    assert_eq!(times(&e, "b", ">PENDING"), vec![t0]);
}

/// ecs-semantics 3.3 (ECS-DG load-balancer-connection-draining.html): behind a load balancer the
/// task is first deregistered and waits the target group's deregistration delay (default 300 s),
/// then SIGTERM and its stop time. Old code: STOPPED at 30 min.
#[test]
fn behind_a_load_balancer_a_task_stops_after_the_deregistration_delay_and_its_stop_time() {
    let t0 = 30 * MIN;
    let lb = "load_balancer = { health_check_interval = \"30s\" }";
    let (_, e) = run(&scale_in("task_stop_time = \"5s\"", lb));
    assert_eq!(times(&e, "a", "RUNNING>STOPPING"), vec![t0]);
    assert_eq!(
        times(&e, "a", "STOPPING>STOPPED"),
        vec![t0 + 300_000 + 5_000]
    );
    assert_eq!(times(&e, "b", ">PENDING"), vec![t0 + 305_000]);
    let lb = "load_balancer = { deregistration_delay = \"60s\" }";
    let (_, e) = run(&scale_in("", lb));
    assert_eq!(
        times(&e, "a", "STOPPING>STOPPED"),
        vec![t0 + 60_000 + 20_000]
    );
}

/// ecs-semantics 4.4 (ECS-DG deployment-type-ecs.html): `maximumPercent` bounds RUNNING +
/// PENDING + STOPPING tasks. With maximumPercent 100 and minimumHealthyPercent 0, a one-task
/// service stops its old task first and starts the new one only once the old one is STOPPED
/// (on an instance with plenty of room). Old code: both at the deployment's instant. The
/// deployment completes only when no old task is left, STOPPING included.
#[test]
fn a_rolling_deployment_with_maximum_100_starts_the_replacement_when_the_old_task_is_stopped() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[[clusters]]
name = "c"
instance_type = "m5.4xlarge"
count = 1
[[task_definitions]]
family = "v1"
cpu = 256
memory = 512
[[task_definitions]]
family = "v2"
cpu = 256
memory = 512
[[services]]
name = "s"
task_definition = "v1"
desired_count = 1
deployment_configuration = { minimum_healthy_percent = 0, maximum_percent = 100 }
[[actions]]
at = "30m"
type = "deploy"
service = "s"
task_definition = "v2"
"#;
    let t0 = 30 * MIN;
    let (s, e) = run(src);
    assert_eq!(times(&e, "s", "RUNNING>STOPPING"), vec![t0]);
    assert_eq!(times(&e, "s", "STOPPING>STOPPED"), vec![t0 + 30_000]);
    assert_eq!(times(&e, "s", ">PENDING"), vec![0, t0 + 30_000]);
    assert_eq!(s.recovery.deployments[0].2, "COMPLETED");
    // 100 % / 200 %: the new task starts at once, the old one stops once it is healthy.
    let (s, e) = run(&src.replace(
        "minimum_healthy_percent = 0, maximum_percent = 100",
        "minimum_healthy_percent = 100, maximum_percent = 200",
    ));
    assert_eq!(times(&e, "s", ">PENDING"), vec![0, t0]);
    assert_eq!(times(&e, "s", "RUNNING>STOPPING"), vec![t0 + 40_000]);
    assert_eq!(s.recovery.deployments[0].2, "COMPLETED");
}

/// Only the scheduler's stops go through STOPPING: a crashed task (ecs-semantics 4.3: its
/// essential container exited) is STOPPED at once and replaced at once.
#[test]
fn a_crash_still_stops_at_once() {
    let src = scale_in("", "").replace(
        "stop_timeout = \"20s\"",
        "stop_timeout = \"20s\"\ntime_to_failure = \"10m\"",
    );
    let (_, e) = run(&src);
    let crashed: Vec<&(u64, String, String, String)> =
        e.0.iter()
            .filter(|r| r.1 == "a" && r.3 == "EssentialContainerExited")
            .collect();
    assert!(!crashed.is_empty());
    for r in crashed {
        assert_eq!(r.2, "RUNNING>STOPPED", "{r:?}");
    }
}

/// Billing runs until STOPPED (ECS bills a task until it stops; Fargate per second): a Fargate
/// service scaled in costs more with the default 30-s stop than when its tasks exit at once.
#[test]
fn fargate_billing_runs_until_stopped() {
    let src = |settings: &str| {
        format!(
            r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[settings]
{settings}
[[clusters]]
name = "c"
capacity_providers = ["FARGATE"]
[[task_definitions]]
family = "t"
cpu = 1024
memory = 2048
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "t"
desired_count = 10
capacity_provider_strategy = [{{ capacity_provider = "FARGATE", weight = 1 }}]
[[actions]]
at = "30m"
type = "set_desired_count"
service = "s"
desired_count = 1
"#
        )
    };
    let (slow, e) = run(&src(""));
    assert_eq!(times(&e, "s", "STOPPING>STOPPED").len(), 9);
    let (fast, _) = run(&src("task_stop_time = \"0s\""));
    let (a, b) = (
        float(&slow, "cost_fargate_usd"),
        float(&fast, "cost_fargate_usd"),
    );
    assert!(a > b, "{a} vs {b}");
}
