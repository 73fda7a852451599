//! Placement rules of ECS, each tested against the reference (docs/ecs-semantics.md,
//! sections 1.1 to 1.6, and the AWS pages it cites).

use ecsim_placement::*;

struct Fixture {
    c: Cluster,
    g: GroupId,
}

fn spec(n: u32, az: &str, cpu: u32, mem: u32) -> InstanceSpec {
    InstanceSpec {
        ec2_instance_id: format!("i-{n:03}"),
        cpu_units: cpu,
        memory_mib: mem,
        eni_tasks: 2,
        attributes: vec![
            (AZ_ATTRIBUTE.into(), az.into()),
            (
                "ecs.instance-type".into(),
                if n.is_multiple_of(2) {
                    "m5.large".into()
                } else {
                    "c5.large".into()
                },
            ),
        ],
        agent_version: "1.90.0".into(),
        pool: 0,
    }
}

/// `n` instances, round-robin over the AZs, all ACTIVE.
fn cluster(n: u32, azs: &[&str], cpu: u32, mem: u32, tie: TieBreak) -> Fixture {
    let cfg = IndexConfig {
        by_memory: true,
        az_counts: true,
        spread_attributes: vec![],
        tie_break: tie,
    };
    let mut c = Cluster::new(cfg, 99);
    for i in 0..n {
        let id = c.add_instance(spec(i, azs[i as usize % azs.len()], cpu, mem));
        c.set_status(id, InstanceStatus::Active, 0);
    }
    let g = c.group("service:web");
    Fixture { c, g }
}

fn req<'a>(
    g: GroupId,
    cpu: u32,
    mem: u32,
    strategy: &'a [Strategy],
    constraints: &'a [Constraint],
) -> TaskRequest<'a> {
    TaskRequest {
        cpu_units: cpu,
        memory_mib: mem,
        host_ports: &[],
        needs_eni: false,
        group: g,
        constraints,
        strategy,
        pool: None,
    }
}

fn place(f: &mut Fixture, r: &TaskRequest<'_>) -> Option<InstanceId> {
    let id = f.c.find(r)?;
    let oracle = f.c.find_by_scan(r).expect("the scan finds one too");
    assert_eq!(
        f.c.strategy_scores(id, r),
        f.c.strategy_scores(oracle, r),
        "indexed choice is worse than the scan's"
    );
    f.c.allocate(id, r);
    Some(id)
}

const BINPACK_CPU: &[Strategy] = &[Strategy::Binpack(BinpackField::Cpu)];
const BINPACK_MEM: &[Strategy] = &[Strategy::Binpack(BinpackField::Memory)];

fn spread_az() -> Strategy {
    Strategy::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into()))
}

/// ECS-DG task-placement.html, step 1: the resource filter keeps only instances with the CPU and
/// memory the task needs.
#[test]
fn resource_filter_cpu_and_memory() {
    let mut f = cluster(2, &["a"], 1024, 2048, TieBreak::LowestIndex);
    let big = req(f.g, 768, 512, &[], &[]);
    let first = place(&mut f, &big).unwrap();
    let second = place(&mut f, &big).unwrap();
    assert_ne!(
        first, second,
        "the first instance has only 256 CPU units left"
    );
    assert_eq!(f.c.find(&big), None);
    assert_eq!(f.c.diagnose(&big), PlacementFailure::Cpu);
    let mem_heavy = req(f.g, 128, 4096, &[], &[]);
    assert_eq!(f.c.find(&mem_heavy), None);
    assert_eq!(f.c.diagnose(&mem_heavy), PlacementFailure::Memory);
    assert_eq!(PlacementFailure::Cpu.code(), "RESOURCE:CPU");
    assert_eq!(PlacementFailure::Memory.code(), "RESOURCE:MEMORY");
}

/// ECS-DG container-instance-draining.html: DRAINING instances are never candidates; and an
/// instance whose agent is disconnected cannot take tasks (service-event-messages.html, "AGENT").
#[test]
fn draining_and_disconnected_instances_are_skipped() {
    let mut f = cluster(2, &["a"], 1024, 2048, TieBreak::LowestIndex);
    f.c.set_status(InstanceId(0), InstanceStatus::Draining, 10);
    let r = req(f.g, 256, 256, BINPACK_CPU, &[]);
    assert_eq!(place(&mut f, &r), Some(InstanceId(1)));
    f.c.set_agent_connected(InstanceId(1), false);
    assert_eq!(f.c.find(&r), None);
    assert_eq!(f.c.diagnose(&r), PlacementFailure::Agent);
    f.c.set_status(InstanceId(1), InstanceStatus::Draining, 10);
    assert_eq!(f.c.diagnose(&r), PlacementFailure::NoContainerInstances);
}

/// AGENT README: ports 22, 2375, 2376, 51678 and 51679 are reserved by default; a static host port
/// takes one task per instance (ECS-DG task_definition_parameters.html); more than 100 reserved
/// host ports per instance is a placement failure (service-event-messages.html).
#[test]
fn static_host_ports() {
    let mut f = cluster(2, &["a"], 4096, 8192, TieBreak::LowestIndex);
    let p80 = [host_port(80, false)];
    let mut r = req(f.g, 128, 128, BINPACK_CPU, &[]);
    r.host_ports = &p80;
    let a = place(&mut f, &r).unwrap();
    let b = place(&mut f, &r).unwrap();
    assert_ne!(a, b, "port 80 is taken on the first instance");
    assert_eq!(f.c.find(&r), None);
    assert_eq!(f.c.diagnose(&r), PlacementFailure::Ports);
    assert_eq!(PlacementFailure::Ports.code(), "RESOURCE:PORTS");
    // The same port over UDP is a different port.
    let udp = [host_port(80, true)];
    r.host_ports = &udp;
    assert!(f.c.find(&r).is_some());
    // The agent's reserved port.
    let ssh = [host_port(22, false)];
    r.host_ports = &ssh;
    assert_eq!(f.c.find(&r), None);
    // The 100-port limit counts the agent's 5 and the task's static ports.
    let mut g = cluster(1, &["a"], 100_000, 100_000, TieBreak::LowestIndex);
    let many: Vec<HostPort> = (1000..1095).map(|p| host_port(p, false)).collect();
    let mut r = req(g.g, 1, 1, &[], &[]);
    r.host_ports = &many;
    assert!(place(&mut g, &r).is_some(), "5 + 95 = 100 ports is allowed");
    let one_more = [host_port(2000, false)];
    r.host_ports = &one_more;
    assert_eq!(g.c.diagnose(&r), PlacementFailure::Ports);
}

/// ECS-DG container-instance-eni.html: each awsvpc task needs its own ENI; without trunking an
/// instance holds (max ENIs - 1) awsvpc tasks.
#[test]
fn awsvpc_eni_limit() {
    let mut f = cluster(1, &["a"], 4096, 8192, TieBreak::LowestIndex);
    let mut r = req(f.g, 128, 128, &[], &[]);
    r.needs_eni = true;
    assert!(place(&mut f, &r).is_some());
    assert!(place(&mut f, &r).is_some());
    assert_eq!(
        f.c.find(&r),
        None,
        "spec() gives 2 ENI task slots (an m5.large: 3 ENIs - 1)"
    );
    assert_eq!(f.c.diagnose(&r), PlacementFailure::Eni);
    assert_eq!(PlacementFailure::Eni.code(), "RESOURCE:ENI");
    r.needs_eni = false;
    assert!(f.c.find(&r).is_some(), "bridge tasks need no ENI");
}

/// ecs-semantics 2.4 and 2.5 (ECS-DG `container-instance-eni.html`): in `awsvpc` mode every task
/// has its own ENI, so tasks mapping the same container port never clash on an instance and
/// reserve none of its host ports; they are limited by ENI attachments instead. Issue 11's case:
/// three awsvpc tasks on port 80 fit on one m5.xlarge (4 ENIs, 3 awsvpc tasks); a fourth fails on
/// the ENI, not the port.
#[test]
fn awsvpc_tasks_never_clash_on_host_ports() {
    let cfg = IndexConfig::default();
    let mut c = Cluster::new(cfg, 1);
    let mut s = spec(0, "a", 4096, 16_384);
    s.eni_tasks = 3;
    let id = c.add_instance(s);
    c.set_status(id, InstanceStatus::Active, 0);
    let g = c.group("service:web");
    let p80 = [host_port(80, false)];
    let mut r = req(g, 256, 512, &[], &[]);
    r.host_ports = &p80;
    r.needs_eni = true;
    for k in 0..3 {
        assert_eq!(c.find(&r), Some(id), "awsvpc task {k} on port 80");
        c.allocate(id, &r);
    }
    assert_eq!(
        c.ports(id).len(),
        AGENT_RESERVED_TCP_PORTS.len(),
        "no host port reserved"
    );
    assert_eq!(c.find(&r), None);
    assert_eq!(c.diagnose(&r), PlacementFailure::Eni);
    // A bridge task can still take host port 80: the awsvpc tasks hold none.
    let mut b = r;
    b.needs_eni = false;
    assert_eq!(c.find(&b), Some(id));
    c.allocate(id, &b);
    assert_eq!(c.find(&b), None, "bridge port 80 is now taken");
    c.release(id, &r);
    assert_eq!(c.find(&r), Some(id), "a released ENI takes a task again");
}

/// ECS-DG task-placement-strategies.html: binpack places on the instance with the least remaining
/// amount of the field that still fits.
#[test]
fn binpack_chooses_least_remaining() {
    let mut f = cluster(3, &["a"], 4096, 16384, TieBreak::Random);
    let g = f.g;
    // Leave 3072, 1024 and 4096 CPU units free.
    let s = req(f.g, 1024, 1024, &[], &[]);
    f.c.allocate(InstanceId(0), &s);
    for _ in 0..3 {
        f.c.allocate(InstanceId(1), &s);
    }
    let r = req(f.g, 512, 512, BINPACK_CPU, &[]);
    assert_eq!(place(&mut f, &r), Some(InstanceId(1)));
    let big = req(f.g, 2048, 512, BINPACK_CPU, &[]);
    assert_eq!(
        place(&mut f, &big),
        Some(InstanceId(0)),
        "instance 1 has only 512 left"
    );
    // binpack(memory): instance 2 has the least free memory once it holds a memory-heavy task.
    f.c.allocate(InstanceId(2), &req(f.g, 128, 15000, &[], &[]));
    assert_eq!(
        place(&mut f, &req(g, 128, 1000, BINPACK_MEM, &[])),
        Some(InstanceId(2))
    );
}

/// ECS-DG task-placement.html (older text on default balancing): "AZ-A has 1 task, AZ-B and AZ-C
/// have 0 -> B or C is optimal"; spread over AZs keeps counts even.
#[test]
fn spread_over_azs_is_even() {
    let mut f = cluster(
        6,
        &["us-east-1a", "us-east-1b", "us-east-1c"],
        4096,
        8192,
        TieBreak::Random,
    );
    let chain = [spread_az(), Strategy::Spread(SpreadField::Instance)];
    let r = req(f.g, 256, 256, &chain, &[]);
    let first = place(&mut f, &r).unwrap();
    let az = |c: &Cluster, id| c.attribute(id, AZ_ATTRIBUTE).unwrap().to_string();
    let second = place(&mut f, &r).unwrap();
    assert_ne!(
        az(&f.c, first),
        az(&f.c, second),
        "a task goes to an AZ with fewer tasks of its group"
    );
    for _ in 0..10 {
        place(&mut f, &r);
    }
    let mut per_az = std::collections::BTreeMap::new();
    let mut per_inst = Vec::new();
    for i in 0..6 {
        *per_az.entry(az(&f.c, InstanceId(i))).or_insert(0) += f.c.group_count(InstanceId(i), f.g);
        per_inst.push(f.c.group_count(InstanceId(i), f.g));
    }
    assert!(
        per_az.values().all(|&n| n == 4),
        "12 tasks over 3 AZs: {per_az:?}"
    );
    assert!(
        per_inst.iter().all(|&n| n == 2),
        "then over instances in each AZ: {per_inst:?}"
    );
}

/// ECS-DG task-placement-strategies.html: `[spread AZ, binpack memory]` = even over AZs, then
/// bin-packed on memory inside each AZ.
#[test]
fn spread_then_binpack_chain() {
    let mut f = cluster(4, &["a", "b"], 4096, 8192, TieBreak::Random);
    let chain = [spread_az(), Strategy::Binpack(BinpackField::Memory)];
    let r = req(f.g, 256, 1024, &chain, &[]);
    for _ in 0..4 {
        place(&mut f, &r);
    }
    // 2 tasks per AZ, both on the same instance of that AZ (binpack), so 2 instances in use.
    let counts: Vec<u32> = (0..4)
        .map(|i| f.c.group_count(InstanceId(i), f.g))
        .collect();
    assert_eq!(counts.iter().filter(|&&c| c == 2).count(), 2, "{counts:?}");
    assert_eq!(f.c.instances_in_use(), 2);
    // The fragmentation measure's denominator: the capacity of the 2 instances in use, which
    // falls back when their tasks stop.
    assert_eq!(f.c.in_use_capacity(), (2 * 4096, 2 * 8192));
    let used: Vec<InstanceId> = (0..4)
        .map(InstanceId)
        .filter(|&i| f.c.group_count(i, f.g) > 0)
        .collect();
    f.c.release(used[0], &r);
    assert_eq!(
        f.c.in_use_capacity(),
        (2 * 4096, 2 * 8192),
        "one task left there"
    );
    f.c.release(used[0], &r);
    assert_eq!(f.c.in_use_capacity(), (4096, 8192));
    assert_eq!(f.c.instances_in_use(), 1);
}

/// ECS-DG task-placement-constraints.html: distinctInstance puts each task of the group on a
/// different instance; constraints are binding.
#[test]
fn distinct_instance_is_binding() {
    let mut f = cluster(3, &["a"], 4096, 8192, TieBreak::Random);
    let cons = [Constraint::DistinctInstance];
    let r = req(f.g, 256, 256, BINPACK_CPU, &cons);
    let placed: Vec<_> = (0..3).map(|_| place(&mut f, &r).unwrap()).collect();
    let mut d = placed.clone();
    d.sort();
    d.dedup();
    assert_eq!(
        d.len(),
        3,
        "binpack would stack them; the constraint forbids it"
    );
    assert_eq!(f.c.find(&r), None);
    assert_eq!(f.c.diagnose(&r), PlacementFailure::DistinctInstance);
    // Another group is not affected.
    let other = f.c.group("family:other");
    assert!(
        f.c.find(&req(other, 256, 256, BINPACK_CPU, &cons))
            .is_some()
    );
}

/// ECS-DG cluster-query-language.html: memberOf restricts candidates to instances matching the
/// expression, with `task:group` for affinity and `not(...)` for anti-affinity.
#[test]
fn member_of_expressions() {
    let mut f = cluster(
        4,
        &["us-east-1a", "us-east-1b"],
        4096,
        8192,
        TieBreak::Random,
    );
    let g = f.g;
    let only_c5 = [Constraint::MemberOf(
        Expr::parse("attribute:ecs.instance-type =~ c5.*").unwrap(),
    )];
    for _ in 0..6 {
        let id = place(&mut f, &req(g, 256, 256, &[], &only_c5)).unwrap();
        assert_eq!(f.c.attribute(id, "ecs.instance-type"), Some("c5.large"));
    }
    let db = f.c.group("database");
    let anti = [Constraint::MemberOf(
        Expr::parse("not(task:group == service:web)").unwrap(),
    )];
    let id = place(&mut f, &req(db, 256, 256, &[], &anti)).unwrap();
    assert_eq!(
        f.c.attribute(id, "ecs.instance-type"),
        Some("m5.large"),
        "web runs only on c5 instances"
    );
    let affinity = [Constraint::MemberOf(
        Expr::parse("task:group == database").unwrap(),
    )];
    let cache = f.c.group("cache");
    assert_eq!(
        place(&mut f, &req(cache, 256, 256, &[], &affinity)),
        Some(id),
        "next to the database task"
    );
    let none = [Constraint::MemberOf(
        Expr::parse("attribute:ecs.availability-zone == us-west-2a").unwrap(),
    )];
    let r = req(f.g, 256, 256, &[], &none);
    assert_eq!(f.c.find(&r), None);
    assert_eq!(f.c.diagnose(&r), PlacementFailure::MemberOf);
    let running = [Constraint::MemberOf(
        Expr::parse("runningTasksCount == 0").unwrap(),
    )];
    let id = place(&mut f, &req(g, 256, 256, &[], &running)).unwrap();
    assert_eq!(f.c.running_tasks(id), 1);
}

/// ECS-DG task-placement-strategies.html, scale-in: binpack stops the task whose instance will
/// have the most available resources after the stop.
#[test]
fn scale_in_binpack() {
    let mut f = cluster(2, &["a"], 4096, 8192, TieBreak::LowestIndex);
    let small = req(f.g, 512, 512, &[], &[]);
    f.c.allocate(InstanceId(0), &small);
    f.c.allocate(InstanceId(0), &small);
    f.c.allocate(InstanceId(1), &small);
    f.c.allocate(InstanceId(1), &req(f.g, 2048, 512, &[], &[]));
    let cands = [
        StopCandidate {
            instance: InstanceId(0),
            cpu_units: 512,
            memory_mib: 512,
        },
        StopCandidate {
            instance: InstanceId(1),
            cpu_units: 512,
            memory_mib: 512,
        },
    ];
    assert_eq!(
        f.c.choose_to_stop(f.g, BINPACK_CPU, &cands),
        Some(0),
        "instance 0 ends with 3584 free, instance 1 with 1536"
    );
}

/// ECS-DG task-placement-strategies.html, scale-in: spread keeps the AZs balanced; the default
/// (task-placement.html, older text) prefers the AZ with most tasks, then the instance with most.
#[test]
fn scale_in_spread_keeps_balance() {
    let mut f = cluster(4, &["a", "b"], 4096, 8192, TieBreak::LowestIndex);
    let s = req(f.g, 256, 256, &[], &[]);
    // AZ a (instances 0 and 2): 3 tasks, 2 of them on instance 2; AZ b (1 and 3): 2 tasks.
    for i in [0, 2, 2, 1, 3] {
        f.c.allocate(InstanceId(i), &s);
    }
    let cands: Vec<StopCandidate> = [0, 2, 2, 1, 3]
        .iter()
        .map(|&i| StopCandidate {
            instance: InstanceId(i),
            cpu_units: 256,
            memory_mib: 256,
        })
        .collect();
    let chain = [spread_az(), Strategy::Spread(SpreadField::Instance)];
    let pick = f.c.choose_to_stop(f.g, &chain, &cands).unwrap();
    assert_eq!(
        cands[pick].instance,
        InstanceId(2),
        "AZ a has most tasks, and instance 2 most within it"
    );
}

/// Ties are not documented by AWS (ecs-semantics.md 1.3); ecsim breaks them with seeded random
/// tokens: the same seed gives the same choices, other seeds other choices.
#[test]
fn ties_are_random_but_reproducible() {
    let choices = |seed: u64| -> Vec<u32> {
        let cfg = IndexConfig {
            ..IndexConfig::default()
        };
        let mut c = Cluster::new(cfg, seed);
        for i in 0..50 {
            let id = c.add_instance(spec(i, "a", 4096, 8192));
            c.set_status(id, InstanceStatus::Active, 0);
        }
        let g = c.group("g");
        let r = req(g, 4096, 256, BINPACK_CPU, &[]);
        (0..10)
            .map(|_| {
                let id = c.find(&r).unwrap();
                c.allocate(id, &r);
                id.0
            })
            .collect()
    };
    assert_eq!(choices(1), choices(1));
    assert_ne!(choices(1), choices(2));
    let lowest = cluster(5, &["a"], 4096, 8192, TieBreak::LowestIndex);
    assert_eq!(
        lowest.c.find(&req(lowest.g, 256, 256, BINPACK_CPU, &[])),
        Some(InstanceId(0))
    );
}

/// Random: any feasible instance, spread roughly uniformly.
#[test]
fn random_strategy_is_uniform_over_candidates() {
    let mut f = cluster(4, &["a"], 1_000_000, 1_000_000, TieBreak::Random);
    let r = req(f.g, 1, 1, &[Strategy::Random], &[]);
    for _ in 0..4000 {
        place(&mut f, &r);
    }
    for i in 0..4 {
        let n = f.c.group_count(InstanceId(i), f.g);
        assert!((800..1200).contains(&n), "instance {i} got {n} of 4000");
    }
}

/// The indexed paths give exactly the scan's answer, over random clusters, loads and chains.
/// On failure the case seed is printed.
#[test]
fn indexed_choice_matches_the_scan_oracle() {
    use rand::{RngExt, SeedableRng};
    for case in 0..300u64 {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(case);
        let azs = ["a", "b", "c"];
        let naz = rng.random_range(1..=3);
        let n = rng.random_range(1..40);
        let cfg = IndexConfig {
            by_memory: rng.random(),
            az_counts: rng.random(),
            spread_attributes: vec![],
            tie_break: TieBreak::Random,
        };
        let mut c = Cluster::new(cfg, case);
        for i in 0..n {
            let id = c.add_instance(spec(
                i,
                azs[rng.random_range(0..naz)],
                1024 * rng.random_range(1..5),
                2048 * rng.random_range(1..5),
            ));
            if rng.random_bool(0.9) {
                c.set_status(id, InstanceStatus::Active, 0);
            }
        }
        let groups = [c.group("g1"), c.group("g2")];
        let pool = [
            Strategy::Binpack(BinpackField::Cpu),
            Strategy::Binpack(BinpackField::Memory),
            spread_az(),
            Strategy::Spread(SpreadField::Instance),
            Strategy::Spread(SpreadField::Attribute("ecs.instance-type".into())),
            Strategy::Random,
        ];
        let distinct = [Constraint::DistinctInstance];
        for step in 0..60 {
            let len = rng.random_range(0..4);
            let chain: Vec<Strategy> = (0..len)
                .map(|_| pool[rng.random_range(0..pool.len())].clone())
                .collect();
            let g = groups[rng.random_range(0..2)];
            let cons: &[Constraint] = if rng.random_bool(0.2) { &distinct } else { &[] };
            let r = req(
                g,
                128 * rng.random_range(1..9),
                256 * rng.random_range(1..9),
                &chain,
                cons,
            );
            let fast = c.find(&r);
            let oracle = c.find_by_scan(&r);
            // Every path must find an instance exactly when one exists, and one as good as the
            // scan's by every strategy; ties may be broken differently (random draws).
            assert_eq!(
                fast.is_some(),
                oracle.is_some(),
                "case {case} step {step}: chain {chain:?}"
            );
            if let (Some(a), Some(b)) = (fast, oracle) {
                assert!(
                    c.check(a, &r).is_ok(),
                    "case {case} step {step}: infeasible choice"
                );
                assert_eq!(
                    c.strategy_scores(a, &r),
                    c.strategy_scores(b, &r),
                    "case {case} step {step}: chain {chain:?}"
                );
            }
            if let Some(id) = fast {
                c.allocate(id, &r);
            }
        }
    }
}

/// ECS-DG asg-capacity-providers.html: a task launched through an Auto Scaling group capacity
/// provider runs only on that group's instances; spreading over AZs still counts the group's
/// tasks in each AZ whatever pool they are in.
#[test]
fn pools_restrict_placement_and_share_az_counts() {
    let cfg = IndexConfig {
        by_memory: true,
        az_counts: true,
        spread_attributes: vec![],
        tie_break: TieBreak::Random,
    };
    let mut c = Cluster::new(cfg, 5);
    for i in 0..6u32 {
        let mut s = spec(i, ["a", "b"][i as usize % 2], 4096, 8192);
        s.pool = if i < 2 { 1 } else { 2 };
        let id = c.add_instance(s);
        c.set_status(id, InstanceStatus::Active, 0);
    }
    let g = c.group("service:web");
    let chain = [spread_az()];
    let mut r = req(g, 256, 256, &chain, &[]);
    r.pool = Some(1);
    for _ in 0..4 {
        let id = c.find(&r).unwrap();
        assert!(id.0 < 2, "pool 1 is instances 0 and 1");
        assert_eq!(c.find_by_scan(&r).map(|x| x.0 < 2), Some(true));
        c.allocate(id, &r);
    }
    assert_eq!(
        (
            c.group_count(InstanceId(0), g),
            c.group_count(InstanceId(1), g)
        ),
        (2, 2),
        "spread over the pool's two AZs"
    );
    // Pool 2 sees the same AZ counts: 2 in a, 2 in b. One more task in a (via pool 1) tips it to b.
    let mut r1 = r;
    r1.strategy = &[];
    c.allocate(InstanceId(0), &r1);
    r.pool = Some(2);
    let id = c.find(&r).unwrap();
    assert_eq!(
        c.attribute(id, AZ_ATTRIBUTE),
        Some("b"),
        "AZ a holds 3 tasks of the group, b holds 2"
    );
    // A pool with no room: no instance, and the reason comes from that pool only.
    r.pool = Some(1);
    r.cpu_units = 4096;
    assert_eq!(c.find(&r), None);
    assert_eq!(c.diagnose(&r), PlacementFailure::Cpu);
    r.pool = Some(9);
    assert_eq!(c.diagnose(&r), PlacementFailure::NoContainerInstances);
}

/// Issue 13: a search that finds nothing draws nothing, whatever the strategy chain (the
/// uniform draws of `random`, no strategy and `spread(instanceId)` included), whether it fails
/// for room, for a constraint, or for a host port, with either tie-break. The wait queue and
/// the launcher rely on it to skip searches they know would fail: the next choice must be the
/// one a cluster that never ran the failed search makes.
#[test]
fn a_failed_search_draws_nothing() {
    let inst = Strategy::Spread(SpreadField::Instance);
    let pack = Strategy::Binpack(BinpackField::Cpu);
    let chains: Vec<Vec<Strategy>> = vec![
        vec![],
        vec![Strategy::Random],
        vec![inst.clone()],
        vec![spread_az(), inst.clone()],
        vec![inst.clone(), pack.clone()],
        vec![pack.clone()],
        vec![spread_az(), pack.clone()],
        vec![pack.clone(), Strategy::Random],
    ];
    let nowhere = [Constraint::MemberOf(
        Expr::parse("attribute:ecs.availability-zone == z").unwrap(),
    )];
    for tie in [TieBreak::Random, TieBreak::LowestIndex] {
        for chain in &chains {
            let mut a = cluster(6, &["a", "b"], 1024, 2048, tie);
            // Some tasks of the group already run, so spread(instanceId) has ties to draw among.
            let one = req(a.g, 256, 256, &[], &[]);
            for i in [0, 3] {
                a.c.allocate(InstanceId(i), &one);
            }
            // Port 80 taken on every instance.
            let port = [80u32];
            let mut web = req(a.g, 128, 128, &[], &[]);
            web.host_ports = &port;
            for i in 0..6 {
                a.c.allocate(InstanceId(i), &web);
            }
            let b = a.c.clone();
            let too_big = req(a.g, 4096, 512, chain, &[]);
            let constrained = req(a.g, 256, 256, chain, &nowhere);
            let mut port_taken = req(a.g, 256, 256, chain, &[]);
            port_taken.host_ports = &port;
            for failing in [&too_big, &constrained, &port_taken] {
                assert_eq!(a.c.find(failing), None, "{chain:?}");
            }
            let random = [Strategy::Random];
            for next in [
                req(a.g, 256, 256, chain, &[]),
                req(a.g, 256, 256, &random, &[]),
            ] {
                assert_eq!(a.c.find(&next), b.find(&next), "{chain:?} {tie:?}");
            }
        }
    }
}

/// ECS-DG task-placement-strategies.html, spread(instanceId): "evenly across instances" among
/// those that can hold the task. 40 small instances are full at 2 tasks each; the one large
/// instance with more tasks of the group is the only one with room, and is chosen every time.
#[test]
fn spread_instance_skips_full_instances_with_fewer_tasks() {
    let mut c = Cluster::new(IndexConfig::default(), 7);
    for i in 0..40 {
        let id = c.add_instance(spec(i, "a", 512, 8192));
        c.set_status(id, InstanceStatus::Active, 0);
    }
    let big = c.add_instance(spec(40, "a", 16384, 8192));
    c.set_status(big, InstanceStatus::Active, 0);
    let g = c.group("service:web");
    let chain = [Strategy::Spread(SpreadField::Instance)];
    let r = req(g, 256, 64, &chain, &[]);
    for _ in 0..82 {
        let id = c.find(&r).expect("room left");
        c.allocate(id, &r);
    }
    assert_eq!(c.group_count(big, g), 2, "two rounds over 41 instances");
    for k in 3..=12 {
        assert_eq!(c.find(&r), Some(big), "task {k} of the large instance");
        c.allocate(big, &r);
    }
}

/// A probe (`can_place`, what AZ rebalancing asks before it stops a task) answers as `find`
/// does and draws nothing, found or not: the next choice is the one a cluster that was never
/// asked makes.
#[test]
fn a_probe_draws_nothing() {
    let a = cluster(6, &["a", "b"], 1024, 2048, TieBreak::Random);
    let b = a.c.clone();
    let random = [Strategy::Random];
    let inst = [Strategy::Spread(SpreadField::Instance)];
    for chain in [&random[..], &inst[..], &[][..]] {
        let fits = req(a.g, 256, 256, chain, &[]);
        let too_big = req(a.g, 4096, 256, chain, &[]);
        assert!(a.c.can_place(&fits));
        assert!(!a.c.can_place(&too_big));
        assert_eq!(a.c.find(&fits).is_some(), a.c.can_place(&fits));
    }
    let any = req(a.g, 256, 256, &random, &[]);
    // Three finds above drew on `a`; a fresh pair compares the probes alone.
    let c = b.clone();
    for _ in 0..3 {
        assert!(b.can_place(&any));
    }
    assert_eq!(b.find(&any), c.find(&any));
}
