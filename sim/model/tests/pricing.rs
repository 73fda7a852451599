//! Cost tests against AWS's published prices and billing rules (docs/ecs-semantics.md §8),
//! and capacity provider strategies (§6.2).

use ecsim_model::pricing::{Money, UNITS_PER_USD};
use ecsim_model::record::{CostRow, NullSink, Sink, Summary};
use ecsim_model::scenario::{self, Scenario};
use ecsim_model::sim::{self, RunOptions};

fn repo_file(rel: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel),
    )
    .unwrap()
}

fn load(src: &str) -> Scenario {
    scenario::load("test.toml", src, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn run(sc: &Scenario) -> Summary {
    sim::run(
        sc,
        RunOptions {
            seed: 1,
            check_invariants: true,
        },
        NullSink,
    )
    .0
}

fn cents(m: Money) -> u128 {
    m.cents()
}

/// FG-PRICE worked examples 1-4 (us-east-1), from scenarios/pricing-examples/: each bill line
/// rounded to cents as AWS does, the rounded lines summing to AWS's total, and our exact total
/// rounding to the same.
#[test]
fn aws_fargate_pricing_examples_to_the_cent() {
    // (file, vCPU, memory, storage, OS licence, total), cents.
    let cases = [
        (
            "scenarios/pricing-examples/example-1.toml",
            101,
            22,
            3,
            0,
            126,
        ),
        (
            "scenarios/pricing-examples/example-2.toml",
            81,
            18,
            3,
            0,
            102,
        ),
        (
            "scenarios/pricing-examples/example-3.toml",
            304,
            133,
            0,
            0,
            437,
        ),
        (
            "scenarios/pricing-examples/example-4.toml",
            2745,
            600,
            0,
            1380,
            4725,
        ),
    ];
    for (file, vcpu, mem, storage, license, total) in cases {
        let s = run(&load(&repo_file(file)));
        let c = &s.costs.fargate_charge;
        let lines = (
            cents(c.vcpu),
            cents(c.memory),
            cents(c.storage),
            cents(c.os_license),
        );
        assert_eq!(lines, (vcpu, mem, storage, license), "{file}: bill lines");
        assert_eq!(vcpu + mem + storage + license, total, "{file}: AWS's total");
        assert_eq!(
            cents(s.costs.total),
            total,
            "{file}: exact total rounds to AWS's"
        );
        assert_eq!(
            (s.costs.ec2, s.costs.fargate_spot),
            (Money::ZERO, Money::ZERO)
        );
    }
}

fn fargate_job(extra_def: &str, runs: &[&str], run_time: &str) -> String {
    format!(
        r#"schema_version = 1
name = "t"
[fargate]
provisioning_delay = "0s"
image_pull_delay = "0s"
[[clusters]]
name = "f"
capacity_providers = ["FARGATE"]
[[task_definitions]]
family = "t"
cpu = 1024
memory = 2048
network_mode = "awsvpc"
{extra_def}
[[jobs]]
name = "j"
task_definition = "t"
launch_type = "FARGATE"
arrival = {{ type = "list", at = [{}] }}
run_time = "{run_time}"
"#,
        runs.iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// One hour of 1 vCPU and 2 GB on Linux/x86 at FG-PRICE rates, in money units.
fn vcpu_ms(ms: u128) -> u128 {
    40_478_400_000 * 1024 * ms
}

/// FG-PRICE: per second, rounded up to the whole second, with a 1-minute minimum (5 minutes on
/// Windows).
#[test]
fn fargate_minimum_and_rounding() {
    let s = run(&load(&fargate_job("", &["0s"], "30s")));
    assert_eq!(
        s.costs.fargate_charge.vcpu.0,
        vcpu_ms(60_000),
        "30 s bills 60 s"
    );
    let s = run(&load(&fargate_job("", &["0s"], "90400ms")));
    assert_eq!(
        s.costs.fargate_charge.vcpu.0,
        vcpu_ms(91_000),
        "90.4 s bills 91 s"
    );
    let s = run(&load(&fargate_job("", &["0s"], "2m")));
    assert_eq!(
        s.costs.fargate_charge.vcpu.0,
        vcpu_ms(120_000),
        "2 min bills 2 min"
    );
    let win = r#"runtime_platform = { operating_system_family = "WINDOWS_SERVER_2022_CORE" }"#;
    let s = run(&load(&fargate_job(win, &["0s"], "2m")));
    let per_ms = 91_500_120_000u128 * 1024; // 0.0000254167 USD/s x 3600 in pico-dollars
    assert_eq!(
        s.costs.fargate_charge.vcpu.0,
        per_ms * 300_000,
        "Windows: 2 min bills the 5-minute minimum"
    );
}

/// EC2-UG: instances bill per second with a 60-second minimum, whether or not tasks use them.
#[test]
fn ec2_minimum_and_idle() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "30s"
[[clusters]]
name = "c"
instance_type = "m5.large"
count = 2
[[task_definitions]]
family = "t"
cpu = 1024
memory = 1024
[[services]]
name = "s"
task_definition = "t"
desired_count = 1
"#;
    let s = run(&load(src));
    let one_minute = 96_000_000_000u128 * 1024 * 60_000; // 0.096 USD/h, 60 s
    assert_eq!(
        s.costs.ec2.0,
        2 * one_minute,
        "two instances, 30 s each, bill 60 s each"
    );
    // One task reserving half the CPU (1024 of 2048) and 1024 of 7985 MiB uses half of one
    // instance for the 30 s it ran; everything else is idle.
    let half_30s = 96_000_000_000u128 * 1024 * 30_000 / 2;
    assert_eq!(s.costs.ec2_idle.0, 2 * one_minute - half_30s);
    assert_eq!(s.costs.services[0].1.0, half_30s);
    let s = run(&load(
        &src.replace("duration = \"30s\"", "duration = \"90500ms\""),
    ));
    assert_eq!(
        s.costs.ec2.0,
        2 * 96_000_000_000u128 * 1024 * 91_000,
        "90.5 s bills 91 s"
    );
}

/// Collects cost rows to check that they add up.
#[derive(Default)]
struct Rows(Vec<(u64, String, String, Money)>);

impl Sink for Rows {
    fn cost(&mut self, c: &CostRow<'_>) {
        self.0.push((
            c.hour_start_ms,
            c.scope.to_string(),
            c.name.to_string(),
            c.cost,
        ));
    }
}

/// Cost conservation: per hour, the total equals EC2 used + idle + Fargate + Fargate Spot, equals
/// the sum over capacity providers, equals the sum over services and jobs plus idle; the hours add
/// up to the summary's totals; nothing is negative or NaN.
#[test]
fn costs_are_conserved() {
    for file in [
        "scenarios/fargate-vs-ec2.toml",
        "scenarios/spot-mix.toml",
        "scenarios/quickstart.toml",
    ] {
        let sc = scenario::load(file, &repo_file(file), &[]).unwrap_or_else(|e| panic!("{e}"));
        let (s, rows) = sim::run(
            &sc,
            RunOptions {
                seed: 3,
                check_invariants: true,
            },
            Rows::default(),
        );
        let hours: std::collections::BTreeSet<u64> = rows.0.iter().map(|r| r.0).collect();
        assert!(!hours.is_empty());
        let mut grand = Money::ZERO;
        for h in hours {
            let sum = |scope: &str, names: &[&str]| -> Money {
                rows.0
                    .iter()
                    .filter(|r| {
                        r.0 == h
                            && r.1 == scope
                            && (names.is_empty() || names.contains(&r.2.as_str()))
                    })
                    .map(|r| r.3)
                    .sum()
            };
            let total = sum("total", &[]);
            let ec2 = sum("ec2", &["used", "idle"]);
            let parts = ec2 + sum("fargate", &[]) + sum("fargate_spot", &[]);
            assert_eq!(total, parts, "{file} hour {h}: total = EC2 + Fargate");
            assert_eq!(
                total,
                sum("capacity_provider", &[]),
                "{file} hour {h}: total = sum over providers"
            );
            let owners = sum("service", &[]) + sum("job", &[]);
            assert_eq!(
                total,
                owners + sum("ec2", &["idle"]),
                "{file} hour {h}: total = owners + idle"
            );
            grand += total;
        }
        assert_eq!(grand, s.costs.total, "{file}: hours add up to the total");
        assert_eq!(s.costs.total, s.costs.ec2 + s.costs.fargate);
        for (k, v) in s.fields() {
            if let ecsim_model::record::SummaryValue::Float(f) = v {
                assert!(f.is_finite() && f >= 0.0, "{file}: {k} = {f}");
            }
        }
        assert!(
            s.costs.total.0 > UNITS_PER_USD / 100,
            "{file}: costs something"
        );
    }
}

fn cp_service(strategy: &str, desired: u32) -> String {
    format!(
        r#"schema_version = 1
name = "t"
[simulation]
duration = "10m"
[[clusters]]
name = "c"
capacity_providers = ["FARGATE", "FARGATE_SPOT"]
[[task_definitions]]
family = "t"
cpu = 256
memory = 512
network_mode = "awsvpc"
[[services]]
name = "s"
task_definition = "t"
desired_count = {desired}
capacity_provider_strategy = {strategy}
"#
    )
}

fn provider_tasks(sc: &Scenario) -> (u64, u64) {
    let s = run(sc);
    let hours = |name: &str| {
        s.costs
            .providers
            .iter()
            .find(|p| p.0 == name)
            .map(|p| p.1)
            .unwrap_or(Money::ZERO)
    };
    // All tasks are alike and run equally long, so cost is proportional to the task count.
    let (a, b) = (hours("FARGATE").0, hours("FARGATE_SPOT").0);
    let fargate_task = sim::run(
        &load(&cp_service(
            "[{ capacity_provider = \"FARGATE\", weight = 1 }]",
            1,
        )),
        RunOptions {
            seed: 1,
            check_invariants: false,
        },
        NullSink,
    )
    .0
    .costs
    .total
    .0;
    let spot_task = sim::run(
        &load(&cp_service(
            "[{ capacity_provider = \"FARGATE_SPOT\", weight = 1 }]",
            1,
        )),
        RunOptions {
            seed: 1,
            check_invariants: false,
        },
        NullSink,
    )
    .0
    .costs
    .total
    .0;
    ((a / fargate_task) as u64, (b / spot_task) as u64)
}

/// ECS-DG cluster-capacity-providers.html: base first, then the rest split by weight; weights 1
/// and 4 put one task on the first provider for every four on the second.
#[test]
fn capacity_provider_strategy_splits() {
    let w14 = "[{ capacity_provider = \"FARGATE\", weight = 1 }, { capacity_provider = \"FARGATE_SPOT\", weight = 4 }]";
    assert_eq!(provider_tasks(&load(&cp_service(w14, 10))), (2, 8));
    assert_eq!(provider_tasks(&load(&cp_service(w14, 5))), (1, 4));
    let base = "[{ capacity_provider = \"FARGATE\", base = 2, weight = 1 }, { capacity_provider = \"FARGATE_SPOT\", weight = 4 }]";
    // Base 2 on FARGATE, then 8 more split 1:4 (1.6 : 6.4), rounded sequentially to 1 : 7.
    assert_eq!(provider_tasks(&load(&cp_service(base, 10))), (3, 7));
    assert_eq!(provider_tasks(&load(&cp_service(base, 2))), (2, 0));
    let zero_weight_spot = "[{ capacity_provider = \"FARGATE\", weight = 1 }, { capacity_provider = \"FARGATE_SPOT\" }]";
    assert_eq!(
        provider_tasks(&load(&cp_service(zero_weight_spot, 6))),
        (6, 0),
        "weight 0 gets no tasks"
    );
}

fn errors(src: &str) -> String {
    match scenario::load("bad.toml", src, &[]) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.to_string(),
    }
}

/// ECS-DG cluster-capacity-providers.html / ECS-API CapacityProviderStrategyItem: an all-zero
/// strategy is rejected; only one provider may set a base; Fargate and ASG providers don't mix;
/// providers must be associated with the cluster.
#[test]
fn invalid_strategies_are_rejected() {
    let e = errors(&cp_service(
        "[{ capacity_provider = \"FARGATE\" }, { capacity_provider = \"FARGATE_SPOT\", weight = 0 }]",
        1,
    ));
    assert!(e.contains("every weight is 0, which ECS rejects"), "{e}");
    let e = errors(&cp_service(
        "[{ capacity_provider = \"FARGATE\", base = 1, weight = 1 }, { capacity_provider = \"FARGATE_SPOT\", base = 1 }]",
        1,
    ));
    assert!(
        e.contains("only one provider in a strategy may set a base"),
        "{e}"
    );
    let e = errors(&cp_service(
        "[{ capacity_provider = \"FARGATE\", weight = 1001 }]",
        1,
    ));
    assert!(
        e.contains("weight: got the integer 1001; expected an integer from 0 to 1000"),
        "{e}"
    );
    let e = errors(&cp_service(
        "[{ capacity_provider = \"ec2\", weight = 1 }]",
        1,
    ));
    assert!(e.contains("\"ec2\" is not associated with cluster \"c\"; associated: \"FARGATE\" or \"FARGATE_SPOT\""), "{e}");
    let mixed = cp_service("[{ capacity_provider = \"FARGATE\", weight = 1 }, { capacity_provider = \"asg\", weight = 1 }]", 1)
        .replace("capacity_providers = [\"FARGATE\", \"FARGATE_SPOT\"]", "capacity_providers = [\"FARGATE\"]\ninstance_type = \"m5.large\"\ncount = 1\ncapacity_provider = \"asg\"");
    let e = errors(&mixed);
    assert!(
        e.contains("mixes Fargate and Auto Scaling group providers"),
        "{e}"
    );
}

/// ECS-DG AWS_Fargate.html: invalid CPU/memory pairs are rejected with the allowed memory values.
#[test]
fn invalid_fargate_sizes_list_the_allowed_values() {
    let src = fargate_job("", &["0s"], "1m").replace("memory = 2048", "memory = 1536");
    let e = errors(&src);
    assert!(e.contains("memory = 1536 is not valid with cpu = 1024 on Fargate; with cpu = 1024 the memory may be 2048, 3072, 4096, 5120, 6144, 7168 or 8192 MiB")
        || e.contains("memory may be 2048, 3072, 4096, 5120, 6144, 7168, 8192 MiB"), "{e}");
    let e = errors(&fargate_job("", &["0s"], "1m").replace("cpu = 1024", "cpu = 300"));
    assert!(e.contains("cpu = 300 is not a Fargate size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384, 32768"), "{e}");
    let e = errors(
        &fargate_job(
            "runtime_platform = { operating_system_family = \"WINDOWS_SERVER_2019_FULL\" }",
            &["0s"],
            "1m",
        )
        .replace("cpu = 1024\nmemory = 2048", "cpu = 512\nmemory = 1024"),
    );
    assert!(
        e.contains("cpu = 512 is not a Fargate size on Windows; allowed: 1024, 2048, 4096"),
        "{e}"
    );
    let e = errors(
        &fargate_job("", &["0s"], "1m")
            .replace("network_mode = \"awsvpc\"", "network_mode = \"bridge\""),
    );
    assert!(e.contains("requires network_mode = \"awsvpc\""), "{e}");
    // Every row of the size table is accepted.
    for (cpu, mems) in [
        (256, vec![512, 1024, 2048]),
        (4096, vec![8192, 30720]),
        (8192, vec![16384, 61440]),
        (16384, vec![32768, 122880]),
        (32768, vec![61440, 249856]),
    ] {
        for m in mems {
            let src = fargate_job("", &["0s"], "1m").replace(
                "cpu = 1024\nmemory = 2048",
                &format!("cpu = {cpu}\nmemory = {m}"),
            );
            assert!(
                scenario::load("ok.toml", &src, &[]).is_ok(),
                "cpu {cpu} memory {m}"
            );
        }
    }
}

/// Fargate's launch-rate token bucket (ECS-DG throttling.html): a burst of 100, then 20 per
/// second. 140 tasks at once: the last 40 wait up to 2 seconds.
#[test]
fn fargate_launch_rate_limit() {
    let times: Vec<&str> = vec!["0s"; 140];
    let sc = load(&fargate_job("", &times, "10m"));
    let s = run(&sc);
    assert_eq!(s.tasks_waited_for_capacity, 40);
    assert_eq!(s.max_wait_ms, 2_000);
    let off = load(&fargate_job("", &times, "10m").replace(
        "image_pull_delay = \"0s\"",
        "image_pull_delay = \"0s\"\nlaunch_rate_limit = false",
    ));
    let s = run(&off);
    assert_eq!((s.tasks_waited_for_capacity, s.max_wait_ms), (0, 0));
}

/// ECS-DG task-placement.html / ecs_services.html: Fargate service tasks are spread across the
/// Availability Zones of their subnets, when launching and when stopping.
#[test]
fn fargate_spreads_service_tasks_over_azs() {
    let src = r#"schema_version = 1
name = "t"
[simulation]
duration = "2h"
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
desired_count = 9
launch_type = "FARGATE"
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
[[actions]]
at = "1h"
type = "set_desired_count"
service = "s"
desired_count = 6
"#;
    #[derive(Default)]
    struct Azs(Vec<(String, Option<u64>)>);
    impl Sink for Azs {
        fn task(&mut self, t: &ecsim_model::record::TaskRow<'_>) {
            self.0.push((t.availability_zone.to_string(), t.stopped_ms));
        }
    }
    for seed in 1..5 {
        let (_, azs) = sim::run(
            &load(src),
            RunOptions {
                seed,
                check_invariants: true,
            },
            Azs::default(),
        );
        let count = |live_only: bool| -> Vec<usize> {
            ["us-east-1a", "us-east-1b", "us-east-1c"]
                .iter()
                .map(|z| {
                    azs.0
                        .iter()
                        .filter(|t| t.0 == *z && (!live_only || t.1.is_none()))
                        .count()
                })
                .collect()
        };
        assert_eq!(count(false), vec![3, 3, 3], "seed {seed}: launched evenly");
        assert_eq!(
            count(true),
            vec![2, 2, 2],
            "seed {seed}: scale-in keeps the balance"
        );
    }
}
