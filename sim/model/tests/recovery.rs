//! Failures, recovery and deployments (docs/ecs-semantics.md §4 and §7).

use ecsim_model::record::{EventRecord, NullSink, Sink, Summary, SummaryValue};
use ecsim_model::scenario::{self, CircuitBreaker, Scenario};
use ecsim_model::sim::{self, RunOptions};

fn load(src: &str) -> Scenario {
    scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// (time, kind, service or instance, from>to, reason)
type Record = (u64, String, String, String, String);

#[derive(Default)]
struct Ev(Vec<Record>);

impl Sink for Ev {
    fn event(&mut self, e: &EventRecord<'_>) {
        let who = if e.service.is_empty() {
            e.instance
        } else {
            e.service
        };
        self.0.push((
            e.time_ms,
            e.kind.as_str().to_string(),
            who.to_string(),
            format!("{}>{}", e.from, e.to),
            e.reason.to_string(),
        ));
    }
}

fn run(sc: &Scenario) -> (Summary, Ev) {
    sim::run(
        sc,
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        Ev::default(),
    )
}

fn float(s: &Summary, key: &str) -> f64 {
    match s.fields().into_iter().find(|(k, _)| k == key) {
        Some((_, SummaryValue::Float(f))) => f,
        Some((_, SummaryValue::Int(i))) => i as f64,
        other => panic!("{key}: {other:?}"),
    }
}

/// `instances` m5.large (2 vCPU) holding 2 tasks of 1 vCPU each, a service of `desired` tasks,
/// and a deployment of v2 at 30 min. Tasks start in 10 s and are healthy 40 s later.
fn deployment(instances: u32, desired: u32, min: u32, max: u32, extra: &str) -> String {
    format!(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "2h"
[settings]
task_start_delay = "10s"
tie_break = "lowest_index"
[[clusters]]
name = "c"
instance_type = "m5.large"
count = {instances}
[[task_definitions]]
family = "v1"
cpu = 1024
memory = 1024
[[task_definitions]]
family = "v2"
cpu = 1024
memory = 1024
{extra}
[[services]]
name = "s"
task_definition = "v1"
desired_count = {desired}
deployment_configuration = {{ minimum_healthy_percent = {min}, maximum_percent = {max} }}
[[actions]]
at = "30m"
type = "deploy"
service = "s"
task_definition = "v2"
"#
    )
}

/// (tasks stopped or set STOPPING, tasks started) at the deployment.
fn at_deploy(e: &Ev) -> (usize, usize) {
    let stops =
        e.0.iter()
            .filter(|r| {
                r.0 == 1_800_000
                    && r.1 == "task"
                    && (r.3.ends_with(">STOPPED") || r.3.ends_with(">STOPPING"))
            })
            .count();
    let starts =
        e.0.iter()
            .filter(|r| r.0 == 1_800_000 && r.1 == "task" && r.3 == ">PENDING")
            .count();
    (stops, starts)
}

/// ECS-DG deployment-type-ecs.html: "minimum healthy 50 %, desired 4: may stop 2 old tasks before
/// starting 2 new ones" (in a cluster with no room, it does exactly that, once they are STOPPED:
/// they hold their resources for the 30-s stop timeout, ecs-semantics 3.2) and the deployment
/// completes; "maximum 200 %, desired 4: may start 4 new tasks before stopping old ones".
#[test]
fn deployment_rounding_examples() {
    let (s, e) = run(&load(&deployment(2, 4, 50, 100, "")));
    assert_eq!(
        at_deploy(&e),
        (2, 0),
        "full cluster, min 50 %: stop 2 (ceil(4 x 0.5) = 2 stay); no room to start yet"
    );
    let started =
        e.0.iter()
            .filter(|r| r.0 == 1_830_000 && r.1 == "task" && r.3 == ">PENDING")
            .count();
    assert_eq!(
        started, 2,
        "the 2 new tasks start when the old ones are STOPPED"
    );
    assert_eq!(s.recovery.deployments[0].2, "COMPLETED");
    let (s, e) = run(&load(&deployment(4, 4, 100, 200, "")));
    assert_eq!(
        at_deploy(&e),
        (0, 4),
        "room for 4 more, max 200 %: start 4, stop none yet"
    );
    assert_eq!(s.recovery.deployments[0].2, "COMPLETED");
    // The new tasks are healthy 10 s + 40 s after the deployment starts; then the old ones stop
    // (SIGTERM), and are STOPPED 30 s (the default stop timeout) later.
    let stops: Vec<u64> =
        e.0.iter()
            .filter(|r| r.1 == "task" && r.3 == "RUNNING>STOPPING")
            .map(|r| r.0)
            .collect();
    assert_eq!(stops, vec![1_800_000 + 50_000; 4]);
    let stopped: Vec<u64> =
        e.0.iter()
            .filter(|r| r.1 == "task" && r.3 == "STOPPING>STOPPED")
            .map(|r| r.0)
            .collect();
    assert_eq!(stopped, vec![1_800_000 + 80_000; 4]);
}

/// "minimum healthy 75 %, desired 2: cannot stop any", "maximum 125 %, desired 3: cannot start
/// any", and min = max = 100 %: the deployment can neither stop nor start and stalls with ECS's
/// event (ECS-DG deployment-type-ecs.html).
#[test]
fn deployments_that_cannot_progress_stall() {
    for (instances, desired, min, max) in [(1, 2, 75, 100), (2, 3, 100, 125), (2, 4, 100, 100)] {
        let (s, e) = run(&load(&deployment(instances, desired, min, max, "")));
        assert_eq!(
            at_deploy(&e),
            (0, 0),
            "desired {desired}, min {min}, max {max}"
        );
        let stall =
            e.0.iter()
                .find(|r| r.3 == "IN_PROGRESS>STALLED")
                .unwrap_or_else(|| panic!("no stall for {min}/{max}"));
        assert!(stall.4.contains("was unable to stop or start tasks during a deployment because of the service deployment configuration"));
        assert_eq!(s.recovery.deployments[0].2, "IN_PROGRESS");
    }
}

/// ECS-DG deployment-circuit-breaker.html: threshold = clamp(ceil(0.5 x desired), min, 200); the
/// 2023 guide's worked values with min 10, and the current minimum of 3.
#[test]
fn circuit_breaker_thresholds() {
    let old = CircuitBreaker {
        rollback: false,
        min_threshold: 10,
        percent: 50,
    };
    assert_eq!(
        [1, 25, 400, 800].map(|d| old.threshold(d)),
        [10, 13, 200, 200]
    );
    let new = CircuitBreaker {
        min_threshold: 3,
        ..old
    };
    assert_eq!([1, 4, 7, 25].map(|d| new.threshold(d)), [3, 3, 4, 13]);
}

/// A deployment whose tasks never start trips the circuit breaker at its threshold and rolls back
/// to the last completed task definition.
#[test]
fn circuit_breaker_fails_and_rolls_back() {
    let bad = "start_failure_probability = 1.0";
    let src = deployment(8, 4, 100, 200, "")
        .replace(
            "family = \"v2\"\ncpu = 1024\nmemory = 1024",
            &format!("family = \"v2\"\ncpu = 1024\nmemory = 1024\n{bad}"),
        )
        .replace(
            "maximum_percent = 200 }",
            "maximum_percent = 200, circuit_breaker = { rollback = true } }",
        );
    let (s, e) = run(&load(&src));
    let d = &s.recovery.deployments;
    assert_eq!(d[0].2, "FAILED", "{d:?}");
    assert_eq!(d[1].2, "COMPLETED", "the rollback to v1 completes");
    let failed =
        e.0.iter()
            .find(|r| r.3 == "IN_PROGRESS>FAILED")
            .expect("failure event");
    assert!(
        failed.4.contains("3 failed tasks (threshold 3)"),
        "{}",
        failed.4
    );
    // v1 tasks kept running throughout: 100 % minimum healthy.
    assert_eq!(float(&s, "service.s.min_healthy_availability_pct"), 100.0);
}

/// ECS-DG container-instance-draining.html: desired 4 on a draining instance; with maximum 200 %
/// the 4 replacements start before the drained tasks stop; with maximum 100 % (minimum 50 %) the
/// replacements wait for drained tasks to stop, two at a time.
#[test]
fn draining_with_max_200_versus_100() {
    let src = |min: u32, max: u32| {
        format!(
            r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[settings]
task_start_delay = "10s"
tie_break = "lowest_index"
[failures]
scripted = [{{ at = "20m", type = "drain_instances", count = 1 }}]
[[clusters]]
name = "c"
instance_type = "m5.xlarge"
count = 2
[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024
[[services]]
name = "s"
task_definition = "t"
desired_count = 4
placement_strategy = [{{ type = "binpack", field = "cpu" }}]
deployment_configuration = {{ minimum_healthy_percent = {min}, maximum_percent = {max} }}
"#
        )
    };
    let (_, e) = run(&load(&src(100, 200)));
    let t0 = 1_200_000;
    let starts =
        e.0.iter()
            .filter(|r| r.0 == t0 && r.3 == ">PENDING")
            .count();
    let stops =
        e.0.iter()
            .filter(|r| r.0 == t0 && r.3.ends_with(">STOPPED"))
            .count();
    assert_eq!((starts, stops), (4, 0), "max 200 %: replacements first");
    let later =
        e.0.iter()
            .filter(|r| r.0 == t0 + 50_000 && r.3 == "RUNNING>STOPPING")
            .count();
    assert_eq!(
        later, 4,
        "the drained tasks stop once the replacements are healthy"
    );
    let (_, e) = run(&load(&src(50, 100)));
    let starts =
        e.0.iter()
            .filter(|r| r.0 == t0 && r.3 == ">PENDING")
            .count();
    let stops =
        e.0.iter()
            .filter(|r| r.0 == t0 && r.3 == "RUNNING>STOPPING")
            .count();
    assert_eq!(
        (starts, stops),
        (0, 2),
        "max 100 %, min 50 %: stop 2; the STOPPING ones still count towards the maximum"
    );
    let starts =
        e.0.iter()
            .filter(|r| r.0 == t0 + 30_000 && r.3 == ">PENDING")
            .count();
    assert_eq!(starts, 2, "2 start in their place once they are STOPPED");
}

/// EC2-UG spot-instance-termination-notices.html / ECS-DG container-instance-spot.html: with Spot
/// draining the tasks are replaced during the two-minute notice and none is lost; without it they
/// run until the instance is reclaimed and are lost then.
#[test]
fn spot_draining_on_and_off() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-storm.toml"),
    )
    .unwrap();
    let (s, _) = run(&load(&src));
    assert_eq!(float(&s, "service.api-draining.tasks_lost"), 0.0);
    assert!(float(&s, "service.api-no-draining.tasks_lost") > 0.0);
    assert_eq!(float(&s, "service.api-draining.availability_pct"), 100.0);
    assert!(float(&s, "service.api-no-draining.availability_pct") < 100.0);
}

/// An AZ outage under spread over three AZs keeps at least two thirds of a service's tasks.
#[test]
fn az_outage_under_spread_keeps_two_thirds() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/az-outage.toml"),
    )
    .unwrap();
    for seed in 1..6 {
        let sc = load(&src.replace("tie_break = \"lowest_index\"", "tie_break = \"random\""));
        let (s, _) = sim::run(
            &sc,
            RunOptions {
                seed,
                check_invariants: true,
            },
            NullSink,
        );
        let lost = float(&s, "service.web-spread.tasks_lost");
        assert!(lost <= 4.0, "seed {seed}: spread lost {lost} of 12");
        // Below desired for at most the lost tasks x (detection + restart): 4 x ~1.25 min.
        assert!(
            float(&s, "service.web-spread.task_minutes_below_desired") <= 4.0 * 1.5,
            "seed {seed}"
        );
    }
}

/// ECS-DG service-throttle-logic.html: repeated failed starts throttle the service with growing
/// delays up to the cap, retries never stop, and a new task definition resets it.
#[test]
fn throttle_backs_off_never_stops_and_resets() {
    let src = deployment(4, 2, 100, 200, "")
        .replace(
            "family = \"v1\"\ncpu = 1024\nmemory = 1024",
            "family = \"v1\"\ncpu = 1024\nmemory = 1024\nstart_failure_probability = 1.0",
        )
        .replace("at = \"30m\"", "at = \"90m\"")
        .replace("duration = \"2h\"", "duration = \"3h\"");
    let (s, e) = run(&load(&src));
    let throttled = e.0.iter().filter(|r| r.3 == ">THROTTLED").count();
    assert!(throttled >= 1);
    assert!(e.0.iter().any(|r| {
        r.4.contains("is unable to consistently start tasks successfully")
    }));
    // Launches keep coming until the deployment, further and further apart but never more than
    // the cap (15 minutes) plus the start time.
    let launches: Vec<u64> =
        e.0.iter()
            .filter(|r| r.1 == "task" && r.3 == ">PENDING" && r.0 < 5_400_000)
            .map(|r| r.0)
            .collect();
    let gaps: Vec<u64> = launches.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().any(|&g| g >= 15 * 60_000),
        "reaches the cap: {gaps:?}"
    );
    assert!(gaps.iter().all(|&g| g <= 15 * 60_000 + 10_000), "{gaps:?}");
    assert!(
        launches.iter().any(|&t| t > 80 * 60_000),
        "still retrying late: {launches:?}"
    );
    // The deployment to v2 resets the throttle: v2 tasks start at once and run.
    let v2_start = e.0.iter().find(|r| r.0 == 5_400_000 && r.3 == ">PENDING");
    assert!(v2_start.is_some(), "v2 launched at the deployment instant");
    assert_eq!(s.recovery.deployments[0].2, "COMPLETED");
}

/// Failure runs are reproducible from their seed, and each failure model has its own stream.
#[test]
fn failure_runs_are_reproducible() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "6h"
[[clusters]]
name = "c"
instance_type = "m5.large"
purchase_option = "spot"
count = 6
time_to_failure = { dist = "weibull", scale = "4h", shape = 1.5 }
spot_interruptions_per_hour = 0.1
[[task_definitions]]
family = "t"
cpu = 512
memory = 512
time_to_failure = { dist = "exponential", mean = "2h" }
[[services]]
name = "s"
task_definition = "t"
desired_count = 6
"#;
    let sc = load(src);
    let a = sim::run(
        &sc,
        RunOptions {
            seed: 9,
            check_invariants: true,
        },
        NullSink,
    )
    .0;
    let b = sim::run(
        &sc,
        RunOptions {
            seed: 9,
            check_invariants: false,
        },
        NullSink,
    )
    .0;
    assert_eq!(a, b);
    assert!(a.recovery.tasks_lost > 0 && !a.recovery.failures.is_empty());
    let c = sim::run(
        &sc,
        RunOptions {
            seed: 10,
            check_invariants: false,
        },
        NullSink,
    )
    .0;
    assert_ne!(a.events_hash, c.events_hash);
}

/// Regression (issue 9): an instance that is DRAINING when it stops is recorded as
/// `DRAINING -> STOPPED`, not `ACTIVE -> STOPPED` (ECS-DG container-instance-draining.html: a
/// container instance goes ACTIVE -> DRAINING and is deregistered from there). With Spot draining
/// on, every interrupted instance drains during its notice and is reclaimed two minutes later
/// (EC2-UG spot-instance-termination-notices.html).
#[test]
fn regression_9_a_drained_instance_stops_from_draining() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-storm.toml"),
    )
    .unwrap();
    let (_, e) = run(&load(&src));
    let instance = |r: &&(u64, String, String, String, String)| r.1 == "instance";
    let drained: Vec<&str> =
        e.0.iter()
            .filter(instance)
            .filter(|r| r.3 == "ACTIVE>DRAINING")
            .map(|r| r.2.as_str())
            .collect();
    assert!(!drained.is_empty(), "the storm drains some instances");
    for id in drained {
        let stops: Vec<&str> =
            e.0.iter()
                .filter(instance)
                .filter(|r| r.2 == id && r.3.ends_with(">STOPPED"))
                .map(|r| r.3.as_str())
                .collect();
        assert_eq!(stops, vec!["DRAINING>STOPPED"], "instance {id}");
    }
}

/// ecs-semantics 4.5 (ECS-DG deployment-circuit-breaker.html): when the failure count reaches the
/// threshold the deployment is FAILED and no more tasks are launched; without rollback the old
/// tasks keep serving. Regression (issue 11): ecsim kept launching (and failing) tasks of the
/// failed definition for the rest of the run.
#[test]
fn a_failed_deployment_without_rollback_launches_nothing_more() {
    let src = deployment(8, 4, 100, 200, "")
        .replace(
            "family = \"v2\"\ncpu = 1024\nmemory = 1024",
            "family = \"v2\"\ncpu = 1024\nmemory = 1024\nstart_failure_probability = 1.0",
        )
        .replace(
            "maximum_percent = 200 }",
            "maximum_percent = 200, circuit_breaker = { rollback = false } }",
        );
    let (s, e) = run(&load(&src));
    assert_eq!(s.recovery.deployments.len(), 1);
    assert_eq!(s.recovery.deployments[0].2, "FAILED");
    let failed_at =
        e.0.iter()
            .find(|r| r.3 == "IN_PROGRESS>FAILED")
            .expect("failure event")
            .0;
    let later_starts =
        e.0.iter()
            .filter(|r| r.0 > failed_at && r.1 == "task" && r.3 == ">PENDING")
            .count();
    assert_eq!(
        later_starts, 0,
        "tasks launched after the deployment failed"
    );
    let later_stops =
        e.0.iter()
            .filter(|r| r.0 > failed_at && r.1 == "task" && r.3.ends_with(">STOPPED"))
            .count();
    assert_eq!(later_stops, 0, "the old tasks keep running");
    assert_eq!(float(&s, "service.s.availability_pct"), 100.0);
}

/// ecs-semantics 4.7 (ECS-DG ecs_services.html): daemon tasks start first and stop last. On a
/// draining instance the daemon's task stops only after the replica tasks have left.
/// Regression (issue 11): draining stopped the daemon task at once.
#[test]
fn daemon_tasks_stop_last_on_a_draining_instance() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[settings]
task_start_delay = "10s"
tie_break = "lowest_index"
[failures]
scripted = [{ at = "20m", type = "drain_instances", count = 1 }]
[[clusters]]
name = "c"
instance_type = "m5.xlarge"
count = 2
[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024
[[task_definitions]]
family = "agent"
cpu = 128
memory = 128
[[services]]
name = "logs"
task_definition = "agent"
scheduling_strategy = "DAEMON"
[[services]]
name = "s"
task_definition = "t"
desired_count = 3
placement_strategy = [{ type = "binpack", field = "cpu" }]
deployment_configuration = { minimum_healthy_percent = 100, maximum_percent = 200 }
"#;
    let (_, e) = run(&load(src));
    let drained =
        e.0.iter()
            .find(|r| r.3 == "ACTIVE>DRAINING")
            .expect("drain")
            .clone();
    let t0 = drained.0;
    let stops: Vec<(usize, &Record)> =
        e.0.iter()
            .enumerate()
            .filter(|(_, r)| r.0 >= t0 && r.1 == "task" && r.3.ends_with(">STOPPED"))
            .collect();
    let daemon: Vec<usize> = stops
        .iter()
        .filter(|(_, r)| r.2 == "logs")
        .map(|(k, _)| *k)
        .collect();
    let replica: Vec<usize> = stops
        .iter()
        .filter(|(_, r)| r.2 == "s")
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(daemon.len(), 1, "the drained instance's daemon task stops");
    assert!(!replica.is_empty(), "its replica tasks are replaced");
    assert!(
        daemon[0] > *replica.iter().max().unwrap(),
        "the daemon task stops after every replica task: {stops:?}"
    );
    assert!(e.0[daemon[0]].0 > t0, "not at the drain itself");
}

/// ecs-semantics 7.3 (ECS-DG fargate-capacity-providers.html): on a Fargate Spot interruption
/// warning (two minutes, `TerminationNotice`, SIGTERM) the service launches replacements. The
/// replacement must start at the warning, not when the old task is killed `stopTimeout` later.
/// Regression (issue 11): the replacement started only after the kill.
#[test]
fn fargate_spot_replacements_start_at_the_warning() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[failures]
scripted = [{ at = "20m", type = "fargate_spot_interruption", fraction = 1.0 }]
[[clusters]]
name = "c"
capacity_providers = ["FARGATE", "FARGATE_SPOT"]
[[task_definitions]]
family = "t"
cpu = 512
memory = 1024
network_mode = "awsvpc"
stop_timeout = "120s"
[[services]]
name = "s"
task_definition = "t"
desired_count = 2
capacity_provider_strategy = [{ capacity_provider = "FARGATE_SPOT", weight = 1 }]
"#;
    let (_, e) = run(&load(src));
    let warned: Vec<u64> =
        e.0.iter()
            .filter(|r| r.4 == "TerminationNotice")
            .map(|r| r.0)
            .collect();
    assert_eq!(
        warned,
        vec![1_200_000, 1_200_000],
        "both tasks warned at 20 min"
    );
    let replacements =
        e.0.iter()
            .filter(|r| r.0 == 1_200_000 && r.1 == "task" && r.3 == ">PROVISIONING")
            .count();
    assert_eq!(replacements, 2, "replacements start with the warning");
}

/// ecs-semantics 4.3 (ECS-DG load-balancer-healthcheck.html: a newly registered target needs one
/// passing check; service_definition_parameters.html: the 40-s rule is for tasks without health
/// checks): behind a load balancer, new tasks of a deployment count as healthy at their first
/// passing target check, so the old tasks stop 10 s (start) + 30 s (interval) after the
/// deployment. Regression (issue 11): ecsim added the 40-s rule on top (80 s).
#[test]
fn load_balanced_tasks_are_healthy_at_their_first_target_check() {
    let src = deployment(4, 4, 100, 200, "").replace(
        "deployment_configuration",
        "load_balancer = { health_check_interval = \"30s\" }\ndeployment_configuration",
    );
    let (_, e) = run(&load(&src));
    let stops: Vec<u64> =
        e.0.iter()
            .filter(|r| r.1 == "task" && r.3 == "RUNNING>STOPPING")
            .map(|r| r.0)
            .collect();
    assert!(!stops.is_empty());
    assert!(stops.iter().all(|&t| t == 1_800_000 + 40_000), "{stops:?}");
}

/// Regression (review of issue 11): an AZ outage that hits Fargate tasks still starting, which
/// then reach RUNNING before ECS notices, made the service's lost count underflow (a panic in
/// release builds, which check overflow). The count now follows the task states (invariant
/// checked after every event).
#[test]
fn fargate_tasks_lost_while_starting_keep_the_counts_right() {
    let src = r#"schema_version = 1
name = "f1"
[simulation]
duration = "1h"
[fargate]
image_pull_delay = "30s"
[failures]
scripted = [{ at = "10m10s", type = "az_outage", az = "us-east-1a", duration = "20m" }]
[[clusters]]
name = "c"
capacity_providers = ["FARGATE"]
[[task_definitions]]
family = "t"
cpu = 256
memory = 512
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "t"
launch_type = "FARGATE"
desired_count = 3
availability_zones = ["us-east-1a", "us-east-1b"]
[[actions]]
at = "10m"
type = "set_desired_count"
service = "s"
desired_count = 9
"#;
    let (s, _) = run(&load(src));
    assert!(float(&s, "service.s.tasks_lost") > 0.0);
}

/// Regression (review of issue 11): when an instance failed, its daemon task's loss sent the
/// DAEMON service through the replica scheduler, which started a second daemon task on another
/// instance, and the dead instance stayed in the daemon's desired count. ecs-semantics 4.7: one
/// task on every eligible instance. A crashed daemon task is replaced on its own instance.
#[test]
fn a_daemon_keeps_one_task_per_instance_through_failures() {
    let src = |extra: &str| {
        format!(
            r#"schema_version = 1
name = "d1"
[simulation]
duration = "1h"
[failures]
scripted = [{{ at = "20m", type = "instance_failure", cluster = "c", count = 1 }}]
[[clusters]]
name = "c"
instance_type = "m5.xlarge"
count = 3
[[task_definitions]]
family = "agent"
cpu = 128
memory = 128
{extra}
[[services]]
name = "logs"
task_definition = "agent"
scheduling_strategy = "DAEMON"
"#
        )
    };
    // Invariants (one daemon task per instance) are checked after every event.
    let (s, e) = run(&load(&src("")));
    assert_eq!(s.recovery.tasks_lost, 1);
    let starts =
        e.0.iter()
            .filter(|r| r.1 == "task" && r.3 == ">PENDING")
            .count();
    assert_eq!(
        starts, 4,
        "three at the start, one on the replacement instance"
    );
    // Crashes: each crashed daemon task is replaced on its own instance.
    let (s, _) = run(&load(&src(
        "time_to_failure = { dist = \"exponential\", mean = \"10m\" }",
    )));
    assert!(s.recovery.tasks_lost > 3, "{}", s.recovery.tasks_lost);
}

/// ecs-semantics 4.5 (the circuit breaker counts tasks that fail to reach RUNNING and failed
/// health checks) and 4.2 (the throttle counts failed starts): tasks lost to a Fargate Spot
/// interruption count for neither. Regression (review of issue 11): interruptions during a
/// deployment tripped the circuit breaker.
#[test]
fn spot_interruptions_do_not_trip_the_circuit_breaker() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "1h"
[fargate]
image_pull_delay = "5s"
[failures]
scripted = [{ at = "10m30s", type = "fargate_spot_interruption", fraction = 1.0 }]
[[clusters]]
name = "c"
capacity_providers = ["FARGATE", "FARGATE_SPOT"]
[[task_definitions]]
family = "v1"
cpu = 512
memory = 1024
network_mode = "awsvpc"
[[task_definitions]]
family = "v2"
cpu = 512
memory = 1024
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "v1"
desired_count = 4
capacity_provider_strategy = [{ capacity_provider = "FARGATE_SPOT", weight = 1 }]
deployment_configuration = { minimum_healthy_percent = 100, maximum_percent = 200, circuit_breaker = { rollback = true } }
[[actions]]
at = "10m"
type = "deploy"
service = "s"
task_definition = "v2"
"#;
    let (s, _) = run(&load(src));
    assert!(s.recovery.tasks_lost >= 4, "{}", s.recovery.tasks_lost);
    assert_eq!(
        s.recovery.deployments[0].2, "COMPLETED",
        "{:?}",
        s.recovery.deployments
    );
}
