//! Resources on a container instance and what instances cost: awsvpc ports and ENIs, ENI
//! trunking, Windows instances, registered memory, prices. Each test names its source in
//! docs/ecs-semantics.md (sections 2.3 to 2.5, 8) and the AWS page behind it.

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

/// A cluster of one instance of a custom type, `extra` added to the type, group options `group`.
fn custom_type(extra: &str, group: &str, pricing: &str) -> String {
    format!(
        r#"
schema_version = 1
name = "t"
{pricing}
[[instance_types]]
name = "m5.large"
vcpu = 2
memory_gib = 8
{extra}
[[instance_types]]
name = "lab.2c8g"
vcpu = 2
memory_gib = 8
price_per_hour_usd = 0.1
[[clusters]]
name = "c"
count = 1
{group}
[[task_definitions]]
family = "small"
cpu = 256
memory = 512
[[jobs]]
name = "j"
task_definition = "small"
arrival = {{ type = "list", at = ["0s"] }}
run_time = "1h"
"#
    )
}

/// Issue 11 / ecs-semantics 8.4-8.6: a custom `[[instance_types]]` entry that reuses a name the
/// pricing table prices, with another price, is an error naming both prices (the table's price is
/// the one billed; ecsim used to ignore the entry's silently). The same price, or none, is fine.
#[test]
fn a_custom_price_that_the_table_would_override_is_an_error() {
    let group = r#"instance_type = "m5.large""#;
    let e = errors(&custom_type("price_per_hour_usd = 0.5", group, ""));
    assert!(
        e.iter()
            .any(|e| e.contains("instance_types[0].price_per_hour_usd")
                && e.contains("got 0.5")
                && e.contains("\"m5.large\" at $0.096/h On-Demand")),
        "{e:?}"
    );
    let e = errors(&custom_type("spot_price_per_hour_usd = 0.01", group, ""));
    assert!(
        e.iter()
            .any(|e| e.contains("instance_types[0].spot_price_per_hour_usd")),
        "{e:?}"
    );
    for ok in ["price_per_hour_usd = 0.096", ""] {
        let (s, _) = run(&load(&custom_type(ok, group, "")));
        // One m5.large for 1 h at the table's $0.096.
        assert!(
            (s.costs.ec2.usd() - 0.096).abs() < 1e-9,
            "{ok}: {}",
            s.costs.ec2.usd()
        );
    }
}

/// Issue 11 / ecs-semantics 8.6: a Spot group whose type has no Spot price is an error, not an
/// On-Demand bill reported as Spot; the price can come from the type
/// (`spot_price_per_hour_usd`) or, by the user's choice, from `pricing.ec2_spot_discount_pct`.
/// A type with no On-Demand price at all is an error too (it was billed $0).
#[test]
fn a_spot_group_without_a_spot_price_is_an_error() {
    let spot = "instance_type = \"lab.2c8g\"\npurchase_option = \"spot\"";
    let e = errors(&custom_type("", spot, ""));
    assert!(
        e.iter().any(|e| e.contains("clusters[0].purchase_option")
            && e.contains("\"lab.2c8g\" has no Spot price")
            && e.contains("ec2_spot_discount_pct")),
        "{e:?}"
    );
    let priced = custom_type("", spot, "").replace(
        "price_per_hour_usd = 0.1",
        "price_per_hour_usd = 0.1\nspot_price_per_hour_usd = 0.03",
    );
    let (s, _) = run(&load(&priced));
    assert!(
        (s.costs.ec2.usd() - 0.03).abs() < 1e-9,
        "{}",
        s.costs.ec2.usd()
    );
    let discount = custom_type("", spot, "[pricing]\nec2_spot_discount_pct = 60");
    let (s, _) = run(&load(&discount));
    assert!(
        (s.costs.ec2.usd() - 0.04).abs() < 1e-9,
        "{}",
        s.costs.ec2.usd()
    );
    let unpriced = custom_type("", "instance_type = \"lab.2c8g\"", "")
        .replace("price_per_hour_usd = 0.1\n", "");
    let e = errors(&unpriced);
    assert!(
        e.iter()
            .any(|e| e.contains("\"lab.2c8g\" has no On-Demand price")),
        "{e:?}"
    );
}

/// Issue 11 / ecs-semantics 1.5 and 2.3: instances carry their AMI's OS (`ecs.os-type`,
/// `ecs.os-family`); a task definition's `runtime_platform.operating_system_family` restricts it
/// to instances of that family, and Linux tasks never land on Windows instances. A Windows
/// m4.large registers 8,191 MiB (ECS-DG `memory-management.html`), so a task of that size fits
/// only there. A Windows task with no Windows instance is an error (ecsim placed it on Linux).
#[test]
fn windows_tasks_run_on_windows_instances_only() {
    let src = r#"
schema_version = 1
name = "t"
[simulation]
duration = "10m"
[settings]
tie_break = "lowest_index"
[[clusters]]
name = "c"
instance_type = "m4.large"
count = 1
[[clusters.instance_groups]]
name = "win"
instance_type = "m4.large"
count = 1
os_family = "WINDOWS_SERVER_2022_CORE"
[[task_definitions]]
family = "iis"
cpu = 256
memory = 8191
runtime_platform = { operating_system_family = "WINDOWS_SERVER_2022_CORE" }
[[task_definitions]]
family = "nginx"
cpu = 256
memory = 512
[[services]]
name = "iis"
task_definition = "iis"
desired_count = 1
[[services]]
name = "nginx"
task_definition = "nginx"
desired_count = 4
placement_strategy = [{ type = "spread", field = "instanceId" }]
"#;
    let sc = load(src);
    let (s, out) = run(&sc);
    assert_eq!(s.tasks_started, 5, "{:#?}", out.events);
    let on = |svc: &str| -> Vec<String> {
        out.events
            .iter()
            .filter(|e| e.contains(&format!(" {svc}  i-")) && e.contains("->PENDING"))
            .map(|e| e.split_whitespace().nth(4).unwrap().to_string())
            .collect()
    };
    let (linux, windows) = ("i-00000000000000001", "i-00000000000000002");
    assert_eq!(on("iis"), vec![windows.to_string()]);
    assert_eq!(on("nginx").len(), 4);
    assert!(on("nginx").iter().all(|i| i == linux), "{:?}", on("nginx"));
    // Without the Windows group the Windows task has nowhere to run.
    let linux_only = src.replace("os_family = \"WINDOWS_SERVER_2022_CORE\"\n", "");
    let e = errors(&linux_only);
    assert!(
        e.iter().any(|e| e.contains("services[0].task_definition")
            && e.contains("on a WINDOWS_SERVER_2022_CORE instance")),
        "{e:?}"
    );
}

/// One `ty` instance (launched at 0 unless `launch_delay` says otherwise), a service of
/// `desired` small awsvpc tasks, and extra `[settings]` and cluster lines.
fn awsvpc_service(
    ty: &str,
    desired: u32,
    settings: &str,
    cluster: &str,
    constraint: &str,
) -> String {
    format!(
        r#"
schema_version = 1
name = "t"
[simulation]
duration = "10m"
[settings]
{settings}
[[clusters]]
name = "c"
instance_type = "{ty}"
count = 1
{cluster}
[[task_definitions]]
family = "web"
cpu = 128
memory = 256
network_mode = "awsvpc"
placement_constraints = [{constraint}]
[[task_definitions.containers]]
name = "web"
port_mappings = [{{ container_port = 80 }}]
[[services]]
name = "web"
task_definition = "web"
desired_count = {desired}
"#
    )
}

/// Issue 11 / ecs-semantics 2.5 (ECS-DG `container-instance-eni.html`): with `awsvpcTrunking`
/// an m5.large holds 10 awsvpc tasks instead of 2, and has the `ecs.awsvpc-trunk-id` attribute;
/// without it (the default) the third task fails with `RESOURCE:ENI`. The cluster's
/// `awsvpc_trunking` overrides the account setting either way; a t3.large does not support
/// trunking and keeps 2.
#[test]
fn trunking_fits_many_more_awsvpc_tasks_per_instance() {
    let trunk_id = r#"{ type = "memberOf", expression = "attribute:ecs.awsvpc-trunk-id exists" }"#;
    let started = |ty: &str, settings: &str, cluster: &str, constraint: &str| {
        let (s, out) = run(&load(&awsvpc_service(
            ty, 10, settings, cluster, constraint,
        )));
        let eni = out
            .events
            .iter()
            .any(|e| e.contains("UNABLE_TO_PLACE") && e.contains("RESOURCE:ENI"));
        (s.tasks_started, eni)
    };
    // Off by default, as for an account that never opted in.
    assert_eq!(started("m5.large", "", "", ""), (2, true));
    let on = "awsvpc_trunking = true";
    assert_eq!(started("m5.large", on, "", ""), (10, false));
    assert_eq!(started("m5.large", on, "", trunk_id), (10, false));
    assert_eq!(started("c6g.large", on, "", ""), (10, false));
    // The cluster overrides the account setting.
    assert_eq!(
        started("m5.large", "", "awsvpc_trunking = true", trunk_id),
        (10, false)
    );
    assert_eq!(
        started("m5.large", on, "awsvpc_trunking = false", ""),
        (2, true)
    );
    // Not a supported type: no trunk, max_enis - 1 tasks.
    assert_eq!(started("t3.large", on, "", ""), (2, true));
    let (s, _) = run(&load(&awsvpc_service("t3.large", 1, on, "", trunk_id)));
    assert_eq!(s.tasks_started, 0, "a t3.large has no trunk ENI");
    // A custom type gives its own trunking limit (`trunk_eni_tasks`).
    let custom = "awsvpc_trunking = true\n[[instance_types]]\nname = \"x.large\"\nvcpu = 2\nmemory_gib = 8\nmax_enis = 3\ntrunk_eni_tasks = 5\nprice_per_hour_usd = 0.1";
    assert_eq!(started("x.large", custom, "", ""), (5, true));
}

/// Issue 11 / ecs-semantics 2.5 (ECS-DG `container-instance-eni.html`): `awsvpcTrunking` applies
/// only to instances launched after it is switched on. The m5.large launched at 0 keeps 2 awsvpc
/// tasks though trunking is on from 2 min; when it fails at 5 min, its replacement (launched when
/// ECS notices, at 6 min) has a trunk ENI and runs all 8.
#[test]
fn an_instance_launched_before_trunking_keeps_the_old_limit() {
    let mut src = awsvpc_service(
        "m5.large",
        8,
        "awsvpc_trunking = true\nawsvpc_trunking_at = \"2m\"",
        "",
        "",
    );
    src.push_str(
        r#"
[failures]
scripted = [{ at = "5m", type = "instance_failure", cluster = "c", group = "c", count = 1 }]
"#,
    );
    let (_, out) = run(&load(&src));
    let running_by = |t_ms: u64| {
        let mut n = 0i64;
        for e in &out.events {
            let time: u64 = e.split(' ').next().unwrap().parse().unwrap();
            if time <= t_ms && e.contains(" task ") {
                if e.contains("->RUNNING") {
                    n += 1;
                }
                if e.contains("RUNNING->") {
                    n -= 1;
                }
            }
        }
        n
    };
    assert_eq!(running_by(4 * 60_000), 2, "{:#?}", out.events);
    assert_eq!(running_by(9 * 60_000), 8, "{:#?}", out.events);
    // Switched on before the launch: all 8 from the start.
    let (_, out) = run(&load(&src.replace("awsvpc_trunking_at = \"2m\"", "")));
    let running = out
        .events
        .iter()
        .filter(|e| e.contains("->RUNNING"))
        .count();
    assert_eq!(
        running,
        8 + 8,
        "8 before the failure, 8 replacements: {:#?}",
        out.events
    );
}

/// Issue 11 / ecs-semantics 2.5 (ECS-DG `container-instance-eni.html`): a trunking instance is
/// REGISTERING until its trunk ENI exists, so it becomes ACTIVE `trunk_eni_delay` after its launch
/// delay. The delay has its own random stream: switching trunking on changes no launch delay, and
/// a type without trunking registers as before.
#[test]
fn registration_waits_for_the_trunk_eni() {
    let src = |settings: &str| {
        format!(
            r#"
schema_version = 1
name = "t"
[simulation]
duration = "10m"
[settings]
{settings}
[[clusters]]
name = "c"
[[clusters.instance_groups]]
name = "m5"
instance_type = "m5.large"
count = 3
launch_delay = {{ dist = "exponential", mean = "60s" }}
[[clusters.instance_groups]]
name = "t3"
instance_type = "t3.large"
count = 1
launch_delay = "30s"
[[task_definitions]]
family = "j"
cpu = 128
memory = 256
[[jobs]]
name = "j"
task_definition = "j"
arrival = {{ type = "list", at = ["0s"] }}
run_time = "1m"
"#
        )
    };
    let active = |settings: &str| -> Vec<(String, u64)> {
        let (_, out) = run(&load(&src(settings)));
        out.events
            .iter()
            .filter(|e| e.contains("LAUNCHING->ACTIVE"))
            .map(|e| {
                let f: Vec<&str> = e.split(' ').collect();
                (f[5].to_string(), f[0].parse().unwrap())
            })
            .collect()
    };
    let off = active("");
    let on = active("awsvpc_trunking = true\ntrunk_eni_delay = \"10s\"");
    assert_eq!(off.len(), 4, "{off:?}");
    let at = |v: &[(String, u64)], id: &str| v.iter().find(|x| x.0 == id).unwrap().1;
    // The t3.large (fixed 30 s, no trunking) is the one instance registered at 30 s.
    assert_eq!(off.iter().filter(|x| x.1 == 30_000).count(), 1, "{off:?}");
    for (id, t) in &off {
        let trunk = if *t == 30_000 { 0 } else { 10_000 };
        assert_eq!(at(&on, id), t + trunk, "{id}: {off:?} {on:?}");
    }
}
