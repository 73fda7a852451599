//! Resources on a container instance and what instances cost: awsvpc ports and ENIs, ENI
//! trunking, Windows instances, registered memory, prices. Each test names its source in
//! ../shared/ecs-semantics.md (sections 2.3 to 2.5, 8) and the AWS page behind it.

use ecsim_model::record::{EventRecord, MetricsRow, Sink, Summary, TaskRow};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

/// Keeps every event as a line of text.
#[derive(Default)]
struct Collect {
    events: Vec<String>,
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
    fn metrics(&mut self, _: &MetricsRow<'_>) {}
    fn task(&mut self, _: &TaskRow<'_>) {}
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

fn run(sc: &Scenario) -> (Summary, Collect) {
    sim::run(
        sc,
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        Collect::default(),
    )
}

/// Issue 11 / ecs-semantics 2.4 and 2.5 (ECS-DG `container-instance-eni.html`): in `awsvpc` mode
/// each task has its own ENI, so three tasks mapping container port 80 share one m5.xlarge (4
/// ENIs: 3 awsvpc tasks); they are limited by ENIs, so a fourth does not fit (`RESOURCE:ENI`).
#[test]
fn awsvpc_tasks_share_a_port_and_are_limited_by_enis() {
    let src = |desired: u32| {
        format!(
            r#"
schema_version = 1
name = "t"
[simulation]
duration = "10m"
[[clusters]]
name = "c"
instance_type = "m5.xlarge"
count = 1
[[task_definitions]]
family = "web"
cpu = 256
memory = 512
network_mode = "awsvpc"
[[task_definitions.containers]]
name = "web"
port_mappings = [{{ container_port = 80 }}]
[[services]]
name = "web"
task_definition = "web"
desired_count = {desired}
"#
        )
    };
    let (s, out) = run(&load(&src(3)));
    assert_eq!(s.tasks_started, 3, "{:#?}", out.events);
    assert_eq!(s.service_placement_failures, 0);
    assert!(!out.events.iter().any(|e| e.contains("RESOURCE:PORTS")));
    let (s, out) = run(&load(&src(4)));
    assert_eq!(s.tasks_started, 3);
    let unable = out
        .events
        .iter()
        .find(|e| e.contains("UNABLE_TO_PLACE"))
        .expect("the fourth task does not fit");
    assert!(unable.contains("RESOURCE:ENI"), "{unable}");
}

/// A job of one task of `memory` MiB on one instance of `ty`.
fn one_task_on(ty: &str, memory: u32, extra_group: &str) -> String {
    format!(
        r#"
schema_version = 1
name = "t"
[[clusters]]
name = "c"
instance_type = "{ty}"
count = 1
{extra_group}
[[task_definitions]]
family = "big"
cpu = 1024
memory = {memory}
[[jobs]]
name = "j"
task_definition = "big"
arrival = {{ type = "list", at = ["0s"] }}
run_time = "1m"
"#
    )
}

/// Issue 11 / ecs-semantics 2.3: registered memory is AWS's documented figure exactly. ECS-DG
/// `memory-management.html`: an m4.large registers 7,985 MiB (ecsim registered 7,987);
/// ECS-DG `cloudwatch-metrics.html`: a c4.large registers 3,768 MiB (ecsim registered 3,744).
/// A task of exactly that size fits, one MiB more fits no instance type.
#[test]
fn registered_memory_is_the_documented_figure() {
    for (ty, reg) in [("m4.large", 7985), ("c4.large", 3768)] {
        let (s, _) = run(&load(&one_task_on(ty, reg, "")));
        assert_eq!(s.tasks_started, 1, "{ty}: {reg} MiB fits");
        let e = errors(&one_task_on(ty, reg + 1, ""));
        assert!(
            e.iter().any(|e| e.contains(&format!(
                "{ty} (x86_64) registers 2048 CPU units / {reg} MiB"
            ))),
            "{ty}: {e:?}"
        );
    }
}
