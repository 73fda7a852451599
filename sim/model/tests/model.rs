//! Whole-model tests: scenario files, error messages, the service scheduler and standalone tasks,
//! determinism. Runs check the whole-run invariants after every event.

use ecsim_model::record::{EventRecord, MetricsRow, Sink, Summary, TaskRow};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

/// Keeps every record as a line of text.
#[derive(Default)]
struct Collect {
    events: Vec<String>,
    metrics: Vec<String>,
    tasks: Vec<String>,
}

impl Sink for Collect {
    fn event(&mut self, e: &EventRecord<'_>) {
        self.events.push(format!(
            "{} {} {:?} {} {} {} {}->{} {}",
            e.time_ms,
            e.kind.as_str(),
            e.task,
            e.service,
            e.job,
            e.instance,
            e.from,
            e.to,
            e.reason
        ));
    }
    fn metrics(&mut self, m: &MetricsRow<'_>) {
        self.metrics.push(format!("{m:?}"));
    }
    fn task(&mut self, t: &TaskRow<'_>) {
        self.tasks.push(format!("{t:?}"));
    }
}

fn load(src: &str) -> Scenario {
    scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(src: &str) -> Vec<String> {
    match scenario::load("bad.toml", src, &[]) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.diagnostics.iter().map(|d| d.to_string()).collect(),
    }
}

fn run(sc: &Scenario, seed: u64) -> (Summary, Collect) {
    sim::run(
        sc,
        RunOptions {
            seed,
            check_invariants: true,
        },
        Collect::default(),
    )
}

const BASE: &str = r#"
schema_version = 1
name = "t"
[simulation]
duration = "1h"
[settings]
tie_break = "lowest_index"
[[clusters]]
name = "c"
instance_type = "m5.large"
count = 3
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
[[task_definitions]]
family = "web"
cpu = 512
memory = 1024
"#;

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn scenario_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "pricing") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every shipped scenario validates and runs with the invariants checked after every event;
/// benchmark scenarios at the reduced size CI uses.
#[test]
fn every_shipped_scenario_validates_and_runs() {
    let files = scenario_files();
    assert!(files.len() >= 5, "{files:?}");
    for p in files {
        let src = std::fs::read_to_string(&p).unwrap();
        if src.contains("\n[[parameters]]") {
            // A sweep file: validated in its own test.
            assert!(
                ecsim_model::sweep::load(&p.display().to_string(), &src).is_ok(),
                "{}",
                p.display()
            );
            continue;
        }
        let sets: Vec<String> = if p.to_string_lossy().contains("/bench/") {
            [
                "clusters[0].count=100",
                "jobs[0].arrival.count=3000",
                "jobs[0].arrival.rate_per_s=0.083",
            ]
            .map(String::from)
            .to_vec()
        } else {
            Vec::new()
        };
        // Files a scenario names (ECS JSON, load CSV) are beside it.
        let dir = p.parent().unwrap().to_path_buf();
        let reader = |name: &str| -> Result<String, String> {
            std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
        };
        let opts = scenario::LoadOptions {
            sets: &sets,
            read_file: Some(&reader),
            ..scenario::LoadOptions::default()
        };
        let sc = scenario::load_with(&p.display().to_string(), &src, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        // Trace files are opened relative to the scenario (the CLI's job in a real run).
        let traces = ecsim_model::trace::Traces::open(&sc, |spec| {
            let f = std::fs::File::open(dir.join(&spec.file)).map_err(|e| e.to_string())?;
            Ok(Box::new(std::io::BufReader::new(f)))
        })
        .unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
        let opts = RunOptions {
            seed: sc.seed,
            check_invariants: true,
        };
        let (summary, out) = sim::run_traced(&sc, opts, Collect::default(), traces);
        assert!(summary.tasks_created > 0, "{}: no tasks", p.display());
        assert!(!out.metrics.is_empty());
        assert_eq!(out.tasks.len() as u64, summary.tasks_created);
    }
}

/// Same scenario and seed: identical records; another seed: different ones.
#[test]
fn runs_are_deterministic() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quickstart.toml"),
    )
    .unwrap();
    let sc = scenario::load("q", &src, &[]).unwrap();
    let (s1, a) = run(&sc, 5);
    let (s2, b) = run(&sc, 5);
    assert_eq!(s1, s2);
    assert_eq!(
        (a.events, a.metrics, a.tasks),
        (b.events.clone(), b.metrics, b.tasks)
    );
    let (s3, c) = run(&sc, 6);
    assert_ne!(s1.events_hash, s3.events_hash);
    assert_ne!(b.events, c.events);
}

/// Changing the placement strategy leaves the workload (arrivals, mix, run times) unchanged:
/// each comes from its own named stream.
#[test]
fn strategy_change_keeps_the_workload() {
    let job = r#"
[[jobs]]
name = "j"
task_definition = "web"
arrival = { type = "poisson", rate_per_s = 0.05, count = 40 }
run_time = { dist = "exponential", mean = "5m" }
"#;
    let a = load(&with(&format!(
        "{job}placement_strategy = [{{ type = \"binpack\", field = \"cpu\" }}]"
    )));
    let b = load(&with(&format!(
        "{job}placement_strategy = [{{ type = \"random\" }}]"
    )));
    let times = |sc: &Scenario| -> Vec<(String, String)> {
        let (_, out) = run(sc, 9);
        out.tasks
            .iter()
            .map(|t| {
                let created = t
                    .split("created_ms: ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .to_string();
                let stopped = t
                    .split("stopped_ms: ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .to_string();
                (created, stopped)
            })
            .collect()
    };
    assert_eq!(times(&a), times(&b));
}

/// ECS-DG ecs_services.html: a REPLICA service keeps its desired count; it retries unplaced tasks
/// when capacity arrives; on scale-in it stops tasks chosen by its strategy.
#[test]
fn service_keeps_desired_count_and_retries() {
    let sc = load(&with(
        r#"
[[clusters.instance_groups]]
name = "late"
instance_type = "m5.large"
count = 2
launch_delay = "10m"
[[services]]
name = "web"
task_definition = "web"
desired_count = 12
# The late instances would otherwise get tasks moved to their AZ (ecs-semantics 4.8); this
# test counts the scheduler's own starts and stops.
availability_zone_rebalancing = "DISABLED"
[[actions]]
at = "30m"
type = "set_desired_count"
service = "web"
desired_count = 5
"#,
    ));
    // m5.large: 2048 CPU units -> 4 tasks of 512 each; 3 instances hold 12... make it 14 to need the late ones.
    let mut sc = sc;
    sc.services[0].desired_count = 14;
    let (s, out) = run(&sc, 1);
    let unable = out
        .events
        .iter()
        .find(|e| e.contains("UNABLE_TO_PLACE"))
        .expect("placement failure event");
    assert!(
        unable.starts_with("0 service") && unable.contains("RESOURCE:CPU"),
        "{unable}"
    );
    assert!(
        out.events
            .iter()
            .any(|e| e.starts_with("600000 service") && e.contains("UNABLE_TO_PLACE->STEADY")),
        "{:#?}",
        out.events
    );
    assert_eq!(s.tasks_stopped_by_scheduler, 9);
    assert_eq!(s.tasks_created, 14);
    let last = out.metrics.last().unwrap();
    assert!(last.contains("desired: 5, running: 5"), "{last}");
}

/// RunTask without capacity providers fails at once when nothing fits, with the reason
/// (ECS-DG api_failures_messages.html); with `on_no_capacity = "wait"` the task waits in
/// PROVISIONING and starts when capacity frees.
#[test]
fn run_task_fail_versus_wait() {
    let job = |mode: &str| {
        with(&format!(
            r#"
[[jobs]]
name = "j"
task_definition = "web"
arrival = {{ type = "list", at = ["0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s", "0s"] }}
run_time = "10m"
on_no_capacity = "{mode}"
"#
        ))
    };
    let (fail, out) = run(&load(&job("fail")), 1);
    assert_eq!((fail.tasks_started, fail.tasks_failed_to_place), (12, 2));
    assert!(
        out.tasks
            .iter()
            .filter(|t| t.contains("failed_to_place") && t.contains("RESOURCE:CPU"))
            .count()
            == 2
    );
    let (wait, out) = run(&load(&job("wait")), 1);
    assert_eq!(
        (
            wait.tasks_started,
            wait.tasks_failed_to_place,
            wait.tasks_completed
        ),
        (14, 0, 14)
    );
    assert_eq!(
        wait.max_wait_ms, 600_000,
        "the last two start when the first ones end"
    );
    assert!(out.events.iter().any(|e| e.contains("->PROVISIONING")));
    // ecs-semantics 1.7: a task waiting for capacity carries why nothing can hold it (the
    // closest instance's failing check), in its event and in the summary. Regression (issue
    // 11): the PROVISIONING event had no reason.
    let waiting: Vec<&String> = out
        .events
        .iter()
        .filter(|e| e.contains("->PROVISIONING"))
        .collect();
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting.iter().all(|e| e.ends_with("RESOURCE:CPU")),
        "{waiting:?}"
    );
    assert_eq!(wait.tasks_waited_for_capacity, 2);
    assert_eq!(
        wait.tasks_waited_by_reason,
        vec![("RESOURCE:CPU".to_string(), 2)]
    );
}

/// A job without duration ends when the last task ends (the steady-binpack rule).
#[test]
fn job_only_run_ends_with_the_last_task() {
    let mut src = with(
        r#"
[[jobs]]
name = "j"
task_definition = "web"
arrival = { type = "list", at = ["1m", "2m"] }
run_time = "5m"
"#,
    );
    src = src.replace("duration = \"1h\"\n", "");
    let (s, _) = run(&load(&src), 1);
    assert_eq!(
        (s.sim_end_ms, s.stop_reason.as_str()),
        (420_000, "no_work_left")
    );
}

/// ECS-DG ecs_services.html: a DAEMON service runs one task on every ACTIVE instance that
/// satisfies its constraints, including instances that join later.
#[test]
fn daemon_runs_one_task_per_eligible_instance() {
    let sc = load(&with(
        r#"
[[clusters.instance_groups]]
name = "late"
instance_type = "c5.large"
count = 2
launch_delay = "5m"
[[services]]
name = "agent"
task_definition = "web"
scheduling_strategy = "DAEMON"
placement_constraints = [{ type = "memberOf", expression = "attribute:ecs.instance-type != c5.large or ec2InstanceId == i-00000000000000004" }]
"#,
    ));
    let (s, out) = run(&sc, 1);
    assert_eq!(
        s.tasks_created, 4,
        "3 m5 at t=0 plus the one c5 the expression allows"
    );
    let last = out.metrics.last().unwrap();
    assert!(last.contains("desired: 4, running: 4"), "{last}");
}

/// Every problem is reported, each with file, line, column, field path, what was given and
/// what is allowed.
#[test]
fn bad_input_reports_every_problem_with_position() {
    let src = r#"schema_version = 1
name = "bad"
[simulation]
duration = "1h"
colour = "blue"
[[clusters]]
name = "c"
instance_type = "m5.lrage"
count = -3
[[task_definitions]]
family = "huge"
cpu = 65536
memory = 1024
[[task_definitions]]
family = "ok"
cpu = 256
memory = 512
placement_constraints = [{ type = "memberOf", expression = "attribute:ecs.instance-type =~" }]
[[services]]
name = "s"
task_definition = "ok"
desired_count = 2
placement_strategy = [{ type = "binpack", field = "disk" }]
"#;
    let errs = errors(src);
    let expect = [
        "bad.toml:5:1: simulation.colour: unknown field \"colour\"",
        "bad.toml:8:17: clusters[0].instance_type: unknown instance type \"m5.lrage\"; known types include m5.large",
        "bad.toml:9:9: clusters[0].count: got the integer -3; expected an integer from 0 to 1000000",
        "bad.toml:18:",
        "placement_constraints[0].expression: invalid expression",
        "bad.toml:23:51: services[0].placement_strategy[0].field: got the string \"disk\"; expected one of \"cpu\" or \"memory\"",
    ];
    for e in expect {
        assert!(
            errs.iter().any(|x| x.contains(e)),
            "missing {e:?} in\n{}",
            errs.join("\n")
        );
    }
    assert!(errs.len() >= 5, "{errs:#?}");
}

/// A task larger than every instance type of its cluster is an error, naming both sides.
#[test]
fn task_larger_than_every_instance_type() {
    let errs = errors(&with(
        r#"
[[task_definitions]]
family = "huge"
cpu = 8192
memory = 1024
[[services]]
name = "s"
task_definition = "huge"
desired_count = 1
"#,
    ));
    assert!(
        errs.iter().any(|e| e.contains("services[0].task_definition: task definition \"huge\" needs 8192 CPU units and 1024 MiB")
            && e.contains("m5.large (x86_64) registers 2048 CPU units")),
        "{errs:#?}"
    );
}

#[test]
fn more_bad_input() {
    let cases: &[(&str, &str)] = &[
        (
            "[[services]]\nname = \"s\"\ntask_definition = \"nope\"\ndesired_count = 1\n",
            "no task definition named \"nope\"; defined: \"web\"",
        ),
        (
            "[[services]]\nname = \"s\"\ntask_definition = \"web\"\ndesired_count = 1\nplacement_strategy = [{type=\"random\"},{type=\"random\"},{type=\"random\"},{type=\"random\"},{type=\"random\"},{type=\"random\"}]\n",
            "ECS allows at most 5",
        ),
        (
            "[[services]]\nname = \"s\"\ntask_definition = \"web\"\ndesired_count = 1\ndeployment_configuration = { maximum_percent = 250 }\n",
            "maximum_percent: got the integer 250; expected an integer from 100 to 200",
        ),
        (
            "[[jobs]]\nname = \"j\"\ntask_definition = \"web\"\narrival = { type = \"poisson\", rate_per_s = 1 }\nrun_time = \"5 minutes\"\n",
            "is not a duration",
        ),
        (
            "[[services]]\nname = \"s\"\ntask_definition = \"web\"\ndesird_count = 1\n",
            "unknown field \"desird_count\" (did you mean \"desired_count\"?)",
        ),
        (
            "[[jobs]]\nname = \"j\"\ntask_definition = \"web\"\narrival = { type = \"list\", at = [\"1m\"] }\nrun_time = \"1m\"\nplacement_constraints = [{ type = \"memberOf\", expression = \"colour == red\" }]\n",
            "unknown subject 'colour'",
        ),
    ];
    for (extra, needle) in cases {
        let errs = errors(&with(extra));
        assert!(
            errs.iter().any(|e| e.contains(needle)),
            "{needle:?} not in {errs:#?}"
        );
    }
    // Syntax errors name the position too.
    let errs = errors("schema_version = 1\nname = \n");
    assert!(
        errs[0].starts_with("bad.toml:2:") && errs[0].contains("TOML syntax"),
        "{errs:?}"
    );
    // Services without a duration would run forever.
    let errs = errors(
        &with("[[services]]\nname = \"s\"\ntask_definition = \"web\"\ndesired_count = 1\n")
            .replace("duration = \"1h\"\n", ""),
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("simulation.duration: missing")),
        "{errs:?}"
    );
}

/// `--set` overrides any field, and bad overrides are reported as such.
#[test]
fn set_overrides() {
    let src = with("[[services]]\nname = \"s\"\ntask_definition = \"web\"\ndesired_count = 1\n");
    let sets = [
        "clusters[0].count=7".to_string(),
        "services[0].desired_count=4".into(),
        "simulation.duration=2h".into(),
    ];
    let sc = scenario::load("t", &src, &sets).unwrap();
    assert_eq!(
        (
            sc.clusters[0].groups[0].count,
            sc.services[0].desired_count,
            sc.simulation.duration_ms
        ),
        (7, 4, Some(7_200_000))
    );
    let bad = [
        "clusters[5].count=1".to_string(),
        "services[0].desired_count=-1".into(),
    ];
    let errs: Vec<String> = scenario::load("t", &src, &bad)
        .unwrap_err()
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert!(
        errs.iter()
            .any(|e| e.contains("(--set clusters[5].count=1)") && e.contains("has 1 entries")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("(--set services[0].desired_count=-1)")
                && e.contains("got the integer -1")),
        "{errs:?}"
    );
}

/// ECS-DG task_definition_parameters.html: placement reserves memoryReservation when set, else
/// memory; container CPU adds up when there is no task-level CPU.
#[test]
fn container_memory_reservation_is_what_placement_reserves() {
    let sc = load(&with(
        r#"
[[task_definitions]]
family = "two"
  [[task_definitions.containers]]
  name = "a"
  cpu = 256
  memory = 2048
  memory_reservation = 512
  [[task_definitions.containers]]
  name = "b"
  cpu = 128
  memory = 300
[[services]]
name = "s"
task_definition = "two"
desired_count = 1
"#,
    ));
    let d = &sc.task_definitions[1];
    assert_eq!((d.cpu_units, d.memory_mib), (384, 812));
    let errs = errors(&with(
        "[[task_definitions]]\nfamily = \"x\"\n  [[task_definitions.containers]]\n  name = \"a\"\n  memory = 256\n  memory_reservation = 512\n[[services]]\nname = \"s\"\ntask_definition = \"x\"\ndesired_count = 1\n",
    ));
    assert!(
        errs.iter()
            .any(|e| e.contains("must be greater than memory_reservation")),
        "{errs:?}"
    );
}

/// ecs-semantics 3.3 (ECS-DG throttling.html): the RunTask API takes 20 calls per second, each
/// call up to 10 tasks. 500 standalone tasks submitted at once make 50 calls: a burst of 20 goes
/// through, then one call every 50 ms, so the last tasks are created 1.5 s later. Regression
/// (issue 11): RunTask was not rate-limited.
#[test]
fn run_task_calls_are_rate_limited() {
    let at = vec!["\"0s\""; 500].join(", ");
    let src = with(&format!(
        r#"
[[jobs]]
name = "j"
task_definition = "web"
arrival = {{ type = "list", at = [{at}] }}
run_time = "1s"
on_no_capacity = "wait"
"#
    ));
    let (s, out) = run(&load(&src), 1);
    assert_eq!(s.run_task_calls_throttled, 30);
    let created = |row: &String| {
        let k = row.find("created_ms: ").expect("created_ms") + "created_ms: ".len();
        row[k..]
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let mut times: Vec<u64> = out.tasks.iter().map(created).collect();
    times.sort_unstable();
    assert_eq!(times.iter().filter(|&&t| t == 0).count(), 200);
    assert_eq!(times.iter().filter(|&&t| t == 1_500).count(), 10);
    assert_eq!(*times.last().unwrap(), 1_500);
    let off = src.replace("[settings]", "[settings]\nrun_task_rate_limit = false");
    let (s, out) = run(&load(&off), 1);
    assert_eq!(s.run_task_calls_throttled, 0);
    assert!(out.tasks.iter().all(|t| created(t) == 0));
}

/// Regression (issue 10, resource limits): a job that waits for capacity at a high rate grew
/// without bound (4.7 GiB in 150 s at 1,000,000 tasks/s). The run now stops with
/// `stop_reason = "max_waiting_tasks"` once more tasks wait than `simulation.max_waiting_tasks`.
#[test]
fn a_run_stops_when_too_many_tasks_wait() {
    let src = with(
        r#"
[[jobs]]
name = "flood"
task_definition = "web"
arrival = { type = "poisson", rate_per_s = 1000000 }
run_time = "1h"
on_no_capacity = "wait"
"#,
    )
    .replace(
        "duration = \"1h\"",
        "duration = \"1h\"\nmax_waiting_tasks = 5000",
    );
    let (s, _) = run(&load(&src), 1);
    assert_eq!(s.stop_reason, "max_waiting_tasks");
    assert!(s.tasks_created <= 5_100, "{}", s.tasks_created);
    assert!(
        s.sim_end_ms < 1_000,
        "stopped within a simulated second: {}",
        s.sim_end_ms
    );
}

/// ecs-semantics 1.7 (ECS-DG service-event-messages.html): a service that cannot place a task
/// keeps retrying on its own, not only when capacity changes; identical events stay suppressed.
/// Regression (issue 11): ecsim retried only when capacity changed. The cadence is not
/// documented: `settings.service_placement_retry`, default 1 minute.
#[test]
fn a_service_keeps_retrying_on_its_own_cadence() {
    let src = with(
        r#"
[[services]]
name = "big"
task_definition = "huge"
desired_count = 5
[[task_definitions]]
family = "huge"
cpu = 2048
memory = 1024
"#,
    )
    .replace("duration = \"1h\"", "duration = \"10m\"");
    let (s, out) = run(&load(&src), 1);
    // One failed attempt at t = 0, then one a minute: at 1, 2, ..., 9 min (the end stops the 10th).
    assert_eq!(s.service_placement_failures, 10);
    let unable = out
        .events
        .iter()
        .filter(|e| e.contains("UNABLE_TO_PLACE"))
        .count();
    assert_eq!(unable, 1, "the identical event is recorded once");
    let off = src.replace("[settings]", "[settings]\nservice_placement_retry = \"0s\"");
    let (s, _) = run(&load(&off), 1);
    assert_eq!(s.service_placement_failures, 1);
}

/// A trace job's tasks come from the reader the caller gives (the CLI opens the file); without
/// one (`sim::run`, e.g. the fuzzer) the trace is empty, never a panic. Each task reserves its
/// row's CPU and memory, checked by the invariants after every event.
#[test]
fn trace_jobs_read_what_they_are_given() {
    let sc = load(&with(
        r#"
[[jobs]]
name = "tr"
task_definition = "web"
arrival = { type = "trace", file = "t.csv", format = "csv" }
on_no_capacity = "wait"
"#,
    ));
    let (s, _) = run(&sc, 1);
    assert_eq!((s.tasks_created, s.traces[0].counts.rows_used), (0, 0));
    let rows = "0,2048,1024,60\n0,2048,1024,60\n0,2048,1024,60\n30,2048,1024,60\n";
    let traces = ecsim_model::trace::Traces::open(&sc, |_| {
        Ok(Box::new(std::io::Cursor::new(rows.as_bytes().to_vec())))
    })
    .unwrap();
    let opts = RunOptions {
        seed: 1,
        check_invariants: true,
    };
    let (s, _) = sim::run_traced(&sc, opts, Collect::default(), traces);
    // Three m5.large hold one 2,048-unit task each: the fourth waits for the first to finish.
    assert_eq!((s.tasks_created, s.tasks_completed), (4, 4));
    assert_eq!(s.tasks_waited_for_capacity, 1);
    assert_eq!(s.max_wait_ms, 30_000);
    assert_eq!(s.traces[0].counts.rows_used, 4);
}

/// A [`Collect`] that asks for placement explanations: the model then searches for every task
/// it tries, with none of the shortcuts that skip a search known to fail.
#[derive(Default)]
struct Explaining(Collect, u64);

impl Sink for Explaining {
    fn event(&mut self, e: &EventRecord<'_>) {
        self.0.event(e)
    }
    fn metrics(&mut self, m: &MetricsRow<'_>) {
        self.0.metrics(m)
    }
    fn task(&mut self, t: &TaskRow<'_>) {
        self.0.task(t)
    }
    fn explains(&self) -> bool {
        true
    }
    fn placement(&mut self, _p: &ecsim_model::record::PlacementRecord<'_>) {
        self.1 += 1;
    }
}

/// Issue 13: a trace job whose rows queue many tasks of many sizes. The wait queue's shortcuts
/// (runs of same-needs tasks, skipping sizes a smaller failure covers, keeping a failed launch's
/// answer while the cluster is unchanged) must not change a run: the same run explained (every
/// attempt searched and diagnosed) gives the same events, for strategies with and without
/// random draws and with tasks that fail to start (capacity freed during a retry pass).
#[test]
fn wait_queue_shortcuts_change_no_result() {
    // 200 rows of 1-20 tasks arriving faster than 4 instances drain them: sizes from a fixed
    // LCG, or all one size (the same request again and again as the cluster changes).
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let (mut varied, mut uniform) = (String::new(), String::new());
    for k in 0..200 {
        let cpu = 128 * (1 + next(8));
        let mem = 128 * (1 + next(16));
        let dur = 5 + next(120);
        let count = 1 + next(20);
        varied.push_str(&format!("{},{cpu},{mem},{dur},{count}\n", k / 4));
        uniform.push_str(&format!("{},512,1024,{dur},{count}\n", k / 4));
    }
    let strategies = [
        r#"[{ type = "binpack", field = "cpu" }]"#,
        r#"[{ type = "binpack", field = "memory" }, { type = "random" }]"#,
        r#"[{ type = "spread", field = "attribute:ecs.availability-zone" }, { type = "spread", field = "instanceId" }]"#,
        r#"[{ type = "random" }]"#,
    ];
    for (k, strategy) in strategies.iter().enumerate() {
        for (extra, rows) in [
            ("", &varied),
            ("", &uniform),
            ("start_failure_probability = 0.2\n", &varied),
        ] {
            let src = with(&format!(
                r#"
[[jobs]]
name = "tr"
task_definition = "web"
arrival = {{ type = "trace", file = "t.csv", format = "csv" }}
on_no_capacity = "wait"
placement_strategy = {strategy}
"#
            ))
            .replace("count = 3\n", "count = 4\n")
            .replace("\"lowest_index\"", "\"random\"")
            .replace("memory = 1024\n", &format!("memory = 1024\n{extra}"));
            let sc = load(&src);
            let open = || {
                ecsim_model::trace::Traces::open(&sc, |_| {
                    Ok(Box::new(std::io::Cursor::new(rows.as_bytes().to_vec())))
                })
                .unwrap()
            };
            let opts = RunOptions {
                seed: 3,
                check_invariants: k == 0,
            };
            let (plain, a) = sim::run_traced(&sc, opts, Collect::default(), open());
            let (explained, b) = sim::run_traced(&sc, opts, Explaining::default(), open());
            let what = format!("strategy {strategy} {extra}");
            assert!(plain.tasks_waited_for_capacity > 300, "{what}: tasks queue");
            assert!(b.1 > plain.tasks_created, "{what}: explained every attempt");
            assert_eq!(plain.events_hash, explained.events_hash, "{what}");
            assert_eq!(a.events, b.0.events, "{what}");
            assert_eq!(a.tasks, b.0.tasks, "{what}");
        }
    }
}
